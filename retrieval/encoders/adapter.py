"""The shipped query adapter: fp16 weight deltas of e5's top layers, for the query side only.

The knowledge base's passages keep the base model's vectors (its index and embedding
cache stay valid); questions are encoded by base + delta, trained so that a lay
question lands near the article that governs it (bench/adapt_e5.py). ``FENGQIAO_MODEL=base``
switches the adapter off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ingest.atomic import replace_folder
from retrieval.errors import ModelError

log = logging.getLogger(__name__)

ADAPTER_FILE = Path(__file__).resolve().parents[2] / "models" / "e5-query-adapter.safetensors"
MODEL_ENV = "FENGQIAO_MODEL"
"""``base``: questions use the unadapted e5; unset or ``adapted``: the shipped adapter; a
``.safetensors`` path: that adapter file instead."""
WEIGHTS = "model.safetensors"
MARKER = "fengqiao-adapter.json"
"""Written into an adapted folder: the adapter and the layers it changed."""


def shipped_adapter(path: Path = ADAPTER_FILE) -> Path | None:
    """The adapter questions are encoded with, or None (switched off, or not shipped)."""
    raw = (os.environ.get(MODEL_ENV) or "adapted").strip()
    choice = raw.lower()
    if choice == "base":
        return None
    if choice.endswith(".safetensors") and Path(raw).is_file():
        return Path(raw)  # another adapter file (e.g. one trained for a held-out fold)
    if choice != "adapted":
        raise ModelError(
            f"未知的 {MODEL_ENV}={raw!r}",
            "写作 adapted（默认）、base 或适配文件 .safetensors 的路径",
        )
    return path if path.is_file() else None


def trained_on(path: Path) -> tuple[str, ...]:
    """The query sources (``equals``, ``zixun``, …) whose labelled questions trained the
    adapter file, from its metadata (written by ``bench/adapt_e5.py ship``); evaluating
    on them measures the adapter in-sample."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    return tuple(s for s in meta.get("trained_on", "").split(",") if s)


def adapted_layers(model_dir: Path) -> list[int]:
    """The layers an adapter changed in ``model_dir`` ([] for a model folder without one)."""
    try:
        return [int(i) for i in json.loads((Path(model_dir) / MARKER).read_text())["layers"]]
    except FileNotFoundError:
        return []


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
    deltas = load_file(str(adapter))
    for name, delta in deltas.items():
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
        # the ONNX export keeps these layers in fp32: their deltas are finer than the
        # 4-bit grid of the base weights, which would round them away (cosine to torch 0.95)
        layers = sorted({int(n.split(".")[2]) for n in deltas if n.startswith("encoder.layer.")})
        (tmp / MARKER).write_text(
            json.dumps(
                {"adapter": adapter.name, "digest": adapter_digest(adapter), "layers": layers}
            )
        )
        replace_folder(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("applied query adapter %s into %s", adapter.name, out)
    return out
