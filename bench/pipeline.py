"""The old search pipeline re-expressed over a harness Pool, so every lever runs on the same runs.

``run(pool, scores, case_ok, cfg)`` reproduces ``retrieval.search.Searcher.search`` for the
configurations measured here (bm25, dense, rrf, hybrid-noprec, hybrid) without citations
pinning (the query sets do not cite articles); ``bench/generalise.py --check`` compares its
rankings with the knowledge base's own on a sample. It also returns the intermediate runs
the learned ranker takes as features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bench.harness import Pool, Scores
from retrieval import fusion
from retrieval.config import CONFIGS as RETRIEVAL_CONFIGS
from retrieval.config import SearchConfig

# The product's own configurations: the pipeline below reads the same fields, so the
# study can never drift from what ships.
CONFIGS = RETRIEVAL_CONFIGS


@dataclass
class Runs:
    """What one query's pass through the pipeline produced (article ids → scores)."""

    keyword: dict[str, float] = field(default_factory=dict)
    semantic: dict[str, float] = field(default_factory=dict)
    precedent: dict[str, float] = field(default_factory=dict)
    fused: dict[str, float] = field(default_factory=dict)  # before law routing
    final: dict[str, float] = field(default_factory=dict)
    cases: list[tuple[int, float]] = field(default_factory=list)  # (case row, cosine), best first

    def ranking(self, k: int = 100) -> list[str]:
        return fusion.ranked(self.final)[:k]


def _top(scores: np.ndarray, ok: np.ndarray, depth: int, positive: bool) -> np.ndarray:
    good = ok & np.isfinite(scores) & ((scores > 0) if positive else True)
    idx = np.flatnonzero(good)
    if len(idx) > depth:
        idx = idx[np.argpartition(-scores[idx], depth)[:depth]]
    return idx


def nearest_cases(
    pool: Pool, s: Scores, case_ok: np.ndarray, k: int, w_sem: float = 0.6, w_kw: float = 0.4
) -> list[tuple[int, float]]:
    """The ``k`` nearest allowed cases (weighted dense + BM25, as the search code does)."""
    runs = []
    for sc, positive in ((s.c_dense, False), (s.c_bm25, True)):
        idx = _top(sc, case_ok, max(50, k * 5), positive)
        runs.append({int(i): float(sc[i]) for i in idx})
    fused = fusion.weighted(
        [{str(i): v for i, v in r.items()} for r in runs], [w_sem, w_kw]
    )  # ids as str so ties sort as the search code's case ids would not: order by score
    order = sorted(fused, key=lambda i: (-fused[i], pool.cases[int(i)].id))[:k]
    return [(int(i), float(s.c_dense[int(i)])) for i in order]


def precedent_run(
    pool: Pool,
    cases: list[tuple[int, float]],
    floor: float,
    trust: tuple[tuple[str, float], ...],
) -> dict[str, float]:
    run: dict[str, float] = {}
    for ci, cos in cases:
        c = pool.cases[ci]
        lift = max(0.0, cos - floor) / (1.0 - floor)
        lift *= next((f for p, f in trust if c.id.startswith(p)), 1.0)
        if lift <= 0:
            continue
        for aid in dict.fromkeys(c.cited_ids):
            i = pool.article_index.get(aid)
            if i is None or not pool.a_ok[i]:
                continue
            run[aid] = run.get(aid, 0.0) + lift
    return run


def run(
    pool: Pool,
    s: Scores,
    case_ok: np.ndarray,
    cfg: SearchConfig,
    *,
    dense_scores: np.ndarray | None = None,
    keyword_scores: np.ndarray | None = None,
    precedent: Callable[[list[tuple[int, float]]], dict[str, float]] | None = None,
) -> Runs:
    """One query through the configured pipeline (scores may be swapped in by a lever)."""
    ids = [a.id for a in pool.articles]
    ok = pool.a_ok
    out = Runs()
    runs: list[dict[str, float]] = []
    weights: list[float] = []
    if cfg.keyword:
        sc = (
            keyword_scores
            if keyword_scores is not None
            else (s.a_bm25 if cfg.expand else s.a_bm25_plain)
        )
        idx = _top(sc, ok, cfg.depth, True)
        out.keyword = {ids[i]: float(sc[i]) for i in idx}
        runs.append(out.keyword)
        weights.append(cfg.w_keyword)
    if cfg.semantic:
        sc = dense_scores if dense_scores is not None else s.a_dense
        idx = _top(sc, ok, cfg.depth, False)
        out.semantic = {ids[i]: float(sc[i]) for i in idx}
        runs.append(out.semantic)
        weights.append(cfg.w_semantic)
    calibrated = [True] * len(runs)
    if cfg.precedent:
        out.cases = nearest_cases(pool, s, case_ok, cfg.precedent_cases)
        prec = (
            precedent(out.cases)
            if precedent is not None
            else precedent_run(pool, out.cases, cfg.precedent_floor, cfg.precedent_trust)
        )
        out.precedent = prec
        if prec:
            runs.append(prec)
            weights.append(cfg.w_precedent)
            calibrated.append(cfg.fusion == "rrf")
    if cfg.fusion == "rrf":
        fused = fusion.rrf(runs, k=cfg.rrf_k, weights=weights)
    else:
        fused = fusion.weighted(runs, weights, normalise=calibrated)
    out.fused = fused
    if cfg.w_law and fused:
        law_of = {d: pool.articles[pool.article_index[d]].law for d in fused}
        fused = fusion.route(fused, law_of, cfg.w_law, cfg.law_top)
    out.final = fused
    return out


def citing_rows(pool: Pool) -> dict[str, list[int]]:
    """Case rows citing each article id."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(pool.cases):
        for a in dict.fromkeys(c.cited_ids):
            out.setdefault(a, []).append(i)
    return out


def candidates(
    pool: Pool,
    s: Scores,
    case_ok: np.ndarray,
    cfg: SearchConfig,
    citing: dict[str, list[int]],
    depth: int = 200,
) -> list:
    """The first stage's best ``depth`` articles as ``retrieval.rank.Candidate`` records."""
    from retrieval.rank import Candidate

    runs = run(pool, s, case_ok, cfg)
    near: dict[str, int] = {}
    for ci, cos in runs.cases:
        if cos > cfg.precedent_floor:
            for a in dict.fromkeys(pool.cases[ci].cited_ids):
                near[a] = near.get(a, 0) + 1
    out = []
    for a in runs.ranking(depth):
        rows = [r for r in citing.get(a, ()) if case_ok[r]]
        out.append(
            Candidate(
                a,
                runs.final[a],
                runs.keyword.get(a),
                runs.semantic.get(a),
                runs.precedent.get(a, 0.0),
                near.get(a, 0),
                float(s.c_dense[rows].max()) if rows else 0.0,
            )
        )
    return out
