"""Errors a user of the retrieval package can meet; all are ``FengqiaoError``s."""

from __future__ import annotations

from ingest.errors import FengqiaoError

__all__ = ["BuildError", "EvalError", "FengqiaoError", "KBError", "ModelError"]


class KBError(FengqiaoError):
    """The knowledge-base folder is missing, incomplete or built for another setup."""


class BuildError(FengqiaoError):
    """A knowledge base could not be built from the given sources."""


class ModelError(FengqiaoError):
    """The embedding model could not be found, converted or loaded."""


class EvalError(FengqiaoError):
    """A query file that cannot be read."""
