"""Bad input made on purpose: each file gets one clear problem line and the rest still ingests."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.statutes import load_statutes

GOOD = (
    Path(__file__).parent / "data" / "statutes" / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md"
).read_text("utf-8")


def md(title: str, *articles: str, tail: str = "") -> str:
    body = "\n\n".join(articles)
    return f"# {title}\n\n<!-- INFO END -->\n\n{body}\n{tail}"


def text_pdf(lines: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    for i, ln in enumerate(lines):
        c.drawString(72, 780 - 20 * i, ln)
    c.showPage()
    c.save()
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """A page with only graphics, as a scan without OCR looks to a text extractor."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(30):
        c.rect(72, 780 - 20 * i, 400, 8, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf(["某条例", "第一条 甲。"]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("某条例")
    for n in ("一", "二", "三"):
        document.add_paragraph(f"第{n}条　" + "本条例适用于本市行政区域内的民间纠纷调解工作。" * 20)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    d = tmp_path / "statutes"
    d.mkdir()
    (d / "人民调解法(2010-08-28).md").write_text(GOOD, "utf-8")
    (d / "损坏.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf\n")
    (d / "加密.pdf").write_bytes(encrypted_pdf())
    (d / "扫描件.pdf").write_bytes(scanned_pdf())
    full = docx_bytes()
    (d / "截断.docx").write_bytes(full[: len(full) // 2])
    (d / "空文件.md").write_bytes(b"")
    (d / "图片.md").write_bytes(bytes(range(256)) * 40)
    with open(d / "超大.txt", "wb") as fh:  # sparse: 200 MB on paper, no disk used
        fh.truncate(200 * 1024 * 1024)
    (d / "重复条号.md").write_text(
        md("某市物业管理条例", "第一条 甲。", "第二条 乙。", "第二条 丙。", "第三条 丁。"), "utf-8"
    )
    (d / "编号倒退.md").write_text(
        md("某市养犬管理条例", "第一条 甲。", "第三条 丙。", "第二条 乙。"), "utf-8"
    )
    mixed = md(
        "某市噪声管理条例",
        "第一条 为了防治噪声污染，制定本条例。",
        "第二条 本条例自公布之日起施行。",
    )
    (d / "混合编码.md").write_bytes(
        mixed.replace("第二条 本条例", "第二条 本条例" + "\x00")
        .encode()
        .replace(b"\x00", "自".encode("gbk"))
    )
    (d / "国标编码.md").write_bytes(
        md("某县村规民约", "第一条 村民应当爱护公共设施。").encode("gb18030")
    )
    (d / "无条文.md").write_text(
        md("某决定", "一、同意。", "二、本决定自公布之日起施行。"), "utf-8"
    )
    (d / "有附件.md").write_text(
        md(
            "某市调解条例",
            "第一条 甲。",
            "第二条 本条例自公布之日起施行。",
            tail="\n附件：调解协议书样式\n\n调解协议书（样式）\n",
        ),
        "utf-8",
    )
    (d / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    (d / "~$打开中.docx").write_bytes(b"\x00" * 162)  # Word lock file: ignored, not a problem
    return d


def test_each_bad_file_one_problem_and_the_rest_ingests(bad_tree, tmp_path):
    missing = tmp_path / "不存在的文件夹"
    load = load_statutes([bad_tree, missing])
    by_file: dict[str, list] = {}
    for p in load.report.problems:
        name = Path(p.where.split(" (")[0].rsplit(":", 1)[0]).name
        by_file.setdefault(name, []).append(p)

    def kinds(name: str) -> list[str]:
        return [p.kind for p in by_file.get(name, [])]

    assert kinds("损坏.pdf") == ["corrupt"]
    assert kinds("加密.pdf") == ["encrypted"]
    assert kinds("扫描件.pdf") == ["needs-ocr"]
    assert "OCR" in by_file["扫描件.pdf"][0].reason
    assert kinds("截断.docx") == ["corrupt"]
    assert kinds("空文件.md") == ["empty"]
    assert kinds("图片.md") == ["binary"]
    assert kinds("超大.txt") == ["too-large"]
    assert "200 MB" in by_file["超大.txt"][0].reason
    assert kinds("重复条号.md") == ["duplicate"]
    assert by_file["重复条号.md"][0].where.endswith("重复条号.md:9")
    assert kinds("编号倒退.md") == ["order", "gap"] or kinds("编号倒退.md") == ["gap", "order"]
    assert kinds("国标编码.md") == ["encoding"]
    assert kinds("混合编码.md") == ["encoding"]
    assert by_file["混合编码.md"][0].where.endswith("混合编码.md:7")
    assert kinds("无条文.md") == ["no-articles"]
    assert kinds("有附件.md") == ["appendix"]
    assert kinds("旧格式.doc") == ["unsupported"]
    assert kinds("不存在的文件夹") == ["missing"]
    assert kinds("人民调解法(2010-08-28).md") == []
    assert kinds("~$打开中.docx") == []
    # every line names the file and says what to do
    for p in load.report.problems:
        assert p.hint and str(p).startswith(p.where) and "建议：" in str(p)

    texts = {a.id: a.text for a in load.articles}
    assert texts["某市噪声管理条例:1"] == "为了防治噪声污染，制定本条例。"
    assert texts["某市噪声管理条例:2"].startswith("本条例\ufffd")  # the stray GBK bytes, marked
    assert texts["人民调解法:4"] == "人民调解委员会调解民间纠纷，不收取任何费用。"
    assert texts["某市物业管理条例:2"] == "乙。"  # first of the duplicates kept
    assert [k for k in texts if k.startswith("某市养犬管理条例")] == [
        "某市养犬管理条例:1",
        "某市养犬管理条例:3",
        "某市养犬管理条例:2",
    ]
    assert texts["某县村规民约:1"] == "村民应当爱护公共设施。"
    assert texts["某市调解条例:2"] == "本条例自公布之日起施行。"  # appendix not glued on
    assert any("GB18030" in n for n in load.report.notes)
    assert load.report.documents == 6


def test_bad_files_do_not_lose_what_was_built(bad_tree, tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "人民调解法(2010-08-28).md").write_text(GOOD, "utf-8")
    cache = tmp_path / "cache"
    before = load_statutes([good], cache_dir=cache)
    after = load_statutes([good, bad_tree], cache_dir=cache)
    ids = {a.id for a in after.articles}
    assert {a.id for a in before.articles} <= ids
    assert not after.changes.removed_articles and not after.changes.changed_articles


def test_parser_crash_is_a_problem_not_an_exception(tmp_path, monkeypatch):
    import ingest.lawrefbook

    def boom(data: bytes, source: str):
        raise RuntimeError("bug")

    monkeypatch.setattr(ingest.lawrefbook, "parse_markdown_bytes", boom)
    (tmp_path / "a.md").write_text(GOOD, "utf-8")
    load = load_statutes([tmp_path], workers=1)
    assert [p.kind for p in load.report.problems] == ["parse-error"]
    assert not load.articles
