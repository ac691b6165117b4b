"""Prebuilt knowledge bases: export a built index folder as a checksummed archive, install one atomically.

A county (or the project) builds the national tier once and publishes the archive with its
SHA-256; a village PC installs it instead of embedding 58,656 articles itself. The archive
is a tar.gz whose first member, ``archive.json``, lists every other member with its size
and SHA-256, the index format and the embedding model key; model weights are never inside.
Installing checks the archive's SHA-256, then each member against the list while unpacking
(no path outside the target, no links, no member larger than declared or than the limit),
then swaps the new index in beside the old one: on any failure the old index stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ingest.atomic import disk_full, remove_stale, replacing, write_text
from ingest.download import download
from retrieval.errors import ArchiveError
from retrieval.index_folder import (
    FORMAT_VERSION,
    INDEX,
    MANIFEST,
    IndexFolder,
    build_lock,
    new_index,
    remove_orphans,
    swap_in,
)

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "fengqiao-index-archive"
ARCHIVE_VERSION = 1
ARCHIVE_MANIFEST = "archive.json"
CHUNK = 1 << 20
MAX_ARCHIVE_BYTES = 16 << 30  # the national tier with cases is ~0.3 GB; refuse runaway downloads
MAX_MEMBER_BYTES = 8 << 30

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ArchiveInfo:
    """An exported or installed archive: where, its checksum, what it holds."""

    path: Path  # the archive file (export) or the installed index folder (install)
    sha256: str
    bytes: int
    files: int
    model: dict[str, Any]
    corpus: dict[str, Any]
    created: str


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


# ---- export ---------------------------------------------------------------------


def check_archive_name(path: Path) -> Path:
    """``path`` when it names an archive ``export_index`` writes (.tar.gz, .tgz, .tar)."""
    if not path.name.lower().endswith((".tar", ".tar.gz", ".tgz")):
        raise ArchiveError(
            f"索引压缩包的文件名 {path.name} 应以 .tar.gz 或 .tar 结尾",
            "例如 --export fengqiao-index.tar.gz",
        )
    return path


def export_index(index_dir: Path, out_path: Path) -> ArchiveInfo:
    """Write the built index in ``index_dir`` (a KB folder or its ``index``) to ``out_path``.

    ``.tar.gz``/``.tgz`` is compressed, ``.tar`` not (vectors hardly compress; it is
    written faster). Also writes ``out_path.sha256`` (``sha256sum`` format) beside it.
    The archive is written under a temporary name and renamed, so a killed export leaves
    no half file.
    """
    out = check_archive_name(Path(out_path))
    folder = Path(index_dir)
    if not (folder / MANIFEST).exists() and (folder / INDEX / MANIFEST).exists():
        folder = folder / INDEX
    manifest = IndexFolder(folder).manifest()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    listing: list[dict[str, Any]] = [
        {
            "path": p.relative_to(folder).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": _sha256_file(p),
        }
        for p in files
    ]
    head: dict[str, Any] = {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "index_format_version": manifest.get("format_version"),
        "model": manifest.get("model", {}),
        "corpus": manifest.get("corpus", {}),
        "tokenizer": manifest.get("tokenizer", {}),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": listing,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    mode = "w" if out.name.lower().endswith(".tar") else "w:gz"
    with (
        replacing(out) as tmp,
        tarfile.open(tmp, mode, format=tarfile.PAX_FORMAT) as tar,  # type: ignore[call-overload]
    ):
        data = json.dumps(head, ensure_ascii=False, indent=1).encode("utf-8")
        info = tarfile.TarInfo(ARCHIVE_MANIFEST)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
        # folders too: an empty one (the keyword index of a corpus without cases) is part
        # of a whole index, and a member list of files alone would lose it
        for d in sorted(p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()):
            info = tarfile.TarInfo(d.relative_to(folder).as_posix())
            info.type, info.mtime, info.mode = tarfile.DIRTYPE, 0, 0o755
            tar.addfile(info)
        for p, entry in zip(files, listing, strict=True):
            info = tarfile.TarInfo(entry["path"])
            info.size, info.mtime, info.mode = entry["bytes"], 0, 0o644
            with p.open("rb") as f:
                tar.addfile(info, f)
    digest = _sha256_file(out)
    write_text(out.with_name(out.name + ".sha256"), f"{digest}  {out.name}\n")
    return ArchiveInfo(
        out, digest, out.stat().st_size, len(files), head["model"], head["corpus"], head["created"]
    )


# ---- install --------------------------------------------------------------------


def _safe_name(name: str) -> str | None:
    """``name`` as a plain relative path inside the target, or None when it would escape it."""
    p = PurePosixPath(name)
    if not name or p.is_absolute() or "\\" in name or any(part in ("..", "") for part in p.parts):
        return None
    return p.as_posix()


def _copy_checked(src: IO[bytes], dest: Path, size: int, sha256: str, name: str) -> None:
    h = hashlib.sha256()
    done = 0
    with dest.open("wb") as out:
        while block := src.read(min(CHUNK, size - done) or 1):
            done += len(block)
            if done > size:
                break
            h.update(block)
            out.write(block)
    if done != size or h.hexdigest() != sha256:
        raise ArchiveError(
            f"索引压缩包中的文件 {name} 校验失败", "压缩包已损坏或被改动，重新下载或向发布方核实"
        )


def _unpack(archive: Path, dest: Path, max_member: int, model_key: str | None) -> dict[str, Any]:
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ArchiveError(f"无法打开索引压缩包 {archive.name}：{e}", "重新下载") from e
    with tar:
        try:
            first = tar.next()
            if first is None or first.name != ARCHIVE_MANIFEST or not first.isfile():
                raise ArchiveError(
                    "压缩包不是枫桥的索引压缩包（缺少 archive.json）", "确认下载地址"
                )
            f = tar.extractfile(first)
            head = json.loads(f.read(1 << 24)) if f else {}
        except (tarfile.TarError, json.JSONDecodeError, EOFError, OSError) as e:
            raise ArchiveError(f"索引压缩包的清单无法读取：{e}", "重新下载") from e
        if head.get("format") != ARCHIVE_FORMAT or head.get("version") != ARCHIVE_VERSION:
            raise ArchiveError(
                f"压缩包格式为 {head.get('format')} v{head.get('version')}，本程序需要 {ARCHIVE_FORMAT} v{ARCHIVE_VERSION}",
                "下载与本程序版本相符的索引，或更新程序",
            )
        if head.get("index_format_version") != FORMAT_VERSION:
            raise ArchiveError(
                f"压缩包中的索引格式为 v{head.get('index_format_version')}，本程序需要 v{FORMAT_VERSION}",
                "下载与本程序版本相符的索引，或更新程序",
            )
        built = head.get("model", {})
        if model_key is not None and built.get("key") != model_key:
            raise ArchiveError(
                f"该索引由模型 {built.get('name')}（{built.get('key')}）构建，本机模型为 {model_key}",
                "安装与本机模型相符的索引，或用 --model 指定该模型后再安装",
            )
        listed = {e["path"]: e for e in head.get("files", [])}
        seen: set[str] = set()
        try:
            for member in tar:
                if member.offset == first.offset:  # archive.json, read above
                    continue
                name = _safe_name(member.name)
                if name is None:
                    raise ArchiveError(
                        f"索引压缩包中的路径越界（{member.name}）", "该压缩包不可信，不要使用"
                    )
                if member.isdir():
                    (dest / name).mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise ArchiveError(
                        f"索引压缩包中有链接或特殊文件（{member.name}）", "该压缩包不可信，不要使用"
                    )
                entry = listed.get(name)
                if entry is None or name in seen:
                    raise ArchiveError(
                        f"索引压缩包中的文件 {name} 不在清单中或重复出现",
                        "该压缩包不可信，不要使用",
                    )
                if member.size != entry["bytes"] or member.size > max_member:
                    raise ArchiveError(
                        f"索引压缩包中的文件 {name} 大小为 {member.size} 字节，清单为 {entry['bytes']}，上限 {max_member}",
                        "该压缩包不可信，不要使用",
                    )
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:
                    raise ArchiveError(f"无法读取压缩包中的 {name}", "重新下载")
                _copy_checked(src, target, member.size, entry["sha256"], name)
                seen.add(name)
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            if disk_full(e):
                raise _disk_full_error(dest.parent) from None
            raise ArchiveError(f"索引压缩包已损坏：{e}", "重新下载") from e
        missing = sorted(listed.keys() - seen)
        if missing:
            raise ArchiveError(f"索引压缩包缺少文件：{'、'.join(missing[:5])}", "重新下载")
    return head


def _disk_full_error(kb_dir: Path) -> ArchiveError:
    return ArchiveError(
        f"磁盘已满，索引没有装完（{kb_dir}），已删除写了一半的文件；正在使用的知识库未改动",
        "腾出磁盘空间（至少为压缩包大小的两倍）后重新运行同一命令",
    )


def install_index(
    url_or_path: str,
    sha256: str,
    kb_dir: Path,
    *,
    model_key: str | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
    max_bytes: int = MAX_ARCHIVE_BYTES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
) -> ArchiveInfo:
    """Download (or read) an exported archive, verify it, and make it ``kb_dir/index``.

    Args:
        url_or_path: ``http(s)://`` URL or a local archive file.
        sha256: the published SHA-256 of the archive (required: an archive is never
            trusted unchecked).
        kb_dir: the knowledge-base folder; its ``index`` is replaced only when the new one
            is whole and verified.
        model_key: the key of the embedder this PC will query with (``Embedder.key``);
            an archive built with another model is refused. None skips the check.
        progress: called with (bytes so far, total or None) while downloading.

    A broken download is kept as ``kb_dir/.download-<sha>.part`` and continued (HTTP
    Range) by the next call with the same checksum.
    """
    want = sha256.strip().lower()
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        raise ArchiveError(
            f"校验值 {sha256!r} 不是 64 位十六进制 SHA-256", "从发布页复制完整的 SHA-256"
        )
    kb_dir = Path(kb_dir)
    kb_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(kb_dir)
    for part in kb_dir.glob(".download-*.part"):  # an earlier install's, given up
        if part.name != f".download-{want[:16]}.part":
            part.unlink(missing_ok=True)
    local = not url_or_path.startswith(("http://", "https://"))
    if local:
        archive = Path(url_or_path)
        if not archive.is_file():
            raise ArchiveError(f"找不到索引压缩包 {archive}", "检查路径")
    else:
        archive = kb_dir / f".download-{want[:16]}.part"
        got = download(
            url_or_path,
            archive,
            what="索引压缩包",
            max_bytes=max_bytes,
            error=ArchiveError,
            too_big_hint="确认地址指向枫桥的索引压缩包",
            retry_hint="检查网络后再次运行同一命令，会从中断处继续下载",
            disk_full_error=lambda: _disk_full_error(kb_dir),
            progress=progress,
            timeout=timeout,
            resume=True,
            chunk=CHUNK,
        )
    digest = _sha256_file(archive) if local else got.sha256
    if digest != want:
        if not local:
            archive.unlink()  # a wrong whole file is not worth continuing
        raise ArchiveError(
            f"索引压缩包校验失败（{url_or_path}）：SHA-256 为 {digest}，应为 {want}",
            "重新下载；若发布方更新了索引，使用新的校验值",
        )
    # under the build lock: a build finishing meanwhile would swap its own index in
    with build_lock(kb_dir):
        remove_orphans(kb_dir)  # a killed build's or install's folder, holding the disk
        try:
            with new_index(kb_dir) as tmp:
                head = _unpack(archive, tmp.path, max_member_bytes, model_key)
                tmp.check()  # the unpacked folder is a whole index this program reads
                swap_in(tmp, kb_dir)
        except BaseException:
            if not local:
                archive.unlink(missing_ok=True)  # verified whole: nothing to continue
            raise
    size = archive.stat().st_size
    if not local:
        archive.unlink()
    log.info("installed index archive %s (%s) into %s", url_or_path, digest, kb_dir / INDEX)
    return ArchiveInfo(
        kb_dir / INDEX,
        digest,
        size,
        len(head.get("files", [])),
        head.get("model", {}),
        head.get("corpus", {}),
        head.get("created", ""),
    )
