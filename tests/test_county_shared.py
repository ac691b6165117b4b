"""The county's shared precedents in a committee's similar cases (issue 24), on a real PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeEmbedder
from streamlit.testing.v1 import AppTest

from retrieval.county import shared
from retrieval.precedents import PrecedentDraft
from tests import pgserver
from ui import cli

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(REPO / "ui" / "app.py")
QUESTION = "邻居在楼道里堆满了纸箱和旧家具，消防通道都堵住了，怎么调解？"
EAST = ("东村人民调解委员会", "清河镇", "枫桥县")
WEST = ("西村人民调解委员会", "白沙镇", "枫桥县")
WEST_LABEL = "调解案例（来自白沙镇西村人民调解委员会）"
OWN = PrecedentDraft(
    number="2024-001",
    title="楼道堆物堵塞消防通道纠纷",
    facts="钱大伟在楼道堆放纸箱和旧家具，堵塞消防通道，邻居孙丽多次劝说未果。",
    agreement="钱大伟三日内清理楼道杂物，今后不再堆放。",
    dispute_type="邻里关系",
    articles=("民法典:288",),
    parties=("钱大伟", "孙丽"),
    date="2024-03-05",
)
THEIRS = PrecedentDraft(
    number="2024-007",
    title="楼道堆放旧家具纠纷",
    facts="周明在楼道里堆放旧家具和纸箱，邻居吴芳认为堵住了消防通道，双方争吵。",
    agreement="周明两日内搬走楼道里的旧家具和纸箱。",
    dispute_type="邻里关系",
    articles=("民法典:288",),
    parties=("周明", "吴芳"),
    date="2024-04-10",
)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with pgserver.server_for_tests() as uri:
        yield uri


@pytest.fixture
def uri(pg_server: str) -> str:
    return pgserver.fresh_database(pg_server)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.encoders.embedder.load_embedder", lambda *a, **k: fake)
    monkeypatch.delenv(shared.URI_ENV, raising=False)


def committee(built: Path, tmp_path: Path, name: str, draft: PrecedentDraft) -> Path:
    kb = tmp_path / name
    shutil.copytree(built, kb)
    load_fixture_kb(kb).precedents.record(draft)
    return kb


def sync(kb: Path, uri: str, who: tuple[str, str, str]) -> None:
    args = ["sync", "--to", uri, "--kb", str(kb)]
    args += ["--committee", who[0], "--town", who[1], "--county", who[2]]
    assert cli.main(args) == 0


@pytest.fixture
def east(built: Path, tmp_path: Path) -> Path:
    """The east committee with its own record (OWN), not synced yet."""
    return committee(built, tmp_path, "east", OWN)


@pytest.fixture
def west(built: Path, tmp_path: Path, uri: str) -> Path:
    """The west committee, its record (THEIRS) pushed to the county."""
    kb = committee(built, tmp_path, "west", THEIRS)
    sync(kb, uri, WEST)
    return kb


def similar(service: Any) -> list[tuple[str, str, str]]:
    cases = service.ask(QUESTION, k=3, k_cases=5).result.cases
    return [(h.record.id, h.record.title, h.record.label) for h in cases]


def test_another_committees_case_joins_labelled_and_leaves_after_it_is_withdrawn(
    east: Path, west: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sync(east, uri, EAST)  # pushes its own, pulls the west's
    out = capsys.readouterr().out
    assert "县级共享案例：其他调委会 1 条（新增 1" in out
    assert json.loads((east / "county.json").read_text(encoding="utf-8"))["uri"] == uri
    service = load_fixture_kb(east)
    shown = similar(service)
    theirs = [s for s in shown if s[1] == THEIRS.title]
    assert theirs == [("county-西村人民调解委员会-2024-007", THEIRS.title, WEST_LABEL)]
    # the committee's own record is shown once, as its own, though the county holds it too
    assert [s[2] for s in shown if s[1] == OWN.title] == ["调解案例（本委员会记录）"]
    card = service.case(theirs[0][0])
    assert card is not None and "周明" not in card.text  # masked before it left the west
    assert service.case(theirs[0][0]) is not None  # a 案卷 can hold it and open it again

    # Similar-case display only: the articles (precedent evidence included) are unchanged.
    plain = load_fixture_kb(east)
    plain.shared = None
    for question in (QUESTION, "楼道堆放杂物，邻居不清理"):
        got = service.ask(question, k=10, k_cases=5).result.articles
        want = plain.ask(question, k=10, k_cases=5).result.articles
        assert [(h.record.id, h.score) for h in got] == [(h.record.id, h.score) for h in want]
    assert service.ask(QUESTION).answer == plain.ask(QUESTION).answer

    # The west deletes its record and syncs again; after the east's next pull it is gone.
    load_fixture_kb(west).precedents.delete("2024-007")
    sync(west, uri, WEST)
    assert THEIRS.title in [s[1] for s in similar(service)]  # the cache holds it until a pull
    sync(east, uri, EAST)
    assert "撤回 1" in capsys.readouterr().out
    assert THEIRS.title not in [s[1] for s in similar(service)]
    assert service.case(theirs[0][0]) is None


def test_a_running_server_pulls_in_the_background_without_waiting(
    east: Path, west: Path, uri: str
) -> None:
    (east / "county.json").write_text(json.dumps({"committee": EAST[0], "uri": uri}), "utf-8")
    service = load_fixture_kb(east)
    assert THEIRS.title not in [s[1] for s in similar(service)]  # nothing pulled yet
    assert service.shared is not None and service.shared._thread is not None
    service.shared._thread.join(30)
    assert (THEIRS.title, WEST_LABEL) in [(s[1], s[2]) for s in similar(service)]


def test_county_down_answers_with_local_cases_and_one_notice(
    east: Path, west: Path, uri: str
) -> None:
    down = f"postgresql://postgres@127.0.0.1:{pgserver._free_port()}/postgres"
    (east / "county.json").write_text(json.dumps({"committee": EAST[0], "uri": down}), "utf-8")
    service = load_fixture_kb(east)
    started = time.perf_counter()
    first = service.ask(QUESTION, k=3, k_cases=5)
    assert time.perf_counter() - started < 5  # the question never waits for the pull
    assert service.shared is not None and service.shared._thread is not None
    service.shared._thread.join(30)
    answered = service.ask(QUESTION, k=3, k_cases=5)
    notices = [n.text for n in answered.result.notices]
    assert notices == ["县级共享案例库暂时连不上，类似案例只含本机的案例"]
    assert [h.record.id for h in answered.result.cases] == [h.record.id for h in first.result.cases]
    assert OWN.title in [h.record.title for h in answered.result.cases]

    # Pulled once while it was up, then down: the cached cases still answer, the notice says when.
    sync(east, uri, EAST)
    (east / "county.json").write_text(json.dumps({"committee": EAST[0], "uri": down}), "utf-8")
    service = load_fixture_kb(east)
    service.shared.refresh_s = 0  # type: ignore[union-attr]
    service.ask(QUESTION, k=3, k_cases=5)
    service.shared._thread.join(30)  # type: ignore[union-attr]
    answered = service.ask(QUESTION, k=3, k_cases=5)
    assert THEIRS.title in [h.record.title for h in answered.result.cases]
    (notice,) = answered.result.notices
    assert notice.text.startswith("县级共享案例库暂时连不上，其他调委会的案例是 20")


def test_the_card_names_the_committee_a_shared_case_comes_from(
    east: Path, west: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(east, uri, EAST)
    monkeypatch.setenv("FENGQIAO_KB", str(east))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["fengqiao_service_override"] = load_fixture_kb(east)
    at.run()
    at.text_input(key="q").input(QUESTION)
    at.run()
    assert not at.exception
    titles = [m.value for m in at.markdown if THEIRS.title in m.value]
    assert titles and WEST_LABEL in titles[0]  # the badge beside the title
    sources = [c.value for c in at.caption if "来源：" in c.value]
    assert "来源：县级共享的调解案例，来自白沙镇西村人民调解委员会（已匿名化）" in sources


def test_on_milvus_the_shared_cases_live_in_a_collection_beside_the_cases(
    east: Path, west: Path, uri: str, tmp_path: Path
) -> None:
    from conftest import FAKE_CONFIG

    from retrieval.loader import store_factory
    from retrieval.service import Service

    sync(east, uri, EAST)
    service = Service.load(
        east,
        stores=store_factory(str(tmp_path / "store.db")),
        embedder=FakeEmbedder(),
        config=FAKE_CONFIG,
    )
    try:
        shown = similar(service)
        assert shown == similar(load_fixture_kb(east))  # the same list as from memory
        assert (THEIRS.title, WEST_LABEL) in [(s[1], s[2]) for s in shown]
        assert service.shared is not None and service.shared._milvus is not None
        collection = service.shared._milvus.store
        assert collection.name == "fengqiao_county_shared" and len(collection) >= 1
        load_fixture_kb(west).precedents.delete("2024-007")
        sync(west, uri, WEST)
        sync(east, uri, EAST)
        assert THEIRS.title not in [s[1] for s in similar(service)]
        assert len(collection) == 0  # withdrawn at the county: deleted from Milvus too
    finally:
        service.articles.store.close()  # type: ignore[attr-defined]


def test_an_edited_record_is_reloaded_and_the_rest_reused(
    east: Path, built: Path, tmp_path: Path, uri: str
) -> None:
    west = tmp_path / "west"
    shutil.copytree(built, west)
    service = load_fixture_kb(west)
    service.precedents.record(THEIRS)
    service.precedents.record(OWN)  # a second west record, same wording as the east's
    sync(west, uri, WEST)
    sync(east, uri, EAST)
    embedder = FakeEmbedder()
    path = east / shared.CACHE
    before = shared._Index.load(path, embedder)
    assert len(before) == 2
    service.precedents.update("2024-007", replace(THEIRS, title="楼道旧家具已搬走纠纷"))
    sync(west, uri, WEST)
    sync(east, uri, EAST)
    after = shared._Index.load(path, embedder, before)
    titles = {c.id: c.title for c in after.cases}
    assert titles["county-西村人民调解委员会-2024-007"] == "楼道旧家具已搬走纠纷"
    same = "county-西村人民调解委员会-2024-001"
    assert next(c for c in after.cases if c.id == same) is next(
        c for c in before.cases if c.id == same
    )  # not read and parsed again


def test_a_pull_that_fails_after_the_push_does_not_fail_the_sync(
    built: Path,
    tmp_path: Path,
    uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from retrieval.errors import CountyError

    def down(*_: object) -> None:
        raise CountyError("无法连接县级数据库", "检查网络")

    monkeypatch.setattr(shared, "pull", down)
    west = committee(built, tmp_path, "west", THEIRS)
    sync(west, uri, WEST)  # exit code 0: the records went up
    out = capsys.readouterr().out
    assert "西村人民调解委员会：新增 1" in out
    assert "县级共享案例这次没有取回（无法连接县级数据库）；网页运行时会在后台再取" in out


def test_a_pull_with_nothing_synced_since_reads_no_records(
    west: Path, tmp_path: Path, uri: str
) -> None:
    from retrieval.county import schema

    path = tmp_path / shared.CACHE
    source = shared.Source(uri, EAST[0])
    assert shared.pull(source, path) == shared.PullReport(added=1, total=1)
    with schema.connect(uri) as conn, conn.transaction():  # a change no sync wrote
        conn.execute("UPDATE records SET digest = 'changed elsewhere'")
    # the county's sync log has not moved: the records are not listed again
    assert shared.pull(source, path) == shared.PullReport(total=1)
    load_fixture_kb(west).precedents.update("2024-007", replace(THEIRS, title="楼道旧家具纠纷"))
    sync(west, uri, WEST)  # a sync writes its log row with the records
    assert shared.pull(source, path) == shared.PullReport(updated=1, total=1)
