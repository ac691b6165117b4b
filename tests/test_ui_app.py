"""Streamlit AppTest of every page and flow: ask, citation pages, 案卷, drafts, upload, escaping."""

from __future__ import annotations

import html
import io
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from ingest.dropin import deposit, safe_name
from ui.samples import EXAMPLES
from ui.store import CollectionStore
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
DIVORCE = "男方不同意离婚，女方可以怎么办？"
C1079 = "《中华人民共和国民法典》第一千零七十九条"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Path:
    """One real index (fixture statutes + cases, conftest's fake embedder) for the page tests."""
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder)


@pytest.fixture(scope="module")
def service(built: Path) -> Any:
    return load_fixture_kb(built)


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's kb folder: fresh per test, so each test has its own collections database."""
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    return tmp_path


@pytest.fixture
def make_app(kb_dir: Path, service: Any) -> Callable[[], AppTest]:
    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = service  # a real Service, with the fake embedder
        return at

    return make


def texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown]
        + [c.value for c in at.code]
        + [c.value for c in at.caption]
        + [a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind)]
    )
    return "\n".join(parts)


def plain(value: str) -> str:
    """Rendered text as a reader sees it: no tags, no escapes, no entities, no joiners."""
    value = re.sub(r"</?(?:mark|span|div|br)\b[^>]*>", "", value)  # the pages' own tags
    value = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", value)
    return html.unescape(value).replace("\u2060", "")


def page_links(at: AppTest) -> list[str]:
    return [plain(p.proto.label) for p in at.page_link]


def ask(at: AppTest, question: str) -> AppTest:
    at.text_input(key="q").input(question).run()
    assert not at.exception, at.exception
    return at


def new_case(at: AppTest, name: str) -> AppTest:
    """新建案卷 from the sidebar popover, as a mediator does."""
    at.text_input(key="new_case_name").input(name)
    at.button(key="new_case_go").click().run()
    assert not at.exception, at.exception
    return at


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


# ---- asking ---------------------------------------------------------------------------


def test_ask_page_answers_first_then_articles_and_cases(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), DIVORCE)
    assert [t.value for t in at.title] == ["问答检索"]
    body = texts(at)
    assert "答案要点" in body
    # the answer panel comes before the result tabs
    first_tab = next(i for i, m in enumerate(at.main.markdown) if "答案要点" in m.value)
    assert first_tab == 0
    assert C1079 in [c.value for c in at.code]
    assert "<mark" in body and "现行有效" in body
    assert "王某诉李某离婚纠纷案" in plain(body)
    assert "判决准予王某与李某离婚" in body
    assert [t.label for t in at.tabs][0].startswith("适用法条")


def test_why_a_result_is_shown_in_plain_words(make_app: Callable[[], AppTest]) -> None:
    """为什么出现 names the question's words the article holds, never a rank (defect 5)."""
    at = ask(make_app().run(), DIVORCE)
    whys = [plain(c.value) for c in at.caption if c.value.startswith("为什么出现")]
    assert whys, texts(at)
    assert any("与问题中的‘离婚’相符" in w for w in whys), whys
    assert not any(re.search(r"第\s*\d+\s*名|关键词匹配|语义相似|综合排序", w) for w in whys), whys


