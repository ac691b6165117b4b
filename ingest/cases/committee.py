"""A mediation committee's own records: CSV / JSONL tables and DOCX / PDF write-ups → cases."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.cases.sections import ParsedCase, canonical_section, merge_sections
from ingest.records import DISPUTE_TYPES, IngestReport


@dataclass(frozen=True)
class Column:
    """One column of the import format (documented in kb/templates/调解记录格式说明.md)."""

    header: str  # Chinese header as in the template
    key: str  # English alias, also accepted as a header
    required: bool
    section: str = ""  # canonical section the column's text goes to
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("编号", "id", True, note="本调解组织内唯一的案件编号，如 2024-015"),
    Column("案件名称", "title", False, note="缺省时取基本案情的前 30 字"),
    Column("纠纷类型", "dispute_type", False, note="取值见下表；缺省或不在表中时由分类器判定"),
    Column("日期", "date", False, note="调解日期，2024-03-15 / 2024年3月15日 / 2024/3/15"),
    Column("地区", "region", False, note="到县（区）一级即可，如 浙江省诸暨市"),
    Column("调解组织", "committee", False, note="如 枫桥镇人民调解委员会"),
    Column(
        "当事人",
        "parties",
        False,
        note="真实姓名，用顿号或分号分隔；导入时脱敏，用于保证姓名全部被遮蔽",
    ),
    Column("基本案情", "facts", True, "基本案情"),
    Column("争议焦点", "focus", False, "争议焦点"),
    Column("调解过程", "process", False, "调解过程"),
    Column("调解结果", "result", False, "调解结果", "与“协议内容”至少填一项"),
    Column("协议内容", "agreement", False, "协议内容", "与“调解结果”至少填一项"),
    Column("履行情况", "performance", False, "履行情况"),
    Column("法律依据", "basis", False, "法律依据", "如 《中华人民共和国民法典》第二百八十八条"),
    Column("样例", "sample", False, note="是 / 否；项目自带的示例记录填“是”"),
)
_BY_HEADER: dict[str, Column] = {}
for _c in COLUMNS:
    _BY_HEADER[_c.header] = _c
    _BY_HEADER[_c.key] = _c

SOURCE = "人民调解委员会调解记录"
SAMPLE_NOTE = "；样例：项目自拟的示例记录，非真实案件"
_SPLIT = re.compile(r"[、；;，,/]+")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?\s*$")
_TRUE = {"是", "true", "1", "yes", "y", "样例", "示例"}


def normalise_date(value: str) -> str | None:
    """``2024年3月5日`` / ``2024/3/5`` → ``2024-03-05``; ``""`` stays ``""``; None if unreadable."""
    value = value.strip()
    if not value:
        return ""
    m = _DATE.match(value)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
    if not 1 <= mo <= 12 or (d and not 1 <= int(d) <= 31):
        return None
    return f"{y}-{mo:02d}-{int(d):02d}" if d else f"{y}-{mo:02d}"


def record_to_case(
    rec: dict[str, str], *, where: str, stem: str, path: Path, line: int, report: IngestReport
) -> ParsedCase | None:
    """One table row (headers already mapped to column keys) → ParsedCase, or None if unusable."""
    missing = [c.header for c in COLUMNS if c.required and not rec.get(c.key, "").strip()]
    if not (rec.get("result", "").strip() or rec.get("agreement", "").strip()):
        missing.append("调解结果/协议内容")
    if missing:
        report.warn(
            where,
            f"缺少必填字段：{'、'.join(missing)}，该条未导入",
            "补全后重新导入；格式见 kb/templates/调解记录格式说明.md",
            kind="fields",
        )
        return None
    date = normalise_date(rec.get("date", ""))
    if date is None:
        report.warn(
            where, f"日期“{rec.get('date')}”无法识别，已留空", "请写成 2024-03-15", kind="fields"
        )
        date = ""
    dtype = rec.get("dispute_type", "").strip()
    if dtype and dtype not in DISPUTE_TYPES:
        report.warn(
            where,
            f"纠纷类型“{dtype}”不在分类表中，改由分类器判定",
            f"可选：{'、'.join(DISPUTE_TYPES)}",
            kind="fields",
        )
        dtype = ""
    sections = merge_sections([(c.section, rec.get(c.key, "")) for c in COLUMNS if c.section])
    facts = rec["facts"].strip()
    title = rec.get("title", "").strip() or (facts[:30] + ("…" if len(facts) > 30 else ""))
    sample = rec.get("sample", "").strip().lower() in _TRUE
    committee = rec.get("committee", "").strip()
    basis = rec.get("basis", "")
    return ParsedCase(
        id=f"committee-{stem}-{rec['id'].strip()}",
        kind="调解案例",
        title=title,
        sections=sections,
        source=(f"{SOURCE}（{committee}）" if committee else SOURCE)
        + (SAMPLE_NOTE if sample else ""),
        file=str(path),
        line=line,
        dispute_type=dtype,
        date=date,
        region=rec.get("region", "").strip(),
        parties=tuple(p.strip() for p in _SPLIT.split(rec.get("parties", "")) if p.strip()),
        sample=sample,
        cite_text="\n\n".join(b for n, b in sections if n != "法律依据")
        + ("\n\n" + basis if basis else ""),
    )


def _map_headers(row: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    unknown: list[str] = []
    for k, v in row.items():
        if k is None:
            continue
        col = _BY_HEADER.get(str(k).strip().lstrip("\ufeff"))
        if col is None:
            unknown.append(str(k))
            continue
        out[col.key] = "" if v is None else str(v)
    return out, unknown


def _read_text(path: Path, report: IngestReport) -> str | None:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        report.warn(
            str(path),
            "不是文本文件（含二进制内容），已跳过",
            "请导出为 UTF-8 编码的 CSV",
            kind="binary",
        )
        return None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc != "utf-8-sig":
            report.notes.append(f"{path.name}: 按 GB18030 编码读取")
        return text
    report.warn(str(path), "无法识别文件编码，部分字符已替换", "请另存为 UTF-8", kind="encoding")
    return data.decode("utf-8", errors="replace")


def iter_csv(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """Rows of a CSV in the template's columns; a bad row is reported with its line, the rest import."""
    text = _read_text(path, report)
    if text is None:
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        report.warn(
            str(path),
            "CSV 文件没有表头",
            "第一行应为列名，见 kb/templates/调解记录模板.csv",
            kind="empty",
        )
        return
    _, unknown = _map_headers({h: "" for h in reader.fieldnames})
    if unknown:
        report.notes.append(f"{path.name}: 未识别的列已忽略：{'、'.join(unknown)}")
    ncols = len(reader.fieldnames)
    seen: set[str] = set()
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            report.warn(
                f"{path}:{line}", f"CSV 行格式错误（{err}），已跳过", "检查引号是否成对", kind="csv"
            )
            continue
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            report.warn(
                f"{path}:{line}",
                f"该行列数与表头（{ncols} 列）不符，已跳过",
                "检查是否有未加引号的逗号",
                kind="csv",
            )
            continue
        rec, _ = _map_headers(row)
        if not any(v.strip() for v in rec.values()):
            continue
        case = _dedupe(
            record_to_case(
                rec, where=f"{path}:{line}", stem=path.stem, path=path, line=line, report=report
            ),
            seen,
            f"{path}:{line}",
            report,
        )
        if case:
            yield case


