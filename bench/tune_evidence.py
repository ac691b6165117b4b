"""Leave-source-out study of precedent evidence: trust per source, floor, weight and cap.

usage: python bench/tune_evidence.py --kb KB [--grid trust|shape|expand|fusion|cap|amount]
                                     [--adapters DIR] [--out FILE.json]

The knowledge base should hold the labelled question files as cases (build it with
``--cases ../shared/corpus/cases ../shared/eval/equals.jsonl
../shared/eval/lawyer-llama-zixun.jsonl ../shared/eval/lawbench-3-2.jsonl``). Every
query is searched once by the shipped first stage (``Searcher.first_stage``) with the
filter ``fengqiao eval --leave source`` gives it (no case or labelled question of its
own source family), then re-fused by the shipped ``Searcher.fuse`` under every setting
of the grid, so a setting's figures are those ``fengqiao eval`` would print.

Folds: equals, lawbench-3-8, lawbench-3-2, and lawyer-llama + zixun as one family (the
same retriever labelled both). A setting is chosen for each fold on the other folds
only (its figures on the fold are then held out), and the shipped setting on all folds
together, by the mean over folds of (Hit@1 + MRR@10 + R@10) / 3. The everyday set
(tests/data/eval/everyday.jsonl) is reported and never used to choose.

``--adapters DIR`` encodes the article-side question vectors of each set with a query
adapter trained without that set's family (``bench/adapt_e5.py ship --hold-out FAMILY
--out DIR/fold-FAMILY.safetensors``: fold-equals, fold-lawbench-3-8, fold-lawbench-3-2,
fold-llama); the everyday set, in no family, uses the shipped adapter. Without it, every
set uses the embedder ``FENGQIAO_MODEL`` selects (``base``: no adapter).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from retrieval import fusion  # noqa: E402
from retrieval.config import DEFAULT_CONFIG, SearchConfig  # noqa: E402
from retrieval.evaluate import (  # noqa: E402
    Query,
    leave_out,
    mean_metrics,
    query_metrics,
    read_queries,
)
from retrieval.hits import Filters  # noqa: E402
from retrieval.search import FirstStage  # noqa: E402

CORPUS = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
EVAL = CORPUS.parent / "eval"
SETS = {
    "equals": EVAL / "equals.jsonl",
    "lawbench-3-8": EVAL / "lawbench-3-8.jsonl",
    "lawbench-3-2": EVAL / "lawbench-3-2.jsonl",
    "lawyer-llama": EVAL / "lawyer-llama.jsonl",
    "zixun": EVAL / "lawyer-llama-zixun.jsonl",
    "everyday": REPO / "tests" / "data" / "eval" / "everyday.jsonl",
}
FOLDS = {
    "equals": ("equals",),
    "lawbench-3-8": ("lawbench-3-8",),
    "lawbench-3-2": ("lawbench-3-2",),
    "llama+zixun": ("lawyer-llama", "zixun"),
}
FOLD_ADAPTER = {
    "equals": "fold-equals",
    "lawbench-3-8": "fold-lawbench-3-8",
    "lawbench-3-2": "fold-lawbench-3-2",
    "lawyer-llama": "fold-llama",
    "zixun": "fold-llama",
}
COLS = ("R@10", "R@100", "Hit@1", "MRR@10")
N_CASES = 30


def objective(m: dict[str, float]) -> float:
    return (m["Hit@1"] + m["MRR@10"] + m["R@10"]) / 3


def pool_folds(
    per_set: Mapping[str, dict[str, float]], sizes: Mapping[str, int]
) -> dict[str, dict[str, float]]:
    """Each fold's figures (its sets' means weighted by their sizes: lawyer-llama and zixun
    pooled) and the everyday set's, which is in no fold."""
    out: dict[str, dict[str, float]] = {}
    for fold, members in FOLDS.items():
        n = sum(sizes[m] for m in members)
        out[fold] = {
            c: sum(per_set[m][c] * sizes[m] for m in members) / n for c in per_set[members[0]]
        }
    out["everyday"] = dict(per_set["everyday"])
    return out


def _trust(t_eq: float, t_zx: float, t_32: float) -> tuple[tuple[str, float], ...]:
    return (("lawyer-llama", 0.25), ("zixun", t_zx), ("equals", t_eq), ("lawbench-3-2", t_32))


