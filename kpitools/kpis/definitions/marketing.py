"""Marketing KPIs (seed 003 "Marketing", seed 002 "taux de conversion de l'entonnoir").

Seven measure groups, one database query each:

``campaign_calendar`` (campaigns)
    campaigns running in each period.
``campaign_outcomes`` (campaigns, campaign_members, orders)
    the funnel of the campaigns that *started* in each period (sent, delivered, opened,
    clicked, purchased, unsubscribed, responded) and their last-touch attributed revenue.
``campaign_leads`` (leads)
    leads created with a campaign, and customers converted from such leads.
``web_visits`` (web_sessions), ``referrals_created`` (referrals), ``email_list``
(subscriptions)
    one pass over their table each.
``basket_history`` (orders)
    customer tenure and cross-sell value from one pass over the brand's order history.

Campaign attribution
--------------------
A campaign's *contacted* members are its ``treatment`` members with a ``sent_at`` (control
members are never contacted). Its *outcome window* runs from ``starts_at`` (inclusive) to
``ends_at`` + ``roi.attribution_days`` days (exclusive; default 30, the window of the campaign
ROI analysis; see :func:`attribution_days`). A contacted member *purchased* when they placed
at least one order in the outcome window. Revenue is attributed by *last touch*: an order
placed in the outcome windows of several campaigns the customer was contacted by goes, whole,
to the one that started last (then the highest ``campaign_id``), so no order is counted twice
across overlapping campaigns. Campaign outcomes are placed in the period of the campaign's
``starts_at`` (a cohort of campaigns). ``purchase_rate`` and ``campaign_response_rate`` count
the purchases and responses known at the end of the report's period and are matured cohorts
(see :mod:`kpitools.kpis.compute`): the report shows the latest period whose campaigns'
outcome windows have all closed. The other funnel steps (delivery, open, click, unsubscribe)
happen within days of the send and count every event up to the end of the data.
"""

from __future__ import annotations

import ibis

from ..registry import kpi, measure
from .common import flag, period_starts, safe_div

#: Days after a campaign's ``ends_at`` still in its outcome window, when the params do not say
#: (the default of ``roi.attribution_days``).
ATTRIBUTION_DAYS = 30

_DAY_SECONDS = 86_400


def attribution_days(source=None) -> int:
    """Days after a campaign's end that still count in its outcome window.

    ``source`` is a brand's params or a measure's ``QueryContext``; the first of
    ``source.roi.attribution_days``, ``source.params.roi.attribution_days`` and
    ``source.settings.attribution_days`` that exists wins, else :data:`ATTRIBUTION_DAYS`.
    """
    params = getattr(source, "params", None)
    for holder in (
        getattr(source, "roi", None),
        getattr(params, "roi", None),
        getattr(source, "settings", None),
    ):
        days = getattr(holder, "attribution_days", None)
        if days is not None:
            return int(days)
    return ATTRIBUTION_DAYS


def attribution_window(source=None):
    """:func:`attribution_days` as an Ibis interval."""
    return ibis.interval(days=attribution_days(source))


# -- campaigns --------------------------------------------------------------------------------


