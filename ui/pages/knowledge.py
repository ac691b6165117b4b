"""知识库: what is loaded, and importing the user's own files into kb/drop-in with a rebuild."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.dropin import ALLOWED, save_into
from ingest.dropin import safe_name as safe_name  # re-exported: the page names files with it
from retrieval.errors import FengqiaoError
from ui.pages import REPO, get_kb, kb_dir, reload_kb
from ui.widgets import collection_picker, md

CASE_TABLES = ("json", "jsonl", "csv")  # mediation records; the others are statute texts
MAX_MB = 20
DROP_IN = "drop-in"


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write one upload under ``folder`` (never elsewhere); DropInError (a ValueError) if refused."""
    return save_into(folder, name, data, max_bytes=MAX_MB * 1024 * 1024)


def rebuild(kb: Any | None) -> Any:
    """Incremental rebuild: remembered sources + drop-in, with the model of the loaded index.

    build_kb reads drop-in as statutes; case tables (CSV/JSON/JSONL) placed there are
    passed as case sources, together with the remembered ones so nothing is dropped.
    """
    from retrieval.build import build_kb, index_dir
    from retrieval.manifest import read_manifest

    folder = kb_dir()
    embedder = getattr(kb, "embedder", None)
    try:
        manifest = read_manifest(index_dir(folder))
    except FengqiaoError:
        manifest = getattr(kb, "manifest", None) or {}
    model = None
    if embedder is None:
        recorded = manifest.get("model")
        model = recorded.get("name") if isinstance(recorded, dict) else recorded
    drop = (folder / DROP_IN).resolve()
    case_files = sorted(p for p in drop.glob("*") if p.suffix.lower().lstrip(".") in CASE_TABLES)
    if not case_files:
        return build_kb(folder, model=model or None, embedder=embedder)
    sources = manifest.get("sources", {})
    statutes = [Path(p) for p in sources.get("statutes", []) if Path(p).resolve() != drop]
    cases = [Path(p) for p in sources.get("cases", [])]
    cases += [p for p in case_files if p not in {c.resolve() for c in cases}]
    return build_kb(folder, statutes=statutes, cases=cases, model=model or None, embedder=embedder)


def stats_view(kb: Any) -> None:
    stats = kb.stats()
    cols = st.columns(3)
    cols[0].metric("法律法规", stats.get("laws", 0))
    cols[1].metric("法条", stats.get("articles", 0))
    cols[2].metric("案例", stats.get("cases", 0))
    built = stats.get("created") or stats.get("build_date") or stats.get("built") or ""
    model = str(stats.get("model", "")) or "未知"
    st.caption(md(f"向量模型：{model} · 构建时间：{built or '未知'} · 知识库目录：{kb_dir()}"))
    tables = {k: v for k, v in stats.items() if isinstance(v, dict) and v}
    names = {
        "by_level": "按效力级别",
        "by_status": "按时效性",
        "by_kind": "按案例类型",
        "by_type": "按纠纷类型",
        "by_dispute_type": "按纠纷类型",
        "cases_by_kind": "案例按类型",
        "cases_by_type": "案例按纠纷类型",
    }
    if tables:
        grid = list(st.columns(min(4, len(tables))))
        for col, (key, table) in zip(grid * 4, tables.items(), strict=False):
            with col:
                st.markdown(f"**{md(names.get(key, key))}**")
                st.dataframe(
                    [{"项目": str(k), "数量": v} for k, v in table.items()],
                    hide_index=True,
                    width="stretch",
                )
    with st.expander("已收录的法律法规"):
        st.dataframe(
            [
                {
                    "法规": i.law_title,
                    "级别": i.level,
                    "时效性": i.status,
                    "条数": i.articles,
                    "版本": i.version,
                    "现行": "是" if i.current else "否",
                }
                for i in kb.laws()
            ],
            hide_index=True,
            width="stretch",
        )


def upload_view(kb: Any | None) -> None:
    st.subheader("导入自己的文件")
    folder = kb_dir() / DROP_IN
    st.caption(
        f"支持 {'、'.join(a.upper() for a in ALLOWED)}，每个文件不超过 {MAX_MB} MB。"
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
            help="CSV/JSON/JSONL 按调解记录导入为案例；PDF/DOCX/MD/TXT 按法规条文导入。",
        )
    files = st.file_uploader(
        "选择文件",
        type=list(ALLOWED),
        accept_multiple_files=True,
        key="upload",
        max_upload_size=MAX_MB,
    )
    if files and st.button("保存并更新知识库", type="primary", key="upload-go"):
        saved: list[Path] = []
        bar = st.progress(0.0, text="正在保存文件……")
        for n, f in enumerate(files, 1):
            try:
                saved.append(save_upload(folder, f.name, f.getvalue()))
            except ValueError as exc:
                st.error(f"{f.name}：{exc}")
            bar.progress(n / len(files), text=f"已保存 {n}/{len(files)}")
        if saved:
            with st.status("正在更新索引……", expanded=True) as status:
                try:
                    report = rebuild(kb)
                except FengqiaoError as exc:
                    status.update(label="更新失败", state="error")
                    st.error(
                        f"索引更新失败：{exc.message} 建议：{exc.hint or '检查上面列出的文件后重试'}"
                    )
                    return
                status.update(label=str(report.summary()), state="complete")
            problems = [p for p in report.problems if any(s.name in p.where for s in saved)]
            for p in problems:
                where = p.where.replace(f"{folder}{os.sep}", "").replace(
                    str(folder.resolve()) + os.sep, ""
                )
                hint = f" 建议：{p.hint}" if p.hint else ""
                st.error(md(f"{where}：{p.reason}{hint}"))
            ok = [s for s in saved if not any(s.name in p.where for p in problems)]
            for s in ok:
                st.success(md(f"{s.name}：已导入"))
            others = len(report.problems) - len(problems)
            if others:
                st.caption(f"其他来源另有 {others} 条提示，可在终端运行 fengqiao build 查看。")
            reload_kb()
    existing = (
        sorted(p.name for p in folder.glob("*") if p.is_file() and p.name != "README.md")
        if folder.is_dir()
        else []
    )
    with st.expander(f"drop-in 中已有的文件（{len(existing)}）"):
        for name in existing:
            st.text(name)


def render() -> None:
    st.title("知识库")
    kb = get_kb()
    collection_picker()
    if kb is not None:
        stats_view(kb)
    upload_view(kb)


if __name__ == "__main__":
    render()
