"""Questions that ask how much get the article that states the amount first."""

from __future__ import annotations

from dataclasses import replace

from ingest.statutes import load_statutes
from retrieval import amounts
from retrieval.config import DEFAULT_CONFIG
from retrieval.service import Service

LAW = """# 中华人民共和国测试劳动法

2020年1月1日 通过

<!-- INFO END -->

## 第一章 总则

第一条 用人单位依照本法规定解除或者终止劳动合同的，应当向劳动者支付经济补偿。

第二条 经济补偿按劳动者在本单位工作的年限，每满一年支付一个月工资的标准向劳动者支付经济补偿。

第三条 用人单位应当建立劳动规章制度，保障劳动者享有劳动权利、履行劳动义务。
"""


def test_a_question_is_taken_as_asking_an_amount_only_by_its_words():
    assert amounts.asks_amount("公司把我辞退了，经济补偿是多少？")
    assert amounts.asks_amount("十级伤残的赔偿标准是什么")
    assert amounts.asks_amount("加班费怎么算")
    assert not amounts.asks_amount("公司把我辞退了，有经济补偿吗？")
    assert not amounts.asks_amount("邻居家的狗把我孩子咬伤了")


def test_an_article_states_amounts_by_standards_wages_multiples_and_sums():
    assert amounts.amount_statements("每满一年支付一个月工资的标准，按三倍的数额支付") == 3
    assert amounts.amount_statements("罚款二百元以上五百元以下") == 2
    assert amounts.amount_statements("七级伤残为13个月的本人工资") == 1
    assert amounts.amount_statements("用人单位应当向劳动者支付经济补偿") == 0


def test_how_much_questions_get_the_article_that_states_the_standard(fake_embedder, tmp_path):
    """On its words alone "经济补偿是多少" matches the article that compensation is owed
    best; asking how much puts the standard first. Asking whether keeps the order."""
    (tmp_path / "测试劳动法.md").write_text(LAW, encoding="utf-8")
    service = Service.from_records(load_statutes([tmp_path]).articles, [], fake_embedder)
    keyword_only = replace(DEFAULT_CONFIG, semantic=False, precedent=False, w_law=0.0)

    def order(question: str, lift: float) -> list[str]:
        cfg = replace(keyword_only, amount_lift=lift)
        res = service.search(question, k=3, k_cases=0, config=cfg)
        return [h.record.id for h in res.articles]

    how_much = "被辞退了，经济补偿是多少？"
    assert DEFAULT_CONFIG.amount_lift > 0
    assert order(how_much, 0.0)[0] == "测试劳动法:1"
    assert order(how_much, DEFAULT_CONFIG.amount_lift)[0] == "测试劳动法:2"
    whether = "被辞退了，有经济补偿吗？"
    assert order(whether, DEFAULT_CONFIG.amount_lift)[0] == "测试劳动法:1"


def test_only_the_top_candidates_are_lifted():
    fused = {"a": 1.0, "b": 0.9, "c": 0.1}
    states = {"a": 0, "b": 2, "c": 5}
    out = amounts.lift(fused, states.__getitem__, share=0.2, top=2, at_least=2)
    assert out == {"a": 1.0, "b": 0.9 + 0.2, "c": 0.1}


def test_a_how_much_answer_point_quotes_the_clause_that_states_the_amount(tmp_path):
    """Ranked second, the standard is still the first point for "是多少"; for "有吗" the
    retriever's order stands."""
    from retrieval.answer import extract_answer
    from retrieval.config import AnswerConfig
    from retrieval.hits import Hit, Why

    (tmp_path / "测试劳动法.md").write_text(LAW, encoding="utf-8")
    owed, standard = load_statutes([tmp_path]).articles[:2]
    hits = [Hit(owed, 1.0, 1, Why(())), Hit(standard, 0.9, 2, Why(()))]

    def first_point(question: str, boost: float) -> str:
        cfg = AnswerConfig(bar=False, amount_boost=boost)
        return extract_answer(question, hits, config=cfg).quotes[0].article_id

    assert AnswerConfig().amount_boost > 0
    assert first_point("被辞退了，经济补偿是多少？", 0.0) == "测试劳动法:1"
    assert first_point("被辞退了，经济补偿是多少？", AnswerConfig().amount_boost) == "测试劳动法:2"
    assert first_point("被辞退了，有经济补偿吗？", AnswerConfig().amount_boost) == "测试劳动法:1"


STANDARD = """# 中华人民共和国测试补偿法

2020年1月1日 通过

<!-- INFO END -->

第一条 经济补偿按劳动者在本单位工作的年限，每满一年支付一个月工资的标准向劳动者支付。不满六个月的，向劳动者支付半个月工资的经济补偿。
劳动者月工资高于用人单位所在地区职工月平均工资三倍的，向其支付经济补偿的标准按职工月平均工资三倍的数额支付。
"""


def test_a_how_much_point_quotes_the_general_amount_before_its_special_cases(tmp_path):
    """ "经济补偿是多少" is answered by 每满一年支付一个月工资, not by the special cases the
    article states after it (不满六个月; the cap for the highly paid), which match the
    question's words as well or better."""
    from retrieval.answer import extract_answer
    from retrieval.config import AnswerConfig
    from retrieval.hits import Hit, Why

    (tmp_path / "测试补偿法.md").write_text(STANDARD, encoding="utf-8")
    (article,) = load_statutes([tmp_path]).articles
    hits = [Hit(article, 1.0, 1, Why(()))]

    def first_point(question: str, rule_first: float) -> str:
        cfg = AnswerConfig(bar=False, rule_first=rule_first)
        return extract_answer(question, hits, config=cfg).quotes[0].text

    assert AnswerConfig().rule_first > 0
    general = "经济补偿按劳动者在本单位工作的年限，每满一年支付一个月工资的标准向劳动者支付。"
    # on the clause scores alone, a shorter special case wins
    assert first_point("公司把我辞退了，经济补偿是多少？", 0.0).startswith("不满六个月的")
    assert first_point("公司把我辞退了，经济补偿是多少？", AnswerConfig().rule_first) == general
    assert (
        first_point("干了三年半被裁员，能拿几个月工资的补偿？", AnswerConfig().rule_first)
        == general
    )