def member_outcomes(table, start, end, attribution, as_of=None):
    """One row per member of the campaigns that started in ``[start, end)``, with its outcomes.

    Parameters
    ----------
    table : callable
        ``table(name) -> ibis.Table``: the brand's canonical tables (``Database.table`` or
        ``QueryContext.table``).
    start, end : datetime
        Campaigns whose ``starts_at`` is in ``[start, end)``.
    attribution : ibis interval
        Days after ``ends_at`` still in the outcome window.
    as_of : datetime, optional
        What the scorecard knows: when given, ``purchased`` and ``responded`` count only orders
        and responses before ``as_of`` (the end of the report's period), and responses only
        inside the outcome window, so that a matured cohort's rates never change afterwards.
        None (the funnel, the ROI analysis): every event up to the end of the data.

    Returns
    -------
    ibis.Table
        ``campaign_id, name, channel, product_line, starts_at, ends_at, customer_id, group``,
        boolean step flags ``contacted, delivered, opened, clicked, unsubscribed, responded,
        purchased`` (all false for control members), ``window_orders`` (orders of the member in
        the outcome window), ``attributed_orders`` and ``attributed_revenue`` (last touch).

    Notes
    -----
    The steps are made monotone: an open, a click or an unsubscription proves delivery, a
    click proves an open (opens are under-recorded when images are blocked). Last touch is
    decided among every campaign that started on or after ``start`` (an earlier campaign never
    wins against one of these), so a campaign's revenue does not depend on the report period.
    """
    camps = table("campaigns")
    members = table("campaign_members")
    orders = table("orders")

    # touches: contacted treatment members of every campaign that could win last touch
    comp = camps.filter(camps.starts_at >= start).select(
        t_campaign=camps.campaign_id,
        t_start=camps.starts_at,
        t_end=camps.ends_at + attribution,
    )
    contacted = members.filter((members["group"] == "treatment") & members.sent_at.notnull())
    touches = contacted.select(t_campaign2=contacted.campaign_id, t_customer=contacted.customer_id)
    touches = touches.join(comp, touches.t_campaign2 == comp.t_campaign).drop("t_campaign2")

    o = orders.filter(orders.ordered_at >= start).select(
        "order_id", o_customer=orders.customer_id, o_at=orders.ordered_at, o_revenue=orders.revenue
    )
    ot = o.join(
        touches,
        (o.o_customer == touches.t_customer)
        & (o.o_at >= touches.t_start)
        & (o.o_at < touches.t_end),
    )
    last = ibis.row_number().over(
        ibis.window(group_by=ot.order_id, order_by=[ot.t_start.desc(), ot.t_campaign.desc()])
    )
    ot = ot.mutate(last_touch=last == 0)
    known = (ot.o_at < as_of) if as_of is not None else ot.o_at.notnull()
    per_member = ot.group_by(a_campaign=ot.t_campaign, a_customer=ot.t_customer).aggregate(
        window_orders=ot.count(),
        known_orders=flag(known),
        attributed_orders=flag(ot.last_touch),
        attributed_revenue=ibis.ifelse(ot.last_touch, ot.o_revenue, 0.0).sum(),
    )

    cohort = camps.filter((camps.starts_at >= start) & (camps.starts_at < end)).select(
        "campaign_id", "name", "channel", "product_line", "starts_at", "ends_at"
    )
    m = members.select(
        m_campaign=members.campaign_id,
        customer_id=members.customer_id,
        group=members["group"],
        sent_at=members.sent_at,
        delivered_flag=members.delivered,
        opened_at=members.opened_at,
        clicked_at=members.clicked_at,
        unsubscribed_at=members.unsubscribed_at,
        responded_at=members.responded_at,
    )
    m = cohort.join(m, cohort.campaign_id == m.m_campaign).drop("m_campaign")
    m = m.left_join(
        per_member,
        (m.campaign_id == per_member.a_campaign) & (m.customer_id == per_member.a_customer),
    ).drop("a_campaign", "a_customer")

    is_contacted = (m["group"] == "treatment") & m.sent_at.notnull()
    clicked = m.clicked_at.notnull()
    opened = m.opened_at.notnull() | clicked
    delivered = m.delivered_flag.fill_null(False) | opened | m.unsubscribed_at.notnull()
    responded = m.responded_at.notnull()
    purchased = m.window_orders.notnull()
    if as_of is not None:
        responded = responded & (m.responded_at < m.ends_at + attribution)
        responded = responded & (m.responded_at < as_of)
        purchased = m.known_orders.fill_null(0) > 0
    return m.select(
        "campaign_id",
        "name",
        "channel",
        "product_line",
        "starts_at",
        "ends_at",
        "customer_id",
        "group",
        contacted=is_contacted,
        delivered=is_contacted & delivered,
        opened=is_contacted & opened,
        clicked=is_contacted & clicked,
        unsubscribed=is_contacted & m.unsubscribed_at.notnull(),
        responded=is_contacted & responded,
        purchased=is_contacted & purchased,
        window_orders=m.window_orders.fill_null(0),
        attributed_orders=m.attributed_orders.fill_null(0),
        attributed_revenue=m.attributed_revenue.fill_null(0.0),
    )


