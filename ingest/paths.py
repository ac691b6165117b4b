"""What walking an input folder must not do: follow a link out of it, or skip a hidden name without a word."""

from __future__ import annotations

import os

from ingest.printable import printable

OUTSIDE_HINT = "把文件本身复制进该文件夹，不要用链接（快捷方式）"
HIDDEN_REASON = "文件名以“.”开头（隐藏文件），已跳过"
HIDDEN_HINT = "如需收录，请去掉文件名开头的“.”"


def leaves(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str | None:
    """Where ``path`` really points when that is outside the folder ``root``, else None.

    Only links can leave: a plain entry found by walking ``root`` is inside it.
    """
    if not os.path.islink(path):
        return None
    target = os.path.realpath(path)
    base = os.path.realpath(root)
    if target == base or target.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return target


def outside_reason(target: str) -> str:
    return f"是指向文件夹之外的链接（→ {printable(target)}），未读取"


def inner_link_note(path: str | os.PathLike[str]) -> str:
    """A link that stays inside the folder: its target is read where it really is."""
    return f"{printable(path)}: 是指向本文件夹内 {printable(os.path.realpath(path))} 的链接，按原位置读取"


def is_hidden(name: str) -> bool:
    """``.git``, ``.DS_Store``, ``..民法典.md``: names a file manager does not show."""
    return name.startswith(".")


def hidden_note(names: list[str], show: int = 5) -> str:
    """One line for the hidden files and folders that were not read."""
    shown = "、".join(printable(n) for n in names[:show])
    more = f" 等 {len(names)} 个" if len(names) > show else ""
    return f"已跳过隐藏文件或文件夹：{shown}{more}"
