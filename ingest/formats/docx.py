"""Read a Word (.docx) statute with python-docx: title, 章/节 headings, 第X条 articles."""

from __future__ import annotations

import io
import zipfile

from ingest.formats import Collector, RawDocument, unzip_problem
from ingest.formats.plaintext import plain_document


def parse_docx(data: bytes, source: str) -> RawDocument:
    """One line per paragraph (soft line breaks split too); line numbers are paragraph numbers."""
    import docx  # python-docx; imported here so Markdown-only builds do not load lxml

    report = Collector(source)
    bomb = unzip_problem(data)
    if bomb:
        report.warn(
            source,
            f"DOCX {bomb}，未打开",
            "用 Word 或 WPS 打开后另存为 .docx；确属正常的大文件请拆分",
            "unzip-limit",
        )
        return RawDocument(source, "docx", problems=tuple(report.problems))
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.text for p in document.paragraphs]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        report.warn(
            source,
            f"DOCX 文件已损坏或不完整（{type(exc).__name__}），已跳过",
            "用 Word 或 WPS 打开后另存为 .docx，或重新下载",
            "corrupt",
        )
        return RawDocument(source, "docx", problems=tuple(report.problems))
    except Exception as exc:  # lxml raises its own XMLSyntaxError on damaged parts
        report.warn(
            source,
            f"DOCX 内容无法解析（{type(exc).__name__}），已跳过",
            "用 Word 或 WPS 打开后另存为 .docx，或重新下载",
            "corrupt",
        )
        return RawDocument(source, "docx", problems=tuple(report.problems))

    lines: list[tuple[str, int]] = []
    for n, text in enumerate(paragraphs, start=1):
        for part in text.replace("\r", "\n").replace("\v", "\n").split("\n"):
            lines.append((part, n))
    return plain_document(source, "docx", lines, report, where="para")
