"""Sales KPIs (seed 003 "Vendite", seeds 000-002).

Measure groups (one database query each):

``leads``
    leads created in the period: conversion within the window, first-contact delay.
``customer_loyalty``
    orders rolled up per customer and period, with the customer's run of consecutive active
    periods.
``opportunities``
    every opportunity alive (open at some time) in each period of the window, through a range
    join with the window's periods: pipeline at period end, and the opportunities created,
    won and lost in the period.
``renewals``
    renewals due in the period (by the end date of the contract), and those renewed in time.
``opportunity_calls``
    opportunities closed in the period and the outbound calls logged on them.
``sales_activities``
    activities logged in the period, with the outbound sales calls among them.
``lead_touches``
    leads converted in the period and the outbound touches logged on them before conversion.

An opportunity is *decided* when its ``status`` is ``won`` or ``lost`` and it has a
``closed_at``; a won or lost opportunity without ``closed_at`` cannot be placed in a period and
is left out of every KPI below, an ``open`` one is open whatever its ``closed_at`` says.
*New business* is a won opportunity that is not a renewal (``is_renewal`` false or unknown):
``new_sales_amount``, ``average_deal_size`` and the sales-cycle KPIs count new business only,
the figures a sales director reads as "new sales"; renewals have ``renewal_amount`` (and
``renewal_rate``); ``close_rate`` and ``won_amount_per_rep`` count every won deal.
Response rates by touch number and conversion by response delay are curves, not single
numbers: see :mod:`kpitools.kpis.curves`.
"""

from __future__ import annotations

import ibis

from ...errors import MissingColumnError
from ...periods import MONTHS_PER
from ..registry import kpi, measure
from .common import flag, period_grid, safe_div, seconds_between

DECIDED = ("won", "lost")


@measure("leads", tables=("leads",))
def leads_measure(ctx):
    """Leads created per period: those converted within the conversion window and before the
    end of the report's period (a conversion recorded later is not known to the report), those
    contacted (``first_response_at`` not before ``created_at``), those contacted within
    ``settings.lead_response_target_minutes``, and the median first-contact delay."""
    lead = ctx.table("leads")
    lead = lead.filter(ctx.in_window(lead.created_at))
    window = ibis.interval(days=ctx.settings.conversion_window_days)
    converted = (
        lead.converted_at.notnull()
        & (lead.converted_at >= lead.created_at)
        & (lead.converted_at < lead.created_at + window)
        & (lead.converted_at < ctx.end)
    )
    lead, keys = ctx.grouped(lead, "created_at", customer_col=None)
    contacted = lead.first_response_at.notnull() & (lead.first_response_at >= lead.created_at)
    minutes = seconds_between(lead.created_at, lead.first_response_at) / 60
    target = float(ctx.settings.lead_response_target_minutes)
    return lead.group_by(**keys).aggregate(
        n_rows=lead.count(),
        leads=lead.count(),
        converted_leads=flag(converted),
        contacted_leads=flag(contacted),
        contacted_in_target=flag(contacted & (minutes <= target)),
        response_minutes_median=minutes.quantile(0.5, where=contacted),
        response_minutes_mean=minutes.mean(where=contacted),
        response_minutes_p90=minutes.quantile(0.9, where=contacted),
    )


@measure("lead_customers", tables=("leads", "orders"))
def lead_customers(ctx):
    """Leads created per period, and those whose customer placed their first order ever at or
    after the lead's creation, within ``settings.conversion_window_days`` of it and before the
    end of the report's period (a purchase after it is not known yet)."""
    lead = ctx.table("leads")
    lead = lead.filter(ctx.in_window(lead.created_at))
    o = ctx.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.ordered_at < ctx.end))
    first = o.group_by(first_customer=o.customer_id).aggregate(first_order=o.ordered_at.min())
    lead = lead.left_join(first, lead.customer_id == first.first_customer)
    window = ibis.interval(days=ctx.settings.conversion_window_days)
    bought = (
        lead.first_order.notnull()
        & (lead.first_order >= lead.created_at)
        & (lead.first_order < lead.created_at + window)
    )
    lead, keys = ctx.grouped(lead, "created_at", customer_col=None)
    return lead.group_by(**keys).aggregate(
        n_rows=lead.count(),
        leads=lead.count(),
        leads_became_customers=flag(bought),
    )


