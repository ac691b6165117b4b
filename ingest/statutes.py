"""Load statute folders into Article records: walk, parse (cached), versions, status, changes."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path

from ingest.cachekey import code_digest
from ingest.config import MAX_FILE_BYTES
from ingest.formats import FATAL_KINDS, PARSER_VERSION, RawArticle, RawDocument
from ingest.formats.plaintext import suffix_rank
from ingest.metadata import (
    USER_LEVEL,
    LawMeta,
    MetadataIndex,
    VersionFacts,
    header_dates,
    says_repealed,
    split_stem,
    version_statuses,
)
from ingest.names import normalise_law
from ingest.paths import (
    HIDDEN_HINT,
    HIDDEN_REASON,
    OUTSIDE_HINT,
    hidden_note,
    inner_link_note,
    is_hidden,
    leaves,
    outside_reason,
)
from ingest.printable import printable
from ingest.records import Article, FileReport, IngestReport, Problem, article_id

log = logging.getLogger(__name__)

STATUTE_SUFFIXES = (".md", ".markdown", ".docx", ".pdf", ".txt")
# Files of the LawRefBook tree and of this project's corpus folder that are not statutes.
SKIP_NAMES = frozenset(
    {"_index.md", "README.md", "CURATED_LIST.txt", "SOURCES.md", "LICENSE", "LICENSE.txt"}
)
# LawRefBook keeps its typical cases beside the statutes; case ingest reads them.
SKIP_DIRS = frozenset({"案例"})
_UNSUPPORTED = {".doc": "旧版 Word (.doc)", ".wps": "WPS 文档", ".rtf": "RTF 文档"}


@dataclass(frozen=True)
class LawDocument:
    """One version of one law as ingested (several files when a law is split, as 民法典 is)."""

    law: str  # normalised short name
    law_title: str
    version: str  # YYYY-MM-DD from the file name or metadata, "" when unknown
    status: str
    level: str
    category: str = ""
    publish: str = ""
    valid_from: str = ""
    current: bool = True
    sources: tuple[str, ...] = ()
    articles: int = 0
    appendix: bool = False
    id_prefix: str = ""  # "民法典" for the current version, "公司法@2018-10-26" for others


@dataclass(frozen=True)
class Changes:
    """What differs from the previous run that used the same cache_dir.

    Documents are named by source file; articles by Article.id. An article is
    "changed" when its text, path, label or status changed. ``first_run`` is
    True when no previous state was found (then everything counts as added).
    """

    added_documents: tuple[str, ...] = ()
    changed_documents: tuple[str, ...] = ()
    removed_documents: tuple[str, ...] = ()
    added_articles: tuple[str, ...] = ()
    changed_articles: tuple[str, ...] = ()
    removed_articles: tuple[str, ...] = ()
    reparsed: int = 0  # files parsed this run (cache misses)
    reused: int = 0  # files taken from the parse cache
    first_run: bool = True

    def summary(self) -> str:
        """One Chinese line: what this run added, changed and removed, and how much it re-parsed."""
        if self.first_run:
            return (
                f"首次读取：{len(self.added_documents)} 个文件，{len(self.added_articles)} 条法条"
            )
        return (
            f"与上次相比：文件 新增 {len(self.added_documents)}、改动 {len(self.changed_documents)}、"
            f"删除 {len(self.removed_documents)}；法条 新增 {len(self.added_articles)}、"
            f"改动 {len(self.changed_articles)}、删除 {len(self.removed_articles)}"
            f"（重新解析 {self.reparsed} 个文件，复用缓存 {self.reused} 个）"
        )


@dataclass(frozen=True)
class StatuteLoad:
    articles: list[Article]
    report: IngestReport
    changes: Changes
    documents: list[LawDocument] = field(default_factory=list)


# ---------------------------------------------------------------------------
# parsing one file


def parse_bytes(data: bytes, source: str, suffix: str) -> RawDocument:
    """Dispatch on the file suffix to the right reader."""
    suffix = suffix.lower()
    if suffix in (".md", ".markdown"):
        from ingest.lawrefbook import parse_markdown_bytes

        return parse_markdown_bytes(data, source)
    if suffix == ".docx":
        from ingest.formats.docx import parse_docx

        return parse_docx(data, source)
    if suffix == ".pdf":
        from ingest.formats.pdf import parse_pdf

        return parse_pdf(data, source)
    if suffix == ".txt":
        from ingest.formats.txt import parse_txt

        return parse_txt(data, source)
    raise ValueError(f"unsupported suffix {suffix}")


def _parse_job(job: tuple[bytes, str, str]) -> tuple:
    """Parse one file; the result as plain tuples, which cross process boundaries fast."""
    data, source, suffix = job
    try:
        return parse_bytes(data, source, suffix).to_row()
    except Exception as exc:  # a reader bug must not stop a build
        log.exception("parser failed on %s", source)
        return RawDocument(
            source,
            suffix.lstrip("."),
            problems=(
                Problem(
                    source,
                    f"解析失败：{type(exc).__name__}: {exc}",
                    "检查文件是否完整，或另存后重试",
                    "parse-error",
                    dropped=True,
                ),
            ),
        ).to_row()


# ---------------------------------------------------------------------------
# walking


def _walk(dirs: Sequence[Path], report: IngestReport) -> list[Path]:
    """Statute files under ``dirs`` in a stable order, each once even if folders overlap.

    Links that lead out of a folder are reported and not followed (a link to
    ``/etc/passwd`` was once read as a statute); hidden names are reported, never
    skipped without a word.
    """
    files: list[Path] = []
    seen: set[str] = set()
    hidden: list[str] = []

    def add(p: Path) -> None:
        # Links are never added by the walk (see below), so no realpath is needed.
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            files.append(p)

    def outside(p: str, root: Path) -> bool:
        target = leaves(p, root)
        if target is not None:
            report.reject(p, outside_reason(target), OUTSIDE_HINT, "outside")
        return target is not None

    for d in dirs:
        d = Path(d)
        if d.is_file():
            add(d)
            continue
        if not d.is_dir():
            report.warn(
                str(d),
                "文件夹不存在，已跳过",
                "检查路径是否写对，或先运行 fengqiao fetch",
                "missing",
            )
            continue
        for root, subdirs, names in os.walk(d):
            keep = []
            for sub in sorted(subdirs):
                full = os.path.join(root, sub)
                if is_hidden(sub):
                    hidden.append(full)
                elif sub not in SKIP_DIRS and not outside(full, d):
                    # os.walk does not descend into a linked folder; one that stays
                    # inside is read at its real place.
                    keep.append(sub)
            subdirs[:] = keep
            for name in sorted(names):
                # "~$x.docx" are Word's lock files next to an open document.
                if name.startswith("~$") or name in SKIP_NAMES:
                    continue
                p = Path(root) / name
                suffix = p.suffix.lower()
                if is_hidden(name):
                    if suffix in STATUTE_SUFFIXES:
                        report.reject(str(p), HIDDEN_REASON, HIDDEN_HINT, "hidden")
                    else:
                        hidden.append(str(p))
                    continue
                if suffix in STATUTE_SUFFIXES:
                    if outside(str(p), d):
                        continue
                    if p.is_symlink():
                        report.note(inner_link_note(p))
                        continue
                    add(p)
                elif suffix in _UNSUPPORTED:
                    report.reject(
                        str(p),
                        f"{_UNSUPPORTED[suffix]}格式不支持，已跳过",
                        "用 Word 或 WPS 另存为 .docx 后重新构建",
                        "unsupported",
                    )
    if hidden:
        report.note(hidden_note(hidden))
    return files


# ---------------------------------------------------------------------------
# cache


def _atomic_write(path: Path, content: str | bytes) -> None:
    """Write via a temp file in the same folder and os.replace, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cache_key(digest: str, source: str) -> str:
    salt = f"{PARSER_VERSION}\0{source}".encode()
    return hashlib.sha256(digest.encode() + salt).hexdigest()


