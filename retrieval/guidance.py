"""办理提示: reviewed rules per dispute type (``kb/guidance/*.toml``), checked against the loaded law.

A rule file holds one dispute type's trigger words and its points; every point names the
article it rests on and a span of that article quoted verbatim. ``Guide.resolve`` looks
each point's article up in the knowledge base; a point whose article is missing or whose
quote is not in the article's text is dropped and listed in ``Guide.dropped`` (a hint is
never shown without the law behind it). ``Guide.advise`` picks the points for one
question: those of its dispute type(s), the shared ones, and — shown first — those of
any risk sign the question carries (threats, 家暴, 自杀, 群体 …).

File layout (TOML, one file per type of ``ingest.records.DISPUTE_TYPES``)::

    type = "劳动劳务"
    triggers = ["工资", "工伤"]          # words that bring this type in besides the classifier
    [[points]]
    section = "时效"                     # 受理 / 时效 / 风险 / 转介 / 证据 / 协议
    text = "……plain Chinese……"
    law = "劳动争议调解仲裁法"           # normalised short name (ingest.names)
    article = "27"                       # eval key: "27", "133之一"
    quote = "劳动争议申请仲裁的时效期间为一年。"
    triggers = ["工资"]                  # optional: only when the question has one of these
    period = { years = 1, start = "离职日期" }   # optional: the calculator's period

``通用.toml`` holds the points for every type; ``风险.toml`` the risk signs (``[[risks]]``:
``kind``, ``words``, optional ``with`` — one of them must also occur —, ``unless`` —
words masked first — and ``unless_kinds`` — kinds found before that make this one moot)
and the risk points, each naming the ``risks`` it answers.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.cases.classify import classify
from ingest.records import DISPUTE_TYPES, Article, Citation
from retrieval.config import MAX_TYPES, SECOND_TYPE_HITS
from retrieval.deadlines import Period
from retrieval.errors import GuidanceError
from retrieval.index_folder import REPO

log = logging.getLogger(__name__)

RULES_DIR = REPO / "kb" / "guidance"
COMMON = "通用"
RISK = "风险"

SECTIONS: tuple[str, ...] = ("风险", "受理", "时效", "转介", "证据", "协议")
"""Section keys in the order a panel shows them (risk first); the JSON's ``section``."""
SECTION_TITLES: dict[str, str] = {
    "风险": "风险",
    "受理": "受理",
    "时效": "时效与期限",
    "转介": "转介",
    "证据": "证据与材料",
    "协议": "协议之后",
}


@dataclass(frozen=True)
class Rule:
    """One point as written in a rule file, not yet checked against the law."""

    id: str  # "<file stem>#<n>", n from 1 in file order
    section: str
    text: str
    law: str
    article: str
    quote: str
    triggers: tuple[str, ...] = ()
    period: Period | None = None
    risks: tuple[str, ...] = ()  # risk kinds this point answers (风险.toml only)


@dataclass(frozen=True)
class RiskSign:
    """A kind of risk and the words that show it.

    ``words`` are plain substrings, ``patterns`` regular expressions (a number of people,
    a weapon in someone's hands); ``with_words``: one of them must also occur (a family
    member, for 家暴); ``unless``: words masked before matching (砍价 is no threat).
    """

    kind: str
    words: tuple[str, ...]
    with_words: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    unless_kinds: tuple[str, ...] = ()  # not reported when one of these kinds was found first
    patterns: tuple[re.Pattern[str], ...] = ()

    def found(self, question: str) -> str | None:
        """The word showing this risk in ``question`` (None when there is none)."""
        masked = question
        for excluded in self.unless:
            masked = masked.replace(excluded, "□" * len(excluded))
        if self.with_words and not any(w in masked for w in self.with_words):
            return None
        word = next((w for w in self.words if w in masked), None)
        if word is not None:
            return word
        hit = next((m for m in (p.search(masked) for p in self.patterns) if m), None)
        return hit.group(0) if hit else None


