"""AppTest of 案卷 ownership in office mode: private, shared with masked numbers, delete, audit."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from ui.accounts import Accounts
from ui.errors import StoreError
from ui.store import CaseDetails, CollectionStore, Party, Viewer
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
PAGE = "views/collections.py"
PW = {"王主任": "admin pass 12345", "李调解": "mediator pass 123", "赵调解": "mediator pass 456"}
ID_NUMBER = "110105198504021234"
PHONE = "13900001111"
PARTIES = CaseDetails(
    facts="双方因宅基地边界发生争执。",
    parties=(
        Party(role="申请人", name="王某", id_number=ID_NUMBER, phone=PHONE),
        Party(role="被申请人", name="李某", phone="13812345678"),
    ),
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Any:
    return load_fixture_kb(build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder))


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    users = Accounts.in_kb(tmp_path)
    users.add("王主任", PW["王主任"], "admin")
    users.add("李调解", PW["李调解"], "mediator")
    users.add("赵调解", PW["赵调解"], "mediator")
    return tmp_path


@pytest.fixture
def sign_in(kb_dir: Path, service: Any) -> Callable[[str], AppTest]:
    def make(name: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = service
        at.run()
        at.text_input[0].input(name)
        at.text_input[1].input(PW[name])
        at.button[0].click().run()
        assert not at.exception, at.exception
        assert f"当前用户：{name}" in " ".join(c.value for c in at.sidebar.caption)
        return at

    return make


def open_page(at: AppTest) -> AppTest:
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def new_case(at: AppTest, name: str) -> AppTest:
    at.text_input(key="new_case_name").input(name)
    at.button(key="new_case_go").click().run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [
        a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind)
    ]
    return "\n".join(parts).replace("\\", "")


def has(at: AppTest, key: str) -> bool:
    try:
        at.button(key=key)
    except KeyError:
        return False
    return True


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def two_cases_of_li(sign_in: Callable[[str], AppTest], kb_dir: Path) -> tuple[int, int]:
    """李调解 creates a private 案卷 and one shared with 赵调解; both hold a party's numbers."""
    at = open_page(sign_in("李调解"))
    new_case(at, "王家宅基地纠纷")
    new_case(at, "李家赡养纠纷")
    store = CollectionStore.in_kb(kb_dir)
    private, shared = store.collections()
    assert (private.owner, shared.owner) == ("李调解", "李调解")
    store.save_details(private.id, PARTIES)
    # the owner types the numbers into the form and sees them as typed
    k = f"d{shared.id}-"
    at.text_input(key=k + "p0-name").input("王某")
    at.text_input(key=k + "p0-id_number").input(ID_NUMBER)
    at.text_input(key=k + "p0-phone").input(PHONE)
    at.text_input(key=k + "p1-name").input("李某")
    at.text_input(key=k + "p1-phone").input("13812345678")
    at.button(key=k + "save").click().run()
    assert store.details(shared.id).parties[0].id_number == ID_NUMBER
    at.radio(key=f"share-mode-{shared.id}").set_value("named")
    at.multiselect(key=f"share-names-{shared.id}").set_value(["赵调解"])
    at.button(key=f"share-go-{shared.id}").click().run()
    assert "共享设置已保存" in shown(at)
    assert store.get(shared.id).shared_with == ("赵调解",)  # type: ignore[union-attr]
    assert store.get(private.id).sharing == "private"  # type: ignore[union-attr]
    assert at.text_input(key=k + "p0-id_number").value == ID_NUMBER
    return private.id, shared.id


def test_a_colleague_sees_only_what_is_shared_masked_and_cannot_delete(
    sign_in: Callable[[str], AppTest], kb_dir: Path, downloads: dict[str, bytes]
) -> None:
    private, shared = two_cases_of_li(sign_in, kb_dir)
    at = open_page(sign_in("赵调解"))
    # only the shared 案卷 is offered, named with its owner
    picker = at.selectbox(key="case_pick")
    assert picker.options == ["李家赡养纠纷（李调解的案卷）"]
    at.selectbox(key="case_pick_main").set_value(shared).run()
    assert not at.exception, at.exception
    said = shown(at)
    assert "王某" in said and "110105********1234" in said and "139****1111" in said
    assert ID_NUMBER not in said and PHONE not in said and "13812345678" not in said
    # nothing to edit, share or delete; no form holding the numbers
    assert not has(at, f"delete-go-{shared}") and not has(at, f"share-go-{shared}")
    assert not has(at, f"d{shared}-save")
    assert "只有所有者（李调解）或管理员可以重命名、共享或删除这个案卷" in said
    # the draft a colleague downloads carries masked numbers too
    draft = docx_text(downloads["人民调解协议书-李家赡养纠纷.docx"])
    assert "110105********1234" in draft and ID_NUMBER not in draft and PHONE not in draft
    at.get("download_button")[0].click().run()
    # the store refuses a colleague's delete even without the page
    store = CollectionStore.in_kb(kb_dir)
    with pytest.raises(StoreError, match="只有所有者或管理员可以删除"):
        store.delete(shared, by=Viewer("赵调解"))
    with pytest.raises(StoreError, match="只有所有者可以更改共享"):
        store.share(shared, "committee", (), Viewer("赵调解"))
    assert {c.id for c in store.collections()} == {private, shared}
    # the audit log has who opened and exported what
    entries = [(e.user, e.action, e.collection_id) for e in store.audit()]
    assert ("赵调解", "open", shared) in entries and ("赵调解", "export", shared) in entries
    assert ("赵调解", "open", private) not in entries


