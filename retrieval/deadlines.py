"""Deadline arithmetic for 办理提示: the last day of a period the law counts in years, months or days.

The rule is the civil code's (民法典 第二百零一条 to 第二百零三条, quoted by the guidance
rules in ``kb/guidance/通用.toml``):

* the day the period starts (离职日、受伤日、协议生效日 …) is not counted; counting
  starts on the next day (第二百零一条);
* a period of years or months ends on the day of the expiry month with the same number
  as the start day; a month without that day ends the period on its last day
  (第二百零二条: 2024-02-29 plus one year ends 2025-02-28);
* a period of days ends ``n`` days after the start day (the start day not counted);
* a last day on a 法定休假日 moves to the day after the holiday (第二百零三条). Saturdays
  and Sundays are rolled over here; public holidays and their make-up working days are
  not known offline, so the page says to check the calendar.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """A legal period: ``years``/``months``/``days`` counted from the day named by ``start``.

    Args:
        years, months, days: the length (exactly one of them is usually set).
        start: what the starting date is, as the mediator knows it (离职日期, 受伤日期 …).
    """

    years: int = 0
    months: int = 0
    days: int = 0
    start: str = ""

    @property
    def label(self) -> str:
        """``1 年``, ``6 个月``, ``30 日``."""
        parts = []
        if self.years:
            parts.append(f"{self.years} 年")
        if self.months:
            parts.append(f"{self.months} 个月")
        if self.days:
            parts.append(f"{self.days} 日")
        return " ".join(parts)

    def deadline(self, start: datetime.date) -> Deadline:
        """The last day of this period counted from ``start`` (``last_day``)."""
        return last_day(start, self)


@dataclass(frozen=True)
class Deadline:
    """The last day of a period, and the day it moves to when that falls on a weekend."""

    start: datetime.date
    period: Period
    last_day: datetime.date
    rolled_to: datetime.date | None = None  # next Monday when last_day is a Saturday or Sunday

    @property
    def effective(self) -> datetime.date:
        return self.rolled_to or self.last_day

    def days_left(self, today: datetime.date) -> int:
        """Days from ``today`` to the effective last day (negative once it has passed)."""
        return (self.effective - today).days


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day number ``months`` later; the month's last day when it has no such day."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day(start: datetime.date, period: Period) -> Deadline:
    """The last day of ``period`` counted from ``start`` (see the module docstring)."""
    if period.years < 0 or period.months < 0 or period.days < 0:
        raise ValueError(f"negative period: {period}")
    end = add_months(start, period.years * 12 + period.months)
    end += datetime.timedelta(days=period.days)
    rolled = None
    if end.weekday() >= 5:  # Saturday, Sunday: 公休日 count as 法定休假日
        rolled = end + datetime.timedelta(days=7 - end.weekday())
    return Deadline(start, period, end, rolled)
