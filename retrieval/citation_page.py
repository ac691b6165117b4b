"""What a citation page shows: the article verbatim, its versions, what replaced it, its
neighbours, and the interpretations and cases that cite it.

A citation names an article, so only that article and what is linked to it are shown (no
keyword matching). ``CitationPages`` answers the browse page's links and the ask page's
citation-only questions alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.names import RepealedLaw, article_label, canonical_law, repealed
from ingest.records import Article, Case
from retrieval.catalogue import Catalogue, article_key


@dataclass(frozen=True)
class Citing:
    """An article of another law (a 司法解释, a regulation) whose text cites the article.

    ``predates`` is set when the citing text was published before the cited law's text
    in force: it may use the numbering of an earlier version (the 2022 民事诉讼法解释
    cites the 2021 民事诉讼法's numbers).
    """

    article: Article
    predates: bool = False


@dataclass(frozen=True)
class ArticlePage:
    """What the citation page shows for one article: the text and everything around it.

    Args:
        article: the article, verbatim.
        versions: the same number in every version of the law held, newest first.
        current: for an older version's article, the current article holding the same
            provision (None when the article is current, or nothing close enough).
        renumbered: for a current article, older versions whose article of this number
            said something else, with the current article their text moved to.
        repeal: the repeal record when the article's law is no longer in force.
        successors: current articles of the law that replaced a repealed one, closest
            in wording (a suggestion by text, not an official table).
        neighbours: nearby articles of the same 编/章/节, in order (the article included).
        citing: articles of other laws citing it.
        cases: cases in the knowledge base citing it.
        interpretations: interpretation articles about it that do not cite its number,
            linked by subject (``retrieval.interpretations``), best first.
        refines: for an interpretation article, the general article it refines by subject.
    """

    article: Article
    versions: tuple[Article, ...] = ()
    current: Article | None = None
    renumbered: tuple[tuple[Article, Article | None], ...] = ()
    repeal: RepealedLaw | None = None
    successors: tuple[Article, ...] = ()
    neighbours: tuple[Article, ...] = ()
    citing: tuple[Citing, ...] = ()
    cases: tuple[Case, ...] = ()
    interpretations: tuple[Article, ...] = ()
    refines: tuple[Article, ...] = ()


@dataclass(frozen=True)
class OpenedCitation:
    """A citation link (law + article number) resolved: the page, or why there is none.

    ``law_held`` tells a mistyped or missing law (problem names the law) from a missing
    article of a law that is held; ``repeal`` is set for a law no longer in force
    whether or not its text is held, and ``successor_held`` when the law that replaced
    it is in the knowledge base (the page offers to browse it).
    """

    law: str
    article: str  # the key, "32", "133之一"
    page: ArticlePage | None = None
    law_held: bool = False
    repeal: RepealedLaw | None = None
    problem: str = ""  # one line in Chinese (what and 建议) when page is None
    successor_held: bool = False


NEIGHBOURS = 2
"""Articles shown before and after on the citation page (same 编/章/节 only)."""


def make_article_page(
    catalogue: Catalogue, article: Article, cases: Sequence[Case] = ()
) -> ArticlePage:
    """The citation page of ``article`` from the catalogue and the cases citing it."""
    gone = repealed(article.law)
    successors: tuple[Article, ...] = ()
    if gone is not None:
        successors = tuple(catalogue.successors_in(article.id, gone.replaced_by))
    renumbered: tuple[tuple[Article, Article | None], ...] = ()
    if article.current:
        renumbered = tuple(catalogue.renumbered(article.law, article.key))
    own_date = max(article.publish, article.version)
    citing = tuple(
        Citing(a, bool(a.publish and own_date and a.publish < own_date))
        for a in catalogue.citing_articles(article.id)
    )
    return ArticlePage(
        article=article,
        versions=tuple(catalogue.versions_of(article.id)),
        current=catalogue.current_for(article.id),
        renumbered=renumbered,
        repeal=gone,
        successors=successors,
        neighbours=tuple(
            a for a in catalogue.neighbours(article.id, NEIGHBOURS) if a.path == article.path
        ),
        citing=citing,
        cases=tuple(cases),
        interpretations=tuple(
            r.article for r in catalogue.related_interpretations(article.id) if r.via == "subject"
        ),
        refines=tuple(
            found
            for aid in catalogue.interpretation_links().refines(article.id)
            if (found := catalogue.article(aid)) is not None
        ),
    )


def open_citation(
    catalogue: Catalogue,
    cases_citing: Callable[[str], Sequence[Case]],
    law: str,
    article: str,
    version: str = "",
) -> OpenedCitation:
    """Resolve a citation link: the current article, else the given or newest version held."""
    name = canonical_law(law.strip())
    key = article_key(article.strip())
    gone = repealed(name)
    held = name in catalogue.law_names
    found = catalogue.lookup(name, key, version) if version else catalogue.lookup_any(name, key)
    successor = gone is not None and gone.replaced_by in catalogue.law_names
    if found is not None:
        page = make_article_page(catalogue, found, cases_citing(found.id))
        return OpenedCitation(name, key, page, True, gone, successor_held=successor)
    label = _label_of(key)
    if not name:
        problem = "链接中没有法律名称。建议：从“法规浏览”中选择法律。"
    elif not held and gone is not None:
        problem = (
            f"知识库中没有《{name}》的文本。《{name}》已于 {gone.ceased} 废止（{gone.basis}），"
            f"现行规定见《{gone.replaced_by}》。建议：在《{gone.replaced_by}》中查找相应条文。"
        )
    elif not held:
        problem = f"知识库中没有“{name}”。建议：检查法律名称，或从“法规浏览”的列表中选择。"
    else:
        problem = f"《{name}》中没有{label}。建议：检查条号，或在“法规浏览”中按章节查找。"
    return OpenedCitation(name, key, None, held, gone, problem, successor)


def _label_of(key: str) -> str:
    digits = "".join(ch for ch in key if ch.isdigit())
    return article_label(int(digits), key[len(digits) :]) if digits else f"第{key}条"


class CitationPages:
    """The citation pages of one knowledge base: an article's page, a link resolved."""

    def __init__(self, catalogue: Catalogue, cases_citing: Callable[[str], Sequence[Case]]):
        self.catalogue = catalogue
        self.cases_citing = cases_citing

    def page(self, article_id: str) -> ArticlePage | None:
        """The citation page of an article: versions, successors, neighbours, who cites it."""
        found = self.catalogue.article(article_id)
        if found is None:
            return None
        return make_article_page(self.catalogue, found, self.cases_citing(article_id))

    def open(self, law: str, article: str, version: str = "") -> OpenedCitation:
        """A citation link (?law=婚姻法&article=32) resolved, never to another law's article."""
        return open_citation(self.catalogue, self.cases_citing, law, article, version)
