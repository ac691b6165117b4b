"""Interpretations linked to the articles they refine by subject, on the citation page and in ranking."""

from __future__ import annotations

import pytest

from ingest.records import Article
from retrieval.catalogue import Catalogue
from retrieval.citation_page import make_article_page
from retrieval.interpretations import InterpretationLinks, interpreted, lift

MARRIAGE = "最高人民法院关于适用民法典婚姻家庭编的解释（一）"
INHERITANCE = "最高人民法院关于适用民法典继承编的解释（一）"


@pytest.fixture(scope="module")
def articles(answer_articles: list[Article]) -> list[Article]:
    """民法典 婚姻家庭编 and 继承编, 相邻关系, 饲养动物损害责任 and both interpretations (conftest)."""
    return answer_articles


@pytest.fixture(scope="module")
def catalogue(articles: list[Article]) -> Catalogue:
    return Catalogue(articles)


def test_gambling_debts_rule_is_linked_to_the_joint_debt_article(catalogue: Catalogue) -> None:
    """解释（一）第三十四条 cites no number, yet it refines 民法典第一千零六十四条 (issue 21)."""
    related = catalogue.related_interpretations("民法典:1064")
    subject = [r.article.id for r in related if r.via == "subject"]
    assert f"{MARRIAGE}:34" in subject
    assert catalogue.interpretation_links().refines(f"{MARRIAGE}:34") == ["民法典:1064"]
    # a clear winner only: 第三十四条 is not also linked to 1089 or 1066
    assert all(
        f"{MARRIAGE}:34" not in [r.article.id for r in catalogue.related_interpretations(a)]
        for a in ("民法典:1089", "民法典:1066")
    )


def test_links_stay_inside_the_part_interpreted(catalogue: Catalogue) -> None:
    assert interpreted(MARRIAGE) == ("民法典", "婚姻家庭")
    assert interpreted("最高人民法院关于适用民事诉讼法的解释") == ("民事诉讼法", "")
    links = catalogue.interpretation_links()
    for iid in (f"{INHERITANCE}:23", f"{INHERITANCE}:25", f"{MARRIAGE}:34"):
        for aid in links.refines(iid):
            article = catalogue.article(aid)
            assert article is not None and article.path[0].endswith(
                interpreted(iid.split(":")[0])[1]
            )  # type: ignore[index]
    assert links.refines(f"{INHERITANCE}:25") == ["民法典:1141"]  # 必留份


def test_a_higher_threshold_links_less(articles: list[Article]) -> None:
    strict = InterpretationLinks(articles, threshold=0.9)
    assert not strict.refines(f"{MARRIAGE}:34")


def test_citation_page_shows_interpretations_linked_by_subject(catalogue: Catalogue) -> None:
    page = make_article_page(catalogue, catalogue.article("民法典:1064"))  # type: ignore[arg-type]
    assert f"{MARRIAGE}:34" in [a.id for a in page.interpretations]
    back = make_article_page(catalogue, catalogue.article(f"{MARRIAGE}:34"))  # type: ignore[arg-type]
    assert [a.id for a in back.refines] == ["民法典:1064"]


def test_lift_is_off_by_default_and_raises_the_interpretation_when_on(catalogue: Catalogue) -> None:
    from retrieval.config import DEFAULT_CONFIG

    assert DEFAULT_CONFIG.interpretation_lift == 0.0
    fused = {"民法典:1064": 1.0, "民法典:1089": 0.9, f"{MARRIAGE}:35": 0.2}
    links = catalogue.interpretation_links()
    assert lift(fused, links, 0.0) == fused
    lifted = lift(fused, links, 0.5)
    assert lifted[f"{MARRIAGE}:34"] > 0.0 and lifted["民法典:1064"] == 1.0
    refused = lift(fused, links, 0.5, allows=lambda a: a.level != "司法解释")
    assert f"{MARRIAGE}:34" not in refused
