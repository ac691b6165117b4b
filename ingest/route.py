"""Which reader a user's file goes to: statute text or mediation records, by type and by content.

A CSV/JSON/JSONL file is a table of records. A DOCX, PDF, Markdown or TXT file may be
either a statute (lines that start with 第X条) or a mediation write-up (headings such as
基本案情、调解结果): the file type alone cannot decide, so the text is looked at.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from ingest.cases.sections import canonical_section
from ingest.config import MAX_FILE_BYTES
from ingest.formats import unzip_problem
from ingest.names import parse_label

log = logging.getLogger(__name__)

Route = Literal["statutes", "cases"]
CASE_TABLES = (".csv", ".json", ".jsonl")
_SNIFF_LINES = 400


def text_lines(path: Path) -> list[str]:
    """The first lines of a DOCX, PDF, Markdown or TXT file ([] when unreadable)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            import docx  # python-docx

            data = _bounded_read(path)
            if data is None or unzip_problem(data):
                return []  # the statute or case reader reports why, before opening it
            doc = docx.Document(io.BytesIO(data))
            lines = [p.text for p in doc.paragraphs[:_SNIFF_LINES]]
            for table in doc.tables[:20]:
                for row in table.rows:
                    cells = [c.text.strip() for c in row.cells]
                    if len(cells) >= 2 and cells[0]:
                        lines.append(f"{cells[0]}：{cells[1]}")
            return lines
        if suffix == ".pdf":
            from pypdf import PdfReader

            data = _bounded_read(path)
            if data is None:
                return []
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return []
            text = "\n".join((p.extract_text() or "") for p in list(reader.pages)[:5])
            return text.splitlines()[:_SNIFF_LINES]
        from ingest.formats import decode_text

        with path.open("rb") as f:
            data = f.read(200_000)
        return decode_text(data)[0].splitlines()[:_SNIFF_LINES]
    except Exception as e:  # any unreadable file is the chosen reader's to report
        log.debug("cannot sniff %s: %s", path, e)
        return []


def _bounded_read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is larger than any file the tool accepts.

    The size guards run here, before any parser sees the file: routing used to open
    every DOCX in drop-in with python-docx, and a 2 MB zip bomb then took 4.3 GB.
    """
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    return None if len(data) > MAX_FILE_BYTES else data


def route_file(path: Path) -> Route:
    """``"cases"`` for record tables and write-ups, ``"statutes"`` for everything else.

    A text file is a write-up when it has at least two case headings (基本案情、争议焦点、
    调解结果、协议内容 …) and no more lines starting with 第X条 than headings.
    """
    if path.suffix.lower() in CASE_TABLES:
        return "cases"
    labels = heads = 0
    for raw in text_lines(path):
        line = raw.strip().lstrip("#").strip()
        if not line:
            continue
        if parse_label(line) is not None:
            labels += 1
        elif len(line) <= 16 and canonical_section(line) is not None:
            heads += 1
        elif "：" in line[:13] and canonical_section(line.split("：", 1)[0]) is not None:
            heads += 1
    return "cases" if heads >= 2 and heads >= labels else "statutes"


def split_files(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(statute files, case files) of ``paths``, each list in the given order."""
    statutes: list[Path] = []
    cases: list[Path] = []
    for p in paths:
        (cases if route_file(p) == "cases" else statutes).append(p)
    return statutes, cases
