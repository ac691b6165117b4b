"""The 办理提示 panel of the answer page: risk points on top, the other sections beside the
answer, each point quoting its article verbatim and linking to its citation page, and a
deadline calculator for the points that carry a period."""

from __future__ import annotations

import datetime

import streamlit as st

from retrieval.guidance import SECTION_TITLES, SECTIONS, Guidance, Point
from ui.guidance_text import WEEKDAYS, period_line, risk_line
from ui.widgets import article_link, esc, md, short_citation

RISK_FIRST = 5
"""Risk points drawn open at the top; the rest fold under 其余风险要点 (the answer stays near)."""
OPEN_SECTIONS = ("时效",)
"""Sections drawn open; the others start folded so the panel stays a screen or two long."""
EARLIEST = datetime.date(1990, 1, 1)


def _point(point: Point, n: int) -> None:
    st.markdown(f"{n}. {md(point.text)}")
    st.markdown(f'<div class="fq-quote">“{esc(point.quote)}”</div>', unsafe_allow_html=True)
    article_link(point.article, f"——{short_citation(point.article)}")
    if point.period:
        st.caption(md(period_line(point)))


def risk_banner(guidance: Guidance) -> None:
    """Risk signs and their points, above everything else (first on a phone too)."""
    points = guidance.section("风险")
    if not guidance.risks or not points:
        return
    with st.container(border=True, key="fq-guidance-risk"):
        st.error(md(risk_line(guidance)), icon=":material/warning:")
        for n, p in enumerate(points[:RISK_FIRST], 1):
            _point(p, n)
        if len(points) > RISK_FIRST:
            with st.expander(f"其余风险要点（{len(points) - RISK_FIRST}）"):
                for n, p in enumerate(points[RISK_FIRST:], RISK_FIRST + 1):
                    _point(p, n)


def guidance_panel(guidance: Guidance) -> None:
    """办理提示 by section (受理, 时效与期限, 转介, 证据与材料, 协议之后) and the calculator."""
    if not guidance.points:
        return
    with st.container(border=True, key="fq-guidance"):
        st.markdown("#### 办理提示", anchors=False)
        st.caption(md(f"按纠纷类型“{'、'.join(guidance.dispute_types)}”给出，每条附法条原文。"))
        if guidance.risks:
            st.caption("风险要点见页首。")
        else:
            for n, p in enumerate(guidance.section("风险"), 1):  # a type's own risk points
                _point(p, n)
        for key in SECTIONS[1:]:
            points = guidance.section(key)
            if not points:
                continue
            with st.expander(
                f"{SECTION_TITLES[key]}（{len(points)}）", expanded=key in OPEN_SECTIONS
            ):
                for n, p in enumerate(points, 1):
                    _point(p, n)
        calculator(guidance)
        st.caption("办理提示是依据法条原文整理的提醒，不替代法律意见；具体以完整条文为准。")


def calculator(guidance: Guidance) -> None:
    """Pick a period, enter the date it runs from, read the last day (民法典 201–203)."""
    timed = guidance.with_periods
    if not timed:
        return
    st.markdown("**期限计算**")
    labels = [
        f"{p.article.law}{p.article.label} · {p.period.label} · 自{p.period.start}"
        for p in timed
        if p.period
    ]
    pick = st.selectbox(
        "期限", range(len(timed)), format_func=lambda i: labels[i], key="fq-dl-pick"
    )
    point = timed[pick or 0]
    assert point.period is not None
    start = st.date_input(
        f"起算日期（{point.period.start}）",
        value=None,
        min_value=EARLIEST,
        max_value=datetime.date.today() + datetime.timedelta(days=3650),
        key="fq-dl-date",
        format="YYYY-MM-DD",
    )
    if not isinstance(start, datetime.date):
        st.caption("输入日期后显示期限的最后一日。")
        return
    d = point.period.deadline(start)
    text = f"最后一日：{d.last_day.isoformat()}（星期{WEEKDAYS[d.last_day.weekday()]}）"
    if d.rolled_to is not None:
        text += f"，逢周末顺延至 {d.rolled_to.isoformat()}"
    left = d.days_left(datetime.date.today())
    text += f"；距今 {left} 天" if left >= 0 else f"；已过 {-left} 天"
    show = st.warning if 0 <= left <= 30 else (st.error if left < 0 else st.success)
    show(md(text))
    with st.expander("怎么算的"):
        st.caption("开始的当日不计入；法定节假日（含调休）无法离线判断，遇节假日请再顺延。")
        for n, b in enumerate(guidance.basis, 1):
            _point(b, n)
