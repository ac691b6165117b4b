"""问答检索: question → answer panel, 适用法条, 类似案例, with filters in the sidebar."""

from __future__ import annotations

import streamlit as st

from ingest.errors import FengqiaoError
from ingest.records import CASE_KINDS, DISPUTE_TYPES, STATUSES
from retrieval.answer import question_terms
from retrieval.cite import without_citations
from retrieval.hits import Filters
from retrieval.service import Answered
from ui.pages import get_service
from ui.protocols import KnowledgeService
from ui.widgets import (
    article_card,
    article_link,
    case_card,
    collection_picker,
    collection_refs,
    data_freshness,
    esc,
    highlight,
    md,
    show_store_error,
)

EXAMPLES = (
    "男方不同意离婚，女方可以怎么办？",
    "邻居装修噪音很大，晚上也施工，怎么处理？",
    "老板拖欠工资不给，怎么维权？",
    "民法典第1079条",
)
LEVELS = ("法律", "行政法规", "司法解释", "地方性法规", "部门规章", "用户文件")
_MEMO = "ask_memo"


def sidebar_filters(service: KnowledgeService) -> tuple[Filters, int]:
    """Sidebar filters; status defaults to law in force."""
    sb = st.sidebar
    sb.markdown("**检索范围**")
    laws = {info.law: info.law_title for info in service.laws()}
    chosen_laws = sb.multiselect(
        "法律法规",
        sorted(laws),
        key="f_laws",
        persist_state="session",
        format_func=lambda x: x,
        placeholder="全部",
    )
    levels = sb.multiselect(
        "效力级别", LEVELS, key="f_levels", persist_state="session", placeholder="全部"
    )
    statuses = sb.multiselect(
        "时效性",
        STATUSES,
        default=["现行有效", "尚未施行"],
        key="f_status",
        persist_state="session",
        placeholder="全部",
    )
    types = sb.multiselect(
        "纠纷类型", DISPUTE_TYPES, key="f_types", persist_state="session", placeholder="全部"
    )
    kinds = sb.multiselect(
        "案例类型", CASE_KINDS, key="f_kinds", persist_state="session", placeholder="全部"
    )
    k = sb.slider("法条数量", 3, 30, 10, key="f_k", persist_state="session")
    old = bool(set(statuses) & {"已修改", "已废止"}) or not statuses
    filters = Filters(
        laws=tuple(chosen_laws),
        levels=tuple(levels),
        statuses=tuple(statuses),
        current_only=not old,
        dispute_types=tuple(types),
        case_kinds=tuple(kinds),
    )
    return filters, k


def run_search(service: KnowledgeService, question: str, filters: Filters, k: int) -> Answered:
    """Ask once per (index, question, filters); widget clicks rerun without searching again."""
    key = (service.version, question, filters, k)
    memo: dict = st.session_state.setdefault(_MEMO, {})
    if key not in memo:
        answered = service.ask(question, filters=filters, k=k, k_cases=5)
        memo.clear()  # keep one result per session: small and always fresh
        memo[key] = answered
    return memo[key]  # type: ignore[no-any-return]


def _example(q: str) -> None:
    st.session_state["q"] = q


def answer_panel(service: KnowledgeService, answered: Answered) -> None:
    answer = answered.answer
    with st.container(border=True):
        st.markdown("#### 答案要点")
        st.caption("以下均为知识库原文摘录，不作改写；请以完整条文为准。")
        if not answer.quotes and not answered.result.cited:
            st.info("没有找到与问题直接相关的条文。建议：换个说法，或放宽左侧筛选条件。")
        for n, quote in enumerate(answer.quotes, 1):
            article = service.article(quote.article_id)
            st.markdown(f"{n}. “{highlight(quote.text, quote.terms)}”", unsafe_allow_html=True)
            if article is not None:
                article_link(article, f"——{quote.citation}")
            else:
                st.caption(md(f"——{quote.citation}"))
        if answer.outcomes:
            st.markdown("**类似案例的处理结果**")
            for o in answer.outcomes:
                tail = "……" if o.truncated else ""
                st.markdown(
                    f"- **{esc(o.title)}**（{esc(o.kind)}）：{esc(o.text)}{tail}",
                    unsafe_allow_html=True,
                )


def notices(service: KnowledgeService, answered: Answered) -> None:
    for notice in answered.result.notices:
        show = st.warning if notice.level == "warning" else st.info
        show(notice.text)
        for sid in notice.suggestions[:3]:
            article = service.article(sid)
            if article is not None:
                article_link(article, f"参考现行规定：{article.citation}")


def render() -> None:
    st.title("问答检索")
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    data_freshness(service)
    filters, k = sidebar_filters(service)
    st.text_input(
        "请输入纠纷情况、问题或法条引用，按回车检索",
        key="q",
        bind="query-params",
        persist_state="session",
        placeholder="如：男方不同意离婚，女方可以怎么办？ 或 民法典第1079条",
    )
    cols = st.columns(len(EXAMPLES))
    for col, example in zip(cols, EXAMPLES, strict=True):
        col.button(
            example, key=f"ex-{example}", on_click=_example, args=(example,), type="tertiary"
        )
    question = (st.session_state.get("q") or "").strip()
    show_store_error()
    if not question:
        st.caption("示例问题可直接点击；也可以输入“民法典第1079条”“婚姻法第32条”直接打开条文。")
        return
    try:
        answered = run_search(service, question, filters, k)
    except FengqiaoError as exc:
        st.error(f"检索失败：{exc.message} 建议：{exc.hint or '换个说法再试，或请管理员重建索引'}")
        return
    result, answer = answered.result, answered.answer
    notices(service, answered)
    refs = collection_refs()
    shown = {h.record.id for h in result.articles}
    for n, cited in enumerate(answered.cited):
        article = cited.article
        if article is None:
            if cited.citation.repealed and result.notices:
                continue  # the repealed-law notice above already explains it
            st.warning(
                f"知识库中没有找到“{md(cited.citation.raw)}”。建议：检查法律名称和条号，或到“法规浏览”查找。"
            )
            continue
        st.success(f"已直接打开问题中引用的条文：{md(article.citation)}")
        if article.id not in shown:
            article_card(service, article, key=f"cited{n}", in_collection=refs)
    if answer.quotes or (answer.outcomes and not result.cited):
        answer_panel(service, answered)
    terms = question_terms(without_citations(question, result.cited))
    quote_spans = {q.article_id: (q.start, q.end) for q in answer.quotes}
    tab_a, tab_c = st.tabs(
        [f"适用法条（{len(result.articles)}）", f"类似案例（{len(result.cases)}）"]
    )
    with tab_a:
        if not result.articles:
            st.info("没有符合条件的条文。建议：放宽左侧的“时效性”“法律法规”等筛选。")
        for hit in result.articles:
            article_card(
                service,
                hit.record,
                key=f"a{hit.rank}",
                rank=hit.rank,
                why=hit.why,
                terms=tuple(terms) + tuple(hit.why.matched_terms),
                sentence=quote_spans.get(hit.record.id),
                in_collection=refs,
            )
    with tab_c:
        if not result.cases:
            st.info("没有找到类似案例。建议：放宽左侧“纠纷类型”“案例类型”筛选。")
        for case_hit in result.cases:
            case_card(
                service,
                case_hit.record,
                key=f"c{case_hit.rank}",
                rank=case_hit.rank,
                why=case_hit.why,
                in_collection=refs,
            )
    st.caption(f"检索用时 {answered.ms:.0f} 毫秒")


if __name__ == "__main__":
    render()
