"""Errors a user of the retrieval package can meet; all are ``FengqiaoError``s."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.errors import FengqiaoError, IngestError

__all__ = [
    "ArchiveError",
    "BuildError",
    "CountyError",
    "EvalError",
    "FengqiaoError",
    "GuidanceError",
    "KBError",
    "ModelError",
    "PrecedentError",
    "QueryError",
    "RayEmbedError",
    "StoreWriteError",
]


class KBError(FengqiaoError):
    """The knowledge-base folder is missing, incomplete or built for another setup."""


class BuildError(FengqiaoError):
    """A knowledge base could not be built from the given sources."""


class ModelError(FengqiaoError):
    """The embedding model could not be found, converted or loaded."""


class QueryError(FengqiaoError):
    """A question or a search argument that cannot be searched (empty, too long, bad k)."""


class EvalError(FengqiaoError):
    """A query file that cannot be read."""


class StoreWriteError(FengqiaoError):
    """Some units (or records) of a write to a unit store were not stored; ``failed`` names them.

    Store writes are idempotent by unit id, so running the same write again stores the
    missing ones without duplicating those that went through.
    """

    def __init__(self, message: str, hint: str, failed: Sequence[str]) -> None:
        super().__init__(message, hint)
        self.failed = tuple(failed)


class PrecedentError(IngestError):
    """A committee record that cannot be saved or imported as given; nothing was written
    (an ``IngestError``: an upload of a record table reports it as a refused file)."""


class ArchiveError(FengqiaoError):
    """An index archive that cannot be made, fetched or trusted; nothing installed was touched."""


class RayEmbedError(FengqiaoError):
    """The Ray cluster could not be reached or the embedding job failed (finished work is cached)."""


class GuidanceError(FengqiaoError):
    """A guidance rule file that cannot be read (bad TOML, unknown section, missing field)."""


class CountyError(FengqiaoError):
    """The county record store cannot be reached, is of another version, or refuses a sync."""
