"""AppTest of the 调解案例 page: record (masked, verified), find by a question, correct, delete, import."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from retrieval.precedents import FILENAME, PrecedentDraft
from ui.accounts import Accounts
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import CHECKED_CASES, build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
PAGE = "views/precedents.py"
FACTS = "张三丰家的空调外机正对李四卧室窗户，夜间噪声很大，李四多次找张三丰协商未果。"
QUESTION = "空调外机噪声扰邻，怎么调解？"
ADMIN_PW = "correct horse battery"
MEDIATOR_PW = "mediator pass 123"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Path:
    return build_fixture_kb(
        tmp_path_factory.mktemp("kb"), fake_embedder, more_cases=(CHECKED_CASES,)
    )


@pytest.fixture
def kb_dir(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the fixture kb per test: each test has its own precedents database."""
    kb = tmp_path / "kb"
    shutil.copytree(built, kb)
    monkeypatch.setenv("FENGQIAO_KB", str(kb))
    return kb


@pytest.fixture
def service(kb_dir: Path) -> Any:
    return load_fixture_kb(kb_dir)


@pytest.fixture
def make_app(service: Any) -> Callable[[], AppTest]:
    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = service
        return at

    return make


def open_page(at: AppTest) -> AppTest:
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["调解案例"]
    return at


def fill(at: AppTest, **fields: str) -> AppTest:
    for name, value in fields.items():
        widget = at.selectbox(key=f"pc-{name}") if name == "dispute_type" else None
        if widget is not None:
            widget.set_value(value)
            continue
        try:
            at.text_area(key=f"pc-{name}").input(value)
        except KeyError:
            at.text_input(key=f"pc-{name}").input(value)
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [
        a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind)
    ]
    parts += [link.proto.label for link in at.page_link]
    return "\n".join(parts).replace("\\", "")


def record_noise(at: AppTest, articles: str = "民法典第288条\n民法典第二百九十四条") -> AppTest:
    fill(
        at,
        parties="张三丰、李四",
        facts=FACTS,
        focus="空调外机噪声是否影响邻居休息，应否移机。",
        agreement="一、张三丰于十日内将空调外机移至北侧墙面；二、张三丰向李四赔礼道歉。",
        performance="已于次日移机",
        date="2026-03-15",
        region="浙江省诸暨市",
        articles=articles,
    )
    at.selectbox(key="pc-dispute_type").set_value("邻里关系")
    return click(at, "pc-save")


def case_ids(service: Any, question: str) -> list[str]:
    return [h.record.id for h in service.ask(question).result.cases]


def test_record_is_masked_shown_as_a_case_and_found_by_the_next_question(
    make_app: Callable[[], AppTest], service: Any, kb_dir: Path
) -> None:
    at = record_noise(open_page(make_app()))
    said = shown(at)
    assert "已保存为调解案例（编号 2026-001）" in said and "现在就能检索到" in said
    # the saved case as a card: masked, its kind, its articles checked
    assert "张三丰" not in said and "张某某" in said and "调解案例" in said
    assert "✓ 知识库有此条" in said
    assert [r.number for r in service.precedents.records()] == ["2026-001"]
    assert at.session_state["pc-facts"] == ""  # the form is empty for the next record
    # found at once, by the service and on the ask page
    assert "precedent-2026-001" in case_ids(service, QUESTION)
    at.switch_page("views/ask.py").run()
    at.text_input(key="q").input(QUESTION).run()
    assert not at.exception
    assert "张某某家的空调外机" in shown(at) or "空调外机" in shown(at)
    # the real names are nowhere in the database files
    for f in kb_dir.glob(FILENAME + "*"):
        assert "张三丰".encode() not in f.read_bytes(), f.name


