"""One service behind the CLI and the pages: the same files import the same cases, the same
question gets the same answer, and a Searcher runs without any knowledge base folder."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import DATA, FAKE_CONFIG, FakeEmbedder, fixture_cases
from streamlit.testing.v1 import AppTest

from ingest.records import Article
from retrieval.admin import Upload
from retrieval.errors import QueryError
from retrieval.service import Service
from ui import cli
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")

RECORDS_CSV = (
    "编号,案件名称,纠纷类型,日期,地区,当事人,基本案情,争议焦点,调解结果\n"
    "2024-001,楼道堆物纠纷,邻里关系,2024-03-15,浙江省诸暨市,张三、李四,"
    "李四在楼道堆放杂物，张三多次要求清理未果。,楼道是否可以堆放杂物,李四当日清理杂物，双方和解。\n"
    "2024-002,拖欠工钱纠纷,劳动劳务,2024-04-02,浙江省诸暨市,王五、赵六,"
    "赵六雇王五修房，完工后拖欠工钱八千元。,工钱数额与支付期限,赵六分两次付清八千元。\n"
)
WRITEUP = [
    "宅基地边界纠纷调解记录",
    "编号：2024-003",
    "纠纷类型：房屋宅基地",
    "基本案情",
    "钱某与孙某宅基地相邻，孙某翻建院墙时越界半米。",
    "争议焦点",
    "院墙是否越过宅基地界线。",
    "调解结果",
    "孙某同意拆除越界部分，按原界线重建。",
]
STATUTE = (
    "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n\n"
    "第二条 相邻各户应当互谅互让，妥善处理排水、通行等问题。\n"
)


def _docx(path: Path, lines: list[str]) -> Path:
    import docx

    doc = docx.Document()
    for line in lines:
        doc.add_paragraph(line)
    doc.save(str(path))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    src = tmp_path / "files"
    src.mkdir()
    (src / "调解记录.csv").write_text(RECORDS_CSV, encoding="utf-8")
    (src / "村规民约.md").write_text(STATUTE, encoding="utf-8")
    return [*sorted(src.glob("*")), _docx(src / "宅基地调解记录.docx", WRITEUP)]


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))


def test_cli_add_and_page_upload_import_the_same_cases(
    built: Path,
    files: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_model: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    by_cli, by_page = tmp_path / "cli", tmp_path / "page"
    shutil.copytree(built, by_cli)
    shutil.copytree(built, by_page)
    before = load_fixture_kb(built).stats()

    assert cli.main(["add", *map(str, files), "--kb", str(by_cli)]) == 0
    assert cli.main(["build", "--kb", str(by_cli)]) == 0
    out = capsys.readouterr().out
    assert "宅基地调解记录.docx：按调解记录（案例）导入" in out

    monkeypatch.setenv("FENGQIAO_KB", str(by_page))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[SERVICE_OVERRIDE] = load_fixture_kb(by_page)
    at.run()
    at.switch_page("views/knowledge.py").run()
    at.file_uploader(key="upload").set_value(
        [(p.name, p.read_bytes(), "application/octet-stream") for p in files]
    ).run()
    at.button(key="upload-go").click().run()
    assert not at.exception, at.exception

    cli_kb, page_kb = load_fixture_kb(by_cli), load_fixture_kb(by_page)
    assert cli_kb.stats().cases == page_kb.stats().cases == before.cases + 3
    assert {c.id for c in cli_kb.cases} == {c.id for c in page_kb.cases}
    titles = {c.title for c in cli_kb.cases}
    assert {"楼道堆物纠纷", "拖欠工钱纠纷", "宅基地边界纠纷调解记录"} <= titles
    # the DOCX write-up is a case, not a statute; the Markdown file is a statute
    assert not any(a.law_title == "宅基地边界纠纷调解记录" for a in cli_kb.articles)
    assert any("村民建房不得占用公共通道" in a.text for a in page_kb.articles)
    assert cli_kb.stats().articles == page_kb.stats().articles == before.articles + 2


def test_query_json_and_the_page_show_the_same_answer(
    built: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_model: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    question = "男方不同意离婚，女方可以怎么办？"
    assert cli.main(["query", question, "--json", "--kb", str(built)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"], "the CLI prints the answer points too"

    monkeypatch.setenv("FENGQIAO_KB", str(built))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = load_fixture_kb(built)
    at.run()
    at.text_input(key="q").input(question).run()
    assert not at.exception, at.exception
    at.button(key="more-a-go").click().run()  # the page shows three, then 显示其余
    page_articles = [c.value for c in at.tabs[0].code]
    assert page_articles == [a["citation"] for a in data["articles"]]
    shown = "\n".join(m.value for m in at.markdown)
    for case in data["cases"]:
        assert case["title"] in shown.replace("\\", "")
    bodies = [re.sub(r"<[^>]+>", "", m.value) for m in at.markdown]  # without highlight marks
    for point in data["answer"]:
        assert any(point["text"][:8] in body for body in bodies), point


def test_searcher_runs_from_records_without_a_knowledge_base(fake_embedder: FakeEmbedder) -> None:
    from ingest.statutes import load_statutes

    articles: list[Article] = load_statutes([DATA / "statutes"]).articles
    service = Service.from_records(articles, fixture_cases(), fake_embedder, config=FAKE_CONFIG)
    answered = service.ask("男方不同意离婚，女方可以怎么办？", k=3)
    assert answered.result.articles[0].record.id == "民法典:1079"
    assert answered.answer.quotes and all(
        q.text in service.article(q.article_id).text  # type: ignore[union-attr]
        for q in answered.answer.quotes
    )
    cited = service.ask("婚姻法第32条", k=3).cited
    assert cited and cited[0].citation.repealed


@pytest.mark.parametrize(
    ("question", "k", "says"),
    [
        ("", 10, "没有可检索的文字"),
        ("？？！！……", 10, "没有可检索的文字"),
        ("离" * 1001, 10, "问题太长"),
        ("离婚", -1, "法条数量"),
    ],
)
def test_questions_that_cannot_be_searched_get_a_clear_error(
    tiny_kb: Service, question: str, k: int, says: str
) -> None:
    with pytest.raises(QueryError) as e:
        tiny_kb.ask(question, k=k)
    assert says in e.value.message and e.value.hint


def test_add_reports_refused_files_and_saves_the_others(
    built: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    from retrieval.admin import add_files

    kb = tmp_path / "kb"
    shutil.copytree(built, kb)
    report = add_files(
        kb,
        [Upload("空.txt", b""), Upload("病毒.exe", b"MZ"), Upload("村规.md", STATUTE.encode())],
        embedder=fake_embedder,
    )
    assert [f.name for f in report.saved] == ["村规.md"]
    assert [n for n, _ in report.refused] == ["空.txt", "病毒.exe"]
    assert all(r.startswith("错误：") and "建议" in r for _, r in report.refused)
    assert report.build is not None and report.build.dropin_statutes == ("村规.md",)


def test_machine_written_answers_are_never_a_resolution(fake_embedder: FakeEmbedder) -> None:
    from dataclasses import replace

    from ingest.records import AI_ANSWER
    from ingest.statutes import load_statutes
    from retrieval.serialise import answered_json

    ai = replace(fixture_cases()[2], kind=AI_ANSWER, trust="generated", id="lawyer-llama-0001")
    service = Service.from_records(
        load_statutes([DATA / "statutes"]).articles, [ai], fake_embedder, config=FAKE_CONFIG
    )
    answered = service.ask("公司连续三个月拖欠工资，我能不能辞职并要补偿？", k=3, k_cases=1)
    assert answered.result.cases and not answered.answer.outcomes
    (case,) = answered_json(answered)["cases"]
    assert case["outcome"] == "" and not case["result"]["resolution"]
    assert "AI" in case["result"]["label"] and "未经核实" in case["result"]["label"]


def test_a_recorded_precedent_is_found_by_the_next_question_without_a_rebuild(
    built: Path, tmp_path: Path
) -> None:
    from retrieval.precedents import PrecedentDraft

    kb = tmp_path / "kb"
    shutil.copytree(built, kb)
    service = load_fixture_kb(kb)
    before = service.stats().cases
    question = "邻居在楼道里堆满了纸箱和旧家具，消防通道都堵住了，怎么调解？"
    case = service.precedents.record(
        PrecedentDraft(
            facts="钱大伟在楼道堆放纸箱和旧家具，堵塞消防通道，邻居孙丽多次劝说未果。",
            agreement="钱大伟三日内清理楼道杂物，今后不再堆放。",
            dispute_type="邻里关系",
            title="楼道堆物堵塞消防通道纠纷",
            articles=("民法典:288",),
            parties=("钱大伟", "孙丽"),
        )
    )
    assert case.kind == "调解案例" and case.verified
    assert "钱大伟" not in case.text and "孙丽" not in case.text  # masked before saving
    assert service.stats().cases == before + 1  # no rebuild, searchable at once
    shown = [h.record.id for h in service.ask(question, k=3, k_cases=5).result.cases]
    assert case.id in shown
    # another process (a second browser session's service) sees it on its next question
    other = load_fixture_kb(kb)
    assert case.id in [h.record.id for h in other.ask(question, k=3, k_cases=5).result.cases]
    service.precedents.store.delete(case.id)
    assert case.id not in [h.record.id for h in other.ask(question, k=3, k_cases=5).result.cases]
    assert other.case(case.id) is None


def test_two_files_numbering_from_001_keep_both_records(
    built: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(built, kb)
    year1, year2 = tmp_path / "2023", tmp_path / "2024"
    for folder, title in ((year1, "楼道堆物纠纷"), (year2, "宅基地越界纠纷")):
        folder.mkdir()
        (folder / "调解记录.csv").write_text(
            "编号,案件名称,纠纷类型,日期,基本案情,调解结果\n"
            f"001,{title},邻里关系,{folder.name}-03-15,甲乙双方发生纠纷，经调解员多次沟通。,双方达成和解。\n",
            encoding="utf-8",
        )
    assert cli.main(["add", str(year1 / "调解记录.csv"), "--kb", str(kb)]) == 0
    assert cli.main(["add", str(year2 / "调解记录.csv"), "--kb", str(kb)]) == 0
    out = capsys.readouterr().out
    assert out.count("调解记录.csv：按调解案例导入，新增 1 件") == 2
    service = load_fixture_kb(kb)
    titles = {c.title for c in service.cases}
    assert {"楼道堆物纠纷", "宅基地越界纠纷"} <= titles  # both years' 001 survive
    assert sorted(p.number for p in service.precedents.records()) == ["2023-001", "2024-001"]
    assert not (kb / "drop-in").exists()  # recorded cases, not files for the index


def test_a_committee_csv_added_by_both_routes_is_held_once(
    built: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fengqiao add`` and the 调解案例 page's import are one route: the precedent store."""
    kb = tmp_path / "kb"
    shutil.copytree(built, kb)
    src = tmp_path / "调解记录.csv"
    src.write_text(RECORDS_CSV, encoding="utf-8")
    assert cli.main(["add", str(src), "--kb", str(kb)]) == 0
    assert "新增 2 件" in capsys.readouterr().out

    service = load_fixture_kb(kb)  # the page's service: the committee's cases are searched
    before = service.stats().cases
    result = service.precedents.import_file(src.name, src.read_bytes())
    assert (result.added, sorted(result.updated)) == (
        [],
        ["precedent-2024-001", "precedent-2024-002"],
    )
    assert cli.main(["add", str(src), "--kb", str(kb)]) == 0  # and once more by the CLI
    assert "更新 2 件" in capsys.readouterr().out
    again = load_fixture_kb(kb)
    assert service.stats().cases == again.stats().cases == before
    for titled in ("楼道堆物纠纷", "拖欠工钱纠纷"):
        held = [c.id for c in again.cases if c.title == titled]
        assert len(held) == 1 and held[0].startswith("precedent-"), held
    question = "邻居在楼道堆放杂物，怎么调解？"
    found = [h.record.title for h in again.ask(question, k=3, k_cases=5).result.cases]
    assert found.count("楼道堆物纠纷") == 1
