"""reportlab flowables for Chinese text: lines broken by ui.documents.linebreak, each glyph from a font that has it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from ui.documents.fonts import PdfFonts, has_glyph
from ui.documents.linebreak import break_lines
from ui.documents.render_pdf import ParaStyle

_PAD = 6.0  # inner padding of a boxed paragraph
_MAX_STRETCH = 0.15  # at most this many ems between two characters when justifying; else ragged


class _Measure:
    """Per-character font choice and width, cached: the role's font when it has the glyph."""

    def __init__(self, fonts: PdfFonts, role: str, size: float) -> None:
        first = fonts.heading if role == "heading" else fonts.body
        self.order = (first,) + tuple(f for f in fonts.chain if f != first)
        self.size = size
        self._font: dict[str, str] = {}
        self._width: dict[str, float] = {}

    def font(self, ch: str) -> str:
        found = self._font.get(ch)
        if found is None:
            # missing_glyphs() has already refused text no font can draw
            found = next((f for f in self.order if has_glyph(f, ch)), self.order[0])
            self._font[ch] = found
        return found

    def width(self, text: str) -> float:
        total = 0.0
        for ch in text:
            w = self._width.get(ch)
            if w is None:
                w = stringWidth(ch, self.font(ch), self.size)
                self._width[ch] = w
            total += w
        return total

    def runs(self, line: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for ch in line:
            f = self.font(ch)
            if out and out[-1][0] == f:
                out[-1] = (f, out[-1][1] + ch)
            else:
                out.append((f, ch))
        return out


@dataclass(frozen=True)
class _Line:
    text: str
    starts: bool  # first line of a paragraph: takes the first-line indent
    ends: bool  # last line of a paragraph: never stretched to the full width


class CJKPara(Flowable):
    """Text whose ``\n`` start new paragraphs; ``rule=True`` draws a line to write on after it."""

    def __init__(
        self,
        text: str,
        style: ParaStyle,
        fonts: PdfFonts,
        *,
        rule: bool = False,
        lines: list[_Line] | None = None,
        first: bool = True,
        last: bool = True,
    ) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.fonts = fonts
        self.rule = rule
        self.measure = _Measure(fonts, style.role, style.size)
        self._lines = lines  # set when this is the part of a paragraph split across pages
        self._last = last  # holds the paragraph's last line: the ruled line goes after it
        self.spaceBefore = style.space_before if first else 0
        self.spaceAfter = style.space_after if last else 0
        self.keepWithNext = style.keep_with_next

    def _pad(self) -> float:
        return _PAD if self.style.box else 0.0

    def _text_width(self, avail: float) -> float:
        return avail - self.style.left_indent - 2 * self._pad()

    def _break(self, avail: float) -> list[_Line]:
        indent = self.style.first_indent * self.style.size
        out: list[_Line] = []
        for para in self.text.split("\n"):
            broken = break_lines(para, self.measure.width, self._text_width(avail), indent)
            out.extend(_Line(line, n == 0, n == len(broken) - 1) for n, line in enumerate(broken))
        return out

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._lines is None:
            self._lines = self._break(availWidth)
        self.width = availWidth
        self.height = len(self._lines) * self.style.leading + 2 * self._pad()
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        self.wrap(availWidth, availHeight)
        assert self._lines is not None
        fit = int((availHeight - 2 * self._pad()) // self.style.leading)
        if fit <= 0 or fit >= len(self._lines):
            return []
        head, tail = self._lines[:fit], self._lines[fit:]
        return [
            CJKPara(self.text, self.style, self.fonts, rule=self.rule, lines=head, last=False),
            CJKPara(self.text, self.style, self.fonts, rule=self.rule, lines=tail, first=False),
        ]

    def draw(self) -> None:
        assert self._lines is not None
        canv = self.canv
        st = self.style
        pad = self._pad()
        if st.box:
            canv.saveState()
            canv.setStrokeColor(HexColor("#999999"))
            canv.setFillColor(HexColor("#f4f4f4"))
            canv.rect(st.left_indent, 0, self.width - st.left_indent, self.height, fill=1, stroke=1)
            canv.restoreState()
        avail = self._text_width(self.width)
        x0 = st.left_indent + pad
        top = self.height - pad
        for i, line in enumerate(self._lines):
            indent = st.first_indent * st.size if line.starts else 0.0
            width = self.measure.width(line.text)
            room = avail - indent
            x = x0 + indent
            char_space = 0.0
            if st.align == "center":
                x += (room - width) / 2
            elif st.align == "right":
                x += room - width
            elif st.align == "justify" and not line.ends and len(line.text) > 1:
                stretch = (room - width) / (len(line.text) - 1)
                if 0 < stretch <= _MAX_STRETCH * st.size:
                    char_space = stretch
            baseline = top - i * st.leading - (st.leading + st.size * 0.76) / 2
            text = canv.beginText(x, baseline)
            text.setFillColor(HexColor(st.color))
            text.setCharSpace(char_space)
            for font, run in self.measure.runs(line.text):
                text.setFont(font, st.size)
                text.textOut(run)
            canv.drawText(text)
            if self.rule and self._last and i == len(self._lines) - 1:
                end = x + width + 2
                if end < x0 + avail - st.size:
                    canv.setLineWidth(0.6)
                    canv.line(end, baseline - 3, x0 + avail, baseline - 3)


class RuledLines(Flowable):
    """``count`` full-width ruled lines left for handwriting."""

    def __init__(self, count: int, style: ParaStyle) -> None:
        super().__init__()
        self.count = count
        self.style = style

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.count * self.style.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        fit = int(availHeight // self.style.leading)
        if fit <= 0 or fit >= self.count:
            return []
        return [RuledLines(fit, self.style), RuledLines(self.count - fit, self.style)]

    def draw(self) -> None:
        self.canv.setLineWidth(0.6)
        for i in range(self.count):
            y = self.height - (i + 1) * self.style.leading + 4
            self.canv.line(0, y, self.width, y)
