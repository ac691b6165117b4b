"""One 案卷 on screen: its case details form, and the 调解协议书 / 调解笔录 / 教学集 downloads.

Every widget key carries the 案卷's id, so two 案卷 never share a value on screen, and
every save names the 案卷 it writes to (``CollectionStore.save_details``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import streamlit as st

from ingest.records import Article
from retrieval.precedents import PrecedentDraft
from ui.documents.drafts import (
    TITLES,
    DraftKind,
    draft_blocks,
    draft_notice,
    mask_id,
    mask_phone,
)
from ui.documents.export import (
    MIME,
    Format,
    draft_file_name,
    export_collection,
    export_draft,
    file_name,
)
from ui.documents.quoting import RecordSource
from ui.documents.teaching import VERSION_NAMES, Version
from ui.errors import ExportError, StoreError
from ui.protocols import CollectionsService
from ui.store import CaseDetails, Item, Party
from ui.views import PAGE_FILES, get_store
from ui.widgets import local_time, md

ROLES = ("申请人", "被申请人", "当事人", "第三人")
# (field, label, height of a text area or 0 for one line, placeholder)
CASE_FIELDS: tuple[tuple[str, str, int, str], ...] = (
    ("number", "编号", 0, "如：（2026）枫调字第001号"),
    ("committee", "人民调解委员会", 0, "如：枫桥镇枫源村人民调解委员会"),
    ("mediator", "人民调解员", 0, "几位调解员用顿号分开"),
    ("recorder", "记录人", 0, ""),
    ("others", "其他参加人", 0, "如：邀请参加的亲属、邻居"),
    ("place", "调解地点", 0, ""),
    ("date", "调解日期", 0, "如：2026年3月15日"),
    ("facts", "纠纷的主要事实", 120, "发生了什么，各方怎么说"),
    ("disputed", "争议事项", 80, ""),
    ("responsibilities", "各方当事人的责任", 80, ""),
    ("agreement", "调解协议的内容（调解结果）", 120, "一项一行：如“一、李某于……前支付……”"),
    ("performance", "履行方式", 0, "如：银行转账、当场交付"),
    ("deadline", "履行期限", 0, "如：2026年4月30日前"),
    ("process", "调解经过（用于调解笔录）", 100, ""),
)
PARTY_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "姓名或名称"),
    ("gender", "性别"),
    ("ethnicity", "民族"),
    ("birth", "出生日期或年龄"),
    ("id_number", "身份证号码"),
    ("occupation", "职业或工作单位"),
    ("address", "住址"),
    ("phone", "联系电话"),
    ("agent", "委托代理人或法定代表人"),
)
FORMATS: dict[str, Format] = {"Word（DOCX）": "docx", "PDF": "pdf", "Markdown": "md"}
DRAFTS: dict[str, DraftKind] = {TITLES["agreement"]: "agreement", TITLES["record"]: "record"}
_BYTES = "export_memo"
PREFILL = "pc-prefill"
"""Session key: a PrecedentDraft that opens the 调解案例 form filled in (``record_button``)."""


def _key(cid: int, name: str) -> str:
    return f"d{cid}-{name}"


def _party_slots(cid: int, details: CaseDetails) -> int:
    key = _key(cid, "slots")
    if key not in st.session_state:
        st.session_state[key] = max(2, len(details.parties))
    return int(st.session_state[key])


def _add_party(cid: int) -> None:
    st.session_state[_key(cid, "slots")] = int(st.session_state.get(_key(cid, "slots"), 2)) + 1


def entered(cid: int, slots: int) -> CaseDetails:
    """The case details as they stand in this 案卷's form."""
    state = st.session_state
    values = {f: str(state.get(_key(cid, f), "") or "") for f, *_ in CASE_FIELDS}
    copies = int(state.get(_key(cid, "copies"), 0) or 0)
    parties = []
    for n in range(slots):
        party = {f: str(state.get(_key(cid, f"p{n}-{f}"), "") or "") for f, _ in PARTY_FIELDS}
        if not any(v.strip() for v in party.values()):
            continue  # a slot with only its preset role is no party
        role = str(state.get(_key(cid, f"p{n}-role"), "") or "")
        parties.append(Party(role=role, **party))
    return CaseDetails(copies=copies, parties=tuple(parties), **values)


def _save(cid: int, slots: int) -> None:
    try:
        saved = get_store().save_details(cid, entered(cid, slots))
    except StoreError as exc:
        st.session_state[_key(cid, "saved")] = ("error", str(exc))
        return
    st.session_state[_key(cid, "saved")] = ("ok", f"已保存（{local_time(saved.updated)}）")


