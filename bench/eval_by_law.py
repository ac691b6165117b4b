"""Hit@1 / Hit@10 / MRR@10 of the default retriever per law of the gold article.

usage: python bench/eval_by_law.py --kb KB --queries FILE.jsonl [--tier curated] [--min 20]

Runs ``fengqiao eval``'s own evaluation (leave-source-out) and groups its per-query rows
by the law of each query's first gold article, so the laws a set is weak on stand out
(issue 19: wages, dismissal and work injuries). Laws with fewer than ``--min`` queries
are pooled under 其他.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
