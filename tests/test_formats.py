"""DOCX, PDF and TXT statutes made in the test from real statute text parse like the Markdown source."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.formats import RawArticle
from ingest.formats.docx import parse_docx
from ingest.formats.pdf import parse_pdf
from ingest.formats.plaintext import split_lines
from ingest.formats.txt import parse_txt
from ingest.lawrefbook import parse_markdown_bytes
from ingest.statutes import load_statutes

DATA = Path(__file__).parent / "data" / "statutes"
SOURCE = DATA / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md"
TITLE = "中华人民共和国人民调解法"
PASSED = "（2010年8月28日第十一届全国人民代表大会常务委员会第十六次会议通过）"


@pytest.fixture(scope="module")
def reference() -> tuple[RawArticle, ...]:
    """The Markdown parse of the real 人民调解法 text (first two chapters)."""
    doc = parse_markdown_bytes(SOURCE.read_bytes(), str(SOURCE))
    assert len(doc.articles) == 6
    return doc.articles


def statute_lines(articles: tuple[RawArticle, ...], *, gap: str = "\u3000") -> list[str]:
    """Print the articles as a code book does: title, date line, 章 headings, 第X条 + 款."""
    out = [TITLE, PASSED]
    chapter = None
    for a in articles:
        if a.path and a.path[-1] != chapter:
            chapter = a.path[-1]
            out.append(chapter.replace(" ", "\u3000"))
        paras = a.text.split("\n")
        out.append(f"{a.label}{gap}{paras[0]}")
        out.extend(paras[1:])
    return out


def same(parsed: tuple[RawArticle, ...], reference: tuple[RawArticle, ...]) -> None:
    assert [(a.number, a.suffix, a.path) for a in parsed] == [
        (a.number, a.suffix, a.path) for a in reference
    ]
    assert [a.text for a in parsed] == [a.text for a in reference]


# ---- TXT ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "name"),
    [("utf-8", b"", "UTF-8"), ("utf-8", b"\xef\xbb\xbf", "UTF-8-BOM"), ("gb18030", b"", "GB18030")],
)
def test_txt_encodings(reference, encoding, bom, name):
    data = bom + "\r\n".join(statute_lines(reference)).encode(encoding)
    doc = parse_txt(data, "人民调解法.txt")
    assert doc.title == TITLE
    same(doc.articles, reference)
    assert doc.notes == (f"人民调解法.txt: 按 {name} 解码",)
    assert not doc.problems


def test_txt_labels_without_space_and_with_ascii_space(reference):
    lines = statute_lines(reference, gap="")
    lines[3] = lines[3].replace("第一条", "第一条 ", 1)
    doc = parse_txt("\n".join(lines).encode(), "x.txt")
    same(doc.articles, reference)


def test_label_glued_to_text_counts_only_when_it_continues_the_numbering():
    lines = [
        ("第一条本规约所称村民，是指本村户籍居民。", 1),
        ("第三条规定的情形除外。", 2),
        ("第二条村民应当遵守本规约。", 3),
    ]
    from ingest.formats import Collector

    arts, _ = split_lines(lines, Collector("x.txt"))
    assert [(a.number, a.text) for a in arts] == [
        (1, "本规约所称村民，是指本村户籍居民。\n第三条规定的情形除外。"),
        (2, "村民应当遵守本规约。"),
    ]


# ---- DOCX -----------------------------------------------------------------


def make_docx(lines: list[str], path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(lines[0], level=0)
    document.add_paragraph(lines[1])
    document.add_paragraph("目录")
    for ln in lines[2:]:
        if ln.startswith("第") and ln[2:3] == "章":
            document.add_paragraph(ln)  # the table of contents repeats the chapter headings
    for ln in lines[2:]:
        document.add_paragraph(ln)
    document.save(path)
    return path


def test_docx_from_real_text(reference, tmp_path):
    path = make_docx(statute_lines(reference), tmp_path / "人民调解法.docx")
    doc = parse_docx(path.read_bytes(), str(path))
    assert doc.title == TITLE
    assert doc.info[0].startswith("2010年8月28日")
    same(doc.articles, reference)
    assert not doc.problems
    # a paragraph number locates the label
    assert doc.articles[0].line > 3


# ---- PDF ------------------------------------------------------------------


def make_pdf(
    lines: list[str], path: Path, *, width: int = 28, per_page: int = 14, spaced: bool = False
) -> Path:
    """A text-layer PDF in the built-in CID font: wrapped lines, running header, page numbers."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    wrapped: list[str] = []
    for ln in lines:
        wrapped.extend(ln[i : i + width] for i in range(0, len(ln), width))
    c = canvas.Canvas(str(path))
    pages = [wrapped[i : i + per_page] for i in range(0, len(wrapped), per_page)]
    for n, chunk in enumerate(pages, start=1):
        c.setFont("STSong-Light", 12)
        c.drawString(72, 800, "人民调解法")  # running header
        for i, ln in enumerate(chunk):
            c.drawString(72, 760 - 18 * i, " ".join(ln) if spaced else ln)
        c.drawString(290, 40, f"- {n} -")  # page number
        c.showPage()
    c.save()
    return path


