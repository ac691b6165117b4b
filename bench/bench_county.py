"""County store at scale: load N synthetic records, time the 研判 page's queries, sync throughput,
and the early-warning rule's detection and false-alarm rates.

Runs against ``--uri`` (a PostgreSQL server) or starts a throwaway one (``tests/pgserver.py``).
Synthetic records go to the demo schema only (``county_demo``); the sync throughput
run uses a fresh database of its own.

usage: nice -n 10 python bench/bench_county.py [--records 100000] [--sync 20000]
                                               [--warnings 200] [--shared 0] [--uri postgresql://…]
       1 M by hand: --records 1000000 [--keep DIR: leave the loaded server running]
       then: --database URI (page queries again) and --first-view --keep DIR --database URI
       (the page's first view after a cold server start; docs/scale.md)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.county import analysis as an  # noqa: E402
from retrieval.county import schema  # noqa: E402
from retrieval.county import synthetic as syn  # noqa: E402
from retrieval.county.sync import Identity, reconcile  # noqa: E402
from retrieval.county.warning import Rule, evaluate  # noqa: E402
from tests import pgserver  # noqa: E402

END = date(2026, 10, 1)


def timed(fn: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    """Median and max wall time of ``runs`` calls, in milliseconds (first call included)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def page_queries(uri: str, records: int) -> None:
    if records > 0:
        t = time.perf_counter()
        n = syn.load(uri, syn.model_for(records, end=END, trends=syn.demo_trends(END)))
        load_s = time.perf_counter() - t
        print(
            f"loaded {n:,} synthetic records in {load_s:.1f} s ({n / load_s:,.0f} records/s, COPY + aggregates)"
        )
        print(f"database: {uri}", flush=True)
    else:  # --database: the records a previous run loaded (kept with --keep)
        with an.open_store(uri, demo=True) as conn:
            row = conn.execute("SELECT count(*) FROM records").fetchone()
            n = int(row[0]) if row else 0
    with an.open_store(uri, demo=True) as conn:
        agg = conn.execute("SELECT count(*) FROM monthly_stats").fetchone()
        print(f"monthly_stats rows: {agg[0] if agg else 0:,}")
        start = syn.add_months(END, -11)
        town = an.Scope(town="东湖街道")
        rows = [
            ("overview, whole county (all charts, rates, articles, 91 warning tests)", lambda: an.overview(conn, an.Scope(), start, END)),
            ("overview, one town", lambda: an.overview(conn, town, start, END)),
            ("overview, one committee", lambda: an.overview(conn, an.Scope(committee="东湖社区人民调解委员会"), start, END)),
            ("drill-down: one type, one month, county", lambda: an.cases(conn, an.Scope(), "土地承包", END)),
            ("drill-down: one type, one month, one town", lambda: an.cases(conn, town, "物业服务", END)),
            ("drill-down by article", lambda: an.cases(conn, an.Scope(), "劳动劳务", END, article="劳动合同法:30")),
        ]  # fmt: skip
        rows += [
            ("  part: counts by type × month", lambda: an.counts_by_month(conn, an.Scope(), start, END)),
            ("  part: counts by type × town", lambda: an.counts_by_region(conn, an.Scope(), start, END)),
            ("  part: rates by type", lambda: an.rates(conn, an.Scope(), start, END)),
            ("  part: top articles per type", lambda: an.top_articles(conn, an.Scope(), start, END)),
            ("  part: warnings (history + 91 tests)", lambda: an.signals(conn, an.Scope(), END)),
        ]  # fmt: skip
        print(f"\n| query ({n:,} records) | median ms | max ms |\n|---|---|---|")
        for name, fn in rows:
            med, worst = timed(fn)
            print(f"| {name} | {med:.0f} | {worst:.0f} |")


def first_view(database: str, folder: Path) -> None:
    """The 研判 page's first view in a fresh process after a cold server start, twice.

    Each run restarts the kept server with its files dropped from the page cache, then
    starts a new Python process: ``steps`` times what the page does by direct calls (the
    old path: imports, a new connection, the queries, the chart specs); ``page`` runs the
    page itself through Streamlit's AppTest as an analyst, after the sign-in (which starts
    the server's warm-up, ui/county_warm.py) and the warm-up it started.
    """
    for mode in ("steps", "page"):
        pgserver.restart(folder, evict=True)
        out = subprocess.run(
            [sys.executable, __file__, f"--first-view-{mode}", database],
            capture_output=True,
            text=True,
        )
        print(out.stdout, end="", flush=True)
        if out.returncode:
            sys.exit(out.stderr[-3000:])


