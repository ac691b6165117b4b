"""Read a text-layer PDF statute with pypdf: drop running headers/page numbers, rejoin wrapped lines."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from ingest.chinese import HAN, count_han
from ingest.formats import Collector, RawDocument
from ingest.formats.plaintext import match_heading, match_label, plain_document

log = logging.getLogger(__name__)

_PAGE_NUMBER = re.compile(
    r"^[-—–\s]*\d{1,4}[-—–\s]*$"  # 3 / - 3 - / — 3 —
    r"|^第\s*\d{1,4}\s*页(\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$"  # 第3页 / 第3页 共10页
    r"|^\d{1,4}\s*/\s*\d{1,4}$"  # 3/10
    r"|^[Pp]age\s*\d{1,4}(\s*of\s*\d{1,4})?$"
)
_ITEM = re.compile(r"^[（(][一二三四五六七八九十\d]+[）)]|^[一二三四五六七八九十]+、|^\d+[.、．]")
_DATED = re.compile(r"^[（(]?\d{4}年\d{1,2}月")  # 通过/施行 lines under the title
_END = ("。", "：", ":", "；", "？", "！", "”", "」")
_DIGITS = re.compile(r"\d+")
_WIDE = HAN + "\u3001-\u303f\uff01-\uffef"  # Han ideographs and punctuation, not U+3000
_SPACED = re.compile(rf"(?<=[{_WIDE}])[ \u3000](?=[{_WIDE}])")
_SINGLE = re.compile(r"(?<=\S) (?=\S)")
_RUNS = re.compile(r" {2,}")
_TITLE = re.compile(r"(法|条例|规定|办法|解释|规则|决定|细则|民约)$")


def parse_pdf(data: bytes, source: str) -> RawDocument:
    """Problems (encrypted, no text layer, damaged) are reported and yield no articles."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    report = Collector(source)

    def fail(reason: str, hint: str, kind: str, where: str = source) -> RawDocument:
        report.warn(where, reason, hint, kind)
        return RawDocument(source, "pdf", problems=tuple(report.problems))

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted only to restrict printing, with an empty user password.
            try:
                opened = bool(reader.decrypt(""))
            except Exception:  # pypdf raises DependencyError for AES without a crypto library
                opened = False
            if not opened:
                return fail(
                    "PDF 已加密，无法读取文字，已跳过",
                    "取得未加密的版本，或用密码解除加密后再放入",
                    "encrypted",
                )
        pages: list[str] = []
        for n, page in enumerate(reader.pages, start=1):
            try:
                pages.append(page.extract_text() or "")
            except Exception as exc:  # one bad page must not lose the others
                report.warn(
                    f"{source} (第{n}页)",
                    f"该页文字无法提取（{type(exc).__name__}）",
                    "核对原文该页内容",
                    "corrupt-page",
                )
                pages.append("")
    except (PdfReadError, ValueError, OSError, KeyError, IndexError, TypeError) as exc:
        return fail(
            f"PDF 文件已损坏或不完整（{type(exc).__name__}），已跳过",
            "重新下载或用 PDF 阅读器另存后再放入",
            "corrupt",
        )

    if not pages:
        return fail("PDF 没有任何页面，已跳过", "重新下载该文件", "corrupt")
    empty = [n for n, text in enumerate(pages, start=1) if not text.strip()]
    if len(empty) == len(pages):
        return fail(
            "PDF 没有文字层（可能是扫描件），需要 OCR，已跳过",
            "用 OCR 软件转成带文字层的 PDF 或 DOCX 后再放入",
            "needs-ocr",
        )
    if empty:
        shown = "、".join(str(n) for n in empty[:10]) + ("…" if len(empty) > 10 else "")
        report.warn(
            f"{source} (第{shown}页)",
            "这些页没有文字层（可能是扫描页），其内容未收录，需要 OCR",
            "对这些页做 OCR 后替换原文件",
            "needs-ocr",
        )

    lines = _page_lines(pages)
    paragraphs = _join_wrapped(lines)
    return plain_document(source, "pdf", paragraphs, report, where="page")


def _page_lines(pages: list[str]) -> list[tuple[str, int]]:
    """Non-empty lines with their page numbers, without running headers, footers and page numbers.

    A running header or footer is a line in the first or last two lines of a page
    that recurs (digits ignored) on every page of a short document, or on at
    least half of the pages of one with 4 pages or more.
    """
    split = [[_despace(ln.strip()) for ln in text.splitlines() if ln.strip()] for text in pages]
    edges: Counter[str] = Counter()
    for lines in split:
        edge = {_DIGITS.sub("#", ln) for ln in lines[:2] + lines[-2:]}
        edges.update(edge)
    count = len(split)
    need = count if count < 4 else (count + 1) // 2
    running = {k for k, c in edges.items() if count >= 2 and c >= need}
    out: list[tuple[str, int]] = []
    dropped_first = ""
    for n, lines in enumerate(split, start=1):
        for i, ln in enumerate(lines):
            at_edge = i < 2 or i >= len(lines) - 2
            if at_edge and (_PAGE_NUMBER.match(ln) or _DIGITS.sub("#", ln) in running):
                if n == 1 and i == 0:
                    dropped_first = ln
                continue
            out.append((ln, n))
    # A running header that repeats the title is the only title when page 1 has no other.
    if dropped_first and _TITLE.search(dropped_first) and not (out and _TITLE.search(out[0][0])):
        out.insert(0, (dropped_first, 1))
    return out


def _despace(line: str) -> str:
    """Undo letter-spacing: some PDFs put a space between every character (``第 一 条 为 了``).

    Only lines where such gaps are the rule are touched; one space between two
    words of normal text stays.
    """
    gaps = len(_SPACED.findall(line))
    if gaps >= 3 and gaps * 2 >= count_han(line):
        # Every single space is spacing; a wider gap was a real space.
        return _RUNS.sub(" ", _SINGLE.sub("", line))
    return line


def _join_wrapped(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Rejoin lines that the PDF layout wrapped, within a page and across pages.

    A line starts a new paragraph when it begins with an article label, a
    heading or an item marker (（一）, 一、), or when the previous line ends a
    sentence (。：；？！”). A sentence that ends exactly at the margin is thus
    taken as a paragraph end: the text stays verbatim, at worst one 款 break is
    added. The page of a paragraph is the page it starts on.
    """
    out: list[tuple[str, int]] = []
    for text, page in lines:
        if out and not _starts_block(text) and not out[-1][0].endswith(_END):
            out[-1] = (out[-1][0] + text, out[-1][1])
        else:
            out.append((text, page))
    return out


def _starts_block(text: str) -> bool:
    return bool(
        match_label(text, need_gap=False)
        or match_heading(text)
        or _ITEM.match(text)
        or _DATED.match(text)
    )
