"""The one download helper (ingest/download.py): the checks both `fengqiao fetch` and
`fengqiao fetch --index` get, against a local HTTP server (no outside network)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from conftest import FileServer

from ingest.download import download
from ingest.errors import FetchError, IngestError


def _get(server: FileServer, name: str, dest: Path, **kw: object):
    return download(
        server.url(name),
        dest,
        what="测试文件",
        error=IngestError,
        too_big_hint="换一个地址",
        retry_hint="再试一次",
        disk_full_error=lambda: IngestError("磁盘已满", "腾出空间"),
        **kw,  # type: ignore[arg-type]
    )


def test_a_short_statute_download_is_refused_before_unpacking(
    server: FileServer, tmp_path: Path
) -> None:
    from ingest.fetch import fetch

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(Path(__file__).parent / "data" / "statutes", arcname="Laws")
    (server.root / "laws.tar.gz").write_bytes(buf.getvalue())
    server.cut_at = len(buf.getvalue()) // 2  # the connection drops half-way
    kb = tmp_path / "kb"
    with pytest.raises(FetchError, match="下载不完整") as info:
        fetch(kb, url=server.url("laws.tar.gz"))
    assert "\n" not in info.value.line() and "建议" in info.value.line()
    assert list((kb / "fetched").iterdir()) == []  # nothing half-written stays


def test_oversize_is_refused_by_its_announced_length_before_a_byte_is_kept(
    server: FileServer, tmp_path: Path
) -> None:
    (server.root / "big.bin").write_bytes(b"x" * 5000)
    dest = tmp_path / "big.part"
    with pytest.raises(IngestError, match="测试文件超过 0 MB.*换一个地址"):
        _get(server, "big.bin", dest, max_bytes=1000)
    assert not dest.exists() or dest.stat().st_size == 0


def test_a_resumed_download_has_the_whole_files_checksum(
    server: FileServer, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 40
    (server.root / "a.bin").write_bytes(data)
    dest = tmp_path / "a.part"
    server.cut_at = 1000
    with pytest.raises(IngestError, match="下载不完整.*再试一次"):
        _get(server, "a.bin", dest, max_bytes=1 << 20, resume=True)
    assert dest.stat().st_size == 1000
    server.cut_at = None
    got = _get(server, "a.bin", dest, max_bytes=1 << 20, resume=True)
    assert server.ranges == ["bytes=1000-"]
    assert got.bytes == len(data) and got.sha256 == hashlib.sha256(data).hexdigest()
    assert dest.read_bytes() == data


def test_http_errors_and_dead_servers_are_one_line(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="服务器返回 404") as info:
        _get(server, "missing.bin", tmp_path / "m.part", max_bytes=1000)
    assert info.value.line().count("建议") == 1
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(IngestError, match="无法连接.*再试一次"):
        _get(server, "a.bin", tmp_path / "x.part", max_bytes=1000, timeout=2)
