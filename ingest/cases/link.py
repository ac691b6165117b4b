"""Resolve case citations to Article ids: current version, 款/项 kept, repealed laws flagged."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ingest.names import canonical_law, normalise_law, repealed
from ingest.records import Article, Case, Citation


@dataclass(frozen=True)
class Unresolved:
    """A citation that did not resolve, with the reason in Chinese."""

    case_id: str
    raw: str
    law: str
    article: str
    reason: str


@dataclass
class LinkReport:
    """Citation resolution per source (see ``source_key``)."""

    total: Counter[str] = field(default_factory=Counter)
    resolved: Counter[str] = field(default_factory=Counter)
    repealed: Counter[str] = field(default_factory=Counter)
    unresolved: list[Unresolved] = field(default_factory=list)

    def rate(self, source: str | None = None) -> float:
        """Share of citations resolved (all sources when ``source`` is None)."""
        if source is None:
            tot, res = sum(self.total.values()), sum(self.resolved.values())
        else:
            tot, res = self.total[source], self.resolved[source]
        return res / tot if tot else 0.0

    def lines(self) -> list[str]:
        """One line per source, in Chinese, for reports."""
        out = []
        for src in sorted(self.total):
            out.append(
                f"{src}: 引用 {self.total[src]} 条，解析 {self.resolved[src]} 条"
                f"（{self.rate(src):.1%}），引用已废止法律 {self.repealed[src]} 条"
            )
        return out


def source_key(case: Case) -> str:
    """Which source a case came from: lawrefbook / lawbench-3-8 / lawyer-llama / committee."""
    for prefix in ("lawrefbook", "lawbench-3-8", "lawyer-llama"):
        if case.id.startswith(prefix):
            return prefix
    return "committee"


class ArticleIndex:
    """Article lookup by (law, key), tolerant of aliases and title spellings."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.current: dict[tuple[str, str], Article] = {}
        self.any: dict[tuple[str, str], Article] = {}
        self.laws: set[str] = set()
        for a in articles:
            law = normalise_law(a.law)
            self.laws.add(law)
            k = (law, a.key)
            if a.current and (k not in self.current or a.status == "现行有效"):
                self.current[k] = a
            prev = self.any.get(k)
            if prev is None or (a.version or "") > (prev.version or ""):
                self.any[k] = a
        self._alias: dict[str, str | None] = {}

    def law_name(self, law: str) -> str | None:
        """The knowledge base's name for a cited law, or None when it holds no such law."""
        if law in self._alias:
            return self._alias[law]
        name = canonical_law(law)
        found: str | None = name if name in self.laws else None
        if found is None:
            # 《最高人民法院关于适用〈民事诉讼法〉的解释》 vs 最高人民法院关于适用民事诉讼法的解释 …
            bare = name.replace("最高人民法院", "")
            cands = [x for x in self.laws if x.replace("最高人民法院", "") == bare]
            if not cands and len(name) >= 6 and not repealed(name):
                cands = [
                    x for x in self.laws if len(x) >= 6 and (x.endswith(name) or name.endswith(x))
                ]
            if len(cands) == 1:
                found = cands[0]
            elif cands:
                found = min(cands, key=len)
        self._alias[law] = found
        return found

    def resolve(self, law: str, key: str) -> tuple[Article | None, str]:
        """(article, reason-if-not-found)."""
        name = self.law_name(law)
        if name is None:
            return None, "知识库中没有该法律"
        art = self.current.get((name, key)) or self.any.get((name, key))
        if art is None:
            return None, f"《{name}》中没有第{key}条（条号超出范围或版本不同）"
        return art, ""


def link_cases(
    cases: Sequence[Case], articles: Sequence[Article] | ArticleIndex
) -> tuple[list[Case], LinkReport]:
    """Fill ``Citation.resolved_id`` and ``repealed`` on every case's citations.

    A citation resolves to the current version of the cited article when the
    knowledge base holds it, else to the newest version it holds; a law that
    民法典 repealed is flagged ``repealed=True`` whether or not its old text is
    present. 款/项 stay in ``Citation.detail``.

    Returns:
        The cases with resolved citations (same order) and a LinkReport.
    """
    index = articles if isinstance(articles, ArticleIndex) else ArticleIndex(articles)
    report = LinkReport()
    out: list[Case] = []
    for case in cases:
        src = source_key(case)
        cited: list[Citation] = []
        for c in case.cited:
            report.total[src] += 1
            is_repealed = bool(c.law and repealed(c.law))
            if is_repealed:
                report.repealed[src] += 1
            if not c.law:
                report.unresolved.append(
                    Unresolved(case.id, c.raw, "", c.article, "引用未指明法律")
                )
                cited.append(dataclasses.replace(c, resolved_id="", repealed=False))
                continue
            art, reason = index.resolve(c.law, c.article)
            if art is not None:
                report.resolved[src] += 1
            else:
                if is_repealed:
                    reason = f"已废止法律（{repealed(c.law).ceased if repealed(c.law) else ''} 失效），知识库未收录其文本"  # type: ignore[union-attr]
                report.unresolved.append(Unresolved(case.id, c.raw, c.law, c.article, reason))
            cited.append(
                dataclasses.replace(c, resolved_id=art.id if art else "", repealed=is_repealed)
            )
        out.append(dataclasses.replace(case, cited=tuple(cited)))
    return out, report
