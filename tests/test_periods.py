"""Tests of kpitools.periods: parsing, arithmetic across year boundaries, latest complete period."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from kpitools.errors import KpitoolsError, PeriodError
from kpitools.periods import Period, last_complete_period, parse_period, period_containing

# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grain", "start", "label"),
    [
        ("2025-12", "month", date(2025, 12, 1), "2025-12"),
        ("2025-1", "month", date(2025, 1, 1), "2025-01"),
        ("2025-Q4", "quarter", date(2025, 10, 1), "2025-Q4"),
        ("2025Q1", "quarter", date(2025, 1, 1), "2025-Q1"),
        ("2025-q2", "quarter", date(2025, 4, 1), "2025-Q2"),
        ("2025", "year", date(2025, 1, 1), "2025"),
        ("  2025-03 ", "month", date(2025, 3, 1), "2025-03"),
    ],
)
def test_parse_each_grain(text, grain, start, label):
    p = parse_period(text)
    assert p == Period(grain, start)
    assert p.label == label == str(p)


@pytest.mark.parametrize(
    ("text", "grain", "expected"),
    [
        ("2025-Q3", "quarter", Period("quarter", date(2025, 7, 1))),
        ("2025q3", "quarter", Period("quarter", date(2025, 7, 1))),
        ("2025-07", "month", Period("month", date(2025, 7, 1))),
        ("2025", "year", Period("year", date(2025, 1, 1))),
    ],
)
def test_period_of_the_report_grain_is_parsed(text, grain, expected):
    assert parse_period(text, grain) == expected


@pytest.mark.parametrize(
    ("text", "grain", "valid", "holding"),
    [
        ("2025-11", "quarter", "2025-Q1 … 2025-Q4", "the quarter holding 2025-11 is 2025-Q4"),
        ("2025-01", "quarter", "2025-Q1 … 2025-Q4", "the quarter holding 2025-01 is 2025-Q1"),
        ("2025-06", "quarter", "2025-Q1 … 2025-Q4", "the quarter holding 2025-06 is 2025-Q2"),
        ("2025-11", "year", "e.g. 2025", "the year holding 2025-11 is 2025"),
        ("2025-Q3", "year", "e.g. 2025", "the year holding 2025-Q3 is 2025"),
    ],
)
def test_finer_period_is_refused_naming_the_valid_ones(text, grain, valid, holding):
    """A month for a quarterly brand is never silently turned into its quarter: the message
    says how the brand's periods are written and which one holds the period given."""
    with pytest.raises(PeriodError) as exc:
        parse_period(text, grain)
    msg = str(exc.value)
    assert msg.startswith(f"period {text!r} is a ")
    assert f"but the report is by {grain} (period.grain)" in msg
    assert f"({valid})" in msg
    assert msg.endswith(holding)


@pytest.mark.parametrize(
    ("text", "grain"),
    [("2025-Q4", "month"), ("2025", "month"), ("2025", "quarter")],
)
def test_coarser_period_than_grain_is_an_error(text, grain):
    with pytest.raises(PeriodError, match=f"report is by {grain}"):
        parse_period(text, grain)


@pytest.mark.parametrize(
    "text", ["2025-13", "2025-00", "2025-Q5", "2025-Q0", "Dec 2025", "25-12", "", "2025-12-01"]
)
def test_bad_text_raises_period_error(text):
    with pytest.raises(PeriodError, match="YYYY-MM, YYYY-Qn or YYYY") as exc:
        parse_period(text)
    assert isinstance(exc.value, KpitoolsError)


def test_unknown_grain_rejected():
    with pytest.raises(PeriodError, match="'week'"):
        Period("week", date(2025, 1, 1))


