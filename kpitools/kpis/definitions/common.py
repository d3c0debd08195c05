"""Measure groups shared by several departments, and small helpers for measure builders."""

from __future__ import annotations

import ibis

from ..registry import measure


def flag(pred):
    """Count of rows where ``pred`` holds (NULL counts as false).

    Written as ``SUM(CASE WHEN ... THEN 1 ELSE 0 END)``: PostgreSQL refuses to cast a boolean
    to BIGINT, DuckDB accepts both.
    """
    return ibis.ifelse(pred.fill_null(False), 1, 0).sum()


@measure("customer_activity", tables=("orders",))
def customer_activity(ctx):
    """Orders rolled up per customer and period (one pass over ``orders``).

    A customer is *active* in a period when they placed at least one order in it. A customer's
    first period is the period of their first order ever (all history, not only the window),
    so ``new_customers`` is right however far back the data go. ``retained_next`` counts the
    period's active customers who are active again in the next period, so that retention can
    be broken down by the segment customers were in when they were last active.
    """
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
        margin=cp.margin.sum(),
        orders=cp.orders.sum(),
    )
