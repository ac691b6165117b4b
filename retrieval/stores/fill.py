"""Copy a built index folder's units into any unit store, and serve a knowledge base from stores."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval.catalogue import Catalogue
from retrieval.config import DEFAULT_CONFIG, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus, article_rows, case_rows
from retrieval.dense import DenseIndex
from retrieval.embedder import Embedder, load_embedder
from retrieval.index_folder import (
    ARTICLE_VECTORS,
    CASE_VECTORS,
    TOKENIZER,
    IndexFolder,
    check_model,
)
from retrieval.service import Service
from retrieval.store import UnitRow, UnitStore
from retrieval.tokenizer import JiebaTokenizer

CorpusKind = Literal["articles", "cases"]


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


def load_service(
    kb_dir: Path,
    stores: Mapping[str, UnitStore],
    *,
    embedder: Embedder | None = None,
    config: SearchConfig = DEFAULT_CONFIG,
) -> Service:
    """``Service.load`` with the corpora searched by ``stores`` (``{"articles": …, "cases": …}``)
    instead of the folder's FAISS and bm25s files; records, catalogue and tokenizer still
    come from the index folder. What ``fengqiao … --store milvus://…`` needs from the service."""
    folder = IndexFolder.of(Path(kb_dir))
    manifest = folder.check()
    if embedder is None:
        embedder = load_embedder(manifest.get("model", {}).get("name"))
    check_model(folder.path, manifest, embedder.name, embedder.key, embedder.dim)
    records = folder.read_records()
    tokenizer = JiebaTokenizer.load(folder.file(TOKENIZER))
    service = Service(
        Corpus(records.articles, records.article_units, stores["articles"]),
        CaseCorpus(records.cases, records.case_units, stores["cases"]),
        Catalogue(records.articles),
        tokenizer,
        embedder,
        kb_dir=None,  # the committee's precedents file belongs to the folder's own service
        manifest=manifest,
        config=config,
    )
    tokenizer("预热")
    return service