# --------------------------------------------------------------------------------------
# Bounds
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end", "days"),
    [
        ("2025-12", date(2026, 1, 1), 31),
        ("2024-02", date(2024, 3, 1), 29),
        ("2025-02", date(2025, 3, 1), 28),
        ("2025-04", date(2025, 5, 1), 30),
        ("2025-Q4", date(2026, 1, 1), 92),
        ("2025-Q1", date(2025, 4, 1), 90),
        ("2024-Q1", date(2024, 4, 1), 91),
        ("2024", date(2025, 1, 1), 366),
        ("2025", date(2026, 1, 1), 365),
    ],
)
def test_end_is_exclusive_and_days(text, end, days):
    p = parse_period(text)
    assert p.end == end
    assert p.days == days


def test_timestamps_are_half_open_bounds():
    p = parse_period("2025-12")
    assert p.start_ts() == datetime(2025, 12, 1)
    assert p.end_ts() == datetime(2026, 1, 1)


# --------------------------------------------------------------------------------------
# Neighbours
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("2025-12", 1, "2026-01"),
        ("2025-01", -1, "2024-12"),
        ("2025-01", -13, "2023-12"),
        ("2025-06", 0, "2025-06"),
        ("2025-Q4", 1, "2026-Q1"),
        ("2025-Q1", -1, "2024-Q4"),
        ("2025-Q1", -5, "2023-Q4"),
        ("2025", -1, "2024"),
        ("2025", 2, "2027"),
    ],
)
def test_shift(text, n, expected):
    assert parse_period(text).shift(n).label == expected


@pytest.mark.parametrize(
    ("text", "previous", "year_ago"),
    [
        ("2025-01", "2024-12", "2024-01"),
        ("2025-12", "2025-11", "2024-12"),
        ("2025-Q1", "2024-Q4", "2024-Q1"),
        ("2025-Q3", "2025-Q2", "2024-Q3"),
        ("2025", "2024", "2024"),
    ],
)
def test_previous_and_year_ago(text, previous, year_ago):
    p = parse_period(text)
    assert p.previous.label == previous
    assert p.year_ago.label == year_ago
    assert p.previous.grain == p.year_ago.grain == p.grain


def test_trailing_crosses_year_oldest_first():
    p = parse_period("2025-02")
    assert [x.label for x in p.trailing(4)] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert [x.label for x in p.trailing(1)] == ["2025-02"]
    twelve = p.trailing()
    assert len(twelve) == 12
    assert twelve[0].label == "2024-03" and twelve[-1] == p
    assert twelve == sorted(twelve)


def test_trailing_quarters():
    q = parse_period("2025-Q1")
    assert [x.label for x in q.trailing(5)] == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
        "2024-Q4",
        "2025-Q1",
    ]


# --------------------------------------------------------------------------------------
# Latest complete period
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "grain", "expected"),
    [
        ("2025-12-31", "month", "2025-12"),
        ("2025-12-31", "quarter", "2025-Q4"),
        ("2025-12-31", "year", "2025"),
        ("2025-12-15", "month", "2025-11"),
        ("2025-12-15", "quarter", "2025-Q3"),
        ("2025-12-15", "year", "2024"),
        ("2025-11-30", "month", "2025-11"),
        ("2025-11-30", "quarter", "2025-Q3"),
        ("2025-11-30", "year", "2024"),
        ("2025-09-30", "quarter", "2025-Q3"),
        ("2025-12-30", "month", "2025-11"),
        ("2024-02-29", "month", "2024-02"),
        ("2025-01-01", "month", "2024-12"),
    ],
)
def test_last_complete_period(day, grain, expected):
    d = date.fromisoformat(day)
    assert last_complete_period(d, grain) == parse_period(expected)


def test_last_complete_period_accepts_datetimes():
    assert last_complete_period(datetime(2025, 12, 31, 23, 59), "month").label == "2025-12"
    assert last_complete_period(pd.Timestamp("2025-12-31 08:00"), "quarter").label == "2025-Q4"
    assert last_complete_period(datetime(2025, 12, 15, 12), "year").label == "2024"


@pytest.mark.parametrize(
    ("grain", "expected"), [("month", "2025-11"), ("quarter", "2025-Q4"), ("year", "2025")]
)
def test_period_containing(grain, expected):
    assert period_containing(date(2025, 11, 17), grain).label == expected
