"""Dates, validity, level and category of statute files: LawRefBook ``db.sqlite3`` rows and header lines."""

from __future__ import annotations

import datetime
import logging
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.names import REPEALED, normalise_law

log = logging.getLogger(__name__)

DB_NAME = "db.sqlite3"
_SAYS_REPEALED = re.compile(r"已废止|已失效|（废止）|\(废止\)")
_DATE_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_VALID_LINE = re.compile(r"^\S+\s*施行\s*$")
_DATED = re.compile(r"^(.*?)[(（](\d{4}-\d{2}-\d{2})[)）]$")

# Folder names of the LawRefBook layout (and of the DLC packs) → level, used when
# no db row matches. Inner folders win over outer ones.
FOLDER_LEVELS: dict[str, str] = {
    "司法解释": "司法解释",
    "行政法规": "行政法规",
    "部门规章": "部门规章",
    "地方性法规": "地方性法规",
    "DLC": "地方性法规",
    "宪法": "宪法",
    "宪法相关法": "法律",
    "民法典": "法律",
    "民法商法": "法律",
    "行政法": "法律",
    "经济法": "法律",
    "社会法": "法律",
    "刑法": "法律",
    "诉讼与非诉讼程序法": "法律",
}
USER_LEVEL = "用户文件"


@dataclass(frozen=True)
class LawMeta:
    """One ``law`` row of a LawRefBook database."""

    name: str
    level: str
    category: str
    publish: str  # YYYY-MM-DD or ""
    valid_from: str
    expired: bool
    db: str  # the database file it came from


def split_stem(stem: str) -> tuple[str, str]:
    """``人民调解法(2010-08-28)`` → (``人民调解法``, ``2010-08-28``); undated → (stem, "")."""
    m = _DATED.match(stem.strip())
    if m:
        return m.group(1).strip(), m.group(2)
    return stem.strip(), ""


def folder_level(path: Path) -> str:
    """Level from the folder names around ``path`` (innermost first), else 用户文件."""
    for part in reversed(path.parent.parts):
        if part in FOLDER_LEVELS:
            return FOLDER_LEVELS[part]
    return USER_LEVEL


class _Table:
    """All rows of one database, indexed by normalised name and by file name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_name: dict[str, list[tuple[LawMeta, str, str]]] = {}
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            folders = {
                cid: (name, folder)
                for cid, name, folder in con.execute("select id, name, folder from category")
            }
            rows = con.execute(
                "select name, level, filename, publish, valid_from, expired, category_id from law"
            ).fetchall()
        for name, level, filename, publish, valid_from, expired, cid in rows:
            cat_name, folder = folders.get(cid, ("", ""))
            meta = LawMeta(
                name=name,
                level=level or "",
                category=cat_name or "",
                publish=publish or "",
                valid_from=valid_from or "",
                expired=bool(expired),
                db=str(path),
            )
            keys = {normalise_law(name)}
            if filename:
                keys.add(normalise_law(filename))
            for key in keys:
                self.by_name.setdefault(key, []).append((meta, folder or "", filename or ""))


class MetadataIndex:
    """Finds the database that governs a file and its row; opens each database once."""

    def __init__(self) -> None:
        self._tables: dict[Path, _Table | None] = {}
        self._db_for_dir: dict[Path, Path | None] = {}

    def find_db(self, file: Path) -> Path | None:
        """The nearest ``db.sqlite3`` in the file's folder or any folder above it."""
        folder = Path(os.path.abspath(file.parent))
        seen: list[Path] = []
        found: Path | None = None
        while True:
            if folder in self._db_for_dir:
                found = self._db_for_dir[folder]
                break
            seen.append(folder)
            candidate = folder / DB_NAME
            if candidate.is_file():
                found = candidate
                break
            if folder.parent == folder:
                break
            folder = folder.parent
        for f in seen:
            self._db_for_dir[f] = found
        return found

    def _table(self, db: Path) -> _Table | None:
        if db not in self._tables:
            try:
                self._tables[db] = _Table(db)
            except sqlite3.Error as exc:
                log.warning("%s: 无法读取数据库（%s）", db, exc)
                self._tables[db] = None
        return self._tables[db]

    def match(self, file: Path, title: str = "") -> LawMeta | None:
        """The db row for ``file``: same name (file name or title), same folder, same date."""
        db = self.find_db(file)
        if db is None:
            return None
        table = self._table(db)
        if table is None:
            return None
        name, date = split_stem(file.stem)
        cands: list[tuple[LawMeta, str, str]] = []
        for key in dict.fromkeys([normalise_law(name), normalise_law(title)]):
            if key:
                cands.extend(table.by_name.get(key, ()))
        if not cands:
            return None
        try:
            folder = Path(os.path.abspath(file.parent)).relative_to(db.parent).as_posix()
        except ValueError:
            folder = ""
        same_folder = [c for c in cands if c[1] and (folder == c[1] or folder.endswith("/" + c[1]))]
        cands = same_folder or cands
        if date:
            dated = [c for c in cands if c[0].publish == date]
            cands = dated or cands
        # Prefer the row with the latest publish date when still ambiguous.
        return max(cands, key=lambda c: c[0].publish)[0]

    def level_and_category(
        self, file: Path, meta: LawMeta | None, roots: tuple[Path, ...] = ()
    ) -> tuple[str, str]:
        """(level, category) from the row, else from folder names."""
        if meta is not None and meta.level:
            return meta.level, meta.category
        level = folder_level(file)
        parent = file.parent.name
        category = "" if any(file.parent == r for r in roots) else parent
        return level, category


