"""Real-browser check at 1400 and 390 px: another committee's shared case in the similar cases,
its badge naming the committee it comes from (issue 24; screenshots in test-artifacts/browser/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests import pgserver
from tests.browser_util import (
    MARKS,
    WIDTHS,
    assert_no_sideways_scroll,
    case_card,
    open_page,
    open_question,
    serve,
    shot,
    similar_cases,
)

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from conftest import FakeEmbedder
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
        with serve(east, tmp_path_factory, timeout=90) as url:
            yield url
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("width", ["1400", "390"])
def test_a_shared_case_card_names_the_committee_it_comes_from(
    server: str, browser: Any, width: str
) -> None:
    from playwright.sync_api import expect
    from test_county_shared import OWN, QUESTION, THEIRS, WEST_LABEL

    page = open_page(browser, WIDTHS[width], timeout_ms=60_000)
    open_question(page, server, QUESTION)
    panel = similar_cases(page)
    theirs = case_card(panel, THEIRS.title)
    expect(theirs.get_by_text(WEST_LABEL, exact=True)).to_be_visible()
    own = case_card(panel, OWN.title)
    expect(own.get_by_text("调解案例（本委员会记录）", exact=True)).to_be_visible()
    theirs.get_by_test_id("stExpander").click()
    expect(
        theirs.get_by_text("来源：县级共享的调解案例，来自白沙镇西村人民调解委员会（已匿名化）")
    ).to_be_visible()
    theirs.scroll_into_view_if_needed()
    assert_no_sideways_scroll(page)
    shot(page, f"county-shared-card-{width}")
    page.close()
