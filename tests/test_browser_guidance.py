"""Real browser: the 办理提示 panel at 1400 px and 390 px (a phone), over a small real KB.

For the 家暴 question the risk points are on top — above the answer, on the phone's first
screen —, each with its article quoted and linked to its citation page; at 1400 px the
other sections sit beside the answer. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_util import (
    MARKS,
    PHONE,
    WIDTHS,
    assert_no_sideways_scroll,
    idle,
    open_page,
    open_question,
    serve,
    shot,
)
from tests.data.ui.guidance_kb import CURATED, build_guidance_kb

QUESTION = "丈夫喝了酒就打我，还说要杀了我"

pytestmark = [
    *MARKS,
    pytest.mark.skipif(
        not CURATED.is_dir(), reason=f"真实语料不存在：{CURATED}（设置 FENGQIAO_CORPUS）"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kb = build_guidance_kb(tmp_path_factory.mktemp("gkb"))
    with serve(kb, tmp_path_factory, timeout=90) as url:
        yield url


def _top(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["y"])


@pytest.mark.parametrize("width", ["1400", "390"])
def test_risk_points_first_with_linked_verbatim_articles(
    server: str, browser: Any, width: str
) -> None:
    from playwright.sync_api import expect

    viewport = WIDTHS[width]
    page = open_page(browser, viewport)
    open_question(page, server, QUESTION)
    risk = page.locator(".st-key-fq-guidance-risk")
    expect(risk).to_be_visible()
    expect(risk.get_by_text("发现风险迹象")).to_be_visible()
    answer = page.get_by_text("答案要点").first
    assert _top(risk) < _top(answer)
    # on a phone the warning itself is on the first screen
    warn = risk.get_by_text("发现风险迹象")
    assert _top(warn) + 20 <= viewport["height"]
    # 告诫书 and 人身安全保护令, quoted verbatim, each linked to its citation page
    text = risk.inner_text()
    assert "公安机关对加害人给予批评教育或者出具告诫书" in text
    assert "向人民法院申请人身安全保护令的，人民法院应当受理" in text
    link = risk.get_by_role("link", name="——《反家庭暴力法》第二十三条")
    href = link.get_attribute("href") or ""
    assert href.lstrip("/").startswith("browse?law=") and href.endswith("article=23")
    shot(page, f"21-guidance-risk-{width}")
    panel = page.locator(".st-key-fq-guidance")
    expect(panel.get_by_text("办理提示", exact=True)).to_be_visible()
    if width == "1400":
        a = answer.bounding_box()
        p = panel.bounding_box()
        assert a is not None and p is not None
        assert p["x"] > a["x"] + a["width"] / 2  # beside the answer, not under it
    else:
        assert_no_sideways_scroll(page)
    panel.scroll_into_view_if_needed()
    shot(page, f"22-guidance-panel-{width}")
    # the link opens the article's citation page
    link.click()
    expect(page.get_by_text("同一章节的相邻条文")).to_be_visible()
    shot(page, f"23-guidance-citation-{width}")
    page.close()


def test_phone_calculator_gives_the_judicial_confirmation_last_day(
    server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, PHONE)
    open_question(page, server, "调解协议签了，对方不履行怎么办")
    assert not page.locator(".st-key-fq-guidance-risk").count()  # no risk sign, no banner
    panel = page.locator(".st-key-fq-guidance")
    expect(panel.get_by_text("期限计算")).to_be_visible()
    # the date field is three spin buttons (year, month, day): type into them in turn
    panel.get_by_role("spinbutton", name="year, 起算日期（调解协议生效之日（签订日））").click()
    page.keyboard.type("20261207")
    page.keyboard.press("Escape")  # close the calendar: the typed date is committed
    panel.get_by_text("期限计算").click()
    idle(page)
    expect(panel.get_by_text("最后一日：2027-01-06（星期三）")).to_be_visible()
    panel.get_by_text("最后一日：2027-01-06（星期三）").scroll_into_view_if_needed()
    shot(page, "24-guidance-calculator-390")
    page.close()
