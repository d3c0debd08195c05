"""RFM summary conventions, pandas and Ibis (DuckDB in memory).

Hand-worked example (``observation_end = 2024-03-01``):

======== ========================================= ==========================================
customer transactions                              summary (days; weeks = days / 7)
======== ========================================= ==========================================
A        01-01 09:00 10; 01-08 10:00 5;             purchase days 01-01 (10), 01-08 (20),
         01-08 18:30 15; 01-15 30; 03-05 99         01-15 (30); 03-05 is after the end.
                                                   frequency 2, recency 14 d = 2 w,
                                                   T 60 d = 8.5714 w, monetary (20+30)/2 = 25
B        02-20 7                                   frequency 0, recency 0, T 10 d, monetary 0
C        02-01 08:00 3; 02-01 20:00 4              one purchase day (merged): frequency 0,
                                                   T 29 d, monetary 0
D        03-05 50                                  first purchase after the end: absent
E        01-10 12; 03-01 23:59 8                   the end day is included: frequency 1,
                                                   recency = T = 51 d, monetary 8
======== ========================================= ==========================================

Calibration / holdout split at ``calibration_end = 2024-01-10`` (days):
A: calibration days 01-01, 01-08 -> frequency 1, recency 7, T 9, monetary 20; holdout day 01-15
(30) -> frequency_holdout 1, monetary_value_holdout 30. E: calibration day 01-10 -> frequency 0,
T 0; holdout 03-01 -> 1 (8). B, C: born after the calibration end -> absent.
duration_holdout = 03-01 - 01-10 = 51 days.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpitools.clv import (
    TIME_UNIT_DAYS,
    ClvInputError,
    calibration_holdout_split,
    rfm_summary,
    rfm_summary_expr,
)
from kpitools.errors import KpitoolsError

END = "2024-03-01"


@pytest.fixture
def tiny() -> pd.DataFrame:
    rows = [
        ("A", "2024-01-01 09:00", 10.0),
        ("A", "2024-01-08 10:00", 5.0),
        ("A", "2024-01-08 18:30", 15.0),
        ("A", "2024-01-15 00:00", 30.0),
        ("A", "2024-03-05 00:00", 99.0),
        ("B", "2024-02-20 00:00", 7.0),
        ("C", "2024-02-01 08:00", 3.0),
        ("C", "2024-02-01 20:00", 4.0),
        ("D", "2024-03-05 00:00", 50.0),
        ("E", "2024-01-10 00:00", 12.0),
        ("E", "2024-03-01 23:59", 8.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "revenue"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def _expected_days() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [2, 0, 0, 1],
            "recency": [14.0, 0.0, 0.0, 51.0],
            "T": [60.0, 10.0, 29.0, 51.0],
            "monetary_value": [25.0, 0.0, 0.0, 8.0],
        },
        index=pd.Index(["A", "B", "C", "E"], name="customer_id"),
    )


def test_summary_in_days_matches_hand_computation(tiny):
    got = rfm_summary(tiny, observation_end=END, time_unit="D")
    expected = _expected_days()
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)
    assert got.attrs["time_unit"] == "D"
    assert got["frequency"].dtype == np.int64


def test_summary_in_weeks_and_months(tiny):
    weeks = rfm_summary(tiny, observation_end=END, time_unit="W")
    assert weeks.loc["A", "recency"] == 2.0
    assert weeks.loc["A", "T"] == pytest.approx(60 / 7)
    assert weeks.loc["B", "T"] == pytest.approx(10 / 7)
    assert weeks.loc["A", "monetary_value"] == 25.0
    months = rfm_summary(tiny, observation_end=END, time_unit="M")
    assert TIME_UNIT_DAYS["M"] == 30.4375
    assert months.loc["A", "T"] == pytest.approx(60 / 30.4375)
    # same frequencies and monetary values whatever the unit
    pd.testing.assert_series_equal(weeks["frequency"], months["frequency"])
    pd.testing.assert_series_equal(weeks["monetary_value"], months["monetary_value"])


def test_observation_end_time_of_day_is_ignored(tiny):
    a = rfm_summary(tiny, observation_end="2024-03-01 00:00", time_unit="D")
    b = rfm_summary(tiny, observation_end=pd.Timestamp("2024-03-01 18:00"), time_unit="D")
    c = rfm_summary(tiny, observation_end=dt.date(2024, 3, 1), time_unit="D")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert "E" in a.index and a.loc["E", "frequency"] == 1


def test_customer_born_on_observation_end_has_zero_T(tiny):
    got = rfm_summary(tiny, observation_end="2024-03-05", time_unit="D")
    assert got.loc["D", "T"] == 0.0 and got.loc["D", "frequency"] == 0
    assert got.loc["A", "frequency"] == 3  # 03-05 is now inside the window
    assert got.loc["A", "monetary_value"] == pytest.approx((20 + 30 + 99) / 3)


def test_missing_rows_and_columns(tiny):
    with_nulls = pd.concat(
        [
            tiny,
            pd.DataFrame(
                {
                    "customer_id": [None, "B"],
                    "ordered_at": [pd.Timestamp("2024-01-01"), pd.NaT],
                    "revenue": [1.0, 2.0],
                }
            ),
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(
        rfm_summary(with_nulls, observation_end=END, time_unit="D"),
        rfm_summary(tiny, observation_end=END, time_unit="D"),
    )
    with pytest.raises(ClvInputError, match="amount column 'amount'"):
        rfm_summary(tiny, amount="amount", observation_end=END)
    with pytest.raises(KpitoolsError, match="time_unit"):
        rfm_summary(tiny, observation_end=END, time_unit="Y")


def test_calibration_holdout_split_by_hand(tiny):
    got = calibration_holdout_split(
        tiny, calibration_end="2024-01-10", observation_end=END, time_unit="D"
    )
    expected = pd.DataFrame(
        {
            "frequency": [1, 0],
            "recency": [7.0, 0.0],
            "T": [9.0, 0.0],
            "monetary_value": [20.0, 0.0],
            "frequency_holdout": [1, 1],
            "monetary_value_holdout": [30.0, 8.0],
            "duration_holdout": [51.0, 51.0],
        },
        index=pd.Index(["A", "E"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)
    weeks = calibration_holdout_split(tiny, calibration_end="2024-01-10", observation_end=END)
    assert weeks["duration_holdout"].iloc[0] == pytest.approx(51 / 7)
    with pytest.raises(ClvInputError, match="after calibration_end"):
        calibration_holdout_split(tiny, calibration_end=END, observation_end="2024-01-10")


# ----------------------------------------------------------------------------------------
# Ibis / DuckDB
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    ibis = pytest.importorskip("ibis")
    return ibis.duckdb.connect()


def _execute(con, frame, name, **kwargs):
    table = con.create_table(name, frame, overwrite=True)
    expr = rfm_summary_expr(table, **kwargs)
    out = con.execute(expr).set_index(kwargs.get("customer_id", "customer_id"))
    return out


@pytest.mark.parametrize("unit", ["D", "W", "M"])
def test_ibis_equals_pandas_on_tiny_table(con, tiny, unit):
    got = _execute(con, tiny, "tiny_orders", observation_end=END, time_unit=unit)
    expected = rfm_summary(tiny, observation_end=END, time_unit=unit)
    # exact equality: amounts are exact in binary floating point
    pd.testing.assert_frame_equal(got, expected, check_index_type=False, check_exact=True)


def test_ibis_equals_pandas_on_random_log_and_date_column(con):
    rng = np.random.default_rng(7)
    n = 5000
    start = np.datetime64("2023-01-01T00:00")
    frame = pd.DataFrame(
        {
            "cust": rng.integers(0, 800, n),
            "when": start + rng.integers(0, 500 * 24 * 60, n).astype("timedelta64[m]"),
            "amount": np.round(rng.gamma(2.0, 30.0, n), 2),
        }
    )
    kwargs = dict(customer_id="cust", date="when", amount="amount", observation_end="2024-03-31")
    for unit in ("D", "W", "M"):
        got = _execute(con, frame, "random_orders", time_unit=unit, **kwargs)
        expected = rfm_summary(frame, time_unit=unit, **kwargs)
        assert got.index.tolist() == expected.index.tolist()
        np.testing.assert_array_equal(got["frequency"], expected["frequency"])
        np.testing.assert_array_equal(got["recency"], expected["recency"])
        np.testing.assert_array_equal(got["T"], expected["T"])
        # the database may sum in another order: equal to rounding
        np.testing.assert_allclose(got["monetary_value"], expected["monetary_value"], rtol=1e-12)
    # a DATE column (not a timestamp) gives the same result
    as_date = frame.assign(when=frame["when"].dt.date)
    got = _execute(con, as_date, "random_orders_date", time_unit="W", **kwargs)
    expected = rfm_summary(frame, time_unit="W", **kwargs)
    np.testing.assert_array_equal(got["T"], expected["T"])
    np.testing.assert_array_equal(got["frequency"], expected["frequency"])


def test_ibis_expression_is_lazy_sql(con, tiny):
    ibis = pytest.importorskip("ibis")
    table = con.create_table("tiny_sql", tiny, overwrite=True)
    sql = ibis.to_sql(rfm_summary_expr(table, observation_end=END), dialect="duckdb")
    assert "GROUP BY" in sql.upper()
    with pytest.raises(ClvInputError, match="lacks column"):
        rfm_summary_expr(table, amount="nope", observation_end=END)
