"""The law catalogue: laws and their versions, article lookup, renumbering, neighbours, data date."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ingest.names import canonical_law, parse_label
from ingest.records import Article
from retrieval.config import SAME, STALE_AFTER_DAYS
from retrieval.hits import Notice
from retrieval.interpretations import InterpretationLinks, Related


def clock_today() -> datetime.date:
    """Today's date, the one clock every freshness check reads (tests replace it)."""
    return datetime.date.today()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class LawInfo:
    """One law (all its versions) as the UI lists it."""

    law: str
    law_title: str
    level: str
    status: str
    version: str  # the version shown (the current one when there is one)
    versions: tuple[str, ...]
    articles: int  # articles of the shown version
    current: bool


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (0..1)."""
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    return len(ga & gb) / len(ga | gb) if ga or gb else 1.0


def successor(old: Article, candidates: Sequence[Article]) -> Article | None:
    """The candidate whose text is the same provision as ``old``'s (most similar, and
    at least ``SAME``), or None."""
    best = max(candidates, key=lambda a: text_similarity(old.text, a.text), default=None)
    if best is None or text_similarity(old.text, best.text) < SAME:
        return None
    return best


def article_key(article: str) -> str:
    """``"1079"``, ``"133之一"`` or ``"第一千零七十九条"`` → the eval-format key."""
    if article.startswith("第"):
        parsed = parse_label(article)
        if parsed:
            return f"{parsed[0]}{parsed[1]}"
    return article


class Catalogue:
    """Every article of every law version, indexed for lookup and browsing.

    Versions: the current text of a law is keyed by version ``""``; older versions (and
    laws no longer in force) by their version date.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        self._articles = list(articles)
        self._by_id = {a.id: a for a in self._articles}
        self._by_law: dict[tuple[str, str], list[Article]] = {}
        for a in self._articles:
            self._by_law.setdefault((a.law, a.version if not a.current else ""), []).append(a)
        self._key: dict[tuple[str, str], Article] = {
            (a.law, a.key): a for a in self._articles if a.current
        }
        self.law_names: tuple[str, ...] = tuple(sorted({a.law for a in self._articles}))

    def __len__(self) -> int:
        return len(self._articles)

    def article(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def lookup_key(self, law: str, key: str) -> Article | None:
        """The current article ``key`` ("1079", "133之一") of ``law`` (any alias)."""
        return self._key.get((canonical_law(law), key))

    def lookup(self, law: str, article: str, version: str = "") -> Article | None:
        """Article ``article`` ("1079", "133之一", "第一千零七十九条") of ``law`` (any alias)."""
        key = article_key(article)
        name = canonical_law(law)
        if not version:
            return self._key.get((name, key))
        return next((a for a in self._by_law.get((name, version), []) if a.key == key), None)

    def lookup_any(self, law: str, article: str) -> Article | None:
        """The current article, else the newest older version's (a law no longer in force)."""
        found = self.lookup(law, article)
        if found is not None:
            return found
        name = canonical_law(law)
        versions = sorted((v for (n, v) in self._by_law if n == name and v), reverse=True)
        for version in versions:
            found = self.lookup(name, article, version)
            if found is not None:
                return found
        return None

    def renumbered(self, law: str, key: str) -> list[tuple[Article, Article | None]]:
        """Older versions whose article ``key`` said something else than the current one.

        Each pair is (the older version's article with this number, the current article
        its text now sits in, or None when no current article is close enough). Empty
        when the knowledge base holds no older version or the number kept its text.
        Texts are compared by character bigrams: a renumbered article keeps most of
        its wording, a different article shares little.
        """
        name = canonical_law(law)
        now = self._key.get((name, key))
        out: list[tuple[Article, Article | None]] = []
        for (law_name, version), arts in self._by_law.items():
            if law_name != name or not version:
                continue
            old = next((a for a in arts if a.key == key), None)
            if old is None or (now is not None and text_similarity(old.text, now.text) >= SAME):
                continue
            out.append((old, successor(old, self._by_law.get((name, ""), []))))
        return sorted(out, key=lambda p: p[0].version, reverse=True)

    def laws(self) -> list[LawInfo]:
        by: dict[str, list[Article]] = {}
        for a in self._articles:
            by.setdefault(a.law, []).append(a)
        out = []
        for law, arts in sorted(by.items()):
            versions = tuple(sorted({a.version for a in arts}, reverse=True))
            cur = [a for a in arts if a.current]
            shown = cur or [a for a in arts if a.version == versions[0]]
            a0 = shown[0]
            out.append(
                LawInfo(
                    law,
                    a0.law_title,
                    a0.level,
                    a0.status,
                    a0.version,
                    versions,
                    len(shown),
                    bool(cur),
                )
            )
        return out

    def law_articles(self, law: str, version: str = "") -> list[Article]:
        """Articles of ``law`` in document order (current version by default)."""
        return list(self._by_law.get((canonical_law(law), version), []))

    def _siblings(self, article_id: str) -> list[Article]:
        a = self._by_id[article_id]
        return self._by_law.get((a.law, "" if a.current else a.version), [])

    def neighbours(self, article_id: str, n: int = 2) -> list[Article]:
        """Up to ``n`` articles before and after, in document order (the article itself included)."""
        if article_id not in self._by_id:
            return []
        sib = self._siblings(article_id)
        ids = [a.id for a in sib]
        i = ids.index(article_id)
        return sib[max(0, i - n) : i + n + 1]

    def chapter(self, article_id: str) -> list[Article]:
        """All articles sharing the article's 编/章/节 path."""
        a = self._by_id.get(article_id)
        if a is None:
            return []
        return [b for b in self._siblings(article_id) if b.path == a.path]

    @cached_property
    def data_as_of(self) -> str:
        """The newest 公布日期 of any statute text in the knowledge base (YYYY-MM-DD, or "").

        Validity (现行有效, 已修改 …) is what the data said on that day: laws passed or
        revised later are not in the knowledge base until newer texts are imported.
        """
        dates = (a.publish for a in self._articles if _ISO_DATE.fullmatch(a.publish))
        return max(dates, default="")

    def data_age_days(self, today: datetime.date | None = None) -> int | None:
        """Days from ``data_as_of`` to ``today`` (None when no dated text is held)."""
        if not self.data_as_of:
            return None
        as_of = datetime.date.fromisoformat(self.data_as_of)
        return ((today or clock_today()) - as_of).days

    def stale_as_of(self, today: datetime.date | None = None) -> str:
        """``data_as_of`` when it is over STALE_AFTER_DAYS before ``today``, else ""."""
        age = self.data_age_days(today)
        return self.data_as_of if age is not None and age > STALE_AFTER_DAYS else ""

    def freshness_notice(self, today: datetime.date | None = None) -> Notice | None:
        """What the validity shown is based on; a warning once the data is over a year old.

        Written for a mediator: what to do is to ask whoever runs the tool to update; the
        command itself is on the administrator's page, not here.
        """
        age = self.data_age_days(today)
        if age is None:
            return None
        stale = age > STALE_AFTER_DAYS
        text = (
            f"条文和效力状态以知识库数据为准：收录的法规最新公布于 {self.data_as_of}"
            + (f"（距今 {age} 天）" if stale else "")
            + "，此后公布或修订的法律法规未收录。"
        )
        if not stale:
            return Notice("info", text)
        hint = "建议：请知识库管理员更新法规数据；使用前请核对最新法律文本。"
        return Notice("warning", text + hint)

    # ---- the citation page: versions, successors, who cites an article ----------

    def versions_of(self, article_id: str) -> list[Article]:
        """The article of this number in every version held, newest version first."""
        a = self._by_id.get(article_id)
        if a is None:
            return []
        same = [b for b in self._articles if b.law == a.law and b.key == a.key]
        return sorted(same, key=lambda b: (b.current, b.version), reverse=True)

    def current_for(self, article_id: str) -> Article | None:
        """For an older version's article: the current article holding the same provision.

        None for a current article, for a law with no current version, or when no
        current article's text is close enough (see ``successor``).
        """
        a = self._by_id.get(article_id)
        if a is None or a.current:
            return None
        same_number = self._key.get((a.law, a.key))
        if same_number is not None and text_similarity(a.text, same_number.text) >= SAME:
            return same_number
        return successor(a, self._by_law.get((a.law, ""), []))

    def successors_in(self, article_id: str, law: str) -> list[Article]:
        """Current articles of ``law`` whose text is the same provision as the article's.

        For a repealed law's article (婚姻法第三十二条 → 民法典第一千零七十九条): compared
        by character bigrams, so it is a suggestion, not an official correspondence table.
        """
        a = self._by_id.get(article_id)
        if a is None:
            return []
        found = successor(a, self._by_law.get((canonical_law(law), ""), []))
        return [found] if found is not None else []

    def citing_articles(self, article_id: str) -> list[Article]:
        """Current articles of other laws (司法解释, 行政法规 …) whose text cites this article.

        The index of citations inside article texts is built once, on first use
        (about 0.1 s for 5,500 articles): ``ingest.citations.extract_citations`` over
        every current article, each citation resolved to the current article of that
        number (or, for a law no longer in force, its newest text held).
        """
        index = self.__dict__.get("_citing")
        if index is None:
            index = self._citing_index()
            self.__dict__["_citing"] = index  # built twice at worst by two threads: same result
        return [self._by_id[i] for i in index.get(article_id, ())]

    def related_interpretations(self, article_id: str) -> list[Related]:
        """Interpretation articles about this article: citing its number, then by subject
        (``retrieval.interpretations``; the links are built once, on first use, ~1 s for
        5,500 articles)."""
        return self.interpretation_links().related(article_id)

    def term_share(self, term: str) -> float:
        """The share of current articles whose text uses ``term`` (cached per term)."""
        cache: dict[str, float] = self.__dict__.setdefault("_term_share", {})
        found = cache.get(term)
        if found is None:
            current = [a for a in self._articles if a.current] or self._articles
            found = sum(term in a.text for a in current) / max(1, len(current))
            if len(cache) > 50_000:
                cache.clear()
            cache[term] = found
        return found

    def interpretation_links(self) -> InterpretationLinks:
        links = self.__dict__.get("_interpretations")
        if links is None:
            self.citing_articles("")  # builds the by-number index
            links = InterpretationLinks(self._articles, self.__dict__["_citing"])
            self.__dict__["_interpretations"] = links
        return links  # type: ignore[no-any-return]

    def _citing_index(self) -> dict[str, tuple[str, ...]]:
        from ingest.citations import extract_citations

        index: dict[str, dict[str, None]] = {}
        for a in self._articles:
            if not a.current or "条" not in a.text:
                continue
            for c in extract_citations(a.text, context_law=a.law, known_laws=self.law_names):
                if not c.law or c.law == a.law:
                    continue
                target = self.lookup_any(c.law, c.article)
                if target is not None:
                    index.setdefault(target.id, {})[a.id] = None
        return {k: tuple(v) for k, v in index.items()}
