"""Validity says how fresh it is: badges, the answer panel (fixed clock), one date for all."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ui.text import dated_status
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
DIVORCE = "男方不同意离婚，女方可以怎么办？"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Any:
    return load_fixture_kb(build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder))


@pytest.fixture
def at_day(
    service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[int], AppTest]:
    """The ask page answering DIVORCE on the day ``days`` after the data date."""
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    as_of = datetime.date.fromisoformat(service.catalogue.data_as_of)

    def make(days: int) -> AppTest:
        today = as_of + datetime.timedelta(days=days)
        monkeypatch.setattr("retrieval.catalogue.clock_today", lambda: today)
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = service
        at.run()
        at.text_input(key="q").input(DIVORCE).run()
        assert not at.exception, at.exception
        return at

    return make


def shown(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.main.markdown, *at.main.caption]).replace("\\", "")


def test_status_names_its_date_only_once_the_data_is_over_a_year_old(service: Any) -> None:
    catalogue = service.catalogue
    as_of = datetime.date.fromisoformat(catalogue.data_as_of)
    assert catalogue.stale_as_of(as_of + datetime.timedelta(days=365)) == ""
    late = catalogue.stale_as_of(as_of + datetime.timedelta(days=366))
    assert late == catalogue.data_as_of
    assert dated_status("现行有效", late) == f"现行有效（数据截至 {late}）"
    assert dated_status("已废止", "") == "已废止"


def test_badges_and_answer_panel_name_the_data_date_when_old(
    at_day: Callable[[int], AppTest], service: Any
) -> None:
    as_of = service.catalogue.data_as_of
    at = at_day(400)
    said = shown(at)
    assert f"现行有效（数据截至 {as_of}）" in said
    # every article card's badge carries the date
    badges = [m.value for m in at.main.markdown if "-badge[" in m.value and "条" in m.value]
    assert badges and all("数据截至" in b for b in badges), badges
    # the answer panel, not only the sidebar, says it in one plain line
    panel = next(i for i, m in enumerate(at.main.markdown) if "答案要点" in m.value)
    tabs = next(i for i, m in enumerate(at.main.markdown) if "-badge[" in m.value)
    line = [m.value.replace("\\", "") for m in at.main.markdown[panel:tabs]]
    assert any(f"效力状态以 {as_of} 的法规数据为准" in v for v in line), line


def test_fresh_data_keeps_the_plain_badge(at_day: Callable[[int], AppTest], service: Any) -> None:
    at = at_day(30)
    said = shown(at)
    assert "数据截至" not in said and "现行有效" in said
    assert f"最新公布于 {service.catalogue.data_as_of}" in said  # the panel's caption
