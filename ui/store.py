"""Named collections (案卷/教学集) of articles and cases, and each 案卷's case details, in SQLite."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from ingest import userdb

ItemKind = Literal["article", "case"]
FILENAME = "collections.sqlite3"

# Version 0: the first release (collections + items, no user_version set).
_SCHEMA_V0 = """
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

# Version 1: the case details a 调解协议书 / 调解笔录 is drafted from, and the parties.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS case_details (
    collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
    number TEXT NOT NULL DEFAULT '',
    committee TEXT NOT NULL DEFAULT '',
    mediator TEXT NOT NULL DEFAULT '',
    recorder TEXT NOT NULL DEFAULT '',
    others TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '',
    facts TEXT NOT NULL DEFAULT '',
    disputed TEXT NOT NULL DEFAULT '',
    responsibilities TEXT NOT NULL DEFAULT '',
    agreement TEXT NOT NULL DEFAULT '',
    performance TEXT NOT NULL DEFAULT '',
    deadline TEXT NOT NULL DEFAULT '',
    process TEXT NOT NULL DEFAULT '',
    copies INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS parties (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    ethnicity TEXT NOT NULL DEFAULT '',
    birth TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    occupation TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS parties_by_collection ON parties (collection_id, position);
"""

# Each entry migrates from the version before it; a database's PRAGMA user_version says
# how many have run. Existing files of version 0 keep their collections and items.
_MIGRATIONS: tuple[str, ...] = (_SCHEMA_V0, _SCHEMA_V1)
SCHEMA_VERSION = len(_MIGRATIONS)


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


@dataclass(frozen=True)
class Party:
    """A party to the dispute exactly as the mediator entered it (nothing derived or guessed)."""

    role: str = ""  # 申请人 / 被申请人 / 当事人 / 甲方 …
    name: str = ""  # a person's name, or an organisation's
    gender: str = ""
    ethnicity: str = ""  # 民族
    birth: str = ""  # 出生日期 or 年龄, as written
    id_number: str = ""  # 身份证号码 (统一社会信用代码 for an organisation)
    occupation: str = ""  # 职业或职务 / 工作单位
    address: str = ""  # 住址 / 住所
    phone: str = ""
    agent: str = ""  # 委托代理人, or an organisation's 法定代表人/负责人

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name).strip() for f in fields(self))


@dataclass(frozen=True)
class CaseDetails:
    """What a 案卷 needs for its 调解协议书 and 调解笔录 (人民调解法第二十九条), as entered.

    Every field is free text the mediator typed; an empty string means "not entered" and
    is printed as a blank line to fill in by hand, never filled in for them.
    """

    number: str = ""  # 编号, e.g. （2026）枫调字第001号
    committee: str = ""  # 人民调解委员会名称
    mediator: str = ""  # 人民调解员 (several separated by 、)
    recorder: str = ""  # 记录人
    others: str = ""  # 其他参加人 (invited relatives, experts …)
    place: str = ""  # 调解地点
    date: str = ""  # 调解日期/时间, as written
    facts: str = ""  # 纠纷的主要事实
    disputed: str = ""  # 争议事项
    responsibilities: str = ""  # 各方当事人的责任
    agreement: str = ""  # 调解协议的内容
    performance: str = ""  # 履行方式
    deadline: str = ""  # 履行期限
    process: str = ""  # 调解经过 (for the 笔录)
    copies: int = 0  # 份数; 0: not entered
    parties: tuple[Party, ...] = ()
    updated: str = ""  # when last saved (local time); "" for never

    @property
    def is_empty(self) -> bool:
        texts = [getattr(self, f.name) for f in fields(self) if f.name not in TEXTLESS]
        return not any(t.strip() for t in texts) and not self.copies and not self.parties


TEXTLESS = ("copies", "parties", "updated")
DETAIL_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(CaseDetails) if f.name not in ("parties", "updated")
)
PARTY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Party))


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class CollectionStore:
    """Collections in one SQLite file (WAL mode, one short connection per call).

    A connection per call keeps the store safe when several Streamlit sessions
    (threads) use it at once; WAL lets readers proceed while one writer commits,
    and ``busy_timeout`` makes a second writer wait instead of failing. Every write
    is one transaction (``synchronous=FULL``): a crash mid-save leaves the previous
    state, never half of the new one.

    The store never picks a collection for the caller: every item and detail write
    names an existing collection id, or fails with StoreError.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        self._migrate()

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self._write() as db:
            # Read the version inside the write lock: two processes opening an old file
            # at once must not both migrate it.
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"案卷数据库 {self.path} 的版本（{version}）比本程序支持的（{SCHEMA_VERSION}）新。"
                    "建议：升级枫桥后再打开。"
                )
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def schema_version(self) -> int:
        with self._connect() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    @classmethod
    def in_kb(cls, kb_dir: str | Path) -> CollectionStore:
        return cls(Path(kb_dir) / FILENAME)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.connect(self.path, foreign_keys=True)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.writing(self.path, foreign_keys=True)

    # ---- collections ------------------------------------------------------

    def create(self, name: str) -> Collection:
        """Create a new, empty collection.

        A name already in use is refused rather than returning the existing collection:
        two families' disputes given the same name must never share one 案卷.
        """
        name = name.strip()
        if not name:
            raise StoreError("案卷名称不能为空。建议：输入一个名称，如“张某离婚纠纷”。")
        if len(name) > 80:
            raise StoreError("案卷名称过长。建议：不超过 80 个字。")
        with self._write() as db:
            if db.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone():
                raise StoreError(
                    f"已有名为“{name}”的案卷。建议：换一个名称（如加上日期或当事人），"
                    "或在案卷列表中选择它。"
                )
            cur = db.execute(
                "INSERT INTO collections (name, created) VALUES (?, ?)", (name, _now())
            )
            new_id = cur.lastrowid
        found = self.get(int(new_id or 0))
        assert found is not None
        return found

    def require(self, collection_id: int | None) -> Collection:
        """The collection with this id, or StoreError when there is none (never a default)."""
        found = self.get(collection_id) if collection_id is not None else None
        if found is None:
            raise StoreError(
                "没有选定案卷，或该案卷已被删除。建议：先在案卷列表中选择或新建一个案卷。"
            )
        return found

    def collections(self) -> list[Collection]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.name, c.created, COUNT(i.id) FROM collections c "
                "LEFT JOIN items i ON i.collection_id = c.id GROUP BY c.id ORDER BY c.id"
            ).fetchall()
        return [Collection(*row) for row in rows]

    def get(self, collection_id: int) -> Collection | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT c.id, c.name, c.created, COUNT(i.id) FROM collections c "
                "LEFT JOIN items i ON i.collection_id = c.id WHERE c.id = ? GROUP BY c.id",
                (collection_id,),
            ).fetchone()
        return Collection(*row) if row else None

    def by_name(self, name: str) -> Collection | None:
        return next((c for c in self.collections() if c.name == name.strip()), None)

    def rename(self, collection_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise StoreError("案卷名称不能为空。建议：输入一个名称。")
        try:
            with self._write() as db:
                self._exists(db, collection_id)
                db.execute("UPDATE collections SET name = ? WHERE id = ?", (name, collection_id))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"已有名为“{name}”的案卷。建议：换一个名称。") from exc

    def delete(self, collection_id: int) -> None:
        """Delete a collection with its items, case details and parties, in one transaction."""
        with self._write() as db:
            for table in ("items", "parties", "case_details"):
                db.execute(f"DELETE FROM {table} WHERE collection_id = ?", (collection_id,))
            db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))

    @staticmethod
    def _exists(db: sqlite3.Connection, collection_id: int) -> None:
        if not db.execute("SELECT 1 FROM collections WHERE id = ?", (collection_id,)).fetchone():
            raise StoreError("案卷不存在（可能已被删除）。建议：刷新页面后重新选择案卷。")

    # ---- items ------------------------------------------------------------

    def add(self, collection_id: int, kind: ItemKind, ref: str, note: str = "") -> Item:
        """Append an article or case; adding one already present returns the existing item."""
        if kind not in ("article", "case"):
            raise ValueError(f"unknown item kind {kind!r}")
        with self._write() as db:
            self._exists(db, collection_id)
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
        """Move an item ``delta`` places (negative: up), clamped to the ends; one transaction."""
        with self._write() as db:
            row = db.execute("SELECT collection_id FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                return
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM items WHERE collection_id = ? ORDER BY position, id", (row[0],)
                )
            ]
            at = ids.index(item_id)
            to = max(0, min(len(ids) - 1, at + delta))
            ids.insert(to, ids.pop(at))
            db.executemany(
                "UPDATE items SET position = ? WHERE id = ?", [(p, i) for p, i in enumerate(ids)]
            )

    # ---- case details -----------------------------------------------------

    def details(self, collection_id: int) -> CaseDetails:
        """The case details of a collection (all fields empty when none were saved yet)."""
        with self._connect() as db:
            self._exists(db, collection_id)
            row = db.execute(
                f"SELECT {', '.join(DETAIL_COLUMNS)}, updated FROM case_details "
                "WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()
            parties = db.execute(
                f"SELECT {', '.join(PARTY_COLUMNS)} FROM parties WHERE collection_id = ? "
                "ORDER BY position, id",
                (collection_id,),
            ).fetchall()
        found = CaseDetails(parties=tuple(Party(*p) for p in parties))
        if row is None:
            return found
        values = dict(zip((*DETAIL_COLUMNS, "updated"), row, strict=True))
        return replace(found, **values)

    def save_details(self, collection_id: int, details: CaseDetails) -> CaseDetails:
        """Replace a collection's case details and parties in one transaction; return them.

        Parties with no field entered are dropped; text is stored as typed.
        """
        if details.copies < 0 or details.copies > 99:
            raise StoreError(
                f"份数“{details.copies}”不合理。建议：填写 1 到 99 之间的数字，或留空。"
            )
        parties = [p for p in details.parties if not p.is_empty]
        stamp = _now()
        with self._write() as db:
            self._exists(db, collection_id)
            values = [getattr(details, c) for c in DETAIL_COLUMNS]
            db.execute(
                f"INSERT OR REPLACE INTO case_details (collection_id, {', '.join(DETAIL_COLUMNS)}, "
                f"updated) VALUES ({', '.join('?' * (len(DETAIL_COLUMNS) + 2))})",
                (collection_id, *values, stamp),
            )
            db.execute("DELETE FROM parties WHERE collection_id = ?", (collection_id,))
            db.executemany(
                f"INSERT INTO parties (collection_id, position, {', '.join(PARTY_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(PARTY_COLUMNS) + 2))})",
                [
                    (collection_id, n, *(getattr(p, c) for c in PARTY_COLUMNS))
                    for n, p in enumerate(parties)
                ],
            )
        return replace(details, parties=tuple(parties), updated=stamp)
