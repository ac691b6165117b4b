"""The second probe's holes: nothing silently dropped from drop-in, no half-written
folders on a full disk, no broken milvus-lite store at `serve`, no tracebacks for remote
users, no formulas in exported CSV."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

import pytest
from conftest import FAKE_CONFIG, FakeEmbedder

from retrieval.index_folder import IndexFolder, build_lock
from retrieval.service import Service
from ui import cli

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb  # noqa: E402

STATUTE = (
    "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n\n"
    "第二条 相邻各户应当互谅互让，妥善处理排水、通行等问题。\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


@pytest.fixture
def kb(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "kb"
    shutil.copytree(built, out)
    return out


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr("retrieval.service.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))


def _laws(kb: Path) -> set[str]:
    return {a.law for a in IndexFolder.of(kb).read_records().articles}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- a file in drop-in is in the index, or reported as not in it ------------------------


def test_an_add_refused_by_a_running_build_says_so_and_a_retry_brings_the_file_in(
    kb: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "村规民约.md"
    src.write_text(STATUTE, encoding="utf-8")
    with build_lock(kb):  # another build is running
        code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "正在由另一个构建更新" in line and "村规民约.md 已存入 drop-in，但还不能检索" in line
    assert "再次导入同一文件" in line
    assert "某村村规民约" not in _laws(kb)
    code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))  # the retry
    assert code == 0, err
    assert "内容相同，未重复保存" in out
    assert "某村村规民约" in _laws(kb)


@pytest.mark.parametrize("name", ["Readme.md", "README.MD", "readme.md"])
def test_the_drop_in_note_name_is_refused_at_add_not_saved_and_skipped(
    kb: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    src = tmp_path / name
    src.write_text(STATUTE, encoding="utf-8")
    code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))
    assert code == 1 and "已保存" not in out
    (line,) = err.strip().splitlines()
    assert "留给 drop-in 文件夹的说明" in line and "改名后再导入" in line
    assert not (kb / "drop-in").exists() or not any(
        p.name.lower() == "readme.md" for p in (kb / "drop-in").iterdir()
    )
