"""Plain records that travel from ingest to retrieval to the UI: Article, Case, Citation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Status = Literal["现行有效", "已修改", "已废止", "尚未施行"]
STATUSES: tuple[str, ...] = ("现行有效", "已修改", "已废止", "尚未施行")

CaseKind = Literal["调解案例", "典型案例", "法律咨询"]
CASE_KINDS: tuple[str, ...] = ("调解案例", "典型案例", "法律咨询")

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
    """

    raw: str
    law: str | None
    article: str
    detail: str = ""
    start: int = 0
    end: int = 0
    repealed: bool = False  # the cited law is one that has ceased to be in force
    resolved_id: str = ""  # Article.id when resolved against a knowledge base

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Citation:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Case:
    """A resolved dispute: a mediation record, a court typical case or an answered consultation.

    ``sections`` holds (canonical section name, text) pairs in document order; the
    canonical names are those of ``ingest.cases.sections.SECTION_NAMES`` (基本案情,
    争议焦点, 调解过程, 裁判理由, 调解结果, 裁判结果, 协议内容, 履行情况, 典型意义, 要点,
    问题, 回答 …). Text is already anonymised.
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

    def section(self, *names: str) -> str:
        """Text of the first present section among ``names`` ("" if none)."""
        for want in names:
            for name, text in self.sections:
                if name == want:
                    return text
        return ""

    @property
    def facts(self) -> str:
        return self.section("基本案情", "问题")

    @property
    def outcome(self) -> str:
        return self.section("调解结果", "协议内容", "裁判结果", "回答")

    @property
    def text(self) -> str:
        return "\n".join(f"{name}：{body}" for name, body in self.sections)

    @property
    def cited_ids(self) -> tuple[str, ...]:
        return tuple(c.resolved_id for c in self.cited if c.resolved_id)

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
    """

    where: str
    reason: str
    hint: str = ""
    kind: str = "warning"  # short machine-readable category, e.g. empty, encoding, no-articles

    def __str__(self) -> str:
        hint = f" 建议：{self.hint}" if self.hint else ""
        return f"{self.where}: {self.reason}{hint}"


@dataclass
class IngestReport:
    """What an ingest run found: counts plus every problem, by file."""

    documents: int = 0
    articles: int = 0
    cases: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "x.txt: decoded as GB18030"

    def warn(self, where: str, reason: str, hint: str = "", kind: str = "warning") -> None:
        self.problems.append(Problem(where, reason, hint, kind))
