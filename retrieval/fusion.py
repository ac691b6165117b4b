"""Fusion of ranked runs into one ranking: plain functions over {id: score} runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Run = Mapping[str, float]


def ranked(run: Run) -> list[str]:
    """Ids of ``run`` by descending score (ties by id, so results are deterministic)."""
    return sorted(run, key=lambda i: (-run[i], i))


def rrf(
    runs: Sequence[Run], k: int = 60, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion: ``sum_r w_r / (k + rank_r(d))``.

    Default k=60 from Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms
    Condorcet and individual Rank Learning Methods" (SIGIR 2009); pyserini's default too.
    """
    weights = weights or [1.0] * len(runs)
    out: dict[str, float] = {}
    for run, w in zip(runs, weights, strict=True):
        for rank, doc in enumerate(ranked(run), start=1):
            out[doc] = out.get(doc, 0.0) + w / (k + rank)
    return out


def minmax(run: Run) -> dict[str, float]:
    """Scores rescaled to [0, 1] within the run (all equal → 1)."""
    if not run:
        return {}
    vals = np.fromiter(run.values(), float)
    lo, hi = float(vals.min()), float(vals.max())
    span = hi - lo
    return {d: ((s - lo) / span if span > 0 else 1.0) for d, s in run.items()}


def weighted(
    runs: Sequence[Run], weights: Sequence[float], normalise: bool | Sequence[bool] = True
) -> dict[str, float]:
    """Weighted sum of (min-max normalised) scores: ``sum_r w_r * s_r(d)``.

    ``normalise`` may be given per run: a run whose scores are already calibrated
    (precedent evidence that should stay weak when the nearest case is far) is
    added as is.

    A document missing from a run scores 0 there. This is pyserini's
    ``interpolation`` fusion generalised to n runs (Ma et al., "A Replication Study
    of Dense Passage Retriever", 2021, used alpha-weighted sparse+dense).
    """
    flags = [normalise] * len(runs) if isinstance(normalise, bool) else list(normalise)
    out: dict[str, float] = {}
    for run, w, flag in zip(runs, weights, flags, strict=True):
        norm = minmax(run) if flag else run
        for doc, s in norm.items():
            out[doc] = out.get(doc, 0.0) + w * s
    return out


def route(run: Run, group: Mapping[str, str], w: float, top: int = 3) -> dict[str, float]:
    """Lift each document by ``w`` times its group's evidence relative to the best group's.

    A group's evidence is the sum of its ``top`` best scores, so a group (a law) that
    several documents point to rises together and a lone hit in an unrelated group
    does not. The two-stage "which law, then which article" idea of legal retrieval,
    as one additive term over an already fused run.
    """
    best_of: dict[str, list[float]] = {}
    for d, s in run.items():
        best_of.setdefault(group[d], []).append(s)
    evidence = {g: sum(sorted(v, reverse=True)[:top]) for g, v in best_of.items()}
    best = max(evidence.values(), default=0.0) or 1.0
    return {d: s + w * evidence[group[d]] / best for d, s in run.items()}
