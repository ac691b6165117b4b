"""Errors a user can meet while bringing sources in (fetching, reading folders)."""

from __future__ import annotations


class IngestError(Exception):
    """An expected failure with a one-line Chinese message and a hint on what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        hint = f"。建议：{self.hint}" if self.hint else ""
        return f"错误：{self.message}{hint}"


class FetchError(IngestError):
    """Downloading or unpacking a statute archive failed; nothing already fetched was touched."""


class DropInError(IngestError, ValueError):
    """A file refused for the drop-in folder (name, type, size or emptiness); nothing was written."""
