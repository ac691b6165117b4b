"""Gold labels that name an article number of an older version of a law, and the metrics
if the article that label's text now sits in counted as the label.

A query set made before a law was revised labels its answer with the number the
article had then (LawBench's scenario set cites the 2018 妇女权益保障法 and the 2021
民事诉讼法). After a revision renumbers articles, the same number holds another
provision, and a retriever that finds the current provision is scored as a miss.
This script measures how much of a set is affected; the official metrics
(``fengqiao eval``, docs/quality.md) stay as they are.

usage: python bench/stale_labels.py --kb DIR [--history DIR ...] [--tier curated]
                                    [--sets lawbench-3-2.jsonl,...] [--config hybrid]

--history: statute folders that hold the older versions (default: statutes_full
without DLC/); their articles are only read, never added to the knowledge base.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.records import Article  # noqa: E402
from retrieval.catalogue import SAME, successor, text_similarity  # noqa: E402


def moved_labels(current: dict[str, Article], older: list[Article]) -> dict[str, str]:
    """Label id → id of the current article holding the older version's text of that number.

    Only labels whose number held another provision in an older version are listed.
    """
    by_law: dict[str, list[Article]] = {}
    for a in current.values():
        by_law.setdefault(a.law, []).append(a)
    out: dict[str, str] = {}
    for old in older:
        label = f"{old.law}:{old.key}"
        now = current.get(label)
        if now is None or text_similarity(old.text, now.text) >= SAME:
            continue
        best = successor(old, by_law[old.law])
        if best is not None and best.id != label:
            out.setdefault(label, best.id)
    return out


def main() -> int:
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    full = corpus / "statutes_full"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--eval", type=Path, default=corpus.parent / "eval")
    ap.add_argument(
        "--history",
        type=Path,
        nargs="*",
        default=[p for p in sorted(full.iterdir()) if p.is_dir() and p.name != "DLC"]
        if full.is_dir()
        else [],
    )
    ap.add_argument("--tier", default="curated")
    ap.add_argument("--sets", default="lawbench-3-2.jsonl,lawbench-3-8.jsonl")
    ap.add_argument("--config", default="hybrid")
    a = ap.parse_args()

    from ingest.statutes import load_statutes
    from retrieval.encoders.embedder import cache_root
    from retrieval.evaluate import evaluate, query_metrics
    from retrieval.service import Service

    kb = Service.load(a.kb)
    current = {art.id: art for art in kb.articles if art.current}
    laws = {art.law for art in current.values()}
    hist = load_statutes(a.history, cache_dir=cache_root() / "history")
    older = [art for art in hist.articles if not art.current and art.law in laws]
    older += [art for art in kb.articles if not art.current]
    moved = moved_labels(current, older)
    print(
        f"older-version articles read: {len(older)}; numbers that now hold another provision: "
        f"{len(moved)}"
    )

    for name in a.sets.split(","):
        res = evaluate(kb, a.eval / name, a.tier, [a.config])
        rows = res.per_query[a.config]
        stale = [r for r in rows if any(g in moved for g in r["gold"])]
        official = [query_metrics(r["top"], r["gold"]) for r in rows]
        aware = []
        for r in rows:
            alias = {moved[g]: g for g in r["gold"] if g in moved}
            ranking = list(dict.fromkeys(alias.get(d, d) for d in r["top"]))
            aware.append(query_metrics(ranking, r["gold"]))
        print(f"\n{name} ({len(rows)} queries, tier {a.tier}, {a.config}):")
        print(f"  queries with a label whose number now holds another provision: {len(stale)}")
        for r in stale[:30]:
            print(
                f"    {r['id']}: {', '.join(f'{g} → now {moved[g]}' for g in r['gold'] if g in moved)}"
            )
        for label, ms in (("official", official), ("version-aware", aware)):
            r10 = sum(m["R@10"] for m in ms) / len(ms)
            mrr = sum(m["MRR@10"] for m in ms) / len(ms)
            print(f"  {label:<14} R@10 {r10:.3f}  MRR@10 {mrr:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
