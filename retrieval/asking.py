"""Asking: a question in, the whole answer out as data (``Answered``), computed once.

Whatever a front end shows for a question is decided here, so ``fengqiao query --json``
and the ask page cannot disagree: the ranked articles and cases, the answer points,
whether the question is only a citation (and then the cited articles' pages), the words
each record matched with where to mark them, each card's snippet, notices with the
articles they suggest, 办理提示 and the data date. A page draws an ``Answered`` and asks
the service for nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ingest.records import Article, Case, Citation
from retrieval import cite
from retrieval.answer import Answer, Quote, clause_spans, extract_answer
from retrieval.catalogue import Catalogue
from retrieval.citation_page import CitationPages, OpenedCitation
from retrieval.config import AnswerConfig, SearchConfig
from retrieval.errors import QueryError
from retrieval.guidance import Guidance, GuideCache, question_type
from retrieval.hits import ArticleHit, CaseHit, Filters, Notice, SearchResult
from retrieval.matching import Matched, Span, WordMatcher
from retrieval.search import Searcher

MAX_QUESTION_CHARS = 1000
"""Longer questions are refused: the query encoder reads ~500 characters, and 10,000 took 21 s."""
MAX_K = 200
SNIPPET_CHARS = 90
"""A result card's snippet: an article's opening clause, a case's result or facts, cut here."""


@dataclass(frozen=True)
class CitedArticle:
    """A citation in the question and the article it names (None when the KB has no such article).

    The article is the current one, or — for a law no longer in force — its newest text,
    so a mediator who typed 婚姻法第三十二条 still sees what that article said.
    """

    citation: Citation
    article: Article | None


@dataclass(frozen=True)
class Snippet:
    """The part of a record a result card shows: ``label``: ``text`` with ``……`` when cut.

    An article's snippet is its opening clause, verbatim from offset 0 (so highlight
    spans of the whole text apply); a case's is its result (labelled 调解结果, 裁判结果
    …), else its facts (案情), whitespace collapsed. One length for every card.
    """

    text: str
    label: str = ""
    cut: bool = False

    @classmethod
    def of_article(cls, text: str, limit: int = SNIPPET_CHARS) -> Snippet:
        first = clause_spans(text)[:1]
        end = min(first[0][1] if first else len(text), limit)
        return cls(text[:end], "", end < len(text))

    @classmethod
    def of_case(cls, case: Case, limit: int = SNIPPET_CHARS) -> Snippet | None:
        result = case.result
        label, text = (result.label, result.text) if result.text else ("案情", case.facts)
        text = " ".join(text.split())
        if not text:
            return None
        return cls(text[:limit], label, len(text) > limit)


@dataclass(frozen=True)
class Card:
    """One record as a result card shows it.

    ``matched``: the question's words found in the record (为什么出现); ``spans``: where
    they are in the record's full text; ``snippet``: the part shown before 全文;
    ``quote``: an article's answer point, shown instead of its opening clause.
    """

    matched: Matched = Matched()
    spans: tuple[Span, ...] = ()
    snippet: Snippet | None = None
    quote: Quote | None = None


@dataclass(frozen=True)
class Answered:
    """Everything a page or the CLI shows for one question.

    ``citation_only``: the question is citations and nothing else (民法典第1079条): a
    page then shows ``pages``, the cited articles' citation pages, instead of results;
    民法典第1079条怎么办 asks more and gets full results with the cited article.
    ``articles`` holds every article the answer names (hits, quotes, citations in the
    question and in the cases, notices' suggestions), so a page never looks one up.
    ``article_cards`` and ``case_cards`` are keyed by record id; ``freshness`` and
    ``stale_as_of`` say what date the statuses shown rest on.
    """

    result: SearchResult
    answer: Answer
    cited: tuple[CitedArticle, ...] = ()
    ms: float = 0.0
    guidance: Guidance = Guidance()  # 办理提示 (retrieval/guidance.py)
    citation_only: bool = False
    articles: Mapping[str, Article] = field(default_factory=dict)
    article_cards: Mapping[str, Card] = field(default_factory=dict)
    case_cards: Mapping[str, Card] = field(default_factory=dict)
    pages: tuple[OpenedCitation, ...] = ()
    freshness: Notice | None = None
    stale_as_of: str = ""

    @property
    def question(self) -> str:
        return self.result.query

    def article(self, article_id: str) -> Article | None:
        """An article the answer names (None for one it does not)."""
        return self.articles.get(article_id)

    def card(self, hit: ArticleHit | CaseHit) -> Card:
        cards = self.article_cards if isinstance(hit.record, Article) else self.case_cards
        return cards.get(hit.record.id, Card())


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


