"""Plain result records: what a search returns to the service, the CLI and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ingest.records import Article, Case, Citation

R = TypeVar("R", Article, Case)


@dataclass(frozen=True)
class Why:
    """Why a record was returned, so users learn to trust or doubt it.

    ``sources`` names the signals that found it: ``"citation"`` (the question cited
    it), ``"keyword"`` (BM25), ``"semantic"`` (dense), ``"precedent"`` (a similar
    case cites it). ``matched_terms`` are query tokens found in the record text;
    ``section`` is the case section that matched best.
    """

    sources: tuple[str, ...] = ()
    matched_terms: tuple[str, ...] = ()
    keyword_rank: int | None = None
    semantic_rank: int | None = None
    section: str = ""
    via_cases: tuple[str, ...] = ()  # case ids whose citations lifted this article


@dataclass(frozen=True)
class Hit(Generic[R]):
    """One ranked result: an Article or a Case with its score and rank (1-based)."""

    record: R
    score: float
    rank: int
    why: Why = Why()


ArticleHit = Hit[Article]
CaseHit = Hit[Case]


@dataclass(frozen=True)
class Filters:
    """Search filters. Empty tuples mean no restriction.

    By default only current law is searched (``statuses=("现行有效", "尚未施行")``
    on the newest version of each law).
    """

    laws: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("现行有效", "尚未施行")
    current_only: bool = True
    dispute_types: tuple[str, ...] = ()
    case_kinds: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    exclude_case_ids: tuple[str, ...] = ()  # leave-one-out evaluation
    exclude_case_sources: tuple[str, ...] = ()  # leave-source-out evaluation

    def allows_article(self, a: Article) -> bool:
        """Whether ``a`` passes the article fields (the reference for every store's masks)."""
        from ingest.names import canonical_law

        return (
            (not self.current_only or a.current)
            and (not self.statuses or a.status in self.statuses)
            and (not self.laws or a.law in {canonical_law(x) for x in self.laws})
            and (not self.levels or a.level in self.levels)
        )

    def allows_case(self, c: Case) -> bool:
        """Whether ``c`` passes the case fields (the reference for every store's masks)."""
        from ingest.cases.link import source_key

        return (
            c.id not in self.exclude_case_ids
            and source_key(c) not in self.exclude_case_sources
            and (not self.dispute_types or c.dispute_type in self.dispute_types)
            and (not self.case_kinds or c.kind in self.case_kinds)
            and (not self.date_from or (bool(c.date) and c.date >= self.date_from))
            and (not self.date_to or (bool(c.date) and c.date[: len(self.date_to)] <= self.date_to))
        )

    def articles_part(self) -> Filters:
        """Only the fields that restrict articles (a cache key for article masks)."""
        return Filters(self.laws, self.levels, self.statuses, self.current_only)

    def cases_part(self) -> Filters:
        """Only the fields that restrict cases (a cache key for case masks)."""
        return Filters(
            statuses=(),
            current_only=False,
            dispute_types=self.dispute_types,
            case_kinds=self.case_kinds,
            date_from=self.date_from,
            date_to=self.date_to,
            exclude_case_ids=self.exclude_case_ids,
            exclude_case_sources=self.exclude_case_sources,
        )


@dataclass(frozen=True)
class Notice:
    """A message to show above results, e.g. a repealed-law citation."""

    level: str  # info | warning
    text: str
    citation: Citation | None = None
    suggestions: tuple[str, ...] = ()  # Article ids suggested instead (ranked, unofficial)


@dataclass(frozen=True)
class SearchResult:
    query: str
    articles: list[ArticleHit] = field(default_factory=list)
    cases: list[CaseHit] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    cited: list[Citation] = field(default_factory=list)  # citations found in the question
    timings_ms: dict[str, float] = field(default_factory=dict)
