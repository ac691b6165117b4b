"""The one entry point of the CLI and the pages: a loaded knowledge base answering questions.

A question walks one way: page or CLI → ``Service.ask`` → ``Answerer.ask``
(``retrieval.asking``: ``Searcher.search`` → {stores, fusion} → ``extract_answer`` →
matched words, cards, citation pages) → ``Answered`` → page or CLI, which only draw it.
A citation link walks ``Service.open_citation`` → ``retrieval.citation_page``. Loading is
``retrieval.loader``'s, the committee's recorded cases ``retrieval.precedents``'s, and
importing files and rebuilding ``retrieval.admin``'s (``Service.admin`` builds with the
loaded model).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.records import Article, Case
from retrieval import loader
from retrieval.asking import Answered, Answerer
from retrieval.catalogue import Catalogue, LawInfo
from retrieval.citation_page import ArticlePage, CitationPages, OpenedCitation
from retrieval.config import DEFAULT_ANSWER, DEFAULT_CONFIG, AnswerConfig, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus
from retrieval.encoders.embedder import Embedder
from retrieval.errors import FengqiaoError
from retrieval.guidance import GuideCache
from retrieval.hits import Filters, Notice, SearchResult
from retrieval.kb_folder import KBFolder
from retrieval.loader import StoreFactory, flat_stores
from retrieval.matching import WordMatcher
from retrieval.precedents import Precedents, PrecedentStore, joiner
from retrieval.search import Searcher
from retrieval.tokenizer import JiebaTokenizer

if TYPE_CHECKING:
    from retrieval.admin import Admin

log = logging.getLogger(__name__)


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
        self.pages = CitationPages(catalogue, cases.citing)
        matcher = WordMatcher(tokenizer, catalogue.law_names)
        self.answerer = Answerer(self.searcher, catalogue, self.guides, matcher, self.pages)
        self._precedents: Precedents | None = None
        self._opening = threading.Lock()
        from retrieval.county.shared import SharedPrecedents  # issue 24: other committees' cases

        self.shared = SharedPrecedents.for_kb(kb_dir, embedder, cases)
        self.answerer.join = self.shared.join if self.shared is not None else None
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
        """The whole answer as data (``retrieval.asking``): what the CLI and pages show."""
        self.sync_precedents()
        return self.answerer.ask(
            question,
            filters=filters,
            k=k,
            k_cases=k_cases,
            config=config or self.config,
            answer_config=answer_config,
        )

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

    def cases_citing(self, article_id: str) -> list[Case]:
        return self.cases.citing(article_id)

    def freshness_notice(self) -> Notice | None:
        return self.catalogue.freshness_notice()

    def guidance_dropped(self) -> tuple[str, ...]:
        """办理提示 rules not shown: their article is missing here or no longer says the quote."""
        return tuple(d.line() for d in self.guides.get().dropped)

    def stale_as_of(self) -> str:
        """The data date when the statute data is over a year old (status badges name it)."""
        return self.catalogue.stale_as_of()

    def article_page(self, article_id: str) -> ArticlePage | None:
        """The citation page of an article (``retrieval.citation_page``)."""
        return self.pages.page(article_id)

    def open_citation(self, law: str, article: str, version: str = "") -> OpenedCitation:
        """A citation link (?law=婚姻法&article=32) resolved, never to another law's article."""
        return self.pages.open(law, article, version)

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
