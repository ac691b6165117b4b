"""问答检索: question → answer points first, then 适用法条 and 类似案例; a citation → its page."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ingest.errors import FengqiaoError
from ingest.records import AI_ANSWER, CASE_KINDS, DISPUTE_TYPES, KIND_LABELS, STATUSES
from retrieval.answer import NO_POINT
from retrieval.asking import Answered
from retrieval.hits import CaseHit, Filters
from ui import auth
from ui.citation import opened_citation
from ui.guidance_panel import guidance_panel, risk_banner
from ui.protocols import AskService
from ui.samples import EXAMPLES
from ui.views import get_service
from ui.widgets import (
    article_card,
    article_link,
    case_card,
    collection_picker,
    collection_refs,
    data_freshness,
    esc,
    freshness_line,
    highlight,
    md,
    short_citation,
)

LEVELS = ("法律", "行政法规", "司法解释", "地方性法规", "部门规章", "用户文件")
# Results shown in each tab before 显示其余: a results page stays a few screens long.
# (A comment, not a docstring: Streamlit would print a bare string in a page script.)
FIRST = 3
_MEMO = "ask_memo"
QUESTION_LABEL = (
    "请输入纠纷情况、问题或法条引用，按回车检索"  # bench/bench_load.py finds it by "请输入纠纷情况"
)


def sidebar_filters(service: AskService) -> tuple[Filters, int]:
    """Sidebar filters; status defaults to law in force."""
    sb = st.sidebar
    sb.markdown("**检索范围**")
    laws = {info.law: info.law_title for info in service.laws()}
    chosen_laws = sb.multiselect(
        "法律法规", sorted(laws), key="f_laws", persist_state="session", placeholder="全部"
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
        "案例类型",
        CASE_KINDS,
        key="f_kinds",
        persist_state="session",
        placeholder="全部",
        format_func=lambda kind: KIND_LABELS.get(kind, kind),
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


def run_search(service: AskService, question: str, filters: Filters, k: int) -> Answered:
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


def examples() -> None:
    cols = st.columns(len(EXAMPLES))
    for col, example in zip(cols, EXAMPLES, strict=True):
        col.button(
            example, key=f"ex-{example}", on_click=_example, args=(example,), type="tertiary"
        )


def quote_html(quote_text: str, offset: int, spans: Sequence[tuple[int, int]]) -> str:
    return highlight(quote_text, [(a - offset, b - offset) for a, b in spans])


def answer_panel(answered: Answered) -> None:
    """答案要点: verbatim clauses of the governing articles, each with its citation."""
    answer = answered.answer
    with st.container(border=True):
        st.markdown("#### 答案要点", anchors=False)
        if not answer.quotes and answered.result.articles:
            st.info(NO_POINT)
        elif not answer.quotes:
            st.info("没有找到与问题直接相关的条文。建议：换个说法，或放宽左侧的筛选条件。")
        for n, quote in enumerate(answer.quotes, 1):
            article = answered.article(quote.article_id)
            card = answered.article_cards.get(quote.article_id)
            spans = card.spans if card is not None else ()
            body = quote_html(quote.text, quote.start, spans)
            if quote.lead:
                lead = quote_html(quote.lead, quote.lead_start, spans)
                body = f'<span class="fq-lead">{lead}</span>{"" if quote.adjacent else "……"}{body}'
            st.markdown(f'<div class="fq-quote">{n}. “{body}”</div>', unsafe_allow_html=True)
            if article is not None:
                article_link(article, f"——{short_citation(article)}")
            else:
                st.caption(md(f"——{quote.citation}"))
        if answer.quotes:
            st.caption("以上是知识库中法条原文的摘录，未作改写；请以完整条文为准。")
        freshness_line(answered.stale_as_of, answered.freshness)
        if answer.outcomes:
            st.markdown("**类似案例的处理结果**")
            for o in answer.outcomes:
                tail = "……" if o.truncated else ""
                st.markdown(
                    f"- **{esc(o.title)}**（{esc(o.kind)}）：{esc(o.text)}{tail}",
                    unsafe_allow_html=True,
                )


def notices(answered: Answered) -> None:
    for notice in answered.result.notices:
        show = st.warning if notice.level == "warning" else st.info
        show(md(notice.text))
        for sid in notice.suggestions[:3]:
            article = answered.article(sid)
            if article is not None:
                article_link(article, f"参考现行规定：{short_citation(article)}")


def _show_all(key: str, question: str) -> None:
    st.session_state[key] = question


def first_few(key: str, total: int, question: str) -> int:
    """How many results to draw: FIRST, or all once 显示其余 was pressed for this question."""
    return total if st.session_state.get(key) == question else min(total, FIRST)


def more_button(key: str, total: int, question: str, what: str) -> None:
    if total > FIRST and st.session_state.get(key) != question:
        st.button(
            f"显示其余 {total - FIRST} {what}",
            key=f"{key}-go",
            on_click=_show_all,
            args=(key, question),
            icon=":material/expand_more:",
        )


def citation_answer(answered: Answered) -> None:
    """A question that is only citations opens each cited article's page, nothing else."""
    refs = collection_refs()
    for n, opened in enumerate(answered.pages):
        opened_citation(
            opened, key=f"cited{n}", stale_as_of=answered.stale_as_of, in_collection=refs
        )


