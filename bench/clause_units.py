"""Leave-source-out study of 款/项 units: does matching a question to one clause of a long
article put the right article of the right law first (issue 19, item 4)?

usage: python bench/clause_units.py --kb KB --adapters DIR [--out FILE.json] [--limit N]

A long enumerating article (劳动合同法第三十八条, 工伤保险条例第十四条) is embedded as a
whole, so a lay question about one of its items meets a vector diluted by all the others.
This study adds, beside each multi-paragraph article's own unit, one dense unit per
paragraph (an item carries the paragraph that introduces it: "有下列情形之一的，…：（三）…").
The article's dense score becomes the best of its units, exactly as the store scores
the units of a long article today, and the shipped fusion ranks the result.

Every setting re-ranks the same first stages (``Searcher.first_stage``, leave-source-out
filters, each set's question vectors from the adapter trained without its family, as in
``bench/tune_evidence.py --adapters``); only the semantic run changes. ``margin`` is
subtracted from a clause unit's cosine before it competes with the whole article (short
units score higher on their own); ``among`` says which articles a clause may lift (every
article, or the first stage's candidates, as ``retrieval.clauses`` does). Folds and the
objective are tune_evidence's. Adopted: all paragraphs, margin 0, candidates
(docs/quality.md "Clause units").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tune_evidence import COLS, FOLDS, N_CASES, SETS, fold_embedder, objective  # noqa: E402

from retrieval import fusion  # noqa: E402
from retrieval.config import DEFAULT_CONFIG  # noqa: E402
from retrieval.evaluate import leave_out, mean_metrics, query_metrics, read_queries  # noqa: E402
from retrieval.search import keyword_run  # noqa: E402
from retrieval.stores.flat import top_indices  # noqa: E402
from retrieval.units import clause_units  # noqa: E402

MARGINS = (-0.02, -0.01, 0.0, 0.01)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", required=True)
    ap.add_argument("--adapters", type=Path, required=True)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/clause-units"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()

    from retrieval.service import Service

    t0 = time.time()
    service = Service.load(Path(args.kb))
    searcher = service.searcher
    store = searcher.articles.store
    st = store._state
    articles = [searcher._article(p) for p in st.parents]
    units = clause_units(articles)  # what a build embeds
    parents, texts = [u.parent for u in units], [u.text for u in units]
    is_item = np.array([u.section.endswith("）") for u in units])
    args.scratch.mkdir(parents=True, exist_ok=True)
    cached = args.scratch / f"clauses-{len(texts)}.npy"
    if cached.exists():
        cvecs = np.load(cached)
    else:
        cvecs = searcher.embedder.encode_passages(texts).astype(np.float32)
        np.save(cached, cvecs)
    cpar = np.array([st.parent_index[p] for p in parents])
    print(
        f"{len(texts)} clause units ({int(is_item.sum())} items) of "
        f"{len(set(parents))} articles, {(time.time() - t0) / 60:.1f} min",
        flush=True,
    )

    cfg = DEFAULT_CONFIG
    rows: dict[str, list] = {}
    for name, path in SETS.items():
        searcher.embedder = fold_embedder(args.adapters, name)
        qs = read_queries(path, "curated")[: args.limit or None]
        out = []
        for q in qs:
            flt = leave_out(q, "source")
            first = searcher.first_stage(q.query, flt=flt, cfg=cfg, n_cases=N_CASES)
            avec = searcher.embedder.encode_article_queries([q.query])[0].astype(np.float32)
            mask = store._mask(st, flt)
            unit = np.where(mask, st.dense.vectors @ avec, -np.inf).astype(np.float32)
            whole = np.maximum.reduceat(unit, st.starts)
            allowed = np.isfinite(whole)
            out.append((q, first, flt, whole, allowed, cvecs @ avec))
        rows[name] = out
        print(f"{name}: {len(out)} first stages, {(time.time() - t0) / 60:.1f} min", flush=True)

    def semantic(row, margin: float, items_only: bool, among: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
        """The semantic run with clause units; ``among``: ``all`` articles, or only the
        first stage's candidates (``sem``: the semantic run's, ``sem+kw``: with the
        keyword run's), as a second stage over candidates would see them."""
        _, first, _, whole, allowed, csims = row
        best = whole.copy()
        use = is_item if items_only else np.ones_like(is_item)
        np.maximum.at(best, cpar[use], csims[use] - margin)
        if among != "all":
            keep = set(first.semantic or ())
            if among == "sem+kw":
                keep |= set(keyword_run(first, cfg) or ())
            idx = np.array([st.parent_index[p] for p in keep], np.int64)
            cand = np.full_like(best, -np.inf)
            cand[idx] = best[idx]
            best = cand
        best = np.where(allowed, best, -np.inf)
        return {st.parents[i]: float(best[i]) for i in top_indices(best, cfg.depth)}

    settings = [("shipped", None, False, "")] + [
        (f"{'items' if io else 'all'}-m{m}-{among}", m, io, among)
        for among in ("all", "sem", "sem+kw")
        for io in (False, True)
        for m in MARGINS
    ]

    by_law: dict[str, dict[str, list[float]]] = {}

    def score(setting, name: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
        _, margin, items_only, among = setting
        res = []
        laws = by_law.setdefault(setting[0], {}) if name == "equals" else None
        for row in rows[name]:
            q, first, flt = row[:3]
            use = first
            if margin is not None:
                use = replace(first, semantic=semantic(row, margin, items_only, among))
            fused = searcher.fuse(use, cfg, flt)
            res.append(query_metrics(fusion.ranked(fused)[:100], q.gold))
            if laws is not None:
                law = str(next(iter(q.gold))).split(":")[0]
                laws.setdefault(law, []).append(res[-1]["Hit@1"])
        return mean_metrics(res)

    results = {}
    for s in settings:
        per_set = {n: score(s, n) for n in SETS}
        folds = {}
        for fold, members in FOLDS.items():
            n = sum(len(rows[m]) for m in members)
            folds[fold] = {c: sum(per_set[m][c] * len(rows[m]) for m in members) / n for c in COLS}
        folds["everyday"] = per_set["everyday"]
        results[s[0]] = {**folds, **{f"set:{k}": v for k, v in per_set.items()}}
        print(
            f"{s[0]}: "
            + " | ".join(
                f"{f} {folds[f]['R@10']:.3f}/{folds[f]['Hit@1']:.3f}/{folds[f]['MRR@10']:.3f}"
                for f in [*FOLDS, "everyday"]
            ),
            flush=True,
        )

    def mean_obj(name: str, folds: list[str]) -> float:
        return sum(objective(results[name][f]) for f in folds) / len(folds)

    print("\nfold | chosen on the other folds | " + " | ".join(COLS) + " (shipped → chosen)")
    for fold in FOLDS:
        others = [f for f in FOLDS if f != fold]
        best = max(results, key=lambda n: mean_obj(n, others))
        b, c = results["shipped"][fold], results[best][fold]
        print(f"{fold} | {best} | " + " | ".join(f"{b[k]:.3f} → {c[k]:.3f}" for k in COLS))
    best = max(results, key=lambda n: mean_obj(n, list(FOLDS)))
    print(f"\nchosen on all folds: {best}; equals Hit@1 by law (shipped → chosen):")
    for law, hits in sorted(by_law["shipped"].items(), key=lambda kv: -len(kv[1])):
        if len(hits) >= 20:
            after = by_law[best][law]
            print(f"  {law} ({len(hits)}): {np.mean(hits):.3f} → {np.mean(after):.3f}")
    print(f"minutes: {(time.time() - t0) / 60:.1f}")
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
