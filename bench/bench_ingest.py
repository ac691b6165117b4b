"""Benchmark statute ingest on the whole LawRefBook tree: cold parse, then a no-change incremental run.

Usage: python bench/bench_ingest.py [--corpus DIR] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.statutes import load_statutes  # noqa: E402

DEFAULT = (
    Path(
        os.environ.get("FENGQIAO_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
    )
    / "statutes_full"
)
COLD_TARGET_S = 60.0
WARM_TARGET_S = 3.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", type=Path, default=DEFAULT, help="statutes folder (default: statutes_full)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="parse processes (default: one per CPU)"
    )
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(
            f"错误：找不到语料文件夹 {args.corpus}。建议：用 --corpus 指定，或设置 FENGQIAO_CORPUS。",
            file=sys.stderr,
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as cache:
        t0 = time.perf_counter()
        cold = load_statutes([args.corpus], cache_dir=Path(cache), workers=args.workers)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = load_statutes([args.corpus], cache_dir=Path(cache), workers=args.workers)
        t_warm = time.perf_counter() - t0

    files = cold.changes.reparsed + cold.changes.reused
    n_art = cold.report.articles
    ok = "✓" if t_cold < COLD_TARGET_S else "✗"
    ok_w = "✓" if t_warm < WARM_TARGET_S else "✗"
    print(
        f"corpus: {args.corpus}  (CPUs: {os.cpu_count()}, workers: {args.workers or os.cpu_count()})"
    )
    print(f"cold parse           {t_cold:7.2f} s   target < {COLD_TARGET_S:.0f} s  {ok}")
    print(f"files                {files:7d}     ({files / t_cold:,.0f} files/s)")
    print(f"articles             {n_art:7d}     ({n_art / t_cold:,.0f} articles/s)")
    print(f"documents            {cold.report.documents:7d}     (law versions; 民法典 = 1)")
    current = [d for d in cold.documents if d.current]
    print(
        f"  current versions   {len(current):7d}     ({sum(d.articles for d in current)} articles)"
    )
    national = [d for d in cold.documents if "/DLC/" not in d.sources[0]]
    print(
        f"  national (no DLC)  {len(national):7d}     ({sum(d.articles for d in national)} articles)"
    )
    print(f"  by status          {dict(Counter(d.status for d in cold.documents))}")
    print(f"  by level           {dict(Counter(d.level for d in cold.documents))}")
    print(
        f"warnings             {len(cold.report.problems):7d}     {dict(Counter(p.kind for p in cold.report.problems).most_common())}"
    )
    print(
        f"incremental (no change) {t_warm:4.2f} s   target < {WARM_TARGET_S:.0f} s  {ok_w}"
        f"   (re-parsed {warm.changes.reparsed}, reused {warm.changes.reused}, changes: {warm.changes.any})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
