"""Bad input made on purpose: each file gets one clear problem line and the rest still ingests."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
import zipfile
from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.cases import load_cases
from ingest.printable import printable
from ingest.records import Case, IngestReport
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


# ---- committee records: CSV that resynchronises, encodings --------------------------

HEADER = ["编号", "案件名称", "日期", "调解组织", "基本案情", "调解结果"]


def row(n: int, *, committee: str = "", date: str = "") -> list[str]:
    return [
        f"{n:03d}",
        f"纠纷{n}",
        date,
        committee,
        f"邻居{n}家漏水，损坏楼下吊顶。",
        "赔偿五百元。",
    ]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def load(*paths: Path) -> tuple[list[Case], IngestReport]:
    report = IngestReport()
    return load_cases(list(paths), report=report), report


def number(case: Case) -> str:
    return case.id.rsplit("-", 1)[-1]


def test_stray_quote_in_row_2_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    path = tmp_path / "调解记录.csv"
    lines = [",".join(HEADER), ",".join(row(1))]
    lines.append('002,纠纷2,,,"他说“不赔”，结果,赔偿。')  # the quote opens a field it never closes
    lines += [",".join(row(n)) for n in range(3, 103)]
    lines.append('103,纠纷103,,,"一楼漏水，""二楼""不认, 后来认了",赔偿。')  # a proper quoted field
    path.write_text("\n".join(lines) + "\n", "utf-8")
    cases, report = load(path)
    assert [number(c) for c in cases] == [f"{n:03d}" for n in range(1, 104) if n != 2]
    assert cases[-1].facts == '一楼漏水，"二楼"不认, 后来认了'
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.where == f"{path}:3" and "引号" in problem.reason and problem.hint


def test_quoted_field_over_several_lines_keeps_its_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        ",".join(HEADER)
        + '\n001,多行,,,"第一段，有逗号, 还有一段。\n第二段。",赔偿。\n'
        + "002,少一列,,,案情\n"
        + ",".join(row(3))
        + "\n",
        "utf-8",
    )
    cases, report = load(path)
    assert [number(c) for c in cases] == ["001", "003"]
    assert cases[0].facts == "第一段，有逗号, 还有一段。\n第二段。"
    assert cases[1].line == 5
    assert [p.where for p in report.problems] == [f"{path}:4"]
    assert "列数" in report.problems[0].reason


TRADITIONAL_HEADER = ["編號", "案件名稱", "日期", "調解組織", "基本案情", "調解結果"]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_committee_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path = tmp_path / "records.csv"
    write_csv(path, [row(1), row(2)], encoding=encoding)
    path.write_bytes(bom + path.read_bytes())
    cases, report = load(path)
    assert [c.facts for c in cases] == [
        "邻居1家漏水，损坏楼下吊顶。",
        "邻居2家漏水，损坏楼下吊顶。",
    ]
    assert report.problems == []


def test_big5_csv_with_traditional_headers_imports(tmp_path: Path) -> None:
    path = tmp_path / "調解記錄.csv"
    rows = [
        TRADITIONAL_HEADER,
        ["001", "漏水", "2024-03-05", "", "鄰居家漏水，損壞樓下吊頂。", "賠償五百元。"],
    ]
    path.write_bytes("\n".join(",".join(r) for r in rows).encode("big5"))
    cases, report = load(path)
    assert [c.facts for c in cases] == ["鄰居家漏水，損壞樓下吊頂。"]
    assert report.problems == []
    assert any("Big5" in n for n in report.notes)


def test_shift_jis_csv_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "記録.csv"
    path.write_bytes(
        "編号,基本案情,調解結果\n1,隣の家で水漏れがあり、天井が壊れました。,五百元を賠償する。\n".encode(
            "shift_jis"
        )
    )
    cases, report = load(path)
    assert cases == []
    assert len(report.problems) == 1
    p = report.problems[0]
    assert p.where == str(path) and "编码" in p.reason and "UTF-8" in p.hint
    assert [f.summary() for f in report.files] and "未导入" in report.files[0].summary()


@pytest.mark.parametrize("encoding", ["big5", "utf-16"])
def test_txt_statute_in_big5_or_utf16(tmp_path: Path, encoding: str) -> None:
    text = "某市養犬管理條例\n第一條　為了規範養犬行為，制定本條例。\n第二條　本條例自公布之日起施行。\n"
    (tmp_path / "養犬條例.txt").write_bytes(text.encode(encoding))
    load_ = load_statutes([tmp_path])
    texts = {a.id: a.text for a in load_.articles}
    assert texts == {
        "某市養犬管理條例:1": "為了規範養犬行為，制定本條例。",
        "某市養犬管理條例:2": "本條例自公布之日起施行。",
    }


def test_shift_jis_txt_statute_is_refused(tmp_path: Path) -> None:
    text = "犬の条例\n第一条　この条例は、犬の飼い方について定める。\n第二条　この条例は公布の日から施行する。\n"
    (tmp_path / "犬.txt").write_bytes(text.encode("shift_jis"))
    load_ = load_statutes([tmp_path])
    assert load_.articles == []
    assert [p.kind for p in load_.report.problems] == ["undecodable"]
    assert "UTF-8" in load_.report.problems[0].hint


# ---- case ids that cannot collide ------------------------------------------------------


def test_two_files_with_the_same_name_and_numbers_both_import(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "2023" / "调解记录.csv", [row(1), row(2)])
    other = [*row(2)[:4], "另一件事：邻里噪音。", "道歉。"]
    b = write_csv(
        tmp_path / "2024" / "调解记录.csv", [[*row(1)[:1], "另一纠纷1", *row(1)[2:]], other]
    )
    cases, report = load(a, b)
    assert len(cases) == 4 and report.problems == []
    assert len({c.id for c in cases}) == 4
    assert [f.imported for f in report.files] == [2, 2]


def test_committee_year_and_number_make_the_id(tmp_path: Path) -> None:
    committee = "枫桥镇人民调解委员会"
    a = write_csv(tmp_path / "a.csv", [row(1, committee=committee, date="2023-05-01")])
    b = write_csv(tmp_path / "b.csv", [row(1, committee=committee, date="2024年5月1日")])
    cases, report = load(a, b)
    assert [c.id for c in cases] == [
        f"committee-{committee}-2023-001",
        f"committee-{committee}-2024-001",
    ]
    again, _ = load(a, b)
    assert [c.id for c in again] == [c.id for c in cases]


def test_ids_are_stable_across_rebuilds_and_copies(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "records.csv", [row(1), row(2)])
    first = [c.id for c in load(a)[0]]
    cache = tmp_path / "cache"
    report = IngestReport()
    assert [c.id for c in load_cases([a], report=report, cache_dir=cache)] == first
    assert [c.id for c in load_cases([a], report=IngestReport(), cache_dir=cache)] == first
    moved = tmp_path / "elsewhere" / "改名.csv"
    moved.parent.mkdir()
    moved.write_bytes(a.read_bytes())
    assert [c.id for c in load(moved)[0]] == first


def test_the_same_row_twice_is_reported_not_dropped_silently(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "records.csv", [row(1), row(2), row(1), [*row(2)[:4], "别的事。", "和解。"]]
    )
    copy = tmp_path / "copy" / "records.csv"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    cases, report = load(path, copy)
    assert [number(c) for c in cases] == ["001", "002"]
    dup = {p.where: p.reason for p in report.problems}
    assert "相同" in dup[f"{path}:4"] and "第 2 行" in dup[f"{path}:4"]
    assert "编号" in dup[f"{path}:5"] and "第 3 行" in dup[f"{path}:5"]
    assert all(f"{copy}:" in w for w in list(dup)[2:]) and len(dup) == 6
    files = {f.path: f for f in report.files}
    assert len(files[str(path)].duplicates) == 2 and files[str(path)].imported == 2
    assert len(files[str(copy)].duplicates) == 4 and files[str(copy)].imported == 0


# ---- a report per file ----------------------------------------------------------------


def test_per_file_report_counts_rows_and_names_rejected_lines(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + ",".join(row(1))
        + "\n"
        + '002,坏引号,,,"没有结尾,结果\n'
        + "003,缺案情,,,,结果\n"
        + ",".join(row(4))
        + "\n"
        + ",".join([*row(5)[:2], "昨天", *row(5)[3:]])
        + "\n",
        "utf-8",
    )
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text(
        json.dumps(
            {"编号": "1", "基本案情": "邻居漏水。", "调解结果": "赔偿。"}, ensure_ascii=False
        )
        + "\n{坏的\n",
        "utf-8",
    )
    _, report = load(path, jsonl)
    csv_report, jsonl_report = report.files
    assert (csv_report.path, csv_report.kind, csv_report.read, csv_report.imported) == (
        str(path),
        "csv",
        5,
        3,
    )
    assert [p.where for p in csv_report.rejected] == [f"{path}:3", f"{path}:4"]
    assert [p.where for p in csv_report.warnings] == [f"{path}:6"]
    assert csv_report.duplicates == ()
    assert csv_report.summary() == (
        "records.csv（CSV）：读取 5 行，导入 3 件，未导入 2 行（第 3、4 行），提示 1 条"
    )
    assert (jsonl_report.read, jsonl_report.imported, len(jsonl_report.rejected)) == (2, 1, 1)
    lines = report.lines()
    assert lines[0] == csv_report.summary()
    assert any(line.strip().startswith(f"{path}:3:") for line in lines)


def test_statute_files_get_a_report_too(bad_tree: Path) -> None:
    load_ = load_statutes([bad_tree])
    files = {Path(f.path).name: f for f in load_.report.files}
    good = files["人民调解法(2010-08-28).md"]
    assert good.imported == 6 and good.read >= 30 and not good.rejected
    assert files["损坏.pdf"].imported == 0 and [p.kind for p in files["损坏.pdf"].rejected] == [
        "corrupt"
    ]
    assert [p.kind for p in files["重复条号.md"].duplicates] == ["duplicate"]
    assert files["重复条号.md"].imported == 3
    assert "未导入" in files["超大.txt"].summary()


# ---- drop-in never overwrites ------------------------------------------------------------


def test_dropin_keeps_both_files_of_the_same_name(tmp_path: Path) -> None:
    from ingest.dropin import deposit

    folder = tmp_path / "drop-in"
    first = deposit(folder, "调解记录.csv", b"a,b\n1,2\n")
    second = deposit(folder, "调解记录.csv", b"a,b\n3,4\n")
    third = deposit(folder, "调解记录.csv", b"a,b\n5,6\n")
    again = deposit(folder, "调解记录.csv", b"a,b\n3,4\n")
    assert (first.status, second.status, third.status, again.status) == (
        "saved",
        "renamed",
        "renamed",
        "present",
    )
    assert second.path.name == "调解记录 (2).csv" and third.path.name == "调解记录 (3).csv"
    assert again.path == second.path
    assert (folder / "调解记录.csv").read_bytes() == b"a,b\n1,2\n"
    assert sorted(p.name for p in folder.iterdir()) == [
        "调解记录 (2).csv",
        "调解记录 (3).csv",
        "调解记录.csv",
    ]
    assert "调解记录 (2).csv" in second.summary() and "已有" in again.summary()


def test_cli_add_path_never_overwrites(tmp_path: Path) -> None:
    from retrieval.admin import Upload, add_files

    kb = tmp_path / "kb"
    one, two = tmp_path / "a" / "法规.md", tmp_path / "b" / "法规.md"
    for p, text in ((one, "第一条 甲。"), (two, "第一条 乙。")):
        p.parent.mkdir()
        p.write_text(text, "utf-8")
    uploads = [Upload.from_path(one), Upload.from_path(two)]
    saved = add_files(kb, uploads, build=False).saved
    assert [f.path.read_text("utf-8") for f in saved] == ["第一条 甲。", "第一条 乙。"]
    again = add_files(kb, uploads, build=False).saved
    assert [f.status for f in again] == ["present", "present"]
    assert len(list((kb / "drop-in").iterdir())) == 2


# ---- guards in every reader ---------------------------------------------------------------


def test_deep_nesting_in_jsonl_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = json.dumps(
        {"编号": "1", "基本案情": "邻居漏水。", "调解结果": "赔偿。"}, ensure_ascii=False
    )
    nested = json.dumps({"编号": "3", "基本案情": [[[["x"]]]], "调解结果": "赔偿。"})
    path.write_text(
        "\n".join([good, "[" * 100_000, nested, good.replace('"1"', '"4"'), "9" * 5000]) + "\n",
        "utf-8",
    )
    cases, report = load(path)
    assert [number(c) for c in cases] == ["1", "4"]
    assert [p.where for p in report.problems] == [f"{path}:2", f"{path}:3", f"{path}:5"]
    assert "嵌套" in report.problems[0].reason


def test_deep_nesting_in_a_json_array_is_one_bad_element(tmp_path: Path) -> None:
    path = tmp_path / "legal_counsel_with_article_v2.json"
    path.write_text(
        '[{"query": "问一", "laws": [], "response": "答一"},\n' + "[" * 100_000 + "\n]",
        "utf-8",
    )
    cases, report = load(path)
    assert [c.id for c in cases] == ["lawyer-llama-0000"]
    assert len(report.problems) == 1 and report.problems[0].where.startswith(f"{path}:")


def test_huge_article_numbers_are_not_labels() -> None:
    from ingest.citations import extract_citations
    from ingest.names import MAX_ARTICLE, cn_to_int, parse_label

    assert parse_label("第100000000000000000条") is None
    assert parse_label("第一万万万万条") is None
    assert parse_label("第0条") is None and extract_citations("民法典第零条") == []
    assert extract_citations("民法典第100000000000000000条") == []
    assert parse_label(f"第{MAX_ARTICLE}条") == (MAX_ARTICLE, "", len(f"第{MAX_ARTICLE}条"))
    with pytest.raises(ValueError):
        cn_to_int(str(MAX_ARTICLE + 1))
    assert [c.article for c in extract_citations("《民法典》第一千零七十九条、第10001条")] == [
        "1079"
    ]


def test_huge_article_number_in_a_statute_does_not_lose_the_file(tmp_path: Path) -> None:
    (tmp_path / "某条例.md").write_text(
        md("某条例", "第一条 甲。", "第100000000000000000条 乙。", "第二条 丙。"), "utf-8"
    )
    load_ = load_statutes([tmp_path])
    assert [a.id for a in load_.articles] == ["某条例:1", "某条例:2"]


def test_one_article_numeral_pattern() -> None:
    import ingest.citations
    import ingest.formats.plaintext
    import ingest.names

    pattern = ingest.names.ARTICLE_LABEL
    assert ingest.formats.plaintext.ARTICLE_LABEL is pattern
    assert ingest.citations.ARTICLE_LABEL is pattern
    for text in ("第一〇七九条", "第1079条之一", "第两百条"):
        assert ingest.names.parse_label(text)
        assert ingest.formats.plaintext.match_label(text, need_gap=False)
        assert ingest.citations.extract_citations("民法典" + text)


def zip_bomb_docx(member_mb: int) -> bytes:
    """A valid DOCX whose document.xml inflates to ``member_mb`` MB of XML."""
    ok = docx_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(ok)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                pad = b"<!--" + b" " * (member_mb << 20) + b"-->"
                data = data.replace(b"<w:body>", b"<w:body>" + pad, 1)
            dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.mark.parametrize("member_mb", [3, 60])
def test_zip_bomb_docx_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, member_mb: int
) -> None:
    import docx

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("python-docx must not open a zip bomb")

    bomb = zip_bomb_docx(member_mb)
    assert len(bomb) < 300_000
    statutes, cases = tmp_path / "statutes", tmp_path / "cases"
    statutes.mkdir()
    cases.mkdir()
    (statutes / "炸弹.docx").write_bytes(bomb)
    (cases / "炸弹.docx").write_bytes(bomb)
    monkeypatch.setattr(docx, "Document", never)
    load_ = load_statutes([statutes], workers=1)
    got, report = load(cases)
    for problems in (load_.report.problems, report.problems):
        assert [p.kind for p in problems] == ["unzip-limit"]
        assert "解压" in problems[0].reason and problems[0].where.endswith("炸弹.docx")


def test_routing_a_dropped_in_zip_bomb_never_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing decides statute or case by a DOCX's first lines: the size guard comes
    before python-docx, as it does before the parsers (a 2 MB bomb took 4.3 GB here)."""
    import docx

    from ingest.route import split_files

    bomb = tmp_path / "炸弹.docx"
    bomb.write_bytes(zip_bomb_docx(60))
    good = tmp_path / "调解书.docx"
    good.write_bytes(make_bad_inputs.docx(["调解书", "基本案情：甲。", "调解结果：乙。"]))
    opened: list[object] = []
    real = docx.Document
    monkeypatch.setattr(docx, "Document", lambda *a, **k: opened.append(a) or real(*a, **k))
    assert split_files([bomb, good]) == ([bomb], [good])  # the statute reader reports the bomb
    assert len(opened) == 1  # the good file only