class _ParseCache:
    """Parse results keyed by (content hash, source, parser version), kept in one file.

    One pickle of plain tuples rather than a file per statute: thousands of small
    atomic writes cost more than the parsing they save. Entries not used by a
    run are dropped when it saves, so the file tracks the current folders.
    """

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "statutes" / "parsed.pickle" if cache_dir else None
        self._old: dict[str, tuple] = {}
        self._new: dict[str, tuple] = {}
        if self.path is not None and self.path.is_file():
            try:
                with open(self.path, "rb") as fh:
                    version, rows = pickle.load(fh)
                if version == PARSER_VERSION:
                    self._old = rows
            except Exception as exc:  # a damaged cache only costs a re-parse
                log.info("parse cache unusable (%s); re-parsing", exc)

    def get(self, key: str) -> RawDocument | None:
        row = self._old.get(key)
        if row is None:
            return None
        self._new[key] = row
        return RawDocument.from_row(row)

    def put(self, key: str, doc: RawDocument) -> None:
        self._new[key] = doc.to_row()

    def save(self) -> None:
        if self.path is None or self._new.keys() == self._old.keys():
            return
        _atomic_write(
            self.path, pickle.dumps((PARSER_VERSION, self._new), protocol=pickle.HIGHEST_PROTOCOL)
        )


