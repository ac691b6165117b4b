"""Format-neutral parse results and the helpers every statute reader shares."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ingest.encoding import MIXED, SUPPORTED, decode_text, is_utf16
from ingest.names import article_label
from ingest.printable import printable
from ingest.records import Problem

# Bump when a parser changes its output, so cached parses are redone.
PARSER_VERSION = 4

# Problem kinds after which a file yields nothing (so "no articles" is not reported too).
FATAL_KINDS = frozenset(
    {"binary", "undecodable", "encrypted", "needs-ocr", "corrupt", "parse-error", "unzip-limit"}
)

# A DOCX is a zip: its declared sizes are checked before anything is inflated
# (a 215 KB file once expanded to 63 MB of XML, 50 s and 878 MB to parse).
# Python's zipfile never inflates a member past its declared size, so the
# declared sizes bound the work. Ratios are checked only on members big enough
# to matter: a small XML part may well compress 200 to 1.
MAX_UNZIPPED = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 5000
_RATIO_FLOOR = 1024 * 1024


def unzip_problem(data: bytes) -> str | None:
    """Why this zip (DOCX) must not be opened, in Chinese, or None when its sizes are sane.

    A damaged zip is not judged here: the reader's own error says it better.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if len(members) > MAX_MEMBERS:
        return f"压缩包内文件过多（{len(members)} 个，上限 {MAX_MEMBERS}）"
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED:
        return (
            f"解压后过大（{total / 1024 / 1024:.0f} MB，上限 {MAX_UNZIPPED >> 20} MB），"
            "可能是压缩炸弹"
        )
    for m in members:
        if m.file_size > _RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            ratio = m.file_size / max(m.compress_size, 1)
            return f"解压比例异常（{m.filename} 压缩了 {ratio:.0f} 倍，上限 {MAX_RATIO} 倍），可能是压缩炸弹"
    return None


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
    read: int = 0  # lines (Markdown, TXT), paragraphs (DOCX) or pages (PDF) read

    def to_row(self) -> tuple[Any, ...]:
        """Plain tuples, cheap to pickle (cache files, worker processes)."""
        return (
            self.source,
            self.format,
            self.title,
            self.part,
            self.info,
            tuple((a.number, a.suffix, a.text, a.path, a.line) for a in self.articles),
            tuple((p.where, p.reason, p.hint, p.kind, p.dropped) for p in self.problems),
            self.notes,
            self.appendix,
            self.skipped,
            self.read,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RawDocument:
        source, fmt, title, part, info, arts, probs, notes, appendix, skipped, read = row
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
            read=read,
        )


@dataclass
class Collector:
    """Mutable problem/note sink used while one file is parsed."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def warn(self, where: str, reason: str, hint: str, kind: str) -> None:
        # A fatal problem leaves the whole file out; a duplicate article is left out.
        dropped = kind in FATAL_KINDS or kind == "duplicate"
        self.problems.append(Problem(where, reason, hint, kind, dropped))

    def note(self, text: str) -> None:
        self.notes.append(f"{printable(self.source)}: {text}")


def looks_binary(data: bytes, *, stray_nul: bool = False) -> bool:
    """True for bytes that are not text in any encoding we read (NULs, many control bytes).

    Args:
        stray_nul: a few NULs are stray characters (typed into a spreadsheet cell),
            not a sign of binary content; they count like other control bytes.
    """
    if is_utf16(data):
        return False
    head = data[:8192]
    if b"\x00" in head and not stray_nul:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control > max(8, len(head) // 50)


# Encodings usual for Chinese text files but not for LawRefBook Markdown.
LEGACY = frozenset({"GB18030", "Big5"})


def check_decoding(report: Collector, text: str, encoding: str, *, gb_is_normal: bool) -> None:
    """Note the encoding used; warn about mixed encodings, and about GB18030/Big5 unless normal for the format."""
    source = report.source
    report.note(f"按 {encoding} 解码")
    if encoding in LEGACY and not gb_is_normal:
        report.warn(
            source,
            f"不是 UTF-8 编码，已按 {encoding} 解码",
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
        gb_is_normal: GB18030 and Big5 are usual for this format (TXT) and not worth a warning.
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
            source,
            f"无法识别文件编码（{exc.reason}；支持 {SUPPORTED}），已跳过",
            "用记事本或 WPS 打开，另存为 UTF-8 编码",
            "undecodable",
        )
        return None
    if encoding != "UTF-8" or gb_is_normal:
        check_decoding(report, text, encoding, gb_is_normal=gb_is_normal)
    return text