@measure("customer_loyalty", tables=("orders",))
def customer_loyalty(ctx):
    """Active customers per period, and those also active in each of the
    ``settings.loyal_periods - 1`` periods before (their ``loyal_periods - 1``-th previous
    active period lies exactly that many periods back, so none in between was skipped)."""
    k = int(getattr(ctx.settings, "loyal_periods", 3))
    cp = ctx.customer_periods()
    w = ibis.window(group_by=cp.customer_id, order_by=cp.period)
    cp = cp.mutate(run_start=cp.period.lag(k - 1).over(w))
    cp = cp.filter(cp.period >= ctx.start)
    back = ibis.interval(months=MONTHS_PER[ctx.grain] * (k - 1))
    keys = {"period": cp.period}
    if ctx.by == "segment":
        keys["dim"] = cp.segment
    elif ctx.by is not None:
        cp, keys = ctx.grouped(cp, "period")
    return cp.group_by(**keys).aggregate(
        n_rows=cp.count(),
        active_customers=cp.count(),
        loyal_customers=flag(cp.run_start == cp.period - back),
    )


@measure("opportunities", tables=("opportunities",))
def opportunities_measure(ctx):
    """Opportunities alive in each period (created before its end and not decided before its
    start), joined with the window's periods: open at period end, created, decided, won and
    lost in the period, renewals, won amounts (all, new business, renewals), quotes, the win
    cycle of new business and the distinct owners (active sales reps)."""
    o = ctx.table("opportunities")
    o = o.filter(
        (o.created_at < ctx.end)
        & (
            (o.status == "open")
            | (o.status.isin(DECIDED) & o.closed_at.notnull() & (o.closed_at >= ctx.start))
        )
    )
    g = period_grid(ctx)
    t = o.inner_join(
        g,
        [
            o.created_at < g.period_end,
            (o.status == "open") | (o.closed_at >= g.period),
        ],
    )
    t, keys = ctx.grouped(t, "period")
    decided = t.status.isin(DECIDED) & t.closed_at.notnull()
    closed_in = decided & (t.closed_at >= t.period) & (t.closed_at < t.period_end)
    won_in = closed_in & (t.status == "won")
    created_in = t.created_at >= t.period
    open_at_end = (t.status == "open") | (decided & (t.closed_at >= t.period_end))
    renewal = t.is_renewal.fill_null(False)
    known_amount = won_in & t.amount.notnull()
    cycle_days = seconds_between(t.created_at, t.closed_at) / 86_400
    new_win = won_in & ~renewal & (t.closed_at >= t.created_at)  # new business, for the cycle
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
        open_opportunities=flag(open_at_end),
        created_opportunities=flag(created_in),
        closed_opportunities=flag(closed_in),
        won_opportunities=flag(won_in),
        won_amount=ibis.ifelse(known_amount, t.amount, 0.0).sum(),
        new_business_amount=ibis.ifelse(known_amount & ~renewal, t.amount, 0.0).sum(),
        new_business_with_amount=flag(known_amount & ~renewal),
        renewal_amount=ibis.ifelse(known_amount & renewal, t.amount, 0.0).sum(),
        renewal_rows=flag(t.is_renewal.notnull()),
        won_with_amount=flag(known_amount),
        quotes=ibis.ifelse(created_in & t.quote_count.notnull(), t.quote_count, 0).sum(),
        quote_rows=flag(t.quote_count.notnull()),
        win_cycle_days_median=cycle_days.quantile(0.5, where=new_win),
        win_cycle_days_mean=cycle_days.mean(where=new_win),
        win_cycle_days_p90=cycle_days.quantile(0.9, where=new_win),
        active_reps=t.owner_id.nunique(),
        open_pipeline_amount=ibis.ifelse(open_at_end & t.amount.notnull(), t.amount, 0.0).sum(),
    )


