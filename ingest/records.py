"""Plain records that travel from ingest to retrieval to the UI: Article, Case, Citation."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ingest.printable import printable

Status = Literal["现行有效", "已修改", "已废止", "尚未施行"]
STATUSES: tuple[str, ...] = ("现行有效", "已修改", "已废止", "尚未施行")

# What a case is, shown to users as its badge. Values changed in issue 11 (the
# old ones on the right still load, see ``Case.__post_init__``):
#   调解案例                     ← 调解案例   a mediation committee's own record
#   法院典型案例                 ← 典型案例   a typical case published officially
#   法律咨询解答                 ← 法律咨询   a consultation answered by a person (LawBench 3-8)
#   AI 生成解答（未经核实）      ← 法律咨询   an answer a language model wrote (lawyer-llama)
#   标注问题                     a lay question with the articles people marked as governing
#                                it (a query file in the shared format): evidence for ranking
#                                articles only, never shown as a case
CaseKind = Literal[
    "调解案例", "法院典型案例", "法律咨询解答", "AI 生成解答（未经核实）", "标注问题"
]
MEDIATION: str = "调解案例"
TYPICAL: str = "法院典型案例"
CONSULTATION: str = "法律咨询解答"
AI_ANSWER: str = "AI 生成解答（未经核实）"
LABELLED: str = "标注问题"
# The kinds a user sees and filters by (labelled questions are never shown).
CASE_KINDS: tuple[str, ...] = (MEDIATION, TYPICAL, CONSULTATION, AI_ANSWER)
# What a mediator reads on a case's badge: who wrote it and whether anyone checked it, in
# plain words (datasets, licences and models are named in docs/sources.md, not on cards).
KIND_LABELS: dict[str, str] = {
    MEDIATION: "调解案例（本委员会记录）",
    TYPICAL: "法院典型案例（官方公布）",
    CONSULTATION: "法律咨询问答（公开数据集，未经核实）",
    AI_ANSWER: "AI 生成解答（未经核实）",
}
LEGACY_KINDS: dict[str, str] = {"典型案例": TYPICAL, "法律咨询": CONSULTATION}
# The provenance of another committee's record shared through the county store begins so
# (来自清河镇东村人民调解委员会); its badge names that committee, not 本委员会.
SHARED_FROM = "来自"

# How far a case's resolution can be relied on:
#   verified   the committee's own record of a dispute it resolved
#   official   published by a court or ministry as a typical case
#   unverified written by a person nobody here has checked (a consultation answer, a sample)
#   generated  written by a language model; never shown as a resolution
Trust = Literal["verified", "official", "unverified", "generated"]
TRUST_LEVELS: tuple[str, ...] = ("verified", "official", "unverified", "generated")
_KIND_TRUST: dict[str, Trust] = {
    MEDIATION: "verified",
    TYPICAL: "official",
    CONSULTATION: "unverified",
    AI_ANSWER: "generated",
    LABELLED: "unverified",
}

# A citation inside a case checked against the knowledge base (``ingest.cases.verdicts``):
#   ok               resolves to an article (its status is in ``Citation.status``)
#   repealed         names a law no longer in force (``Citation.successor`` governs now)
#   unknown_law      the knowledge base holds no law of that name, and the name is no real
#                    title (or a variant of a held law's): 可能有误
#   not_held         a real law or regulation the knowledge base does not hold:
#                    知识库未收录此法规 (not 可能有误; ``ingest.cases.verdicts.real_law``)
#   unknown_article  the law is held but has no such article: 可能有误
#   misquoted        the text the case quotes does not match the article
#   older_version    it does not match, but the case predates the text the knowledge base
#                    holds: the case quoted the version in force then (not 可能有误)
Verdict = Literal[
    "ok", "repealed", "unknown_law", "not_held", "unknown_article", "misquoted", "older_version"
]
VERDICTS: tuple[str, ...] = (
    "ok",
    "repealed",
    "unknown_law",
    "not_held",
    "unknown_article",
    "misquoted",
    "older_version",
)

# Dispute taxonomy shared by case ingest, the classifier and the UI filters.
DISPUTE_TYPES: tuple[str, ...] = (
    "婚姻家庭",
    "继承",
    "邻里关系",
    "房屋宅基地",
    "土地承包",
    "合同借贷",
    "损害赔偿",
    "劳动劳务",
    "物业服务",
    "消费维权",
    "道路交通",
    "医疗纠纷",
    "其他",
)


def article_key(number: int, suffix: str = "") -> str:
    """The eval-format article key: ``"1079"`` or ``"133之一"``."""
    return f"{number}{suffix}"


def article_id(law: str, number: int, suffix: str = "", version: str = "") -> str:
    """Stable id of an article: ``民法典:1079``; a non-current version adds ``@date``.

    Args:
        law: normalised short law name (see ``ingest.names.normalise_law``).
        number: article number.
        suffix: ``""`` or ``"之一"``, ``"之二"``…
        version: the version date (``YYYY-MM-DD``) for non-current versions, else ``""``.
    """
    at = f"@{version}" if version else ""
    return f"{law}{at}:{article_key(number, suffix)}"


@dataclass(frozen=True)
class Article:
    """One article (条) of a law, regulation or judicial interpretation, verbatim."""

    id: str
    law: str  # normalised short name, e.g. 民法典, 最高人民法院关于适用民法典婚姻家庭编的解释（一）
    law_title: str  # full title as published, e.g. 中华人民共和国民法典
    number: int
    suffix: str  # "" or 之一/之二…
    label: str  # 第一千零七十九条 / 第一百三十三条之一
    text: str  # the article body verbatim, without the leading label; 款 separated by "\n"
    path: tuple[str, ...] = ()  # 编/章/节 headings, outermost first
    source: str = ""  # file the text came from
    line: int = 0  # 1-based line of the label in that file
    status: str = "现行有效"
    level: str = ""  # 法律 / 行政法规 / 司法解释 / 地方性法规 / 部门规章 / 用户文件
    category: str = ""
    publish: str = ""  # 公布日期 YYYY-MM-DD
    valid_from: str = ""  # 施行日期 YYYY-MM-DD
    version: str = ""  # version date of this text (from file name or metadata)
    current: bool = True  # the newest version in force of its law

    @property
    def key(self) -> str:
        return article_key(self.number, self.suffix)

    @property
    def citation(self) -> str:
        """Standard citation form: 《中华人民共和国民法典》第一千零七十九条."""
        return f"《{self.law_title}》{self.label}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = list(self.path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["path"] = tuple(kw.get("path", ()))
        return cls(**kw)


@dataclass(frozen=True)
class Citation:
    """A citation found in text, e.g. 《劳动合同法》第三十八条第一款第（二）项.

    ``law`` is the normalised law name (``None`` when the text says 本法 with no
    known context); ``article`` the eval-format key (``"38"``, ``"133之一"``);
    ``detail`` keeps 款/项 for display (``"第一款第（二）项"``).

    Inside a case, ``section`` names where the citation was found and
    ``quotes`` holds the text the case attributes to the article (verbatim from
    the case). Linking against a knowledge base (``ingest.cases.link``) fills
    ``resolved_id``, ``verdict``, ``status``, ``successor`` and ``similarity``
    and puts the quote that matches worst first.
    """

    raw: str
    law: str | None
    article: str
    detail: str = ""
    start: int = 0
    end: int = 0
    repealed: bool = False  # the cited law is one that has ceased to be in force
    resolved_id: str = ""  # Article.id when resolved against a knowledge base
    section: str = ""  # the case section it was found in (回答, 法律依据 …)
    quotes: tuple[str, ...] = ()  # text the case gives as the article's words
    verdict: Verdict | Literal[""] = ""  # "" = not checked against a knowledge base
    status: str = ""  # status of the resolved article (现行有效, 已修改 …)
    successor: str = ""  # for a repealed law: the law that governs the subject now
    similarity: float | None = None  # worst quote's match with the article; None = no quote

    @property
    def quote(self) -> str:
        """The quote the verdict is about (the worst match after linking), or ""."""
        return self.quotes[0] if self.quotes else ""

    @property
    def flagged(self) -> bool:
        """The knowledge base contradicts or cannot confirm this citation: show 可能有误."""
        return self.verdict in ("unknown_law", "unknown_article", "misquoted")

    @property
    def verdict_note(self) -> str:
        """One line in Chinese saying what the check found, for the case card and exports."""
        law = f"《{self.law}》" if self.law else "所引法律"
        if self.verdict == "ok":
            checked = "引文与条文相符" if self.quotes else "知识库有此条"
            return f"✓ {checked}（{self.status or '现行有效'}）"
        if self.verdict == "repealed":
            now = f"，现行规定见《{self.successor}》" if self.successor else ""
            return f"{law}已废止{now}"
        if self.verdict == "unknown_law":
            return f"知识库中没有{law}，可能有误"
        if self.verdict == "not_held":
            return f"知识库未收录此法规（{law}），请查阅官方文本核对"
        if self.verdict == "unknown_article":
            return f"{law}没有第{self.article}条，可能有误"
        if self.verdict == "misquoted":
            sim = f"（相似度 {self.similarity:.0%}）" if self.similarity is not None else ""
            return f"引用的文字与{law}第{self.article}条原文不符{sim}，可能有误"
        if self.verdict == "older_version":
            return (
                f"本案早于{law}现行文本，所引文字与现行第{self.article}条不同，"
                "应是当时版本的条文；请以现行条文为准"
            )
        return "未核对"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["quotes"] = list(self.quotes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Citation:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["quotes"] = tuple(kw.get("quotes", ()))
        return cls(**kw)


# Sections that hold a resolution, best first, and what each is called on a card.
OUTCOME_SECTIONS: tuple[str, ...] = ("调解结果", "协议内容", "裁判结果")
# When a typical case has none, these stand in, in this order (see ``Case.result``).
# The court's own decision sentence (判令…) beats the holding (裁判要旨), which
# beats a decision told in the facts (earlier instances are told there too).
OUTCOME_FALLBACKS: tuple[str, ...] = ("裁判理由", "裁判要旨", "基本案情", "适用解析", "典型意义")
# A sentence that states what a court or tribunal decided (判决驳回…, 判令…赔偿, 裁定：拍卖…).
_DECISION = re.compile(r"判决|判令|改判|裁定|裁决|驳回|准予|予以支持|不予支持")
_NOT_DECISION = re.compile(r"不服|(?<!未提起)(?<!未)上诉|判决书|一审判决(?:后|时)|判决前")
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def decision_sentence(text: str) -> str:
    """The last sentence of ``text`` stating a decision, verbatim, or "".

    Typical cases told as a story (案情回顾) end with the court's decision
    (法院判决撤销……); the last such sentence is the final instance's.
    """
    found = ""
    for m in _SENTENCE.finditer(text):
        sent = m.group(0).strip()
        if _DECISION.search(sent) and not _NOT_DECISION.search(sent):
            found = sent
    return found


@dataclass(frozen=True)
class CaseResult:
    """What a case card shows as the case's result, and whether it is a real resolution.

    ``label`` is the heading to print (处理结果, 裁判要旨, 法律咨询解答, AI 解答（未经核实）…);
    ``resolution`` is True only for a resolution by an accountable body
    (verified or official trust), the only kind the answer panel may call 处理结果.
    """

    label: str
    text: str
    resolution: bool
    section: str = ""  # the case section the text comes from


def current_kind(kind: str, case_id: str = "", source: str = "") -> str:
    """The current value of a case kind, mapping the values used before issue 11.

    The old 法律咨询 covered both sources of answered consultations; the
    lawyer-llama ones were written by a language model.
    """
    if kind == "法律咨询" and (case_id.startswith("lawyer-llama") or "语言模型" in source):
        return AI_ANSWER
    return LEGACY_KINDS.get(kind, kind)


@dataclass(frozen=True)
class Case:
    """A resolved dispute: a mediation record, a court typical case or an answered consultation.

    ``sections`` holds (canonical section name, text) pairs in document order; the
    canonical names are those of ``ingest.cases.sections.SECTION_NAMES`` (基本案情,
    争议焦点, 调解过程, 裁判要旨, 裁判理由, 适用解析, 调解结果, 裁判结果, 协议内容, 履行情况,
    典型意义, 要点, 问题, 回答 …). Text is already anonymised.

    ``kind`` is one of CASE_KINDS (old values are mapped on construction);
    ``trust`` one of TRUST_LEVELS and ``provenance`` a line saying who wrote the
    case, where it comes from and under which licence; both default from the
    kind. Only a ``verified`` case has an ``outcome``: a consultation answer or
    a language model's text is never a resolution (see ``result``).
    """

    id: str
    kind: str  # one of CASE_KINDS
    title: str
    dispute_type: str  # one of DISPUTE_TYPES
    sections: tuple[tuple[str, str], ...] = ()
    cited: tuple[Citation, ...] = ()
    source: str = ""  # where it came from, with licence terms for third-party data
    date: str = ""  # YYYY-MM-DD or YYYY or ""
    region: str = ""
    parties: tuple[str, ...] = ()  # anonymised party names (张某, 某公司)
    dispute_type_origin: str = "metadata"  # metadata | classifier
    sample: bool = False  # written by the project as a sample, not a real record
    file: str = ""  # source file
    line: int = 0
    trust: Trust | Literal[""] = ""  # "" → from the kind
    provenance: str = ""  # who wrote it, source, licence; "" → the source

    def __post_init__(self) -> None:
        # Frozen: fill the derived defaults once, here, so every reader sees them.
        kind = current_kind(self.kind, self.id, self.source)
        if kind != self.kind:
            object.__setattr__(self, "kind", kind)
        if not self.trust:
            trust: Trust = "unverified" if self.sample else _KIND_TRUST.get(kind, "unverified")
            object.__setattr__(self, "trust", trust)
        if not self.provenance:
            object.__setattr__(self, "provenance", self.source or kind)

    def section(self, *names: str) -> str:
        """Text of the first present section among ``names`` ("" if none)."""
        for want in names:
            for name, text in self.sections:
                if name == want:
                    return text
        return ""

    @property
    def label(self) -> str:
        """Badge text: the kind in plain words, marked when the record is a project sample."""
        if self.sample:
            return f"{self.kind}（样例）"
        if self.kind == MEDIATION and self.provenance.startswith(SHARED_FROM):
            return f"{MEDIATION}（{self.provenance}）"
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def verified(self) -> bool:
        """Resolved by an accountable body (the committee, a court): its result is a resolution."""
        return self.trust in ("verified", "official")

    @property
    def facts(self) -> str:
        return self.section("基本案情", "问题")

    @property
    def reply(self) -> str:
        """A consultation's answer ("" for a resolved case)."""
        return self.section("回答")

    @property
    def result(self) -> CaseResult:
        """The case's result as a card shows it, labelled by what it is.

        A verified case gives its 调解结果 / 协议内容 / 裁判结果; an official typical
        case without one falls back to the decision sentence of 裁判理由, the
        裁判要旨, the decision sentence of 基本案情, then 适用解析 and 典型意义. A consultation gives its answer
        labelled 咨询解答（未经核实）, a language model's answer AI 解答（未经核实）;
        neither is a resolution.
        """
        if not self.verified:
            if self.kind == AI_ANSWER:
                return CaseResult("AI 解答（未经核实）", self.reply, False, "回答")
            if self.reply:
                return CaseResult("咨询解答（未经核实）", self.reply, False, "回答")
            for name in OUTCOME_SECTIONS:
                if text := self.section(name):
                    return CaseResult(f"{name}（样例）" if self.sample else name, text, False, name)
            return CaseResult("处理结果", "", False)
        for name in OUTCOME_SECTIONS:
            if text := self.section(name):
                return CaseResult("处理结果", text, True, name)
        if self.trust == "official":
            for name in OUTCOME_FALLBACKS:
                body = self.section(name)
                if name in ("裁判理由", "基本案情"):
                    if text := decision_sentence(body):
                        return CaseResult(f"裁判结果（摘自{name}）", text, True, name)
                elif body:
                    return CaseResult(name, body, True, name)
        return CaseResult("处理结果", "", True)

    @property
    def outcome(self) -> str:
        """The resolution ("" unless ``verified``): never a consultation's or a model's answer."""
        result = self.result
        return result.text if result.resolution else ""

    @property
    def text(self) -> str:
        return "\n".join(f"{name}：{body}" for name, body in self.sections)

    @property
    def cited_ids(self) -> tuple[str, ...]:
        return tuple(c.resolved_id for c in self.cited if c.resolved_id)

    @property
    def flagged(self) -> tuple[Citation, ...]:
        """Citations the knowledge base contradicts or cannot confirm (可能有误)."""
        return tuple(c for c in self.cited if c.flagged)

    def to_dict(self) -> dict[str, Any]:
        return {
            **{
                f.name: getattr(self, f.name)
                for f in fields(self)
                if f.name not in ("sections", "cited", "parties")
            },
            "sections": [list(s) for s in self.sections],
            "cited": [c.to_dict() for c in self.cited],
            "parties": list(self.parties),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["sections"] = tuple((str(a), str(b)) for a, b in kw.get("sections", ()))
        kw["cited"] = tuple(Citation.from_dict(c) for c in kw.get("cited", ()))
        kw["parties"] = tuple(kw.get("parties", ()))
        return cls(**kw)


@dataclass(frozen=True)
class Problem:
    """Something wrong with an input, reported in one line and never fatal to a build.

    ``where`` names the place precisely: ``path``, ``path:line`` or ``path (第3页)``.
    ``dropped`` says whether what it is about (a file, a row, an article) was left
    out; otherwise it was taken in with a caveat. Every text is made printable
    (control characters escaped), so a crafted file name cannot forge output.
    """

    where: str
    reason: str
    hint: str = ""
    kind: str = "warning"  # short machine-readable category, e.g. empty, encoding, no-articles
    dropped: bool = False

    def __post_init__(self) -> None:
        for name in ("where", "reason", "hint"):
            object.__setattr__(self, name, printable(getattr(self, name)))

    def __str__(self) -> str:
        hint = f" 建议：{self.hint}" if self.hint else ""
        return f"{self.where}: {self.reason}{hint}"

    def about(self, path: str) -> bool:
        """True when this problem is about the file ``path`` (or a line, page or part of it)."""
        p = printable(path)
        w = self.where
        return w == p or (w.startswith(p) and w[len(p)] in ": (")


# Kinds of problem that mean "left out because something equal came first".
DUPLICATE_KINDS = frozenset({"duplicate", "duplicate-file"})


@dataclass(frozen=True)
class FileReport:
    """What one input file gave: how much was read, taken in, left out and why.

    ``read`` counts rows (CSV), lines (JSONL, statute text), elements (JSON arrays),
    paragraphs (DOCX) or pages (PDF), as ``unit`` says; ``imported`` counts cases or
    articles, as ``item`` says. ``rejected`` and ``duplicates`` hold one problem per
    row or article left out (or one for the whole file); ``warnings`` the rest.
    """

    path: str
    kind: str  # the reader: csv, jsonl, docx, pdf, markdown, txt, lawbench-3-8, lawyer-llama, lawrefbook
    read: int = 0
    imported: int = 0
    rejected: tuple[Problem, ...] = ()
    duplicates: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    unit: str = "行"
    item: str = "件"

    @classmethod
    def collect(
        cls,
        path: str,
        kind: str,
        problems: list[Problem],
        *,
        read: int,
        imported: int,
        unit: str = "行",
        item: str = "件",
    ) -> FileReport:
        """A report from the problems met while reading ``path`` (all of them about it)."""
        return cls(
            path=path,
            kind=kind,
            read=read,
            imported=imported,
            rejected=tuple(p for p in problems if p.dropped and p.kind not in DUPLICATE_KINDS),
            duplicates=tuple(p for p in problems if p.dropped and p.kind in DUPLICATE_KINDS),
            warnings=tuple(p for p in problems if not p.dropped),
            unit=unit,
            item=item,
        )

    @property
    def name(self) -> str:
        return printable(self.path.replace("\\", "/").rsplit("/", 1)[-1])

    def summary(self) -> str:
        """One Chinese line: ``records.csv（CSV）：读取 5 行，导入 3 件，未导入 2 行（第 3、4 行）``."""
        head = f"{self.name}（{_KIND_NAMES.get(self.kind, self.kind)}）"
        left = self.rejected + self.duplicates
        whole = next((p for p in left if not _line_of(p.where, self.path)), None)
        if whole is not None and not self.imported:
            return f"{head}：未导入（{_LEFT_OUT.sub('', whole.reason)}）"
        parts = [f"读取 {self.read} {self.unit}", f"导入 {self.imported} {self.item}"]
        if self.rejected:
            parts.append(
                f"未导入 {len(self.rejected)} {self.unit}{_lines(self.rejected, self.path)}"
            )
        if self.duplicates:
            parts.append(
                f"重复 {len(self.duplicates)} {self.unit}{_lines(self.duplicates, self.path)}"
            )
        if self.warnings:
            parts.append(f"提示 {len(self.warnings)} 条")
        return f"{head}：" + "，".join(parts)

    def lines(self) -> list[str]:
        """The summary, then one indented line per problem (rejected, duplicate, warning)."""
        return [self.summary()] + [
            f"  {p}" for p in (*self.rejected, *self.duplicates, *self.warnings)
        ]


# The "…, left out" tail of a reason, redundant after 未导入.
_LEFT_OUT = re.compile(r"[，,]?\s*(?:已跳过|未导入|未收录|未打开|未读取)$")
_KIND_NAMES = {
    "csv": "CSV",
    "jsonl": "JSONL",
    "docx": "DOCX",
    "pdf": "PDF",
    "markdown": "Markdown",
    "txt": "TXT",
    "lawbench-3-8": "LawBench 3-8",
    "lawyer-llama": "lawyer-llama",
    "lawrefbook": "典型案例文件夹",
}


def _line_of(where: str, path: str) -> str:
    """``"12"`` from ``path:12``, ``"3页"`` from ``path (第3页)``; ``""`` for the file as a whole."""
    rest = where[len(printable(path)) :]
    if rest.startswith(":"):
        return rest[1:]
    if rest.startswith(" (第") and rest.endswith(")"):
        return rest[3:-1]
    return ""


def _lines(problems: tuple[Problem, ...], path: str, show: int = 5) -> str:
    """``（第 3、4 行）``: where the left-out rows are, the first few of them."""
    at = [x for x in (_line_of(p.where, path) for p in problems) if x]
    if not at:
        return ""
    more = f" 等 {len(at)} 处" if len(at) > show else ""
    unit = "" if not at[0].isdigit() else " 行"
    return f"（第 {'、'.join(at[:show])}{unit}{more}）"


@dataclass
class IngestReport:
    """What an ingest run found: counts, every problem, and a report per file."""

    documents: int = 0
    articles: int = 0
    cases: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "x.txt: decoded as GB18030"
    files: list[FileReport] = field(default_factory=list)
    read: int = 0  # rows, lines or elements a reader went through (per-file reports use it)

    def warn(
        self,
        where: str,
        reason: str,
        hint: str = "",
        kind: str = "warning",
        *,
        dropped: bool = False,
    ) -> None:
        self.problems.append(Problem(where, reason, hint, kind, dropped))

    def reject(self, where: str, reason: str, hint: str = "", kind: str = "warning") -> None:
        """Report something left out (a file, a row, an article)."""
        self.warn(where, reason, hint, kind, dropped=True)

    def note(self, text: str) -> None:
        self.notes.append(printable(text))

    def lines(self, *, every_file: bool = False) -> list[str]:
        """Everything to show a user, in Chinese, one string a line, control characters escaped.

        Each file with something left out or a warning: its summary, its problems
        indented below it; the files read cleanly in one line (each one with
        ``every_file``); then problems about no single file (a missing folder);
        then the notes.
        """
        out: list[str] = []
        shown: set[Problem] = set()
        clean = [f for f in self.files if not (f.rejected or f.duplicates or f.warnings)]
        quiet = {id(f) for f in clean}
        for f in self.files:
            if every_file or id(f) not in quiet:
                out.extend(f.lines())
            shown.update((*f.rejected, *f.duplicates, *f.warnings))
        if clean and not every_file:
            totals: dict[str, int] = {}
            for f in clean:
                totals[f.item] = totals.get(f.item, 0) + f.imported
            counted = "、".join(f"{n} {item}" for item, n in totals.items())
            out.append(f"另有 {len(clean)} 个文件全部读入（共 {counted}）")
        out.extend(str(p) for p in self.problems if p not in shown)
        out.extend(printable(n) for n in self.notes)
        return out
