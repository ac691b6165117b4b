"""Split statute text into 编/章/节 headings and 第X条 articles; shared by every reader."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.formats import Collector, RawArticle, RawDocument
from ingest.names import ARTICLE_LABEL, MAX_ARTICLE, NUMERAL, cn_to_int

_GAP = re.compile(r"^\s+")
# Plain-text headings: 第一编 总则 / 第二分编 / 第四章　离婚 / 第一节 … ; short lines only.
_HEADING = re.compile(rf"^第{NUMERAL}(分编|编|分編|編|章|节|節)(?:\s+(\S.{{0,40}})|$)")
_HEADING_RANK = {"编": 1, "分编": 2, "編": 1, "分編": 2, "章": 3, "节": 4, "節": 4}
_PLAIN_SECTION = re.compile(r"^(总则|分则|附则)$")
_APPENDIX = re.compile(
    r"^(附件|附表|附录)[一二三四五六七八九十\d]*(?:[：:\s（(].{0,80})?$|^附[：:]$"
)
# Shaped like a label, of any length: 第100000000000000000条 is reported, kept as text.
_LABEL_SHAPE = re.compile(r"^第{1,2}([零〇一二两兩三四五六七八九十百千万萬亿億\d]+)[条條]")
_SPACES = re.compile(r"\s+")


_UNIT = {"line": "行", "page": "页", "para": "段"}


def locate(source: str, n: int, where: str = "line") -> str:
    """``path:12`` for lines, ``path (第3页)`` for PDF pages, ``path (第7段)`` for DOCX paragraphs."""
    return f"{source}:{n}" if where == "line" else f"{source} (第{n}{_UNIT[where]})"


def suffix_rank(suffix: str) -> int:
    """之一 → 1, 之二 → 2 … so that 第133条 < 第133条之一 < 第134条."""
    if not suffix:
        return 0
    return cn_to_int(suffix[1:])


def _bad_number(line: str) -> bool:
    """True when ``line`` starts like an article label whose number is not one."""
    m = _LABEL_SHAPE.match(line)
    if m is None:
        return False
    try:
        cn_to_int(m.group(1))
    except ValueError:
        return True
    return False


def strip_comments(text: str) -> str:
    """Text without ``<!-- … -->`` comments; in linear time, however many ``<!--`` it holds."""
    if "<!--" not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def clean_heading(text: str) -> str:
    """``第一章  基本规定`` → ``第一章 基本规定`` (one space, no markdown artefacts)."""
    return _SPACES.sub(" ", strip_comments(text)).strip()


def match_label(line: str, *, need_gap: bool) -> tuple[int, str, str, bool] | None:
    """Parse ``第X条[之Y]`` at the start of ``line``.

    Returns:
        (number, suffix, rest of the line after the label and its gap, whether a
        gap or the line end followed the label) or None.
        With ``need_gap`` the label must be followed by a space, a full-width
        space or the end of the line (the LawRefBook convention).
    """
    m = ARTICLE_LABEL.match(line)
    if not m:
        return None
    rest = line[m.end() :]
    gap = _GAP.match(rest)
    if need_gap and rest and not gap:
        return None
    try:
        number = cn_to_int(m.group(1))
    except ValueError:
        return None
    return number, m.group(2) or "", rest[gap.end() :] if gap else rest, bool(gap) or not rest


def match_heading(line: str) -> tuple[int, str] | None:
    """(rank, heading) for a plain-text 编/章/节 heading or 总则/附则 line."""
    text = clean_heading(line)
    m = _HEADING.match(text)
    if m:
        return _HEADING_RANK[m.group(1)], text
    if _PLAIN_SECTION.match(text):
        return 3, text
    return None


def is_appendix(line: str) -> bool:
    return bool(_APPENDIX.match(clean_heading(line)))


class ArticleSplitter:
    """State machine fed heading and text lines; collects articles and checks numbering.

    Readers call :meth:`heading` for structure lines and :meth:`text` for every
    other line, then :meth:`finish`.
    """

    def __init__(self, report: Collector, *, need_gap: bool, where: str = "line") -> None:
        self.report = report
        self.need_gap = need_gap
        self.where = where  # "line" → path:N ; "page" → path (第N页) ; "para" → path (第N段)
        self._path: list[tuple[int, str]] = []
        self._current: tuple[int, str, tuple[str, ...], int] | None = None
        self._paras: list[str] = []
        self._main: list[RawArticle] = []
        self._extra: list[RawArticle] = []  # articles found inside an appendix
        self.appendix = False
        self._last: tuple[int, int] | None = None

    # -- feeding --------------------------------------------------------
    def heading(self, rank: int, text: str, line: int = 0) -> None:
        self._flush()
        text = clean_heading(text)
        if is_appendix(text):
            self._start_appendix(line)
            return
        while self._path and self._path[-1][0] >= rank:
            self._path.pop()
        if text:
            self._path.append((rank, text))

    def text(self, raw: str, line: int) -> None:
        content = strip_comments(raw).strip().strip("\u3000").strip()
        if not content:
            return
        label = match_label(content, need_gap=self.need_gap)
        if label and not label[3] and not self._plausible(label[0], label[1]):
            label = None
        if label is None and _bad_number(content):
            self.report.warn(
                self._loc(line),
                f"条号无法识别或超出范围（最大 {MAX_ARTICLE}），这一行按正文处理",
                "核对原文的条文编号",
                "bad-number",
            )
        if label:
            self._flush()
            number, suffix, rest, _ = label
            self._current = (number, suffix, tuple(t for _, t in self._path), line)
            self._paras = [rest.strip()] if rest.strip() else []
            return
        if self._current is None and not self.appendix and is_appendix(content):
            self._start_appendix(line)
            return
        if self._current is not None and is_appendix(content) and len(content) <= 40:
            self._flush()
            self._start_appendix(line)
            return
        if self._current is not None:
            self._paras.append(content)

    def finish(self) -> tuple[tuple[RawArticle, ...], bool]:
        """(articles, has appendix). Articles only inside an appendix are used when the main text has none."""
        self._flush()
        if not self._main and self._extra:
            self.report.note(f"条文只出现在附件中，已按附件条文收录 {len(self._extra)} 条")
            return self._check(self._extra), self.appendix
        return self._check(self._main), self.appendix

    # -- internals ------------------------------------------------------
    def _plausible(self, number: int, suffix: str) -> bool:
        """A label with no gap after it (第五条规定…) counts only when it continues the numbering."""
        last = (self._current[0], 0) if self._current is not None else self._last
        if last is None:
            return number == 1
        last_n, _ = last
        return number == last_n + 1 or (suffix != "" and number == last_n)

    def _start_appendix(self, line: int) -> None:
        """From here on text belongs to 附件/附表, not to the last article."""
        self.appendix = True
        self._current = None
        self._paras = []

    def _flush(self) -> None:
        if self._current is None:
            return
        number, suffix, path, line = self._current
        art = RawArticle(number, suffix, "\n".join(self._paras), path, line)
        (self._extra if self.appendix else self._main).append(art)
        self._last = (number, suffix_rank(suffix))
        self._current = None
        self._paras = []

    def _at(self, line: int) -> str:
        return f"第{line}{_UNIT[self.where]}"

    def _loc(self, line: int) -> str:
        return locate(self.report.source, line, self.where)

    def _check(self, articles: Iterable[RawArticle]) -> tuple[RawArticle, ...]:
        kept: list[RawArticle] = []
        seen: dict[tuple[int, str], int] = {}
        prev: tuple[int, int] | None = None
        prev_label = ""
        for art in articles:
            key = (art.number, art.suffix)
            if key in seen:
                self.report.warn(
                    self._loc(art.line),
                    f"条文编号重复：{art.label}已在{self._at(seen[key])}出现，后一条未收录",
                    "核对原文，删去重复的条文或改正编号",
                    "duplicate",
                )
                continue
            here = (art.number, suffix_rank(art.suffix))
            if prev is not None and here < prev:
                self.report.warn(
                    self._loc(art.line),
                    f"条文编号倒退：{art.label}出现在{prev_label}之后",
                    "核对原文条文顺序或编号是否录错",
                    "order",
                )
            elif prev is not None and art.number > prev[0] + 1:
                self.report.warn(
                    self._loc(art.line),
                    f"条文编号跳跃：{prev_label}之后直接是{art.label}",
                    "核对原文是否缺少条文",
                    "gap",
                )
            seen[key] = art.line
            prev = here
            prev_label = art.label
            kept.append(art)
        return tuple(kept)


def split_lines(
    lines: Iterable[tuple[str, int]], report: Collector, *, where: str = "line"
) -> tuple[tuple[RawArticle, ...], bool]:
    """Split plain (line text, line or page number) pairs into articles.

    Headings are recognised by their 第X编/章/节 form; labels may be followed by
    a space, a full-width space or nothing (then only when the number continues
    the sequence, so 「第五条规定的…」 inside a paragraph is not taken for a label).
    """
    splitter = ArticleSplitter(report, need_gap=False, where=where)
    for text, line in lines:
        head = match_heading(text)
        if head and match_label(text.strip(), need_gap=False) is None:
            splitter.heading(head[0], head[1], line)
        else:
            splitter.text(text, line)
    return splitter.finish()


def plain_document(
    source: str, fmt: str, lines: list[tuple[str, int]], report: Collector, *, where: str = "line"
) -> RawDocument:
    """A RawDocument from plain (text, line/page/paragraph number) lines: header, then articles."""
    title, info, start = plain_header([t for t, _ in lines])
    articles, appendix = split_lines(lines[start:], report, where=where)
    return RawDocument(
        source=source,
        format=fmt,
        title=title,
        info=tuple(info),
        articles=articles,
        problems=tuple(report.problems),
        notes=tuple(report.notes),
        appendix=appendix,
        read=max((n for _, n in lines), default=0),
    )


_TITLE_WORDS = re.compile(
    r"(法|条例|规定|办法|解释|规则|决定|细则|章程|公约|民约|守则|意见|通知|批复|纪要)[）)]?$"
)
_DATE_LINE = re.compile(r"^[（(]?\d{4}年\d{1,2}月\d{1,2}日")


def plain_header(lines: list[str]) -> tuple[str, list[str], int]:
    """Title, history lines and the index where the body starts, for plain-text statutes.

    The title is the first non-empty line when it reads like one (ends in 法,
    条例, 规定, 解释, 民约…) and is neither a heading nor an article; the lines
    up to the first heading or article are the header (通过/修正/施行 dates, 目录).
    A title that wraps onto a second line (long 司法解释 titles in PDFs) is joined.
    """
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    title = ""
    if i < len(lines):
        first = clean_heading(lines[i])
        if not match_label(first, need_gap=False) and not match_heading(first) and len(first) <= 80:
            title = first
            i += 1
            if not _TITLE_WORDS.search(title) and i < len(lines):
                nxt = clean_heading(lines[i])
                if (
                    nxt
                    and _TITLE_WORDS.search(nxt)
                    and not _DATE_LINE.match(nxt)
                    and len(title + nxt) <= 80
                ):
                    title += nxt
                    i += 1
    info: list[str] = []
    j = i
    while j < len(lines):
        text = clean_heading(lines[j])
        if text and (
            match_heading(text) or match_label(text, need_gap=False) or text in ("目录", "目 录")
        ):
            break
        if text:
            info.append(text.strip("（）()"))
        j += 1
    return title, info, i
