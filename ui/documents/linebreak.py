"""Chinese line breaking (标点禁则, GB/T 15834-2011 §5 and W3C clreq): where a line may end."""

from __future__ import annotations

import re
from collections.abc import Callable

# May not begin a line: closing punctuation and the second halves of paired marks.
NO_START = frozenset("，。、；：？！）》」』】〕〗〉］｝”’％‰℃°·・～,.;:?!)]}%")
# May not end a line: the first halves of paired marks.
NO_END = frozenset("（《「『【〔〖〈［｛“‘([{")

# Units that are never split: a run of Latin letters/digits (a year, an article number
# written in digits, an ID number), a blank to fill in (＿＿＿), the dash and the ellipsis.
_UNIT = re.compile(r"——|……|＿+|_+|[A-Za-z0-9]+(?:[.,:/\-][A-Za-z0-9]+)*|.", re.DOTALL)


def units(text: str) -> list[str]:
    return _UNIT.findall(text)


def clusters(text: str) -> list[str]:
    """The text cut where a line break is allowed; each piece must stay on one line."""
    out: list[str] = []
    glue_next = False
    for unit in units(text):
        if out and (glue_next or unit[0] in NO_START):
            out[-1] += unit
        else:
            out.append(unit)
        glue_next = unit[-1] in NO_END
    return out


def break_lines(
    text: str,
    width_of: Callable[[str], float],
    max_width: float,
    first_indent: float = 0.0,
) -> list[str]:
    """Lines of one paragraph, greedily filled, never breaking against 禁则.

    A cluster that does not fit moves whole to the next line (推出), so a closing mark
    always stays with the character before it and an opening mark with the one after.
    A cluster wider than a whole line (a long URL) is cut by characters as a last resort.

    Args:
        text: one paragraph, no newlines.
        width_of: width of a string in the units of ``max_width``.
        max_width: the line width.
        first_indent: width taken by the first line's indent (首行缩进).
    """
    lines: list[str] = []
    line, used = "", 0.0
    room = max_width - first_indent
    for cluster in clusters(text):
        w = width_of(cluster)
        if used + w <= room + 1e-6 or (not line and w <= room + 1e-6):
            line, used = line + cluster, used + w
            continue
        if line.strip():
            lines.append(line.rstrip())
            room = max_width
        line, used = "", 0.0
        if cluster == " ":
            continue  # a space at a break point is the break itself
        if w <= room + 1e-6:
            line, used = cluster, w
            continue
        for ch in cluster:  # wider than a line: no rule can be kept, cut where it overflows
            cw = width_of(ch)
            if line and used + cw > room + 1e-6:
                lines.append(line)
                room = max_width
                line, used = "", 0.0
            line, used = line + ch, used + cw
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
