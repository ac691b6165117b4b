"""Labelled questions (the shared query format) as precedent evidence: read, used, never shown."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fixture_cases

from ingest.cases import link_cases, load_cases
from ingest.records import LABELLED, IngestReport
from ingest.statutes import load_statutes
from retrieval.evaluate import Query, leave_out, source_family
from retrieval.service import Service

DATA = Path(__file__).parent / "data"
QUESTION = "我老公要离婚，我不同意，他能离成吗？"


def _write(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _questions(tmp_path: Path, source: str = "equals") -> Path:
    return _write(
        tmp_path / f"{source}.jsonl",
        [
            {
                "id": f"{source}-0000",
                "query": QUESTION,
                "gold": [{"law": "民法典", "article": "1079"}],
                "source": "test labels",
            },
            {
                "id": f"{source}-0001",
                "query": "醉驾会坐牢吗？",
                "gold": [{"law": "刑法", "article": "133之一"}],
            },
        ],
    )


def test_question_file_read_as_labelled_cases_with_their_articles(tmp_path):
    report = IngestReport()
    cases = load_cases([_questions(tmp_path)], report=report)
    assert [c.id for c in cases] == ["equals-0000", "equals-0001"]
    assert {c.kind for c in cases} == {LABELLED}
    assert cases[0].section("问题") == QUESTION
    assert [(c.law, c.article) for c in cases[1].cited] == [("刑法", "133之一")]
    assert report.files[0].imported == 2 and not report.problems


def test_bad_question_lines_are_reported_by_line_and_the_rest_kept(tmp_path):
    path = _write(
        tmp_path / "q.jsonl",
        [
            {
                "id": "equals-0000",
                "query": QUESTION,
                "gold": [{"law": "民法典", "article": "1079"}],
            },
            "{not json",
            {"id": "equals-0002", "query": "没有法条", "gold": []},
            {"id": "no number", "query": "编号不对", "gold": [{"law": "民法典", "article": "1"}]},
            {"id": "equals-0004", "gold": [{"law": "民法典", "article": "1079"}]},
        ],
    )
    report = IngestReport()
    cases = load_cases([path], report=report)
    assert [c.id for c in cases] == ["equals-0000"]
    where = sorted(p.where for p in report.problems)
    assert where == [f"{path}:{n}" for n in (2, 3, 4, 5)]
    assert all(p.hint for p in report.problems)


def test_a_labelled_question_lifts_its_articles_but_is_never_shown(fake_embedder, tmp_path):
    articles = load_statutes([DATA / "statutes"]).articles
    labelled, _ = link_cases(load_cases([_questions(tmp_path)], report=IngestReport()), articles)
    service = Service.from_records(articles, [*fixture_cases(), *list(labelled)], fake_embedder)
    res = service.search(QUESTION, k=10, k_cases=20)
    gold = next(h for h in res.articles if h.record.id == "民法典:1079")
    assert "equals-0000" in gold.why.via_cases
    assert all(c.record.kind != LABELLED for c in res.cases)
    assert all(c.kind != LABELLED for c in service.cases_citing("民法典:1079"))


def test_leave_source_hides_labelled_questions_of_the_query_set_and_its_family(
    fake_embedder, tmp_path
):
    articles = load_statutes([DATA / "statutes"]).articles
    read = load_cases([_questions(tmp_path, "zixun")], report=IngestReport())
    labelled, _ = link_cases(read, articles)
    service = Service.from_records(articles, [*fixture_cases(), *list(labelled)], fake_embedder)
    assert source_family("lawyer-llama") == ("lawyer-llama", "zixun")
    for qid, hidden in (("zixun-9999", True), ("lawyer-llama-9999", True), ("equals-9", False)):
        q = Query(qid, QUESTION, ("民法典:1079",))
        hits = service.search(QUESTION, k=10, filters=leave_out(q, "source")).articles
        used = any(v.startswith("zixun") for h in hits for v in h.why.via_cases)
        assert used is not hidden, qid


def test_a_question_that_is_already_a_consultation_case_is_not_added_twice(tmp_path):
    """``--cases corpus/cases eval/`` in any order: lawbench-3-8's questions are its cases."""
    consultations = DATA / "cases" / "lawbench" / "data" / "zero_shot" / "3-8.json"
    questions = _write(
        tmp_path / "lawbench-3-8.jsonl",
        [
            {
                "id": "lawbench-3-8-0000",
                "query": "同一个问题",
                "gold": [{"law": "民法典", "article": "1079"}],
            }
        ],
    )
    report = IngestReport()
    cases = load_cases([questions, consultations], report=report)
    first = next(c for c in cases if c.id == "lawbench-3-8-0000")
    assert first.kind != LABELLED
    assert not any(c.kind == LABELLED for c in cases)
    assert not [p for p in report.problems if p.kind == "duplicate"]
    assert any("已作为咨询案例收录" in n for n in report.notes)


LAW = """# 中华人民共和国测试法

2020年1月1日 通过

<!-- INFO END -->

## 第一章 总则

第一条 饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任。

第二条 不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。

第三条 不动产权利人不得违反国家规定弃置固体废物。
"""


