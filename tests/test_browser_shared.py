"""Real-browser check at 1400 and 390 px: another committee's shared case in the similar cases,
its badge naming the committee it comes from (issue 24; screenshots in test-artifacts/browser/)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import pgserver

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "test-artifacts" / "browser"
HERE = Path(__file__).parent / "data" / "ui"
WIDTHS = {"1400": {"width": 1400, "height": 1000}, "390": {"width": 390, "height": 844}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium; CI installs it)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(HERE))
    from conftest import FakeEmbedder
    from fixture_server import running
    from test_county_shared import EAST, OWN, THEIRS, WEST, committee, sync
    from ui_kb import build_fixture_kb

    built = build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())
    root = tmp_path_factory.mktemp("committees")
    with pgserver.server_for_tests() as pg, pytest.MonkeyPatch.context() as mp:
        uri = pgserver.fresh_database(pg)
        mp.setattr("retrieval.encoders.embedder.load_embedder", lambda *a, **k: FakeEmbedder())
        mp.delenv("FENGQIAO_COUNTY_URI", raising=False)  # the address comes from county.json
        east = committee(built, root, "east", OWN)
        west = committee(built, root, "west", THEIRS)
        sync(west, uri, WEST)
        sync(east, uri, EAST)
        assert "FENGQIAO_COUNTY_URI" not in os.environ
        log = tmp_path_factory.mktemp("log") / "streamlit.log"
        with running(east, log, timeout=90) as url:
            yield url
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _idle(page: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(600)


@pytest.mark.parametrize("width", ["1400", "390"])
def test_a_shared_case_card_names_the_committee_it_comes_from(
    server: str, browser: Any, width: str
) -> None:
    from playwright.sync_api import expect
    from test_county_shared import OWN, QUESTION, THEIRS, WEST_LABEL

    page = browser.new_page(viewport=WIDTHS[width])
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)  # the first question warms jieba on a shared machine
    page.goto(f"{server}/?q={QUESTION}")
    expect(page.get_by_text("答案要点")).to_be_visible()
    _idle(page)
    tab = page.get_by_role("tab", name=re.compile("^类似案例"))
    tab.click()
    _idle(page)
    panel = page.get_by_role("tabpanel", name=re.compile("^类似案例"))
    blocks = panel.get_by_test_id("stVerticalBlock")
    theirs = blocks.filter(has_text=THEIRS.title).filter(has=page.get_by_test_id("stExpander")).last
    expect(theirs.get_by_text(WEST_LABEL, exact=True)).to_be_visible()
    own = blocks.filter(has_text=OWN.title).filter(has=page.get_by_test_id("stExpander")).last
    expect(own.get_by_text("调解案例（本委员会记录）", exact=True)).to_be_visible()
    theirs.get_by_test_id("stExpander").click()
    expect(
        theirs.get_by_text("来源：县级共享的调解案例，来自白沙镇西村人民调解委员会（已匿名化）")
    ).to_be_visible()
    theirs.scroll_into_view_if_needed()
    width_px = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollWidth")
    assert width_px <= WIDTHS[width]["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    _idle(page)
    page.screenshot(path=str(SHOTS / f"county-shared-card-{width}.png"), animations="disabled")
    page.close()
