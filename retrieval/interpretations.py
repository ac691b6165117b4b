"""Judicial interpretations linked to the articles they refine: by number, and by subject.

An interpretation article often refines a general article without naming it:
婚姻家庭编解释（一）第三十四条 (a debt run up gambling is not a joint debt) sits beside
民法典第一千零六十四条 (what a joint debt is) but cites no number. It is linked here by
what both are about: the interpretation's own words and chapter heading (三、夫妻关系)
against the articles of the law it interprets, restricted to the part it names
(婚姻家庭编 → 第五编 婚姻家庭). Words are compared as character bigrams weighted by
their rarity (tf-idf cosine), so 夫妻共同债务 decides and 人民法院不予支持 does not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ingest.chinese import HAN_RUN
from ingest.records import Article
from retrieval.config import MAX_DF_SHARE, MIN_DF_CAP, SUBJECT_MARGIN, SUBJECT_THRESHOLD

CIVIL_CODE = "民法典"
_PARTS = ("总则", "物权", "合同", "人格权", "婚姻家庭", "继承", "侵权责任")
_PART = re.compile("(" + "|".join(_PARTS) + ")编")
# Numbering of headings and citations of article numbers: never subject words.
_NUMBERING = re.compile(
    r"^(?:第[一二三四五六七八九十百零〇]+[编章节分编]+|[一二三四五六七八九十]+、)\s*"
)
_NUMBERS = re.compile(
    r"第[一二三四五六七八九十百千零〇两\d]+[条款项]|[（(][一二三四五六七八九十]+[)）]"
)

Via = Literal["number", "subject"]


@dataclass(frozen=True)
class Related:
    """An interpretation article linked to an article, and how: it cites the article's
    number (``"number"``), or its words match the article's (``"subject"``, with the cosine)."""

    article: Article
    via: Via
    score: float = 1.0


def is_interpretation(article: Article) -> bool:
    """A 司法解释 (or a 最高人民法院 规定 published as one)."""
    return article.level == "司法解释" or article.law.startswith("最高人民法院")


def interpreted(law: str) -> tuple[str, str] | None:
    """(law interpreted, part of it) from an interpretation's name, or None when unknown.

    关于适用民法典婚姻家庭编的解释（一） → (民法典, 婚姻家庭); 关于审理物业服务纠纷案件…的解释 →
    (民法典, ""): since 2021 the civil interpretations refine 民法典; 关于适用民事诉讼法的解释 →
    (民事诉讼法, "").
    """
    if "民事诉讼法" in law:
        return "民事诉讼法", ""
    if CIVIL_CODE in law:
        m = _PART.search(law)
        return CIVIL_CODE, m.group(1) if m else ""
    if "关于审理" in law and ("纠纷" in law or "赔偿" in law or "借贷" in law):
        return CIVIL_CODE, ""
    if "侵权" in law:
        return CIVIL_CODE, "侵权责任"
    return None


def subject_text(article: Article) -> str:
    """What an article is about, for comparison: its last heading and its text, no numbers."""
    heading = _NUMBERING.sub("", article.path[-1]) if article.path else ""
    return "".join(HAN_RUN.findall(_NUMBERS.sub("", f"{heading}。{article.text}")))


def _bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


