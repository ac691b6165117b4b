"""Reusable Streamlit pieces: article and case cards, status badges, safe highlighting, links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st

from ingest.records import Article, Case
from retrieval.answer import term_spans
from retrieval.hits import Why
from ui.pages import PAGE_FILES, get_store
from ui.protocols import KnowledgeService
from ui.store import StoreError

BADGE_COLOURS = {"现行有效": "green", "已修改": "orange", "已废止": "red", "尚未施行": "blue"}
SOURCE_NAMES = {
    "citation": "问题中直接引用",
    "keyword": "关键词匹配",
    "semantic": "语义相似",
    "precedent": "类似案例引用此条",
}
DEFAULT_COLLECTION = "我的案卷"
_MD_SPECIAL = "\\`*_{}[]()#+-.!|~$:<>&\"'"
# Every character that HTML or Streamlit's Markdown (emphasis, links, $math$,
# :directives:) could interpret becomes a numeric entity: shown as itself, never parsed.
_ENTITIES = {ord(ch): f"&#{ord(ch)};" for ch in _MD_SPECIAL}
_MD_BACKSLASH = {ord(ch): "\\" + ch for ch in "\\`*_{}[]()#+-.!|~$:<>"}


def esc(text: str) -> str:
    """Text from data or users, made inert for ``st.markdown(..., unsafe_allow_html=True)``."""
    return text.translate(_ENTITIES).replace("\n", "<br>")


def md(text: str) -> str:
    """Text made inert for plain Markdown (labels, captions): backslash-escaped."""
    return text.translate(_MD_BACKSLASH)


def highlight(
    text: str,
    terms: Iterable[str] = (),
    sentence: tuple[int, int] | None = None,
) -> str:
    """Escaped HTML of ``text`` with ``terms`` marked and one sentence span underlined."""
    marks = term_spans(text, terms)
    flags = [0] * len(text)
    for a, b in marks:
        for i in range(a, b):
            flags[i] |= 1
    if sentence:
        for i in range(max(0, sentence[0]), min(len(text), sentence[1])):
            flags[i] |= 2
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and flags[j] == flags[i]:
            j += 1
        piece = esc(text[i:j])
        if flags[i] & 1:
            piece = f'<mark style="background:#ffe08a;padding:0 1px">{piece}</mark>'
        if flags[i] & 2:
            piece = (
                f'<span style="background:#e6f0ff;border-bottom:2px solid #3b7dd8">{piece}</span>'
            )
        out.append(piece)
        i = j
    return "".join(out)


def badge(status: str) -> str:
    colour = BADGE_COLOURS.get(status, "gray")
    return f":{colour}-badge[{md(status)}]"


def article_dates(article: Article) -> str:
    parts = []
    if article.valid_from:
        parts.append(f"施行 {article.valid_from}")
    if article.publish:
        parts.append(f"公布 {article.publish}")
    if not article.current and article.version:
        parts.append(f"版本 {article.version}")
    return " · ".join(parts)


def why_text(why: Why) -> str:
    parts = []
    for source in why.sources:
        name = SOURCE_NAMES.get(source, source)
        rank = {"keyword": why.keyword_rank, "semantic": why.semantic_rank}.get(source)
        if rank:
            name += f"（第{rank}名）"
        elif source == "precedent" and why.via_cases:
            name += f"（{len(why.via_cases)}个相似案例）"
        parts.append(name)
    text = "为什么出现：" + ("、".join(parts) if parts else "综合排序")
    if why.matched_terms:
        text += "；命中词：" + "、".join(why.matched_terms[:12])
    if why.section:
        text += f"；最相关部分：{why.section}"
    return text


def article_params(article: Article) -> dict[str, str]:
    params = {"law": article.law, "article": article.key}
    if not article.current and article.version:
        params["version"] = article.version
    return params


def article_link(article: Article, label: str | None = None, *, key: str | None = None) -> None:
    """A link to the article's page in 法规浏览 (shareable: ?law=…&article=…)."""
    st.page_link(
        PAGE_FILES["browse"],
        label=md(label or article.citation),
        icon=":material/menu_book:",
        query_params=article_params(article),
    )


# ---- collections -------------------------------------------------------------


def current_collection_id() -> int | None:
    return st.session_state.get("collection_id")


def collection_picker() -> None:
    """Sidebar: choose the collection that “加入案卷” adds to, or start a new one."""
    store = get_store()
    cols = store.collections()
    st.sidebar.markdown("**当前案卷**")
    if cols:
        ids = [c.id for c in cols]
        if st.session_state.get("collection_id") not in ids:
            st.session_state["collection_id"] = ids[-1]
        names = {c.id: f"{c.name}（{c.size}）" for c in cols}
        st.sidebar.selectbox(
            "当前案卷",
            ids,
            key="collection_id",
            format_func=lambda i: names.get(i, str(i)),
            label_visibility="collapsed",
        )
    else:
        st.sidebar.caption("还没有案卷；点“加入案卷”会自动新建“我的案卷”。")
    with st.sidebar.popover("新建案卷", icon=":material/create_new_folder:"):
        name = st.text_input("案卷名称", key="new_collection_name", placeholder="如：张某离婚纠纷")
        if st.button("创建", key="new_collection_go"):
            try:
                st.session_state["collection_id"] = store.create(name).id
                st.rerun()
            except StoreError as exc:
                st.error(str(exc))


