"""Same results on both backends: a built knowledge base on its FAISS + bm25s files and on Milvus.

The index folder's units are copied into a ``MilvusStore`` per corpus (milvus-lite file
or a server URI). For every eval query of a tier, the article runs (keyword over the
expanded query tokens, dense over the query vector, current law, depth 300) and the case
runs (depth 100, the query's leave-out filter) of both stores are compared: identical
order, overlap, largest score difference. With ``--eval``, ``fengqiao eval`` itself
(``retrieval.evaluate`` on the given configs) runs on the folder's service and on a
service whose corpora are the Milvus stores, metric by metric against the issue's
tolerance of 0.005.

usage: python bench/bench_store_equiv.py [--kb /work/kb-old] [--uri PATH.db|milvus://h:19530]
                                         [--queries FILE ...] [--tier curated] [--limit N]
                                         [--eval hybrid bm25 dense]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from retrieval import vocab  # noqa: E402
from retrieval.evaluate import evaluate, leave_out, read_queries  # noqa: E402
from retrieval.hits import Filters  # noqa: E402
from retrieval.service import Service  # noqa: E402
from retrieval.store import Scored  # noqa: E402
from retrieval.stores.fill import corpus_units, fill  # noqa: E402
from retrieval.stores.milvus import MilvusStore  # noqa: E402

ART_DEPTH, CASE_DEPTH = 300, 100
TOLERANCE = 0.005  # the bound on eval differences


def compare(a: list[Scored], b: list[Scored]) -> tuple[bool, float, float]:
    """(same order, overlap of the record sets, largest score difference on shared records)."""
    same = [x.parent for x in a] == [x.parent for x in b]
    sa, sb = {x.parent: x.score for x in a}, {x.parent: x.score for x in b}
    shared = sa.keys() & sb.keys()
    overlap = len(shared) / max(1, len(sa.keys() | sb.keys()))
    diff = max((abs(sa[p] - sb[p]) for p in shared), default=0.0)
    return same, overlap, diff


def compare_runs(
    args: argparse.Namespace, service: Service, stores: dict[str, Any], files: list[Path]
) -> None:
    tallies: dict[str, list[tuple[bool, float, float]]] = {}
    seconds = {"flat": 0.0, "milvus": 0.0}
    for path in files:
        for q in read_queries(path, args.tier)[: args.limit]:
            qvec = service.embedder.encode_queries([q.query])[0]
            tokens = service.tokenizer(vocab.expand_text(q.query))
            case_flt = leave_out(q, "source")
            for corpus, flt, depth in (
                ("articles", Filters(), ART_DEPTH),
                ("cases", case_flt, CASE_DEPTH),
            ):
                flat = service.articles.store if corpus == "articles" else service.cases.store
                for kind in ("keyword", "dense"):
                    got = {}
                    for name, store in (("flat", flat), ("milvus", stores[corpus])):
                        t = time.perf_counter()
                        got[name] = (
                            store.keyword(tokens, flt, depth)
                            if kind == "keyword"
                            else store.dense(qvec, flt, depth)
                        )
                        seconds[name] += time.perf_counter() - t
                    tallies.setdefault(f"{corpus} {kind}", []).append(
                        compare(got["flat"], got["milvus"])
                    )
    n = len(tallies["articles dense"])
    print(
        f"\n{n} queries ({args.tier}); flat store {seconds['flat']:.1f} s, Milvus {seconds['milvus']:.1f} s"
    )
    print(f"{'run':20} {'identical':>10} {'overlap':>8} {'max |Δscore|':>13}")
    for name, rows in tallies.items():
        same = sum(r[0] for r in rows) / len(rows)
        print(
            f"{name:20} {same:10.3f} {np.mean([r[1] for r in rows]):8.4f} {max(r[2] for r in rows):13.2e}"
        )


def compare_eval(
    args: argparse.Namespace, service: Service, stores: dict[str, Any], files: list[Path]
) -> None:
    configs = args.eval or ["hybrid"]
    other = Service.load(
        Path(args.kb), stores=lambda *_: stores, embedder=service.embedder, config=service.config
    )
    worst = 0.0
    for path in files:
        res = {}
        for name, svc in (("flat", service), ("milvus", other)):
            t = time.perf_counter()
            res[name] = evaluate(svc, path, args.tier, configs, limit=args.limit)
            print(
                f"{path.name} on {name}: {res[name].queries} queries in {time.perf_counter() - t:.0f} s"
            )
        print(f"{'config':10} {'metric':8} {'flat':>8} {'milvus':>8} {'|Δ|':>8}")
        for c in configs:
            for metric in ("R@1", "R@5", "R@10", "R@20", "MRR@10", "nDCG@10"):
                a, b = res["flat"].by_config[c][metric], res["milvus"].by_config[c][metric]
                worst = max(worst, abs(a - b))
                print(f"{c:10} {metric:8} {a:8.4f} {b:8.4f} {abs(a - b):8.4f}")
    print(f"largest |Δ| over all files, configs and metrics: {worst:.4f} (target ≤ {TOLERANCE})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", default="/work/kb-old")
    ap.add_argument("--uri", default="/work/scratch/wt13/equiv.db")
    ap.add_argument("--queries", nargs="*", default=None)
    ap.add_argument("--tier", default="curated")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--eval", nargs="*", default=None, help="configs for the full eval comparison")
    args = ap.parse_args()

    service = Service.load(args.kb)
    shared = Path(os.environ.get("FENGQIAO_EVAL", REPO.parent / "shared" / "eval"))
    files = [Path(q) for q in args.queries] if args.queries else sorted(shared.glob("*.jsonl"))
    key = service.manifest["model"]["key"]
    stores: dict[str, Any] = {}
    t0 = time.perf_counter()
    for corpus in ("articles", "cases"):
        store = MilvusStore(
            args.uri, f"equiv_{corpus}", corpus=corpus, dim=service.embedder.dim, model_key=key
        )
        units = corpus_units(Path(args.kb), corpus)  # type: ignore[arg-type]
        if len(store) != len(units.rows):
            fill(store, units)
        stores[corpus] = store
    print(
        f"filled {args.uri}: {len(stores['articles'])} article units, "
        f"{len(stores['cases'])} case units in {time.perf_counter() - t0:.0f} s"
    )
    if args.eval is not None:
        compare_eval(args, service, stores, files)
    else:
        compare_runs(args, service, stores, files)


if __name__ == "__main__":
    main()