# ---- validity ----------------------------------------------------------------


def header_dates(info: Sequence[str]) -> tuple[str, str]:
    """(latest 通过/修正 date, 施行 date) from history lines such as ``2021年1月1日 施行``."""
    passed: list[str] = []
    valid = ""
    for line in info:
        m = _DATE_CN.match(line)
        if not m:
            continue
        date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        if _VALID_LINE.match(line):
            valid = date
        else:
            passed.append(date)
    return (max(passed) if passed else ""), valid


def says_repealed(title: str, info: Sequence[str]) -> bool:
    """The title or header marks the text as no longer in force (（已废止）, 已失效).

    Header lines naming a 《关于废止和修改…的决定》 only amended this text, so the
    bare word 废止 does not count.
    """
    return bool(_SAYS_REPEALED.search(" ".join((title, *info))))


@dataclass(frozen=True)
class VersionFacts:
    """What decides the status of one version of a law."""

    version: str  # YYYY-MM-DD or ""
    valid_from: str  # 施行日期 or ""
    expired: bool  # db flag
    says_repealed: bool


def version_statuses(
    law: str, versions: Sequence[VersionFacts], today: datetime.date
) -> tuple[int, list[str]]:
    """The index of the head version (the one that gets the plain id) and each version's status.

    ``versions`` are sorted oldest first. The head is the newest version already
    in force (施行日期, else its own date, not after ``today``); newer ones are
    尚未施行, older ones 已修改. The db ``expired`` flag is a snapshot taken when
    the collection was built, so it is trusted only on the newest version (the
    law as a whole repealed); on older versions it only says they were
    superseded. A law in ``ingest.names.REPEALED`` or whose newest text says
    已废止 is 已废止 in every version.
    """
    day = today.isoformat()
    newest = versions[-1]
    if law in REPEALED or newest.says_repealed or newest.expired:
        return len(versions) - 1, ["已废止"] * len(versions)
    started = [
        not (v.valid_from or v.version) or (v.valid_from or v.version) <= day for v in versions
    ]
    head = next((i for i in range(len(versions) - 1, -1, -1) if started[i]), len(versions) - 1)
    out: list[str] = []
    for i, v in enumerate(versions):
        if v.says_repealed:
            out.append("已废止")
        elif not started[i]:
            out.append("尚未施行")
        elif i == head:
            out.append("现行有效")
        else:
            out.append("已修改")
    return head, out
