"""How exports cite and quote records: verbatim article blocks, case metadata, whose answer a case holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ingest.records import Article, Case
from ui.document import Block, BlockKind, paragraphs
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
    parts = [case.kind, case.dispute_type, case.region, case.date]
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


def source_line(case: Case) -> str:
    """来源：who wrote the case and where it comes from (its provenance)."""
    return f"来源：{case.provenance or case.source or case.kind}"
