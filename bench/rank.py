"""Learned re-ranking of a fused candidate list: candidate features and a LightGBM LambdaRank model.

The first stage (keyword + semantic runs, precedent evidence, fusion) finds the
candidates; this module orders the best ~200 of them by what a ranking model learned
from questions answered with known articles (typical cases, consultations, scenario
questions). Everything here is a pure function of plain inputs, so the search
pipeline decides where the inputs come from:

- ``Candidate``: one article with its first-stage evidence (scores of each run,
  precedent lift, the closest case citing it);
- ``Catalogue``: facts about articles that do not depend on the question (where the
  article sits in its law and chapter, its level, how often cases cite it), built
  once per knowledge base with ``Catalogue.build``;
- ``features(question, tokens, candidates, catalogue)``: the feature matrix;
- ``Ranker``: a saved LightGBM model (``load``/``save``/``score``/``rerank``);
  ``train`` fits one (LambdaRank, Burges 2010, "From RankNet to LambdaRank to
  LambdaMART: An Overview"; LightGBM, Ke et al. 2017).

Measured leave-source-out in ``bench/generalise.py`` (docs/quality.md): trained on the
shared query sets it does not transfer from one source to another, so it is not part
of the product: it lives in ``bench/`` (LightGBM: ``bench/requirements.txt``) for labels
of the product's own kind (mediation records).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Article

LEVELS: tuple[str, ...] = ("法律", "行政法规", "司法解释", "部门规章", "地方性法规")

# Words of a question that ask for a sanction by the state rather than a civil remedy:
# they decide between a 法律责任 chapter and a civil one.
PENALTY_WORDS: tuple[str, ...] = (
    "罚款",
    "拘留",
    "处罚",
    "派出所",
    "公安",
    "报警",
    "吊销",
    "坐牢",
    "判刑",
    "刑事",
    "违法",
    "举报",
    "投诉",
    "责令",
)
PROCEDURE_WORDS: tuple[str, ...] = (
    "起诉",
    "仲裁",
    "法院",
    "申请",
    "管辖",
    "上诉",
    "执行",
    "调解",
    "证据",
    "时效",
    "期限",
    "多久",
)

FEATURES: tuple[str, ...] = (
    # first-stage runs
    "kw_score",
    "kw_rel",
    "kw_rank",
    "sem_score",
    "sem_gap",
    "sem_rank",
    "fused_rel",
    "fused_rank",
    # law and chapter routing: how much of the list points to the same law / chapter
    "law_share",
    "law_rank",
    "law_in_top20",
    "chapter_share",
    "chapter_rank",
    "chapter_in_top20",
    # precedent evidence from similar answered cases
    "prec_lift",
    "prec_cases",
    "cited_best",
    "cited_gap",
    # priors: how often answered cases cite the article and its law
    "prior_article",
    "prior_law",
    # where the article sits
    "position_law",
    "position_chapter",
    "chapter_size",
    "law_size",
    "text_length",
    "is_general_part",
    "is_liability",
    "level",
    # overlap of the question with the article's names
    "heading_overlap",
    "text_overlap",
    "law_named",
    # the question itself
    "query_chars",
    "query_terms",
    "query_penalty",
    "query_procedure",
    "query_names_law",
)


@dataclass(frozen=True)
class Candidate:
    """One candidate article and its first-stage evidence for a question.

    Args:
        article_id: ``Article.id``.
        fused: the first stage's fused score (the list is ranked by it).
        keyword / semantic: BM25 score and cosine (None when the run did not return it).
        precedent: summed lift from the nearest answered cases citing the article.
        precedent_cases: how many of those cases cite it.
        cited_best: best cosine between the question and any allowed case citing the
            article (0 when none does), so far-off precedents still say something.
    """

    article_id: str
    fused: float
    keyword: float | None = None
    semantic: float | None = None
    precedent: float = 0.0
    precedent_cases: int = 0
    cited_best: float = 0.0


@dataclass(frozen=True)
class ArticleFacts:
    """Question-independent facts about one article."""

    law: str
    chapter: str  # law + 编/章/节 path, the routing group below the law
    level: int  # index in LEVELS, len(LEVELS) for anything else
    position_law: float  # 0 = first article of the law, 1 = last
    position_chapter: float
    chapter_size: int
    law_size: int
    length: int
    general_part: bool  # 总则 / 一般规定 / 基本原则
    liability: bool  # a 法律责任 / 罚则 chapter
    heading_terms: frozenset[str]
    text_terms: frozenset[str]
    law_stems: tuple[str, ...]  # the law's name and its distinctive stems


_GENERAL = re.compile(r"总则|一般规定|基本原则|通则")
_LIABILITY = re.compile(r"法律责任|罚则")
_STEM = re.compile(r"(实施条例|实施细则|条例|规定|办法|法)$")


def _law_stems(law: str) -> tuple[str, ...]:
    stems = [law]
    short = _STEM.sub("", law)
    if len(short) >= 3 and short != law:
        stems.append(short)
    return tuple(stems)


@dataclass
class Catalogue:
    """Facts per article id and citation priors, built once per knowledge base."""

    facts: dict[str, ArticleFacts]
    cited: Mapping[str, int]  # article id → number of answered cases citing it
    law_cited: Mapping[str, int]  # law → citations of its articles

    @classmethod
    def build(
        cls,
        articles: Iterable[Article],
        tokenize: Callable[[str], list[str]],
        cited: Iterable[Iterable[str]] = (),
    ) -> Catalogue:
        """Facts of ``articles`` (current versions in document order) and priors.

        Args:
            tokenize: the keyword tokenizer (terms of headings and texts).
            cited: the cited article ids of each answered case the priors count.
        """
        arts = list(articles)
        by_law: dict[str, list[Article]] = {}
        for a in arts:
            by_law.setdefault(a.law, []).append(a)
        facts: dict[str, ArticleFacts] = {}
        heading_terms: dict[tuple[str, ...], frozenset[str]] = {}
        for law, items in by_law.items():
            chapters: dict[tuple[str, ...], list[Article]] = {}
            for a in items:
                chapters.setdefault(a.path, []).append(a)
            stems = _law_stems(law)
            for i, a in enumerate(items):
                siblings = chapters[a.path]
                if a.path not in heading_terms:
                    heading_terms[a.path] = frozenset(tokenize(" ".join(a.path)))
                facts[a.id] = ArticleFacts(
                    law=law,
                    chapter=law + "|" + "/".join(a.path),
                    level=LEVELS.index(a.level) if a.level in LEVELS else len(LEVELS),
                    position_law=i / max(1, len(items) - 1),
                    position_chapter=siblings.index(a) / max(1, len(siblings) - 1),
                    chapter_size=len(siblings),
                    law_size=len(items),
                    length=len(a.text),
                    general_part=bool(_GENERAL.search(" ".join(a.path))),
                    liability=bool(_LIABILITY.search(" ".join(a.path[-1:]))),
                    heading_terms=heading_terms[a.path],
                    text_terms=frozenset(tokenize(a.text)),
                    law_stems=stems,
                )
        return cls(facts, *citation_priors(cited, facts))

    def with_priors(self, cited: Iterable[Iterable[str]]) -> Catalogue:
        """The same facts with priors counted from other cases (leave-source-out evaluation)."""
        return Catalogue(self.facts, *citation_priors(cited, self.facts))


def citation_priors(
    cited: Iterable[Iterable[str]], facts: Mapping[str, ArticleFacts]
) -> tuple[Counter[str], Counter[str]]:
    """(citations per article, citations per law) over the cases' cited article ids."""
    per_article: Counter[str] = Counter()
    for ids in cited:
        per_article.update(list(dict.fromkeys(ids)))
    per_law: Counter[str] = Counter()
    for aid, n in per_article.items():
        f = facts.get(aid)
        if f is not None:
            per_law[f.law] += n
    return per_article, per_law


