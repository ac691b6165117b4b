"""MilvusStore beyond the shared contract: addresses, tokens, escaping, partial failures,
reopening, grouping modes, and the same eval numbers as the index folder."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DATA, FAKE_CONFIG, FakeEmbedder

pytest.importorskip("pymilvus")

from retrieval.errors import KBError, StoreWriteError  # noqa: E402
from retrieval.hits import Filters  # noqa: E402
from retrieval.store import UnitRow  # noqa: E402
from retrieval.stores.milvus import (  # noqa: E402
    TOKEN_ENV,
    MilvusStore,
    connect,
    filter_expr,
    quote,
    server_uri,
)

DIM = 8


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    c, lite = connect(str(tmp_path_factory.mktemp("milvus") / "store.db"))
    assert lite
    yield c
    c.close()


def new_store(client: Any, **kw: Any) -> MilvusStore:
    kw.setdefault("corpus", "cases")
    kw.setdefault("dim", DIM)
    return MilvusStore("x.db", f"t_{uuid.uuid4().hex[:12]}", client=client, **kw)


def rows(n: int, start: int = 0) -> tuple[list[UnitRow], np.ndarray, list[list[str]]]:
    rng = np.random.default_rng(start)
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return (
        [UnitRow(f"c{i}#问题", f"c{i}", dispute_type="婚姻家庭") for i in range(start, start + n)],
        v,
        [["离婚", f"词{i % 7}"] for i in range(n)],
    )


def test_uri_forms_and_token_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert server_uri("milvus://10.0.0.5:19530") == ("http://10.0.0.5:19530", False)
    assert server_uri("milvus+tls://milvus.county.gov.cn:443") == (
        "https://milvus.county.gov.cn:443",
        False,
    )
    assert server_uri("https://x.example:19530") == ("https://x.example:19530", False)
    path, lite = server_uri(str(tmp_path / "a" / "kb.db"))
    assert lite and path.endswith("kb.db") and (tmp_path / "a").is_dir()
    with pytest.raises(KBError, match="建议"):
        server_uri(str(tmp_path / "kb.sqlite"))
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, **kw: Any) -> None:
            seen.update(kw)

    import pymilvus

    monkeypatch.setattr(pymilvus, "MilvusClient", Recorder)
    monkeypatch.setenv(TOKEN_ENV, "root:Milvus")
    connect("milvus://h:19530")
    assert seen["uri"] == "http://h:19530" and seen["token"] == "root:Milvus"


def test_expression_escaping() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    expr = filter_expr(
        Filters(dispute_types=('x" or parent != "',), exclude_case_ids=("k1",)), "cases"
    )
    assert expr == 'dispute_type in ["x\\" or parent != \\""] and parent not in ["k1"]'
    assert filter_expr(Filters(), "cases") == ""
    assert (
        filter_expr(Filters(), "articles")
        == 'current == true and status in ["现行有效", "尚未施行"]'
    )


def test_a_failed_batch_is_reported_and_a_retry_does_not_duplicate(client: Any) -> None:
    store = new_store(client, batch=4)
    real = store.client

    class Flaky:
        """Fails the second upsert request once, like a dropped connection."""

        def __init__(self) -> None:
            self.calls = 0

        def upsert(self, *a: Any, **kw: Any) -> Any:
            self.calls += 1
            if self.calls == 2:
                raise ConnectionError("connection reset")
            return real.upsert(*a, **kw)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    store.client = Flaky()
    r, v, t = rows(10)
    with pytest.raises(StoreWriteError) as err:
        store.upsert(r, v, t)
    assert err.value.failed == tuple(x.unit for x in r[4:8])
    assert "c4#问题" in str(err.value) and "建议" in str(err.value)
    assert len(store) == 6
    store.upsert(r, v, t)  # the retry: the whole batch again
    assert len(store) == 10
    hits = store.dense(v[5], Filters(), 20)
    assert len(hits) == 10 and len({h.parent for h in hits}) == 10
    assert hits[0].parent == "c5"


def test_reopen_keeps_rows_and_refuses_another_model_or_dimension(tmp_path: Path) -> None:
    uri = str(tmp_path / "kb.db")
    store = MilvusStore(uri, "fengqiao_cases", corpus="cases", dim=DIM, model_key="fake-v1")
    r, v, t = rows(5)
    store.upsert(r, v, t)
    store.close()
    again = MilvusStore(uri, "fengqiao_cases", corpus="cases", dim=DIM, model_key="fake-v1")
    assert len(again) == 5
    assert again.dense(v[3], Filters(), 1)[0].parent == "c3"
    assert [h.parent for h in again.keyword(["词3"], Filters(), 5)] == ["c3"]
    with pytest.raises(KBError, match="向量模型"):
        MilvusStore(
            uri, "fengqiao_cases", corpus="cases", dim=DIM, model_key="other", client=again.client
        )
    with pytest.raises(KBError, match="向量维数"):
        MilvusStore(uri, "fengqiao_cases", corpus="cases", dim=DIM * 2, client=again.client)
    with pytest.raises(KBError, match="内容"):
        MilvusStore(uri, "fengqiao_cases", corpus="articles", dim=DIM, client=again.client)
    again.close()


def test_engine_and_client_grouping_agree(client: Any) -> None:
    engine = new_store(client, group_by="engine")
    by_client = MilvusStore(
        "x.db", engine.name, corpus="cases", dim=DIM, group_by="client", client=client
    )
    r, v, t = rows(60)
    r2 = [UnitRow(x.unit.replace("问题", "争议焦点"), x.parent, dispute_type="婚姻家庭") for x in r]
    engine.upsert(r + r2, np.concatenate([v, v[::-1]]), t + t)
    for q in v[:5]:
        a, b = engine.dense(q, Filters(), 25), by_client.dense(q, Filters(), 25)
        assert [h.parent for h in a] == [h.parent for h in b] and len(a) == 25
        assert [h.unit for h in a] == [h.unit for h in b]


def test_eval_numbers_equal_on_both_backends(tiny_kb_dir: Path, tmp_path: Path) -> None:
    """`fengqiao eval` on the index folder's FAISS files and on MilvusStore: the same metrics."""
    from retrieval.evaluate import evaluate
    from retrieval.service import Service
    from retrieval.stores.fill import corpus_units, fill

    folder = Service.load(tiny_kb_dir, embedder=FakeEmbedder(), config=FAKE_CONFIG)
    uri = str(tmp_path / "eval.db")
    stores = {}
    for corpus in ("articles", "cases"):
        stores[corpus] = MilvusStore(uri, f"eval_{corpus}", corpus=corpus, dim=FakeEmbedder.dim)  # type: ignore[arg-type]
        fill(stores[corpus], corpus_units(tiny_kb_dir, corpus))  # type: ignore[arg-type]
    milvus = Service.load(
        tiny_kb_dir, stores=lambda *_: stores, embedder=FakeEmbedder(), config=FAKE_CONFIG
    )
    configs = ["bm25", "dense", "hybrid"]
    want = evaluate(folder, DATA / "queries.jsonl", None, configs)
    got = evaluate(milvus, DATA / "queries.jsonl", None, configs)
    assert want.queries == got.queries >= 3
    for name in configs:
        for metric, value in want.by_config[name].items():
            assert got.by_config[name][metric] == pytest.approx(value, abs=0.005), (name, metric)
        assert [r["top"] for r in got.per_query[name]] == [r["top"] for r in want.per_query[name]]
    q = "丈夫不同意离婚怎么办"
    assert [h.record.id for h in milvus.search(q).cases] == [
        h.record.id for h in folder.search(q).cases
    ]
    # the runs really come from Milvus: emptied, it finds nothing by keyword or meaning
    stores["articles"].delete([a.id for a in folder.articles])
    assert all(
        h.why.keyword_rank is None and h.why.semantic_rank is None
        for h in milvus.search(q, k_cases=0).articles
    )


