"""The citation page's data: versions, what replaced an article, who cites it, link resolution."""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.records import Article
from retrieval.catalogue import Catalogue
from retrieval.citation_page import make_article_page, open_citation
from retrieval.matching import word_spans

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from small_kb import ARTICLES, CASES  # noqa: E402


def _art(law: str, number: int, text: str, **kw: object) -> Article:
    from ingest.names import article_label
    from ingest.records import article_id

    version = str(kw.pop("version", ""))
    current = bool(kw.pop("current", True))
    return Article(
        id=article_id(law, number, version="" if current else version),
        law=law,
        law_title=str(kw.pop("title", f"中华人民共和国{law}")),
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
        version=version,
        current=current,
        **kw,  # type: ignore[arg-type]
    )


CIVIL = _art(
    "民事诉讼法",
    205,
    "经依法设立的调解组织调解达成调解协议，申请司法确认的，由双方当事人……",
    version="2023-09-01",
    publish="2023-09-01",
)
CIVIL_OLD = _art(
    "民事诉讼法",
    201,
    "经依法设立的调解组织调解达成调解协议，申请司法确认的，由双方当事人……",
    version="2021-12-24",
    current=False,
    status="已修改",
)
CIVIL_201 = _art(
    "民事诉讼法",
    201,
    "选民资格案件由选区所在地的基层人民法院管辖。",
    version="2023-09-01",
    publish="2023-09-01",
)
INTERPRETATION = _art(
    "最高人民法院关于适用民事诉讼法的解释",
    351,
    "申请司法确认调解协议的，双方当事人应当本人或者由符合民事诉讼法第六十一条规定的代理人依照民事诉讼法第二百零一条的规定提出申请。",
    title="最高人民法院关于适用《中华人民共和国民事诉讼法》的解释",
    level="司法解释",
    publish="2022-04-01",
)


def test_a_repealed_laws_article_names_its_successor() -> None:
    from ingest.statutes import load_statutes

    cat = Catalogue(load_statutes([Path(__file__).parent / "data" / "ui" / "statutes"]).articles)
    old = cat.lookup_any("婚姻法", "32")
    assert old is not None and not old.current
    page = make_article_page(cat, old)
    assert page.repeal is not None and page.repeal.replaced_by == "民法典"
    assert [a.id for a in page.successors] == ["民法典:1079"]  # same provision by wording


def test_neighbours_stay_in_the_section_and_cases_are_kept() -> None:
    cat = Catalogue(ARTICLES)
    article = cat.article("民法典:1079")
    assert article is not None
    page = make_article_page(cat, article, [CASES[0]])
    assert page.neighbours and all(a.path == article.path for a in page.neighbours)
    assert "民法典:294" not in {a.id for a in page.neighbours}  # another 编 entirely
    assert page.cases == (CASES[0],)
    assert page.versions == (article,)


def test_interpretations_citing_an_article_and_older_numbering() -> None:
    """The 2022 interpretation cites 第二百零一条 of the 2021 text: flagged, not hidden."""
    cat = Catalogue([CIVIL, CIVIL_201, CIVIL_OLD, INTERPRETATION])
    page = make_article_page(cat, CIVIL_201)
    assert [c.article.id for c in page.citing] == [INTERPRETATION.id]
    assert page.citing[0].predates  # published before the 2023 text it is matched to
    assert cat.citing_articles(CIVIL.id) == []
    # the older version's 第二百零一条 is the current 第二百零五条
    old_page = make_article_page(cat, CIVIL_OLD)
    assert old_page.current is not None and old_page.current.id == CIVIL.id
    renumbered = make_article_page(cat, CIVIL_201).renumbered
    assert renumbered and renumbered[0][0].id == CIVIL_OLD.id and renumbered[0][1] == CIVIL


def test_a_link_resolves_within_its_own_law_only() -> None:
    cat = Catalogue(ARTICLES)
    none: list[object] = []
    found = open_citation(cat, lambda _id: none, "民法典", "第一千零七十九条")  # type: ignore[arg-type,return-value]
    assert found.page is not None and found.page.article.id == "民法典:1079"
    old = open_citation(cat, lambda _id: none, "婚姻法", "32")  # type: ignore[arg-type,return-value]
    assert old.page is not None and old.page.article.law == "婚姻法"
    gone = open_citation(cat, lambda _id: none, "继承法", "10")  # type: ignore[arg-type,return-value]
    assert gone.page is None and gone.repeal is not None
    assert "继承法" in gone.problem and "民法典" in gone.problem and "建议" in gone.problem
    unknown = open_citation(cat, lambda _id: none, "个人信息保护法", "32")  # type: ignore[arg-type,return-value]
    assert unknown.page is None and not unknown.law_held and "建议" in unknown.problem
    missing = open_citation(cat, lambda _id: none, "民法典", "99999")  # type: ignore[arg-type,return-value]
    assert missing.page is None and missing.law_held and "第九万九千九百九十九条" in missing.problem


def test_word_spans_need_a_word_boundary() -> None:
    text = "向人民法院提起诉讼，依照民法典"
    starts = frozenset({0, 1, 5, 7, 9, 10, 12, 15})  # 向|人民法院|提起|诉讼|，|依照|民法典
    assert word_spans(text, ["民法"], starts) == [(12, 14)]
    assert word_spans(text, ["诉讼", "提起"], starts) == [(5, 9)]
