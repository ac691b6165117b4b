"""Teaching sets from a collection: questions from each case's 争议焦点, answer keys from authority only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from ingest.records import Article, Case
from ui.documents.document import Block, ExportError
from ui.documents.quoting import (
    Entry,
    RecordSource,
    answer_trust,
    case_meta,
    cited_articles,
    cited_lines,
    outcome,
    quote_blocks,
    source_line,
)

Version = Literal["student", "teacher"]
VERSION_NAMES: dict[str, str] = {"student": "学生版", "teacher": "教师版"}
CN_NUMS = "一二三四五六七八九十"

# Numbered items inside a 争议焦点: （一）… anywhere but in 第（一）项; 一、… / 一是… / 1. …
# after a stop or at the start.
_ITEM = re.compile(
    r"(?<!第)[（(][一二三四五六七八九十\d]{1,2}[)）]"
    r"|(?:^|(?<=[；;。，,\n：:]))\s*(?:[一二三四五六七八九十]{1,2}(?:是|、)|\d{1,2}[、.．](?!\d))"
)
# A focus named inside the reasoning: 本案争议焦点是…。 / 本案的争议焦点有二：…。
_FOCUS_IN_TEXT = re.compile(r"争议(?:的)?焦点(?:主要)?(?:是|为|在于|有)(.+?)(?:。|$)", re.DOTALL)
_COUNT_PREFIX = re.compile(r"^[一二三四五两\d]+(?:个|点|方面)?[：:]")
_ASKS = re.compile(r"是否|能否|应否|可否|如何|怎样|怎么|哪|谁|什么|多少|有无|吗|呢")
_CLAIM = re.compile(r"要求|请求|诉至|起诉|申请|不同意|拒绝|拒不|协商不成|未果|纠纷|争执|索赔|赔偿")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


def ordinal(n: int) -> str:
    if n <= 10:
        return CN_NUMS[n - 1]
    if n < 20:
        return "十" + CN_NUMS[n - 11]
    return str(n)


def split_focus(text: str) -> list[str]:
    """The separate issues of a 争议焦点 text: numbered items, else ；-separated, else the whole."""
    text = _COUNT_PREFIX.sub("", text.strip())
    marks = list(_ITEM.finditer(text))
    if len(marks) >= 2:
        pieces = [
            text[m.end() : (marks[i + 1].start() if i + 1 < len(marks) else len(text))]
            for i, m in enumerate(marks)
        ]
    else:
        pieces = re.split(r"[；;\n]", text)
    items = [p.strip(" 。；;，,") for p in pieces]
    items = [p for p in items if len(p) >= 4]
    return items or ([text.strip(" 。")] if text.strip(" 。") else [])


def focus_of(case: Case) -> list[str]:
    """The issues in dispute: the 争议焦点 section, or where the reasoning names them."""
    section = case.section("争议焦点")
    if section:
        return split_focus(section)
    for name in ("裁判理由", "调解过程", "典型意义", "基本案情"):
        found = _FOCUS_IN_TEXT.search(case.section(name))
        if found:
            return split_focus(found.group(1))
    return []


def as_question(issue: str) -> str:
    issue = issue.strip().rstrip("。；;，,.？?！! ")
    if _ASKS.search(issue):
        return issue + "？"
    return f"关于“{issue}”，应当如何认定？"


def _claim_sentence(facts: str) -> str:
    sentences = [s.strip() for s in _SENTENCE.findall(facts) if len(s.strip()) >= 4]
    claims = [s for s in sentences if _CLAIM.search(s) or s.endswith(("？", "?"))]
    return (claims or sentences or [""])[-1]


def questions(case: Case) -> tuple[str, list[str]]:
    """Questions particular to this case, and what they were built from.

    From its issues in dispute (争议焦点); else from the party's request; else from the
    sentence of the facts that states the claim or the consultation's question.
    """
    issues = focus_of(case)
    if issues:
        return "本案争议焦点", [as_question(i) for i in issues]
    request = case.section("诉讼请求").strip().rstrip("。")
    if request:
        return "当事人请求", [f"当事人的请求是“{request}”。该请求能否得到支持？应当如何处理？"]
    claim = _claim_sentence(case.facts)
    if not claim:
        return "", []
    if claim.endswith(("？", "?")):
        return "咨询内容", [f"当事人问：“{claim}”应当如何答复？"]
    return "案情", [f"{claim.rstrip('。；;')}。对此应当如何调解处理？"]


def _case_question_blocks(n: int, case: Case) -> list[Block]:
    consultation = answer_trust(case) != "authority"
    blocks = [
        Block("subheading", f"案例{ordinal(n)}：{case.title}"),
        Block("meta", case_meta(case)),
        Block("meta", source_line(case)),
    ]
    label = "咨询内容" if consultation else "基本案情"
    blocks.append(Block("text", f"{label}：{case.facts or '（案例未载明）'}"))
    request = case.section("诉讼请求")
    if request:
        blocks.append(Block("text", f"当事人请求：{request}"))
    basis, asked = questions(case)
    label = f"问题（据{basis}）" if basis else "问题"
    if len(asked) == 1:
        blocks.append(Block("text", f"{label}：{asked[0]}"))
    elif asked:
        blocks.append(Block("text", f"{label}："))
        blocks.extend(Block("text", f"{i}. {q}") for i, q in enumerate(asked, 1))
    return blocks


def _answer_blocks(n: int, entry: Entry, case: Case, kb: RecordSource) -> list[Block]:
    blocks = [Block("subheading", f"案例{ordinal(n)}参考答案")]
    articles, unresolved = cited_articles(case, kb)
    if answer_trust(case) == "authority":
        gist = case.section("要点")
        if gist:
            blocks.append(Block("text", f"裁判要旨：{gist}"))
        label, text = outcome(case)
        if text:
            blocks.append(Block("text", f"{label}：{text}"))
        if not gist and not text:
            blocks.append(Block("text", "本案例未载明处理结果，无参考答案；请结合下列法条讲解。"))
        if articles:
            blocks.append(Block("text", "适用法条（原文）："))
    else:
        kind = "由语言模型生成解答的法律咨询" if answer_trust(case) == "ai" else "法律咨询记录"
        blocks.append(
            Block("text", f"本例为{kind}，没有调解或裁判结论，不提供参考答案，咨询回复也不作答案。")
        )
        if articles:
            blocks.append(Block("text", "咨询记录所附法条（原文；是否适用请在讲解时核对）："))
    for article in articles:
        blocks.extend(quote_blocks(article))
    checks = cited_lines(case, kb)
    if checks:
        # What the case itself cites, checked: a wrong or repealed citation is a teaching point.
        blocks.append(Block("text", "案例所引法条的核对结果："))
        blocks.extend(Block("meta", f"{i}) {line}") for i, line in enumerate(checks, 1))
    if unresolved:
        blocks.append(
            Block("meta", "案例还引用了知识库未收录的规定（未核对原文）：" + "；".join(unresolved))
        )
    if not articles and not unresolved:
        blocks.append(Block("meta", "案例未列明所依据的法条。"))
    note = entry.item.note.strip()
    if note:
        blocks.append(Block("note", f"讲解要点：{note}"))
    return blocks


def _article_blocks(entries: Sequence[Entry], version: Version) -> list[Block]:
    blocks: list[Block] = []
    for entry in entries:
        if entry.item.kind != "article":
            continue
        if isinstance(entry.record, Article):
            blocks.extend(quote_blocks(entry.record, "subheading"))
        else:
            blocks.append(Block("subheading", entry.item.ref))
            blocks.append(Block("meta", "知识库中已找不到此条（可能已重建索引），未引用。"))
        note = entry.item.note.strip()
        if version == "teacher" and note:
            blocks.append(Block("note", f"讲解要点：{note}"))
    return blocks


def teaching_blocks(
    name: str, entries: Sequence[Entry], kb: RecordSource, version: Version = "teacher"
) -> list[Block]:
    """A teaching set: cases with their own questions; the teacher's version adds answer keys.

    Only anonymised case sections are used (no source files or party lists). The trainer's
    notes appear as 讲解要点 in the teacher's version only.
    """
    cases = [(e, e.record) for e in entries if isinstance(e.record, Case)]
    if not cases:
        raise ExportError("该案卷中没有案例，无法生成教学集。建议：先从“类似案例”中加入案例。")
    blocks = [
        Block("title", f"教学集（{VERSION_NAMES[version]}）：{name}"),
        Block("meta", f"共 {len(cases)} 个案例 · 案例文本已匿名化 · 枫桥"),
        Block("text", "答题要求：写明处理意见、理由和所依据的法律条文。"),
        Block("heading", "第一部分　案例与问题"),
    ]
    for n, (_, case) in enumerate(cases, 1):
        blocks.extend(_case_question_blocks(n, case))
    articles = _article_blocks(entries, version)
    part = 2
    if version == "teacher":
        blocks.append(Block("break"))
        blocks.append(Block("heading", f"第{CN_NUMS[part - 1]}部分　参考答案与讲解要点"))
        for n, (entry, case) in enumerate(cases, 1):
            blocks.extend(_answer_blocks(n, entry, case, kb))
        part += 1
    if articles:
        blocks.append(Block("heading", f"第{CN_NUMS[part - 1]}部分　相关法条"))
        blocks.extend(articles)
    return blocks
