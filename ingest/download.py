"""Streaming downloads: the one way the project fetches a URL into a file.

``fengqiao fetch`` (a statute collection) and ``fengqiao fetch --index`` (a published
index archive) both download through :func:`download`, so both get the same checks: a
size limit enforced before (Content-Length) and while streaming, a download shorter
than announced refused, HTTP and network failures as one Chinese line, a full disk
leaving no partial file behind, and the SHA-256 computed on the way. With
``resume=True`` a partial file is continued with an HTTP Range request.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.atomic import disk_full
from ingest.errors import FengqiaoError

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Downloaded:
    """What :func:`download` wrote: the whole file's SHA-256 (hex) and its size."""

    sha256: str
    bytes: int


def download(
    url: str,
    dest: Path,
    *,
    what: str,
    max_bytes: int,
    error: Callable[[str, str], FengqiaoError],
    too_big_hint: str,
    retry_hint: str,
    disk_full_error: Callable[[], FengqiaoError],
    progress: Progress | None = None,
    timeout: float = 60.0,
    resume: bool = False,
    chunk: int = 1 << 16,
) -> Downloaded:
    """Download ``url`` into ``dest``.

    Args:
        what: what is downloaded, as the messages name it (``下载的文件``, ``索引压缩包``).
        max_bytes: refuse anything larger, before it fills the disk.
        error: the caller's error class (message, hint).
        too_big_hint / retry_hint: what to do about an oversize file / a dropped or
            refused connection or a short download.
        disk_full_error: the caller's error for a full disk (the partial file is removed).
        progress: called with (bytes so far, total or None).
        resume: continue a partial ``dest`` (HTTP Range); else ``dest`` is written anew.
    """
    have = dest.stat().st_size if resume and dest.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    digest = hashlib.sha256()
    done = 0

    def too_big() -> FengqiaoError:
        return error(f"{what}超过 {max_bytes >> 20} MB（{url}）", too_big_hint)

    try:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # the server ignored Range: start again
                have = 0
            if have:
                _hash_into(digest, dest)
            length = response.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else None
            if total is not None and total > max_bytes:
                raise too_big()
            done = have
            with dest.open("ab" if have else "wb") as out:
                while block := response.read(chunk):
                    done += len(block)
                    if done > max_bytes:
                        raise too_big()
                    digest.update(block)
                    out.write(block)
                    if progress:
                        progress(done, total)
            if total is not None and done < total:
                raise error(f"下载不完整（{url}）：收到 {done} 字节，应为 {total} 字节", retry_hint)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # Range past the end: the partial file is already whole
            whole = hashlib.sha256()
            _hash_into(whole, dest)
            return Downloaded(whole.hexdigest(), dest.stat().st_size)
        raise error(f"下载失败（{url}）：服务器返回 {exc.code}", "检查地址，或稍后重试") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        if disk_full(exc):
            dest.unlink(missing_ok=True)  # a file that cannot grow must not hold the disk
            raise disk_full_error() from None
        reason = getattr(exc, "reason", exc)
        raise error(f"下载中断或无法连接（{url}）：{reason}", retry_hint) from exc
    return Downloaded(digest.hexdigest(), done)


def _hash_into(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
