"""Keyword retrieval: a bm25s index over jieba tokens, scoring every unit of a corpus."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _bm25s():  # type: ignore[no-untyped-def]
    """bm25s, imported once; it sets its own logger to DEBUG on import, which would print
    "Building index from tokens" into every build's output: back to warnings only."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class BM25Index:
    """BM25 (Lucene variant) over pre-tokenised documents.

    Defaults k1=1.2, b=0.75 are the usual Lucene ones (Robertson & Zaragoza 2009).
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._bm25 = _bm25s().BM25(k1=k1, b=b, method="lucene")
        self.size = 0

    def index(self, docs: Sequence[Sequence[str]]) -> BM25Index:
        self.size = len(docs)
        if docs:  # bm25s cannot index an empty corpus; an empty document still gets a row
            self._bm25.index([list(d) or [""] for d in docs], show_progress=False)
        return self

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query ``tokens`` (0 where nothing matches)."""
        if not self.size:
            return np.zeros(0, np.float32)
        toks = [t for t in tokens if t in self._bm25.vocab_dict]
        if not toks:
            return np.zeros(self.size, np.float32)
        return np.asarray(self._bm25.get_scores(toks), np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> BM25Index:
        if not size:
            return cls()
        obj = cls.__new__(cls)
        obj._bm25 = _bm25s().BM25.load(str(folder), show_progress=False)
        obj.k1, obj.b = obj._bm25.k1, obj._bm25.b
        obj.size = size
        return obj