def funnel_aggregates(t):
    """The funnel counts over member rows ``t`` (see :func:`member_outcomes`)."""
    return dict(
        members=t.count(),
        control=flag(t["group"] == "control"),
        sent=flag(t.contacted),
        delivered=flag(t.delivered),
        opened=flag(t.opened),
        clicked=flag(t.clicked),
        purchased=flag(t.purchased),
        unsubscribed=flag(t.unsubscribed),
        responded=flag(t.responded),
        attributed_orders=t.attributed_orders.sum(),
        attributed_revenue=t.attributed_revenue.sum(),
    )


@measure("campaign_calendar", tables=("campaigns",))
def campaign_calendar(ctx):
    """Campaigns running in each period: one row per (campaign, period) it overlaps.

    A campaign runs in a period when it starts before the period ends and either starts in the
    period or ends after the period starts (``ends_at`` is the moment it ended).
    """
    c = ctx.table("campaigns")
    c = c.filter((c.starts_at < ctx.end) & ((c.ends_at > ctx.start) | (c.starts_at >= ctx.start)))
    c = c.mutate(period_start=period_starts(ctx))
    c = c.filter(
        (c.starts_at < c.period_start + ctx.step)
        & ((c.ends_at > c.period_start) | (c.starts_at >= c.period_start))
    )
    c, keys = ctx.grouped(c, "period_start", customer_col=None)
    return c.group_by(**keys).aggregate(
        n_rows=c.count(),
        campaigns_run=c.count(),
        campaigns_started=flag(c.starts_at >= c.period_start),
    )


@measure("campaign_outcomes", tables=("campaigns", "campaign_members", "orders"))
def campaign_outcomes(ctx):
    """Funnel and last-touch revenue of the campaigns that started in each period.

    One row per member of those campaigns (``n_rows``: members, treatment and control), see
    :func:`member_outcomes` and the module notes on attribution. Purchases and responses are
    those known at the end of the report's period (``as_of``); ``window_closes_at`` is the
    latest close of the period's outcome windows (epoch seconds), so that ``purchase_rate`` and
    ``campaign_response_rate`` show a cohort of campaigns only once every window has closed.
    """
    attribution = attribution_window(ctx)
    t = member_outcomes(ctx.table, ctx.start, ctx.end, attribution, as_of=ctx.end)
    t, keys = ctx.grouped(t, "starts_at")
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
        window_closes_at=(t.ends_at + attribution).epoch_seconds().max().cast("float64"),
        campaigns=t.campaign_id.nunique(),
        **funnel_aggregates(t),
    )


@measure("campaign_leads", tables=("leads",))
def campaign_leads_measure(ctx):
    """Leads created in each period (with or without a campaign), and campaign leads converted.

    Two row sets in one query: every lead created in the window, placed by ``created_at``; and
    every lead with a ``campaign_id`` and a ``customer_id`` converted in the window, placed by
    ``converted_at``.
    """
    lead = ctx.table("leads")
    created = lead.filter(ctx.in_window(lead.created_at)).select(
        at=lead.created_at,
        product_line=lead.product_line,
        customer_id=lead.customer_id,
        is_created=ibis.literal(True),
        from_campaign=lead.campaign_id.notnull(),
    )
    converted = lead.filter(
        lead.campaign_id.notnull()
        & lead.customer_id.notnull()
        & lead.converted_at.notnull()
        & ctx.in_window(lead.converted_at)
    ).select(
        at=lead.converted_at,
        product_line=lead.product_line,
        customer_id=lead.customer_id,
        is_created=ibis.literal(False),
        from_campaign=ibis.literal(True),
    )
    u = created.union(converted, distinct=False)
    u, keys = ctx.grouped(u, "at", customer_col=None)
    return u.group_by(**keys).aggregate(
        n_rows=u.count(),
        leads=flag(u.is_created),
        campaign_leads=flag(u.is_created & u.from_campaign),
        campaign_new_customers=u.customer_id.nunique(where=~u.is_created),
    )


