"""法规浏览: law → 编/章/节 → articles; ?law=民法典&article=1079 opens that article's citation page."""

from __future__ import annotations

import streamlit as st

from ingest.names import canonical_law
from ingest.records import Article
from retrieval.catalogue import LawInfo
from ui.citation import opened_citation
from ui.protocols import BrowseService
from ui.views import PAGE_FILES, get_service
from ui.widgets import (
    add_button,
    article_link,
    badge,
    collection_picker,
    collection_refs,
    data_freshness,
    highlight,
    md,
)

ALL = "（全部）"
MAX_LIST = 200


def path_label(path: tuple[str, ...]) -> str:
    return " / ".join(path) if path else "（无章节）"


def _param(name: str) -> str:
    value = st.query_params.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def find_law(laws: list[LawInfo], wanted: str) -> LawInfo | None:
    """The LawInfo whose name matches ``wanted`` in any spelling or alias."""
    if not wanted:
        return None
    norm = canonical_law(wanted)
    return next((info for info in laws if info.law in (wanted, norm)), None)


def _select_law() -> None:
    st.query_params.clear()
    st.query_params["law"] = st.session_state["browse_law"]


def citation_page(service: BrowseService, law: str, article: str, version: str) -> bool:
    """The citation page of a link; True when it showed an article."""
    opened = service.open_citation(law, article, version)
    shown = opened_citation(
        opened, key="focus", stale_as_of=service.stale_as_of(), in_collection=collection_refs()
    )
    if shown and opened.page is not None:
        a = opened.page.article
        params = {"law": a.law} | ({"version": a.version} if not a.current else {})
        st.page_link(
            PAGE_FILES["browse"],
            label=md(f"浏览《{a.law_title}》的全部条文"),
            icon=":material/menu_book:",
            query_params=params,
        )
    return shown


def law_browser(service: BrowseService, infos: list[LawInfo], info: LawInfo | None) -> None:
    """Choose a law, then a 编/章/节 or a word to find; each article with 加入案卷 and its page."""
    version = _param("version")
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
    )
    law = st.session_state["browse_law"]
    info = next(i for i in infos if i.law == law)
    if not version and not info.current:
        version = info.version  # a law no longer in force has only dated versions
    articles: list[Article] = service.law_articles(law, version)
    status = badge(info.status, service.stale_as_of())
    st.markdown(f"{status}　{md(info.law_title)}　{md(info.level)}")
    refs = collection_refs()
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
        if st.session_state.get("browse_anchor") != law or (
            st.session_state.get("browse_path") not in options
        ):
            st.session_state["browse_path"] = first
            st.session_state["browse_anchor"] = law
        chosen = st.selectbox("编 / 章 / 节", options, key="browse_path")
        shown = [a for a in articles if chosen == ALL or path_label(a.path) == chosen]
        terms = ()
    if len(shown) > MAX_LIST:
        st.caption(f"共 {len(shown)} 条，只显示前 {MAX_LIST} 条；请选择章节或输入查找词缩小范围。")
    current_path: tuple[str, ...] | None = None
    for a in shown[:MAX_LIST]:
        if a.path != current_path:
            current_path = a.path
            st.markdown(f"###### {md(path_label(a.path))}", anchors=False)
        spans = [(i, i + len(t)) for t in terms for i in _find_all(a.text, t)]
        st.markdown(f"**{md(a.label)}**　{highlight(a.text, spans)}", unsafe_allow_html=True)
        with st.container(horizontal=True, vertical_alignment="center"):
            add_button("article", a.id, f"browse-add-{a.id}", refs)
            article_link(a, "条文详情", icon=False)
    if not shown:
        st.info("没有符合的条文。建议：换一个查找词。")


def _find_all(text: str, term: str) -> list[int]:
    out, at = [], text.find(term)
    while term and at >= 0:
        out.append(at)
        at = text.find(term, at + 1)
    return out


def render() -> None:
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    data_freshness(service)
    st.title("法规浏览", anchor=False)
    infos = sorted(service.laws(), key=lambda i: (not i.current, i.law))
    wanted_law, wanted_article = _param("law"), _param("article")
    if wanted_article and citation_page(service, wanted_law, wanted_article, _param("version")):
        return
    if not infos:
        st.info("知识库中还没有法规。建议：请知识库管理员在“知识库”页导入法规文件。")
        return
    info = find_law(infos, wanted_law)
    if wanted_law and info is None and not wanted_article:
        st.error(md(f"知识库中没有“{wanted_law}”。建议：从下面的列表中选择法规。"))
    law_browser(service, infos, info)


if __name__ == "__main__":
    render()
