"""Evaluation: metric arithmetic, tiers, the eval JSON shape, and that leave-one-out holds."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from retrieval.evaluate import EvalError, evaluate, query_metrics, read_queries

QUERIES = DATA / "queries.jsonl"


def test_metrics_arithmetic():
    m = query_metrics(["a", "x", "b", "y"], {"a", "b"})
    assert m["R@1"] == 0.5 and m["R@5"] == 1.0 and m["Hit@1"] == 1.0
    assert m["MRR@10"] == 1.0
    assert m["nDCG@10"] == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.5849625007211563))
    miss = query_metrics(["x", "y"], {"a"})
    assert miss["R@100"] == 0.0 and miss["MRR@10"] == 0.0
    assert query_metrics(["x", "a"], {"a"})["MRR@10"] == 0.5


def test_read_queries_tiers_and_normalised_gold(tmp_path):
    qs = read_queries(QUERIES, "curated")
    assert [q.id for q in qs] == ["lawbench-3-8-9999", "fixture-0001", "fixture-0002"]
    assert qs[1].gold == ("民法典:1079",)
    assert len(read_queries(QUERIES, None)) == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    with pytest.raises(EvalError, match="bad.jsonl:1"):
        read_queries(bad)
    with pytest.raises(EvalError):
        read_queries(tmp_path / "missing.jsonl")


def test_evaluate_json_shape(tiny_kb):
    res = evaluate(tiny_kb, QUERIES, "curated", ["bm25", "dense", "hybrid"])
    d = json.loads(json.dumps(res.to_json()))
    assert d["queries"] == 3 and d["tier"] == "curated"
    assert set(d["metrics"]) >= {
        "R@1",
        "R@5",
        "R@10",
        "R@20",
        "R@100",
        "Hit@10",
        "MRR@10",
        "nDCG@10",
    }
    assert d["config"]["retriever"] == "hybrid" and d["config"]["model"] == "fake-chars"
    assert set(d["by_config"]) == {"bm25", "dense", "hybrid"}
    assert d["metrics"]["R@10"] == 1.0


def test_leave_one_out_holds(tiny_kb):
    """The consultation whose id is the query id must neither be found nor lift its citations."""
    q = read_queries(QUERIES, "curated")[0]
    out = evaluate(tiny_kb, QUERIES, "curated", ["hybrid"], limit=1)
    inside = evaluate(tiny_kb, QUERIES, "curated", ["hybrid"], limit=1, leave_one_out=False)
    assert inside.per_query["hybrid"][0]["id"] == q.id
    # with its own record the query's gold is lifted by precedent; leave-one-out removes that
    from retrieval.hits import Filters

    res = tiny_kb.search(q.query, k=100, filters=Filters(exclude_case_ids=(q.id,)))
    assert all(q.id not in h.why.via_cases for h in res.articles)
    assert all(h.record.id != q.id for h in res.cases)
    res_in = tiny_kb.search(q.query, k=100)
    assert any(q.id in h.why.via_cases for h in res_in.articles)
    assert out.leave_one_out and not inside.leave_one_out
