"""The Chinese-character test, in one place: which characters are Han ideographs.

``HAN`` is one regular-expression range for every test in the project:

- U+4E00–U+9FFF CJK Unified Ideographs: the common characters;
- U+3400–U+4DBF Extension A: rare characters that do occur in names and old statute
  text (䶮, 㑇), which U+4E00–U+9FFF alone missed;
- U+F900–U+FAFF CJK Compatibility Ideographs: what some GB18030/Big5 conversions and
  PDF text layers produce for ordinary characters (e.g. 﨑, 﨟);
- U+20000–U+323AF Extensions B–I and the Compatibility Supplement: rare name
  characters (𠮷) outside the Basic Multilingual Plane.

Left out on purpose: punctuation (U+3000–U+303F, full-width forms), radicals and
strokes (U+2E80–U+2FDF, U+31C0–U+31EF) and the Yijing hexagrams between Extension A
and the unified block (U+4DC0–U+4DFF, which the older test U+3400–U+9FFF counted): none
of them is a word character of Chinese text.
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
"""Character-class body: use as ``f"[{HAN}]"`` inside a larger pattern."""

HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")


def is_han(ch: str) -> bool:
    """Whether the single character ``ch`` is a Han ideograph."""
    return len(ch) == 1 and HAN_CHAR.match(ch) is not None


def has_han(text: str) -> bool:
    """Whether ``text`` holds at least one Han ideograph."""
    return HAN_CHAR.search(text) is not None


def count_han(text: str) -> int:
    """How many Han ideographs ``text`` holds."""
    return len(HAN_CHAR.findall(text))
