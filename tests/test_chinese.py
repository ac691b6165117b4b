"""The one Chinese-character test (ingest/chinese.py) and that every module uses it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chinese import HAN_RUN, count_han, has_han, is_han


@pytest.mark.parametrize(
    "ch",
    [
        "中",  # U+4E2D, the unified block
        "䶮",  # U+4DAE, Extension A: a name character the old U+4E00 test missed
        "㑇",  # U+3447, Extension A
        "﨑",  # U+FA11, a compatibility ideograph from legacy conversions
        "𠮷",  # U+20BB7, Extension B: outside the Basic Multilingual Plane
    ],
)
def test_han_ideographs_of_every_block_count(ch: str) -> None:
    assert is_han(ch) and has_han(f"ab{ch}cd") and count_han(f"{ch}x{ch}") == 2


@pytest.mark.parametrize("ch", ["，", "。", "　", "《", "Ａ", "a", "1", "〇", "䷀", "⺀"])
def test_punctuation_letters_radicals_and_hexagrams_do_not(ch: str) -> None:
    assert not is_han(ch) and not has_han(ch)


def test_runs_keep_rare_characters_inside_a_word() -> None:
    assert HAN_RUN.findall("吴𠮷与䶮某签了合同, ok") == ["吴𠮷与䶮某签了合同"]


def test_no_module_keeps_its_own_range() -> None:
    """One range for every test: a literal U+4E00/U+3400 range outside ingest/chinese.py
    is a second definition that drifts (the project had two: U+4E00 and U+3400)."""
    repo = Path(__file__).resolve().parent.parent
    literal = re.compile(r"\\u(?:4e00|3400)|[\u3400\u4e00]-")
    allowed = {
        "ingest/chinese.py",  # the definition
        "ingest/dropin.py",  # a file-name character class (the KB folder's owner, issue 20)
    }
    found = {
        p.relative_to(repo).as_posix()
        for pkg in ("ingest", "retrieval", "ui")
        for p in (repo / pkg).rglob("*.py")
        if literal.search(p.read_text(encoding="utf-8"))
    }
    assert found <= allowed, sorted(found - allowed)
