"""Clause vectors: one per paragraph or item of a multi-paragraph article (issue 19).

A lay question is usually about one item of an article (劳动合同法第三十八条 lists six
ways an employer lets a worker quit with compensation); the article's own vector
averages all of them. ``lift`` lets a candidate article's semantic score be its best
clause's cosine when that is higher, as the store already scores a long article by its
best 款-chunk. Measured leave-source-out in ``bench/clause_units.py`` (docs/quality.md).

The vectors live beside the index (``article_clauses.npy`` and the units in
``article_clauses.jsonl``), searched here by one matrix-vector product whatever the
store: the keyword index and the store's rows stay the article units'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ingest.atomic import write_bytes, write_text
from retrieval.units import Unit

CLAUSE_VECTORS = "article_clauses.npy"
CLAUSE_UNITS = "article_clauses.jsonl"
CLAUSES_VERSION = "款项-1"
"""How clause units are cut (``retrieval.units.clause_units``); part of the build's
checksum, so an index built before them, or cut another way, is rebuilt."""


class ClauseVectors:
    """The clause units of a knowledge base's articles and their passage vectors.

    Args:
        units: clause units (``retrieval.units.clause_units``), in any order.
        vectors: one L2-normalised passage vector per unit, same order.
    """

    def __init__(self, units: Sequence[Unit], vectors: np.ndarray) -> None:
        if len(units) != len(vectors):
            raise ValueError(f"{len(units)} clause units but {len(vectors)} vectors")
        order = sorted(range(len(units)), key=lambda i: units[i].parent)  # stable
        if order == list(range(len(units))):  # as saved: no copy of the vectors
            self.units, self.vectors = list(units), np.asarray(vectors, np.float32)
        else:
            self.units = [units[i] for i in order]
            self.vectors = np.ascontiguousarray(np.asarray(vectors, np.float32)[order])
        self.parents: list[str] = []
        starts: list[int] = []
        for i, u in enumerate(self.units):
            if not self.parents or self.parents[-1] != u.parent:
                self.parents.append(u.parent)
                starts.append(i)
        self._starts = np.array(starts, np.int64)
        self._ends = np.array([*starts[1:], len(self.units)], np.int64)
        self._index = {p: i for i, p in enumerate(self.parents)}

    def __len__(self) -> int:
        return len(self.units)

    def best(self, query: np.ndarray, parents: Iterable[str]) -> dict[str, float]:
        """The best clause cosine to ``query`` of each of ``parents`` that has clauses
        (only their rows are read)."""
        idx = np.fromiter((self._index.get(p, -1) for p in parents), np.int64)
        idx = idx[idx >= 0]
        if not len(idx):
            return {}
        q = np.asarray(query, np.float32).reshape(-1)
        starts = self._starts[idx]
        counts = self._ends[idx] - starts
        offsets = np.cumsum(counts) - counts
        # every row of the chosen parents, in one gather: parent k's rows are
        # starts[k] .. starts[k] + counts[k]
        rows = np.arange(int(counts.sum())) - np.repeat(offsets - starts, counts)
        best = np.maximum.reduceat(self.vectors[rows] @ q, offsets)
        return dict(zip([self.parents[i] for i in idx.tolist()], best.tolist(), strict=True))

    def lift(
        self,
        semantic: dict[str, float],
        query: np.ndarray,
        candidates: Iterable[str],
        *,
        depth: int,
        margin: float = 0.0,
    ) -> dict[str, float]:
        """The semantic run with each candidate scored by the better of its own units'
        cosine and its best clause's (less ``margin``), the ``depth`` best kept as the
        store keeps them.

        ``candidates`` are the first stage's articles (its semantic and keyword runs,
        already filtered): a second stage over them reads a few hundred clause rows,
        where scanning every clause would cost a national knowledge base milliseconds
        per question for the same ranking (bench/clause_units.py: within 0.002).
        """
        out = dict(semantic)
        for parent, cos in self.best(query, candidates).items():
            score = cos - margin
            if score > out.get(parent, -np.inf):
                out[parent] = score
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:depth])

    # ---- files ---------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write both files into ``folder`` (a new index folder, renamed into place whole)."""
        import io

        buf = io.BytesIO()
        np.save(buf, self.vectors)
        write_bytes(folder / CLAUSE_VECTORS, buf.getvalue())
        write_text(
            folder / CLAUSE_UNITS,
            "".join(json.dumps(u.to_dict(), ensure_ascii=False) + "\n" for u in self.units),
        )

    @classmethod
    def load(cls, folder: Path) -> ClauseVectors | None:
        """The folder's clause vectors; None for an index built before they existed."""
        vec_file, unit_file = folder / CLAUSE_VECTORS, folder / CLAUSE_UNITS
        if not (vec_file.exists() and unit_file.exists()):
            return None
        with unit_file.open(encoding="utf-8") as f:
            units = [Unit.from_dict(json.loads(line)) for line in f if line.strip()]
        # memory-mapped: a question reads only its candidates' rows
        return cls(units, np.load(vec_file, mmap_mode="r"))