# -- web, referrals, e-mail list ----------------------------------------------------------------


@measure("web_visits", tables=("web_sessions",))
def web_visits(ctx):
    """Web sessions per period of ``started_at``: page views, goals, durations."""
    s = ctx.table("web_sessions")
    s = s.filter(ctx.in_window(s.started_at))
    s, keys = ctx.grouped(s, "started_at")
    return s.group_by(**keys).aggregate(
        n_rows=s.count(),
        sessions=s.count(),
        page_views=s.page_views.sum(),
        goal_sessions=flag(s.goal_completed),
        goal_known=flag(s.goal_completed.notnull()),
        duration_seconds=s.duration_seconds.sum(),
        timed_sessions=flag(s.duration_seconds.notnull()),
    )


@measure("referrals_created", tables=("referrals",))
def referrals_created(ctx):
    """Referrals per period of ``created_at`` (breakdowns by the referring customer)."""
    r = ctx.table("referrals")
    r = r.filter(ctx.in_window(r.created_at))
    r, keys = ctx.grouped(r, "created_at", customer_col="referrer_customer_id")
    return r.group_by(**keys).aggregate(
        n_rows=r.count(),
        referrals=r.count(),
        referred_customers=flag(r.referred_customer_id.notnull()),
    )


@measure("email_list", tables=("subscriptions",))
def email_list(ctx):
    """Mailing-list subscriptions per period: on the list at the period start, joined, left.

    One row per (subscription, period) the subscription touches; a subscription is on the list
    from ``subscribed_at`` (inclusive) to ``unsubscribed_at`` (exclusive, NULL: still on it).
    """
    s = ctx.table("subscriptions")
    s = s.filter(
        (s.subscribed_at < ctx.end)
        & (s.unsubscribed_at.isnull() | (s.unsubscribed_at >= ctx.start))
        # an unsubscription before the subscription is a data error: the row is ignored
        & (s.unsubscribed_at.isnull() | (s.unsubscribed_at >= s.subscribed_at))
    )
    s = s.mutate(period_start=period_starts(ctx))
    p0, p1 = s.period_start, s.period_start + ctx.step
    s = s.mutate(
        at_start=(s.subscribed_at < p0) & (s.unsubscribed_at.isnull() | (s.unsubscribed_at >= p0)),
        joined=(s.subscribed_at >= p0) & (s.subscribed_at < p1),
        left=s.unsubscribed_at.notnull() & (s.unsubscribed_at >= p0) & (s.unsubscribed_at < p1),
    )
    s = s.filter(s.at_start | s.joined | s.left)
    s, keys = ctx.grouped(s, "period_start")
    return s.group_by(**keys).aggregate(
        n_rows=s.count(),
        list_size_at_start=flag(s.at_start),
        new_subscriptions=flag(s.joined),
        unsubscriptions=flag(s.left),
    )


# -- order history -----------------------------------------------------------------------------


def _brand_orders(ctx):
    """Orders of the brand on *every* product line, and the lines selected for the report.

    Cross-sell and tenure look at a customer's whole history with the brand, so that a
    report restricted to some product lines still sees the purchases on the others; the amounts
    then count only orders of the selected lines.
    """
    db = ctx.db
    lines = tuple(getattr(db, "product_lines", ()) or ())
    if lines and hasattr(db, "raw_table"):
        o = db.raw_table("orders")
        if getattr(db, "brand", None) is not None:
            o = o.filter(o.brand == db.brand)
        return o, lines
    return ctx.table("orders"), ()


