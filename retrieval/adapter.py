"""The shipped query adapter: fp16 weight deltas of e5's top layers, for the query side only.

The knowledge base's passages keep the base model's vectors (its index and embedding
cache stay valid); questions are encoded by base + delta, trained so that a lay
question lands near the article that governs it (bench/adapt_e5.py). ``FENGQIAO_MODEL=base``
switches the adapter off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ingest.atomic import replace_folder
from retrieval.errors import ModelError

log = logging.getLogger(__name__)

ADAPTER_FILE = Path(__file__).resolve().parent.parent / "models" / "e5-query-adapter.safetensors"
MODEL_ENV = "FENGQIAO_MODEL"
"""``base``: questions use the unadapted e5; unset or ``adapted``: the shipped adapter."""
WEIGHTS = "model.safetensors"


def shipped_adapter(path: Path = ADAPTER_FILE) -> Path | None:
    """The adapter questions are encoded with, or None (switched off, or not shipped)."""
    choice = (os.environ.get(MODEL_ENV) or "adapted").strip().lower()
    if choice == "base":
        return None
    if choice != "adapted":
        raise ModelError(f"未知的 {MODEL_ENV}={choice!r}", "写作 adapted（默认）或 base")
    return path if path.is_file() else None


def adapter_digest(path: Path) -> str:
    """Content digest of an adapter file (it is a few MB: read whole)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def adapted_dir(base_dir: Path, adapter: Path) -> Path:
    """``base_dir`` with the adapter's deltas added, written once beside it (~5 s).

    The folder is named by the adapter's digest, so a new adapter never meets an old
    folder; it is written into a temporary folder and renamed into place.

    Raises:
        ModelError: the adapter names a weight the base model does not have, or a shape
            that differs.
    """
    from safetensors.numpy import load_file, save_file

    out = base_dir.parent / f"{base_dir.name}-qa-{adapter_digest(adapter)}"
    if (out / WEIGHTS).exists():
        return out
    weights = load_file(str(base_dir / WEIGHTS))
    for name, delta in load_file(str(adapter)).items():
        base = weights.get(name)
        if base is None or base.shape != delta.shape:
            raise ModelError(
                f"查询适配文件 {adapter} 与模型不符（{name}）",
                f"删除该文件或设 {MODEL_ENV}=base 使用原始 e5 模型",
            )
        weights[name] = base + delta.astype(base.dtype)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copytree(
            base_dir,
            tmp,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(WEIGHTS, "fengqiao-weights-digest.txt"),
        )
        save_file(weights, str(tmp / WEIGHTS), metadata={"format": "pt"})
        replace_folder(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("applied query adapter %s into %s", adapter.name, out)
    return out
