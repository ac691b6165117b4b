"""Named collections (案卷/教学集) of articles and cases, each 案卷's case details, who owns
and may see it, and an append-only log of who opened, exported and deleted which 案卷 (SQLite)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from ingest import userdb
from retrieval.kb_folder import KBFolder

ItemKind = Literal["article", "case"]

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

# Version 2: each 案卷 has an owner and a sharing choice, and an audit log. 案卷 saved before
# accounts keep owner '' and belong to the administrators (``is_owner``). The log refuses
# UPDATE and DELETE (triggers): an entry, once written, stays as written.
_SCHEMA_V2 = (
    "ALTER TABLE collections ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE collections ADD COLUMN sharing TEXT NOT NULL DEFAULT 'private'",
    """CREATE TABLE IF NOT EXISTS shares (
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        user TEXT NOT NULL,
        PRIMARY KEY (collection_id, user)
    )""",
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        collection_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
)


def _statements(script: str) -> tuple[str, ...]:
    return tuple(s for s in script.split(";") if s.strip())


# Each entry migrates from the version before it; a database's PRAGMA user_version says
# how many have run. Existing files of version 0 keep their collections and items.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _statements(_SCHEMA_V0),
    _statements(_SCHEMA_V1),
    _SCHEMA_V2,
)
SCHEMA_VERSION = len(_MIGRATIONS)

Sharing = Literal["private", "committee", "named"]
SHARING_NAMES: dict[str, str] = {
    "private": "仅自己",
    "named": "指定的同事",
    "committee": "本委员会所有人",
}
AuditAction = Literal["open", "export", "delete", "share"]
AUDIT_NAMES: dict[str, str] = {
    "open": "打开",
    "export": "导出",
    "delete": "删除",
    "share": "共享设置",
}
ADMINS = "管理员"
"""How an owner-less 案卷 (saved before accounts, or on the local computer) names its owner."""


class StoreError(Exception):
    """A collection operation the user asked for cannot be done (message in Chinese)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a signed-in user, or the person at the server's keyboard (``local``)."""

    user: str
    admin: bool = False
    local: bool = False


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    created: str
    size: int = 0
    owner: str = ""  # the account that created it; "" = the administrators (before accounts)
    sharing: str = "private"  # one of Sharing
    shared_with: tuple[str, ...] = ()  # account names, when sharing is "named"

    @property
    def owner_name(self) -> str:
        return self.owner or ADMINS


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what to which 案卷, when (local time, ISO)."""

    at: str
    user: str
    action: str  # one of AuditAction
    collection_id: int
    name: str
    detail: str = ""

    @property
    def action_name(self) -> str:
        return AUDIT_NAMES.get(self.action, self.action)


def is_owner(collection: Collection, viewer: Viewer) -> bool:
    """Whether ``viewer`` owns the 案卷: sees its parties' numbers, edits it, shares it.

    The person at the server's keyboard (no accounts) owns every 案卷, as before accounts
    existed; an owner-less 案卷 belongs to the administrators.
    """
    if viewer.local:
        return True
    if not collection.owner:
        return viewer.admin
    return collection.owner == viewer.user


def can_see(collection: Collection, viewer: Viewer) -> bool:
    """Owner, administrators, and whoever the owner shared it with (by name or the committee)."""
    if is_owner(collection, viewer) or viewer.admin:
        return True
    if collection.sharing == "committee":
        return True
    return collection.sharing == "named" and viewer.user in collection.shared_with


def can_delete(collection: Collection, viewer: Viewer) -> bool:
    return is_owner(collection, viewer) or viewer.admin


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
            for statements in _MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def schema_version(self) -> int:
        with self._connect() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    @classmethod
    def in_kb(cls, kb_dir: str | Path) -> CollectionStore:
        return cls(KBFolder.of(kb_dir).collections)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.connect(self.path, foreign_keys=True)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.writing(self.path, foreign_keys=True)

    # ---- collections ------------------------------------------------------

    def create(self, name: str, owner: str = "") -> Collection:
        """Create a new, empty collection, private to ``owner`` ("" = the administrators).

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
                "INSERT INTO collections (name, created, owner) VALUES (?, ?, ?)",
                (name, _now(), owner.strip()),
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

    _SELECT = (
        "SELECT c.id, c.name, c.created, COUNT(i.id), c.owner, c.sharing FROM collections c "
        "LEFT JOIN items i ON i.collection_id = c.id"
    )

    @staticmethod
    def _with_shares(
        db: sqlite3.Connection, rows: list[tuple[int, str, str, int, str, str]]
    ) -> list[Collection]:
        shares: dict[int, list[str]] = {}
        for cid, user in db.execute("SELECT collection_id, user FROM shares ORDER BY user"):
            shares.setdefault(cid, []).append(user)
        return [
            Collection(cid, name, created, size, owner, sharing, tuple(shares.get(cid, ())))
            for cid, name, created, size, owner, sharing in rows
        ]

    def collections(self) -> list[Collection]:
        """Every 案卷, whoever owns it (pages list ``visible(viewer)`` instead)."""
        with self._connect() as db:
            rows = db.execute(f"{self._SELECT} GROUP BY c.id ORDER BY c.id").fetchall()
            return self._with_shares(db, rows)

    def visible(self, viewer: Viewer) -> list[Collection]:
        """The 案卷 ``viewer`` may open: their own, those shared with them, all for an admin."""
        return [c for c in self.collections() if can_see(c, viewer)]

    def get(self, collection_id: int) -> Collection | None:
        with self._connect() as db:
            rows = db.execute(
                f"{self._SELECT} WHERE c.id = ? GROUP BY c.id", (collection_id,)
            ).fetchall()
            found = self._with_shares(db, rows)
        return found[0] if found else None

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

    def delete(self, collection_id: int, by: Viewer | None = None) -> None:
        """Delete a collection with its items, case details and parties, in one transaction.

        With ``by`` (a page's user), only the owner or an administrator may delete, and the
        deletion is logged in the same transaction: either both happen or neither.
        """
        if by is not None:
            found = self.get(collection_id)
            if found is None:
                return
            if not can_delete(found, by):
                raise StoreError(
                    f"案卷“{found.name}”属于{found.owner_name}，只有所有者或管理员可以删除。"
                    "建议：请所有者或管理员删除。"
                )
        with self._write() as db:
            if by is not None and not by.local:
                row = db.execute(
                    "SELECT name FROM collections WHERE id = ?", (collection_id,)
                ).fetchone()
                if row is not None:
                    self._log(db, by.user, "delete", collection_id, row[0], "")
            for table in ("items", "parties", "case_details", "shares"):
                db.execute(f"DELETE FROM {table} WHERE collection_id = ?", (collection_id,))
            db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))

    # ---- sharing and the audit log ------------------------------------------

    def share(
        self, collection_id: int, sharing: Sharing, names: tuple[str, ...], by: Viewer
    ) -> Collection:
        """Set who besides the owner may open the 案卷; only its owner may (logged)."""
        found = self.require(collection_id)
        if not is_owner(found, by):
            raise StoreError(
                f"案卷“{found.name}”属于{found.owner_name}，只有所有者可以更改共享。"
                "建议：请所有者更改。"
            )
        if sharing not in SHARING_NAMES:
            raise ValueError(f"unknown sharing {sharing!r}")
        names = tuple(sorted({n.strip() for n in names if n.strip() and n.strip() != by.user}))
        if sharing == "named" and not names:
            raise StoreError("没有选择同事。建议：选择要共享的同事，或改为“仅自己”。")
        if sharing != "named":
            names = ()
        with self._write() as db:
            self._exists(db, collection_id)
            db.execute("UPDATE collections SET sharing = ? WHERE id = ?", (sharing, collection_id))
            db.execute("DELETE FROM shares WHERE collection_id = ?", (collection_id,))
            db.executemany(
                "INSERT INTO shares (collection_id, user) VALUES (?, ?)",
                [(collection_id, n) for n in names],
            )
            if not by.local:
                detail = SHARING_NAMES[sharing] + (f"：{'、'.join(names)}" if names else "")
                self._log(db, by.user, "share", collection_id, found.name, detail)
        return self.require(collection_id)

    @staticmethod
    def _log(
        db: sqlite3.Connection, user: str, action: str, cid: int, name: str, detail: str
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, user, action, collection_id, name, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), user, action, cid, name, detail),
        )

    def log(
        self, by: Viewer, action: AuditAction, collection: Collection, detail: str = ""
    ) -> None:
        """Append one entry (one transaction). The local single user is not logged."""
        if by.local:
            return
        with self._write() as db:
            self._log(db, by.user, action, collection.id, collection.name, detail)

    def audit(self, limit: int = 500) -> list[AuditEntry]:
        """The newest ``limit`` audit entries, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, user, action, collection_id, name, detail FROM audit "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

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
