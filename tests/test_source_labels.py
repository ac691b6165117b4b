"""Cases say who wrote them in plain Chinese; dataset names and licences stay off cards and exports."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from ingest.cases import load_cases
from ingest.records import Article, Case, IngestReport
from ui.documents.export import export_collection
from ui.documents.quoting import source_line
from ui.store import CollectionStore
from ui.views import SERVICE_OVERRIDE

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

DATA = Path(__file__).parent / "data" / "cases"
APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
JARGON = re.compile(
    r"LawBench|LawRefBook|lawyer-llama|Apache|GPT|legal_counsel|open-compass|仅限学术|许可证|许可"
)


def _first(folder: str) -> Case:
    return load_cases([DATA / folder], report=IngestReport())[0]


@pytest.mark.parametrize(
    ("folder", "label", "said"),
    [
        ("lawbench", "法律咨询问答（公开数据集，未经核实）", "公开数据集中的法律咨询问答"),
        ("lawyer_llama", "AI 生成解答（未经核实）", "人工智能根据所附法条生成的回答，未经核实"),
        ("lawrefbook_cases", "法院典型案例（官方公布）", "官方公布的法院典型案例"),
    ],
)
def test_each_source_has_a_plain_label_and_source_line(folder: str, label: str, said: str) -> None:
    case = _first(folder)
    assert JARGON.search(case.provenance)  # the data keeps the full provenance …
    assert case.label == label
    line = source_line(case)
    assert said in line and not JARGON.search(line), line  # … the reader gets plain words


class _KB:
    def __init__(self, cases: list[Case]) -> None:
        self.cases = {c.id: c for c in cases}

    def article(self, article_id: str) -> Article | None:
        return None

    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)


def test_exports_carry_the_plain_source(tmp_path: Path) -> None:
    cases = [_first(f) for f in ("lawbench", "lawyer_llama", "lawrefbook_cases")]
    store = CollectionStore.in_kb(tmp_path)
    c = store.create("来源")
    for case in cases:
        store.add(c.id, "case", case.id)
    data = export_collection("来源", store.items(c.id), _KB(cases), "docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "来源：公开数据集中的法律咨询问答" in text and "来源：人工智能根据所附法条生成" in text
    assert not JARGON.search(text), JARGON.findall(text)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Any:
    return load_fixture_kb(build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder))


def test_case_cards_show_the_plain_label_and_source(
    service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SERVICE_OVERRIDE] = service
    at.run()
    at.text_input(key="q").input("男方不同意离婚，女方可以怎么办？").run()
    assert not at.exception, at.exception
    cards = "\n".join(m.value for m in at.tabs[1].markdown).replace("\\", "")
    assert "法院典型案例（官方公布）" in cards
    sources = [c.value.replace("\\", "") for c in at.tabs[1].caption if "来源" in c.value]
    assert sources and all("官方公布的法院典型案例" in s for s in sources), sources
    assert not JARGON.search(cards + "\n".join(sources))
