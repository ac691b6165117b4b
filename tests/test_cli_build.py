"""`fengqiao build --device/--ray/--export` and `fengqiao fetch --index`, end to end (fake embedder)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.encoders.embedder import resolve_device
from retrieval.errors import ModelError
from tests.conftest import DATA, FAKE_CONFIG, FakeEmbedder, FileServer
from ui import cli

QUESTION = "邻居装修噪音太大怎么办"


class DeviceFake(FakeEmbedder):
    """The fake embedder, told a device as the real one is (resolved the same way)."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.device = resolve_device(device)


@pytest.fixture()
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake embedders for build, load and fetch; records the devices builds asked for."""
    import functools

    from retrieval.service import Service

    devices: list[str] = []

    def load(*_a: Any, device: str = "cpu", **_k: Any) -> FakeEmbedder:
        devices.append(device)
        return DeviceFake(device)

    monkeypatch.setattr("retrieval.build.load_embedder", load)
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr("retrieval.encoders.embedder.load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    return devices


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _statutes(tmp_path: Path) -> Path:
    statutes = tmp_path / "statutes"
    if not statutes.exists():
        shutil.copytree(DATA / "statutes", statutes)
    return statutes


def _answer(capsys: pytest.CaptureFixture[str], kb: Path) -> list[str]:
    code, out, err = _run(capsys, "query", QUESTION, "--kb", str(kb), "--json")
    assert code == 0, err
    return [a["id"] for a in json.loads(out)["articles"]]


def _manifest(kb: Path) -> dict[str, Any]:
    return json.loads((kb / "index" / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# ---- --device ---------------------------------------------------------------------------


def test_device_auto_is_cuda_only_when_torch_sees_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") == "cpu"
    with pytest.raises(ModelError, match="CUDA"):
        resolve_device("cuda")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ModelError, match="auto、cpu 或 cuda"):
        resolve_device("gpu")


def test_the_device_is_not_part_of_the_vectors_key() -> None:
    from retrieval.encoders.embedder import STEmbedder

    cpu, auto = STEmbedder(device="cpu"), STEmbedder(device="auto")
    assert cpu.key == auto.key and auto.requested_device == "auto"


def test_build_device_is_recorded_and_changes_no_key(
    asked: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    statutes = _statutes(tmp_path)
    code, out, err = _run(capsys, "build", "--statutes", str(statutes), "--kb", str(kb))
    assert code == 0, err
    assert asked == ["auto"]  # the default
    model = _manifest(kb)["model"]
    assert model["device"] == "cpu" and model["key"] == FakeEmbedder.key
    code, out, err = _run(capsys, "build", "--kb", str(kb), "--device", "cpu")
    assert code == 0 and "已是最新" in out  # same key, same corpus: nothing to do
    assert asked == ["auto", "cpu"]
    code, out, err = _run(capsys, "build", "--kb", str(kb), "--device", "cuda")
    assert code == 1 and "CUDA" in err and "建议" in err and err.count("\n") == 1


# ---- --export and fetch --index -----------------------------------------------------------


def test_export_then_fetch_good_corrupted_and_truncated(
    asked: list[str], tmp_path: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    county = tmp_path / "county"
    archive = tmp_path / "pub" / "fengqiao-index.tar.gz"
    code, out, err = _run(
        capsys,
        "build",
        "--statutes",
        str(_statutes(tmp_path)),
        "--kb",
        str(county),
        "--export",
        str(archive),
    )
    assert code == 0, err
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"SHA-256 {digest}" in out
    assert (archive.parent / "fengqiao-index.tar.gz.sha256").read_text().split()[0] == digest
    want = _answer(capsys, county)

    # a village PC with an older index of its own
    village = tmp_path / "village"
    code, _, err = _run(
        capsys, "build", "--statutes", str(DATA / "statutes" / "社会法"), "--kb", str(village)
    )
    assert code == 0, err
    old = _answer(capsys, village)
    old_manifest = _manifest(village)
    assert old != want

    data = archive.read_bytes()
    (server.root / "corrupt.tar.gz").write_bytes(
        data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
    )
    (server.root / "short.tar.gz").write_bytes(data[: len(data) // 2])
    for name in ("corrupt.tar.gz", "short.tar.gz"):
        code, out, err = _run(
            capsys,
            "fetch",
            "--index",
            server.url(name),
            "--sha256",
            digest,
            "--kb",
            str(village),
        )
        assert code == 1 and "校验失败" in err and "建议" in err, (name, err)
        assert _manifest(village) == old_manifest and _answer(capsys, village) == old
    # the connection drops a third of the way: nothing installed, the next run continues
    shutil.copy(archive, server.root / archive.name)
    server.cut_at = len(data) // 3
    fetch = ["fetch", "--index", server.url(archive.name), "--sha256", digest, "--kb", str(village)]
    code, out, err = _run(capsys, *fetch)
    assert code == 1 and ("不完整" in err or "中断" in err) and "建议" in err, err
    assert _manifest(village) == old_manifest and _answer(capsys, village) == old
    code, out, err = _run(capsys, "fetch", "--index", server.url("x.tar.gz"), "--kb", str(village))
    assert code == 1 and "--sha256" in err

    server.cut_at = None
    code, out, err = _run(capsys, *fetch)
    assert code == 0, err
    assert server.ranges == [f"bytes={len(data) // 3}-"]  # resumed, not downloaded again
    assert "校验通过" in out and digest in out
    assert _answer(capsys, village) == want
    assert _manifest(village)["corpus"] == _manifest(county)["corpus"]


def test_export_name_is_checked_before_building(
    asked: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys,
        "build",
        "--statutes",
        str(_statutes(tmp_path)),
        "--kb",
        str(tmp_path / "kb"),
        "--export",
        str(tmp_path / "index.zip"),
    )
    assert code == 1 and ".tar.gz" in err and asked == []  # nothing was built
    assert not (tmp_path / "kb" / "index").exists()


# ---- --ray --------------------------------------------------------------------------------


@pytest.mark.slow
def test_build_on_local_ray_fills_the_cache_and_resumes(
    asked: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tiny KB embedded on a local Ray (ray.init() on this machine): the same index as a
    plain build, and a build cut short resumes from the cache (only the rest on Ray)."""
    pytest.importorskip("ray")
    # the actors get a copy of the build's embedder: one whose class they can import
    # (tests.conftest, with the repository on the local workers' PYTHONPATH)
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: FakeEmbedder())
    from retrieval.encoders.embcache import EmbeddingCache, text_hash
    from retrieval.index_folder import CASE_VECTORS, IndexFolder
    from retrieval.stores.fill import corpus_units
    from retrieval.units import clause_units

    statutes = _statutes(tmp_path)
    plain = tmp_path / "plain"
    assert _run(capsys, "build", "--statutes", str(statutes), "--kb", str(plain))[0] == 0
    units = IndexFolder.of(plain).read_records()
    clauses = clause_units(units.articles)  # embedded too (issue 19)
    texts = sorted({u.text for u in [*units.article_units, *units.case_units, *clauses]})
    assert len(texts) > 10

    kb = tmp_path / "kb"
    # what an interrupted earlier build left: the first third of the vectors, cached
    done = texts[: len(texts) // 3]
    EmbeddingCache(kb / "cache" / "embeddings", FakeEmbedder.key).add(
        [text_hash(t) for t in done], FakeEmbedder().encode_passages(done)
    )
    code, out, err = _run(
        capsys, "build", "--statutes", str(statutes), "--kb", str(kb), "--ray", "local"
    )
    assert code == 0, err
    assert f"计算向量 {len(texts) - len(done)} 个" in out  # only the missing ones, on Ray
    assert f"新计算向量 {len(texts) - len(done)} 个、复用 {len(done)} 个" in out
    assert len(EmbeddingCache(kb / "cache" / "embeddings", FakeEmbedder.key)) == len(texts)
    for corpus in ("articles", "cases"):
        a, b = corpus_units(plain, corpus), corpus_units(kb, corpus)  # type: ignore[arg-type]
        assert a.rows == b.rows
        np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    assert (kb / "index" / CASE_VECTORS).exists()
    assert _answer(capsys, kb) == _answer(capsys, plain)


def test_build_on_a_local_ray_that_cannot_start_tries_again_then_says_so_and_loses_nothing(
    asked: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ray's node start-up timing out on a busy PC (ray 2.60 raises a bare Exception) is
    tried once more, then one line says what failed and what to do; the live index and the
    cached vectors are as they were."""
    ray = pytest.importorskip("ray")
    from retrieval.encoders.embcache import EmbeddingCache

    statutes = _statutes(tmp_path)
    kb = tmp_path / "kb"
    assert _run(capsys, "build", "--statutes", str(statutes), "--kb", str(kb))[0] == 0
    before = _manifest(kb)
    cached = len(EmbeddingCache(kb / "cache" / "embeddings", FakeEmbedder.key))
    (statutes / "社会法" / "村规民约.md").write_text(  # new articles: vectors to compute
        "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n",
        encoding="utf-8",
    )
    tries: list[dict[str, Any]] = []

    def busy(**kwargs: Any) -> None:
        tries.append(kwargs)
        raise Exception(
            "The current node timed out during startup. This could happen because some of "
            "the raylet failed to startup or the GCS has become overloaded."
        )

    monkeypatch.setattr(ray, "init", busy)
    code, out, err = _run(
        capsys, "build", "--statutes", str(statutes), "--kb", str(kb), "--ray", "local"
    )
    assert code == 1 and len(tries) == 2
    line = err.splitlines()[-1]  # after the progress bar: the one line of the error
    assert line.startswith(
        "错误：本机 Ray 启动失败（已试 2 次）：The current node timed out during startup. This"
    )
    assert "overloaded。建议" in line
    assert line.endswith(
        "建议：电脑较忙时稍后重新运行（已算好的向量保存在缓存中，不会重算），或去掉 --ray 直接在本机构建"
    )
    assert "Traceback" not in out + err
    assert _manifest(kb) == before  # the live index stays
    assert len(EmbeddingCache(kb / "cache" / "embeddings", FakeEmbedder.key)) == cached


def test_fetch_index_names_drop_in_files_left_out_and_add_saves_nothing_it_cannot_index(
    asked: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prebuilt index holds only the publisher's sources: the village's own drop-in
    statute drops out of search, so fetch says so; and the index cannot be rebuilt here,
    so a later add refuses before saving instead of leaving the file unsearchable."""
    county, village = tmp_path / "county", tmp_path / "village"
    archive = tmp_path / "pub" / "fengqiao-index.tar.gz"
    argv = ["build", "--statutes", str(_statutes(tmp_path)), "--kb", str(county)]
    assert _run(capsys, *argv, "--export", str(archive))[0] == 0
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    shutil.rmtree(tmp_path / "statutes")  # the county's folders are not on the village PC
    argv = ["build", "--statutes", str(DATA / "statutes" / "社会法"), "--kb", str(village)]
    assert _run(capsys, *argv)[0] == 0
    own = tmp_path / "村规民约.md"
    own.write_text("# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n")
    assert _run(capsys, "add", str(own), "--kb", str(village))[0] == 0

    code, out, err = _run(
        capsys, "fetch", "--index", str(archive), "--sha256", digest, "--kb", str(village)
    )
    assert code == 0, err
    (warning,) = [ln for ln in err.splitlines() if ln.startswith("注意")]
    assert "村规民约.md" in warning and "检索不到" in warning and "fengqiao build" in warning

    later = tmp_path / "补充规定.md"
    later.write_text("# 某村补充规定\n\n<!-- INFO END -->\n\n第一条 垃圾分类投放。\n")
    code, out, err = _run(capsys, "add", str(later), "--kb", str(village))
    assert code == 1
    (line,) = [ln for ln in err.splitlines() if "错误" in ln]
    assert "来源不存在" in line and "文件未保存" in line and "fengqiao build --statutes" in line
    assert sorted(p.name for p in (village / "drop-in").iterdir()) == ["村规民约.md"]
