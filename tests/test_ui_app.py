"""Streamlit AppTest of every page and flow: ask, filter, cited article, collect, export, upload."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ingest.dropin import safe_name, save_into
from ui.pages import SERVICE_OVERRIDE
from ui.store import CollectionStore

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
DIVORCE = "男方不同意离婚，女方可以怎么办？"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Path:
    """One real index (fixture statutes + cases, conftest's fake embedder) for the page tests."""
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder)


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's kb folder: fresh per test, so each test has its own collections database."""
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    return tmp_path


@pytest.fixture
def make_app(kb_dir: Path, built: Path) -> Callable[[], AppTest]:
    kb = load_fixture_kb(built)

    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = (
            kb  # a real KnowledgeBase, loaded with the fake embedder
        )
        return at

    return make


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Bytes handed to st.download_button, by file name."""
    seen: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(
        self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False
    ):  # type: ignore[no-untyped-def]
        if file_name and isinstance(path_or_data, bytes):
            seen[file_name] = path_or_data
        return original(
            self, path_or_data, mimetype, coordinates, file_name, is_for_static_download
        )

    monkeypatch.setattr(MediaFileManager, "add", add)
    return seen


def texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [c.value for c in at.code] + [c.value for c in at.caption]
    )
    return "\n".join(parts)


def ask(at: AppTest, question: str) -> AppTest:
    at.text_input(key="q").input(question).run()
    assert not at.exception, at.exception
    return at


def test_ask_page_answers_with_articles_and_cases(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    assert [t.value for t in at.title] == ["问答检索"]
    assert not at.error
    ask(at, DIVORCE)
    body = texts(at)
    assert "答案要点" in body
    assert "《中华人民共和国民法典》第一千零七十九条" in [c.value for c in at.code]
    assert "<mark" in body and "现行有效" in body
    assert "王某诉李某离婚纠纷案" in body  # similar case and its outcome line
    assert "判决准予王某与李某离婚" in body
    assert "为什么出现：关键词匹配" in body
    assert [t.label for t in at.tabs][0].startswith("适用法条")


def test_example_button_runs_the_search(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    at.button(key="ex-邻居装修噪音很大，晚上也施工，怎么处理？").click().run()
    assert at.text_input(key="q").value.startswith("邻居装修噪音")
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
    titles = [m.value.strip("*").split(". ", 1)[-1] for m in at.tabs[1].markdown]
    assert titles[0].startswith("王某诉李某离婚纠纷案")


def test_cited_repealed_article_opens_with_notice(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "婚姻法第32条")
    assert any("废止" in w.value for w in at.warning)
    assert any("已直接打开" in s.value for s in at.success)
    assert [c.value for c in at.code][0] == "《中华人民共和国婚姻法》第三十二条"


def test_unsafe_text_is_escaped(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "<script>alert(1)</script> 离婚 $x$")
    body = texts(at)
    assert "<script>" not in body


def test_collect_then_export(
    make_app: Callable[[], AppTest], kb_dir: Path, downloads: dict[str, bytes]
) -> None:
    at = ask(make_app().run(), DIVORCE)
    at.button(key="a1-add").click().run()
    at.button(key="c1-add").click().run()
    assert at.button(key="a1-add").disabled  # shows 已在案卷
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    assert coll.name == "我的案卷"
    refs = [i.ref for i in store.items(coll.id)]
    kinds = [i.kind for i in store.items(coll.id)]
    assert kinds == ["article", "case"] and refs[0].startswith("民法典:")

    at.switch_page("pages/collections.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["案卷与教学集"]
    first = store.items(coll.id)[0]
    at.text_area(key=f"note-{first.id}").input("先调解，再起诉").run()
    at.button(key=f"save-{first.id}").click().run()
    assert store.items(coll.id)[0].note == "先调解，再起诉"
    at.button(key=f"down-{first.id}").click().run()
    assert store.items(coll.id)[1].id == first.id

    assert {d.label for d in at.get("download_button")} == {"导出案卷", "导出教学集"}
    doc = Document(io.BytesIO(downloads["案卷-我的案卷.docx"]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "案卷：我的案卷" in text and "先调解，再起诉" in text
    assert "王某诉李某离婚纠纷案" in text and "《中华人民共和国民法典》" in text
    teach = "\n".join(
        p.text for p in Document(io.BytesIO(downloads["教学集-我的案卷.docx"])).paragraphs
    )
    assert "参考答案" in teach and "争议焦点" in teach

    at.radio(key="export_format").set_value("PDF").run()
    assert downloads["案卷-我的案卷.pdf"].startswith(b"%PDF")
    at.button(key=f"del-{first.id}").click().run()
    assert len(store.items(coll.id)) == 1


def test_browse_link_opens_the_article(make_app: Callable[[], AppTest], built: Path) -> None:
    kb = load_fixture_kb(built)
    at = make_app().run()
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "1079"
    at.switch_page("pages/browse.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["法规浏览"]
    assert at.code[0].value == "《中华人民共和国民法典》第一千零七十九条"
    assert at.selectbox(key="browse_path").value == " / ".join(kb.article("民法典:1079").path)
    at.text_input(key="browse_find").input("登记").run()
    expected = sum("登记" in a.text for a in kb.law_articles("民法典"))
    assert f"找到 {expected} 条" in texts(at)


def test_sidebar_says_which_date_the_validity_rests_on(
    make_app: Callable[[], AppTest], built: Path
) -> None:
    kb = load_fixture_kb(built)
    at = make_app().run()
    shown = [w.value for w in at.sidebar.warning] + [c.value for c in at.sidebar.caption]
    assert any(f"最新公布于 {kb.catalogue.data_as_of}" in v for v in shown), shown
    at.switch_page("pages/browse.py").run()
    shown = [w.value for w in at.sidebar.warning] + [c.value for c in at.sidebar.caption]
    assert any(f"最新公布于 {kb.catalogue.data_as_of}" in v for v in shown), shown


def test_browse_list_adds_an_article_to_the_case_file(
    make_app: Callable[[], AppTest], kb_dir: Path
) -> None:
    at = make_app().run()
    at.query_params["law"] = "民法典"
    at.query_params["article"] = "1079"
    at.switch_page("pages/browse.py").run()
    at.button(key="browse-add-民法典:1079").click().run()
    assert not at.exception
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    assert [(i.kind, i.ref) for i in store.items(coll.id)] == [("article", "民法典:1079")]
    # the same article, in the list and in the linked card, now shows as collected
    assert at.button(key="browse-add-民法典:1079").disabled
    assert at.button(key="focus-add").disabled


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
    at.switch_page("pages/browse.py").run()
    assert any("没有第99999条" in e.value and "建议" in e.value for e in at.error)


def test_knowledge_page_shows_stats_and_rejects_bad_uploads(
    make_app: Callable[[], AppTest], kb_dir: Path, built: Path
) -> None:
    kb = load_fixture_kb(built)
    at = make_app().run()
    at.switch_page("pages/knowledge.py").run()
    assert [t.value for t in at.title] == ["知识库"]
    assert {m.label: m.value for m in at.metric}["法条"] == str(kb.stats().articles)
    at.file_uploader(key="upload").set_value(("空文件.txt", b"", "text/plain")).run()
    at.button(key="upload-go").click().run()
    assert any("空文件" in e.value and "建议" in e.value for e in at.error)
    assert not (kb_dir / "drop-in" / "空文件.txt").exists()


def test_missing_kb_shows_one_line_error(kb_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "建议" in at.error[0].value


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
    path = save_into(folder, "../../../x.txt", "第一条 测试。".encode())
    assert path == (folder / "x.txt").resolve()
    assert not (tmp_path / "x.txt").exists()
    with pytest.raises(ValueError, match="超过"):
        save_into(folder, "big.txt", b"x" * (21 * 1024 * 1024), max_bytes=20 * 1024 * 1024)


def test_upload_rebuilds_and_reports_the_bad_file(
    tmp_path: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb_dir = tmp_path / "kb"
    shutil.copytree(built, kb_dir)
    monkeypatch.setenv("FENGQIAO_KB", str(kb_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[SERVICE_OVERRIDE] = load_fixture_kb(kb_dir)
    at.run()
    at.switch_page("pages/knowledge.py").run()
    good = "# 某市物业管理条例\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 业主应当按时交纳物业服务费用。\n\n第二条 物业服务企业应当及时维修公共设施。\n"
    bad = "这不是法规，没有任何条文。".encode("gb18030") + bytes(range(128, 256))
    table = (
        "编号,案件名称,纠纷类型,日期,地区,当事人,基本案情,调解结果\n"
        "2024-001,楼道堆物纠纷,邻里关系,2024-03-15,浙江省诸暨市,张三、李四,"
        "李四在楼道堆放杂物，张三多次要求清理未果。,李四当日清理杂物，双方和解。\n"
    )
    at.file_uploader(key="upload").set_value(
        [
            ("物业条例.md", good.encode(), "text/markdown"),
            ("../乱码.txt", bad, "text/plain"),
            ("调解记录.csv", table.encode(), "text/csv"),
        ]
    ).run()
    at.button(key="upload-go").click().run()
    assert not at.exception, at.exception
    drop = kb_dir / "drop-in"
    assert sorted(p.name for p in drop.iterdir()) == ["乱码.txt", "物业条例.md", "调解记录.csv"]
    assert not (kb_dir / "乱码.txt").exists()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any(e.startswith("乱码.txt") and "建议" in e for e in errors), errors
    shown = [s.value.replace("\\", "") for s in at.success]
    assert any("物业条例.md：已按法规导入" in s for s in shown), shown
    assert any("调解记录.csv：已按调解记录（案例）导入" in s for s in shown), shown
    rebuilt = load_fixture_kb(kb_dir)
    assert any("业主应当按时交纳物业服务费用" in a.text for a in rebuilt.articles)
    assert any(c.title == "楼道堆物纠纷" for c in rebuilt.cases)  # the table became a case
    assert len(rebuilt.cases) == 3  # and the remembered fixture cases are still there


def test_citation_question_opens_article_directly(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "民法典第1079条")
    assert any("已直接打开" in s.value for s in at.success)
    assert at.code[0].value == "《中华人民共和国民法典》第一千零七十九条"
    assert "答案要点" not in texts(at)  # a bare citation needs no extracted answer


def test_question_and_filters_survive_a_page_switch(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), DIVORCE)
    at.multiselect(key="f_types").set_value(["婚姻家庭"]).run()
    at.switch_page("pages/collections.py").run()
    at.switch_page("pages/ask.py").run()
    assert at.text_input(key="q").value == DIVORCE
    assert at.multiselect(key="f_types").value == ["婚姻家庭"]
    assert "《中华人民共和国民法典》第一千零七十九条" in [c.value for c in at.code]


def test_highlight_escapes_html_and_markdown() -> None:
    from ui.widgets import esc, highlight, md

    text = '<script>alert("x")</script> $x$ *粗* [链](http://e) 离婚'
    out = highlight(text, ["离婚", "script"], sentence=(0, 8))
    assert "<script" not in out and "$" not in out and "*" not in out and "[" not in out
    assert "<mark" in out and "离婚" in out
    assert "<br>" in esc("甲\n乙") and "&#60;" in esc("<")
    assert md("第1.2条*") == "第1\\.2条\\*"


def test_law_filter_and_result_count(make_app: Callable[[], AppTest]) -> None:
    at = ask(make_app().run(), "调解纠纷")
    at.multiselect(key="f_laws").set_value(["人民调解法"]).run()
    at.slider(key="f_k").set_value(3).run()
    codes = [c.value for c in at.tabs[0].code]
    assert 0 < len(codes) <= 3
    assert all(c.startswith("《中华人民共和国人民调解法》") for c in codes)


def test_note_saves_on_change(make_app: Callable[[], AppTest], kb_dir: Path) -> None:
    at = ask(make_app().run(), DIVORCE)
    at.button(key="a1-add").click().run()
    at.switch_page("pages/collections.py").run()
    store = CollectionStore.in_kb(kb_dir)
    (coll,) = store.collections()
    (item,) = store.items(coll.id)
    at.text_area(key=f"note-{item.id}").input("当事人同意先调解").run()
    assert store.items(coll.id)[0].note == "当事人同意先调解"
    assert "教学集需要" in texts(at)  # no case yet: the teaching-set export explains why
