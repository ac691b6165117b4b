"""Resolving case citations to Article ids: current versions, aliases, 款/项, repealed laws."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.cases import link_cases, load_cases
from ingest.cases.link import ArticleIndex, source_key
from ingest.citations import extract_citations
from ingest.names import article_label
from ingest.records import Article, Case, IngestReport, article_id

CORPUS = Path(
    os.environ.get("FENGQIAO_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def art(
    law: str, number: int, *, title: str = "", version: str = "", current: bool = True
) -> Article:
    return Article(
        id=article_id(law, number, version="" if current else version),
        law=law,
        law_title=title or f"中华人民共和国{law}",
        number=number,
        suffix="",
        label=article_label(number),
        text="……",
        version=version,
        current=current,
    )


ARTICLES = [
    art("民法典", 1079),
    art("民法典", 288),
    art("劳动合同法", 38, version="2012-12-28"),
    art("劳动合同法", 38, version="2007-06-29", current=False),
    art("劳动合同法", 97, version="2007-06-29", current=False),  # only in the old version
    art(
        "最高人民法院关于适用民法典时间效力的若干规定",
        15,
        title="最高人民法院关于适用《中华人民共和国民法典》时间效力的若干规定",
    ),
    art(
        "最高人民法院关于适用民事诉讼法的解释",
        226,
        title="最高人民法院关于适用《中华人民共和国民事诉讼法》的解释",
    ),
]


def case_citing(text: str, case_id: str = "committee-x-1") -> Case:
    return Case(
        id=case_id,
        kind="调解案例",
        title="t",
        dispute_type="其他",
        cited=tuple(extract_citations(text)),
    )


def test_resolves_to_current_version_and_keeps_detail() -> None:
    (case,), report = link_cases(
        [case_citing("《劳动合同法》第三十八条第一款第（二）项；民法典第1079条")], ARTICLES
    )
    first, second = case.cited
    assert first.resolved_id == "劳动合同法:38" and first.detail == "第一款第（二）项"
    assert second.resolved_id == "民法典:1079"
    assert case.cited_ids == ("劳动合同法:38", "民法典:1079")
    assert report.rate() == 1.0


def test_old_version_used_when_current_lacks_the_article() -> None:
    (case,), _ = link_cases([case_citing("劳动合同法第九十七条")], ARTICLES)
    assert case.cited[0].resolved_id == "劳动合同法@2007-06-29:97"


def test_interpretation_titles_and_aliases() -> None:
    text = (
        "《最高人民法院关于适用〈中华人民共和国民法典〉时间效力的若干规定》第十五条；"
        "《民诉法解释》第二百二十六条"
    )
    (case,), _ = link_cases([case_citing(text)], ARTICLES)
    assert case.cited_ids == (
        "最高人民法院关于适用民法典时间效力的若干规定:15",
        "最高人民法院关于适用民事诉讼法的解释:226",
    )


def test_repealed_law_flagged_and_reported() -> None:
    (case,), report = link_cases([case_citing("婚姻法第三十二条")], ARTICLES)
    (c,) = case.cited
    assert c.repealed and c.resolved_id == ""
    assert report.repealed["committee"] == 1
    assert "已废止" in report.unresolved[0].reason


def test_unresolved_reasons() -> None:
    cases = [case_citing("民法典第9999条；《杭州市某某条例》第二条", "lawrefbook-abc")]
    (case,), report = link_cases(cases, ArticleIndex(ARTICLES))
    assert case.cited_ids == ()
    reasons = [u.reason for u in report.unresolved]
    assert "没有第9999条" in reasons[0] and "知识库中没有该法律" in reasons[1]
    assert report.total["lawrefbook"] == 2 and report.rate("lawrefbook") == 0.0
    assert report.lines() == [
        "lawrefbook: 引用 2 条，解析 0 条（0.0%），引用已废止法律 0 条；"
        "核对：相符 0，已废止 0，知识库无此法律 1，未收录的法规 0，无此条 1，引文不符 0，引自旧版本 0（比对引文 0 条）"
    ]
    assert [c.verdict for c in case.cited] == ["unknown_article", "unknown_law"]
    assert all(c.flagged and "可能有误" in c.verdict_note for c in case.cited)


def test_a_real_law_not_held_is_not_flagged() -> None:
    """Issue 21: real regulations missing from the knowledge base read 知识库未收录此法规,
    while a misnamed law (no such title, or a variant of a held law's name) stays 可能有误."""
    text = "《最低工资规定》第十二条；《刑法》第二百三十四条；《户籍法》第三条；《劳动合同法实施细则》第五条"
    (case,), report = link_cases([case_citing(text)], ARTICLES)
    verdicts = {c.law: c.verdict for c in case.cited}
    assert verdicts == {
        "最低工资规定": "not_held",
        "刑法": "not_held",
        "户籍法": "unknown_law",
        "劳动合同法实施细则": "unknown_law",
    }
    held = next(c for c in case.cited if c.law == "最低工资规定")
    assert not held.flagged and held.verdict_note.startswith("知识库未收录此法规")
    assert "可能有误" not in held.verdict_note
    assert report.count("committee", "not_held") == 2


def test_real_law_reads_titles_and_their_form() -> None:
    from ingest.cases.verdicts import real_law

    held = ["民法典", "劳动合同法", "劳动合同法实施条例"]
    assert real_law("国务院令第174号", held)
    assert real_law("行政诉讼法", held) and real_law("最低工资规定", held)
    assert not real_law("宅基地条例", held)  # short, and no such title
    assert not real_law("</span><span>民法典", held)
    assert not real_law("民法典婚姻家庭篇", held)  # a variant of a held law


def test_repealed_law_does_not_fall_back_to_a_similar_name() -> None:
    # 合同法 (repealed) must not resolve to 劳动合同法 through suffix matching.
    (case,), _ = link_cases([case_citing("《合同法》第三十八条")], ARTICLES)
    assert case.cited[0].resolved_id == "" and case.cited[0].repealed


def test_source_key() -> None:
    assert source_key(case_citing("", "lawbench-3-8-0001")) == "lawbench-3-8"
    assert source_key(case_citing("", "lawyer-llama-0001")) == "lawyer-llama"
    assert source_key(case_citing("", "committee-a-1")) == "committee"


@pytest.mark.slow
def test_typical_cases_resolve_against_statutes_full(tmp_path: Path) -> None:
    """≥ 95% of citations to laws present in statutes_full resolve (issue 4)."""
    full = CORPUS / "statutes_full"
    cases_dir = CORPUS / "cases" / "lawrefbook_cases"
    if not full.is_dir() or not cases_dir.is_dir():
        pytest.skip(f"真实语料不存在：{full}")
    from ingest.statutes import load_statutes

    # The statute parse cache lives in FENGQIAO_CACHE when set (CI), so a rerun takes seconds.
    cache = (
        Path(os.environ["FENGQIAO_CACHE"]) / "test-cases-statutes"
        if os.environ.get("FENGQIAO_CACHE")
        else tmp_path
    )
    articles = load_statutes([full], cache_dir=cache).articles
    index = ArticleIndex(articles)
    cases = load_cases([cases_dir], report=IngestReport())
    linked, report = link_cases(cases, index)
    cites = [c for case in linked for c in case.cited]
    present = [c for c in cites if c.law and index.law_name(c.law)]
    resolved = [c for c in present if c.resolved_id]
    assert len(present) >= 60
    assert len(resolved) / len(present) >= 0.95, [u for u in report.unresolved]
    # What does not resolve names a law the collection does not hold.
    assert all("知识库中没有该法律" in u.reason for u in report.unresolved)
