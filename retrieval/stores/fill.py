"""Copy a built index folder's units into any unit store, and name the store ``--store`` means.

``flat`` is the index folder's own FAISS + bm25s files; a Milvus URI names the knowledge
base's two collections there, filled from the folder when they are empty or hold another
build of it (``ensure_filled``). ``retrieval.loader.store_factory`` serves a knowledge
base from either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from retrieval.corpus import article_rows, case_rows
from retrieval.dense import DenseIndex
from retrieval.errors import KBError
from retrieval.index_folder import (
    ARTICLE_VECTORS,
    CASE_VECTORS,
    TOKENIZER,
    IndexFolder,
)
from retrieval.store import UnitRow, UnitStore
from retrieval.tokenizer import JiebaTokenizer

log = logging.getLogger(__name__)

CorpusKind = Literal["articles", "cases"]
CORPORA: tuple[CorpusKind, ...] = ("articles", "cases")
FLAT = "flat"
STORE_ENV = "FENGQIAO_STORE"
"""Environment variable naming the store (``fengqiao serve --store`` hands it to the web app)."""
Progress = Callable[[str, int, int], None]  # (corpus, units written, units in all)


@dataclass(frozen=True)
class CorpusUnits:
    """One corpus's units as a store takes them, in index order."""

    rows: tuple[UnitRow, ...]
    vectors: np.ndarray  # (units, dim), L2-normalised
    tokens: tuple[tuple[str, ...], ...]  # keyword tokens, as the BM25 index saw them


def corpus_units(kb_dir: Path, corpus: CorpusKind) -> CorpusUnits:
    """The units of the index in ``kb_dir`` with their records' filter fields."""
    folder = IndexFolder.of(Path(kb_dir))
    folder.check()
    records = folder.read_records()
    tokenizer = JiebaTokenizer.load(folder.file(TOKENIZER))
    if corpus == "articles":
        units = records.article_units
        rows = article_rows(records.articles, units)
        vectors = DenseIndex.load(folder.file(ARTICLE_VECTORS)).vectors
    else:
        units = records.case_units
        rows = case_rows(records.cases, units)
        vectors = DenseIndex.load(folder.file(CASE_VECTORS)).vectors
    tokens = tuple(tuple(t) for t in tokenizer.tokenize_many(u.keywords for u in units))
    return CorpusUnits(tuple(rows), np.asarray(vectors, np.float32), tokens)


def fill(
    store: UnitStore,
    units: CorpusUnits,
    *,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Upsert ``units`` into ``store`` in batches (idempotent: a rerun after a failure resumes)."""
    n = len(units.rows)
    for start in range(0, n, batch):
        end = min(start + batch, n)
        store.upsert(units.rows[start:end], units.vectors[start:end], units.tokens[start:end])
        if progress:
            progress(end, n)


# ---- --store: which backend serves a knowledge base ----------------------------------------


def store_uri(text: str | None) -> str:
    """The store named by ``--store`` (or env ``FENGQIAO_STORE``) in the form ``open_stores``
    takes: ``flat``; a milvus-lite file (``milvus-lite:///srv/kb.db`` or ``…/kb.db``, made
    absolute); or a server (``milvus://host:19530``, ``milvus+tls://host:443``, ``http(s)://…``).

    Raises:
        KBError: anything else (a one-line message with the forms that work).
    """
    raw = (text or "").strip()
    if raw in ("", FLAT):
        return FLAT
    if raw.startswith(("milvus://", "milvus+tls://", "http://", "https://")):
        if raw.split("://", 1)[1].strip("/"):
            return raw
    else:
        path = raw.removeprefix("milvus-lite://")
        if path.endswith(".db") and Path(path).name != ".db":
            return str(Path(path).expanduser().resolve())
    raise KBError(
        f"无法识别的存储 --store {raw}",
        "写作 flat（默认，知识库文件夹中的索引）、milvus-lite:///路径/名称.db，"
        "或 Milvus 服务器 milvus://主机:19530；令牌只从环境变量 FENGQIAO_MILVUS_TOKEN 读取",
    )


def source_of(kb_dir: Path) -> dict[str, Any]:
    """Which build of which knowledge base a filled store holds (recorded by ``ensure_filled``)."""
    manifest = IndexFolder.of(Path(kb_dir)).manifest()
    corpus = manifest.get("corpus", {})
    return {
        "kb": str(Path(kb_dir).resolve()),
        "created": manifest.get("created", ""),
        "checksum": corpus.get("checksum", ""),
        "article_units": corpus.get("article_units"),
        "case_units": corpus.get("case_units"),
    }


def ensure_filled(
    stores: Mapping[str, Any], kb_dir: Path, *, progress: Progress | None = None
) -> list[str]:
    """Make each Milvus store hold the units of ``kb_dir``'s live index; the corpora filled.

    A store marked as holding this build is left alone (the committee's precedents
    upserted since stay). One that holds anything else (another build after a rebuild,
    another knowledge base, unmarked rows) is emptied and filled again: vectors come from
    the index, nothing is embedded. A fill of this build cut short is resumed, since
    upserts by unit id write no duplicates; the store is marked whole only at the end.
    """
    want = source_of(kb_dir)
    done: list[str] = []
    for corpus in CORPORA:
        store = stores[corpus]
        have = store.filled_from()
        if have == {**want, "complete": True}:
            continue
        if have != {**want, "complete": False} and (have or len(store)):
            log.info("%s holds %s, not %s: refilling", store.name, have or "unmarked rows", want)
            store.clear()
        store.mark_filled({**want, "complete": False})
        hook = (lambda d, n, c=corpus: progress(c, d, n)) if progress else None
        fill(store, corpus_units(kb_dir, corpus), progress=hook)
        store.flush()
        store.mark_filled({**want, "complete": True})
        done.append(corpus)
    return done


def prepare_store(kb_dir: Path, store: str, *, progress: Progress | None = None) -> str:
    """Check that ``store`` is reachable and filled for ``kb_dir``, then let go of it (the web
    server opens it itself); the normalised URI. ``flat`` only checks the index folder."""
    uri = store_uri(store)
    manifest = IndexFolder.of(Path(kb_dir)).check()
    if uri == FLAT:
        return uri
    from retrieval.stores.milvus import open_stores

    model = manifest.get("model", {})
    stores = open_stores(uri, dim=int(model.get("dim", 0)), model_key=str(model.get("key", "")))
    try:
        ensure_filled(stores, kb_dir, progress=progress)
    finally:
        stores["articles"].close()  # milvus-lite: the file is free for the server again
    return uri
