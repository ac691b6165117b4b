"""fengqiao fetch against an archive served by a local HTTP server (no outside network)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.errors import FetchError
from ingest.fetch import current_fetch, fetch

LAW = """# 中华人民共和国人民调解法

2010年8月28日 第十一届全国人民代表大会常务委员会第十六次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了完善人民调解制度，规范人民调解活动，及时解决民间纠纷，维护社会和谐稳定，根据宪法，制定本法。
"""


def _tar_gz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_downloads_verifies_and_unpacks(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    data = _tar_gz({"Laws-abc/诉讼与非诉讼程序法/人民调解法(2010-08-28).md": LAW})
    (root / "laws.tar.gz").write_bytes(data)
    kb = tmp_path / "kb"
    seen: list[int] = []

    got = fetch(
        kb,
        url=f"{base}/laws.tar.gz",
        sha256=hashlib.sha256(data).hexdigest(),
        progress=lambda done, total: seen.append(done),
    )

    law = got.path / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md"
    assert law.read_text(encoding="utf-8") == LAW
    assert got.verified and got.bytes == len(data) and seen[-1] == len(data)
    assert current_fetch(kb) == got.path


def test_fetch_checksum_mismatch_keeps_previous(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    kb = tmp_path / "kb"
    (root / "v1.tar.gz").write_bytes(_tar_gz({"Laws/a.md": LAW}))
    first = fetch(kb, url=f"{base}/v1.tar.gz")
    (root / "v2.tar.gz").write_bytes(_tar_gz({"Laws/a.md": LAW + "\n第二条 新增。\n"}))

    with pytest.raises(FetchError, match="校验失败"):
        fetch(kb, url=f"{base}/v2.tar.gz", sha256="0" * 64)

    assert current_fetch(kb) == first.path
    assert (first.path / "a.md").read_text(encoding="utf-8") == LAW
    assert not [p for p in (kb / "fetched").iterdir() if p.name.startswith(".fetch-")]


def test_fetch_reports_missing_file_and_bad_archive(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = server
    with pytest.raises(FetchError, match="404"):
        fetch(tmp_path / "kb", url=f"{base}/nothing.tar.gz")
    (root / "junk.tar.gz").write_bytes(b"not an archive at all")
    with pytest.raises(FetchError, match="不是 tar 或 zip"):
        fetch(tmp_path / "kb", url=f"{base}/junk.tar.gz")


def test_fetch_refuses_path_traversal(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    (root / "evil.tar.gz").write_bytes(_tar_gz({"../../escape.md": LAW}))
    with pytest.raises(FetchError):
        fetch(tmp_path / "kb", url=f"{base}/evil.tar.gz")
    assert not (tmp_path / "escape.md").exists()


def test_fetch_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="无法连接") as info:
        fetch(tmp_path / "kb", url="http://127.0.0.1:9/laws.tar.gz", timeout=2)
    assert str(info.value).startswith("错误：") and "建议" in str(info.value)
