"""Reusable Streamlit pieces: badges, article and case cards, the 案卷 picker.

Cards draw what ``retrieval.asking`` computed (``Card``: matched words, marks, snippet);
inert text and marks come from ``ui.text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import streamlit as st

from ingest.records import Article, Case
from retrieval.asking import Card, Snippet
from retrieval.hits import Notice, Why
from retrieval.matching import Matched
from ui.documents.quoting import source_line
from ui.errors import StoreError
from ui.protocols import ArticleSource, FreshnessSource
from ui.store import Collection, Viewer, is_owner
from ui.text import brief, dated_status, esc, highlight, md
from ui.views import PAGE_FILES, get_store

__all__ = ["brief", "esc", "highlight", "md"]  # inert text, for the pages (home: ui.text)

STATUS_COLOURS = {"现行有效": "green", "尚未施行": "blue", "已修改": "orange", "已废止": "red"}
KIND_COLOURS = {  # by Case.kind (the badge shows Case.label)
    "调解案例": "green",
    "法院典型案例": "blue",
    "法律咨询解答": "gray",
    "AI 生成解答（未经核实）": "orange",
}
TRUST_ORDER = {"verified": 0, "official": 1, "unverified": 2, "generated": 3}
CASE_ID = "case_id"
"""Session key of the 案卷 that 加入案卷 adds to: chosen by the mediator, never a default."""
_PICK = "case_pick"
_STORE_ERROR = "_store_error"


def local_time(stamp: str) -> str:
    """An ISO timestamp (UTC or local) as local ``2026-11-30 18:05``; other text unchanged."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


def badge(status: str, stale_as_of: str = "") -> str:
    """A status badge (Markdown): 现行有效 in green, never red.

    With ``stale_as_of`` (``service.stale_as_of()``: the data date, once over a year old)
    it reads 现行有效（数据截至 2025-01-15）: the status is what the data said on that day.
    """
    text = dated_status(status, stale_as_of)
    return f":{STATUS_COLOURS.get(status, 'gray')}-badge[{md(text)}]"


def freshness_line(stale_as_of: str, notice: Notice | None) -> None:
    """One plain line under an answer: the date the validity shown rests on."""
    if stale_as_of:
        st.markdown(
            md(
                f"注意：效力状态以 {stale_as_of} 的法规数据为准，距今已超过一年；"
                "此后修订或废止的法律法规未反映在这里，使用前请核对最新法律文本。"
            ).join((":orange[", "]"))
        )
        return
    if notice is not None:
        st.caption(md(notice.text))


def kind_badge(case: Case) -> str:
    return f":{KIND_COLOURS.get(case.kind, 'gray')}-badge[{md(case.label)}]"


def short_citation(article: Article) -> str:
    """《民法典》第一千零七十九条: the short law name, for links on narrow screens."""
    return f"《{article.law}》{article.label}"


# ---- why a result is shown, in plain words ------------------------------------------


def quoted_words(words: Sequence[str]) -> str:
    return "".join(f"‘{w}’" for w in words)


def why_text(why: Why | None, matched: Matched, *, case: bool = False) -> str:
    """为什么出现: the words the record shares with the question, never a rank or a score."""
    parts: list[str] = []
    sources = why.sources if why is not None else ()
    if "citation" in sources:
        parts.append("问题中直接引用了这一条")
    if matched.words:
        parts.append(f"与问题中的{quoted_words(matched.words)}相符")
    if matched.legal_words:
        parts.append(f"相关的法律用语：{quoted_words(matched.legal_words)}")
    if "dispute" in sources:
        parts.append("同类纠纷，且引用了与问题相关的同一条文")
    if why is not None and "precedent" in sources and why.via_cases:
        parts.append(f"{len(why.via_cases)} 个类似案例引用了这一条")
    if not parts and "semantic" in sources:
        parts.append("案情与问题的意思相近" if case else "内容与问题的意思相近")
    if case and why is not None and why.section:
        parts.append(f"最相近的部分：{why.section}")
    return "为什么出现：" + ("；".join(parts) if parts else "与问题的内容相关")


# ---- links ---------------------------------------------------------------------------


def article_params(article: Article) -> dict[str, str]:
    params = {"law": article.law, "article": article.key}
    if not article.current and article.version:
        params["version"] = article.version
    return params


def article_link(article: Article, label: str | None = None, *, icon: bool = True) -> None:
    """A link to the article's citation page (shareable: /browse?law=…&article=…)."""
    st.page_link(
        PAGE_FILES["browse"],
        label=md(label or article.citation),
        icon=":material/menu_book:" if icon else None,
        query_params=article_params(article),
    )


# ---- the current 案卷 ------------------------------------------------------------------


def current_case_id() -> int | None:
    return st.session_state.get(CASE_ID)  # type: ignore[no-any-return]


