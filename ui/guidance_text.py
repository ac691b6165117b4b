"""办理提示 as plain text: the CLI's lines and the lines 案卷 exports and drafts carry."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from retrieval.deadlines import last_day
from retrieval.guidance import SECTION_TITLES, SECTIONS, Guidance, Point

WEEKDAYS = "一二三四五六日"


def risk_line(guidance: Guidance) -> str:
    """``发现风险迹象：暴力威胁（“杀了”）、家暴（“打我”）`` or "" when there is none."""
    if not guidance.risks:
        return ""
    found = "、".join(f"{r.kind}（“{r.word}”）" for r in guidance.risks)
    return f"发现风险迹象：{found}。风险要点排在最前，请先处置。"


def period_line(point: Point) -> str:
    """``期限：1 年，自离职日期（劳动关系终止之日）起算`` ("" for a point without one)."""
    p = point.period
    return f"期限：{p.label}，自{p.start}起算" if p else ""


def deadline_text(point: Point, start: datetime.date) -> str:
    """The last day of the point's period counted from ``start`` (民法典 201–203)."""
    assert point.period is not None
    d = last_day(start, point.period)
    text = f"自 {start.isoformat()} 起 {point.period.label}：最后一日 {d.last_day.isoformat()}"
    text += f"（星期{WEEKDAYS[d.last_day.weekday()]}）"
    if d.rolled_to is not None:
        text += f"，逢周末顺延至 {d.rolled_to.isoformat()}（星期一）"
    return text


def guidance_lines(
    guidance: Guidance, *, sections: Sequence[str] = SECTIONS, numbered: bool = True
) -> list[str]:
    """Each point as ``text`` then its verbatim quote and citation, grouped by section."""
    lines: list[str] = []
    warn = risk_line(guidance)
    if warn and "风险" in sections:
        lines.append(warn)
    n = 0
    for key in sections:
        points = guidance.section(key)
        if not points:
            continue
        lines.append(f"【{SECTION_TITLES[key]}】")
        for p in points:
            n += 1
            head = f"{n}. " if numbered else "· "
            lines.append(f"{head}{p.text}")
            lines.append(f"   “{p.quote}”——{p.citation}")
            if p.period:
                lines.append(f"   {period_line(p)}")
    return lines
