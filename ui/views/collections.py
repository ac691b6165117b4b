"""案卷与教学集: several named 案卷, each with its articles and cases, case details and drafts.

In office mode (accounts) a 案卷 belongs to the mediator who created it: only they edit it,
see its parties' ID and phone numbers and choose whom to share it with; colleagues it is
shared with read it with those numbers masked; only the owner or an administrator deletes
it; opening, exporting and deleting are written to the audit log administrators read here.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from ingest.records import Article, Case
from ui import auth
from ui.accounts import Accounts
from ui.casefile import details_form, details_view, exports, record_button
from ui.errors import AccountError, StoreError
from ui.protocols import CollectionsService
from ui.store import (
    SHARING_NAMES,
    Collection,
    Item,
    Sharing,
    Viewer,
    can_delete,
    is_owner,
)
from ui.views import get_service, get_store, kb_dir
from ui.widgets import (
    CASE_ID,
    article_link,
    article_meta,
    badge,
    case_brief,
    case_meta,
    collection_label,
    collection_picker,
    current_case_id,
    current_viewer,
    esc,
    kind_badge,
    local_time,
    md,
    visible_collections,
)

_MAIN_PICK = "case_pick_main"
_OPENED = "_case_opened"  # the 案卷 this session's audit log already has an "open" entry for


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
    viewer = current_viewer()
    if viewer is None:
        return
    try:
        get_store().delete(cid, by=viewer)
    except StoreError as exc:
        st.session_state["_delete_error"] = str(exc)
        return
    st.session_state.pop(CASE_ID, None)


def _share(cid: int) -> None:
    viewer = current_viewer()
    if viewer is None:
        return
    sharing: Sharing = st.session_state.get(f"share-mode-{cid}", "private")
    names = tuple(st.session_state.get(f"share-names-{cid}") or ())
    try:
        get_store().share(cid, sharing, names, viewer)
    except StoreError as exc:
        st.session_state["_share_msg"] = ("error", str(exc))
        return
    st.session_state["_share_msg"] = ("ok", f"共享设置已保存：{SHARING_NAMES[sharing]}")


def _exported(collection: Collection, file_name: str) -> None:
    viewer = current_viewer()
    if viewer is not None:
        get_store().log(viewer, "export", collection, file_name)


def item_view(
    service: CollectionsService, item: Item, n: int, total: int, *, editable: bool = True
) -> None:
    record = service.article(item.ref) if item.kind == "article" else service.case(item.ref)
    with st.container(border=True):
        if isinstance(record, Article):
            status = badge(record.status, service.stale_as_of())
            st.markdown(f"**{n}. {md(record.citation)}**　{status}")
            st.caption(md(article_meta(record)))
            with st.expander("条文"):
                st.markdown(esc(record.text), unsafe_allow_html=True)
                st.code(record.citation, language=None, wrap_lines=True)
                article_link(record, "条文详情")
        elif isinstance(record, Case):
            st.markdown(f"**{n}. {md(record.title)}**　{kind_badge(record)}")
            st.caption(md(case_meta(record)))
            case_brief(record)
        else:
            st.warning(
                md(
                    f"{n}. 知识库中已找不到“{item.ref}”（可能已重建索引）。建议：移除此项或重新加入。"
                )
            )
        if not editable:
            if item.note.strip():
                st.markdown(f"**笔记：** {esc(item.note)}", unsafe_allow_html=True)
            return
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


def case_chooser(viewer: Viewer) -> int | None:
    """The 案卷 to work on (the same choice as the sidebar's), drawn in the page for phones."""
    cols = visible_collections()
    if not cols:
        return None
    names = {c.id: collection_label(c, viewer) for c in cols}
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


def manage(collection: Collection, viewer: Viewer) -> None:
    """Rename (owner), share (owner, office mode), delete (owner or administrator)."""
    cid, name = collection.id, collection.name
    owner = is_owner(collection, viewer)
    if not viewer.local:
        st.caption(md(ownership_line(collection, viewer)))
    error = st.session_state.pop("_delete_error", None)
    if error:
        st.error(md(error))
    if not owner and not can_delete(collection, viewer):
        st.caption(
            md(f"只有所有者（{collection.owner_name}）或管理员可以重命名、共享或删除这个案卷。")
        )
        return
    if owner and not viewer.local:
        sharing(collection, viewer)
    with st.expander("重命名 / 删除案卷" if owner else "删除案卷（管理员）"):
        if owner:
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


def ownership_line(collection: Collection, viewer: Viewer) -> str:
    """Whose 案卷 this is and who else may open it, in one line."""
    who = "您的案卷" if is_owner(collection, viewer) else f"{collection.owner_name}的案卷"
    if collection.sharing == "committee":
        seen = "本委员会所有人可查看"
    elif collection.sharing == "named" and collection.shared_with:
        seen = f"已共享给：{'、'.join(collection.shared_with)}"
    else:
        seen = "仅所有者可查看"
    return f"{who} · {seen}（管理员可查看所有案卷；当事人身份证号码和电话只有所有者可见）"


def _colleagues(viewer: Viewer) -> list[str]:
    try:
        return [a.name for a in Accounts.in_kb(kb_dir()).all() if a.name != viewer.user]
    except AccountError:
        return []


def sharing(collection: Collection, viewer: Viewer) -> None:
    """The owner's choice of who besides them may open the 案卷 (masked numbers only)."""
    cid = collection.id
    with st.expander("共享设置"):
        modes = list(SHARING_NAMES)
        st.radio(
            "谁可以查看这个案卷",
            modes,
            index=modes.index(collection.sharing) if collection.sharing in modes else 0,
            format_func=lambda m: SHARING_NAMES[m],
            key=f"share-mode-{cid}",
            horizontal=True,
        )
        colleagues = _colleagues(viewer)
        st.multiselect(
            "指定的同事",
            sorted(set(colleagues) | set(collection.shared_with)),
            default=list(collection.shared_with),
            key=f"share-names-{cid}",
            placeholder="选择同事（选“指定的同事”时有效）",
        )
        st.caption("共享的同事只能查看，看不到当事人的身份证号码和电话，也不能修改或删除。")
        st.button("保存共享设置", key=f"share-go-{cid}", on_click=_share, args=(cid,))
        msg = st.session_state.pop("_share_msg", None)
        if msg:
            (st.success if msg[0] == "ok" else st.error)(md(msg[1]))


def audit_log() -> None:
    """Administrators: who opened, exported and deleted which 案卷, newest first."""
    entries = get_store().audit()
    with st.expander(f"案卷访问记录（仅管理员可见，最近 {len(entries)} 条）"):
        if not entries:
            st.caption("还没有记录。")
            return
        st.dataframe(
            [
                {
                    "时间": local_time(e.at),
                    "用户": e.user,
                    "操作": e.action_name,
                    "案卷": e.name,
                    "说明": e.detail,
                }
                for e in entries
            ],
            hide_index=True,
            key="audit-table",
        )


def _log_open(collection: Collection, viewer: Viewer) -> None:
    """One "open" entry per 案卷 per browser session (reruns for widgets are not openings)."""
    opened: set[int] = st.session_state.setdefault(_OPENED, set())
    if collection.id not in opened:
        get_store().log(viewer, "open", collection)
        opened.add(collection.id)


def render() -> None:
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    st.title("案卷与教学集", anchor=False)
    viewer = current_viewer()
    if viewer is None or not auth.require_user("使用案卷"):
        return
    store = get_store()
    cid = case_chooser(viewer)
    collection = store.get(cid) if cid is not None else None
    if viewer.admin and not viewer.local:
        audit_log()
    if collection is None:
        st.info(
            "请先选择或新建一个案卷（左侧“新建案卷”）。每个案卷单独保存法条、案例、案情和文书，互不混合。"
        )
        return
    _log_open(collection, viewer)
    owner = is_owner(collection, viewer)
    items = store.items(collection.id)
    details = store.details(collection.id)
    manage(collection, viewer)
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
            item_view(service, item, n, len(items), editable=owner)
    with tab_details:
        if owner:
            details_form(collection.id, details)
            record_button(service, collection.id, collection.name, items)
        else:
            details_view(details)
    with tab_export:
        exports(
            service,
            collection.id,
            collection.name,
            details,
            items,
            owner=owner,
            on_export=partial(_exported, collection),
        )


if __name__ == "__main__":
    render()
