"""Real-browser test: ``fengqiao add`` in another shell while ``fengqiao serve`` runs.

The page open in the browser asks a question, a file is added from another process (the
index is rebuilt and swapped there), and the same open page asks again: the new article
is found, with no restart and no reload of the page. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_util import MARKS, REPO, UI_DATA, WIDE, ask, open_page, serve, shot

pytestmark = MARKS

STATUTE = (
    "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n\n"
    "第二条 相邻各户应当互谅互让，妥善处理排水、通行等问题。\n"
)
QUESTION = "村民建房占用公共通道怎么办"
NEW_TEXT = "村规民约"  # the new law's title, on its article card


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ui_kb import build_fixture_kb

    return build_fixture_kb(tmp_path_factory.mktemp("kb"))


@pytest.fixture(scope="module")
def server(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(kb_dir, tmp_path_factory) as url:
        yield url


def test_add_from_another_shell_is_found_by_the_next_question_in_the_open_page(
    server: str, browser: Any, kb_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, WIDE)
    page.goto(server)
    assert NEW_TEXT not in ask(page, QUESTION)

    src = tmp_path / "村规民约.md"
    src.write_text(STATUTE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(UI_DATA / "cli_fixture.py"), "add", str(src), "--kb", str(kb_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    ask(page, QUESTION + "？")  # the same open page, a new question
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(NEW_TEXT).first).to_be_visible(timeout=60_000)
    expect(main.get_by_text("答案要点")).to_be_visible()
    shot(page, "40-added-elsewhere-found")
    page.close()
