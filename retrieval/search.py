"""The search pipeline: citations, keyword + semantic runs, precedents, fusion, law routing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ingest.cases.classify import classify
from ingest.records import TRUST_LEVELS, Article, Citation
from retrieval import cite, fusion, interpretations, similar, vocab
from retrieval.catalogue import Catalogue
from retrieval.config import DEFAULT_CONFIG, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus
from retrieval.embedder import Embedder
from retrieval.hits import ArticleHit, CaseHit, Filters, Hit, SearchResult, Why
from retrieval.store import Scored
from retrieval.tokenizer import JiebaTokenizer

DEFAULT_FILTERS = Filters()


def _run(scored: Sequence[Scored]) -> dict[str, float]:
    return {s.parent: s.score for s in scored}


def _ranks(run: dict[str, float]) -> dict[str, int]:
    return {d: r for r, d in enumerate(fusion.ranked(run), 1)}


def _rank(run: dict[str, float], doc: str) -> int | None:
    """1 + the number of documents scoring strictly higher (ties share a rank)."""
    if doc not in run:
        return None
    s = run[doc]
    return 1 + sum(1 for v in run.values() if v > s)


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)


class Searcher:
    """Answers a question from two corpora and the law catalogue; holds no knowledge base.

    Args:
        articles: the article corpus (records, units, store).
        cases: the case corpus; may be empty.
        catalogue: law lookup for citations in the question and repealed-law notices.
        tokenizer: the keyword tokenizer the indexes were built with.
        embedder: the query encoder (``encode_queries``).
    """

    def __init__(
        self,
        articles: Corpus[Article],
        cases: CaseCorpus,
        catalogue: Catalogue,
        tokenizer: JiebaTokenizer,
        embedder: Embedder,
    ) -> None:
        self.articles = articles
        self.cases = cases
        self.catalogue = catalogue
        self.tokenizer = tokenizer
        self.embedder = embedder
        self._terms: dict[str, tuple[str, ...]] = {}

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
        """Ranked articles (with Why), similar cases and notices for ``question``."""
        cfg = config or DEFAULT_CONFIG
        flt = filters or DEFAULT_FILTERS
        timings: dict[str, float] = {}
        t = time.perf_counter()

        cited = cite.find_citations(question, self.catalogue.law_names)
        timings["citations"] = _ms(t)
        t = time.perf_counter()
        qvec = (
            self.embedder.encode_queries([question])[0]
            if (cfg.semantic or cfg.precedent or k_cases)
            else None
        )
        qtext = vocab.expand_text(question) if cfg.expand else question
        # cases are questions too: they are matched with the plain question's vector
        avec = qvec
        if cfg.expand_dense and cfg.semantic and qtext != question:
            avec = self.embedder.encode_queries([qtext])[0]
        timings["encode"] = _ms(t)
        t = time.perf_counter()
        tokens = self.tokenizer(qtext)
        runs: list[dict[str, float]] = []
        weights: list[float] = []
        kw_rank: dict[str, int] = {}
        sem_rank: dict[str, int] = {}
        store = self.articles.store
        if cfg.keyword:
            run = _run(store.keyword(tokens, flt, cfg.depth))
            kw_rank = _ranks(run)
            runs.append(run)
            weights.append(cfg.w_keyword)
        if cfg.semantic and avec is not None:
            run = _run(store.dense(avec, flt, cfg.depth))
            sem_rank = _ranks(run)
            runs.append(run)
            weights.append(cfg.w_semantic)
        timings["articles"] = _ms(t)

        t = time.perf_counter()
        n_cases = max(k_cases, cfg.precedent_cases if cfg.precedent else 0)
        if k_cases:
            n_cases = max(n_cases, cfg.similar_pool)
        case_hits, case_cos = self._case_hits(tokens, qvec, flt, n_cases, cfg)
        timings["cases"] = _ms(t)
        via: dict[str, list[str]] = {}
        calibrated = [True] * len(runs)
        if cfg.precedent and case_hits:
            prec = self._precedent_run(case_hits[: cfg.precedent_cases], case_cos, cfg, flt, via)
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
            law_of = {d: self._article(d).law for d in fused}
            fused = fusion.route(fused, law_of, cfg.w_law, cfg.law_top)

        if cfg.interpretation_lift:  # issue 21: interpretations beside the articles they refine
            fused = interpretations.lift(fused, self.catalogue.interpretation_links(), cfg.interpretation_lift, flt.allows_article)  # fmt: skip

        pinned, notices, cited = cite.resolve(
            cited,
            self.catalogue.lookup_key,
            lambda law: self._suggest(law, fused, flt, question, cited, cfg),
            self.catalogue.renumbered,
        )
        pinned_ids = [a.id for a in pinned]
        ranking = pinned_ids + [d for d in fusion.ranked(fused) if d not in set(pinned_ids)]
        top_score = max(fused.values(), default=0.0)
        hits: list[ArticleHit] = []
        qset = set(tokens)
        near = max(cfg.why_depth, k)
        for rank, aid in enumerate(ranking[:k], 1):
            art = self._article(aid)
            is_cited = rank <= len(pinned)
            sources = tuple(
                s
                for s, on in (
                    ("citation", is_cited),
                    ("keyword", kw_rank.get(aid, 10**9) <= near),
                    ("semantic", sem_rank.get(aid, 10**9) <= near),
                    ("precedent", aid in via),
                )
                if on
            )
            why = Why(
                sources=sources,
                matched_terms=tuple(w for w in self.article_terms(aid) if w in qset)[
                    : cfg.why_terms
                ]
                if rank <= cfg.why_terms_ranks
                else (),
                keyword_rank=kw_rank.get(aid),
                semantic_rank=sem_rank.get(aid),
                via_cases=tuple(via.get(aid, ()))[: cfg.why_cases],
            )
            score = top_score + 1.0 if is_cited else fused.get(aid, 0.0)
            hits.append(Hit(art, round(float(score), 6), rank, why))
        t = time.perf_counter()
        shown = (
            self._similar(
                question, cited, pinned, hits, case_hits, case_cos, k_cases, cfg, flt, qvec
            )
            if k_cases
            else []
        )
        timings["similar"] = _ms(t)
        return SearchResult(
            query=question,
            articles=hits,
            cases=shown,
            notices=notices,
            cited=cited,
            timings_ms=timings,
        )

    def article_terms(self, article_id: str) -> tuple[str, ...]:
        """Keyword tokens of an article (cached), for Why.matched_terms."""
        if article_id not in self._terms:
            self._terms[article_id] = tuple(
                dict.fromkeys(self.tokenizer(self._article(article_id).text))
            )
        return self._terms[article_id]

    def _article(self, article_id: str) -> Article:
        found = self.articles.get(article_id)
        if found is None:  # a store and its corpus out of step is a bug, not a user error
            raise KeyError(article_id)
        return found

    def _suggest(
        self,
        law: str,
        fused: dict[str, float],
        flt: Filters,
        question: str,
        cited: Sequence[object],
        cfg: SearchConfig,
    ) -> list[str]:
        """Ranked current articles of ``law`` for the question (for a repealed-law notice)."""
        inside = [d for d in fusion.ranked(fused) if self._article(d).law == law]
        if len(inside) >= cfg.suggest_min:
            return inside
        res = self.search(
            cite.without_citations(question, cited),  # type: ignore[arg-type]
            k=5,
            k_cases=0,
            filters=replace(flt, laws=(law,)),
            config=replace(cfg, precedent=False),
        )
        return [h.record.id for h in res.articles if h.why.sources != ("citation",)]

    def _precedent_run(
        self,
        case_hits: Sequence[CaseHit],
        case_cos: dict[str, float],
        cfg: SearchConfig,
        flt: Filters,
        via: dict[str, list[str]],
    ) -> dict[str, float]:
        """Articles cited by the nearest cases, each scored by how close those cases are."""
        floor = cfg.precedent_floor
        run: dict[str, float] = {}
        for h in case_hits:
            case = h.record
            lift = max(0.0, case_cos.get(case.id, 0.0) - floor) / (1.0 - floor)
            lift *= next((f for p, f in cfg.precedent_trust if case.source.startswith(p)), 1.0)
            if lift <= 0:
                continue
            for aid in dict.fromkeys(case.cited_ids):
                article = self.articles.get(aid)
                if article is None or not flt.allows_article(article):
                    continue
                run[aid] = run.get(aid, 0.0) + lift
                via.setdefault(aid, []).append(case.id)
        return run

    # ---- cases ---------------------------------------------------------------

    def _similar(
        self,
        question: str,
        cited: Sequence[Citation],
        pinned: Sequence[Article],
        articles: Sequence[ArticleHit],
        pool: Sequence[CaseHit],
        cos: dict[str, float],
        k: int,
        cfg: SearchConfig,
        flt: Filters,
        qvec: np.ndarray | None = None,
    ) -> list[CaseHit]:
        """The cases worth showing as similar: fewer, or none, rather than unrelated ones.

        A question that is only a citation gets the cases that cite the article. Otherwise
        the question's dispute type is classified (its words and the laws of its top
        articles); the choice and order are ``retrieval.similar.choose``'s: cases of the
        type (or of a neighbouring one citing a top article), close enough to the question
        (a cosine floor), resolutions first. When the user chose dispute types in the
        filters, that choice replaces the classifier's.
        """
        if pinned and not cite.question_terms_left(question, cited):
            citing = [c for c in self.cases.citing(pinned[0].id) if flt.allows_case(c)]
            citing.sort(key=lambda c: (TRUST_LEVELS.index(c.trust) if c.trust else 9, c.id))
            return [
                Hit(c, 1.0, i, Why(("citation",), section="引用本条"))
                for i, c in enumerate(citing[:k], 1)
            ]
        top = [h.record for h in articles[:3]]
        qtype = classify(question, [Citation(a.citation, a.law, a.key) for a in top]).dispute_type
        # issue 21: resolutions first, cases found by their dispute too (retrieval/similar.py)
        return similar.choose(pool, cos, qtype, articles, k, cfg, flt, citing=self.cases.citing, cosine_of=lambda ids: {c: s.score for c, s in self.cases.store.dense_of(qvec, ids).items()} if qvec is not None else {})  # fmt: skip

    def _case_hits(
        self,
        tokens: list[str],
        qvec: np.ndarray | None,
        flt: Filters,
        k: int,
        cfg: SearchConfig,
    ) -> tuple[list[CaseHit], dict[str, float]]:
        """Case hits (one per case) and each hit's best semantic cosine with the query."""
        if not k or not len(self.cases) or qvec is None:
            return [], {}
        depth = max(cfg.case_depth, k * cfg.case_depth_per_hit)
        store = self.cases.store
        dense = _run(store.dense(qvec, flt, depth))
        keyword = _run(store.keyword(tokens, flt, depth))
        fused = fusion.weighted([dense, keyword], [cfg.w_semantic, cfg.w_keyword])
        order = fusion.ranked(fused)[:k]
        best = store.dense_of(qvec, order)
        hits: list[CaseHit] = []
        cos: dict[str, float] = {}
        for rank, cid in enumerate(order, 1):
            found = best.get(cid)
            cos[cid] = found.score if found else 0.0
            unit = self.cases.unit(found.unit) if found else None
            why = Why(
                sources=tuple(
                    s for s, run in (("semantic", dense), ("keyword", keyword)) if cid in run
                ),
                semantic_rank=_rank(dense, cid),
                keyword_rank=_rank(keyword, cid),
                section=unit.section if unit else "",
            )
            case = self.cases.get(cid)
            if case is None:
                raise KeyError(cid)
            hits.append(Hit(case, round(float(fused[cid]), 6), rank, why))
        return hits, cos
