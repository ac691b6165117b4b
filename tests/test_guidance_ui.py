"""The 办理提示 panel on the answer page (Streamlit AppTest, a small real knowledge base)."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from guidance_kb import CURATED, build_guidance_kb  # noqa: E402
from test_ui_app import ask, page_links, plain, texts  # noqa: E402
from ui_kb import load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
pytestmark = pytest.mark.skipif(
    not CURATED.is_dir(), reason=f"真实语料不存在：{CURATED}（设置 FENGQIAO_CORPUS）"
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_fixture_kb(build_guidance_kb(tmp_path_factory.mktemp("gkb")))


@pytest.fixture
def make_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: Any
) -> Callable[[], AppTest]:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))

    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[SERVICE_OVERRIDE] = service
        return at

    return make


def test_domestic_violence_risk_points_come_first_with_verbatim_articles(
    make_app: Callable[[], AppTest],
) -> None:
    at = ask(make_app().run(), "丈夫喝了酒就打我，还说要杀了我")
    warning = at.error[0].value
    assert "发现风险迹象" in plain(warning) and "家暴" in warning
    body = plain(texts(at))
    # the risk points are drawn before the answer panel
    assert body.index("公安机关对加害人给予批评教育或者出具告诫书") < body.index("答案要点")
    assert (
        "“当事人因遭受家庭暴力或者面临家庭暴力的现实危险，向人民法院申请人身安全保护令的，人民法院应当受理。”"
        in body
    )
    links = page_links(at)
    assert "——《反家庭暴力法》第二十三条" in links
    assert "——《人民调解法》第二十五条" in links
    assert "办理提示" in body


def test_calculator_gives_the_last_day_of_judicial_confirmation(
    make_app: Callable[[], AppTest],
) -> None:
    at = ask(make_app().run(), "调解协议签了，对方不履行怎么办")
    assert not at.error
    pick = at.selectbox(key="fq-dl-pick")
    i = next(n for n, label in enumerate(pick.options) if label.startswith("人民调解法第三十三条"))
    pick.set_value(i).run()
    at.date_input(key="fq-dl-date").set_value(datetime.date(2026, 12, 7)).run()
    assert not at.exception
    body = plain(texts(at))
    assert "最后一日：2027-01-06（星期三）" in body
    # the rule it counts by, quoted
    assert "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。" in body


def test_knowledge_page_lists_the_points_held_back(make_app: Callable[[], AppTest]) -> None:
    at = make_app().run()
    at.switch_page("views/knowledge.py").run()
    assert not at.exception, at.exception
    held = next(e for e in at.expander if "条要点因条文对不上未显示" in e.label)
    lines = [t.value for t in held.text]
    # 民事诉讼法 is not in this knowledge base: its points are named, not shown
    assert any(line.startswith("通用#") and "民事诉讼法 67" in line for line in lines)
    assert all("知识库中没有这一条" in line for line in lines)
