"""Prebuilt index archives: export, then install from a server on localhost — good, corrupted,
truncated (and resumed), wrong checksum, path traversal, oversize member, other model."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import FakeEmbedder, FileServer

from retrieval.archive import export_index, install_index
from retrieval.errors import ArchiveError
from retrieval.service import Service


@pytest.fixture(scope="module")
def exported(tiny_kb_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("pub") / "fengqiao-index-tiny.tar.gz"
    return export_index(tiny_kb_dir, out)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def old_kb(tmp_path: Path) -> Path:
    """A knowledge base folder holding a stand-in 'old' index that must survive failures."""
    kb = tmp_path / "kb"
    (kb / "index").mkdir(parents=True)
    (kb / "index" / "manifest.json").write_text('{"old": true}')
    return kb


def assert_old_intact(kb: Path) -> None:
    assert json.loads((kb / "index" / "manifest.json").read_text()) == {"old": True}
    assert not [p for p in kb.iterdir() if p.name.startswith(".index-new")]


def test_export_lists_every_file_with_checksums(exported, tiny_kb_dir: Path) -> None:
    assert exported.sha256 == sha(exported.path)
    assert (
        exported.path.with_name(exported.path.name + ".sha256").read_text().split()[0]
        == exported.sha256
    )
    with tarfile.open(exported.path) as tar:
        names = tar.getnames()
        head = json.load(tar.extractfile(names[0]))  # type: ignore[arg-type]
        files = [m.name for m in tar.getmembers()[1:] if m.isfile()]
        folders = [m.name for m in tar.getmembers() if m.isdir()]
    assert names[0] == "archive.json"
    listed = {f["path"]: f for f in head["files"]}
    assert set(files) == set(listed) and "manifest.json" in listed and "cases.faiss" in listed
    folder = tiny_kb_dir / "index"
    # every folder travels, also an empty one (a corpus without cases has an empty BM25 folder)
    assert set(folders) == {p.name for p in folder.iterdir() if p.is_dir()}
    assert listed["articles.faiss"]["sha256"] == sha(folder / "articles.faiss")
    assert head["model"]["key"] == FakeEmbedder.key
    assert not any(n.endswith((".safetensors", ".bin", ".onnx")) for n in names)


def test_good_archive_installs_and_answers_like_the_source(
    exported, server: FileServer, tmp_path: Path, tiny_kb
) -> None:
    shutil.copy(exported.path, server.root / "a.tar.gz")
    kb = old_kb(tmp_path)
    seen: list[int] = []
    info = install_index(
        server.url("a.tar.gz"),
        exported.sha256,
        kb,
        model_key=FakeEmbedder.key,
        progress=lambda d, t: seen.append(d),
    )
    assert info.path == kb / "index" and info.sha256 == exported.sha256
    assert seen and seen[-1] == exported.bytes
    installed = Service.load(kb, embedder=FakeEmbedder())
    q = "丈夫不同意离婚怎么办"
    assert [h.record.id for h in installed.search(q).articles] == [
        h.record.id for h in tiny_kb.search(q).articles
    ]
    assert not list(kb.glob(".download-*"))


def test_local_file_installs_too(exported, tmp_path: Path) -> None:
    kb = tmp_path / "fresh"
    install_index(str(exported.path), exported.sha256, kb)
    assert (kb / "index" / "manifest.json").exists()


def test_corrupted_byte_is_refused_and_old_index_kept(
    exported, server: FileServer, tmp_path: Path
) -> None:
    data = bytearray(exported.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (server.root / "a.tar.gz").write_bytes(bytes(data))
    kb = old_kb(tmp_path)
    with pytest.raises(ArchiveError, match="校验失败"):
        install_index(server.url("a.tar.gz"), exported.sha256, kb)
    assert_old_intact(kb)
    assert not list(kb.glob(".download-*"))  # a wrong whole file is not kept for resuming


def test_wrong_checksum_is_refused(exported, server: FileServer, tmp_path: Path) -> None:
    shutil.copy(exported.path, server.root / "a.tar.gz")
    kb = old_kb(tmp_path)
    with pytest.raises(ArchiveError, match="校验失败"):
        install_index(server.url("a.tar.gz"), "0" * 64, kb)
    with pytest.raises(ArchiveError, match="SHA-256"):
        install_index(server.url("a.tar.gz"), "abc", kb)
    assert_old_intact(kb)


def test_truncated_download_fails_then_resumes(
    exported, server: FileServer, tmp_path: Path
) -> None:
    shutil.copy(exported.path, server.root / "a.tar.gz")
    kb = old_kb(tmp_path)
    server.cut_at = exported.bytes // 3
    with pytest.raises(ArchiveError, match="不完整|中断"):
        install_index(server.url("a.tar.gz"), exported.sha256, kb)
    assert_old_intact(kb)
    part = next(kb.glob(".download-*.part"))
    assert part.stat().st_size == exported.bytes // 3
    server.cut_at = None
    install_index(server.url("a.tar.gz"), exported.sha256, kb)
    assert server.ranges == [f"bytes={exported.bytes // 3}-"]
    assert Service.load(kb, embedder=FakeEmbedder()).stats().articles > 0


def _rewrite(src: Path, dest: Path, edit) -> str:
    """Copy an archive member by member through ``edit(name, data) -> [(name, data, kind)]``."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w:gz") as tout:
        for m in tin.getmembers():
            if m.isdir():
                tout.addfile(m)
                continue
            data = tin.extractfile(m).read()  # type: ignore[union-attr]
            for name, body, kind in edit(m.name, data):
                info = tarfile.TarInfo(name)
                info.type = kind
                if kind == tarfile.SYMTYPE:
                    info.linkname = "/etc/passwd"
                    tout.addfile(info)
                else:
                    info.size = len(body)
                    tout.addfile(info, io.BytesIO(body))
    return sha(dest)


def test_member_changed_inside_a_correctly_hashed_archive_is_refused(
    exported, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.tar.gz"

    def edit(name: str, data: bytes):
        if name == "articles.jsonl":
            data = data.replace("离婚".encode(), "结婚".encode(), 1)
        return [(name, data, tarfile.REGTYPE)]

    digest = _rewrite(exported.path, bad, edit)
    kb = old_kb(tmp_path)
    with pytest.raises(ArchiveError, match="articles.jsonl 校验失败"):
        install_index(str(bad), digest, kb)
    assert_old_intact(kb)


@pytest.mark.parametrize(
    "evil", ["../evil.txt", "/tmp/evil.txt", "tokenizer/../../evil.txt", "link"]
)
def test_traversal_and_links_are_refused(exported, tmp_path: Path, evil: str) -> None:
    bad = tmp_path / "bad.tar.gz"

    def edit(name: str, data: bytes):
        out = [(name, data, tarfile.REGTYPE)]
        if name == "manifest.json":
            kind = tarfile.SYMTYPE if evil == "link" else tarfile.REGTYPE
            out.append((evil, b"pwned", kind))
        return out

    digest = _rewrite(exported.path, bad, edit)
    kb = old_kb(tmp_path)
    with pytest.raises(ArchiveError, match="不可信"):
        install_index(str(bad), digest, kb)
    assert_old_intact(kb)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_oversize_member_and_other_model_are_refused(exported, tmp_path: Path) -> None:
    kb = old_kb(tmp_path)
    with pytest.raises(ArchiveError, match="上限"):
        install_index(str(exported.path), exported.sha256, kb, max_member_bytes=1000)
    with pytest.raises(ArchiveError, match="模型"):
        install_index(str(exported.path), exported.sha256, kb, model_key="e5-small-other")
    assert_old_intact(kb)
