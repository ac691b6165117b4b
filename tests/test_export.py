"""Collection export: Markdown, DOCX and PDF case files; embedded fonts, 禁则, control characters."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from ingest.cases.link import ArticleIndex, link_cases
from ingest.records import (
    AI_ANSWER,
    CONSULTATION,
    KIND_LABELS,
    MEDIATION,
    TYPICAL,
    Case,
    Citation,
)
from ui.documents import fonts
from ui.documents.document import Block
from ui.documents.export import export_collection, file_name, render
from ui.documents.linebreak import NO_END, NO_START
from ui.errors import ExportError
from ui.store import CollectionStore, Item

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from small_kb import ARTICLES, small_service  # noqa: E402

from retrieval.service import Service  # noqa: E402


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
    text = _docx_text(export_collection("王某离婚", items, small_service(), "docx"))
    assert "案卷：王某离婚" in text
    assert "1. 《中华人民共和国民法典》第一千零七十九条" in text
    assert "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。" in text
    assert "第五编 婚姻家庭 / 第四章 离婚" in text
    assert "笔记：女方可直接起诉离婚" in text
    assert "2. 案例：王某诉李某离婚纠纷案" in text
    assert "基本案情：王某与李某分居满二年" in text and "裁判结果：法院判决准予离婚。" in text
    assert "引用法条（与知识库核对）：\n1) 《中华人民共和国民法典》第一千零七十九条" in text
    assert "知识库中已找不到此项" in text  # a stale item is reported, not dropped


def test_markdown_export(items: list[Item]) -> None:
    md = export_collection("王某离婚", items, small_service(), "md").decode("utf-8")
    assert md.startswith("# 案卷：王某离婚")
    assert "## 1. 《中华人民共和国民法典》第一千零七十九条" in md
    assert (
        "> 人民法院审理离婚案件，应当进行调解；如果感情确已破裂，调解无效的，应当准予离婚。" in md
    )
    assert "**笔记：分居满二年**" in md


def _pdf_fonts(reader: PdfReader) -> list[dict]:
    out = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            out.append(ref.get_object())
    return out


def _embedded(font: dict) -> bool:
    if "/DescendantFonts" in font:  # a Type0 font keeps its descriptor one level down
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_pdf_embeds_its_cjk_fonts(items: list[Item]) -> None:
    data = export_collection("王某离婚", items, small_service(), "pdf")
    reader = PdfReader(io.BytesIO(data))
    used = _pdf_fonts(reader)
    assert used and all(_embedded(f) for f in used), [str(f["/BaseFont"]) for f in used]
    text = "".join(p.extract_text() for p in reader.pages)
    assert "《中华人民共和国民法典》第一千零七十九条" in text
    assert "夫妻一方要求离婚的，可以由有关组织进行调解" in text.replace("\n", "")


PUNCTUATED = (
    "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
    "依照《中华人民共和国民法典》第一千零七十九条（第二款）：“调解无效的，应当准予离婚。”"
    "当事人问：能否离婚？！双方约定……履行期限——另行协商；逾期的、按约处理。"
)


def test_pdf_lines_respect_chinese_line_breaking_rules() -> None:
    # Shift the text one character at a time so every mark meets the end of a line somewhere.
    blocks = [Block("text", "字" * shift + PUNCTUATED * 3) for shift in range(40)]
    reader = PdfReader(io.BytesIO(render(blocks, "pdf")))
    lines = [
        line.strip()
        for page in reader.pages
        for line in page.extract_text().split("\n")
        if line.strip() and not line.startswith("—")
    ]
    assert len(lines) > 200
    starts = [line for line in lines if line[0] in NO_START]
    ends = [line for line in lines if line[-1] in NO_END]
    assert not starts, starts[:5]
    assert not ends, ends[:5]


def test_pdf_reads_on_a_machine_without_chinese_fonts(tmp_path: Path) -> None:
    """Rasterise with a fontconfig that knows no fonts: only embedded glyphs can show."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) 未安装：.ci/run 会安装它")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f"<?xml version='1.0'?><fontconfig><cachedir>{tmp_path / 'fc'}</cachedir></fontconfig>"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}

    def ink(pdf: bytes, name: str) -> float:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "50",
                "-gray",
                "-f",
                "1",
                "-l",
                "1",
                str(path),
                str(tmp_path / name),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        (image,) = tmp_path.glob(f"{name}-*.pgm")
        pixels = image.read_bytes().split(b"\n", 3)[3]  # P5 header: magic, size, maxval
        return sum(p < 200 for p in pixels) / len(pixels)

    text = "人民调解协议书，当事人自愿达成如下协议。" * 6
    ours = render([Block("text", text) for _ in range(20)], "pdf")
    # The control: the same text in an unembedded CID font shows nothing here, so the
    # isolation works and the ink above can only come from the embedded font.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 10.5)
    for i in range(40):
        c.drawString(60, 780 - 18 * i, text[:40])
    c.save()
    assert ink(buf.getvalue(), "cid") < 0.001
    assert ink(ours, "ours") > 0.05


