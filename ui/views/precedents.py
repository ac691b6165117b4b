"""调解案例: the committee records, corrects, exports and imports its own resolved cases.

A record is masked and its articles verified before it is saved (``PrecedentStore``),
and it is searchable by the next question without a rebuild. Any signed-in user may
record and correct (mediators resolved those disputes); deleting and bulk import are
for administrators, as the other changes to the shared knowledge base are.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import streamlit as st

from ingest.errors import FengqiaoError
from ingest.records import DISPUTE_TYPES, Case
from retrieval.precedents import Precedent, PrecedentDraft
from ui import auth
from ui.casefile import PREFILL
from ui.protocols import KnowledgeService
from ui.views import get_service
from ui.widgets import (
    brief,
    case_card,
    cited_list,
    collection_picker,
    esc,
    kind_badge,
    local_time,
    md,
)

_VIEW = "pc-view"
_EDITING = "pc-editing"  # (number, revision) of the record in the form, when correcting one
_OUTCOME = "pc-outcome"  # what the last save/preview/delete said, shown once
_PREFILLED = "pc-prefilled"  # the form was filled in from a 案卷: say so once, above it
_VIEWS = ("记录案例", "已记录的案例", "导出与导入")
# (field, label, height of a text area or 0 for one line, placeholder)
FIELDS: tuple[tuple[str, str, int, str], ...] = (
    ("date", "调解日期", 0, "如：2026-03-15"),
    (
        "parties",
        "当事人姓名（保存前脱敏，真实姓名不保存）",
        0,
        "几位当事人用顿号分开，如：张三、李四",
    ),
    ("facts", "基本案情（必填）", 120, "纠纷的经过，各方的说法"),
    ("focus", "争议焦点", 68, "如：装修噪声是否超出合理限度，应否赔偿"),
    ("process", "调解过程", 100, ""),
    ("result", "调解结果", 68, "一句话写明结果（与协议内容至少填一项）"),
    ("agreement", "协议内容", 100, "一项一行：如“一、李某于……前支付……”"),
    ("performance", "履行情况", 0, "如：已当场支付 5000 元；每月 10 日前转账"),
    (
        "articles",
        "法律依据（每行一条，须为知识库中能查到的现行条文）",
        80,
        "如：民法典第1079条\n《中华人民共和国民法典》第二百八十八条",
    ),
)
# Optional details, folded: the form's first screen on a phone is what the dispute was.
MORE_FIELDS: tuple[tuple[str, str, int, str], ...] = (
    ("title", "标题（可不填，按案情生成）", 0, "如：夜间装修噪声纠纷"),
    ("region", "地区", 0, "如：浙江省诸暨市枫桥镇"),
    ("committee", "人民调解委员会", 0, "如：枫源村人民调解委员会"),
)
_LIST_SPLIT = re.compile(r"[、，,；;\s]+")
_ARTICLE_SPLIT = re.compile(r"[\n；;]+")


def _key(name: str) -> str:
    return f"pc-{name}"


def _fill(draft: PrecedentDraft) -> None:
    """Put a draft into the form's fields (before they are drawn)."""
    state = st.session_state
    for name, *_ in FIELDS + MORE_FIELDS:
        value = getattr(draft, name)
        if name == "parties":
            value = "、".join(value)
        elif name == "articles":
            value = "\n".join(value)
        state[_key(name)] = value
    state[_key("number")] = draft.number
    state[_key("dispute_type")] = draft.dispute_type if draft.dispute_type in DISPUTE_TYPES else ""


def _clear() -> None:
    _fill(PrecedentDraft(facts=""))
    st.session_state.pop(_EDITING, None)


def entered() -> PrecedentDraft:
    """The draft as it stands in the form."""
    state = st.session_state

    def text(name: str) -> str:
        return str(state.get(_key(name), "") or "")

    return PrecedentDraft(
        number=text("number").strip(),
        title=text("title"),
        dispute_type=text("dispute_type"),
        date=text("date"),
        region=text("region"),
        committee=text("committee"),
        parties=tuple(x for x in _LIST_SPLIT.split(text("parties")) if x),
        facts=text("facts"),
        focus=text("focus"),
        process=text("process"),
        result=text("result"),
        agreement=text("agreement"),
        performance=text("performance"),
        articles=tuple(x.strip() for x in _ARTICLE_SPLIT.split(text("articles")) if x.strip()),
    )


