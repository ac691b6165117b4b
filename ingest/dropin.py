"""The user's drop-in folder: files saved there only, under safe names, and always included in builds."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ingest.errors import DropInError, IngestError

ALLOWED = ("pdf", "docx", "md", "txt", "json", "jsonl", "csv")
MAX_BYTES = 50 * 1024 * 1024
_UNSAFE = re.compile(r"[^\w\u3400-\u9fff（）()《》〈〉\-.，、 ]")


def dropin_dir(kb_dir: Path) -> Path:
    return kb_dir / "drop-in"


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
    return f"{stem[:100]}.{ext}"


def save_into(folder: Path, name: str, data: bytes, *, max_bytes: int = MAX_BYTES) -> Path:
    """Write one file into ``folder`` atomically under a safe name (never elsewhere); return its path."""
    if not data:
        raise DropInError(f"“{name}”是空文件", "检查文件内容后重新导入")
    if len(data) > max_bytes:
        raise DropInError(f"“{name}”超过 {max_bytes >> 20} MB", "拆分后再导入")
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_name(name)).resolve()
    if target.parent != folder.resolve():
        raise DropInError(f"文件名“{name}”不安全", "改名后重新导入")
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def save_bytes(kb_dir: Path, name: str, data: bytes, *, max_bytes: int = MAX_BYTES) -> Path:
    """Write one file into ``kb_dir``'s drop-in folder (see :func:`save_into`)."""
    return save_into(dropin_dir(kb_dir), name, data, max_bytes=max_bytes)


def add_files(kb_dir: Path, files: Sequence[Path], *, max_bytes: int = MAX_BYTES) -> list[Path]:
    """Copy ``files`` into the drop-in folder; a missing or refused file stops before anything is copied."""
    for path in files:
        if not path.is_file():
            raise IngestError(
                f"找不到文件 {path}", "检查路径；文件夹请用 fengqiao build --statutes"
            )
        if path.stat().st_size > max_bytes:
            raise IngestError(f"{path} 超过 {max_bytes >> 20} MB", "拆分后再导入")
        safe_name(path.name)
    return [save_bytes(kb_dir, path.name, path.read_bytes(), max_bytes=max_bytes) for path in files]