Join = Callable[[str, SearchResult, int, Filters | None, SearchConfig], SearchResult]
"""Merges more similar cases into a result (the county's shared cases, issue 24)."""


class Answerer:
    """Turns a question into an ``Answered`` over one knowledge base's parts.

    ``join``, when set, merges more similar cases into the result after the answer
    points are drawn (``retrieval.county.shared``: other committees' cases).
    """

    def __init__(
        self,
        searcher: Searcher,
        catalogue: Catalogue,
        guides: GuideCache,
        matcher: WordMatcher,
        pages: CitationPages,
    ) -> None:
        self.searcher = searcher
        self.catalogue = catalogue
        self.guides = guides
        self.matcher = matcher
        self.pages = pages
        self.join: Join | None = None

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None,
        k: int,
        k_cases: int,
        config: SearchConfig,
        answer_config: AnswerConfig,
    ) -> Answered:
        start = time.perf_counter()
        question = check_question(question, k, k_cases)
        result = self.searcher.search(
            question, k=k, k_cases=k_cases, filters=filters, config=config
        )
        catalogue = self.catalogue
        answer = extract_answer(
            question,
            result.articles,
            result.cases,
            cited=result.cited,
            config=answer_config,
            related=lambda aid: [r.article for r in catalogue.related_interpretations(aid)],
            term_share=catalogue.term_share,
        )
        if self.join is not None:
            result = self.join(question, result, k_cases, filters, config)
        only = cite.citation_only(question, result.cited)
        cited = tuple(CitedArticle(c, self._cited(c)) for c in result.cited)
        articles = self._named(result, answer, cited)
        quotes: dict[str, Quote] = {}
        for q in answer.quotes:
            quotes.setdefault(q.article_id, q)
        shown = [
            articles[i]
            for i in dict.fromkeys([h.record.id for h in result.articles] + list(quotes))
        ]
        return Answered(
            result,
            answer,
            cited,
            guidance=Guidance() if only else self._guidance(question, result, filters),
            citation_only=only,
            articles=articles,
            article_cards={a.id: self._article_card(question, a, quotes.get(a.id)) for a in shown},
            case_cards={h.record.id: self._case_card(question, h.record) for h in result.cases},
            pages=tuple(self.pages.open(c.law or "", c.article) for c in result.cited) if only else (),
            freshness=catalogue.freshness_notice(),
            stale_as_of=catalogue.stale_as_of(),
            ms=round((time.perf_counter() - start) * 1000, 1),
        )  # fmt: skip

    def _guidance(self, question: str, result: SearchResult, filters: Filters | None) -> Guidance:
        chosen = filters.dispute_types if filters else ()
        qtype = question_type(question, [h.record for h in result.articles], chosen)
        return self.guides.get().advise(question, qtype)

    def _cited(self, citation: Citation) -> Article | None:
        if citation.resolved_id:
            found = self.catalogue.article(citation.resolved_id)
            if found is not None:
                return found
        if not citation.law or not citation.article:
            return None
        return self.catalogue.lookup_any(citation.law, citation.article)

    def _named(
        self, result: SearchResult, answer: Answer, cited: Sequence[CitedArticle]
    ) -> dict[str, Article]:
        """Every article the answer names, by id."""
        out = {h.record.id: h.record for h in result.articles}
        out.update((c.article.id, c.article) for c in cited if c.article is not None)
        ids: Iterable[str] = (
            *(q.article_id for q in answer.quotes),
            *(s for n in result.notices for s in n.suggestions),
            *(c.resolved_id for h in result.cases for c in h.record.cited if c.resolved_id),
        )
        for aid in ids:
            if aid not in out and (found := self.catalogue.article(aid)) is not None:
                out[aid] = found
        return out

    def _article_card(self, question: str, article: Article, quote: Quote | None) -> Card:
        matched = self.matcher.matched(question, article.text)
        spans = self.matcher.spans(article.text, matched.all)
        return Card(matched, spans, Snippet.of_article(article.text), quote)

    def _case_card(self, question: str, case: Case) -> Card:
        return Card(self.matcher.matched(question, case.text), (), Snippet.of_case(case))
