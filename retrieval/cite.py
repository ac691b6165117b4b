"""Citations in a question: resolve them to articles, or say that the cited law is repealed."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from ingest.chinese import has_han
from ingest.names import MAX_ARTICLE, article_label, canonical_law, repealed
from ingest.records import Article, Citation
from retrieval.hits import Notice

# A bare 第X条 in a question most often means the 民法典 (mediators' everyday code).
DEFAULT_LAW = "民法典"


# 第10790条: Arabic digits past any law's length are not labels to the citation reader,
# but a user who typed one should hear that there is no such article.
_TOO_LONG = re.compile(r"第\s*(\d{5,40})\s*[条條]")


def find_citations(question: str, known_laws: Collection[str]) -> list[Citation]:
    """Citations in ``question``; a bare label is taken as the 民法典. A 条号 of five digits
    or more (no law has that many articles) is a citation too, which ``resolve`` then
    reports as not found."""
    from ingest.citations import extract_citations

    out = []
    for c in extract_citations(question, known_laws=known_laws):
        law = c.law or _law_before(question[: c.start], known_laws) or DEFAULT_LAW
        out.append(replace(c, law=law))
    for m in _TOO_LONG.finditer(question):
        if int(m.group(1)) > MAX_ARTICLE and not any(c.start <= m.start() < c.end for c in out):
            law = _law_before(question[: m.start()], known_laws) or DEFAULT_LAW
            out.append(Citation(m.group(0), law, m.group(1), start=m.start(), end=m.end()))
    return sorted(out, key=lambda c: c.start)


def _law_before(prefix: str, known_laws: Collection[str]) -> str | None:
    """The longest known law name (or alias) that ends right before a bare label."""
    prefix = prefix.rstrip("》〉 ").lstrip()
    for i in range(max(0, len(prefix) - 40), len(prefix)):
        name = canonical_law(prefix[i:])
        if name in known_laws:
            return name
    return None


def resolve(
    cited: list[Citation],
    lookup: Callable[[str, str], Article | None],
    suggest: Callable[[str], list[str]],
    renumbered: Callable[[str, str], list[tuple[Article, Article | None]]] | None = None,
) -> tuple[list[Article], list[Notice], list[Citation]]:
    """Articles the question cites (in order), notices, and the citations with ``resolved_id``.

    Args:
        cited: citations found in the question.
        lookup: (law, article key) → current Article or None.
        suggest: law → ranked ids of current articles of that law for this question
            (the retriever's suggestion for a repealed law's successor).
        renumbered: (law, article key) → (older version's article of that number, the
            current article its text moved to) for versions where the number held other
            text; a citation taken from an older document may mean the older article.
    """
    found: list[Article] = []
    notices: list[Notice] = []
    resolved: list[Citation] = []
    said: set[str] = set()  # "婚姻法第32条" 125 times in a question: one notice, not 125

    def notify(notice: Notice) -> None:
        if notice.text not in said:
            said.add(notice.text)
            notices.append(notice)

    for c in cited:
        law = c.law or DEFAULT_LAW
        gone = repealed(law)
        if gone is not None:
            label = _label(c.article)
            text = (
                f"《{gone.law}》已于 {gone.ceased} 废止（{gone.basis}），其{label}不再适用。"
                f"下面列出的《{gone.replaced_by}》条文是按问题内容检索得到的建议，并非官方新旧条文对照表。"
            )
            ids = tuple(suggest(gone.replaced_by)[:3])
            notify(Notice("warning", text, replace(c, repealed=True), ids))
            resolved.append(replace(c, repealed=True))
            continue
        art = lookup(law, c.article)
        if art is None:
            notify(
                Notice(
                    "info",
                    f"知识库中没有找到《{law}》{_label(c.article)}，以下为按问题内容检索的结果。",
                    c,
                )
            )
            resolved.append(c)
            continue
        if art.id not in {a.id for a in found}:
            found.append(art)
        resolved.append(replace(c, resolved_id=art.id))
        for old, now in (renumbered or (lambda _law, _key: []))(law, c.article)[:1]:
            notify(_renumbered_notice(art, old, now, c))
    return found, notices, resolved


def _renumbered_notice(art: Article, old: Article, now: Article | None, c: Citation) -> Notice:
    """Say that an older version's article of this number is another provision."""
    head = (
        f"《{art.law_title}》{art.label}是现行版本的条文；该法修订前（{old.version} 版本）的"
        f"{old.label}内容不同"
    )
    if now is None:
        tail = "，现行版本中没有与之相近的条文。如您引用的是旧版本，请核对原文。"
        return Notice("info", head + tail, c)
    tail = f"，现为{now.label}。如您引用的是旧版本，请看{now.label}。"
    return Notice("info", head + tail, c, (now.id,))


def _label(key: str) -> str:
    digits = "".join(ch for ch in key if ch.isdigit())
    suffix = key[len(digits) :]
    return article_label(int(digits), suffix) if digits else key


def without_citations(question: str, cited: Sequence[Citation]) -> str:
    """The question with the citations it contains (民法典第1079条 …) blanked out."""
    chars = list(question)
    for c in cited:
        if 0 <= c.start < c.end <= len(chars) and question[c.start : c.end] == c.raw:
            chars[c.start : c.end] = [" "] * (c.end - c.start)
        else:
            return " ".join(question.replace(c.raw, " ") for c in cited)
    return "".join(chars)


def question_terms_left(question: str, cited: Sequence[Citation]) -> bool:
    """Whether the question says anything besides its citations (民法典第1079条 alone: no)."""
    rest = without_citations(question, cited)
    return has_han(rest.replace("条", "").replace("第", ""))


def citation_only(question: str, cited: Sequence[Citation]) -> bool:
    """Whether the question is citations and nothing else: 民法典第1079条 (its page alone),
    not 民法典第1079条怎么办 (full results). The one decision the CLI, ``--json`` and the
    pages share (``Answered.citation_only``); similar cases and 办理提示 follow it too."""
    return bool(cited) and not question_terms_left(question, cited)
