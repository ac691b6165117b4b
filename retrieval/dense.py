"""Semantic retrieval: unit vectors in a FAISS inner-product index, scored exactly."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    """Exact inner-product (cosine on normalised vectors) search over a FAISS flat index.

    The flat index keeps scores exact, so filters can be applied to the full score
    vector without losing results; 59k × 384 floats score in a few milliseconds.
    """

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dim = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    @property
    def size(self) -> int:
        return int(self.vectors.shape[0])

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every unit with ``query`` (shape (dim,))."""
        if not self.size:
            return np.zeros(0, np.float32)
        return self.vectors @ np.asarray(query, np.float32).reshape(-1)

    def save(self, path: Path) -> None:
        index = faiss.IndexFlatIP(self.dim)
        if self.size:
            index.add(self.vectors)
        faiss.write_index(index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        index = faiss.read_index(str(path))
        vecs = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d))
        obj = cls(np.asarray(vecs, np.float32).reshape(index.ntotal, index.d))
        obj.dim = index.d
        return obj
