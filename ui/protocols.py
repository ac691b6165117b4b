"""What each page needs from the knowledge base, typed: one Protocol per page, naming only
the calls that page makes. ``retrieval.service.Service`` implements them all.

A page draws what it is handed: the ask page gets the whole answer from one ``ask``
(``retrieval.asking.Answered``) and calls nothing per card or quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ingest.records import Article, Case
from retrieval.hits import Filters, Notice

if TYPE_CHECKING:
    from ingest.cases.precedents import ImportResult, Precedent, PrecedentDraft
    from retrieval.asking import Answered
    from retrieval.catalogue import LawInfo
    from retrieval.citation_page import OpenedCitation
    from retrieval.service import AddReport, KBStats, Upload


# ---- pieces shared by several pages and widgets ------------------------------------------


class ArticleSource(Protocol):
    """Articles by id: the service, or an ``Answered`` (every article the answer names)."""

    def article(self, article_id: str) -> Article | None: ...


class FreshnessSource(Protocol):
    """The sidebar's data date (``ui.widgets.data_freshness``)."""

    def freshness_notice(self) -> Notice | None: ...


class LawList(Protocol):
    def laws(self) -> list[LawInfo]: ...


# ---- one per page ---------------------------------------------------------------------------


class AskService(FreshnessSource, LawList, Protocol):
    """问答检索 (ui/views/ask.py): the sidebar's law list, one ``ask`` per question."""

    @property
    def version(self) -> str:
        """Changes when the knowledge base is rebuilt (keys the page's memo of answers)."""
        ...

    def ask(
        self, question: str, *, filters: Filters | None = None, k: int = 10, k_cases: int = 5
    ) -> Answered: ...


class BrowseService(FreshnessSource, LawList, Protocol):
    """法规浏览 (ui/views/browse.py): a law's articles, a citation link's page."""

    def law_articles(self, law: str, version: str = "") -> list[Article]: ...

    def open_citation(self, law: str, article: str, version: str = "") -> OpenedCitation:
        """A citation link resolved to its own law's article, or the reason there is none."""
        ...

    def stale_as_of(self) -> str:
        """The data date when the statute data is over a year old, else "" (status badges)."""
        ...


class CollectionsService(ArticleSource, Protocol):
    """案卷 (ui/views/collections.py, ui/casefile.py): the records a 案卷 holds, its drafts."""

    @property
    def version(self) -> str: ...

    def case(self, case_id: str) -> Case | None: ...

    def stale_as_of(self) -> str: ...


class KnowledgeAdmin(FreshnessSource, LawList, Protocol):
    """知识库 (ui/views/knowledge.py): what is loaded, and importing files."""

    def stats(self) -> KBStats: ...

    def guidance_dropped(self) -> tuple[str, ...]:
        """办理提示 rules not shown against this knowledge base, one line each."""
        ...

    def add_files(self, uploads: Sequence[Upload], *, force: bool = False) -> AddReport: ...


class PrecedentsService(ArticleSource, Protocol):
    """调解案例 (ui/views/precedents.py): the committee's own resolved cases."""

    def case(self, case_id: str) -> Case | None: ...

    def precedents(self) -> list[Precedent]:
        """Every recorded case, newest first, as stored (masked)."""
        ...

    def preview_precedent(self, draft: PrecedentDraft) -> Precedent:
        """What ``draft`` would be saved as; raises PrecedentError for what stops a save."""
        ...

    def record_precedent(self, draft: PrecedentDraft) -> Case:
        """Save a new record (masked, articles verified); searchable by the next question."""
        ...

    def update_precedent(
        self, number_or_id: str, draft: PrecedentDraft, *, revision: int | None = None
    ) -> Case: ...

    def delete_precedent(self, number_or_id: str) -> None: ...

    def export_precedents(self, fmt: str) -> bytes:
        """The committee CSV (``"csv"``) or JSONL (``"jsonl"``) of every record."""
        ...

    def import_precedents(self, name: str, data: bytes) -> ImportResult:
        """Records from an uploaded committee CSV/JSONL; what was refused is in ``problems``."""
        ...


class KnowledgeService(
    AskService, BrowseService, CollectionsService, KnowledgeAdmin, PrecedentsService, Protocol
):
    """What the app loads (``ui.views.get_service``): every page's calls together."""
