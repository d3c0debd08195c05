"""The database queries of a CLV analysis: margin rates and the per-customer frame.

Everything runs in the database (Ibis); one row per customer comes back to Python.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import ibis
import numpy as np
import pandas as pd

from kpitools.clv.summary import rfm_summary_expr, unit_days
from kpitools.data.sources import Database
from kpitools.kpis.compute import QueryContext, window_for
from kpitools.kpis.registry import MEASURES
from kpitools.params import BrandParams
from kpitools.periods import Period
from kpitools.vocab import UNKNOWN_GROUP, Segment

__all__ = ["MARGIN_MONTHS", "customer_frame", "margin_per_active_customer", "margin_rates"]

#: Months of orders used for the margin rates.
MARGIN_MONTHS = 12


def margin_rates(
    orders: ibis.Table, start: _dt.datetime, end: _dt.datetime
) -> tuple[float | None, dict[str, float]]:
    """Brand-wide and per-line ``(revenue - cost) / revenue`` of the orders in [start, end).

    Parameters
    ----------
    orders : ibis.Table
        The brand's ``orders`` (``ordered_at``, ``product_line``, ``revenue``, ``cost``).
    start, end : datetime
        The window of ``ordered_at``.

    Returns
    -------
    (float or None, dict)
        The brand's rate (None when the window has no positive revenue) and the rate of each
        product line with positive revenue (``(unknown)`` for orders without a line), by name.
    """
    o = orders.filter((orders.ordered_at >= start) & (orders.ordered_at < end))
    per_line = (
        o.group_by(line=o.product_line.fill_null(UNKNOWN_GROUP))
        .aggregate(revenue=o.revenue.sum(), margin=(o.revenue - o.cost).sum())
        .execute()
    )
    revenue = float(per_line["revenue"].sum()) if len(per_line) else 0.0
    if not revenue > 0:
        return None, {}
    brand_rate = float(per_line["margin"].sum()) / revenue
    rates = {
        str(row.line): float(row.margin) / float(row.revenue)
        for row in per_line.itertuples()
        if row.revenue and row.revenue > 0
    }
    return brand_rate, dict(sorted(rates.items()))


def customer_frame(
    db: Database,
    params: BrandParams,
    period: Period,
    orders: ibis.Table,
    obs_end: _dt.date,
    *,
    rates: Mapping[str, float],
    brand_rate: float,
    time_unit: str,
) -> pd.DataFrame:
    """The RFM summary (in the database) joined with segment, product line and margin rate.

    Parameters
    ----------
    db : Database
        The brand's data (``orders``; ``customers`` when present).
    params : BrandParams
        The brand's settings (segments' lapse).
    period : Period
        The report's period (the segment is the customer's in it).
    orders : ibis.Table
        ``db.table("orders")``.
    obs_end : date
        Last day of the observation (inclusive).
    rates : mapping
        Margin rate per product line (empty: ``brand_rate`` for every line).
    brand_rate : float
        Margin rate of lines without their own.
    time_unit : {"D", "W", "M"}
        Unit of ``recency`` and ``T``.

    Returns
    -------
    pandas.DataFrame
        One row per customer (index ``customer_id``, sorted): ``frequency``, ``recency``,
        ``T``, ``monetary_value``; ``segment`` (``inactive`` when no order in the period);
        ``product_line`` (of acquisition, else main line by revenue, else ``(unknown)``);
        ``mix_margin_rate`` (the lines' rates weighted by the customer's revenue; NaN
        without revenue); ``last_purchase`` (timestamp).
    """
    end_lit = ibis.literal(obs_end, type="date")
    summary = rfm_summary_expr(orders, observation_end=obs_end, time_unit=time_unit)

    # segment in the report's period
    ctx = QueryContext(db=db, grain=period.grain, periods=[period], settings=params.settings)
    cp = ctx.customer_periods()
    seg = cp.filter(cp.period == period.start_ts()).select(
        _seg_cid=cp.customer_id, _segment=cp.segment
    )

    # revenue per customer and line, up to the end of the observation
    o = orders.filter(orders.customer_id.notnull() & (orders.ordered_at.date() <= end_lit))
    lines = o.group_by(
        _l_cid=o.customer_id, _line=o.product_line.fill_null(UNKNOWN_GROUP)
    ).aggregate(_rev=o.revenue.sum())
    rank = ibis.row_number().over(
        ibis.window(group_by=lines._l_cid, order_by=[lines._rev.desc(), lines._line])
    )
    main = (
        lines.mutate(_rank=rank)
        .filter(lambda t: t._rank == 0)
        .select(_m_cid="_l_cid", _main_line="_line")
    )
    rate = lines._line.substitute(rates, else_=brand_rate) if rates else brand_rate
    weighted = lines.mutate(_r=ibis.literal(1.0) * rate)
    mix = weighted.group_by(_x_cid=weighted._l_cid).aggregate(
        _rev_total=weighted._rev.sum(),
        _rev_rate=(weighted._rev * weighted._r).sum(),
    )

    j = summary.left_join(seg, summary.customer_id == seg._seg_cid).drop("_seg_cid")
    j = j.left_join(main, j.customer_id == main._m_cid).drop("_m_cid")
    j = j.left_join(mix, j.customer_id == mix._x_cid).drop("_x_cid")
    if db.has("customers"):
        c = db.table("customers")
        acq = c.select(_a_cid=c.customer_id, _acq_line=c.product_line)
        j = j.left_join(acq, j.customer_id == acq._a_cid).drop("_a_cid")
    else:
        j = j.mutate(_acq_line=ibis.null("string"))
    df = j.execute()
    df = df.sort_values("customer_id", kind="mergesort").set_index("customer_id")
    out = df[["frequency", "recency", "T", "monetary_value"]].copy()
    out["frequency"] = out["frequency"].astype("int64")
    out["segment"] = df["_segment"].fillna(Segment.INACTIVE.value).astype(str)
    line = df["_acq_line"].where(df["_acq_line"].notna(), df["_main_line"])
    out["product_line"] = line.fillna(UNKNOWN_GROUP).astype(str)
    with np.errstate(invalid="ignore", divide="ignore"):
        mix_rate = (df["_rev_rate"] / df["_rev_total"]).where(df["_rev_total"] > 0)
    out["mix_margin_rate"] = mix_rate.astype("float64")
    gap_days = np.rint((out["T"] - out["recency"]).to_numpy() * unit_days(time_unit))
    out["last_purchase"] = pd.Timestamp(obs_end) - pd.to_timedelta(gap_days, unit="D")
    out.attrs["time_unit"] = time_unit
    return out


def margin_per_active_customer(db: Database, params: BrandParams, period: Period) -> pd.Series:
    """Margin of each period's orders (``revenue - cost``, currency units) divided by the
    customers active at the period's start (the lapse rule of
    :mod:`kpitools.kpis.segments`), for the periods of the scorecard's window.

    Returns
    -------
    pandas.Series
        Indexed by period start (Timestamp); periods without orders or base are left out.
    """
    ctx = QueryContext(
        db=db,
        grain=period.grain,
        periods=window_for(period),
        settings=params.settings,
        params=params,
    )
    m = MEASURES["customer_activity"].build(ctx).execute()
    m["period"] = pd.to_datetime(m["period"]).dt.tz_localize(None)
    m = m.groupby("period").sum(numeric_only=True)
    value = (m["margin"] / m["active_start"].where(m["active_start"] > 0)).astype("float64")
    value = value[m["buyers"] > 0].dropna()
    value.index = pd.DatetimeIndex(value.index).astype("datetime64[ns]")
    return value