def _ranks(values: Sequence[float | None]) -> np.ndarray:
    """1-based rank by descending value; missing values rank after all present ones."""
    v = np.array([-np.inf if x is None else x for x in values], np.float64)
    order = np.argsort(-v, kind="stable")
    r = np.empty(len(v), np.float64)
    r[order] = np.arange(1, len(v) + 1)
    r[~np.isfinite(v)] = len(v) + 1
    return r


def _group_evidence(
    groups: Sequence[str], fused: np.ndarray, top: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: its group's evidence relative to the best group's, and the group's rank."""
    best: dict[str, list[float]] = {}
    for g, s in zip(groups, fused, strict=True):
        best.setdefault(g, []).append(float(s))
    evidence = {g: sum(sorted(v, reverse=True)[:top]) for g, v in best.items()}
    top_ev = max(evidence.values(), default=0.0) or 1.0
    order = sorted(evidence, key=lambda g: -evidence[g])
    rank = {g: i for i, g in enumerate(order, 1)}
    return (
        np.array([evidence[g] / top_ev for g in groups]),
        np.array([rank[g] for g in groups], np.float64),
    )


def features(
    question: str,
    tokens: Sequence[str],
    candidates: Sequence[Candidate],
    catalogue: Catalogue,
) -> np.ndarray:
    """The feature matrix (one row per candidate, columns ``FEATURES``), float32.

    Args:
        question: the question as typed.
        tokens: its keyword tokens (as the keyword run used them).
        candidates: the first stage's candidates, best first.
        catalogue: article facts and citation priors.
    """
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), np.float32)
    if not n:
        return out
    facts = [catalogue.facts[c.article_id] for c in candidates]
    fused = np.array([c.fused for c in candidates], np.float64)
    lo, hi = float(fused.min()), float(fused.max())
    fused01 = (fused - lo) / (hi - lo) if hi > lo else np.ones(n)
    kw = [c.keyword for c in candidates]
    kw_max = max((x for x in kw if x is not None), default=0.0) or 1.0
    sem = [c.semantic for c in candidates]
    sem_max = max((x for x in sem if x is not None), default=0.0)
    cited_max = max((c.cited_best for c in candidates), default=0.0)
    laws = [f.law for f in facts]
    chapters = [f.chapter for f in facts]
    law_share, law_rank = _group_evidence(laws, fused01)
    ch_share, ch_rank = _group_evidence(chapters, fused01)
    order = np.argsort(-fused, kind="stable")
    top20 = order[:20]
    law_top = Counter(laws[i] for i in top20)
    ch_top = Counter(chapters[i] for i in top20)
    qset = set(tokens)
    nq = max(1, len(qset))
    stems_hit = {f.law: any(s in question for s in f.law_stems) for f in facts}
    names_law = any(stems_hit.values())
    penalty = sum(w in question for w in PENALTY_WORDS)
    procedure = sum(w in question for w in PROCEDURE_WORDS)
    prior_total = max(1, sum(catalogue.cited.values()))
    law_prior_total = max(1, sum(catalogue.law_cited.values()))
    cols: dict[str, Any] = {
        "kw_score": [0.0 if x is None else x for x in kw],
        "kw_rel": [0.0 if x is None else x / kw_max for x in kw],
        "kw_rank": np.log1p(_ranks(kw)),
        "sem_score": [0.0 if x is None else x for x in sem],
        "sem_gap": [1.0 if x is None else sem_max - x for x in sem],
        "sem_rank": np.log1p(_ranks(sem)),
        "fused_rel": fused01,
        "fused_rank": np.log1p(_ranks(list(fused))),
        "law_share": law_share,
        "law_rank": law_rank,
        "law_in_top20": [law_top[x] for x in laws],
        "chapter_share": ch_share,
        "chapter_rank": ch_rank,
        "chapter_in_top20": [ch_top[x] for x in chapters],
        "prec_lift": [c.precedent for c in candidates],
        "prec_cases": [c.precedent_cases for c in candidates],
        "cited_best": [c.cited_best for c in candidates],
        "cited_gap": [cited_max - c.cited_best if c.cited_best else 1.0 for c in candidates],
        "prior_article": [
            math.log1p(1e4 * catalogue.cited.get(c.article_id, 0) / prior_total) for c in candidates
        ],
        "prior_law": [
            math.log1p(1e3 * catalogue.law_cited.get(f.law, 0) / law_prior_total) for f in facts
        ],
        "position_law": [f.position_law for f in facts],
        "position_chapter": [f.position_chapter for f in facts],
        "chapter_size": [math.log1p(f.chapter_size) for f in facts],
        "law_size": [math.log1p(f.law_size) for f in facts],
        "text_length": [math.log1p(f.length) for f in facts],
        "is_general_part": [f.general_part for f in facts],
        "is_liability": [f.liability for f in facts],
        "level": [f.level for f in facts],
        "heading_overlap": [len(qset & f.heading_terms) / nq for f in facts],
        "text_overlap": [len(qset & f.text_terms) / nq for f in facts],
        "law_named": [stems_hit[f.law] for f in facts],
        "query_chars": math.log1p(len(question)),
        "query_terms": math.log1p(len(qset)),
        "query_penalty": penalty,
        "query_procedure": procedure,
        "query_names_law": names_law,
    }
    for j, name in enumerate(FEATURES):
        out[:, j] = np.asarray(cols[name], np.float32)
    return out


