"""The fengqiao command as a user meets it: build, add, query, errors (fake embedder, tiny data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, FAKE_CONFIG, FakeEmbedder
from ui import cli

ARTICLES_DOCX = [
    "第一条 为了规范本村宅基地使用，维护村民合法权益，制定本规约。",
    "第二条 村民建房应当经村民委员会同意，不得占用邻居通道和排水沟。",
]
ARTICLES_PDF = [
    "第一条 为了维护小区安宁，制定本公约。",
    "第二条 装修施工时间为每日八时至十二时、十四时至十八时，夜间禁止产生噪声的施工。",
]


@pytest.fixture()
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds and loads through the CLI use the fake embedder instead of the real model."""
    import functools

    from retrieval.service import Service

    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _build_copy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Path, int, str]:
    """Copy the fixture statutes (so a test may edit them), build ``tmp_path/kb`` from them."""
    kb = tmp_path / "kb"
    statutes = tmp_path / "statutes"
    shutil.copytree(DATA / "statutes", statutes)
    code, out, _ = _run(capsys, "build", "--statutes", str(statutes), "--kb", str(kb))
    return kb, statutes, code, out


def _docx(path: Path, title: str, lines: list[str]) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading(title, level=1)
    for line in lines:
        doc.add_paragraph(line)
    doc.save(str(path))


