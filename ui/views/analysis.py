"""研判: the county's (or town's) disputes by type, month and place, with early warnings and a monthly report.

Analysts and administrators see the whole store; a mediator sees only the committee
this installation syncs as (``<kb>/county.json``). The store is the county PostgreSQL
(env ``FENGQIAO_COUNTY_URI``); its demo schema holds synthetic records only, shown
with a label on every view.
"""

from __future__ import annotations

import json
import os
from datetime import date

import streamlit as st

from ingest.errors import FengqiaoError
from retrieval.county.analysis import CountyView, Overview, Scope
from retrieval.county.records import OUTCOME_NAMES, PERFORMANCE_NAMES
from retrieval.county.warning import RULE, Signal
from retrieval.kb_folder import KBFolder
from ui import auth, county_charts
from ui.county_cli import URI_ENV
from ui.views import PAGE_FILES, county_view, kb_dir
from ui.widgets import md

_DRILL = "an-drill"  # (region, type, month ISO, article) of the cases shown
_SOURCE = "an-source"
DEMO_LABEL = "合成数据 · 仅供演示，不是真实调解记录"


def _own_committee() -> str:
    try:
        config = KBFolder(kb_dir()).county_config
        return str(json.loads(config.read_text(encoding="utf-8")).get("committee", ""))
    except (OSError, ValueError):
        return ""


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def _article_link(article_id: str, n: int) -> None:
    law, _, key = article_id.partition(":")
    st.page_link(
        PAGE_FILES["browse"],
        label=md(f"{law}第{key}条（{n} 件）"),
        icon=":material/menu_book:",
        query_params={"law": law, "article": key},
    )


def _scope_controls(view: CountyView, committee: str) -> Scope:
    if committee:
        st.caption(md(f"调解员只看本调委会：{committee}"))
        return Scope(committee=committee)
    towns = view.places()
    cols = st.columns(2)
    town = cols[0].selectbox("乡镇", ["全部乡镇", *towns], key="an-town")
    if town == "全部乡镇":
        return Scope()
    village = cols[1].selectbox("村（社区）调委会", ["全部", *towns[town]], key="an-committee")
    return Scope(town=town, committee="" if village == "全部" else village)


def _warnings(signals: list[Signal], scope_label: str) -> None:
    warns = [s for s in signals if s.warn]
    st.subheader("预警")
    with st.expander("预警规则", expanded=False):
        st.write(RULE.describe())
    if not warns:
        st.success("本月没有纠纷类型超过其季节基线。")
        return
    for i, s in enumerate(warns):
        where = s.region or scope_label
        box = st.container(border=True, key=f"an-warning-{i}")
        box.markdown(
            f"**{md(f'{where} · {s.dispute_type}')}**："
            + md(
                f"{s.month:%Y年%m月} {s.count} 件，"
                f"季节基线 λ = {s.expected:.1f}（前 12 个月月均 {s.trailing_mean:.1f} × "
                f"季节指数 {s.seasonal_index:.2f}，{s.years_used} 年同期），"
                f"为基线的 {s.ratio:.1f} 倍，p = {s.p_value:.2g}"
            )
        )
        key = f"an-warn-{s.region}-{s.dispute_type}"
        if box.button("查看这些案件", key=key, icon=":material/list:"):
            st.session_state[_DRILL] = (s.region, s.dispute_type, s.month.isoformat(), "")


