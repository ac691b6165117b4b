"""Teaching sets: questions from each case's issues, answer keys only from courts and committees."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from docx import Document

from ingest.records import Case, Citation
from ui.documents.export import export_collection
from ui.documents.quoting import answer_trust, cite, quoted_text
from ui.documents.teaching import focus_of, questions, split_focus
from ui.errors import ExportError
from ui.store import CollectionStore, Item

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from small_kb import CASES, small_service  # noqa: E402

from retrieval.service import Service  # noqa: E402

AI_REPLY = "根据你提供的信息，你可以直接向人民法院提起离婚诉讼。请问您是否需要了解更多？"
LABOUR = Case(
    id="case-overtime",
    kind="典型案例",
    title="加班费的仲裁时效应当如何认定",
    dispute_type="劳动劳务",
    sections=(
        ("基本案情", "张某于2016年入职某公司，2019年离职，公司未支付加班费。"),
        ("诉讼请求", "请求判决某公司支付加班费46293元。"),
        ("裁判理由", "本案争议焦点是张某关于加班费的请求是否超过仲裁时效。法院认为未超过。"),
        ("裁判结果", "一审法院判决：某公司支付张某加班费18120元。"),
        ("要点", "拖欠劳动报酬争议适用特别仲裁时效。"),
    ),
)
CONSULTATION = Case(
    id="lawyer-llama-0001",
    kind="法律咨询",
    title="我要离婚他不离，我怎么办？",
    dispute_type="婚姻家庭",
    sections=(("问题", "我要离婚他不离，我怎么办？"), ("回答", AI_REPLY)),
    cited=(Citation("《民法典》第一千零七十九条", "民法典", "1079", resolved_id="民法典:1079"),),
    source="lawyer-llama legal_counsel_with_article_v2（回答由语言模型生成）",
)


def teaching_kb() -> Service:
    """The small knowledge base with a labour case and a consultation added."""
    return small_service(cases=[LABOUR, CONSULTATION])


@pytest.fixture
def items(tmp_path: Path) -> list[Item]:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("培训")
    store.add(c.id, "case", "case-divorce", note="强调分居满二年的举证")
    store.add(c.id, "case", "case-noise")
    store.add(c.id, "case", LABOUR.id)
    store.add(c.id, "case", CONSULTATION.id)
    store.add(c.id, "article", "民法典:1079", note="第二款：法院应当先调解")
    return store.items(c.id)


def _docx(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_issues_are_split_and_found_in_the_reasoning() -> None:
    assert split_focus("一是房屋归谁所有；二是补偿款是否应当返还。") == [
        "房屋归谁所有",
        "补偿款是否应当返还",
    ]
    assert split_focus("（1）抚养权归属（2）抚养费数额") == ["抚养权归属", "抚养费数额"]
    assert focus_of(LABOUR) == ["张某关于加班费的请求是否超过仲裁时效"]


def test_each_case_gets_its_own_question() -> None:
    kb = teaching_kb()
    asked = {
        case_id: questions(kb.case(case_id))
        for case_id in ("case-divorce", "case-noise", LABOUR.id, CONSULTATION.id)
    }
    assert asked["case-divorce"] == ("本案争议焦点", ["分居满二年一方不同意离婚的，能否准予离婚？"])
    assert asked[LABOUR.id] == ("本案争议焦点", ["张某关于加班费的请求是否超过仲裁时效？"])
    assert asked["case-noise"][1] == ["赵某装修房屋，晚上施工，噪声很大。对此应当如何调解处理？"]
    assert asked[CONSULTATION.id][1] == ["当事人问：“我要离婚他不离，我怎么办？”应当如何答复？"]
    assert len({q for _, qs in asked.values() for q in qs}) == 4  # no fixed question


def test_teacher_version_keys_come_from_authority_with_articles_verbatim(
    items: list[Item],
) -> None:
    kb = teaching_kb()
    text = _docx(export_collection("培训", items, kb, "docx", teaching="teacher"))
    questions_part, rest = text.split("第二部分　参考答案与讲解要点")
    answers, articles = rest.split("第三部分　相关法条")
    assert "法院判决准予离婚" not in questions_part and "18120" not in questions_part
    assert "裁判结果：法院判决准予离婚。婚生子由王某抚养。" in answers
    assert "裁判要旨：拖欠劳动报酬争议适用特别仲裁时效。" in answers
    assert "调解结果：赵某同意晚上八点后停止施工" in answers
    article = kb.article("民法典:1079")
    quoted = answers.split(cite(article) + "（现行有效，2021-01-01 施行）\n", 1)[1]
    assert quoted.startswith("\n".join(quoted_text(article)))  # verbatim, paragraph by paragraph
    assert "讲解要点：强调分居满二年的举证" in answers
    assert "讲解要点：第二款：法院应当先调解" in articles and cite(article) in articles


def test_an_ai_answer_is_never_the_key(items: list[Item]) -> None:
    assert answer_trust(CONSULTATION) == "ai"
    for version in ("teacher", "student"):
        for fmt in ("docx", "md"):
            data = export_collection("培训", items, teaching_kb(), fmt, teaching=version)  # type: ignore[arg-type]
            text = _docx(data) if fmt == "docx" else data.decode()
            assert "根据你提供的信息" not in text and "是否需要了解更多" not in text
    teacher = _docx(export_collection("培训", items, teaching_kb(), "docx", teaching="teacher"))
    assert "本例为由语言模型生成解答的法律咨询，没有调解或裁判结论，不提供参考答案" in teacher
    # and where a case file shows the reply, it is labelled as what it is
    case_file = _docx(export_collection("培训", items, teaching_kb(), "docx"))
    assert f"AI 生成解答（未经核实）：{AI_REPLY}" in case_file


def test_student_version_has_questions_and_articles_but_no_answers(items: list[Item]) -> None:
    text = export_collection("培训", items, teaching_kb(), "md", teaching="student").decode()
    assert text.startswith("# 教学集（学生版）：培训")
    assert "问题（据本案争议焦点）：分居满二年一方不同意离婚的，能否准予离婚？" in text
    for answer in ("参考答案", "裁判结果", "调解结果", "裁判要旨", "讲解要点", "18120"):
        assert answer not in text
    assert "第二部分　相关法条" in text and "夫妻一方要求离婚的" in text


def test_teaching_set_needs_a_case(items: list[Item]) -> None:
    articles_only = [i for i in items if i.kind == "article"]
    with pytest.raises(ExportError, match="建议"):
        export_collection("x", articles_only, teaching_kb(), "md", teaching=True)


def test_a_consultation_reply_is_never_the_key() -> None:
    """A person's consultation reply (法律咨询解答, kind renamed in issue 11) is not authority."""
    human = Case(
        id="lawbench-3-8-0001",
        kind="法律咨询解答",
        title="离婚时彩礼能要回吗",
        dispute_type="婚姻家庭",
        sections=(("问题", "离婚时彩礼能要回吗？"), ("回答", "可以要求返还。")),
    )
    assert answer_trust(human) == "consultation"
    assert answer_trust(CASES[0]) == "authority"
