"""The one entry point of the CLI and the pages: a loaded knowledge base answering questions.

A question walks one way: page or CLI → ``Service.ask`` → ``Searcher.search`` →
{stores, fusion} → ``extract_answer`` → ``Answered`` → page or CLI. Loading is
``retrieval.loader``'s, the committee's recorded cases ``retrieval.precedents``'s, and
importing files and rebuilding ``retrieval.admin``'s (``Service.admin`` builds with the
loaded model).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.names import RepealedLaw, article_label, canonical_law, repealed
from ingest.records import Article, Case, Citation
from retrieval import cite, loader
from retrieval.answer import Answer, extract_answer
from retrieval.catalogue import Catalogue, LawInfo
from retrieval.config import DEFAULT_ANSWER, DEFAULT_CONFIG, AnswerConfig, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus
from retrieval.encoders.embedder import Embedder
from retrieval.errors import FengqiaoError, QueryError
from retrieval.guidance import Guidance, GuideCache, question_type
from retrieval.hits import Filters, Notice, SearchResult
from retrieval.kb_folder import KBFolder
from retrieval.loader import StoreFactory, flat_stores
from retrieval.precedents import Precedents, PrecedentStore, joiner
from retrieval.search import Searcher
from retrieval.tokenizer import JiebaTokenizer

if TYPE_CHECKING:
    from retrieval.admin import Admin

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
"""Longer questions are refused: the query encoder reads ~500 characters, and 10,000 took 21 s."""
MAX_K = 200


@dataclass(frozen=True)
class CitedArticle:
    """A citation in the question and the article it names (None when the KB has no such article).

    The article is the current one, or — for a law no longer in force — its newest text,
    so a mediator who typed 婚姻法第三十二条 still sees what that article said.
    """

    citation: Citation
    article: Article | None


@dataclass(frozen=True)
class Answered:
    """Everything a page or the CLI shows for one question."""

    result: SearchResult
    answer: Answer
    cited: tuple[CitedArticle, ...] = ()
    ms: float = 0.0
    guidance: Guidance = Guidance()  # 办理提示 (retrieval/guidance.py)

    @property
    def question(self) -> str:
        return self.result.query


@dataclass(frozen=True)
class KBStats:
    """What the knowledge page shows about the loaded knowledge base."""

    laws: int
    articles: int  # current articles
    articles_all_versions: int
    cases: int
    units: int
    model: str
    built: str  # manifest creation time, ISO UTC
    data_as_of: str
    by_level: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    cases_by_kind: dict[str, int] = field(default_factory=dict)
    cases_by_type: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Citing:
    """An article of another law (a 司法解释, a regulation) whose text cites the article.

    ``predates`` is set when the citing text was published before the cited law's text
    in force: it may use the numbering of an earlier version (the 2022 民事诉讼法解释
    cites the 2021 民事诉讼法's numbers).
    """

    article: Article
    predates: bool = False


@dataclass(frozen=True)
class ArticlePage:
    """What the citation page shows for one article: the text and everything around it.

    Args:
        article: the article, verbatim.
        versions: the same number in every version of the law held, newest first.
        current: for an older version's article, the current article holding the same
            provision (None when the article is current, or nothing close enough).
        renumbered: for a current article, older versions whose article of this number
            said something else, with the current article their text moved to.
        repeal: the repeal record when the article's law is no longer in force.
        successors: current articles of the law that replaced a repealed one, closest
            in wording (a suggestion by text, not an official table).
        neighbours: nearby articles of the same 编/章/节, in order (the article included).
        citing: articles of other laws citing it.
        cases: cases in the knowledge base citing it.
        interpretations: interpretation articles about it that do not cite its number,
            linked by subject (``retrieval.interpretations``), best first.
        refines: for an interpretation article, the general article it refines by subject.
    """

    article: Article
    versions: tuple[Article, ...] = ()
    current: Article | None = None
    renumbered: tuple[tuple[Article, Article | None], ...] = ()
    repeal: RepealedLaw | None = None
    successors: tuple[Article, ...] = ()
    neighbours: tuple[Article, ...] = ()
    citing: tuple[Citing, ...] = ()
    cases: tuple[Case, ...] = ()
    interpretations: tuple[Article, ...] = ()
    refines: tuple[Article, ...] = ()


@dataclass(frozen=True)
class OpenedCitation:
    """A citation link (law + article number) resolved: the page, or why there is none.

    ``law_held`` tells a mistyped or missing law (problem names the law) from a missing
    article of a law that is held; ``repeal`` is set for a law no longer in force
    whether or not its text is held.
    """

    law: str
    article: str  # the key, "32", "133之一"
    page: ArticlePage | None = None
    law_held: bool = False
    repeal: RepealedLaw | None = None
    problem: str = ""  # one line in Chinese (what and 建议) when page is None


@dataclass(frozen=True)
class Matched:
    """Why a record matched, in words a mediator can check against the text.

    ``words``: words of the question found in the text (whole words: never 民法 inside
    人民法院, never 第 or 条); ``legal_words``: statute terms the question's everyday
    words stand for (男方 → 夫妻), found in the text.
    """

    words: tuple[str, ...] = ()
    legal_words: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.words + self.legal_words


NEIGHBOURS = 2
"""Articles shown before and after on the citation page (same 编/章/节 only)."""


def make_article_page(
    catalogue: Catalogue, article: Article, cases: Sequence[Case] = ()
) -> ArticlePage:
    """The citation page of ``article`` from the catalogue and the cases citing it."""
    gone = repealed(article.law)
    successors: tuple[Article, ...] = ()
    if gone is not None:
        successors = tuple(catalogue.successors_in(article.id, gone.replaced_by))
    renumbered: tuple[tuple[Article, Article | None], ...] = ()
    if article.current:
        renumbered = tuple(catalogue.renumbered(article.law, article.key))
    own_date = max(article.publish, article.version)
    citing = tuple(
        Citing(a, bool(a.publish and own_date and a.publish < own_date))
        for a in catalogue.citing_articles(article.id)
    )
    return ArticlePage(
        article=article,
        versions=tuple(catalogue.versions_of(article.id)),
        current=catalogue.current_for(article.id),
        renumbered=renumbered,
        repeal=gone,
        successors=successors,
        neighbours=tuple(
            a for a in catalogue.neighbours(article.id, NEIGHBOURS) if a.path == article.path
        ),
        citing=citing,
        cases=tuple(cases),
        interpretations=tuple(
            r.article for r in catalogue.related_interpretations(article.id) if r.via == "subject"
        ),
        refines=tuple(
            found
            for aid in catalogue.interpretation_links().refines(article.id)
            if (found := catalogue.article(aid)) is not None
        ),
    )


def open_citation(
    catalogue: Catalogue,
    cases_citing: Callable[[str], Sequence[Case]],
    law: str,
    article: str,
    version: str = "",
) -> OpenedCitation:
    """Resolve a citation link: the current article, else the given or newest version held."""
    from retrieval.catalogue import article_key

    name = canonical_law(law.strip())
    key = article_key(article.strip())
    gone = repealed(name)
    held = name in catalogue.law_names
    found = catalogue.lookup(name, key, version) if version else catalogue.lookup_any(name, key)
    if found is not None:
        page = make_article_page(catalogue, found, cases_citing(found.id))
        return OpenedCitation(name, key, page, True, gone)
    label = _label_of(key)
    if not name:
        problem = "链接中没有法律名称。建议：从“法规浏览”中选择法律。"
    elif not held and gone is not None:
        problem = (
            f"知识库中没有《{name}》的文本。《{name}》已于 {gone.ceased} 废止（{gone.basis}），"
            f"现行规定见《{gone.replaced_by}》。建议：在《{gone.replaced_by}》中查找相应条文。"
        )
    elif not held:
        problem = f"知识库中没有“{name}”。建议：检查法律名称，或从“法规浏览”的列表中选择。"
    else:
        problem = f"《{name}》中没有{label}。建议：检查条号，或在“法规浏览”中按章节查找。"
    return OpenedCitation(name, key, None, held, gone, problem)


def _has_cjk(word: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in word)


def _label_of(key: str) -> str:
    digits = "".join(ch for ch in key if ch.isdigit())
    return article_label(int(digits), key[len(digits) :]) if digits else f"第{key}条"


def word_spans(
    text: str, terms: Sequence[str], word_starts: frozenset[int]
) -> list[tuple[int, int]]:
    """Spans of ``terms`` in ``text`` that begin or end where a word does.

    ``word_starts`` are the offsets where the words of ``text`` begin (and its end), so
    民法 is found in 民法典 but not inside 人民法院 (人民法院 is one word).
    """
    spans: list[tuple[int, int]] = []
    for term in dict.fromkeys(t for t in terms if t):
        start = text.find(term)
        while start >= 0:
            end = start + len(term)
            if start in word_starts or end in word_starts:
                spans.append((start, end))
            start = text.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def check_question(question: str, k: int = 10, k_cases: int = 5) -> str:
    """The question, stripped; QueryError for what cannot be searched."""
    q = " ".join(question.split())
    if not any(ch.isalnum() for ch in q):
        raise QueryError(
            "问题中没有可检索的文字", "用一两句话描述纠纷，或输入“民法典第1079条”这样的引用"
        )
    if len(q) > MAX_QUESTION_CHARS:
        raise QueryError(
            f"问题太长（{len(q)} 字，最多 {MAX_QUESTION_CHARS} 字）",
            "只保留纠纷的关键事实和想问的问题后再检索",
        )
    for name, value in (("法条数量", k), ("案例数量", k_cases)):
        if not 0 <= value <= MAX_K:
            raise QueryError(f"{name}必须在 0 到 {MAX_K} 之间（收到 {value}）", "换一个数量再试")
    return q


class Service:
    """A loaded knowledge base, answering questions and browsing requests.

    Built from narrow parts (two corpora, the catalogue, the tokenizer, the embedder),
    so tests can make one from records without an index folder.
    """

    def __init__(
        self,
        articles: Corpus[Article],
        cases: CaseCorpus,
        catalogue: Catalogue,
        tokenizer: JiebaTokenizer,
        embedder: Embedder,
        *,
        kb_dir: Path | None = None,
        manifest: dict[str, Any] | None = None,
        config: SearchConfig = DEFAULT_CONFIG,
    ) -> None:
        self.articles = articles
        self.cases = cases
        self.catalogue = catalogue
        self.tokenizer = tokenizer
        self.embedder = embedder
        self.kb_dir = kb_dir
        self.manifest = manifest or {}
        self.config = config
        self.searcher = Searcher(articles, cases, catalogue, tokenizer, embedder)
        self.guides = GuideCache(catalogue.lookup)
        self._precedents: Precedents | None = None
        self._opening = threading.Lock()
        from retrieval.county.shared import SharedPrecedents  # issue 24: other committees' cases

        self.shared = SharedPrecedents.for_kb(kb_dir, embedder, cases)
        self.sync_precedents()  # the committee's own cases join the search at once

    @classmethod
    def load(
        cls,
        kb_dir: str | Path,
        *,
        stores: StoreFactory = flat_stores,
        embedder: Embedder | None = None,
        config: SearchConfig = DEFAULT_CONFIG,
    ) -> Service:
        """Load ``kb_dir/index`` with its units searched by ``stores`` (``retrieval.loader``);
        KBError (Chinese message + hint) when missing or mismatched.

        ``config`` is the default search configuration of ``ask``; its similar-case floors
        are cosines calibrated for the built-in e5 model (another embedder needs its own).
        """
        got = loader.load(Path(kb_dir), stores, embedder=embedder)
        return cls(
            got.articles,
            got.cases,
            got.catalogue,
            got.tokenizer,
            got.embedder,
            kb_dir=Path(kb_dir),
            manifest=got.manifest,
            config=config,
        )

    @classmethod
    def from_records(
        cls,
        articles: Sequence[Article],
        cases: Sequence[Case],
        embedder: Embedder,
        *,
        tokenizer: JiebaTokenizer | None = None,
        config: SearchConfig = DEFAULT_CONFIG,
    ) -> Service:
        """A service over records held in memory (no index folder): tests, one-off scripts."""
        got = loader.from_records(articles, cases, embedder, tokenizer=tokenizer)
        return cls(
            got.articles, got.cases, got.catalogue, got.tokenizer, got.embedder, config=config
        )

    # ---- the committee's own precedents ----------------------------------------------------

    @property
    def precedents(self) -> Precedents:
        """The committee's recorded cases (``retrieval.precedents``), opened once; what they
        hold is searched as 调解案例 without a rebuild (``sync_precedents``), and every
        write through it is searched at once."""
        with self._opening:
            if self._precedents is None:
                if self.kb_dir is None:
                    raise FengqiaoError(
                        "这个知识库不是从文件夹加载的，不能记录调解案例", "用 Service.load 加载"
                    )
                from ingest.cases.link import ArticleIndex

                folder = KBFolder(self.kb_dir)
                store = PrecedentStore(folder.precedents, ArticleIndex(self.articles.records))
                apply = joiner(self.cases, self.embedder, self.tokenizer, folder.embeddings)
                self._precedents = Precedents(store, apply, self.cases.get)
        return self._precedents

    def sync_precedents(self) -> int:
        """Bring in precedents written elsewhere (one read of the change log); how many changed.

        A store first written by another process (``fengqiao add`` of a committee table
        while this server runs) is opened here, so its records join the next question too.
        """
        if self._precedents is None and not (
            self.kb_dir is not None and KBFolder(self.kb_dir).precedents.exists()
        ):
            return 0
        return self.precedents.sync()

    @property
    def version(self) -> str:
        """Changes whenever the index is rebuilt or a recorded case changes (keys result memos).

        Picks up precedents written elsewhere first (one read of the change log), so a page
        that memoises a question's results asks again once a 调解案例 was recorded.
        """
        self.sync_precedents()
        return (
            str(self.manifest.get("created", ""))
            + str(self.manifest.get("corpus", {}).get("checksum", id(self)))
            + f"+p{self._precedents.token if self._precedents else 0}"
            + (f"+c{self.shared.generation}" if self.shared is not None else "")
        )

    # ---- questions ------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        k: int = 10,
        k_cases: int = 5,
        config: SearchConfig | None = None,
        answer_config: AnswerConfig = DEFAULT_ANSWER,
    ) -> Answered:
        """Articles, similar cases, answer points and the articles the question cites."""
        start = time.perf_counter()
        question = check_question(question, k, k_cases)
        self.sync_precedents()
        result = self.searcher.search(
            question, k=k, k_cases=k_cases, filters=filters, config=config or self.config
        )
        answer = extract_answer(
            question,
            result.articles,
            result.cases,
            cited=result.cited,
            config=answer_config,
            related=self.related_interpretations,
            term_share=self.catalogue.term_share,
        )
        if self.shared is not None:  # issue 24: the county's shared cases join the similar ones
            result = self.shared.join(question, result, k_cases, filters, config or self.config)
        cited = tuple(CitedArticle(c, self._cited(c)) for c in result.cited)
        guidance = self.guidance(question, result, filters)
        ms = round((time.perf_counter() - start) * 1000, 1)
        return Answered(result, answer, cited, ms, guidance)

    def guidance(
        self, question: str, result: SearchResult, filters: Filters | None = None
    ) -> Guidance:
        """办理提示 for a question (none for a question that is only citations)."""
        if result.cited and not cite.question_terms_left(question, result.cited):
            return Guidance()
        chosen = filters.dispute_types if filters else ()
        qtype = question_type(question, [h.record for h in result.articles], chosen)
        return self.guides.get().advise(question, qtype)

    def search(
        self,
        question: str,
        *,
        k: int = 10,
        k_cases: int = 5,
        filters: Filters | None = None,
        config: SearchConfig | None = None,
    ) -> SearchResult:
        """The ranked result alone (evaluation and benchmarks)."""
        return self.searcher.search(
            question, k=k, k_cases=k_cases, filters=filters, config=config or self.config
        )

    def _cited(self, citation: Citation) -> Article | None:
        if citation.resolved_id:
            found = self.catalogue.article(citation.resolved_id)
            if found is not None:
                return found
        if not citation.law or not citation.article:
            return None
        return self.catalogue.lookup_any(citation.law, citation.article)

    # ---- records and browsing ---------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        return self.catalogue.article(article_id)

    def case(self, case_id: str) -> Case | None:
        found = self.cases.get(case_id)
        return found if found is not None or self.shared is None else self.shared.case(case_id)

    def lookup(self, law: str, article: str, version: str = "") -> Article | None:
        return self.catalogue.lookup(law, article, version)

    def laws(self) -> list[LawInfo]:
        return self.catalogue.laws()

    def law_articles(self, law: str, version: str = "") -> list[Article]:
        return self.catalogue.law_articles(law, version)

    def neighbours(self, article_id: str, n: int = 2) -> list[Article]:
        return self.catalogue.neighbours(article_id, n)

    def chapter(self, article_id: str) -> list[Article]:
        return self.catalogue.chapter(article_id)

    def cases_citing(self, article_id: str) -> list[Case]:
        return self.cases.citing(article_id)

    def related_interpretations(self, article_id: str) -> list[Article]:
        """Interpretation articles about an article: citing its number, then linked by
        subject (``retrieval.interpretations``)."""
        return [r.article for r in self.catalogue.related_interpretations(article_id)]

    def freshness_notice(self) -> Notice | None:
        return self.catalogue.freshness_notice()

    def guidance_dropped(self) -> tuple[str, ...]:
        """办理提示 rules not shown: their article is missing here or no longer says the quote."""
        return tuple(d.line() for d in self.guides.get().dropped)

    def stale_as_of(self) -> str:
        """The data date when the statute data is over a year old (status badges name it)."""
        return self.catalogue.stale_as_of()

    def article_page(self, article_id: str) -> ArticlePage | None:
        """The citation page of an article: versions, successors, neighbours, who cites it."""
        found = self.catalogue.article(article_id)
        if found is None:
            return None
        return make_article_page(self.catalogue, found, self.cases.citing(article_id))

    def open_citation(self, law: str, article: str, version: str = "") -> OpenedCitation:
        """A citation link (?law=婚姻法&article=32) resolved, never to another law's article."""
        return open_citation(self.catalogue, self.cases.citing, law, article, version)

    def matched_words(self, question: str, text: str, limit: int = 6) -> Matched:
        """The question's words (and the statute terms they stand for) found in ``text``."""
        from retrieval import vocab
        from retrieval.cite import find_citations, without_citations

        plain = without_citations(question, find_citations(question, self.catalogue.law_names))
        # search mode on the question: 不同意离婚 also offers 离婚
        asked = [w for w in self.tokenizer(plain) if len(w) >= 2 and _has_cjk(w)]
        starts = self._word_starts(text)

        def found(word: str) -> bool:
            return bool(word_spans(text, [word], starts))

        words = tuple(dict.fromkeys(w for w in asked if found(w)))
        # a sub-word adds nothing when its whole word matched too (离婚 in 离婚诉讼)
        words = tuple(w for w in words if not any(w != o and w in o for o in words))
        legal = tuple(
            dict.fromkeys(
                w
                for w in vocab.expand(plain)
                if w not in plain and not any(w in o for o in words) and found(w)
            )
        )
        words = words[:limit]
        return Matched(words, legal[: max(0, limit - len(words))])

    def highlight_spans(self, text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
        """Where to mark ``terms`` in ``text``: whole words only (not 民法 in 人民法院)."""
        return word_spans(text, terms, self._word_starts(text))

    def _word_starts(self, text: str) -> frozenset[int]:
        cache: dict[str, frozenset[int]] = self.__dict__.setdefault("_starts", {})
        found = cache.get(text)
        if found is None:
            starts = {0, len(text)}
            # jieba's plain cut (search mode would also yield 民法 inside 人民法院)
            for _word, start, end in self.tokenizer._splitter().tokenize(text, HMM=False):
                starts.update((start, end))
            found = frozenset(starts)
            if len(cache) > 20_000:  # texts of a few hundred results per session: bounded
                cache.clear()
            cache[text] = found
        return found

    def stats(self) -> KBStats:
        cur = [a for a in self.articles if a.current]
        return KBStats(
            laws=len({a.law for a in cur}),
            articles=len(cur),
            articles_all_versions=len(self.articles),
            cases=len(self.cases),
            units=len(self.articles.units) + len(self.cases.units),
            model=str(self.manifest.get("model", {}).get("name", self.embedder.name)),
            built=str(self.manifest.get("created", "")),
            data_as_of=self.catalogue.data_as_of,
            by_level=dict(Counter(a.level for a in cur)),
            by_status=dict(Counter(a.status for a in cur)),
            cases_by_kind=dict(Counter(c.kind for c in self.cases)),
            cases_by_type=dict(Counter(c.dispute_type for c in self.cases)),
        )

    @property
    def admin(self) -> Admin:
        """Importing files and rebuilding this knowledge base, with its loaded model."""
        from retrieval.admin import Admin

        if self.kb_dir is None:
            raise FengqiaoError(
                "这个知识库不是从文件夹加载的，不能导入文件", "用 Service.load 加载"
            )
        return Admin(KBFolder(self.kb_dir), self.embedder)
