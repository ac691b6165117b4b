"""Real-browser test of the 研判 page at 1400 and 390 px: an analyst signs in, sees the charts,
follows a warning to its cases and an article, and downloads the monthly report (PDF
rendered to PNG beside the screenshots in test-artifacts/browser/)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from retrieval.county import synthetic as syn
from tests import pgserver
from tests.browser_util import (
    MARKS,
    SHOTS,
    WIDTHS,
    close_sidebar,
    idle,
    open_page,
    open_sidebar,
    serve,
    shot,
    sign_in,
)
from ui.accounts import Accounts

END = date(2026, 10, 1)
ANALYST, PASSWORD = "王研判", "analyst pass 1"

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from ui_kb import build_fixture_kb

    kb = build_fixture_kb(tmp_path_factory.mktemp("kb"))
    Accounts.in_kb(kb).add(ANALYST, PASSWORD, "analyst")
    with pgserver.server_for_tests() as pg:
        uri = pgserver.fresh_database(pg)
        # 邻里关系 trebled in the last month: its cases cite 民法典第288条, in the fixture kb
        syn.load(uri, syn.model_for(6000, end=END, trends=(syn.Trend("邻里关系", END, 3.0),)))
        old = os.environ.get("FENGQIAO_COUNTY_URI")
        os.environ["FENGQIAO_COUNTY_URI"] = uri
        try:
            with serve(kb, tmp_path_factory, timeout=90) as url:
                yield url
        finally:
            if old is None:
                os.environ.pop("FENGQIAO_COUNTY_URI", None)
            else:
                os.environ["FENGQIAO_COUNTY_URI"] = old


@pytest.mark.parametrize("width", [1400, 390])
def test_analyst_follows_a_warning_to_cases_and_downloads_the_report(
    server: str, browser: Any, width: int, tmp_path: Path
) -> None:
    from playwright.sync_api import expect
    from pypdf import PdfReader

    page = open_page(browser, WIDTHS[str(width)], timeout_ms=60_000)
    page.goto(server)
    sign_in(page, ANALYST, PASSWORD)
    open_sidebar(page)
    page.get_by_test_id("stSidebarNav").get_by_text("研判", exact=True).click()
    expect(page.get_by_role("heading", name="矛盾纠纷研判")).to_be_visible()
    idle(page)
    close_sidebar(page)
    page.get_by_text("演示数据（合成）").click()
    expect(page.get_by_text("合成数据 · 仅供演示").first).to_be_visible()
    idle(page)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts.nth(1)).to_be_visible()
    for i in range(2):  # the charts fit the screen: nothing to scroll sideways
        box = charts.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    shot(page, f"county-01-page-{width}", full_page=True)
    charts.nth(0).scroll_into_view_if_needed()
    shot(page, f"county-01b-trend-{width}", full_page=True)
    charts.nth(1).scroll_into_view_if_needed()
    shot(page, f"county-01c-heatmap-{width}", full_page=True)

    # the county-wide warning (each town's 邻里关系 is warned as well)
    warning = page.locator(
        "[class*='st-key-an-warning-']", has_text="枫桥县（合成） · 邻里关系"
    ).first
    expect(warning).to_contain_text("季节基线 λ")
    warning.scroll_into_view_if_needed()
    warning.get_by_role("button", name="查看这些案件").click()
    heading = page.get_by_role("heading", name="案件：全部 · 邻里关系 · 2026年10月")
    expect(heading).to_be_visible()
    heading.scroll_into_view_if_needed()
    shot(page, f"county-02-cases-{width}", full_page=True)

    page.get_by_role("button", name="生成本月研判报告").click()
    with page.expect_download() as got:
        page.get_by_role("button", name="下载 PDF").click()
    pdf = tmp_path / "report.pdf"
    got.value.save_as(pdf)
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "矛盾纠纷研判报告（2026年10月）" in text and "合成数据" in text
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", str(pdf), str(SHOTS / f"county-report-{width}")],
            check=True,
        )

    page.get_by_role("link", name="民法典第288条").first.click()
    expect(page.get_by_role("heading", name="法规浏览")).to_be_visible()
    expect(page.get_by_text("相邻权利人").first).to_be_visible()
    shot(page, f"county-03-article-{width}", full_page=True)
