"""Text made safe: file names escaped before they are printed, control characters taken out of fields."""

from __future__ import annotations

import os
import re

# What must never reach a terminal or a page raw: C0/C1 controls (newline, ESC …),
# DEL, line/paragraph separators, bidirectional overrides that reorder what is
# shown, and lone surrogates (undecodable bytes in a file name), which cannot
# even be printed as UTF-8.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# What a field of a record may not hold: characters XML 1.0 forbids (DOCX export
# raises on them), lone surrogates (UTF-8 cannot encode them) and U+FFFE/U+FFFF.
# Tab and newline stay; carriage returns are folded into newlines first.
_FIELD_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str | os.PathLike[str]) -> str:
    """``text`` (a path, a file name, a message) with every control character escaped.

    ``"a\\nb"`` → ``"a\\\\nb"``, ESC → ``\\x1b``, U+202E → ``\\u202e``: a crafted file
    name can then neither forge an output line nor move the cursor. Idempotent,
    so a message may pass through it more than once.
    """
    s = os.fspath(text)
    return _UNPRINTABLE.sub(_escape, s) if _UNPRINTABLE.search(s) else s


def clean_field(text: str) -> tuple[str, int]:
    """A record field with line ends unified to ``\\n`` and control characters removed.

    Returns:
        (cleaned text, number of characters removed).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _FIELD_JUNK.search(text):
        return text, 0
    cleaned = _FIELD_JUNK.sub("", text)
    return cleaned, len(text) - len(cleaned)