def details_form(cid: int, details: CaseDetails) -> None:
    """The fields of 人民调解法第二十九条 and the 笔录, as the mediator types them."""
    slots = _party_slots(cid, details)
    st.caption(
        "这里填写的内容只用于本案卷的调解协议书和调解笔录草稿；没有填写的栏目在草稿中留空，不会替您填写。"
    )
    with st.form(key=_key(cid, "form"), border=False):
        st.markdown("**当事人基本情况**")
        for n in range(slots):
            party = details.parties[n] if n < len(details.parties) else Party()
            with st.container(border=True):
                default_role = party.role or (ROLES[0] if n == 0 else ROLES[1] if n == 1 else "")
                roles = list(ROLES) + ([default_role] if default_role not in ROLES else [])
                left, right = st.columns([1, 2])
                left.selectbox(
                    f"当事人{n + 1}的身份",
                    roles,
                    index=roles.index(default_role) if default_role else None,
                    key=_key(cid, f"p{n}-role"),
                    placeholder="请选择",
                )
                right.text_input(PARTY_FIELDS[0][1], value=party.name, key=_key(cid, f"p{n}-name"))
                cols = st.columns(3)
                for i, (f, label) in enumerate(PARTY_FIELDS[1:]):
                    cols[i % 3].text_input(
                        label, value=getattr(party, f), key=_key(cid, f"p{n}-{f}")
                    )
        st.markdown("**调解情况**")
        for f, label, height, placeholder in CASE_FIELDS:
            value = getattr(details, f)
            if height:
                st.text_area(
                    label, value=value, key=_key(cid, f), height=height, placeholder=placeholder
                )
            else:
                st.text_input(label, value=value, key=_key(cid, f), placeholder=placeholder)
        st.number_input(
            "协议书份数（0 表示按当事人人数加一份）",
            min_value=0,
            max_value=99,
            value=details.copies,
            step=1,
            key=_key(cid, "copies"),
        )
        st.form_submit_button(
            "保存案情",
            key=_key(cid, "save"),
            type="primary",
            on_click=_save,
            args=(cid, slots),
            icon=":material/save:",
        )
    st.button(
        "增加一位当事人",
        key=_key(cid, "more"),
        on_click=_add_party,
        args=(cid,),
        icon=":material/person_add:",
    )
    saved = st.session_state.pop(_key(cid, "saved"), None)
    if saved:
        (st.success if saved[0] == "ok" else st.error)(md(saved[1]))
    elif details.updated:
        st.caption(f"上次保存：{local_time(details.updated)}")


