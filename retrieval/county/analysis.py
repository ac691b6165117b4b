"""What the 研判 page shows, as data: SQL GROUP BYs over the monthly aggregates, drill-down to cases.

Every query takes a :class:`Scope` (the whole county, one town, or one committee — a
mediator's own) and a month range; the aggregates (``monthly_stats``,
``monthly_articles``) are kept by every sync in the same transaction as the records,
so the page never reads a count the records do not back.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from retrieval.county import schema
from retrieval.county.warning import RULE, Rule, Signal, add_months, evaluate


@dataclass(frozen=True)
class Scope:
    """Which records: a town and/or a committee; empty means the whole store."""

    town: str = ""
    committee: str = ""

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        prefix = f"{alias}." if alias else ""
        parts, params = [], []
        if self.town:
            parts.append(f"{prefix}town = %s")
            params.append(self.town)
        if self.committee:
            parts.append(f"{prefix}committee = %s")
            params.append(self.committee)
        return (" AND " + " AND ".join(parts) if parts else ""), params

    @property
    def region_column(self) -> str:
        """The column a heat map splits by: towns for a county, committees within a town."""
        return "committee" if self.town or self.committee else "town"


@dataclass(frozen=True)
class Cell:
    dispute_type: str
    key: str  # a month (YYYY-MM) or a region
    n: int


@dataclass(frozen=True)
class Rates:
    """One dispute type's outcomes in the range."""

    dispute_type: str
    n: int
    success: int
    perf_known: int
    performed: int
    settle_n: int
    settle_days: int

    @property
    def success_rate(self) -> float | None:
        return self.success / self.n if self.n else None

    @property
    def performance_rate(self) -> float | None:
        return self.performed / self.perf_known if self.perf_known else None

    @property
    def days_to_settle(self) -> float | None:
        return self.settle_days / self.settle_n if self.settle_n else None


@dataclass(frozen=True)
class CaseRow:
    committee: str
    town: str
    number: str
    title: str
    dispute_type: str
    settled: str
    outcome: str
    performance_status: str
    cited: tuple[str, ...]
    synthetic: bool


@dataclass(frozen=True)
class Overview:
    """Everything the page draws for one scope and range, fetched together."""

    start: date
    end: date  # inclusive month
    by_month: tuple[Cell, ...]
    by_region: tuple[Cell, ...]
    rates: tuple[Rates, ...]
    articles: dict[str, list[tuple[str, int]]]
    signals: tuple[Signal, ...]
    synthetic: bool


def _month(d: date) -> str:
    return f"{d.year}-{d.month:02d}"


def store_kind(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT value FROM store_info WHERE key = 'kind'").fetchone()
    return str(row[0]) if row else "real"


def month_span(conn: psycopg.Connection, scope: Scope = Scope()) -> tuple[date, date] | None:
    """The first and last month holding records in ``scope`` (None: no records)."""
    where, params = scope.where()
    row = conn.execute(
        f"SELECT min(month), max(month) FROM monthly_stats WHERE true{where}",  # type: ignore[arg-type]
        params,
    ).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1])


