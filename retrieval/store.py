"""Where a corpus's units live and how they are searched: the backend protocol and its rows.

A knowledge base has two corpora, articles and cases. Each corpus keeps its records
(``Article``/``Case``) in Python and its searchable units (an article, a 款-chunk of a long
article, a case section) in a *unit store*: vectors for semantic search, tokens for keyword
search, and the record fields the filters use, copied onto every unit so that filtering
happens inside the engine. ``Searcher`` talks to stores only through this protocol, so the
embedded FAISS + bm25s files and a Milvus server answer the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from retrieval.hits import Filters


@dataclass(frozen=True)
class UnitRow:
    """One searchable unit as a store keeps it: its ids and its record's filter fields.

    Article fields (``law``, ``level``, ``status``, ``current``) are empty for cases and
    case fields (``dispute_type``, ``kind``, ``region``, ``date``, ``source``) empty for
    articles. ``source`` is the case's source key (``lawbench-3-8``, ``lawyer-llama``,
    ``lawrefbook``, a committee file …), used to leave a query set's own cases out.
    """

    unit: str  # unit id: 民法典:1079, 民法典:1079#2, lawbench-3-8-0001#问题
    parent: str  # the record's id
    law: str = ""
    level: str = ""
    status: str = ""
    current: bool = True
    dispute_type: str = ""
    kind: str = ""
    region: str = ""
    date: str = ""
    source: str = ""


@dataclass(frozen=True)
class Scored:
    """A record's score in one run: the best score of any of its allowed units, and that unit."""

    parent: str
    score: float
    unit: str


@runtime_checkable
class UnitStore(Protocol):
    """The units of one corpus, searchable by vector and by keywords, filtered in the engine.

    Scores are per record: a record with several units counts once, with its best unit.
    ``dense`` returns the ``depth`` best records by cosine (vectors are L2-normalised);
    ``keyword`` the ``depth`` best by BM25 over the unit tokens, positive scores only.
    Both honour every field of ``flt`` that applies to the corpus.

    Ties (equal scores) are broken by write order, then record id, so results are
    deterministic: records written by an earlier ``upsert`` call come first, and within
    one call in the order given. A bulk load in index order therefore reproduces the
    index's order on every backend. Re-writing a record may move it behind records with
    equal scores (a server store stamps each write; the flat store keeps its position).

    A store may hold a backend (a server connection, a locked milvus-lite file, memory):
    ``close()`` releases it; the store is not used afterwards. Failed writes raise
    ``retrieval.errors.StoreWriteError`` naming the unit ids not stored; a wrong vector
    dimension is a ``KBError``.
    """

    def __len__(self) -> int:
        """Number of units held."""
        ...

    def upsert(
        self, rows: Sequence[UnitRow], vectors: np.ndarray, tokens: Sequence[Sequence[str]]
    ) -> None:
        """Insert or replace units (by ``UnitRow.unit``); the records' other units stay."""
        ...

    def delete(self, parents: Sequence[str]) -> None:
        """Remove every unit of the given records (unknown ids are ignored)."""
        ...

    def dense(self, query: np.ndarray, flt: Filters, depth: int) -> list[Scored]:
        """The ``depth`` records whose best allowed unit is closest to ``query``, best first."""
        ...

    def keyword(self, tokens: Sequence[str], flt: Filters, depth: int) -> list[Scored]:
        """The ``depth`` records whose best allowed unit has the highest BM25 score (> 0)."""
        ...

    def dense_of(self, query: np.ndarray, parents: Sequence[str]) -> dict[str, Scored]:
        """Best unit and cosine of each given record (no filters): which section matched."""
        ...

    def close(self) -> None:
        """Release the backend (connection, file lock); nothing is lost (writes are durable)."""
        ...
