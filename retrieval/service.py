"""The one entry point of the CLI and the pages: ask a question, import files, rebuild.

A question walks one way: page or CLI → ``Service.ask`` → ``Answerer.ask``
(``retrieval.asking``: ``Searcher.search`` → {stores, fusion} → ``extract_answer`` →
matched words, cards, citation pages) → ``Answered`` → page or CLI, which only draw it.
A citation link walks ``Service.open_citation`` → ``retrieval.citation_page``. Importing
walks one way too: ``add_files`` (CLI ``add`` and the page's upload alike) → drop-in →
``rebuild``, which routes every drop-in file to the statute or the case reader.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.printable import printable
from ingest.records import Article, Case, Problem
from retrieval.asking import Answered, Answerer
from retrieval.bm25 import BM25Index
from retrieval.build import BuildReport, build_kb, check_sources, model_of
from retrieval.catalogue import Catalogue, LawInfo
from retrieval.citation_page import ArticlePage, CitationPages, OpenedCitation
from retrieval.config import DEFAULT_ANSWER, DEFAULT_CONFIG, AnswerConfig, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus, article_rows, case_rows
from retrieval.encoders.embedder import Embedder, load_embedder
from retrieval.errors import BuildError, FengqiaoError
from retrieval.guidance import GuideCache
from retrieval.hits import Filters, Notice, SearchResult
from retrieval.index_folder import (
    ARTICLE_BM25,
    ARTICLE_VECTORS,
    CASE_BM25,
    CASE_VECTORS,
    TOKENIZER,
    IndexFolder,
    Records,
    check_model,
)
from retrieval.matching import WordMatcher
from retrieval.search import Searcher
from retrieval.stores.flat import FlatStore
from retrieval.tokenizer import JiebaTokenizer

if TYPE_CHECKING:
    from ingest.cases.precedents import ImportResult, Precedent, PrecedentDraft, PrecedentStore
    from ingest.dropin import SavedFile

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
        self._precedents: PrecedentStore | None = None
        self._precedent_token = 0
        self._sync_lock = threading.Lock()
        if kb_dir is not None:
            from ingest.cases.precedents import FILENAME

            if (Path(kb_dir) / FILENAME).exists():
                self.precedent_store()  # the committee's own cases join the search at once

    @classmethod
    def load(
        cls,
        kb_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        config: SearchConfig = DEFAULT_CONFIG,
    ) -> Service:
        """Load ``kb_dir/index``; KBError (Chinese message + hint) when missing or mismatched.

        ``config`` is the default search configuration of ``ask``; its similar-case floors
        are cosines calibrated for the built-in e5 model (another embedder needs its own).
        """
        kb_dir = Path(kb_dir)
        folder, manifest, embedder, records, tokenizer = read_index(kb_dir, embedder)
        a_store, c_store = (
            FlatStore.load(
                kind,  # type: ignore[arg-type]
                folder.file(vector_file),
                folder.file(bm25_file),
                rows(records, units),  # type: ignore[arg-type]
                tokenize=tokenizer,
                texts=[u.keywords for u in units],
            )
            for kind, vector_file, bm25_file, rows, records, units in (
                ("articles", ARTICLE_VECTORS, ARTICLE_BM25, article_rows, records.articles, records.article_units),
                ("cases", CASE_VECTORS, CASE_BM25, case_rows, records.cases, records.case_units),
            )
        )  # fmt: skip
        service = cls(
            Corpus(records.articles, records.article_units, a_store),
            CaseCorpus(records.cases, records.case_units, c_store),
            Catalogue(records.articles),
            tokenizer,
            embedder,
            kb_dir=kb_dir,
            manifest=manifest,
            config=config,
        )
        tokenizer("预热")  # load jieba's dictionary now, not in the first query
        _one_blas_thread()
        return service

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
        from retrieval.units import article_units, case_units

        tok = tokenizer or JiebaTokenizer().with_words(sorted({a.law for a in articles}))
        corpora = []
        for kind, records, units, rows in (
            ("articles", articles, article_units(articles, embedder.count_tokens), article_rows),
            ("cases", cases, case_units(cases), case_rows),
        ):
            texts = [u.text for u in units]
            vectors = (
                embedder.encode_passages(texts)
                if texts
                else np.zeros((0, embedder.dim), np.float32)
            )
            store = FlatStore(
                kind,  # type: ignore[arg-type]
                embedder.dim,
                rows(records, units),  # type: ignore[arg-type]
                vectors,
                BM25Index().index(tok.tokenize_many(u.keywords for u in units)),
                tokenize=tok,
                texts=[u.keywords for u in units],
            )
            corpora.append((records, units, store))
        (a_rec, a_units, a_store), (c_rec, c_units, c_store) = corpora
        return cls(
            Corpus(a_rec, a_units, a_store),  # type: ignore[arg-type]
            CaseCorpus(c_rec, c_units, c_store),  # type: ignore[arg-type]
            Catalogue(articles),
            tok,
            embedder,
            config=config,
        )

    # ---- the committee's own precedents ----------------------------------------------------

    def precedent_store(self) -> PrecedentStore:
        """The committee's recorded cases (``<kb>/precedents.sqlite3``), opened once; what it
        holds is searchable as 调解案例 without a rebuild (see ``sync_precedents``)."""
        if self._precedents is None:
            if self.kb_dir is None:
                raise FengqiaoError(
                    "这个知识库不是从文件夹加载的，不能记录调解案例", "用 Service.load 加载"
                )
            from ingest.cases.link import ArticleIndex
            from ingest.cases.precedents import PrecedentStore

            self._precedents = PrecedentStore.in_kb(
                self.kb_dir, ArticleIndex(self.articles.records)
            )
            self.sync_precedents()
        return self._precedents

    def sync_precedents(self) -> int:
        """Bring recorded, edited and deleted precedents into the case corpus; how many changed.

        Cheap when nothing changed (one read of the change log), so ``ask`` calls it every
        time: a case recorded in one browser session is found by the next question anywhere.
        """
        store = self._precedents
        if store is None:
            return 0
        with self._sync_lock:
            changes = store.changed_since(self._precedent_token)
            if changes.deleted:
                self.cases.remove(changes.deleted)
            if changes.upserted:
                self._add_cases(changes.upserted)
            self._precedent_token = changes.token
        return len(changes.upserted) + len(changes.deleted)

    def record_precedent(self, draft: PrecedentDraft) -> Case:
        """Save a mediator's resolved dispute (masked, articles verified) and make it searchable."""
        saved = self.precedent_store().add(draft)
        self.sync_precedents()
        found = self.cases.get(saved.id)
        return found if found is not None else saved.to_case()

    def precedents(self) -> list[Precedent]:
        """Every recorded 调解案例, newest first (masked, as stored)."""
        return self.precedent_store().records()

    def precedent(self, number_or_id: str) -> Precedent | None:
        return self.precedent_store().get(number_or_id)

    def preview_precedent(self, draft: PrecedentDraft) -> Precedent:
        """What ``draft`` would be saved as (masked, articles verified); nothing is written.

        Raises:
            PrecedentError: what would stop the save (a citation that does not resolve …).
        """
        return self.precedent_store().prepare(draft, draft.number.strip() or "预览")

    def update_precedent(
        self, number_or_id: str, draft: PrecedentDraft, *, revision: int | None = None
    ) -> Case:
        """Replace a recorded case's content (masked and verified again); searchable at once."""
        saved = self.precedent_store().update(number_or_id, draft, revision=revision)
        self.sync_precedents()
        found = self.cases.get(saved.id)
        return found if found is not None else saved.to_case()

    def delete_precedent(self, number_or_id: str) -> None:
        """Remove a recorded case; the next question no longer finds it."""
        self.precedent_store().delete(number_or_id)
        self.sync_precedents()

    def export_precedents(self, fmt: str) -> bytes:
        """Every recorded case in the committee format: ``"csv"`` (UTF-8 with BOM) or ``"jsonl"``."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="fengqiao-export-") as tmp:
            path = Path(tmp) / f"调解案例.{fmt}"
            self.precedent_store().export(path)
            return path.read_bytes()

    def import_precedents(self, name: str, data: bytes) -> ImportResult:
        """Add or update recorded cases from an uploaded committee CSV/JSONL file.

        Problems name the uploaded file and line (never the temporary copy); a bad record
        never stops the rest. What was taken in is searchable at once.
        """
        import dataclasses
        import tempfile

        from ingest.dropin import safe_name

        safe = safe_name(name)
        with tempfile.TemporaryDirectory(prefix="fengqiao-import-") as tmp:
            path = Path(tmp) / safe
            path.write_bytes(data)
            result = self.precedent_store().import_file(path)
        result.problems = [
            dataclasses.replace(p, where=p.where.replace(str(path), safe)) for p in result.problems
        ]
        self.sync_precedents()
        return result

    def _add_cases(self, cases: Sequence[Case]) -> None:
        """Embed and index cases now (vectors from the build's embedding cache when known)."""
        from retrieval.build import embed_units
        from retrieval.encoders.embcache import EmbeddingCache
        from retrieval.units import case_units

        units = case_units(cases)
        cache_dir = (
            Path(self.kb_dir) / "cache" / "embeddings" if self.kb_dir else Path(".fengqiao-cache")
        )
        vectors = embed_units(units, self.embedder, EmbeddingCache(cache_dir, self.embedder.key))
        tokens = self.tokenizer.tokenize_many(u.keywords for u in units)
        self.cases.upsert(cases, units, case_rows(cases, units), vectors, tokens)

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
            + f"+p{self._precedent_token}"
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
        return self.cases.get(case_id)

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

    # ---- changing the knowledge base --------------------------------------------------

    def rebuild(self, *, force: bool = False, show_progress: bool = False) -> BuildReport:
        """Rebuild this knowledge base from its remembered sources and drop-in (same model)."""
        if self.kb_dir is None:
            raise FengqiaoError("这个知识库不是从文件夹加载的，不能重建", "用 Service.load 加载")
        return rebuild(
            self.kb_dir, embedder=self.embedder, force=force, show_progress=show_progress
        )

    def add_files(self, uploads: Sequence[Upload], *, force: bool = False) -> AddReport:
        """Save files into drop-in and rebuild with this knowledge base's model."""
        if self.kb_dir is None:
            raise FengqiaoError(
                "这个知识库不是从文件夹加载的，不能导入文件", "用 Service.load 加载"
            )
        return add_files(self.kb_dir, uploads, embedder=self.embedder, force=force)


def _one_blas_thread() -> None:
    """Score with one BLAS thread: a query's matrix-vector product takes a few ms on one
    core, while OpenBLAS's spinning workers slowed the query encoder's threads
    (national knowledge base: 60 ms per question instead of 97 ms with two of each)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


# ---- module-level: what works without a loaded knowledge base --------------------------


def read_index(
    kb_dir: Path, embedder: Embedder | None
) -> tuple[IndexFolder, dict[str, Any], Embedder, Records, JiebaTokenizer]:
    """What every backend's service reads from the index folder: the checked manifest, the
    embedder it was built with (loaded when not given; KBError on a mismatch), the records
    and the keyword tokenizer."""
    folder = IndexFolder.of(kb_dir)
    manifest = folder.check()
    if embedder is None:
        embedder = load_embedder(manifest.get("model", {}).get("name"))
    check_model(folder.path, manifest, embedder.name, embedder.key, embedder.dim)
    return (
        folder,
        manifest,
        embedder,
        folder.read_records(),
        JiebaTokenizer.load(folder.file(TOKENIZER)),
    )


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
    """What importing files did: where each was saved, which were refused, and the build."""

    saved: list[SavedFile] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, one-line reason)
    build: BuildReport | None = None

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

    def to_json(self) -> dict[str, Any]:
        return {
            "saved": [
                {"name": f.name, "path": str(f.path), "status": f.status} for f in self.saved
            ],
            "refused": [{"name": n, "reason": r} for n, r in self.refused],
            "build": None
            if self.build is None
            else {
                k: v
                for k, v in asdict(self.build).items()
                if k not in ("problems", "index_dir", "files")
            },
        }


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
    """Save ``uploads`` into ``kb_dir``'s drop-in, then rebuild: the CLI's ``add`` and the page's upload.

    A refused file (name, type, size, emptiness) is reported and the others are saved; a
    file never replaces another (a different file of the same name is saved beside it,
    the same bytes are recognised), so nothing a user gave the tool is lost.
    The rebuild reads every drop-in file, routed to statutes or cases by ``ingest.route``.
    """
    from ingest.atomic import remove_stale
    from ingest.dropin import MAX_BYTES, deposit, dropin_dir
    from ingest.errors import IngestError

    report = AddReport()
    remove_stale(dropin_dir(Path(kb_dir)))  # half-written files of an add that was killed
    if build:
        try:  # a knowledge base that cannot be rebuilt here takes no file it cannot bring in
            check_sources(Path(kb_dir))
        except FengqiaoError as exc:
            raise BuildError(f"{exc.message}；文件未保存", exc.hint) from exc
    for up in uploads:
        try:
            report.saved.append(
                deposit(
                    dropin_dir(Path(kb_dir)), up.name, up.data, max_bytes=max_bytes or MAX_BYTES
                )
            )
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
    return report


def _not_searchable(exc: FengqiaoError, saved: Sequence[SavedFile]) -> FengqiaoError:
    """The build's error, saying that the saved files are in drop-in but not yet searchable."""
    names = "、".join(printable(f.path.name) for f in saved)
    return BuildError(
        f"{exc.message}；{names} 已存入 drop-in，但还不能检索",
        f"{exc.hint}；之后再次导入同一文件（或运行 fengqiao build）即可加入检索"
        if exc.hint
        else "再次导入同一文件（或运行 fengqiao build）即可加入检索",
    )
