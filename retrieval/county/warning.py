"""Early warning: a dispute type rising above its own seasonal baseline (a stated Poisson rule).

The rule, for one dispute type and one month ``m`` with ``x`` records:

- trailing level ``T``: the mean monthly count over the 12 months before ``m``;
- seasonal index ``S``: over up to 3 previous years with a full year of data,
  (records in the same calendar month + 1) / (that year's mean monthly count + 1),
  summed over the years before dividing, and held within [0.5, 4]; ``S = 1`` without
  a previous year (the +1 keeps a type seen once a year from swinging the index);
- expected count ``λ = max(T × S, 0.5)``;
- warn when ``x ≥ 5`` and the one-sided p-value < 0.001: the exact conditional test
  of two Poisson rates, ``P(Y ≥ x)`` for ``Y ~ Binomial(x + N, S / (12 + S))`` where
  ``N`` is the trailing 12 months' total — it allows for the baseline being a count
  itself (``test="poisson"`` takes λ as exact instead: ``P(X ≥ x)``, ``X ~ Poisson(λ)``).

0.001 rather than 0.01 because a county page tests every type in every town (91 tests
for 13 types and 6 towns): at 0.01 most months would show a false alarm somewhere.

A count that is high every year at this time (wage arrears before the Spring Festival)
raises ``S`` and so its own baseline; a count above both the recent level and the
season is what is flagged. The thresholds live in :class:`Rule`; the bench
``bench/bench_county.py --warnings`` measures detection and false alarms on synthetic data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Rule:
    p_value: float = 0.001
    min_count: int = 5
    years: int = 3
    index_min: float = 0.5
    index_max: float = 4.0
    floor: float = 0.5
    test: str = "conditional"  # or "poisson": x against λ taken as exact

    def describe(self) -> str:
        return (
            f"本月数量 x 与季节基线 λ 比较：λ = 前 12 个月月均数 × 季节指数"
            f"（前 {self.years} 年同月数与该年前后 12 个月月均数之比，限定在 {self.index_min}–{self.index_max}）；"
            f"当 x ≥ {self.min_count} 且单侧检验 p < {self.p_value} 时预警"
            f"（两个泊松率的精确条件检验：已知本月数与前 12 个月总数之和，本月数服从二项分布）。"
        )


RULE = Rule()


@dataclass(frozen=True)
class Signal:
    """The rule's numbers for one type and month; ``warn`` is the verdict."""

    dispute_type: str
    month: date
    count: int
    trailing_mean: float
    seasonal_index: float
    expected: float
    p_value: float
    years_used: int
    warn: bool
    region: str = ""  # the town or committee tested; "" for the whole scope

    @property
    def ratio(self) -> float:
        return self.count / self.expected if self.expected else math.inf


def add_months(m: date, k: int) -> date:
    n = m.year * 12 + (m.month - 1) + k
    return date(n // 12, n % 12 + 1, 1)


def poisson_upper_tail(x: int, lam: float) -> float:
    """P(X ≥ x) for X ~ Poisson(lam), summed in log space (exact enough for counts in the thousands)."""
    if x <= 0:
        return 1.0
    term = math.exp(-lam)  # P(X = 0)
    below = term
    for k in range(1, x):
        term *= lam / k
        below += term
    if below < 0.5:
        return 1.0 - below
    # Far tail: sum upwards from x instead of subtracting two numbers near 1.
    log_term = -lam + x * math.log(lam) - math.lgamma(x + 1)
    total, k, t = 0.0, x, math.exp(log_term)
    while t > 1e-300 and k < x + 10_000:
        total += t
        k += 1
        t *= lam / k
        if t < total * 1e-15:
            break
    return min(1.0, total)


def binomial_upper_tail(x: int, n: int, p: float) -> float:
    """P(X ≥ x) for X ~ Binomial(n, p), summed in log space from ``x`` away from the mean.

    Only the terms that matter are summed (they fall off geometrically past a few standard
    deviations), so a county-wide count in the thousands costs a few hundred terms.
    """
    if x <= 0:
        return 1.0
    if x > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)

    def log_pmf(k: int) -> float:
        return base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q

    upper = x > n * p
    k = x if upper else x - 1  # sum the tail that lies away from the mean, then complement
    step = 1 if upper else -1
    top = log_pmf(k)
    total = 0.0
    while 0 <= k <= n:
        t = math.exp(log_pmf(k) - top)
        total += t
        if t < 1e-17 * total:
            break
        k += step
    tail = math.exp(top) * total
    return min(1.0, tail) if upper else max(0.0, 1.0 - tail)


def evaluate(
    dispute_type: str,
    counts: Mapping[date, int],
    month: date,
    data_start: date,
    rule: Rule = RULE,
    region: str = "",
) -> Signal | None:
    """The rule for ``dispute_type`` in ``month``; None without 12 months of history before it.

    Args:
        counts: records per month (first of month); months missing are zero.
        data_start: the first month the store has any data for: earlier months are unknown,
            not zero.
    """
    if add_months(month, -12) < data_start:
        return None
    x = counts.get(month, 0)
    trailing = sum(counts.get(add_months(month, -k), 0) for k in range(1, 13)) / 12
    same = level = 0.0
    used = 0
    for y in range(1, rule.years + 1):
        anchor = add_months(month, -12 * y)
        if add_months(anchor, -6) < data_start:
            break
        same += counts.get(anchor, 0)
        level += sum(counts.get(add_months(anchor, -k), 0) for k in range(-5, 7)) / 12
        used += 1
    index = 1.0
    if used:
        index = min(rule.index_max, max(rule.index_min, (same + used) / (level + used)))
    lam = max(trailing * index, rule.floor)
    if rule.test == "poisson":
        p = poisson_upper_tail(x, lam)
    else:
        # The trailing level is itself a count: test x against it with the exact conditional
        # test of two Poisson rates (x | x + N12 is binomial), so a noisy baseline is allowed for.
        n12 = round(trailing * 12)
        share = index / (12 + index)
        p = binomial_upper_tail(x, x + n12, share) if n12 else poisson_upper_tail(x, lam)
    warn = x >= rule.min_count and p < rule.p_value
    return Signal(dispute_type, month, x, trailing, index, lam, p, used, warn, region)
