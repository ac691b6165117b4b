"""The search pipeline: citations, keyword + semantic runs, precedents, fusion, law routing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ingest.cases.classify import classify
from ingest.cases.link import source_key
from ingest.records import LABELLED, TRUST_LEVELS, Article, Citation
from retrieval import amounts, cite, fusion, interpretations, similar, vocab
from retrieval.catalogue import Catalogue
from retrieval.config import DEFAULT_CONFIG, SearchConfig
from retrieval.corpus import CaseCorpus, Corpus
from retrieval.encoders.embedder import Embedder
from retrieval.hits import ArticleHit, CaseHit, Filters, Hit, SearchResult, Why
from retrieval.store import Scored
from retrieval.tokenizer import JiebaTokenizer

DEFAULT_FILTERS = Filters()


@dataclass
class FirstStage:
    """The retrievers' runs for one question, before fusion: parent id → score per run
    (``None`` when the configuration leaves that retriever out), the nearest cases with
    their best cosine, and the milliseconds each step took."""

    cited: list[Citation]
    tokens: list[str]
    keyword: dict[str, float] | None
    semantic: dict[str, float] | None
    case_hits: list[CaseHit]
    case_cos: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    expansion: dict[str, float] | None = None  # vocabulary terms' BM25 run (expand_weight < 1)
    semantic_base: dict[str, float] | None = None  # articles by the base vector (w_semantic_base)
    case_vector: np.ndarray | None = None  # the question as cases are searched (base encoder)
    question: str = ""  # the question as asked (``fuse`` reads whether it asks how much)


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


def keyword_run(first: FirstStage, cfg: SearchConfig) -> dict[str, float] | None:
    """The question's BM25 run with the vocabulary terms' scores added ``expand_weight``
    times, on the same scale before any normalising: a weak match of the question's own
    words keeps its place beside a strong match of the vocabulary's."""
    if first.keyword is None or first.expansion is None:
        return first.keyword
    run = dict(first.keyword)
    for d, v in first.expansion.items():
        run[d] = run.get(d, 0.0) + cfg.expand_weight * v
    return run


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)


