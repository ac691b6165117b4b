"""Similar cases (issue 21): resolutions first, cases found by their dispute, machine answers last."""

from __future__ import annotations

from dataclasses import replace

from ingest.records import AI_ANSWER, CONSULTATION, MEDIATION, TYPICAL, Article, Case, Citation
from retrieval.config import DEFAULT_CONFIG
from retrieval.hits import Filters, Hit, Why
from retrieval.similar import choose

OLD = replace(DEFAULT_CONFIG, similar_verified_first=False, similar_by_dispute=False)


def _case(cid: str, kind: str, dispute: str, cites: tuple[str, ...] = ()) -> Case:
    cited = tuple(Citation(f"民法典第{a}条", "民法典", a, resolved_id=f"民法典:{a}") for a in cites)
    return Case(cid, kind, f"{cid} 案", dispute, (("基本案情", "……"),), cited)


def _article(number: int) -> Hit[Article]:
    art = Article(f"民法典:{number}", "民法典", "中华人民共和国民法典", number, "", "", "……")
    return Hit(art, 1.0, 1, Why())


def test_a_relevant_resolution_comes_before_machine_answers() -> None:
    """Issue 21: the top three were AI answers and a court case sat behind 显示其余."""
    pool = [
        Hit(_case("ai-1", AI_ANSWER, "婚姻家庭"), 0.95, 1, Why()),
        Hit(_case("ai-2", AI_ANSWER, "婚姻家庭"), 0.93, 2, Why()),
        Hit(_case("ask-1", CONSULTATION, "婚姻家庭"), 0.92, 3, Why()),
        Hit(_case("court-1", TYPICAL, "婚姻家庭"), 0.80, 4, Why()),
    ]
    cos = {h.record.id: 0.9 for h in pool}
    args = (pool, cos, "婚姻家庭", [_article(1064)], 3, DEFAULT_CONFIG, Filters())
    assert [h.record.id for h in choose(*args)] == ["court-1", "ask-1", "ai-1"]
    old = choose(pool, cos, "婚姻家庭", [_article(1064)], 3, OLD, Filters())
    assert [h.record.id for h in old] == ["ai-1", "ai-2", "ask-1"]
    # never above the floor: an irrelevant resolution is not lifted in
    cos["court-1"] = 0.5
    assert "court-1" not in [h.record.id for h in choose(*args)]


def test_a_recorded_case_is_found_by_its_dispute_when_wording_differs() -> None:
    """Issue 21: the committee's 楼上漏水 case was missed when the question said 物业."""
    leak = _case("committee-leak", MEDIATION, "邻里关系", ("296",))
    unrelated = _case("committee-noise", MEDIATION, "邻里关系", ("294",))
    pool = [Hit(unrelated, 0.9, 1, Why())]
    cos = {"committee-noise": 0.9}
    top = [_article(942), _article(296)]

    def citing(aid: str) -> list[Case]:
        return [leak] if aid == "民法典:296" else []

    shown = choose(
        pool,
        cos,
        "物业服务",
        top,
        5,
        DEFAULT_CONFIG,
        Filters(),
        citing=citing,
        cosine_of=lambda ids: dict.fromkeys(ids, 0.83),
    )
    assert [h.record.id for h in shown] == ["committee-leak"]
    assert shown[0].why.sources == ("dispute",)
    before = choose(pool, cos, "物业服务", top, 5, OLD, Filters(), citing=citing)
    assert before == []
    # too far from the question even so: not shown
    far = choose(
        pool,
        cos,
        "物业服务",
        top,
        5,
        DEFAULT_CONFIG,
        Filters(),
        citing=citing,
        cosine_of=lambda ids: dict.fromkeys(ids, 0.5),
    )
    assert far == []
