"""The ask page's similar cases (issue 21): AI answers folded, off by default in office mode."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ingest.records import AI_ANSWER, Case
from retrieval.hits import Hit, Why
from ui.accounts import Accounts

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(REPO / "ui" / "app.py")
QUESTION = "男方不同意离婚，女方可以怎么办？"
MACHINE_TITLE = "男方不同意离婚怎么办（语言模型的解答）"
PASSWORD = "mediator pass 1"


class WithMachineAnswer:
    """The fixture service, with one AI answer added to every question's similar cases."""

    def __init__(self, service: Any) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    def ask(self, question: str, **kw: Any) -> Any:
        answered = self._service.ask(question, **kw)
        case = Case(
            "lawyer-llama-9999",
            AI_ANSWER,
            MACHINE_TITLE,
            "婚姻家庭",
            (("问题", question), ("回答", "可以向人民法院起诉离婚。")),
        )
        cases = [*answered.result.cases, Hit(case, 0.5, 99, Why(("semantic",)))]
        return replace(answered, result=replace(answered.result, cases=cases))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Any:
    kb = build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder)
    return WithMachineAnswer(load_fixture_kb(kb))


def _ask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: Any, office: bool) -> AppTest:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    if office:
        Accounts.in_kb(tmp_path).add("李调解", PASSWORD, "mediator")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["fengqiao_service_override"] = service
    at.run()
    if office:
        at.text_input[0].input("李调解")
        at.text_input[1].input(PASSWORD)
        at.button[0].click()
        at.run()
    at.text_input(key="q").input(QUESTION)
    return at.run()


def _texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_office_mode_hides_machine_answers_until_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: Any
) -> None:
    at = _ask(tmp_path, monkeypatch, service, office=True)
    assert not at.exception
    toggle = at.toggle(key="show-machine-answers")
    assert toggle.value is False
    assert MACHINE_TITLE not in _texts(at)
    assert any("另有 1 条 AI 生成解答（未经核实）" in c.value for c in at.caption)
    toggle.set_value(True)
    at.run()
    assert [e.label for e in at.expander if e.label.startswith("AI 生成解答")] == [
        "AI 生成解答（未经核实，1 条）"
    ]
    assert MACHINE_TITLE in _texts(at)


def test_on_this_computer_machine_answers_are_folded_under_their_own_heading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: Any
) -> None:
    at = _ask(tmp_path, monkeypatch, service, office=False)
    assert not at.exception
    assert not [t for t in at.toggle if t.key == "show-machine-answers"]
    assert [e.label for e in at.expander if e.label.startswith("AI 生成解答")] == [
        "AI 生成解答（未经核实，1 条）"
    ]