# ---------------------------------------------------------------------------
# main entry


def load_statutes(
    dirs: Sequence[Path],
    *,
    cache_dir: Path | None = None,
    today: datetime.date | None = None,
    show_progress: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    workers: int | None = None,
) -> StatuteLoad:
    """Read every statute file under ``dirs`` into Article records.

    Args:
        dirs: folders (walked recursively) or single files; a missing one is a problem, not an error.
        cache_dir: where parse results and the previous run's state live; only files
            whose content hash changed are parsed again. None parses everything.
        today: reference date for 尚未施行 (default: today).
        show_progress: show a tqdm bar while parsing.
        max_bytes: files larger than this are skipped with a problem (checked by stat).
        workers: parse processes; default: one per CPU when many files need parsing.

    Returns:
        StatuteLoad with articles in document order, the report, the changes since
        the previous run with this cache_dir, and one LawDocument per law version.
    """
    today = today or datetime.date.today()
    report = IngestReport()
    files = _walk(dirs, report)

    contents: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for path in files:
        data = _read(path, max_bytes, report)
        if data is not None:
            contents[str(path)] = data
            hashes[str(path)] = hashlib.sha256(data).hexdigest()

    inputs = _inputs_key(dirs, files, hashes, report, today)
    snapshot = _Snapshot(Path(cache_dir) if cache_dir else None)
    done = snapshot.load(inputs)
    if done is not None:
        articles, documents, problems, notes, reads = done
        report.problems.extend(problems)
        report.notes.extend(notes)
        report.documents, report.articles = len(documents), len(articles)
        report.files = _file_reports(files, reads, articles, report.problems)
        changes = Changes(reused=len(hashes), first_run=False)
        return StatuteLoad(articles=articles, report=report, changes=changes, documents=documents)

    cache = _ParseCache(Path(cache_dir) if cache_dir else None)
    parsed: dict[str, RawDocument] = {}
    todo: list[tuple[bytes, str, str]] = []
    todo_keys: dict[str, str] = {}
    for source, digest in hashes.items():
        key = _cache_key(digest, source)
        doc = cache.get(key)
        if doc is not None:
            parsed[source] = doc
        else:
            todo.append((contents[source], source, Path(source).suffix))
            todo_keys[source] = key
    contents.clear()

    for doc in _parse_all(todo, show_progress=show_progress, workers=workers):
        parsed[doc.source] = doc
        cache.put(todo_keys[doc.source], doc)

    walk_problems = len(report.problems)
    raws = [parsed[str(p)] for p in files if str(p) in parsed]
    documents, articles = _assemble(raws, report, today, tuple(Path(d) for d in dirs))
    report.documents = len(documents)
    report.articles = len(articles)
    changes = _changes(
        cache_dir, hashes, articles, reparsed=len(todo), reused=len(parsed) - len(todo)
    )
    reads = {src: (doc.format, doc.read) for src, doc in parsed.items()}
    report.files = _file_reports(files, reads, articles, report.problems)
    cache.save()
    snapshot.save(inputs, articles, documents, report.problems[walk_problems:], report.notes, reads)
    return StatuteLoad(articles=articles, report=report, changes=changes, documents=documents)


