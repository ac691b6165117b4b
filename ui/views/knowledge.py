"""知识库 (the administrator's page): what is loaded, and importing files with a rebuild.

The only page that names folders, the model and commands: mediators never need them.
"""

from __future__ import annotations

import streamlit as st

from ingest.errors import FengqiaoError
from ingest.printable import printable
from retrieval.admin import AddReport, Upload
from retrieval.kb_folder import ALLOWED
from ui import auth
from ui.protocols import KBAdmin, KnowledgePage
from ui.views import REPO, get_admin, get_service, kb_dir
from ui.widgets import collection_picker, local_time, md

UPDATE_HOWTO = (
    "更新方法：在运行枫桥的电脑上执行 fengqiao fetch（下载并校验最新的 LawRefBook 法规合集），"
    "再执行 fengqiao build --statutes kb/fetched/<合集文件夹>；没有网络时，把在别处下载的合集"
    "解压后用 --statutes 指向它。"
)
TABLE_NAMES = {
    "by_level": "按效力级别",
    "by_status": "按时效性",
    "cases_by_kind": "案例按类型",
    "cases_by_type": "案例按纠纷类型",
}


def stats_view(service: KnowledgePage) -> None:
    stats = service.stats()
    cols = st.columns(3)
    cols[0].metric("法律法规", stats.laws)
    cols[1].metric("法条", stats.articles)
    cols[2].metric("案例", stats.cases)
    st.caption(
        md(
            f"更新时间：{local_time(stats.built) or '未知'} · 法规数据截至：{stats.data_as_of or '未知'}"
        )
    )
    notice = service.freshness_notice()
    if notice is not None and notice.level == "warning":
        # The mediators' pages only say "ask the administrator"; here is what to run.
        st.warning(md(notice.text.split("建议：")[0]) + "  \n" + md(UPDATE_HOWTO))
    dropped = service.guidance_dropped()
    if dropped:  # a hint is never shown without its law: say which ones are held back
        with st.expander(
            f"办理提示：{len(dropped)} 条要点因条文对不上未显示", icon=":material/rule:"
        ):
            st.caption("规则文件在 kb/guidance/；条文修改后请按现行文本更新引文。")
            for line in dropped:
                st.text(line)
    tables = {
        name: table
        for name, table in (
            ("by_level", stats.by_level),
            ("by_status", stats.by_status),
            ("cases_by_kind", stats.cases_by_kind),
            ("cases_by_type", stats.cases_by_type),
        )
        if table
    }
    if tables:
        grid = list(st.columns(min(4, len(tables))))
        for col, (key, table) in zip(grid * 4, tables.items(), strict=False):
            with col:
                st.markdown(f"**{md(TABLE_NAMES[key])}**")
                st.table({"项目": [str(k) for k in table], "数量": list(table.values())})
    with st.expander("已收录的法律法规"):
        laws = service.laws()
        st.table(
            {
                "法规": [i.law_title for i in laws],
                "级别": [i.level for i in laws],
                "时效性": [i.status for i in laws],
                "条数": [i.articles for i in laws],
                "版本": [i.version for i in laws],
                "现行": ["是" if i.current else "否" for i in laws],
            }
        )
    with st.expander("技术信息（供管理员）"):
        st.caption(
            md(f"向量模型：{stats.model} · 检索单元：{stats.units} · 知识库目录：{kb_dir()}")
        )


def show_add_report(report: AddReport) -> None:
    for name, reason in report.refused:
        st.error(md(printable(f"{name}：{reason}")))
    build = report.build
    for saved in report.saved:
        problems = report.problems_of(saved)
        for p in problems:
            hint = f" 建议：{p.hint}" if p.hint else ""
            st.error(md(printable(f"{saved.path.name}：{p.reason}{hint}")))
        if build is None:
            st.info(md(saved.summary()))
        elif not problems:
            st.success(md(printable(f"{saved.path.name}：已按{report.read_as(saved)}导入")))
        details = report.build.file_report(saved.path) if report.build else None
        st.caption(md(" ".join([saved.summary(), details.summary() if details else ""])))
    for name, result in report.precedents:
        first, *rest = report.precedent_lines(name, result)
        (st.success if result.added or result.updated else st.error)(md(printable(first)))
        for line in rest:
            st.caption(md(printable(line)))
    if build is not None:
        others = len(build.problems) - sum(len(report.problems_of(s)) for s in report.saved)
        if others > 0:
            st.caption(f"其他来源另有 {others} 条提示，可请管理员在终端运行 fengqiao build 查看。")


def upload_view(admin: KBAdmin) -> None:
    """Save and rebuild exactly as ``fengqiao add`` does (one code path: ``retrieval.admin``);
    the next question, on any page and in any session, finds the new records."""
    st.subheader("导入自己的文件", anchor=False)
    if not auth.require_admin("导入文件"):  # a control never drawn cannot be triggered
        return
    st.caption(
        f"支持 {'、'.join(a.upper() for a in ALLOWED)}，每个文件不超过 {admin.limit_mb} MB。"
        f"文件只保存在知识库的 drop-in 文件夹，导入后增量更新索引（只重新计算新增或改动的部分）。"
    )
    template = REPO / "kb" / "templates" / "调解记录模板.csv"
    if template.exists():
        st.download_button(
            "下载调解记录模板（CSV）",
            template.read_bytes(),
            file_name=template.name,
            mime="text/csv",
            key="template",
            on_click="ignore",
            help="CSV/JSONL 调解记录表格导入为调解案例（与“调解案例”页的导入相同，同一编号只保存一份）；PDF/DOCX/MD/TXT 看内容：有“第X条”的按法规导入，有“基本案情”“调解结果”等小标题的按调解记录导入。",
        )
    files = st.file_uploader(
        "选择文件",
        type=list(ALLOWED),
        accept_multiple_files=True,
        key="upload",
        max_upload_size=admin.limit_mb,
    )
    if files and st.button("保存并更新知识库", type="primary", key="upload-go"):
        uploads = [Upload(f.name, f.getvalue()) for f in files]
        with st.status("正在保存文件并更新索引……", expanded=True) as status:
            try:
                report = admin.add(uploads)
            except FengqiaoError as exc:
                status.update(label="更新失败", state="error")
                st.error(
                    md(
                        f"索引更新失败：{exc.message} 建议：{exc.hint or '检查上面列出的文件后重试'}"
                    )
                )
                return
            label = (
                report.build.summary()
                if report.build
                else "已导入调解案例"
                if report.precedents
                else "没有可导入的文件"
            )
            status.update(label=label, state="complete" if report.done else "error")
        show_add_report(report)
    existing = admin.dropin_names()
    with st.expander(f"drop-in 中已有的文件（{len(existing)}）"):
        for name in existing:
            st.text(printable(name))


def render() -> None:
    st.title("知识库", anchor=False)
    st.caption("供知识库管理员使用：查看收录情况，导入法规和调解记录。")
    service = get_service(admin=True)
    collection_picker()
    if service is not None:
        stats_view(service)
    upload_view(get_admin(service))


if __name__ == "__main__":
    render()
