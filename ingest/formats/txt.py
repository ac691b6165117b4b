"""Read a plain-text statute in UTF-8, UTF-8 with BOM or GB18030/GBK."""

from __future__ import annotations

from ingest.formats import Collector, RawDocument, check_decoding, decode_text, looks_binary
from ingest.formats.plaintext import plain_header, split_lines


def parse_txt(data: bytes, source: str) -> RawDocument:
    """Decode (noting the encoding used), then split into headings and articles."""
    report = Collector(source)
    if looks_binary(data):
        report.warn(
            source,
            "不是文本文件（含二进制内容），已跳过",
            "确认文件确为纯文本，或删去该文件",
            "binary",
        )
        return RawDocument(source, "txt", problems=tuple(report.problems))
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError as exc:
        report.warn(
            f"{source} (字节 {exc.start})",
            "无法按 UTF-8 或 GB18030 解码，已跳过",
            "用记事本等编辑器另存为 UTF-8 编码",
            "undecodable",
        )
        return RawDocument(source, "txt", problems=tuple(report.problems))
    check_decoding(report, text, encoding, gb_is_normal=True)
    lines = text.splitlines()
    title, info, start = plain_header(lines)
    articles, appendix = split_lines(((lines[i], i + 1) for i in range(start, len(lines))), report)
    return RawDocument(
        source=source,
        format="txt",
        title=title,
        info=tuple(info),
        articles=articles,
        problems=tuple(report.problems),
        notes=tuple(report.notes),
        appendix=appendix,
    )
