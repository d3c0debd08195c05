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
    """Orders rolled up per customer and period (one pass over ``orders``).

    A customer is *active* in a period when they placed at least one order in it. A customer's
    first period is the period of their first order ever (all history, not only the window),
    so ``new_customers`` is right however far back the data go. ``retained_next`` counts the
    period's active customers who are active again in the next period, so that retention can
    be broken down by the segment customers were in when they were last active.
    """
    if ctx.by == "product_line":
        # by the orders' product line: a customer buying on two lines counts on both, and
        # "new" means new to that line
        cp = ctx.customer_periods(by_line=True)
        cp = cp.filter(cp.period >= ctx.start)
        keys = {"period": cp.period, "dim": cp.product_line.fill_null("(unknown)")}
    else:
        cp = ctx.customer_segments()
        keys = {"period": cp.period}
        if ctx.by == "segment":
            keys["dim"] = cp.segment
        elif ctx.by is not None:
            cp, keys = ctx.grouped(cp, "period")
    return cp.group_by(**keys).aggregate(
        n_rows=cp.count(),
        active_customers=cp.count(),
        new_customers=flag(cp.segment == "new"),
        reactivated_customers=flag(cp.segment == "reactivated"),
        steady_customers=flag(cp.segment == "steady"),
        retained_next=flag(cp.next_period == cp.period + ctx.step),
        revenue=cp.revenue.sum(),
        new_customer_revenue=ibis.ifelse(cp.segment == "new", cp.revenue, 0).sum(),
        margin=cp.margin.sum(),
        orders=cp.orders.sum(),
    )


@kpi("new_customer_revenue")
def new_customer_revenue(m):
    """Sum of orders.revenue in the period over customers whose first order ever falls in the
    period (the objective of seed 000: "grow revenue from new customers by 10 %")."""
    return m["new_customer_revenue"]
