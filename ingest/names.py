"""Law names: normalisation to the eval format, aliases, article labels, repealed laws."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import cn2an

_BRACKETS = str.maketrans({"(": "（", ")": "）", "〈": "", "〉": "", "《": "", "》": ""})
_SPACES = re.compile(r"[\s\u3000]+")


def normalise_law(title: str) -> str:
    """Normalise a law title the way ``../shared/eval/README.md`` does.

    ``中华人民共和国`` removed, ``《》``/``〈〉`` removed, half-width brackets made
    full-width, no spaces. ``《中华人民共和国民法典》`` → ``民法典``;
    ``最高人民法院关于适用《民法典》婚姻家庭编的解释(一)`` →
    ``最高人民法院关于适用民法典婚姻家庭编的解释（一）``.
    """
    name = _SPACES.sub("", title.translate(_BRACKETS))
    return name.replace("中华人民共和国", "")


# Short forms people write for laws, mapped to the normalised name. Keys are
# normalised too. Only unambiguous forms belong here: 劳动法 is its own law and
# must not map to 劳动合同法.
ALIASES: dict[str, str] = {
    "民诉法": "民事诉讼法",
    "民事诉讼法解释": "最高人民法院关于适用民事诉讼法的解释",
    "民诉法解释": "最高人民法院关于适用民事诉讼法的解释",
    "刑诉法": "刑事诉讼法",
    "行诉法": "行政诉讼法",
    "消法": "消费者权益保护法",
    "消保法": "消费者权益保护法",
    "消费者保护法": "消费者权益保护法",
    "道交法": "道路交通安全法",
    "道路交通法": "道路交通安全法",
    "治安处罚法": "治安管理处罚法",
    "劳动合同法条例": "劳动合同法实施条例",
    "调解法": "人民调解法",
    "土地承包法": "农村土地承包法",
    "妇女权益保护法": "妇女权益保障法",
    "老年人权益保护法": "老年人权益保障法",
    "未成年人保护条例": "未成年人保护法",
    "个保法": "个人信息保护法",
    "食安法": "食品安全法",
    "劳动争议调解仲裁法": "劳动争议调解仲裁法",
    "婚姻家庭编解释一": "最高人民法院关于适用民法典婚姻家庭编的解释（一）",
    "婚姻家庭编解释（一）": "最高人民法院关于适用民法典婚姻家庭编的解释（一）",
    "民间借贷规定": "最高人民法院关于审理民间借贷案件适用法律若干问题的规定",
    "民间借贷司法解释": "最高人民法院关于审理民间借贷案件适用法律若干问题的规定",
    "人身损害赔偿解释": "最高人民法院关于审理人身损害赔偿案件适用法律若干问题的解释",
    # Short names used in published typical cases (engineer B).
    "行政协议司法解释": "最高人民法院关于审理行政协议案件若干问题的规定",
    "行政协议规定": "最高人民法院关于审理行政协议案件若干问题的规定",
    "劳动争议司法解释（一）": "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）",
    "劳动争议解释（一）": "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）",
    "民法典时间效力规定": "最高人民法院关于适用民法典时间效力的若干规定",
    "担保制度解释": "最高人民法院关于适用民法典有关担保制度的解释",
    "劳动争议仲裁调解法": "劳动争议调解仲裁法",  # a common misordering
}


def canonical_law(name: str) -> str:
    """Normalise ``name`` and resolve a known alias (unknown names pass through)."""
    norm = normalise_law(name)
    return ALIASES.get(norm, norm)


@dataclass(frozen=True)
class RepealedLaw:
    """A law that has ceased to be in force and what replaced it."""

    law: str  # normalised name
    ceased: str  # YYYY-MM-DD
    replaced_by: str  # normalised name of the law now governing the subject
    basis: str  # the provision that repealed it


# The nine laws that 民法典 第一千二百六十条 repealed on 2021-01-01.
_CIVIL_CODE_BASIS = "《中华人民共和国民法典》第一千二百六十条"
REPEALED: dict[str, RepealedLaw] = {
    name: RepealedLaw(name, "2021-01-01", "民法典", _CIVIL_CODE_BASIS)
    for name in (
        "婚姻法",
        "继承法",
        "民法通则",
        "收养法",
        "担保法",
        "合同法",
        "物权法",
        "侵权责任法",
        "民法总则",
    )
}


def repealed(law: str) -> RepealedLaw | None:
    """The repeal record of ``law`` (any spelling), or None if it is not known repealed."""
    return REPEALED.get(canonical_law(law))


# ---- article numbers -------------------------------------------------------

# The one pattern for an article label, used by the statute readers
# (ingest.formats.plaintext) and by citation finding (ingest.citations).
# Numerals are bounded in length so a run of digits or a 第第第… run costs
# linear time; a doubled 第 (第第五条) is a common typo in answers; 條 is how
# texts in traditional characters (Big5 files) write 条.
NUMERAL = r"[零〇一二两兩三四五六七八九十百千万萬\d]{1,12}"
SUFFIX = r"之[一二三四五六七八九十]{1,3}"
ARTICLE_LABEL = re.compile(rf"第{{1,2}}({NUMERAL})[条條]({SUFFIX})?")
# No law has more articles than this (民法典 has 1,260); a larger number is not a
# label but noise or an attack (第100000000000000000条 once crashed the parser).
MAX_ARTICLE = 10_000
_NUMERAL_FORMS = str.maketrans({"〇": "零", "两": "二", "兩": "二", "萬": "万"})


@lru_cache(maxsize=4096)
def cn_to_int(numeral: str) -> int:
    """``一千零七十九`` → 1079; Arabic digits pass through.

    Raises:
        ValueError: not a numeral, zero, or larger than ``MAX_ARTICLE``.
    """
    if len(numeral) > 12:
        raise ValueError(f"numeral too long: {numeral[:20]}")
    if numeral.isdigit():
        number = int(numeral)
    else:
        try:
            number = int(cn2an.cn2an(numeral.translate(_NUMERAL_FORMS), "smart"))
        except Exception as exc:  # cn2an raises ValueError, KeyError or IndexError on odd input
            raise ValueError(f"not a numeral: {numeral}") from exc
    if not 1 <= number <= MAX_ARTICLE:
        raise ValueError(f"{number} is not within 1..{MAX_ARTICLE}")
    return number


@lru_cache(maxsize=4096)
def int_to_cn(number: int) -> str:
    """1079 → ``一千零七十九``; a number cn2an cannot write (over 16 digits) stays in digits."""
    if not 0 <= number < 10**16:  # cn2an: "最长支持 16 位" (a link's 17-digit 条号 crashed a page)
        return str(number)
    return str(cn2an.an2cn(number))


def article_label(number: int, suffix: str = "") -> str:
    """1079 → ``第一千零七十九条``; (133, ``之一``) → ``第一百三十三条之一``."""
    return f"第{int_to_cn(number)}条{suffix}"


def parse_label(text: str) -> tuple[int, str, int] | None:
    """Parse a leading ``第X条[之Y]`` label (X from 1 to ``MAX_ARTICLE``).

    Returns:
        (number, suffix, length of the label in ``text``), or None when ``text``
        does not start with a label.
    """
    m = ARTICLE_LABEL.match(text)
    if not m:
        return None
    try:
        number = cn_to_int(m.group(1))
    except ValueError:
        return None
    return number, m.group(2) or "", m.end()