def test_example_button_runs_the_search(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    assert EXAMPLES[1].startswith("邻居装修噪音")  # ui/samples.py: the page's examples
    at.button(key=f"ex-{EXAMPLES[1]}").click().run()
    assert at.text_input(key="q").value == EXAMPLES[1]
    assert "《中华人民共和国民法典》第二百九十四条" in [c.value for c in at.code]


def test_status_filter_defaults_to_law_in_force(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "离婚诉讼")
    codes = [c.value for c in at.code]
    assert "《中华人民共和国婚姻法》第三十二条" not in codes
    at.multiselect(key="f_status").set_value(["已废止"]).run()
    codes = [c.value for c in at.code]
    assert codes and all(c.startswith("《中华人民共和国婚姻法》") for c in codes)
    assert "已废止" in texts(at)


def test_dispute_type_filter_limits_cases(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "晚上施工噪声，要求离婚")
    at.multiselect(key="f_types").set_value(["婚姻家庭"]).run()
    assert at.tabs[1].label == "类似案例（1）"
    assert "王某诉李某离婚纠纷案" in plain(at.tabs[1].markdown[0].value)


def test_results_page_shows_three_then_more(make_app: Callable[[], AppTest]) -> None:
    """A results page stays short: three articles, then 显示其余 (defect 10)."""
    at = ask(make_app().run(), DIVORCE)
    total = int(re.search(r"（(\d+)）", at.tabs[0].label).group(1))  # type: ignore[union-attr]
    assert total > 3
    cards = [c.value for c in at.tabs[0].code]
    assert len(cards) == 3
    at.button(key="more-a-go").click().run()
    assert len([c.value for c in at.tabs[0].code]) == total
    # a new question starts short again
    ask(at, "离婚登记")
    assert len([c.value for c in at.tabs[0].code]) <= 3


def test_answer_quotes_a_list_item_with_its_lead_in(make_app: Callable[[], AppTest]) -> None:
    """A quoted 项 carries the 款 head that gives it meaning (defect 7)."""
    at = ask(make_app().run(), "分居满二年能判离婚吗")
    panel = [plain(m.value) for m in at.markdown if m.value.startswith('<div class="fq-quote">')]
    item = next((p for p in panel if "（四）因感情不和分居满二年" in p), None)
    assert item is not None, panel
    assert "有下列情形之一，调解无效的，应当准予离婚：……（四）因感情不和分居满二年；" in item
    assert any("《民法典》第一千零七十九条" in link for link in page_links(at))


def test_phrase_inside_a_longer_word_is_not_marked(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    """民法 is a word of 民法典, but never marked inside 人民法院 (defect 6)."""
    text = service.article("民法典:1079").text
    spans = service.answerer.matcher.spans(text, ["民法", "离婚"])
    assert spans and all(text[a:b] != "民法" or text[a - 1 : a] != "人" for a, b in spans)
    at = ask(make_app().run(), "民法典中离婚诉讼由人民法院审理吗")
    bodies = [m.value for m in at.markdown] + [m.value for m in at.caption]
    assert any("<mark" in b for b in bodies)
    assert not any("人<mark" in b for b in bodies)


# ---- citations: a citation question and a citation link open the citation page ----


def test_citation_question_opens_the_citation_page(make_app: Callable[[], AppTest]) -> None:
    """民法典第1079条 shows that article and what links to it, no keyword list (defect 6)."""
    at = ask(make_app().run(), "民法典第1079条")
    assert [c.value for c in at.code] == [C1079]
    assert not at.tabs, "no keyword result list for a citation"
    body = plain(texts(at))
    assert "答案要点" not in body and "为什么出现" not in body
    assert "同一章节的相邻条文" in body
    links = page_links(at)
    assert any(link.startswith("第一千零七十八条") for link in links)  # a neighbour
    assert "引用本条的司法解释等规定（4）" in body
    assert "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）》第二条" in body
    assert "“与他人同居”的情形" in body  # the sentence naming the article
    assert "引用本条的案例（1）" in body and "王某诉李某离婚纠纷案" in body


def test_cited_repealed_article_shows_what_replaced_it(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "婚姻法第32条")
    assert [c.value for c in at.code][0] == "《中华人民共和国婚姻法》第三十二条"
    warning = plain(" ".join(w.value for w in at.warning))
    assert "已于 2021-01-01 废止" in warning and "《民法典》" in warning
    assert "内容相近的现行条文：《民法典》第一千零七十九条" in page_links(at)


def test_browse_link_opens_the_citation_page(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "1079"
    at.switch_page("views/browse.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["法规浏览"]
    assert at.code[0].value == C1079
    assert "浏览《中华人民共和国民法典》的全部条文" in page_links(at)
    assert "引用本条的案例（1）" in plain(texts(at))


def test_link_to_a_law_not_held_never_shows_another_law(
    make_app: Callable[[], AppTest],
) -> None:
    """/browse?law=…&article=32 for a law the KB lacks shows no article of another law (defect 3)."""
    for law, says in (("继承法", "已于 2021-01-01 废止"), ("不存在法", "知识库中没有“不存在法”")):
        at = make_app().run()
        at.query_params["law"] = law
        at.query_params["article"] = "32"
        at.switch_page("views/browse.py").run()
        assert not at.exception
        errors = plain(" ".join(e.value for e in at.error))
        assert says in errors and "建议" in errors
        assert not at.code, [c.value for c in at.code]  # no article card at all
        assert "链接指向的条文" not in texts(at)


def test_link_to_an_old_version_opens_that_version(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    at.query_params["law"] = "婚姻法"
    at.query_params["article"] = "32"
    at.switch_page("views/browse.py").run()
    assert at.code[0].value == "《中华人民共和国婚姻法》第三十二条"
    assert "已废止" in texts(at)


def test_root_link_with_law_goes_to_browse(make_app: Callable[[], AppTest]) -> None:
    at = make_app()
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "294"
    at.run()
    assert [t.value for t in at.title] == ["法规浏览"]
    assert at.code[0].value == "《中华人民共和国民法典》第二百九十四条"


def test_browse_unknown_article_says_so(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "99999"
    at.switch_page("views/browse.py").run()
    assert any("没有第九万九千九百九十九条" in e.value and "建议" in e.value for e in at.error)


def test_browse_a_law_by_chapter_and_word(make_app: Callable[[], AppTest], service: Any) -> None:
    at = make_app().run()
    at.query_params["law"] = "民法典"
    at.switch_page("views/browse.py").run()
    assert at.selectbox(key="browse_law").value == "民法典"
    at.text_input(key="browse_find").input("登记").run()
    expected = sum("登记" in a.text for a in service.law_articles("民法典"))
    assert f"找到 {expected} 条" in texts(at)


def test_sidebar_says_which_date_the_validity_rests_on(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    at = make_app().run()
    for page in (None, "views/browse.py"):
        if page:
            at.switch_page(page).run()
        shown = [w.value for w in at.sidebar.warning] + [c.value for c in at.sidebar.caption]
        shown = [plain(v) for v in shown]
        assert any(f"最新公布于 {service.catalogue.data_as_of}" in v for v in shown), shown
        # what a mediator should do, without a command line (defect 5)
        assert any("请知识库管理员更新" in v for v in shown)
        assert not any("fengqiao" in v for v in shown)


# ---- 案卷 -------------------------------------------------------------------------------


def test_second_case_file_is_created_without_error(
    make_app: Callable[[], AppTest], kb_dir: Path
) -> None:
    """Creating a second 案卷 works and selects it (defect 1: a raw traceback before)."""
    at = new_case(make_app().run(), "王家离婚纠纷")
    at = new_case(at, "张家相邻纠纷")
    assert not at.error, [e.value for e in at.error]
    store = CollectionStore.in_kb(kb_dir)
    assert [c.name for c in store.collections()] == ["王家离婚纠纷", "张家相邻纠纷"]
    assert at.selectbox(key="case_pick").value == store.collections()[1].id
    at = new_case(at, "张家相邻纠纷")  # the same name again is refused, in Chinese
    assert any("已有名为" in e.value for e in at.error)


def test_additions_go_to_the_selected_case_file(
    make_app: Callable[[], AppTest], kb_dir: Path
) -> None:
    """Every 加入案卷 lands in the chosen 案卷, never an auto-created one (defect 2)."""
    at = ask(make_app().run(), DIVORCE)
    at.button(key="a1-add").click().run()  # no 案卷 chosen yet: refused, nothing created
    store = CollectionStore.in_kb(kb_dir)
    assert store.collections() == []
    assert any("没有选定案卷" in t.value for t in at.toast)
    at = new_case(at, "王家")
    at = new_case(at, "张家")
    wang, zhang = store.collections()
    at.selectbox(key="case_pick").set_value(wang.id).run()
    options = list(at.selectbox(key="case_pick").options)
    at.button(key="a1-add").click().run()
    at.button(key="c1-add").click().run()
    assert list(at.selectbox(key="case_pick").options) == options  # labels never change
    at.switch_page("views/browse.py").run()
    at.query_params["law"] = "民法典"
    at.switch_page("views/browse.py").run()
    at.button(key="browse-add-民法典:1080").click().run()
    del at.query_params["law"]  # the sidebar link to 问答检索 carries no law
    at.switch_page("views/ask.py").run()
    at.selectbox(key="case_pick").set_value(zhang.id).run()
    at.button(key="a2-add").click().run()
    items = {c.name: [(i.kind, i.ref) for i in store.items(c.id)] for c in store.collections()}
    assert [c.name for c in store.collections()] == ["王家", "张家"]  # no 我的案卷 appeared
    assert [k for k, _ in items["王家"]] == ["article", "case", "article"]
    assert items["王家"][0][1] == "民法典:1079" and items["王家"][2][1] == "民法典:1080"
    assert len(items["张家"]) == 1 and items["张家"][0][0] == "article"
    assert items["张家"][0] not in items["王家"]
    assert at.selectbox(key="case_pick").value == zhang.id


def test_case_details_are_kept_per_case_file_and_drafts_export(
    make_app: Callable[[], AppTest], kb_dir: Path, downloads: dict[str, bytes], service: Any
) -> None:
    """Two 案卷 filled independently; the 调解协议书 draft of each holds its own details."""
    at = ask(make_app().run(), DIVORCE)
    at = new_case(at, "王家离婚")
    at.button(key="a1-add").click().run()
    store = CollectionStore.in_kb(kb_dir)
    (wang,) = store.collections()
    at.switch_page("views/collections.py").run()
    assert not at.exception, at.exception
    k = f"d{wang.id}-"
    at.text_input(key=k + "p0-name").input("王某甲")
    at.text_input(key=k + "p1-name").input("李某乙")
    at.text_area(key=k + "agreement").input("一、双方自愿离婚。")
    at.text_input(key=k + "committee").input("枫源村")
    at.button(key=k + "save").click().run()
    assert any("已保存" in s.value for s in at.success)
    at = new_case(at, "张家相邻")
    zhang = store.collections()[1]
    z = f"d{zhang.id}-"
    assert at.text_input(key=z + "p0-name").value == ""  # a new 案卷 starts empty
    assert at.text_area(key=z + "agreement").value == ""
    at.text_input(key=z + "p0-name").input("张某丙")
    at.text_area(key=z + "agreement").input("赵某停止夜间施工。")
    at.button(key=z + "save").click().run()
    assert [p.name for p in store.details(wang.id).parties] == ["王某甲", "李某乙"]
    assert store.details(wang.id).agreement == "一、双方自愿离婚。"
    assert [p.name for p in store.details(zhang.id).parties] == ["张某丙"]
    assert store.details(zhang.id).agreement == "赵某停止夜间施工。"
    # back to the first 案卷: its own details on screen
    at.selectbox(key="case_pick_main").set_value(wang.id).run()
    assert at.text_input(key=k + "p0-name").value == "王某甲"
    assert "人民调解协议书-王家离婚.docx" in downloads
    draft = docx_text(downloads["人民调解协议书-王家离婚.docx"])
    assert "王某甲" in draft and "李某乙" in draft and "一、双方自愿离婚。" in draft
    assert "张某丙" not in draft and "赵某停止夜间施工" not in draft
    assert C1079 in draft and service.article("民法典:1079").text.split("\n")[0] in draft
    assert downloads["人民调解协议书-王家离婚.pdf"].startswith(b"%PDF")
    at.radio(key="draft-kind").set_value("调解笔录").run()
    assert "王某甲" in docx_text(downloads["调解笔录-王家离婚.docx"])


def test_collect_annotate_reorder_and_export(
    make_app: Callable[[], AppTest], kb_dir: Path, downloads: dict[str, bytes]
) -> None:
    at = new_case(make_app().run(), "王某离婚")
    ask(at, DIVORCE)
    at.button(key="a1-add").click().run()
    at.button(key="c1-add").click().run()
    assert at.button(key="a1-add").disabled  # shows 已在案卷
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    assert [i.kind for i in store.items(coll.id)] == ["article", "case"]
    at.switch_page("views/collections.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["案卷与教学集"]
    first = store.items(coll.id)[0]
    at.text_area(key=f"note-{first.id}").input("先调解，再起诉").run()
    assert store.items(coll.id)[0].note == "先调解，再起诉"
    at.button(key=f"down-{first.id}").click().run()
    assert store.items(coll.id)[1].id == first.id
    doc = docx_text(downloads["案卷-王某离婚.docx"])
    assert "案卷：王某离婚" in doc and "先调解，再起诉" in doc and C1079 in doc
    student = docx_text(downloads["教学集（学生版）-王某离婚.docx"])
    teacher = docx_text(downloads["教学集（教师版）-王某离婚.docx"])
    assert "争议焦点" in student and "参考答案" not in student
    assert "参考答案" in teacher
    at.radio(key="export_format").set_value("PDF").run()
    assert downloads["案卷-王某离婚.pdf"].startswith(b"%PDF")
    at.button(key=f"del-{first.id}").click().run()
    assert len(store.items(coll.id)) == 1


def test_browse_list_adds_an_article_to_the_case_file(
    make_app: Callable[[], AppTest], kb_dir: Path
) -> None:
    at = new_case(make_app().run(), "相邻")
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "1079"
    at.switch_page("views/browse.py").run()
    at.button(key="focus-add").click().run()
    assert not at.exception
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    assert [(i.kind, i.ref) for i in store.items(coll.id)] == [("article", "民法典:1079")]
    assert at.button(key="focus-add").disabled


def test_note_saves_on_change(make_app: Callable[[], AppTest], kb_dir: Path) -> None:
    at = new_case(make_app().run(), "笔记")
    ask(at, DIVORCE)
    at.button(key="a1-add").click().run()
    at.switch_page("views/collections.py").run()
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    (item,) = store.items(coll.id)
    at.text_area(key=f"note-{item.id}").input("当事人同意先调解").run()
    assert store.items(coll.id)[0].note == "当事人同意先调解"
    assert "教学集需要" in texts(at)  # no case yet: the teaching-set export explains why


def test_question_and_filters_survive_a_page_switch(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), DIVORCE)
    at.multiselect(key="f_types").set_value(["婚姻家庭"]).run()
    at.switch_page("views/collections.py").run()
    at.switch_page("views/ask.py").run()
    assert at.text_input(key="q").value == DIVORCE
    assert at.multiselect(key="f_types").value == ["婚姻家庭"]
    assert C1079 in [c.value for c in at.code]


def test_law_filter_and_result_count(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "调解纠纷")
    at.multiselect(key="f_laws").set_value(["人民调解法"]).run()
    at.slider(key="f_k").set_value(3).run()
    codes = [c.value for c in at.tabs[0].code]
    assert 0 < len(codes) <= 3
    assert all(c.startswith("《中华人民共和国人民调解法》") for c in codes)


# ---- 知识库 and errors -------------------------------------------------------------------


def test_knowledge_page_shows_stats_and_rejects_bad_uploads(
    make_app: Callable[[], AppTest], kb_dir: Path, service: Any
) -> None:
    at = make_app().run()
    at.switch_page("views/knowledge.py").run()
    assert [t.value for t in at.title] == ["知识库"]
    assert {m.label: m.value for m in at.metric}["法条"] == str(service.stats().articles)
    shown = texts(at)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:|\+00:00|UTC", shown)  # local time only
    assert "fengqiao fetch" in plain(shown)  # how to update old data: here, not on 问答检索
    at.file_uploader(key="upload").set_value(("空文件.txt", b"", "text/plain")).run()
    at.button(key="upload-go").click().run()
    assert any("空文件" in e.value and "建议" in e.value for e in at.error)
    assert not (kb_dir / "drop-in" / "空文件.txt").exists()


def test_missing_kb_tells_a_mediator_to_ask_the_administrator(kb_dir: Path) -> None:
    """No command or folder on a mediator's page; the 知识库 page gives both (defect 5)."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "建议" in at.error[0].value
    assert "管理员" in at.error[0].value
    assert "fengqiao" not in at.error[0].value and str(kb_dir) not in plain(at.error[0].value)
    at.switch_page("views/knowledge.py").run()
    assert any("fengqiao build" in plain(e.value) for e in at.error)


def test_a_page_failure_shows_chinese_not_a_traceback(
    make_app: Callable[[], AppTest], service: Any
) -> None:
    class Broken:
        def __getattr__(self, name: str) -> Any:
            return getattr(service, name)

        def ask(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    at = make_app()
    at.session_state[SERVICE_OVERRIDE] = Broken()
    ask(at.run(), DIVORCE)
    assert not at.exception
    assert any("页面出了问题" in e.value and "建议" in e.value for e in at.error)
    assert "RuntimeError" not in texts(at) and "boom" not in texts(at)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("民法典.md", "民法典.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.ini.txt", "win.ini.txt"),
        ("a/b/调解 条例(2020).PDF", "调解 条例(2020).pdf"),
        ("x\x00y.csv", "xy.csv"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "..", ".txt", "noext"])
def test_safe_name_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="建议"):
        safe_name(name)


def test_save_upload_stays_in_drop_in(tmp_path: Path) -> None:
    folder = tmp_path / "drop-in"
    path = deposit(folder, "../../../x.txt", "第一条 测试。".encode()).path
    assert path == (folder / "x.txt").resolve()
    assert not (tmp_path / "x.txt").exists()
    with pytest.raises(ValueError, match="超过"):
        deposit(folder, "big.txt", b"x" * (21 * 1024 * 1024), max_bytes=20 * 1024 * 1024)


def _mediation_docx() -> bytes:
    doc = Document()
    doc.add_paragraph("楼道堆物纠纷调解记录")
    for heading, body in (
        ("基本案情", "李某在楼道堆放杂物，张某多次要求清理未果，向村人民调解委员会申请调解。"),
        ("调解结果", "李某当日清理杂物，双方和解。"),
    ):
        doc.add_heading(heading, level=2)
        doc.add_paragraph(body)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_upload_rebuilds_and_reports_each_file(
    tmp_path: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statute, bad file, committee CSV (a 调解案例, as the 调解案例 page imports it) and a
    DOCX mediation record (read as a case: defect 9)."""
    kb_dir = tmp_path / "kb"
    shutil.copytree(built, kb_dir)
    monkeypatch.setenv("FENGQIAO_KB", str(kb_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[SERVICE_OVERRIDE] = load_fixture_kb(kb_dir)
    at.run()
    at.switch_page("views/knowledge.py").run()
    good = "# 某市物业管理条例\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 业主应当按时交纳物业服务费用。\n\n第二条 物业服务企业应当及时维修公共设施。\n"
    bad = "这不是法规，没有任何条文。".encode("gb18030") + bytes(range(128, 256))
    table = (
        "编号,案件名称,纠纷类型,日期,地区,当事人,基本案情,调解结果\n"
        "2024-001,噪声纠纷,邻里关系,2024-03-15,浙江省诸暨市,张三、李四,"
        "李四夜间装修，张三多次要求停止未果。,李四晚上八点后停工，双方和解。\n"
    )
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    at.file_uploader(key="upload").set_value(
        [
            ("物业条例.md", good.encode(), "text/markdown"),
            ("../乱码.txt", bad, "text/plain"),
            ("调解记录.csv", table.encode(), "text/csv"),
            ("楼道调解.docx", _mediation_docx(), docx_type),
        ]
    ).run()
    at.button(key="upload-go").click().run()
    assert not at.exception, at.exception
    drop = kb_dir / "drop-in"
    assert sorted(p.name for p in drop.iterdir()) == ["乱码.txt", "楼道调解.docx", "物业条例.md"]
    errors = [plain(e.value) for e in at.error]
    assert any(e.startswith("乱码.txt") and "建议" in e for e in errors), errors
    shown = [plain(s.value) for s in at.success]
    assert any("物业条例.md：已按法规导入" in s for s in shown), shown
    assert any("调解记录.csv：按调解案例导入，新增 1 件" in s for s in shown), shown
    assert any("楼道调解.docx：已按调解记录（案例）导入" in s for s in shown), shown
    rebuilt = load_fixture_kb(kb_dir)
    assert any("业主应当按时交纳物业服务费用" in a.text for a in rebuilt.articles)
    assert not any("清理杂物" in a.text for a in rebuilt.articles)  # the record is no statute
    assert any("清理杂物" in c.text for c in rebuilt.cases)
    assert len(rebuilt.cases) == 4  # two uploaded, the remembered fixture cases kept
    assert [p.title for p in rebuilt.precedents.records()] == ["噪声纠纷"]


# ---- text from users and data never becomes markup ------------------------------------

_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")
_OUR_TAGS = {"mark", "span", "div", "br"}
_AUTOLINK = re.compile(r"(?i)https?://|www\.|[\w.+-]@[\w-]+\.\w")


def live_markup(value: str) -> list[str]:
    """What in ``value`` Streamlit would turn into a link, an image or a tag."""
    found = []
    bare = _ESCAPED.sub("", value)
    if "![" in bare or "](" in bare:
        found.append("Markdown link or image")
    tags = {t.lower() for t in re.findall(r"<\s*([a-zA-Z]+)", bare)} - _OUR_TAGS
    if tags:
        found.append(f"HTML tags {sorted(tags)}")
    decoded = html.unescape(_ESCAPED.sub(lambda m: m.group(0)[1], value))
    if _AUTOLINK.search(decoded):
        found.append("autolinked URL or address")
    return found


def markdown_sinks(at: AppTest) -> list[tuple[str, str]]:
    """Every text on the page that Streamlit renders as Markdown, with where it is."""
    out: list[tuple[str, str]] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "toast", "title"):
        out += [(kind, e.value) for e in getattr(at, kind)]
    for kind in (
        "button",
        "download_button",
        "checkbox",
        "text_input",
        "text_area",
        "selectbox",
        "multiselect",
        "radio",
        "number_input",
        "file_uploader",
        "metric",
    ):
        out += [(f"{kind} label", w.label) for w in getattr(at, kind)]
    out += [("radio option", o) for r in at.radio for o in r.options]
    out += [("page_link", p.proto.label) for p in at.page_link]
    out += [("expander", e.label) for e in at.expander]
    out += [("tab", t.label) for t in at.tabs]
    out += [("status", s.label) for s in at.status]
    return out


def test_markdown_escapes_cover_links_images_and_autolinks() -> None:
    from ui.widgets import esc, highlight, md

    nasty = "![x](http://127.0.0.1:9/b.png) [链](http://e) www.evil.com a@b.com <img src=x> $x$ *粗* :red[r]"
    for rendered in (md(nasty), esc(nasty), highlight(nasty, [(0, 3)]), md("a\nb")):
        assert live_markup(rendered) == [], (rendered, live_markup(rendered))
    assert plain(md(nasty)) == nasty  # shown as typed, only inert
    assert plain(esc(nasty)) == nasty
    assert live_markup("![x](http://127.0.0.1:9/b.png)")  # the checker itself finds markup
    assert live_markup("见 www.evil.com")


def test_user_and_data_text_never_becomes_markup(
    make_app: Callable[[], AppTest], kb_dir: Path
) -> None:
    """Question, 案卷 name and upload file name at every sink they reach (issue 15, item 9)."""
    at = make_app().run()
    name = "![x](http://127.0.0.1:9/c.png) www.evil.com"
    at = new_case(at, name)
    pages: list[tuple[str, list[tuple[str, str]]]] = [("new case", markdown_sinks(at))]
    for question in (
        "《![x](http://127.0.0.1:9/b.png)》第1条",
        "[点我](http://evil.example) www.evil.com 离婚 <img src=x> $x$ a@b.com",
    ):
        ask(at, question)
        pages.append((question, markdown_sinks(at)))
    at.button(key="a1-add").click().run()  # toast with the 案卷 name
    pages.append(("added", markdown_sinks(at)))
    at.switch_page("views/collections.py").run()
    pages.append(("collections", markdown_sinks(at)))
    at.switch_page("views/knowledge.py").run()
    at.file_uploader(key="upload").set_value(
        ("www.evil.com[x](http-e).txt", b"", "text/plain")
    ).run()
    at.button(key="upload-go").click().run()
    pages.append(("upload", markdown_sinks(at)))
    assert not at.exception, at.exception
    for where, sinks in pages:
        for kind, value in sinks:
            assert not live_markup(value), (where, kind, value, live_markup(value))
    # and the texts are still there, readable
    everything = " ".join(plain(v) for _, sinks in pages for _, v in sinks)
    assert name in everything and "127.0.0.1:9/b.png" in everything
    assert "www.evil.com[x](http-e).txt" in everything