@measure("renewals", tables=("opportunities",))
def renewals_measure(ctx):
    """Renewals due per period (placed by ``renewal_due_at``, the end of the contract being
    renewed): a renewal is an opportunity with a ``renewal_due_at`` whose ``is_renewal`` is
    not false. Counted: those due, those renewed (won, with ``closed_at`` before the due date
    + ``settings.renewal_grace_days`` days and before the end of the report's period), those
    lost, and those still open at the end of the report's period.

    Raises
    ------
    MissingColumnError
        For ``opportunities.renewal_due_at`` when no opportunity of the brand carries a due
        date (the source lacks it): renewal_rate then has no data and says why, never
        computed on the renewals closed in the period instead.
    """
    o = ctx.table("opportunities")
    if int(o.renewal_due_at.count().execute() or 0) == 0:
        raise MissingColumnError("opportunities", "renewal_due_at", needed_by="renewal_rate")
    o = o.filter(
        o.renewal_due_at.notnull() & o.is_renewal.fill_null(True) & ctx.in_window(o.renewal_due_at)
    )
    grace = ibis.interval(days=int(ctx.settings.renewal_grace_days))
    closed = o.closed_at.notnull() & (o.closed_at < ctx.end)
    won = (o.status == "won") & closed
    renewed = won & (o.closed_at < o.renewal_due_at + grace)
    lost = (o.status == "lost") & closed
    o, keys = ctx.grouped(o, "renewal_due_at")
    return o.group_by(**keys).aggregate(
        n_rows=o.count(),
        renewals_due=o.count(),
        renewals_renewed=flag(renewed),
        renewals_won_late=flag(won & ~renewed),
        renewals_lost=flag(lost),
        renewals_pending=flag(~won & ~lost),
    )


def _is_sales_call(a):
    """Outbound call logged against a lead or an opportunity."""
    return (
        (a.type == "call")
        & (a.direction == "outbound")
        & (a.lead_id.notnull() | a.opportunity_id.notnull())
    )


@measure(
    "opportunity_calls", tables=("opportunities", "activities"), scoped_through=("activities",)
)
def opportunity_calls(ctx):
    """Opportunities decided (won or lost) in the period, and the outbound calls logged on them
    (at any date before the end of the report's period)."""
    o = ctx.table("opportunities")
    o = o.filter(o.status.isin(DECIDED) & o.closed_at.notnull() & ctx.in_window(o.closed_at))
    a = ctx.table("activities")
    a = a.filter(
        (a.type == "call")
        & (a.direction == "outbound")
        & a.opportunity_id.notnull()
        & (a.occurred_at < ctx.end)
    )
    calls = a.group_by(call_opportunity=a.opportunity_id).aggregate(calls=a.count())
    t = o.left_join(calls, o.opportunity_id == calls.call_opportunity)
    t, keys = ctx.grouped(t, "closed_at")
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
        closed_opportunities=t.count(),
        opportunity_calls=t.calls.fill_null(0).sum(),
    )


@measure("sales_activities", tables=("activities",))
def sales_activities(ctx):
    """Activities logged in the period, and the outbound sales calls among them (calls logged
    against a lead or an opportunity)."""
    a = ctx.table("activities")
    a = a.filter(ctx.in_window(a.occurred_at))
    a, keys = ctx.grouped(a, "occurred_at")
    return a.group_by(**keys).aggregate(
        n_rows=a.count(),
        sales_calls=flag(_is_sales_call(a)),
    )


@measure("lead_touches", tables=("leads", "activities"), scoped_through=("activities",))
def lead_touches(ctx):
    """Leads converted in the period (``converted_at`` in it, not before ``created_at``), and
    the outbound activities logged on each of them at or before its ``converted_at``."""
    lead = ctx.table("leads")
    lead = lead.filter(ctx.in_window(lead.converted_at) & (lead.converted_at >= lead.created_at))
    a = ctx.table("activities")
    a = a.filter(a.lead_id.notnull() & (a.direction == "outbound"))
    a = a.select(touch_lead=a.lead_id, touched_at=a.occurred_at)
    keys = lead.select(key_lead=lead.lead_id, key_converted=lead.converted_at)
    pairs = keys.inner_join(a, [keys.key_lead == a.touch_lead, a.touched_at <= keys.key_converted])
    per_lead = pairs.group_by(touched_lead=pairs.key_lead).aggregate(touches=pairs.count())
    t = lead.left_join(per_lead, lead.lead_id == per_lead.touched_lead)
    t, keys = ctx.grouped(t, "converted_at")
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
        converted_leads=t.count(),
        touches=t.touches.fill_null(0).sum(),
    )


