"""Answered legal consultations (LawBench 3-8, lawyer-llama) streamed from JSON into cases."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.cases.sections import ParsedCase, merge_sections
from ingest.records import AI_ANSWER, CONSULTATION, IngestReport

LAWBENCH_SOURCE = (
    "LawBench 3-8（open-compass/LawBench，Apache-2.0；各来源数据集的许可条款另行适用）"
)
LAWYER_LLAMA_SOURCE = (
    "lawyer-llama legal_counsel_with_article_v2（AndrewZhe/lawyer-llama，Apache-2.0，"
    "仅限学术用途；回答由语言模型生成，法条由检索器附加）"
)
# Who wrote the answers, as each source documents it. LawBench names no author
# for 3-8; most answers (430 of 500) call themselves 律师解答. lawyer-llama's
# README lists this file as "GPT-3.5基于法条生成的法律咨询回复" and warns that
# its data "由ChatGPT生成，未经严格验证".
LAWBENCH_PROVENANCE = (
    "法律咨询解答：LawBench 3-8（open-compass/LawBench，Apache-2.0，各来源数据集的许可另行适用）；"
    "来源未注明回答者"
)
LAWBENCH_LAWYER = "，回答自称“律师解答”，律师未具名"
LAWYER_LLAMA_PROVENANCE = (
    "AI 生成解答（未经核实）：GPT-3.5 根据所附法条生成的咨询回复"
    "（lawyer-llama legal_counsel_with_article_v2，Apache-2.0，仅限学术用途）"
)

_CHUNK = 1 << 16
_MAX_ELEMENT = 16 << 20  # an element larger than this is treated as malformed
_WS = re.compile(r"[\s,]*")
# After a malformed element, skip to the start of the next one: "}, {" at any depth-1 boundary.
_RESYNC = re.compile(r"\}\s*,\s*(?=\{)")


def iter_json_array(
    path: Path, report: IngestReport, *, chunk: int = _CHUNK
) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(index, line, element)`` for each element of a top-level JSON array.

    Reads ``chunk`` characters at a time and decodes one element at a time, so
    memory stays bounded by the largest element, not the file. A malformed
    element is reported with its line number and skipped; the index still
    counts it, so later elements keep their position in the array.
    """
    decoder = json.JSONDecoder()
    where = str(path)
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        buf = fh.read(chunk)
        eof = len(buf) < chunk
        line = 1
        m = _WS.match(buf)
        pos = m.end() if m else 0
        while not buf[pos:].strip() and not eof:
            more = fh.read(chunk)
            eof = len(more) < chunk
            buf += more
            pos = len(buf) - len(buf[pos:].lstrip())
        if pos >= len(buf) or buf[pos] != "[":
            report.warn(
                where,
                "不是 JSON 数组（应以 [ 开头）",
                "请提供 JSON 数组文件或改用 JSONL",
                kind="format",
            )
            return
        pos += 1
        index = 0
        while True:
            # Skip separators, refilling as needed.
            while True:
                m = _WS.match(buf, pos)
                pos = m.end() if m else pos
                if pos < len(buf) or eof:
                    break
                line += buf.count("\n", 0, pos)
                buf, pos = fh.read(chunk), 0
                eof = len(buf) < chunk
            if pos >= len(buf) or buf[pos] == "]":
                if pos >= len(buf):
                    report.warn(
                        f"{where}:{line + buf.count(chr(10), 0, pos)}",
                        "JSON 数组没有结束（缺少 ]），文件可能被截断",
                        "请检查文件是否完整",
                        kind="json",
                    )
                return
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as err:
                grow = not eof and len(buf) - pos < _MAX_ELEMENT
                if grow and (err.pos >= len(buf) - 1 or _incomplete(buf, pos)):
                    more = fh.read(chunk)
                    eof = len(more) < chunk
                    # Drop what is consumed so the buffer holds one element at most.
                    line += buf.count("\n", 0, pos)
                    buf, pos = buf[pos:] + more, 0
                    continue
                at = line + buf.count("\n", 0, err.pos)
                report.warn(
                    f"{where}:{at}",
                    f"第 {index + 1} 条记录 JSON 格式错误（{err.msg}），已跳过",
                    "修正该记录后重新导入",
                    kind="json",
                )
                index += 1
                nxt = _RESYNC.search(buf, err.pos)
                while nxt is None and not eof:
                    more = fh.read(chunk)
                    eof = len(more) < chunk
                    buf += more
                    nxt = _RESYNC.search(buf, err.pos)
                if nxt is None:
                    return
                pos = nxt.end()
                continue
            yield index, line + buf.count("\n", 0, pos), obj
            index += 1
            pos = end
            if pos > chunk:
                line += buf.count("\n", 0, pos)
                buf, pos = buf[pos:], 0


