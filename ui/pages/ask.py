"""问答检索: question → answer panel, 适用法条, 类似案例, with filters in the sidebar."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from ingest.records import CASE_KINDS, DISPUTE_TYPES, STATUSES, Article, Case, Citation
from retrieval.answer import Answer, extract_answer, question_terms, without_citations
from retrieval.errors import FengqiaoError
from retrieval.hits import Filters, SearchResult
from ui.pages import get_kb, kb_version
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


def sidebar_filters(kb: Any) -> tuple[Filters, int]:
    """Sidebar filters; status defaults to law in force."""
    sb = st.sidebar
    sb.markdown("**检索范围**")
    laws = {info.law: info.law_title for info in kb.laws()}
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


def run_search(
    kb: Any, question: str, filters: Filters, k: int
) -> tuple[SearchResult, Answer, float]:
    """Search once per (index, question, filters); widget clicks rerun without searching again."""
    key = (kb_version(kb), question, filters, k)
    memo: dict = st.session_state.setdefault(_MEMO, {})
    if key not in memo:
        start = time.perf_counter()
        result = kb.search(question, k=k, k_cases=5, filters=filters)
        answer = extract_answer(question, result.articles, result.cases, cited=result.cited)
        memo.clear()  # keep one result per session: small and always fresh
        memo[key] = (result, answer, (time.perf_counter() - start) * 1000)
    return memo[key]


def _example(q: str) -> None:
    st.session_state["q"] = q


def answer_panel(kb: Any, result: SearchResult, answer: Answer) -> None:
    with st.container(border=True):
        st.markdown("#### 答案要点")
        st.caption("以下均为知识库原文摘录，不作改写；请以完整条文为准。")
        if not answer.quotes and not result.cited:
            st.info("没有找到与问题直接相关的条文。建议：换个说法，或放宽左侧筛选条件。")
        for n, quote in enumerate(answer.quotes, 1):
            article = kb.article(quote.article_id)
            st.markdown(f"{n}. “{highlight(quote.text, quote.terms)}”", unsafe_allow_html=True)
            if isinstance(article, Article):
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


def cited_article(kb: Any, citation: Citation) -> Article | None:
    """The article a citation in the question names, also when its law is no longer in force."""
    if citation.resolved_id:
        found = kb.article(citation.resolved_id)
        if found is not None:
            return found
    if not citation.law or not citation.article:
        return None
    found = kb.lookup(citation.law, citation.article)
    if found is None:
        for info in kb.laws():
            if info.law == citation.law and info.version:
                found = kb.lookup(citation.law, citation.article, info.version)
                break
    return found


def notices(kb: Any, result: SearchResult) -> None:
    for notice in result.notices:
        show = st.warning if notice.level == "warning" else st.info
        show(notice.text)
        for sid in notice.suggestions[:3]:
            article = kb.article(sid)
            if article is not None:
                article_link(article, f"参考现行规定：{article.citation}")


def render() -> None:
    st.title("问答检索")
    kb = get_kb()
    collection_picker()
    if kb is None:
        st.stop()
    data_freshness(kb)
    filters, k = sidebar_filters(kb)
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
        result, answer, ms = run_search(kb, question, filters, k)
    except FengqiaoError as exc:
        st.error(
            f"检索失败：{exc.message} 建议：{exc.hint or '换个说法再试，或到“知识库”页重建索引'}"
        )
        return
    notices(kb, result)
    refs = collection_refs()
    shown = {h.record.id for h in result.articles}
    for n, citation in enumerate(result.cited):
        article = cited_article(kb, citation)
        if article is None:
            if citation.repealed and result.notices:
                continue  # the repealed-law notice above already explains it
            st.warning(
                f"知识库中没有找到“{citation.raw}”。建议：检查法律名称和条号，或到“法规浏览”查找。"
            )
            continue
        st.success(f"已直接打开问题中引用的条文：{article.citation}")
        if article.id not in shown:
            article_card(kb, article, key=f"cited{n}", in_collection=refs)
    if answer.quotes or (answer.outcomes and not result.cited):
        answer_panel(kb, result, answer)
    terms = question_terms(without_citations(question, result.cited))
    quote_spans = {q.article_id: (q.start, q.end) for q in answer.quotes}
    tab_a, tab_c = st.tabs(
        [f"适用法条（{len(result.articles)}）", f"类似案例（{len(result.cases)}）"]
    )
    with tab_a:
        if not result.articles:
            st.info("没有符合条件的条文。建议：放宽左侧的“时效性”“法律法规”等筛选。")
        for hit in result.articles:
            if not isinstance(hit.record, Article):
                continue
            article_card(
                kb,
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
        for hit in result.cases:
            if isinstance(hit.record, Case):
                case_card(
                    kb,
                    hit.record,
                    key=f"c{hit.rank}",
                    rank=hit.rank,
                    why=hit.why,
                    in_collection=refs,
                )
    st.caption(f"检索用时 {ms:.0f} 毫秒")


if __name__ == "__main__":
    render()
