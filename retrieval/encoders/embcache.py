"""Embedding cache keyed by (model key, text hash); its shards double as build checkpoints."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.atomic import replacing

log = logging.getLogger(__name__)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Vectors on disk under ``root/<model key>/``, one ``.npz`` shard per write.

    Each shard is written to a temporary name and renamed, so a killed build
    leaves only whole shards: the next build reuses them and resumes.
    """

    def __init__(self, root: Path, model_key: str) -> None:
        self.folder = Path(root) / model_key.replace("/", "_")
        self._vecs: dict[str, np.ndarray] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.folder.exists():
            return
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard) as z:
                    for k, v in zip(z["keys"].tolist(), z["vecs"], strict=True):
                        self._vecs[k.decode() if isinstance(k, bytes) else k] = v
            except (OSError, ValueError, KeyError) as e:  # a damaged shard is only lost work
                log.warning("ignoring damaged embedding shard %s: %s", shard, e)

    def __len__(self) -> int:
        self._load()
        return len(self._vecs)

    def get(self, key: str) -> np.ndarray | None:
        self._load()
        return self._vecs.get(key)

    def has(self, key: str) -> bool:
        self._load()
        return key in self._vecs

    def add(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        """Remember ``vecs`` and write them as one new shard (atomic)."""
        self._load()
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        n = len(list(self.folder.glob("shard-*.npz")))
        path = self.folder / f"shard-{n:06d}-{os.getpid()}.npz"
        with replacing(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, keys=np.array(list(keys), dtype="S32"), vecs=np.asarray(vecs, np.float32))
        for k, v in zip(keys, vecs, strict=True):
            self._vecs[k] = np.asarray(v, np.float32)

    def compact(self) -> None:
        """Merge all shards into one (fewer files to open on the next build)."""
        self._load()
        shards = sorted(self.folder.glob("shard-*.npz"))
        if len(shards) <= 1:
            return
        keys = list(self._vecs)
        final = self.folder / "shard-000000-merged.npz"
        # the merged shard is whole on disk before any old shard goes (a crash in between
        # only leaves duplicates, which load as the same vectors)
        with replacing(final) as tmp, open(tmp, "wb") as f:
            np.savez(
                f, keys=np.array(keys, dtype="S32"), vecs=np.stack([self._vecs[k] for k in keys])
            )
        for s in shards:
            if s != final:
                s.unlink()