def grid(kind: str, base: SearchConfig) -> list[SearchConfig]:
    """Settings to compare; the first is ``base``.

    ``trust``: trust of each labelled-question source (equals, zixun, lawbench-3-2) ×
    a cap on an article's precedent evidence. ``shape``: floor, weight and the number
    of nearest cases around ``base``. ``expand``: the weight of the vocabulary's own
    keyword scores (1 = appended to the question, the old way) × the lift of
    interpretation articles linked to the top articles (``interpretation_lift``).
    ``cap``: the most one source of labelled questions may lift one article
    (``labelled_cap``; 0 = no cap). ``amount``: the lift of amount-stating articles for
    questions that ask how much (``amount_lift``) × the statements they need
    (``amount_min``).
    """
    out = [base]
    if kind == "trust":
        values = (0.0, 0.25, 0.5, 1.0)
        for t_eq, t_zx, t_32, cap in itertools.product(values, values, values, (0.0, 1.0)):
            name = f"eq{t_eq}-zx{t_zx}-32{t_32}-cap{cap}"
            out.append(
                replace(
                    base, name=name, precedent_trust=_trust(t_eq, t_zx, t_32), precedent_cap=cap
                )
            )
    elif kind == "shape":
        for floor, w, n, cap in itertools.product(
            (0.86, 0.87, 0.88, 0.89), (1.5, 2.0, 3.0), (10, 20, 30), (0.0, 1.0, 2.0)
        ):
            name = f"{base.name}|f{floor}-w{w}-n{n}-cap{cap}"
            out.append(
                replace(
                    base,
                    name=name,
                    precedent_floor=floor,
                    w_precedent=w,
                    precedent_cases=n,
                    precedent_cap=cap,
                )
            )
    elif kind == "none":
        pass
    elif kind == "cap":
        for cap in (0.0, 1.0, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1):
            if cap != base.labelled_cap:
                out.append(replace(base, name=f"{base.name}|labelcap{cap}", labelled_cap=cap))
    elif kind == "amount":
        for lift, least in itertools.product((0.0, 0.1, 0.2, 0.3), (1, 2, 3)):
            if (lift, least) != (base.amount_lift, base.amount_min):
                name = f"{base.name}|amount{lift}-min{least}"
                out.append(replace(base, name=name, amount_lift=lift, amount_min=least))
    elif kind == "dual":
        for total, base_share in itertools.product((0.6, 0.7), (0.0, 0.25, 0.5, 0.75, 1.0)):
            w_base = round(total * base_share, 3)
            name = f"{base.name}|sem{total}-base{base_share}"
            out.append(
                replace(
                    base,
                    name=name,
                    w_semantic=round(total - w_base, 3),
                    w_semantic_base=w_base,
                    w_keyword=round(1.0 - total, 2),
                )
            )
    elif kind == "fusion":
        for w_sem, w_prec, w_law in itertools.product(
            (0.5, 0.6, 0.7, 0.8), (1.5, 2.0, 3.0), (0.25, 0.5, 0.75)
        ):
            name = f"{base.name}|sem{w_sem}-prec{w_prec}-law{w_law}"
            out.append(
                replace(
                    base,
                    name=name,
                    w_semantic=w_sem,
                    w_keyword=round(1.0 - w_sem, 2),
                    w_precedent=w_prec,
                    w_law=w_law,
                )
            )
    else:
        for e, lift in itertools.product((1.0, 0.75, 0.5, 0.25), (0.0, 0.25, 0.5)):
            name = f"{base.name}|expand{e}-interp{lift}"
            out.append(replace(base, name=name, expand_weight=e, interpretation_lift=lift))
    return out