def iter_jsonl(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """One JSON object a line (keys: template headers or their English aliases)."""
    seen: set[str] = set()
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", errors="replace")
            if not text.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                report.warn(
                    where,
                    f"JSON 格式错误（{err.msg}），该行已跳过",
                    "修正该行后重新导入",
                    kind="json",
                )
                continue
            if not isinstance(obj, dict):
                report.warn(
                    where, "该行不是 JSON 对象，已跳过", "每行应为一个 {…} 对象", kind="json"
                )
                continue
            if isinstance(obj.get("parties"), list) or isinstance(obj.get("当事人"), list):
                key = "parties" if "parties" in obj else "当事人"
                obj[key] = "、".join(map(str, obj[key]))
            rec, _ = _map_headers({k: ("" if v is None else str(v)) for k, v in obj.items()})
            case = _dedupe(
                record_to_case(
                    rec, where=where, stem=path.stem, path=path, line=lineno, report=report
                ),
                seen,
                where,
                report,
            )
            if case:
                yield case


def _dedupe(
    case: ParsedCase | None, seen: set[str], where: str, report: IngestReport
) -> ParsedCase | None:
    if case is None:
        return None
    if case.id in seen:
        report.warn(
            where, f"编号重复（{case.id}），该条未导入", "每条记录的编号应唯一", kind="duplicate"
        )
        return None
    seen.add(case.id)
    return case


# ---- write-ups (DOCX / PDF) -------------------------------------------------

_META = re.compile(
    r"^(编号|案件名称|纠纷类型|日期|调解日期|受理日期|地区|调解组织|当事人|样例)[：:]\s*(.*)$"
)
_META_KEYS = {"调解日期": "date", "受理日期": "date"}
_INLINE = re.compile(r"^([^：:]{2,12})[：:]\s*(.+)$")


def parse_writeup(lines: list[str], path: Path, report: IngestReport) -> ParsedCase | None:
    """A write-up: title line, ``字段：值`` metadata lines, then headed sections."""
    rec: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    current = ""
    buf: list[str] = []
    title = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not title and not _META.match(line) and canonical_section(line) is None:
            title = line
            continue
        meta = _META.match(line)
        if meta and not pairs and not buf:
            key = _META_KEYS.get(meta.group(1)) or _BY_HEADER[meta.group(1)].key
            rec[key] = meta.group(2).strip()
            continue
        name = canonical_section(line) if len(line) <= 16 else None
        inline = _INLINE.match(line) if name is None else None
        if inline and canonical_section(inline.group(1)):
            name = canonical_section(inline.group(1))
            pairs.append((current, "\n".join(buf)))
            current, buf = name or "", [inline.group(2)]
            continue
        if name:
            pairs.append((current, "\n".join(buf)))
            current, buf = name, []
            continue
        buf.append(line)
    pairs.append((current, "\n".join(buf)))
    if not rec and all(name == "" for name, _ in pairs):
        # No 字段：值 line and no case heading: a statute or some other document
        # (a drop-in folder holds both), not a mediation write-up.
        report.notes.append(
            f"{path.name}: 没有调解文书的小标题（基本案情、调解结果……），未作为案例导入"
        )
        return None
    section_text = {n: b for n, b in merge_sections([(n or "基本案情", b) for n, b in pairs])}
    key_of = {c.section: c.key for c in COLUMNS if c.section}
    for name, body in section_text.items():
        rec[key_of.get(name, "facts" if name == "基本案情" else "")] = body
    rec.pop("", None)
    rec.setdefault("id", path.stem)
    rec.setdefault("title", title)
    return record_to_case(rec, where=str(path), stem=path.stem, path=path, line=0, report=report)


def iter_docx(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """A DOCX write-up (python-docx): paragraphs and table cells in order."""
    try:
        import docx  # python-docx

        doc = docx.Document(str(path))
    except Exception as err:  # python-docx raises several types for damaged files
        report.warn(
            str(path),
            f"无法打开 DOCX 文件（{type(err).__name__}），已跳过",
            "用 Word/WPS 打开后另存为 .docx",
            kind="corrupt",
        )
        return
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if len(cells) >= 2 and cells[0]:
                lines.append(f"{cells[0]}：{cells[1]}")
    case = parse_writeup(lines, path, report)
    if case:
        yield case


def iter_pdf(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """A text-layer PDF write-up (pypdf); scans and encrypted files are reported."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            report.warn(str(path), "PDF 已加密，无法读取", "请提供未加密的 PDF", kind="encrypted")
            return
        pages = [p.extract_text() or "" for p in reader.pages]
    except Exception as err:  # pypdf raises many error types for damaged files
        report.warn(
            str(path),
            f"无法读取 PDF（{type(err).__name__}），已跳过",
            "检查文件是否完整",
            kind="corrupt",
        )
        return
    text = "\n".join(pages)
    if not text.strip():
        report.warn(
            str(path), "PDF 没有文字层（可能是扫描件）", "请先做文字识别（OCR）", kind="scan"
        )
        return
    case = parse_writeup(text.splitlines(), path, report)
    if case:
        yield case
