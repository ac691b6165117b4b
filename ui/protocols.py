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
    from retrieval.admin import AddReport, Upload
    from retrieval.asking import Answered
    from retrieval.catalogue import LawInfo
    from retrieval.citation_page import OpenedCitation
    from retrieval.precedents import ImportResult, Precedent, PrecedentDraft
    from retrieval.service import KBStats


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


class KnowledgePage(FreshnessSource, LawList, Protocol):
    """What the 知识库 page calls on a loaded knowledge base."""

    def stats(self) -> KBStats: ...

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


class PrecedentsPage(ArticleSource, Protocol):
    """What the 调解案例 page calls (its case cards look up the articles cases cite)."""

    def case(self, case_id: str) -> Case | None: ...

    @property
    def precedents(self) -> PrecedentDesk: ...


class KnowledgeService(
    AskService, BrowseService, CollectionsService, KnowledgePage, PrecedentsPage, Protocol
):
    """What the app loads (``ui.session.get_service``): every page's calls together."""
