"""Resolve case citations to Article ids and give each a verdict; counts per source for the build report."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ingest.cases.questions import question_source
from ingest.cases.verdicts import Vocabulary, judge
from ingest.names import canonical_law, normalise_law, repealed
from ingest.records import LABELLED, VERDICTS, Article, Case, Citation


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
    verdicts: dict[str, Counter[str]] = field(default_factory=dict)  # source → verdict → n
    quoted: Counter[str] = field(default_factory=Counter)  # citations whose quote was compared

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
            v = self.verdicts.get(src, Counter())
            out.append(
                f"{src}: 引用 {self.total[src]} 条，解析 {self.resolved[src]} 条"
                f"（{self.rate(src):.1%}），引用已废止法律 {self.repealed[src]} 条；"
                f"核对：相符 {v['ok']}，已废止 {v['repealed']}，知识库无此法律 {v['unknown_law']}，"
                f"未收录的法规 {v['not_held']}，"
                f"无此条 {v['unknown_article']}，引文不符 {v['misquoted']}，"
                f"引自旧版本 {v['older_version']}"
                f"（比对引文 {self.quoted[src]} 条）"
            )
        return out

    def count(self, source: str, verdict: str) -> int:
        """Citations of ``source`` that got ``verdict``."""
        return self.verdicts.get(source, Counter())[verdict]


def source_key(case: Case) -> str:
    """Which source a case came from: lawrefbook / lawbench-3-8 / lawyer-llama / precedent /
    committee, or for a labelled question its query set (equals, zixun …)."""
    if case.kind == LABELLED:
        return question_source(case.id)
    for prefix in ("lawrefbook", "lawbench-3-8", "lawyer-llama", "precedent"):
        if case.id.startswith(prefix):
            return prefix
    return "committee"


class ArticleIndex:
    """Article lookup by (law, key), tolerant of aliases and title spellings."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.current: dict[tuple[str, str], Article] = {}
        self.any: dict[tuple[str, str], Article] = {}
        self.laws: set[str] = set()
        self._versions: dict[tuple[str, str], list[Article]] = {}
        self._by_law: dict[str, list[Article]] = {}
        self.by_id: dict[str, Article] = {}
        for a in articles:
            self.by_id[a.id] = a
            law = normalise_law(a.law)
            self.laws.add(law)
            k = (law, a.key)
            self._versions.setdefault(k, []).append(a)
            self._by_law.setdefault(law, []).append(a)
            if a.current and (k not in self.current or a.status == "现行有效"):
                self.current[k] = a
            prev = self.any.get(k)
            if prev is None or (a.version or "") > (prev.version or ""):
                self.any[k] = a
        self._alias: dict[str, str | None] = {}
        self._vocabulary: dict[str, Vocabulary] = {}

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

    def versions_of(self, article: Article) -> list[Article]:
        """Every version of ``article`` the index holds (itself included)."""
        return self._versions.get((normalise_law(article.law), article.key), [article])

    def vocabulary(self, law: str) -> Vocabulary:
        """Bigram document frequencies over the articles of ``law`` (built on first use)."""
        name = normalise_law(law)
        if name not in self._vocabulary:
            self._vocabulary[name] = Vocabulary.of(self._by_law.get(name, ()))
        return self._vocabulary[name]

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
    """Resolve every case citation and give it a verdict (see ``ingest.cases.verdicts``).

    A citation resolves to the current version of the cited article when the
    knowledge base holds it, else to the newest version it holds (or to the
    version its quote matches); a law that 民法典 repealed is flagged
    ``repealed=True`` whether or not its old text is present. 款/项 stay in
    ``Citation.detail``.

    Returns:
        The cases with checked citations (same order) and a LinkReport.
    """
    index = articles if isinstance(articles, ArticleIndex) else ArticleIndex(articles)
    report = LinkReport()
    out: list[Case] = []
    for case in cases:
        src = source_key(case)
        counts = report.verdicts.setdefault(src, Counter({v: 0 for v in VERDICTS}))
        cited: list[Citation] = []
        for c in case.cited:
            checked = judge(c, index, case_date=case.date)
            cited.append(checked)
            report.total[src] += 1
            counts[checked.verdict] += 1
            report.repealed[src] += checked.repealed
            report.quoted[src] += checked.similarity is not None
            if checked.resolved_id:
                report.resolved[src] += 1
            else:
                report.unresolved.append(
                    Unresolved(case.id, c.raw, c.law or "", c.article, _reason(c, index))
                )
        out.append(dataclasses.replace(case, cited=tuple(cited)))
    return out, report


def _reason(c: Citation, index: ArticleIndex) -> str:
    if not c.law:
        return "引用未指明法律"
    gone = repealed(c.law)
    if gone is not None:
        return f"已废止法律（{gone.ceased} 失效），知识库未收录其文本"
    return index.resolve(c.law, c.article)[1]
