"""Customer perception and relationship KPIs (seeds 001-003).

Measure groups (one query each): ``customer_activity`` (common.py: retention, churn, margin),
``surveys`` (NPS and CSAT answers, by ``responded_at``), ``relationship_freshness`` (the
period's active customers from ``orders`` joined with their last logged interaction in
``activities``), ``engagement`` (outbound actions of ``activities`` and their responses, by
``occurred_at``) and ``social`` (``social_mentions`` by ``occurred_at``).
"""

from __future__ import annotations

import ibis

from ..registry import kpi, measure
from .common import flag, safe_div

#: Look-back windows (days before the end of the period) of the relationship freshness KPIs.
FRESHNESS_DAYS = (7, 30)


@measure("surveys", tables=("surveys",))
def surveys_measure(ctx):
    """Survey answers per period (by ``responded_at``) with an NPS or a CSAT score: NPS answers
    split into promoters and detractors, CSAT answers with their sum and satisfied count."""
    s = ctx.table("surveys")
    s = s.filter(ctx.in_window(s.responded_at) & (s.nps_score.notnull() | s.csat_score.notnull()))
    s, keys = ctx.grouped(s, "responded_at")
    return s.group_by(**keys).aggregate(
        n_rows=s.count(),
        nps_responses=flag(s.nps_score.notnull()),
        promoters=flag(s.nps_score >= 9),
        detractors=flag(s.nps_score <= 6),
        csat_responses=s.csat_score.count(),
        csat_sum=s.csat_score.sum(),
        csat_satisfied=flag(s.csat_score >= 4),
    )


@measure("relationship_freshness", tables=("orders", "activities"), scoped_through=("activities",))
def freshness_measure(ctx):
    """The period's active customers (at least one order in it) and how many of them have a
    logged interaction (any ``activities`` row with their ``customer_id``, whatever its type or
    direction) in the last 7 and 30 days before the end of the period.

    Activities are rolled up to each customer's last interaction per period; the last one
    before the end of period P is the last one of P, else the last one of P - 1 (anything older
    is more than 30 days before the end of P, as two periods last at least 56 days).
    """
    cp = ctx.customer_segments().select("customer_id", "period", "segment")
    a = ctx.table("activities")
    since = ctx.periods[0].shift(-1).start_ts()
    a = a.filter(a.customer_id.notnull() & (a.occurred_at >= since) & (a.occurred_at < ctx.end))
    last = a.group_by(act_customer=a.customer_id, act_period=ctx.bucket(a.occurred_at)).aggregate(
        last_at=a.occurred_at.max()
    )
    prev = last.view().rename(
        prev_customer="act_customer", prev_period="act_period", prev_last_at="last_at"
    )
    j = cp.left_join(
        last, (cp.customer_id == last.act_customer) & (cp.period == last.act_period)
    ).drop("act_customer", "act_period")
    j = j.left_join(
        prev, (j.customer_id == prev.prev_customer) & (j.period - ctx.step == prev.prev_period)
    ).drop("prev_customer", "prev_period")
    j = j.mutate(last_contact=ibis.coalesce(j.last_at, j.prev_last_at)).drop(
        "last_at", "prev_last_at"
    )
    keys = {"period": j.period}
    if ctx.by == "segment":
        keys["dim"] = j.segment
    elif ctx.by is not None:
        j, keys = ctx.grouped(j, "period")
    period_end = j.period + ctx.step
    fresh = {
        f"fresh_{d}d": flag(j.last_contact >= period_end - ibis.interval(days=d))
        for d in FRESHNESS_DAYS
    }
    return j.group_by(**keys).aggregate(n_rows=j.count(), active_customers=j.count(), **fresh)


@measure("engagement", tables=("activities",))
def engagement_measure(ctx):
    """Logged activities per period (by ``occurred_at``): outbound actions, and those of them
    that got a response (``responded`` true)."""
    a = ctx.table("activities")
    a = a.filter(ctx.in_window(a.occurred_at))
    a, keys = ctx.grouped(a, "occurred_at")
    outbound = a.direction == "outbound"
    return a.group_by(**keys).aggregate(
        n_rows=a.count(),
        outbound_actions=flag(outbound),
        responses=flag(outbound & a.responded),
    )


@measure("social", tables=("social_mentions",))
def social_measure(ctx):
    """Social media mentions per period (by ``occurred_at``): all mentions, mentions of the own
    brand (``is_competitor`` false), and the sentiment and reach of the own mentions."""
    s = ctx.table("social_mentions")
    s = s.filter(ctx.in_window(s.occurred_at))
    s, keys = ctx.grouped(s, "occurred_at", customer_col=None)
    own = ~s.is_competitor
    return s.group_by(**keys).aggregate(
        n_rows=s.count(),
        mentions=s.count(),
        own_mentions=flag(own),
        own_sentiment_n=s.sentiment.count(where=own),
        own_sentiment_sum=s.sentiment.sum(where=own),
        own_reach_n=s.reach.count(where=own),
        own_reach=s.reach.sum(where=own),
    )


def _covered(series, m, column: str):
    """``series`` where the data cover a full lapse before the date (``m[column]`` is 1), NaN
    elsewhere: the customer base KPIs are undefined before that."""
    return series.astype("float64").where(m[column] > 0)


@kpi("churn_rate")
def churn_rate(m):
    """Lapse churn: customers active at the start of the period who lapsed during it, divided
    by the customers active at the start (0-1).

    *Active* at a date: ordered in the ``settings.lapse_days`` days (default 365) before it;
    a customer *lapses* when that many days pass after an order without another one. A customer
    who lapsed and came back within the same period counts as lapsed (and as reactivated).

    No value for a period that starts less than ``settings.lapse_days`` after the first order
    in the data (the base is then cut short and nobody can have lapsed yet).

    Requires ``orders.customer_id``, ``orders.ordered_at``. Measure columns: ``lapsed``,
    ``active_start``, ``start_covered``.
    """
    return _covered(safe_div(m["lapsed"], m["active_start"]), m, "start_covered")


