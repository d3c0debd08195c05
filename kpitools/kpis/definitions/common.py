"""Measure groups shared by several departments, and small helpers for measure builders."""

from __future__ import annotations

import ibis
import pandas as pd

from ..registry import kpi, measure


def safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` with NaN where the denominator is 0 or missing (never inf)."""
    num = num.astype("float64")
    den = den.astype("float64")
    return num / den.where(den != 0)


def flag(pred):
    """Count of rows where ``pred`` holds (NULL counts as false).

    Written as ``SUM(CASE WHEN ... THEN 1 ELSE 0 END)``: PostgreSQL refuses to cast a boolean
    to BIGINT, DuckDB accepts both.
    """
    return ibis.ifelse(pred.fill_null(False), 1, 0).sum()


def seconds_between(start, end):
    """``end - start`` in seconds (float), portable across DuckDB and PostgreSQL."""
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64")


def period_starts(ctx):
    """The window's period starts as a column to ``unnest`` (one row per period), built from
    literals: no temporary table, so it also runs on read-only connections."""
    starts = [p.start_ts() for p in ctx.periods]
    return ibis.literal(starts, type="array<timestamp>").unnest()


def period_grid(ctx):
    """The window's periods as a table: ``period`` (start, inclusive), ``period_end``
    (exclusive).

    Stocks (opportunities open at period end, CRM users with an account) are counted by a
    range join of their rows with this grid, so that a period without any event still gets
    its stock.
    """
    grid = period_starts(ctx).name("period").as_table()
    return grid.mutate(period_end=grid.period + ctx.step)


@measure("customer_activity", tables=("orders",))
def customer_activity(ctx):
    """The customer base and the period's buyers, from ``orders`` (one query).

    The lapse rule (:mod:`kpitools.kpis.segments`, ``L = settings.lapse_days``): a customer is
    *active* at an instant when they ordered in the ``L`` days before it, and *lapses* when
    ``L`` days pass after an order without another one. Per period ``[start, end)``:

    - ``active_start`` / ``active_end``: customers active at the period's start / end;
    - ``lapsed``: customers active at the start who lapsed before the end (whether or not they
      came back later in the period);
    - ``new_customers``: first order ever in the period (all history, not only the window);
    - ``reactivated_customers``: first order of the period more than ``L`` days after the
      previous one (including a customer who lapsed earlier in the same period);
    - ``buyers`` (and its old name ``active_customers``): customers with an order in the period;
      ``retained_next``: those of them who buy again in the next period;
    - ``revenue``, ``new_customer_revenue``, ``margin``, ``orders`` over the period's orders.

    - ``start_covered`` / ``end_covered``: 1 when the data reach ``L`` days before the period's
      start / end (the day of the first order in the data is at least ``L`` days older), else 0: before
      that nobody can have lapsed yet and the base is cut short, so the base KPIs have no value.

    When the lapse is at least one period long, ``active_end = active_start - lapsed +
    new_customers + reactivated_customers`` exactly (a customer cannot then both start and lapse
    within one period).

    Built from :meth:`~kpitools.kpis.compute.QueryContext.customer_periods` (one row per
    customer and period with orders) joined by date ranges with the window's periods: a row
    stands for the customer at each period start after it up to their next period with orders,
    while the row's last order is less than ``L`` days old. So in a breakdown by segment a
    customer of the base (active, lapsed) is counted in the segment of the last period they
    bought in before the date (a churned customer in the segment of their last purchase), the
    period's buyers in their segment of the period.
    """
    lapse = ibis.interval(days=ctx.lapse_days)
    by_line = ctx.by == "product_line"
    cp = ctx.customer_periods(by_line=by_line)
    # the data's first order: a date is covered once the data reach a full lapse before it
    cp = cp.mutate(data_start=cp.first_order.min().over(ibis.window()).truncate("D"))
    cp = cp.filter(cp.last_order + lapse >= ctx.start)
    grid = period_grid(ctx).rename(grid_period="period", grid_end="period_end")
    s, e = grid.grid_period, grid.grid_end
    j = cp.join(
        grid,
        (cp.period < e)
        & (cp.last_order + lapse >= s)
        & (cp.next_period.isnull() | (cp.next_period >= s)),
    )
    s, e = j.grid_period, j.grid_end
    lapse_at = j.last_order + lapse  # the last instant this row keeps the customer active
    latest_before_start = (j.period < s) & (j.next_period.isnull() | (j.next_period >= s))
    latest_before_end = j.next_period.isnull() | (j.next_period >= e)  # j.period < e: the join
    at_start = latest_before_start & (lapse_at >= s)
    j = j.mutate(
        own=j.period == s,
        at_start=at_start,
        at_end=latest_before_end & (lapse_at >= e),
        lapsed=at_start & (lapse_at < e) & (j.next_first.isnull() | (j.next_first > lapse_at)),
    )
    if by_line:
        keys = {"period": j.grid_period, "dim": j.product_line.fill_null("(unknown)")}
    elif ctx.by == "segment":
        keys = {"period": j.grid_period, "dim": j.segment}
    elif ctx.by is not None:
        j, keys = ctx.grouped(j, "grid_period")
    else:
        keys = {"period": j.grid_period}
    own = j.own
    # "no data" (n_rows 0): no order at all in the period for the brand or line; a group of a
    # breakdown has data when any customer of the base falls in it
    n_rows = flag(own) if ctx.by is None else j.count()
    return j.group_by(**keys).aggregate(
        n_rows=n_rows,
        start_covered=ibis.ifelse(j.grid_period - lapse >= j.data_start, 1, 0).max(),
        end_covered=ibis.ifelse(j.grid_end - lapse >= j.data_start, 1, 0).max(),
        buyers=flag(own),
        active_customers=flag(own),
        active_start=flag(j.at_start),
        active_end=flag(j.at_end),
        lapsed=flag(j.lapsed),
        new_customers=flag(own & (j.segment == "new")),
        reactivated_customers=flag(own & (j.segment == "reactivated")),
        steady_customers=flag(own & (j.segment == "steady")),
        retained_next=flag(own & (j.next_period == j.period + ctx.step)),
        revenue=j.revenue.sum(where=own),
        new_customer_revenue=ibis.ifelse(own & (j.segment == "new"), j.revenue, 0).sum(),
        margin=j.margin.sum(where=own),
        orders=j.orders.sum(where=own),
    )


@kpi("new_customer_revenue")
def new_customer_revenue(m):
    """Sum of orders.revenue in the period over customers whose first order ever falls in the
    period (the objective of seed 000: "grow revenue from new customers by 10 %")."""
    return m["new_customer_revenue"]
