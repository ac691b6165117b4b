"""The document model every export shares: blocks of cleaned text, and their Markdown form."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal[
    "title",  # centred document title
    "right",  # a right-aligned line: 编号, the committee's seal line, the date
    "center",  # a centred line other than the title
    "meta",  # small grey line under a heading
    "heading",
    "subheading",
    "text",  # body paragraph
    "quote",  # a quoted statute paragraph, verbatim
    "note",  # the user's own note
    "notice",  # a boxed remark about the draft itself (what was left blank and why)
    "field",  # "label：value", or "label：" and a ruled line to fill in by hand when value is ""
    "blank",  # ``lines`` ruled lines to fill in by hand
    "break",  # page break
]
Layout = Literal["plain", "official"]


class ExportError(Exception):
    """An export that cannot be made (one-line Chinese message with a 建议)."""


# Characters that separate lines in the sources we meet (CSV cells from spreadsheets use
# \x0b for a line break inside a cell; Word's "manual line break" arrives as \x0b too).
_LINE_SEPARATORS = dict.fromkeys(map(ord, "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), "\n")
_BLANK_RUN = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    r"""Text safe for every output format: the one place control characters are removed.

    XML (DOCX) refuses C0 control characters and PDF fonts have no glyph for them, so a
    stray ``\x0b`` from a CSV cell must not reach a renderer. Line-separator controls become
    ``\n``; tabs become a space; other controls and invisible format characters (zero-width
    space, BOM, soft hyphen) are dropped; ``\r\n`` becomes ``\n``. Private-use and
    unassigned code points are kept: rare characters in names live there.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_SEPARATORS)
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            continue
        else:
            out.append(ch)
    return _BLANK_RUN.sub("\n\n", "".join(out))


def paragraphs(text: str) -> list[str]:
    """The non-empty lines of cleaned text: how a multi-paragraph value is laid out."""
    return [line.strip() for line in clean_text(text).split("\n") if line.strip()]


@dataclass(frozen=True)
class Block:
    """One paragraph-level element of an export; its text is cleaned on construction."""

    kind: BlockKind
    text: str = ""
    label: str = ""  # field: the printed label before the value or the ruled line
    lines: int = 1  # blank: how many ruled lines to leave
    keep: bool = False  # keep on one page with the next block (a signature block and its lead-in)

    def __post_init__(self) -> None:
        # Frozen, so assign through object: cleaning here means no renderer can see raw text.
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "label", clean_text(self.label).replace("\n", " "))


BLANK_MD = "＿" * 12


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
        elif b.kind == "notice":
            out.append("> **" + b.text.replace("\n", "**\n>\n> **") + "**")
        elif b.kind == "field":
            out.append(f"{b.label}：{b.text or BLANK_MD}")
        elif b.kind == "blank":
            out.append("\n\n".join([BLANK_MD * 3] * max(1, b.lines)))
        elif b.kind == "break":
            out.append("---")
        else:
            out.append(b.text)
    return "\n\n".join(out) + "\n"
