"""调解协议书 / 调解笔录 drafts: what the mediator entered, blanks left blank, every citation verbatim."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader

from ingest.names import article_label
from ingest.records import Article, article_id
from ui.documents.document import paragraphs
from ui.documents.drafts import JUDICIAL_CONFIRMATION, RIGHTS_AND_DUTIES, id_checksum_ok, lookup
from ui.documents.export import draft_file_name, export_draft
from ui.documents.linebreak import NO_START
from ui.documents.quoting import citation_line, cite
from ui.store import CaseDetails, CollectionStore, Item, Party

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from small_kb import small_service  # noqa: E402

from retrieval.service import Service  # noqa: E402

INTERPRETATION = "最高人民法院关于适用民事诉讼法的解释"
CORPUS = Path(
    os.environ.get("FENGQIAO_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def _law(law: str, title: str, number: int, text: str, path: tuple[str, ...] = ()) -> Article:
    return Article(
        id=article_id(law, number),
        law=law,
        law_title=title,
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
        path=path,
        valid_from="2023-09-01",
    )


# Verbatim from the statutes (public law texts); the ​ ending 第二百零六条 is as the source has it.
PROCEDURE = [
    _law(
        "人民调解法",
        "中华人民共和国人民调解法",
        23,
        "当事人在人民调解活动中享有下列权利:\n（一）选择或者接受人民调解员；\n（二）接受调解、拒绝调解或者要求终止调解；\n（三）要求调解公开进行或者不公开进行；\n（四）自主表达意愿、自愿达成调解协议。",
    ),
    _law(
        "人民调解法",
        "中华人民共和国人民调解法",
        24,
        "当事人在人民调解活动中履行下列义务:\n（一）如实陈述纠纷事实；\n（二）遵守调解现场秩序，尊重人民调解员；\n（三）尊重对方当事人行使权利。",
    ),
    _law(
        "人民调解法",
        "中华人民共和国人民调解法",
        33,
        "经人民调解委员会调解达成调解协议后，双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院申请司法确认，人民法院应当及时对调解协议进行审查，依法确认调解协议的效力。\n人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。\n人民法院依法确认调解协议无效的，当事人可以通过人民调解方式变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼。",
    ),
    _law(
        "民事诉讼法",
        "中华人民共和国民事诉讼法",
        205,
        "经依法设立的调解组织调解达成调解协议，申请司法确认的，由双方当事人自调解协议生效之日起三十日内，共同向下列人民法院提出：\n（一）人民法院邀请调解组织开展先行调解的，向作出邀请的人民法院提出；\n（二）调解组织自行开展调解的，向当事人住所地、标的物所在地、调解组织所在地的基层人民法院提出；调解协议所涉纠纷应当由中级人民法院管辖的，向相应的中级人民法院提出。",
        ("第二编 审判程序", "第十五章 特别程序", "第七节 确认调解协议案件"),
    ),
    _law(
        "民事诉讼法",
        "中华人民共和国民事诉讼法",
        206,
        "人民法院受理申请后，经审查，符合法律规定的，裁定调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请执行；不符合法律规定的，裁定驳回申请，当事人可以通过调解方式变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼。\n\u200b",
        ("第二编 审判程序", "第十五章 特别程序", "第七节 确认调解协议案件"),
    ),
    _law(
        INTERPRETATION,
        "最高人民法院关于适用《中华人民共和国民事诉讼法》的解释",
        351,
        "申请司法确认调解协议的，双方当事人应当本人或者由符合民事诉讼法第六十一条规定的代理人依照民事诉讼法第二百零一条的规定提出申请。",
        ("十七、特别程序",),
    ),
]

DETAILS = CaseDetails(
    number="（2026）枫调字第017号",
    committee="枫桥镇",
    mediator="陈某",
    recorder="周某",
    place="枫桥镇人民调解委员会调解室",
    date="2026年3月5日",
    facts="王某与李某于2012年登记结婚，2024年起分居。",
    disputed="婚生子由谁抚养；共同房产如何分割。",
    agreement="一、婚生子由李某抚养，王某每月支付抚养费2000元。\n二、房产归李某所有，李某支付王某折价款30万元。",
    performance="银行转账",
    process="调解员分别听取双方陈述，释明法律规定，双方各让一步。",
    parties=(
        Party(
            role="申请人",
            name="王某",
            gender="男",
            ethnicity="汉族",
            birth="1985年4月2日",
            id_number="110105198504021233",
            address="诸暨市枫桥镇某村",
            phone="13812345678",
        ),
        Party(role="被申请人", name="李某", gender="女", phone="13900001111"),
    ),
)


def procedure_kb(extra: list[Article] | None = None) -> Service:
    """The small knowledge base with the procedure articles (or ``extra``) added."""
    return small_service(PROCEDURE if extra is None else extra)


@pytest.fixture
def items(tmp_path: Path) -> list[Item]:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("王某与李某离婚纠纷")
    store.add(c.id, "article", "民法典:1079")
    store.add(c.id, "article", "民法典:1087")  # not in the KB any more
    store.add(c.id, "case", "case-noise")  # a reference case: never copied into the draft
    store.save_details(c.id, DETAILS)
    return store.items(c.id)


def _paragraphs(data: bytes) -> list:
    return Document(io.BytesIO(data)).paragraphs


def _citations(text: str) -> list[str]:
    return re.findall(
        r"《[^《》]+》第[一二三四五六七八九十百千零]+条(?:之[一二三四五六七八九十]+)?", text
    )


def _assert_quotes_are_verbatim(paras: list, kb: Service, ids: list[str]) -> None:
    texts = [p.text for p in paras]
    for art_id in ids:
        article = kb.article(art_id)
        head = texts.index(citation_line(article))
        body = paragraphs(article.text)
        assert texts[head + 1 : head + 1 + len(body)] == body, art_id
        # and the quote is the KB's text itself, less nothing but invisible characters
        assert "".join(body) == re.sub(r"[\n\u200b]", "", article.text)


def test_agreement_docx_layout_parties_agreement_and_verbatim_law(items: list[Item]) -> None:
    kb = procedure_kb()
    data = export_draft("agreement", "王某与李某离婚纠纷", DETAILS, items, kb, "docx")
    paras = _paragraphs(data)
    texts = [p.text for p in paras]
    title = next(p for p in paras if p.text == "人民调解协议书")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    number = next(p for p in paras if p.text == "编号：（2026）枫调字第017号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    full = "\n".join(texts)
    assert (
        "申请人：王某，性别：男，民族：汉族，出生日期（年龄）：1985年4月2日，"
        "身份证号码：110105198504021233，住址：诸暨市枫桥镇某村，联系电话：13812345678。"
    ) in texts
    assert "被申请人：李某，性别：女，民族：＿＿＿＿＿＿" in full  # not entered: blank, not guessed
    for line in DETAILS.agreement.split("\n"):
        assert line in texts
    assert "履行方式：银行转账" in texts
    for heading in (
        "一、当事人基本情况",
        "二、纠纷的主要事实、争议事项以及各方当事人的责任",
        "三、调解协议内容",
        "四、履行方式、期限",
        "五、调解依据",
    ):
        assert heading in texts
    assert "本协议书一式3份，当事人各执一份，人民调解委员会留存一份。" in texts
    seal = texts.index("枫桥镇人民调解委员会（印章）")
    assert texts[seal + 1] == "2026年3月5日"
    assert paras[seal].alignment == paras[seal + 1].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    signatures = texts[texts.index("当事人（签名、盖章或者按指印）：") + 1 : seal]
    assert signatures == [
        "申请人 王某：\t",
        "被申请人 李某：\t",
        "人民调解员 陈某（签名）：\t",
        "记录人 周某（签名）：\t",
    ]
    _assert_quotes_are_verbatim(paras, kb, ["民法典:1079"])
    # 司法确认 appendix: 人民调解法第三十三条 and the procedure articles the KB has, verbatim
    appendix = texts[texts.index("附：申请司法确认须知（法律条文原文）") :]
    _assert_quotes_are_verbatim(
        paras, kb, ["人民调解法:33", "民事诉讼法:205", "民事诉讼法:206", f"{INTERPRETATION}:351"]
    )
    assert any("2021 年修正文本" in t for t in appendix)
    # Every citation printed anywhere resolves to an article of the KB, word for word.
    known = {cite(a) for a in kb.articles}
    printed = _citations(full)
    assert printed and set(printed) <= known | {
        s.citation for s in JUDICIAL_CONFIRMATION if kb.article(s.id) is None
    }
    # the reference case in the 案卷 stays out of the agreement
    assert "晚上施工" not in full and "赵某" not in full


def test_agreement_docx_fonts_and_page(items: list[Item]) -> None:
    doc = Document(
        io.BytesIO(export_draft("agreement", "x", DETAILS, items, procedure_kb(), "docx"))
    )
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    title = next(p for p in doc.paragraphs if p.text == "人民调解协议书")
    assert title.runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_what_was_not_entered_stays_a_blank_line_with_a_note(tmp_path: Path) -> None:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("只录了当事人")
    details = store.save_details(c.id, CaseDetails(parties=(Party(role="申请人", name="张某"),)))
    data = export_draft("agreement", c.name, details, store.items(c.id), procedure_kb(), "docx")
    paras = _paragraphs(data)
    texts = [p.text for p in paras]
    notice = next(t for t in texts if t.startswith("以下栏目在案卷中未填写"))
    for label in ("编号", "纠纷的主要事实", "争议事项", "调解协议内容", "履行方式", "履行期限"):
        assert label in notice
    deadline = next(p for p in paras if p.text.startswith("履行期限："))
    assert deadline.text == "履行期限：\t" and deadline.runs[-1].font.underline  # a ruled line
    facts_at = texts.index("（一）纠纷的主要事实")
    assert texts[facts_at + 1] == "\t" and paras[facts_at + 1].runs[0].font.underline
    assert "编号：＿＿＿＿＿＿" in texts and "＿＿＿＿＿＿人民调解委员会（印章）" in texts
    assert "本协议书一式2份，当事人各执一份，人民调解委员会留存一份。" in texts
    assert "五、调解依据" not in texts  # no article in the 案卷: nothing is made up


def test_record_docx_has_the_session_and_the_rights_read_out(items: list[Item]) -> None:
    kb = procedure_kb()
    data = export_draft("record", "王某与李某离婚纠纷", DETAILS, items, kb, "docx")
    paras = _paragraphs(data)
    texts = [p.text for p in paras]
    assert next(p for p in paras if p.text == "调解笔录").alignment == WD_ALIGN_PARAGRAPH.CENTER
    for line in (
        "时间：2026年3月5日",
        "地点：枫桥镇人民调解委员会调解室",
        "当事人：申请人 王某；被申请人 李某",
        "人民调解员：陈某",
        "记录人：周某",
        DETAILS.process,
    ):
        assert line in texts
    assert next(p for p in paras if p.text.startswith("其他参加人：")).text == "其他参加人：\t"
    _assert_quotes_are_verbatim(paras, kb, ["人民调解法:23", "人民调解法:24"])


def test_missing_or_renumbered_procedure_articles_are_reported_not_invented(
    items: list[Item],
) -> None:
    wrong = _law(
        "民事诉讼法",
        "中华人民共和国民事诉讼法",
        205,
        "各级人民法院院长对本院已经发生法律效力的判决……",
    )
    kb = procedure_kb([wrong])  # an older numbering: 第二百零五条 is about something else
    quoted = {q.statute.id: q for q in lookup(JUDICIAL_CONFIRMATION, kb)}
    assert quoted["民事诉讼法:205"].article is None and "不符" in quoted["民事诉讼法:205"].problem
    text = "\n".join(
        p.text for p in _paragraphs(export_draft("agreement", "x", DETAILS, items, kb, "docx"))
    )
    assert "各级人民法院院长" not in text
    assert "知识库中未收录《中华人民共和国人民调解法》第三十三条，请查阅正式文本。" in text
    assert "知识库中《中华人民共和国民事诉讼法》第二百零五条的内容与本用途不符" in text


def test_masked_copy_and_id_check() -> None:
    assert id_checksum_ok("11010519491231002X") and not id_checksum_ok("110105194912310021")
    details = CaseDetails(
        parties=(Party(name="王某", id_number="110105194912310021", phone="13812345678"),)
    )
    md = export_draft("agreement", "x", details, [], procedure_kb(), "md", mask_ids=True).decode()
    assert "110105********0021" in md and "138****5678" in md
    assert "王某的身份证号码校验位不符，请与证件核对。" in md


def test_agreement_pdf_text_and_line_breaks(items: list[Item]) -> None:
    data = export_draft("agreement", "王某与李某离婚纠纷", DETAILS, items, procedure_kb(), "pdf")
    reader = PdfReader(io.BytesIO(data))
    lines = [
        x.strip() for page in reader.pages for x in page.extract_text().split("\n") if x.strip()
    ]
    text = "".join(lines)
    assert "人民调解协议书" in text and "申请人：王某" in text
    assert "二、房产归李某所有，李某支付王某折价款30万元。" in text
    assert "《中华人民共和国人民调解法》第三十三条" in text
    assert not [x for x in lines if x[0] in NO_START]


def test_file_name() -> None:
    assert draft_file_name("agreement", "王某/李某", "docx") == "人民调解协议书-王某李某.docx"
    assert draft_file_name("record", "王某", "pdf") == "调解笔录-王某.pdf"


def test_procedure_articles_resolve_in_the_shipped_corpus() -> None:
    """The fixed article ids of the appendix and the 告知 match the real statute files."""
    from ingest.statutes import load_statutes

    root = CORPUS / "statutes"
    files = [
        root / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md",
        root / "诉讼与非诉讼程序法" / "民事诉讼法(2023-09-01).md",
        root / "司法解释" / "最高人民法院关于适用《民事诉讼法》的解释(2022-04-02).md",
    ]
    if not all(f.exists() for f in files):
        pytest.skip(f"真实语料不存在：{root}（设置 FENGQIAO_CORPUS 指向 shared/corpus）")
    articles = load_statutes(files, workers=1).articles
    kb = procedure_kb([a for a in articles if a.current])
    for q in lookup(JUDICIAL_CONFIRMATION + RIGHTS_AND_DUTIES, kb):
        assert q.article is not None, q.problem
        assert cite(q.article) == q.statute.citation


def _pdf_pages(data: bytes) -> list[str]:
    return [re.sub(r"\s", "", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_never_carries_the_draft_note_the_docx_does(items: list[Item]) -> None:
    """A PDF cannot have a paragraph deleted before printing: the note is left out of it."""
    for kind in ("agreement", "record"):
        pdf = "".join(
            _pdf_pages(export_draft(kind, "王某与李某", DETAILS, items, procedure_kb(), "pdf"))
        )
        assert "草稿说明" not in pdf and "打印前请删除" not in pdf
        assert "人民调解员" in pdf  # the draft itself is there
        docx = "\n".join(
            p.text
            for p in _paragraphs(
                export_draft(kind, "王某与李某", DETAILS, items, procedure_kb(), "docx")
            )
        )
        assert "草稿说明（打印前请删除本段）" in docx


def test_the_mediator_chooses_the_articles_of_the_basis(tmp_path: Path) -> None:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("王家")
    store.add(c.id, "article", "民法典:1079")
    store.add(c.id, "article", "人民调解法:23")
    items = store.items(c.id)
    kb = procedure_kb()
    every = "\n".join(
        p.text for p in _paragraphs(export_draft("agreement", "王家", DETAILS, items, kb, "docx"))
    )
    assert cite(kb.article("民法典:1079")) in every and cite(kb.article("人民调解法:23")) in every
    one = "\n".join(
        p.text
        for p in _paragraphs(
            export_draft("agreement", "王家", DETAILS, items, kb, "docx", basis=("人民调解法:23",))
        )
    )
    basis = one[one.index("五、调解依据") : one.index("六、其他")]
    assert cite(kb.article("人民调解法:23")) in basis
    assert cite(kb.article("民法典:1079")) not in one
    none = "\n".join(
        p.text
        for p in _paragraphs(
            export_draft("agreement", "王家", DETAILS, items, kb, "docx", basis=())
        )
    )
    assert "五、调解依据" not in none and "没有选择法条" in none


@pytest.mark.parametrize("kind", ["record", "agreement"])
def test_the_signature_block_never_falls_alone_on_a_page(kind: str) -> None:
    """At every length of the text before it, the signatures share a page with that text."""
    lead = "以上笔录已经当事人阅读" if kind == "record" else "本协议书一式"
    seen_break = False
    for n in range(1, 26):
        details = CaseDetails(
            **{
                **{f: getattr(DETAILS, f) for f in ("number", "committee", "mediator", "date")},
                "parties": DETAILS.parties,
                "process" if kind == "record" else "agreement": "\n".join(
                    f"{i}、调解员向双方释明相关法律规定，双方陈述各自意见并相互让步。"
                    for i in range(1, n + 1)
                ),
            }
        )
        pages = _pdf_pages(export_draft(kind, "王家", details, [], procedure_kb(), "pdf"))
        signed = next(i for i, p in enumerate(pages) if "记录人（签名）" in p)
        # the signatures' page starts with them or holds the text that leads into them
        assert lead in pages[signed], (n, pages[signed][:200])
        assert "人民调解员陈某（签名）" in pages[signed]
        seen_break = seen_break or signed > 0 and lead not in pages[signed - 1]
    assert seen_break  # some length did push the closing block onto a new page
