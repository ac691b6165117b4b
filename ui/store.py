"""Named collections (案卷/教学集) of articles and cases, kept in SQLite under the kb folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

ItemKind = Literal["article", "case"]
FILENAME = "collections.sqlite3"

_SCHEMA = """
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


class StoreError(Exception):
    """A collection operation the user asked for cannot be done (message in Chinese)."""


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    created: str
    size: int = 0


@dataclass(frozen=True)
class Item:
    """One entry of a collection: an article id or a case id, its place and the user's note."""

    id: int
    collection_id: int
    kind: str  # article | case
    ref: str
    position: int
    note: str = ""
    added: str = ""


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class CollectionStore:
    """Collections in one SQLite file (WAL mode, one short connection per call).

    A connection per call keeps the store safe when several Streamlit sessions
    (threads) use it at once; WAL lets readers proceed while one writer commits,
    and ``busy_timeout`` makes a second writer wait instead of failing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @classmethod
    def in_kb(cls, kb_dir: str | Path) -> CollectionStore:
        return cls(Path(kb_dir) / FILENAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=10000")
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- collections ------------------------------------------------------

    def create(self, name: str) -> Collection:
        """Create a collection; an existing one with the same name is returned as is."""
        name = name.strip()
        if not name:
            raise StoreError("案卷名称不能为空。建议：输入一个名称，如“张某离婚纠纷”。")
        if len(name) > 80:
            raise StoreError("案卷名称过长。建议：不超过 80 个字。")
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO collections (name, created) VALUES (?, ?)", (name, _now())
            )
        found = self.by_name(name)
        assert found is not None
        return found

    def collections(self) -> list[Collection]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.name, c.created, COUNT(i.id) FROM collections c "
                "LEFT JOIN items i ON i.collection_id = c.id GROUP BY c.id ORDER BY c.id"
            ).fetchall()
        return [Collection(*row) for row in rows]

    def get(self, collection_id: int) -> Collection | None:
        return next((c for c in self.collections() if c.id == collection_id), None)

    def by_name(self, name: str) -> Collection | None:
        return next((c for c in self.collections() if c.name == name.strip()), None)

    def rename(self, collection_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise StoreError("案卷名称不能为空。建议：输入一个名称。")
        try:
            with self._write() as db:
                db.execute("UPDATE collections SET name = ? WHERE id = ?", (name, collection_id))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"已有名为“{name}”的案卷。建议：换一个名称。") from exc

    def delete(self, collection_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM items WHERE collection_id = ?", (collection_id,))
            db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))

    # ---- items ------------------------------------------------------------

    def add(self, collection_id: int, kind: ItemKind, ref: str, note: str = "") -> Item:
        """Append an article or case; adding one already present returns the existing item."""
        if kind not in ("article", "case"):
            raise ValueError(f"unknown item kind {kind!r}")
        with self._write() as db:
            if not db.execute(
                "SELECT 1 FROM collections WHERE id = ?", (collection_id,)
            ).fetchone():
                raise StoreError("案卷不存在（可能已被删除）。建议：刷新页面后重新选择案卷。")
            row = db.execute(
                "SELECT id FROM items WHERE collection_id = ? AND kind = ? AND ref = ?",
                (collection_id, kind, ref),
            ).fetchone()
            if row is None:
                (last,) = db.execute(
                    "SELECT COALESCE(MAX(position), -1) FROM items WHERE collection_id = ?",
                    (collection_id,),
                ).fetchone()
                db.execute(
                    "INSERT INTO items (collection_id, kind, ref, position, note, added) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (collection_id, kind, ref, last + 1, note, _now()),
                )
        found = next(i for i in self.items(collection_id) if i.kind == kind and i.ref == ref)
        return found

    def items(self, collection_id: int) -> list[Item]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, collection_id, kind, ref, position, note, added FROM items "
                "WHERE collection_id = ? ORDER BY position, id",
                (collection_id,),
            ).fetchall()
        return [Item(*row) for row in rows]

    def contains(self, collection_id: int, kind: ItemKind, ref: str) -> bool:
        return any(i.kind == kind and i.ref == ref for i in self.items(collection_id))

    def annotate(self, item_id: int, note: str) -> None:
        with self._write() as db:
            db.execute("UPDATE items SET note = ? WHERE id = ?", (note, item_id))

    def remove(self, item_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM items WHERE id = ?", (item_id,))

    def reorder(self, collection_id: int, item_ids: list[int]) -> None:
        """Put the items in the order given; ids not listed keep their order after them."""
        with self._write() as db:
            current = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM items WHERE collection_id = ? ORDER BY position, id",
                    (collection_id,),
                )
            ]
            wanted = [i for i in item_ids if i in current]
            order = wanted + [i for i in current if i not in wanted]
            db.executemany(
                "UPDATE items SET position = ? WHERE id = ?", [(p, i) for p, i in enumerate(order)]
            )

    def move(self, item_id: int, delta: int) -> None:
        """Move an item ``delta`` places (negative: up), clamped to the ends."""
        with self._connect() as db:
            row = db.execute("SELECT collection_id FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            return
        ids = [i.id for i in self.items(row[0])]
        at = ids.index(item_id)
        to = max(0, min(len(ids) - 1, at + delta))
        ids.insert(to, ids.pop(at))
        self.reorder(row[0], ids)
