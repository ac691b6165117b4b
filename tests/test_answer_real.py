"""Issue 21's three questions on the real curated knowledge base: correct answer points or none.

Slow: loads the real e5 model and the knowledge base built from ../shared/corpus (set
FENGQIAO_KB_CURATED, default /work/kb-curated); skipped where it is not built.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KB = Path(os.environ.get("FENGQIAO_KB_CURATED") or "/work/kb-curated")
MARRIAGE = "最高人民法院关于适用民法典婚姻家庭编的解释（一）"


@pytest.fixture(scope="module")
def service():  # type: ignore[no-untyped-def]
    if not (KB / "index" / "manifest.json").exists():
        pytest.skip(f"需要已建好的知识库：{KB}（设置 FENGQIAO_KB_CURATED）")
    from retrieval.service import Service

    return Service.load(KB)


def test_gambling_debt_points_to_the_interpretation(service) -> None:  # type: ignore[no-untyped-def]
    quotes = service.ask("丈夫欠了赌债，离婚时要我一起还吗？").answer.quotes
    assert quotes, "the governing interpretation clears the bar"
    assert quotes[0].article_id == f"{MARRIAGE}:34" and "赌博" in quotes[0].text
    assert all(q.text != "离婚时，夫妻共同债务应当共同偿还。" for q in quotes)


def test_dog_bite_has_no_neighbour_relations_point(service) -> None:  # type: ignore[no-untyped-def]
    answered = service.ask("邻居家的狗把我孩子咬伤了，医药费谁出？")
    for q in answered.answer.quotes:
        number = int(q.article_id.split(":")[1]) if q.article_id.startswith("民法典:") else 0
        assert not 288 <= number <= 296, q.text  # 相邻关系
    assert answered.result.articles  # the articles are still listed


def test_no_will_never_quotes_a_will_clause(service) -> None:  # type: ignore[no-untyped-def]
    quotes = service.ask("父亲去世没留遗嘱，房子兄妹怎么分？").answer.quotes
    assert quotes
    assert all("有遗嘱的" not in q.text for q in quotes)
    assert quotes[0].text == "继承开始后，按照法定继承办理；"


def test_interpretation_linked_by_subject_on_the_citation_page(service) -> None:  # type: ignore[no-untyped-def]
    page = service.article_page("民法典:1064")
    assert f"{MARRIAGE}:34" in [a.id for a in page.interpretations]
