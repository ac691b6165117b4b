"""Write the bad-input corpus under tests/data/bad/: every malformed, hostile or tricky input the readers must survive.

Usage: python tests/data/make_bad_inputs.py [--out DIR]

Each file is listed in ``expected.json`` with the problem kind the readers must
report for it (exactly one line; ``null`` for a good file) and how many articles
or cases it must still give. tests/test_bad_input.py loads the whole corpus and
checks it. Inputs that git cannot hold (a 200 MB sparse file, names with
newlines or escape sequences) are made by :func:`add_runtime_files` at test time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "bad"
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Expect:
    """What the readers must make of one file of the corpus."""

    path: str  # relative to the corpus root
    kind: str | None  # the one problem kind reported for it; None: no problem at all
    imported: int | None  # articles or cases it still gives; None: not read at all
    why: str


# ---- content makers --------------------------------------------------------------------


def md(title: str, *articles: str, tail: str = "") -> str:
    return f"# {title}\n\n<!-- INFO END -->\n\n" + "\n\n".join(articles) + "\n" + tail


def docx(paragraphs: list[str], *, pad_mb: int = 0) -> bytes:
    """A minimal DOCX with fixed timestamps (the same bytes every run)."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    pad = "<!--" + " " * (pad_mb << 20) + "-->" if pad_mb else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{pad}{body}</w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(
                zipfile.ZipInfo(name, _FIXED_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def pdf(lines: list[str], *, encrypt: str = "", graphics_only: bool = False) -> bytes:
    """A one-page PDF (reportlab, invariant: the same bytes every run)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1, encrypt=encrypt or None)
    if graphics_only:  # what a scan without OCR looks like to a text extractor
        for i in range(30):
            c.rect(72, 780 - 20 * i, 400, 8, fill=1)
    else:
        c.setFont("STSong-Light", 12)
        for i, ln in enumerate(lines):
            c.drawString(72, 780 - 20 * i, ln)
    c.showPage()
    c.save()
    return buf.getvalue()


HEADER = ["编号", "案件名称", "日期", "调解组织", "基本案情", "调解结果"]


def record(n: int, *, committee: str = "", date: str = "", facts: str = "") -> list[str]:
    return [
        f"{n:03d}",
        f"漏水纠纷{n}",
        date,
        committee,
        facts or f"{n}号楼上住户家中水管破裂，渗水损坏楼下吊顶。",
        "楼上住户赔偿维修费五百元。",
    ]


def table(rows: list[list[str]], *, header: list[str] = HEADER) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def jsonl(*objs: object) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


GOOD_STATUTE = md(
    "某市物业管理条例",
    "第一条　为了规范物业管理活动，制定本条例。",
    "第二条　本条例适用于本市行政区域内的物业管理活动。",
    "第三条　本条例自公布之日起施行。",
)
TRADITIONAL_STATUTE = (
    "某市養犬管理條例\n第一條　為了規範養犬行為，制定本條例。\n第二條　本條例自公布之日起施行。\n"
)
JAPANESE_STATUTE = "犬の条例\n第一条　この条例は、犬の飼い方について定める。\n第二条　この条例は公布の日から施行する。\n"


# ---- the corpus ----------------------------------------------------------------------------


def statutes() -> list[tuple[Expect, Callable[[], bytes]]]:
    gbk_mixed = md(
        "某市噪声管理条例",
        "第一条　为了防治噪声污染，制定本条例。",
        "第二条　本条例自公布之日起施行。",
    )
    return [
        (
            Expect("statutes/物业管理条例.md", None, 3, "a good statute"),
            lambda: GOOD_STATUTE.encode(),
        ),
        (
            Expect("statutes/村规民约-GB18030.txt", None, 1, "GB18030 is normal for TXT: a note"),
            lambda: "某村村规民约\n第一条　村民应当爱护公共设施。\n".encode("gb18030"),
        ),
        (
            Expect("statutes/养犬条例-Big5.txt", None, 2, "Big5, traditional 條"),
            lambda: TRADITIONAL_STATUTE.encode("big5"),
        ),
        (
            Expect("statutes/养犬条例-UTF16.txt", None, 2, "UTF-16 with a byte-order mark"),
            lambda: TRADITIONAL_STATUTE.replace("某市", "某县").encode("utf-16"),
        ),
        (
            Expect(
                "statutes/日文-Shift-JIS.txt", "undecodable", 0, "Shift-JIS: refused in one line"
            ),
            lambda: JAPANESE_STATUTE.encode("shift_jis"),
        ),
        (
            Expect("statutes/国标编码.md", "encoding", 1, "GB18030 Markdown: decoded, warned"),
            lambda: md("某县调解规定", "第一条　村民纠纷先行调解。").encode("gb18030"),
        ),
        (
            Expect("statutes/混合编码.md", "encoding", 2, "a few GBK bytes in UTF-8"),
            lambda: (
                gbk_mixed.replace("本条例自", "本条例\0自")
                .encode()
                .replace(b"\0", "自".encode("gbk"))
            ),
        ),
        (Expect("statutes/空文件.md", "empty", 0, "0 bytes"), lambda: b""),
        (Expect("statutes/图片.md", "binary", 0, "binary bytes"), lambda: bytes(range(256)) * 8),
        (
            Expect("statutes/损坏.pdf", "corrupt", 0, "not a PDF inside"),
            lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf\n",
        ),
        (
            Expect("statutes/加密.pdf", "encrypted", 0, "a user password"),
            lambda: pdf(["某条例", "第一条 甲。"], encrypt="secret"),
        ),
        (
            Expect("statutes/扫描件.pdf", "needs-ocr", 0, "no text layer"),
            lambda: pdf([], graphics_only=True),
        ),
        (
            Expect("statutes/截断.docx", "corrupt", 0, "half a DOCX"),
            lambda: docx(["某条例", "第一条　甲。"])[:300],
        ),
        (
            Expect("statutes/压缩炸弹.docx", "unzip-limit", 0, "3 MB of XML in a few KB"),
            lambda: docx(["某条例", "第一条　甲。"], pad_mb=3),
        ),
        (
            Expect("statutes/重复条号.md", "duplicate", 3, "第二条 twice: the second is left out"),
            lambda: md(
                "某市电梯管理条例", "第一条 甲。", "第二条 乙。", "第二条 丙。", "第三条 丁。"
            ).encode(),
        ),
        (
            Expect("statutes/编号倒退.md", "order", 2, "第二条 before 第一条"),
            lambda: md("某市养犬管理办法", "第二条 乙。", "第一条 甲。").encode(),
        ),
        (
            Expect("statutes/条号过大.md", "bad-number", 2, "第100000000000000000条"),
            lambda: md(
                "某市绿化条例", "第一条 甲。", "第100000000000000000条 乙。", "第二条 丙。"
            ).encode(),
        ),
        (
            Expect("statutes/无条文.md", "no-articles", 0, "a decision without 第X条"),
            lambda: md("某决定", "一、同意。", "二、本决定自公布之日起施行。").encode(),
        ),
        (
            Expect("statutes/有附件.md", "appendix", 2, "附件 after the articles"),
            lambda: md(
                "某市调解条例",
                "第一条 甲。",
                "第二条 本条例自公布之日起施行。",
                tail="\n附件：调解协议书样式\n\n调解协议书（样式）\n",
            ).encode(),
        ),
        (
            Expect("statutes/旧格式.doc", "unsupported", None, "Word 97"),
            lambda: b"\xd0\xcf\x11\xe0" + b"\x00" * 100,
        ),
        (
            Expect("statutes/~$打开中.docx", None, None, "Word's lock file: ignored"),
            lambda: b"\x00" * 162,
        ),
        (
            Expect("statutes/..民法典.md", "hidden", None, "a hidden name: reported"),
            lambda: GOOD_STATUTE.encode(),
        ),
        (
            Expect("outside/秘密条例.md", None, None, "target of the links below"),
            lambda: md("秘密条例", "第一条 不应被读取的内容。").encode(),
        ),
    ]


def statute_links() -> list[tuple[Expect, str]]:
    return [
        (
            Expect("statutes/链接.md", "outside", None, "a link out of the folder"),
            "../outside/秘密条例.md",
        ),
        (Expect("statutes/外部文件夹", "outside", None, "a folder link out"), "../outside"),
        (
            Expect(
                "statutes/内部链接.md", None, None, "a link inside: read once, at its real place"
            ),
            "物业管理条例.md",
        ),
    ]


def cases() -> list[tuple[Expect, Callable[[], bytes]]]:
    committee = "枫桥镇人民调解委员会"
    stray = table([record(1)]).splitlines()
    stray.append('002,引号没有结束,,,"楼上漏水，结果,赔偿。')
    stray += table([record(n) for n in range(3, 23)]).splitlines()[1:]
    return [
        (
            Expect("cases/good.csv", None, 3, "a good table"),
            lambda: table(
                [record(n, committee=committee, date="2024-03-05") for n in (1, 2, 3)]
            ).encode(),
        ),
        (
            Expect("cases/good.jsonl", None, 2, "a good JSONL"),
            lambda: jsonl(
                {"编号": "1", "基本案情": "邻居家空调外机噪音扰民。", "调解结果": "移机。"},
                {
                    "id": "2",
                    "facts": "租客拖欠三个月房租。",
                    "result": "分期付清。",
                    "parties": ["王某", "李某"],
                },
            ).encode(),
        ),
        (
            Expect("cases/stray-quote.csv", "csv", 21, "row 2 opens a quote it never closes"),
            lambda: ("\n".join(stray) + "\n").encode(),
        ),
        (
            Expect("cases/big5.csv", None, 1, "Big5 with traditional headers"),
            lambda: table(
                [["001", "漏水", "2024-03-05", "", "鄰居家漏水，損壞樓下吊頂。", "賠償五百元。"]],
                header=["編號", "案件名稱", "日期", "調解組織", "基本案情", "調解結果"],
            ).encode("big5"),
        ),
        (
            Expect("cases/utf16.csv", None, 2, "UTF-16 (Excel's Unicode text)"),
            lambda: table([record(1), record(2)]).encode("utf-16"),
        ),
        (
            Expect("cases/gbk.csv", None, 1, "GBK, as Excel saves by default"),
            lambda: table([record(1, facts="邻居堆放杂物堵塞楼道。")]).encode("gbk"),
        ),
        (
            Expect("cases/shift-jis.csv", "encoding", 0, "Shift-JIS: refused in one line"),
            lambda: (
                "編号,基本案情,調解結果\n1,隣の家で水漏れがあり、天井が壊れました。,五百元を賠償する。\n".encode(
                    "shift_jis"
                )
            ),
        ),
        (
            Expect(
                "cases/2023/调解记录.csv", None, 2, "same name and numbers as 2024/: both import"
            ),
            lambda: table([record(1), record(2)]).encode(),
        ),
        (
            Expect("cases/2024/调解记录.csv", None, 2, "same name and numbers as 2023/"),
            lambda: table(
                [record(1, facts="租客拖欠房租。"), record(2, facts="宠物狗咬伤邻居。")]
            ).encode(),
        ),
        (
            Expect("cases/duplicate-row.csv", "duplicate", 2, "the same row twice"),
            lambda: table([record(7), record(8), record(7)]).encode(),
        ),
        (
            Expect("cases/control-chars.csv", None, 1, "control characters stripped, noted"),
            lambda: table([record(1, facts="楼上\x00漏水\x1b[2J，\x0c损坏\x7f吊顶。")]).encode(),
        ),
        (
            Expect("cases/oversize-field.csv", "too-long", 1, "a 50,001-character field"),
            lambda: table([record(1), record(2, facts="x" * 50_001)]).encode(),
        ),
        (
            Expect("cases/missing-field.csv", "fields", 1, "no 基本案情 in one row"),
            lambda: table([record(1), [*record(2)[:4], "", "赔偿。"]]).encode(),
        ),
        (
            Expect("cases/column-count.csv", "csv", 1, "one column too many"),
            lambda: (table([record(1)]) + "2,多一列,,,案情,结果,多余\n").encode(),
        ),
        (
            Expect("cases/no-header.csv", "header", 0, "no 编号/基本案情 columns"),
            lambda: b"a,b,c\n1,2,3\n",
        ),
        (Expect("cases/empty.csv", "empty", 0, "0 bytes"), lambda: b""),
        (Expect("cases/binary.csv", "binary", 0, "binary bytes"), lambda: bytes(range(256)) * 4),
        (
            Expect("cases/nested.jsonl", "json", 2, "5,000 [ on one line"),
            lambda: (
                jsonl({"编号": "1", "基本案情": "邻居漏水。", "调解结果": "赔偿。"}).encode()
                + b"[" * 5000
                + b"\n"
                + jsonl({"编号": "3", "基本案情": "邻居噪音。", "调解结果": "道歉。"}).encode()
            ),
        ),
        (
            Expect("cases/bad-json.jsonl", "json", 1, "one line is not JSON"),
            lambda: (
                jsonl({"编号": "1", "基本案情": "邻居漏水。", "调解结果": "赔偿。"}).encode()
                + '{"编号": "2", "基本案情": "缺右括号"\n'.encode()
            ),
        ),
        (
            Expect("cases/legal_counsel_with_article_nested.json", "json", 1, "a nested element"),
            lambda: (
                '[{"query": "问一", "laws": [], "response": "答一"},\n' + "[" * 5000 + "\n]"
            ).encode(),
        ),
        (
            Expect("cases/lawbench-truncated.json", "json", 1, "a LawBench 3-8 array cut off"),
            lambda: (
                '[{"instruction": "请回答", "question": "问一？", "answer": "回答:一。"},\n'
                '{"instruction": "请回答", "question": "问二？", "ans'
            ).encode(),
        ),
        (
            Expect("cases/other.json", "unknown", None, "not a known JSON source"),
            lambda: b'{"a": 1}',
        ),
        (
            Expect("cases/broken.docx", "corrupt", 0, "not a zip"),
            lambda: b"PK\x03\x04 not really a zip",
        ),
        (
            Expect("cases/bomb.docx", "unzip-limit", 0, "3 MB of XML in a few KB"),
            lambda: docx(["调解书", "基本案情：甲。", "调解结果：乙。"], pad_mb=3),
        ),
        (
            Expect("cases/broken.pdf", "corrupt", 0, "not a PDF inside"),
            lambda: b"%PDF-1.4 truncated",
        ),
        (Expect("cases/scan.pdf", "scan", 0, "no text layer"), lambda: pdf([], graphics_only=True)),
        (
            Expect("cases/locked.pdf", "encrypted", 0, "a user password"),
            lambda: pdf(["abc"], encrypt="secret"),
        ),
        (
            Expect(
                "cases/纠纷类型都不对.csv",
                "fields",
                149,
                "149 rows, each with a dispute type not in the table: one warning",
            ),
            lambda: table(
                [[*record(n), f"类型{n % 3}"] for n in range(1, 150)],
                header=[*HEADER, "纠纷类型"],
            ).encode(),
        ),
        (
            Expect("cases/.hidden.csv", "hidden", None, "a hidden name: reported"),
            lambda: table([record(1)]).encode(),
        ),
        (
            Expect("outside/x.csv", None, None, "target of the link below"),
            lambda: table([record(9, facts="不应被读取。")]).encode(),
        ),
    ]


def case_links() -> list[tuple[Expect, str]]:
    return [
        (Expect("cases/link.csv", "outside", None, "a link out of the folder"), "../outside/x.csv"),
        (Expect("cases/loop", None, None, "a link to the folder itself: not entered"), "."),
    ]


def build(out: Path) -> list[Expect]:
    """Write the corpus into ``out`` (emptied first) and return what is expected of each file."""
    if out.exists():
        shutil.rmtree(out)
    expected: list[Expect] = []
    for exp, make in statutes() + cases():
        path = out / exp.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
        expected.append(exp)
    for exp, target in statute_links() + case_links():
        path = out / exp.path
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
        expected.append(exp)
    (out / "expected.json").write_text(
        json.dumps([asdict(e) for e in expected], ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    return expected


def add_runtime_files(root: Path) -> list[Expect]:
    """Inputs git cannot hold, added to a copy of the corpus at test time."""
    extra = [
        Expect("statutes/超大.txt", "too-large", 0, "200 MB on paper (sparse)"),
        Expect(
            "statutes/换行\n注意：已删除全部法规\x1b[2J.md", None, 3, "a name that forges a line"
        ),
        Expect("statutes/y\x1b]0;title\x07.pdf", "corrupt", 0, "a name that retitles a terminal"),
        Expect("cases/z\r\n.csv", None, 1, "a carriage return in a name"),
    ]
    with open(root / extra[0].path, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    (root / extra[1].path).write_bytes(GOOD_STATUTE.replace("物业", "停车").encode())
    (root / extra[2].path).write_bytes(b"%PDF-1.4 broken")
    (root / extra[3].path).write_bytes(table([record(5, facts="名字里有回车。")]).encode())
    return extra


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    expected = build(args.out)
    print(f"{len(expected)} 个文件写入 {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