def places(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Towns and their committees, for the page's filters."""
    out: dict[str, list[str]] = defaultdict(list)
    for town, committee in conn.execute(
        "SELECT DISTINCT town, committee FROM monthly_stats ORDER BY 1, 2"
    ).fetchall():
        out[town].append(committee)
    return dict(out)


def counts_by_month(conn: psycopg.Connection, scope: Scope, start: date, end: date) -> list[Cell]:
    where, params = scope.where()
    rows = conn.execute(
        "SELECT dispute_type, month, sum(n) FROM monthly_stats "  # type: ignore[arg-type]
        f"WHERE month BETWEEN %s AND %s{where} GROUP BY 1, 2 ORDER BY 2, 1",
        [start, end, *params],
    ).fetchall()
    return [Cell(t, _month(m), int(n)) for t, m, n in rows]


def counts_by_region(conn: psycopg.Connection, scope: Scope, start: date, end: date) -> list[Cell]:
    where, params = scope.where()
    col = scope.region_column
    rows = conn.execute(
        f"SELECT dispute_type, {col}, sum(n) FROM monthly_stats "  # type: ignore[arg-type]
        f"WHERE month BETWEEN %s AND %s{where} GROUP BY 1, 2 ORDER BY 2, 1",
        [start, end, *params],
    ).fetchall()
    return [Cell(t, r, int(n)) for t, r, n in rows]


def rates(conn: psycopg.Connection, scope: Scope, start: date, end: date) -> list[Rates]:
    where, params = scope.where()
    rows = conn.execute(
        "SELECT dispute_type, sum(n), sum(success), sum(perf_known), sum(performed), "  # type: ignore[arg-type]
        "sum(settle_n), sum(settle_days) FROM monthly_stats "
        f"WHERE month BETWEEN %s AND %s{where} GROUP BY 1 ORDER BY 2 DESC",
        [start, end, *params],
    ).fetchall()
    return [Rates(str(r[0]), *(int(v) for v in r[1:])) for r in rows]


def top_articles(
    conn: psycopg.Connection, scope: Scope, start: date, end: date, per_type: int = 3
) -> dict[str, list[tuple[str, int]]]:
    """The articles cited most often by successful mediations of each type."""
    where, params = scope.where()
    rows = conn.execute(
        "SELECT dispute_type, article, n FROM ("  # type: ignore[arg-type]
        " SELECT dispute_type, article, sum(n) AS n, row_number() OVER ("
        "  PARTITION BY dispute_type ORDER BY sum(n) DESC, article) AS r"
        f" FROM monthly_articles WHERE month BETWEEN %s AND %s{where} GROUP BY 1, 2"
        ") t WHERE r <= %s ORDER BY dispute_type, n DESC, article",
        [start, end, *params, per_type],
    ).fetchall()
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for t, a, n in rows:
        out[t].append((a, int(n)))
    return dict(out)


def history(
    conn: psycopg.Connection, scope: Scope, end: date, by_region: bool = False
) -> dict[tuple[str, str], dict[date, int]]:
    """Records per (region, type) and month up to ``end``, over all years (the warning's
    baseline); region is "" for the scope as a whole, else its towns or committees."""
    where, params = scope.where()
    region = scope.region_column if by_region else "''"
    rows = conn.execute(
        f"SELECT {region}, dispute_type, month, sum(n) FROM monthly_stats "  # type: ignore[arg-type]
        f"WHERE month <= %s{where} GROUP BY 1, 2, 3",
        [end, *params],
    ).fetchall()
    out: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    for r, t, m, n in rows:
        out[(r, t)][m] = int(n)
    return dict(out)


def signals(conn: psycopg.Connection, scope: Scope, month: date, rule: Rule = RULE) -> list[Signal]:
    """The rule's verdict for every type in ``month``, for the scope and for each of its towns
    (or committees), warnings first (see ``retrieval.county.warning``)."""
    span = month_span(conn, Scope())
    if span is None:
        return []
    found = []
    for by_region in (False, True):
        if by_region and scope.committee:
            break  # a committee has no smaller regions
        for (region, t), counts in history(conn, scope, month, by_region).items():
            s = evaluate(t, counts, month, span[0], rule, region)
            if s is not None:
                found.append(s)
    return sorted(found, key=lambda s: (not s.warn, s.p_value, s.region, s.dispute_type))


def overview(
    conn: psycopg.Connection, scope: Scope, start: date, end: date, rule: Rule = RULE
) -> Overview:
    return Overview(
        start=start,
        end=end,
        by_month=tuple(counts_by_month(conn, scope, start, end)),
        by_region=tuple(counts_by_region(conn, scope, start, end)),
        rates=tuple(rates(conn, scope, start, end)),
        articles=top_articles(conn, scope, start, end),
        signals=tuple(signals(conn, scope, end, rule)),
        synthetic=store_kind(conn) == "synthetic",
    )


def cases(
    conn: psycopg.Connection,
    scope: Scope,
    dispute_type: str,
    month: date,
    *,
    article: str = "",
    limit: int = 200,
) -> list[CaseRow]:
    """The records behind a count: one type, one month (and optionally one cited article)."""
    where, params = scope.where()
    extra = " AND %s = ANY(cited)" if article else ""
    rows = conn.execute(
        "SELECT committee, town, number, title, dispute_type, settled, outcome, "  # type: ignore[arg-type]
        "performance_status, cited, synthetic FROM records "
        "WHERE NOT withdrawn AND dispute_type = %s AND settled >= %s AND settled < %s"
        f"{where}{extra} ORDER BY settled DESC, committee, number LIMIT %s",
        [
            dispute_type,
            month,
            add_months(month, 1),
            *params,
            *([article] if article else []),
            limit,
        ],
    ).fetchall()
    return [
        CaseRow(c, t, n, ti, d, s.isoformat() if s else "", o, p, tuple(ci), bool(sy))
        for c, t, n, ti, d, s, o, p, ci, sy in rows
    ]


def open_store(uri: str, demo: bool = False) -> psycopg.Connection:
    """A read connection to the real store (or the demo store), at this program's version."""
    conn = schema.connect(uri, schema.DEMO_SCHEMA if demo else schema.REAL_SCHEMA)
    conn.read_only = True
    conn.autocommit = True
    schema.require_current(conn, uri)
    return conn


class Pool:
    """Read connections to one store, opened once and reused by every page view.

    A page view used to open its own connection (TCP, authentication, a backend process
    and the version check: tens of ms, more with a county server's password hashing) on
    every rerun. A connection that went away (the server restarted) is noticed by a
    one-row ping when it is taken and replaced.
    """

    def __init__(self, uri: str, demo: bool = False, size: int = 4) -> None:
        self.uri, self.demo, self.size = uri, demo, size
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._memo: OrderedDict[tuple[object, ...], Overview] = OrderedDict()

    def overview(
        self, conn: psycopg.Connection, scope: Scope, start: date, end: date, rule: Rule = RULE
    ) -> Overview:
        """:func:`overview`, kept until the next sync writes: every sync batch adds a
        ``sync_log`` row in the same transaction as its records, so the log's last id
        names the data exactly, and reading it is one index probe. A page rerun (each
        click) and the first view after the server's warm-up read no aggregates."""
        key = (data_version(conn), scope, start, end, rule)
        with self._lock:
            found = self._memo.get(key)
            if found is not None:
                self._memo.move_to_end(key)
                return found
        found = overview(conn, scope, start, end, rule)
        with self._lock:
            self._memo[key] = found
            while len(self._memo) > MEMO:
                self._memo.popitem(last=False)
        return found

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._take()
        try:
            yield conn
        finally:
            # autocommit: no transaction is left open, even when the page stopped midway
            # (Streamlit's rerun is an exception), so a live connection goes back
            kept = False
            if not conn.closed and not conn.broken:
                with self._lock:
                    if len(self._idle) < self.size:
                        self._idle.append(conn)
                        kept = True
            if not kept:
                conn.close()

    def _take(self) -> psycopg.Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return open_store(self.uri, self.demo)
            try:
                conn.execute("SELECT 1")
                return conn
            except psycopg.Error:
                conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextlib.contextmanager
    def view(self) -> Iterator[CountyView]:
        """The 研判 page's reads on one connection of the pool."""
        with self.connection() as conn:
            yield CountyView(self, conn)


@dataclass(frozen=True)
class CountyView:
    """What the 研判 page reads from a county store, on one connection: the page calls
    these and draws the results (no SQL, no date arithmetic in the page)."""

    pool: Pool
    conn: psycopg.Connection

    def store_kind(self) -> str:
        return store_kind(self.conn)

    def places(self) -> dict[str, list[str]]:
        return places(self.conn)

    def month_span(self, scope: Scope) -> tuple[date, date] | None:
        return month_span(self.conn, scope)

    def overview(self, scope: Scope, start: date, end: date) -> Overview:
        return self.pool.overview(self.conn, scope, start, end)

    def cases(
        self, scope: Scope, dispute_type: str, month: date, article: str = ""
    ) -> list[CaseRow]:
        return cases(self.conn, scope, dispute_type, month, article=article)

    def county_name(self) -> str:
        """The county the last synced committee named ("" before any sync)."""
        row = self.conn.execute(
            "SELECT county FROM sync_state ORDER BY updated DESC LIMIT 1"
        ).fetchone()
        return str(row[0]) if row else ""

    @staticmethod
    def months(span: tuple[date, date], back: int = 36) -> list[date]:
        """The months a page offers, newest first: up to ``back`` within ``span``."""
        first, last = span
        return [m for m in (add_months(last, -k) for k in range(back)) if m >= first]

    @staticmethod
    def window_start(span: tuple[date, date], end: date, months: int = 12) -> date:
        """The first month of a ``months``-long window ending at ``end``, within ``span``."""
        return max(span[0], add_months(end, 1 - months))


MEMO = 64  # overviews kept per store (scopes × months a page was opened at)


def data_version(conn: psycopg.Connection) -> int:
    """Changes with every write to the store (the last sync-log row's id)."""
    row = conn.execute("SELECT COALESCE(max(id), 0) FROM sync_log").fetchone()
    return int(row[0]) if row else 0


_POOLS: dict[tuple[str, bool], Pool] = {}
_POOLS_LOCK = threading.Lock()


def pool(uri: str, demo: bool = False) -> Pool:
    """The process's pool for a store (one per address and schema)."""
    with _POOLS_LOCK:
        found = _POOLS.get((uri, demo))
        if found is None:
            found = _POOLS[(uri, demo)] = Pool(uri, demo)
        return found