class InterpretationLinks:
    """Both directions of the interpretation ↔ article links of one set of articles.

    Args:
        articles: every article of the knowledge base (only current ones are linked).
        by_number: article id → ids of interpretation articles citing it by number
            (``Catalogue.citing_articles``); kept first in ``related``.
    """

    def __init__(
        self,
        articles: Iterable[Article],
        by_number: dict[str, Sequence[str]] | None = None,
        *,
        threshold: float = SUBJECT_THRESHOLD,
        margin: float = SUBJECT_MARGIN,
    ) -> None:
        current = [a for a in articles if a.current]
        self._by_id = {a.id: a for a in current}
        self.threshold = threshold
        self.margin = margin
        self.scores: dict[str, list[tuple[str, float]]] = {}
        """Interpretation article id → (article id, cosine) of its best candidates, best first."""
        self._subject: dict[str, list[tuple[str, float]]] = {}
        self._refines: dict[str, list[str]] = {}
        self._number: dict[str, list[str]] = {k: list(v) for k, v in (by_number or {}).items()}
        self._link(current)

    def _link(self, current: Sequence[Article]) -> None:
        scopes: dict[tuple[str, str], list[Article]] = {}
        by_law: dict[str, list[Article]] = {}
        for a in current:
            by_law.setdefault(a.law, []).append(a)
        interp = [a for a in current if is_interpretation(a)]
        for a in interp:
            target = interpreted(a.law)
            if target is None or target[0] not in by_law:
                continue
            law, part = target
            if (law, part) not in scopes:
                pool = by_law[law]
                if part:
                    pool = [b for b in pool if b.path and part in b.path[0]] or pool
                scopes[(law, part)] = pool
        if not scopes:
            return
        compared = {b.id: b for pool in scopes.values() for b in pool} | {a.id: a for a in interp}
        vectors = {i: _bigrams(subject_text(b)) for i, b in compared.items()}
        df: Counter[str] = Counter()
        for v in vectors.values():
            df.update(v.keys())
        n = len(vectors)
        idf = {
            g: math.log((n + 1) / (c + 1))
            for g, c in df.items()
            if c <= max(MIN_DF_CAP, MAX_DF_SHARE * n)
        }
        weighted = {
            i: {g: tf * idf[g] for g, tf in v.items() if g in idf} for i, v in vectors.items()
        }
        norm = {i: math.sqrt(sum(w * w for w in v.values())) or 1.0 for i, v in weighted.items()}
        for (law, part), pool in scopes.items():
            postings: dict[str, list[tuple[str, float]]] = {}
            for b in pool:
                for g, w in weighted[b.id].items():
                    postings.setdefault(g, []).append((b.id, w))
            for a in interp:
                if interpreted(a.law) != (law, part):
                    continue
                acc: dict[str, float] = {}
                for g, w in weighted[a.id].items():
                    for bid, wb in postings.get(g, ()):
                        acc[bid] = acc.get(bid, 0.0) + w * wb
                ranked = sorted(
                    ((bid, s / (norm[a.id] * norm[bid])) for bid, s in acc.items()),
                    key=lambda p: (-p[1], p[0]),
                )[:10]
                self.scores[a.id] = [(bid, round(s, 4)) for bid, s in ranked]
                if not ranked or ranked[0][1] < self.threshold:
                    continue
                (bid, best), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
                if runner_up <= self.margin * best:
                    self._subject.setdefault(bid, []).append((a.id, round(best, 4)))
                    self._refines.setdefault(a.id, []).append(bid)
        for links in self._subject.values():
            links.sort(key=lambda p: -p[1])

    def related(self, article_id: str) -> list[Related]:
        """Interpretation articles about ``article_id``: citing it by number first, then by
        subject (best first); each once."""
        out: list[Related] = []
        seen: set[str] = set()
        for iid in self._number.get(article_id, ()):
            found = self._by_id.get(iid)
            if found is not None and is_interpretation(found) and iid not in seen:
                seen.add(iid)
                out.append(Related(found, "number"))
        for iid, score in self._subject.get(article_id, ()):
            if iid not in seen:
                seen.add(iid)
                out.append(Related(self._by_id[iid], "subject", score))
        return out

    def refines(self, interpretation_id: str) -> list[str]:
        """Id of the article an interpretation article is linked to by subject ([] if none)."""
        return list(self._refines.get(interpretation_id, ()))


def lift(
    fused: dict[str, float],
    links: InterpretationLinks,
    weight: float,
    allows: Callable[[Article], bool] = lambda _: True,
    top: int = 10,
) -> dict[str, float]:
    """Ranking evidence from the links (issue 21): an interpretation article linked to one
    of the ``top`` fused articles gains ``weight`` × that article's score (× the link's
    cosine for a link by subject), so the specific rule rises beside the general one.
    Off unless ``SearchConfig.interpretation_lift`` > 0; ``allows`` applies the filters."""
    if weight <= 0 or not fused:
        return fused
    out = dict(fused)
    for aid in sorted(fused, key=lambda d: -fused[d])[:top]:
        for rel in links.related(aid):
            if allows(rel.article):
                iid = rel.article.id
                out[iid] = max(
                    out.get(iid, 0.0), fused.get(iid, 0.0) + weight * fused[aid] * rel.score
                )
    return out
