"""Check each citation inside a case against the knowledge base: resolves, repealed, unknown, misquoted."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from ingest.chinese import HAN, is_han
from ingest.names import int_to_cn, normalise_law, repealed
from ingest.records import Article, Citation, Verdict

# A quote matching less than this (weighted) share of its character bigrams in
# the article is flagged ``misquoted``. Chosen on the real cases against the
# curated and the national knowledge base (bench/bench_verdicts.py prints the
# distribution and the precision on tests/data/cases/misquote_labels.tsv):
# another article's or invented text scored 0.00-0.35, faithful quotes 0.60 and
# up (a paraphrase of 民法典 1085 0.65, 5日 for 五日 0.60 before digits were
# normalised), with one quote plus the author's comment at 0.46.
MISQUOTE_THRESHOLD = 0.4
# Quotes shorter than this (after dropping punctuation) say too little to judge:
# 规定的“明知” is a term, not the article's text.
MIN_QUOTE = 8
# Characters a quote may run past the article's length and still be compared in full.
_SLACK = 10
# The longest span taken as one quote; a missing closing mark must not swallow the answer.
MAX_QUOTE = 600

# Words between a citation and the text it attributes to the article:
# 第三十二条规定：“…” / 第十五条明确规定:“…” / 第一百八十八条：… / 第X条的规定，“…”.
_INTRO = re.compile(
    r"[ \t\u3000]*(?:的|之|中|里)?(?:相关|有关)?(?:明确|具体|明文|也|亦|则|中|里|已|就)?"
    r"(?:规定|指出|写明|载明|表述为|称|明确)(?:的|了)?[ \t\u3000]*(?P<sep>[：:，,]?)[ \t\u3000]*"
)
_COLON = re.compile(r"[ \t\u3000]*[：:]?[ \t\u3000]*")
_CLOSE = {"“": "”", '"': '"', "「": "」", "『": "』", "‘": "’"}
_JOINED = re.compile(r"\s*(?:、|，|,|和|及|以及|或者|或|与|至|到|—|-|～|~)\s*")
_SENTENCE_END = re.compile(r"[。\n]")
_LABEL = re.compile(
    r"^\s*第[零〇一二两三四五六七八九十百千万\d]+条(?:之[一二三四五六七八九十]+)?\s*"
)
_KEEP = re.compile(f"[{HAN}0-9A-Za-z]")
_DIGITS = re.compile(r"\d{1,12}")


def quote_after(text: str, end: int, limit: int, *, listing: bool) -> str:
    """The text ``text`` attributes to the citation ending at ``end``, or "".

    Taken are a span in quotation marks after the citation (and 规定/指出 …),
    text after 规定：/：up to the end of the sentence, and, in a list of
    statutes (``listing``: 法律依据, 相关法条), the text right after the label up
    to ``limit`` (the next citation) or the end of the line.

    A sentence after 规定， without quotation marks restates the article in the
    author's words and is not taken: of 40 such restatements in lawyer-llama's
    answers that scored below the threshold, 10 were wrong and 30 faithful
    paraphrases or applications (tests/data/cases/misquote_labels.tsv), so the
    flag would mislead more than help.
    """
    rest = text[end:limit]
    # Markup left in a source (<span>…</span>) is never statute text.
    if (tag := rest.find("<")) >= 0:
        rest = rest[:tag]
    m = _INTRO.match(rest)
    introduced = bool(m and m.end() > 0 and m.group(0).strip(" \t\u3000：:，,"))
    if introduced and m is not None:
        pos, sep = m.end(), m.group("sep")
    else:
        c = _COLON.match(rest)
        pos = c.end() if c else 0
        sep = "：" if c and c.group(0).strip() else ""
    head = rest[pos : pos + 1]
    if head in _CLOSE:
        close = rest.find(_CLOSE[head], pos + 1)
        if close == -1 or close - pos > MAX_QUOTE:
            return ""
        return rest[pos + 1 : close].strip()
    if listing:
        line_end = rest.find("\n", pos)
        return rest[pos : line_end if line_end >= 0 else len(rest)][:MAX_QUOTE].strip()
    if sep in ("：", ":"):
        end_m = _SENTENCE_END.search(rest, pos)
        return rest[pos : end_m.end() if end_m else len(rest)][:MAX_QUOTE].strip()
    return ""


def with_quotes(
    text: str,
    cites: Sequence[Citation],
    *,
    section: str,
    listing: bool,
) -> list[Citation]:
    """``cites`` (found in ``text``, in order) with ``section`` and the quote each is given.

    Citations joined in one phrase (第三十二条和第三十三条规定：…, 第X条至第Y条)
    get no quote: the text belongs to the group, not to one article.
    """
    joined = [False] * len(cites)
    for i in range(1, len(cites)):
        prev, cur = cites[i - 1], cites[i]
        gap = text[prev.end : cur.start]
        if cur.start < prev.end or prev.end == cur.end or _JOINED.fullmatch(gap):
            joined[i - 1] = joined[i] = True
    out = []
    for i, c in enumerate(cites):
        entry = listing and _starts_entry(text, c.start)
        # In a list, a cross-reference (依照本法第四十九条) inside the text does not end it.
        limit = next(
            (
                x.start
                for x in cites[i + 1 :]
                if x.start >= c.end and (not entry or _starts_entry(text, x.start))
            ),
            len(text),
        )
        quote = "" if joined[i] else quote_after(text, c.end, limit, listing=entry)
        quotes = (quote,) if len(normalise(quote)) >= MIN_QUOTE else ()
        out.append(dataclasses.replace(c, section=section, quotes=quotes))
    return out


def _starts_entry(text: str, start: int) -> bool:
    """In a list of statutes, whether the citation at ``start`` begins an entry.

    ``依照本法第四十条、第四十一条的规定`` inside an article's text is a
    cross-reference: what follows it is the rest of that article.
    """
    before = text[:start].rstrip(" \t\u3000")
    return not before or not (is_han(before[-1]) or before[-1] in '、，,（(“"')


def merge_duplicates(cites: Iterable[Citation]) -> list[Citation]:
    """First occurrence of each (law, article, detail), carrying every occurrence's quotes."""
    first: dict[tuple[str | None, str, str], int] = {}
    out: list[Citation] = []
    for c in cites:
        key = (c.law, c.article, c.detail)
        if key not in first:
            first[key] = len(out)
            out.append(c)
            continue
        i = first[key]
        extra = tuple(q for q in c.quotes if q not in out[i].quotes)
        if extra:
            out[i] = dataclasses.replace(out[i], quotes=out[i].quotes + extra)
    return out


