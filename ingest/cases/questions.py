"""Labelled lay questions (the shared query format) → cases that only lend precedent evidence.

A file like ``../shared/eval/equals.jsonl`` holds one question a line with the articles
people marked as governing it::

    {"id": "equals-0000", "query": "…", "gold": [{"law": "工伤保险条例", "article": "39"}],
     "source": "EQUALS test (law students marked the article)"}

Each line becomes a case of kind ``标注问题``: its question is embedded like any case's,
and the marked articles are its citations, so a new question close to it lifts them
(``Searcher._precedent_run``). Such a case has no answer and no resolution; it is never
shown as a similar case. Its source key is the id without the running number
(``equals``), the key ``fengqiao eval --leave source`` hides from a query of that set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.cases.sections import ParsedCase
from ingest.records import LABELLED, IngestReport

_REQUIRED = ("id", "query", "gold")
_ID = re.compile(r"^[\w.\-]+-\d+$")
_ARTICLE = re.compile(r"^(\d+)(之[一二三四五六七八九十]+)?$")


def is_question_file(path: Path) -> bool:
    """Whether a ``.jsonl`` file is in the shared query format (its first record has id/query/gold)."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            return is_question_record(next((line for line in fh if line.strip()), ""))
    except (OSError, UnicodeDecodeError):
        return False


def is_question_record(line: str) -> bool:
    """Whether one JSONL line is a labelled question (it has id, query and gold)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and all(k in obj for k in _REQUIRED)


def question_source(case_id: str) -> str:
    """``equals-0012`` → ``equals``: the query set a labelled question belongs to."""
    return re.sub(r"-\d+$", "", case_id)


def _citation(gold: Any) -> str:
    """``{"law": "民法典", "article": "133之一"}`` → ``《民法典》第133条之一``; "" when malformed."""
    if not isinstance(gold, dict):
        return ""
    law = str(gold.get("law") or "").strip()
    m = _ARTICLE.match(str(gold.get("article") or "").strip())
    if not law or not m:
        return ""
    return f"《{law}》第{m.group(1)}条{m.group(2) or ''}"


def iter_questions(path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    """One case per well-formed line; a bad line is reported with its line number and skipped."""
    with path.open(encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                report.reject(
                    where, f"不是有效的 JSON：{exc.msg}，已跳过", "每行一个 JSON 对象", kind="json"
                )
                continue
            if not isinstance(obj, dict) or not all(obj.get(k) for k in _REQUIRED):
                missing = [k for k in _REQUIRED if not isinstance(obj, dict) or not obj.get(k)]
                report.reject(
                    where,
                    f"缺少字段：{'、'.join(missing)}，已跳过",
                    "标注问题的格式见 shared/eval/README.md（id、query、gold）",
                    kind="fields",
                )
                continue
            qid = str(obj["id"]).strip()
            if not _ID.match(qid):
                report.reject(
                    where,
                    f"编号 {qid!r} 不是“来源-序号”的形式，已跳过",
                    "编号写成 来源名-0001，来源名相同的问题属于同一来源",
                    kind="fields",
                )
                continue
            gold = obj["gold"] if isinstance(obj["gold"], list) else []
            cites = [c for c in map(_citation, gold) if c]
            if not cites:
                report.reject(
                    where,
                    "字段 gold 中没有可读的法条（应为 law、article 的列表），已跳过",
                    'gold 写成 [{"law": "民法典", "article": "1079"}]',
                    kind="fields",
                )
                continue
            question = str(obj["query"]).strip()
            source = str(obj.get("source") or question_source(qid))
            yield ParsedCase(
                id=qid,
                kind=LABELLED,
                title=question if len(question) <= 40 else question[:39] + "…",
                sections=(("问题", question), ("法律依据", "\n".join(cites))),
                source=source,
                file=str(path),
                line=line_no,
                cite_list=tuple(cites),
                provenance=f"标注问题（只作检索证据，不作为案例显示）：{source}",
            )
