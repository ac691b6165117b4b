"""Two more levers for the right article inside the right law, measured leave-source-out.

usage: python bench/second_stage.py late   --kb KB --adapters DIR [--k 20] [--out FILE.json]
       python bench/second_stage.py center --kb KB --adapters DIR [--mode mean|shift]
                                           [--betas 0,0.2,0.5,1] [--out FILE.json]
       python bench/second_stage.py gate   --kb KB --adapters DIR [--out FILE.json]

``late``: late interaction (Khattab & Zaharia, "ColBERT", SIGIR 2020) as a second stage
over the shipped pipeline's fused top ``k``: the e5 token states of the question and of
each candidate article (last layer, base model, bf16), MaxSim summed over the question's
tokens. Two variants:

- untrained: ``z(fused) + w * z(MaxSim)`` within the candidates, ``k`` and ``w`` chosen
  for each fold on the other folds;
- trained: a low-rank correction of the question's token states (``q + U V^T q``, rank
  32) and a weight per question token, trained on the other folds' questions whose gold
  article is among the candidates (listwise softmax over the ``k``, several gold
  articles allowed), the mix with the fused score learned with it.

``center``: hubness reduction (Suzuki et al., "Centering similarity measures to reduce
hubs", EMNLP 2013) on the question vector the articles are searched with: ``q - beta *
c``, renormalised, where ``c`` is the mean adapted vector of the adapter's training
questions (``--mode mean``), or the mean shift the adapter applies to them (adapted
minus base, ``--mode shift``). Either needs no labels, and ``c`` comes only from the
folds the adapter was trained on. The whole shipped first stage runs again with it
(clause units included).

``gate``: the same prior attacked in fusion instead: an article with no keyword support
(its min-max keyword score at most ``tau``) keeps only ``lam`` of its semantic share.

All three take the knowledge base and the fold adapters of ``bench/tune_evidence.py`` (its
docstring says how to build them); every question is searched with the filter
``fengqiao eval --leave source`` gives it. The figures are in docs/quality.md ("Tried
in session 11"); none was adopted.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tune_evidence import (  # noqa: E402
    FOLD_ADAPTER,
    FOLDS,
    N_CASES,
    SETS,
    fold_embedder,
    objective,
)

from retrieval import fusion  # noqa: E402
from retrieval.config import DEFAULT_CONFIG  # noqa: E402
from retrieval.evaluate import leave_out, mean_metrics, query_metrics, read_queries  # noqa: E402

SEED = 13
FAMILY = {name: fold for fold, names in FOLDS.items() for name in names}
WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
DEPTHS = (5, 10, 20)  # the untrained variant re-orders the top 5, 10 or 20
MAX_ARTICLE_TOKENS = 192  # the trained variant's padding (the untrained one reads 512)
MAX_QUESTION_TOKENS = 48


def fmt(m: dict[str, float]) -> str:
    return f"{m['R@10']:.3f}/{m['Hit@1']:.3f}/{m['MRR@10']:.3f}"


@dataclass
class Row:
    """One question and the shipped pipeline's fused top candidates for it."""

    set_name: str
    question: str
    gold: tuple[str, ...]
    ids: list[str]
    scores: list[float]


def load_searcher(kb: Path) -> Any:
    from retrieval.service import Service

    return Service.load(kb).searcher


def first_stages(searcher: Any, adapters: Path) -> Iterator[tuple[str, Any, Any, Any]]:
    """``(set name, query, filter, first stage)`` for every question of every set: the
    shipped first stage with the fold's adapter and the question's own source left out."""
    for name, path in SETS.items():
        searcher.embedder = fold_embedder(adapters, name)
        for q in read_queries(path, "curated"):
            flt = leave_out(q, "source")
            first = searcher.first_stage(q.query, flt=flt, cfg=DEFAULT_CONFIG, n_cases=N_CASES)
            yield name, q, flt, first


def fused_rows(searcher: Any, adapters: Path, k: int) -> list[Row]:
    """Every set's questions with their fused top ``k``."""
    rows = []
    for name, q, flt, first in first_stages(searcher, adapters):
        run = searcher.fuse(first, DEFAULT_CONFIG, flt)
        ids = fusion.ranked(run)[:k]
        rows.append(Row(name, q.query, q.gold, ids, [run[i] for i in ids]))
    return rows