def normalise(text: str) -> str:
    """Text reduced to what a quote must share with the article: no label, punctuation or spaces.

    Arabic numbers become Chinese numerals (处5日以上 → 处五日以上), as statutes write them.
    """
    text = _DIGITS.sub(lambda m: int_to_cn(int(m.group(0))), _LABEL.sub("", text))
    return "".join(ch for ch in text if _KEEP.match(ch))


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


@dataclass(frozen=True)
class Vocabulary:
    """How many articles of one law use each character bigram: weights for ``similarity``."""

    articles: int
    df: Mapping[str, int]

    @classmethod
    def of(cls, articles: Iterable[Article]) -> Vocabulary:
        df: Counter[str] = Counter()
        n = 0
        for a in articles:
            n += 1
            df.update(set(_bigrams(normalise(a.text))))
        return cls(n, df)

    def weight(self, bigram: str) -> float:
        # Smoothed idf, floored so a bigram every article shares still counts a little.
        return math.log((self.articles + 1) / (self.df.get(bigram, 0) + 1)) + 0.1


def similarity(quote: str, article_text: str, vocabulary: Vocabulary | None = None) -> float:
    """Weighted share of the quote's character bigrams found in the article (1.0 = verbatim).

    Containment rather than a symmetric score: a quote is usually one 款 of a
    longer article, and an excerpt must score as high as the whole text. Only
    as much of the quote as the article is long is compared: a list of
    statutes often runs on from the article into the author's comment.

    With ``vocabulary`` (the cited law's), each bigram weighs its idf among the
    law's articles: 刑法 articles share 处三年以下有期徒刑 whatever their
    offence, so without weights a 猥亵 text matched the 抢劫 article at 0.5;
    weighted, the words naming the offence decide (0.31).
    """
    article = normalise(article_text)
    q = _bigrams(normalise(quote)[: len(article) + _SLACK])
    if not q:
        return 1.0
    a = set(_bigrams(article))
    if vocabulary is None:
        return sum(b in a for b in q) / len(q)
    weights = [vocabulary.weight(b) for b in q]
    return sum(w for b, w in zip(q, weights, strict=True) if b in a) / sum(weights)


class Articles(Protocol):
    """What ``judge`` looks up: ``ingest.cases.link.ArticleIndex`` (named here by its
    methods, so this module does not import the linker that imports it)."""

    laws: set[str]

    def resolve(self, law: str, key: str) -> tuple[Article | None, str]: ...

    def law_name(self, law: str) -> str | None: ...

    def versions_of(self, article: Article) -> list[Article]: ...

    def vocabulary(self, law: str) -> Vocabulary: ...


