"""How exports cite and quote records: verbatim article blocks, case metadata, whose answer a case holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ingest.records import (
    AI_ANSWER,
    CONSULTATION,
    KIND_LABELS,
    MEDIATION,
    SHARED_FROM,
    TYPICAL,
    Article,
    Case,
)
from ui.documents.document import Block, BlockKind, paragraphs
from ui.store import Item

AnswerTrust = Literal["authority", "consultation", "ai"]


class RecordSource(Protocol):
    """What an export needs from a knowledge base: records by id (the Service has both)."""

    def article(self, article_id: str) -> Article | None: ...
    def case(self, case_id: str) -> Case | None: ...


@dataclass(frozen=True)
class Entry:
    """A collection item with its record looked up (``None`` when the KB no longer has it)."""

    item: Item
    record: Article | Case | None


def resolve(items: Sequence[Item], kb: RecordSource) -> list[Entry]:
    out = []
    for item in items:
        record = kb.article(item.ref) if item.kind == "article" else kb.case(item.ref)
        out.append(Entry(item, record))
    return out


def article_meta(article: Article) -> str:
    parts = [article.status]
    if article.valid_from:
        parts.append(f"施行日期 {article.valid_from}")
    if article.publish:
        parts.append(f"公布日期 {article.publish}")
    if article.path:
        parts.append("位置：" + " / ".join(article.path))
    return " · ".join(parts)


def quoted_text(article: Article) -> list[str]:
    """The article's paragraphs (款/项) exactly as stored, less invisible characters."""
    return paragraphs(article.text)


def cite(article: Article) -> str:
    """The standard citation, with a title inside the title marked 〈〉 as GB/T 15834 asks.

    ``《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十一条``, not
    ``《…《…》…》``; otherwise the same as ``Article.citation``.
    """
    title = article.law_title.replace("《", "〈").replace("》", "〉")
    return f"《{title}》{article.label}"


def citation_line(article: Article) -> str:
    """《…》第…条（现行有效，2021-01-01 施行）: the citation with the status a reader must see."""
    status = article.status + (f"，{article.valid_from} 施行" if article.valid_from else "")
    return f"{cite(article)}（{status}）"


def quote_blocks(article: Article, head: BlockKind = "text") -> list[Block]:
    """Citation with status, then the text verbatim, one quote block per paragraph."""
    return [Block(head, citation_line(article)), *(Block("quote", p) for p in quoted_text(article))]


def case_meta(case: Case) -> str:
    parts = [case.label, case.dispute_type, case.region, case.date]
    return " · ".join(p for p in parts if p)


def answer_trust(case: Case) -> AnswerTrust:
    """Whose words a case's answer is: a court's or committee's, a consultation reply, or a model's.

    Only ``authority`` answers (裁判结果, 调解结果, 裁判要旨) may serve as a reference answer.
    lawyer-llama replies were written by a language model with retriever-attached articles.
    Kept in one function so it can switch to the trust fields ingest adds to ``Case``.
    """
    if case.trust == "generated" or case.source.startswith("lawyer-llama"):
        return "ai"
    if case.trust in ("verified", "official"):
        return "authority"
    return "consultation"  # a consultation reply, or a sample nobody here has checked


def outcome(case: Case) -> tuple[str, str]:
    """(label, text) of what the case resolved to, labelled by who wrote it; ("", "") if none."""
    trust = answer_trust(case)
    if trust == "ai":
        text = case.section("回答")
        return ("AI 生成解答（未经核实）", text) if text else ("", "")
    if trust == "consultation":
        text = case.section("回答")
        return ("咨询回复（未经核实）", text) if text else ("", "")
    for name in ("调解结果", "协议内容", "裁判结果"):
        text = case.section(name)
        if text:
            return name, text
    # A typical case without a 裁判结果 section: the court's decision sentence, 裁判要旨 …
    result = case.result
    if result.resolution and result.text:
        return result.label, result.text
    return "", ""


def cited_articles(case: Case, kb: RecordSource) -> tuple[list[Article], list[str]]:
    """The articles a case cites that resolve in the KB (once each), and the rest as written."""
    found: list[Article] = []
    unresolved: list[str] = []
    for c in case.cited:
        art = kb.article(c.resolved_id) if c.resolved_id else None
        if art is not None:
            if art not in found:
                found.append(art)
        elif c.raw not in unresolved:
            unresolved.append(c.raw + ("（该法已废止）" if c.repealed else ""))
    return found, unresolved


def cited_lines(case: Case, kb: RecordSource) -> list[str]:
    """Citations of a case, each with what the check against the knowledge base found.

    ``《中华人民共和国民法典》第一千零七十九条：✓ 知识库有此条（现行有效）``; a repealed law
    names its successor, and a law or article the KB lacks or a quote that does not match
    the article says 可能有误, exactly as the case card does (``Citation.verdict_note``).
    """
    lines: list[str] = []
    for c in case.cited:
        art = kb.article(c.resolved_id) if c.resolved_id else None
        line = f"{cite(art)}{c.detail}" if art else c.raw
        if c.verdict:
            line += f"：{c.verdict_note}"
        elif c.repealed:
            line += "：该法已废止"
        else:
            line += "：未与知识库核对" if art is None else ""
        if line not in lines:
            lines.append(line)
    return lines


_COLLECTION = re.compile(r"案例集(“[^”]{1,40}”)")
# What a provenance line names that a mediator need not read: datasets, licences, models.
_DATASET_WORDS = re.compile(
    r"LawBench|LawRefBook|lawyer-llama|legal_counsel|open-compass|Apache|GPT|许可|仅限学术"
)


def source_line(case: Case) -> str:
    """来源：who wrote the case and whether anyone checked it, in words a mediator reads.

    A provenance naming a public dataset, its licence or the model behind an AI answer is
    said in plain words here (those details are in docs/sources.md); any other provenance
    (the committee's own records, a named court) is shown as recorded. The full
    ``provenance`` stays in the data and in ``--json``.
    """
    provenance = case.provenance or case.source or case.kind
    if case.kind == MEDIATION and provenance.startswith(SHARED_FROM):
        return f"来源：县级共享的调解案例，{provenance}（已匿名化）"
    if not _DATASET_WORDS.search(provenance):
        return f"来源：{provenance}"
    if case.kind == TYPICAL:
        found = _COLLECTION.search(provenance)
        named = found is not None and any("\u4e00" <= ch <= "\u9fff" for ch in found.group(1))
        where = f"，收录于公开的法规案例合集{found.group(1)}" if found and named else ""
        return f"来源：官方公布的法院典型案例{where}（原文未注明发布机关）"
    if case.kind == CONSULTATION:
        lawyer = "，回答自称“律师解答”" if "律师解答" in provenance else ""
        return f"来源：公开数据集中的法律咨询问答，回答者未具名{lawyer}，未经核实"
    if case.kind == AI_ANSWER:
        return "来源：人工智能根据所附法条生成的回答，未经核实，不能当作处理结果"
    return f"来源：{KIND_LABELS.get(case.kind, case.kind)}（公开数据集）"
