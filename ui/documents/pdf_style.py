"""How a PDF paragraph looks (size, leading, alignment, indents, box): the style the renderer
picks per block and the flowables draw, without importing reportlab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right", "justify"]


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