def judge(c: Citation, index: Articles, *, case_date: str = "") -> Citation:
    """``c`` with its verdict, resolved article, status, successor and quote similarity.

    A quote is compared with every version of the article the knowledge base
    holds; the version it matches best is the one resolved to, so a case
    quoting the 2009 text of an article resolves to that version (status 已修改).
    The quote matching worst is put first in ``quotes``. A quote matching no
    held version is ``misquoted``, unless the case (``case_date``) predates that
    version: a 2012 judgment quotes the 2009 食品安全法, whose 第九十六条 the
    2015 revision renumbered, and a court quoting the law of its day is not wrong.
    """
    gone = repealed(c.law) if c.law else None
    base = dataclasses.replace(
        c,
        repealed=gone is not None,
        successor=gone.replaced_by if gone else "",
        resolved_id="",
        status="",
        similarity=None,
    )
    if not c.law:
        return dataclasses.replace(base, verdict="unknown_law")
    art, _ = index.resolve(c.law, c.article)
    verdict: Verdict
    if art is None:
        if gone is not None:
            verdict = "repealed"
        elif index.law_name(c.law) is None:
            verdict = "not_held" if real_law(c.law, index.laws) else "unknown_law"
        else:
            verdict = "unknown_article"
        return dataclasses.replace(base, verdict=verdict)
    quotes, worst = c.quotes, None
    if c.quotes:
        art, quotes, worst = _best_version(
            c.quotes, art, index.versions_of(art), index.vocabulary(art.law)
        )
    if worst is not None and worst < MISQUOTE_THRESHOLD:
        verdict = "older_version" if _predates(case_date, art) else "misquoted"
    else:
        verdict = "repealed" if gone is not None else "ok"
    return dataclasses.replace(
        base,
        verdict=verdict,
        resolved_id=art.id,
        status=art.status,
        similarity=None if worst is None else round(worst, 3),
        quotes=quotes,
    )


_TITLE_FORM = re.compile(
    r"(?:规定|办法|细则|意见|决定|规则|条例|解释|批复|通知|规程|准则)(?:（[^）]*）)?$"
)
MIN_TITLE_FORM = 6
"""A name of this many characters ending in 规定/办法/条例… reads as a real title (最低工资规定);
shorter ones (宅基地条例, 户籍法) must be in the list of titles."""
SAME_AS_HELD = 0.5
"""Bigram Jaccard similarity to a held law's name above which a name is a misquote of it."""


@lru_cache(maxsize=1)
def law_titles() -> frozenset[str]:
    """Short titles of real laws (``law_titles.txt``, from the national LawRefBook list)."""
    path = Path(__file__).with_name("law_titles.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def real_law(law: str, held: Iterable[str]) -> bool:
    """Whether a law the knowledge base does not hold is a real one (知识库未收录此法规) rather
    than a misquote (可能有误): a known title or a title's form (最低工资规定,
    国务院令第174号), and not a variant of a law that is held (劳动合同法实施细则 when
    劳动合同法实施条例 is held, 婚姻家庭法 beside 民法典 … is still 可能有误)."""
    name = normalise_law(law)
    if not re.fullmatch(f"[{HAN}0-9（）、〈〉《》<>·]+", name):
        return False  # markup or stray characters: not a title
    if "某" in name:
        return False  # 杭州市某某条例: a name left vague (or masked) cannot be checked
    if name in law_titles():
        return True
    if any(
        name != h and (_name_similarity(name, h) >= SAME_AS_HELD or h in name or name in h)
        for h in held
    ):
        return False
    if re.fullmatch(rf"(?:国务院|[{HAN}]{{1,12}}部)令第[〇一二三四五六七八九十百千零\d]+号", name):
        return True
    return len(name) >= MIN_TITLE_FORM and _TITLE_FORM.search(name) is not None


_NAME_BOILERPLATE = re.compile(r"最高人民法院|关于|审理|适用|法律|若干问题|的|案件|纠纷|解释|规定")


def _name_similarity(a: str, b: str) -> float:
    """Bigram Jaccard of two law names without the words every interpretation's name has."""
    a, b = _NAME_BOILERPLATE.sub("", a), _NAME_BOILERPLATE.sub("", b)
    ga, gb = set(_bigrams(a)), set(_bigrams(b))
    return len(ga & gb) / len(ga | gb) if ga or gb else 1.0


def _predates(case_date: str, article: Article) -> bool:
    """Whether a case of ``case_date`` (YYYY, YYYY-MM or YYYY-MM-DD) is older than the
    text of ``article`` (its 施行 date, else its version or 公布 date)."""
    since = article.valid_from or article.version or article.publish
    n = min(len(case_date), len(since))
    return n >= 4 and case_date[:n] < since[:n]


def _best_version(
    quotes: tuple[str, ...],
    resolved: Article,
    versions: Sequence[Article],
    vocabulary: Vocabulary,
) -> tuple[Article, tuple[str, ...], float]:
    """(version whose worst quote scores highest, quotes worst first, that worst score)."""
    best: tuple[float, int, Article, list[tuple[float, str]]] | None = None
    for rank, version in enumerate([resolved, *(v for v in versions if v.id != resolved.id)]):
        scored = sorted((similarity(q, version.text, vocabulary), q) for q in quotes)
        # Ties go to the version resolved by number (the current one): -rank.
        key = (scored[0][0], -rank)
        if best is None or key > (best[0], best[1]):
            best = (scored[0][0], -rank, version, scored)
    assert best is not None
    worst, _, version, scored = best
    return version, tuple(q for _, q in scored), worst
