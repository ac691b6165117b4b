"""案卷与教学集: several named 案卷, each with its articles and cases, case details and drafts."""

from __future__ import annotations

import streamlit as st

from ingest.records import Article, Case
from ui.casefile import details_form, exports, record_button
from ui.protocols import KnowledgeService
from ui.store import Item, StoreError
from ui.views import get_service, get_store
from ui.widgets import (
    CASE_ID,
    article_link,
    article_meta,
    badge,
    brief,
    case_meta,
    collection_picker,
    current_case_id,
    esc,
    kind_badge,
    md,
)

_MAIN_PICK = "case_pick_main"


def _move(item_id: int, delta: int) -> None:
    get_store().move(item_id, delta)


def _remove(item_id: int) -> None:
    get_store().remove(item_id)


def _save_note(item_id: int) -> None:
    get_store().annotate(item_id, st.session_state.get(f"note-{item_id}", ""))
    st.toast("笔记已保存")


def _picked_main() -> None:
    st.session_state[CASE_ID] = st.session_state.get(_MAIN_PICK)


def _rename(cid: int) -> None:
    try:
        get_store().rename(cid, st.session_state.get(f"rename-{cid}", ""))
    except StoreError as exc:
        st.session_state["_rename_error"] = str(exc)


def _delete(cid: int) -> None:
    get_store().delete(cid)
    st.session_state.pop(CASE_ID, None)


def item_view(service: KnowledgeService, item: Item, n: int, total: int) -> None:
    record = service.article(item.ref) if item.kind == "article" else service.case(item.ref)
    with st.container(border=True):
        if isinstance(record, Article):
            st.markdown(f"**{n}. {md(record.citation)}**　{badge(record.status)}")
            st.caption(md(article_meta(record)))
            with st.expander("条文"):
                st.markdown(esc(record.text), unsafe_allow_html=True)
                st.code(record.citation, language=None, wrap_lines=True)
                article_link(record, "条文详情")
        elif isinstance(record, Case):
            st.markdown(f"**{n}. {md(record.title)}**　{kind_badge(record)}")
            st.caption(md(case_meta(record)))
            result = record.result
            if result.text:
                st.markdown(
                    f"**{esc(result.label)}：** {esc(brief(result.text, 120))}",
                    unsafe_allow_html=True,
                )
        else:
            st.warning(
                md(
                    f"{n}. 知识库中已找不到“{item.ref}”（可能已重建索引）。建议：移除此项或重新加入。"
                )
            )
        st.text_area(
            "笔记",
            value=item.note,
            key=f"note-{item.id}",
            placeholder="调解要点、当事人诉求、待核实事项……（离开输入框即自动保存）",
            height=68,
            on_change=_save_note,
            args=(item.id,),
        )
        cols = st.columns(4)
        cols[0].button("保存笔记", key=f"save-{item.id}", on_click=_save_note, args=(item.id,))
        cols[1].button(
            "上移", key=f"up-{item.id}", on_click=_move, args=(item.id, -1), disabled=n == 1
        )
        cols[2].button(
            "下移", key=f"down-{item.id}", on_click=_move, args=(item.id, 1), disabled=n == total
        )
        cols[3].button("移除", key=f"del-{item.id}", on_click=_remove, args=(item.id,))


def case_chooser() -> int | None:
    """The 案卷 to work on (the same choice as the sidebar's), drawn in the page for phones."""
    store = get_store()
    cols = store.collections()
    if not cols:
        return None
    names = {c.id: c.name for c in cols}
    st.session_state[_MAIN_PICK] = current_case_id()
    st.selectbox(
        "案卷",
        list(names),
        key=_MAIN_PICK,
        format_func=lambda i: names.get(i, str(i)),
        placeholder="请选择案卷",
        on_change=_picked_main,
    )
    return current_case_id()


def manage(cid: int, name: str) -> None:
    with st.expander("重命名 / 删除案卷"):
        st.text_input("新名称", value=name, key=f"rename-{cid}")
        st.button("重命名", key=f"rename-go-{cid}", on_click=_rename, args=(cid,))
        error = st.session_state.pop("_rename_error", None)
        if error:
            st.error(md(error))
        sure = st.checkbox("确认删除整个案卷（不可恢复）", key=f"delete-sure-{cid}")
        st.button(
            "删除案卷",
            key=f"delete-go-{cid}",
            disabled=not sure,
            type="primary",
            on_click=_delete,
            args=(cid,),
        )


def render() -> None:
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    st.title("案卷与教学集", anchor=False)
    store = get_store()
    cid = case_chooser()
    collection = store.get(cid) if cid is not None else None
    if collection is None:
        st.info(
            "请先选择或新建一个案卷（左侧“新建案卷”）。每个案卷单独保存法条、案例、案情和文书，互不混合。"
        )
        return
    items = store.items(collection.id)
    details = store.details(collection.id)
    manage(collection.id, collection.name)
    n_articles = sum(i.kind == "article" for i in items)
    tab_items, tab_details, tab_export = st.tabs(
        [f"法条与案例（{len(items)}）", "案情与当事人", "导出文书"]
    )
    with tab_items:
        if not items:
            st.info("这个案卷还是空的。建议：在“问答检索”或“法规浏览”中点“加入案卷”。")
        else:
            st.caption(f"共 {len(items)} 项：法条 {n_articles}，案例 {len(items) - n_articles}")
        for n, item in enumerate(items, 1):
            item_view(service, item, n, len(items))
    with tab_details:
        details_form(collection.id, details)
        record_button(service, collection.id, collection.name, items)
    with tab_export:
        exports(service, collection.id, collection.name, details, items)


if __name__ == "__main__":
    render()
