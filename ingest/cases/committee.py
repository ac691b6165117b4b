"""A mediation committee's own records: CSV / JSONL tables and DOCX / PDF write-ups → cases."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.cases.sections import ParsedCase, canonical_section, merge_sections
from ingest.config import MAX_FILE_BYTES
from ingest.encoding import MIXED, SUPPORTED, decode_text
from ingest.formats import looks_binary, unzip_problem
from ingest.printable import clean_field, printable
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
# Headers as a Big5 (traditional characters) export writes them.
_TRADITIONAL = {
    "编号": "編號",
    "案件名称": "案件名稱",
    "纠纷类型": "糾紛類型",
    "地区": "地區",
    "调解组织": "調解組織",
    "当事人": "當事人",
    "争议焦点": "爭議焦點",
    "调解过程": "調解過程",
    "调解结果": "調解結果",
    "协议内容": "協議內容",
    "履行情况": "履行情況",
    "法律依据": "法律依據",
    "样例": "樣例",
}
_BY_HEADER: dict[str, Column] = {}
for _c in COLUMNS:
    _BY_HEADER[_c.header] = _c
    _BY_HEADER[_c.key] = _c
    if _c.header in _TRADITIONAL:
        _BY_HEADER[_TRADITIONAL[_c.header]] = _c

# Guards: a file, a field and a JSONL line larger than a mediation record can be.
MAX_FIELD = 50_000
MAX_LINE = 1_000_000
MAX_RECORD_LINES = 200  # lines one CSV record may span (a cell with paragraphs)
_YEAR = re.compile(r"^((?:19|20)\d{2})(?:[-/_.年]|$)")
_SPACE = re.compile(r"[\s\u3000]+")
_ROW_NUMBER = re.compile(r"^[\w-]{0,19}\d[\w-]{0,19}$")

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


def case_number(rec: dict[str, str]) -> str:
    """The record's 编号 as ids use it: no spaces, no path separators."""
    return _SPACE.sub("", rec["id"]).replace("/", "-").replace("\\", "-")


def committee_case_id(rec: dict[str, str], file_key: str, date: str) -> str:
    """An id no other file's row can take, the same on every rebuild of the same file.

    With the committee and the year known (``2024-015`` or the date's year) the
    id is ``committee-<调解组织>-<year>-<number>``: it survives edits of the file
    and names the same case whichever file it comes from. Otherwise the number
    is qualified by a short hash of the file's content, so two files both called
    调解记录.csv and both numbering from 001 never collide.
    """
    number = case_number(rec)
    committee = _SPACE.sub("", rec.get("committee", "")).replace("/", "-")
    m = _YEAR.match(number)
    year = m.group(1) if m else date[:4]
    if committee and year:
        return f"committee-{committee}-{number if m else f'{year}-{number}'}"
    return f"committee-{file_key}-{number}"


