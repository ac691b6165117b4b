"""办理提示: the risk detector's precision and recall on hand-labelled questions, and coverage.

Usage:
    python bench/bench_guidance.py [--statutes DIR] [--questions FILE.jsonl] [--json]

Defaults: the curated statutes (FENGQIAO_CORPUS or ../shared/corpus ``statutes/``) and
tests/data/eval/risk_questions.jsonl (``{"question", "risk", "kinds"}``, labelled by hand:
would a mediator need to act on a risk — report, protect, stop an escalation — first?).
Prints the points dropped against those statutes (a quote no longer verbatim), the
detector's precision/recall overall and per kind, the questions it gets wrong, and the
coverage table: per dispute type, the points of each section its own file gives and
(after the slash) what a question of that type can get with the shared and risk points.
Not a test: it prints the numbers of docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.records import DISPUTE_TYPES  # noqa: E402
from ingest.statutes import load_statutes  # noqa: E402
from retrieval.catalogue import Catalogue  # noqa: E402
from retrieval.guidance import COMMON, RISK, SECTION_TITLES, SECTIONS, Guide  # noqa: E402

CORPUS = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
QUESTIONS = REPO / "tests" / "data" / "eval" / "risk_questions.jsonl"


def _pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "tp": tp, "fp": fp, "fn": fn}


def risk_scores(guide: Guide, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Any-risk precision/recall per question, per-kind ones, and the questions missed."""
    tp = fp = fn = tn = 0
    kinds: dict[str, Counter[str]] = {}
    wrong = []
    for row in rows:
        found = {r.kind for r in guide.risks(row["question"])}
        gold = set(row["kinds"])
        if found and gold:
            tp += 1
        elif found:
            fp += 1
        elif gold:
            fn += 1
        else:
            tn += 1
        for k in found | gold:
            c = kinds.setdefault(k, Counter())
            c["tp" if k in found and k in gold else "fp" if k in found else "fn"] += 1
        if found != gold:
            wrong.append(
                {"question": row["question"], "gold": sorted(gold), "found": sorted(found)}
            )
    return {
        "questions": len(rows),
        "with_risk": sum(1 for r in rows if r["kinds"]),
        "any": {**_pr(tp, fp, fn), "tn": tn},
        "by_kind": {k: _pr(c["tp"], c["fp"], c["fn"]) for k, c in sorted(kinds.items())},
        "wrong": wrong,
    }


def coverage(guide: Guide) -> dict[str, dict[str, list[int]]]:
    """type → section → [points of the type's own file, points available with 通用 and 风险]."""
    shared = Counter(p.section for p in guide.points.get(COMMON, ()))
    risk = len(guide.points.get(RISK, ()))
    table: dict[str, dict[str, list[int]]] = {}
    for t in DISPUTE_TYPES:
        own = Counter(p.section for p in guide.points.get(t, ()))
        table[t] = {
            s: [own[s], own[s] + shared[s] + (risk if s == "风险" else 0)] for s in SECTIONS
        }
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--statutes", type=Path, default=CORPUS / "statutes")
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    articles = [a for a in load_statutes([args.statutes], workers=1).articles if a.current]
    guide = Guide.load(Catalogue(articles).lookup)
    rows = [json.loads(line) for line in args.questions.read_text("utf-8").splitlines() if line]
    scores = risk_scores(guide, rows)
    table = coverage(guide)
    if args.json:
        print(
            json.dumps(
                {
                    "dropped": [d.line() for d in guide.dropped],
                    "risk": scores,
                    "coverage": table,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    print(f"rules checked against {args.statutes}: dropped {len(guide.dropped)}")
    for d in guide.dropped:
        print("  ", d.line())
    a = scores["any"]
    print(
        f"\nrisk detector on {scores['questions']} questions ({scores['with_risk']} with a risk sign): "
        f"precision {a['precision']:.3f}, recall {a['recall']:.3f} "
        f"(tp {a['tp']}, fp {a['fp']}, fn {a['fn']}, tn {a['tn']})"
    )
    print("\n| kind | precision | recall | tp | fp | fn |\n|---|---|---|---|---|---|")
    for k, s in scores["by_kind"].items():
        print(
            f"| {k} | {s['precision']:.3f} | {s['recall']:.3f} | {s['tp']} | {s['fp']} | {s['fn']} |"
        )
    print("\nwrong (gold → found):")
    for w in scores["wrong"]:
        print(f"  {w['question']}  {w['gold']} → {w['found']}")
    heads = " | ".join(SECTION_TITLES[s] for s in SECTIONS)
    print(f"\n| 纠纷类型 | {heads} |\n|---|{'---|' * len(SECTIONS)}")
    for t, row in table.items():
        cells = " | ".join(f"{own}/{total}" for own, total in row.values())
        print(f"| {t} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
