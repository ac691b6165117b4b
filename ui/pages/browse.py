"""法规浏览: law → 编/章/节 → articles; search inside one law; ?law=民法典&article=1079 links."""

from __future__ import annotations

import streamlit as st

from ingest.names import canonical_law
from ingest.records import Article
from retrieval.catalogue import LawInfo
from ui.pages import get_service
from ui.widgets import (
    add_button,
    article_card,
    article_link,
    badge,
    collection_picker,
    collection_refs,
    data_freshness,
    highlight,
    md,
    show_store_error,
)

ALL = "（全部）"
MAX_LIST = 200


def path_label(path: tuple[str, ...]) -> str:
    return " / ".join(path) if path else "（无章节）"


def _param(name: str) -> str:
    value = st.query_params.get(name, "")
    return value if isinstance(value, str) else ""


def find_law(laws: list[LawInfo], wanted: str) -> LawInfo | None:
    """The LawInfo whose name matches ``wanted`` in any spelling or alias."""
    if not wanted:
        return None
    norm = canonical_law(wanted)
    return next((info for info in laws if info.law in (wanted, norm)), None)


def _select_law(infos: list[LawInfo]) -> None:
    st.query_params.clear()
    st.query_params["law"] = st.session_state["browse_law"]


def render() -> None:
    st.title("法规浏览")
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    data_freshness(service)
    show_store_error()
    infos = sorted(service.laws(), key=lambda i: (not i.current, i.law))
    if not infos:
        st.info("知识库中还没有法规。建议：到“知识库”页导入法规文件。")
        return
    wanted_law, wanted_article, version = _param("law"), _param("article"), _param("version")
    info = find_law(infos, wanted_law)
    if wanted_law and info is None:
        st.error(
            f"知识库中没有“{wanted_law}”。建议：从下拉列表中选择法规，或检查链接中的法规名称。"
        )
    names = [i.law for i in infos]
    titles = {i.law: f"{i.law_title}（{i.status}，{i.articles}条）" for i in infos}
    if info is not None:
        st.session_state["browse_law"] = info.law
    elif st.session_state.get("browse_law") not in names:
        st.session_state["browse_law"] = names[0]
    st.selectbox(
        "法规",
        names,
        key="browse_law",
        format_func=lambda n: titles.get(n, n),
        on_change=_select_law,
        args=(infos,),
    )
    law = st.session_state["browse_law"]
    info = next(i for i in infos if i.law == law)
    if not version and not info.current:
        version = info.version  # a law no longer in force has only dated versions
    articles: list[Article] = service.law_articles(law, version)
    st.markdown(f"{badge(info.status)}　{md(info.law_title)}　{md(info.level)}")

    focus = None
    if wanted_article and law == (find_law(infos, wanted_law) or info).law:
        focus = next((a for a in articles if a.key == wanted_article), None)
        if focus is None:
            focus = service.lookup(law, wanted_article, version)
        if focus is None:
            st.error(
                f"《{info.law_title}》中没有第{wanted_article}条。建议：检查条号，或在下方按章节浏览。"
            )
    refs = collection_refs()
    if focus is not None:
        st.markdown("##### 链接指向的条文")
        article_card(service, focus, key="focus", in_collection=refs, browse_link=False)

    query = st.text_input(
        "在本法中查找", key="browse_find", placeholder="输入词语或条号，如：调解 或 1079"
    )
    paths: list[tuple[str, ...]] = []
    for a in articles:
        if a.path not in paths:
            paths.append(a.path)
    if query.strip():
        q = query.strip()
        shown = [a for a in articles if q in a.text or q == a.key or q in a.label]
        st.caption(f"找到 {len(shown)} 条")
        terms: tuple[str, ...] = (q,)
    else:
        options = [ALL, *[path_label(p) for p in paths]]
        # A long law (民法典: 1,260 articles) opens at its first chapter, not as one endless page.
        first = options[1] if len(options) > 1 and len(articles) > MAX_LIST else ALL
        default = path_label(focus.path) if focus is not None else first
        # Reset the chapter only when the law or the linked article changes, so a
        # reader can still move to another chapter while the link stays in the URL.
        anchor = (law, focus.id if focus is not None else "")
        if (
            st.session_state.get("browse_anchor") != anchor
            or st.session_state.get("browse_path") not in options
        ):
            st.session_state["browse_path"] = default if default in options else ALL
            st.session_state["browse_anchor"] = anchor
        chosen = st.selectbox("编 / 章 / 节", options, key="browse_path")
        shown = [a for a in articles if chosen == ALL or path_label(a.path) == chosen]
        terms = ()
    if len(shown) > MAX_LIST:
        st.caption(f"共 {len(shown)} 条，只显示前 {MAX_LIST} 条；请选择章节或输入查找词缩小范围。")
    current_path: tuple[str, ...] | None = None
    for a in shown[:MAX_LIST]:
        if a.path != current_path:
            current_path = a.path
            st.markdown(f"###### {md(path_label(a.path))}")
        st.markdown(f"**{md(a.label)}**　{highlight(a.text, terms)}", unsafe_allow_html=True)
        left, right = st.columns([1, 3])
        with left:
            add_button("article", a.id, f"browse-add-{a.id}", refs)
        with right:
            article_link(a, f"{a.label} 链接")
    if not shown:
        st.info("没有符合的条文。建议：换一个查找词。")
    if focus is None and articles and not query.strip():
        st.caption("提示：每条下方的链接可复制分享，如 ?law=民法典&article=1079。")


if __name__ == "__main__":
    render()
