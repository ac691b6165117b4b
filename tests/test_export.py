"""Collection export: Markdown, DOCX and PDF case files and teaching sets."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from ui.export import ExportError, export_collection, file_name
from ui.store import CollectionStore, Item

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from fake_kb import FakeService  # noqa: E402


@pytest.fixture
def items(tmp_path: Path) -> list[Item]:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("王某离婚")
    store.add(c.id, "article", "民法典:1079", note="女方可直接起诉离婚")
    store.add(c.id, "case", "case-divorce", note="分居满二年")
    store.add(c.id, "article", "消失的法:1")
    return store.items(c.id)


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_docx_has_citations_texts_summaries_and_notes(items: list[Item]) -> None:
    text = _docx_text(export_collection("王某离婚", items, FakeService(), "docx"))
    assert "案卷：王某离婚" in text
    assert "1. 《中华人民共和国民法典》第一千零七十九条" in text
    assert "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。" in text
    assert "第五编 婚姻家庭 / 第四章 离婚" in text
    assert "笔记：女方可直接起诉离婚" in text
    assert "2. 案例：王某诉李某离婚纠纷案" in text
    assert "基本案情：王某与李某分居满二年" in text and "处理结果：法院判决准予离婚。" in text
    assert "引用法条：《中华人民共和国民法典》第一千零七十九条" in text
    assert "知识库中已找不到此项" in text  # a stale item is reported, not dropped


def test_markdown_export(items: list[Item]) -> None:
    md = export_collection("王某离婚", items, FakeService(), "md").decode("utf-8")
    assert md.startswith("# 案卷：王某离婚")
    assert "## 1. 《中华人民共和国民法典》第一千零七十九条" in md
    assert (
        "> 人民法院审理离婚案件，应当进行调解；如果感情确已破裂，调解无效的，应当准予离婚。" in md
    )
    assert "**笔记：分居满二年**" in md


def test_pdf_export_with_cjk_font(items: list[Item]) -> None:
    data = export_collection("王某离婚", items, FakeService(), "pdf")
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert any("STSong-Light" in str(f.get_object()["/BaseFont"]) for f in fonts.values())
    text = "".join(p.extract_text() for p in reader.pages)
    assert "民法典" in text and "第一千零七十九条" in text


def test_teaching_set_question_then_answer_key(items: list[Item]) -> None:
    kb = FakeService()
    text = _docx_text(export_collection("王某离婚", items, kb, "docx", teaching=True))
    q, a = text.split("第二部分　参考答案")
    assert "案例一：王某诉李某离婚纠纷案" in q
    assert "基本案情：王某与李某分居满二年" in q and "争议焦点：分居满二年一方不同意离婚的" in q
    assert "法院判决准予离婚" not in q  # the answer is not given away in the question
    assert "处理结果：法院判决准予离婚。" in a
    assert "《中华人民共和国民法典》第一千零七十九条　夫妻一方要求离婚的" in a
    md = export_collection("王某离婚", items, kb, "md", teaching=True).decode()
    assert "笔记" not in md and "浙江" in md  # no private notes; metadata kept


def test_teaching_set_needs_a_case(items: list[Item]) -> None:
    with pytest.raises(ExportError, match="建议"):
        export_collection(
            "x", [i for i in items if i.kind == "article"], FakeService(), "md", teaching=True
        )


def test_file_names_are_safe() -> None:
    assert file_name("../../etc/passwd", "docx") == "案卷-etcpasswd.docx"
    assert file_name("张某 离婚", "pdf", teaching=True) == "教学集-张某离婚.pdf"
    assert file_name("///", "md") == "案卷-案卷.md"