def current_viewer() -> Viewer | None:
    """Who this browser session is, for 案卷 ownership (None where no sign-in gate ran)."""
    from ui import auth

    session = auth.current()
    if session is None:
        return None
    return Viewer(session.user, admin=session.is_admin, local=session.local)


def visible_collections() -> list[Collection]:
    """The 案卷 this session may open (none without a session)."""
    viewer = current_viewer()
    return get_store().visible(viewer) if viewer is not None else []


def collection_label(collection: Collection, viewer: Viewer | None) -> str:
    """A 案卷's name, with its owner when it is someone else's (a shared 案卷)."""
    if viewer is None or is_owner(collection, viewer):
        return collection.name
    return f"{collection.name}（{collection.owner_name}的案卷）"


def _picked() -> None:
    st.session_state[CASE_ID] = st.session_state.get(_PICK)


def _create() -> None:
    name = st.session_state.get("new_case_name", "")
    viewer = current_viewer()
    try:
        if viewer is None:
            raise StoreError("登录后才能新建案卷。建议：请用管理员分配的账户登录。")
        # the local single user's 案卷 belong to the administrators once accounts exist
        created = get_store().create(name, owner="" if viewer.local else viewer.user)
    except StoreError as exc:
        st.session_state["_create_error"] = str(exc)
        return
    st.session_state[CASE_ID] = created.id
    st.session_state[_PICK] = created.id
    st.session_state["new_case_name"] = ""
    st.toast(f"已新建案卷“{md(created.name)}”，并设为当前案卷")


def collection_picker() -> None:
    """Sidebar: the current 案卷 (加入案卷 adds there) and 新建案卷.

    The choice lives in a session key of its own, not in the widget's: Streamlit drops a
    widget's state on pages that do not draw it, and the label shows the name only, so
    the option never changes under the mediator's hand.
    """
    viewer = current_viewer()
    cols = visible_collections()
    ids = [c.id for c in cols]
    if current_case_id() not in ids:
        st.session_state.pop(CASE_ID, None)
    sb = st.sidebar
    sb.markdown("**当前案卷**")
    if cols:
        names = {c.id: collection_label(c, viewer) for c in cols}
        st.session_state[_PICK] = current_case_id()
        sb.selectbox(
            "当前案卷",
            ids,
            key=_PICK,
            format_func=lambda i: names.get(i, str(i)),
            placeholder="请选择案卷",
            on_change=_picked,
            label_visibility="collapsed",
            help="“加入案卷”的法条和案例放进这里选定的案卷。",
        )
    else:
        sb.caption("还没有案卷。先新建一个案卷，再把法条和案例加入其中。")
    with sb.popover("新建案卷", icon=":material/create_new_folder:"):
        st.text_input("案卷名称", key="new_case_name", placeholder="如：张某与李某离婚纠纷")
        st.button("创建", key="new_case_go", on_click=_create, type="primary")
        error = st.session_state.pop("_create_error", None)
        if error:
            st.error(md(error))
    error = st.session_state.pop(_STORE_ERROR, None)
    if error:
        sb.error(md(error))


def _add(kind: str, ref: str) -> None:
    store = get_store()
    viewer = current_viewer()
    try:
        case_file = store.require(current_case_id())
        if viewer is None or not is_owner(case_file, viewer):
            raise StoreError(
                f"案卷“{case_file.name}”属于{case_file.owner_name}，只有所有者可以加入法条和案例。"
                "建议：在左侧选择自己的案卷，或新建一个。"
            )
        store.add(case_file.id, kind, ref)  # type: ignore[arg-type]
    except StoreError as exc:
        st.session_state[_STORE_ERROR] = str(exc)
        st.toast(md(str(exc)), icon=":material/error:")
        return
    st.toast(f"已加入案卷“{md(case_file.name)}”")


def collection_refs() -> set[tuple[str, str]]:
    cid = current_case_id()
    if cid is None:
        return set()
    try:
        return {(i.kind, i.ref) for i in get_store().items(cid)}
    except StoreError:
        return set()


def add_button(kind: str, ref: str, key: str, in_collection: set[tuple[str, str]]) -> None:
    if (kind, ref) in in_collection:
        st.button("已在案卷", key=key, disabled=True, icon=":material/bookmark_added:")
    else:
        st.button(
            "加入案卷", key=key, on_click=_add, args=(kind, ref), icon=":material/bookmark_add:"
        )


def data_freshness(service: FreshnessSource) -> None:
    """Sidebar: the date the statute data runs to; a warning once it is over a year old."""
    notice = service.freshness_notice()
    if notice is None:
        return
    if notice.level == "warning":
        st.sidebar.warning(md(notice.text))
    else:
        st.sidebar.caption(md(notice.text))


# ---- cards -----------------------------------------------------------------------------


def article_meta(article: Article) -> str:
    parts = [" / ".join(article.path), article.level]
    if not article.current and article.version:
        parts.append(f"{article.version} 版本")
    return " · ".join(p for p in parts if p)


