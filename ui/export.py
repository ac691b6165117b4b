"""Collection export: case file or teaching set → Markdown, DOCX (python-docx) and PDF (reportlab)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from xml.sax.saxutils import escape as xml_escape

from ingest.records import Article, Case
from ui.store import Item

BlockKind = Literal["title", "meta", "heading", "subheading", "text", "quote", "note", "break"]
Format = Literal["md", "docx", "pdf"]
MIME: dict[str, str] = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
CN_NUMS = "一二三四五六七八九十"


class RecordSource(Protocol):
    def article(self, article_id: str) -> Article | None: ...
    def case(self, case_id: str) -> Case | None: ...


class ExportError(Exception):
    """An export that cannot be made (message in Chinese, with a hint)."""


@dataclass(frozen=True)
class Entry:
    """A collection item with its record looked up (``None`` when the KB no longer has it)."""

    item: Item
    record: Article | Case | None


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str = ""


def resolve(items: Sequence[Item], kb: RecordSource) -> list[Entry]:
    out = []
    for item in items:
        record = kb.article(item.ref) if item.kind == "article" else kb.case(item.ref)
        out.append(Entry(item, record))
    return out


def _ordinal(n: int) -> str:
    if n <= 10:
        return CN_NUMS[n - 1]
    if n < 20:
        return "十" + CN_NUMS[n - 11]
    return str(n)


def article_meta(article: Article) -> str:
    parts = [article.status]
    if article.valid_from:
        parts.append(f"施行日期 {article.valid_from}")
    if article.publish:
        parts.append(f"公布日期 {article.publish}")
    if article.path:
        parts.append("位置：" + " / ".join(article.path))
    return " · ".join(parts)


def case_meta(case: Case) -> str:
    parts = [case.kind, case.dispute_type, case.region, case.date]
    return " · ".join(p for p in parts if p)


def cited_lines(case: Case, kb: RecordSource) -> list[str]:
    """Citations of a case in standard form where resolved, else as written."""
    lines: list[str] = []
    for c in case.cited:
        art = kb.article(c.resolved_id) if c.resolved_id else None
        line = f"{art.citation}{c.detail}" if art else c.raw
        if c.repealed:
            line += "（该法已废止）"
        if line not in lines:
            lines.append(line)
    return lines


def collection_blocks(name: str, entries: Sequence[Entry], kb: RecordSource) -> list[Block]:
    """A case file: every article with its citation and text, every case summarised, with notes."""
    blocks = [
        Block("title", f"案卷：{name}"),
        Block("meta", f"导出时间：{datetime.now():%Y-%m-%d %H:%M} · 共 {len(entries)} 项 · 枫桥"),
    ]
    for n, entry in enumerate(entries, 1):
        record = entry.record
        if isinstance(record, Article):
            blocks.append(Block("heading", f"{n}. {record.citation}"))
            blocks.append(Block("meta", article_meta(record)))
            blocks.extend(Block("quote", para) for para in record.text.split("\n") if para)
        elif isinstance(record, Case):
            blocks.append(Block("heading", f"{n}. 案例：{record.title}"))
            blocks.append(Block("meta", case_meta(record)))
            for label, body in (
                ("基本案情", record.facts),
                ("争议焦点", record.section("争议焦点")),
                ("处理结果", record.outcome),
            ):
                if body:
                    blocks.append(Block("text", f"{label}：{body}"))
            cited = cited_lines(record, kb)
            if cited:
                blocks.append(Block("text", "引用法条：" + "；".join(cited)))
        else:
            blocks.append(Block("heading", f"{n}. {entry.item.ref}"))
            blocks.append(Block("meta", "知识库中已找不到此项（可能已重建索引）。"))
        if entry.item.note.strip():
            blocks.append(Block("note", f"笔记：{entry.item.note.strip()}"))
    return blocks


def teaching_blocks(name: str, entries: Sequence[Entry], kb: RecordSource) -> list[Block]:
    """A teaching set: each case as a question (facts + 争议焦点), then an answer key.

    Only the anonymised case sections are used (no source file names or party lists).
    """
    cases = [e.record for e in entries if isinstance(e.record, Case)]
    if not cases:
        raise ExportError("该案卷中没有案例，无法生成教学集。建议：先从“类似案例”中加入案例。")
    blocks = [
        Block("title", f"教学集：{name}"),
        Block("meta", f"共 {len(cases)} 个案例 · 案例文本已匿名化 · 枫桥"),
        Block("heading", "第一部分　案例与问题"),
    ]
    for n, case in enumerate(cases, 1):
        blocks.append(Block("subheading", f"案例{_ordinal(n)}：{case.title}"))
        blocks.append(Block("meta", case_meta(case)))
        blocks.append(Block("text", f"基本案情：{case.facts or '（无）'}"))
        focus = case.section("争议焦点")
        if focus:
            blocks.append(Block("text", f"争议焦点：{focus}"))
        blocks.append(Block("text", "问题：本纠纷应如何调解处理？依据哪些法律规定？"))
    blocks.append(Block("break"))
    blocks.append(Block("heading", "第二部分　参考答案"))
    for n, case in enumerate(cases, 1):
        blocks.append(Block("subheading", f"案例{_ordinal(n)}参考答案"))
        blocks.append(Block("text", f"处理结果：{case.outcome or '（无）'}"))
        shown = False
        for c in case.cited:
            art = kb.article(c.resolved_id) if c.resolved_id else None
            if art is None:
                continue
            if not shown:
                blocks.append(Block("text", "适用法条："))
                shown = True
            blocks.append(Block("quote", f"{art.citation}　{art.text.replace(chr(10), ' ')}"))
        if not shown:
            cited = cited_lines(case, kb)
            blocks.append(
                Block("text", "适用法条：" + ("；".join(cited) if cited else "（案例未列明）"))
            )
    return blocks


# ---- renderers ---------------------------------------------------------------


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "title":
            out.append(f"# {b.text}")
        elif b.kind == "heading":
            out.append(f"## {b.text}")
        elif b.kind == "subheading":
            out.append(f"### {b.text}")
        elif b.kind == "meta":
            out.append(f"*{b.text}*")
        elif b.kind == "quote":
            out.append(f"> {b.text}")
        elif b.kind == "note":
            out.append(f"**{b.text}**")
        elif b.kind == "break":
            out.append("---")
        else:
            out.append(b.text)
    return "\n\n".join(out) + "\n"


def to_docx(blocks: Sequence[Block]) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Quote"):
        style = doc.styles[style_name]
        style.font.name = "SimSun"
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    doc.styles["Normal"].font.size = Pt(11)
    for b in blocks:
        if b.kind == "title":
            doc.add_heading(b.text, level=0)
        elif b.kind == "heading":
            doc.add_heading(b.text, level=1)
        elif b.kind == "subheading":
            doc.add_heading(b.text, level=2)
        elif b.kind == "meta":
            run = doc.add_paragraph().add_run(b.text)
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        elif b.kind == "quote":
            doc.add_paragraph(b.text, style="Quote")
        elif b.kind == "note":
            doc.add_paragraph().add_run(b.text).bold = True
        elif b.kind == "break":
            doc.add_page_break()
        else:
            doc.add_paragraph(b.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


_FONT = "STSong-Light"


def to_pdf(blocks: Sequence[Block]) -> bytes:
    """PDF with reportlab's built-in CID font STSong-Light (no font file needed offline)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    base = ParagraphStyle("base", fontName=_FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=6),
        "heading": ParagraphStyle("h1", parent=base, fontSize=14, leading=20, spaceBefore=10),
        "subheading": ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=8),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.5, textColor="#666666"),
        "quote": ParagraphStyle("quote", parent=base, leftIndent=14, textColor="#222244"),
        "note": ParagraphStyle("note", parent=base, textColor="#7a4a00"),
        "text": base,
    }
    story: list = []
    for b in blocks:
        if b.kind == "break":
            story.append(PageBreak())
            continue
        story.append(Paragraph(xml_escape(b.text), styles.get(b.kind, base)))
        story.append(Spacer(1, 3))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title="枫桥导出", author="枫桥").build(story)
    return buf.getvalue()


def render(blocks: Sequence[Block], fmt: Format) -> bytes:
    if fmt == "md":
        return to_markdown(blocks).encode("utf-8")
    if fmt == "docx":
        return to_docx(blocks)
    if fmt == "pdf":
        return to_pdf(blocks)
    raise ValueError(f"unknown export format {fmt!r}")


def export_collection(
    name: str,
    items: Sequence[Item],
    kb: RecordSource,
    fmt: Format,
    *,
    teaching: bool = False,
) -> bytes:
    """Export a collection as a case file, or with ``teaching=True`` as a teaching set."""
    entries = resolve(items, kb)
    make = teaching_blocks if teaching else collection_blocks
    return render(make(name, entries, kb), fmt)


def file_name(name: str, fmt: Format, *, teaching: bool = False) -> str:
    """A safe download name: the collection name without path or odd characters."""
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_（）()") or "案卷"
    return f"{'教学集' if teaching else '案卷'}-{safe[:40]}.{fmt}"