def test_lay_word_expansion_adds_evidence_without_overriding_the_question(fake_embedder, tmp_path):
    """邻居 → 相邻 / 不动产权利人 is evidence beside the question's own words, not above them."""
    from dataclasses import replace

    from retrieval.config import DEFAULT_CONFIG

    (tmp_path / "测试法.md").write_text(LAW, encoding="utf-8")
    service = Service.from_records(load_statutes([tmp_path]).articles, [], fake_embedder)
    keyword_only = replace(DEFAULT_CONFIG, semantic=False, precedent=False, w_law=0.0)
    question = "邻居的动物把我咬伤了"

    def scores(weight: float) -> dict[str, float]:
        res = service.search(
            question, k=3, k_cases=0, config=replace(keyword_only, expand_weight=weight)
        )
        return {h.record.id: h.score for h in res.articles}

    appended, beside = scores(1.0), scores(DEFAULT_CONFIG.expand_weight)
    assert DEFAULT_CONFIG.expand_weight < 1.0
    # appended to the question's words, 邻居's statute terms outvoted 动物 (the old way)
    assert max(appended, key=appended.get) in ("测试法:2", "测试法:3")
    assert max(beside, key=beside.get) == "测试法:1"
    # an article found only through the vocabulary counts less than when appended
    assert all(beside.get(a, 0.0) < appended[a] for a in ("测试法:2", "测试法:3") if appended[a])


def test_a_party_word_lifts_nothing_beside_what_happened(fake_embedder, tmp_path):
    """ "邻居家的狗把我孩子咬伤了" is a dog bite: 邻居's 相邻 / 不动产权利人 articles share a
    party with it, not a subject, and gain nothing. With no subject named ("邻居砌了围墙"),
    the party's terms are the only lead and still count (issue 19 item 5)."""
    from dataclasses import replace

    from retrieval.config import DEFAULT_CONFIG

    (tmp_path / "测试法.md").write_text(LAW, encoding="utf-8")
    service = Service.from_records(load_statutes([tmp_path]).articles, [], fake_embedder)
    keyword_only = replace(DEFAULT_CONFIG, semantic=False, precedent=False, w_law=0.0)

    def found(question: str, **change: bool) -> list[str]:
        cfg = replace(keyword_only, **change)
        return [h.record.id for h in service.search(question, k=3, k_cases=0, config=cfg).articles]

    bite = "邻居家的狗把我孩子咬伤了"
    assert DEFAULT_CONFIG.party_with_subject
    assert found(bite) == ["测试法:1"]
    assert set(found(bite, party_with_subject=False)) == {"测试法:1", "测试法:2", "测试法:3"}
    assert set(found("邻居在路上砌了一道墙")) >= {"测试法:2", "测试法:3"}


def test_one_labelled_set_gives_an_article_at_most_its_cap(fake_embedder, tmp_path):
    """Many near questions of one narrow set marking the same article count as one capped
    vote, so the set's frequent articles cannot crowd out the law for every question near
    them; another set's question still adds its own vote, and a resolved case is not capped."""
    from dataclasses import replace

    from retrieval.config import DEFAULT_CONFIG
    from retrieval.hits import Hit, Why
    from retrieval.search import FirstStage

    rows = [
        {
            "id": f"{source}-{i:04d}",
            "query": f"问题{source}{i}",
            "gold": [{"law": "民法典", "article": "1079"}],
        }
        for source, n in (("equals", 4), ("zixun", 1))
        for i in range(n)
    ]
    articles = load_statutes([DATA / "statutes"]).articles
    labelled, _ = link_cases(
        load_cases([_write(tmp_path / "questions.jsonl", rows)], report=IngestReport()), articles
    )
    resolution = next(c for c in fixture_cases() if c.id == "case-divorce")  # cites 1079
    cases = [*labelled, resolution]
    service = Service.from_records(articles, cases, fake_embedder)
    first = FirstStage(
        cited=[],
        tokens=[],
        keyword=None,
        semantic=None,
        case_hits=[Hit(c, 1.0, i, Why(())) for i, c in enumerate(cases, 1)],
        case_cos={c.id: 1.0 for c in cases},  # every case as near as can be: full lift
    )
    searcher = service.searcher
    flt = leave_out(Query("q", "", ()), "none")
    trust, cap = DEFAULT_CONFIG.labelled_trust, DEFAULT_CONFIG.labelled_cap
    assert 0 < cap < 4 * trust

    cfg = replace(DEFAULT_CONFIG, precedent_cap=0.0)  # the per-article cap on all evidence: off
    capped = searcher.precedent_run(first, cfg, flt)
    uncapped = searcher.precedent_run(first, replace(cfg, labelled_cap=0.0), flt)
    # five questions at the labelled trust each, and the typical case's full lift
    assert uncapped["民法典:1079"] == 5 * trust + 1.0
    # four equals questions: one capped vote; the zixun question its own; the case uncapped
    assert capped["民法典:1079"] == cap + min(trust, cap) + 1.0
