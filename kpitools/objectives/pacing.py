"""Pacing: where a KPI should stand at the end of a report period, and when it is reviewed.

The target is reached in a straight line from the baseline date to the deadline; a report
period is a review point when its last month is a review month of the objective's cadence or
when it holds the deadline.
"""

from __future__ import annotations

import datetime as dt

from ..periods import Period

#: months whose end is a review point, per cadence
REVIEW_MONTHS: dict[str, tuple[int, ...]] = {
    "monthly": tuple(range(1, 13)),
    "quarterly": (3, 6, 9, 12),
    "yearly": (12,),
}


def pacing_fraction(period_end: dt.date, start: dt.date, deadline: dt.date) -> float:
    """Share of the way from ``start`` to ``deadline`` at ``period_end``, clamped to [0, 1].

    ``period_end`` is the first day after the report period (:attr:`Period.end`).
    """
    if period_end <= start:
        return 0.0
    if period_end >= deadline:
        return 1.0
    return (period_end - start).days / (deadline - start).days


def paced_value(baseline: float, target: float, fraction: float) -> float:
    """``baseline + (target - baseline) * fraction``, in the KPI's scale."""
    return baseline + (target - baseline) * fraction


def _last_day(period: Period) -> dt.date:
    return period.end - dt.timedelta(days=1)


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def is_review_point(period: Period, review: str, deadline: dt.date | None = None) -> bool:
    """Whether ``period`` ends on a review boundary of ``review`` or holds ``deadline``."""
    if deadline is not None and period.start <= deadline < period.end:
        return True
    return _last_day(period).month in REVIEW_MONTHS[review]


def next_review(period: Period, review: str, deadline: dt.date | None = None) -> dt.date:
    """Last day of the next review month after ``period`` (or the deadline, if sooner)."""
    last = _last_day(period)
    year, month = last.year, last.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if month in REVIEW_MONTHS[review]:
            break
    nxt = _month_end(year, month)
    if deadline is not None and last < deadline < nxt:
        return deadline
    return nxt


__all__ = ["REVIEW_MONTHS", "is_review_point", "next_review", "paced_value", "pacing_fraction"]