def test_control_characters_are_stripped_from_fields(tmp_path: Path) -> None:
    from ui.documents.export import Block, to_docx

    path = tmp_path / "records.csv"
    write_csv(path, [[*row(1)[:4], "邻居\x00漏水\x1b[2J，\x0c损坏\x7f吊顶。", "赔偿\x01五百元。"]])
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text(
        json.dumps(
            {"编号": "2", "基本案情": "邻居\u0000漏水\u001b。\ud800", "调解结果": "赔偿\ufffe。"}
        )
        + "\n",
        "utf-8",
    )
    cases, report = load(path, jsonl)
    assert [c.facts for c in cases] == ["邻居漏水[2J，损坏吊顶。", "邻居漏水。"]
    assert [c.outcome for c in cases] == ["赔偿五百元。", "赔偿。"]
    assert to_docx([Block("paragraph", c.text) for c in cases])
    assert any("控制字符" in n for n in report.notes)


def test_oversize_field_rejects_the_row_only(tmp_path: Path) -> None:
    from ingest.cases.committee import MAX_FIELD

    path = write_csv(
        tmp_path / "records.csv", [row(1), [*row(2)[:4], "长" * (MAX_FIELD + 1), "赔偿。"], row(3)]
    )
    cases, report = load(path)
    assert [number(c) for c in cases] == ["001", "003"]
    assert [p.where for p in report.problems] == [f"{path}:3"]
    assert "过长" in report.problems[0].reason


