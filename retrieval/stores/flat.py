"""The embedded default store: FAISS vectors (exact; a half-precision scan, then IVF, above sizes), bm25s keywords, numpy masks."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from ingest.names import canonical_law
from retrieval.bm25 import BM25Index
from retrieval.config import DEFAULT_APPROX, ApproxConfig
from retrieval.dense import DenseIndex
from retrieval.errors import KBError
from retrieval.hits import Filters
from retrieval.store import Scored, UnitRow

CorpusKind = Literal["articles", "cases"]
_MASKS_KEPT = 64  # leave-one-out evaluation makes one case mask per query
_FIELDS = ("parent", "law", "level", "status", "dispute_type", "kind", "date", "source")


def top_indices(scores: np.ndarray, depth: int, positive: bool = False) -> list[int]:
    """Indices of the ``depth`` best finite scores (and > 0 if ``positive``), ties by index."""
    ok = np.isfinite(scores) & ((scores > 0) if positive else True)
    idx = np.flatnonzero(ok)
    if len(idx) > depth:
        idx = idx[np.argpartition(-scores[idx], depth)[:depth]]
    return sorted(idx.tolist(), key=lambda i: (-scores[i], i))


@dataclass(frozen=True)
class _State:
    """Everything a query reads, replaced whole by a write: a reader on another thread
    takes one reference and sees one consistent version."""

    rows: tuple[UnitRow, ...]
    texts: tuple[str, ...]
    dense: DenseIndex
    bm25: BM25Index
    parents: tuple[str, ...]
    parent_index: dict[str, int]
    starts: np.ndarray
    ends: np.ndarray
    fields: dict[str, np.ndarray]
    tokens: list[list[str]] | None = None  # known after a write; derived from texts otherwise
    masks: dict[Filters, np.ndarray] = field(default_factory=dict)
    ivf: Any = None  # a trained faiss.IndexIVFFlat over dense.vectors above ApproxConfig.above
    half: Any = None  # a half-precision copy of dense.vectors above ApproxConfig.half_above
    unit_parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    selectors: dict[Filters, tuple[np.ndarray, Any]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        rows: Sequence[UnitRow],
        texts: Sequence[str],
        dense: DenseIndex,
        bm25: BM25Index,
        tokens: list[list[str]] | None = None,
    ) -> _State:
        parents: list[str] = []
        starts: list[int] = []
        for i, r in enumerate(rows):
            if not parents or parents[-1] != r.parent:
                parents.append(r.parent)
                starts.append(i)
        parent_index = {p: i for i, p in enumerate(parents)}
        if len(parent_index) != len(parents):
            raise KBError("索引中同一记录的单元不连续", "重新运行 fengqiao build")
        begin = np.array(starts, np.int64)
        end = np.array([*starts[1:], len(rows)], np.int64)
        fields = {n: np.array([getattr(r, n) for r in rows], object) for n in _FIELDS}
        fields["current"] = np.array([r.current for r in rows], bool)
        return cls(
            tuple(rows),
            tuple(texts),
            dense,
            bm25,
            tuple(parents),
            parent_index,
            begin,
            end,
            fields,
            tokens,
            unit_parent=np.repeat(np.arange(len(starts), dtype=np.int64), end - begin),
        )


class FlatStore:
    """Every unit scored exactly: a query is one matrix-vector product and one BM25 pass.

    Exact scores make filters free of recall loss: a mask removes units before the
    per-record maximum, so a filtered search sees the same candidates a full one would.
    From ``approx.above`` units on, vector search goes through a FAISS IVF-Flat index
    instead (exact cost grows linearly: docs/scale.md), with the filter applied inside
    the index, and exactly over the allowed units when a filter leaves few of them.
    Between ``approx.half_above`` and ``approx.above`` units the scan first reads a float16
    copy of the vectors and rescores the units it finds in float32 (the same runs, in a
    third of the time on the national tier).
    A record's units are kept contiguous, so per-record maxima are one ``reduceat``.
    Writes (upsert, delete) build a new state and swap it in; queries running meanwhile
    finish on the state they started with.

    Args:
        corpus: which filter fields apply (``Filters.articles_part`` or ``cases_part``).
        dim: vector dimension.
        tokenize: the keyword tokenizer; needed only to rebuild BM25 after an upsert.
        texts: the keyword text of every unit, in row order (see ``tokenize``).
        approx: when vector search becomes approximate (``retrieval.config.ApproxConfig``).
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
        approx: ApproxConfig = DEFAULT_APPROX,
    ) -> None:
        self.corpus = corpus
        self.dim = dim
        self.approx_config = approx
        self._tokenize = tokenize
        self._write_lock = threading.Lock()
        vecs = np.zeros((0, dim), np.float32) if vectors is None else vectors
        dense = DenseIndex(vecs)
        bm25 = bm25 or BM25Index()
        if dense.size != len(rows) or bm25.size not in (0, len(rows)):
            raise KBError(
                f"向量数（{dense.size}）或关键词索引（{bm25.size}）与单元数（{len(rows)}）不符",
                "重新运行 fengqiao build",
            )
        self._state = self._indexed(
            _State.of(rows, list(texts) if texts else [""] * len(rows), dense, bm25)
        )

    # ---- persistence -----------------------------------------------------------------

    def save(self, vectors_path: Path, bm25_folder: Path) -> None:
        st = self._state
        st.dense.save(vectors_path)
        st.bm25.save(bm25_folder)

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
        approx: ApproxConfig = DEFAULT_APPROX,
    ) -> FlatStore:
        dense = DenseIndex.load(vectors_path)
        bm25 = BM25Index.load(bm25_folder, len(rows))
        return cls(
            corpus,
            dense.dim,
            rows,
            dense.vectors,
            bm25,
            tokenize=tokenize,
            texts=texts,
            approx=approx,
        )

    # ---- the UnitStore protocol ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._state.rows)

    @property
    def vectors(self) -> np.ndarray:
        return self._state.dense.vectors

    @property
    def approximate(self) -> bool:
        """Whether vector search currently goes through the IVF index."""
        return self._state.ivf is not None

    def close(self) -> None:
        """Nothing to release: the store is memory only (its files were read on load)."""

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
        with self._write_lock:
            st = self._state
            all_rows = list(st.rows)
            all_texts = list(st.texts)
            all_tokens = list(self._tokens(st))
            vecs = list(st.dense.vectors)
            new_texts = list(texts) if texts else [" ".join(t) for t in tokens]
            where = {r.unit: i for i, r in enumerate(all_rows)}
            for row, vec, toks, text in zip(rows, vectors, tokens, new_texts, strict=True):
                i = where.get(row.unit)
                item = (row, np.asarray(vec, np.float32), list(toks), text)
                if i is None:
                    where[row.unit] = len(all_rows)
                    all_rows.append(row)
                    vecs.append(item[1])
                    all_tokens.append(item[2])
                    all_texts.append(text)
                else:
                    all_rows[i], vecs[i], all_tokens[i], all_texts[i] = item
            self._state = self._rebuilt(all_rows, vecs, all_tokens, all_texts)

    def delete(self, parents: Sequence[str]) -> None:
        gone = set(parents)
        with self._write_lock:
            st = self._state
            keep = [i for i, r in enumerate(st.rows) if r.parent not in gone]
            if len(keep) == len(st.rows):
                return
            tokens = self._tokens(st)
            self._state = self._rebuilt(
                [st.rows[i] for i in keep],
                [st.dense.vectors[i] for i in keep],
                [tokens[i] for i in keep],
                [st.texts[i] for i in keep],
            )

    def dense(self, query: np.ndarray, flt: Filters, depth: int) -> list[Scored]:
        st = self._state
        if not st.rows:
            return []
        q = self._query(query)
        if st.ivf is None and st.half is None:
            return self._run(st, st.dense.scores(q), flt, depth, positive=False)
        return self._approx_dense(st, q, flt, depth)

    def keyword(self, tokens: Sequence[str], flt: Filters, depth: int) -> list[Scored]:
        st = self._state
        if not st.rows:
            return []
        return self._run(st, st.bm25.scores(tokens), flt, depth, positive=True)

    def dense_of(self, query: np.ndarray, parents: Sequence[str]) -> dict[str, Scored]:
        st = self._state
        out: dict[str, Scored] = {}
        q = self._query(query)
        for parent in parents:
            p = st.parent_index.get(parent)
            if p is None:
                continue
            a, b = int(st.starts[p]), int(st.ends[p])
            s = st.dense.vectors[a:b] @ q
            best = int(np.argmax(s))
            out[parent] = Scored(parent, float(s[best]), st.rows[a + best].unit)
        return out

    def _query(self, query: np.ndarray) -> np.ndarray:
        q = np.asarray(query, np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise KBError(
                f"查询向量维度 {q.shape[0]} 与索引的 {self.dim} 维不符",
                "用构建索引时的模型提问，或用当前模型重新运行 fengqiao build",
            )
        return q

    def mask(self, flt: Filters) -> np.ndarray:
        """Units allowed by the corpus's part of ``flt`` (cached per distinct filter)."""
        return self._mask(self._state, flt)

    # ---- internals -----------------------------------------------------------------------

    def _indexed(self, st: _State) -> _State:
        """``st`` with its IVF index when it holds ``approx.above`` units or more, else with
        a half-precision copy of its vectors from ``approx.half_above`` units on."""
        cfg = self.approx_config
        n = st.dense.size
        if cfg.above and n >= cfg.above:
            return dataclasses.replace(st, ivf=_train_ivf(st.dense.vectors, cfg))
        if cfg.half_above and n >= cfg.half_above:
            return dataclasses.replace(st, half=_half_index(st.dense.vectors))
        return st

    def _approx_dense(self, st: _State, q: np.ndarray, flt: Filters, depth: int) -> list[Scored]:
        """The best units through the IVF index or the half-precision scan, rescored in
        full precision and grouped by record like the exact run.

        Units are fetched 2x the depth (a record may have several) and more until
        ``depth`` records are found or the index holds no more allowed units. The
        half-precision scan reads half the bytes of the exact one; its candidates'
        scores are the exact cosines, so only a unit that fp16 rounding moves from inside
        the ``k`` best to outside could differ (bench/bench_half_scan.py: none of 800 national
        runs did).
        """
        mask = self._mask(st, flt)
        n = st.dense.size
        allowed = int(np.count_nonzero(mask))
        if allowed < self.approx_config.exact_share * n:
            # a rare filter: IVF would probe lists that hold few of its units
            scores = np.full(n, -np.inf, np.float32)
            idx = np.flatnonzero(mask)
            scores[idx] = st.dense.vectors[idx] @ q
            return self._run(st, scores, flt, depth, positive=False)
        params: Any
        if st.ivf is not None:
            index = st.ivf
            params = faiss.SearchParametersIVF()
            params.nprobe = self.approx_config.nprobe
        else:
            index = st.half
            params = faiss.SearchParameters()
        keep = self._selector(st, flt, mask) if allowed < n else None  # alive while searching
        if keep is not None:
            params.sel = keep[1]
        k = min(max(2 * depth, depth + 16), n)
        while True:
            _, ids = index.search(q.reshape(1, -1), k, params=params)
            found = ids[0][ids[0] >= 0]
            hits = self._best_of(st, found, st.dense.vectors[found] @ q, depth)
            if len(hits) >= depth or len(found) < k or k >= n:
                return hits
            k = min(4 * k, n)

    def _best_of(
        self, st: _State, units: np.ndarray, scores: np.ndarray, depth: int
    ) -> list[Scored]:
        """The ``depth`` best records among found ``units`` (allowed ones, with their
        scores), each by its best found unit; ties by position, as ``_run`` orders them."""
        order = np.lexsort((units, -scores))
        units, scores = units[order], scores[order]
        _, first = np.unique(st.unit_parent[units], return_index=True)
        first.sort()  # each record's best unit, best records first
        return [
            Scored(st.parents[int(st.unit_parent[u])], float(scores[i]), st.rows[int(u)].unit)
            for i in first[:depth]
            for u in (units[i],)
        ]

    def _selector(self, st: _State, flt: Filters, mask: np.ndarray) -> tuple[np.ndarray, Any]:
        """The FAISS ID selector of a mask (its bitmap kept alive beside it), cached."""
        key = flt.articles_part() if self.corpus == "articles" else flt.cases_part()
        found = st.selectors.get(key)
        if found is None:
            if len(st.selectors) > _MASKS_KEPT:
                st.selectors.clear()
            bits = np.packbits(mask, bitorder="little")
            found = (bits, faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits)))
            st.selectors[key] = found
        return found

    def _run(
        self, st: _State, unit_scores: np.ndarray, flt: Filters, depth: int, positive: bool
    ) -> list[Scored]:
        s = np.where(self._mask(st, flt), unit_scores, -np.inf).astype(np.float32)
        per_record = np.maximum.reduceat(s, st.starts)
        out = []
        starts, ends = st.starts, st.ends
        for p in top_indices(per_record, depth, positive):
            a, b = int(starts[p]), int(ends[p])
            # most records are one unit: no argmax call for them (a national query
            # keeps ~1,000 records over its runs)
            best = a if b - a == 1 else a + int(np.argmax(s[a:b]))
            out.append(Scored(st.parents[p], float(per_record[p]), st.rows[best].unit))
        return out

    def _mask(self, st: _State, flt: Filters) -> np.ndarray:
        key = flt.articles_part() if self.corpus == "articles" else flt.cases_part()
        found = st.masks.get(key)
        if found is None:
            if len(st.masks) > _MASKS_KEPT:
                st.masks.clear()
            found = _article_mask(st, key) if self.corpus == "articles" else _case_mask(st, key)
            st.masks[key] = found
        return found

    def _tokens(self, st: _State) -> list[list[str]]:
        if st.tokens is not None:
            return st.tokens
        if st.rows and self._tokenize is None:
            raise KBError("这个索引不能增量更新（缺少分词器）", "重新运行 fengqiao build")
        tok = self._tokenize or (lambda _t: [])
        return [tok(t) for t in st.texts]

    def _rebuilt(
        self,
        rows: list[UnitRow],
        vecs: Sequence[np.ndarray],
        tokens: list[list[str]],
        texts: list[str],
    ) -> _State:
        """A new state: each record's units together, vectors and BM25 rebuilt."""
        first: dict[str, int] = {}
        for i, r in enumerate(rows):
            first.setdefault(r.parent, i)
        order = sorted(range(len(rows)), key=lambda i: (first[rows[i].parent], i))
        ordered_tokens = [tokens[i] for i in order]
        dense = DenseIndex(
            np.stack([vecs[i] for i in order]).astype(np.float32)
            if order
            else np.zeros((0, self.dim), np.float32)
        )
        return self._indexed(
            _State.of(
                [rows[i] for i in order],
                [texts[i] for i in order],
                dense,
                BM25Index().index(ordered_tokens),
                ordered_tokens,
            )
        )


