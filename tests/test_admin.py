"""Administering a knowledge base: a server's service follows the folder (``retrieval.admin.Live``),
one loader for every store, one folder owner, one limit."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FAKE_CONFIG, FakeEmbedder

from retrieval.admin import Live, Upload, add_files
from retrieval.kb_folder import KBFolder
from retrieval.service import Service

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb  # noqa: E402

STATUTE = (
    "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n\n"
    "第二条 相邻各户应当互谅互让，妥善处理排水、通行等问题。\n"
)
QUESTION = "村民建房占用公共通道怎么办"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


@pytest.fixture
def kb(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "kb")
    return tmp_path / "kb"


class Loads:
    """A ``Live`` load function that counts its calls (and can be slow or fail)."""

    def __init__(self, kb: Path, delay: float = 0.0) -> None:
        self.kb, self.delay, self.calls = kb, delay, 0
        self.embedder = FakeEmbedder()

    def __call__(self, before: Service | None) -> Service:
        self.calls += 1
        time.sleep(self.delay)
        return Service.load(self.kb, embedder=self.embedder, config=FAKE_CONFIG)


def _found(service: Service) -> bool:
    return any("村民建房" in h.record.text for h in service.ask(QUESTION, k=3).result.articles)


def test_a_running_service_sees_an_add_made_elsewhere_on_its_next_question(kb: Path) -> None:
    loads = Loads(kb)
    live = Live(KBFolder(kb), loads)
    first = live.current()
    assert live.current() is first and loads.calls == 1  # nothing changed: no reload
    assert not _found(first)

    add_files(kb, [Upload("村规民约.md", STATUTE.encode())], embedder=FakeEmbedder())

    second = live.current()
    assert second is not first and loads.calls == 2
    assert _found(second)
    assert live.current() is second and loads.calls == 2


def test_many_sessions_after_a_rebuild_load_it_once(kb: Path) -> None:
    loads = Loads(kb, delay=0.3)
    live = Live(KBFolder(kb), loads)
    first = live.current()
    add_files(kb, [Upload("村规民约.md", STATUTE.encode())], embedder=FakeEmbedder())

    got: list[Service] = []
    threads = [threading.Thread(target=lambda: got.append(live.current())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads.calls == 2  # one reload for eight sessions, not a storm
    assert {id(s) for s in got} <= {id(first), id(live.current())}  # the old one meanwhile
    assert _found(live.current())


def test_a_rebuilt_index_that_cannot_load_keeps_the_previous_one(kb: Path) -> None:
    loads = Loads(kb)
    live = Live(KBFolder(kb), loads)
    first = live.current()
    manifest = KBFolder(kb).index.file("manifest.json")
    manifest.write_text("{broken", encoding="utf-8")  # a new inode and time: a changed index
    assert live.current() is first and loads.calls == 2
    assert live.current() is first and loads.calls == 2  # not tried again until it changes


def test_without_any_index_the_error_reaches_the_page(tmp_path: Path) -> None:
    from retrieval.errors import KBError

    live = Live(KBFolder(tmp_path / "empty"), Loads(tmp_path / "empty"))
    with pytest.raises(KBError, match="fengqiao build"):
        live.current()


def test_one_loader_for_every_store_limits_blas_threads(kb: Path) -> None:
    """Milvus-served queries ran with OpenBLAS's default threads: every store now loads one way."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from retrieval.loader import flat_stores

    def given(*args: object) -> object:
        return flat_stores(*args)  # type: ignore[arg-type]

    with threadpool_limits(2, user_api="blas"):
        Service.load(kb, stores=given, embedder=FakeEmbedder(), config=FAKE_CONFIG)  # type: ignore[arg-type]
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and set(blas) == {1}


def test_the_folder_owner_names_every_file_and_the_drop_in_rule(kb: Path) -> None:
    folder = KBFolder(kb)
    folder.dropin.mkdir()
    for name in ("村规.md", "README.md", ".DS_Store", ".村规.md.123.part"):
        (folder.dropin / name).write_text("第一条 甲。", encoding="utf-8")
    assert [p.name for p in folder.dropin_files()] == ["村规.md"]
    assert folder.precedents.name == "precedents.sqlite3" and folder.precedents.parent == kb
    assert folder.index.path == kb / "index" and folder.embeddings == kb / "cache" / "embeddings"


def test_a_milvus_served_server_follows_an_add_too(kb: Path, tmp_path: Path) -> None:
    """The reload goes through the same loader: the store is refilled from the new build."""
    from retrieval.loader import store_factory

    uri = str(tmp_path / "kb.db")
    embedder = FakeEmbedder()

    def load(before: Service | None) -> Service:
        return Service.load(kb, stores=store_factory(uri), embedder=embedder, config=FAKE_CONFIG)

    live = Live(KBFolder(kb), load)
    assert not _found(live.current())
    add_files(kb, [Upload("村规民约.md", STATUTE.encode())], embedder=FakeEmbedder())
    assert _found(live.current()) and live.loads == 2


def test_committee_records_added_elsewhere_are_found_without_a_reload(kb: Path) -> None:
    """``add`` of a committee table writes the precedent store only; a running server that had
    no store yet opens it on its next question."""
    loads = Loads(kb)
    live = Live(KBFolder(kb), loads)
    question = "邻居在楼道堆放杂物，怎么调解？"
    before = [h.record.title for h in live.current().ask(question, k=3, k_cases=5).result.cases]
    assert "楼道堆物纠纷" not in before and not KBFolder(kb).precedents.exists()
    table = (
        "编号,案件名称,纠纷类型,日期,基本案情,调解结果\n"
        "7,楼道堆物纠纷,邻里关系,2024-03-15,李四在楼道堆放杂物，张三多次要求清理未果。,"
        "李四当日清理杂物，双方和解。\n"
    )
    report = add_files(kb, [Upload("调解记录.csv", table.encode())])
    assert report.build is None and [r.added for _, r in report.precedents] == [
        ["precedent-2024-7"]
    ]
    after = [h.record.title for h in live.current().ask(question, k=3, k_cases=5).result.cases]
    assert "楼道堆物纠纷" in after and loads.calls == 1  # no rebuild, no reload
