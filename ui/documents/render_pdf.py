"""Blocks → PDF (reportlab) with embedded CJK fonts and Chinese line-breaking rules."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ui.documents.document import Block, Layout
from ui.documents.fonts import FontError, PdfFonts, has_glyph, pdf_fonts

Align = Literal["left", "center", "right", "justify"]
MM = 72 / 25.4


@dataclass(frozen=True)
class ParaStyle:
    role: Literal["body", "heading"] = "body"
    size: float = 10.5
    leading: float = 17.0
    align: Align = "justify"
    first_indent: float = 0.0  # in characters (em of this size): 首行缩进
    left_indent: float = 0.0  # points
    space_before: float = 0.0
    space_after: float = 3.0
    color: str = "#000000"
    box: bool = False
    keep_with_next: bool = False  # a heading never ends a page


@dataclass(frozen=True)
class PageSetup:
    top: float
    bottom: float
    left: float
    right: float


def _styles(layout: Layout) -> dict[str, ParaStyle]:
    if layout == "official":
        # 协议书/笔录: 四号 (14 pt) body, 二号 (22 pt) title, headings in the 黑体 face.
        body = ParaStyle(size=14, leading=26, first_indent=2, space_after=0)
        return {
            "text": body,
            "title": ParaStyle("heading", 22, 34, "center", space_before=12, space_after=14),
            "center": replace(body, align="center", first_indent=0),
            "right": replace(body, align="right", first_indent=0),
            "heading": ParaStyle(
                "heading", 14, 26, "left", space_before=8, space_after=2, keep_with_next=True
            ),
            "subheading": ParaStyle("heading", 14, 26, "left", first_indent=2, keep_with_next=True),
            "meta": ParaStyle(size=10.5, leading=17, align="left", color="#555555"),
            "quote": ParaStyle(size=12, leading=21, first_indent=2, left_indent=24),
            "note": replace(body, color="#7a4a00"),
            "notice": ParaStyle(size=10.5, leading=17, align="left", color="#333333", box=True),
            "field": replace(body, align="left", first_indent=0),
        }
    body = ParaStyle(size=10.5, leading=17)
    return {
        "text": body,
        "title": ParaStyle("heading", 18, 26, "left", space_after=6),
        "center": replace(body, align="center"),
        "right": replace(body, align="right"),
        "heading": ParaStyle(
            "heading", 14, 21, "left", space_before=10, space_after=4, keep_with_next=True
        ),
        "subheading": ParaStyle(
            "heading", 12, 19, "left", space_before=8, space_after=3, keep_with_next=True
        ),
        "meta": ParaStyle(size=8.5, leading=13, align="left", color="#666666"),
        "quote": ParaStyle(left_indent=14, color="#222244"),
        "note": ParaStyle(color="#7a4a00"),
        "notice": ParaStyle(size=9.5, leading=15, align="left", color="#333333", box=True),
        "field": replace(body, align="left"),
    }


PAGES: dict[str, PageSetup] = {
    # GB/T 9704 margins for official documents; plain exports use narrower ones.
    "official": PageSetup(37 * MM, 35 * MM, 28 * MM, 26 * MM),
    "plain": PageSetup(20 * MM, 20 * MM, 20 * MM, 20 * MM),
}


def missing_glyphs(blocks: Sequence[Block], fonts: PdfFonts) -> str:
    """Characters no available font can draw (they would print as boxes)."""
    chars = {ch for b in blocks for ch in b.text + b.label if ch not in "\n"}
    return "".join(sorted(ch for ch in chars if not any(has_glyph(f, ch) for f in fonts.chain)))


def _flowables(blocks: Sequence[Block], layout: Layout, fonts: PdfFonts) -> list[Any]:
    from reportlab.platypus import KeepTogether, PageBreak

    from ui.documents.pdf_flowables import CJKPara, RuledLines

    styles = _styles(layout)
    story: list[Any] = []
    group: list[Any] = []  # blocks marked ``keep`` and the one after them: one page
    for b in blocks:
        if b.kind == "break":
            flowable: Any = PageBreak()
        elif b.kind == "blank":
            flowable = RuledLines(max(1, b.lines), styles["text"])
        elif b.kind == "field":
            text = f"{b.label}：{b.text}"
            flowable = CJKPara(text, styles["field"], fonts, rule=not b.text)
        else:
            text = "\n".join(p.strip() for p in b.text.split("\n") if p.strip())
            flowable = CJKPara(text, styles.get(b.kind, styles["text"]), fonts)
        if b.keep or group:
            group.append(flowable)
            if not b.keep:  # the last of the run: the whole run moves to a new page if need be
                story.append(KeepTogether(group))
                group = []
        else:
            story.append(flowable)
    if group:
        story.append(KeepTogether(group))
    return story


def to_pdf(blocks: Sequence[Block], layout: Layout = "plain") -> bytes:
    """A4 PDF whose fonts are embedded (subset), so it reads the same on any machine.

    Raises:
        FontError: no embeddable CJK font here, or a character none of them can draw.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    fonts = pdf_fonts()
    missing = missing_glyphs(blocks, fonts)
    if missing:
        raise FontError(
            f"PDF 字体中没有这些字符，印出来会是方框：{missing}。"
            "建议：删去或改写这些字符后再导出，或改为导出 DOCX。"
        )
    title = next((b.text for b in blocks if b.kind == "title"), "枫桥导出")
    page = PAGES[layout]

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.body, 9)
        canvas.drawCentredString(A4[0] / 2, page.bottom / 2, f"— {doc.page} —")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=title,
        author="枫桥",
        topMargin=page.top,
        bottomMargin=page.bottom,
        leftMargin=page.left,
        rightMargin=page.right,
        initialFontName=fonts.body,  # no unembedded Helvetica in the page resources
    )
    doc.build(_flowables(blocks, layout, fonts), onFirstPage=page_number, onLaterPages=page_number)
    return buf.getvalue()
