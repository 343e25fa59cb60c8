"""Appraisal periods: which month a date is appraised in, given the cutoff day of rules.yaml."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """The appraisal month `key` (YYYY-MM), running from `start` to `end` inclusive."""

    key: str
    start: date
    end: date

    @property
    def year(self) -> int:  # (for layouts)
        return int(self.key[:4])

    @property
    def month(self) -> int:
        return int(self.key[5:])


def _month_end(year: int, month: int, cutoff_day: int | None) -> date:
    if cutoff_day is None:
        return date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, cutoff_day)


def period(year: int, month: int, cutoff_day: int | None) -> Period:
    """Period `year-month`: from the day after the previous month's cutoff to this month's cutoff."""
    prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    start = _month_end(prev_year, prev_month, cutoff_day) + timedelta(days=1)
    return Period(f"{year:04d}-{month:02d}", start, _month_end(year, month, cutoff_day))


def period_by_key(key: str, cutoff_day: int | None) -> Period:
    """The period named `key` (YYYY-MM)."""
    return period(int(key[:4]), int(key[5:]), cutoff_day)


def months_between(a: str, b: str) -> int:
    """How many months period `b` comes after period `a` (keys YYYY-MM; negative when before)."""
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:]) - int(a[5:])


@lru_cache(maxsize=4096)
def period_of(day: date, cutoff_day: int | None) -> Period:
    """The period whose cutoff ends it: with cutoff 25, 2026-10-26 … 2026-11-25 is 2026-11."""
    if cutoff_day is not None and day.day > cutoff_day:
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return period(year, month, cutoff_day)
    return period(day.year, day.month, cutoff_day)


def following(p: Period, cutoff_day: int | None) -> Period:
    return period_of(p.end + timedelta(days=1), cutoff_day)


def span(first: Period, last: Period, cutoff_day: int | None) -> list[Period]:
    """Every period from `first` to `last`, gaps included."""
    out = [first]
    while out[-1] < last:
        out.append(following(out[-1], cutoff_day))
    return out