# ---- paths: links out of the folder, hidden names, names that are not printable ------------


def test_symlink_out_of_a_statutes_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "秘密.md").write_text(md("秘密条例", "第一条 机密内容。"), "utf-8")
    folder = tmp_path / "statutes"
    folder.mkdir()
    (folder / "人民调解法(2010-08-28).md").write_text(GOOD, "utf-8")
    (folder / "链接.md").symlink_to(outside / "秘密.md")
    (folder / "目录链接").symlink_to(outside, target_is_directory=True)
    (folder / "内部链接.md").symlink_to(folder / "人民调解法(2010-08-28).md")
    load_ = load_statutes([folder])
    assert not any(a.law == "秘密条例" for a in load_.articles)
    assert any(a.law == "人民调解法" for a in load_.articles)
    kinds = {Path(p.where).name: p.kind for p in load_.report.problems}
    assert kinds == {"链接.md": "outside", "目录链接": "outside"}


def test_symlink_out_of_a_cases_folder_is_not_followed(tmp_path: Path) -> None:
    outside = write_csv(tmp_path / "outside" / "x.csv", [row(1)])
    folder = tmp_path / "cases"
    folder.mkdir()
    write_csv(folder / "own.csv", [row(7)])
    (folder / "link.csv").symlink_to(outside)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    cases, report = load(folder)
    assert [number(c) for c in cases] == ["007"]
    assert {Path(p.where).name: p.kind for p in report.problems} == {"link.csv": "outside"}


