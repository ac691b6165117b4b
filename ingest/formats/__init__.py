"""Format-neutral parse results and the helpers every statute reader shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest.names import article_label
from ingest.records import Problem

# Bump when a parser changes its output, so cached parses are redone.
PARSER_VERSION = 3

# Problem kinds after which a file yields nothing (so "no articles" is not reported too).
FATAL_KINDS = frozenset(
    {"binary", "undecodable", "encrypted", "needs-ocr", "corrupt", "parse-error"}
)


@dataclass(frozen=True)
class RawArticle:
    """One article as found in a file, before law-level metadata is attached."""

    number: int
    suffix: str
    text: str  # body without the label, 款 joined with "\n"
    path: tuple[str, ...] = ()
    line: int = 0  # 1-based: line (Markdown, TXT), paragraph (DOCX) or page (PDF) of the label

    @property
    def label(self) -> str:
        return article_label(self.number, self.suffix)


@dataclass(frozen=True)
class RawDocument:
    """What one file holds: title, header lines, articles and the problems met."""

    source: str
    format: str  # markdown | docx | pdf | txt
    title: str = ""
    part: str = ""  # second title line of a law split over files (民法典: 婚姻家庭编)
    info: tuple[str, ...] = ()  # history lines between the title and the body
    articles: tuple[RawArticle, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    appendix: bool = False  # the file has 附件/附表 after its articles
    skipped: str = ""  # non-empty: not a statute at all (navigation page, template); the reason

    def to_row(self) -> tuple[Any, ...]:
        """Plain tuples, cheap to pickle (cache files, worker processes)."""
        return (
            self.source,
            self.format,
            self.title,
            self.part,
            self.info,
            tuple((a.number, a.suffix, a.text, a.path, a.line) for a in self.articles),
            tuple((p.where, p.reason, p.hint, p.kind) for p in self.problems),
            self.notes,
            self.appendix,
            self.skipped,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RawDocument:
        source, fmt, title, part, info, arts, probs, notes, appendix, skipped = row
        return cls(
            source=source,
            format=fmt,
            title=title,
            part=part,
            info=tuple(info),
            articles=tuple(RawArticle(n, s, t, tuple(p), ln) for n, s, t, p, ln in arts),
            problems=tuple(Problem(*p) for p in probs),
            notes=tuple(notes),
            appendix=bool(appendix),
            skipped=skipped,
        )


@dataclass
class Collector:
    """Mutable problem/note sink used while one file is parsed."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def warn(self, where: str, reason: str, hint: str, kind: str) -> None:
        self.problems.append(Problem(where, reason, hint, kind))

    def note(self, text: str) -> None:
        self.notes.append(f"{self.source}: {text}")


def looks_binary(data: bytes) -> bool:
    """True for bytes that are not text in any encoding we read (NULs, many control bytes)."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control > max(8, len(head) // 50)


MIXED = "UTF-8（夹杂其他编码）"


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode statute text: UTF-8 (with or without BOM), else GB18030.

    A file that is UTF-8 but for a few stray bytes (text pasted from another
    encoding) decodes as UTF-8 with U+FFFD in their place and the name
    ``MIXED``; :func:`check_decoding` reports where.

    Returns:
        (text, encoding name): ``UTF-8``, ``UTF-8-BOM``, ``GB18030`` or ``MIXED``.

    Raises:
        UnicodeDecodeError: the bytes are none of these.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        try:
            return data.decode("utf-8"), "UTF-8-BOM"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        lenient = data.decode("utf-8", errors="replace")
        bad = lenient.count("\ufffd")
        if _cjk(lenient) >= 3 * bad:
            return lenient, MIXED
        # GB18030 is a superset of GBK and GB2312, and decodes nearly any byte
        # string, so accept it only when the result is mostly CJK text.
        text = data.decode("gb18030")
        if _cjk(text) < max(1, len(text.strip()) // 5):
            raise
        return text, "GB18030"


def _cjk(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def check_decoding(report: Collector, text: str, encoding: str, *, gb_is_normal: bool) -> None:
    """Note the encoding used; warn about mixed encodings, and about GB18030 unless normal for the format."""
    source = report.source
    report.note(f"按 {encoding} 解码")
    if encoding == "GB18030" and not gb_is_normal:
        report.warn(
            source,
            "不是 UTF-8 编码，已按 GB18030 解码",
            "另存为 UTF-8，避免个别字符解码错误",
            "encoding",
        )
    elif encoding == MIXED:
        lines = text.split("\n")
        first = next(i for i, ln in enumerate(lines, start=1) if "\ufffd" in ln)
        report.warn(
            f"{source}:{first}",
            f"文件混用了多种编码：按 UTF-8 读取，{text.count(chr(0xFFFD))} 处无法识别的字节显示为 �",
            "用文本编辑器打开，改正乱码处后统一另存为 UTF-8",
            "encoding",
        )


def read_text(data: bytes, report: Collector, *, kind: str, gb_is_normal: bool) -> str | None:
    """Decode a text statute, reporting binary or undecodable bytes (then None) and the encoding used.

    Args:
        kind: what the file should be, for the hint (``Markdown``, ``纯文本``).
        gb_is_normal: GB18030 is usual for this format (TXT) and not worth a warning.
    """
    source = report.source
    if looks_binary(data):
        report.warn(
            source,
            "不是文本文件（含二进制内容），已跳过",
            f"确认文件确为{kind}文本，或删去该文件",
            "binary",
        )
        return None
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError as exc:
        report.warn(
            f"{source} (字节 {exc.start})",
            "无法按 UTF-8 或 GB18030 解码，已跳过",
            "用文本编辑器另存为 UTF-8 编码",
            "undecodable",
        )
        return None
    if encoding != "UTF-8" or gb_is_normal:
        check_decoding(report, text, encoding, gb_is_normal=gb_is_normal)
    return text
