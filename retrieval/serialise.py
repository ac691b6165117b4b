"""JSON forms of answers (``fengqiao query --json``, see the shared docs' INTERFACES.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ingest.records import Article
from retrieval.answer import Answer
from retrieval.asking import Answered, Card, Snippet
from retrieval.guidance import Guidance, Point
from retrieval.hits import ArticleHit, CaseHit, Notice, SearchResult, Why


def why_json(why: Why) -> dict[str, Any]:
    return {
        "sources": list(why.sources),
        "matched_terms": list(why.matched_terms),
        "keyword_rank": why.keyword_rank,
        "semantic_rank": why.semantic_rank,
        "section": why.section,
        "via_cases": list(why.via_cases),
    }


def article_hit_json(hit: ArticleHit) -> dict[str, Any]:
    a = hit.record
    return {
        "rank": hit.rank,
        "id": a.id,
        "law": a.law,
        "law_title": a.law_title,
        "article": a.key,
        "label": a.label,
        "path": list(a.path),
        "text": a.text,
        "status": a.status,
        "citation": a.citation,
        "score": round(hit.score, 4),
        "why": why_json(hit.why),
    }


def case_hit_json(hit: CaseHit) -> dict[str, Any]:
    """A case hit: ``outcome`` holds only a real resolution (committee or court); what an
    unverified consultation or a language model answered is in ``result`` under its label."""
    c = hit.record
    result = c.result
    return {
        "rank": hit.rank,
        "id": c.id,
        "title": c.title,
        "kind": c.kind,
        "label": c.label,
        "trust": c.trust,
        "provenance": c.provenance,
        "dispute_type": c.dispute_type,
        "outcome": c.outcome,
        "result": {"label": result.label, "text": result.text, "resolution": result.resolution},
        "cited": list(c.cited_ids),
        "citations": [
            {
                "raw": cit.raw,
                "article_id": cit.resolved_id,
                "verdict": cit.verdict,
                "note": cit.verdict_note,
                "quote": cit.quote,
            }
            for cit in c.cited
        ],
        "source": c.source,
        "score": round(hit.score, 4),
        "section": hit.why.section,
        "why": why_json(hit.why),
    }


def notice_json(n: Notice) -> dict[str, Any]:
    return {
        "level": n.level,
        "text": n.text,
        "citation": n.citation.raw if n.citation else "",
        "suggestions": list(n.suggestions),
    }


def answer_json(answer: Answer) -> list[dict[str, Any]]:
    """The answer points the page shows: verbatim clauses with their citations.

    ``lead`` is the 款 head a quoted 项 depends on (verbatim, "" for none).
    """
    return [
        {"text": q.text, "article_id": q.article_id, "citation": q.citation, "lead": q.lead}
        for q in answer.quotes
    ]


def article_link(article: Article) -> str:
    """The article's citation page in the web UI, relative to its root: ``/browse?law=…``."""
    params = {"law": article.law, "article": article.key}
    if not article.current and article.version:
        params["version"] = article.version
    return f"/browse?{urlencode(params)}"


def point_json(point: Point) -> dict[str, Any]:
    """One 办理提示 point: ``section`` is the short key (受理/时效/风险/转介/证据/协议)."""
    a = point.article
    period = point.period
    return {
        "section": point.section,
        "section_title": point.title,
        "text": point.text,
        "article_id": a.id,
        "citation": a.citation,
        "law": a.law,
        "article": a.key,
        "label": a.label,
        "quote": point.quote,
        "link": article_link(a),
        "period": (
            {
                "years": period.years,
                "months": period.months,
                "days": period.days,
                "label": period.label,
                "start": period.start,
            }
            if period
            else None
        ),
        "rule": point.rule.id,
    }


def guidance_json(guidance: Guidance) -> list[dict[str, Any]]:
    """The 办理提示 points, risk points first (see the README's ``guidance`` shape)."""
    return [point_json(p) for p in guidance.points]


def result_json(result: SearchResult) -> dict[str, Any]:
    return {
        "query": result.query,
        "articles": [article_hit_json(h) for h in result.articles],
        "cases": [case_hit_json(h) for h in result.cases],
        "notices": [notice_json(n) for n in result.notices],
        "cited": [c.to_dict() for c in result.cited],
        "timings_ms": dict(result.timings_ms),
    }


def snippet_json(snippet: Snippet | None) -> dict[str, Any] | None:
    if snippet is None:
        return None
    return {"label": snippet.label, "text": snippet.text, "cut": snippet.cut}


def card_json(card: Card) -> dict[str, Any]:
    """What the page's card shows beside the record: matched words, marks, the snippet."""
    return {
        "matched": {
            "words": list(card.matched.words),
            "legal_words": list(card.matched.legal_words),
        },
        "highlights": [[a, b] for a, b in card.spans],
        "snippet": snippet_json(card.snippet),
    }


def answered_json(answered: Answered) -> dict[str, Any]:
    """The ``fengqiao query --json`` object: ``result_json`` plus what the page shows."""
    out = result_json(answered.result)
    for shown, a_hit in zip(out["articles"], answered.result.articles, strict=True):
        shown.update(card_json(answered.card(a_hit)))
    for shown, c_hit in zip(out["cases"], answered.result.cases, strict=True):
        shown.update(card_json(answered.card(c_hit)))
    return {
        **out,
        "citation_only": answered.citation_only,
        "answer": answer_json(answered.answer),
        "outcomes": [
            {
                "case_id": o.case_id,
                "title": o.title,
                "kind": o.kind,
                "text": o.text,
                "truncated": o.truncated,
            }
            for o in answered.answer.outcomes
        ],
        "cited_articles": [
            {"citation": c.citation.raw, "article_id": c.article.id if c.article else None}
            for c in answered.cited
        ],
        "guidance": guidance_json(answered.guidance),
        "guidance_context": {
            "dispute_types": list(answered.guidance.dispute_types),
            "risks": [{"kind": r.kind, "word": r.word} for r in answered.guidance.risks],
        },
    }