class Searcher:
    """Answers a question from two corpora and the law catalogue; holds no knowledge base.

    Args:
        articles: the article corpus (records, units, store).
        cases: the case corpus; may be empty.
        catalogue: law lookup for citations in the question and repealed-law notices.
        tokenizer: the keyword tokenizer the indexes were built with.
        embedder: the query encoder (``encode_queries``, ``encode_article_queries``; its
            ``encode_question_pair``, where it has one, gives both from one pass).
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
        n_cases = max(k_cases, cfg.precedent_cases if cfg.precedent else 0)
        if k_cases:
            n_cases = max(n_cases, cfg.similar_pool)
        first = self.first_stage(question, flt=flt, cfg=cfg, n_cases=n_cases, encode=k_cases > 0)
        timings = first.timings
        keyword = keyword_run(first, cfg)
        kw_rank = _ranks(keyword) if keyword is not None else {}
        sem_rank = _ranks(first.semantic) if first.semantic is not None else {}
        tokens = first.tokens
        via: dict[str, list[str]] = {}
        fused = self.fuse(first, cfg, flt, via)
        cited = first.cited

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
            self._similar(question, first, cited, pinned, hits, k_cases, cfg, flt)
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

    @property
    def _adapts(self) -> bool:
        """Whether articles get their own (query-adapted) question vector."""
        key = getattr(self.embedder, "key", "")
        return str(getattr(self.embedder, "query_key", key)) != key

    def first_stage(
        self, question: str, *, flt: Filters, cfg: SearchConfig, n_cases: int, encode: bool = False
    ) -> FirstStage:
        """What the retrievers find for ``question`` before fusion. The studies in ``bench/``
        (tune_evidence, generalise) call this, ``fuse``, ``keyword_run`` and
        ``precedent_run`` instead of a copy of the pipeline, so they measure what ships.

        ``n_cases`` nearest cases are fetched for precedent evidence and similar cases;
        ``encode`` asks for the question's vector even when no run needs it.
        """
        timings: dict[str, float] = {}
        t = time.perf_counter()
        cited = cite.find_citations(question, self.catalogue.law_names)
        timings["citations"] = _ms(t)
        t = time.perf_counter()
        # two vectors: cases are questions too, matched with the base encoder's vector
        # (their floors were calibrated on it); articles with the query-adapted one
        qtext = vocab.expand_text(question) if cfg.expand else question
        dense_text = (qtext if cfg.expand_dense else question) if cfg.semantic else None
        pair = getattr(self.embedder, "encode_question_pair", None)
        qvec: np.ndarray | None = None
        avec: np.ndarray | None = None
        if cfg.semantic or cfg.precedent or encode:
            if dense_text == question and self._adapts and pair is not None:
                # both vectors of the one text from one encoder pass (the twin export)
                base, adapted = pair([question])
                qvec, avec = base[0], adapted[0]
            else:
                qvec = self.embedder.encode_queries([question])[0]
        if dense_text is not None and avec is None:
            if dense_text == question and qvec is not None and not self._adapts:
                avec = qvec  # no query adapter: one encoder, one vector
            else:
                avec = self.embedder.encode_article_queries([dense_text])[0]
        timings["encode"] = _ms(t)
        t = time.perf_counter()
        tokens = self.tokenizer(qtext)
        store = self.articles.store
        # Vocabulary terms are weaker evidence than the question's own words: their BM25
        # scores count ``expand_weight`` times, so a lay word's statute terms (邻居 →
        # 相邻关系) cannot outvote what the question is about (the dog that bit the child).
        split = cfg.keyword and cfg.expand and cfg.expand_weight < 1.0 and qtext != question
        plain = self.tokenizer(question) if split else tokens
        keyword = _run(store.keyword(plain, flt, cfg.depth)) if cfg.keyword else None
        expansion = None
        if split:
            own = set(plain)
            added = [w for w in tokens if w not in own]
            expansion = self._expansion(question, added, keyword, flt, cfg) if added else None
        semantic = (
            _run(store.dense(avec, flt, cfg.depth)) if cfg.semantic and avec is not None else None
        )
        clauses = self.articles.clauses
        if semantic is not None and cfg.clauses and clauses is not None:
            # a second stage over the runs' candidates: an article's best 款/项 may be
            # closer to the question than the article as a whole
            candidates = dict.fromkeys([*semantic, *(keyword or {}), *(expansion or {})])
            semantic = clauses.lift(
                semantic,
                avec,  # type: ignore[arg-type]
                candidates,
                depth=cfg.depth,
                margin=cfg.clause_margin,
            )
        timings["articles"] = _ms(t)
        t = time.perf_counter()
        case_hits, case_cos = self._case_hits(tokens, qvec, flt, n_cases, cfg)
        timings["cases"] = _ms(t)
        semantic_base = None
        if cfg.semantic and cfg.w_semantic_base > 0 and qvec is not None:
            semantic_base = _run(store.dense(qvec, flt, cfg.depth))
        return FirstStage(
            cited,
            tokens,
            keyword,
            semantic,
            case_hits,
            case_cos,
            timings,
            expansion,
            semantic_base,
            qvec,
            question,
        )

    def _expansion(
        self,
        question: str,
        added: list[str],
        keyword: dict[str, float] | None,
        flt: Filters,
        cfg: SearchConfig,
    ) -> dict[str, float]:
        """The vocabulary terms' BM25 run. With ``cfg.party_with_subject``, when the question
        names what happened (狗…咬 → 饲养动物), the terms of the parties it names (邻居 →
        相邻) count only for articles that its own words or its subject's terms also match:
        the neighbour's dog is a dog bite, not a 相邻关系 (issue 19 item 5). BM25 sums its
        terms' scores, so the two runs add up to the one run of all the terms."""
        store = self.articles.store
        subject, parties = vocab.split_terms(question)
        party: set[str] = set()
        if cfg.party_with_subject and subject and parties:
            theirs = {t for term in subject for t in self.tokenizer(term)}
            party = {t for term in parties for t in self.tokenizer(term)} - theirs
        main = [w for w in added if w not in party]
        run = _run(store.keyword(main, flt, cfg.depth)) if main else {}
        rest = [w for w in added if w in party]
        if rest:
            shared = set(run) | set(keyword or ())
            for d, v in _run(store.keyword(rest, flt, cfg.depth)).items():
                if d in shared:
                    run[d] = run.get(d, 0.0) + v
        return run

    def fuse(
        self,
        first: FirstStage,
        cfg: SearchConfig,
        flt: Filters,
        via: dict[str, list[str]] | None = None,
    ) -> dict[str, float]:
        """One score per article from the first stage's runs, precedent evidence and law
        routing; ``via`` collects the cases that lifted each article."""
        via = {} if via is None else via
        runs: list[dict[str, float]] = []
        weights: list[float] = []
        keyword = keyword_run(first, cfg)
        if keyword is not None:
            runs.append(keyword)
            weights.append(cfg.w_keyword)
        if first.semantic is not None:
            runs.append(first.semantic)
            weights.append(cfg.w_semantic)
        if first.semantic_base is not None and cfg.w_semantic_base > 0:
            runs.append(first.semantic_base)
            weights.append(cfg.w_semantic_base)
        calibrated = [True] * len(runs)
        n = len(runs)  # the retrievers' runs; precedent evidence follows
        prec = self.precedent_run(first, cfg, flt, via)
        if prec:
            runs.append(prec)
            weights.append(cfg.w_precedent)
            calibrated.append(cfg.fusion == "rrf")

        if cfg.fusion == "rrf":
            fused = fusion.rrf(runs, k=cfg.rrf_k, weights=weights)
        elif cfg.fusion == "rrf+precedent":
            # rank fusion of the retrievers, then calibrated precedent evidence on top
            base = fusion.minmax(fusion.rrf(runs[:n], k=cfg.rrf_k, weights=weights[:n]))
            fused = fusion.weighted([base, *runs[n:]], [1.0, *weights[n:]], normalise=False)
        else:
            fused = fusion.weighted(runs, weights, normalise=calibrated)

        if cfg.w_law and fused:
            law_of = {d: self._article(d).law for d in fused}
            fused = fusion.route(fused, law_of, cfg.w_law, cfg.law_top)
        if cfg.interpretation_lift:  # interpretations beside the articles they refine
            links = self.catalogue.interpretation_links()
            fused = interpretations.lift(fused, links, cfg.interpretation_lift, flt.allows_article)
        if cfg.amount_lift and fused and amounts.asks_amount(first.question):
            # "赔多少": the article that states the standard, among the top candidates
            fused = amounts.lift(
                fused,
                lambda aid: amounts.amount_statements(self._article(aid).text),
                share=cfg.amount_lift,
                top=cfg.amount_top,
                at_least=cfg.amount_min,
            )
        return fused

    def precedent_run(
        self,
        first: FirstStage,
        cfg: SearchConfig,
        flt: Filters,
        via: dict[str, list[str]] | None = None,
    ) -> dict[str, float]:
        """The precedent evidence ``fuse`` adds (article id → lift from the first stage's
        nearest cases; empty when the configuration leaves precedents out)."""
        if not (cfg.precedent and first.case_hits):
            return {}
        return self._precedent_run(
            first.case_hits[: cfg.precedent_cases],
            first.case_cos,
            cfg,
            flt,
            {} if via is None else via,
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
        """Articles cited by the nearest cases, each scored by how close those cases are.
        One source of labelled questions gives an article at most ``cfg.labelled_cap``."""
        floor = cfg.precedent_floor
        run: dict[str, float] = {}
        by_source: dict[tuple[str, str], float] = {}  # (labelled source, article) → lift given
        for h in case_hits:
            case = h.record
            lift = max(0.0, case_cos.get(case.id, 0.0) - floor) / (1.0 - floor)
            key = source_key(case)
            labelled = case.kind == LABELLED
            default = cfg.labelled_trust if labelled else 1.0
            lift *= next((f for p, f in cfg.precedent_trust if key.startswith(p)), default)
            if lift <= 0:
                continue
            for aid in dict.fromkeys(case.cited_ids):
                article = self.articles.get(aid)
                if article is None or not flt.allows_article(article):
                    continue
                add = lift
                if labelled and cfg.labelled_cap:
                    given = by_source.get((key, aid), 0.0)
                    add = min(lift, max(0.0, cfg.labelled_cap - given))
                    by_source[(key, aid)] = given + add
                    if add <= 0:
                        continue  # its source has given this article all it may
                run[aid] = run.get(aid, 0.0) + add
                via.setdefault(aid, []).append(case.id)
        if cfg.precedent_cap:
            run = {aid: min(v, cfg.precedent_cap) for aid, v in run.items()}
        return run

    # ---- cases ---------------------------------------------------------------

    def _similar(
        self,
        question: str,
        first: FirstStage,
        cited: Sequence[Citation],
        pinned: Sequence[Article],
        articles: Sequence[ArticleHit],
        k: int,
        cfg: SearchConfig,
        flt: Filters,
    ) -> list[CaseHit]:
        """The cases worth showing as similar: fewer, or none, rather than unrelated ones.

        A question that is only a citation gets the cases that cite the article. Otherwise
        the question's dispute type is classified (its words and the laws of its top
        articles); the choice and order are ``retrieval.similar.choose``'s: cases of the
        type (or resolutions of a neighbouring one citing a top article), close enough to
        the question (a cosine floor), resolutions first; labelled questions never. When
        the user chose dispute types in the filters, that choice replaces the classifier's.
        """
        if pinned and cite.citation_only(question, cited):
            citing = [c for c in self.cases.citing(pinned[0].id) if flt.allows_case(c)]
            citing.sort(key=lambda c: (TRUST_LEVELS.index(c.trust) if c.trust else 9, c.id))
            return [
                Hit(c, 1.0, i, Why(("citation",), section="引用本条"))
                for i, c in enumerate(citing[:k], 1)
            ]
        top = [h.record for h in articles[:3]]
        qtype = classify(question, [Citation(a.citation, a.law, a.key) for a in top]).dispute_type
        # issue 21: resolutions first, cases found by their dispute too (retrieval/similar.py)
        # the question's case-side vector from the first stage: no second encode
        qvec = first.case_vector
        if qvec is None:
            qvec = self.embedder.encode_queries([question])[0]

        def cosine_of(ids: Sequence[str]) -> dict[str, float]:
            return {c: s.score for c, s in self.cases.store.dense_of(qvec, ids).items()}

        return similar.choose(
            first.case_hits,
            first.case_cos,
            qtype,
            articles,
            k,
            cfg,
            flt,
            citing=self.cases.citing,
            cosine_of=cosine_of,
        )

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