def _read(path: Path, max_bytes: int, report: IngestReport) -> bytes | None:
    """The file's bytes, or None with a problem (unreadable, too large by stat, empty)."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.reject(
                source,
                f"文件过大（{size / 1024 / 1024:.0f} MB，上限 {max_bytes / 1024 / 1024:.0f} MB），已跳过",
                "确认这是法规文本；如确需收录，请拆分文件或调高上限",
                "too-large",
            )
            return None
        if size == 0:
            report.reject(source, "空文件（0 字节），已跳过", "删除该文件或重新下载", "empty")
            return None
        return path.read_bytes()
    except OSError as exc:
        report.reject(
            source, f"无法读取文件（{exc.strerror}）", "检查文件权限是否允许读取", "unreadable"
        )
        return None


_UNITS = {"docx": "段", "pdf": "页"}


def _file_reports(
    files: list[Path],
    reads: dict[str, tuple[str, int]],
    articles: list[Article],
    problems: list[Problem],
) -> list[FileReport]:
    """One report per statute file read: lines (paragraphs, pages) read, articles taken in, problems."""
    imported = Counter(a.source for a in articles)
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        by_file.setdefault(_file_of(p.where), []).append(p)
    out = []
    for path in files:
        source = str(path)
        fmt, read = reads.get(
            source, (path.suffix.lower().lstrip(".").replace("markdown", "md"), 0)
        )
        fmt = "markdown" if fmt == "md" else fmt
        out.append(
            FileReport.collect(
                source,
                fmt,
                by_file.get(printable(source), []),
                read=read,
                imported=imported.get(source, 0),
                unit=_UNITS.get(fmt, "行"),
                item="条",
            )
        )
    return out


def _file_of(where: str) -> str:
    """The file a problem's ``where`` names: ``a.md:12`` → ``a.md``; ``a.pdf (第3页)`` → ``a.pdf``."""
    if where.endswith(")") and " (第" in where:
        return where.rsplit(" (第", 1)[0]
    head, sep, tail = where.rpartition(":")
    return head if sep and tail.isdigit() else where