def test_control_characters_never_break_an_export(tmp_path: Path) -> None:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("表格导入")
    store.add(c.id, "article", "民法典:1079", note="第一行\x0b第二行\x00\u200b\x1f结束")
    items = store.items(c.id)
    for fmt in ("md", "docx", "pdf"):
        data = export_collection("表格\x0b导入", items, small_service(), fmt)  # type: ignore[arg-type]
        assert data
    text = _docx_text(export_collection("表格导入", items, small_service(), "docx"))
    assert "笔记：第一行\n第二行结束" in text


def test_no_cjk_font_is_a_chinese_error_not_boxes(
    monkeypatch: pytest.MonkeyPatch, items: list[Item]
) -> None:
    monkeypatch.delenv(fonts.ENV, raising=False)
    monkeypatch.setattr(fonts, "known_fonts", lambda: [])
    monkeypatch.setattr(fonts, "fontconfig_fonts", lambda: [])
    fonts._find.cache_clear()
    try:
        with pytest.raises(ExportError, match="找不到可嵌入 PDF 的中文字体.*建议：") as caught:
            export_collection("王某离婚", items, small_service(), "pdf")
        assert "fonts-wqy-microhei" in str(caught.value) and fonts.ENV in str(caught.value)
    finally:
        fonts._find.cache_clear()


def test_font_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fonts._find.cache_clear()
    try:
        monkeypatch.setenv(fonts.ENV, str(tmp_path / "nope.ttf"))
        with pytest.raises(ExportError, match=fonts.ENV):
            render([Block("text", "调解")], "pdf")  # an explicit choice never falls back
        wqy = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
        if not wqy.exists():
            pytest.skip("fonts-wqy-microhei 未安装")
        monkeypatch.setenv(fonts.ENV, f"{wqy}#0")
        fonts._find.cache_clear()
        reader = PdfReader(
            io.BytesIO(render([Block("title", "调解"), Block("text", "调解")], "pdf"))
        )
        names = {str(f["/BaseFont"]) for f in _pdf_fonts(reader)}
        assert names and all("WenQuanYi" in n for n in names)
    finally:
        fonts._find.cache_clear()


def test_character_no_font_has_is_refused_by_name() -> None:
    with pytest.raises(ExportError, match="\U0001f600.*建议"):
        render([Block("note", "笔记：好\U0001f600")], "pdf")


def test_file_names_are_safe() -> None:
    assert file_name("../../etc/passwd", "docx") == "案卷-etcpasswd.docx"
    assert file_name("张某 离婚", "pdf", teaching=True) == "教学集-张某离婚.pdf"
    assert file_name("张某 离婚", "md", teaching="student") == "教学集（学生版）-张某离婚.md"
    assert file_name("///", "md") == "案卷-案卷.md"


def test_docx_is_a4_with_chinese_font_names(items: list[Item]) -> None:
    from docx.oxml.ns import qn

    doc = Document(io.BytesIO(export_collection("王某离婚", items, small_service(), "docx")))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    rfonts = doc.styles["Normal"].element.rPr.rFonts
    assert rfonts.get(qn("w:eastAsia")) == "宋体"


# ---- every case says what it is, where it is from, and how its citations checked out ----

