"""JSON forms of search results (``fengqiao query --json``, see docs INTERFACES.md)."""

from __future__ import annotations

from typing import Any

from ingest.records import Article, Case
from retrieval.hits import Hit, Notice, SearchResult, Why


def why_json(why: Why) -> dict[str, Any]:
    return {
        "sources": list(why.sources),
        "matched_terms": list(why.matched_terms),
        "keyword_rank": why.keyword_rank,
        "semantic_rank": why.semantic_rank,
        "section": why.section,
        "via_cases": list(why.via_cases),
    }


def article_hit_json(hit: Hit) -> dict[str, Any]:
    a = hit.record
    assert isinstance(a, Article)
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


def case_hit_json(hit: Hit) -> dict[str, Any]:
    c = hit.record
    assert isinstance(c, Case)
    return {
        "rank": hit.rank,
        "id": c.id,
        "title": c.title,
        "kind": c.kind,
        "dispute_type": c.dispute_type,
        "outcome": c.outcome,
        "cited": list(c.cited_ids),
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


def result_json(result: SearchResult) -> dict[str, Any]:
    """The ``fengqiao query --json`` object for ``result``."""
    return {
        "query": result.query,
        "articles": [article_hit_json(h) for h in result.articles],
        "cases": [case_hit_json(h) for h in result.cases],
        "notices": [notice_json(n) for n in result.notices],
        "cited": [c.to_dict() for c in result.cited],
        "timings_ms": dict(result.timings_ms),
    }
