"""``fengqiao query --json`` and the ask page show the same answer for the same question.

Both render one ``Answered`` (retrieval/asking.py); this test asks each question through
the CLI's main function and through the page (Streamlit AppTest) on the same small
knowledge base and compares what a mediator reads: the articles and cases in order, the
answer points, the words each card says it matched (and marks), and whether the question
was taken as only a citation (its page alone) or as a question (full results).
"""

from __future__ import annotations

import functools
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ingest.records import AI_ANSWER
from tests.conftest import FAKE_CONFIG, FakeEmbedder
from ui import cli
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
QUESTIONS = (
    "男方不同意离婚，女方可以怎么办？",
    "邻居装修噪音很大，晚上也施工，怎么处理？",
    "民法典第1079条怎么办",  # words beyond the citation: full results and the cited article
    "民法典第1079条",  # only a citation: the article's page alone
)
QUOTED = re.compile(r"‘([^’]+)’")
MARK = re.compile(r"<mark[^>]*>(.*?)</mark>", re.S)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


def plain(value: str) -> str:
    """Rendered text as a reader sees it: no tags, no escapes, no entities, no joiners."""
    value = re.sub(r"</?(?:mark|span|div|br)\b[^>]*>", "", value)
    value = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", value)
    return html.unescape(value).replace("\u2060", "")


def cli_json(kb: Path, question: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> dict:
    from retrieval.service import Service

    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))
    code = cli.main(["query", question, "--json", "--kb", str(kb), "--store", "flat"])
    out, _ = capsys.readouterr()
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def page(kb: Path, question: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))  # the page's own 案卷 database
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = load_fixture_kb(kb)
    at.run()
    at.text_input(key="q").input(question).run()
    for key in ("more-a-go", "more-c-go"):  # 显示其余: every card, as --json lists them all
        if any(b.key == key for b in at.button):
            at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def why_words(caption: str) -> list[str]:
    """The words a 为什么出现 line names, question words then statute terms."""
    words: list[str] = []
    for part in caption.removeprefix("为什么出现：").split("；"):
        if part.startswith(("与问题中的", "相关的法律用语")):
            words += QUOTED.findall(part)
    return words


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_cli_and_the_page_show_the_same_answer(
    kb: Path, question: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    data = cli_json(kb, question, monkeypatch, capsys)
    at = page(kb, question, tmp_path, monkeypatch)
    markdown = [m.value for m in at.markdown]
    captions = [plain(c.value) for c in at.caption]

    # the citation-only decision: its page alone, or full results in two tabs
    assert data["citation_only"] is (question == "民法典第1079条")
    assert bool(at.tabs) is not data["citation_only"]
    if data["citation_only"]:
        heads = [plain(m)[5:] for m in markdown if m.startswith("#### ") and "答案要点" not in m]
        assert heads == [data["articles"][0]["citation"]]  # the cited article's page
        assert data["answer"] == [] and not any("答案要点" in m for m in markdown)
        return

    # articles and cases, in order (the page folds AI answers after the people's cases)
    headers = [plain(m) for m in markdown if re.match(r"\*\*\d+\. ", m)]
    cases = sorted(data["cases"], key=lambda c: c["kind"] == AI_ANSWER)
    want = [f"**{a['rank']}. {a['citation']}**" for a in data["articles"]]
    want += [f"**{c['rank']}. {c['title']}**" for c in cases]
    assert [h.split("　")[0] for h in headers] == want
    assert data["articles"] and (data["cases"] or "第1079条" in question)

    # answer points, verbatim, with their 款 heads
    quotes = [plain(m) for m in markdown if m.startswith('<div class="fq-quote">')]
    points = [q for q in quotes if re.match(r"\d+\. “", q)]  # not 办理提示's quotes
    assert len(points) == len(data["answer"])
    for n, (shown, point) in enumerate(zip(points, data["answer"], strict=True), 1):
        lead, text = point["lead"], point["text"]
        gaps = ("", "……") if lead else ("",)
        assert shown in [f"{n}. “{lead}{gap}{text}”" for gap in gaps], (shown, point)
    if question.startswith("男方"):
        assert points  # a question the fixture answers: the comparison is not of two empties

    # the words each card says it matched, and the words marked in each article's text
    whys = [why_words(c) for c in captions if c.startswith("为什么出现：")]
    matched = [r["matched"]["words"] + r["matched"]["legal_words"] for r in data["articles"]]
    matched += [c["matched"]["words"] + c["matched"]["legal_words"] for c in cases]
    assert whys == matched
    if "第1079条" not in question:  # 怎么办 alone matches no text
        assert any(whys), "no card matched any word: the comparison would prove nothing"
    full_texts = [m for m in markdown if MARK.search(m) and "fq-" not in m]
    for article in data["articles"]:
        marked = [article["text"][a:b] for a, b in article["highlights"]]
        if marked:
            assert any([plain(x) for x in MARK.findall(m)] == marked for m in full_texts), marked

    # the cited article is shown with the results when the question asks more
    if "第1079条" in question:
        assert data["articles"][0]["id"] == "民法典:1079"
        assert data["articles"][0]["why"]["sources"][0] == "citation"


class Counting:
    """The service, counting what a page asks of it."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self._service, name)


@pytest.mark.parametrize("question", ["男方不同意离婚，女方可以怎么办？", "民法典第1079条"])
def test_the_page_draws_the_answer_without_calling_back(
    kb: Path, question: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ask per question; no lookup per card, quote or citation (before: ~35 calls)."""
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    counting = Counting(load_fixture_kb(kb))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = counting
    at.run()
    counting.calls.clear()  # the empty page: sidebar filters and the data date
    at.text_input(key="q").input(question).run()
    assert not at.exception, at.exception
    assert sorted(set(counting.calls)) == ["ask", "freshness_notice", "laws", "version"]
    assert counting.calls.count("ask") == 1, counting.calls
    assert len(counting.calls) <= 5, counting.calls