def test_open_stores_gives_both_corpora_on_one_connection(tmp_path: Path) -> None:
    from retrieval.stores.milvus import open_stores

    stores = open_stores(str(tmp_path / "kb.db"), dim=DIM, model_key="fake-v1", prefix="county_a")
    assert {s.name for s in stores.values()} == {"county_a_articles", "county_a_cases"}
    assert stores["articles"].client is stores["cases"].client
    assert stores["articles"].corpus == "articles" and len(stores["cases"]) == 0
    with pytest.raises(KBError, match="集合名称"):
        open_stores(str(tmp_path / "kb.db"), dim=DIM, model_key="fake-v1", prefix="县")
    stores["cases"].close()


# ---- milvus-lite at `serve` start: never left broken ----------------------------------------


def _ask(kb: Path, uri: str) -> int:
    """Open the store as the web server does, ask one question, let go; the articles found."""
    from retrieval.loader import store_factory
    from retrieval.service import Service

    service = Service.load(
        kb, stores=store_factory(uri), embedder=FakeEmbedder(), config=FAKE_CONFIG
    )
    try:
        return len(service.ask("丈夫不同意离婚怎么办", k=3, k_cases=1).result.articles)
    finally:
        service.articles.store.close()  # type: ignore[attr-defined]


def test_serve_lets_go_of_the_milvus_lite_file_before_replacing_itself(
    tiny_kb_dir: Path, tmp_path: Path
) -> None:
    """`serve` fills the store, then os.execve's Streamlit: no interpreter exit, so milvus-lite
    never closed its database and background writes were cut off (0-byte segment files)."""
    from milvus_lite.server_manager import server_manager_instance

    from retrieval.stores.fill import prepare_store

    uri = prepare_store(tiny_kb_dir, str(tmp_path / "store.db"))
    assert uri not in server_manager_instance._servers  # closed: flushed, lock freed
    assert not (tmp_path / "store.db" / "collections" / "fengqiao_articles" / "wal").exists() or (
        not any((tmp_path / "store.db" / "collections" / "fengqiao_articles" / "wal").iterdir())
    )
    assert _ask(tiny_kb_dir, uri) > 0