class Ranker:
    """A LightGBM ranking model over ``FEATURES`` (a small text file)."""

    def __init__(self, booster: Any, feature_names: Sequence[str] = FEATURES) -> None:
        self.booster = booster
        self.feature_names = tuple(feature_names)

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
        names = tuple(booster.feature_name())
        if names != FEATURES:
            from retrieval.errors import KBError

            raise KBError(
                f"排序模型 {path} 的特征与程序不一致",
                "重新训练：python bench/generalise.py --levers ranker（用 bench/rank.py 的 train）",
            )
        return cls(booster, names)

    def save(self, path: str | Path) -> None:
        # atomic: a half-written model must never be loaded (ingest/atomic.py once on main)
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.booster.model_to_string(), encoding="utf-8")
        os.replace(tmp, path)

    def score(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return np.asarray(self.booster.predict(x, num_threads=1), np.float64)

    def rerank(self, candidates: Sequence[Candidate], x: np.ndarray) -> list[tuple[str, float]]:
        """Candidates ordered by the model's score (ties keep the first-stage order)."""
        s = self.score(x)
        order = sorted(range(len(candidates)), key=lambda i: (-s[i], i))
        return [(candidates[i].article_id, float(s[i])) for i in order]


@dataclass(frozen=True)
class TrainParams:
    """LambdaRank settings. Small trees and strong regularisation: a few thousand
    questions from three sources are all there is to learn from."""

    num_leaves: int = 7
    learning_rate: float = 0.05
    rounds: int = 150
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 10.0
    seed: int = 13


def train(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    weights: Sequence[float] | None = None,
    params: TrainParams = TrainParams(),
) -> Ranker:
    """Fit a LambdaRank model on query groups of (features, 0/1 labels).

    Args:
        groups: per question, its candidate features and relevance labels; groups
            without a relevant candidate teach nothing and are dropped.
        weights: per question, its weight (balance the sources).
    """
    import lightgbm as lgb

    keep = [i for i, (_, y) in enumerate(groups) if y.sum() > 0 and len(y) > 1]
    if not keep:
        raise ValueError("no question with a relevant candidate to learn from")
    x = np.concatenate([groups[i][0] for i in keep])
    y = np.concatenate([groups[i][1] for i in keep])
    sizes = [len(groups[i][1]) for i in keep]
    w = None
    if weights is not None:
        w = np.concatenate([np.full(len(groups[i][1]), weights[i], np.float64) for i in keep])
    data = lgb.Dataset(
        x, label=y, group=sizes, weight=w, feature_name=list(FEATURES), free_raw_data=False
    )
    booster = lgb.train(
        {
            "objective": "lambdarank",
            "metric": "ndcg",
            "ndcg_eval_at": [10],
            "lambdarank_truncation_level": 30,
            "num_leaves": params.num_leaves,
            "learning_rate": params.learning_rate,
            "min_data_in_leaf": params.min_data_in_leaf,
            "feature_fraction": params.feature_fraction,
            "bagging_fraction": params.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": params.lambda_l2,
            "seed": params.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
        },
        data,
        num_boost_round=params.rounds,
    )
    return Ranker(booster)


def importances(ranker: Ranker) -> list[tuple[str, float]]:
    """Total gain per feature, largest first."""
    gain = ranker.booster.feature_importance(importance_type="gain")
    total = float(gain.sum()) or 1.0
    return sorted(
        ((n, float(g) / total) for n, g in zip(ranker.feature_names, gain, strict=True)),
        key=lambda p: -p[1],
    )