@measure("basket_history", tables=("orders",))
def basket_history(ctx):
    """Orders of the window with their customer's history: one pass over ``orders``.

    Per order: the customer's first order ever with the brand and their first order on the
    order's product line. (Up-sell, revenue above the customer's usual basket, was removed in
    0.2: orders carry no product or price tier, and on the demo the mirror down-sell was as
    large as the up-sell, 174 k against 177 k, so it measured the spread of basket values.)
    """
    o, lines = _brand_orders(ctx)
    o = o.filter(o.ordered_at < ctx.end)
    history = ibis.window(group_by=[o.customer_id, o.product_line])
    o = o.mutate(
        first_order=o.ordered_at.min().over(ibis.window(group_by=o.customer_id)),
        first_on_line=o.ordered_at.min().over(history),
    )
    o = o.filter(ctx.in_window(o.ordered_at))
    if lines:
        o = o.filter(o.product_line.isin(list(lines)))
    o = o.mutate(
        cross=(o.first_on_line > o.first_order)
        & (ctx.bucket(o.first_on_line) == ctx.bucket(o.ordered_at)),
        tenure_days=(
            (ctx.bucket(o.ordered_at) + ctx.step).epoch_seconds() - o.first_order.epoch_seconds()
        )
        / _DAY_SECONDS,
    )
    o, keys = ctx.grouped(o, "ordered_at")
    # one row per customer, period (and breakdown group) carries the customer's tenure
    per_customer = [o.customer_id, ctx.bucket(o.ordered_at)] + (["dim"] if "dim" in keys else [])
    first = ibis.row_number().over(
        ibis.window(group_by=per_customer, order_by=[o.ordered_at, o.order_id])
    )
    o = o.mutate(customer_first=first == 0)
    keys = {k: o[k] if k == "dim" else ctx.bucket(o.ordered_at) for k in keys}
    return o.group_by(**keys).aggregate(
        n_rows=o.count(),
        active_customers=flag(o.customer_first),
        tenure_days=ibis.ifelse(o.customer_first, o.tenure_days, 0.0).sum(),
        cross_sell_value=ibis.ifelse(o.cross, o.revenue, 0.0).sum(),
        revenue=o.revenue.sum(),
    )


def _if_tracked(m, series):
    """``series``, or NaN throughout when no lead of the window carries a campaign_id."""
    if m["campaign_leads"].fillna(0).sum() > 0:
        return series
    return series * float("nan")


# -- KPIs: campaigns ---------------------------------------------------------------------------


@kpi("campaigns_run")
def campaigns_run(m):
    """Number of campaigns running during the period: starts_at before the period end and
    either starts_at in the period or ends_at after the period start. A campaign spanning two
    periods counts in both. No campaign running: no data."""
    return m["campaigns_run"]


@kpi("campaign_response_rate")
def campaign_response_rate(m):
    """Contacted members (treatment group, sent_at set) with a responded_at inside the
    campaign's outcome window (before ends_at + roi.attribution_days, default 30 days), divided
    by contacted members, over the campaigns whose starts_at falls in the cohort's period.
    Control members are never counted. A matured cohort KPI: the report shows the latest
    period whose campaigns' outcome windows have all closed by the end of the report's period,
    the report's own period as a provisional value; responses recorded after the end of the
    report's period are not counted."""
    return safe_div(m["responded"], m["sent"])


@kpi("attributed_campaign_revenue")
def attributed_campaign_revenue(m):
    """Sum of orders.revenue over the orders attributed to campaigns whose starts_at falls in
    the period (currency units). An order is attributed when its customer was a contacted
    member (treatment group, sent_at set) and it was placed in the campaign's outcome window,
    from starts_at (inclusive) to ends_at + roi.attribution_days (default 30) days (exclusive);
    an order in the windows of several such campaigns goes whole to the one that started last
    (last touch, ties to the highest campaign_id), so it is never counted twice. This is
    attributed, not incremental, revenue: it counts every order of a contacted customer,
    including those they would have placed without the campaign. Incremental revenue, the
    treatment group's revenue above the control group's, comes from the ROI analysis. It grows
    until the campaigns' outcome windows have closed."""
    return m["attributed_revenue"]


