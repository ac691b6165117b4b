"""The search pipeline: citations, keyword + semantic runs, precedents, fusion, filters."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ingest.records import Article, Case
from retrieval import cite, fusion, vocab
from retrieval.hits import Filters, Hit, SearchResult, Why

if TYPE_CHECKING:
    from retrieval.kb import KnowledgeBase

DEFAULT_FILTERS = Filters()


@dataclass(frozen=True)
class SearchConfig:
    """How runs are made and fused. Defaults are the tuned hybrid (see docs/quality.md).

    Args:
        keyword / semantic / precedent: which runs take part.
        fusion: ``"weighted"`` (min-max normalised weighted sum), ``"rrf"``, or
            ``"rrf+precedent"`` (RRF of keyword and semantic runs, min-max scaled, plus
            the calibrated precedent run).
        w_keyword / w_semantic / w_precedent: fusion weights.
        expand: add lay→legal vocabulary terms to the keyword query.
        expand_dense: also to the text the query encoder sees.
        depth: candidates kept per run before fusion.
        precedent_cases: nearest cases whose cited articles are lifted.
        precedent_floor: a case lifts its articles by ``(cos - floor) / (1 - floor)``
            of its question's cosine with the query, so distant cases lift nothing.
        w_law / law_top: law routing; every article is lifted by ``w_law`` times its
            law's evidence (the sum of the law's ``law_top`` best fused scores) relative
            to the best law's, so the few laws a question belongs to rise together.
    """

    name: str = "hybrid"
    keyword: bool = True
    semantic: bool = True
    precedent: bool = True
    fusion: str = "weighted"
    w_keyword: float = 0.4
    w_semantic: float = 0.6
    w_precedent: float = 2.0
    rrf_k: int = 60
    expand: bool = True
    expand_dense: bool = False
    depth: int = 300
    precedent_cases: int = 20
    precedent_floor: float = 0.88
    # lawyer-llama's article labels were picked by that data set's own retriever (silver)
    precedent_trust: tuple[tuple[str, float], ...] = (("lawyer-llama", 0.5),)
    w_law: float = 0.5
    law_top: int = 3


CONFIGS: dict[str, SearchConfig] = {
    "bm25": SearchConfig("bm25", semantic=False, precedent=False, expand=False, w_law=0.0),
    "dense": SearchConfig("dense", keyword=False, precedent=False, w_law=0.0),
    "rrf": SearchConfig(
        "rrf", precedent=False, fusion="rrf", expand=False, w_keyword=0.3, w_semantic=0.7, w_law=0.0
    ),
    "hybrid-noprec": SearchConfig("hybrid-noprec", precedent=False),
    "hybrid-nolaw": SearchConfig("hybrid-nolaw", w_law=0.0),
    "hybrid": SearchConfig(),
}
DEFAULT_CONFIG = CONFIGS["hybrid"]


def _max_by_parent(
    unit_scores: np.ndarray, parent: np.ndarray, n: int, unit_ok: np.ndarray
) -> np.ndarray:
    """Per-record best unit score (-inf where no allowed unit): chunks count once."""
    out = np.full(n, -np.inf, np.float32)
    s = np.where(unit_ok, unit_scores, -np.inf).astype(np.float32)
    np.maximum.at(out, parent, s)
    return out


def _top(scores: np.ndarray, depth: int, positive: bool = False) -> list[int]:
    ok = np.isfinite(scores) & ((scores > 0) if positive else True)
    idx = np.flatnonzero(ok)
    if len(idx) > depth:
        idx = idx[np.argpartition(-scores[idx], depth)[:depth]]
    return sorted(idx.tolist(), key=lambda i: (-scores[i], i))


class Searcher:
    """Runs queries against a loaded KnowledgeBase."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    # ---- articles ------------------------------------------------------------

    def search(
        self,
        question: str,
        *,
        k: int = 10,
        k_cases: int = 5,
        filters: Filters | None = None,
        config: SearchConfig | None = None,
    ) -> SearchResult:
        kb = self.kb
        cfg = config or DEFAULT_CONFIG
        flt = filters or DEFAULT_FILTERS
        timings: dict[str, float] = {}
        t = time.perf_counter()

        cited = cite.find_citations(question, kb.law_names())
        timings["citations"] = _ms(t)
        t = time.perf_counter()
        qvec = (
            kb.embedder.encode_queries([question])[0]
            if (cfg.semantic or cfg.precedent or k_cases)
            else None
        )
        qtext = vocab.expand_text(question) if cfg.expand else question
        # cases are questions too: they are matched with the plain question's vector
        avec = qvec
        if cfg.expand_dense and cfg.semantic and qtext != question:
            avec = kb.embedder.encode_queries([qtext])[0]
        timings["encode"] = _ms(t)
        t = time.perf_counter()
        tokens = kb.tokenizer(qtext)
        art_ok = kb.article_mask(flt)
        unit_ok = art_ok[kb.a_parent]
        runs: list[dict[str, float]] = []
        weights: list[float] = []
        kw_rank: dict[str, int] = {}
        sem_rank: dict[str, int] = {}
        if cfg.keyword:
            s = _max_by_parent(kb.a_bm25.scores(tokens), kb.a_parent, len(kb.article_ids), unit_ok)
            ids = _top(s, cfg.depth, positive=True)
            run = {kb.article_ids[i]: float(s[i]) for i in ids}
            kw_rank = {d: r for r, d in enumerate(fusion.ranked(run), 1)}
            runs.append(run)
            weights.append(cfg.w_keyword)
        if cfg.semantic and avec is not None:
            s = _max_by_parent(kb.a_dense.scores(avec), kb.a_parent, len(kb.article_ids), unit_ok)
            ids = _top(s, cfg.depth)
            run = {kb.article_ids[i]: float(s[i]) for i in ids}
            sem_rank = {d: r for r, d in enumerate(fusion.ranked(run), 1)}
            runs.append(run)
            weights.append(cfg.w_semantic)
        timings["articles"] = _ms(t)

        t = time.perf_counter()
        case_hits, case_cos = self._case_hits(
            question,
            tokens,
            qvec,
            flt,
            max(k_cases, cfg.precedent_cases if cfg.precedent else 0),
            cfg,
        )
        timings["cases"] = _ms(t)
        via: dict[str, list[str]] = {}
        calibrated = [True] * len(runs)
        if cfg.precedent and case_hits:
            prec = self._precedent_run(
                case_hits[: cfg.precedent_cases],
                case_cos,
                cfg.precedent_floor,
                cfg.precedent_trust,
                art_ok,
                via,
            )
            if prec:
                runs.append(prec)
                weights.append(cfg.w_precedent)
                calibrated.append(cfg.fusion == "rrf")

        if cfg.fusion == "rrf":
            fused = fusion.rrf(runs, k=cfg.rrf_k, weights=weights)
        elif cfg.fusion == "rrf+precedent":
            # rank fusion of the retrievers, then calibrated precedent evidence on top
            n = 2 if cfg.keyword and cfg.semantic else 1
            base = fusion.minmax(fusion.rrf(runs[:n], k=cfg.rrf_k, weights=weights[:n]))
            fused = fusion.weighted([base, *runs[n:]], [1.0, *weights[n:]], normalise=False)
        else:
            fused = fusion.weighted(runs, weights, normalise=calibrated)

        if cfg.w_law and fused:
            law_of = {d: kb.articles[d].law for d in fused}
            fused = fusion.route(fused, law_of, cfg.w_law, cfg.law_top)

        pinned, notices, cited = cite.resolve(
            cited,
            kb.lookup_key,
            lambda law: self._suggest(law, fused, flt, question, cfg),
            kb.renumbered,
        )
        ranking = [a.id for a in pinned] + [
            d for d in fusion.ranked(fused) if d not in {a.id for a in pinned}
        ]
        top_score = max(fused.values(), default=0.0)
        hits = []
        qset = set(tokens)
        for rank, aid in enumerate(ranking[:k], 1):
            art = kb.articles[aid]
            is_cited = rank <= len(pinned)
            sources = tuple(
                s
                for s, on in (
                    ("citation", is_cited),
                    ("keyword", kw_rank.get(aid, 10**9) <= max(50, k)),
                    ("semantic", sem_rank.get(aid, 10**9) <= max(50, k)),
                    ("precedent", aid in via),
                )
                if on
            )
            why = Why(
                sources=sources,
                # tokenising is the costly part: only the hits a person reads get terms
                matched_terms=tuple(w for w in kb.article_terms(aid) if w in qset)[:12]
                if rank <= 20
                else (),
                keyword_rank=kw_rank.get(aid),
                semantic_rank=sem_rank.get(aid),
                via_cases=tuple(via.get(aid, ()))[:5],
            )
            score = top_score + 1.0 if is_cited else fused.get(aid, 0.0)
            hits.append(Hit(art, round(float(score), 6), rank, why))
        return SearchResult(
            query=question,
            articles=hits,
            cases=[replace(h, rank=i) for i, h in enumerate(case_hits[:k_cases], 1)],
            notices=notices,
            cited=cited,
            timings_ms=timings,
        )

    def _suggest(
        self, law: str, fused: dict[str, float], flt: Filters, question: str, cfg: SearchConfig
    ) -> list[str]:
        """Ranked current articles of ``law`` for the question (for a repealed-law notice)."""
        inside = [d for d in fusion.ranked(fused) if self.kb.articles[d].law == law]
        if len(inside) >= 3:
            return inside
        res = self.search(
            question.replace("婚姻法", "").replace("合同法", ""),
            k=5,
            k_cases=0,
            filters=replace(flt, laws=(law,)),
            config=replace(cfg, precedent=False),
        )
        return [h.record.id for h in res.articles if not h.why.sources == ("citation",)]

    def _precedent_run(
        self,
        case_hits: Sequence[Hit],
        case_cos: dict[str, float],
        floor: float,
        trust: tuple[tuple[str, float], ...],
        art_ok: np.ndarray,
        via: dict[str, list[str]],
    ) -> dict[str, float]:
        """Articles cited by the nearest cases, each scored by how close those cases are."""
        kb = self.kb
        run: dict[str, float] = {}
        for h in case_hits:
            case = h.record
            assert isinstance(case, Case)
            lift = max(0.0, case_cos.get(case.id, 0.0) - floor) / (1.0 - floor)
            lift *= next((f for p, f in trust if case.source.startswith(p)), 1.0)
            if lift <= 0:
                continue
            for aid in dict.fromkeys(case.cited_ids):
                i = kb.article_index.get(aid)
                if i is None or not art_ok[i]:
                    continue
                run[aid] = run.get(aid, 0.0) + lift
                via.setdefault(aid, []).append(case.id)
        return run

    # ---- cases ---------------------------------------------------------------

    def search_cases(
        self, question: str, *, k: int = 5, filters: Filters | None = None
    ) -> list[Hit]:
        kb = self.kb
        tokens = kb.tokenizer(vocab.expand_text(question))
        qvec = kb.embedder.encode_queries([question])[0]
        flt = filters or DEFAULT_FILTERS
        return self._case_hits(question, tokens, qvec, flt, k, DEFAULT_CONFIG)[0]

    def _case_hits(
        self,
        question: str,
        tokens: list[str],
        qvec: np.ndarray | None,
        flt: Filters,
        k: int,
        cfg: SearchConfig,
    ) -> tuple[list[Hit], dict[str, float]]:
        """Case hits (one per case) and each hit's best semantic cosine with the query."""
        kb = self.kb
        if not k or not kb.case_ids or qvec is None:
            return [], {}
        ok = kb.case_mask(flt)[kb.c_parent]
        n = len(kb.case_ids)
        runs = []
        best_unit: dict[int, int] = {}
        dense_u = np.where(ok, kb.c_dense.scores(qvec), -np.inf)
        kw_u = np.where(ok, kb.c_bm25.scores(tokens), -np.inf)
        for unit_scores, positive in ((dense_u, False), (kw_u, True)):
            s = _max_by_parent(unit_scores, kb.c_parent, n, ok)
            ids = _top(s, max(50, k * 5), positive=positive)
            runs.append({kb.case_ids[i]: float(s[i]) for i in ids})
        fused = fusion.weighted(runs, [cfg.w_semantic, cfg.w_keyword])
        order = fusion.ranked(fused)[:k]
        hits = []
        cos: dict[str, float] = {}
        for rank, cid in enumerate(order, 1):
            ci = kb.case_index[cid]
            units = np.flatnonzero(kb.c_parent == ci)
            u = int(units[np.argmax(dense_u[units] + 0.01 * kw_u[units])]) if len(units) else -1
            best_unit[ci] = u
            cos[cid] = float(dense_u[units].max()) if len(units) else 0.0
            why = Why(
                sources=tuple(
                    s for s, run in (("semantic", runs[0]), ("keyword", runs[1])) if cid in run
                ),
                semantic_rank=_rank(runs[0], cid),
                keyword_rank=_rank(runs[1], cid),
                section=kb.case_units[u].section if u >= 0 else "",
            )
            hits.append(Hit(kb.cases[cid], round(float(fused[cid]), 6), rank, why))
        return hits, cos


def _rank(run: dict[str, float], doc: str) -> int | None:
    if doc not in run:
        return None
    s = run[doc]
    return 1 + sum(1 for v in run.values() if v > s)


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)


def article_of(hit: Hit) -> Article:
    assert isinstance(hit.record, Article)
    return hit.record
