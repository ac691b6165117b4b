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
    from retrieval.hits import Filters

    res = tiny_kb.search(q.query, k=100, filters=Filters(exclude_case_ids=(q.id,)))
    assert all(q.id not in h.why.via_cases for h in res.articles)
    assert all(h.record.id != q.id for h in res.cases)
    res_in = tiny_kb.search(q.query, k=100)
    assert any(q.id in h.why.via_cases for h in res_in.articles)


def test_leave_source_hides_every_case_of_the_query_set(fake_embedder, tmp_path):
    """Default ``source``: a question never profits from another consultation of its own set."""
    from dataclasses import replace

    from conftest import fixture_cases

    from retrieval.service import Service

    twin = replace(fixture_cases()[2], id="lawbench-3-8-0001")  # a near-twin of the query's set
    from ingest.statutes import load_statutes

    articles = load_statutes([DATA / "statutes"]).articles
    service = Service.from_records(articles, [*fixture_cases(), twin], fake_embedder)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps(
            {
                "id": "lawbench-3-8-9999",
                "query": "公司连续三个月拖欠工资，我能不能辞职并要补偿？",
                "gold": [{"law": "劳动合同法", "article": "38"}],
                "tiers": ["curated"],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    by_mode = {}
    for leave in ("none", "one", "source"):
        res = evaluate(service, queries, "curated", ["hybrid"], leave=leave)
        assert res.leave == leave and res.to_json()["config"]["leave"] == leave
        by_mode[leave] = res.per_query["hybrid"][0]
    # with ``one`` the twin still lifts the gold; with ``source`` nothing of lawbench-3-8 does
    from retrieval.evaluate import leave_out

    q = read_queries(queries)[0]
    hits = service.search(q.query, k=20, filters=leave_out(q, "one")).articles
    assert any("lawbench-3-8-0001" in h.why.via_cases for h in hits)
    hits = service.search(q.query, k=20, filters=leave_out(q, "source")).articles
    assert not any(v.startswith("lawbench-3-8") for h in hits for v in h.why.via_cases)
    assert by_mode["none"]["MRR@10"] >= by_mode["source"]["MRR@10"]


def test_eval_json_records_every_setting(tiny_kb):
    d = evaluate(tiny_kb, QUERIES, "curated", ["hybrid"]).to_json()
    settings = d["config"]["settings"]
    assert settings["w_keyword"] == 0.4 and settings["precedent_floor"] == 0.88
    assert d["config"]["leave"] == "source"


def test_eval_says_when_the_query_adapter_saw_the_queries(tiny_kb_dir, tmp_path):
    """An adapter trained on a set's questions makes its figures in-sample: the eval
    names those sources, and names none for an adapter trained without them."""
    from conftest import FAKE_CONFIG, FakeEmbedder

    from retrieval.service import Service

    class Adapted(FakeEmbedder):
        def __init__(self, trained_on):
            super().__init__()
            self.query_key, self.adapter_trained_on = f"{self.key}-qa-1", trained_on

    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    queries = tmp_path / "mixed.jsonl"
    rows = [json.loads(line) for line in lines]
    rows[0]["id"], rows[1]["id"] = "equals-0001", "lawbench-3-2-0001"
    queries.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    for trained_on, saw in (
        (("equals", "zixun"), ["equals"]),
        (("zixun",), []),
    ):
        kb = Service.load(tiny_kb_dir, embedder=Adapted(trained_on), config=FAKE_CONFIG)
        d = evaluate(kb, queries, "curated", ["hybrid"]).to_json()
        assert d["config"]["adapter_saw"] == saw
        assert d["config"]["query_key"].endswith("-qa-1")
    base = Service.load(tiny_kb_dir, embedder=FakeEmbedder(), config=FAKE_CONFIG)
    assert evaluate(base, queries, "curated", ["hybrid"]).to_json()["config"]["adapter_saw"] == []


def test_eval_encodes_an_adapted_question_once_across_configs(tiny_kb_dir):
    """With an encoder that gives both vectors of a question in one pass (the twin ONNX
    export), the eval encodes each question once for all configurations, and its figures
    are those of the two separate encoders."""
    from conftest import FAKE_CONFIG, FakeEmbedder

    from retrieval.service import Service

    class TwoCalls(FakeEmbedder):
        def __init__(self):
            super().__init__()
            self.query_key, self.calls = f"{self.key}-qa-1", []

        def encode_queries(self, texts):
            self.calls.append("base")
            return super().encode_queries(texts)

        def encode_article_queries(self, texts):
            self.calls.append("articles")
            return super().encode_queries([t[::-1] for t in texts])  # moved, as adapted

    class OnePass(TwoCalls):
        def encode_question_pair(self, texts):
            self.calls.append("pair")
            flipped = [t[::-1] for t in texts]
            return FakeEmbedder.encode_queries(self, texts), FakeEmbedder.encode_queries(
                self, flipped
            )

    configs = ["dense", "hybrid"]
    one, two = OnePass(), TwoCalls()
    got = evaluate(
        Service.load(tiny_kb_dir, embedder=one, config=FAKE_CONFIG), QUERIES, "curated", configs
    )
    want = evaluate(
        Service.load(tiny_kb_dir, embedder=two, config=FAKE_CONFIG), QUERIES, "curated", configs
    )
    assert one.calls == ["pair"] * got.queries
    assert two.calls == ["base", "articles"] * want.queries
    assert got.by_config == want.by_config
