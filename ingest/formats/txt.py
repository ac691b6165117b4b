"""Read a plain-text statute in UTF-8, UTF-8 with BOM or GB18030/GBK."""

from __future__ import annotations

from ingest.formats import Collector, RawDocument, read_text
from ingest.formats.plaintext import plain_document


def parse_txt(data: bytes, source: str) -> RawDocument:
    """Decode (noting the encoding used), then split into headings and articles."""
    report = Collector(source)
    text = read_text(data, report, kind="纯", gb_is_normal=True)
    if text is None:
        return RawDocument(source, "txt", problems=tuple(report.problems))
    lines = text.splitlines()
    return plain_document(
        source, "txt", [(line, n) for n, line in enumerate(lines, start=1)], report
    )