def _pdf(path: Path, title: str, lines: list[str]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    y = 800
    for line in [title, *lines]:
        c.drawString(40, y, line)
        y -= 24
    c.save()


def test_build_then_query_json_has_the_interface_shape(
    fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    code, out, _ = _run(capsys, "build", "--statutes", str(DATA / "statutes"), "--kb", str(kb))
    assert code == 0 and "条法条" in out

    code, out, _ = _run(capsys, "query", "民法典第1079条", "--kb", str(kb), "--json", "--k", "3")
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "民法典第1079条"
    first = data["articles"][0]
    assert first["law"] == "民法典" and first["article"] == "1079"
    assert first["citation"] == "《中华人民共和国民法典》第一千零七十九条"
    assert first["label"] == "第一千零七十九条" and first["status"] == "现行有效"
    assert first["text"].startswith("夫妻一方要求离婚的")
    for key in ("rank", "id", "law_title", "path", "score"):
        assert key in first
    assert isinstance(data["cases"], list)


def test_plain_query_prints_citation_and_verbatim_text(
    fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    _run(capsys, "build", "--statutes", str(DATA / "statutes"), "--kb", str(kb))
    code, out, _ = _run(capsys, "query", "民法典第一千零七十九条", "--kb", str(kb))
    assert code == 0
    assert "1. 《中华人民共和国民法典》第一千零七十九条  [现行有效" in out
    assert "夫妻一方要求离婚的，可以由有关组织进行调解" in out
    # the last line says which date the validity shown rests on
    assert out.rstrip().splitlines()[-1].startswith("【数据】条文和效力状态以知识库数据为准")


def test_query_names_the_data_date_once_the_data_is_over_a_year_old(
    fake_model: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime

    kb = tmp_path / "kb"
    _run(capsys, "build", "--statutes", str(DATA / "statutes"), "--kb", str(kb))
    _, out, _ = _run(capsys, "query", "民法典第一千零七十九条", "--kb", str(kb), "--json")
    as_of = json.loads(out)["freshness"]["data_as_of"]
    day = datetime.date.fromisoformat(as_of)
    monkeypatch.setattr(
        "retrieval.catalogue.clock_today", lambda: day + datetime.timedelta(days=30)
    )
    _, out, _ = _run(capsys, "query", "民法典第一千零七十九条", "--kb", str(kb))
    assert "第一千零七十九条  [现行有效]" in out and "【注意】" not in out
    monkeypatch.setattr(
        "retrieval.catalogue.clock_today", lambda: day + datetime.timedelta(days=400)
    )
    _, out, _ = _run(capsys, "query", "民法典第一千零七十九条", "--kb", str(kb))
    assert f"第一千零七十九条  [现行有效（数据截至 {as_of}）]" in out
    assert f"【注意】效力状态以 {as_of} 的法规数据为准" in out.splitlines()[0] + out
    _, out, _ = _run(capsys, "query", "民法典第一千零七十九条", "--kb", str(kb), "--json")
    data = json.loads(out)
    assert data["freshness"]["stale"] is True and as_of in data["freshness"]["text"]
    assert data["articles"][0]["status"] == "现行有效"  # the old key keeps its value


def test_added_docx_and_pdf_are_found_after_incremental_build(
    fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb, _, _, _ = _build_copy(capsys, tmp_path)
    docx_file, pdf_file = tmp_path / "村规民约.docx", tmp_path / "小区公约.pdf"
    _docx(docx_file, "某村村规民约", ARTICLES_DOCX)
    _pdf(pdf_file, "某小区文明公约", ARTICLES_PDF)

    code, out, err = _run(capsys, "add", str(docx_file), str(pdf_file), "--kb", str(kb))
    assert code == 0, err
    assert (kb / "drop-in" / "村规民约.docx").is_file()

    code, out, _ = _run(capsys, "query", "夜间装修噪声施工时间", "--kb", str(kb), "--json")
    texts = [a["text"] for a in json.loads(out)["articles"]]
    assert any("夜间禁止产生噪声的施工" in t for t in texts)
    code, out, _ = _run(capsys, "query", "宅基地建房占用通道", "--kb", str(kb), "--json")
    texts = [a["text"] for a in json.loads(out)["articles"]]
    assert any("不得占用邻居通道和排水沟" in t for t in texts)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["query", "离婚"], "知识库"),
        (["build", "--statutes", "/nonexistent/statutes"], "/nonexistent/statutes"),
        (["add", "/nonexistent/file.docx"], "/nonexistent/file.docx"),
    ],
)
def test_expected_failures_are_one_line_without_traceback(
    fake_model: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    says: str,
) -> None:
    code, _, err = _run(capsys, *argv, "--kb", str(tmp_path / "empty-kb"))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("错误：") and "建议" in lines[0] and says in lines[0]
    assert "Traceback" not in err


def test_rebuild_reports_what_changed(
    fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb, statutes, code, out = _build_copy(capsys, tmp_path)
    assert code == 0 and "首次读取" in out

    law = statutes / "社会法" / "劳动合同法(2012-12-28).md"
    law.write_text(
        law.read_text(encoding="utf-8") + "\n第九十九条 本条为测试新增。\n", encoding="utf-8"
    )
    code, out, _ = _run(capsys, "build", "--kb", str(kb))

    assert code == 0
    assert "文件 新增 0、改动 1、删除 0；法条 新增 1、改动 0、删除 0" in out
    assert "重新解析 1 个文件" in out


def test_build_output_has_no_library_debug_lines() -> None:
    """bm25s sets its logger to DEBUG on import ("Building index from tokens" in every build)."""
    import logging

    from retrieval.bm25 import BM25Index

    BM25Index().index([["离婚"], ["噪声"]])
    assert logging.getLogger("bm25s").getEffectiveLevel() >= logging.WARNING


def test_serve_says_in_chinese_which_address_to_open(
    fake_model: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Never "http://0.0.0.0:…" (no browser opens it) and no English welcome from Streamlit."""
    import re

    from ui.accounts import Accounts

    kb = tmp_path / "kb"
    _run(capsys, "build", "--statutes", str(DATA / "statutes"), "--kb", str(kb))
    calls: list[list[str]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append(list(argv))
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execve", execve)
    monkeypatch.setattr(cli, "lan_address", lambda host="": "192.168.1.20")
    with pytest.raises(SystemExit):
        cli.main(["serve", "--kb", str(kb), "--port", "8612"])
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8612" in out and "0.0.0.0" not in out
    Accounts.in_kb(kb).add("王主任", "admin pass 12345", "admin")
    with pytest.raises(SystemExit):
        cli.main(["serve", "--kb", str(kb), "--port", "8612", "--host", "0.0.0.0"])
    out = capsys.readouterr().out
    assert "http://192.168.1.20:8612" in out and "http://127.0.0.1:8612" in out
    assert "0.0.0.0" not in out
    # the words around the addresses are Chinese (Ctrl+C is the key's name)
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"http://\S+|Ctrl\+C", "", out))
    assert not words, words
    cmd = calls[-1]
    assert cmd[cmd.index("--logger.hideWelcomeMessage") + 1] == "true"
    assert cmd[cmd.index("--logger.level") + 1] == "warning"
