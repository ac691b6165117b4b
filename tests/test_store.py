"""Collections store: collections, items, case details; migration, crashes, concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ui.errors import StoreError
from ui.store import SCHEMA_VERSION, CaseDetails, CollectionStore, Party

REPO = Path(__file__).resolve().parent.parent

# The schema as the first release created it (ui/store.py before case details), verbatim.
SCHEMA_V0 = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'case')),
    ref TEXT NOT NULL,
    position INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    added TEXT NOT NULL,
    UNIQUE (collection_id, kind, ref)
);
CREATE INDEX IF NOT EXISTS items_by_collection ON items (collection_id, position);
"""

DETAILS = CaseDetails(
    number="（2026）枫调字第017号",
    committee="枫桥镇人民调解委员会",
    mediator="陈某",
    place="调解室",
    date="2026年3月5日",
    facts="双方分居两年。",
    agreement="一、自愿离婚。\n二、孩子由女方抚养。",
    deadline="2026年3月20日前",
    parties=(
        Party(role="申请人", name="王某", gender="男", id_number="110105198504021234"),
        Party(),  # an empty row from the form is not kept
        Party(role="被申请人", name="李某", phone="13900001111"),
    ),
)


@pytest.fixture
def store(tmp_path: Path) -> CollectionStore:
    return CollectionStore.in_kb(tmp_path)


def test_wal_mode_and_file_under_kb(store: CollectionStore, tmp_path: Path) -> None:
    assert store.path == tmp_path / "collections.sqlite3"
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_create_add_reorder_annotate_remove(store: CollectionStore) -> None:
    c = store.create("张某离婚纠纷")
    a = store.add(c.id, "article", "民法典:1079")
    b = store.add(c.id, "case", "case-divorce", note="参考")
    d = store.add(c.id, "article", "民法典:1076")
    assert store.add(c.id, "article", "民法典:1079").id == a.id  # no duplicates
    assert [i.ref for i in store.items(c.id)] == ["民法典:1079", "case-divorce", "民法典:1076"]
    store.move(d.id, -1)
    assert [i.id for i in store.items(c.id)] == [a.id, d.id, b.id]
    store.move(a.id, -5)  # clamped
    store.reorder(c.id, [b.id])
    assert [i.id for i in store.items(c.id)] == [b.id, a.id, d.id]
    store.annotate(a.id, "女方可起诉离婚")
    assert next(i for i in store.items(c.id) if i.id == a.id).note == "女方可起诉离婚"
    store.remove(b.id)
    assert [i.id for i in store.items(c.id)] == [a.id, d.id]
    assert store.get(c.id).size == 2
    assert store.contains(c.id, "article", "民法典:1076")


def test_names_validated_and_unique(store: CollectionStore) -> None:
    with pytest.raises(StoreError, match="建议"):
        store.create("  ")
    one, two = store.create("甲"), store.create("乙")
    # A second family's dispute with the same name must not open the first one's file.
    with pytest.raises(StoreError, match="已有名为“甲”的案卷。建议"):
        store.create(" 甲 ")
    assert len(store.collections()) == 2
    with pytest.raises(StoreError, match="已有名为"):
        store.rename(two.id, "甲")
    store.rename(one.id, "丙")
    assert [c.name for c in store.collections()] == ["丙", "乙"]


def test_delete_collection_removes_items(store: CollectionStore) -> None:
    c = store.create("甲")
    store.add(c.id, "article", "x:1")
    store.delete(c.id)
    assert store.collections() == []
    with pytest.raises(StoreError):
        store.add(c.id, "article", "x:1")


def test_persists_across_restarts(tmp_path: Path) -> None:
    c = CollectionStore.in_kb(tmp_path).create("甲")
    CollectionStore.in_kb(tmp_path).add(c.id, "case", "k")
    again = CollectionStore.in_kb(tmp_path)
    assert [i.ref for i in again.items(c.id)] == ["k"]


def test_unknown_kind_rejected(store: CollectionStore) -> None:
    c = store.create("甲")
    with pytest.raises(ValueError):
        store.add(c.id, "law", "x")  # type: ignore[arg-type]


