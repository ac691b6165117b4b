"""Copy a built index folder's units into any unit store: rows, vectors and keyword tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from retrieval.store import UnitRow, UnitStore

if TYPE_CHECKING:
    from retrieval.kb import KnowledgeBase


@dataclass(frozen=True)
class CorpusUnits:
    """One corpus's units as a store takes them, in index order."""

    rows: tuple[UnitRow, ...]
    vectors: np.ndarray  # (units, dim), L2-normalised
    tokens: tuple[tuple[str, ...], ...]  # keyword tokens, as the BM25 index saw them


def corpus_units(kb: KnowledgeBase, corpus: Literal["articles", "cases"]) -> CorpusUnits:
    """The units of ``kb``'s articles or cases with their records' filter fields."""
    rows: list[UnitRow] = []
    if corpus == "articles":
        units, vectors = kb.article_units, kb.a_dense.vectors
        for u in units:
            a = kb.articles[u.parent]
            rows.append(UnitRow(u.id, u.parent, a.law, a.level, a.status, a.current))
    else:
        units, vectors = kb.case_units, kb.c_dense.vectors
        for u in units:
            c = kb.cases[u.parent]
            rows.append(
                UnitRow(
                    u.id,
                    u.parent,
                    dispute_type=c.dispute_type,
                    kind=c.kind,
                    region=c.region,
                    date=c.date,
                    source=c.source,
                )
            )
    tokens = tuple(tuple(t) for t in kb.tokenizer.tokenize_many(u.keywords for u in units))
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