@kpi("retention_rate")
def retention_rate(m):
    """Customer retention rate: 1 - :func:`churn_rate`, the share of the customers active at the
    start of the period who did not lapse during it (0-1). This is the formula.

    The customer retention rate identity ``(active at end - new - reactivated) / active at
    start`` equals it exactly when the lapse is at least one period long (tested on fixtures):
    *new* customers placed their first order ever in the period, *reactivated* ones ordered in
    it more than ``settings.lapse_days`` days after their previous order (a customer who lapsed
    in the period and came back before its end is both lapsed and reactivated).

    Measure columns: ``lapsed``, ``active_start``, ``start_covered``.
    """
    return _covered(1.0 - safe_div(m["lapsed"], m["active_start"]), m, "start_covered")


@kpi("active_customers")
def active_customers(m):
    """Customers active at the end of the period: with an order in the ``settings.lapse_days``
    days (default 365) before it (count).

    No value while the data do not reach ``settings.lapse_days`` before the period's end.

    Measure columns: ``active_end``, ``end_covered``.
    """
    return _covered(m["active_end"], m, "end_covered")


@kpi("lapsed_customers")
def lapsed_customers(m):
    """Customers active at the start of the period who lapsed during it (``settings.lapse_days``
    passed after their last order without another one): the numerator of :func:`churn_rate`
    (count).

    Measure columns: ``lapsed``, ``start_covered``.
    """
    return _covered(m["lapsed"], m, "start_covered")


@kpi("repeat_purchase_rate")
def repeat_purchase_rate(m):
    """Customers who ordered in the previous period and ordered again in this one, divided by
    the customers who ordered in the previous period (0-1): "bought again in the following
    period" (this was ``retention_rate`` before the lapse rule).

    Measure columns: ``retained_next``, ``buyers`` (of the previous period).
    """
    return safe_div(m["retained_next"].shift(1), m["buyers"].shift(1))


@kpi("avg_margin_per_customer")
def avg_margin_per_customer(m):
    """Sum of ``orders.revenue - orders.cost`` over orders of the period, divided by the
    customers with at least one order in the period (currency units)."""
    return safe_div(m["margin"], m["buyers"])


@kpi("nps")
def nps(m):
    """100 x (answers scoring 9 or 10 - answers scoring 0 to 6) / answers with an NPS score,
    over survey answers of the period; from -100 to +100."""
    return 100 * safe_div(m["promoters"] - m["detractors"], m["nps_responses"])


@kpi("csat")
def csat(m):
    """CSAT as the trade defines it: the share of satisfied answers. Survey answers of the
    period (placed by ``responded_at``) with ``csat_score`` 4 or 5, divided by answers of the
    period with a ``csat_score`` (1 to 5); a ratio in [0, 1]. The mean score is
    ``csat_mean_score``."""
    return safe_div(m["csat_satisfied"], m["csat_responses"])


@kpi("csat_mean_score")
def csat_mean_score(m):
    """Mean of ``csat_score`` (1 to 5) over survey answers of the period that have one (placed
    by ``responded_at``); a score from 1 to 5, not a share (``csat`` is the share satisfied)."""
    return safe_div(m["csat_sum"], m["csat_responses"])


@kpi("relationship_freshness_7d")
def relationship_freshness_7d(m):
    """Customers with at least one order in the period who have an ``activities`` row (any type
    or direction) with ``occurred_at`` in the 7 days before the end of the period, divided by
    customers with at least one order in the period."""
    return safe_div(m["fresh_7d"], m["active_customers"])


@kpi("relationship_freshness_30d")
def relationship_freshness_30d(m):
    """Customers with at least one order in the period who have an ``activities`` row (any type
    or direction) with ``occurred_at`` in the 30 days before the end of the period, divided by
    customers with at least one order in the period."""
    return safe_div(m["fresh_30d"], m["active_customers"])


@kpi("actions_per_engagement")
def actions_per_engagement(m):
    """How many outbound actions one response costs (seed 002 "actions par l'engagement"):
    outbound ``activities`` of the period (calls, e-mails, meetings, SMS, ... to customers,
    leads or opportunities), divided by those of them with ``responded`` true (placed by
    ``occurred_at``); a number, lower is better (3.7: one response every 3.7 actions). No data
    when no action got a response. Its inverse is the response rate."""
    return safe_div(m["outbound_actions"], m["responses"])


@kpi("social_sentiment")
def social_sentiment(m):
    """Mean of ``sentiment`` (-1 to +1) over ``social_mentions`` of the period that name the
    brand itself (``is_competitor`` false) and have a sentiment."""
    return safe_div(m["own_sentiment_sum"], m["own_sentiment_n"])


@kpi("social_reach")
def social_reach(m):
    """Sum of ``reach`` over ``social_mentions`` of the period that name the brand itself
    (``is_competitor`` false); mentions without a reach add nothing. 0 when the period has
    mentions but none of the brand; no data when the brand's mentions all lack a reach."""
    reach = m["own_reach"].where(m["own_reach_n"] > 0)
    return reach.mask(m["own_mentions"] == 0, 0.0)


@kpi("share_of_voice")
def share_of_voice(m):
    """``social_mentions`` of the period naming the brand itself (``is_competitor`` false),
    divided by all monitored mentions of the period, the competitors' included."""
    return safe_div(m["own_mentions"], m["mentions"])