@dataclass(frozen=True)
class RuleFile:
    name: str  # the dispute type, 通用 or 风险
    triggers: tuple[str, ...]
    rules: tuple[Rule, ...]
    risks: tuple[RiskSign, ...] = ()
    basis: tuple[Rule, ...] = ()  # what the deadline calculator rests on (通用.toml)


@dataclass(frozen=True)
class Point:
    """A rule whose article was found and whose quote is in the article's text."""

    rule: Rule
    article: Article
    origin: str  # the file it came from: a dispute type, 通用 or 风险

    @property
    def section(self) -> str:
        return self.rule.section

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.rule.section]

    @property
    def text(self) -> str:
        return self.rule.text

    @property
    def quote(self) -> str:
        return self.rule.quote

    @property
    def period(self) -> Period | None:
        return self.rule.period

    @property
    def citation(self) -> str:
        return self.article.citation


@dataclass(frozen=True)
class Dropped:
    """A rule not shown: its article is not in the knowledge base, or the quote is not in it."""

    rule: Rule
    reason: str

    def line(self) -> str:
        return f"{self.rule.id}（{self.rule.law} {self.rule.article}）：{self.reason}"


@dataclass(frozen=True)
class Found:
    """A risk sign found in a question."""

    kind: str
    word: str


@dataclass(frozen=True)
class Guidance:
    """The 办理提示 of one question: risk points first, then by section."""

    dispute_types: tuple[str, ...] = ()
    risks: tuple[Found, ...] = ()
    points: tuple[Point, ...] = ()
    basis: tuple[
        Point, ...
    ] = ()  # how the calculator counts (民法典 201–203), when a point has a period

    def section(self, key: str) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.section == key)

    @property
    def with_periods(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.period is not None)


# ---- reading the files ---------------------------------------------------------------


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise GuidanceError(f"{where}：{name} 应为非空字符串的列表", "按 kb/guidance 的格式改正")
    return tuple(value)


