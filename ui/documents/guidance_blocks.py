"""办理提示 in documents: the points a 案卷 export and the 调解协议书 / 调解笔录 drafts carry.

The 案卷 has no question; its dispute is what the mediator entered (facts, issues, the
session, the agreement) and the titles and notes of what was added to it. The same rules
and the same checks as the answer page apply: a point whose article the knowledge base
lacks, or whose quote is not in it, is left out.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from ingest.records import Article, Case
from retrieval.guidance import SECTION_TITLES, SECTIONS, Guidance, Guide, question_type
from ui.documents.document import Block
from ui.documents.quoting import Entry, RecordSource, cite
from ui.guidance_text import deadline_text, period_line, risk_line
from ui.store import CaseDetails

# What each document carries: the agreement its deadlines and what follows it, the
# record the risks and where to go when mediation fails, the 案卷 everything.
DOCUMENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "agreement": ("时效", "协议"),
    "record": ("风险", "受理", "转介"),
    "casefile": SECTIONS,
}
_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})")


def entered_date(text: str) -> datetime.date | None:
    """The first date in a free-text field (``2026年12月7日``, ``2026-12-07``), or None."""
    m = _DATE.search(text)
    if not m:
        return None
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def case_text(details: CaseDetails | None, entries: Sequence[Entry]) -> str:
    """The 案卷's dispute in words: what the mediator entered, then the titles and notes."""
    parts: list[str] = []
    if details is not None:
        parts += [details.facts, details.disputed, details.process, details.agreement]
    for e in entries:
        if isinstance(e.record, Case):
            parts.append(e.record.title)
        parts.append(e.item.note)
    return "\n".join(p.strip() for p in parts if p.strip())


def _lookup(kb: RecordSource):  # type: ignore[no-untyped-def]
    def lookup(law: str, article: str) -> Article | None:
        return kb.article(f"{law}:{article}")  # the id of a current article (ingest.records)

    return lookup


def case_guidance(
    kb: RecordSource, details: CaseDetails | None, entries: Sequence[Entry]
) -> Guidance:
    """The 办理提示 of a 案卷, checked against ``kb`` like the answer page's."""
    text = case_text(details, entries)
    articles = [e.record for e in entries if isinstance(e.record, Article)]
    guide = Guide.load(_lookup(kb))
    return guide.advise(text, question_type(text, articles))


def guidance_blocks(
    kb: RecordSource,
    details: CaseDetails | None,
    entries: Sequence[Entry],
    document: str,
) -> list[Block]:
    """The 办理提示 appendix of ``document`` (``agreement``, ``record`` or ``casefile``).

    A period that runs from the agreement (司法确认 within 30 days) is counted from the
    調解日期 entered in the 案卷, when it holds a date.
    """
    guidance = case_guidance(kb, details, entries)
    sections = DOCUMENT_SECTIONS[document]
    points = [p for p in guidance.points if p.section in sections]
    if not points:
        return []
    signed = entered_date(details.date) if details is not None else None
    blocks = [Block("break")] if document == "record" else []  # after the signatures
    blocks += [
        Block("heading", "附：办理提示（法律条文原文摘录，供调解员参考）"),
        Block(
            "meta",
            f"按纠纷类型“{'、'.join(guidance.dispute_types)}”及案卷内容整理；"
            "每条后为所依据条文的原文片段。",
        ),
    ]
    warn = risk_line(guidance)
    if warn and "风险" in sections:
        blocks.append(Block("text", warn))
    n = 0
    for key in sections:
        chosen = [p for p in points if p.section == key]
        if not chosen:
            continue
        blocks.append(Block("subheading", SECTION_TITLES[key]))
        for p in chosen:
            n += 1
            blocks.append(Block("text", f"{n}. {p.text}"))
            blocks.append(Block("quote", f"“{p.quote}”——{cite(p.article)}"))
            if p.period is not None:
                line = period_line(p)
                if signed is not None and "协议" in p.period.start:
                    line += f"；{deadline_text(p, signed)}（按案卷所填调解日期）"
                blocks.append(Block("meta", line))
    return blocks