def test_preview_shows_the_masked_text_and_saves_nothing(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    at = open_page(make_app())
    fill(at, parties="张三丰、李四", facts=FACTS, result="张三丰同意移机。")
    click(at, "pc-preview")
    said = shown(at)
    assert "脱敏预览（尚未保存）" in said
    assert "张某某家的空调外机正对李某卧室窗户" in said and "张三丰" not in said
    assert service.precedents.records() == []


def test_an_unresolvable_citation_blocks_the_save_and_names_it(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    at = record_noise(open_page(make_app()), articles="民法典第288条\n民法典第9999条")
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "民法典第9999条" in errors and "建议" in errors
    assert service.precedents.records() == []
    assert at.session_state["pc-facts"] == FACTS  # nothing typed is lost
    # a law the knowledge base does not hold at all
    fill(at, articles="宅基地条例第10条")
    click(at, "pc-save")
    assert "宅基地条例" in " ".join(e.value for e in at.error).replace("\\", "")
    assert service.precedents.records() == []


def test_correct_then_delete(make_app: Callable[[], AppTest], service: Any) -> None:
    service.precedents.record(
        PrecedentDraft(
            facts=FACTS,
            agreement="张三丰移机。",
            parties=("张三丰", "李四"),
            articles=("民法典第288条",),
            date="2026-03-15",
        )
    )
    at = open_page(make_app())
    at.radio(key="pc-view").set_value("已记录的案例").run()
    assert "张某某家的空调外机" in shown(at)
    click(at, "pc-edit-2026-001")
    assert at.radio(key="pc-view").value == "记录案例"
    assert at.session_state["pc-agreement"] == "张某某移机。"
    assert "正在修改编号 2026-001" in shown(at)
    fill(at, agreement="张某某将空调外机移至北墙，并赔偿李某误工费三百元。")
    click(at, "pc-save")
    assert "已保存修改（编号 2026-001）" in shown(at)
    record = service.precedents.get("2026-001")
    assert record.revision == 2 and "误工费三百元" in record.agreement
    assert "误工费三百元" in service.case("precedent-2026-001").text  # searchable as corrected

    at.radio(key="pc-view").set_value("已记录的案例").run()
    click(at, "pc-delete-2026-001")  # the button inside the 删除 confirmation
    assert "已删除编号 2026-001" in shown(at)
    assert service.precedents.records() == []
    assert "precedent-2026-001" not in case_ids(service, QUESTION)


def test_case_file_opens_the_form_filled_in(make_app: Callable[[], AppTest], service: Any) -> None:
    at = make_app().run()
    at.text_input(key="new_case_name").input("张家空调纠纷")
    at.button(key="new_case_go").click().run()
    at.text_input(key="q").input("相邻权利人应当怎样处理相邻关系？").run()
    article_add = next(
        b for b in at.button if b.key and b.key.startswith("a") and b.key.endswith("-add")
    )
    article_add.click().run()
    at.switch_page("views/collections.py").run()
    assert not at.exception, at.exception
    cid = at.session_state["case_id"]
    at.text_input(key=f"d{cid}-p0-name").input("张三丰")
    at.text_input(key=f"d{cid}-p1-name").input("李四")
    at.text_area(key=f"d{cid}-facts").input(FACTS)
    at.text_area(key=f"d{cid}-agreement").input("张三丰移机。")
    at.text_input(key=f"d{cid}-date").input("2026年3月15日")
    at.button(key=f"d{cid}-save").click().run()
    click(at, f"d{cid}-precedent")
    assert [t.value for t in at.title] == ["调解案例"]
    state = at.session_state
    assert state["pc-facts"] == FACTS and state["pc-agreement"] == "张三丰移机。"
    assert state["pc-parties"] == "张三丰、李四"
    assert "《中华人民共和国民法典》第二百八十八条" in state["pc-articles"]
    assert "已从案卷带入" in shown(at)
    click(at, "pc-save")
    saved = service.precedents.get("2026-001")
    assert saved is not None and saved.parties == ("张某某", "李某")
    assert saved.title == "张家空调纠纷" and [c.resolved_id for c in saved.articles] == [
        "民法典:288"
    ]


def _has(at: AppTest, key: str) -> bool:
    try:
        at.button(key=key)
    except KeyError:
        return False
    return True


def test_export_then_import_reports_what_was_refused(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    service.precedents.record(
        PrecedentDraft(facts=FACTS, agreement="移机。", parties=("张三丰",), date="2026-03-15")
    )
    exported = service.precedents.export("csv").decode("utf-8-sig")
    assert exported.count("\n") == 2 and "张某某" in exported and "张三丰" not in exported
    bad = exported.splitlines()[1].replace("2026-001", "2026-002").replace("移机。", "")
    good = exported.splitlines()[1].replace("2026-001", "2026-003")
    upload = "\n".join([exported.splitlines()[0], bad, good]) + "\n"
    at = open_page(make_app())
    at.radio(key="pc-view").set_value("导出与导入").run()
    assert [d.label for d in at.get("download_button")] == ["导出 CSV", "导出 JSONL"]
    at.file_uploader(key="pc-import-file").set_value(
        ("委员会记录.csv", upload.encode("utf-8"), "text/csv")
    ).run()
    click(at, "pc-import-go")
    said = shown(at)
    assert "委员会记录.csv：新增 1 件，更新 0 件，未导入 1 件" in said
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "委员会记录.csv:2" in errors and "调解结果" in errors and "/tmp" not in errors
    assert [r.number for r in service.precedents.records()] == ["2026-003", "2026-001"]


def test_mediator_records_and_corrects_but_only_an_administrator_deletes(
    make_app: Callable[[], AppTest], service: Any, kb_dir: Path
) -> None:
    users = Accounts.in_kb(kb_dir)
    users.add("王主任", ADMIN_PW, "admin")
    users.add("李调解", MEDIATOR_PW, "mediator")
    at = make_app().run()
    at.switch_page(PAGE).run()
    # not signed in: the login page, no form and nothing to write with
    assert [t.value for t in at.title] == ["枫桥 · 登录"]
    assert not _has(at, "pc-save")
    at.text_input[0].input("李调解")
    at.text_input[1].input(MEDIATOR_PW)
    at.button[0].click().run()
    at.switch_page(PAGE).run()
    record_noise(at)
    assert [r.number for r in service.precedents.records()] == ["2026-001"]
    at.radio(key="pc-view").set_value("已记录的案例").run()
    assert _has(at, "pc-edit-2026-001") and not _has(at, "pc-delete-2026-001")
    assert "删除调解案例需要管理员账户" in shown(at)
    at.radio(key="pc-view").set_value("导出与导入").run()
    assert "只有管理员可以批量导入调解案例" in shown(at)
    assert not at.get("file_uploader")


def test_the_page_without_a_session_draws_no_write_control(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawn where no gate ran (no session): reading only."""
    service.precedents.record(
        PrecedentDraft(facts=FACTS, agreement="移机。", parties=("张三丰",), date="2026-03-15")
    )
    at = AppTest.from_file(str(Path(APP).parent / PAGE), default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = service
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="pc-view").value == "已记录的案例"
    assert "张某某家的空调外机" in shown(at)
    assert not _has(at, "pc-edit-2026-001") and not _has(at, "pc-delete-2026-001")
    at.radio(key="pc-view").set_value("记录案例").run()
    assert "登录后才能记录调解案例" in shown(at) and not _has(at, "pc-save")


def test_a_question_asked_before_recording_finds_the_case_after(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    """The ask page memoises results per question: a new record must not be hidden by it."""
    at = make_app().run()
    at.text_input(key="q").input(QUESTION).run()
    assert "空调外机" not in shown(at)
    open_page(at)
    record_noise(at)
    at.switch_page("views/ask.py").run()  # the same question, still in the box
    assert at.text_input(key="q").value == QUESTION
    assert "张某某家的空调外机" in shown(at)


def test_case_card_flags_the_citations_the_knowledge_base_contradicts(
    make_app: Callable[[], AppTest],
) -> None:
    at = make_app().run()
    at.text_input(key="q").input("邻居砌墙堵路不让通行怎么办？").run()
    assert not at.exception
    said = shown(at)
    # a law the knowledge base does not hold: named, flagged, not a link
    assert "⚠ 《中华人民共和国宅基地条例》第十条（知识库中没有《宅基地条例》，可能有误）" in said
    links = [link.proto.label.replace("\\", "") for link in at.page_link]
    # a misquote links to the article itself, flagged; a good citation is ticked
    assert any(
        label.startswith("⚠ 《民法典》第二百八十八条（引用的文字与《民法典》第288条原文不符")
        for label in links
    ), links
    assert "《民法典》第二百九十一条（✓ 知识库有此条（现行有效））" in links


def test_the_export_is_made_on_the_click_not_served_while_the_page_shows(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    """An eager download's bytes sit under /media/… for anyone with the link as long as a
    session shows the button; the precedents export (every record) is made on the click."""
    service.precedents.record(
        PrecedentDraft(facts=FACTS, agreement="移机。", parties=("张三丰",), date="2026-03-15")
    )
    at = open_page(make_app())
    at.radio(key="pc-view").set_value("导出与导入").run()
    buttons = at.get("download_button")
    assert [d.label for d in buttons] == ["导出 CSV", "导出 JSONL"]
    for button in buttons:
        assert button.proto.url == "" and button.proto.deferred_file_id, button.proto
