"""Case ingest: the three source layouts, the committee formats, bad input and the real corpus."""

from __future__ import annotations

import csv
import json
import os
import tracemalloc
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from ingest.cases import load_cases
from ingest.cases.classify import classify
from ingest.cases.consultations import iter_json_array
from ingest.cases.sections import SECTION_NAMES, canonical_section
from ingest.records import DISPUTE_TYPES, Case, IngestReport

DATA = Path(__file__).parent / "data" / "cases"
CORPUS = Path(
    os.environ.get("FENGQIAO_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
EVAL = CORPUS.parent / "eval"


def load(*paths: Path) -> tuple[list[Case], IngestReport]:
    report = IngestReport()
    return load_cases(list(paths), report=report), report


def by_id(cases: list[Case]) -> dict[str, Case]:
    return {c.id: c for c in cases}


# ---- fixtures shaped like the real sources ----------------------------------


def test_fixture_folder_loads_every_source() -> None:
    cases, report = load(DATA)
    kinds = Counter(c.kind for c in cases)
    assert kinds == {
        "法院典型案例": 2,
        "法律咨询解答": 3,
        "AI 生成解答（未经核实）": 2,
        "调解案例": 8,
    }
    assert any("3-2.json" in n and "跳过" in n for n in report.notes)
    assert not any(c.id.startswith("lawbench-3-2") for c in cases)
    assert report.problems == []
    assert report.cases == len(cases)
    for c in cases:
        assert c.dispute_type in DISPUTE_TYPES
        assert all(name in SECTION_NAMES for name, _ in c.sections), c.sections


def test_consultation_ids_and_sections() -> None:
    cases = by_id(load(DATA / "lawbench", DATA / "lawyer_llama")[0])
    assert sorted(cases) == [
        "lawbench-3-8-0000",
        "lawbench-3-8-0001",
        "lawbench-3-8-0002",
        "lawyer-llama-0000",
        "lawyer-llama-0001",
    ]
    c = cases["lawbench-3-8-0001"]
    assert c.kind == "法律咨询解答" and c.trust == "unverified"
    assert [n for n, _ in c.sections] == ["问题", "回答", "法律依据"]
    assert c.section("回答").startswith("可以解除劳动合同")
    # 第四十六条 is cited by the answer; 本法第三十八条 inside the quoted text is not a new citation.
    assert [(x.law, x.article, x.detail) for x in c.cited] == [
        ("劳动合同法", "38", "第一款第（二）项"),
        ("劳动合同法", "46", ""),
    ]
    assert "Apache-2.0" in c.source
    ll = cases["lawyer-llama-0000"]
    assert [(x.law, x.article) for x in ll.cited] == [("民法典", "1079"), ("民法典", "1091")]
    assert "学术" in ll.source and "语言模型" in ll.source
    assert cases["lawbench-3-8-0002"].cited == ()


def test_typical_cases_sections_date_region_type() -> None:
    cases = load(DATA / "lawrefbook_cases")[0]
    noise = next(c for c in cases if "相邻" in c.title)
    assert noise.kind == "法院典型案例" and noise.trust == "official"
    assert noise.title == "刘某诉陈某相邻关系纠纷案——相邻一方装修应合理控制噪音"
    assert [n for n, _ in noise.sections] == ["要点", "基本案情", "裁判结果", "典型意义"]
    assert noise.date == "2023-05-10"
    assert noise.parties == ("刘某", "陈某")
    assert noise.region == "浙江省杭州市西湖区"
    assert noise.dispute_type == "邻里关系" and noise.dispute_type_origin == "classifier"
    cited = {(x.law, x.article): x for x in noise.cited}
    assert set(cited) == {("民法典", "288"), ("民法典", "294"), ("婚姻法", "32")}
    assert cited[("婚姻法", "32")].repealed
    labour = next(c for c in cases if "加班" in c.title)
    assert [n for n, _ in labour.sections] == ["基本案情", "裁判结果", "适用解析"]
    assert labour.dispute_type == "劳动劳务" and labour.dispute_type_origin == "metadata"
    assert labour.outcome.startswith("仲裁委员会裁决")
    # Ids are stable across runs.
    assert [c.id for c in cases] == [c.id for c in load(DATA / "lawrefbook_cases")[0]]


def test_parties_from_case_names() -> None:
    from ingest.cases.lawrefbook import parties_from_title

    assert parties_from_title("张某诉北京某汽车服务有限公司买卖合同纠纷案") == (
        "张某",
        "北京某汽车服务有限公司",
    )
    assert parties_from_title("李某、景某诉某影楼承揽合同纠纷案") == ("李某", "景某", "某影楼")
    assert parties_from_title("张某某诉某物业公司等财产损害赔偿案") == ("张某某", "某物业公司")
    assert parties_from_title("加班费的仲裁时效应当如何认定") == ()


def test_heading_map() -> None:
    assert canonical_section("一、案情回顾：") == "基本案情"
    assert canonical_section("【判决理由】") == "裁判理由"
    assert canonical_section("关键词　") == "关键词"
    assert canonical_section("法官解读") == "适用解析"
    assert canonical_section("裁判要点") == "裁判要旨"
    assert canonical_section("张某诉某公司案") is None


def test_parse_cache_reuses_unchanged_inputs(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.csv").write_bytes((DATA / "committee_sample.csv").read_bytes())
    (src / "b.jsonl").write_bytes((DATA / "committee_sample.jsonl").read_bytes())
    cache = tmp_path / "cache"
    first = IngestReport()
    cases = load_cases([src], report=first, cache_dir=cache)
    again = IngestReport()
    cached = load_cases([src], report=again, cache_dir=cache)
    assert [c.to_dict() for c in cached] == [c.to_dict() for c in cases]
    assert any("2 个输入未变化" in n for n in again.notes)
    assert [n for n in again.notes if n.startswith("脱敏")] == [
        n for n in first.notes if n.startswith("脱敏")
    ]
    # A changed file is parsed again; the unchanged one still comes from the cache.
    with (src / "b.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"编号": "9", "基本案情": "新增。", "调解结果": "和解。"}\n')
    third = IngestReport()
    assert len(load_cases([src], report=third, cache_dir=cache)) == len(cases) + 1
    assert any("1 个输入未变化" in n for n in third.notes)


# ---- committee records ---------------------------------------------------------


def test_committee_csv_and_jsonl_samples() -> None:
    cases, report = load(DATA / "committee_sample.csv", DATA / "committee_sample.jsonl")
    assert len(cases) == 8 and report.problems == []
    c = by_id(cases)["committee-committee_sample-2024-001"]
    assert c.kind == "调解案例" and c.sample
    assert c.dispute_type == "邻里关系" and c.dispute_type_origin == "metadata"
    assert c.parties == ("王某某", "李某某")
    assert "王建华" not in c.text and "13905751234" not in c.text
    assert "[手机号]" in c.facts and "诸暨市[地址]" in c.facts
    assert c.region == "浙江省诸暨市" and c.date == "2024-03-15"
    assert "枫桥镇人民调解委员会" in c.source and "样例" in c.source
    assert ("民法典", "288") in {(x.law, x.article) for x in c.cited}
    fire = by_id(cases)["committee-committee_sample-2024-005"]
    assert fire.dispute_type_origin == "classifier" and fire.dispute_type in DISPUTE_TYPES
    assert any(n.startswith("脱敏：") and "姓名" in n for n in report.notes)


def test_templates_import_cleanly() -> None:
    templates = Path(__file__).resolve().parents[1] / "kb" / "templates"
    cases, report = load(templates / "调解记录模板.csv")
    assert len(cases) == 2 and report.problems == []
    assert all(c.sample for c in cases)
    cases_jsonl, report = load(templates / "调解记录模板.jsonl")
    assert [c.text for c in cases_jsonl] == [c.text for c in cases]
    assert (templates / "调解记录格式说明.md").read_text("utf-8").count("|") > 40


def test_docx_and_pdf_writeups(tmp_path: Path) -> None:
    import docx
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    doc = docx.Document()
    doc.add_heading("楼道堆物引发邻里纠纷调解书", 1)
    for line in [
        "编号：2024-201",
        "纠纷类型：邻里关系",
        "日期：2024年8月8日",
        "当事人：何立新、施美芬",
        "样例：是",
        "一、基本案情",
        "何立新长期在楼道内堆放纸箱和旧家具，施美芬多次提出清理未果。",
        "二、调解过程",
        "调解员依据《中华人民共和国民法典》第二百七十二条向何立新说明楼道属于共有部分。",
        "三、调解结果",
        "何立新于三日内清理楼道杂物。",
    ]:
        doc.add_paragraph(line)
    doc.save(str(tmp_path / "堆物.docx"))

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(tmp_path / "流转.pdf"), pagesize=A4)
    pdf.setFont("STSong-Light", 12)
    y = 800
    for line in [
        "土地承包经营权流转纠纷调解书",
        "编号：2024-301",
        "当事人：蔡国华、沈家宝",
        "样例：是",
        "基本案情：蔡国华将3亩承包地流转给沈家宝种植葡萄，",
        "约定每年租金3000元，沈家宝连续两年未付租金。",
        "调解过程：调解员依据《中华人民共和国农村土地承包法》第三十六条说明流转合同的效力。",
        "调解结果：沈家宝于2024年10月底前付清两年租金6000元。",
    ]:
        pdf.drawString(40, y, line)
        y -= 24
    pdf.save()

    cases, report = load(tmp_path)
    assert report.problems == []
    got = by_id(cases)
    d = got["committee-堆物-2024-201"]
    assert d.title == "楼道堆物引发邻里纠纷调解书" and d.sample and d.date == "2024-08-08"
    assert [n for n, _ in d.sections] == ["基本案情", "调解过程", "调解结果"]
    assert d.parties == ("何某某", "施某某") and "何立新" not in d.text
    assert [(x.law, x.article) for x in d.cited] == [("民法典", "272")]
    p = got["committee-流转-2024-301"]
    assert p.dispute_type == "土地承包" and p.dispute_type_origin == "classifier"
    # A project-written sample is no resolution: shown as 调解结果（样例）, never as an outcome.
    assert "沈某某于2024年10月底前付清" in p.result.text and p.result.label == "调解结果（样例）"
    assert not p.verified and p.outcome == ""
    assert [(x.law, x.article) for x in p.cited] == [("农村土地承包法", "36")]


def test_statute_docx_is_not_a_case(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    for line in [
        "中华人民共和国人民调解法",
        "第一章 总则",
        "第一条 为了完善人民调解制度……",
        "第二条 本法所称人民调解……",
    ]:
        doc.add_paragraph(line)
    doc.save(str(tmp_path / "人民调解法.docx"))
    cases, report = load(tmp_path)
    assert cases == [] and report.problems == []
    assert any("人民调解法.docx" in n and "未作为案例导入" in n for n in report.notes)


# ---- bad input -----------------------------------------------------------------


def test_bad_csv_rows_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "基本案情", "调解结果", "纠纷类型", "日期"])
        w.writerow(["1", "邻居漏水。", "赔偿500元。", "邻里关系", "2024-01-02"])
        w.writerow(["2", "", "赔偿500元。", "", ""])  # missing facts
        fh.write("3,多了一列,结果,邻里关系,2024-01-02,多余\n")  # too many columns
        w.writerow(["4", "借款未还。", "", "", ""])  # no result
        w.writerow(["5", "借款未还。", "分期归还。", "借贷", "昨天"])  # bad type, bad date
        w.writerow(["1", "重复编号。", "结果。", "", ""])
    cases, report = load(path)
    assert [c.id for c in cases] == ["committee-records-1", "committee-records-5"]
    problems = [str(p) for p in report.problems]
    assert any(f"{path}:3" in p and "基本案情" in p for p in problems), problems
    assert any(f"{path}:4" in p and "列数" in p for p in problems), problems
    assert any(f"{path}:5" in p and "调解结果/协议内容" in p for p in problems), problems
    assert any(f"{path}:6" in p and "借贷" in p for p in problems), problems
    assert any(f"{path}:6" in p and "昨天" in p for p in problems), problems
    assert any(f"{path}:7" in p and "重复" in p for p in problems), problems
    assert all("建议：" in p for p in problems)
    assert by_id(cases)["committee-records-5"].dispute_type_origin == "classifier"


def test_bad_jsonl_line_reported_and_rest_imports(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = {"编号": "1", "基本案情": "邻居漏水。", "调解结果": "赔偿。"}
    path.write_text(
        "\n".join(
            [
                json.dumps(good, ensure_ascii=False),
                '{"编号": "2", "基本案情": "缺右括号"',
                "[1, 2]",
                json.dumps({"id": "3", "facts": "借款。"}, ensure_ascii=False),
                json.dumps({**good, "编号": "4"}, ensure_ascii=False),
            ]
        ),
        encoding="utf-8",
    )
    cases, report = load(path)
    assert [c.id for c in cases] == ["committee-records-1", "committee-records-4"]
    problems = [str(p) for p in report.problems]
    assert any(p.startswith(f"{path}:2:") and "JSON" in p for p in problems)
    assert any(p.startswith(f"{path}:3:") for p in problems)
    assert any(p.startswith(f"{path}:4:") and "调解结果/协议内容" in p for p in problems)


def test_malformed_element_in_json_array(tmp_path: Path) -> None:
    path = tmp_path / "3-8.json"
    items = [
        '{"instruction": "请回答", "question": "问题一？", "answer": "回答:一。法律依据:《民法典》第五条"}',
        '{"instruction": "请回答", "question": "问题二？", "answer": 回答没有引号}',
        '{"instruction": "请回答", "question": "问题三？"}',
        '{"instruction": "请回答", "question": "问题四？", "answer": "回答:四。"}',
    ]
    path.write_text("[\n" + ",\n".join(items) + "\n]", encoding="utf-8")
    cases, report = load(path)
    # Positions are kept: the fourth element is still 0003, so ids match the eval files.
    assert [c.id for c in cases] == ["lawbench-3-8-0000", "lawbench-3-8-0003"]
    problems = [str(p) for p in report.problems]
    assert any(p.startswith(f"{path}:3:") and "JSON" in p for p in problems), problems
    assert any(p.startswith(f"{path}:4:") and "answer" in p for p in problems), problems


def test_truncated_json_array(tmp_path: Path) -> None:
    path = tmp_path / "legal_counsel_with_article_v2.json"
    path.write_text(
        '[{"query": "问一", "laws": [], "response": "答一"}, {"query": "问二", "la',
        encoding="utf-8",
    )
    cases, report = load(path)
    assert [c.id for c in cases] == ["lawyer-llama-0000"]
    assert report.problems and "JSON" in str(report.problems[0])


def test_broken_files_each_get_one_line(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    scan = canvas.Canvas(str(tmp_path / "scan.pdf"))
    scan.rect(50, 50, 100, 100)  # a page with no text, like a scanned image
    scan.save()
    locked = canvas.Canvas(str(tmp_path / "locked.pdf"), encrypt="secret")
    locked.drawString(50, 750, "abc")
    locked.save()
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("编号,基本案情,调解结果\n1,邻居漏水。,赔偿五百元。\n".encode("gb18030"))
    cases, report = load(tmp_path)
    assert [c.id for c in cases] == ["committee-gbk-1"]
    assert any("gbk.csv" in n and "GB18030" in n for n in report.notes)
    kinds = {Path(p.where.split(":")[0]).name: p.kind for p in report.problems}
    assert kinds == {
        "empty.csv": "empty",
        "binary.csv": "binary",
        "broken.docx": "corrupt",
        "broken.pdf": "corrupt",
        "scan.pdf": "scan",
        "locked.pdf": "encrypted",
    }
    assert all(p.hint for p in report.problems)


def test_unknown_json_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    cases, report = load(tmp_path / "other.json", tmp_path / "nope")
    assert cases == []
    assert [p.kind for p in report.problems] == ["unknown", "missing"]


def test_big_json_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    item = {
        "query": "邻居装修噪音扰民怎么办？" * 5,
        "laws": ["《民法典》第二百八十八条：" + "相邻" * 200],
        "response": "协商" * 400,
    }
    line = json.dumps(item, ensure_ascii=False)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(("," if n else "") + line + "\n")
            n += 1
        fh.write("]")
    report = IngestReport()
    tracemalloc.start()
    count = sum(1 for _ in iter_json_array(path, report))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n and report.problems == []
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming a 50 MB file"


# ---- classifier -------------------------------------------------------------------


def test_classifier_examples() -> None:
    assert classify("楼上装修噪音扰民，多次协商无果").dispute_type == "邻里关系"
    assert classify("公司拖欠工资三个月还不给交社保").dispute_type == "劳动劳务"
    assert classify("朋友借钱五万写了借条一直不还").dispute_type == "合同借贷"
    assert classify("").dispute_type == "其他"


# ---- the real corpus ---------------------------------------------------------------


@lru_cache(maxsize=1)
def real_cases() -> tuple[tuple[Case, ...], IngestReport]:
    report = IngestReport()
    return tuple(load_cases([CORPUS / "cases"], report=report)), report


def need_corpus() -> None:
    if not (CORPUS / "cases").is_dir() or not EVAL.is_dir():
        pytest.skip(
            f"真实语料不存在：{CORPUS / 'cases'}（设置 FENGQIAO_CORPUS 指向 shared/corpus）"
        )


@pytest.mark.slow
def test_real_corpus_counts_and_ids() -> None:
    need_corpus()
    cases, report = real_cases()
    kinds = Counter(c.kind for c in cases)
    assert kinds == {"法院典型案例": 52, "法律咨询解答": 500, "AI 生成解答（未经核实）": 1000}
    assert report.problems == []
    assert any("3-2.json" in n for n in report.notes)
    assert len({c.id for c in cases}) == len(cases)
    assert all(c.dispute_type in DISPUTE_TYPES for c in cases)


@pytest.mark.slow
def test_real_consultation_ids_equal_eval_ids() -> None:
    need_corpus()
    cases = by_id(list(real_cases()[0]))
    for name in ("lawbench-3-8.jsonl", "lawyer-llama.jsonl"):
        rows = [json.loads(line) for line in (EVAL / name).read_text("utf-8").splitlines()]
        same = 0
        for q in rows:
            case = cases[q["id"]]
            # Names in questions are masked, so a few may differ from the raw query.
            question = case.section("问题")
            assert question[:6] == q["query"].strip()[:6], q["id"]
            same += question == q["query"].strip()
        assert same / len(rows) >= 0.99


@pytest.mark.slow
def test_real_typical_cases_have_facts_and_outcomes() -> None:
    need_corpus()
    typical = [c for c in real_cases()[0] if c.kind == "法院典型案例"]
    assert sum(bool(c.facts) for c in typical) >= 50
    assert sum(bool(c.outcome) for c in typical) >= 30
    assert sum(bool(c.cited) for c in typical) >= 35
    assert all("LawRefBook" in c.source for c in typical)


def read_labels(name: str) -> dict[str, str]:
    rows = (DATA / name).read_text("utf-8").splitlines()
    return dict(line.split("\t") for line in rows if line and not line.startswith("#"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "floor"), [("dispute_labels.tsv", 0.85), ("dispute_labels_heldout.tsv", 0.75)]
)
def test_classifier_accuracy_on_labelled_consultations(name: str, floor: float) -> None:
    need_corpus()
    cases = by_id(list(real_cases()[0]))
    labels = read_labels(name)
    right = sum(
        classify(cases[i].section("问题"), cases[i].cited).dispute_type == t
        for i, t in labels.items()
    )
    assert right / len(labels) >= floor
