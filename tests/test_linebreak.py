"""Chinese line breaking: no line starts with closing punctuation or ends with an opening mark."""

from __future__ import annotations

import pytest

from ui.documents.linebreak import NO_END, NO_START, break_lines, clusters

SAMPLE = (
    "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
    "依照《中华人民共和国民法典》第1079条（第二款）的规定：“调解无效的，应当准予离婚。”"
    "当事人问：是否可以？！双方约定……履行期限为2026年3月20日——逾期的，另行协商；"
)


def _width(text: str) -> float:
    return float(sum(1 if ord(ch) < 0x2E80 else 2 for ch in text))


@pytest.mark.parametrize("width", range(8, 41))
def test_no_line_breaks_against_the_rules(width: int) -> None:
    for shift in range(6):  # move every mark through every position of a line
        text = "字" * shift + SAMPLE
        lines = break_lines(text, _width, width)
        assert "".join(lines) == text  # nothing lost or added
        for line in lines[1:]:
            assert line[0] not in NO_START, (width, shift, lines)
        for line in lines[:-1]:
            assert line[-1] not in NO_END, (width, shift, lines)
            assert _width(line) <= width


def test_numbers_dashes_and_blanks_stay_whole() -> None:
    pieces = clusters("第1079条——2026年＿＿＿＿……")
    assert "1079" in pieces and "——" in pieces and "＿＿＿＿" in pieces
    lines = break_lines("编号：11010519850402123X。", _width, 20)
    assert lines == ["编号：", "11010519850402123X。"]  # moved whole, its full stop with it


def test_first_line_indent_and_overlong_unit() -> None:
    lines = break_lines("一二三四五六七八", _width, 8, first_indent=4)
    assert lines == ["一二", "三四五六", "七八"]
    url = "https://example.org/" + "a" * 30
    assert "".join(break_lines(url, _width, 10)) == url  # cut by force, nothing dropped
