"""Download a statute collection archive, verify it and unpack it into the knowledge-base folder."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.atomic import disk_full, remove_stale, write_text
from ingest.download import download
from ingest.errors import FetchError

log = logging.getLogger(__name__)

SOURCES_DIR = Path(__file__).resolve().parent.parent / "kb" / "sources"
DEFAULT_SOURCE = SOURCES_DIR / "lawrefbook.json"
CHUNK = 1 << 16
# An archive larger than this is refused while streaming, before the disk fills up.
MAX_ARCHIVE_BYTES = 2 << 30


@dataclass(frozen=True)
class Source:
    """Where a statute collection comes from (``kb/sources/*.json``)."""

    name: str
    url: str
    sha256: str | None = None
    commit: str = ""


@dataclass(frozen=True)
class Fetched:
    """A fetched and unpacked collection, ready for ``fengqiao build --statutes``."""

    path: Path  # the unpacked collection root
    url: str
    sha256: str
    verified: bool  # the checksum was compared against a known value
    bytes: int


def default_source() -> Source:
    """The pinned public LawRefBook ``Laws`` archive described in ``kb/sources/lawrefbook.json``."""
    data = json.loads(DEFAULT_SOURCE.read_text(encoding="utf-8"))
    return Source(
        name=data["name"], url=data["url"], sha256=data.get("sha256"), commit=data.get("commit", "")
    )


def current_fetch(kb_dir: Path) -> Path | None:
    """The collection the last successful fetch unpacked under ``kb_dir``, if any."""
    pointer = kb_dir / "fetched" / "current.json"
    if not pointer.is_file():
        return None
    path = Path(json.loads(pointer.read_text(encoding="utf-8"))["path"])
    return path if path.is_dir() else None


def fetch(
    kb_dir: Path,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 60.0,
) -> Fetched:
    """Download ``url`` (default: the pinned LawRefBook archive), check it, unpack it into ``kb_dir/fetched``.

    The previous collection stays in place and in use until the new one is fully
    unpacked; only then does ``kb_dir/fetched/current.json`` point at it.

    Args:
        kb_dir: the knowledge-base folder.
        url: archive URL (``.tar.gz``/``.tgz``/``.zip``, or any URL serving one).
        sha256: expected SHA-256 of the archive; when given and different, nothing is kept.
        progress: called with (bytes so far, total bytes or None) while downloading.
        timeout: seconds to wait for the server.
    """
    source = default_source()
    if url is None:
        url, sha256 = source.url, sha256 or source.sha256
    target_root = kb_dir / "fetched"
    target_root.mkdir(parents=True, exist_ok=True)
    remove_stale(target_root)  # folders of fetches that were killed
    with tempfile.TemporaryDirectory(dir=target_root, prefix=f".fetch-{os.getpid()}-") as tmp:
        archive = Path(tmp) / "archive"
        got = download(
            url,
            archive,
            what="下载的文件",
            max_bytes=MAX_ARCHIVE_BYTES,
            error=FetchError,
            too_big_hint="确认地址指向法规压缩包",
            retry_hint="检查网络；没有网络的电脑可在别处下载压缩包后用 fengqiao build --statutes 文件夹",
            disk_full_error=lambda: _disk_full_error(archive),
            progress=progress,
            timeout=timeout,
            chunk=CHUNK,
        )
        digest, size = got.sha256, got.bytes
        if sha256 and digest != sha256.lower():
            raise FetchError(
                f"下载的文件校验失败（{url}）：SHA-256 为 {digest}，应为 {sha256.lower()}",
                "确认地址无误后重试；若来源已更新，用 --sha256 指定新的校验值",
            )
        unpacked = Path(tmp) / "unpacked"
        _unpack(archive, unpacked, url)
        root = _collection_root(unpacked, url)
        final = target_root / f"{source.name if url == source.url else 'laws'}-{digest[:12]}"
        if final.exists():
            shutil.rmtree(final)
        os.replace(root, final)
    _write_pointer(target_root, final, url, digest, verified=bool(sha256))
    if not sha256:
        log.warning("no checksum to compare for %s; recorded sha256=%s", url, digest)
    return Fetched(path=final, url=url, sha256=digest, verified=bool(sha256), bytes=size)


def _unpack(archive: Path, dest: Path, url: str) -> None:
    """Unpack a tar or zip archive, refusing members that would land outside ``dest``."""
    dest.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():
                    _check_member(dest, member.filename, url)
                zf.extractall(dest)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                # The "data" filter refuses absolute paths, links out of dest and devices.
                tf.extractall(dest, filter="data")
        else:
            raise FetchError(
                f"下载的文件不是 tar 或 zip 压缩包（{url}）", "确认地址指向 .tar.gz 或 .zip 文件"
            )
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise FetchError(f"压缩包已损坏，无法解开（{url}）：{exc}", "重新下载") from exc
    except OSError as exc:
        if disk_full(exc):
            raise _disk_full_error(dest) from None
        raise


def _disk_full_error(where: Path) -> FetchError:
    return FetchError(
        f"磁盘已满，法规合集没有下载或解开完（{where.parent.parent}），已删除写了一半的文件；"
        "原有的法规合集未改动",
        "腾出磁盘空间后重新运行 fengqiao fetch",
    )


def _check_member(dest: Path, name: str, url: str) -> None:
    target = (dest / name).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise FetchError(f"压缩包中的路径越界（{name}，{url}）", "该压缩包不可信，不要使用")


def _collection_root(unpacked: Path, url: str) -> Path:
    """The folder holding the collection: the single top folder of a GitHub archive, or the root."""
    entries = [p for p in unpacked.iterdir() if not p.name.startswith(".")]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
    if not any(root.rglob("*.md")):
        raise FetchError(
            f"压缩包中没有 Markdown 法规文件（{url}）", "确认这是 LawRefBook 格式的法规合集"
        )
    return root


def _write_pointer(target_root: Path, final: Path, url: str, digest: str, verified: bool) -> None:
    record = {
        "path": str(final),
        "url": url,
        "sha256": digest,
        "verified": verified,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_text(target_root / "current.json", json.dumps(record, ensure_ascii=False, indent=2))