def _inputs_key(
    dirs: Sequence[Path],
    files: list[Path],
    hashes: dict[str, str],
    report: IngestReport,
    today: datetime.date,
) -> str:
    """Everything the assembled result depends on: file hashes, metadata databases, date, code version."""
    index = MetadataIndex()
    dbs = sorted({str(found) for f in files if (found := index.find_db(f)) is not None})
    db_state = []
    for db_path in dbs:
        st = os.stat(db_path)
        db_state.append((db_path, st.st_size, st.st_mtime_ns))
    blob = json.dumps(
        [
            PARSER_VERSION,
            _SNAPSHOT_VERSION,
            [str(d) for d in dirs],
            sorted(hashes.items()),
            [str(p) for p in report.problems],
            db_state,
            today.isoformat(),
            _code_version(),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


_SNAPSHOT_VERSION = 2


def _code_version() -> str:
    """Hash of the modules that shape assembled records, so a code change never reuses a stale snapshot."""
    import ingest.metadata
    import ingest.names
    import ingest.records

    return code_digest(
        [*(str(m.__file__) for m in (ingest.metadata, ingest.names, ingest.records)), __file__]
    )


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_DOC_FIELDS = tuple(f.name for f in fields(LawDocument))


class _Snapshot:
    """The assembled result of the last run, reused whole when no input changed.

    Stored as a pickle of plain tuples in the user's own cache folder (written
    only by this module), because rebuilding ~150k records from JSON takes
    longer than the 3 s a no-change rebuild may take.
    """

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "statutes" / "snapshot.pickle" if cache_dir else None

    def load(
        self, key: str
    ) -> (
        tuple[
            list[Article], list[LawDocument], list[Problem], list[str], dict[str, tuple[str, int]]
        ]
        | None
    ):
        if self.path is None or not self.path.is_file():
            return None
        try:
            with open(self.path, "rb") as fh:
                stored_key, rows, docs, problems, notes, reads = pickle.load(fh)
            if stored_key != key:
                return None
            articles = []
            for row in rows:
                # Frozen dataclass __init__ is slow; the rows were made from valid Articles.
                art = object.__new__(Article)
                art.__dict__.update(zip(_ARTICLE_FIELDS, row, strict=True))
                articles.append(art)
            documents = [LawDocument(*d) for d in docs]
            return articles, documents, [Problem(*p) for p in problems], list(notes), dict(reads)
        except Exception as exc:  # a damaged snapshot only costs a full run
            log.info("statute snapshot unusable (%s); rebuilding", exc)
            return None

    def save(
        self,
        key: str,
        articles: list[Article],
        documents: list[LawDocument],
        problems: list[Problem],
        notes: list[str],
        reads: dict[str, tuple[str, int]],
    ) -> None:
        if self.path is None:
            return
        rows = [tuple(a.__dict__[f] for f in _ARTICLE_FIELDS) for a in articles]
        docs = [tuple(getattr(d, f) for f in _DOC_FIELDS) for d in documents]
        probs = [(p.where, p.reason, p.hint, p.kind, p.dropped) for p in problems]
        _atomic_write(
            self.path,
            pickle.dumps(
                (key, rows, docs, probs, list(notes), reads), protocol=pickle.HIGHEST_PROTOCOL
            ),
        )


def _parse_all(
    todo: list[tuple[bytes, str, str]], *, show_progress: bool, workers: int | None
) -> list[RawDocument]:
    if not todo:
        return []
    n = workers if workers is not None else min(os.cpu_count() or 1, 4)
    rows: Iterable[tuple]
    if n > 1 and len(todo) >= 200:
        with ProcessPoolExecutor(max_workers=n) as pool:
            rows = pool.map(_parse_job, todo, chunksize=32)
            return [RawDocument.from_row(r) for r in _progress(rows, len(todo), show_progress)]
    rows = (_parse_job(job) for job in todo)
    return [RawDocument.from_row(r) for r in _progress(rows, len(todo), show_progress)]


def _progress(items: Iterable[tuple], total: int, show: bool) -> Iterable[tuple]:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc="解析法规", unit="件")


# ---------------------------------------------------------------------------
# from parsed files to law versions


@dataclass
class _Version:
    law: str
    law_title: str
    version: str
    meta: LawMeta | None
    level: str
    category: str
    publish: str
    valid_from: str
    says_repealed: bool
    sources: list[str] = field(default_factory=list)
    lines: list[tuple[str, RawArticle]] = field(default_factory=list)
    appendix: bool = False
    parts: bool = False  # made of several files, each one part (民法典)


def _assemble(
    raws: list[RawDocument], report: IngestReport, today: datetime.date, roots: tuple[Path, ...]
) -> tuple[list[LawDocument], list[Article]]:
    meta_index = MetadataIndex()
    # One unit per file, except the parts of a split law (民法典), one unit per folder.
    units: dict[tuple[str, str], _Version] = {}
    for raw in raws:
        report.problems.extend(raw.problems)
        report.notes.extend(raw.notes)
        if raw.skipped:
            report.note(f"{raw.source}: 不是法规正文（{raw.skipped}），已跳过")
            continue
        if not raw.articles:
            if not any(p.kind in FATAL_KINDS for p in raw.problems):
                report.reject(
                    raw.source,
                    "没有识别出任何条文（第X条），未收录",
                    "确认文件是按条文编排的法规；决定、修正案等可忽略此提示",
                    "no-articles",
                )
            continue
        if raw.appendix:
            report.warn(
                raw.source,
                "文件含附件（附件/附表），附件内容未作为条文收录",
                "如需检索附件内容，请把附件另存为单独文件",
                "appendix",
            )
        path = Path(raw.source)
        name, date = split_stem(path.stem)
        title = raw.title or name
        meta = meta_index.match(path, title)
        info_latest, info_valid = header_dates(raw.info)
        law = normalise_law(title)
        # Version: the date in the file name, else the db's 公布日期, else the
        # last 通过/修正 date of the header.
        version = date or (meta.publish if meta else "") or info_latest
        publish = (meta.publish if meta else "") or date or info_latest
        valid_from = (meta.valid_from if meta else "") or info_valid
        key = (law, f"parts:{path.parent}") if raw.part else (law, raw.source)
        v = units.get(key)
        if v is None:
            level, category = meta_index.level_and_category(path, meta, roots)
            v = units[key] = _Version(
                law=law,
                law_title=normalise_title(title),
                version=version,
                meta=meta,
                level=level,
                category=category,
                publish=publish,
                valid_from=valid_from,
                says_repealed=says_repealed(raw.title, raw.info),
            )
        else:  # another part: the whole is as new as its newest part
            v.version, v.publish = max(v.version, version), max(v.publish, publish)
            v.valid_from = max(v.valid_from, valid_from)
        v.sources.append(raw.source)
        v.parts = v.parts or bool(raw.part)
        v.appendix = v.appendix or raw.appendix
        v.lines.extend((raw.source, a) for a in raw.articles)

    versions: dict[tuple[str, str], _Version] = {}
    for v in units.values():
        first = versions.setdefault((v.law, v.version), v)
        if first is not v:
            report.reject(
                v.sources[0],
                f"与 {first.sources[0]} 是同一法规的同一版本（{v.law} {v.version or '未注明日期'}），已跳过",
                "删除重复的文件，或在文件名中注明不同的版本日期",
                "duplicate-file",
            )

    by_law: dict[str, list[_Version]] = {}
    for v in versions.values():
        by_law.setdefault(v.law, []).append(v)

    documents: list[LawDocument] = []
    articles: list[Article] = []
    for law, vs in by_law.items():
        vs.sort(key=lambda v: v.version)
        facts = [
            VersionFacts(v.version, v.valid_from, bool(v.meta and v.meta.expired), v.says_repealed)
            for v in vs
        ]
        head_idx, statuses = version_statuses(law, facts, today)
        for idx, v in enumerate(vs):
            status = statuses[idx]
            is_head = idx == head_idx
            current = is_head and status != "已废止"
            tag = "" if is_head else (v.version or f"未注明日期{idx + 1}")
            prefix = f"{law}@{tag}" if tag else law
            arts = _version_articles(v, tag, status, current, report)
            articles.extend(arts)
            documents.append(
                LawDocument(
                    law=law,
                    law_title=v.law_title,
                    version=v.version,
                    status=status,
                    level=v.level,
                    category=v.category,
                    publish=v.publish,
                    valid_from=v.valid_from,
                    current=current,
                    sources=tuple(v.sources),
                    articles=len(arts),
                    appendix=v.appendix,
                    id_prefix=prefix,
                )
            )
    return documents, articles


def normalise_title(title: str) -> str:
    """Full title as printed, with half-width brackets made full-width and no stray spaces."""
    return re.sub(r"[ \u3000]+", "", title.replace("(", "（").replace(")", "）"))


def _version_articles(
    v: _Version, tag: str, status: str, current: bool, report: IngestReport
) -> list[Article]:
    lines = v.lines
    if len(v.sources) > 1:
        # A law split over several files (民法典): one numbering across them.
        lines = sorted(lines, key=lambda sa: (sa[1].number, suffix_rank(sa[1].suffix)))
    seen: dict[tuple[int, str], str] = {}
    out: list[Article] = []
    for source, a in lines:
        k = (a.number, a.suffix)
        if k in seen:
            report.reject(
                f"{source}:{a.line}",
                f"《{v.law_title}》{a.label}与 {seen[k]} 中的同号条文重复，后者未收录",
                "同一法规的同一版本只保留一份文件",
                "duplicate",
            )
            continue
        seen[k] = source
        out.append(
            Article(
                id=article_id(v.law, a.number, a.suffix, tag),
                law=v.law,
                law_title=v.law_title,
                number=a.number,
                suffix=a.suffix,
                label=a.label,
                text=a.text,
                path=a.path,
                source=source,
                line=a.line,
                status=status,
                level=v.level or USER_LEVEL,
                category=v.category,
                publish=v.publish,
                valid_from=v.valid_from,
                version=v.version,
                current=current,
            )
        )
    return out


# ---------------------------------------------------------------------------
# changes since the previous run


def _changes(
    cache_dir: Path | None,
    hashes: dict[str, str],
    articles: list[Article],
    *,
    reparsed: int,
    reused: int,
) -> Changes:
    fingerprints = {
        a.id: hashlib.sha1(
            f"{a.label}\0{a.text}\0{'/'.join(a.path)}\0{a.status}\0{a.current}".encode()
        ).hexdigest()[:16]
        for a in articles
    }
    if cache_dir is None:
        return Changes(
            added_documents=tuple(hashes),
            added_articles=tuple(fingerprints),
            reparsed=reparsed,
            reused=reused,
        )
    state_path = Path(cache_dir) / "statutes" / "state.json"
    try:
        prev = json.loads(state_path.read_text("utf-8"))
        old_files: dict[str, str] = prev["files"]
        old_arts: dict[str, str] = prev["articles"]
        first = False
    except (OSError, ValueError, KeyError):
        old_files, old_arts, first = {}, {}, True
    changes = Changes(
        added_documents=tuple(s for s in hashes if s not in old_files),
        changed_documents=tuple(
            s for s, h in hashes.items() if s in old_files and old_files[s] != h
        ),
        removed_documents=tuple(s for s in old_files if s not in hashes),
        added_articles=tuple(i for i in fingerprints if i not in old_arts),
        changed_articles=tuple(
            i for i, f in fingerprints.items() if i in old_arts and old_arts[i] != f
        ),
        removed_articles=tuple(i for i in old_arts if i not in fingerprints),
        reparsed=reparsed,
        reused=reused,
        first_run=first,
    )
    _atomic_write(
        state_path, json.dumps({"files": hashes, "articles": fingerprints}, ensure_ascii=False)
    )
    return changes