@kpi("campaign_leads")
def campaign_leads(m):
    """Number of leads whose created_at falls in the period and whose campaign_id is set. No
    data when no lead of the whole report window (the 14 periods fetched) carries a
    campaign_id, e.g. when the leads table has no campaign_id column."""
    return _if_tracked(m, m["campaign_leads"])


@kpi("campaign_new_customers")
def campaign_new_customers(m):
    """Number of distinct customers (leads.customer_id) of leads with a campaign_id whose
    converted_at falls in the period, whatever the period the lead was created in. No data in
    the same case as campaign_leads (no campaign attribution in the leads)."""
    return _if_tracked(m, m["campaign_new_customers"])


# -- KPIs: funnel step rates (campaigns started in the period) -------------------------------------


@kpi("delivery_rate")
def delivery_rate(m):
    """Delivered members divided by contacted members (treatment group, sent_at set), over the
    campaigns whose starts_at falls in the period. A member is delivered when delivered is
    true, or when an open, a click or an unsubscription was recorded (they prove delivery)."""
    return safe_div(m["delivered"], m["sent"])


@kpi("open_rate")
def open_rate(m):
    """Contacted members with an opened_at or a clicked_at (a click proves an open), divided by
    delivered members, over the campaigns whose starts_at falls in the period."""
    return safe_div(m["opened"], m["delivered"])


@kpi("click_rate")
def click_rate(m):
    """Contacted members with a clicked_at divided by members who opened (click-to-open rate,
    the funnel step after the open), over the campaigns whose starts_at falls in the period.
    Clicks over delivered messages = open_rate x click_rate."""
    return safe_div(m["clicked"], m["opened"])


@kpi("purchase_rate")
def purchase_rate(m):
    """Contacted members (treatment group, sent_at set) with at least one order placed in the
    campaign's outcome window (from starts_at to ends_at + roi.attribution_days, default 30
    days; any product line), divided by contacted members, over the campaigns whose starts_at
    falls in the cohort's period. Not reduced by last touch; not a lift (control members buy
    too). A matured cohort KPI: the report shows the latest period whose campaigns' outcome
    windows have all closed by the end of the report's period, the report's own period as a
    provisional value; orders placed after the end of the report's period are not counted."""
    return safe_div(m["purchased"], m["sent"])


@kpi("unsubscribe_rate")
def unsubscribe_rate(m):
    """Contacted members with an unsubscribed_at divided by delivered members, over the
    campaigns whose starts_at falls in the period."""
    return safe_div(m["unsubscribed"], m["delivered"])


# -- KPIs: referrals, web, e-mail list ---------------------------------------------------------


@kpi("referrals")
def referrals(m):
    """Number of referrals whose created_at falls in the period, whether or not the referred
    person became a customer."""
    return m["referrals"]


@kpi("web_page_views")
def web_page_views(m):
    """Sum of web_sessions.page_views over sessions whose started_at falls in the period,
    anonymous visits included."""
    return m["page_views"]


@kpi("web_goal_completion_rate")
def web_goal_completion_rate(m):
    """Sessions started in the period with goal_completed true, divided by the sessions started
    in the period whose goal_completed is known (not NULL)."""
    return safe_div(m["goal_sessions"], m["goal_known"])


@kpi("time_per_visit")
def time_per_visit(m):
    """Mean of web_sessions.duration_seconds over sessions started in the period with a known
    duration (seconds)."""
    return safe_div(m["duration_seconds"], m["timed_sessions"])


@kpi("email_list_growth_rate")
def email_list_growth_rate(m):
    """(Subscriptions with subscribed_at in the period - subscriptions with unsubscribed_at in
    the period) / subscriptions on the list at the period start (subscribed_at before it,
    unsubscribed_at NULL or not before it), a ratio like every other rate: 0.075 means the list
    grew by 7.5 % over the period; negative when it shrank, above 1 when it more than doubled.
    Subscriptions are rows of subscriptions (customer x list), summed over all mailing lists;
    a row unsubscribed before it subscribed is ignored. No data when the list was empty at the
    period start."""
    growth = m["new_subscriptions"] - m["unsubscriptions"]
    return safe_div(growth, m["list_size_at_start"])


