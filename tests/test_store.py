"""Collections store: create, add, reorder, annotate, delete; persistence; concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ui.store import CollectionStore, StoreError


@pytest.fixture
def store(tmp_path: Path) -> CollectionStore:
    return CollectionStore.in_kb(tmp_path)


def test_wal_mode_and_file_under_kb(store: CollectionStore, tmp_path: Path) -> None:
    assert store.path == tmp_path / "collections.sqlite3"
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_create_add_reorder_annotate_remove(store: CollectionStore) -> None:
    c = store.create("张某离婚纠纷")
    assert store.create("张某离婚纠纷").id == c.id  # same name, same collection
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
