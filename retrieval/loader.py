"""Loading a knowledge base: the index folder read once, its units searched by a store factory.

``Service.load(kb, stores=…)`` is the one way a knowledge base is loaded, whatever serves
its unit searches: ``flat_stores`` (the folder's own FAISS and bm25s files, the default)
or ``store_factory("milvus://…")`` (a Milvus server or milvus-lite file, filled from the
folder when needed). Records, catalogue and tokenizer always come from the folder, and
every backend runs with the same thread settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Article, Case
from retrieval.bm25 import BM25Index
from retrieval.catalogue import Catalogue
from retrieval.clauses import ClauseVectors
from retrieval.corpus import CaseCorpus, Corpus, article_rows, case_rows
from retrieval.encoders.embedder import Embedder, load_embedder
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
from retrieval.store import UnitRow, UnitStore
from retrieval.stores.fill import FLAT, STORE_ENV, Progress, ensure_filled, store_uri
from retrieval.stores.flat import FlatStore
from retrieval.tokenizer import JiebaTokenizer
from retrieval.units import Unit, article_units, case_units, clause_units

StoreFactory = Callable[[Path, dict[str, Any], Records, JiebaTokenizer], Mapping[str, UnitStore]]
"""``(kb_dir, manifest, records, tokenizer) → {"articles": store, "cases": store}``."""


@dataclass(frozen=True)
class Loaded:
    """What a service is made of, read from one index folder."""

    articles: Corpus[Article]
    cases: CaseCorpus
    catalogue: Catalogue
    tokenizer: JiebaTokenizer
    embedder: Embedder
    manifest: dict[str, Any]


def read_index(
    kb_dir: Path, embedder: Embedder | None
) -> tuple[IndexFolder, dict[str, Any], Embedder, Records, JiebaTokenizer]:
    """The checked manifest, the embedder it was built with (loaded when not given; KBError
    on a mismatch), the records and the keyword tokenizer of ``kb_dir``'s index."""
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


def flat_stores(
    kb_dir: Path, manifest: dict[str, Any], records: Records, tokenizer: JiebaTokenizer
) -> dict[str, UnitStore]:
    """The index folder's own FAISS and bm25s files (the default store)."""
    folder = IndexFolder.of(kb_dir)
    return {
        kind: FlatStore.load(
            kind,  # type: ignore[arg-type]
            folder.file(vector_file),
            folder.file(bm25_file),
            rows(recs, units),  # type: ignore[arg-type]
            tokenize=tokenizer,
            texts=[u.keywords for u in units],
        )
        for kind, vector_file, bm25_file, rows, recs, units in (
            ("articles", ARTICLE_VECTORS, ARTICLE_BM25, article_rows, records.articles, records.article_units),
            ("cases", CASE_VECTORS, CASE_BM25, case_rows, records.cases, records.case_units),
        )
    }  # fmt: skip


def store_factory(store: str | None = None, *, progress: Progress | None = None) -> StoreFactory:
    """The factory of the store named by ``--store`` (``store_uri`` forms; None reads env
    ``FENGQIAO_STORE``, else ``flat``). A Milvus store is filled from the folder when it
    is empty or holds another build.

    Raises:
        KBError: an unknown store (at once); Milvus unreachable (when loading).
    """
    uri = store_uri(store if store is not None else os.environ.get(STORE_ENV))
    if uri == FLAT:
        return flat_stores

    def milvus(
        kb_dir: Path, manifest: dict[str, Any], records: Records, tokenizer: JiebaTokenizer
    ) -> Mapping[str, UnitStore]:
        from retrieval.stores.milvus import open_stores

        model = manifest.get("model", {})
        stores = open_stores(uri, dim=int(model.get("dim", 0)), model_key=str(model.get("key", "")))
        try:
            ensure_filled(stores, kb_dir, progress=progress)
        except BaseException:
            with contextlib.suppress(Exception):
                stores["articles"].close()  # the two share one connection
            raise
        return stores

    return milvus


def load(
    kb_dir: Path, stores: StoreFactory = flat_stores, *, embedder: Embedder | None = None
) -> Loaded:
    """Read ``kb_dir``'s index and open its stores; KBError (message + hint) when missing or
    built with another model."""
    folder, manifest, embedder, records, tokenizer = read_index(Path(kb_dir), embedder)
    opened = stores(Path(kb_dir), manifest, records, tokenizer)
    tokenizer("预热")  # load jieba's dictionary now, not in the first query
    one_blas_thread()
    return Loaded(
        Corpus(
            records.articles,
            records.article_units,
            opened["articles"],
            ClauseVectors.load(folder.path),
        ),
        CaseCorpus(records.cases, records.case_units, opened["cases"]),
        Catalogue(records.articles),
        tokenizer,
        embedder,
        manifest,
    )


def from_records(
    articles: Sequence[Article],
    cases: Sequence[Case],
    embedder: Embedder,
    *,
    tokenizer: JiebaTokenizer | None = None,
) -> Loaded:
    """Records held in memory, embedded and indexed now (no index folder): tests, scripts."""
    tok = tokenizer or JiebaTokenizer().with_words(sorted({a.law for a in articles}))
    a_units, c_units = article_units(articles, embedder.count_tokens), case_units(cases)

    def flat(kind: str, rows: list[UnitRow], units: list[Unit]) -> FlatStore:
        texts = [u.text for u in units]
        return FlatStore(
            kind,  # type: ignore[arg-type]
            embedder.dim,
            rows,
            embedder.encode_passages(texts) if texts else np.zeros((0, embedder.dim), np.float32),
            BM25Index().index(tok.tokenize_many(u.keywords for u in units)),
            tokenize=tok,
            texts=[u.keywords for u in units],
        )

    clauses = clause_units(articles)
    clause_vectors = ClauseVectors(
        clauses,
        embedder.encode_passages([u.text for u in clauses])
        if clauses
        else np.zeros((0, embedder.dim), np.float32),
    )
    return Loaded(
        Corpus(
            list(articles),
            a_units,
            flat("articles", article_rows(articles, a_units), a_units),
            clause_vectors,
        ),
        CaseCorpus(list(cases), c_units, flat("cases", case_rows(cases, c_units), c_units)),
        Catalogue(articles),
        tok,
        embedder,
        {},
    )


def one_blas_thread() -> None:
    """Score with one BLAS thread: a query's matrix-vector product takes a few ms on one
    core, while OpenBLAS's spinning workers slowed the query encoder's threads
    (national knowledge base: 60 ms per question instead of 97 ms with two of each)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