def results(answered: Answered) -> None:
    result = answered.result
    question = answered.question
    refs = collection_refs()
    shown = {h.record.id for h in result.articles}
    for cited in answered.cited:
        if cited.article is None:
            if not result.notices:
                st.warning(
                    f"知识库中没有找到“{md(cited.citation.raw)}”。建议：检查法律名称和条号，"
                    "或到“法规浏览”查找。"
                )
        elif cited.article.id not in shown:
            article_link(cited.article, f"问题中引用的条文：{short_citation(cited.article)}")
    risk_banner(answered.guidance)  # risk signs above all, on a phone too
    main, side = st.columns([3, 2], gap="medium")
    with main:
        answer_panel(answered)
    with side:
        guidance_panel(answered.guidance)
    tab_a, tab_c = st.tabs(
        [f"适用法条（{len(result.articles)}）", f"类似案例（{len(result.cases)}）"]
    )
    with tab_a:
        if not result.articles:
            st.info("没有符合条件的条文。建议：放宽左侧的“时效性”“法律法规”等筛选。")
        for hit in result.articles[: first_few("more-a", len(result.articles), question)]:
            article_card(
                hit.record,
                answered.card(hit),
                key=f"a{hit.rank}",
                rank=hit.rank,
                why=hit.why,
                stale_as_of=answered.stale_as_of,
                in_collection=refs,
            )
        more_button("more-a", len(result.articles), question, "条法条")
    with tab_c:
        # issue 21: answers a language model wrote are folded under their own heading
        people = [h for h in result.cases if h.record.kind != AI_ANSWER]
        machine = [h for h in result.cases if h.record.kind == AI_ANSWER]
        if not result.cases:
            st.info("没有找到类似案例。建议：放宽左侧的“纠纷类型”“案例类型”筛选。")
        for case_hit in people[: first_few("more-c", len(people), question)]:
            _case_hit_card(answered, case_hit, refs)
        more_button("more-c", len(people), question, "个案例")
        machine_answers(answered, machine, refs)


def machine_answers(answered: Answered, hits: list[CaseHit], refs: set[tuple[str, str]]) -> None:
    """AI 生成解答 under their own folded heading; in office mode (accounts) off by default."""
    if not hits:
        return
    label = f"AI 生成解答（未经核实，{len(hits)} 条）"
    session = auth.current()
    if (
        session is not None
        and not session.local
        and not st.toggle(f"显示{label}", key="show-machine-answers", value=False)
    ):
        st.caption(f"另有 {len(hits)} 条 AI 生成解答（未经核实），默认不显示。")
        return
    with st.expander(label, expanded=False):
        st.caption("由语言模型写成，没有经过人工核实，只能帮助理解问题，不能作为调解依据。")
        for case_hit in hits:
            _case_hit_card(answered, case_hit, refs)


def _case_hit_card(answered: Answered, case_hit: CaseHit, refs: set[tuple[str, str]]) -> None:
    case_card(
        answered,
        case_hit.record,
        key=f"c{case_hit.rank}",
        rank=case_hit.rank,
        card=answered.card(case_hit),
        why=case_hit.why,
        in_collection=refs,
    )


def render() -> None:
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    data_freshness(service)
    filters, k = sidebar_filters(service)
    st.title("问答检索", anchor=False)
    st.text_input(
        QUESTION_LABEL,
        key="q",
        bind="query-params",
        persist_state="session",
        placeholder="如：男方不同意离婚，女方可以怎么办？ 或 民法典第1079条",
    )
    question = (st.session_state.get("q") or "").strip()
    if not question:
        examples()
        st.caption("可以直接点上面的示例；输入“民法典第1079条”“婚姻法第32条”会直接打开条文。")
        return
    try:
        answered = run_search(service, question, filters, k)
    except FengqiaoError as exc:
        hint = exc.hint or "换个说法再试；如仍出错，请知识库管理员检查知识库"
        st.error(md(f"检索失败：{exc.message} 建议：{hint}"))
        return
    if answered.citation_only:
        citation_answer(answered)
    else:
        notices(answered)
        results(answered)
    # written last: bench/bench_load.py takes it as "the answer is on screen"
    st.caption(f"检索用时 {answered.ms:.0f} 毫秒")
    with st.expander("示例问题"):
        examples()


if __name__ == "__main__":
    render()
