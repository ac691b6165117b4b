"""Today's ``KnowledgeBase`` searched through unit stores: its score arrays come from a store.

A stop-gap until ``Searcher`` takes stores (the service-layer issue): ``through_stores``
replaces a loaded knowledge base's dense and BM25 indexes by adapters that ask a store
for its best unit per record and spread those scores back over the unit array, so the
unchanged ``Searcher`` and ``evaluate`` run on any backend. Filters are still applied by
the knowledge base's masks, which is why the adapters search without filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.hits import Filters
from retrieval.store import UnitStore

if TYPE_CHECKING:
    from retrieval.kb import KnowledgeBase
    from retrieval.units import Unit

_ALL = Filters(statuses=(), current_only=False)


class StoreScores:
    """Stands in for ``DenseIndex``/``BM25Index``: ``scores(query)`` over every unit."""

    def __init__(self, store: UnitStore, units: Sequence[Unit], keyword: bool, depth: int) -> None:
        self.store = store
        self.position = {u.id: i for i, u in enumerate(units)}
        self.keyword = keyword
        self.depth = depth
        self.size = len(units)

    def scores(self, query: Any) -> np.ndarray:
        # a record's other units get the lowest score, so its best unit decides, as before
        out = np.full(self.size, 0.0 if self.keyword else -np.inf, np.float32)
        if self.keyword:
            hits = self.store.keyword(list(query), _ALL, self.depth)
        else:
            hits = self.store.dense(np.asarray(query, np.float32), _ALL, self.depth)
        for h in hits:
            out[self.position[h.unit]] = h.score
        return out


def through_stores(
    kb: KnowledgeBase, articles: UnitStore, cases: UnitStore, *, depth: int = 1000
) -> KnowledgeBase:
    """``kb`` with its four indexes answered by ``articles`` and ``cases`` (changed in place).

    ``depth`` records per run are fetched; it must exceed the Searcher's run depth (300)
    plus the records its masks remove.
    """
    kb.a_dense = StoreScores(articles, kb.article_units, False, depth)  # type: ignore[assignment]
    kb.a_bm25 = StoreScores(articles, kb.article_units, True, depth)  # type: ignore[assignment]
    kb.c_dense = StoreScores(cases, kb.case_units, False, depth)  # type: ignore[assignment]
    kb.c_bm25 = StoreScores(cases, kb.case_units, True, depth)  # type: ignore[assignment]
    return kb
