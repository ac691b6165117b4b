"""The citation page of one article: its text and status, versions and what replaced it,
its neighbours, the interpretations and cases that cite it. No keyword matching: a
citation names an article, so only that article and what is linked to it are shown."""

from __future__ import annotations

import streamlit as st

from ingest.records import Article
from retrieval.citation_page import ArticlePage, OpenedCitation
from ui.text import brief, esc, md
from ui.views import PAGE_FILES
from ui.widgets import (
    add_button,
    article_dates,
    article_link,
    article_meta,
    badge,
    case_brief,
    case_meta,
    kind_badge,
    short_citation,
    sorted_cases,
)

SHOWN = 5
"""Citing articles and cases listed before a 更多 button."""


def citing_sentence(text: str, cited: Article) -> str:
    """The sentence of ``text`` that names the cited article's number, else the opening."""
    at = text.find(cited.label)
    if at < 0:
        return brief(text, 80)
    start = max(text.rfind(ch, 0, at) for ch in "。；\n") + 1
    ends = [i for i in (text.find(ch, at) for ch in "。；\n") if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    prefix = "……" if start > 0 else ""
    suffix = "……" if end < len(text) else ""
    return prefix + text[start:end].strip() + suffix


def _more(key: str, total: int) -> int:
    """How many to show: SHOWN, or all after the reader asked for more."""
    return total if st.session_state.get(key) else SHOWN


def _more_button(key: str, total: int, what: str) -> None:
    if total > SHOWN and not st.session_state.get(key):
        st.button(
            f"显示其余 {total - SHOWN} {what}", key=f"{key}-go", on_click=_show_all, args=(key,)
        )


def _show_all(key: str) -> None:
    st.session_state[key] = True


def status_notes(page: ArticlePage) -> None:
    """What became of the article: repealed, an older version, renumbered since."""
    a = page.article
    if page.repeal is not None:
        gone = page.repeal
        st.warning(
            md(
                f"《{gone.law}》已于 {gone.ceased} 废止（依据{gone.basis}），本条不再适用；"
                f"现行规定见《{gone.replaced_by}》。"
            )
        )
        for s in page.successors:
            article_link(s, f"内容相近的现行条文：{short_citation(s)}")
        if page.successors:
            st.caption("按条文文字相似程度找到，并非官方新旧条文对照；请核对原文。")
    elif not a.current:
        st.warning(md(f"这是《{a.law_title}》{a.version} 版本的条文（{a.status}），不是现行文本。"))
        if page.current is not None:
            article_link(page.current, f"现行文本中的相应条文：{short_citation(page.current)}")
    for old, now in page.renumbered[:2]:
        text = f"修订前（{old.version} 版本）的{old.label}内容与现行{a.label}不同"
        st.info(md(text + (f"，现为{now.label}。" if now else "，现行文本中没有与之相近的条文。")))
        if now is not None:
            article_link(now, f"现行{now.label}")
    others = [v for v in page.versions if v.id != a.id]
    if others:
        with st.expander(f"本条的其他版本（{len(others)}）"):
            for v in others:
                when = "现行文本" if v.current else f"{v.version} 版本"
                article_link(v, f"{when}（{v.status}）：{v.label}", icon=False)


def related_interpretations(page: ArticlePage) -> None:
    """Interpretations linked by subject (no number cited), and what an interpretation refines."""
    if page.interpretations:
        st.markdown(f"##### 相关司法解释（按内容关联，{len(page.interpretations)}）", anchors=False)
        st.caption("这些司法解释条文没有直接写明本条条号，是按条文内容关联的，适用前请核对原文。")
        for related in page.interpretations:
            with st.container(border=True):
                st.markdown(f"**{md(related.citation)}**　{badge(related.status)}")
                st.markdown(
                    f'<div class="fq-snippet">{esc(brief(related.text, 120))}</div>',
                    unsafe_allow_html=True,
                )
                article_link(related, "打开这一条", icon=False)
    for general in page.refines:
        article_link(general, f"本条细化的一般规定（按内容关联）：{short_citation(general)}")


def citation_view(
    page: ArticlePage,
    *,
    key: str,
    stale_as_of: str = "",
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> None:
    """The article, verbatim, with everything the knowledge base links to it."""
    a = page.article
    with st.container(border=True):
        st.markdown(f"#### {md(a.citation)}", anchors=False)
        st.markdown(badge(a.status, stale_as_of) + "　" + md(article_meta(a)))
        st.caption(md(article_dates(a)))
        st.markdown(f'<div class="fq-quote">{esc(a.text)}</div>', unsafe_allow_html=True)
        st.code(a.citation, language=None, wrap_lines=True)
        add_button("article", a.id, f"{key}-add", in_collection)
        status_notes(page)

    neighbours = [n for n in page.neighbours if n.id != a.id]
    if neighbours:
        st.markdown(f"##### 同一{'章节' if a.path else '法律'}的相邻条文", anchors=False)
        if a.path:
            st.caption(md(" / ".join(a.path)))
        for n in page.neighbours:
            if n.id == a.id:
                st.markdown(f"**{md(n.label)}**（本条）")
                continue
            article_link(n, f"{n.label}　{brief(n.text, 40)}", icon=False)

    st.markdown(f"##### 引用本条的司法解释等规定（{len(page.citing)}）", anchors=False)
    if not page.citing:
        st.caption("知识库中没有引用本条的司法解释或其他规定。")
    shown = _more(f"{key}-more-citing", len(page.citing))
    for c in page.citing[:shown]:
        with st.container(border=True):
            status = badge(c.article.status, stale_as_of)
            st.markdown(f"**{md(c.article.citation)}**　{status}")
            st.markdown(
                f'<div class="fq-snippet">{esc(citing_sentence(c.article.text, a))}</div>',
                unsafe_allow_html=True,
            )
            if c.predates:
                st.caption(
                    md(
                        f"注意：该规定公布于 {c.article.publish}，早于本条现行文本，"
                        "所引条号可能是修订前的序号，请核对。"
                    )
                )
            article_link(c.article, "打开这一条", icon=False)
    _more_button(f"{key}-more-citing", len(page.citing), "条")
    related_interpretations(page)

    cases = sorted_cases(page.cases)
    st.markdown(f"##### 引用本条的案例（{len(cases)}）", anchors=False)
    if not cases:
        st.caption("知识库中暂无引用本条的案例。")
    shown = _more(f"{key}-more-cases", len(cases))
    for case in cases[:shown]:
        with st.container(border=True):
            st.markdown(f"**{md(case.title)}**　{kind_badge(case)}")
            st.caption(md(case_meta(case)))
            case_brief(case)
            add_button("case", case.id, f"{key}-case-{case.id}", in_collection)
    _more_button(f"{key}-more-cases", len(cases), "个")


def opened_citation(
    opened: OpenedCitation,
    *,
    key: str,
    stale_as_of: str = "",
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> bool:
    """Show a citation link's article, or why there is none; True when an article was shown."""
    if opened.page is None:
        st.error(md(opened.problem))
        if opened.repeal is not None and opened.successor_held:
            st.page_link(
                PAGE_FILES["browse"],
                label=md(f"浏览《{opened.repeal.replaced_by}》"),
                icon=":material/menu_book:",
                query_params={"law": opened.repeal.replaced_by},
            )
        return False
    citation_view(opened.page, key=key, stale_as_of=stale_as_of, in_collection=in_collection)
    return True
