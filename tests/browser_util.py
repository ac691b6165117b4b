"""What every real-browser test shares: chromium, the fixture server, pages at 1400 and 390 px.

Debian chromium is driven through Playwright against ``tests/data/ui/serve_fixture.py``
(``fengqiao serve``'s settings over a fixture kb); screenshots go to test-artifacts/browser/.
The ``browser`` fixture (tests/conftest.py) starts chromium once per module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "test-artifacts" / "browser"
UI_DATA = Path(__file__).parent / "data" / "ui"
WIDE = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"1400": WIDE, "390": PHONE}
QUESTION_BOX = "请输入纠纷情况、问题或法条引用，按回车检索"

if str(UI_DATA) not in sys.path:  # fixture_server, ui_kb, guidance_kb live beside the fixtures
    sys.path.insert(0, str(UI_DATA))

MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium; "
        "CI installs it) and playwright",
    ),
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


def serve(
    kb_dir: Path, tmp_path_factory: pytest.TempPathFactory, *, timeout: float = 60
) -> contextlib.AbstractContextManager[str]:
    """The base URL of the fixture Streamlit server over ``kb_dir``, stopped afterwards."""
    from fixture_server import running

    return running(kb_dir, tmp_path_factory.mktemp("log") / "streamlit.log", timeout=timeout)


def open_page(browser: Any, viewport: dict[str, int], *, timeout_ms: int = 30_000) -> Any:
    """A new page at ``viewport`` that accepts downloads; every wait gives up after ``timeout_ms``."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.set_default_timeout(timeout_ms)
    expect.set_options(
        timeout=timeout_ms
    )  # the first search warms jieba on a shared 2-core machine
    return page


def idle(page: Any) -> None:
    """Wait until Streamlit has finished the run and painted it."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(600)


def shot(page: Any, name: str, *, full_page: bool = False) -> None:
    """Save the painted page as test-artifacts/browser/``name``.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    idle(page)
    page.screenshot(
        path=str(SHOTS / f"{name}.png"), full_page=full_page, timeout=60_000, animations="disabled"
    )


def wait_for_answer(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("答案要点")).to_be_visible()
    idle(page)


def ask(page: Any, question: str) -> str:
    """Type ``question`` into the open page's question box; the answered page's main text."""
    box = page.get_by_label(QUESTION_BOX)
    box.fill(question)
    box.press("Enter")
    wait_for_answer(page)
    return str(page.get_by_test_id("stMain").inner_text())


def open_question(page: Any, url: str, question: str) -> None:
    """Open the ask page with ``question`` in its address and wait for the answer."""
    page.goto(f"{url}/?q={question}")
    wait_for_answer(page)


def similar_cases(page: Any) -> Any:
    """The 类似案例 tab of an answered question, opened: its panel."""
    from playwright.sync_api import expect

    tab = page.get_by_role("tab", name=re.compile("^类似案例"))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    idle(page)
    return page.get_by_role("tabpanel", name=re.compile("^类似案例"))


def case_card(panel: Any, title: str) -> Any:
    """The case card holding ``title``: the innermost block with it and its 查看全文 expander.

    (The expander's own block holds the case text, so the text alone could match it.)
    """
    blocks = panel.get_by_test_id("stVerticalBlock").filter(has_text=title)
    return blocks.filter(has=panel.page.get_by_test_id("stExpander")).last


def assert_no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollWidth")
    assert width <= page.viewport_size["width"], width


def sign_in(page: Any, name: str, password: str) -> None:
    """Sign in on the open login page; the ask page follows."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="枫桥 · 登录")).to_be_visible()
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="问答检索")).to_be_visible()
    idle(page)


def _on_phone(page: Any) -> bool:
    return bool(page.viewport_size["width"] < 500)


def _sidebar_open(page: Any) -> bool:
    box = page.get_by_test_id("stSidebar").bounding_box()
    return box is not None and box["x"] >= 0


def open_sidebar(page: Any) -> None:
    """A phone starts with the sidebar closed (off screen): open it."""
    if _on_phone(page) and not _sidebar_open(page):
        page.get_by_test_id("stExpandSidebarButton").click()
        idle(page)


def close_sidebar(page: Any) -> None:
    """On a phone, close the sidebar again so that it does not cover the page."""
    if _on_phone(page) and _sidebar_open(page):
        page.get_by_test_id("stSidebar").hover()
        page.get_by_test_id("stSidebarCollapseButton").click()
        idle(page)