def _service() -> KnowledgeService:
    service = get_service(show_error=False)
    assert service is not None  # the page draws its controls only with a service
    return service


# ---- callbacks (run before the page is drawn again, so lists and search see the change) ----


def _preview() -> None:
    try:
        preview = _service().precedents.preview(entered())
    except FengqiaoError as exc:
        st.session_state[_OUTCOME] = ("error", exc.line(), None)
        return
    st.session_state[_OUTCOME] = ("preview", "", preview)


def _refused(who: str) -> bool:
    """Callbacks check the role again: a control is drawn only for those allowed, but say so."""
    allowed = auth.is_admin() if who == "admin" else auth.current() is not None
    if not allowed:
        need = "管理员账户" if who == "admin" else "登录"
        st.session_state[_OUTCOME] = ("error", f"这项操作需要{need}，没有保存任何改动。", None)
    return not allowed


def _save() -> None:
    if _refused("user"):
        return
    service = _service()
    editing = st.session_state.get(_EDITING)
    try:
        if editing:
            number, revision = editing
            case = service.precedents.update(number, entered(), revision=revision)
            said = f"已保存修改（编号 {number}）。"
        else:
            case = service.precedents.record(entered())
            said = f"已保存为调解案例（编号 {case.id.removeprefix('precedent-')}）。"
    except FengqiaoError as exc:
        st.session_state[_OUTCOME] = ("error", exc.line(), None)
        return
    _clear()
    st.session_state[_OUTCOME] = (
        "saved",
        said + "现在就能检索到：在“问答检索”中提问，它会出现在类似案例中，无需重建知识库。",
        case,
    )


def _edit(record: Precedent) -> None:
    _fill(record.to_draft())
    st.session_state[_EDITING] = (record.number, record.revision)
    st.session_state[_VIEW] = _VIEWS[0]
    st.session_state.pop(_OUTCOME, None)


def _cancel_edit() -> None:
    _clear()
    st.session_state.pop(_OUTCOME, None)


def _delete(number: str) -> None:
    if _refused("admin"):
        return
    try:
        _service().precedents.delete(number)
    except FengqiaoError as exc:
        st.session_state[_OUTCOME] = ("error", exc.line(), None)
        return
    if (st.session_state.get(_EDITING) or ("",))[0] == number:
        _clear()
    st.session_state[_OUTCOME] = (
        "deleted",
        f"已删除编号 {number} 的调解案例，检索中不再出现。",
        None,
    )


# ---- drawing ----------------------------------------------------------------------------


def preview_view(p: Precedent) -> None:
    """The record as it would be saved: masked text, the articles it resolved to."""
    with st.container(border=True):
        st.markdown(f"**脱敏预览（尚未保存）：{md(p.title)}**")
        meta = " · ".join(
            x
            for x in (
                p.dispute_type + ("（自动判断）" if p.dispute_type_origin == "classifier" else ""),
                p.region,
                p.date,
                "当事人：" + "、".join(p.parties) if p.parties else "",
            )
            if x
        )
        st.caption(md(meta))
        for name, body in p.to_case().sections:
            st.markdown(f"**{esc(name)}**　{esc(body)}", unsafe_allow_html=True)
        for c in p.articles:
            st.caption(md(f"{c.raw}（{c.verdict_note}）"))


def outcome_view(service: KnowledgeService) -> None:
    found = st.session_state.pop(_OUTCOME, None)
    if not found:
        return
    kind, text, record = found
    if kind == "error":
        st.error(md(text))
    elif kind == "preview" and isinstance(record, Precedent):
        preview_view(record)
    elif kind == "saved" and isinstance(record, Case):
        st.success(md(text))
        case_card(service, record, key="pc-saved")
    else:
        st.success(md(text))


