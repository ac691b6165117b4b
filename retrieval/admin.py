"""Administering a knowledge base: uploads, ``add``, rebuild, and a server kept in step with them.

``fengqiao add`` and the knowledge page's upload are one path (``add_files``): files go
into drop-in (``ingest.dropin``), then ``rebuild`` brings them into the index, which is
swapped in whole; a committee's record table goes to its recorded cases instead
(``retrieval.precedents``, the 调解案例 page's route), so a record is held once.

A running server holds its service in a ``Live``, which notices a swapped index by the
manifest's ``stat`` (``KBFolder.stamp``) and loads it for the next question, whichever
process built it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from ingest.atomic import remove_stale
from ingest.cases.questions import is_question_record
from ingest.dropin import SavedFile, checked_name, deposit
from ingest.errors import IngestError
from ingest.printable import printable
from ingest.records import Problem
from retrieval.build import BuildReport, build_kb, check_sources, model_of
from retrieval.encoders.embedder import Embedder
from retrieval.errors import BuildError, FengqiaoError
from retrieval.index_folder import IndexFolder
from retrieval.kb_folder import MAX_FILE_BYTES, KBFolder, Stamp
from retrieval.precedents import ImportResult, Precedents, PrecedentStore

log = logging.getLogger(__name__)


def recorded_model(kb_dir: Path) -> str | None:
    """The model name the live index was built with (None when there is no readable index)."""
    name = model_of(IndexFolder.of(kb_dir)).get("name")
    return str(name) if name else None


def rebuild(
    kb_dir: Path,
    *,
    statutes: Sequence[Path] = (),
    cases: Sequence[Path] = (),
    model: str | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
    show_progress: bool = False,
    device: str = "cpu",
    ray: str | None = None,
) -> BuildReport:
    """Build or refresh ``kb_dir``: given sources, else remembered ones, plus drop-in.

    Without ``model`` or ``embedder`` the live index's model is kept, so a rebuild never
    switches models silently. ``device`` and ``ray`` say where passages are embedded
    (``build_kb``); neither changes the vectors' key.
    """
    if embedder is None and model is None:
        model = recorded_model(Path(kb_dir))
    return build_kb(
        Path(kb_dir),
        statutes=statutes,
        cases=cases,
        model=model,
        embedder=embedder,
        force=force,
        show_progress=show_progress,
        device=device,
        ray=ray,
    )


@dataclass(frozen=True)
class Upload:
    """A file handed to the tool: its name as the user knows it and its bytes."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: Path) -> Upload:
        return cls(path.name, path.read_bytes())


@dataclass
class AddReport:
    """What importing files did: where each was saved, which were refused, the build, and
    the committee tables taken in as recorded cases (调解案例)."""

    saved: list[SavedFile] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, one-line reason)
    build: BuildReport | None = None
    precedents: list[tuple[str, ImportResult]] = field(default_factory=list)  # (name, result)

    @property
    def done(self) -> bool:
        """Whether anything was brought in (saved and built, or recorded)."""
        return self.build is not None or bool(self.precedents)

    def precedent_lines(self, name: str, result: ImportResult) -> list[str]:
        """What to tell the user about one committee table: the records taken in and refused."""
        refused = [p for p in result.problems if p.dropped or p.kind == "precedent"]
        out = [
            f"{name}：按调解案例导入，新增 {len(result.added)} 件，更新 {len(result.updated)} 件，"
            f"未导入 {len(refused)} 件"
        ]
        out += [
            f"{p.where}：{p.reason}" + (f" 建议：{p.hint}" if p.hint else "")
            for p in result.problems
        ]
        return out + list(result.notes)

    def problems_of(self, saved: SavedFile) -> list[Problem]:
        """Build problems that concern one saved file."""
        if self.build is None:
            return []
        return [p for p in self.build.problems if p.about(str(saved.path))]

    def read_as(self, saved: SavedFile) -> str:
        """How the build read the file: 法规 or 调解记录（案例）."""
        cases = self.build is not None and saved.path.name in self.build.dropin_cases
        return "调解记录（案例）" if cases else "法规"

    def lines(self, saved: SavedFile) -> list[str]:
        """What to tell the user about one file: where it went, how it was read, what was left out."""
        out = [saved.summary()]
        report = self.build.file_report(saved.path) if self.build else None
        if report is not None:
            out += report.lines()
        return out


