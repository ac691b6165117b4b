"""The one error base of the project: an expected failure with a Chinese message and a hint."""

from __future__ import annotations


class FengqiaoError(Exception):
    """An expected failure: ``message`` says what and where, ``hint`` what to do (建议).

    Every package raises subclasses of this one class, so the CLI prints any of them as
    one line (:meth:`line`) and a page shows it with ``st.error``; anything else is a bug.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def line(self) -> str:
        """``错误：… 。建议：…`` — how the CLI and the pages print it."""
        hint = f"。建议：{self.hint}" if self.hint else ""
        return f"错误：{self.message}{hint}"

    def __str__(self) -> str:
        return self.line()


class IngestError(FengqiaoError):
    """Bringing sources in failed (fetching, reading folders, saving a file)."""


class FetchError(IngestError):
    """Downloading or unpacking a statute archive failed; nothing already fetched was touched."""


class DropInError(IngestError, ValueError):
    """A file refused for the drop-in folder (name, type, size or emptiness); nothing was written."""