def _half_index(vectors: np.ndarray) -> Any:
    """A FAISS flat inner-product index over ``vectors`` stored in float16 (half the bytes
    a scan reads; the store rescores what it finds in full precision)."""
    n, dim = vectors.shape
    index = faiss.IndexScalarQuantizer(
        dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.train(vectors[: min(n, 1)])  # fp16 needs no statistics; train only marks it ready
    index.add(vectors)
    return index


def _train_ivf(vectors: np.ndarray, cfg: ApproxConfig) -> Any:
    """An IVF-Flat inner-product index over ``vectors``: √n lists, trained on a fixed sample."""
    n, dim = vectors.shape
    nlist = max(1, int(np.sqrt(n)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    # a sample of train_per_list per list is enough (docs/scale.md); saying so also keeps
    # FAISS from printing its "provide at least 39 points per centroid" warning
    index.cp.min_points_per_centroid = cfg.train_per_list
    take = min(n, cfg.train_per_list * nlist)
    sample = np.sort(np.random.default_rng(0).choice(n, take, replace=False))
    index.train(np.ascontiguousarray(vectors[sample]))
    index.add(vectors)
    return index


def _article_mask(st: _State, f: Filters) -> np.ndarray:
    ok = np.ones(len(st.rows), bool)
    if f.current_only:
        ok &= st.fields["current"]
    if f.statuses:
        ok &= np.isin(st.fields["status"], list(f.statuses))
    if f.laws:
        ok &= np.isin(st.fields["law"], sorted({canonical_law(x) for x in f.laws}))
    if f.levels:
        ok &= np.isin(st.fields["level"], list(f.levels))
    return ok


def _case_mask(st: _State, f: Filters) -> np.ndarray:
    ok = np.ones(len(st.rows), bool)
    if f.exclude_case_ids:
        ok &= ~np.isin(st.fields["parent"], list(f.exclude_case_ids))
    if f.exclude_case_sources:
        ok &= ~np.isin(st.fields["source"], list(f.exclude_case_sources))
    if f.dispute_types:
        ok &= np.isin(st.fields["dispute_type"], list(f.dispute_types))
    if f.case_kinds:
        ok &= np.isin(st.fields["kind"], list(f.case_kinds))
    if f.date_from or f.date_to:
        ok &= np.array(
            [
                bool(d)
                and (not f.date_from or d >= f.date_from)
                and (not f.date_to or d[: len(f.date_to)] <= f.date_to)
                for d in st.fields["date"]
            ],
            bool,
        )
    return ok
