"""Same results on both backends: a built knowledge base's runs from a MilvusStore beside today's.

For every eval query of a tier, the article runs (keyword over expanded query tokens,
dense over the query vector, current law only, depth 300) and the case runs (depth 50,
the query's own case left out) are computed the way ``Searcher`` computes them today
(numpy + bm25s over the index folder) and by a ``MilvusStore`` filled from the same
folder. Printed: how many runs are identical, rank overlap, the largest score difference,
and R@10 / MRR@10 of the keyword-only and dense-only article rankings on both backends.

With ``--eval``, also ``fengqiao eval`` itself (``retrieval.evaluate``, the given configs)
on the index folder and on the stores (through ``retrieval.stores.bridge``), metric by
metric against the issue's tolerance of 0.005.

usage: python bench/bench_store_equiv.py [--kb /work/kb-old] [--uri /tmp/equiv.db]
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
from retrieval.evaluate import query_metrics, read_queries  # noqa: E402
from retrieval.hits import Filters  # noqa: E402
from retrieval.search import _max_by_parent, _top  # noqa: E402
from retrieval.store import Scored  # noqa: E402
from retrieval.stores.fill import corpus_units, fill  # noqa: E402
from retrieval.stores.milvus import MilvusStore  # noqa: E402

ART_DEPTH, CASE_DEPTH = 300, 50
TOLERANCE = 0.005  # the bound on eval differences


def reference(
    scores: np.ndarray, parent: np.ndarray, ids: list[str], ok: np.ndarray, depth: int, pos: bool
) -> list[Scored]:
    s = _max_by_parent(scores, parent, len(ids), ok[parent])
    return [Scored(ids[i], float(s[i]), "") for i in _top(s, depth, positive=pos)]


def compare(a: list[Scored], b: list[Scored]) -> tuple[bool, float, float]:
    """(same order, overlap of the record sets, largest score difference on shared records)."""
    same = [x.parent for x in a] == [x.parent for x in b]
    sa, sb = {x.parent: x.score for x in a}, {x.parent: x.score for x in b}
    shared = sa.keys() & sb.keys()
    overlap = len(shared) / max(1, len(sa.keys() | sb.keys()))
    diff = max((abs(sa[p] - sb[p]) for p in shared), default=0.0)
    return same, overlap, diff


def compare_eval(
    args: argparse.Namespace, kb: Any, stores: dict[str, Any], files: list[Path]
) -> None:
    from retrieval.evaluate import evaluate
    from retrieval.kb import KnowledgeBase
    from retrieval.stores.bridge import through_stores

    configs = args.eval or ["hybrid"]
    # 400 records per run cover the Searcher's depth (300 articles, 100 cases) plus the few
    # records its masks remove on the curated tier
    other = through_stores(
        KnowledgeBase.load(args.kb, embedder=kb.embedder),
        stores["articles"],
        stores["cases"],
        depth=args.depth,
    )
    worst = 0.0
    for path in files:
        res = {}
        for name, base in (("index folder", kb), ("milvus", other)):
            t = time.perf_counter()
            res[name] = evaluate(base, path, args.tier, configs, limit=args.limit)
            print(
                f"{path.name} on {name}: {res[name].queries} queries in {time.perf_counter() - t:.0f} s"
            )
        print(f"{'config':10} {'metric':8} {'folder':>8} {'milvus':>8} {'|Δ|':>8}")
        for c in configs:
            for metric in ("R@1", "R@5", "R@10", "R@20", "MRR@10", "nDCG@10"):
                a = res["index folder"].by_config[c][metric]
                b = res["milvus"].by_config[c][metric]
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
    ap.add_argument("--depth", type=int, default=400, help="records per store run in --eval")
    args = ap.parse_args()

    from retrieval.kb import KnowledgeBase

    kb = KnowledgeBase.load(args.kb)
    shared = Path(os.environ.get("FENGQIAO_EVAL", REPO.parent / "shared" / "eval"))
    files = [Path(q) for q in args.queries] if args.queries else sorted(shared.glob("*.jsonl"))
    key = kb.manifest["model"]["key"]
    stores = {}
    t0 = time.perf_counter()
    for corpus in ("articles", "cases"):
        store = MilvusStore(
            args.uri, f"equiv_{corpus}", corpus=corpus, dim=kb.embedder.dim, model_key=key
        )
        units = corpus_units(kb, corpus)  # type: ignore[arg-type]
        if len(store) != len(units.rows):
            fill(store, units)
        stores[corpus] = store
    print(
        f"filled {args.uri}: {len(stores['articles'])} article units, "
        f"{len(stores['cases'])} case units in {time.perf_counter() - t0:.0f} s"
    )

    if args.eval is not None:
        compare_eval(args, kb, stores, files)
        return
    art_ok = kb.article_mask(Filters())
    tallies: dict[str, list[tuple[bool, float, float]]] = {}
    metrics: dict[str, list[dict[str, float]]] = {}
    t_ref = t_store = 0.0
    for path in files:
        for q in read_queries(path, args.tier)[: args.limit]:
            qvec = kb.embedder.encode_queries([q.query])[0]
            tokens = kb.tokenizer(vocab.expand_text(q.query))
            plain = kb.tokenizer(q.query)
            case_ok = kb.case_mask(Filters(exclude_case_ids=(q.id,)))
            runs = {
                "articles keyword": (kb.a_bm25.scores(tokens), tokens, "articles", True),
                "articles bm25 (unexpanded)": (kb.a_bm25.scores(plain), plain, "articles", True),
                "articles dense": (kb.a_dense.scores(qvec), qvec, "articles", False),
                "cases keyword": (kb.c_bm25.scores(tokens), tokens, "cases", True),
                "cases dense": (kb.c_dense.scores(qvec), qvec, "cases", False),
            }
            for name, (scores, query, corpus, pos) in runs.items():
                t = time.perf_counter()
                if corpus == "articles":
                    ref = reference(scores, kb.a_parent, kb.article_ids, art_ok, ART_DEPTH, pos)
                    flt = Filters()
                else:
                    ref = reference(scores, kb.c_parent, kb.case_ids, case_ok, CASE_DEPTH, pos)
                    flt = Filters(exclude_case_ids=(q.id,))
                t_ref += time.perf_counter() - t
                t = time.perf_counter()
                store = stores[corpus]
                depth = ART_DEPTH if corpus == "articles" else CASE_DEPTH
                got = (
                    store.keyword(query, flt, depth)  # type: ignore[arg-type]
                    if pos
                    else store.dense(query, flt, depth)  # type: ignore[arg-type]
                )
                t_store += time.perf_counter() - t
                tallies.setdefault(name, []).append(compare(ref, got))
                if name in ("articles bm25 (unexpanded)", "articles dense"):
                    for backend, run in (("index folder", ref), ("milvus", got)):
                        m = query_metrics([x.parent for x in run][:100], q.gold)
                        metrics.setdefault(f"{name} · {backend}", []).append(m)
    n = len(tallies["articles dense"])
    print(f"\n{n} queries ({args.tier}); reference {t_ref:.1f} s, Milvus {t_store:.1f} s")
    print(f"{'run':30} {'identical':>10} {'overlap':>8} {'max |Δscore|':>13}")
    for name, rows in tallies.items():
        same = sum(r[0] for r in rows) / len(rows)
        print(
            f"{name:30} {same:10.3f} {np.mean([r[1] for r in rows]):8.4f} "
            f"{max(r[2] for r in rows):13.2e}"
        )
    print(f"\n{'ranking':45} {'R@10':>7} {'MRR@10':>7}")
    for name, ms in metrics.items():
        print(
            f"{name:45} {np.mean([m['R@10'] for m in ms]):7.4f} {np.mean([m['MRR@10'] for m in ms]):7.4f}"
        )
    for name in ("articles bm25 (unexpanded)", "articles dense"):
        for metric in ("R@10", "MRR@10"):
            a = np.mean([m[metric] for m in metrics[f"{name} · index folder"]])
            b = np.mean([m[metric] for m in metrics[f"{name} · milvus"]])
            print(f"{name} {metric}: Δ = {abs(a - b):.4f} (target ≤ {TOLERANCE})")


if __name__ == "__main__":
    main()