def test_shared_with_the_committee_is_seen_by_every_mediator(
    sign_in: Callable[[str], AppTest], kb_dir: Path
) -> None:
    _, shared = two_cases_of_li(sign_in, kb_dir)
    store = CollectionStore.in_kb(kb_dir)
    store.share(shared, "private", (), Viewer("李调解"))
    at = open_page(sign_in("赵调解"))
    # nothing of 李调解's is offered: the sidebar says there is no 案卷 yet
    assert "还没有案卷" in " ".join(c.value for c in at.sidebar.caption)
    assert not any(s.key == "case_pick" for s in at.selectbox)
    store.share(shared, "committee", (), Viewer("李调解"))
    at.run()
    assert at.selectbox(key="case_pick").options == ["李家赡养纠纷（李调解的案卷）"]


def test_administrator_reads_the_audit_log_and_may_delete(
    sign_in: Callable[[str], AppTest], kb_dir: Path
) -> None:
    private, shared = two_cases_of_li(sign_in, kb_dir)
    open_page(sign_in("赵调解")).selectbox(key="case_pick_main").set_value(shared).run()
    at = open_page(sign_in("王主任"))
    store = CollectionStore.in_kb(kb_dir)
    # the administrator sees every 案卷, numbers masked (not the owner)
    at.selectbox(key="case_pick_main").set_value(private).run()
    assert ID_NUMBER not in shown(at) and "110105********1234" in shown(at)
    at.checkbox(key=f"delete-sure-{private}").check().run()
    at.button(key=f"delete-go-{private}").click().run()
    assert not at.exception, at.exception
    assert [c.id for c in store.collections()] == [shared]
    (table,) = (d.value for d in at.dataframe)
    rows = list(zip(table["用户"], table["操作"], table["案卷"], strict=True))
    assert ("王主任", "删除", "王家宅基地纠纷") in rows
    assert ("赵调解", "打开", "李家赡养纠纷") in rows
    assert ("李调解", "共享设置", "李家赡养纠纷") in rows
    # a mediator is shown no audit log
    li = open_page(sign_in("李调解"))
    assert not li.dataframe and "案卷访问记录" not in " ".join(e.label for e in li.expander)


def test_audit_log_is_append_only(tmp_path: Path) -> None:
    import sqlite3

    store = CollectionStore.in_kb(tmp_path)
    c = store.create("甲", owner="李调解")
    store.log(Viewer("李调解"), "open", c)
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE audit SET user = '别人'")
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM audit")
    store.delete(c.id, by=Viewer("李调解"))
    assert [(e.user, e.action) for e in store.audit()] == [
        ("李调解", "delete"),
        ("李调解", "open"),
    ]


def test_the_mediator_picks_the_basis_and_reads_the_draft_note_on_screen(
    service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, downloads: dict[str, bytes]
) -> None:
    """Local mode (no accounts): 调解依据 holds the articles ticked; the note is on screen."""
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = service
    at.run()
    new_case(at, "王家离婚")
    at.text_input(key="q").input("男方不同意离婚，女方可以怎么办？").run()
    at.button(key="a1-add").click().run()
    at.button(key="a2-add").click().run()
    store = CollectionStore.in_kb(tmp_path)
    (case,) = store.collections()
    first, second = (service.article(i.ref) for i in store.items(case.id))
    open_page(at)
    basis = at.multiselect(key=f"d{case.id}-basis")
    assert basis.value == [first.id, second.id]  # every article of the 案卷 by default
    draft = docx_text(downloads["人民调解协议书-王家离婚.docx"])
    assert first.citation in draft and second.citation in draft
    basis.set_value([second.id]).run()
    draft = docx_text(downloads["人民调解协议书-王家离婚.docx"])
    assert second.citation in draft and first.citation not in draft
    # the note about the draft: on screen and in the DOCX, never in the PDF
    note = " ".join(e.label for e in at.expander)
    assert "草稿说明（只在屏幕和 Word 稿中显示，PDF 中没有）" in note
    assert "以下栏目在案卷中未填写" in shown(at)
    assert "草稿说明" in draft
