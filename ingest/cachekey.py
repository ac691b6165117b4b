"""Keys of the parse caches: a cached parse is reused only while the code that made it is unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def code_digest(files: Iterable[Path | str]) -> str:
    """sha256 over the given source files, in the order given."""
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()
