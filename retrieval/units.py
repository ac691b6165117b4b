"""Index units: what gets embedded and keyword-indexed. Long articles are split by 款."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ingest.records import Article, Case
from retrieval.config import MAX_UNIT_TOKENS

# Case sections searched for similar cases: what happened and what was disputed.
CASE_SECTIONS: tuple[tuple[str, ...], ...] = (("基本案情", "问题"), ("争议焦点",))


@dataclass(frozen=True)
class Unit:
    """One searchable piece: a whole article, a 款-chunk of a long one, or a case section."""

    id: str
    parent: str  # Article.id or Case.id
    kind: str  # article | case | clause
    text: str  # passage text that is embedded
    keywords: str  # text the keyword index sees
    section: str = ""  # case section name, or 款 range like "第2-3款"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Unit:
        return cls(**d)


def article_header(a: Article) -> str:
    return f"{a.law_title} {a.label}"


def article_units(
    articles: Iterable[Article],
    count_tokens: Callable[[str], int],
    max_tokens: int = MAX_UNIT_TOKENS,
) -> list[Unit]:
    """One unit per article; an article longer than ``max_tokens`` becomes 款 groups."""
    out: list[Unit] = []
    for a in articles:
        head = article_header(a)
        heading = a.path[-1] if a.path else ""
        keywords = f"{a.law} {heading} {a.text}"
        whole = f"{head} {a.text}"
        if count_tokens(whole) <= max_tokens:
            out.append(Unit(a.id, a.id, "article", whole, keywords))
            continue
        for n, (first, last, body) in enumerate(
            _pack(a.text.split("\n"), head, count_tokens, max_tokens)
        ):
            section = f"第{first}款" if first == last else f"第{first}-{last}款"
            out.append(
                Unit(
                    f"{a.id}#{n + 1}",
                    a.id,
                    "article",
                    f"{head} {body}",
                    f"{a.law} {heading} {body}",
                    section,
                )
            )
    return out


ITEM = re.compile(r"^（[一二三四五六七八九十]+）")
"""An enumerated item of an article: （一）… （十二）…"""


def clause_units(articles: Iterable[Article]) -> list[Unit]:
    """One dense unit per paragraph of every article that has more than one (issue 19).

    A question about one item of a long enumerating article (劳动合同法第三十八条,
    工伤保险条例第十四条) meets a whole-article vector diluted by the other items; its
    clause unit is close to that one item. An item carries the paragraph that introduces
    it ("用人单位有下列情形之一的，劳动者可以解除劳动合同：（一）…"). Clause units are
    searched by vector only (``retrieval.clauses``): the keyword index keeps the
    article units, so their BM25 statistics do not change.
    """
    out: list[Unit] = []
    for a in articles:
        lines = [ln.strip() for ln in a.text.split("\n") if ln.strip()]
        if len(lines) < 2:
            continue
        head, lead, k = article_header(a), "", 0
        for n, line in enumerate(lines, start=1):
            if ITEM.match(line):
                text = f"{head} {lead} {line}" if lead else f"{head} {line}"
                section = (
                    f"第{k}款{line[: line.index('）') + 1]}" if k else line[: line.index("）") + 1]
                )
            else:
                lead, k = line, k + 1
                text, section = f"{head} {line}", f"第{k}款"
            out.append(Unit(f"{a.id}~{n}", a.id, "clause", text, "", section))
    return out


def _pack(
    paragraphs: Sequence[str], head: str, count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[int, int, str]]:
    """Greedy groups of consecutive 款 that fit ``max_tokens`` (a too-long 款 is cut)."""
    groups: list[tuple[int, int, str]] = []
    cur: list[str] = []
    start = 1
    for i, p in enumerate(paragraphs, start=1):
        trial = "\n".join([*cur, p])
        if cur and count_tokens(f"{head} {trial}") > max_tokens:
            groups.append((start, i - 1, "\n".join(cur)))
            cur, start = [p], i
        else:
            cur.append(p)
    if cur:
        groups.append((start, len(paragraphs), "\n".join(cur)))
    return groups


def case_units(cases: Iterable[Case]) -> list[Unit]:
    """Units over each case's facts and dispute focus (its title if it has neither)."""
    out: list[Unit] = []
    for c in cases:
        found = False
        for names in CASE_SECTIONS:
            body = c.section(*names)
            if body:
                name = next(n for n in names if c.section(n))
                text = f"{c.title} {body}"[:1500]
                out.append(Unit(f"{c.id}#{name}", c.id, "case", text, text, name))
                found = True
        if not found:
            text = f"{c.title} {c.text}"[:1500]
            out.append(Unit(f"{c.id}#全文", c.id, "case", text, text, ""))
    return out