def _lap() -> Callable[[str], None]:
    last = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        print(f"| {name} | {(now - last[0]) * 1000:.0f} |", flush=True)
        last[0] = now

    return lap


def _first_view_steps(uri: str) -> None:
    total = time.perf_counter()
    print("\n| first view by direct calls, fresh process, cold server | ms |\n|---|---|")
    lap = _lap()
    import streamlit  # noqa: F401

    lap("import streamlit")
    from ui import auth, views  # noqa: F401

    lap("import what ui/app.py imports (ui.views, ui.auth: the server's start, not the page's)")
    from ui import county_charts

    lap("import Altair + pandas (ui.county_charts)")
    conn = an.open_store(uri, demo=True)
    lap("connect + schema version check")
    an.store_kind(conn)
    places = an.places(conn)
    span = an.month_span(conn, an.Scope())
    assert span is not None and places
    lap("store kind, towns, month span")
    ov = an.overview(conn, an.Scope(), syn.add_months(span[1], -11), span[1])
    lap("overview, whole county (cold server)")
    county_charts.trend(ov.by_month).to_dict()
    county_charts.heat(ov.by_region, "乡镇").to_dict()
    lap("two chart specs (first: Altair loads its schema)")
    an.overview(conn, an.Scope(), syn.add_months(span[1], -11), span[1])
    county_charts.trend(ov.by_month).to_dict()
    county_charts.heat(ov.by_region, "乡镇").to_dict()
    lap("overview + chart specs again (warm)")
    print(f"| **total** | {(time.perf_counter() - total) * 1000:.0f} |")


def _first_view_page(uri: str) -> None:
    import os

    from streamlit.testing.v1 import AppTest

    from ui import county_warm
    from ui.accounts import Accounts
    from ui.county_cli import URI_ENV

    kb = Path(tempfile.mkdtemp(prefix="fengqiao-bench-kb-"))
    Accounts.in_kb(kb).add("压测研判员", "bench pass 1", "analyst")
    os.environ["FENGQIAO_KB"] = str(kb)
    os.environ[URI_ENV] = uri
    app = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
    print("\n| the page through AppTest, fresh process, cold server | ms |\n|---|---|")
    lap = _lap()
    at = AppTest.from_file(app, default_timeout=120)
    at.run()
    at.text_input[0].input("压测研判员")
    at.text_input[1].input("bench pass 1")
    at.button[0].click()
    at.run()
    lap("sign-in page and signing in (starts the warm-up)")
    if county_warm.thread is not None:
        county_warm.thread.join()
    lap("rest of the warm-up (while a person types)")
    at.session_state["an-source"] = "演示数据（合成）"
    for name in ("first view of 研判, whole county", "second view"):
        at.switch_page("views/analysis.py").run()
        assert not at.exception, at.exception
        assert len(at.get("vega_lite_chart")) == 2
        lap(name)
    shutil.rmtree(kb, ignore_errors=True)


