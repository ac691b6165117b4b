"""Real-browser test: Debian chromium via Playwright against `streamlit run` on localhost.

ask → check 第一千零七十九条 → open a case → collect both → export DOCX; a screenshot per step
goes to test-artifacts/browser/.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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
HERE = Path(__file__).parent / "data" / "ui"
DIVORCE = "男方不同意离婚，女方可以怎么办？"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium; CI installs it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(HERE))
    from ui_kb import build_fixture_kb

    kb_dir = build_fixture_kb(tmp_path_factory.mktemp("kb"))
    port = _free_port()
    log = (tmp_path_factory.mktemp("log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "serve_fixture.py"), str(kb_dir), str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def test_ask_check_collect_export(server: str, browser: object, tmp_path: Path) -> None:
    from docx import Document
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)  # the first search warms jieba on a shared 2-core machine

    def shot(name: str) -> None:
        page.wait_for_timeout(300)  # let Streamlit finish painting
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    page.goto(server)
    expect(page.get_by_role("heading", name="问答检索")).to_be_visible()
    shot("01-home")

    box = page.get_by_label("请输入纠纷情况、问题或法条引用，按回车检索")
    box.fill(DIVORCE)
    box.press("Enter")
    expect(page.get_by_text("答案要点")).to_be_visible()
    first_card = page.locator('[data-testid="stCode"]').filter(has_text="第一千零七十九条").first
    expect(first_card).to_be_visible()
    shot("02-answer")

    page.get_by_role("button", name="加入案卷").first.click()
    added = page.get_by_role("button", name="已在案卷").first
    expect(added).to_be_visible()
    added.scroll_into_view_if_needed()
    shot("03-article-added")

    page.get_by_role("tab", name="类似案例").click()
    panel = page.get_by_role("tabpanel").last
    expect(panel.get_by_text("王某诉李某离婚纠纷案").first).to_be_visible()
    panel.get_by_text("查看全文（已匿名化）").first.click()
    expect(panel.get_by_text("分居满二年").first).to_be_visible()
    panel.get_by_text("查看全文（已匿名化）").first.scroll_into_view_if_needed()
    shot("04-case-opened")
    panel.get_by_role("button", name="加入案卷").first.click()
    page.get_by_role("tab", name="类似案例").click()
    expect(
        page.get_by_role("tabpanel").last.get_by_role("button", name="已在案卷").first
    ).to_be_visible()
    shot("05-case-added")

    page.get_by_role("link", name="案卷与教学集").click()
    expect(page.get_by_role("heading", name="案卷与教学集")).to_be_visible()
    expect(page.get_by_text("共 2 项：法条 1，案例 1")).to_be_visible()
    shot("06-collection")

    export = page.get_by_role("button", name="导出案卷")
    export.scroll_into_view_if_needed()
    with page.expect_download() as info:
        export.click()
    target = SHOTS / "案卷-我的案卷.docx"
    info.value.save_as(target)
    text = "\n".join(p.text for p in Document(io.BytesIO(target.read_bytes())).paragraphs)
    assert "《中华人民共和国民法典》第一千零七十九条" in text
    assert "王某诉李某离婚纠纷案" in text
    shot("07-exported")

    page.goto(f"{server}/?law=民法典&article=1079")
    expect(page.get_by_role("heading", name="法规浏览")).to_be_visible()
    expect(page.get_by_text("链接指向的条文")).to_be_visible()
    expect(
        page.locator('[data-testid="stCode"]').filter(has_text="第一千零七十九条")
    ).to_be_visible()
    expect(page.get_by_role("button", name="已在案卷").first).to_be_visible()  # still collected
    shot("08-browse-link")
    page.close()
