"""The flat store's switch to an approximate FAISS index above a size (tested on a small threshold)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.config import DEFAULT_APPROX, ApproxConfig
from retrieval.hits import Filters
from retrieval.store import Scored, UnitRow
from retrieval.stores.flat import FlatStore

DIM = 32
N = 3000
TYPES = ["婚姻家庭"] * 2000 + ["劳动劳务"] * 970 + ["邻里关系"] * 30  # 邻里关系: 1 %, a rare filter


def _data(seed: int = 1) -> tuple[list[UnitRow], np.ndarray, np.ndarray]:
    """Clustered unit vectors (like case texts) and queries near the clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    v = centres[rng.integers(0, 40, N)] + 0.3 * rng.normal(size=(N, DIM))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q = centres[:30] + 0.3 * rng.normal(size=(30, DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    rows = [UnitRow(f"c{i}#问题", f"c{i}", dispute_type=TYPES[i]) for i in range(N)]
    return rows, v.astype(np.float32), q.astype(np.float32)


def _parents(store: FlatStore, q: np.ndarray, flt: Filters, depth: int = 10) -> list[str]:
    return [h.parent for h in store.dense(q, flt, depth)]


def _same(a: list[Scored], b: list[Scored]) -> bool:
    """The same records and best units, scores equal up to float32 summation order."""
    return [(h.parent, h.unit) for h in a] == [(h.parent, h.unit) for h in b] and np.allclose(
        [h.score for h in a], [h.score for h in b], atol=1e-6
    )


def _recall(exact: FlatStore, other: FlatStore, queries: np.ndarray, flt: Filters) -> float:
    got = [len(set(_parents(exact, q, flt)) & set(_parents(other, q, flt))) / 10 for q in queries]
    return float(np.mean(got))


def test_default_threshold_is_the_measured_one() -> None:
    # docs/scale.md: exact search costs 23 ms of a core at 200,000 units; nprobe 8 met
    # recall 1.000 at a million, 16 is the margin
    assert DEFAULT_APPROX.above == 200_000
    assert DEFAULT_APPROX.nprobe == 16


def test_below_the_threshold_the_store_stays_exact() -> None:
    rows, v, q = _data()
    exact = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0))
    below = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=N + 1, nprobe=1))
    assert not below.approximate
    for x in q:
        assert below.dense(x, Filters(), 20) == exact.dense(x, Filters(), 20)


def test_above_the_threshold_search_goes_through_ivf_with_high_recall() -> None:
    rows, v, q = _data()
    exact = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0))
    approx = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=1000))
    assert approx.approximate and not exact.approximate
    for flt in (Filters(), Filters(dispute_types=("劳动劳务",))):
        assert _recall(exact, approx, q, flt) >= 0.95
    # the filter is applied inside the index: every hit is of the asked type
    hits = approx.dense(q[0], Filters(dispute_types=("劳动劳务",)), 50)
    assert len(hits) == 50
    assert all(TYPES[int(h.parent[1:])] == "劳动劳务" for h in hits)


def test_one_probe_is_approximate_and_a_rare_filter_is_searched_exactly() -> None:
    rows, v, q = _data()
    exact = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0))
    one = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=1000, nprobe=1))
    # one list of √3000 = 54: the IVF index really answers (and misses some)
    assert _recall(exact, one, q, Filters()) < 0.95
    # 30 units of 3,000 (1 % < exact_share 2 %): scored exactly, whatever nprobe
    rare = Filters(dispute_types=("邻里关系",))
    for x in q:
        assert _same(one.dense(x, rare, 10), exact.dense(x, rare, 10))


def test_records_with_several_units_count_once_and_depth_is_filled() -> None:
    rng = np.random.default_rng(3)
    v = rng.normal(size=(2400, DIM)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    # 600 records of 4 units each, contiguous as the store keeps them
    rows = [UnitRow(f"r{i // 4}#{i % 4}", f"r{i // 4}") for i in range(2400)]
    store = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=100, nprobe=64))
    exact = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0))
    hits = store.dense(v[0], Filters(), 300)
    assert len(hits) == 300 and len({h.parent for h in hits}) == 300
    assert hits[0].parent == "r0" and hits[0].unit == "r0#0"
    # all lists probed: the same records, scores and best units as exact search
    assert _same(hits, exact.dense(v[0], Filters(), 300))


def test_writes_switch_between_exact_and_approximate() -> None:
    rows, v, _q = _data()
    store = FlatStore(
        "cases",
        DIM,
        rows[:900],
        v[:900],
        approx=ApproxConfig(above=1000),
        tokenize=str.split,
        texts=[""] * 900,
    )
    assert not store.approximate
    store.upsert(rows[900:], v[900:], [[] for _ in rows[900:]])
    assert store.approximate and len(store) == N
    assert store.dense(v[2500], Filters(), 1)[0].parent == "c2500"
    store.delete([r.parent for r in rows[500:]])
    assert not store.approximate and len(store) == 500


@pytest.mark.parametrize("corpus", ["articles", "cases"])
def test_close_is_part_of_the_store(corpus: str) -> None:
    store = FlatStore(corpus, DIM)  # type: ignore[arg-type]
    store.close()


def test_the_half_precision_scan_gives_the_exact_runs() -> None:
    """From ``half_above`` units the scan reads float16 vectors and rescores what it finds in
    float32: the same records, best units and scores as the exact scan, filtered or not."""
    rows, v, q = _data()
    exact = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0, half_above=0))
    half = FlatStore("cases", DIM, rows, v, approx=ApproxConfig(above=0, half_above=N))
    assert not half.approximate and not exact.approximate
    for flt in (
        Filters(),
        Filters(dispute_types=("劳动劳务",)),
        Filters(dispute_types=("邻里关系",)),
    ):
        for x in q:
            assert _same(half.dense(x, flt, 300), exact.dense(x, flt, 300))
    # records of several units: each counted once, by its best unit
    many = [UnitRow(f"r{i // 4}#{i % 4}", f"r{i // 4}") for i in range(N)]
    grouped = FlatStore("cases", DIM, many, v, approx=ApproxConfig(above=0, half_above=N))
    plain = FlatStore("cases", DIM, many, v, approx=ApproxConfig(above=0, half_above=0))
    for x in q:
        hits = grouped.dense(x, Filters(), 300)
        assert len({h.parent for h in hits}) == 300
        assert _same(hits, plain.dense(x, Filters(), 300))