def record_to_case(
    rec: dict[str, str],
    *,
    where: str,
    file_key: str,
    path: Path,
    line: int,
    report: IngestReport,
    unknown_types: _UnknownTypes | None = None,
) -> ParsedCase | None:
    """One table row (headers already mapped to column keys) → ParsedCase, or None if unusable.

    ``unknown_types``: collects dispute types not in the table for one summary per file
    (one bad type per row of a 149-row file was 149 warning lines); else one warning here.
    """
    missing = [c.header for c in COLUMNS if c.required and not rec.get(c.key, "").strip()]
    if not (rec.get("result", "").strip() or rec.get("agreement", "").strip()):
        missing.append("调解结果/协议内容")
    if missing:
        report.reject(
            where,
            f"缺少必填字段：{'、'.join(missing)}，该条未导入",
            "补全后重新导入；格式见 kb/templates/调解记录格式说明.md",
            kind="fields",
        )
        return None
    too_long = [k for k, v in rec.items() if len(v) > MAX_FIELD]
    if too_long:
        name = next((c.header for c in COLUMNS if c.key == too_long[0]), too_long[0])
        report.reject(
            where,
            f"字段“{name}”过长（{len(rec[too_long[0]])} 字，上限 {MAX_FIELD} 字），该条未导入",
            "检查该行是否把多条记录粘在了一起；过长的内容请分条录入",
            kind="too-long",
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
        if unknown_types is not None:
            unknown_types.add(line, dtype)
        else:
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
    return ParsedCase(
        id=committee_case_id(rec, file_key, date),
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
        number=case_number(rec),
    )


def _map_headers(row: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    unknown: list[str] = []
    for k, v in row.items():
        if k is None:
            continue
        col = _BY_HEADER.get(_SPACE.sub("", str(k)).lstrip("\ufeff"))
        if col is None:
            unknown.append(str(k))
            continue
        out[col.key] = "" if v is None else str(v)
    return out, unknown


def _file_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


def _read_bytes(path: Path, report: IngestReport) -> bytes | None:
    """The file's bytes, or None with one line saying why not (too large, empty, unreadable)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            report.reject(
                str(path),
                f"文件过大（{size / 1024 / 1024:.0f} MB，上限 {MAX_FILE_BYTES >> 20} MB），已跳过",
                "拆分成几个文件后再导入",
                kind="too-large",
            )
            return None
        data = path.read_bytes()
    except OSError as exc:
        report.reject(
            str(path), f"无法读取文件（{exc.strerror}）", "检查文件权限是否允许读取", "unreadable"
        )
        return None
    if not data.strip():
        report.reject(str(path), "空文件，已跳过", "检查文件内容后重新导入", kind="empty")
        return None
    return data


def _decode(path: Path, data: bytes, report: IngestReport, fmt: str) -> str | None:
    """Text of a CSV/JSONL file in any encoding people save tables in; one clear line otherwise."""
    if looks_binary(data, stray_nul=True):
        report.reject(
            str(path),
            "不是文本文件（含二进制内容），已跳过",
            f"请导出为 UTF-8 编码的 {fmt}",
            kind="binary",
        )
        return None
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError as exc:
        report.reject(
            str(path),
            f"无法识别文件编码（{exc.reason}；支持 {SUPPORTED}），未导入",
            f"用 Excel 或 WPS 打开，另存为“{fmt} UTF-8”编码后重新导入",
            kind="encoding",
        )
        return None
    if encoding == MIXED:
        first = next(i for i, ln in enumerate(text.split("\n"), 1) if "\ufffd" in ln)
        report.warn(
            f"{path}:{first}",
            f"文件混用了多种编码，{text.count(chr(0xFFFD))} 处无法识别的字节显示为 �",
            "改正乱码处后统一另存为 UTF-8",
            kind="encoding",
        )
    elif encoding not in ("UTF-8", "UTF-8-BOM"):
        report.note(f"{printable(path.name)}: 按 {encoding} 编码读取")
    return text


class _UnknownTypes:
    """Dispute types not in the table, collected over one file for a single warning."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str]] = []

    def add(self, line: int, dtype: str) -> None:
        self.rows.append((line, dtype))

    def note(self, path: Path, report: IngestReport) -> None:
        if not self.rows:
            return
        if len(self.rows) == 1:
            line, dtype = self.rows[0]
            where, what = f"{path}:{line}", f"纠纷类型“{dtype}”不在分类表中"
        else:
            lines = "、".join(str(n) for n, _ in self.rows[:5])
            more = f"等 {len(self.rows)} 行" if len(self.rows) > 5 else ""
            kinds = list(dict.fromkeys(t for _, t in self.rows))
            shown = "”“".join(k[:20] for k in kinds[:3]) + ("”等" if len(kinds) > 3 else "”")
            where = str(path)
            what = f"第 {lines} 行{more}的纠纷类型（“{shown}）不在分类表中"
        report.warn(
            where,
            f"{what}，改由分类器判定",
            f"可选：{'、'.join(DISPUTE_TYPES)}",
            kind="fields",
        )


class _Cleaner:
    """Takes control characters out of every field and counts them, for one note per file."""

    def __init__(self) -> None:
        self.removed = 0

    def __call__(self, value: str) -> str:
        text, n = clean_field(value)
        self.removed += n
        return text

    def note(self, path: Path, report: IngestReport) -> None:
        if self.removed:
            report.note(
                f"{printable(path.name)}: 删除了 {self.removed} 个控制字符（不可见字符，导出 Word 时会出错）"
            )


# ---- CSV ------------------------------------------------------------------------

# A cell starting with one of these is a formula to Excel and WPS (also after a tab or
# a carriage return): "=HYPERLINK(…)" in a precedent's text would run when the exported
# file is opened (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ``'`` before a formula
    start (``iter_csv`` takes it off again, so an exported file imports unchanged)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _from_spreadsheet(value: str) -> str:
    """The inverse of ``spreadsheet_cell`` for a cell read from a CSV."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class _Row:
    """One record of a CSV file: its fields, or why it could not be read."""

    line: int  # 1-based physical line where the record starts
    fields: tuple[str, ...] = ()
    error: str = ""  # non-empty: the record is unreadable (a quote never closed, a huge field)


def csv_rows(text: str) -> Iterator[_Row]:
    """Records of a CSV text, resynchronising after a broken quote.

    Python's csv module, given a quote that is never closed, reads on to the next
    quote anywhere in the file and returns one record that swallows every row in
    between. Here a record may span at most ``MAX_RECORD_LINES`` lines; when one
    fails (an unclosed quote, a field past the size limit) or holds whole rows in
    its quoted text, its first line is reported and reading starts again on the
    next line. Blank records are skipped.
    """
    lines = list(io.StringIO(text, newline=""))
    n = len(lines)
    # next_odd[k]: the first line at or after k with an odd number of quotes. A record
    # whose first line opens a quote can end no earlier than the next such line, so a
    # quote that nothing within reach closes is known without parsing: linear time
    # even when every line of a hostile file opens a quote.
    next_odd = [n] * (n + 1)
    for k in range(n - 1, -1, -1):
        next_odd[k] = k if lines[k].count('"') % 2 else next_odd[k + 1]
    pos = 0  # next line the reader gets
    limit = 0  # the reader gets no line from here on (the current record's reach)

    def feed() -> Iterator[str]:
        nonlocal pos
        while pos < min(n, limit):
            pos += 1
            yield lines[pos - 1]

    ncols = 0
    restart = 0
    while restart < n:
        pos = restart
        reader = csv.reader(feed(), strict=True)
        restart = n
        while pos < n:
            start = pos
            if next_odd[start] == start and next_odd[start + 1] - start >= MAX_RECORD_LINES:
                yield _Row(start + 1, error=_csv_error("unexpected end of data"))
                restart = start + 1
                break
            limit = start + MAX_RECORD_LINES
            try:
                fields = next(reader)
            except StopIteration:  # the reach ended exactly between two records
                restart = pos
                break
            except csv.Error as err:
                yield _Row(start + 1, error=_csv_error(str(err)))
                if pos - start > 1:  # the failed record ran over later rows: read them again
                    restart = start + 1
                    break
                continue
            if not any(f.strip() for f in fields):
                continue
            if pos - start > 1 and ncols and _swallows_rows(lines[start + 1 : pos], ncols):
                yield _Row(start + 1, error="引号不成对，后面几行被并进了这一行的一个字段")
                restart = start + 1
                break
            ncols = ncols or len(fields)
            yield _Row(start + 1, tuple(fields))


def _csv_error(message: str) -> str:
    if "field larger than field limit" in message:
        return f"有字段超过 {csv.field_size_limit()} 个字符"
    if "unexpected end of data" in message:
        return f"引号不成对，一个字段的引号在其后 {MAX_RECORD_LINES} 行内都没有结束"
    return f"引号用法不对（{message}）"


def _swallows_rows(inner: list[str], ncols: int) -> bool:
    """True when a line inside a quoted field reads as a whole row of its own (number first).

    Prose in a multi-line field almost never has exactly ``ncols - 1`` ASCII
    commas after a short number; a row swallowed by a stray quote always does.
    """
    for line in inner:
        try:
            fields = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            continue
        if len(fields) == ncols and _ROW_NUMBER.match(fields[0].strip()):
            return True
    return False


def iter_csv(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """Rows of a CSV in the template's columns; a bad row is reported with its line, the rest import."""
    data = _read_bytes(path, report)
    text = _decode(path, data, report, "CSV") if data is not None else None
    if text is None:
        return
    rows = csv_rows(text)
    header = next(rows, None)
    if header is None or header.error or not any(f.strip() for f in header.fields):
        report.reject(
            str(path),
            "CSV 文件没有可读的表头" + (f"（{header.error}）" if header and header.error else ""),
            "第一行应为列名，见 kb/templates/调解记录模板.csv",
            kind="empty",
        )
        return
    names = [f.strip().lstrip("\ufeff") for f in header.fields]
    mapped, unknown = _map_headers({h: "" for h in names})
    absent = [c.header for c in COLUMNS if c.required and c.key not in mapped]
    if absent:
        seen = "、".join(n[:20] for n in names[:6]) + ("…" if len(names) > 6 else "")
        report.reject(
            str(path),
            f"表头缺少必填列“{'”“'.join(absent)}”（读到的列名：{seen}），未导入",
            "第一行应为列名，见 kb/templates/调解记录模板.csv；编码不对时列名会显示为乱码",
            kind="header",
        )
        return
    if unknown:
        report.note(f"{printable(path.name)}: 未识别的列已忽略：{'、'.join(unknown)}")
    ncols = len(names)
    key = _file_key(data or b"")
    clean = _Cleaner()
    types = _UnknownTypes()
    seen_rows = _Seen()
    for r in rows:
        where = f"{path}:{r.line}"
        if r.error:
            report.read += 1
            report.reject(
                where,
                f"CSV {r.error}，该行已跳过",
                '字段中的引号要写成两个（""），或去掉多余的引号；其余各行已照常导入',
                kind="csv",
            )
            continue
        if not any(f.strip() for f in r.fields):
            continue
        report.read += 1
        if len(r.fields) != ncols:
            report.reject(
                where,
                f"该行有 {len(r.fields)} 列，与表头（{ncols} 列）列数不符，已跳过",
                "检查是否有未加引号的逗号",
                kind="csv",
            )
            continue
        rec, _ = _map_headers(
            {h: clean(_from_spreadsheet(v)) for h, v in zip(names, r.fields, strict=True)}
        )
        case = record_to_case(
            rec,
            where=where,
            file_key=key,
            path=path,
            line=r.line,
            report=report,
            unknown_types=types,
        )
        if case is not None and seen_rows.first(case, rec, r.line, where, report):
            yield case
    clean.note(path, report)
    types.note(path, report)


# ---- JSONL ----------------------------------------------------------------------


def iter_jsonl(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """One JSON object a line (keys: template headers or their English aliases)."""
    data = _read_bytes(path, report)
    text = _decode(path, data, report, "JSONL") if data is not None else None
    if text is None:
        return
    key = _file_key(data or b"")
    clean = _Cleaner()
    types = _UnknownTypes()
    seen_rows = _Seen()
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        report.read += 1
        where = f"{path}:{lineno}"
        obj, error = _json_line(line)
        if error:
            report.reject(where, f"{error}，该行已跳过", "修正该行后重新导入", kind="json")
            continue
        if not isinstance(obj, dict):
            report.reject(where, "该行不是 JSON 对象，已跳过", "每行应为一个 {…} 对象", kind="json")
            continue
        values: dict[str, str] = {}
        for k, v in obj.items():
            text_value = _json_text(v, join="、" if k in ("parties", "当事人") else "\n")
            if text_value is None:
                report.reject(
                    where,
                    f"字段“{k[:20]}”是嵌套的列表或对象，不是文字，该行已跳过",
                    "字段值应为文字；当事人可写成文字列表",
                    kind="json",
                )
                break
            values[k] = clean(text_value)
        else:
            rec, _ = _map_headers(values)
            case = record_to_case(
                rec,
                where=where,
                file_key=key,
                path=path,
                line=lineno,
                report=report,
                unknown_types=types,
            )
            if case is not None and seen_rows.first(case, rec, lineno, where, report):
                yield case
    clean.note(path, report)
    types.note(path, report)


def _json_line(line: str) -> tuple[object, str]:
    """(parsed value, "") or (None, why it cannot be read)."""
    if len(line) > MAX_LINE:
        return None, f"该行过长（{len(line)} 字符，上限 {MAX_LINE}）"
    try:
        return json.loads(line), ""
    except RecursionError:
        return None, "JSON 嵌套层数过深"
    except json.JSONDecodeError as err:
        return None, f"JSON 格式错误（{err.msg}，第 {err.colno} 个字符）"
    except ValueError as err:  # e.g. an integer of more than 4300 digits
        return None, f"JSON 内容无法读取（{err}）"


def _json_text(value: object, *, join: str) -> str | None:
    """A JSON value as field text: scalars as text, a flat list joined; None for anything nested."""
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, list) and all(
        x is None or isinstance(x, str | int | float | bool) for x in value
    ):
        return join.join("" if x is None else str(x) for x in value)
    return None


class _Seen:
    """Rows already taken from one file: a repeated row or number is reported with the first one's line."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[int, str]] = {}

    def first(
        self, case: ParsedCase, rec: dict[str, str], line: int, where: str, report: IngestReport
    ) -> bool:
        fingerprint = json.dumps(sorted(rec.items()), ensure_ascii=False)
        earlier = self._by_id.get(case.id)
        if earlier is None:
            self._by_id[case.id] = (line, fingerprint)
            return True
        at, before = earlier
        if before == fingerprint:
            report.reject(
                where,
                f"与第 {at} 行完全相同，重复的一行未导入",
                "删除重复的行",
                kind="duplicate",
            )
        else:
            report.reject(
                where,
                f"编号“{rec.get('id', '')}”与第 {at} 行重复（内容不同），该行未导入",
                "每条记录的编号在同一调解组织、同一年内应唯一；改正编号后重新导入",
                kind="duplicate",
            )
        return False


# ---- write-ups (DOCX / PDF) -------------------------------------------------

_META = re.compile(
    r"^(编号|案件名称|纠纷类型|日期|调解日期|受理日期|地区|调解组织|当事人|样例)[：:]\s*(.*)$"
)
_META_KEYS = {"调解日期": "date", "受理日期": "date"}
_INLINE = re.compile(r"^([^：:]{2,12})[：:]\s*(.+)$")


def parse_writeup(
    lines: list[str], path: Path, report: IngestReport, *, file_key: str = ""
) -> ParsedCase | None:
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
        report.note(
            f"{printable(path.name)}: 没有调解文书的小标题（基本案情、调解结果……），未作为案例导入"
        )
        return None
    section_text = {n: b for n, b in merge_sections([(n or "基本案情", b) for n, b in pairs])}
    key_of = {c.section: c.key for c in COLUMNS if c.section}
    for name, body in section_text.items():
        rec[key_of.get(name, "facts" if name == "基本案情" else "")] = body
    rec.pop("", None)
    rec.setdefault("id", path.stem)
    rec.setdefault("title", title)
    rec = {k: clean_field(v)[0] for k, v in rec.items()}
    return record_to_case(rec, where=str(path), file_key=file_key, path=path, line=0, report=report)


def iter_docx(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """A DOCX write-up (python-docx): paragraphs and table cells in order."""
    data = _read_bytes(path, report)
    if data is None:
        return
    report.read += 1
    bomb = unzip_problem(data)
    if bomb:
        report.reject(
            str(path),
            f"DOCX {bomb}，未打开",
            "用 Word 或 WPS 打开后另存为 .docx；确属正常的大文件请拆分",
            kind="unzip-limit",
        )
        return
    try:
        import docx  # python-docx

        doc = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises several types for damaged files
        report.reject(
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
    case = parse_writeup(lines, path, report, file_key=_file_key(data))
    if case:
        yield case


def iter_pdf(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """A text-layer PDF write-up (pypdf); scans and encrypted files are reported."""
    data = _read_bytes(path, report)
    if data is None:
        return
    report.read += 1
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            report.reject(str(path), "PDF 已加密，无法读取", "请提供未加密的 PDF", kind="encrypted")
            return
        pages = [p.extract_text() or "" for p in reader.pages]
    except Exception as err:  # pypdf raises many error types for damaged files
        report.reject(
            str(path),
            f"无法读取 PDF（{type(err).__name__}），已跳过",
            "检查文件是否完整",
            kind="corrupt",
        )
        return
    text = "\n".join(pages)
    if not text.strip():
        report.reject(
            str(path), "PDF 没有文字层（可能是扫描件）", "请先做文字识别（OCR）", kind="scan"
        )
        return
    case = parse_writeup(text.splitlines(), path, report, file_key=_file_key(data))
    if case:
        yield case
