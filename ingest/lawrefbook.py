"""Parse one LawRefBook Markdown file (title, history lines, INFO END, headings, articles)."""

from __future__ import annotations

import re
from dataclasses import replace

from ingest.formats import Collector, RawDocument, read_text
from ingest.formats.plaintext import ArticleSplitter

INFO_END = "<!-- INFO END -->"
_HEADING = re.compile(r"^(#{1,6})(?:[ \u3000]+(.*))?$")
_FRONTMATTER_SKIP = re.compile(r"^(bookHidden|draft|bookCollapseSection):\s*true\s*$")

# The 民法典 files carry their part as a second title line (`# 婚姻家庭编`);
# the code itself numbers its parts, and citations use those numbers.
CIVIL_CODE_PARTS: dict[str, str] = {
    "总则": "第一编 总则",
    "物权编": "第二编 物权",
    "合同编": "第三编 合同",
    "人格权编": "第四编 人格权",
    "婚姻家庭编": "第五编 婚姻家庭",
    "继承编": "第六编 继承",
    "侵权责任编": "第七编 侵权责任",
    "附则": "附则",
}


def parse_markdown_bytes(data: bytes, source: str) -> RawDocument:
    """Parse the bytes of a LawRefBook file; problems are reported, never raised."""
    report = Collector(source)
    text = read_text(data, report, kind=" Markdown ", gb_is_normal=False)
    if text is None:
        return RawDocument(source, "markdown", problems=tuple(report.problems))
    return parse_markdown(text, source, report)


def parse_markdown(text: str, source: str, report: Collector | None = None) -> RawDocument:
    """Parse LawRefBook Markdown text.

    Layout: ``# title`` (and for split laws ``# part``), history lines,
    ``<!-- INFO END -->``, then ``##``/``###`` headings and one paragraph per
    article or 款; ``<!-- FORCE BREAK -->`` markers are layout only.
    """
    report = report or Collector(source)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, skip = _skip_frontmatter(lines)
    if skip:
        return RawDocument(
            source, "markdown", skipped=skip, notes=tuple(report.notes), read=len(lines)
        )

    info_end = next((i for i in range(start, len(lines)) if lines[i].strip() == INFO_END), -1)

    titles: list[str] = []
    info: list[str] = []
    if info_end >= 0:
        body_start = info_end + 1
        for line in (ln.strip() for ln in lines[start:info_end]):
            m = _HEADING.match(line)
            if m and len(m.group(1)) == 1:
                titles.append((m.group(2) or "").strip())
            elif line:
                info.append(line)
    else:
        # No INFO END marker: take a leading `# title` and read the rest as body.
        body_start = start
        first = next((i for i in range(start, len(lines)) if lines[i].strip()), len(lines))
        m = _HEADING.match(lines[first].strip()) if first < len(lines) else None
        if m and len(m.group(1)) == 1:
            titles.append((m.group(2) or "").strip())
            body_start = first + 1

    # LawRefBook always puts a space after the label; hand-written Markdown may not.
    splitter = ArticleSplitter(report, need_gap=info_end >= 0)
    for i in range(body_start, len(lines)):
        line = lines[i]
        m = _HEADING.match(line.strip())
        if m:
            splitter.heading(len(m.group(1)), m.group(2) or "", i + 1)
        else:
            splitter.text(line, i + 1)
    articles, appendix = splitter.finish()
    if info_end < 0 and not titles and articles:
        # Without articles the file is reported once, as having none.
        report.warn(
            source,
            "没有找到 `# 标题` 行和 `<!-- INFO END -->` 标记，按正文逐行识别条文",
            "按 LawRefBook 模板补上标题行",
            "layout",
        )

    title = titles[0] if titles else ""
    part = titles[1] if len(titles) > 1 else ""
    if part and part in CIVIL_CODE_PARTS and title.endswith("民法典"):
        top = CIVIL_CODE_PARTS[part]
        articles = tuple(replace(a, path=(top, *a.path)) for a in articles)
    return RawDocument(
        source=source,
        format="markdown",
        title=title,
        part=part,
        info=tuple(info),
        articles=articles,
        problems=tuple(report.problems),
        notes=tuple(report.notes),
        appendix=appendix,
        read=len(lines),
    )


def _skip_frontmatter(lines: list[str]) -> tuple[int, str]:
    """(first line after a YAML front matter, reason to skip the file or "")."""
    if not lines or lines[0].strip() != "---":
        return 0, ""
    for i in range(1, min(len(lines), 50)):
        if lines[i].strip() == "---":
            flags = [ln.strip() for ln in lines[1:i] if _FRONTMATTER_SKIP.match(ln.strip())]
            hidden = any(f.startswith(("bookHidden", "draft")) for f in flags)
            empty = not any(ln.strip() for ln in lines[i + 1 :])
            if hidden or (flags and empty):
                return i + 1, f"站点导航页或模板（front matter: {', '.join(flags)}）"
            return i + 1, ""
    return 0, ""