CHECKED = [
    Case(
        id="precedent-2026-001",
        kind=MEDIATION,
        title="张某某与李某空调外机噪声纠纷",
        dispute_type="邻里关系",
        sections=(("基本案情", "空调外机噪声扰邻。"), ("协议内容", "张某某移机。")),
        cited=(Citation("《中华人民共和国民法典》第二百八十八条", "民法典", "288"),),
        source="本委员会调解记录（调解案例库）",
        provenance="本委员会记录（枫源村人民调解委员会）",
    ),
    Case(
        id="typical-1",
        kind=TYPICAL,
        title="分居满二年准予离婚案",
        dispute_type="婚姻家庭",
        sections=(("基本案情", "双方分居满二年。"), ("裁判要旨", "感情确已破裂，应准予离婚。")),
        cited=(Citation("《民法典》第九千条", "民法典", "9000"),),
        source="最高人民法院公布的典型案例",
    ),
    Case(
        id="consult-1",
        kind=CONSULTATION,
        title="男方不同意离婚怎么办",
        dispute_type="婚姻家庭",
        sections=(("问题", "男方不同意离婚怎么办？"), ("回答", "可以起诉。")),
        cited=(Citation("《婚姻法》第三十二条", "婚姻法", "32"),),
        source="某律师事务所公开咨询记录",
    ),
    Case(
        id="lawyer-llama-9",
        kind=AI_ANSWER,
        title="宅基地被占怎么办",
        dispute_type="房屋宅基地",
        sections=(("问题", "邻居占了我家宅基地怎么办？"), ("回答", "依据宅基地条例处理。")),
        cited=(
            Citation("《宅基地条例》第十条", "宅基地条例", "10"),
            Citation(
                "《民法典》第二百八十八条",
                "民法典",
                "288",
                quotes=("相邻各方发生纠纷的，由村民委员会强制拆除。",),
            ),
        ),
        source="lawyer-llama legal_counsel_with_article_v2（回答由语言模型生成）",
    ),
]


def checked_kb() -> Service:
    """The small knowledge base with the cases whose citations check out badly."""
    linked, _ = link_cases(CHECKED, ArticleIndex(ARTICLES))
    return small_service(cases=linked)


@pytest.fixture
def checked_items(tmp_path: Path) -> list[Item]:
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("核对")
    for case in CHECKED:
        store.add(c.id, "case", case.id)
    return store.items(c.id)


def _export_texts(items: list[Item], **kw: object) -> dict[str, str]:
    kb = checked_kb()
    pdf = export_collection("核对", items, kb, "pdf", **kw)  # type: ignore[arg-type]
    flat = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    return {
        "md": export_collection("核对", items, kb, "md", **kw).decode(),  # type: ignore[arg-type]
        "docx": _docx_text(export_collection("核对", items, kb, "docx", **kw)),  # type: ignore[arg-type]
        "pdf": "".join(flat.split()),
    }


@pytest.mark.parametrize("teaching", [False, "teacher"])
def test_exported_cases_carry_kind_source_and_citation_verdicts(
    checked_items: list[Item], teaching: object
) -> None:
    for fmt, text in _export_texts(checked_items, teaching=teaching).items():
        flat = "".join(text.split()).replace("\\", "")
        for kind in (MEDIATION, TYPICAL, CONSULTATION, AI_ANSWER):
            assert "".join(KIND_LABELS[kind].split()) in flat, (fmt, kind)
        assert "来源：本委员会记录（枫源村人民调解委员会）" in flat, fmt
        assert "来源：最高人民法院公布的典型案例" in flat, fmt
        # each verdict, as the case card says it
        assert "第二百八十八条：✓知识库有此条（现行有效）" in flat, fmt
        assert "《婚姻法》已废止，现行规定见《民法典》" in flat, fmt
        assert "知识库中没有《宅基地条例》，可能有误" in flat, fmt
        assert "《民法典》没有第9000条，可能有误" in flat, fmt
        assert "引用的文字与《民法典》第288条原文不符" in flat, fmt
        # an AI answer is never a resolution
        assert "处理结果：依据宅基地条例处理" not in flat and "调解结果：依据" not in flat, fmt


def test_a_typical_case_without_a_result_section_exports_its_holding(
    checked_items: list[Item],
) -> None:
    text = _export_texts(checked_items)["docx"]
    assert "裁判要旨：感情确已破裂，应准予离婚。" in text
