"""Every tuned number of retrieval: per-run scoring and answer settings in frozen configs
that evaluation output records, and below them the fixed numbers other modules read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchConfig:
    """How runs are made and fused. Defaults are the tuned hybrid (see docs/quality.md).

    Args:
        keyword / semantic / precedent: which runs take part.
        fusion: ``"weighted"`` (min-max normalised weighted sum), ``"rrf"``, or
            ``"rrf+precedent"`` (RRF of keyword and semantic runs, min-max scaled, plus
            the calibrated precedent run).
        w_keyword / w_semantic / w_precedent: fusion weights.
        w_semantic_base: weight of a second article run by the base encoder's vector
            beside the query-adapted one (0: the adapted run only).
        clauses: an article's semantic score is the better of its own units' and its
            best clause's (``retrieval.clauses``: one vector per 款 or 项 of a
            multi-paragraph article), less ``clause_margin``; chosen leave-source-out
            (bench/clause_units.py, docs/quality.md "Clause units").
        expand: add lay→legal vocabulary terms to the keyword query.
        expand_dense: also to the text the query encoder sees.
        expand_weight: below 1, the vocabulary terms' BM25 scores count this many times
            beside the question's own words' (1 = appended to the question's words).
        party_with_subject: when the question names what happened in the vocabulary's
            words (狗…咬 → 饲养动物), the terms of the parties it names (``vocab.PARTY_WORDS``:
            邻居 → 相邻) lift only articles its own words or its subject's terms also match
            (``Searcher._expansion``; issue 19 item 5).
        depth: candidates kept per run before fusion.
        precedent_cases: nearest cases whose cited articles are lifted.
        precedent_floor: a case lifts its articles by ``(cos - floor) / (1 - floor)``
            of its question's cosine with the query, so distant cases lift nothing.
        precedent_trust: per case-source key prefix (``ingest.cases.link.source_key``:
            lawyer-llama, equals, zixun …), a factor on its lift.
        labelled_trust: the factor on a labelled question's lift when its source has no
            entry in ``precedent_trust`` (a question with marked articles is weaker
            evidence than a resolved case: it lifts the articles, not a resolution).
        labelled_cap: the most lift one source of labelled questions (equals, zixun …) can
            give one article (0 = no cap): a narrow set whose questions mark a few articles
            (EQUALS: 148) cannot push its frequent ones (劳动合同法第四十七条) onto every
            question near it; chosen leave-source-out (docs/quality.md "One labelled
            source, one vote per article").
        precedent_cap: the most precedent evidence one article can gather (0 = no cap),
            i.e. about two near cases' worth: a committee's own records, or many near
            questions citing one frequent article, cannot bury the law for the rest.
        w_law / law_top: law routing; every article is lifted by ``w_law`` times its
            law's evidence (the sum of the law's ``law_top`` best fused scores) relative
            to the best law's, so the few laws a question belongs to rise together.
        case_depth: candidates per case run (at least ``case_depth_per_hit`` × cases asked).
        suggest_min: a repealed law's successor is suggested from the fused ranking when it
            holds at least this many of the successor's articles, else by a search inside it.
        why_depth: a run is named in ``Why.sources`` when the article ranks within
            ``max(why_depth, k)`` of that run.
        why_terms / why_terms_ranks: matched terms shown (at most), and for hits up to this
            rank only (tokenising an article is the costly part).
        why_cases: cases named in ``Why.via_cases``.
        similar_pool: nearest cases the shown "similar cases" are chosen from.
        similar_floor: a shown case's best section must have at least this cosine with
            the question; ``similar_floor_untyped`` when the question's dispute type is
            unknown (其他), since then no type agreement vouches for it.
        similar_same_type: show only cases of the question's dispute type (when known).
        trust_bonus: added to a committee's or a court's case, so at equal relevance a
            real resolution ranks above a consultation or a machine-written answer.
        similar_verified_first: resolutions (调解案例, 法院典型案例) above every other
            relevant case, consultations next, machine-written answers last
            (``retrieval.similar``); off = the ``trust_bonus`` ordering before issue 21.
        similar_by_dispute: a case of a neighbouring dispute type is relevant when it
            cites one of the question's top articles, and resolutions citing them are
            found outside the text pool (cosine at least ``similar_dispute_floor``).
        interpretation_lift: an interpretation article linked to a top article (by number
            or subject, ``retrieval.interpretations.lift``) gains this share of its score.
            0 = off (the default until the retrieval owner measures it).
        amount_lift / amount_top / amount_min: a question that asks how much
            (``retrieval.amounts``): each of its ``amount_top`` best articles stating an
            amount at least ``amount_min`` times gains ``amount_lift`` of the best
            article's score (0 = off); measured leave-source-out (docs/quality.md
            "Questions that ask how much").
    """

    name: str = "hybrid"
    keyword: bool = True
    semantic: bool = True
    precedent: bool = True
    fusion: str = "weighted"
    w_keyword: float = 0.4
    w_semantic: float = 0.6
    w_semantic_base: float = 0.0
    clauses: bool = True
    clause_margin: float = 0.0
    w_precedent: float = 2.0
    rrf_k: int = 60
    expand: bool = True
    expand_dense: bool = False
    expand_weight: float = 0.25
    party_with_subject: bool = True
    depth: int = 300
    precedent_cases: int = 20
    precedent_floor: float = 0.88
    # lawyer-llama's article labels were picked by that data set's own retriever (silver)
    precedent_trust: tuple[tuple[str, float], ...] = (("lawyer-llama", 0.25),)
    # labelled questions (equals, zixun, lawbench-3-2 …): chosen leave-source-out
    # (bench/tune_evidence.py, docs/quality.md "Labelled questions as evidence")
    labelled_trust: float = 0.25
    labelled_cap: float = 0.2
    precedent_cap: float = 2.0
    w_law: float = 0.5
    law_top: int = 3
    case_depth: int = 50
    case_depth_per_hit: int = 5
    suggest_min: int = 3
    why_depth: int = 50
    why_terms: int = 12
    why_terms_ranks: int = 20
    why_cases: int = 5
    similar_pool: int = 20
    similar_floor: float = 0.85
    similar_floor_untyped: float = 0.89
    similar_same_type: bool = True
    trust_bonus: float = 0.05
    similar_verified_first: bool = True
    similar_by_dispute: bool = True
    similar_dispute_floor: float = 0.80
    interpretation_lift: float = 0.0
    amount_lift: float = 0.2
    amount_top: int = 10
    amount_min: int = 2


CONFIGS: dict[str, SearchConfig] = {
    "bm25": SearchConfig("bm25", semantic=False, precedent=False, expand=False, w_law=0.0),
    "dense": SearchConfig("dense", keyword=False, precedent=False, w_law=0.0),
    "rrf": SearchConfig(
        "rrf", precedent=False, fusion="rrf", expand=False, w_keyword=0.3, w_semantic=0.7, w_law=0.0
    ),
    "hybrid-noprec": SearchConfig("hybrid-noprec", precedent=False),
    "hybrid-nolaw": SearchConfig("hybrid-nolaw", w_law=0.0),
    "hybrid-parties": SearchConfig("hybrid-parties", party_with_subject=False),
    "hybrid-noamount": SearchConfig("hybrid-noamount", amount_lift=0.0),
    "hybrid-nolabelcap": SearchConfig("hybrid-nolabelcap", labelled_cap=0.0),
    "hybrid": SearchConfig(),
}
DEFAULT_CONFIG = CONFIGS["hybrid"]


@dataclass(frozen=True)
class AnswerConfig:
    """How the answer panel picks its verbatim clauses and case outcome lines.

    Args:
        max_quotes / max_outcomes: points shown.
        top_articles: articles whose clauses compete.
        rank_decay: a clause's score is divided by ``1 + rank_decay × (rank - 1)`` of its
            article, so the retriever's order still counts.
        clause_length: long clauses are penalised by ``1 + len / clause_length`` so a
            focused sentence beats a list that happens to mention everything.
        outcome_chars: an outcome line is cut after this many characters.
        bar: a clause is shown only when it clears ``retrieval.answer_bar`` (subject,
            ruled-out conditions, governing interpretations); off = the panel before
            issue 21, for benchmarks.
        amount_boost: for a question that asks how much (``retrieval.amounts``), a clause
            stating an amount scores this much more (1 = twice): "经济补偿是多少" is answered
            by a clause of the standard (劳动合同法第四十七条), not by the list of when
            compensation is owed (第四十六条).
        rule_first: for such a question, an article's later sentences stating an amount
            count ``1 / (1 + rule_first × place)``: the general amount (每满一年支付一个月
            工资) is quoted before the special cases that follow it (不满六个月的; the cap
            for the highly paid). 0 = clause scores alone.
        rare_share: a word of the question used by at most this share of the articles is
            rare: an interpretation clause matching one its general article never uses
            takes that article's place (赌博: 9 of 5,533 current articles of the curated
            base; 配偶 36, 夫妻 80 are not rare).
    """

    max_quotes: int = 3
    max_outcomes: int = 3
    top_articles: int = 5
    rank_decay: float = 0.35
    clause_length: float = 120.0
    outcome_chars: int = 90
    bar: bool = True
    amount_boost: float = 1.0
    rule_first: float = 0.5
    rare_share: float = 0.002


DEFAULT_ANSWER = AnswerConfig()


@dataclass(frozen=True)
class ApproxConfig:
    """When the embedded FAISS store searches vectors approximately (docs/scale.md, measured).

    Below ``above`` units in a corpus every query scores every unit exactly: at 200,000
    case vectors that costs 23 ms of one core (p95), half the 50 ms budget, and it grows
    linearly. Above it the store builds a FAISS IVF-Flat index (``nlist`` = √units,
    trained on ``train_per_list`` × nlist vectors) and probes ``nprobe`` lists: at a
    million vectors nprobe 8 gave recall@10 1.000 with a dispute-type filter in 3 ms;
    16 is the margin. A filter leaving under ``exact_share`` of the units (a rare dispute
    type) is searched exactly over those units: through the index it found only 21 %.

    From ``half_above`` units (the national tier's 64,000 articles) to ``above``, the
    exact scan reads a float16 copy of the vectors (FAISS ``QT_fp16``: half the bytes of a
    scan that memory bandwidth bounds) for the ``2 × depth`` best units and rescores them
    in float32: national short questions 7.7 → ~3 ms of vector scan, the same runs
    (docs/quality.md "National latency").

    Args:
        above: units per corpus from which the approximate index is used (0 = never).
        half_above: units per corpus from which the half-precision scan is used (0 = never).
        nprobe: IVF lists probed per query.
        exact_share: allowed share of units under which a filtered query stays exact.
        train_per_list: training vectors per IVF list.
    """

    above: int = 200_000
    half_above: int = 20_000
    nprobe: int = 16
    exact_share: float = 0.02
    train_per_list: int = 30


DEFAULT_APPROX = ApproxConfig()


# ---- tuned numbers outside the frozen configs (one reader each, named above it) --------

# retrieval/answer.py
LIST_CHARS = 220
"""A 款 head matching on its own is quoted with its whole list when this short (else not at all)."""

# retrieval/answer_bar.py
TYPE_SHARE = 0.75
"""The question's dispute types: every type scoring at least this share of the best."""
MIN_TYPE_SCORE = 1.5
"""Below this keyword evidence the question's type is unknown and no type is required."""

# retrieval/interpretations.py
SUBJECT_THRESHOLD = 0.15
"""Cosine at or above which an interpretation article is linked to its best candidate."""
SUBJECT_MARGIN = 0.85
"""...and the runner-up scores at most this share of the best: a clear winner only.

Both measured on 44 hand-checked interpretation articles of the curated knowledge base
(tests/data/eval/interpretation_links.tsv; bench/bench_interpretations.py prints the
precision and recall of each setting, docs/quality.md the figures): a bare threshold of
0.15 linked 38 of them at precision 0.68; with the margin, 23 at precision 0.91 (recall
0.49; 0.2 gave 22 at 0.91, recall 0.47). One article is linked by subject at most:
the general article it refines."""
MAX_DF_SHARE = 0.08
"""Bigrams in more than this share of the compared articles say nothing about a subject
(人民法院, 不予支持)..."""
MIN_DF_CAP = 20
"""...but one in fewer articles than this always counts (a small knowledge base)."""

# retrieval/guidance.py
MAX_TYPES = 2
"""Dispute types whose points one answer shows: the classifier's and the best trigger match."""
SECOND_TYPE_HITS = 2
"""Trigger words a type needs to join the classifier's own type (one is enough alone)."""

# retrieval/similar.py
TOP_ARTICLES = 5
"""The question's articles a case of a neighbouring type must cite one of."""

# retrieval/catalogue.py
STALE_AFTER_DAYS = 365
"""Statute data older than this (newest 公布日期) gets a warning that newer law may exist."""
SAME = 0.5
"""Bigram similarity at or above which two article texts are taken as the same provision."""

# retrieval/build.py
KEEP_SHARE = 0.5
"""A rebuild that would keep less than this share of the articles or cases stops (see ``force``)."""

# retrieval/build.py and retrieval/encoders/ray_embed.py
CHECKPOINT_GROUP = 256
"""Texts per embedding checkpoint: a killed build loses at most one group of work."""

# retrieval/encoders/ray_embed.py
LOCAL_RAY_START_ATTEMPTS = 2
"""Tries to start a local Ray: on a busy PC its node can miss Ray's fixed 30 s start-up wait
(not configurable in ray 2.60); a second try finds Ray's files in the disk cache."""

# retrieval/units.py
MAX_UNIT_TOKENS = 450
"""Tokens per unit: e5 truncates at 512; this keeps room for the prompt and the title line."""
