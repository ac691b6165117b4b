"""Speed and size of retrieval: query latency, build time, resident memory, each beside its target.

usage: python bench/bench_retrieval.py [--kb DIR] [--queries FILE] [--n 200]
                                       [--statutes DIR ...] [--cases DIR ...] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ui.samples import SHORT  # noqa: E402

TARGETS = {  # issues 5 and 14
    "short query median ms": 30.0,
    "short query p95 ms": 60.0,
    "long query median ms": 60.0,
    "long query p95 ms": 120.0,
    "build cold s (curated)": 90.0,
    "rebuild no change s": 15.0,
    "resident memory MB": 1536.0,
}


SHORT_QUESTIONS = SHORT  # short lay wording as a mediator types it (ui/samples.py)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def line(name: str, value: float, target: float | None = None) -> None:
    if target is None:
        print(f"{name:<28} {value:>10.1f}")
    else:
        mark = "OK " if value <= target else "MISS"
        print(f"{name:<28} {value:>10.1f}   target ≤ {target:<8g} {mark}")


def main() -> None:
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    from retrieval.kb_folder import default_kb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=default_kb())
    ap.add_argument("--queries", type=Path, default=corpus.parent / "eval" / "lawbench-3-8.jsonl")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--statutes", type=Path, nargs="*", default=None, help="also time builds")
    ap.add_argument("--cases", type=Path, nargs="*", default=())
    ap.add_argument("--cold", action="store_true", help="time a cold build in a fresh folder")
    a = ap.parse_args()

    from retrieval.build import build_kb
    from retrieval.service import Service

    if a.statutes is not None:
        if a.cold:
            tmp = Path(tempfile.mkdtemp(prefix="fq-bench-"))
            t = time.perf_counter()
            rep = build_kb(tmp, statutes=a.statutes, cases=a.cases, show_progress=True)
            line(
                "build cold s (curated)", time.perf_counter() - t, TARGETS["build cold s (curated)"]
            )
            print(f"  {rep.summary()}")
            shutil.rmtree(tmp, ignore_errors=True)
        build_kb(a.kb, statutes=a.statutes, cases=a.cases, show_progress=True)
        t = time.perf_counter()
        rep = build_kb(a.kb, statutes=a.statutes, cases=a.cases)
        line("rebuild no change s", time.perf_counter() - t, TARGETS["rebuild no change s"])

    base = rss_mb()
    t = time.perf_counter()
    kb = Service.load(a.kb)
    line("load s", time.perf_counter() - t)
    qs = [
        json.loads(x)["query"]
        for x in a.queries.read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]
    qs = qs[: a.n]
    for q in qs[:5]:
        kb.search(q)
    print(f"knowledge base: {kb.stats().articles} articles, {len(kb.cases)} cases")
    print(f"query engine: {getattr(kb.embedder, 'query_engine', type(kb.embedder).__name__)}")
    sets = ((a.queries.name, "long", qs), ("short mediator questions", "short", SHORT_QUESTIONS))
    for label, size, questions in sets:
        times, enc = [], []
        for q in questions:
            t = time.perf_counter()
            res = kb.search(q, k=10, k_cases=5)
            times.append((time.perf_counter() - t) * 1000)
            enc.append(res.timings_ms.get("encode", 0.0))
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        chars = statistics.mean(len(q) for q in questions)
        print(f"queries: {len(questions)} from {label} (mean {chars:.0f} characters)")
        line("query median ms", statistics.median(times), TARGETS[f"{size} query median ms"])
        line("query p95 ms", p95, TARGETS[f"{size} query p95 ms"])
        line("  of which encode median ms", statistics.median(enc))
    if a.statutes is None:
        line("resident memory MB", rss_mb(), TARGETS["resident memory MB"])
        line("  index + model MB", rss_mb() - base)
    else:  # torch and the build's records are still in this process
        line("resident memory MB (after building here)", rss_mb())
        print("  run again without --statutes for the query process's memory")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")


if __name__ == "__main__":
    main()
