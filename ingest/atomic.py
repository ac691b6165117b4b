"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

_CALLS = itertools.count()  # a temporary per call: two threads of one process never share one


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems (and Windows) cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    The one way the project writes a file in place: the temporary file is flushed to
    disk before the rename and the folder after it, so a crash leaves either the old
    content or the new one. On an exception the temporary file is removed and ``path``
    is untouched. The temporary's name carries the process id (``remove_stale`` clears
    those of killed writers) and a per-call number (threads of one server never share
    one).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}~{next(_CALLS)}.{os.getpid()}.part")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see :func:`replacing`)."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably."""
    write_bytes(path, text.encode("utf-8"))


def replace_folder(new: Path, dest: Path) -> None:
    """Put the finished folder ``new`` at ``dest`` (same file system), replacing an older one.

    A reader sees the old folder, no folder for an instant, or the new one; never a part.
    """
    import shutil

    if dest.exists():
        shutil.rmtree(dest)
    os.replace(new, dest)
    fsync_dir(dest.parent)


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full, whoever raised it: an
    OSError, faiss' RuntimeError ("… (No space left on device)") or SQLite's."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return any(
        s in text for s in ("No space left on device", "Disk quota exceeded", "disk is full")
    )


# Names the project's writers give their temporary files and folders, each with its pid:
# a build's or an index install's folder, a statute fetch's folder, a half-written file.
_TEMPORARY = re.compile(r"\.(?:index-new-(\d+)|fetch-(\d+)-.+|.+\.(\d+)\.part)")


def remove_stale(folder: Path) -> list[Path]:
    """Delete the temporary files and folders in ``folder`` whose writer is no longer running.

    Every writer (build, ``fetch``, ``fetch --index``, ``add``, atomic writes) names its
    temporaries with its process id and removes them itself; a writer that was killed, or
    met a full disk, leaves them behind to hold the disk. Each writer calls this at its
    start. Temporaries of a running process, this one included, are left alone.
    """
    gone: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return gone
    for p in entries:
        m = _TEMPORARY.fullmatch(p.name)
        if m is None:
            continue
        pid = int(next(g for g in m.groups() if g))
        if pid == os.getpid() or _running(pid):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        gone.append(p)
    return gone


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True