def _memo(key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
    """Export bytes made once per content: a rerun for another widget does not remake them."""
    memo: dict[tuple[object, ...], bytes] = st.session_state.setdefault(_BYTES, {})
    if key not in memo:
        if len(memo) > 12:
            memo.clear()
        memo[key] = make()
    return memo[key]


def details_view(details: CaseDetails) -> None:
    """Someone else's 案卷, read only: parties with ID and phone numbers masked.

    Only the owner sees and edits the numbers (the form above); a colleague it is shared
    with reads the case, and a masked value can never be saved back over the real one.
    """
    st.caption("这是他人的案卷，只能查看。当事人的身份证号码和电话已隐去，只有案卷所有者可以看到。")
    if not details.parties:
        st.caption("（未填写当事人）")
    for party in masked(details).parties:
        shown = [
            f"{label}：{getattr(party, f).strip()}"
            for f, label in PARTY_FIELDS[1:]
            if getattr(party, f).strip()
        ]
        who = f"{party.role or '当事人'}：{party.name.strip() or '（未填写姓名）'}"
        st.markdown(md("；".join([who, *shown])))
    for f, label, _, _ in CASE_FIELDS:
        value = getattr(details, f).strip()
        if value:
            st.markdown(f"**{md(label)}：** {md(value)}")


def masked(details: CaseDetails) -> CaseDetails:
    """The case details with every party's ID and phone number masked."""
    return replace(
        details,
        parties=tuple(
            replace(p, id_number=mask_id(p.id_number), phone=mask_phone(p.phone))
            for p in details.parties
        ),
    )


def _download(
    label: str,
    key: str,
    name: str,
    fmt: Format,
    memo_key: tuple[object, ...],
    make: Callable[[], bytes],
    on_export: Callable[[str], None] | None = None,
) -> None:
    try:
        data = _memo(memo_key, make)
    except ExportError as exc:
        st.error(md(str(exc)))
        return
    st.download_button(
        label,
        lambda: data,  # served on the click only (see ui/views/precedents.py exchange_view)
        file_name=name,
        mime=MIME[fmt],
        key=key,
        icon=":material/download:",
        # the audit log records the click: the file is only handed out on it
        on_click=partial(on_export, name) if on_export is not None else "ignore",
    )


def exports(
    service: CollectionsService,
    cid: int,
    name: str,
    details: CaseDetails,
    items: Sequence[Item],
    *,
    owner: bool = True,
    on_export: Callable[[str], None] | None = None,
) -> None:
    """调解协议书 / 调解笔录 drafts, the 案卷 itself and its teaching set.

    Args:
        owner: whether the reader owns the 案卷; anyone else's drafts carry masked numbers.
        on_export: called with the file name when a file is downloaded (the audit log).
    """
    if not owner:
        details = masked(details)  # never hand the real numbers to a non-owner
    base = (service.version, cid, name, details, tuple(items))
    st.markdown("##### 调解文书草稿", anchors=False)
    st.caption(
        "按“案情与当事人”中保存的内容生成；案卷中的法条按原文引用并注明效力状态，"
        "协议书附司法确认须知。草稿须经调解员核对后使用。"
    )
    title = st.radio("文书", list(DRAFTS), horizontal=True, key="draft-kind")
    kind = DRAFTS[title]
    basis = basis_picker(service, cid, items) if kind == "agreement" else None
    if owner:
        mask = st.checkbox("隐去身份证号码和电话（对外提供时）", key="draft-mask")
    else:
        mask = True
        st.caption("身份证号码和电话已隐去：只有案卷所有者可以导出完整号码。")
    notice = draft_notice(draft_blocks(kind, name, details, items, service, basis=basis))
    if notice:
        with st.expander("草稿说明（只在屏幕和 Word 稿中显示，PDF 中没有）"):
            for line in notice.split("\n"):
                st.markdown(md(line))
    draft_formats: tuple[Format, ...] = ("docx", "pdf")
    with st.container(horizontal=True):
        for dfmt in draft_formats:
            _download(
                f"{title}（{'Word' if dfmt == 'docx' else 'PDF'}）",
                f"dl-draft-{dfmt}",
                draft_file_name(kind, name, dfmt),
                dfmt,
                (*base, kind, dfmt, mask, basis),
                partial(
                    export_draft,
                    kind,
                    name,
                    details,
                    items,
                    service,
                    dfmt,
                    mask_ids=mask,
                    basis=basis,
                ),
                on_export,
            )
    st.markdown("##### 案卷与教学集", anchors=False)
    label = st.radio(
        "格式", list(FORMATS), horizontal=True, key="export_format", persist_state="session"
    )
    fmt = FORMATS[label]
    _download(
        "导出案卷",
        "dl-file",
        file_name(name, fmt),
        fmt,
        (*base, "file", fmt),
        partial(export_collection, name, items, service, fmt, details=details),
        on_export,
    )
    if not any(i.kind == "case" for i in items):
        st.caption(
            "教学集需要案卷中至少有一个案例：每个案例生成问题（案情与争议焦点），教师版另附参考答案。"
        )
        return
    versions: tuple[Version, ...] = ("student", "teacher")
    with st.container(horizontal=True):
        for version in versions:
            _download(
                f"导出教学集（{VERSION_NAMES[version]}）",
                f"dl-teach-{version}",
                file_name(name, fmt, teaching=version),
                fmt,
                (*base, "teach", version, fmt),
                partial(export_collection, name, items, service, fmt, teaching=version),
                on_export,
            )


def basis_picker(service: CollectionsService, cid: int, items: Sequence[Item]) -> tuple[str, ...]:
    """The 案卷's articles the mediator puts under 调解依据 (all of them unless unticked)."""
    refs = [i.ref for i in items if i.kind == "article"]
    if not refs:
        return ()
    names: dict[str, str] = {}
    for ref in refs:
        record = service.article(ref)
        names[ref] = (
            record.citation if isinstance(record, Article) else f"{ref}（知识库中已找不到）"
        )
    chosen = st.multiselect(
        "调解依据引用的法条",
        refs,
        default=refs,
        format_func=lambda r: names.get(r, r),
        key=_key(cid, "basis"),
        help="协议书“调解依据”一节按原文引用这里选中的法条；没有选中的不写入协议书。",
        placeholder="不引用法条",
    )
    return tuple(r for r in refs if r in chosen)


def precedent_draft(
    name: str, details: CaseDetails, items: Sequence[Item], kb: RecordSource
) -> PrecedentDraft:
    """A 案卷 as the start of a 调解案例 record: its case details and its articles, unmasked.

    Names stay as typed here: the record page shows the masked preview, and the store
    masks every party (and each agent) named before anything is saved.
    """
    articles: list[str] = []
    for item in items:
        record = kb.article(item.ref) if item.kind == "article" else None
        if isinstance(record, Article) and record.citation not in articles:
            articles.append(record.citation)
    names: list[str] = []
    for party in details.parties:
        for who in (party.name, party.agent):
            if who.strip() and who.strip() not in names:
                names.append(who.strip())
    performance = "；".join(
        x
        for x in (
            details.performance.strip(),
            f"履行期限：{details.deadline.strip()}" if details.deadline.strip() else "",
        )
        if x
    )
    return PrecedentDraft(
        title=name,
        facts=details.facts,
        focus=details.disputed,
        process=details.process,
        agreement=details.agreement,
        performance=performance,
        articles=tuple(articles),
        parties=tuple(names),
        date=details.date,
        committee=details.committee,
    )


def record_button(kb: RecordSource, cid: int, name: str, items: Sequence[Item]) -> None:
    """记录为调解案例: open the record form filled in from this 案卷's saved details and articles."""
    st.caption(
        "调解成功后，可把本案记录为调解案例：保存前当事人姓名脱敏、法条与知识库核对，保存后即可检索。"
    )
    if st.button("记录为调解案例", key=_key(cid, "precedent"), icon=":material/handshake:"):
        details = get_store().details(cid)
        st.session_state[PREFILL] = precedent_draft(name, details, items, kb)
        st.switch_page(PAGE_FILES["precedents"])