def fields(specs: tuple[tuple[str, str, int, str], ...], where: Any = st) -> None:
    for name, label, height, placeholder in specs:
        if height:
            where.text_area(
                label,
                key=_key(name),
                height=height,
                placeholder=placeholder,
                persist_state="session",  # a look-up on another page keeps what was typed
            )
        else:
            where.text_input(
                label, key=_key(name), placeholder=placeholder, persist_state="session"
            )


def form_view(service: KnowledgeService) -> None:
    editing = st.session_state.get(_EDITING)
    if editing:
        st.info(md(f"正在修改编号 {editing[0]} 的调解案例（第 {editing[1]} 版）。"))
        st.button("取消修改", key="pc-cancel", on_click=_cancel_edit, icon=":material/close:")
    prefilled = st.session_state.pop(_PREFILLED, "")
    if prefilled:
        st.info(md(prefilled))
    for name, *_ in FIELDS + MORE_FIELDS:
        st.session_state.setdefault(_key(name), "")
    st.session_state.setdefault(_key("number"), "")
    st.session_state.setdefault(_key("dispute_type"), "")
    with st.form("pc-form", border=False, enter_to_submit=False):
        left, right = st.columns(2)
        right.selectbox(
            "纠纷类型",
            ["", *DISPUTE_TYPES],
            key=_key("dispute_type"),
            format_func=lambda t: t or "（按案情自动判断）",
            persist_state="session",
        )
        fields(FIELDS[:1], left)
        fields(FIELDS[1:])
        with st.expander("编号、标题、地区、调解委员会（可不填）"):
            st.text_input(
                "编号（不填则自动编号）",
                key=_key("number"),
                disabled=bool(editing),
                placeholder="如：2026-001",
                persist_state="session",
            )
            fields(MORE_FIELDS)
        st.caption(
            "保存前：当事人姓名在各栏中一律替换为“张某”式称呼，真实姓名不保存；"
            "法律依据逐条与知识库核对，查不到的条文会指出，整条记录不保存。"
        )
        with st.container(horizontal=True):
            st.form_submit_button(
                "预览脱敏结果", key="pc-preview", on_click=_preview, icon=":material/visibility:"
            )
            st.form_submit_button(
                "保存修改" if editing else "保存为调解案例",
                key="pc-save",
                type="primary",
                on_click=_save,
                icon=":material/save:",
            )
    # Below the buttons: where the mediator is looking after pressing one (on a phone too).
    outcome_view(service)


def record_card(service: KnowledgeService, p: Precedent, admin: bool) -> None:
    case = service.case(p.id) or p.to_case()
    with st.container(border=True):
        st.markdown(f"**{md(p.title)}**　{kind_badge(case)}")
        meta = [f"编号 {p.number}", p.dispute_type, p.region, p.date, f"第 {p.revision} 版"]
        if p.updated:
            meta.append(f"更新于 {local_time(p.updated)}")
        st.caption(md(" · ".join(x for x in meta if x)))
        result = case.result
        if result.text:
            st.markdown(
                f"**{esc(result.label)}：** {esc(brief(result.text, 90))}", unsafe_allow_html=True
            )
        with st.expander("查看全文（已脱敏）"):
            for name, body in case.sections:
                st.markdown(f"**{esc(name)}**　{esc(body)}", unsafe_allow_html=True)
            cited_list(service, case)
        with st.container(horizontal=True):
            st.button(
                "修改", key=f"pc-edit-{p.number}", on_click=_edit, args=(p,), icon=":material/edit:"
            )
            if admin:
                with st.popover("删除", icon=":material/delete:"):
                    st.markdown(
                        md(f"删除编号 {p.number}“{p.title}”？删除后不可恢复，检索中不再出现。")
                    )
                    st.button(
                        "确认删除",
                        key=f"pc-delete-{p.number}",
                        type="primary",
                        on_click=_delete,
                        args=(p.number,),
                    )


