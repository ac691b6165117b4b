"""SQLite files that hold what users enter (案卷, recorded precedents): one way to open and write.

Every connection waits for a busy writer instead of failing, syncs each commit to disk
(``synchronous=FULL``: a saved record survives a power cut), and every write is one
``BEGIN IMMEDIATE`` transaction, so a save interrupted before its commit leaves nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.atomic import disk_full
from ingest.errors import FengqiaoError


@contextmanager
def connect(path: Path, *, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (transactions are explicit, see :func:`writing`)."""
    try:
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    except sqlite3.Error as err:
        raise FengqiaoError(f"无法打开数据库 {path}（{err}）", "检查文件夹是否可写") from err
    try:
        if foreign_keys:
            db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA synchronous=FULL")
        yield db
    finally:
        db.close()


@contextmanager
def writing(path: Path, *, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed whole at the end, rolled back on any exception."""
    with connect(path, foreign_keys=foreign_keys) as db:
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as err:
            if disk_full(err):  # nothing was saved: the transaction is rolled back whole
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise FengqiaoError(
                    f"磁盘已满，这次的修改没有保存（{path}）",
                    "清理磁盘空间后重新保存；已保存的内容没有改动",
                ) from err
            raise
