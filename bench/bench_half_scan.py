"""The half-precision vector scan against the exact one: the same runs, and the milliseconds.

On a knowledge base whose article store holds ``ApproxConfig.half_above`` units or more
(the national tier), every question of a query file is scanned both ways at depth 300,
unfiltered and inside one law: the records, best units and scores must be identical, and
the scan's median milliseconds are printed beside the exact scan's.

usage: python bench/bench_half_scan.py --kb KB [--queries FILE] [--n 400] [--law 民法典]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--queries", type=Path, default=REPO.parent / "shared/eval/equals.jsonl")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--law", default="民法典")
    a = ap.parse_args()

    from retrieval.hits import Filters
    from retrieval.service import Service
    from retrieval.stores.flat import FlatStore

    service = Service.load(a.kb)
    store = service.searcher.articles.store
    assert isinstance(store, FlatStore), "the half-precision scan is the flat store's"
    half = store._state
    if half.half is None:
        sys.exit(f"{a.kb}: {half.dense.size} article units, below half_above: nothing to compare")
    exact = dataclasses.replace(half, half=None)
    lines = a.queries.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(x)["query"] for x in lines if x.strip()][: a.n]
    times: dict[str, list[float]] = {"half": [], "exact": []}
    differ, worst, runs = 0, 0.0, 0
    for q in questions:
        vec = service.searcher.embedder.encode_article_queries([q])[0]
        for flt in (Filters(), Filters(laws=(a.law,))):
            got = {}
            for name, state in (("half", half), ("exact", exact)):
                store._state = state
                t = time.perf_counter()
                got[name] = store.dense(vec, flt, 300)
                times[name].append((time.perf_counter() - t) * 1000)
            store._state = half
            runs += 1
            h, e = got["half"], got["exact"]
            differ += [(x.parent, x.unit) for x in h] != [(x.parent, x.unit) for x in e]
            worst = max([worst, *(abs(x.score - y.score) for x, y in zip(h, e, strict=False))])
    print(f"article units: {half.dense.size}; runs compared: {runs} (unfiltered and {a.law})")
    print(f"runs differing: {differ}; largest score difference: {worst:.2g}")
    for name, ms in times.items():
        print(f"{name:<6} scan median ms {statistics.median(ms):6.2f}")


if __name__ == "__main__":
    main()
