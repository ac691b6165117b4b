"""`fengqiao query/eval/serve --store …`: the same answers from milvus-lite, filled from the folder."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, FAKE_CONFIG, FakeEmbedder
from ui import cli

pytest.importorskip("milvus_lite")

QUESTION = "邻居装修噪音太大怎么办"


@pytest.fixture()
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds and loads, from the folder or from a store, use the fake embedder."""
    from retrieval.service import Service

    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))
    monkeypatch.delenv("FENGQIAO_STORE", raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def kb(fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    kb = tmp_path / "kb"
    statutes = tmp_path / "statutes"
    shutil.copytree(DATA / "statutes", statutes)
    code, _, err = _run(capsys, "build", "--statutes", str(statutes), "--kb", str(kb))
    assert code == 0, err
    (kb / "drop-in").mkdir(exist_ok=True)
    return kb


def _answer(capsys: pytest.CaptureFixture[str], kb: Path, *store: str) -> dict[str, Any]:
    code, out, err = _run(capsys, "query", QUESTION, "--kb", str(kb), "--json", *store)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _marks(db: Path) -> dict[str, dict[str, Any]]:
    from retrieval.stores.milvus import MilvusStore

    out = {}
    for corpus in ("articles", "cases"):
        store = MilvusStore(str(db), f"fengqiao_{corpus}", corpus=corpus, dim=FakeEmbedder.dim)  # type: ignore[arg-type]
        out[corpus] = {**store.filled_from(), "rows": len(store)}
        store.close()
    return out


def test_query_on_milvus_lite_answers_like_the_folder_and_fills_once(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "county" / "kb.db"
    flat = _answer(capsys, kb)
    lite = _answer(capsys, kb, "--store", f"milvus-lite://{db}")
    assert lite["articles"] and [a["id"] for a in lite["articles"]] == [
        a["id"] for a in flat["articles"]
    ]
    assert [a["text"] for a in lite["articles"]] == [a["text"] for a in flat["articles"]]
    assert lite["answer"] == flat["answer"]
    marks = _marks(db)
    manifest = json.loads((kb / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert marks["articles"]["complete"] is True
    assert marks["articles"]["checksum"] == manifest["corpus"]["checksum"]
    assert marks["articles"]["rows"] == manifest["corpus"]["article_units"]

    # filled and marked: the next run (a bare .db path this time) copies nothing again
    calls: list[str] = []
    import retrieval.stores.fill as fill_mod

    real_fill = fill_mod.fill
    monkeypatch.setattr(
        fill_mod, "fill", lambda *a, **k: calls.append("fill") or real_fill(*a, **k)
    )
    again = _answer(capsys, kb, "--store", str(db))
    assert calls == [] and again["articles"] == lite["articles"]


def test_a_rebuilt_knowledge_base_refills_the_store(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "kb.db"
    _answer(capsys, kb, "--store", str(db))
    before = _marks(db)["articles"]
    rule = tmp_path / "某村装修公约.txt"
    rule.write_text(
        "某村装修公约\n第一条 装修施工产生噪音的，晚上十点以后不得施工。\n", encoding="utf-8"
    )
    code, _, err = _run(capsys, "add", str(rule), "--kb", str(kb))
    assert code == 0, err
    after = _answer(capsys, kb, "--store", str(db))
    marks = _marks(db)["articles"]
    assert marks["created"] != before["created"] or marks["checksum"] != before["checksum"]
    assert marks["rows"] == before["rows"] + 1  # emptied and refilled: no unit twice
    assert any(a["law"] == "某村装修公约" for a in after["articles"])


def test_eval_gives_the_same_numbers_on_both_stores(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--queries", str(DATA / "queries.jsonl"), "--kb", str(kb), "--json"]
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    flat = json.loads(out)
    code, out, err = _run(capsys, *args, "--store", str(tmp_path / "eval.db"))
    assert code == 0, err
    lite = json.loads(out)
    assert lite["queries"] == flat["queries"] >= 3
    for config, metrics in flat["by_config"].items():
        for name, value in metrics.items():
            assert lite["by_config"][config][name] == pytest.approx(value, abs=0.005)


def test_unreachable_server_and_unknown_store_are_one_chinese_line(
    kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "query", QUESTION, "--kb", str(kb), "--store", "milvus://127.0.0.1:9"
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "Milvus" in err and "127.0.0.1:9" in err and "建议" in err
    assert "FENGQIAO_MILVUS_TOKEN" in err
    code, out, err = _run(capsys, "query", QUESTION, "--kb", str(kb), "--store", "faiss")
    assert code == 1 and err.count("\n") == 1
    assert "--store faiss" in err and "milvus://" in err and "建议" in err


def test_token_comes_only_from_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("query", "eval", "serve", "run"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        assert "--store" in text and "FENGQIAO_MILVUS_TOKEN" in text and "--token" not in text
    with pytest.raises(SystemExit):
        cli.main(["query", "问题", "--token", "root:Milvus"])
    capsys.readouterr()


def test_serve_fills_the_store_and_hands_it_to_the_web_app(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        started.update(argv=argv, env=env)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("FENGQIAO_MILVUS_TOKEN", "fengqiao:secret")
    db = tmp_path / "served.db"
    with pytest.raises(SystemExit):
        cli.main(["serve", "--kb", str(kb), "--store", f"milvus-lite://{db}"])
    capsys.readouterr()
    assert started["env"]["FENGQIAO_STORE"] == str(db.resolve())
    assert started["env"]["FENGQIAO_KB"] == str(kb.resolve())
    assert not any("secret" in a for a in started["argv"])
    assert _marks(db)["cases"]["complete"] is True  # filled before the server starts

    # what the web app then does with the environment: the same service, from the store
    from retrieval.loader import store_factory
    from retrieval.service import Service
    from retrieval.stores.milvus import MilvusStore

    monkeypatch.setenv("FENGQIAO_STORE", started["env"]["FENGQIAO_STORE"])
    service = Service.load(kb, stores=store_factory())
    assert isinstance(service.articles.store, MilvusStore)
    assert service.ask(QUESTION).result.articles
    service.articles.store.close()
