"""One knowledge-base folder and everything in it: every module asks here for a path.

::

    <kb>/
      index/               the built index (``retrieval/index_folder.py``: files, manifest, swap)
      cache/               parsed sources and embeddings (``cache/embeddings``) builds reuse
      drop-in/             the user's own files (``ingest/dropin.py`` writes them)
      fetched/             statute collections downloaded by ``fengqiao fetch``
      precedents.sqlite3   the committee's recorded cases (``retrieval/precedents.py``)
      collections.sqlite3  案卷 and collections (``ui/store.py``)
      users.json           accounts (``ui/accounts.py``)
      county.json          the committee and its county store (``fengqiao sync``)
      county_shared.sqlite3  other committees' shared cases (``retrieval/county/shared.py``)
      .build.lock          held while a build writes

The size limit of a user's file (``MAX_FILE_MB``, one value for ``add``, the page and
every reader) and the rule of which drop-in files are the user's (``dropin_files``)
are read from here too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.config import MAX_FILE_BYTES, MAX_FILE_MB
from ingest.dropin import ALLOWED, user_files
from retrieval.index_folder import LOCK, MANIFEST, REPO, IndexFolder

__all__ = ["ALLOWED", "MAX_FILE_BYTES", "MAX_FILE_MB", "KBFolder", "Stamp", "default_kb"]

PRECEDENTS = "precedents.sqlite3"
COLLECTIONS = "collections.sqlite3"
ACCOUNTS = "users.json"
COUNTY_CONFIG = "county.json"
COUNTY_SHARED = "county_shared.sqlite3"


def default_kb() -> Path:
    """The knowledge-base folder when none is given: env ``FENGQIAO_KB``, else ``<repo>/kb``."""
    return Path(os.environ.get("FENGQIAO_KB") or REPO / "kb").expanduser()


@dataclass(frozen=True)
class Stamp:
    """Which index file is live: changes whenever a build swaps a new index in."""

    manifest: str
    inode: int
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class KBFolder:
    """A knowledge-base folder: the paths of everything it holds."""

    path: Path

    @classmethod
    def of(cls, path: str | Path) -> KBFolder:
        return cls(Path(path))

    @property
    def index(self) -> IndexFolder:
        """The live index (or the previous one when a swap was cut short)."""
        return IndexFolder.of(self.path)

    @property
    def cache(self) -> Path:
        return self.path / "cache"

    @property
    def embeddings(self) -> Path:
        return self.cache / "embeddings"

    @property
    def dropin(self) -> Path:
        return self.path / "drop-in"

    @property
    def fetched(self) -> Path:
        return self.path / "fetched"

    @property
    def precedents(self) -> Path:
        return self.path / PRECEDENTS

    @property
    def collections(self) -> Path:
        return self.path / COLLECTIONS

    @property
    def accounts(self) -> Path:
        return self.path / ACCOUNTS

    @property
    def county_config(self) -> Path:
        """The committee's name and the county store's address (``fengqiao sync``)."""
        return self.path / COUNTY_CONFIG

    @property
    def county_shared(self) -> Path:
        """Other committees' shared cases, pulled from the county store."""
        return self.path / COUNTY_SHARED

    @property
    def build_lock(self) -> Path:
        return self.path / LOCK

    def dropin_files(self) -> list[Path]:
        """The user's files in drop-in (``ingest.dropin.user_files``: no README, nothing hidden)."""
        return user_files(self.dropin)

    def stamp(self) -> Stamp | None:
        """The live manifest's identity (one ``stat``), None when there is no index.

        A build writes a new index folder and renames it into place, so the manifest a
        server loaded and the one there now differ in inode and time after any build,
        from this process or another (``fengqiao add`` in another shell).
        """
        manifest = self.index.file(MANIFEST)
        try:
            st = manifest.stat()
        except OSError:
            return None
        return Stamp(str(manifest), st.st_ino, st.st_mtime_ns, st.st_size)
