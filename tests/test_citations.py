"""Citation extraction: every way cases and questions cite statutes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest.citations import extract_citations, unique_citations
from ingest.names import canonical_law

CORPUS = Path(
    os.environ.get("FENGQIAO_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def keys(text: str, **kw: str) -> list[tuple[str | None, str, str]]:
    return [(c.law, c.article, c.detail) for c in extract_citations(text, **kw)]


def test_full_title_with_chinese_numerals() -> None:
    (c,) = extract_citations("依据《中华人民共和国民法典》第一千零七十九条，应当准予离婚。")
    assert (c.law, c.article, c.detail, c.repealed) == ("民法典", "1079", "", False)
    assert c.raw == "《中华人民共和国民法典》第一千零七十九条"
    assert "依据《中华人民共和国民法典》第一千零七十九条，"[c.start : c.end] == c.raw


def test_bare_law_name_and_arabic_digits() -> None:
    assert keys("民法典第1079条") == [("民法典", "1079", "")]
    assert keys("根据食品安全法第一百四十八条第二款规定") == [("食品安全法", "148", "第二款")]
    # 劳动合同法 must not be read as 合同法 (a repealed law).
    assert keys("违反劳动合同法第三十九条") == [("劳动合同法", "39", "")]


def test_paragraph_and_item_kept_in_detail() -> None:
    (c,) = extract_citations("《劳动合同法》第三十八条第一款第（二）项规定")
    assert (c.law, c.article, c.detail) == ("劳动合同法", "38", "第一款第（二）项")
    assert keys("《民法典》第六百八十条第二款、第三款") == [("民法典", "680", "第二款、第三款")]


def test_this_law_uses_context() -> None:
    assert keys("依照本法第十条规定", context_law="人民调解法") == [("人民调解法", "10", "")]
    assert keys("依照本法第十条规定") == [(None, "10", "")]
    # 本条 refers to the article being quoted: not a citation.
    assert keys("不受本条第一款规定的限制") == []


def test_lists_and_ranges() -> None:
    assert keys("《民法典》第五条、第六条和第七条") == [
        ("民法典", "5", ""),
        ("民法典", "6", ""),
        ("民法典", "7", ""),
    ]
    got = keys("《民法典》第一千零七十六条至第一千零七十九条")
    assert got == [("民法典", str(n), "") for n in range(1076, 1080)]
    middle = extract_citations("《民法典》第一千零七十六条至第一千零七十九条")[1]
    assert middle.raw == "《民法典》第一千零七十六条至第一千零七十九条"
    assert keys(
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第二百二十六条及第二百二十八条"
    ) == [
        ("最高人民法院关于适用民事诉讼法的解释", "226", ""),
        ("最高人民法院关于适用民事诉讼法的解释", "228", ""),
    ]


def test_article_with_zhi_yi_suffix() -> None:
    assert keys("《刑法》第一百三十三条之一") == [("刑法", "133之一", "")]


def test_judicial_interpretation_title_with_angle_brackets() -> None:
    text = "《最高人民法院关于适用〈中华人民共和国民法典〉时间效力的若干规定》第十五条明确规定"
    assert keys(text) == [("最高人民法院关于适用民法典时间效力的若干规定", "15", "")]


def test_repealed_law_flagged() -> None:
    (c,) = extract_citations("婚姻法第三十二条")
    assert (c.law, c.article, c.repealed) == ("婚姻法", "32", True)
    (c,) = extract_citations("《中华人民共和国合同法》第一百零七条")
    assert c.repealed
    assert not extract_citations("民法典第1079条")[0].repealed


def test_aliases_resolve() -> None:
    assert keys("民诉法第一百二十二条") == [("民事诉讼法", "122", "")]
    assert keys("《行政协议司法解释》第十六条") == [
        ("最高人民法院关于审理行政协议案件若干问题的规定", "16", "")
    ]


def test_bare_label_takes_last_law_of_paragraph() -> None:
    text = "法律依据:《民法典》第二百零九条不动产物权的设立……。第二百三十八条侵害物权，造成权利人损害的……"
    assert keys(text) == [("民法典", "209", ""), ("民法典", "238", "")]


def test_bare_label_after_a_named_title_belongs_to_it() -> None:
    text = "依据《食品安全法》第一百四十八条判决。\n\n《最高人民法院关于审理食品安全民事纠纷案件适用法律若干问题的解释（一）》。\n第六条 食品经营者……"
    assert keys(text)[-1] == (
        "最高人民法院关于审理食品安全民事纠纷案件适用法律若干问题的解释（一）",
        "6",
        "",
    )
    # A bare label after a contract's title is the contract's clause: no law.
    assert keys("《食品安全法》第五条。双方订立《安置协议》，其中第六条约定")[-1] == (None, "6", "")


def test_non_law_titles_and_contract_clauses_are_not_citations() -> None:
    assert keys("《安置协议》第六条第一项中确定的安置人口") == []
    assert keys("该合同第七条约定") == []
    assert keys("《汽车销售合同》第七条约定") == []


def test_other_shapes() -> None:
    assert keys("《户口登记条例》第第五条") == [("户口登记条例", "5", "")]  # doubled 第 in LawBench
    assert keys("《关于工资总额组成的规定》（国家统计局令第1号）第四条规定") == [
        ("关于工资总额组成的规定", "4", "")
    ]
    assert keys("《民法典》人格权编第997条") == [("民法典", "997", "")]
    assert keys("《治安管理处罚》第四十三条") == [("治安管理处罚法", "43", "")]
    law = "最高人民法院关于人民法院执行工作若干问题的规定（试行）"
    assert keys(f"《{law}》第三十一条") == [(law, "31", "")]


def test_question_typed_as_citation() -> None:
    assert keys("劳动合同法第三十八条第一款是什么意思") == [("劳动合同法", "38", "第一款")]
    assert keys("婚姻法第32条还有效吗")[0][:2] == ("婚姻法", "32")
    assert keys("请问第一千零七十九条是什么意思") == [(None, "1079", "")]
    assert keys("公司规章制度第三条规定迟到扣工资") == []


def test_unique_citations_keeps_first() -> None:
    cites = extract_citations("《民法典》第五条。民法典第5条。《民法典》第六条")
    assert [(c.law, c.article) for c in unique_citations(cites)] == [
        ("民法典", "5"),
        ("民法典", "6"),
    ]


@pytest.mark.slow
def test_lawbench_answers_cite_every_gold_article() -> None:
    """The eval gold of LawBench 3-8 is the first article its reference answer cites."""
    src = CORPUS / "cases" / "lawbench" / "data" / "zero_shot" / "3-8.json"
    gold_file = CORPUS.parent / "eval" / "lawbench-3-8.jsonl"
    if not src.exists() or not gold_file.exists():
        pytest.skip(f"真实语料不存在：{src}")
    data = json.loads(src.read_text("utf-8"))
    found = total = 0
    for line in gold_file.read_text("utf-8").splitlines():
        q = json.loads(line)
        answer = data[int(q["id"].rsplit("-", 1)[1])]["answer"]
        got = {(c.law, c.article) for c in extract_citations(answer[answer.find("法律依据") :])}
        for g in q["gold"]:
            # The gold keeps the answer's own spelling (劳动争议仲裁调解法, 治安管理处罚).
            law = canonical_law(g["law"])
            total += 1
            found += (law, g["article"]) in got or (law + "法", g["article"]) in got
    assert total > 450
    assert found / total >= 0.99