def _incomplete(buf: str, pos: int) -> bool:
    """True when the element starting at ``pos`` may simply continue past the buffer."""
    depth = 0
    in_str = False
    esc = False
    for ch in buf[pos:]:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return False
    return True


def peek_shape(path: Path) -> str:
    """``lawbench-3-8`` / ``lawbench-3-2`` / ``lawyer-llama`` / ``""`` from the file name and first element."""
    name = path.name
    if name == "3-8.json":
        return "lawbench-3-8"
    if name == "3-2.json":
        return "lawbench-3-2"
    if name.startswith("legal_counsel_with_article"):
        return "lawyer-llama"
    scratch = IngestReport()
    for _, _, obj in iter_json_array(path, scratch, chunk=1 << 14):
        if not isinstance(obj, dict):
            return ""
        keys = set(obj)
        if {"query", "laws", "response"} <= keys:
            return "lawyer-llama"
        if {"instruction", "question", "answer"} <= keys:
            instr = str(obj.get("instruction", ""))
            if "场景" in instr or "场景" in str(obj.get("question", ""))[:10]:
                return "lawbench-3-2"
            return "lawbench-3-8"
        return ""
    return ""


def _strip_prefix(text: str, prefix: str) -> str:
    text = text.strip()
    for p in (prefix + ":", prefix + "：", prefix):
        if text.startswith(p):
            return text[len(p) :].strip()
    return text


_HTML = re.compile(r"</?p>|<br\s*/?>")


def _require(obj: Any, keys: tuple[str, ...], where: str, report: IngestReport) -> bool:
    if not isinstance(obj, dict):
        report.warn(where, "记录不是 JSON 对象，已跳过", "每条记录应为 {…} 对象", kind="fields")
        return False
    missing = [k for k in keys if not str(obj.get(k) or "").strip()]
    if missing:
        report.warn(
            where,
            f"缺少必填字段：{'、'.join(missing)}，已跳过",
            "补全这些字段后重新导入",
            kind="fields",
        )
        return False
    return True


def iter_lawbench(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """LawBench 3-8: ``question`` + ``answer`` (回答:… 法律依据:…). Ids ``lawbench-3-8-NNNN`` = list index."""
    for index, line, obj in iter_json_array(path, report):
        where = f"{path}:{line}"
        if not _require(obj, ("question", "answer"), where, report):
            continue
        answer = html.unescape(_HTML.sub("\n", str(obj["answer"]))).strip()
        k = answer.find("法律依据")
        reply = _strip_prefix(answer[:k] if k >= 0 else answer, "回答")
        basis = _strip_prefix(answer[k:], "法律依据") if k >= 0 else ""
        # Many answers go on after the statute text with 律师解答…: that is answer, not law.
        basis, sep, lawyer = basis.partition("律师解答")
        if sep and lawyer.strip():
            reply = f"{reply}\n{lawyer.strip()}" if reply else lawyer.strip()
        question = html.unescape(str(obj["question"])).strip()
        yield ParsedCase(
            id=f"lawbench-3-8-{index:04d}",
            kind=CONSULTATION,
            title=_title(question),
            sections=merge_sections([("问题", question), ("回答", reply), ("法律依据", basis)]),
            source=LAWBENCH_SOURCE,
            file=str(path),
            line=line,
            provenance=LAWBENCH_PROVENANCE + (LAWBENCH_LAWYER if "律师解答" in answer else ""),
        )


def iter_lawyer_llama(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """lawyer-llama: ``query`` + ``response`` + ``laws`` (three 民法典 articles). Ids ``lawyer-llama-NNNN``."""
    for index, line, obj in iter_json_array(path, report):
        where = f"{path}:{line}"
        if not _require(obj, ("query", "response"), where, report):
            continue
        laws = obj.get("laws") or []
        if not isinstance(laws, list):
            report.warn(
                where, "字段 laws 不是列表，已忽略", "laws 应为法条字符串列表", kind="fields"
            )
            laws = []
        question = str(obj["query"]).strip()
        yield ParsedCase(
            id=f"lawyer-llama-{index:04d}",
            kind=AI_ANSWER,
            title=_title(question),
            sections=merge_sections(
                [
                    ("问题", question),
                    ("回答", str(obj["response"])),
                    ("法律依据", "\n".join(map(str, laws))),
                ]
            ),
            source=LAWYER_LLAMA_SOURCE,
            file=str(path),
            line=line,
            cite_list=tuple(str(x) for x in laws),
            provenance=LAWYER_LLAMA_PROVENANCE,
        )


def _title(question: str, limit: int = 40) -> str:
    q = re.sub(r"\s+", " ", question).strip()
    return q if len(q) <= limit else q[: limit - 1] + "…"
