"""Connections to the county PostgreSQL store and its numbered SQL migrations.

Each file ``migrations/NNNN_name.sql`` is one schema version, applied once, in its own
transaction, and recorded in ``schema_version``; an advisory lock keeps two upgrading
processes from racing. A store newer than this program is refused, never written.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Literal
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from retrieval.errors import CountyError

REAL_SCHEMA = "county"  # committees' real (masked) records
DEMO_SCHEMA = "county_demo"  # synthetic records only: never mixed with the real ones
Kind = Literal["real", "synthetic"]
_LOCK = 0x46454E47  # "FENG": the advisory lock held while migrating
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped, in order."""
    found = []
    for entry in resources.files("retrieval.county").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [v for v, _, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"county migrations are not numbered 1..n: {[n for _, n, _ in found]}")
    return found


LATEST = len(migrations())


def safe_uri(uri: str) -> str:
    """The URI with any password hidden, for messages."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return uri


def connect(uri: str, schema: str = REAL_SCHEMA) -> psycopg.Connection:
    """A connection whose search path is ``schema``; a CountyError when it cannot be made."""
    if not uri.startswith(("postgresql://", "postgres://")):
        raise CountyError(
            f"县级数据库地址“{safe_uri(uri)}”不是 PostgreSQL 地址",
            "写成 postgresql://用户:密码@主机:5432/数据库",
        )
    try:
        conn = psycopg.connect(uri, connect_timeout=10, options=f"-c search_path={schema}")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CountyError(
            f"无法连接县级数据库 {safe_uri(uri)}：{first}",
            "检查地址、用户名密码和网络；没有网络时用 fengqiao sync --export 导出到U盘",
        ) from None
    return conn


def version(conn: psycopg.Connection) -> int:
    """The schema version of the connection's schema (0: empty)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_version')")
        row = cur.fetchone()
        if row is None or row[0] is None:
            return 0
        cur.execute("SELECT COALESCE(max(version), 0) FROM schema_version")
        got = cur.fetchone()
        return int(got[0]) if got else 0


def migrate(
    uri: str, schema: str = REAL_SCHEMA, *, kind: Kind = "real", to: int | None = None
) -> int:
    """Bring ``schema`` up to version ``to`` (default the latest); returns the version reached.

    Args:
        kind: what the schema holds; a schema made for synthetic records never takes real
            ones and the reverse (checked by :func:`check_kind`).
    """
    target = LATEST if to is None else to
    with connect(uri, schema) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version integer PRIMARY KEY, name text NOT NULL, "
                "applied timestamptz NOT NULL DEFAULT now())"
            )
        current = version(conn)
        if current > LATEST:
            raise CountyError(
                f"县级数据库 {safe_uri(uri)} 的结构版本 {current} 比本程序（{LATEST}）新",
                "请先升级本程序",
            )
        for number, name, text in migrations():
            if current < number <= target:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                    if version(conn) >= number:  # another process applied it meanwhile
                        continue
                    conn.execute(text)  # type: ignore[arg-type]  # our own shipped SQL
                    conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                        (number, name),
                    )
                    if number == 1:
                        conn.execute(
                            "INSERT INTO store_info (key, value) VALUES ('kind', %s)", (kind,)
                        )
        check_kind(conn, kind)
        return version(conn)


def check_kind(conn: psycopg.Connection, kind: Kind) -> None:
    """Refuse a store that holds the other kind of records (synthetic vs real)."""
    with conn.cursor() as cur:
        cur.execute("SELECT value FROM store_info WHERE key = 'kind'")
        row = cur.fetchone()
    held = row[0] if row else "real"
    if held != kind:
        names = {"real": "真实调解记录", "synthetic": "合成演示数据"}
        raise CountyError(
            f"这个库存放的是{names.get(held, held)}，不能写入{names[kind]}",
            "合成数据只写入演示库（county_demo），真实记录只写入 county",
        )


def require_current(conn: psycopg.Connection, uri: str) -> None:
    """Stop with a clear error when the store is not at this program's schema version."""
    got = version(conn)
    if got != LATEST:
        raise CountyError(
            f"县级数据库 {safe_uri(uri)} 的结构版本是 {got}，本程序需要 {LATEST}",
            "运行 fengqiao sync --to 地址 会自动升级；版本更新时请先升级本程序",
        )
