"""案卷与教学集: named collections of articles and cases; reorder, annotate, export."""

from __future__ import annotations

import streamlit as st

from ingest.records import Article, Case
from ui.export import MIME, ExportError, Format, export_collection, file_name
from ui.pages import get_service, get_store
from ui.protocols import KnowledgeService
from ui.store import Item, StoreError
from ui.widgets import article_header, article_link, brief, case_meta, collection_picker, esc, md

FORMATS: dict[str, Format] = {"Word（DOCX）": "docx", "Markdown": "md", "PDF": "pdf"}


def _move(item_id: int, delta: int) -> None:
    get_store().move(item_id, delta)


def _remove(item_id: int) -> None:
    get_store().remove(item_id)


def _save_note(item_id: int) -> None:
    get_store().annotate(item_id, st.session_state.get(f"note-{item_id}", ""))
    st.toast("笔记已保存")


def item_view(service: KnowledgeService, item: Item, n: int, total: int) -> None:
    record = service.article(item.ref) if item.kind == "article" else service.case(item.ref)
    with st.container(border=True):
        if isinstance(record, Article):
            article_header(record, n)
            st.markdown(esc(record.text), unsafe_allow_html=True)
            st.code(record.citation, language=None)
            article_link(record, "在法规浏览中打开")
        elif isinstance(record, Case):
            st.markdown(f"**{n}. 案例：{md(record.title)}**")
            st.caption(md(case_meta(record)))
            if record.facts:
                st.markdown(f"**案情：** {esc(brief(record.facts, 160))}", unsafe_allow_html=True)
            if record.outcome:
                st.markdown(f"**结果：** {esc(brief(record.outcome, 200))}", unsafe_allow_html=True)
        else:
            st.warning(
                f"{n}. 知识库中已找不到“{item.ref}”（可能已重建索引）。建议：删除此项或重新加入。"
            )
        st.text_area(
            "笔记",
            value=item.note,
            key=f"note-{item.id}",
            placeholder="调解要点、当事人诉求、待核实事项……（离开输入框即自动保存）",
            height=80,
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


def export_section(service: KnowledgeService, name: str, items: list[Item]) -> None:
    st.markdown("#### 导出")
    label = st.radio(
        "格式", list(FORMATS), horizontal=True, key="export_format", persist_state="session"
    )
    fmt = FORMATS[label]
    left, right = st.columns(2)
    try:
        data = export_collection(name, items, service, fmt)
        left.download_button(
            "导出案卷",
            data,
            file_name=file_name(name, fmt),
            mime=MIME[fmt],
            key="dl-file",
            icon=":material/download:",
            on_click="ignore",
        )
    except Exception as exc:  # a broken export must not take the page down
        left.error(f"案卷导出失败：{exc} 建议：换一种格式再试。")
    has_cases = any(i.kind == "case" for i in items)
    if has_cases:
        try:
            data = export_collection(name, items, service, fmt, teaching=True)
            right.download_button(
                "导出教学集",
                data,
                file_name=file_name(name, fmt, teaching=True),
                mime=MIME[fmt],
                key="dl-teach",
                icon=":material/school:",
                on_click="ignore",
            )
        except ExportError as exc:
            right.error(str(exc))
    else:
        right.caption(
            "教学集需要案卷中至少有一个案例：每个案例生成问题（案情+争议焦点）与参考答案（结果+法条）。"
        )


def render() -> None:
    st.title("案卷与教学集")
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    store = get_store()
    cid = st.session_state.get("collection_id")
    collection = store.get(cid) if cid is not None else None
    if collection is None:
        st.info("还没有案卷。建议：在“问答检索”的结果中点“加入案卷”，或在左侧“新建案卷”。")
        return
    st.subheader(collection.name)
    items = store.items(collection.id)
    with st.expander("重命名 / 删除案卷"):
        new = st.text_input("新名称", value=collection.name, key=f"rename-{collection.id}")
        if st.button("重命名", key="rename-go"):
            try:
                store.rename(collection.id, new)
                st.rerun()
            except StoreError as exc:
                st.error(str(exc))
        sure = st.checkbox("确认删除整个案卷（不可恢复）", key="delete-sure")
        if st.button("删除案卷", key="delete-go", disabled=not sure, type="primary"):
            store.delete(collection.id)
            st.session_state.pop("collection_id", None)
            st.rerun()
    if not items:
        st.info("案卷是空的。建议：在“问答检索”或“法规浏览”中点“加入案卷”。")
        return
    st.caption(
        f"共 {len(items)} 项：法条 {sum(i.kind == 'article' for i in items)}，案例 {sum(i.kind == 'case' for i in items)}"
    )
    for n, item in enumerate(items, 1):
        item_view(service, item, n, len(items))
    export_section(service, collection.name, items)


if __name__ == "__main__":
    render()