def shared_pull(server: str, n: int) -> None:
    """A committee's pull of ``n`` other committees' records into its cache, and the
    question-time search over them (random 384-d unit vectors stand in for e5's: the
    embedding itself is the build's rate, docs/quality.md)."""
    from retrieval.county import shared
    from retrieval.hits import Filters

    uri = pgserver.fresh_database(server)
    schema.migrate(uri)
    who = Identity("压测村人民调解委员会", "压测镇", "压测县")
    model = syn.model_for(n * 30, end=END)
    records = [replace(r, committee=who.committee, town=who.town, county=who.county, synthetic=False) for _, rs in syn.generate(model) for r in rs][:n]  # fmt: skip
    with schema.connect(uri) as conn:
        reconcile(conn, who, records, token=1, route="network", batch_size=500)
    folder = Path(tempfile.mkdtemp(prefix="fengqiao-bench-shared-"))
    path = folder / shared.CACHE
    source = shared.Source(uri, "本村人民调解委员会")
    print(
        f"\n| pull of another committee's records ({n:,}) | fetched | s | records/s |\n|---|---|---|---|"
    )
    edited = [replace(r, revision=2, performance="已履行完毕") if i % 10 == 0 else r for i, r in enumerate(records)]  # fmt: skip
    for label, step in (
        ("first pull", lambda: None),
        ("again, nothing changed", lambda: None),
        ("after 10 % were edited", lambda: _resync(uri, who, edited)),
    ):
        step()
        t = time.perf_counter()
        rep = shared.pull(source, path)
        sec = time.perf_counter() - t
        print(f"| {label} | {rep.added + rep.updated:,} | {sec:.2f} | {n / sec:,.0f} |")

    class Vectors:  # what the index reads of an embedder: its key and dimension
        key, dim = "bench-random", 384

    rng = np.random.default_rng(0)
    with shared.userdb.writing(path) as db:
        for (cid,) in db.execute("SELECT id FROM shared").fetchall():
            v = rng.standard_normal((2, Vectors.dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            db.execute(
                "UPDATE shared SET model = ?, vectors = ? WHERE id = ?",
                (Vectors.key, v.tobytes(), cid),
            )
    t = time.perf_counter()
    index = shared._Index.load(path, Vectors())  # type: ignore[arg-type]
    load_s = time.perf_counter() - t
    with shared.userdb.writing(path) as db:  # as a pull of 10 % edited records leaves it
        db.execute("UPDATE shared SET digest = digest || '+' WHERE rowid % 10 = 0")
    t = time.perf_counter()
    index = shared._Index.load(path, Vectors(), index)  # type: ignore[arg-type]
    reload_s = time.perf_counter() - t
    queries = rng.standard_normal((20, Vectors.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    med, worst = timed(lambda: [index.nearest(q, Filters(), 40) for q in queries], runs=3)
    size = path.stat().st_size / 2**20
    print(
        f"\ncache {size:,.0f} MiB; index load {load_s:.2f} s ({len(index):,} records, 2 units each), "
        f"reload after 10 % changed {reload_s:.2f} s; "
        f"search per question {med / len(queries):.1f} ms median (max {worst / len(queries):.1f})"
    )
    shutil.rmtree(folder, ignore_errors=True)


def _resync(uri: str, who: Identity, records: list[syn.CountyRecord]) -> None:
    with schema.connect(uri) as conn:
        reconcile(conn, who, records, token=2, route="network", batch_size=500)


def sync_throughput(server: str, n: int) -> None:
    uri = pgserver.fresh_database(server)
    schema.migrate(uri)
    who = Identity("压测村人民调解委员会", "压测镇", "压测县")
    model = syn.model_for(n * 30, end=END)  # one committee's share of 30 is about n
    records = [replace(r, committee=who.committee, town=who.town, county=who.county, synthetic=False) for _, rs in syn.generate(model) for r in rs][:n]  # fmt: skip
    with schema.connect(uri) as conn:
        for label, recs, token in (
            ("first sync", records, 1),
            ("re-sync, nothing changed", records, 1),
            ("10 % edited", [replace(r, revision=2, performance="已履行完毕") if i % 10 == 0 else r for i, r in enumerate(records)], 2),
        ):  # fmt: skip
            t = time.perf_counter()
            rep = reconcile(conn, who, recs, token=token, route="network", batch_size=500)
            s = time.perf_counter() - t
            print(
                f"| {label} | {len(recs):,} | {rep.added + rep.updated:,} | {s:.2f} | {len(recs) / s:,.0f} |"
            )


def warnings(trials: int, records: int) -> None:
    """Detection and false alarms on simulated monthly counts from the generator's own model."""
    rng = np.random.default_rng(1)
    types, towns = list(syn.TYPES), list(syn.TOWNS)
    print("\n| rule | records / 4 years | per-test false alarms | months with any false alarm (91 tests) | county ×2 found | town ×3 found | town ×5 found |\n|---|---|---|---|---|---|---|")  # fmt: skip
    for rule_name, rule in (("conditional, p<0.001 (default)", Rule()), ("conditional, p<0.01", Rule(p_value=0.01)), ("Poisson, p<0.01", Rule(p_value=0.01, test="poisson"))):  # fmt: skip
        fa = tests = pages = 0
        found = {"c2": 0, "t3": 0, "t5": 0}
        for i in range(trials):
            end = date(2025, 1 + i % 12, 1)
            pt, town, pt2 = types[int(rng.integers(len(types)))], towns[int(rng.integers(len(towns)))], types[int(rng.integers(len(types)))]  # fmt: skip
            null = syn.model_for(records, end=end)
            any_warn = False
            for scope in ["", *towns]:
                for t in types:
                    counts = {
                        m: int(rng.poisson(v))
                        for m, v in syn.expected_counts(null, t, scope).items()
                    }
                    s = evaluate(t, counts, end, null.start, rule)
                    assert s is not None
                    tests += 1
                    fa += s.warn
                    any_warn |= s.warn
            pages += any_warn
            for key, trend, scope, typ in (
                ("c2", syn.Trend(pt, end, 2.0), "", pt),
                ("t3", syn.Trend(pt2, end, 3.0, town=town), town, pt2),
                ("t5", syn.Trend(pt2, end, 5.0, town=town), town, pt2),
            ):
                m = syn.model_for(records, end=end, trends=(trend,))
                counts = {
                    k: int(rng.poisson(v)) for k, v in syn.expected_counts(m, typ, scope).items()
                }
                s = evaluate(typ, counts, end, m.start, rule)
                found[key] += bool(s and s.warn)
        print(
            f"| {rule_name} | {records:,} | {fa}/{tests} = {fa / tests:.2%} | {pages}/{trials} | "
            f"{found['c2']}/{trials} | {found['t3']}/{trials} | {found['t5']}/{trials} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--uri", default="", help="PostgreSQL server (default: start a throwaway one)")
    p.add_argument(
        "--records",
        type=int,
        default=100_000,
        help="synthetic records for the page queries (0: skip)",
    )
    p.add_argument(
        "--sync", type=int, default=20_000, help="records for the sync throughput run (0: skip)"
    )
    p.add_argument(
        "--warnings", type=int, default=200, help="trials for the warning rule (0: skip)"
    )
    p.add_argument(
        "--warning-records",
        type=int,
        default=20_000,
        help="county size the warning trials simulate",
    )
    p.add_argument(
        "--keep",
        default="",
        help="start the throwaway server in this folder and leave it running (stop it with "
        "python3 -m tests.pgserver stop DIR)",
    )
    p.add_argument(
        "--database",
        default="",
        help="time the page on this already loaded database (a --keep run's) instead of loading",
    )
    p.add_argument(
        "--shared",
        type=int,
        default=0,
        help="records for the shared-precedent pull and search run (0: skip)",
    )
    p.add_argument(
        "--first-view",
        action="store_true",
        help="with --keep DIR --database URI: the page's first view after a cold server start",
    )
    p.add_argument("--first-view-steps", default="", help=argparse.SUPPRESS)
    p.add_argument("--first-view-page", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.first_view_steps or args.first_view_page:
        (_first_view_steps if args.first_view_steps else _first_view_page)(
            args.first_view_steps or args.first_view_page
        )
        return
    if args.first_view:
        if not (args.keep and args.database):
            p.error("--first-view needs --keep DIR (a kept server) and --database URI")
        first_view(args.database, Path(args.keep))
        return
    if args.database:
        page_queries(args.database, 0)
        return
    if args.warnings:
        warnings(args.warnings, args.warning_records)
    if not (args.records or args.sync or args.shared):
        return
    folder = None
    server = args.uri
    if not server:
        folder = Path(args.keep or tempfile.mkdtemp(prefix="fengqiao-bench-pg-"))
        server = pgserver.start(folder)
    try:
        if args.records:
            print()
            page_queries(pgserver.fresh_database(server), args.records)
        if args.shared:
            shared_pull(server, args.shared)
        if args.sync:
            print(
                "\n| sync (one committee, batches of 500) | records | written | s | records/s |\n|---|---|---|---|---|"
            )
            sync_throughput(server, args.sync)
    finally:
        if folder is not None and not args.keep:
            pgserver.stop(folder)
            shutil.rmtree(folder, ignore_errors=True)  # a million records: gigabytes


if __name__ == "__main__":
    main()
