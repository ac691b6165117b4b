"""The user's drop-in folder: files saved there only, under safe names, never over another, always built."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingest.atomic import disk_full
from ingest.config import MAX_FILE_BYTES
from ingest.errors import DropInError
from ingest.paths import is_hidden
from ingest.printable import printable

ALLOWED = ("pdf", "docx", "md", "txt", "json", "jsonl", "csv")
README = "readme.md"  # the folder's own note (any case): never read as a source
_UNSAFE = re.compile(r"[^\w\u3400-\u9fff（）()《》〈〉\-.，、 ]")


def safe_name(name: str) -> str:
    """A file name that stays inside drop-in: no folders, no ``..``, no control characters.

    Raises:
        IngestError: when nothing usable is left or the file type is not accepted.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip("._ "):
        raise DropInError(f"文件名“{name or '（空）'}”不可用", "改成“法规名称.txt”这样的名称")
    ext = ext.lower()
    if ext not in ALLOWED:
        raise DropInError(f"不支持 .{ext} 文件（{name}）", f"使用 {'/'.join(ALLOWED).upper()} 格式")
    if f"{stem}.{ext}".lower() == README:
        # the folder's own note: every build skips it, so it would be "saved" and never read
        raise DropInError(
            f"文件名“{name}”留给 drop-in 文件夹的说明，不会被导入", "改名后再导入，如“物业条例.md”"
        )
    return f"{stem[:100]}.{ext}"


@dataclass(frozen=True)
class SavedFile:
    """What happened to one file brought into drop-in.

    ``status``: ``saved`` under its own name; ``renamed`` because another file
    already had that name (which is kept); ``present`` because a file with the
    same bytes is already there (nothing written).
    """

    name: str  # the name it was given
    path: Path  # where its content now is in drop-in
    status: Literal["saved", "renamed", "present"]

    def summary(self) -> str:
        name, there = printable(self.name), printable(self.path.name)
        if self.status == "present":
            return f"{name}：与已有文件 {there} 内容相同，未重复保存"
        if self.status == "renamed":
            return f"{name}：已有同名的另一文件（已保留），本文件保存为 {there}"
        return f"{name}：已保存为 {there}"


def checked_name(name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The safe name of a file a user hands in; DropInError when empty, too large, or refused."""
    if not data:
        raise DropInError(f"“{printable(name)}”是空文件", "检查文件内容后重新导入")
    if len(data) > max_bytes:
        raise DropInError(f"“{printable(name)}”超过 {max_bytes >> 20} MB", "拆分后再导入")
    return safe_name(name)


def deposit(folder: Path, name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> SavedFile:
    """Write one file into ``folder`` atomically under a safe name, never over another file.

    A different file of the same name is kept; this one gets ``名称 (2).csv``.
    A file with the same bytes already in ``folder`` is recognised and not written again.

    Raises:
        DropInError: empty, too large, or a name or type that is refused.
    """
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.resolve()
    wanted = (base / checked_name(name, data, max_bytes=max_bytes)).resolve()
    if wanted.parent != base:
        raise DropInError(f"文件名“{printable(name)}”不安全", "改名后重新导入")
    same = _same_content(base, data)
    if same is not None:
        return SavedFile(name, same, "present")
    tmp = base / f".{wanted.name}.{os.getpid()}.part"
    try:
        tmp.write_bytes(data)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if disk_full(exc):
            raise DropInError(
                f"磁盘已满，“{printable(name)}”没有保存", "腾出磁盘空间后重新导入"
            ) from None
        raise
    try:
        for n in range(1, 1000):
            target = wanted if n == 1 else wanted.with_name(f"{wanted.stem} ({n}){wanted.suffix}")
            if _claim(tmp, target):
                return SavedFile(name, target, "saved" if n == 1 else "renamed")
    finally:
        tmp.unlink(missing_ok=True)
    raise DropInError(
        f"drop-in 中已有太多名为“{printable(wanted.name)}”的文件", "先整理 drop-in 文件夹"
    )


def _claim(tmp: Path, target: Path) -> bool:
    """Give ``tmp``'s content the name ``target`` unless that name is taken; never overwrite.

    A hard link appears whole or not at all and fails if the name exists, so a
    build running meanwhile never sees half a file.
    """
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system: reserve the name, then replace
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        shutil.copyfile(tmp, target.with_name(f".{target.name}.copy"))
        os.replace(target.with_name(f".{target.name}.copy"), target)
        return True


def _same_content(folder: Path, data: bytes) -> Path | None:
    """A file in ``folder`` holding exactly ``data``, if there is one."""
    digest = hashlib.sha256(data).digest()
    for p in user_files(folder):
        if p.is_symlink():  # never read through a link someone put there
            continue
        if p.stat().st_size == len(data) and hashlib.sha256(p.read_bytes()).digest() == digest:
            return p
    return None


def user_files(folder: Path) -> list[Path]:
    """The user's files in a drop-in folder, sorted: the one rule of what the folder holds.

    Not its own note (``README.md``, any case), not a hidden name (``.DS_Store``, the
    ``.名称.pid.part`` of a save in progress), not a folder.
    """
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not is_hidden(p.name) and p.name.lower() != README
    )
