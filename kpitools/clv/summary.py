"""Recency-frequency-monetary (RFM) summaries of a transaction log.

The summaries follow the conventions of Fader, Hardie & Lee (2005), the ones used by the
BG/NBD and Gamma-Gamma models and by ``lifetimes.utils.summary_data_from_transaction_data``
called with ``freq="D"`` and ``freq_multiplier`` = days per time unit:

* **Purchase days, not orders.** Transactions of one customer on the same calendar day are
  merged into one purchase whose amount is the sum of the day's amounts.
* ``frequency``: number of *repeat* purchase days, i.e. distinct purchase days minus one
  (the first purchase day is the customer's "birth" and is not counted).
* ``recency``: time from the first to the last purchase day, in ``time_unit``
  (0 for a customer with ``frequency == 0``).
* ``T``: time from the first purchase day to ``observation_end``, in ``time_unit``.
* ``monetary_value``: mean amount of the repeat purchase days (the first day excluded),
  in currency units; 0 for a customer with ``frequency == 0``.

Dates are reduced to calendar days before anything else: a timestamp's time of day is
dropped (a time-zone-aware timestamp gives its local date in its own time zone) and
``observation_end`` is reduced to its day too. Transactions on a day later than
``observation_end`` are ignored; transactions *on* ``observation_end`` are kept. Customers
whose first purchase is after ``observation_end`` do not appear. Rows with a missing
customer id or date are ignored; a missing amount counts as 0.

Time units
----------
``"D"``
    one day.
``"W"``
    one week = 7 days.
``"M"``
    one average Gregorian month = 365.25 / 12 = 30.4375 days, so that 12 months are one
    (average) year. This is a fixed length, not a calendar month: pandas periods (what
    ``lifetimes`` uses with ``freq="M"``) would make a 31-day and a 28-day month both "1", and
    would merge all purchases of a calendar month into one. Times are fractional, e.g.
    61 days = 2.004... months.

Times are therefore ``whole days / days per unit`` and are fractional for ``"W"`` and
``"M"`` (10 days = 1.428571... weeks).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import ibis
import numpy as np
import pandas as pd

from kpitools.errors import KpitoolsError

#: A day: a date, a datetime or timestamp (reduced to its calendar day) or its ISO text,
#: e.g. ``"2024-03-31"`` (anything :class:`pandas.Timestamp` reads).
DateLike = _dt.date | str | np.datetime64

__all__ = [
    "TIME_UNIT_DAYS",
    "ClvInputError",
    "DateLike",
    "calibration_holdout_expr",
    "calibration_holdout_split",
    "rfm_arrays",
    "rfm_summary",
    "rfm_summary_expr",
    "summary_column",
    "unit_days",
]

#: Length of each supported time unit, in days.
TIME_UNIT_DAYS: Mapping[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


class ClvInputError(KpitoolsError, ValueError):
    """An argument or input table given to a CLV function is invalid.

    Derives from both :class:`kpitools.errors.KpitoolsError` (the project's exception root)
    and :class:`ValueError`.
    """


def unit_days(time_unit: str) -> float:
    """Return the length of ``time_unit`` in days.

    Parameters
    ----------
    time_unit : {"D", "W", "M"}
        Day, week (7 days) or average month (30.4375 days).

    Returns
    -------
    float
        Days per unit.
    """
    try:
        return float(TIME_UNIT_DAYS[time_unit])
    except (KeyError, TypeError):
        raise ClvInputError(
            f"time_unit must be one of {sorted(TIME_UNIT_DAYS)}, got {time_unit!r}"
        ) from None


def summary_column(summary: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` of an RFM summary as finite float64 values.

    Raises
    ------
    ClvInputError
        When the column is absent or has missing or non-finite values.
    """
    if name not in summary.columns:
        raise ClvInputError(
            f"summary lacks column '{name}'; it has {list(summary.columns)} "
            "(build it with kpitools.clv.rfm_summary)"
        )
    values = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ClvInputError(
            f"summary column '{name}' has {int(bad.sum())} missing or non-finite value(s)"
        )
    return values


def rfm_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``frequency``, ``recency``, ``T`` arrays of an RFM summary frame.

    Raises
    ------
    ClvInputError
        A column is absent or not finite, a frequency is negative or fractional, a recency is
        negative or beyond ``T``, or a customer without repeat purchase has a recency.
    """
    x = summary_column(summary, "frequency")
    tx = summary_column(summary, "recency")
    t_obs = summary_column(summary, "T")
    problems = []
    if (x < 0).any() or (x != np.round(x)).any():
        problems.append("frequency must be a non-negative whole number")
    if (tx < 0).any():
        problems.append("recency must be >= 0")
    if (tx > t_obs * (1 + 1e-12)).any():
        problems.append(f"recency > T for {int((tx > t_obs * (1 + 1e-12)).sum())} customer(s)")
    if ((x == 0) & (tx != 0)).any():
        problems.append("recency must be 0 where frequency is 0")
    if problems:
        raise ClvInputError("invalid RFM summary: " + "; ".join(problems))
    return x, tx, t_obs


def _day(value: DateLike, name: str) -> pd.Timestamp:
    """Reduce a date-like scalar to a naive midnight timestamp (its local calendar day)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ClvInputError(f"{name}: cannot read {value!r} as a date ({exc})") from None
    if pd.isna(ts):
        raise ClvInputError(f"{name} is missing")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _check_columns(df: pd.DataFrame, columns: dict[str, str]) -> None:
    missing = [f"{role} column '{col}'" for role, col in columns.items() if col not in df.columns]
    if missing:
        raise ClvInputError(
            "transactions table lacks " + ", ".join(missing) + f"; it has {list(df.columns)}"
        )


def _daily(
    transactions: pd.DataFrame,
    *,
    customer_id: str,
    date: str,
    amount: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """One row per customer and purchase day with ``start < day <= end``.

    Returns columns ``customer_id``, ``day`` (naive midnight) and ``amount`` (day total).
    """
    _check_columns(transactions, {"customer id": customer_id, "date": date, "amount": amount})
    days = pd.to_datetime(transactions[date])
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_localize(None)
    days = days.dt.normalize()
    amounts = pd.to_numeric(transactions[amount]).astype("float64")
    frame = pd.DataFrame(
        {
            "customer": transactions[customer_id].to_numpy(),
            "day": days.to_numpy(),
            "amount": amounts.to_numpy(),
        }
    )
    frame = frame[frame["customer"].notna() & frame["day"].notna()]
    keep = frame["day"] <= end
    if start is not None:
        keep &= frame["day"] > start
    frame = frame[keep]
    daily = frame.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    return daily


def _summarise_daily(daily: pd.DataFrame, end: pd.Timestamp, per_unit: float) -> pd.DataFrame:
    """RFM columns from a per-customer, per-day table (see module docstring)."""
    grouped = daily.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped.size()
    is_first = daily["day"].to_numpy() == first.reindex(daily["customer"]).to_numpy()
    repeat_total = (
        daily.loc[~is_first].groupby("customer", sort=True)["amount"].sum().reindex(first.index)
    )
    frequency = (n_days - 1).astype("int64")
    recency_days = (last - first).dt.days.astype("int64")
    t_days = (end - first).dt.days.astype("int64")
    freq_values = frequency.to_numpy()
    monetary = np.zeros(len(first), dtype="float64")
    repeaters = freq_values > 0
    monetary[repeaters] = repeat_total.to_numpy()[repeaters] / freq_values[repeaters]
    out = pd.DataFrame(
        {
            "frequency": freq_values,
            "recency": recency_days.to_numpy() / per_unit,
            "T": t_days.to_numpy() / per_unit,
            "monetary_value": monetary,
        },
        index=first.index,
    )
    return out


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_id: str = "customer_id",
    date: str = "ordered_at",
    amount: str = "revenue",
    observation_end: DateLike,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Summarise a transaction log into one RFM row per customer (pandas).

    Conventions (purchase days, first day excluded; see the module docstring):

    Worked example, ``observation_end = 2024-03-01``. Customer ``A`` buys 10 on
    2024-01-01 09:00, 5 and 15 on 2024-01-08, 30 on 2024-01-15 and 99 on 2024-03-05:

    * 2024-03-05 is after ``observation_end``: ignored.
    * purchase days: 01-01 (10), 01-08 (5 + 15 = 20), 01-15 (30); ``frequency = 2``.
    * ``recency`` = 01-15 - 01-01 = 14 days = 2 weeks; ``T`` = 03-01 - 01-01 = 60 days
      = 8.571428... weeks.
    * ``monetary_value`` = (20 + 30) / 2 = 25 (the first day's 10 is excluded).

    A customer with a single purchase day has ``frequency = recency = monetary_value = 0``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction (order).
    customer_id, date, amount : str
        Column names of the customer key, the transaction date or timestamp, and the
        transaction amount (currency units).
    observation_end : date-like
        Last day of the observation window (inclusive), e.g. ``"2024-03-31"``.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of ``recency`` and ``T``: day, week (7 days), month (30.4375 days).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (named after ``customer_id``, sorted), with ``frequency``
        (int, repeat purchase days), ``recency`` and ``T`` (float, ``time_unit``) and
        ``monetary_value`` (float, currency units per repeat purchase day).
        ``attrs`` holds ``time_unit`` and ``observation_end``.

    See Also
    --------
    rfm_summary_expr : the same summary computed inside the database.
    """
    per_unit = unit_days(time_unit)
    end = _day(observation_end, "observation_end")
    daily = _daily(
        transactions, customer_id=customer_id, date=date, amount=amount, start=None, end=end
    )
    out = _summarise_daily(daily, end, per_unit)
    out.index.name = customer_id
    out.attrs.update({"time_unit": time_unit, "observation_end": end})
    return out


def calibration_holdout_split(
    transactions: pd.DataFrame,
    *,
    customer_id: str = "customer_id",
    date: str = "ordered_at",
    amount: str = "revenue",
    calibration_end: DateLike,
    observation_end: DateLike,
    time_unit: str = "W",
) -> pd.DataFrame:
    """RFM summary of a calibration window plus the customers' purchases in a holdout window.

    The calibration window is everything up to ``calibration_end`` (inclusive); the holdout
    window is the days strictly after ``calibration_end`` up to ``observation_end``
    (inclusive). Only customers whose first purchase falls in the calibration window appear.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id, date, amount : str
        Column names (see :func:`rfm_summary`).
    calibration_end : date-like
        Last day of the calibration window (inclusive).
    observation_end : date-like
        Last day of the holdout window (inclusive); must be after ``calibration_end``.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, with the calibration summary under the usual names
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (``T`` measured to
        ``calibration_end``; unlike ``lifetimes`` there is no ``_cal`` suffix, so the frame can
        be passed to the models directly) and

        ``frequency_holdout``
            number of distinct purchase days in the holdout window (int; these are all
            repeat purchases since the customer was born in the calibration window);
        ``monetary_value_holdout``
            mean amount of those days (0 if none), currency units;
        ``duration_holdout``
            length of the holdout window in ``time_unit`` (same for every customer).
    """
    per_unit = unit_days(time_unit)
    cal_end = _day(calibration_end, "calibration_end")
    obs_end = _day(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ClvInputError(
            f"observation_end ({obs_end.date()}) must be after calibration_end ({cal_end.date()})"
        )
    cols = {"customer_id": customer_id, "date": date, "amount": amount}
    cal_daily = _daily(transactions, **cols, start=None, end=cal_end)
    out = _summarise_daily(cal_daily, cal_end, per_unit)
    hold_daily = _daily(transactions, **cols, start=cal_end, end=obs_end)
    hold = hold_daily.groupby("customer", sort=True)["amount"].agg(["size", "sum"])
    hold = hold.reindex(out.index)
    n_hold = hold["size"].fillna(0).to_numpy().astype("int64")
    total_hold = hold["sum"].fillna(0.0).to_numpy()
    mean_hold = np.zeros(len(out), dtype="float64")
    has = n_hold > 0
    mean_hold[has] = total_hold[has] / n_hold[has]
    out["frequency_holdout"] = n_hold
    out["monetary_value_holdout"] = mean_hold
    out["duration_holdout"] = float((obs_end - cal_end).days) / per_unit
    out.index.name = customer_id
    out.attrs.update({"time_unit": time_unit, "observation_end": cal_end, "holdout_end": obs_end})
    return out


def rfm_summary_expr(
    table: ibis.Table,
    *,
    customer_id: str = "customer_id",
    date: str = "ordered_at",
    amount: str = "revenue",
    observation_end: DateLike,
    time_unit: str = "W",
) -> ibis.Table:
    """The RFM summary of :func:`rfm_summary` as an Ibis expression (computed by the database).

    The expression groups by customer and calendar day first (merging same-day
    transactions), then by customer. Executing it gives the same numbers as
    :func:`rfm_summary` on the same rows: ``frequency``, ``recency`` and ``T`` exactly, and
    ``monetary_value`` up to the order of floating-point summation (the database may add
    a customer's amounts in another order; the relative difference is of the order of
    1e-15, and zero when the sums are exact in binary floating point).

    Parameters
    ----------
    table : ibis.expr.types.Table
        Transactions table (e.g. the canonical ``orders`` table).
    customer_id, date, amount : str
        Column names; default to the canonical ``orders`` columns. ``date`` may be a
        timestamp, a date or an ISO-formatted string column. A time-zone-aware timestamp is
        reduced to a date by the backend (DuckDB uses the session time zone).
    observation_end : date-like
        Last day of the observation window (inclusive).
    time_unit : {"D", "W", "M"}, default "W"
        Unit of ``recency`` and ``T``.

    Returns
    -------
    ibis.expr.types.Table
        Columns ``customer_id`` (named after the argument), ``frequency`` (int64),
        ``recency``, ``T``, ``monetary_value`` (float64), ordered by customer id.
        ``expr.execute().set_index(customer_id)`` matches :func:`rfm_summary`.
    """
    per_unit = unit_days(time_unit)
    end = _day(observation_end, "observation_end").date()
    end_lit = ibis.literal(_dt.date(end.year, end.month, end.day), type="date")
    daily = _daily_expr(table, customer_id=customer_id, date=date, amount=amount, end=end_lit)
    daily = daily.mutate(_first=daily._day.min().over(ibis.window(group_by="_cid")))
    per_customer = daily.group_by("_cid").aggregate(
        _n=daily.count(),
        _first_day=daily._day.min(),
        _last_day=daily._day.max(),
        _repeat_total=daily._amount.sum(where=daily._day != daily._first),
    )
    frequency = (per_customer._n - 1).cast("int64")
    recency = per_customer._last_day.delta(per_customer._first_day, unit="day").cast("float64")
    t_obs = end_lit.delta(per_customer._first_day, unit="day").cast("float64")
    monetary = (frequency > 0).ifelse(
        per_customer._repeat_total.coalesce(0.0) / frequency.cast("float64"), 0.0
    )
    return per_customer.select(
        per_customer._cid.name(customer_id),
        frequency.name("frequency"),
        (recency / per_unit).name("recency"),
        (t_obs / per_unit).name("T"),
        monetary.cast("float64").name("monetary_value"),
    ).order_by(customer_id)


def _daily_expr(table, *, customer_id: str, date: str, amount: str, end, start=None):
    """Ibis rows ``_cid``, ``_day``, ``_amount``: one per customer and purchase day with
    ``start < day <= end`` (``start``, ``end``: date literals; ``start`` optional)."""
    missing = [c for c in (customer_id, date, amount) if c not in table.columns]
    if missing:
        raise ClvInputError(f"table lacks column(s) {missing}; it has {list(table.columns)}")
    col = table[date]
    dtype = col.type()
    if dtype.is_timestamp():
        day = col.date()
    elif dtype.is_date():
        day = col
    elif dtype.is_string():
        day = col.cast("timestamp").date()
    else:
        raise ClvInputError(f"column '{date}' has type {dtype}, expected a timestamp or date")

    rows = table.select(_cid=table[customer_id], _day=day, _amount=table[amount].cast("float64"))
    keep = rows._cid.notnull() & rows._day.notnull() & (rows._day <= end)
    if start is not None:
        keep &= rows._day > start
    rows = rows.filter(keep)
    return rows.group_by(["_cid", "_day"]).aggregate(_amount=rows._amount.sum().coalesce(0.0))


def calibration_holdout_expr(
    table: ibis.Table,
    *,
    customer_id: str = "customer_id",
    date: str = "ordered_at",
    amount: str = "revenue",
    calibration_end: DateLike,
    observation_end: DateLike,
    time_unit: str = "W",
) -> ibis.Table:
    """:func:`calibration_holdout_split` as an Ibis expression (computed by the database).

    Executing it gives the columns of :func:`calibration_holdout_split` (same numbers, with
    ``monetary_value`` and ``monetary_value_holdout`` up to the order of floating-point
    summation), plus the customer id column, ordered by customer id:
    ``expr.execute().set_index(customer_id)`` matches the pandas function.

    Parameters
    ----------
    table : ibis.expr.types.Table
        Transactions table.
    customer_id, date, amount : str
        Column names (see :func:`rfm_summary_expr`).
    calibration_end : date-like
        Last day of the calibration window (inclusive).
    observation_end : date-like
        Last day of the holdout window (inclusive); must be after ``calibration_end``.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of ``recency``, ``T`` and ``duration_holdout``.
    """
    per_unit = unit_days(time_unit)
    cal_end = _day(calibration_end, "calibration_end").date()
    obs_end = _day(observation_end, "observation_end").date()
    if obs_end <= cal_end:
        raise ClvInputError(
            f"observation_end ({obs_end}) must be after calibration_end ({cal_end})"
        )
    cal = rfm_summary_expr(
        table,
        customer_id=customer_id,
        date=date,
        amount=amount,
        observation_end=cal_end,
        time_unit=time_unit,
    )
    hold = _daily_expr(
        table,
        customer_id=customer_id,
        date=date,
        amount=amount,
        start=ibis.literal(cal_end, type="date"),
        end=ibis.literal(obs_end, type="date"),
    )
    hold = hold.group_by("_cid").aggregate(_n_hold=hold.count(), _total_hold=hold._amount.sum())
    joined = cal.left_join(hold, cal[customer_id] == hold._cid)
    n_hold = joined._n_hold.coalesce(0).cast("int64")
    mean_hold = (n_hold > 0).ifelse(joined._total_hold.coalesce(0.0) / n_hold.cast("float64"), 0.0)
    duration = float((obs_end - cal_end).days) / per_unit
    return joined.select(
        joined[customer_id],
        "frequency",
        "recency",
        "T",
        "monetary_value",
        n_hold.name("frequency_holdout"),
        mean_hold.cast("float64").name("monetary_value_holdout"),
        ibis.literal(duration, type="float64").name("duration_holdout"),
    ).order_by(customer_id)
