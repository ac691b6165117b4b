"""What a page needs from the knowledge base, typed: the service implements it, so does the test double."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ingest.records import Article, Case
from retrieval.hits import Filters, Notice

if TYPE_CHECKING:
    from retrieval.admin import AddReport, Upload
    from retrieval.catalogue import LawInfo
    from retrieval.precedents import ImportResult, Precedent, PrecedentDraft
    from retrieval.service import (
        Answered,
        ArticlePage,
        KBStats,
        Matched,
        OpenedCitation,
    )


class KnowledgeService(Protocol):
    """The calls the pages make; ``retrieval.service.Service`` is the real one."""

    @property
    def version(self) -> str:
        """Changes when the knowledge base is rebuilt."""
        ...

    def ask(
        self, question: str, *, filters: Filters | None = None, k: int = 10, k_cases: int = 5
    ) -> Answered: ...

    def article(self, article_id: str) -> Article | None: ...

    def case(self, case_id: str) -> Case | None: ...

    def lookup(self, law: str, article: str, version: str = "") -> Article | None: ...

    def laws(self) -> list[LawInfo]: ...

    def law_articles(self, law: str, version: str = "") -> list[Article]: ...

    def neighbours(self, article_id: str, n: int = 2) -> list[Article]: ...

    def chapter(self, article_id: str) -> list[Article]: ...

    def cases_citing(self, article_id: str) -> list[Case]: ...

    def freshness_notice(self) -> Notice | None: ...

    def guidance_dropped(self) -> tuple[str, ...]:
        """办理提示 rules not shown against this knowledge base, one line each."""
        ...

    def stale_as_of(self) -> str:
        """The data date when the statute data is over a year old, else "" (status badges)."""
        ...

    def article_page(self, article_id: str) -> ArticlePage | None:
        """The citation page: versions, successors, neighbours, who cites the article."""
        ...

    def open_citation(self, law: str, article: str, version: str = "") -> OpenedCitation:
        """A citation link resolved to its own law's article, or the reason there is none."""
        ...

    def matched_words(self, question: str, text: str, limit: int = 6) -> Matched:
        """The question's words found in ``text`` (whole words), for 为什么出现 and marks."""
        ...

    def highlight_spans(self, text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
        """Where ``terms`` occur in ``text`` as whole words (not 民法 inside 人民法院)."""
        ...

    def stats(self) -> KBStats: ...

    # ---- administration and the committee's cases: see the per-page block below ----

    @property
    def admin(self) -> KBAdmin:
        """Importing files and rebuilding, with the loaded model."""
        ...

    @property
    def precedents(self) -> PrecedentDesk:
        """The committee's recorded cases (调解案例), searched as soon as written."""
        ...


# ---- per page: 知识库 (ui/views/knowledge.py) and 调解案例 (ui/views/precedents.py) ----------


class KBAdmin(Protocol):
    """Importing files into a knowledge base; ``retrieval.admin.Admin`` is the real one."""

    @property
    def limit_mb(self) -> int:
        """The largest file accepted, in MB (the same for ``fengqiao add``)."""
        ...

    def add(self, uploads: Sequence[Upload], *, force: bool = False) -> AddReport:
        """Save the files into drop-in and rebuild, as ``fengqiao add`` does."""
        ...

    def dropin_names(self) -> list[str]: ...


class KnowledgePage(Protocol):
    """What the 知识库 page calls on a loaded knowledge base."""

    def stats(self) -> KBStats: ...

    def laws(self) -> list[LawInfo]: ...

    def freshness_notice(self) -> Notice | None: ...

    def guidance_dropped(self) -> tuple[str, ...]: ...

    @property
    def admin(self) -> KBAdmin: ...


class PrecedentDesk(Protocol):
    """The committee's recorded cases; ``retrieval.precedents.Precedents`` is the real one."""

    def records(self) -> list[Precedent]:
        """Every recorded case, newest first, as stored (masked)."""
        ...

    def get(self, number_or_id: str) -> Precedent | None: ...

    def preview(self, draft: PrecedentDraft) -> Precedent:
        """What ``draft`` would be saved as; raises PrecedentError for what stops a save."""
        ...

    def record(self, draft: PrecedentDraft) -> Case:
        """Save a new record (masked, articles verified); searchable by the next question."""
        ...

    def update(
        self, number_or_id: str, draft: PrecedentDraft, *, revision: int | None = None
    ) -> Case: ...

    def delete(self, number_or_id: str) -> None: ...

    def export(self, fmt: str) -> bytes:
        """The committee CSV (``"csv"``) or JSONL (``"jsonl"``) of every record."""
        ...

    def import_file(self, name: str, data: bytes) -> ImportResult:
        """Records from a committee CSV/JSONL file's bytes; what was refused is in ``problems``."""
        ...


class PrecedentsPage(Protocol):
    """What the 调解案例 page calls (its case cards draw through ``KnowledgeService``)."""

    def case(self, case_id: str) -> Case | None: ...

    @property
    def precedents(self) -> PrecedentDesk: ...