def test_hidden_files_are_reported_once(tmp_path: Path) -> None:
    (tmp_path / "..民法典.md").write_text(GOOD, "utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text(GOOD, "utf-8")
    (tmp_path / "人民调解法.md").write_text(GOOD, "utf-8")
    load_ = load_statutes([tmp_path])
    assert [(Path(p.where).name, p.kind) for p in load_.report.problems] == [
        ("..民法典.md", "hidden")
    ]
    assert "隐藏文件" in load_.report.problems[0].reason
    assert sum(".git" in n for n in load_.report.notes) == 1
    cases_dir = tmp_path / "cases"
    cases_dir.mkdir()
    write_csv(cases_dir / ".records.csv", [row(1)])
    _, report = load(cases_dir)
    assert [p.kind for p in report.problems] == ["hidden"]


def test_printable_escapes_what_could_forge_output() -> None:
    from ingest.printable import printable

    assert printable("a\nb\x1b[2J\u202ec") == "a\\nb\\x1b[2J\\u202ec"
    assert printable(printable("a\nb")) == "a\\nb"
    assert printable("民法典(2020).md") == "民法典(2020).md"
    assert printable("bad\udcff.md") == "bad\\udcff.md"


def test_hostile_file_names_never_reach_output_raw(tmp_path: Path) -> None:
    statutes = tmp_path / "statutes"
    statutes.mkdir()
    (statutes / "x\n注意：已删除全部法规\x1b[2J.md").write_text("not a statute", "utf-8")
    (statutes / "y\x1b]0;title\x07.pdf").write_bytes(b"%PDF-1.4 broken")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "z\r\n.csv").write_bytes("编号\n1\n".encode())
    load_ = load_statutes([statutes])
    report = IngestReport()
    load_cases([cases], report=report)
    out = [str(p) for p in load_.report.problems + report.problems]
    out += load_.report.notes + report.notes + load_.report.lines() + report.lines()
    assert len(load_.report.problems) == 2 and len(report.problems) == 1
    for line in out:
        assert not re.search(r"[\x00-\x1f\x7f]", line), line
    assert any("x\\n注意" in line for line in out)


