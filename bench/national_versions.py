"""National tier: how much of a recall figure comes from counting older versions' articles.

usage: python bench/national_versions.py [--statutes-full DIR] [--sets lawbench-3-2,lawbench-3-8]

A BM25 index (jieba + legal dictionary, law name + heading + text, as the knowledge
base's keyword index) over every version of every national law (statutes_full minus
DLC/). Each query is scored twice: (a) only current law in force is searchable, as
the product searches; (b) older versions are searchable too and an article counts
by ``law:number`` whatever its version ("one record per article, duplicate versions
merged"). Labels written against an older numbering (bench/stale_labels.py) are hit
only in (b). No vectors are needed, so this runs without a national build.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import EVAL, read_set  # noqa: E402
from retrieval.bm25 import BM25Index  # noqa: E402
from retrieval.evaluate import mean_metrics, query_metrics  # noqa: E402
from retrieval.tokenizer import JiebaTokenizer  # noqa: E402

NATIONAL = (
    "民法典 宪法 宪法相关法 民法商法 行政法 经济法 社会法 刑法 诉讼与非诉讼程序法 "
    "行政法规 司法解释 部门规章 其他"
).split()


def main() -> int:
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--statutes-full", type=Path, default=corpus / "statutes_full")
    ap.add_argument("--sets", default="lawbench-3-2,lawbench-3-8")
    ap.add_argument("--cache", type=Path, default=REPO / "kb" / "bench-cache" / "parse")
    args = ap.parse_args()
    from ingest.statutes import load_statutes

    t0 = time.time()
    arts = load_statutes([args.statutes_full / d for d in NATIONAL], cache_dir=args.cache).articles
    tok = JiebaTokenizer().with_words(sorted({a.law for a in arts}))
    docs = tok.tokenize_many(f"{a.law} {a.path[-1] if a.path else ''} {a.text}" for a in arts)
    index = BM25Index().index(docs)
    current = np.array([a.current and a.status in ("现行有效", "尚未施行") for a in arts])
    key = [f"{a.law}:{a.key}" for a in arts]
    print(
        f"{len(arts)} articles over all versions, {int(current.sum())} current "
        f"({time.time() - t0:.0f} s to parse and index)"
    )
    for name in args.sets.split(","):
        qs = [q for q in read_set(EVAL / f"{name}.jsonl") if "national" in q.tiers]
        now, merged, rises = [], [], 0
        for q in qs:
            s = index.scores(tok(q.text))
            order = [i for i in np.argsort(-s, kind="stable")[:400] if s[i] > 0]
            a = query_metrics([key[i] for i in order if current[i]][:100], q.gold)
            b = query_metrics(list(dict.fromkeys(key[i] for i in order))[:100], q.gold)
            now.append(a)
            merged.append(b)
            rises += b["R@10"] > a["R@10"]
        for label, rows in (("current law only", now), ("all versions, counted by number", merged)):
            m = mean_metrics(rows)
            print(
                f"{name} ({len(qs)}) BM25, {label}: R@1 {m['R@1']:.3f} R@10 {m['R@10']:.3f} "
                f"R@100 {m['R@100']:.3f} MRR@10 {m['MRR@10']:.3f}"
            )
        print(f"{name}: {rises} queries gain R@10 only because an older version's text counts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