@kpi("new_customers")
def new_customers(m):
    """Number of customers whose first order ever (in the brand and its selected product lines)
    was placed in the period."""
    return m["new_customers"]


@kpi("revenue")
def revenue(m):
    """Sum of ``orders.revenue`` over orders placed in the period (currency units)."""
    return m["revenue"]


@kpi("lead_conversion_rate")
def lead_conversion_rate(m):
    """Leads created in the cohort's period whose ``converted_at`` falls within
    ``settings.conversion_window_days`` (default 90) of their creation, divided by leads
    created in that period. A matured cohort KPI: the report shows the latest period whose
    leads have all had the whole window by the end of the report's period (September for a
    December report with 90 days), the report's own period as a provisional value;
    conversions recorded after the end of the report's period are not counted."""
    return safe_div(m["converted_leads"], m["leads"])


@kpi("funnel_conversion_rate")
def funnel_conversion_rate(m):
    """Leads created in the period whose customer placed a first order (a first purchase ever,
    not a CRM status) within settings.conversion_window_days (default 90) of the lead's
    creation, divided by leads created in the period: the whole funnel from lead to paying
    customer. Purchases after the end of the report's period do not count, so a cohort is
    final once its window has closed; the report shows the latest such cohort."""
    return safe_div(m["leads_became_customers"], m["leads"])


@kpi("prospects")
def prospects(m):
    """Number of leads whose ``created_at`` falls in the period, whatever became of them."""
    return m["leads"]


@kpi("loyal_customers")
def loyal_customers(m):
    """Customers with at least one order in the period and in each of the
    ``settings.loyal_periods - 1`` periods before it (default 3 periods in a row: with monthly
    reports, this month and the two before; with quarterly reports, three quarters). Order
    history before the report's window counts."""
    return m["loyal_customers"]


@kpi("lead_response_minutes")
def lead_response_minutes(m):
    """Median of ``leads.first_response_at - leads.created_at`` in minutes, over the leads
    created in the period that were contacted (``first_response_at`` set and not before
    ``created_at``); leads never contacted are left out here and counted as missed in
    ``lead_response_target_rate``."""
    return m["response_minutes_median"]


@kpi("avg_lead_response_minutes")
def avg_lead_response_minutes(m):
    """Mean of first_response_at - created_at in minutes over the period's contacted leads (the
    same leads as lead_response_minutes); a few very late answers pull it above the median."""
    return m["response_minutes_mean"]


@kpi("p90_lead_response_minutes")
def p90_lead_response_minutes(m):
    """90th percentile (linear interpolation, PERCENTILE_CONT) of first_response_at - created_at
    in minutes over the period's contacted leads."""
    return m["response_minutes_p90"]


@kpi("lead_response_target_rate")
def lead_response_target_rate(m):
    """Leads created in the period first contacted at most
    ``settings.lead_response_target_minutes`` (default 20, seed 002) after their creation,
    divided by all leads created in the period (never contacted: missed)."""
    return safe_div(m["contacted_in_target"], m["leads"])


@kpi("touches_to_convert")
def touches_to_convert(m):
    """Outbound activities (any type: call, e-mail, SMS, meeting, social) logged on the leads
    converted in the period (``converted_at`` in the period) at or before their
    ``converted_at``, divided by those leads; a lead converted without any touch counts 0.
    The response rate by touch number is a curve: ``kpitools.kpis.curves.compute_touch_response``."""
    return safe_div(m["touches"], m["converted_leads"])


@kpi("open_opportunities")
def open_opportunities(m):
    """Opportunities created before the end of the period that were still open then: status
    ``open``, or won or lost with a ``closed_at`` on or after the end of the period."""
    return m["open_opportunities"]


@kpi("open_pipeline_value")
def open_pipeline_value(m):
    """Sum of the amounts of the opportunities open at the end of the period (created before
    it and not won or lost by then; open ones without an amount count for 0), currency
    units."""
    return m["open_pipeline_amount"]


@kpi("quotes")
def quotes(m):
    """Sum of ``opportunities.quote_count`` over the opportunities created in the period (the
    data give no date per quote, so quotes are counted in the period their opportunity was
    created). No data when the source has no ``quote_count``."""
    return m["quotes"].where(m["quote_rows"] > 0)


