"""The embedded default store: exact FAISS flat vectors, bm25s keyword scores, numpy filter masks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from ingest.names import canonical_law
from retrieval.bm25 import BM25Index
from retrieval.dense import DenseIndex
from retrieval.errors import KBError
from retrieval.hits import Filters
from retrieval.store import Scored, UnitRow

CorpusKind = Literal["articles", "cases"]
_MASKS_KEPT = 64  # leave-one-out evaluation makes one case mask per query


def top_indices(scores: np.ndarray, depth: int, positive: bool = False) -> list[int]:
    """Indices of the ``depth`` best finite scores (and > 0 if ``positive``), ties by index."""
    ok = np.isfinite(scores) & ((scores > 0) if positive else True)
    idx = np.flatnonzero(ok)
    if len(idx) > depth:
        idx = idx[np.argpartition(-scores[idx], depth)[:depth]]
    return sorted(idx.tolist(), key=lambda i: (-scores[i], i))


class FlatStore:
    """Every unit scored exactly: a query is one matrix-vector product and one BM25 pass.

    Exact scores make filters free of recall loss: a mask removes units before the
    per-record maximum, so a filtered search sees the same candidates a full one would.
    A record's units are kept contiguous, so per-record maxima are one ``reduceat``.

    Args:
        corpus: which filter fields apply (``Filters.articles_part`` or ``cases_part``).
        dim: vector dimension.
        tokenize: the keyword tokenizer; needed only to rebuild BM25 after an upsert.
        texts: the keyword text of every unit, in row order (see ``tokenize``).
    """

    def __init__(
        self,
        corpus: CorpusKind,
        dim: int,
        rows: Sequence[UnitRow] = (),
        vectors: np.ndarray | None = None,
        bm25: BM25Index | None = None,
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        texts: Sequence[str] = (),
    ) -> None:
        self.corpus = corpus
        self.dim = dim
        self._tokenize = tokenize
        self._rows = list(rows)
        self._texts = list(texts) if texts else [""] * len(self._rows)
        self._tokens: list[list[str]] | None = None
        vecs = np.zeros((0, dim), np.float32) if vectors is None else vectors
        self._dense = DenseIndex(vecs)
        self._bm25 = bm25 or BM25Index()
        if self._dense.size != len(self._rows) or self._bm25.size not in (0, len(self._rows)):
            raise KBError(
                f"向量数（{self._dense.size}）或关键词索引（{self._bm25.size}）与单元数（{len(self._rows)}）不符",
                "重新运行 fengqiao build",
            )
        self._reindex()

    # ---- persistence -----------------------------------------------------------------

    def save(self, vectors_path: Path, bm25_folder: Path) -> None:
        self._dense.save(vectors_path)
        self._bm25.save(bm25_folder)

    @classmethod
    def load(
        cls,
        corpus: CorpusKind,
        vectors_path: Path,
        bm25_folder: Path,
        rows: Sequence[UnitRow],
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        texts: Sequence[str] = (),
    ) -> FlatStore:
        dense = DenseIndex.load(vectors_path)
        bm25 = BM25Index.load(bm25_folder, len(rows))
        return cls(corpus, dense.dim, rows, dense.vectors, bm25, tokenize=tokenize, texts=texts)

    @classmethod
    def build(
        cls,
        corpus: CorpusKind,
        dim: int,
        rows: Sequence[UnitRow],
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        texts: Sequence[str] = (),
    ) -> FlatStore:
        store = cls(corpus, dim, tokenize=tokenize)
        store.upsert(rows, vectors, tokens, texts=texts)
        return store

    # ---- the UnitStore protocol ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def vectors(self) -> np.ndarray:
        return self._dense.vectors

    def upsert(
        self,
        rows: Sequence[UnitRow],
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        *,
        texts: Sequence[str] = (),
    ) -> None:
        if len(rows) != len(vectors) or len(rows) != len(tokens):
            raise ValueError("rows, vectors and tokens must have the same length")
        if len(rows) and np.asarray(vectors).shape[1] != self.dim:
            raise KBError(
                f"向量维度 {np.asarray(vectors).shape[1]} 与索引的 {self.dim} 维不符",
                "用构建索引时的模型重新运行 fengqiao build",
            )
        all_tokens = self._all_tokens()
        vecs = list(self._dense.vectors)
        texts = list(texts) if texts else [" ".join(t) for t in tokens]
        where = {r.unit: i for i, r in enumerate(self._rows)}
        for row, vec, toks, text in zip(rows, vectors, tokens, texts, strict=True):
            i = where.get(row.unit)
            if i is None:
                where[row.unit] = len(self._rows)
                self._rows.append(row)
                vecs.append(np.asarray(vec, np.float32))
                all_tokens.append(list(toks))
                self._texts.append(text)
            else:
                self._rows[i], vecs[i], all_tokens[i], self._texts[i] = (
                    row,
                    np.asarray(vec, np.float32),
                    list(toks),
                    text,
                )
        self._set(self._rows, vecs, all_tokens, self._texts)

    def delete(self, parents: Sequence[str]) -> None:
        gone = set(parents)
        keep = [i for i, r in enumerate(self._rows) if r.parent not in gone]
        if len(keep) == len(self._rows):
            return
        tokens = self._all_tokens()
        self._set(
            [self._rows[i] for i in keep],
            [self._dense.vectors[i] for i in keep],
            [tokens[i] for i in keep],
            [self._texts[i] for i in keep],
        )

    def dense(self, query: np.ndarray, flt: Filters, depth: int) -> list[Scored]:
        if not self._rows:
            return []
        return self._run(self._dense.scores(query), flt, depth, positive=False)

    def keyword(self, tokens: Sequence[str], flt: Filters, depth: int) -> list[Scored]:
        if not self._rows:
            return []
        return self._run(self._bm25.scores(tokens), flt, depth, positive=True)

    def dense_of(self, query: np.ndarray, parents: Sequence[str]) -> dict[str, Scored]:
        out: dict[str, Scored] = {}
        q = np.asarray(query, np.float32).reshape(-1)
        for parent in parents:
            p = self._parent_index.get(parent)
            if p is None:
                continue
            a, b = int(self._starts[p]), int(self._ends[p])
            s = self._dense.vectors[a:b] @ q
            best = int(np.argmax(s))
            out[parent] = Scored(parent, float(s[best]), self._rows[a + best].unit)
        return out

    # ---- internals -----------------------------------------------------------------------

    def _run(
        self, unit_scores: np.ndarray, flt: Filters, depth: int, positive: bool
    ) -> list[Scored]:
        allowed = self.mask(flt)
        s = np.where(allowed, unit_scores, -np.inf).astype(np.float32)
        per_record = np.maximum.reduceat(s, self._starts)
        out = []
        for p in top_indices(per_record, depth, positive):
            a, b = int(self._starts[p]), int(self._ends[p])
            best = a + int(np.argmax(s[a:b]))
            out.append(Scored(self._parents[p], float(per_record[p]), self._rows[best].unit))
        return out

    def mask(self, flt: Filters) -> np.ndarray:
        """Units allowed by the corpus's part of ``flt`` (cached per distinct filter)."""
        key = flt.articles_part() if self.corpus == "articles" else flt.cases_part()
        found = self._masks.get(key)
        if found is None:
            if len(self._masks) > _MASKS_KEPT:
                self._masks.clear()
            found = self._article_mask(key) if self.corpus == "articles" else self._case_mask(key)
            self._masks[key] = found
        return found

    def _field(self, name: str) -> np.ndarray:
        return self._fields[name]

    def _article_mask(self, f: Filters) -> np.ndarray:
        ok = np.ones(len(self._rows), bool)
        if f.current_only:
            ok &= self._field("current").astype(bool)
        if f.statuses:
            ok &= np.isin(self._field("status"), list(f.statuses))
        if f.laws:
            ok &= np.isin(self._field("law"), sorted({canonical_law(x) for x in f.laws}))
        if f.levels:
            ok &= np.isin(self._field("level"), list(f.levels))
        return ok

    def _case_mask(self, f: Filters) -> np.ndarray:
        ok = np.ones(len(self._rows), bool)
        if f.exclude_case_ids:
            ok &= ~np.isin(self._field("parent"), list(f.exclude_case_ids))
        if f.exclude_case_sources:
            ok &= ~np.isin(self._field("source"), list(f.exclude_case_sources))
        if f.dispute_types:
            ok &= np.isin(self._field("dispute_type"), list(f.dispute_types))
        if f.case_kinds:
            ok &= np.isin(self._field("kind"), list(f.case_kinds))
        if f.date_from or f.date_to:
            dates = self._field("date")
            ok &= np.array(
                [
                    bool(d)
                    and (not f.date_from or d >= f.date_from)
                    and (not f.date_to or d[: len(f.date_to)] <= f.date_to)
                    for d in dates
                ],
                bool,
            )
        return ok

    def _all_tokens(self) -> list[list[str]]:
        if self._tokens is None:
            if self._rows and self._tokenize is None:
                raise KBError("这个索引不能增量更新（缺少分词器）", "重新运行 fengqiao build")
            tok = self._tokenize or (lambda _t: [])
            self._tokens = [tok(t) for t in self._texts]
        return self._tokens

    def _set(
        self,
        rows: list[UnitRow],
        vecs: Sequence[np.ndarray],
        tokens: list[list[str]],
        texts: list[str],
    ) -> None:
        """Adopt new rows: keep each record's units together, rebuild vectors and BM25."""
        first: dict[str, int] = {}
        for i, r in enumerate(rows):
            first.setdefault(r.parent, i)
        order = sorted(range(len(rows)), key=lambda i: (first[rows[i].parent], i))
        self._rows = [rows[i] for i in order]
        self._texts = [texts[i] for i in order]
        self._tokens = [tokens[i] for i in order]
        self._dense = DenseIndex(
            np.stack([vecs[i] for i in order]).astype(np.float32)
            if order
            else np.zeros((0, self.dim), np.float32)
        )
        self._bm25 = BM25Index().index(self._tokens)
        self._reindex()

    def _reindex(self) -> None:
        self._masks: dict[Filters, np.ndarray] = {}
        parents: list[str] = []
        starts: list[int] = []
        for i, r in enumerate(self._rows):
            if not parents or parents[-1] != r.parent:
                parents.append(r.parent)
                starts.append(i)
        self._parents = parents
        self._parent_index = {p: i for i, p in enumerate(parents)}
        if len(self._parent_index) != len(parents):
            raise KBError("索引中同一记录的单元不连续", "重新运行 fengqiao build")
        self._starts = np.array(starts, np.int64)
        self._ends = np.array([*starts[1:], len(self._rows)], np.int64)
        names = ("parent", "law", "level", "status", "dispute_type", "kind", "date", "source")
        self._fields = {n: np.array([getattr(r, n) for r in self._rows], object) for n in names}
        self._fields["current"] = np.array([r.current for r in self._rows], bool)