# ---- the bad-input corpus (tests/data/make_bad_inputs.py → tests/data/bad/) -----------------

sys.path.insert(0, str(Path(__file__).parent / "data"))
import make_bad_inputs  # noqa: E402

CORPUS = Path(__file__).parent / "data" / "bad"


def test_committed_corpus_is_what_the_script_writes(tmp_path: Path) -> None:
    fresh = make_bad_inputs.build(tmp_path / "bad")
    committed = json.loads((CORPUS / "expected.json").read_text("utf-8"))
    assert committed == [asdict(e) for e in fresh], "run python tests/data/make_bad_inputs.py"
    for e in fresh:
        path = CORPUS / e.path
        assert path.is_symlink() or path.is_file(), e.path
        if not path.is_symlink() and not e.path.endswith(".pdf"):
            assert path.read_bytes() == (tmp_path / "bad" / e.path).read_bytes(), e.path


def test_whole_corpus_one_line_per_bad_file_and_the_rest_ingested(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    shutil.copytree(CORPUS, root, symlinks=True)
    expected = [
        make_bad_inputs.Expect(**e) for e in json.loads((root / "expected.json").read_text("utf-8"))
    ]
    expected += make_bad_inputs.add_runtime_files(root)

    statutes = load_statutes([root / "statutes"], workers=1)
    case_report = IngestReport()
    cases = load_cases([root / "cases"], report=case_report)
    problems = statutes.report.problems + case_report.problems
    files = {f.path: f for f in statutes.report.files + case_report.files}

    for e in expected:
        path = str(root / e.path)
        about = [p for p in problems if p.about(path)]
        if e.kind is None:
            assert about == [], (e.path, about)
        else:
            assert [p.kind for p in about] == [e.kind], (e.path, e.why, about)
            line = str(about[0])
            assert line.startswith(printable(path)) and "建议：" in line, line
        if e.imported is None:
            assert path not in files, e.path
        else:
            assert files[path].imported == e.imported, (e.path, e.why, files[path])
    # nothing else was reported, and nothing from outside the folders was read
    assert len(problems) == sum(e.kind is not None for e in expected)
    assert not any("秘密" in a.law for a in statutes.articles)
    assert not any("不应被读取" in c.text for c in cases)
    assert statutes.report.articles == sum(
        e.imported or 0 for e in expected if e.path.startswith("statutes/")
    )
    assert len(cases) == sum(e.imported or 0 for e in expected if e.path.startswith("cases/"))
    for line in statutes.report.lines(every_file=True) + case_report.lines(every_file=True):
        assert not re.search(r"[\x00-\x1f\x7f]", line), line


def test_one_bad_dispute_type_per_row_is_one_warning_for_the_file(tmp_path: Path) -> None:
    src = CORPUS / "cases" / "纠纷类型都不对.csv"
    cases, report = load(src)
    assert len(cases) == 149
    (problem,) = report.problems
    assert problem.where == str(src) and "等 149 行" in problem.reason
    assert "“类型1”“类型2”“类型0”" in problem.reason and "分类器" in problem.reason