def test_pdf_from_real_text_rejoins_wrapped_lines_and_drops_headers(reference, tmp_path):
    path = make_pdf(statute_lines(reference), tmp_path / "人民调解法.pdf")
    doc = parse_pdf(path.read_bytes(), str(path))
    assert doc.title == TITLE
    assert not doc.problems
    assert [(a.number, a.path) for a in doc.articles] == [(a.number, a.path) for a in reference]
    for got, want in zip(doc.articles, reference, strict=True):
        assert "人民调解法" not in got.text.replace("人民调解法所称", "")
        assert "- " not in got.text
        # verbatim characters; a sentence ending exactly at the margin may add one 款 break
        assert got.text.replace("\n", "") == want.text.replace("\n", "")
    exact = sum(g.text == w.text for g, w in zip(doc.articles, reference, strict=True))
    assert exact >= len(reference) - 1
    # several articles run across a page break
    assert len({a.line for a in doc.articles}) > 1


def test_pdf_with_a_space_between_every_character(reference, tmp_path):
    path = make_pdf(statute_lines(reference), tmp_path / "spaced.pdf", width=20, spaced=True)
    doc = parse_pdf(path.read_bytes(), str(path))
    assert [a.number for a in doc.articles] == [a.number for a in reference]
    for got, want in zip(doc.articles, reference, strict=True):
        assert got.text.replace("\n", "") == want.text.replace("\n", "")


def test_all_formats_load_together_with_user_level(reference, tmp_path):
    drop = tmp_path / "drop-in"
    drop.mkdir()
    make_docx(statute_lines(reference), drop / "人民调解法.docx")
    (drop / "村规民约.txt").write_text(
        "某村村规民约\n第一条 村民应当爱护公共设施。\n第二条 本规约自通过之日起施行。\n", "gb18030"
    )
    load = load_statutes([drop])
    laws = {d.law: d for d in load.documents}
    assert set(laws) == {"人民调解法", "某村村规民约"}
    assert laws["某村村规民约"].level == "用户文件"
    assert laws["某村村规民约"].articles == 2
    assert any("GB18030" in n for n in load.report.notes)
    assert load.articles[0].id.startswith("人民调解法:")


def test_drop_in_copy_of_a_law_already_in_the_collection_is_reported_not_doubled(tmp_path):
    civil = parse_markdown_bytes((DATA / "民法典" / "婚姻家庭编.md").read_bytes(), "婚姻家庭编.md")
    lines = ["中华人民共和国民法典", "（2020年5月28日第十三届全国人民代表大会第三次会议通过）"]
    for a in civil.articles:
        paras = a.text.split("\n")
        lines += [f"{a.label}　{paras[0]}", *paras[1:]]
    drop = tmp_path / "drop-in"
    drop.mkdir()
    import docx

    document = docx.Document()
    for ln in lines:
        document.add_paragraph(ln)
    document.save(drop / "民法典.docx")
    load = load_statutes([DATA, drop])
    dup = [p for p in load.report.problems if p.kind == "duplicate-file"]
    assert len(dup) == 1 and dup[0].where.endswith("民法典.docx")
    by_id = {a.id: a for a in load.articles}
    assert by_id["民法典:1079"].source.endswith("婚姻家庭编.md")
    assert not [i for i in by_id if i.startswith("民法典@")]
