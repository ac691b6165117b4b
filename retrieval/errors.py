"""Errors a user of the retrieval package can meet, each with a Chinese message and a hint."""

from __future__ import annotations


class FengqiaoError(Exception):
    """An expected failure: ``message`` says what and where, ``hint`` what to do (建议)."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} 建议：{hint}" if hint else message)


class KBError(FengqiaoError):
    """The knowledge-base folder is missing, incomplete or built for another setup."""


class BuildError(FengqiaoError):
    """A knowledge base could not be built from the given sources."""


class ModelError(FengqiaoError):
    """The embedding model could not be found, converted or loaded."""