def _drill(view: CountyView, scope: Scope, synthetic: bool) -> None:
    drill = st.session_state.get(_DRILL)
    if not drill:
        return
    region, dtype, month_iso, article = drill
    month = date.fromisoformat(month_iso)
    sub = scope
    if region:
        sub = Scope(town=region) if scope.region_column == "town" else Scope(scope.town, region)
    rows = view.cases(sub, dtype, month, article=article)
    st.subheader(
        md(
            f"案件：{region or '全部'} · {dtype} · {month:%Y年%m月}"
            + (f" · {article}" if article else "")
        )
    )
    if synthetic:
        st.warning(DEMO_LABEL)
    st.caption(f"{len(rows)} 件（最多列出 200 件）")
    st.dataframe(
        [
            {
                "日期": r.settled,
                "调委会": r.committee,
                "编号": r.number,
                "标题": r.title,
                "结果": OUTCOME_NAMES[r.outcome],
                "履行": PERFORMANCE_NAMES[r.performance_status],
                "法条": "、".join(r.cited),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
    cited: dict[str, int] = {}
    for r in rows:
        for a in r.cited:
            cited[a] = cited.get(a, 0) + 1
    if cited:
        st.caption("这些案件引用的法条：")
        for a, n in sorted(cited.items(), key=lambda x: -x[1])[:5]:
            _article_link(a, n)
    if st.button("收起案件列表", key="an-drill-close"):
        st.session_state.pop(_DRILL, None)
        st.rerun()


def _report(ov: Overview, scope_label: str, region_name: str) -> None:
    from ui.documents import county_report

    st.subheader("月度研判报告")
    if st.button("生成本月研判报告", key="an-report", icon=":material/description:"):
        with st.spinner("正在生成报告……"):
            report = county_report.build(ov, scope_label, region_name)
            st.session_state["an-report-files"] = (
                report.title,
                county_report.to_docx(report),
                county_report.to_pdf(report),
            )
    files = st.session_state.get("an-report-files")
    if files:
        title, docx, pdf = files
        cols = st.columns(2)
        cols[0].download_button("下载 PDF", pdf, f"{title}.pdf", "application/pdf", key="an-pdf")
        cols[1].download_button(
            "下载 Word",
            docx,
            f"{title}.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            key="an-docx",
        )


def main() -> None:
    st.title("矛盾纠纷研判")
    session = auth.current()
    if session is None:
        st.info("登录后才能查看研判。")
        return
    committee = ""
    if session.role == "mediator":
        committee = _own_committee()
        if not committee:
            st.info(
                "研判页供研判员和管理员使用；调解员只能看本调委会的数据，本机还没有设置所属调委会（先运行一次 fengqiao sync）。"
            )
            return
    uri = os.environ.get(URI_ENV, "")
    if not uri:
        st.info(
            f"还没有设置县级数据库。管理员设置环境变量 {URI_ENV}=postgresql://… 后重新启动；演示可先运行 fengqiao sync --demo --to postgresql://…"
        )
        return
    source = st.radio("数据", ["县级记录", "演示数据（合成）"], horizontal=True, key=_SOURCE)
    demo = source != "县级记录"
    try:
        with county_view(uri, demo) as view:
            _page(view, committee)
    except FengqiaoError as exc:
        st.error(md(exc.line()))


def _page(view: CountyView, committee: str) -> None:
    synthetic = view.store_kind() == "synthetic"
    if synthetic:
        st.warning(DEMO_LABEL, icon=":material/science:")
    scope = _scope_controls(view, committee)
    span = view.month_span(scope)
    if span is None:
        st.info("这里还没有记录。各调委会运行 fengqiao sync 后即可看到。")
        return
    months = CountyView.months(span)
    end = st.selectbox("研判月份", months, format_func=lambda m: f"{m:%Y年%m月}", key="an-month")
    ov = view.overview(scope, CountyView.window_start(span, end), end)
    scope_label = scope.committee or scope.town or (view.county_name() or "全县")
    region_name = "村（社区）" if scope.region_column == "committee" else "乡镇"
    _headline(ov)
    _warnings(list(ov.signals), scope_label)
    _drill(view, scope, synthetic)
    st.altair_chart(county_charts.trend(ov.by_month), width="stretch")
    st.altair_chart(county_charts.heat(ov.by_region, region_name), width="stretch")
    _by_type(ov, end)
    _report(ov, scope_label, region_name)


def _headline(ov: Overview) -> None:
    n = sum(r.n for r in ov.rates)
    ok = sum(r.success for r in ov.rates)
    known = sum(r.perf_known for r in ov.rates)
    done = sum(r.performed for r in ov.rates)
    sn = sum(r.settle_n for r in ov.rates)
    days = sum(r.settle_days for r in ov.rates)
    st.caption(f"{ov.start:%Y-%m} 至 {ov.end:%Y-%m}")
    cols = st.columns(4)
    cols[0].metric("受理", f"{n} 件")
    cols[1].metric("调解成功率", _pct(ok / n if n else None))
    cols[2].metric("履行率", _pct(done / known if known else None))
    cols[3].metric("平均用时", f"{days / sn:.1f} 天" if sn else "—")


def _by_type(ov: Overview, end: date) -> None:
    st.subheader("分类型：成功率、履行率、用时与常用法条")
    for r in ov.rates:
        d = r.days_to_settle
        with st.expander(
            md(
                f"{r.dispute_type}：{r.n} 件 · 成功率 {_pct(r.success_rate)} · "
                f"履行率 {_pct(r.performance_rate)} · 用时 {'—' if d is None else f'{d:.0f} 天'}"
            )
        ):
            for a, n in ov.articles.get(r.dispute_type, []):
                cols = st.columns([3, 1])
                with cols[0]:
                    _article_link(a, n)
                if cols[1].button("本月案件", key=f"an-art-{r.dispute_type}-{a}"):
                    st.session_state[_DRILL] = ("", r.dispute_type, end.isoformat(), a)
                    st.rerun()


main()