# -- KPIs: customer history --------------------------------------------------------------------


@kpi("customer_tenure_days")
def customer_tenure_days(m):
    """Mean, over the customers with at least one order in the period, of the days from their
    first order ever with the brand (on any product line) to the end of the period. "Ever"
    means since the data begin: history before the first order the source holds is unknown,
    so tenure is capped by the depth of the data (24 months on the demo)."""
    return safe_div(m["tenure_days"], m["active_customers"])


@kpi("cross_sell_value")
def cross_sell_value(m):
    """Sum of orders.revenue over the orders placed in the period on a product line whose
    first order by that customer falls in the period, when the customer had ordered another
    line before (their first order ever is earlier); the acquisition order is never
    cross-sell (currency units). History covers every product line of the brand."""
    return m["cross_sell_value"]


# -- customer acquisition cost ---------------------------------------------------------------------

#: ``campaigns.objective`` values of the campaigns whose cost is acquisition cost.
ACQUISITION_OBJECTIVES = ("acquisition",)


@measure("acquisition_cost", tables=("campaigns", "campaign_members", "orders"))
def acquisition_cost(ctx):
    """Acquisition campaigns started in each period (``objective`` in
    :data:`ACQUISITION_OBJECTIVES`; none when the source has no ``objective``) with their cost
    ``fixed_cost + cost_per_contact * contacted`` (treated members with a ``sent_at``, as the
    ROI analysis counts them), and the customers whose first order ever falls in the period.
    Two row sets in one query: campaigns placed by ``starts_at``, customers by first order."""
    c = ctx.table("campaigns")
    if "objective" in c.columns:
        is_acquisition = c.objective.lower().strip().isin(ACQUISITION_OBJECTIVES)
    else:
        is_acquisition = ibis.literal(False)
    c = c.filter(is_acquisition.fill_null(False) & ctx.in_window(c.starts_at))
    mem = ctx.table("campaign_members")
    sent = mem.filter((mem.group == "treatment") & mem.sent_at.notnull())
    contacts = sent.group_by(k_campaign=sent.campaign_id).aggregate(contacted=sent.count())
    c = c.left_join(contacts, c.campaign_id == contacts.k_campaign)
    cost = c.fixed_cost.fill_null(0.0) + c.cost_per_contact.fill_null(0.0) * c.contacted.fill_null(
        0
    )
    campaigns = c.select(
        at=c.starts_at,
        is_campaign=ibis.literal(1),
        cost=cost.cast("float64"),
        is_new=ibis.literal(0),
    )
    o = ctx.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.ordered_at < ctx.end))
    first = o.group_by(f_customer=o.customer_id).aggregate(at=o.ordered_at.min())
    first = first.filter(first.at >= ctx.start)
    new = first.select(
        at=first.at,
        is_campaign=ibis.literal(0),
        cost=ibis.literal(0.0),
        is_new=ibis.literal(1),
    )
    u = campaigns.union(new, distinct=False)
    u, keys = ctx.grouped(u, "at", customer_col=None)
    return u.group_by(**keys).aggregate(
        n_rows=u.is_campaign.sum(),
        acquisition_campaigns=u.is_campaign.sum(),
        acquisition_cost=u.cost.sum(),
        new_customers=u.is_new.sum(),
    )


@kpi("customer_acquisition_cost")
def customer_acquisition_cost(m):
    """Cost of the acquisition campaigns (campaigns whose objective is acquisition) started in
    the period, fixed cost plus cost per contact x customers contacted, divided by the
    customers whose first order ever was placed in the period (currency units per new
    customer). The data carry campaign costs only (no media, agency or sales-team cost), so it
    is the campaign share of the acquisition cost; no data in a period without an acquisition
    campaign."""
    return safe_div(m["acquisition_cost"], m["new_customers"])
