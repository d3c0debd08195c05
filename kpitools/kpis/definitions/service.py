"""Service KPIs (seed 003 "Service", seed 000).

Three measure groups, one query each:

``cases``
    one pass over ``cases``. A case belongs to the period of its resolution (``resolved_at``);
    a case still unresolved belongs to the period in which its SLA deadline
    (``opened_at + sla_hours``) passed, where it counts as an SLA breach and in nothing else.
``cases_opened``
    one pass over ``cases``, by the period of opening (``opened_at``): first response.
``calls``
    one pass over ``calls``; a call belongs to the period in which it was offered
    (``offered_at``). Calls carry no customer, so they cannot be broken down by segment,
    product line or acquisition channel.
"""

from __future__ import annotations

import ibis

from ..registry import kpi, measure
from .common import flag, safe_div, seconds_between

HOUR_SECONDS = 3600.0


@measure("cases", tables=("cases",))
def cases_measure(ctx):
    """Cases per period of resolution, plus unresolved cases whose SLA deadline passed in the
    period (SLA breaches), with resolution and cost figures.

    A resolution time is ``resolved_at - opened_at`` in hours; cases whose timestamps are in
    the wrong order (resolved before being opened) are left out of the time statistics as data
    errors, but still count as handled. First response is measured by opening date, in
    :func:`cases_opened_measure`.
    """
    c = ctx.table("cases")
    due = c.opened_at + (c.sla_hours * HOUR_SECONDS).round().cast("int64").as_interval("s")
    c = c.mutate(case_placed_at=ibis.coalesce(c.resolved_at, due))
    c = c.filter(ctx.in_window(c.case_placed_at))
    c, keys = ctx.grouped(c, "case_placed_at")

    resolved = c.resolved_at.notnull()
    # seconds as a float: on Spark an integer over the literal 3600.0 is a 6-digit decimal
    res_secs = seconds_between(c.opened_at, c.resolved_at)
    res_hours = ibis.ifelse(resolved & (res_secs >= 0), res_secs / HOUR_SECONDS, ibis.null())
    complaint = resolved & c.is_complaint
    costed = resolved & c.handling_cost.notnull() & (c.contacts_to_resolve > 0)
    with_sla = c.sla_hours.notnull()
    return c.group_by(**keys).aggregate(
        n_rows=c.count(),
        cases_resolved=flag(resolved),
        same_day=flag(resolved & (c.opened_at.truncate("D") == c.resolved_at.truncate("D"))),
        resolution_n=res_hours.count(),
        resolution_hours_sum=res_hours.sum(),
        resolution_hours_median=res_hours.median(),
        resolution_hours_p90=res_hours.quantile(0.9),
        complaint_resolution_n=flag(complaint & res_hours.notnull()),
        complaint_resolution_hours_sum=ibis.ifelse(complaint, res_hours, ibis.null()).sum(),
        handling_cost=ibis.ifelse(costed, c.handling_cost, ibis.null()).sum(),
        interactions=ibis.ifelse(costed, c.contacts_to_resolve, ibis.null()).sum(),
        sla_cases=flag(with_sla),
        sla_met=flag(with_sla & resolved & (res_secs <= c.sla_hours * HOUR_SECONDS)),
        fcr_cases=flag(resolved & c.contacts_to_resolve.notnull()),
        fcr_first_contact=flag(resolved & (c.contacts_to_resolve == 1)),
    )


@measure("cases_opened", tables=("cases",))
def cases_opened_measure(ctx):
    """Cases per period of opening (``opened_at``): those answered, and the median delay from
    opening to the first response, in hours, over the answered ones.

    A case is *answered* when its ``first_response_at`` is set and not before ``opened_at`` (a
    response before the opening is a data error, left out like an unanswered case). A case not
    answered yet is left out of the delay, whether it is resolved or not: the data say nothing
    of how long it will wait, and counting it as "0 hours" or "until now" would invent a delay.
    """
    c = ctx.table("cases")
    c = c.filter(ctx.in_window(c.opened_at))
    c, keys = ctx.grouped(c, "opened_at")
    first_secs = seconds_between(c.opened_at, c.first_response_at)
    answered = c.first_response_at.notnull() & (first_secs >= 0)
    first_hours = ibis.ifelse(answered, first_secs / HOUR_SECONDS, ibis.null())
    return c.group_by(**keys).aggregate(
        n_rows=c.count(),
        cases_opened=c.count(),
        cases_answered=flag(answered),
        first_response_hours_median=first_hours.median(),
    )


@measure("calls", tables=("calls",))
def calls_measure(ctx):
    """Inbound service calls per period in which they were offered: answered, abandoned,
    handle times, distinct answering agents, callbacks, and the number of days in the period.

    A callback is a call linked to a case (``case_id``) that is not the first call of that
    case (first by ``offered_at``, ties broken by ``call_id``), looking back over all history.
    """
    c = ctx.table("calls")
    c = c.filter(c.offered_at < ctx.end)
    order = ibis.window(group_by=c.case_id, order_by=[c.offered_at, c.call_id])
    c = c.mutate(case_call_rank=ibis.row_number().over(order))
    c = c.filter(c.offered_at >= ctx.start)
    c, keys = ctx.grouped(c, "offered_at", customer_col=None)

    answered = c.answered_at.notnull()
    handle = ibis.ifelse(answered & (c.handle_seconds >= 0), c.handle_seconds, ibis.null()).cast(
        "float64"
    )
    agg = c.group_by(**keys).aggregate(
        n_rows=c.count(),
        calls_offered=c.count(),
        calls_answered=flag(answered),
        callbacks=flag(c.case_id.notnull() & (c.case_call_rank > 0)),
        handle_n=handle.count(),
        handle_seconds_sum=handle.sum(),
        handle_seconds_median=handle.median(),
        handle_seconds_p90=handle.quantile(0.9),
        calls_with_agent=flag(answered & c.agent_id.notnull()),
        answering_agents=c.agent_id.nunique(where=answered),
    )
    period_seconds = seconds_between(agg.period, agg.period + ctx.step)
    return agg.mutate(days_in_period=period_seconds / 86400.0)


