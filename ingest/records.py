"""Plain records that travel from ingest to retrieval to the UI: Article, Case, Citation."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ingest.printable import printable

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

    @property
    def full_text(self) -> str:
        """Label and body as printed in the code book."""
        return f"{self.label}　{self.text}"

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
