"""Find statute citations (《民法典》第一千零七十九条, 本法第X条, 第X条至第Y条 …) in free text."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ingest.chinese import HAN
from ingest.names import (
    ALIASES,
    ARTICLE_LABEL,
    NUMERAL,
    REPEALED,
    canonical_law,
    cn_to_int,
    repealed,
)
from ingest.records import Citation

_NUM = NUMERAL
# 款/项 after an article label: 第一款 / 第（二）项 / 第二项 / （二）项, possibly listed with 、
_DETAIL_ONE = rf"(?:第{_NUM}款(?:第?[（(]?{_NUM}[）)]?项)?|第?[（(]{_NUM}[）)]项|第{_NUM}项)"
_DETAIL = re.compile(rf"(?:{_DETAIL_ONE})(?:、(?:{_DETAIL_ONE}))*")
# What may join two article labels that share one law: 第X条、第Y条 / 第X条至第Y条.
_JOIN = re.compile(r"\s*(、|，|,|和|及|以及|或者|或|与|至|到|—|-|～|~)\s*(?=第)")
_RANGE_WORDS = {"至", "到", "—", "-", "～", "~"}
_MAX_RANGE = 60

# A title in 《》 (may itself hold 〈〉), optionally followed by a parenthetical
# such as （国家统计局令第1号） or （2020年修正） before the article label.
_BOOK = re.compile(
    r"《((?:[^《》\n]|〈[^〉\n]*〉){1,80})》\s*(?:[（(][^（）()\n]{1,30}[）)])?\s*"
    rf"(?:的)?(?:[{HAN}]{{1,6}}编)?$"
)
_TITLE = re.compile(r"《((?:[^《》\n]|〈[^〉\n]*〉){1,80})》")
_CJK_RUN = re.compile(f"[{HAN}（）()〈〉]+$")

# A law-like title ends with one of these (after an optional ordinal such as （三）).
_LAW_END = re.compile(
    r"(?:法典|法|条例|规定|解释|办法|规则|细则|决定|意见|通知|批复|纪要|规章|章程|准则|标准)"
    r"(?:[（(][一二三四五六七八九十]+[）)])?$"
)
# Words after which a bare law name starts: 根据食品安全法第X条 → 食品安全法.
_LEADERS: tuple[str, ...] = tuple(
    (
        "根据 依据 依照 按照 参照 适用 违反 符合 援引 引用 对照 规定 构成 属于 即 和 及 与 或 的 是 在 由 了 按 依 据 见 对 前述 上述"
    ).split()
)
_NOT_LAW_BOOK = (
    "协议", "合同", "协议书", "合同书", "约定", "意向书", "通知书", "判决书", "裁定书", "调解书",
    "承诺书", "说明书", "证明", "收据", "借条", "欠条", "章程", "条款",
)  # fmt: skip
_NOT_LAW_NOUNS = ("制度", "守则", "附件", "公告", "方案", "清单", "本案", "判决", "规约")
_SAME_LAW = (
    "本法",
    "该法",
    "此法",
    "上述法律",
    "该条例",
    "本条例",
    "该规定",
    "本规定",
    "该解释",
    "本解释",
)
_NOT_A_LAW_TAIL = ("本条", "前条", "上条", "该条", "此条", "下条")

# Short names of laws a citation may name without 《》; aliases and repealed laws
# are added below. Longer names pass through canonical_law unchanged.
_BUILTIN_LAWS: tuple[str, ...] = tuple(
    (
        "民法典 宪法 刑法 民事诉讼法 刑事诉讼法 行政诉讼法 劳动法 劳动合同法 劳动合同法实施条例 劳动争议调解仲裁法 社会保险法 工伤保险条例 保障农民工工资支付条例 "
        "人民调解法 道路交通安全法 道路交通安全法实施条例 消费者权益保护法 产品质量法 食品安全法 治安管理处罚法 农村土地承包法 农村土地承包经营纠纷调解仲裁法 土地管理法 "
        "城市房地产管理法 物业管理条例 医疗纠纷预防和处理条例 医疗事故处理条例 老年人权益保障法 未成年人保护法 妇女权益保障法 反家庭暴力法 法律援助法 环境保护法 "
        "噪声污染防治法 环境噪声污染防治法 个人信息保护法 村民委员会组织法 城市居民委员会组织法 公司法 合伙企业法 保险法 商标法 著作权法 专利法 电子商务法 广告法 价格法 "
        "反不正当竞争法 行政处罚法 行政复议法 行政许可法 国家赔偿法 仲裁法 公证法 律师法 户口登记条例 城乡规划法 建筑法 安全生产法 职业病防治法 就业促进法 教育法 "
        "义务教育法 母婴保健法 人口与计划生育法 精神卫生法 药品管理法 出境入境管理法 税收征收管理法 个人所得税法 契税法 森林法 草原法 水法 野生动物保护法 动物防疫法 "
        "畜牧法 种子法 农业法 残疾人保障法 兵役法 国有土地上房屋征收与补偿条例 信访工作条例 人民调解委员会组织条例 婚姻登记条例 物权法 合同法 婚姻法 继承法 民法通则 "
        "民法总则 侵权责任法 担保法 收养法"
    ).split()
)


@dataclass
class _Scan:
    """Mutable state while scanning one text: the law most recently named."""

    last_law: str | None = None
    last_law_end: int = -1


@lru_cache(maxsize=8)
def _known_set(extra: frozenset[str]) -> frozenset[str]:
    # Cached: canonicalising thousands of knowledge-base law names per call
    # would cost ~25 ms a question.
    known = set(_BUILTIN_LAWS) | set(ALIASES) | set(ALIASES.values()) | set(REPEALED)
    return frozenset(known | {canonical_law(x) for x in extra})


def _known_laws(extra: Collection[str] | None) -> frozenset[str]:
    return _known_set(frozenset(extra) if extra else frozenset())


def _law_from_book(title: str, known: frozenset[str]) -> str | None:
    """The canonical law in a 《》 title, or None when the title names a contract or a document.

    Any title followed by 第X条 is taken as a law unless it ends like an
    agreement or a court paper (《安置协议》第六条 is a contract clause).
    A title missing its final 法 (《治安管理处罚》) gets it back when that names a known law.
    """
    name = canonical_law(title)
    if name.endswith(_NOT_LAW_BOOK) or not name:
        return None
    if name not in known and name + "法" in known:
        return name + "法"
    return name


def _law_from_run(run: str, known: frozenset[str]) -> tuple[str | None, str]:
    """Split the CJK run before 第X条 into a law name.

    Returns:
        (law, mode): mode is ``"law"`` (a law was named), ``"same"`` (本法/该法),
        ``"bare"`` (no law named before the label) or ``"other"`` (a document
        such as 合同, 协议 or 本条: a clause, not a statute citation).
    """
    if not run:
        return None, "bare"
    for tail in _NOT_A_LAW_TAIL:
        if run.endswith(tail):
            return None, "other"
    # Longest known suffix first: 根据劳动合同法 → 劳动合同法 (not 合同法).
    for i in range(len(run)):
        cand = canonical_law(run[i:])
        if cand in known:
            return cand, "law"
    for same in _SAME_LAW:
        if run.endswith(same):
            return None, "same"
    rest = run
    cut = max((rest.rfind(w) + len(w) for w in _LEADERS if w in rest), default=0)
    rest = rest[cut:]
    if not rest:
        return None, "bare"
    if len(rest) >= 3 and _LAW_END.search(rest) and not rest.startswith(("（", "(")):
        return canonical_law(rest), "law"
    if rest.endswith(_NOT_LAW_BOOK + _NOT_LAW_NOUNS):
        return None, "other"  # 合同第五条, 规章制度第三条: a clause of a document
    return None, "bare"  # 请问第一千零七十九条: a label with words before it


def _article_key(numeral: str, suffix: str) -> str | None:
    try:
        return f"{cn_to_int(numeral)}{suffix}"
    except ValueError:
        return None


def _iter_labels(text: str) -> Iterator[re.Match[str]]:
    yield from ARTICLE_LABEL.finditer(text)


def extract_citations(
    text: str,
    *,
    context_law: str | None = None,
    known_laws: Collection[str] | None = None,
) -> list[Citation]:
    """Every statute citation in ``text``, in order of appearance.

    Handles 《中华人民共和国民法典》第一千零七十九条, 民法典第1079条, 款/项 details
    (kept in ``Citation.detail``), 本法第X条 (``context_law``), lists
    (第X条、第Y条), ranges (第X条至第Y条, expanded), 第X条之一 and titles of
    judicial interpretations with 〈〉 inside. A bare 第X条 takes the law named
    last in the same paragraph, else ``context_law``, else ``law=None``.
    Citations of laws that 民法典 repealed get ``repealed=True``.

    Args:
        text: any text (case, answer, a user's question).
        context_law: the law the text belongs to, for 本法/bare labels.
        known_laws: extra law names that may appear without 《》.
    """
    known = _known_laws(known_laws)
    ctx = canonical_law(context_law) if context_law else None
    scan = _Scan()
    # Every 《title》 in the text, cited or merely named: a bare 第X条 right after
    # 《某解释》。⏎第六条… belongs to that title (None: a contract, not a law).
    mentions = [(b.end(), _law_from_book(b.group(1), known)) for b in _TITLE.finditer(text)]
    out: list[Citation] = []
    pos = 0
    matches = list(_iter_labels(text))
    i = 0
    while i < len(matches):
        m = matches[i]
        if m.start() < pos:
            i += 1
            continue
        before = text[max(0, m.start() - 120) : m.start()]
        para_start = text.rfind("\n\n", 0, m.start())
        law: str | None
        start = m.start()
        book = _BOOK.search(before)
        if book:
            law = _law_from_book(book.group(1), known)
            if law is None:
                i += 1
                continue
            start = m.start() - len(before) + book.start()
            scan.last_law, scan.last_law_end = law, m.start()
        else:
            run_m = _CJK_RUN.search(before)
            run = run_m.group(0)[-40:] if run_m else ""
            law, mode = _law_from_run(run, known)
            if mode == "other":
                i += 1
                continue
            if mode == "law":
                assert law is not None
                start = m.start() - len(law) if before.endswith(law) else m.start()
                scan.last_law, scan.last_law_end = law, m.start()
            elif mode == "same":
                law = ctx if run.endswith("本法") and ctx else (scan.last_law or ctx)
            else:  # bare label
                named = [(end, x) for end, x in mentions if para_start < end <= m.start()]
                if named and named[-1][0] > scan.last_law_end:
                    law = named[-1][1]
                elif scan.last_law and scan.last_law_end > para_start:
                    law = scan.last_law
                else:
                    law = ctx or scan.last_law
        # Collect this label and any labels joined to it (、 和 至 …).
        group: list[tuple[re.Match[str], str, str]] = []  # (label match, detail, joiner)
        joiner = ""
        cur = m
        j = i
        while True:
            det = _DETAIL.match(text, cur.end())
            detail = det.group(0) if det else ""
            end = det.end() if det else cur.end()
            group.append((cur, detail, joiner))
            if j + 1 >= len(matches):
                break
            join = _JOIN.match(text, end)
            nxt = matches[j + 1]
            if not join or join.end() != nxt.start():
                break
            joiner = join.group(1)
            cur = nxt
            j += 1
        pos = group[-1][0].end()
        i = j + 1
        prev_key: int | None = None
        prev_start = start
        for k, (lm, detail, joiner) in enumerate(group):
            key = _article_key(lm.group(1), lm.group(2) or "")
            if key is None:
                continue
            raw_start = start if k == 0 else lm.start()
            raw_end = lm.end() + len(detail)
            if joiner in _RANGE_WORDS and prev_key is not None and key.isdigit():
                hi = int(key)
                if 0 < hi - prev_key <= _MAX_RANGE:
                    # Articles inside 第X条至第Y条 carry the whole range as their raw text.
                    for n in range(prev_key + 1, hi):
                        out.append(_make(text, prev_start, raw_end, law, str(n), ""))
            out.append(_make(text, raw_start, raw_end, law, key, detail))
            prev_key = int(key) if key.isdigit() else None
            prev_start = raw_start
    return out


def _make(text: str, start: int, end: int, law: str | None, key: str, detail: str) -> Citation:
    return Citation(
        raw=text[start:end],
        law=law,
        article=key,
        detail=detail,
        start=start,
        end=end,
        repealed=bool(law and repealed(law)),
    )


def unique_citations(cites: Collection[Citation]) -> list[Citation]:
    """First occurrence of each (law, article, detail), in order."""
    seen: set[tuple[str | None, str, str]] = set()
    out: list[Citation] = []
    for c in cites:
        key = (c.law, c.article, c.detail)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