def _add(kind: str, ref: str) -> None:
    store = get_store()
    cid = current_collection_id()
    if cid is None or store.get(cid) is None:
        cid = store.create(DEFAULT_COLLECTION).id
        st.session_state["collection_id"] = cid
    try:
        store.add(cid, kind, ref)  # type: ignore[arg-type]
        found = store.get(cid)
        st.toast(f"已加入案卷“{found.name if found else ''}”")
    except StoreError as exc:
        st.session_state["_store_error"] = str(exc)


def collection_refs() -> set[tuple[str, str]]:
    cid = current_collection_id()
    if cid is None:
        return set()
    return {(i.kind, i.ref) for i in get_store().items(cid)}


def add_button(kind: str, ref: str, key: str, in_collection: set[tuple[str, str]]) -> None:
    if (kind, ref) in in_collection:
        st.button("已在案卷", key=key, disabled=True, icon=":material/bookmark_added:")
    else:
        st.button(
            "加入案卷", key=key, on_click=_add, args=(kind, ref), icon=":material/bookmark_add:"
        )


def data_freshness(service: KnowledgeService) -> None:
    """Sidebar: the date the statute data runs to; a warning once it is over a year old."""
    notice = service.freshness_notice()
    if notice is None:
        return
    if notice.level == "warning":
        st.sidebar.warning(notice.text)
    else:
        st.sidebar.caption(notice.text)


def show_store_error() -> None:
    err = st.session_state.pop("_store_error", None)
    if err:
        st.error(err)


# ---- cards ---------------------------------------------------------------------


def article_header(article: Article, rank: int | None = None) -> None:
    prefix = f"{rank}. " if rank else ""
    st.markdown(
        f"**{prefix}{md(article.law_title)}　{md(article.label)}**　{badge(article.status)}"
    )
    meta = [" / ".join(article.path) if article.path else "", article_dates(article), article.level]
    st.caption(md(" · ".join(m for m in meta if m)))


def article_card(
    service: KnowledgeService,
    article: Article,
    *,
    key: str,
    rank: int | None = None,
    why: Why | None = None,
    terms: Sequence[str] = (),
    sentence: tuple[int, int] | None = None,
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
    context: bool = True,
    browse_link: bool = True,
) -> None:
    """One article: header, badge, path, verbatim highlighted text, citation, actions."""
    with st.container(border=True):
        article_header(article, rank)
        st.markdown(highlight(article.text, terms, sentence), unsafe_allow_html=True)
        if why is not None:
            st.caption(md(why_text(why)))
        st.code(article.citation, language=None)
        left, right = st.columns([1, 1])
        with left:
            add_button("article", article.id, f"{key}-add", in_collection)
        if browse_link:
            with right:
                article_link(article, "在法规浏览中打开")
        if context:
            with st.expander("相邻条文 / 整章"):
                whole = st.toggle("显示整章", key=f"{key}-chapter")
                around = service.chapter(article.id) if whole else service.neighbours(article.id, 2)
                for other in around:
                    if other.id == article.id:
                        continue
                    st.markdown(f"**{md(other.label)}**　{esc(other.text)}", unsafe_allow_html=True)
            citing = service.cases_citing(article.id)
            with st.expander(f"引用本条的案例（{len(citing)}）"):
                if not citing:
                    st.caption("知识库中暂无引用本条的案例。")
                for case in citing[:10]:
                    st.markdown(f"**{md(case.title)}**　{md(case_meta(case))}")
                    if case.outcome:
                        st.caption(md(brief(case.outcome, 100)))


def brief(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "……"


def case_meta(case: Case) -> str:
    return " · ".join(p for p in (case.kind, case.dispute_type, case.region, case.date) if p)


def case_card(
    service: KnowledgeService,
    case: Case,
    *,
    key: str,
    rank: int | None = None,
    why: Why | None = None,
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> None:
    """One case: title, kind/type/region/date, facts in brief, outcome, cited articles, full text."""
    with st.container(border=True):
        prefix = f"{rank}. " if rank else ""
        st.markdown(f"**{prefix}{md(case.title)}**")
        st.caption(md(case_meta(case)))
        if case.facts:
            st.markdown(f"**案情：** {esc(brief(case.facts, 160))}", unsafe_allow_html=True)
        if case.outcome:
            st.markdown(f"**结果：** {esc(brief(case.outcome, 200))}", unsafe_allow_html=True)
        cited = [(c, service.article(c.resolved_id) if c.resolved_id else None) for c in case.cited]
        if cited:
            st.markdown("**引用法条：**")
            for c, art in cited:
                if art is not None:
                    article_link(art, f"{art.citation}{c.detail}")
                else:
                    note = "（该法已废止）" if c.repealed else "（知识库中未收录）"
                    st.caption(md(c.raw + note))
        if why is not None:
            st.caption(md(why_text(why)))
        add_button("case", case.id, f"{key}-add", in_collection)
        with st.expander("查看全文（已匿名化）"):
            for name, body in case.sections:
                st.markdown(f"**{md(name)}**　{esc(body)}", unsafe_allow_html=True)
            if case.source:
                st.caption(md(f"来源：{case.source}"))
