"""Issue 11: case kinds and trust, outcomes that are resolutions, typical-case fallbacks, citation verdicts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest.cases import load_cases
from ingest.cases.link import ArticleIndex, link_cases
from ingest.cases.verdicts import (
    MISQUOTE_THRESHOLD,
    Vocabulary,
    judge,
    quote_after,
    similarity,
    with_quotes,
)
from ingest.citations import extract_citations
from ingest.names import article_label
from ingest.records import (
    AI_ANSWER,
    CASE_KINDS,
    CONSULTATION,
    MEDIATION,
    TYPICAL,
    Article,
    Case,
    Citation,
    IngestReport,
    article_id,
    decision_sentence,
)

DATA = Path(__file__).parent / "data" / "cases"
CORPUS = Path(
    os.environ.get("FENGQIAO_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
KB_OLD = Path(os.environ.get("FENGQIAO_KB_OLD") or "/work/kb-old")


def art(law: str, number: int, text: str, *, version: str = "", current: bool = True) -> Article:
    return Article(
        id=article_id(law, number, version="" if current else version),
        law=law,
        law_title=f"中华人民共和国{law}",
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
        version=version,
        current=current,
        status="现行有效" if current else "已修改",
    )


ROBBERY = "以暴力、胁迫或者其他方法抢劫公私财物的，处三年以上十年以下有期徒刑，并处罚金。"
THEFT = (
    "盗窃公私财物，数额较大的，或者多次盗窃、入户盗窃、携带凶器盗窃、扒窃的，"
    "处三年以下有期徒刑、拘役或者管制，并处或者单处罚金。"
)
INDECENCY = "以暴力、胁迫或者其他方法强制猥亵他人或者侮辱妇女的，处五年以下有期徒刑或者拘役。"
ARTICLES = [
    art("刑法", 263, ROBBERY),
    art("刑法", 264, THEFT),
    art("刑法", 237, INDECENCY),
    art(
        "刑法",
        232,
        "故意杀人的，处死刑、无期徒刑或者十年以上有期徒刑；情节较轻的，处三年以上十年以下有期徒刑。",
    ),
    art(
        "民法典", 1079, "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
    ),
    art(
        "民法典",
        188,
        "向人民法院请求保护民事权利的诉讼时效期间为三年。法律另有规定的，依照其规定。",
    ),
    art(
        "消费者权益保护法",
        55,
        "经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失。",
    ),
    art(
        "消费者权益保护法",
        49,
        "经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失，增加赔偿的金额为消费者购买商品的价款或者接受服务的费用的一倍。",
        version="1993-10-31",
        current=False,
    ),
    art(
        "消费者权益保护法",
        49,
        "经营者提供商品或者服务，造成消费者或者其他受害人人身伤害的，应当赔偿医疗费。",
    ),
]
INDEX = ArticleIndex(ARTICLES)


def cited(text: str, section: str = "回答", *, listing: bool = False) -> list[Citation]:
    return with_quotes(text, extract_citations(text), section=section, listing=listing)


# ---- kinds, trust, provenance ------------------------------------------------------


def test_every_fixture_case_has_a_kind_trust_and_provenance() -> None:
    cases = {c.id: c for c in load_cases([DATA], report=IngestReport())}
    assert {c.kind for c in cases.values()} <= set(CASE_KINDS)
    llama = cases["lawyer-llama-0000"]
    assert llama.kind == AI_ANSWER and llama.trust == "generated" and not llama.verified
    assert "GPT-3.5" in llama.provenance and "学术" in llama.provenance
    bench = cases["lawbench-3-8-0001"]
    assert bench.kind == CONSULTATION and bench.trust == "unverified"
    assert "未注明回答者" in bench.provenance and "Apache-2.0" in bench.provenance
    typical = next(c for c in cases.values() if c.kind == TYPICAL)
    assert typical.trust == "official" and typical.verified
    assert typical.provenance.startswith("法院典型案例") and "LawRefBook" in typical.provenance
    sample = next(c for c in cases.values() if c.kind == MEDIATION and c.sample)
    assert sample.label == "调解案例（样例）" and sample.trust == "unverified"
    assert "示例" in sample.provenance


def test_old_serialised_kinds_still_load() -> None:
    old = {"id": "lawyer-llama-0007", "kind": "法律咨询", "title": "t", "dispute_type": "其他"}
    assert Case.from_dict(old).kind == AI_ANSWER
    assert Case.from_dict({**old, "id": "lawbench-3-8-0007"}).kind == CONSULTATION
    assert Case.from_dict({**old, "id": "lawrefbook-x", "kind": "典型案例"}).kind == TYPICAL
    case = Case.from_dict({**old, "kind": "典型案例", "id": "lawrefbook-x"})
    assert Case.from_dict(json.loads(json.dumps(case.to_dict()))) == case


def test_machine_answers_are_never_an_outcome() -> None:
    sections = (("问题", "离婚要返还彩礼吗"), ("回答", "离婚案件的诉讼时效期限为三年。"))
    ai = Case("lawyer-llama-0103", AI_ANSWER, "t", "婚姻家庭", sections)
    assert ai.outcome == ""
    assert ai.result.label == "AI 解答（未经核实）" and not ai.result.resolution
    assert ai.result.text == "离婚案件的诉讼时效期限为三年。"
    consult = Case("lawbench-3-8-0001", CONSULTATION, "t", "劳动劳务", sections)
    assert consult.outcome == "" and consult.result.label == "咨询解答（未经核实）"
    record = Case(
        "committee-a-1", MEDIATION, "t", "邻里关系", (("调解结果", "双方和解，赔偿两千元。"),)
    )
    assert record.verified and record.outcome == "双方和解，赔偿两千元。"
    assert record.result.label == "处理结果"


# ---- typical cases read fully ------------------------------------------------------


def test_decision_sentence_takes_the_final_decision() -> None:
    story = (
        "一审法院认定遗嘱无效。韩先生不服一审判决,提起上诉。"
        "合议庭认为遗嘱有效,判决诉争房屋由韩先生一人继承。"
    )
    assert decision_sentence(story) == "合议庭认为遗嘱有效,判决诉争房屋由韩先生一人继承。"
    assert decision_sentence("就此,法院判决撤销婚姻关系,宣判后双方均未提起上诉。").startswith(
        "就此"
    )
    assert decision_sentence("双方就流量质量产生争议。") == ""


def write_case(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"# {name}\n\n<!-- INFO END -->\n\n{body}", "utf-8")


def test_typical_case_outcome_falls_back_in_order(tmp_path: Path) -> None:
    root = tmp_path / "lawrefbook_cases" / "民法典"
    write_case(
        root,
        "要旨",
        "## 常某诉许某网络服务合同案\n\n## 基本案情\n\n双方就流量质量产生争议。\n\n"
        "## 裁判要旨\n\n双方订立合同进行暗刷流量交易，应属无效。\n\n## 适用解析\n\n本案是首例。",
    )
    write_case(
        root,
        "回顾",
        "## 案情回顾\n\n宋先生被球打中右眼，起诉周先生。据此,驳回宋先生的全部诉讼请求。\n\n"
        "## 法官解读\n\n自甘冒险规则。",
    )
    write_case(
        root,
        "理由",
        "## 裁判要点\n\n经营者怠于查验构成明知。\n\n## 简要案情\n\n吴某购买含片。\n\n"
        "【判决理由】。\n\n人民法院认为该公司未查验。因此判令某公司退货退款。",
    )
    write_case(root, "解析", "## 基本案情\n\n张某起诉。\n\n## 适用解析\n\n民法典新设规定。")
    cases = {
        Path(c.file).stem: c
        for c in load_cases([tmp_path / "lawrefbook_cases"], report=IngestReport())
    }
    assert cases["要旨"].result.label == "裁判要旨"
    assert cases["要旨"].outcome == "双方订立合同进行暗刷流量交易，应属无效。"
    assert [n for n, _ in cases["要旨"].sections][:2] == ["要点", "基本案情"]
    assert cases["回顾"].outcome == "据此,驳回宋先生的全部诉讼请求。"
    assert cases["回顾"].result.label == "裁判结果（摘自基本案情）"
    assert cases["理由"].outcome == "因此判令某公司退货退款。"
    assert cases["解析"].result.label == "适用解析" and cases["解析"].outcome
    assert all(c.kind == TYPICAL for c in cases.values())


@pytest.mark.slow
def test_every_real_typical_case_has_an_outcome() -> None:
    folder = CORPUS / "cases" / "lawrefbook_cases"
    if not folder.is_dir():
        pytest.skip(f"真实语料不存在：{folder}")
    cases = load_cases([folder], report=IngestReport())
    assert len(cases) == 52
    assert [c.title for c in cases if not c.outcome] == []
    labels = {c.result.label for c in cases}
    assert "裁判要旨" in labels and "裁判结果（摘自基本案情）" in labels


# ---- quotes --------------------------------------------------------------------------


def test_quotes_after_citations() -> None:
    (c,) = cited(
        "根据《刑法》第二百六十三条规定“以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑。”如果……"
    )
    assert c.quotes == ("以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑。",)
    (c,) = cited("《民法典》第一百八十八条：向人民法院请求保护民事权利的诉讼时效期间为三年。另外……")
    assert c.quotes == ("向人民法院请求保护民事权利的诉讼时效期间为三年。",)
    # A paraphrase after 规定， is the author's words, not a quotation.
    (c,) = cited("根据《民法典》第一千零七十九条规定，您可以直接向法院起诉离婚。")
    assert c.quotes == ()
    # Two articles joined in one phrase share the text: neither gets it.
    a, b = cited("依据《民法典》第一千零七十九条和第一千零八十条规定：“准予离婚的条件是感情破裂。”")
    assert a.quotes == () and b.quotes == ()


def test_statute_lists_take_each_entry_and_skip_cross_references() -> None:
    text = (
        "《中华人民共和国消费者权益保护法》第五十五条经营者提供商品或者服务有欺诈行为的，"
        "应当按照消费者的要求增加赔偿其受到的损失。第二十四条经营者提供的商品不符合质量要求的，"
        "消费者可以依照本法第四十九条、第五十一条等法律规定退货。<span>《消法》</span>"
    )
    found = {c.article: c for c in cited(text, "法律依据", listing=True)}
    assert found["55"].quotes == (
        "经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失。",
    )
    assert found["24"].quotes[0].endswith("等法律规定退货。")
    assert found["51"].quotes == () and found["49"].quotes == ()
    assert found["55"].section == "法律依据"


def test_quote_after_stops_at_markup_and_needs_a_colon_or_marks() -> None:
    text = "第一条：甲乙丙丁戊己庚辛。<span>x</span>"
    assert quote_after(text, 3, len(text), listing=False) == "甲乙丙丁戊己庚辛。"
    assert quote_after("第一条规定甲乙丙", 3, 8, listing=False) == ""


# ---- similarity and verdicts ----------------------------------------------------------


def test_weighted_similarity_tells_offences_apart() -> None:
    vocab = INDEX.vocabulary("刑法")
    quote = "以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑、拘役或者管制。"
    assert similarity(quote, ROBBERY, vocab) < MISQUOTE_THRESHOLD
    assert similarity(quote, INDECENCY, vocab) > similarity(quote, ROBBERY, vocab)
    assert similarity(THEFT, THEFT, vocab) == 1.0
    # An excerpt (one clause) of the article is as good as the whole text.
    assert similarity("盗窃公私财物，数额较大的", THEFT, vocab) == 1.0
    # Arabic numbers in a quote match the numerals of the statute.
    assert similarity("处3年以上10年以下有期徒刑", ROBBERY, vocab) == 1.0
    assert Vocabulary.of([]).articles == 0


def verdict_of(text: str, section: str = "回答") -> Citation:
    (c,) = cited(text, section)
    return judge(c, INDEX)


def test_verdicts() -> None:
    ok = verdict_of("《民法典》第一百八十八条：向人民法院请求保护民事权利的诉讼时效期间为三年。")
    assert ok.verdict == "ok" and ok.resolved_id == "民法典:188" and ok.status == "现行有效"
    assert ok.similarity == 1.0 and not ok.flagged and ok.verdict_note.startswith("✓")
    wrong = verdict_of(
        "《刑法》第二百六十三条规定“以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑。”"
    )
    assert wrong.verdict == "misquoted" and wrong.resolved_id == "刑法:263"
    assert wrong.flagged and "可能有误" in wrong.verdict_note and wrong.similarity is not None
    gone = verdict_of("根据《中华人民共和国婚姻法》第三十二条规定，“婚姻自愿原则应当贯彻”")
    assert gone.verdict == "repealed" and gone.successor == "民法典" and gone.repealed
    assert "现行规定见《民法典》" in gone.verdict_note and not gone.flagged
    none = verdict_of("根据《宅基地条例》（中华人民共和国国务院令第191号）第十六条规定")
    assert none.verdict == "unknown_law" and none.flagged and none.resolved_id == ""
    beyond = verdict_of("根据《民法典》第一千七百五十条规定")
    assert beyond.verdict == "unknown_article" and "没有第1750条" in beyond.verdict_note
    unchecked = Citation("民法典第1079条", "民法典", "1079")
    assert unchecked.verdict == "" and unchecked.verdict_note == "未核对"


def test_quote_of_an_older_version_resolves_to_that_version() -> None:
    c = verdict_of(
        "《消费者权益保护法》第四十九条：经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求"
        "增加赔偿其受到的损失，增加赔偿的金额为消费者购买商品的价款的一倍。"
    )
    assert c.verdict == "ok" and c.resolved_id == "消费者权益保护法@1993-10-31:49"
    assert c.status == "已修改"


def test_worst_quote_comes_first_and_decides() -> None:
    c = Citation(
        "《刑法》第二百六十四条",
        "刑法",
        "264",
        quotes=(THEFT, "以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑。"),
    )
    checked = judge(c, INDEX)
    assert checked.verdict == "misquoted" and checked.quote.startswith("以暴力")


def test_link_report_counts_verdicts_per_source() -> None:
    cases = [
        Case(
            "lawyer-llama-0001",
            AI_ANSWER,
            "t",
            "其他",
            cited=tuple(
                cited(
                    "《刑法》第二百六十三条规定“以暴力、胁迫或者其他手段强制猥亵妇女的，处五年以下有期徒刑。”"
                    "《民法典》第一千七百五十条规定，婚姻法第三十二条规定。"
                )
            ),
        )
    ]
    (case,), report = link_cases(cases, INDEX)
    assert [c.verdict for c in case.cited] == ["misquoted", "unknown_article", "repealed"]
    assert report.count("lawyer-llama", "misquoted") == 1 and report.quoted["lawyer-llama"] == 1
    assert "引文不符 1" in report.lines()[0] and "无此条 1" in report.lines()[0]
    assert [c.verdict_note for c in case.flagged][0].startswith("引用的文字")


def test_a_case_older_than_the_law_quoted_the_version_of_its_day() -> None:
    """A 2012 judgment quoting the 2009 食品安全法 第九十六条 (ten-fold damages, renumbered in
    2015) is not 可能有误; a case after the current text quoting the same words is."""
    import dataclasses

    current = dataclasses.replace(
        art(
            "食品安全法",
            96,
            "食品生产者应当依照食品安全标准对所生产的食品进行检验，检验合格后方可出厂。",
        ),
        valid_from="2015-10-01",
    )
    index = ArticleIndex([current])
    text = (
        "依据《食品安全法》第九十六条第二款规定：“生产不符合食品安全标准的食品或者销售明知是不符合"
        "食品安全标准的食品，消费者除要求赔偿损失外，还可以向生产者或者销售者要求支付价款十倍的赔偿金。”"
    )
    cases = [
        Case(
            "lawrefbook-food",
            TYPICAL,
            "孙某诉超市买卖合同纠纷案",
            "消费维权",
            date=d,
            cited=tuple(cited(text)),
        )
        for d in ("2012-09-10", "2016-03-01")
    ]
    (old, new), report = link_cases(cases, index)
    then, later = old.cited[0], new.cited[0]
    assert then.verdict == "older_version" and not then.flagged
    assert then.resolved_id == "食品安全法:96" and "当时版本" in then.verdict_note
    assert "可能有误" not in then.verdict_note
    assert later.verdict == "misquoted" and later.flagged
    assert "引自旧版本 1" in report.lines()[0]
    # a case dated by year only is compared by year
    assert judge(cited(text)[0], index, case_date="2012").verdict == "older_version"
    assert judge(cited(text)[0], index, case_date="").verdict == "misquoted"


def test_names_in_a_quote_are_masked_like_the_text(tmp_path: Path) -> None:
    csv = tmp_path / "records.csv"
    csv.write_text(
        "编号,当事人,基本案情,调解结果\n"
        "1,张三丰,张三丰与邻居争执。调解员指出《民法典》第二百八十八条规定：“张三丰应当正确处理相邻关系”。,和解\n",
        "utf-8",
    )
    (case,) = load_cases([csv], report=IngestReport())
    (c,) = case.cited
    assert c.quotes and "张三丰" not in c.quotes[0] and "张某某" in c.quotes[0]


@pytest.mark.slow
def test_issue_examples_against_the_curated_kb() -> None:
    articles_file = KB_OLD / "index" / "articles.jsonl"
    if not articles_file.exists() or not (CORPUS / "cases").is_dir():
        pytest.skip("需要 /work/kb-old 与真实语料")
    with articles_file.open(encoding="utf-8") as fh:
        index = ArticleIndex(Article.from_dict(json.loads(x)) for x in fh if x.strip())
    wanted = {"lawyer-llama-0158", "lawyer-llama-0653", "lawyer-llama-0729", "lawyer-llama-0518"}
    folder = CORPUS / "cases" / "lawyer_llama"
    linked, report = link_cases(
        [c for c in load_cases([folder], report=IngestReport()) if c.id in wanted], index
    )
    got = {(c.id, x.law, x.article): x.verdict for c in linked for x in c.cited}
    assert got[("lawyer-llama-0158", "婚姻法", "32")] == "repealed"
    assert got[("lawyer-llama-0653", "宅基地条例", "16")] == "unknown_law"
    # 刑法 is a real law the curated KB does not hold: 知识库未收录此法规 (issue 21)
    assert got[("lawyer-llama-0729", "刑法", "263")] == "not_held"
    assert got[("lawyer-llama-0518", "民法典", "1750")] == "unknown_article"
    assert sum(report.total.values()) == sum(sum(v.values()) for v in report.verdicts.values())
