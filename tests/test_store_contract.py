"""The unit-store contract: the same behaviour from every backend (the default FAISS + bm25s
store and milvus-lite always; any Milvus from env FENGQIAO_MILVUS_URI, e.g.
``FENGQIAO_MILVUS_URI=milvus://10.0.0.5:19530 FENGQIAO_MILVUS_TOKEN=user:pw pytest
tests/test_store_contract.py``; each test makes its own ``t_…`` collections and drops them)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.bm25 import BM25Index
from retrieval.errors import FengqiaoError
from retrieval.hits import Filters
from retrieval.store import Scored, UnitRow, UnitStore

DIM = 8
ANY_ARTICLE = Filters(statuses=(), current_only=False)
Make = Callable[[str, int], UnitStore]


def _flat_factory() -> Make:
    from retrieval.stores.flat import FlatStore

    return lambda corpus, dim: FlatStore(corpus, dim)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def lite_client(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("pymilvus")
    from retrieval.stores.milvus import connect

    client, _ = connect(str(tmp_path_factory.mktemp("milvus") / "contract.db"))
    yield client
    client.close()


BACKENDS = ["flat", "milvus-lite", "milvus-uri"]
URI_ENV = ("FENGQIAO_MILVUS_URI", "FENGQIAO_TEST_MILVUS_URI")  # the second: its earlier name


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    made: list[UnitStore] = []
    if request.param == "flat":
        yield _flat_factory()
        return
    from retrieval.stores.milvus import MilvusStore

    if request.param == "milvus-lite":
        client = request.getfixturevalue("lite_client")
        uri = str(tmp_path / "unused.db")
    else:
        uri = next((os.environ[n] for n in URI_ENV if os.environ.get(n)), "")
        if not uri:
            pytest.skip("set FENGQIAO_MILVUS_URI=milvus://host:19530 to test a server")
        client = None  # each store connects itself, with the token from FENGQIAO_MILVUS_TOKEN

    def factory(corpus: str, dim: int) -> UnitStore:
        store = MilvusStore(
            uri,
            f"t_{uuid.uuid4().hex[:12]}",
            corpus=corpus,
            dim=dim,
            client=client,  # type: ignore[arg-type]
        )
        made.append(store)
        return store

    yield factory
    for s in made:
        s.drop()  # type: ignore[attr-defined]
        if client is None:
            s.close()


def vec(*hot: float) -> np.ndarray:
    """A unit vector from its first coordinates (the rest zero)."""
    v = np.zeros(DIM, np.float32)
    v[: len(hot)] = hot
    return v / np.linalg.norm(v)


def put(store: UnitStore, items: Sequence[tuple[UnitRow, np.ndarray, Sequence[str]]]) -> None:
    store.upsert(
        [r for r, _, _ in items], np.stack([v for _, v, _ in items]), [list(t) for _, _, t in items]
    )


def parents(hits: Sequence[Scored]) -> list[str]:
    return [h.parent for h in hits]


def case(unit: str, parent: str, **kw: str) -> UnitRow:
    return UnitRow(unit, parent, **kw)


def test_empty_store(make: Make) -> None:
    store = make("cases", DIM)
    assert len(store) == 0
    assert store.dense(vec(1), Filters(), 10) == []
    assert store.keyword(["离婚"], Filters(), 10) == []
    assert store.dense_of(vec(1), ["x"]) == {}


def test_dense_order_depth_and_best_unit(make: Make) -> None:
    store = make("cases", DIM)
    put(
        store,
        [
            (case("a#问题", "a"), vec(1, 0), ["离婚"]),
            (case("a#争议焦点", "a"), vec(1, 1), ["财产"]),
            (case("b#问题", "b"), vec(0, 1), ["噪音"]),
            (case("c#问题", "c"), vec(0, 0, 1), ["工资"]),
        ],
    )
    assert len(store) == 4
    q = vec(1, 0.2)
    hits = store.dense(q, Filters(), 10)
    # a counts once, with its closer unit
    assert parents(hits) == ["a", "b", "c"]
    assert hits[0].unit == "a#问题"
    assert hits[0].score == pytest.approx(float(vec(1, 0) @ q), abs=1e-5)
    assert hits[2].score == pytest.approx(0.0, abs=1e-6)
    assert parents(store.dense(q, Filters(), 2)) == ["a", "b"]
    assert store.dense(q, Filters(), 0) == []


def test_keyword_is_bm25_over_units_positive_only(make: Make) -> None:
    store = make("cases", DIM)
    docs = [["离婚", "财产", "分割", "财产"], ["噪音", "邻居"], ["离婚", "子女", "抚养"], ["财产"]]
    put(store, [(case(f"d{i}#问题", f"d{i}"), vec(1), d) for i, d in enumerate(docs)])
    ref = BM25Index().index(docs)
    for q in (["财产"], ["离婚", "财产"], ["离婚", "离婚", "邻居"]):
        want = ref.scores(q)
        hits = store.keyword(q, Filters(), 10)
        assert {h.parent: round(h.score, 4) for h in hits} == {
            f"d{i}": round(float(s), 4) for i, s in enumerate(want) if s > 0
        }
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert store.keyword(["没有的词"], Filters(), 10) == []
    assert store.keyword([], Filters(), 10) == []
    assert parents(store.keyword(["财产"], Filters(), 1)) == ["d3"]


def test_upsert_replaces_by_unit_and_delete_by_record(make: Make) -> None:
    store = make("cases", DIM)
    put(
        store,
        [
            (case("a#1", "a"), vec(1), ["甲"]),
            (case("a#2", "a"), vec(0, 1), ["乙"]),
            (case("b#1", "b"), vec(0, 0, 1), ["丙"]),
        ],
    )
    put(store, [(case("a#1", "a"), vec(0, 0, 0, 1), ["丁"])])  # an edited section
    assert len(store) == 3  # replaced, not added; a#2 stays
    assert store.dense(vec(1), Filters(), 10)[0].score < 0.5
    assert store.dense(vec(0, 0, 0, 1), Filters(), 1)[0].unit == "a#1"
    assert parents(store.keyword(["丁"], Filters(), 10)) == ["a"]
    assert store.keyword(["甲"], Filters(), 10) == []
    assert parents(store.keyword(["乙"], Filters(), 10)) == ["a"]
    put(store, [(case("a#1", "a"), vec(0, 0, 0, 1), ["丁"])])  # the same write again
    assert len(store) == 3
    store.delete(["a", "nobody"])
    assert len(store) == 1
    assert parents(store.dense(vec(1), Filters(), 10)) == ["b"]
    assert store.keyword(["乙"], Filters(), 10) == []


def test_article_filters(make: Make) -> None:
    store = make("articles", DIM)
    rows = [
        UnitRow("民法典:1", "民法典:1", "民法典", "法律", "现行有效", True),
        UnitRow("婚姻法:32", "婚姻法:32", "婚姻法", "法律", "已废止", True),
        UnitRow("民法典旧:1", "民法典旧:1", "民法典", "法律", "现行有效", False),
        UnitRow(
            "解释:1",
            "解释:1",
            "最高人民法院关于适用民法典婚姻家庭编的解释（一）",
            "司法解释",
            "现行有效",
            True,
        ),
        UnitRow("条例:5", "条例:5", "人民调解条例", "行政法规", "尚未施行", True),
    ]
    put(store, [(r, vec(1, i / 10), ["离婚"]) for i, r in enumerate(rows)])
    q = vec(1)
    default = {"民法典:1", "解释:1", "条例:5"}
    for run in (lambda f: store.dense(q, f, 10), lambda f: store.keyword(["离婚"], f, 10)):
        assert set(parents(run(Filters()))) == default
        assert set(parents(run(ANY_ARTICLE))) == {r.parent for r in rows}
        assert set(parents(run(Filters(laws=("中华人民共和国民法典",))))) == {"民法典:1"}
        assert set(parents(run(Filters(levels=("司法解释", "行政法规"))))) == {"解释:1", "条例:5"}
        assert set(parents(run(Filters(statuses=("已废止",), current_only=False)))) == {"婚姻法:32"}
        assert set(parents(run(Filters(statuses=(), current_only=True)))) == default | {"婚姻法:32"}
        assert set(parents(run(Filters(statuses=("现行有效",), current_only=False)))) == {
            "民法典:1",
            "民法典旧:1",
            "解释:1",
        }


def test_case_filters(make: Make) -> None:
    store = make("cases", DIM)
    rows = [
        case(
            "k1#问题",
            "k1",
            dispute_type="婚姻家庭",
            kind="调解案例",
            date="2023-05-01",
            source="committee-a",
        ),
        case(
            "k2#问题",
            "k2",
            dispute_type="邻里关系",
            kind="典型案例",
            date="2022-01-10",
            source="committee-b",
        ),
        case(
            "k3#问题",
            "k3",
            dispute_type="婚姻家庭",
            kind="法律咨询",
            date="",
            source="lawbench-3-8",
        ),
        case(
            "k4#问题",
            "k4",
            dispute_type='带"引号\\的类型',
            kind="调解案例",
            date="2023-12-31",
            source="committee-a",
        ),
    ]
    put(store, [(r, vec(1, i / 10), ["纠纷"]) for i, r in enumerate(rows)])
    q = vec(1)
    for run in (lambda f: store.dense(q, f, 10), lambda f: store.keyword(["纠纷"], f, 10)):
        assert set(parents(run(Filters()))) == {"k1", "k2", "k3", "k4"}
        assert set(parents(run(Filters(dispute_types=("婚姻家庭",))))) == {"k1", "k3"}
        assert set(parents(run(Filters(dispute_types=('带"引号\\的类型',))))) == {"k4"}
        assert run(Filters(dispute_types=('婚姻家庭" or dispute_type != "',))) == []
        assert set(parents(run(Filters(case_kinds=("调解案例", "典型案例"))))) == {"k1", "k2", "k4"}
        assert set(parents(run(Filters(date_from="2023-01-01")))) == {"k1", "k4"}
        assert set(parents(run(Filters(date_to="2023")))) == {"k1", "k2", "k4"}
        assert set(parents(run(Filters(date_to="2023-05")))) == {"k1", "k2"}
        assert set(parents(run(Filters(date_from="2022-06", date_to="2023-05-01")))) == {"k1"}
        assert set(parents(run(Filters(exclude_case_ids=("k1", "k3"))))) == {"k2", "k4"}
        assert set(
            parents(run(Filters(dispute_types=("婚姻家庭",), exclude_case_ids=("k1",))))
        ) == {"k3"}
        if "exclude_case_sources" in Filters.__dataclass_fields__:
            flt = Filters(exclude_case_sources=("lawbench-3-8",))  # type: ignore[call-arg]
            assert set(parents(run(flt))) == {"k1", "k2", "k4"}
    # article filters do not apply to cases
    assert len(store.dense(q, Filters(laws=("民法典",), levels=("法律",)), 10)) == 4


def test_ties_follow_write_order_and_repeat(make: Make) -> None:
    store = make("cases", DIM)
    put(store, [(case("z#1", "z"), vec(1), ["同"]), (case("m#1", "m"), vec(1), ["同"])])
    put(store, [(case("a#1", "a"), vec(1), ["同"])])
    want = ["z", "m", "a"]  # equal scores: the record written first comes first
    for _ in range(3):
        assert parents(store.dense(vec(1), Filters(), 10)) == want
        assert parents(store.keyword(["同"], Filters(), 10)) == want
    assert parents(store.dense(vec(1), Filters(), 2)) == want[:2]


def test_many_units_per_record_still_give_depth_records(make: Make) -> None:
    """A long article split into many 款 units must not crowd other records out of the run."""
    store = make("articles", DIM)
    items = [
        (UnitRow(f"长:1#{i}", "长:1", "长法", status="现行有效"), vec(1, 0.001 * i), ["条"])
        for i in range(40)
    ]
    items += [
        (UnitRow(f"短:{i}", f"短:{i}", "短法", status="现行有效"), vec(0.5, 1, i / 10), ["条"])
        for i in range(5)
    ]
    put(store, items)
    hits = store.dense(vec(1), Filters(), 6)
    assert parents(hits)[0] == "长:1"
    assert len(hits) == 6 and len(set(parents(hits))) == 6
    assert len(store.keyword(["条"], Filters(), 6)) == 6


def test_dense_of_ignores_filters_and_picks_best_unit(make: Make) -> None:
    store = make("cases", DIM)
    put(
        store,
        [
            (case("a#问题", "a", dispute_type="婚姻家庭"), vec(1, 0), ["x"]),
            (case("a#争议焦点", "a", dispute_type="婚姻家庭"), vec(0, 1), ["x"]),
            (case("b#问题", "b", dispute_type="邻里关系"), vec(1, 1), ["x"]),
        ],
    )
    got = store.dense_of(vec(0, 1), ["a", "b", "missing"])
    assert set(got) == {"a", "b"}
    assert got["a"].unit == "a#争议焦点" and got["a"].score == pytest.approx(1.0, abs=1e-5)
    assert got["b"].score == pytest.approx(float(vec(1, 1) @ vec(0, 1)), abs=1e-5)


def test_dimension_mismatch_is_refused(make: Make) -> None:
    store = make("cases", DIM)
    with pytest.raises(FengqiaoError, match="维"):
        store.upsert([case("a#1", "a")], np.ones((1, DIM + 1), np.float32), [["x"]])
    assert len(store) == 0
    put(store, [(case("a#1", "a"), vec(1), ["x"])])
    with pytest.raises(FengqiaoError, match="维"):
        store.dense(np.ones(DIM - 1, np.float32), Filters(), 5)