def article_dates(article: Article) -> str:
    parts = []
    if article.publish:
        parts.append(f"公布 {article.publish}")
    if article.valid_from:
        parts.append(f"施行 {article.valid_from}")
    return " · ".join(parts)


def snippet_html(text: str, card: Card) -> str:
    """The part of an article a result list shows: its answer point, else its opening."""
    spans, quote = card.spans, card.quote
    if quote is not None:
        inner = [(a - quote.start, b - quote.start) for a, b in spans]
        body = highlight(quote.text, inner)
        if quote.lead:
            lead_inner = [(a - quote.lead_start, b - quote.lead_start) for a, b in spans]
            gap = "" if quote.adjacent else "……"
            body = f'<span class="fq-lead">{highlight(quote.lead, lead_inner)}</span>{gap}{body}'
        before = "……" if (quote.lead_start if quote.lead else quote.start) > 0 else ""
        after = "……" if quote.end < len(text) else ""
        return f'<div class="fq-snippet">{before}{body}{after}</div>'
    opening = card.snippet or Snippet.of_article(text)
    cut = "……" if opening.cut else ""
    return f'<div class="fq-snippet">{highlight(opening.text, spans)}{cut}</div>'


def article_card(
    article: Article,
    card: Card,
    *,
    key: str,
    rank: int | None = None,
    why: Why | None = None,
    stale_as_of: str = "",
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> None:
    """One article in a result list: citation and status, the matching part, why, actions.

    The whole text is one click away (全文); versions, neighbours, the interpretations
    and cases citing it are on its citation page (条文详情).
    """
    with st.container(border=True):
        prefix = f"{rank}. " if rank else ""
        st.markdown(f"**{prefix}{md(article.citation)}**　{badge(article.status, stale_as_of)}")
        st.caption(md(article_meta(article)))
        st.markdown(snippet_html(article.text, card), unsafe_allow_html=True)
        st.caption(md(why_text(why, card.matched)))
        with st.container(horizontal=True, vertical_alignment="center"):
            add_button("article", article.id, f"{key}-add", in_collection)
            article_link(article, "条文详情")
        with st.expander("全文"):
            st.markdown(highlight(article.text, card.spans), unsafe_allow_html=True)
            st.code(article.citation, language=None, wrap_lines=True)


def case_meta(case: Case) -> str:
    return " · ".join(p for p in (case.dispute_type, case.region, case.date) if p)


def sorted_cases(cases: Sequence[Case]) -> list[Case]:
    """Resolved cases (the committee's own, then courts') before consultations and AI answers."""
    return sorted(cases, key=lambda c: TRUST_ORDER.get(c.trust, 9))


def case_brief(case: Case, snippet: Snippet | None = None) -> None:
    """A case's result in brief (else its facts): the one line every case card shows."""
    shown = snippet or Snippet.of_case(case)
    if shown is not None:
        cut = "……" if shown.cut else ""
        st.markdown(f"**{esc(shown.label)}：** {esc(shown.text)}{cut}", unsafe_allow_html=True)


def case_card(
    records: ArticleSource,
    case: Case,
    *,
    key: str,
    rank: int | None = None,
    card: Card | None = None,
    why: Why | None = None,
    in_collection: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> None:
    """One case: title and kind, its result in brief, why (a search's ``card``), 加入案卷;
    the full text folded, its citations looked up in ``records`` (an ``Answered`` names
    them all)."""
    with st.container(border=True):
        prefix = f"{rank}. " if rank else ""
        st.markdown(f"**{prefix}{md(case.title)}**　{kind_badge(case)}")
        st.caption(md(case_meta(case)))
        case_brief(case, card.snippet if card is not None else None)
        if card is not None:
            st.caption(md(why_text(why, card.matched, case=True)))
        add_button("case", case.id, f"{key}-add", in_collection)
        with st.expander("查看全文（已匿名化）"):
            for name, body in case.sections:
                st.markdown(f"**{esc(name)}**　{esc(body)}", unsafe_allow_html=True)
            cited_list(records, case)
            st.caption(md(source_line(case)))


def cited_list(records: ArticleSource, case: Case) -> None:
    """The articles a case cites, each checked against the knowledge base."""
    if not case.cited:
        return
    st.markdown("**引用法条：**")
    for c in case.cited:
        art = records.article(c.resolved_id) if c.resolved_id else None
        note = f"（{c.verdict_note}）" if c.verdict else ""
        # A flagged citation must stand out from the checked ones, on a phone too.
        warn = "⚠ " if c.flagged else ""
        if art is not None:
            # a misquote links to the article itself: the real text is one click away
            article_link(art, f"{warn}{short_citation(art)}{c.detail}{note}")
        elif c.flagged:
            st.markdown(f":orange[{md(warn + c.raw + note)}]")
        else:
            fallback = "（该法已废止）" if c.repealed else "（知识库中未收录）"
            st.caption(md(c.raw + (note or fallback)))
