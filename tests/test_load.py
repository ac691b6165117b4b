"""Several sessions at once against the running server: each gets its own answer, all finish.

A small version of ``bench/bench_load.py`` (which measures latency): three websocket
sessions, no browser, on the fixture server started as ``fengqiao serve`` starts it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "data" / "ui"
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(HERE), str(REPO / "bench")]
from bench_load import Session, one_user, run_level  # noqa: E402
from fixture_server import running  # noqa: E402
from ui_kb import build_fixture_kb  # noqa: E402

# Three questions whose first article differs: a mix-up between sessions would show.
QUESTIONS = {
    "男方不同意离婚，女方可以怎么办？": "第一千零七十九条",
    "邻居装修噪音很大，晚上也施工，怎么处理？": "第二百九十四条",
    "人民调解员应当具备什么条件？": "第六条",
}


def first_article(texts: list[str]) -> str:
    """The header of the page's first article card (``**1. 法律名称　第X条**``)."""
    return next(t for t in texts if t.startswith("**1. "))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kb = build_fixture_kb(tmp_path_factory.mktemp("kb"))
    with running(kb, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        asyncio.run(one_user(url, ["民法典第1079条"]))  # the first visitor loads the service
        yield url


def test_one_session_at_a_time(server: str) -> None:
    async def ask(q: str) -> list[str]:
        async with Session(server) as s:
            await s.open()
            return (await s.ask(q)).texts

    for q, mark in QUESTIONS.items():
        assert mark in first_article(asyncio.run(ask(q))), q


def test_three_sessions_at_once_each_get_their_own_answer(server: str) -> None:
    async def together() -> list[list[str]]:
        start = asyncio.Barrier(len(QUESTIONS))

        async def user(q: str) -> list[str]:
            async with Session(server, timeout=60) as s:
                await s.open()
                await start.wait()
                return (await s.ask(q)).texts

        return await asyncio.gather(*(user(q) for q in QUESTIONS))

    for (q, mark), texts in zip(QUESTIONS.items(), asyncio.run(together()), strict=True):
        assert mark in first_article(texts), q
        assert any(t.startswith("检索用时") for t in texts)


def test_load_level_reports_every_question(server: str) -> None:
    level = asyncio.run(run_level(server, 3, list(QUESTIONS) * 2, 2))
    assert level.sessions == 3 and len(level.latencies) == 6
    assert all(0 < s < 60 for s in level.latencies)
    assert len(level.search_ms) == 6  # every page reached its last line
    row = level.json()
    assert row["p50_s"] <= row["p95_s"] <= row["max_s"]