def add_files(
    kb_dir: Path,
    uploads: Sequence[Upload],
    *,
    max_bytes: int | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
    build: bool = True,
    show_progress: bool = False,
) -> AddReport:
    """Bring ``uploads`` into ``kb_dir``: the CLI's ``add`` and the page's upload alike.

    A committee record table (CSV, or JSONL other than labelled questions) is the
    committee's recorded cases: its records go into the precedent store, as the 调解案例
    page's import does, so a record added both ways is held once (by its 编号) and a
    running server searches it on its next question, without a rebuild. Every other file
    is saved into drop-in, then the index is rebuilt; the rebuild reads every drop-in
    file, routed to statutes or cases by ``ingest.route``.

    A refused file (name, type, size, emptiness) is reported and the others are taken; a
    file never replaces another (a different file of the same name is saved beside it,
    the same bytes are recognised), so nothing a user gave the tool is lost.
    """
    folder = KBFolder(Path(kb_dir))
    limit = max_bytes or MAX_FILE_BYTES
    report = AddReport()
    remove_stale(folder.dropin)  # half-written files of an add that was killed
    tables = [up for up in uploads if committee_table(up)]
    files = [up for up in uploads if not committee_table(up)]
    if build and files:
        try:  # a knowledge base that cannot be rebuilt here takes no file it cannot bring in
            check_sources(Path(kb_dir))
        except FengqiaoError as exc:
            raise BuildError(f"{exc.message}；文件未保存", exc.hint) from exc
    for up in files:
        try:
            report.saved.append(deposit(folder.dropin, up.name, up.data, max_bytes=limit))
        except IngestError as exc:
            report.refused.append((up.name, exc.line()))
    if build and report.saved:
        # also when every file was already there: one left by a refused or failed build
        # is in drop-in but not in the index, and adding it again must bring it in (a
        # build with nothing new finds the index up to date in seconds)
        try:
            report.build = rebuild(
                Path(kb_dir), embedder=embedder, force=force, show_progress=show_progress
            )
        except FengqiaoError as exc:
            raise _not_searchable(exc, report.saved) from exc
    if tables:  # after the build: a table may cite a statute added beside it
        desk = recorded_cases(folder)
        for up in tables:
            try:
                checked_name(up.name, up.data, max_bytes=limit)
                report.precedents.append((up.name, desk.import_file(up.name, up.data)))
            except IngestError as exc:
                report.refused.append((up.name, exc.line()))
    return report


def committee_table(upload: Upload) -> bool:
    """A committee's record table: a CSV, or a JSONL file that is not labelled questions."""
    suffix = Path(upload.name).suffix.lower()
    if suffix != ".jsonl":
        return suffix == ".csv"
    text = upload.data.decode("utf-8-sig", errors="replace")
    return not is_question_record(next((ln for ln in text.splitlines() if ln.strip()), ""))


def recorded_cases(folder: KBFolder) -> Precedents:
    """The folder's precedent store, checked against its live index's articles.

    Written here without a loaded service: a running server picks the records up from the
    store's change log on its next question (``Service.sync_precedents``).
    """
    from ingest.cases.link import ArticleIndex

    index = folder.index
    articles = index.read_records().articles if index.exists else []
    store = PrecedentStore(folder.precedents, ArticleIndex(articles))
    return Precedents(store, lambda _changes: None, lambda _id: None)


def _not_searchable(exc: FengqiaoError, saved: Sequence[SavedFile]) -> FengqiaoError:
    """The build's error, saying that the saved files are in drop-in but not yet searchable."""
    names = "、".join(printable(f.path.name) for f in saved)
    return BuildError(
        f"{exc.message}；{names} 已存入 drop-in，但还不能检索",
        f"{exc.hint}；之后再次导入同一文件（或运行 fengqiao build）即可加入检索"
        if exc.hint
        else "再次导入同一文件（或运行 fengqiao build）即可加入检索",
    )


@dataclass(frozen=True)
class Admin:
    """What the knowledge page administers: one folder, built with a loaded model when given."""

    kb: KBFolder
    embedder: Embedder | None = None
    limit_mb: int = MAX_FILE_BYTES >> 20

    def add(self, uploads: Sequence[Upload], *, force: bool = False) -> AddReport:
        """Bring files in exactly as ``fengqiao add`` does (``add_files``)."""
        return add_files(self.kb.path, uploads, embedder=self.embedder, force=force)

    def rebuild(self, *, force: bool = False) -> BuildReport:
        """Rebuild from the remembered sources and drop-in, with the live index's model."""
        return rebuild(self.kb.path, embedder=self.embedder, force=force)

    def dropin_names(self) -> list[str]:
        """The names of the user's files in drop-in."""
        return [p.name for p in self.kb.dropin_files()]


S = TypeVar("S")


class Live(Generic[S]):
    """A loaded knowledge base that follows its folder: rebuilt elsewhere, reloaded here.

    ``current()`` costs one ``stat`` of the manifest while nothing changed. After a build
    swapped a new index in (``fengqiao add`` or ``build`` from another shell, the page's
    own upload), the first caller loads it and every other thread keeps the previous
    service meanwhile: one load per change, never a storm. A new index that cannot be
    loaded leaves the previous service in place (and is not tried again until the index
    changes again).

    Args:
        kb: the folder.
        load: makes the service; it receives the previous one (None at first) so a reload
            can keep the loaded model.
    """

    def __init__(self, kb: KBFolder, load: Callable[[S | None], S]) -> None:
        self.kb = kb
        self._load = load
        self._service: S | None = None
        self._stamp: Stamp | None = None
        self._lock = threading.Lock()
        self.loads = 0

    def current(self) -> S:
        """The service of the live index; FengqiaoError when none was ever loadable."""
        service = self._service
        if service is not None and self.kb.stamp() == self._stamp:
            return service
        if not self._lock.acquire(blocking=service is None):
            return service  # type: ignore[return-value]  # another thread is loading
        try:
            stamp = self.kb.stamp()
            if self._service is not None and stamp == self._stamp:
                return self._service
            try:
                fresh = self._load(self._service)
            except FengqiaoError as exc:
                if self._service is None:
                    raise
                log.warning("the rebuilt index at %s cannot be loaded: %s", self.kb.path, exc)
                self._stamp = stamp
                return self._service
            self._service, self._stamp = fresh, stamp
            self.loads += 1
            return fresh
        finally:
            self._lock.release()
