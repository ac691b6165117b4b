"""Collection export: case file or teaching set → Markdown, DOCX (python-docx) and PDF (reportlab)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from ingest.records import Article, Case
from ui.documents.document import Block, ExportError, Layout, to_markdown
from ui.documents.drafts import TITLES, DraftKind, draft_blocks, printable
from ui.documents.guidance_blocks import guidance_blocks
from ui.documents.quoting import (
    Entry,
    RecordSource,
    answer_trust,
    article_meta,
    case_meta,
    cite,
    cited_lines,
    outcome,
    quoted_text,
    resolve,
    source_line,
)
from ui.documents.render_docx import to_docx
from ui.documents.render_pdf import to_pdf
from ui.documents.teaching import VERSION_NAMES, Version, teaching_blocks
from ui.store import CaseDetails, Item

Format = Literal["md", "docx", "pdf"]
MIME: dict[str, str] = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}

__all__ = [
    "MIME",
    "Block",
    "Entry",
    "ExportError",
    "Format",
    "RecordSource",
    "article_meta",
    "case_meta",
    "cited_lines",
    "collection_blocks",
    "export_collection",
    "export_draft",
    "draft_file_name",
    "file_name",
    "render",
    "resolve",
    "teaching_blocks",
]


def collection_blocks(
    name: str, entries: Sequence[Entry], kb: RecordSource, details: CaseDetails | None = None
) -> list[Block]:
    """A case file: every article with its citation and text, every case summarised, with
    notes, then the 办理提示 for its dispute (``ui.documents.guidance_blocks``)."""
    blocks = [
        Block("title", f"案卷：{name}"),
        Block("meta", f"导出时间：{datetime.now():%Y-%m-%d %H:%M} · 共 {len(entries)} 项 · 枫桥"),
    ]
    for n, entry in enumerate(entries, 1):
        record = entry.record
        if isinstance(record, Article):
            blocks.append(Block("heading", f"{n}. {cite(record)}"))
            blocks.append(Block("meta", article_meta(record)))
            blocks.extend(Block("quote", para) for para in quoted_text(record))
        elif isinstance(record, Case):
            blocks.append(Block("heading", f"{n}. 案例：{record.title}"))
            blocks.append(Block("meta", case_meta(record)))
            blocks.append(Block("meta", source_line(record)))
            result_label, result = outcome(record)
            facts_label = "基本案情" if answer_trust(record) == "authority" else "咨询内容"
            for label, body in (
                (facts_label, record.facts),
                ("争议焦点", record.section("争议焦点")),
                (result_label, result),
            ):
                if body:
                    blocks.append(Block("text", f"{label}：{body}"))
            cited = cited_lines(record, kb)
            if cited:
                blocks.append(Block("text", "引用法条（与知识库核对）："))
                blocks.extend(Block("text", f"{i}) {line}") for i, line in enumerate(cited, 1))
        else:
            blocks.append(Block("heading", f"{n}. {entry.item.ref}"))
            blocks.append(Block("meta", "知识库中已找不到此项（可能已重建索引）。"))
        if entry.item.note.strip():
            blocks.append(Block("note", f"笔记：{entry.item.note.strip()}"))
    blocks.extend(guidance_blocks(kb, details, entries, "casefile"))
    return blocks


def render(blocks: Sequence[Block], fmt: Format, layout: Layout = "plain") -> bytes:
    """Blocks in one of the export formats.

    Raises:
        ExportError: the PDF cannot be made here (no CJK font, or characters no font has).
    """
    if fmt == "md":
        return to_markdown(blocks).encode("utf-8")
    if fmt == "docx":
        return to_docx(blocks, layout)
    if fmt == "pdf":
        return to_pdf(blocks, layout)
    raise ValueError(f"unknown export format {fmt!r}")


def _version(teaching: bool | Version) -> Version | None:
    if teaching is True:
        return "teacher"
    return teaching or None


def export_collection(
    name: str,
    items: Sequence[Item],
    kb: RecordSource,
    fmt: Format,
    *,
    teaching: bool | Version = False,
    details: CaseDetails | None = None,
) -> bytes:
    """Export a collection as a case file, or as a teaching set.

    ``teaching``: ``"student"`` (questions only), ``"teacher"`` or ``True`` (with answer keys).
    ``details``: the 案卷's case details, whose text chooses the 办理提示 a case file carries.
    """
    entries = resolve(items, kb)
    version = _version(teaching)
    if version is None:
        return render(collection_blocks(name, entries, kb, details), fmt)
    return render(teaching_blocks(name, entries, kb, version), fmt)


def export_draft(
    kind: DraftKind,
    name: str,
    details: CaseDetails,
    items: Sequence[Item],
    kb: RecordSource,
    fmt: Format,
    *,
    mask_ids: bool = False,
    basis: Sequence[str] | None = None,
) -> bytes:
    """A 调解协议书 (``"agreement"``) or 调解笔录 (``"record"``) draft of a collection.

    Args:
        name: the collection's name (named in the draft's notice only).
        details: the collection's case details (``CollectionStore.details``).
        items: its items; the articles among them are quoted as the law relied on.
        mask_ids: print ID and phone numbers masked (for a copy shared outside the committee).
        basis: the article refs chosen for 调解依据 (None: all the 案卷's articles).

    The note about the draft (草稿说明) goes into the DOCX and Markdown, which can be
    edited; a PDF is printed as it is, so it never carries it (the page shows it instead).
    """
    blocks = draft_blocks(kind, name, details, items, kb, mask_ids=mask_ids, basis=basis)
    return render(printable(blocks) if fmt == "pdf" else blocks, fmt, "official")


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_（）()")[:40] or "案卷"


def draft_file_name(kind: DraftKind, name: str, fmt: Format) -> str:
    return f"{TITLES[kind]}-{_safe(name)}.{fmt}"


def file_name(name: str, fmt: Format, *, teaching: bool | Version = False) -> str:
    """A safe download name: the collection name without path or odd characters."""
    safe = _safe(name)
    if teaching is True:
        prefix = "教学集"
    elif teaching:
        prefix = f"教学集（{VERSION_NAMES[teaching]}）"
    else:
        prefix = "案卷"
    return f"{prefix}-{safe}.{fmt}"
