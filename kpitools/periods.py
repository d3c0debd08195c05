"""Reporting periods: a month, a quarter or a year, and the periods around it.

A :class:`Period` is half-open, ``[start, end)``, so that ``ts >= start and ts < end`` selects it
in the database without any end-of-day arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from .errors import PeriodError

GRAINS = ("month", "quarter", "year")
MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
#: how many periods back "the same period a year before" lies
YEAR_LAG = {"month": 12, "quarter": 4, "year": 1}
TREND_LENGTH = 12


def end_of_today() -> datetime:
    """The last instant of today (local time): rows dated after it are "in the future".

    One value for the whole day, so the queries that compare dates with "today" are the same
    SQL for every brand a worker runs that day (compiled once: :mod:`kpitools.data.compiled`)."""
    return datetime.combine(date.today(), time.max)


def add_months(d: date, months: int) -> date:
    """The first day of the month ``months`` after (before, if negative) ``d``'s month."""
    idx = d.year * 12 + (d.month - 1) + months
    return date(idx // 12, idx % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period.

    Parameters
    ----------
    grain : {"month", "quarter", "year"}
    start : datetime.date
        First day of the period (the first day of a month, quarter or year).
    """

    grain: str
    start: date

    def __post_init__(self):
        if self.grain not in GRAINS:
            raise PeriodError(
                f"period grain must be one of {', '.join(GRAINS)}, not {self.grain!r}"
            )

    @property
    def end(self) -> date:
        """First day after the period (exclusive bound)."""
        return add_months(self.start, MONTHS_PER[self.grain])

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        """``2025-12``, ``2025-Q4`` or ``2025``: also the folder name of its reports."""
        if self.grain == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    def shift(self, n: int) -> Period:
        """The period ``n`` periods later (``n < 0``: earlier)."""
        return Period(self.grain, add_months(self.start, n * MONTHS_PER[self.grain]))

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    @property
    def year_ago(self) -> Period:
        return self.shift(-YEAR_LAG[self.grain])

    def trailing(self, n: int = TREND_LENGTH) -> list[Period]:
        """The ``n`` periods ending with this one, oldest first."""
        return [self.shift(-k) for k in range(n - 1, -1, -1)]

    def start_ts(self) -> datetime:
        return datetime(self.start.year, self.start.month, 1)

    def end_ts(self) -> datetime:
        e = self.end
        return datetime(e.year, e.month, 1)

    def __str__(self) -> str:
        return self.label


_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
]


def parse_period(text: str, grain: str | None = None) -> Period:
    """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.

    Parameters
    ----------
    text : str
        The period as written by a user.
    grain : str, optional
        The report's grain. A period of another grain is refused, never converted: a month
        (``2025-11``) for a quarterly report is an error that names the period to write
        (``2025-Q4``), since the report of a quarter is not the report of one of its months.

    Raises
    ------
    PeriodError
        When the text is not a period, or is not of ``grain`` (the message says which periods
        of ``grain`` are valid, and the one holding the period given).
    """
    s = str(text).strip()
    for pattern, g in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        year = int(m.group(1))
        if g == "month":
            month = int(m.group(2))
            if not 1 <= month <= 12:
                break
        elif g == "quarter":
            month = (int(m.group(2)) - 1) * 3 + 1
        else:
            month = 1
        if grain is not None and grain != g:
            raise PeriodError(_wrong_grain(s, g, grain, date(year, month, 1)))
        return Period(g, date(year, month, 1))
    raise PeriodError(f"period {s!r} is not a period: write YYYY-MM, YYYY-Qn or YYYY")


#: how a period of each grain is written, for messages
GRAIN_FORMATS = {"month": "YYYY-MM", "quarter": "YYYY-Qn", "year": "YYYY"}


def _wrong_grain(text: str, given: str, grain: str, start: date) -> str:
    """Why ``text`` (a ``given``-grain period starting on ``start``) is not a ``grain`` period,
    and which periods are: ``period '2025-11' is a month, but the report is by quarter: write
    a quarter as YYYY-Qn (2025-Q1 … 2025-Q4); the quarter holding 2025-11 is 2025-Q4``."""
    if grain not in GRAINS:
        raise PeriodError(f"period grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    year = start.year
    if grain == "month":
        valid = f"{year}-01 … {year}-12"
    elif grain == "quarter":
        valid = f"{year}-Q1 … {year}-Q4"
    else:
        valid = f"e.g. {year}"
    msg = (
        f"period {text!r} is a {given}, but the report is by {grain} (period.grain): "
        f"write a {grain} as {GRAIN_FORMATS[grain]} ({valid})"
    )
    if MONTHS_PER[grain] > MONTHS_PER[given]:
        msg += f"; the {grain} holding {text} is {period_containing(start, grain).label}"
    else:
        msg += f"; {text} holds {MONTHS_PER[given] // MONTHS_PER[grain]} {grain}s"
    return msg


def period_containing(ts: date | datetime, grain: str) -> Period:
    """The period of ``grain`` that contains ``ts``."""
    month = ts.month
    if grain == "quarter":
        month = (month - 1) // 3 * 3 + 1
    elif grain == "year":
        month = 1
    return Period(grain, date(ts.year, month, 1))


def last_complete_period(last_data: date | datetime, grain: str) -> Period:
    """The latest period that ends on or before the day after ``last_data``.

    Data that end on 31 December give December (month), Q4 (quarter) or that year (year);
    data that end on 15 December give November, Q3 or the year before.
    """
    day = last_data.date() if isinstance(last_data, datetime) else last_data
    p = period_containing(day, grain)
    if (p.end - day).days <= 1:
        return p
    return p.previous