# -- cases ---------------------------------------------------------------------------------------


@kpi("cases_handled")
def cases_handled(m):
    """Number of cases whose ``resolved_at`` falls in the period (whenever they were opened)."""
    return m["cases_resolved"]


@kpi("same_day_closure_rate")
def same_day_closure_rate(m):
    """Cases resolved in the period whose ``resolved_at`` is on the same calendar day as their
    ``opened_at``, divided by cases resolved in the period."""
    return safe_div(m["same_day"], m["cases_resolved"])


@kpi("avg_resolution_hours")
def avg_resolution_hours(m):
    """Mean of ``resolved_at - opened_at`` in hours over cases resolved in the period (cases
    resolved before they were opened are left out as data errors)."""
    return safe_div(m["resolution_hours_sum"], m["resolution_n"])


@kpi("median_resolution_hours")
def median_resolution_hours(m):
    """Median of ``resolved_at - opened_at`` in hours over cases resolved in the period
    (interpolated between the two middle values)."""
    return m["resolution_hours_median"]


@kpi("p90_resolution_hours")
def p90_resolution_hours(m):
    """90th percentile (linear interpolation) of ``resolved_at - opened_at`` in hours over
    cases resolved in the period."""
    return m["resolution_hours_p90"]


@kpi("first_response_hours")
def first_response_hours(m):
    """Median of ``first_response_at - opened_at`` in hours (interpolated) over the cases opened
    in the period (``opened_at``) that have a first response, resolved or not. Cases not
    answered yet are left out; they are few and recent (a first response comes within hours),
    so the latest period's figure can still move a little as late answers are logged."""
    return m["first_response_hours_median"]


@kpi("complaint_resolution_hours")
def complaint_resolution_hours(m):
    """Mean of ``resolved_at - opened_at`` in hours over complaint cases (``is_complaint``)
    resolved in the period; no data when no complaint was resolved."""
    return safe_div(m["complaint_resolution_hours_sum"], m["complaint_resolution_n"])


@kpi("cost_per_interaction")
def cost_per_interaction(m):
    """Sum of ``handling_cost`` divided by the sum of ``contacts_to_resolve`` (the customer
    interactions each case took), over cases resolved in the period that have a handling cost
    and at least one contact (currency units)."""
    return safe_div(m["handling_cost"], m["interactions"])


@kpi("sla_compliance_rate")
def sla_compliance_rate(m):
    """Cases resolved in the period within ``sla_hours`` of ``opened_at``, divided by the cases
    with an SLA that were resolved in the period plus those still unresolved whose deadline
    (``opened_at + sla_hours``) passed in the period (breaches). Cases without ``sla_hours``
    are left out."""
    return safe_div(m["sla_met"], m["sla_cases"])


@kpi("first_contact_resolution_rate")
def first_contact_resolution_rate(m):
    """Cases resolved in the period with ``contacts_to_resolve`` = 1, divided by cases resolved
    in the period with a known ``contacts_to_resolve``."""
    return safe_div(m["fcr_first_contact"], m["fcr_cases"])


# -- calls ---------------------------------------------------------------------------------------


@kpi("service_calls_per_day")
def service_calls_per_day(m):
    """Calls offered in the period with an ``answered_at``, divided by the number of calendar
    days of the period (28 to 31 for a month, 90 to 92 for a quarter)."""
    return safe_div(m["calls_answered"], m["days_in_period"])


@kpi("customer_callbacks")
def customer_callbacks(m):
    """Calls offered in the period that are linked to a case (``case_id``) which already had an
    earlier call (by ``offered_at``, at any date): every call of a case but its first, answered
    or not."""
    return m["callbacks"]


@kpi("abandoned_call_rate")
def abandoned_call_rate(m):
    """Calls offered in the period with no ``answered_at``, divided by calls offered in the
    period."""
    return safe_div(m["calls_offered"] - m["calls_answered"], m["calls_offered"])


@kpi("avg_handle_seconds")
def avg_handle_seconds(m):
    """Mean of ``handle_seconds`` over calls offered in the period that were answered (and have
    a non-negative handle time)."""
    return safe_div(m["handle_seconds_sum"], m["handle_n"])


@kpi("median_handle_seconds")
def median_handle_seconds(m):
    """Median (interpolated) of ``handle_seconds`` over answered calls offered in the period."""
    return m["handle_seconds_median"]


@kpi("p90_handle_seconds")
def p90_handle_seconds(m):
    """90th percentile (linear interpolation) of ``handle_seconds`` over answered calls offered
    in the period."""
    return m["handle_seconds_p90"]


@kpi("calls_handled_per_agent")
def calls_handled_per_agent(m):
    """Calls offered in the period with an ``answered_at`` and an ``agent_id``, divided by the
    number of distinct ``agent_id`` among them (agents who answered at least one call)."""
    return safe_div(m["calls_with_agent"], m["answering_agents"])