def fold_embedder(folder: Path, set_name: str):  # type: ignore[no-untyped-def]
    """The product's embedder with the query adapter trained without ``set_name``'s family."""
    from retrieval.encoders.adapter import ADAPTER_FILE, MODEL_ENV
    from retrieval.encoders.embedder import STEmbedder

    fold = FOLD_ADAPTER.get(set_name)
    # the everyday set is in no family: the adapter trained on all of them
    shipped = folder / "shipped.safetensors"
    everyday = shipped if shipped.is_file() else ADAPTER_FILE
    os.environ[MODEL_ENV] = str(folder / f"{fold}.safetensors" if fold else everyday)
    emb = STEmbedder()
    emb.prepare_query_engine()  # the adapted ONNX export, once per adapter
    print(f"{set_name}: article vectors {emb.query_key}", flush=True)
    return emb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", required=True)
    ap.add_argument(
        "--grid",
        choices=("trust", "shape", "expand", "fusion", "none", "dual", "cap", "amount"),
        default="trust",
    )
    ap.add_argument(
        "--adapters", type=Path, help="folder of fold-FAMILY.safetensors query adapters"
    )
    ap.add_argument(
        "--base",
        default="",
        help="JSON of SearchConfig fields the grid starts from (default: shipped)",
    )
    ap.add_argument("--out", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="queries per set (0 = all)")
    args = ap.parse_args()

    from retrieval.service import Service

    t0 = time.time()
    service = Service.load(Path(args.kb))
    searcher = service.searcher
    base = DEFAULT_CONFIG
    if args.base:
        fields = json.loads(args.base)
        if "precedent_trust" in fields:
            fields["precedent_trust"] = tuple(map(tuple, fields["precedent_trust"]))
        base = replace(base, name="base", **fields)
    cfgs = grid(args.grid, base)
    # a first stage keeps the vocabulary's BM25 run apart when expand_weight < 1 (any
    # weight below 1 fuses from the same one); 1 appends the terms to the question
    union, split = replace(base, expand_weight=1.0), replace(base, expand_weight=0.5)
    both = args.grid == "expand"
    # the base vector's article run is made only when some setting weighs it
    first_cfg = replace(base, w_semantic_base=max(c.w_semantic_base for c in cfgs))
    firsts: dict[str, list[tuple[Query, FirstStage, FirstStage | None, Filters]]] = {}
    for name, path in SETS.items():
        if args.adapters:
            searcher.embedder = fold_embedder(args.adapters, name)
        qs = read_queries(path, "curated")
        if args.limit:
            qs = qs[: args.limit]
        rows = []
        for q in qs:
            flt = leave_out(q, "source")
            first = searcher.first_stage(q.query, flt=flt, cfg=first_cfg, n_cases=N_CASES)
            other = None
            if both:
                alt = union if base.expand_weight < 1.0 else split
                other = searcher.first_stage(q.query, flt=flt, cfg=alt, n_cases=N_CASES)
            rows.append((q, first, other, flt))
        firsts[name] = rows
        print(f"{name}: {len(rows)} first stages, {(time.time() - t0) / 60:.1f} min", flush=True)

    def score(cfg: SearchConfig, name: str) -> dict[str, float]:
        out = []
        for q, first, other, flt in firsts[name]:
            same = (cfg.expand_weight < 1.0) == (base.expand_weight < 1.0)
            use = first if same or other is None else other
            fused = searcher.fuse(use, cfg, flt)
            out.append(query_metrics(fusion.ranked(fused)[:100], q.gold))
        return mean_metrics(out)

    def fold_metrics(cfg: SearchConfig) -> dict[str, dict[str, float]]:
        per_set = {n: score(cfg, n) for n in SETS}
        out = pool_folds(per_set, {n: len(rows) for n, rows in firsts.items()})
        for name in SETS:
            out[f"set:{name}"] = per_set[name]
        return out

    results = {}
    for i, cfg in enumerate(cfgs):
        results[cfg.name] = fold_metrics(cfg)
        if i % 10 == 0:
            print(f"{i + 1}/{len(cfgs)} settings, {(time.time() - t0) / 60:.1f} min", flush=True)

    def mean_obj(name: str, folds: list[str]) -> float:
        return sum(objective(results[name][f]) for f in folds) / len(folds)

    base_name = cfgs[0].name
    report: dict[str, object] = {"folds": {}}
    print("\nfold | chosen on the other folds | " + " | ".join(COLS) + " (base → chosen)")
    for fold in FOLDS:
        others = [f for f in FOLDS if f != fold]
        best = max(results, key=lambda n: mean_obj(n, others))
        b, c = results[base_name][fold], results[best][fold]
        cells = " | ".join(f"{b[k]:.3f} → {c[k]:.3f}" for k in COLS)
        print(f"{fold} | {best} | {cells}")
        report["folds"][fold] = {"chosen": best, "base": b, "after": c}  # type: ignore[index]
    best = max(results, key=lambda n: mean_obj(n, list(FOLDS)))
    print(f"\nchosen on all folds: {best}")
    for name in [*FOLDS, "everyday"]:
        b, c = results[base_name][name], results[best][name]
        print(f"  {name}: " + " | ".join(f"{k} {b[k]:.3f} → {c[k]:.3f}" for k in COLS))
    report["chosen"] = best
    report["settings"] = {c.name: asdict(c) for c in cfgs if c.name in (base_name, best)}
    report["minutes"] = round((time.time() - t0) / 60, 1)
    if args.out:
        args.out.write_text(json.dumps({**report, "all": results}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