def article_texts(kb: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with (kb / "index" / "article_units.jsonl").open(encoding="utf-8") as f:
        for line in f:
            unit = json.loads(line)
            if unit["kind"] == "article":
                out.setdefault(unit["id"], unit["text"])
    return out


@functools.cache
def _torch_model() -> Any:
    """The base e5 sentence-transformers model a build encodes passages with."""
    import torch

    from retrieval.encoders.embedder import STEmbedder

    torch.set_num_threads(2)
    return STEmbedder(query_engine="st", threads=2)._st  # noqa: SLF001


def token_states(texts: list[str], prefix: str) -> list[np.ndarray]:
    """Each text's last-layer token states (unit length, fp16), without <s> and </s>."""
    import torch

    st = _torch_model()
    tok, model = st.tokenizer, st[0].auto_model.eval()
    out: list[np.ndarray] = [np.zeros((0, 384), np.float16)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for b in range(0, len(order), 16):
            idx = order[b : b + 16]
            enc = tok(
                [prefix + texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=512,
                return_tensors="pt",
            )
            h = torch.nn.functional.normalize(model(**enc).last_hidden_state.float(), dim=-1)
            for j, i in enumerate(idx):
                keep = enc["attention_mask"][j].bool()
                out[i] = h[j][keep][1:-1].half().numpy()
    return out


def zscore(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 0 else x * 0


def rerank(row: Row, k: int, extra: np.ndarray, w: float) -> list[str]:
    mixed = zscore(np.asarray(row.scores[:k])) + w * zscore(extra[:k])
    return [row.ids[i] for i in np.argsort(-mixed, kind="stable")] + row.ids[k:]


def by_set(rows: list[Row], ranked: list[list[str]]) -> dict[str, dict[str, float]]:
    out: dict[str, list[dict[str, float]]] = {}
    for row, ids in zip(rows, ranked, strict=True):
        out.setdefault(row.set_name, []).append(query_metrics(ids, row.gold))
    return {name: mean_metrics(ms) for name, ms in out.items()}


def pick(results: dict[Any, dict[str, dict[str, float]]], fold: str) -> Any:
    """The setting best on the folds other than ``fold`` (mean objective over them)."""
    others = [n for n in SETS if n != "everyday" and FAMILY[n] != fold]
    return max(results, key=lambda s: np.mean([objective(results[s][n]) for n in others]))


def report_picks(results: dict[Any, dict[str, dict[str, float]]], base: Any) -> dict[str, Any]:
    out = {}
    for fold, names in FOLDS.items():
        chosen = pick(results, fold)
        for name in names:
            before, after = results[base][name], results[chosen][name]
            print(f"  {name:13s} chosen {chosen}: {fmt(before)} -> {fmt(after)}", flush=True)
            out[name] = {"chosen": str(chosen), "before": before, "after": after}
    return out


def maxsim(q: np.ndarray, a: np.ndarray) -> float:
    return float((q.astype(np.float32) @ a.astype(np.float32).T).max(1).mean())


def late_study(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    t0 = time.time()
    searcher = load_searcher(args.kb)
    rows = [r for r in fused_rows(searcher, args.adapters, args.k) if len(r.ids) == args.k]
    texts = article_texts(args.kb)
    arts = sorted({i for r in rows for i in r.ids})
    questions = sorted({r.question for r in rows})
    print(f"{len(rows)} questions, {len(arts)} candidate articles", flush=True)
    a_states = dict(
        zip(arts, token_states([texts.get(i, i) for i in arts], "passage: "), strict=True)
    )
    q_states = dict(zip(questions, token_states(questions, "query: "), strict=True))
    print(f"first stages and token states {(time.time() - t0) / 60:.1f} min", flush=True)

    sims = [np.array([maxsim(q_states[r.question], a_states[i]) for i in r.ids]) for r in rows]
    print("untrained MaxSim, z(fused) + w z(MaxSim) over the top k:")
    depths = [d for d in DEPTHS if d < args.k] + [args.k]
    results = {
        (k, w): by_set(rows, [rerank(r, k, s, w) for r, s in zip(rows, sims, strict=True)])
        for k in depths
        for w in WEIGHTS
    }
    untrained = report_picks(results, (args.k, 0.0))

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    a_index = {a: i for i, a in enumerate(arts)}
    q_index = {q: i for i, q in enumerate(questions)}
    A = torch.zeros(len(arts), MAX_ARTICLE_TOKENS, 384, dtype=torch.bfloat16)
    A_mask = torch.zeros(len(arts), MAX_ARTICLE_TOKENS, dtype=torch.bool)
    for a, i in a_index.items():
        x = torch.from_numpy(a_states[a][:MAX_ARTICLE_TOKENS].astype(np.float32))
        A[i, : len(x)], A_mask[i, : len(x)] = x.bfloat16(), True
    Q = torch.zeros(len(questions), MAX_QUESTION_TOKENS, 384)
    Q_mask = torch.zeros(len(questions), MAX_QUESTION_TOKENS, dtype=torch.bool)
    for q, i in q_index.items():
        x = torch.from_numpy(q_states[q][:MAX_QUESTION_TOKENS].astype(np.float32))
        Q[i, : len(x)], Q_mask[i, : len(x)] = x, True
    tensors = (A, A_mask, Q, Q_mask)
    print("trained late interaction (rank 32 + token weights), held out per fold:")
    trained = {}
    for fold, names in FOLDS.items():
        train_rows = [r for r in rows if r.set_name != "everyday" and FAMILY[r.set_name] != fold]
        model = train_late(train_rows, a_index, q_index, tensors, args.k)
        tests = list(names) + (["everyday"] if fold == "equals" else [])
        for name in tests:
            test_rows = [r for r in rows if r.set_name == name]
            scores = score_late(model, test_rows, a_index, q_index, tensors)
            ranked = [
                [r.ids[i] for i in np.argsort(-s, kind="stable")]
                for r, s in zip(test_rows, scores, strict=True)
            ]
            before = by_set(test_rows, [r.ids for r in test_rows])[name]
            after = by_set(test_rows, ranked)[name]
            print(f"  {name:13s} {fmt(before)} -> {fmt(after)}", flush=True)
            trained[name] = {"before": before, "after": after}
    return {"untrained": untrained, "trained": trained}


def _late_model() -> Any:
    import torch

    class Late(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.u = torch.nn.Parameter(torch.zeros(384, 32))
            self.v = torch.nn.Parameter(torch.randn(384, 32) * 0.01)
            self.token_weight = torch.nn.Linear(384, 1)
            torch.nn.init.zeros_(self.token_weight.weight)
            torch.nn.init.zeros_(self.token_weight.bias)
            self.w = torch.nn.Parameter(torch.tensor(0.1))
            self.alpha = torch.nn.Parameter(torch.tensor(3.0))

        def late(self, q: Any, q_mask: Any, a: Any, a_mask: Any) -> Any:
            q2 = q + (q @ self.u) @ self.v.T
            s = torch.einsum("bqd,bkld->bkql", q2, a.float())
            s = s.masked_fill(~a_mask[:, :, None, :], -1e4).max(-1).values
            weight = torch.nn.functional.softplus(self.token_weight(q).squeeze(-1) + 1.0)
            weight = weight * q_mask
            return (s * weight[:, None, :]).sum(-1) / weight.sum(-1, keepdim=True)

        def forward(self, fused_z: Any, *tensors: Any) -> Any:
            late = self.late(*tensors)
            late = (late - late.mean(-1, keepdim=True)) / (late.std(-1, keepdim=True) + 1e-6)
            return self.alpha * (fused_z + self.w * late)

    return Late()


def _batch(rows: list[Row], a_index: dict, q_index: dict, tensors: tuple, k: int) -> tuple:
    import torch

    A, A_mask, Q, Q_mask = tensors
    qi = torch.tensor([q_index[r.question] for r in rows])
    ci = torch.tensor([[a_index[i] for i in r.ids[:k]] for r in rows])
    fused = torch.tensor(np.stack([zscore(np.asarray(r.scores[:k])) for r in rows]))
    return fused.float(), Q[qi], Q_mask[qi], A[ci], A_mask[ci]


def train_late(
    rows: list[Row], a_index: dict, q_index: dict, tensors: tuple, k: int, epochs: int = 3
) -> Any:
    import torch

    model = _late_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    usable = [r for r in rows if any(i in r.gold for i in r.ids[:k])]
    for _ in range(epochs):
        for b in torch.randperm(len(usable)).split(32):
            batch = [usable[i] for i in b.tolist()]
            logits = model(*_batch(batch, a_index, q_index, tensors, k))
            gold = torch.tensor([[i in r.gold for i in r.ids[:k]] for r in batch])
            loss = (
                torch.logsumexp(logits, -1) - torch.logsumexp(logits.masked_fill(~gold, -1e4), -1)
            ).mean() + 1e-3 * ((model.u**2).sum() + (model.v**2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def score_late(
    model: Any, rows: list[Row], a_index: dict, q_index: dict, tensors: tuple
) -> list[np.ndarray]:
    """The trained model's score per candidate (the fused score mixed in as it learned)."""
    import torch

    k = len(rows[0].ids)
    out = []
    with torch.no_grad():
        for b in range(0, len(rows), 64):
            batch = rows[b : b + 64]
            out.extend(model(*_batch(batch, a_index, q_index, tensors, k)).numpy())
    return out


class Centered:
    """The fold's embedder with the article-side question vector centred."""

    def __init__(self, inner: Any, vectors: dict, centre: np.ndarray, beta: float) -> None:
        self.inner, self.vectors, self.centre, self.beta = inner, vectors, centre, beta

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _centred(self, adapted: np.ndarray) -> np.ndarray:
        v = adapted - self.beta * self.centre
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    def encode_question_pair(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        base, adapted = zip(*(self.vectors[t] for t in texts), strict=True)
        return np.stack(base), self._centred(np.stack(adapted))

    def encode_article_queries(self, texts: list[str]) -> np.ndarray:
        return self._centred(np.stack([self.vectors[t][1] for t in texts]))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t][0] for t in texts])


def center_study(args: argparse.Namespace) -> dict[str, Any]:
    searcher = load_searcher(args.kb)
    sets = {name: read_queries(path, "curated") for name, path in SETS.items()}
    results: dict[float, dict[str, dict[str, float]]] = {b: {} for b in args.betas}
    for name, queries in sets.items():
        t0 = time.time()
        emb = fold_embedder(args.adapters, name)
        fold = FAMILY.get(name)
        # the adapter's training questions: the folds it was trained on (all for everyday)
        ref = [
            q.query
            for other, qs in sets.items()
            if other != "everyday" and (name not in FOLD_ADAPTER or FAMILY[other] != fold)
            for q in qs
        ]
        texts = list(dict.fromkeys([q.query for q in queries] + ref))
        vectors = {}
        for i in range(0, len(texts), 64):
            base, adapted = emb.encode_question_pair(texts[i : i + 64])
            vectors.update(zip(texts[i : i + 64], zip(base, adapted, strict=True), strict=True))
        centre = np.mean([vectors[t][1] for t in ref], axis=0)
        if args.mode == "shift":
            centre = centre - np.mean([vectors[t][0] for t in ref], axis=0)
        for beta in args.betas:
            searcher.embedder = Centered(emb, vectors, centre, beta)
            ms = []
            for q in queries:
                flt = leave_out(q, "source")
                first = searcher.first_stage(q.query, flt=flt, cfg=DEFAULT_CONFIG, n_cases=N_CASES)
                ranked = fusion.ranked(searcher.fuse(first, DEFAULT_CONFIG, flt))[:100]
                ms.append(query_metrics(ranked, q.gold))
            results[beta][name] = mean_metrics(ms)
        line = " | ".join(f"beta {b}: {fmt(results[b][name])}" for b in args.betas)
        print(f"{name:13s} |c| {np.linalg.norm(centre):.3f}  {line}  ({time.time() - t0:.0f} s)")
    print("chosen on the other folds:")
    return {"by_beta": {str(b): r for b, r in results.items()}, "picks": report_picks(results, 0.0)}


GATES = ((0.0, 0.5), (0.05, 0.5), (0.2, 0.5), (0.05, 0.75))


def gated_fuse(searcher: Any, first: Any, flt: Any, tau: float, lam: float) -> dict[str, float]:
    """``Searcher.fuse`` (weighted fusion, one question vector) with the keyword gate."""
    from retrieval import amounts, interpretations
    from retrieval.search import keyword_run

    cfg = DEFAULT_CONFIG
    keyword = keyword_run(first, cfg)
    runs, weights, calibrated = (
        [keyword, first.semantic],
        [cfg.w_keyword, cfg.w_semantic],
        [True, True],
    )
    prec = searcher.precedent_run(first, cfg, flt, {})
    if prec:
        runs.append(prec)
        weights.append(cfg.w_precedent)
        calibrated.append(False)
    fused = fusion.weighted(runs, weights, normalise=calibrated)
    kw, sem = fusion.minmax(keyword or {}), fusion.minmax(first.semantic or {})
    for d, v in sem.items():
        if d in fused and kw.get(d, 0.0) <= tau:
            fused[d] -= (1 - lam) * cfg.w_semantic * v
    if cfg.w_law and fused:
        law_of = {d: searcher._article(d).law for d in fused}  # noqa: SLF001
        fused = fusion.route(fused, law_of, cfg.w_law, cfg.law_top)
    if cfg.interpretation_lift:
        links = searcher.catalogue.interpretation_links()
        fused = interpretations.lift(fused, links, cfg.interpretation_lift, flt.allows_article)
    if cfg.amount_lift and fused and amounts.asks_amount(first.question):
        fused = amounts.lift(
            fused,
            lambda aid: amounts.amount_statements(searcher._article(aid).text),  # noqa: SLF001
            share=cfg.amount_lift,
            top=cfg.amount_top,
            at_least=cfg.amount_min,
        )
    return fused


def gate_study(args: argparse.Namespace) -> dict[str, Any]:
    cfg = DEFAULT_CONFIG
    if cfg.fusion != "weighted" or cfg.w_semantic_base:
        raise SystemExit("gate: written for weighted fusion with one question vector")
    searcher = load_searcher(args.kb)
    firsts = list(first_stages(searcher, args.adapters))
    for _, _, flt, first in firsts:
        # the study's fusion is a copy of Searcher.fuse with the gate put in: it must agree
        # with the shipped one where the gate is off
        if gated_fuse(searcher, first, flt, 0.0, 1.0) != searcher.fuse(first, cfg, flt):
            raise SystemExit("gated_fuse no longer matches Searcher.fuse: update its copy")
    results: dict[tuple[float, float], dict[str, dict[str, float]]] = {}
    for tau, lam in ((0.0, 1.0), *GATES):
        ms: dict[str, list[dict[str, float]]] = {}
        for name, q, flt, first in firsts:
            ranked = fusion.ranked(gated_fuse(searcher, first, flt, tau, lam))[:100]
            ms.setdefault(name, []).append(query_metrics(ranked, q.gold))
        results[(tau, lam)] = {name: mean_metrics(m) for name, m in ms.items()}
        line = " | ".join(f"{n} {fmt(m)}" for n, m in results[(tau, lam)].items())
        print(f"tau {tau} lam {lam}: {line}", flush=True)
    print("chosen on the other folds:")
    return {
        "by_gate": {str(g): r for g, r in results.items()},
        "picks": report_picks(results, (0.0, 1.0)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", choices=("late", "center", "gate"))
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--adapters", type=Path, required=True, help="fold-FAMILY.safetensors")
    ap.add_argument("--k", type=int, default=20, help="late: candidates (the largest depth)")
    ap.add_argument("--mode", choices=("mean", "shift"), default="mean")
    ap.add_argument("--betas", default="0,0.2,0.5,1")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    args.betas = [float(b) for b in args.betas.split(",")]
    if 0.0 not in args.betas:
        args.betas.insert(0, 0.0)
    study = {"late": late_study, "center": center_study, "gate": gate_study}[args.study]
    out = study(args)
    if args.out:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
