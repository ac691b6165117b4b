"""How similar the "similar cases" are: precision@5 of the case list on labelled mediator questions.

usage: python bench/bench_similar_cases.py [--kb DIR] [--queries tests/data/eval/everyday.jsonl]
       [--compare]

Each question lists the dispute types a mediator would accept for a similar case
(``dispute_types``; in tests/data/eval/answer_points.jsonl the one ``dispute``). A shown
case counts as relevant when its dispute type is one of them. Printed: precision over
the cases shown, the number shown per question, questions with no case at all, and the
share of shown cases that are real resolutions (a committee's or a court's) rather than
consultations or machine-written answers. ``--compare`` runs each question also with
the ordering before issue 21 (``similar_verified_first`` and ``similar_by_dispute``
off) and prints both, plus how often a relevant resolution was shown below an
unverified case.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    from retrieval.kb_folder import default_kb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=default_kb())
    ap.add_argument(
        "--queries", type=Path, default=REPO / "tests" / "data" / "eval" / "everyday.jsonl"
    )
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--show", action="store_true", help="print every question's cases")
    ap.add_argument("--compare", action="store_true", help="also the ordering before issue 21")
    a = ap.parse_args()

    from retrieval.service import Service

    service = Service.load(a.kb)
    rows = [json.loads(x) for x in a.queries.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        r.setdefault("query", r.get("question", ""))
        if "dispute_types" not in r and r.get("dispute"):
            r["dispute_types"] = [r["dispute"]]
    rows = [r for r in rows if r.get("dispute_types")]
    configs = {"after": service.config}
    if a.compare:
        configs = {
            "before": replace(
                service.config, similar_verified_first=False, similar_by_dispute=False
            ),
            **configs,
        }
    print(
        f"questions: {len(rows)} ({a.queries.name}), knowledge base {a.kb}, cases asked per question: {a.k}"
    )
    for name, cfg in configs.items():
        report(service, rows, a.k, cfg, name, a.show)
    return 0


def report(service, rows, k, cfg, name, show):  # type: ignore[no-untyped-def]
    shown, relevant, empty, resolutions, buried = [], 0, 0, 0, 0
    kinds: Counter[str] = Counter()
    per_question = []
    for r in rows:
        cases = [h.record for h in service.search(r["query"], k=5, k_cases=k, config=cfg).cases]
        ok = [c.dispute_type in r["dispute_types"] for c in cases]
        shown.append(len(cases))
        relevant += sum(ok)
        empty += not cases
        resolutions += sum(c.verified for c in cases)
        kinds.update(c.kind for c in cases)
        per_question.append(sum(ok) / len(cases) if cases else None)
        # a relevant resolution shown below a consultation or a machine's answer
        buried += any(
            c.verified and good and any(not d.verified for d in cases[:i])
            for i, (c, good) in enumerate(zip(cases, ok, strict=True))
        )
        if show:
            print(
                f"\n[{name}] {r.get('id', '')} {r['query']}  (可接受：{'、'.join(r['dispute_types'])})"
            )
            for c, good in zip(cases, ok, strict=True):
                print(f"  {'✓' if good else '✗'} [{c.dispute_type}·{c.kind}] {c.title[:40]}")
    total = sum(shown)
    answered = [p for p in per_question if p is not None]
    print(f"\n== {name} ==")
    print(
        f"cases shown: {total} (mean {statistics.mean(shown):.2f} per question; none for {empty})"
    )
    print(f"precision@{k} over shown cases: {relevant / total if total else 0:.3f}")
    print(
        f"mean per-question precision (questions with cases): {statistics.mean(answered) if answered else 0:.3f}"
    )
    print(
        f"unrelated cases shown: {total - relevant} ({(total - relevant) / len(rows):.2f} per question)"
    )
    print(f"real resolutions among shown: {resolutions} / {total}")
    print(f"questions with a relevant resolution below an unverified case: {buried}")
    print("by kind: " + ", ".join(f"{kd} {v}" for kd, v in kinds.most_common()))


if __name__ == "__main__":
    sys.exit(main())