@kpi("close_rate")
def close_rate(m):
    """Opportunities won with ``closed_at`` in the period, divided by opportunities won or lost
    with ``closed_at`` in the period (renewals included; open ones are not counted)."""
    return safe_div(m["won_opportunities"], m["closed_opportunities"])


@kpi("renewal_rate")
def renewal_rate(m):
    """Renewals (opportunities with a renewal_due_at, is_renewal not false) due in the cohort's
    period that were won by their due date + settings.renewal_grace_days (default 30) days,
    divided by every renewal due in that period: lost, won late, overdue and still open ones
    count in the denominator. A matured cohort KPI: the report shows the latest period whose
    grace window has closed by the end of the report's period, the report's own period as a
    provisional value; wins recorded after the end of the report's period are not counted.
    No data (reason: needs column) when the source carries no renewal due date."""
    return safe_div(m["renewals_renewed"], m["renewals_due"])


@kpi("new_sales_amount")
def new_sales_amount(m):
    """New business: sum of ``opportunities.amount`` over the opportunities won with
    ``closed_at`` in the period that are not renewals (``is_renewal`` false or unknown; every
    won deal when the source has no ``is_renewal``); currency units, a won deal without amount
    adds nothing. Renewals are ``renewal_amount``."""
    return m["new_business_amount"]


@kpi("renewal_amount")
def renewal_amount(m):
    """Sum of ``opportunities.amount`` over the renewal opportunities (``is_renewal`` true) won
    with ``closed_at`` in the period (currency units). ``new_sales_amount + renewal_amount``
    is the amount of every won deal. No data when the source has no ``is_renewal``."""
    return m["renewal_amount"].where(m["renewal_rows"] > 0)


@kpi("average_deal_size")
def average_deal_size(m):
    """Mean ``opportunities.amount`` of the new-business opportunities (not renewals) won with
    ``closed_at`` in the period and a known amount (currency units). Renewals are left out: a
    renewal's amount is set by the contract renewed, not by the sale, and a director reads deal
    size as the size of the new deals (the same deals as ``new_sales_amount``)."""
    return safe_div(m["new_business_amount"], m["new_business_with_amount"])


@kpi("sales_cycle_days")
def sales_cycle_days(m):
    """Median of ``closed_at - created_at`` in days (fractional) over the new-business
    opportunities (not renewals) won with ``closed_at`` in the period. Renewals are left out:
    they are not prospected, and their short, contract-driven cycles would hide the time a new
    deal takes."""
    return m["win_cycle_days_median"]


@kpi("avg_sales_cycle_days")
def avg_sales_cycle_days(m):
    """Mean of closed_at - created_at in days over the new-business opportunities (not
    renewals) won with closed_at in the period (the same deals as sales_cycle_days)."""
    return m["win_cycle_days_mean"]


@kpi("p90_sales_cycle_days")
def p90_sales_cycle_days(m):
    """90th percentile (linear interpolation, PERCENTILE_CONT) of closed_at - created_at in days
    over the new-business opportunities (not renewals) won with closed_at in the period."""
    return m["win_cycle_days_p90"]


@kpi("sales_calls")
def sales_calls(m):
    """Activities of the period with ``type = 'call'``, ``direction = 'outbound'`` and a
    ``lead_id`` or an ``opportunity_id`` (calls to customers outside a sale, e.g. by service
    or marketing, are not sales calls)."""
    return m["sales_calls"]


@kpi("calls_per_opportunity")
def calls_per_opportunity(m):
    """Outbound calls (activities ``type = 'call'``, ``direction = 'outbound'``) logged on the
    opportunities won or lost with ``closed_at`` in the period, whenever the call took place
    up to the end of the report's period, divided by those opportunities (lower: the same deals
    closed with less effort)."""
    return safe_div(m["opportunity_calls"], m["closed_opportunities"])


@kpi("won_amount_per_rep")
def won_amount_per_rep(m):
    """Won deal value per sales rep: sum of ``opportunities.amount`` over every opportunity won
    with ``closed_at`` in the period (new business and renewals), divided by the active sales
    reps, the distinct ``owner_id`` of the opportunities open at some time in the period
    (created before its end, not won or lost before its start), whether or not they won
    anything (currency units). It is the value of the deals won, not revenue: order revenue is
    not attributed to reps."""
    return safe_div(m["won_amount"], m["active_reps"])
