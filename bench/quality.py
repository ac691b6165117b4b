"""Retrieval quality table: evaluates a knowledge base on the shared query sets and writes docs/quality.md.

usage: python bench/quality.py [--kb DIR] [--eval DIR] [--tier curated] [--configs bm25,dense,rrf,hybrid]
                               [--limit N] [--write | --check]

--write rewrites the table (and the expected numbers CI checks) in docs/quality.md;
--check fails (exit 1) when a metric of the default configuration dropped by more
than 0.01 against the expected numbers recorded for the same --limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DOC = REPO / "docs" / "quality.md"
SETS = ("lawbench-3-8.jsonl", "lawbench-3-2.jsonl", "lawyer-llama.jsonl")
# the project's own regression set of everyday mediator questions (tests/data/eval/README.md)
EVERYDAY = REPO / "tests" / "data" / "eval" / "everyday.jsonl"
COLS = ("R@1", "R@5", "R@10", "R@20", "R@100", "Hit@1", "MRR@10", "nDCG@10")
LEAVE = {
    "source": "source out (a query never uses cases of its own query set)",
    "one": "one out (only the query's own record is hidden)",
    "none": "nothing out",
}
_EXPECTED = re.compile(r"<!-- expected (\{.*?\}) -->", re.S)


def table(results: dict[str, dict]) -> str:
    rows = [
        "| set (queries) | retriever | " + " | ".join(COLS) + " |",
        "|---|---|" + "---|" * len(COLS),
    ]
    for name, r in results.items():
        for cfg, m in r["by_config"].items():
            label = f"**{cfg}**" if cfg == r["config"]["retriever"] else cfg
            rows.append(
                f"| {name.removesuffix('.jsonl')} ({r['queries']}) | {label} | "
                + " | ".join(f"{m[c]:.3f}" for c in COLS)
                + " |"
            )
    return "\n".join(rows)


def read_expected() -> dict:
    m = _EXPECTED.search(DOC.read_text(encoding="utf-8")) if DOC.exists() else None
    return json.loads(m.group(1)) if m else {}


def main() -> int:
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    from retrieval.kb_folder import default_kb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=default_kb())
    ap.add_argument("--eval", type=Path, default=corpus.parent / "eval")
    ap.add_argument("--tier", default="curated")
    ap.add_argument("--configs", default="bm25,dense,rrf,hybrid")
    ap.add_argument(
        "--sets",
        default=",".join((*SETS, EVERYDAY.name)),
        help="file names in --eval (everyday.jsonl is read from tests/data/eval)",
    )
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--leave", choices=["source", "one", "none"], default="source")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()

    from retrieval.evaluate import evaluate
    from retrieval.service import Service

    kb = Service.load(a.kb)
    results = {}
    for name in a.sets.split(","):
        r = evaluate(
            kb,
            EVERYDAY if name == EVERYDAY.name else a.eval / name,
            a.tier,
            a.configs.split(","),
            leave=a.leave,
            limit=a.limit,
            show_progress=True,
        )
        results[name] = r.to_json()
    text = table(results)
    print(text)
    key = f"{a.tier}:{a.limit or 'all'}:{a.leave}"
    current = {n: r["metrics"] for n, r in results.items()}
    if a.check:
        expected = read_expected().get(key)
        if not expected:
            print(f"no expected numbers for {key} in {DOC}")
            return 1
        drops = [
            f"{n} {c}: {expected[n][c]:.3f} -> {current[n][c]:.3f}"
            for n in expected
            if n in current
            for c in COLS
            if current[n][c] < expected[n][c] - 0.01
        ]
        for d in drops:
            print("DROPPED", d)
        return 1 if drops else 0
    if a.write:
        exp = read_expected()
        exp[key] = current
        stats = kb.stats()
        cmd = (
            f"python bench/quality.py --kb KB --tier {a.tier} --configs {a.configs} --leave {a.leave}"
            + (f" --limit {a.limit}" if a.limit else "")
            + " --write"
        )
        body = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        section = (
            f"<!-- table {key} -->\n"
            f"Knowledge base: {stats.laws} laws, {stats.articles} articles, {stats.cases} cases; "
            f"model `{stats.model}`; tier `{a.tier}`; leave {LEAVE[a.leave]}; "
            f"{'first ' + str(a.limit) + ' queries of each set' if a.limit else 'all queries of the tier'}.\n"
            f"Produced by: `{cmd}`\n\n{text}\n<!-- end {key} -->"
        )
        pat = re.compile(rf"<!-- table {re.escape(key)} -->.*?<!-- end {re.escape(key)} -->", re.S)
        body = (
            pat.sub(lambda _m: section, body)
            if pat.search(body)
            else body.rstrip() + "\n\n" + section + "\n"
        )
        blob = f"<!-- expected {json.dumps(exp, ensure_ascii=False, sort_keys=True)} -->"
        body = (
            _EXPECTED.sub(lambda _m: blob, body)
            if _EXPECTED.search(body)
            else body.rstrip() + "\n\n" + blob + "\n"
        )
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
