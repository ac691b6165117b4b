"""Blocks → DOCX (python-docx): A4, Chinese font names set so Word and WPS both show them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ui.documents.document import Block, Layout


@dataclass(frozen=True)
class RunStyle:
    east_asia: str  # the Chinese font name as Word and WPS list it
    size: float  # points
    bold: bool = False
    latin: str = "Times New Roman"


# 协议书/笔录 follow the look of official documents (GB/T 9704): 仿宋 body, 黑体 headings,
# a 宋体 title, quotations of law in 楷体.
OFFICIAL: dict[str, RunStyle] = {
    "title": RunStyle("宋体", 22, bold=True),
    "heading": RunStyle("黑体", 14),
    "subheading": RunStyle("楷体", 14, bold=True),
    "text": RunStyle("仿宋", 14),
    "quote": RunStyle("楷体", 12),
    "meta": RunStyle("仿宋", 10.5),
    "notice": RunStyle("宋体", 10.5),
}
PLAIN: dict[str, RunStyle] = {
    "title": RunStyle("黑体", 18, bold=True),
    "heading": RunStyle("黑体", 14, bold=True),
    "subheading": RunStyle("黑体", 12, bold=True),
    "text": RunStyle("宋体", 11),
    "quote": RunStyle("楷体", 11),
    "meta": RunStyle("宋体", 9),
    "notice": RunStyle("宋体", 9.5),
}
# page margins in cm: top, bottom, left, right
MARGINS: dict[str, tuple[float, float, float, float]] = {
    "official": (3.7, 3.5, 2.8, 2.6),
    "plain": (2.2, 2.2, 2.2, 2.2),
}


def _fonts(target: Any, style: RunStyle) -> None:
    """Set a run's or a style's fonts: Latin, East Asian and complex script names, size, bold."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    target.font.name = style.latin
    target.font.size = Pt(style.size)
    target.font.bold = style.bold
    element = target.element if hasattr(target, "element") else target._element
    rfonts = element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), style.east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")
    # theme fonts in the default template would override the names above in Word
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)


def _first_line_indent(paragraph: Any, chars: int, size: float) -> None:
    """首行缩进 in characters (firstLineChars), with the point value for readers without it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph.paragraph_format.first_line_indent = Pt(chars * size)
    ppr = paragraph._p.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _box(paragraph: Any) -> None:
    """A light grey shaded, bordered paragraph (the draft notice)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "4")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), "999999")
        borders.append(edge)
    ppr.append(borders)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), "F2F2F2")
    ppr.append(shading)


class _Writer:
    def __init__(self, layout: Layout) -> None:
        from docx import Document
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Cm, Pt

        self.layout = layout
        self.styles = OFFICIAL if layout == "official" else PLAIN
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        top, bottom, left, right = MARGINS[layout]
        section.top_margin, section.bottom_margin = Cm(top), Cm(bottom)
        section.left_margin, section.right_margin = Cm(left), Cm(right)
        self.text_width = section.page_width - section.left_margin - section.right_margin
        normal = self.doc.styles["Normal"]
        _fonts(normal, self.styles["text"])
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(0 if layout == "official" else 4)
        fmt.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
        for name in ("Title", "Heading 1", "Heading 2", "Quote"):  # Word's navigation pane
            _fonts(self.doc.styles[name], self.styles["heading"])

    def para(self, text: str, kind: str, *, style: str | None = None) -> Any:
        p = self.doc.add_paragraph(style=style)
        if text:
            run = p.add_run(text)
            _fonts(run, self.styles.get(kind, self.styles["text"]))
        return p

    def ruled(self, p: Any) -> None:
        """An underlined tab to the right margin: a line to write on that stays editable."""
        from docx.enum.text import WD_TAB_ALIGNMENT

        p.paragraph_format.tab_stops.add_tab_stop(self.text_width, WD_TAB_ALIGNMENT.RIGHT)
        run = p.add_run("\t")
        run.font.underline = True
        _fonts(run, self.styles["text"])

    def block(self, b: Block) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        official = self.layout == "official"
        body = self.styles["text"]
        if b.kind == "title":
            p = self.para(b.text, "title", style=None if official else "Title")
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if official else None
            p.paragraph_format.space_after = Pt(12)
        elif b.kind in ("heading", "subheading"):
            style = None if official else ("Heading 1" if b.kind == "heading" else "Heading 2")
            p = self.para(b.text, b.kind, style=style)
            p.paragraph_format.keep_with_next = True
            if official and b.kind == "subheading":
                _first_line_indent(p, 2, body.size)
        elif b.kind in ("right", "center"):
            p = self.para(b.text, "text")
            p.alignment = (
                WD_ALIGN_PARAGRAPH.RIGHT if b.kind == "right" else WD_ALIGN_PARAGRAPH.CENTER
            )
        elif b.kind == "meta":
            p = self.para(b.text, "meta")
            for run in p.runs:
                run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        elif b.kind == "quote":
            for line in b.text.split("\n"):
                p = self.para(line, "quote")
                p.paragraph_format.left_indent = Pt(2 * body.size)
                _first_line_indent(p, 2, self.styles["quote"].size)
        elif b.kind == "note":
            p = self.para(b.text, "text")
            for run in p.runs:
                run.font.bold = True
        elif b.kind == "notice":
            for line in b.text.split("\n"):
                p = self.para(line, "notice")
                _box(p)
        elif b.kind == "field":
            p = self.para(f"{b.label}：{b.text}", "text")
            if not b.text:
                self.ruled(p)
        elif b.kind == "blank":
            for _ in range(max(1, b.lines)):
                self.ruled(self.doc.add_paragraph())
        elif b.kind == "break":
            self.doc.add_page_break()
        else:
            for line in b.text.split("\n") or [""]:
                p = self.para(line, "text")
                if official:
                    _first_line_indent(p, 2, body.size)
                    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    def bytes(self, title: str) -> bytes:
        props = self.doc.core_properties
        props.title, props.author, props.language = title, "枫桥", "zh-CN"
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def to_docx(blocks: Sequence[Block], layout: Layout = "plain") -> bytes:
    """An editable A4 document; paragraphs, not text boxes, so mediators can change anything."""
    writer = _Writer(layout)
    for b in blocks:
        before = len(writer.doc.paragraphs)
        writer.block(b)
        if b.keep:  # Word keeps the signature block on the page of its lead-in too
            for p in writer.doc.paragraphs[before:]:
                p.paragraph_format.keep_with_next = True
    return writer.bytes(next((b.text for b in blocks if b.kind == "title"), "枫桥导出"))
