"""Errors of the front ends (accounts, the 案卷 store, document export); all are
``FengqiaoError``s, so a page and the CLI print each as one line (错误：… 。建议：…)."""

from __future__ import annotations

from ingest.errors import FengqiaoError

__all__ = ["AccountError", "ExportError", "FengqiaoError", "FontError", "StoreError"]


class AccountError(FengqiaoError):
    """A user name, password or users file that cannot be used."""


class StoreError(FengqiaoError):
    """A collection (案卷/教学集) operation the user asked for cannot be done."""


class ExportError(FengqiaoError):
    """An export that cannot be made (a draft, a 案卷 or a teaching set as DOCX/PDF/Markdown)."""


class FontError(ExportError):
    """No usable CJK font for PDF export, or a character none of the fonts can draw."""
