"""Hit@1 / Hit@10 / MRR@10 of the default retriever per law of the gold article.

usage: python bench/eval_by_law.py --kb KB --queries FILE.jsonl [--tier curated] [--min 20]
                                   [--misses N]

Runs ``fengqiao eval``'s own evaluation (leave-source-out) and groups its per-query rows
by the law of each query's first gold article, so the laws a set is weak on stand out
(issue 19: wages, dismissal and work injuries). Laws with fewer than ``--min`` queries
are pooled under 其他. ``--misses N`` adds where the misses are (the right law first but
the wrong article, gold in the top 10 or not; another law first) and the N most frequent
(gold, first) pairs.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from retrieval.config import DEFAULT_CONFIG  # noqa: E402
from retrieval.evaluate import evaluate  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--tier", default="curated")
    ap.add_argument("--min", type=int, default=20)
    ap.add_argument("--misses", type=int, default=0, help="most frequent (gold, first) pairs")
    args = ap.parse_args()

    from retrieval.service import Service

    service = Service.load(Path(args.kb))
    res = evaluate(service, args.queries, args.tier, [DEFAULT_CONFIG.name], leave="source")
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for row in res.per_query[DEFAULT_CONFIG.name]:
        groups[str(row["gold"][0]).split(":")[0]].append(row)
    pooled: dict[str, list[dict[str, float]]] = defaultdict(list)
    for law, rows in groups.items():
        pooled[law if len(rows) >= args.min else "其他"].extend(rows)
    print(f"{args.queries.name}: {res.queries} queries, tier {args.tier}, leave-source-out")
    print("| law (queries) | Hit@1 | Hit@10 | MRR@10 |\n|---|---|---|---|")
    for law, rows in sorted(pooled.items(), key=lambda kv: -len(kv[1])):
        n = len(rows)
        cells = [sum(r[m] for r in rows) / n for m in ("Hit@1", "Hit@10", "MRR@10")]
        print(f"| {law} ({n}) | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    if args.misses:
        print_misses(res.per_query[DEFAULT_CONFIG.name], args.misses)
    return 0


def print_misses(rows: list[dict[str, Any]], most: int) -> None:
    """Where the misses are, and the most frequent (gold, first) pairs among them."""
    kinds: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for row in rows:
        gold, top = set(row["gold"]), row["top"]
        if top and top[0] in gold:
            kinds["first is gold"] += 1
            continue
        same = bool(top) and top[0].split(":")[0] in {g.split(":")[0] for g in gold}
        in10 = any(t in gold for t in top[:10])
        where = "right law first" if same else "another law first (or none)"
        kinds[f"{where}, gold {'in' if in10 else 'not in'} the top 10"] += 1
        if top:
            pairs[(row["gold"][0], top[0])] += 1
    print("\n| where | queries |\n|---|---|")
    for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"| {kind} | {n} |")
    print("\n| gold | first | queries |\n|---|---|---|")
    for (wanted, first), n in pairs.most_common(most):
        print(f"| {wanted} | {first} | {n} |")


if __name__ == "__main__":
    raise SystemExit(main())
