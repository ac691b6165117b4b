"""Writing committees' records into the county store: one transaction per batch, aggregates kept."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import psycopg

from retrieval.county.records import CountyRecord
from retrieval.county.warning import add_months

# Columns written from a CountyRecord, in COPY order.
COLUMNS = (
    "committee", "number", "county", "town", "revision", "digest", "withdrawn", "synthetic",
    "dispute_type", "dispute_type_origin", "settled", "received", "outcome",
    "performance_status", "cited", "title", "facts", "focus", "process", "result",
    "agreement", "performance", "articles", "parties", "region", "created", "updated",
)  # fmt: skip


@dataclass(frozen=True)
class Held:
    """What the county holds of one record: enough to tell whether a push changes it."""

    revision: int
    digest: str
    withdrawn: bool


def held(conn: psycopg.Connection, committee: str) -> dict[str, Held]:
    """Every record the county holds for ``committee`` (withdrawn ones included)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT number, revision, digest, withdrawn FROM records WHERE committee = %s",
            (committee,),
        )
        return {n: Held(r, d, w) for n, r, d, w in cur.fetchall()}


def token(conn: psycopg.Connection, committee: str) -> int:
    """The committee store position last fully synced (0: never)."""
    with conn.cursor() as cur:
        cur.execute("SELECT token FROM sync_state WHERE committee = %s", (committee,))
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _row(r: CountyRecord) -> tuple[object, ...]:
    return (
        r.committee, r.number, r.county, r.town, r.revision, r.digest, False, r.synthetic,
        r.dispute_type, r.dispute_type_origin, r.settled or None, r.received or None, r.outcome,
        r.performance_status, list(r.cited), r.title, r.facts, r.focus, r.process, r.result,
        r.agreement, r.performance, r.articles, r.parties, r.region, r.created, r.updated,
    )  # fmt: skip


def copy_records(conn: psycopg.Connection, records: Sequence[CountyRecord]) -> None:
    """Upsert ``records`` (inside the caller's transaction) through COPY into a temporary table."""
    if not records:
        return
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS incoming (LIKE records INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    cols = ", ".join(COLUMNS)
    with conn.cursor() as cur:
        with cur.copy(f"COPY incoming ({cols}) FROM STDIN") as copy:  # type: ignore[arg-type]
            for r in records:
                copy.write_row(_row(r))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[2:])
        cur.execute(
            f"INSERT INTO records ({cols}) SELECT {cols} FROM incoming "  # type: ignore[arg-type]
            f"ON CONFLICT (committee, number) DO UPDATE SET {updates}, synced_at = now()"
        )
        cur.execute("TRUNCATE incoming")


def withdraw(conn: psycopg.Connection, committee: str, numbers: Iterable[str]) -> None:
    conn.execute(
        "UPDATE records SET withdrawn = true, synced_at = now() "
        "WHERE committee = %s AND number = ANY(%s) AND NOT withdrawn",
        (committee, list(numbers)),
    )


def months_of(conn: psycopg.Connection, committee: str, numbers: Sequence[str]) -> set[date]:
    """The months the county now files these records under (their aggregates change with them)."""
    if not numbers:
        return set()
    rows = conn.execute(
        "SELECT DISTINCT date_trunc('month', settled)::date FROM records "
        "WHERE committee = %s AND number = ANY(%s) AND settled IS NOT NULL",
        (committee, list(numbers)),
    ).fetchall()
    return {r[0] for r in rows}


def refresh_aggregates(
    conn: psycopg.Connection, committees: Iterable[str], months: Iterable[date] | None = None
) -> None:
    """Recount the monthly aggregates of ``committees`` from their records (same transaction).

    Args:
        months: only these months (first of month); None recounts every month. A sync
            sends records in date order, so each batch recounts a month or two.
    """
    names = sorted(set(committees))
    if not names:
        return
    only = sorted(set(months)) if months is not None else None
    if only == []:
        return
    cond = "committee = ANY(%s)"
    params: list[object] = [names]
    month_cond = ""
    if only is not None:
        month_cond = " AND month = ANY(%s)"
        cond += (
            " AND settled >= %s AND settled < %s AND date_trunc('month', settled)::date = ANY(%s)"
        )
        params += [only[0], add_months(only[-1], 1), only]
    drop: list[object] = [names, only] if only is not None else [names]
    conn.execute(f"DELETE FROM monthly_stats WHERE committee = ANY(%s){month_cond}", drop)  # type: ignore[arg-type]
    conn.execute(f"DELETE FROM monthly_articles WHERE committee = ANY(%s){month_cond}", drop)  # type: ignore[arg-type]
    conn.execute(
        "INSERT INTO monthly_stats "  # type: ignore[arg-type]
        "SELECT county, town, committee, dispute_type, date_trunc('month', settled)::date, count(*), "
        "count(*) FILTER (WHERE outcome = 'success'), "
        "count(*) FILTER (WHERE outcome = 'success' AND performance_status <> 'unknown'), "
        "count(*) FILTER (WHERE outcome = 'success' AND performance_status = 'performed'), "
        "count(received), COALESCE(sum(settled - received) FILTER (WHERE received IS NOT NULL), 0) "
        f"FROM records WHERE {cond} AND NOT withdrawn AND settled IS NOT NULL "
        "GROUP BY county, town, committee, dispute_type, date_trunc('month', settled)",
        params,
    )
    conn.execute(
        "INSERT INTO monthly_articles "  # type: ignore[arg-type]
        "SELECT county, town, committee, dispute_type, date_trunc('month', settled)::date, a, count(*) "
        "FROM records, unnest(cited) AS a "
        f"WHERE {cond} AND NOT withdrawn AND settled IS NOT NULL AND outcome = 'success' "
        "GROUP BY county, town, committee, dispute_type, date_trunc('month', settled), a",
        params,
    )


def log_batch(
    conn: psycopg.Connection,
    committee: str,
    *,
    route: str,
    batch: int,
    added: int,
    updated: int,
    withdrawn: int,
    token: int,
    bundle_sha256: str = "",
) -> None:
    conn.execute(
        "INSERT INTO sync_log (committee, route, batch, added, updated, withdrawn, token, "
        "bundle_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (committee, route, batch, added, updated, withdrawn, token, bundle_sha256),
    )


def set_state(
    conn: psycopg.Connection, committee: str, *, county: str, town: str, token: int, route: str
) -> None:
    conn.execute(
        "INSERT INTO sync_state (committee, county, town, token, route, updated) "
        "VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (committee) DO UPDATE SET "
        "county = EXCLUDED.county, town = EXCLUDED.town, token = EXCLUDED.token, "
        "route = EXCLUDED.route, updated = now()",
        (committee, county, town, token, route),
    )


def counts(conn: psycopg.Connection) -> dict[str, int]:
    """Live (not withdrawn) records per committee."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT committee, count(*) FROM records WHERE NOT withdrawn GROUP BY committee"
        )
        return {c: int(n) for c, n in cur.fetchall()}


def dump(conn: psycopg.Connection) -> str:
    """The store's records and state as text, for comparing before and after (tests, checks)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT committee, number, revision, digest, withdrawn, synced_at FROM records "
            "ORDER BY committee, number"
        )
        rows = [list(map(str, r)) for r in cur.fetchall()]
        cur.execute("SELECT committee, token, updated FROM sync_state ORDER BY committee")
        rows += [list(map(str, r)) for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM sync_log")
        rows.append([str(cur.fetchone())])
    return json.dumps(rows, ensure_ascii=False)