def _patterns(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for text in _strings(value, where, "patterns"):
        try:
            out.append(re.compile(text))
        except re.error as exc:
            raise GuidanceError(f"{where}：正则“{text}”写错了：{exc}", "改正 patterns") from exc
    return tuple(out)


def _period(value: Any, where: str) -> Period | None:
    if value is None:
        return None
    known = {"years", "months", "days", "start"}
    if not isinstance(value, dict) or set(value) - known or not value.get("start"):
        raise GuidanceError(
            f'{where}：period 应为 {{years|months|days = 整数, start = "起算日"}}',
            "按 kb/guidance 的格式改正",
        )
    nums = {k: value.get(k, 0) for k in ("years", "months", "days")}
    if not all(isinstance(n, int) and n >= 0 for n in nums.values()) or not any(nums.values()):
        raise GuidanceError(f"{where}：period 的年、月、日应为非负整数且不全为 0", "改正期间")
    return Period(start=str(value["start"]), **nums)


def _rule(raw: Any, stem: str, n: int, table: str = "points") -> Rule:
    where = f"kb/guidance/{stem}.toml [[{table}]] 第 {n} 个"
    if not isinstance(raw, dict):
        raise GuidanceError(f"{where}：格式不对", "每个要点写成 [[points]] 表")
    for key in ("section", "text", "law", "article", "quote"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise GuidanceError(
                f"{where}：缺少 {key}", "每个要点都要有 section、text、law、article、quote"
            )
    if raw["section"] not in SECTION_TITLES:
        raise GuidanceError(
            f"{where}：section“{raw['section']}”不认识", f"可选：{'、'.join(SECTIONS)}"
        )
    unknown = set(raw) - {
        "section",
        "text",
        "law",
        "article",
        "quote",
        "triggers",
        "period",
        "risks",
    }
    if unknown:
        raise GuidanceError(f"{where}：多余的字段 {'、'.join(sorted(unknown))}", "删去或改正拼写")
    return Rule(
        id=f"{stem}#{n}" if table == "points" else f"{stem}#{table}{n}",
        section=raw["section"],
        text=raw["text"].strip(),
        law=raw["law"].strip(),
        article=str(raw["article"]).strip(),
        quote=raw["quote"],
        triggers=_strings(raw.get("triggers"), where, "triggers"),
        period=_period(raw.get("period"), where),
        risks=_strings(raw.get("risks"), where, "risks"),
    )


def _risk_sign(raw: Any, path: Path) -> RiskSign:
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise GuidanceError(f"{path}：[[risks]] 缺少 kind", "每个风险类别写 kind 和 words")
    where = f"{path} 风险“{raw['kind']}”"
    unknown = set(raw) - {"kind", "words", "with", "unless", "unless_kinds", "patterns"}
    if unknown:
        raise GuidanceError(f"{where}：多余的字段 {'、'.join(sorted(unknown))}", "删去或改正拼写")
    return RiskSign(
        kind=raw["kind"],
        words=_strings(raw.get("words"), where, "words"),
        with_words=_strings(raw.get("with"), where, "with"),
        unless=_strings(raw.get("unless"), where, "unless"),
        unless_kinds=_strings(raw.get("unless_kinds"), where, "unless_kinds"),
        patterns=_patterns(raw.get("patterns"), where),
    )


def read_rule_file(path: Path) -> RuleFile:
    """One rule file; GuidanceError (one line, file and point) when it is malformed."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GuidanceError(
            f"办理提示规则文件 {path} 读不了：{exc}", "改正该文件的 TOML 格式"
        ) from exc
    stem = path.stem
    name = data.get("type", stem)
    if name != stem:
        raise GuidanceError(f"{path}：type“{name}”与文件名不一致", "文件名用纠纷类型命名")
    rules = tuple(_rule(raw, stem, n) for n, raw in enumerate(data.get("points", []), 1))
    risks = tuple(_risk_sign(r, path) for r in data.get("risks", []))
    basis = tuple(_rule(raw, stem, n, "basis") for n, raw in enumerate(data.get("basis", []), 1))
    triggers = _strings(data.get("triggers"), str(path), "triggers")
    return RuleFile(name, triggers, rules, risks, basis)


def read_rules(folder: Path = RULES_DIR) -> dict[str, RuleFile]:
    """Every rule file: one per dispute type, plus 通用 and 风险; GuidanceError when one is missing."""
    files = {p.stem: read_rule_file(p) for p in sorted(Path(folder).glob("*.toml"))}
    missing = [t for t in (*DISPUTE_TYPES, COMMON, RISK) if t not in files]
    if missing:
        raise GuidanceError(
            f"办理提示规则缺少文件：{'、'.join(f'{m}.toml' for m in missing)}（{folder}）",
            "每个纠纷类型一个规则文件",
        )
    extra = [t for t in files if t not in (*DISPUTE_TYPES, COMMON, RISK)]
    if extra:
        raise GuidanceError(
            f"办理提示规则文件名不是纠纷类型：{'、'.join(extra)}（{folder}）",
            f"可选：{'、'.join(DISPUTE_TYPES)}",
        )
    return files


# ---- checking against the law and matching a question ---------------------------------

Lookup = Callable[[str, str], "Article | None"]


def check_rule(rule: Rule, article: Article | None) -> str:
    """Why ``rule`` cannot be shown against ``article`` ("" when it can)."""
    if article is None:
        return "知识库中没有这一条"
    if rule.quote not in article.text:
        return "引文不在该条原文中（条文可能已修改）"
    return ""


def _hits(words: Iterable[str], question: str) -> int:
    return sum(1 for w in words if w in question)


class Guide:
    """The rule files checked against one knowledge base, ready to advise on questions."""

    def __init__(self, files: dict[str, RuleFile], lookup: Lookup) -> None:
        self.files = files
        points: dict[str, list[Point]] = {}
        dropped: list[Dropped] = []
        basis: list[Point] = []
        for name, rule_file in files.items():
            for rule in (*rule_file.rules, *rule_file.basis):
                article = lookup(rule.law, rule.article)
                reason = check_rule(rule, article)
                if reason:
                    dropped.append(Dropped(rule, reason))
                    continue
                assert article is not None
                point = Point(rule, article, name)
                if rule in rule_file.basis:
                    basis.append(point)
                else:
                    points.setdefault(name, []).append(point)
        self.points = {k: tuple(v) for k, v in points.items()}
        self.basis = tuple(basis)  # what the deadline calculator rests on: 民法典 201–203
        self.dropped = tuple(dropped)
        self.signs = files[RISK].risks if RISK in files else ()
        for d in self.dropped:
            log.warning("办理提示要点未显示：%s", d.line())

    @classmethod
    def load(cls, lookup: Lookup, folder: Path = RULES_DIR) -> Guide:
        return cls(read_rules(folder), lookup)

    def risks(self, question: str) -> tuple[Found, ...]:
        """The risk signs in ``question``, in the order of ``风险.toml``."""
        found: list[Found] = []
        for sign in self.signs:
            if any(f.kind in sign.unless_kinds for f in found):
                continue
            word = sign.found(question)
            if word is not None:
                found.append(Found(sign.kind, word))
        return tuple(found)

    def types_for(self, question: str, classified: str) -> tuple[str, ...]:
        """The dispute types whose points the question gets (at most ``MAX_TYPES``).

        The classifier's type comes first, unless none of its trigger words is in the
        question while another type has ``SECOND_TYPE_HITS`` of its own (the classifier
        also weighs the laws of the top articles, which can pull 工地摔伤 to 合同借贷).
        Another type joins with ``SECOND_TYPE_HITS`` trigger words; ``其他`` only when
        nothing else fits.
        """
        hits = {
            t: _hits(self.files[t].triggers, question)
            for t in DISPUTE_TYPES
            if t in self.files and t != "其他"
        }
        ranked = sorted(hits, key=lambda t: (-hits[t], DISPUTE_TYPES.index(t)))
        chosen: list[str] = []
        best = ranked[0] if ranked else ""
        if classified in hits and (hits[classified] or hits.get(best, 0) < SECOND_TYPE_HITS):
            chosen.append(classified)
        for t in ranked:
            if t not in chosen and hits[t] >= (SECOND_TYPE_HITS if chosen else 1):
                chosen.append(t)
        return tuple(chosen[:MAX_TYPES]) or ("其他",)

    def advise(self, question: str, classified: str) -> Guidance:
        """The points for ``question``: risk ones first, then by section (see ``SECTIONS``)."""
        risks = self.risks(question)
        types = self.types_for(question, classified)
        kinds = {r.kind for r in risks}
        chosen: list[Point] = [p for p in self.points.get(RISK, ()) if kinds & set(p.rule.risks)]
        for name in (*types, COMMON):
            for p in self.points.get(name, ()):
                if not p.rule.triggers or any(w in question for w in p.rule.triggers):
                    chosen.append(p)
        seen: set[tuple[str, str]] = set()
        unique = []
        for p in chosen:
            key = (p.article.id, p.rule.quote)
            if key not in seen:
                seen.add(key)
                unique.append(p)
        unique.sort(key=lambda p: SECTIONS.index(p.section))  # stable: file order within
        basis = self.basis if any(p.period for p in unique) else ()
        return Guidance(types, risks, tuple(unique), basis)


def question_type(question: str, articles: Sequence[Article], chosen: Sequence[str] = ()) -> str:
    """The question's dispute type as the search classifies it for similar cases: its words
    and the laws of its top three articles; a single type chosen in the filters wins."""
    if len(chosen) == 1:
        return chosen[0]
    top = articles[:3]
    return classify(question, [Citation(a.citation, a.law, a.key) for a in top]).dispute_type


@dataclass
class GuideCache:
    """One ``Guide`` per knowledge base, made on first use (reading ~15 small files)."""

    lookup: Lookup
    folder: Path = RULES_DIR
    _guide: Guide | None = field(default=None, init=False)

    def get(self) -> Guide:
        if self._guide is None:
            self._guide = Guide.load(self.lookup, self.folder)
        return self._guide
