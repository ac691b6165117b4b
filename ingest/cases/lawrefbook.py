"""LawRefBook typical cases (案例/ folders of Markdown, one case a file) → Case records."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from ingest.cases.sections import ParsedCase, canonical_section, merge_sections
from ingest.chinese import HAN
from ingest.paths import OUTSIDE_HINT, leaves, outside_reason
from ingest.records import TYPICAL, IngestReport

SOURCE = "LawRefBook/Laws 案例（官方发布的典型案例；法律文本不受著作权保护，仓库无许可证文件）"


def provenance(collection: str) -> str:
    """One line for the case card: what the case is, where it was collected, its terms.

    The files name no publishing court or ministry, so none is claimed.
    """
    where = f"“{collection}”" if collection else ""
    return (
        f"法院典型案例：LawRefBook/Laws 案例集{where}收录的官方典型案例（原文未注明发布机关）；"
        "法律文本不受著作权保护，仓库无许可证文件"
    )


# Folder names of the collection → dispute type given by the publisher's grouping.
FOLDER_TYPES: dict[str, str] = {
    "劳动人事": "劳动劳务",
    "消费购物": "消费维权",
}

_DATE = re.compile(r"(19\d{2}|20\d{2})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?")
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省",
    "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省",
    "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省", "台湾省",
    "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区",
    "香港特别行政区", "澳门特别行政区",
)  # fmt: skip
_REGION = re.compile(
    f"(?:(?:北京市|天津市|上海市|重庆市)(?:[{HAN}]{{1,5}}?(?:区|县))?"
    "|(?:" + "|".join(p for p in PROVINCES if p[:2] not in ("北京", "天津", "上海", "重庆")) + ")"
    f"(?:[{HAN}]{{1,6}}?(?:市|自治州|地区|盟))?(?:[{HAN}]{{1,5}}?(?:区|县|旗))?)"
)


# Words that start the cause of action in a case name: 张某诉某公司|买卖合同纠纷案.
_CAUSE = re.compile(
    r"(?:买卖|服务|网络|信息|侵权|侵犯|名誉|婚姻|继承|法定|财产|承揽|金融|借款|医疗|农村|捆绑|房屋|"
    r"要求|请求|不履行|变更|解除|撤销|履行|行政|土地|劳动|民间|合同|申请|执行|预征收|房屋征收|拆迁|"
    r"相邻|排除妨害|赡养|抚养|离婚|人身|机动车|生命权|健康权|物业|追索|确认|返还|债务|租赁|劳务|交通)"
)
_ORG_END = re.compile(
    r"公司|局|委员会|办公室|办事处|政府|店|机构|中心|医院|学校|报社|网站|影楼|书店|广场|支行|银行"
)
_PARTY_SPLIT = re.compile(r"[、，,]|及(?=某)")


def parties_from_title(name: str) -> tuple[str, ...]:
    """Parties named in a case name: ``张某诉某公司买卖合同纠纷案`` → ``("张某", "某公司")``."""
    m = re.match(r"^(?P<a>[^诉与]{1,60}?)(?:诉|与)(?P<b>.+?)$", name)
    if not m or not (name.endswith("案") or "纠纷" in name):
        return ()
    plaintiffs = [p.strip() for p in _PARTY_SPLIT.split(m.group("a")) if p.strip()]
    rest = m.group("b")
    # Search for the cause after the last organisation suffix, so 网络 in
    # 陕西广电网络传媒（集团）股份有限公司 is not taken for the cause 网络服务合同.
    orgs = list(_ORG_END.finditer(rest))
    cause = _CAUSE.search(rest, orgs[-1].end() if orgs else 2)
    if cause:
        defendants = rest[: cause.start()]
    else:  # an unknown cause: keep only an anonymised person's name (陈某)
        person = re.match(rf"[{HAN}]{{1,2}}某+", rest)
        defendants = person.group(0) if person else ""
    defendants = re.sub(r"等$", "", defendants)
    out = plaintiffs + [p.strip() for p in _PARTY_SPLIT.split(defendants) if p.strip()]
    return tuple(p.removesuffix("等人").removesuffix("等") for p in out if len(p) <= 40)


def is_lawrefbook_folder(path: Path) -> bool:
    """A folder laid out like LawRefBook's 案例/: Markdown case files marked ``<!-- INFO END -->``.

    Looks at the folder's own files and those one level down (the collection's
    topic folders), so a parent holding several sources is not mistaken for one.
    """
    if not path.is_dir():
        return False
    if path.name in ("lawrefbook_cases", "案例"):
        return True
    files = [*sorted(path.glob("*.md")), *sorted(path.glob("*/*.md"))]
    for md in files[:40]:
        if md.name.startswith("_index"):
            continue
        with md.open("r", encoding="utf-8", errors="replace") as fh:
            if "<!-- INFO END -->" in fh.read(4000):
                return True
    return False


def _case_id(folder: str, title: str) -> str:
    digest = hashlib.sha1(f"{folder}/{title}".encode()).hexdigest()[:10]
    return f"lawrefbook-{digest}"


def _find_date(text: str) -> str:
    """The latest full date the text gives (judgments come after the facts)."""
    best = ""
    for m in _DATE.finditer(text):
        y, mo, d = m.group(1), m.group(2), m.group(3)
        if mo and d and 1 <= int(mo) <= 12 and 1 <= int(d) <= 31:
            s = f"{y}-{int(mo):02d}-{int(d):02d}"
        elif mo and 1 <= int(mo) <= 12:
            s = f"{y}-{int(mo):02d}"
        else:
            s = y
        if s > best:
            best = s
    return best


def find_region(*texts: str) -> str:
    """The first province/municipality (+ city/county) named in the title or text."""
    for text in texts:
        m = _REGION.search(text)
        if m:
            return m.group(0)
    return ""


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_markdown(path: Path, root: Path, report: IngestReport) -> ParsedCase | None:
    """One LawRefBook case file → ParsedCase, or None (reported) when it holds no case.

    Layout: ``# topic`` and optional metadata lines (collection, publisher,
    publication date) above ``<!-- INFO END -->``; below it ``## headings``,
    the first of which may be the case name (``## 张某诉某公司买卖合同纠纷案``).
    """
    text = path.read_text("utf-8", errors="replace")
    if "\ufffd" in text:
        report.warn(
            str(path),
            "文件不是有效的 UTF-8，部分字符无法识别",
            "请另存为 UTF-8 编码",
            kind="encoding",
        )
    head, sep, body = text.partition("<!-- INFO END -->")
    if not sep:
        head, body = "", text
    topic, date, meta = "", "", []
    for raw in head.splitlines():
        line = raw.strip()
        if line.startswith("# ") and not topic:
            topic = line[2:].strip()
        elif _ISO_DATE.match(line):
            date = line
        elif line and not line.startswith(("#", "---", "bookCollapseSection")):
            meta.append(line)
    case_name = ""
    pairs: list[tuple[str, str]] = []
    current = "正文"
    buf: list[str] = []
    unknown: list[str] = []
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("<!--"):
            continue
        if line.startswith("# ") and not topic:
            topic = line[2:].strip()
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            name = canonical_section(heading)
            if name is None and not pairs and not buf and not case_name:
                case_name = heading
                continue
            pairs.append((current, "\n".join(buf)))
            buf = []
            if name is None:
                unknown.append(heading)
                name = "正文"
            current = name
            continue
        bracket = re.fullmatch(r"【([^】]{2,12})】。?", line)
        if bracket and canonical_section(bracket.group(1)):
            pairs.append((current, "\n".join(buf)))
            buf = []
            current = canonical_section(bracket.group(1)) or current
            continue
        if line:
            buf.append(line)
    pairs.append((current, "\n".join(buf)))
    sections = merge_sections(pairs)
    if not sections:
        report.warn(str(path), "文件中没有案例正文", "请检查文件是否完整", kind="empty")
        return None
    if unknown:
        report.note(f"{path.name}: 未识别的标题归入“正文”：{'、'.join(unknown)}")
    if not case_name and path.stem != topic and ("诉" in path.stem or path.stem.endswith("案")):
        case_name = path.stem
    title = (
        f"{case_name}——{topic}"
        if case_name and topic and case_name != topic
        else case_name or topic or path.stem
    )
    if topic and case_name and not any(n == "要点" for n, _ in sections):
        sections = (("要点", topic), *sections)
    folder = path.parent.relative_to(root).as_posix() if path.parent != root else ""
    top = folder.split("/")[0] if folder else path.parent.name
    all_text = "\n".join(b for _, b in sections)
    source = SOURCE if not meta else f"{SOURCE}；{'，'.join(meta)}"
    return ParsedCase(
        id=_case_id(folder, path.stem),
        kind=TYPICAL,
        title=title,
        sections=sections,
        source=source,
        file=str(path),
        dispute_type=FOLDER_TYPES.get(top, ""),
        parties=parties_from_title(case_name or path.stem),
        date=date or _find_date(all_text),
        region=find_region(title, all_text),
        provenance=provenance(top),
    )


def iter_folder(root: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """Every case file under ``root`` (``_index.md`` files are collection metadata, skipped)."""
    for path in sorted(root.rglob("*.md")):
        if path.name.startswith("_index"):
            continue
        report.read += 1
        target = leaves(path, root)
        if target is not None:
            report.reject(str(path), outside_reason(target), OUTSIDE_HINT, "outside")
            continue
        case = parse_markdown(path, root, report)
        if case is not None:
            yield case
