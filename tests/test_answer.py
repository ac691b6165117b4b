"""Extractive answer panel: verbatim clauses with exact spans, one-line case outcomes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ingest.records import Article, Citation
from retrieval.answer import (
    best_clauses,
    clause_spans,
    extract_answer,
    lead_in,
    outcome_line,
    question_terms,
    term_spans,
    without_citations,
)
from retrieval.config import AnswerConfig
from retrieval.hits import Hit, Why
from ui.samples import EXAMPLES

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from small_kb import ARTICLES, CASES, small_service  # noqa: E402

QUESTIONS = [*EXAMPLES[:2], "人民调解收费吗", "完全无关的问题 abc"]  # EXAMPLES: ui/samples.py


def test_clause_spans_cover_text_verbatim() -> None:
    text = ARTICLES[2].text
    spans = clause_spans(text)
    assert len(spans) >= 4
    for a, b in spans:
        assert text[a:b] and text[a:b] == text[a:b].strip()
        assert "\n" not in text[a:b]


def test_a_rule_is_never_quoted_without_its_proviso() -> None:
    """The owner's defence (the child provoked the dog) is in the 但是 clause: a point
    that stops at the semicolon tells the mediator the owner is always liable."""
    text = (
        "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任；但是，能够证明损害是"
        "因被侵权人故意或者重大过失造成的，可以不承担或者减轻责任。"
    )
    article = Article(
        "民法典:1245", "民法典", "中华人民共和国民法典", 1245, "", "第一千二百四十五条", text
    )
    assert [text[a:b] for a, b in clause_spans(text)] == [text]
    quote = best_clauses("狗咬伤了孩子，谁承担责任？", article)[0]
    assert quote.text == text
    # items of a list still split at their semicolons
    items = "有下列情形之一的，可以解除：\n（一）逾期不还的；\n（二）但凡违约的；"
    assert len(clause_spans(items)) == 3


def test_question_terms_drop_stop_bigrams() -> None:
    terms = question_terms("男方不同意离婚，女方可以怎么办？", ["离婚", "调解 "])
    assert "离婚" in terms and "调解" in terms
    assert "可以" not in terms and "怎么" not in terms


def test_term_spans_merge_overlaps() -> None:
    assert term_spans("不同意离婚离婚", ["离婚", "婚离"]) == [(3, 7)]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_is_a_substring_of_its_article(question: str) -> None:
    kb = small_service()
    result = kb.search(question)
    answer = extract_answer(question, result.articles, result.cases)
    assert len(answer.quotes) <= 3
    for quote in answer.quotes:
        article = kb.article(quote.article_id)
        assert article is not None
        assert article.text[quote.start : quote.end] == quote.text
        assert quote.text in article.text
        assert quote.citation == article.citation
    for outcome in answer.outcomes:
        assert outcome.text in kb.case(outcome.case_id).outcome


def test_divorce_question_quotes_1079_and_case_outcome() -> None:
    kb = small_service()
    q = "男方不同意离婚，女方可以怎么办？"
    result = kb.search(q)
    answer = extract_answer(q, result.articles, result.cases)
    assert 2 <= len(answer.quotes) <= 3
    assert (
        any(x.article_id == "民法典:1079" for x in answer.quotes)
        or result.articles[0].record.id != "民法典:1079"
    )
    assert answer.outcomes and answer.outcomes[0].case_id == "case-divorce"


def test_one_clause_per_article_first() -> None:
    arts = [a for a in ARTICLES if a.law == "民法典"][:3]
    hits = [Hit(a, 1.0, r, Why(matched_terms=("离婚",))) for r, a in enumerate(arts, 1)]
    answer = extract_answer("离婚协议", hits)
    ids = [q.article_id for q in answer.quotes]
    assert len(set(ids)) == len(ids)


def test_semantic_only_hit_is_no_answer_point() -> None:
    """A clause sharing no word with the question is no point (before issue 21 the top
    article's first clause was quoted anyway; still so with the bar off)."""
    art = Article("x:1", "x", "某法", 1, "", "第一条", "甲乙丙丁。戊己庚辛。")
    assert extract_answer("完全不相干", [Hit(art, 0.5, 1)]).quotes == ()
    old = extract_answer("完全不相干", [Hit(art, 0.5, 1)], config=AnswerConfig(bar=False))
    assert [q.text for q in old.quotes] == ["甲乙丙丁。"]


def test_outcome_line_cuts_long_sentences() -> None:
    line = outcome_line(CASES[0])
    assert line is not None and line.text == "法院判决准予离婚。" and not line.truncated
    long_case = CASES[0].__class__(
        id="c",
        kind="调解案例",
        title="t",
        dispute_type="其他",
        sections=(("调解结果", "甲" * 200),),
    )
    cut = outcome_line(long_case)
    assert cut is not None and cut.truncated and len(cut.text) == 90


def test_no_articles_no_quotes() -> None:
    assert extract_answer("离婚", []).empty


def test_citation_words_are_not_matched() -> None:
    kb = small_service()
    q = "民法典第1079条"
    cit = Citation(q, "民法典", "1079", start=0, end=len(q), resolved_id="民法典:1079")
    assert without_citations(q, [cit]).strip() == ""
    result = kb.search(q)
    assert extract_answer(q, result.articles, cited=[cit]).quotes == ()
    mixed = "民法典第1079条 说的离婚诉讼"
    cit2 = Citation("民法典第1079条", "民法典", "1079", start=0, end=10)
    assert "第10" not in "".join(question_terms(without_citations(mixed, [cit2])))
    hits = [Hit(a, 1.0, r, Why()) for r, a in enumerate(ARTICLES[:4], 1)]
    answer = extract_answer(mixed, hits, cited=[cit2])
    assert answer.quotes and all("离婚" in x.text for x in answer.quotes)


def test_identical_sentences_quoted_once() -> None:
    twin = Article(
        "妇女权益保障法:64",
        "妇女权益保障法",
        "中华人民共和国妇女权益保障法",
        64,
        "",
        "第六十四条",
        ARTICLES[1].text,
    )
    hits = [Hit(ARTICLES[1], 1.0, 1, Why()), Hit(twin, 0.9, 2, Why())]
    answer = extract_answer("婚姻登记机关发给离婚证", hits)
    texts = [q.text for q in answer.quotes]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize(
    "question", [*QUESTIONS, "民法典第1079条", "劳动合同法第三十八条 公司拖欠工资"]
)
def test_quotes_verbatim_on_a_real_index(tiny_kb, question: str) -> None:  # type: ignore[no-untyped-def]
    result = tiny_kb.search(question)
    answer = extract_answer(question, result.articles, result.cases, cited=result.cited)
    for quote in answer.quotes:
        article = tiny_kb.article(quote.article_id)
        assert article.text[quote.start : quote.end] == quote.text
    for outcome in answer.outcomes:
        assert outcome.text in tiny_kb.case(outcome.case_id).outcome


def test_a_quoted_item_carries_its_lead_in() -> None:
    """（四）因感情不和分居满二年 is quoted with 有下列情形之一，调解无效的，应当准予离婚：."""
    art = next(a for a in ARTICLES if a.id == "民法典:1079")
    (quote,) = best_clauses("分居满二年能离婚吗", art)
    assert quote.text == "（四）因感情不和分居满二年；"
    assert quote.lead == "有下列情形之一，调解无效的，应当准予离婚："
    assert art.text[quote.start : quote.end] == quote.text  # both spans verbatim
    assert art.text[quote.lead_start : quote.lead_end] == quote.lead
    assert quote.adjacent  # the fixture's list holds only item (四)


def test_lead_in_keeps_a_head_with_semicolons_whole() -> None:
    text = (
        "违反本法规定，建设单位有下列行为之一，由有关部门责令改正，处一万元以上十万元以下的罚款；"
        "拒不改正的，可以责令暂停施工：\n（一）超过噪声排放标准排放建筑施工噪声的；\n"
        "（二）未按照规定取得证明，在夜间进行产生噪声的建筑施工作业的。"
    )
    art = Article("噪声污染防治法:77", "噪声污染防治法", "某法", 77, "", "第七十七条", text)
    (quote,) = best_clauses("没有取得证明就在夜间作业", art)
    assert quote.text.startswith("（二）")
    assert quote.lead.startswith("违反本法规定") and quote.lead.endswith("可以责令暂停施工：")
    assert not quote.adjacent  # item (一) lies between: the page shows ……
    assert lead_in(text, text.index("（一）")) == (0, text.index("\n"))


def test_a_list_head_is_never_quoted_dangling() -> None:
    """A 款 head ending in ：is quoted with its (short) list, or not at all."""
    text = (
        "有下列情形之一的，应当制作调解协议书：\n（一）甲；\n（二）乙。\n其他情形，可以口头协议。"
    )
    art = Article("x:1", "x", "某法", 1, "", "第一条", text)
    quotes = best_clauses("什么情形应当制作调解协议书", art, limit=3)
    assert quotes
    for q in quotes:
        assert not q.text.endswith("：")
        assert art.text[q.start : q.end] == q.text


def test_item_and_its_list_are_not_both_quoted() -> None:
    art = next(a for a in ARTICLES if a.id == "民法典:1079")
    answer = extract_answer("分居满二年调解无效准予离婚", [Hit(art, 1.0, 1, Why())])
    spans = [(q.start, q.end) for q in answer.quotes]
    assert all(
        a2 >= b1 or a1 >= b2 for i, (a1, b1) in enumerate(spans) for a2, b2 in spans[i + 1 :]
    )