def list_view(service: KnowledgeService, records: list[Precedent], may_write: bool) -> None:
    outcome_view(service)
    if not records:
        st.info("还没有记录调解案例。建议：在“记录案例”中填写，或从案卷中点“记录为调解案例”。")
        return
    st.caption(f"共 {len(records)} 件，按调解日期从新到旧。")
    admin = auth.is_admin()
    for p in records:
        if may_write:
            record_card(service, p, admin)
        else:
            case = service.case(p.id) or p.to_case()
            case_card(service, case, key=f"pc-read-{p.number}")
    if may_write and not admin:
        st.caption("删除调解案例需要管理员账户。")


def exchange_view(service: KnowledgeService, count: int) -> None:
    st.markdown("##### 导出", anchors=False)
    st.caption(
        f"共 {count} 件，按调解委员会记录表格的格式导出（已脱敏），可在表格软件中打开，也可再导入。"
    )
    with st.container(horizontal=True):
        for fmt, mime in (("csv", "text/csv"), ("jsonl", "application/jsonl")):
            st.download_button(
                f"导出 {fmt.upper()}",
                # Made on the click, not at every page view: Streamlit serves a download's
                # bytes under /media/… to anyone with the link for as long as a session
                # shows the button; a file made on the click is unlisted at once and
                # gone after the next two page runs (media_file_manager.execute_deferred).
                functools.partial(service.precedents.export, fmt) if count else b"",
                file_name=f"调解案例.{fmt}",
                mime=mime,
                key=f"pc-export-{fmt}",
                icon=":material/download:",
                on_click="ignore",
                disabled=not count,
            )
    st.markdown("##### 导入", anchors=False)
    if not auth.require_admin("批量导入调解案例"):
        return
    st.caption(
        "导入调解委员会的记录表格（CSV 或 JSONL，格式同导出）：编号已有的更新，其余新增；"
        "每条记录同样脱敏并核对法律依据，有问题的记录不导入，并逐条说明原因。"
    )
    upload = st.file_uploader("选择文件", type=["csv", "jsonl"], key="pc-import-file")
    if upload is not None and st.button("导入", key="pc-import-go", type="primary"):
        try:
            result = service.precedents.import_file(upload.name, upload.getvalue())
        except FengqiaoError as exc:
            st.error(md(exc.line()))
            return
        refused = [p for p in result.problems if p.dropped or p.kind == "precedent"]
        st.success(
            md(
                f"{upload.name}：新增 {len(result.added)} 件，更新 {len(result.updated)} 件，"
                f"未导入 {len(refused)} 件。导入的案例现在就能检索到。"
            )
        )
        for problem in result.problems:
            hint = f" 建议：{problem.hint}" if problem.hint else ""
            show = st.error if problem in refused else st.warning
            show(md(f"{problem.where}：{problem.reason}{hint}"))
        for note in result.notes:
            st.caption(md(note))


def render() -> None:
    service = get_service()
    collection_picker()
    if service is None:
        st.stop()
    st.title("调解案例", anchor=False)
    st.caption(
        "本委员会调解成功的纠纷：记录后立即成为可检索的“调解案例”，出现在问答检索的类似案例中。"
    )
    prefill = st.session_state.pop(PREFILL, None)
    if isinstance(prefill, PrecedentDraft):
        _clear()
        _fill(prefill)
        st.session_state[_VIEW] = _VIEWS[0]
        st.session_state[_PREFILLED] = "已从案卷带入案情、协议和法条。请核对、补全后预览并保存。"
    may_write = auth.current() is not None
    records = service.precedents.records()
    st.session_state.setdefault(_VIEW, _VIEWS[0] if may_write else _VIEWS[1])
    view = st.radio(
        "查看",
        _VIEWS,
        key=_VIEW,
        horizontal=True,
        label_visibility="collapsed",
        format_func=lambda v: f"{v}（{len(records)}）" if v == _VIEWS[1] else v,
    )
    if view == _VIEWS[0]:
        if auth.require_user("记录调解案例"):
            form_view(service)
    elif view == _VIEWS[1]:
        list_view(service, records, may_write)
    else:
        exchange_view(service, len(records))


if __name__ == "__main__":
    render()