def test_several_sessions_write_at_once(tmp_path: Path) -> None:
    c = CollectionStore.in_kb(tmp_path).create("共享")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        own = CollectionStore.in_kb(tmp_path)  # like a separate Streamlit session
        try:
            for i in range(20):
                own.add(c.id, "article", f"法{n}:{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    items = CollectionStore.in_kb(tmp_path).items(c.id)
    assert len(items) == 80
    assert sorted(i.position for i in items) == list(range(80))


def test_no_collection_is_ever_chosen_for_the_caller(store: CollectionStore) -> None:
    with pytest.raises(StoreError, match="没有选定案卷.*建议"):
        store.require(None)
    with pytest.raises(StoreError, match="案卷不存在"):
        store.add(404, "article", "民法典:1079")
    with pytest.raises(StoreError, match="案卷不存在"):
        store.save_details(404, DETAILS)
    assert store.collections() == []  # nothing was created on the way
    first, second = store.create("王家"), store.create("李家")
    store.add(first.id, "article", "民法典:1079")
    store.add(second.id, "article", "民法典:1087")
    assert store.require(second.id) == store.get(second.id)
    assert [i.ref for i in store.items(first.id)] == ["民法典:1079"]
    assert [i.ref for i in store.items(second.id)] == ["民法典:1087"]
    assert [c.size for c in store.collections()] == [1, 1]


def test_case_details_round_trip_per_collection(store: CollectionStore) -> None:
    one, two = store.create("王家"), store.create("李家")
    assert store.details(one.id) == CaseDetails() and store.details(one.id).is_empty
    saved = store.save_details(one.id, DETAILS)
    assert saved.updated and [p.name for p in saved.parties] == ["王某", "李某"]
    got = store.details(one.id)
    assert got == saved
    assert got.agreement == "一、自愿离婚。\n二、孩子由女方抚养。"  # as typed
    assert store.details(two.id).is_empty  # the other family's file is untouched
    store.save_details(one.id, CaseDetails(facts="改为：分居三年。"))
    assert store.details(one.id).parties == () and store.details(one.id).facts == "改为：分居三年。"
    with pytest.raises(StoreError, match="份数"):
        store.save_details(one.id, CaseDetails(copies=-1))
    store.save_details(one.id, DETAILS)
    store.delete(one.id)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM parties").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM case_details").fetchone()[0] == 0


def test_database_of_the_first_release_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "collections.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA_V0)
        db.execute(
            "INSERT INTO collections (name, created) VALUES ('旧案卷', '2026-01-01T09:00:00')"
        )
        db.execute(
            "INSERT INTO items (collection_id, kind, ref, position, note, added) "
            "VALUES (1, 'article', '民法典:1079', 0, '旧笔记', '2026-01-01T09:00:00')"
        )
    db.close()
    store = CollectionStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    (old,) = store.collections()
    assert (old.name, old.size) == ("旧案卷", 1)
    assert [(i.ref, i.note) for i in store.items(old.id)] == [("民法典:1079", "旧笔记")]
    assert store.details(old.id).is_empty
    store.save_details(old.id, DETAILS)
    again = CollectionStore(path)  # opening a migrated file changes nothing
    assert again.details(old.id).number == DETAILS.number
    assert again.items(old.id)[0].note == "旧笔记"


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "collections.sqlite3"
    CollectionStore(path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="比本程序支持的.*新。建议：升级"):
        CollectionStore(path)


def test_crash_in_the_middle_of_a_save_keeps_the_previous_details(tmp_path: Path) -> None:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("王家")
    before = store.save_details(c.id, DETAILS)
    # A process that dies (no cleanup, no rollback) after the old parties were deleted
    # and before the new ones are written.
    script = textwrap.dedent(
        f"""
        import os, sqlite3, types
        import ingest.userdb as u
        import ui.store as s

        class Dies(sqlite3.Connection):
            def executemany(self, sql, rows):
                if "INSERT INTO parties" in sql:
                    os._exit(7)
                return super().executemany(sql, rows)

        real = sqlite3.connect
        u.sqlite3 = types.SimpleNamespace(
            connect=lambda *a, **k: real(*a, factory=Dies, **k),
            Connection=sqlite3.Connection,
            Error=sqlite3.Error,
        )
        store = s.CollectionStore({str(store.path)!r})
        store.save_details({c.id}, s.CaseDetails(facts="新的事实", parties=(s.Party(name="赵某"),)))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 7, done.stderr
    after = CollectionStore.in_kb(tmp_path).details(c.id)
    assert after == before


def test_case_files_saved_before_accounts_belong_to_the_administrators(tmp_path: Path) -> None:
    """Migrating to owners loses nothing; an owner-less 案卷 is the administrators'."""
    from ui.store import Viewer, can_delete, can_see, is_owner

    path = tmp_path / "collections.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_V0)
        db.execute("PRAGMA user_version = 0")
    old = CollectionStore(path)  # v0 → current, then pretend it was v1 with data
    c = old.create("旧案卷")
    old.add(c.id, "article", "民法典:1079")
    old.save_details(c.id, DETAILS)
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DROP TABLE audit")
        db.execute("DROP TABLE shares")
        db.execute("ALTER TABLE collections DROP COLUMN owner")
        db.execute("ALTER TABLE collections DROP COLUMN sharing")
        db.execute("PRAGMA user_version = 1")
    db.close()
    store = CollectionStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    (got,) = store.collections()
    assert (got.name, got.size, got.owner, got.sharing) == ("旧案卷", 1, "", "private")
    assert store.details(got.id).parties[0].id_number == "110105198504021234"
    admin, mediator, local = (
        Viewer("王主任", admin=True),
        Viewer("李调解"),
        Viewer("本机", local=True),
    )
    assert is_owner(got, admin) and is_owner(got, local) and not is_owner(got, mediator)
    assert not can_see(got, mediator) and not can_delete(got, mediator)
    assert store.visible(mediator) == [] and store.visible(admin) == [got]
