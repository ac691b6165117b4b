"""Questions that ask how much: the article that states the amount answers them.

"辞退了能拿多少补偿？" is answered by the article that sets the standard (劳动合同法第四十七条:
每满一年支付一个月工资), not by the one that says compensation is owed (第四十六条), and
"十级伤残赔偿标准" by the article with the months of wages per grade (工伤保险条例第三十七条),
not by the one on wages during treatment (第三十三条). Precedent evidence cannot tell
them apart: consultations cite such pairs together. So when a question asks for an
amount, the articles among its top candidates that state amounts (standards, months of
wages, multiples, percentages, sums) are lifted a little; nothing outside the top
candidates moves (docs/quality.md "Questions that ask how much").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from retrieval import fusion

ASKS = re.compile(
    r"多少|几个月|几倍|怎么算|如何算|怎样算|怎么计算|如何计算|怎样计算|计算方法"
    r"|标准|金额|数额|赔偿范围|什么补偿|哪些补偿|什么赔偿|哪些赔偿"
)
"""A question asking for an amount: how much, how computed, what standard or sum."""

_NUM = "[0-9０-９一二三四五六七八九十两半百千万]+"
STATES = re.compile(rf"标准|计算|{_NUM}个?月的?(?:本人)?工资|{_NUM}倍|百分之|{_NUM}%|{_NUM}元")
"""An article's statement of an amount: a standard, a computation, months of wages, a
multiple, a percentage, a sum of money."""


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how much (or by what standard) something is paid."""
    return ASKS.search(question) is not None


def amount_statements(text: str) -> int:
    """How many times an article's text states an amount (``STATES``)."""
    return len(STATES.findall(text))


def lift(
    fused: Mapping[str, float],
    statements: Callable[[str], int],
    *,
    share: float,
    top: int,
    at_least: int,
) -> dict[str, float]:
    """Lift each of the ``top`` best articles that states an amount at least ``at_least``
    times by ``share`` of the best article's score; the rest keep their scores.

    Call only for a question that ``asks_amount``. ``statements`` counts an article's
    amount statements (``amount_statements`` of its text: a regex over at most ``top``
    articles, nothing worth caching).
    """
    out = dict(fused)
    best = fusion.ranked(fused)[:top]
    if not best:
        return out
    step = share * fused[best[0]]
    for d in best:
        if statements(d) >= at_least:
            out[d] += step
    return out