def test_serve_start_on_an_empty_store_file_twenty_times(
    tiny_kb_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from retrieval.stores.fill import prepare_store, source_of
    from retrieval.stores.milvus import open_stores

    def filled(stores: dict[str, MilvusStore]) -> bool:
        want = {**source_of(tiny_kb_dir), "complete": True}
        return all(s.filled_from() == want and len(s) > 0 for s in stores.values())

    db = tmp_path / "store.db"
    for start in range(20):
        if db.is_dir():
            import shutil

            shutil.rmtree(db)
        db.write_bytes(b"")  # a new, empty store file
        caplog.clear()
        uri = prepare_store(tiny_kb_dir, str(db))  # what `serve` does before os.execve
        assert [r.levelname for r in caplog.records] == ["WARNING"], start
        assert "空文件" in caplog.records[0].getMessage()
        # the web server's open: the store is whole, filled, and needs no repair
        stores = open_stores(uri, dim=FakeEmbedder.dim, model_key=FakeEmbedder().key)
        try:
            assert filled(stores), start
        finally:
            stores["articles"].close()
        assert [r.levelname for r in caplog.records] == ["WARNING"], start
    assert _ask(tiny_kb_dir, uri) > 0


def test_a_damaged_segment_is_set_aside_and_the_store_filled_again(
    tiny_kb_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from retrieval.stores.fill import prepare_store

    db = tmp_path / "store.db"
    uri = prepare_store(tiny_kb_dir, str(db))
    (segment,) = (db / "collections" / "fengqiao_articles").rglob("*.parquet")
    segment.write_bytes(b"")
    assert _ask(tiny_kb_dir, uri) > 0
    (line,) = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and r.name == "retrieval.stores.milvus"
    ]
    assert "无法使用" in line and "重新建立" in line and "\n" not in line
    assert [p.name.split(".broken-")[0] for p in tmp_path.glob("store.db.broken-*")] == ["store.db"]


def test_a_store_open_in_another_program_is_never_set_aside(
    tiny_kb_dir: Path, tmp_path: Path
) -> None:
    import fcntl

    from retrieval.stores.fill import prepare_store

    db = tmp_path / "store.db"
    prepare_store(tiny_kb_dir, str(db))
    with open(db / "LOCK", "a+") as other:  # another process holds the folder open
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(KBError, match="同一时间只能由一个程序打开"):
            prepare_store(tiny_kb_dir, str(db))
    assert db.is_dir() and not list(tmp_path.glob("*.broken-*"))
