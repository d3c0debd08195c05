"""Marketing KPIs (seed 003 "Marketing", seed 002 "taux de conversion de l'entonnoir").

Seven measure groups, one database query each:

``campaign_calendar`` (campaigns)
    campaigns running in each period.
``campaign_outcomes`` (campaigns, campaign_members, orders)
    the funnel of the campaigns that *started* in each period (sent, delivered, opened,
    clicked, purchased, unsubscribed, responded) and their last-touch revenue.
``campaign_leads`` (leads)
    leads created with a campaign, and customers converted from such leads.
``web_visits`` (web_sessions), ``referrals_created`` (referrals), ``email_list``
(subscriptions)
    one pass over their table each.
``basket_history`` (orders)
    customer tenure, cross-sell and up-sell value from one pass over the brand's order history.

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
``starts_at`` (a cohort of campaigns) and count every later event up to the end of the data:
the value of a recent period grows until its campaigns' outcome windows have closed.
"""

from __future__ import annotations

import ibis

from ..compute import safe_div
from ..registry import kpi, measure
from .common import flag, period_starts

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


def member_outcomes(table, start, end, attribution):
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
    per_member = ot.group_by(a_campaign=ot.t_campaign, a_customer=ot.t_customer).aggregate(
        window_orders=ot.count(),
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
        responded=is_contacted & m.responded_at.notnull(),
        purchased=is_contacted & m.window_orders.notnull(),
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
        campaign_revenue=t.attributed_revenue.sum(),
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
    :func:`member_outcomes` and the module notes on attribution.
    """
    t = member_outcomes(ctx.table, ctx.start, ctx.end, attribution_window(ctx))
    t, keys = ctx.grouped(t, "starts_at")
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
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

    Cross-sell, up-sell and tenure look at a customer's whole history with the brand, so that a
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

    Per order: the customer's first order ever with the brand, their first order on the order's
    product line, and the mean revenue of their previous orders on that line (ordered by
    ``ordered_at`` then ``order_id``).
    """
    o, lines = _brand_orders(ctx)
    o = o.filter(o.ordered_at < ctx.end)
    history = ibis.window(group_by=[o.customer_id, o.product_line])
    running = ibis.cumulative_window(
        group_by=[o.customer_id, o.product_line], order_by=[o.ordered_at, o.order_id]
    )
    o = o.mutate(
        first_order=o.ordered_at.min().over(ibis.window(group_by=o.customer_id)),
        first_on_line=o.ordered_at.min().over(history),
        line_revenue_to_date=o.revenue.sum().over(running),
        previous_on_line=ibis.row_number().over(running),  # 0 for the first order on the line
    )
    o = o.filter(ctx.in_window(o.ordered_at))
    if lines:
        o = o.filter(o.product_line.isin(list(lines)))
    previous_mean = (o.line_revenue_to_date - o.revenue) / o.previous_on_line.nullif(0)
    above = (o.revenue - previous_mean).fill_null(0.0)
    o = o.mutate(
        cross=(o.first_on_line > o.first_order)
        & (ctx.bucket(o.first_on_line) == ctx.bucket(o.ordered_at)),
        up=ibis.ifelse(above > 0, above, 0.0),
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
        up_sell_value=o.up.sum(),
        revenue=o.revenue.sum(),
    )


def _if_tracked(m, series):
    """``series``, or NaN throughout when no lead of the window carries a campaign_id."""
    if m["campaign_leads"].fillna(0).sum() > 0:
        return series
    return series * float("nan")


# -- KPIs: campaigns ---------------------------------------------------------------------------


@kpi(
    "campaigns_run",
    department="marketing",
    unit="count",
    direction="higher",
    measure="campaign_calendar",
    labels={
        "en": ("Campaigns run", "Campaigns running at some point of the period."),
        "fr": ("Campagnes menées", "Campagnes en cours à un moment de la période."),
        "it": ("Numero di campagne", "Campagne in corso in un momento del periodo."),
    },
)
def campaigns_run(m):
    """Number of campaigns running during the period: starts_at before the period end and
    either starts_at in the period or ends_at after the period start. A campaign spanning two
    periods counts in both. No campaign running: no data."""
    return m["campaigns_run"]


@kpi(
    "campaign_response_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": (
            "Campaign response rate",
            "Share of contacted members of the period's campaigns who responded.",
        ),
        "fr": (
            "Taux de réponse aux campagnes",
            "Part des membres contactés des campagnes de la période qui ont répondu.",
        ),
        "it": (
            "Tasso di risposta alle campagne",
            "Quota dei membri contattati dalle campagne del periodo che hanno risposto.",
        ),
    },
)
def campaign_response_rate(m):
    """Contacted members (treatment group, sent_at set) with a responded_at, divided by
    contacted members, over the campaigns whose starts_at falls in the period. Control members
    are never counted."""
    return safe_div(m["responded"], m["sent"])


@kpi(
    "campaign_revenue",
    department="marketing",
    unit="currency",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": (
            "Campaign revenue",
            "Revenue of the orders attributed (last touch) to the campaigns started in the period.",
        ),
        "fr": (
            "Chiffre d'affaires des campagnes",
            "Chiffre d'affaires des commandes attribuées (dernier contact) aux campagnes "
            "lancées dans la période.",
        ),
        "it": (
            "Entrate generate dalle campagne",
            "Fatturato degli ordini attribuiti (ultimo contatto) alle campagne avviate nel "
            "periodo.",
        ),
    },
)
def campaign_revenue(m):
    """Sum of orders.revenue over the orders attributed to campaigns whose starts_at falls in
    the period (currency units). An order is attributed when its customer was a contacted
    member (treatment group, sent_at set) and it was placed in the campaign's outcome window,
    from starts_at (inclusive) to ends_at + roi.attribution_days (default 30) days (exclusive);
    an order in the windows of several such campaigns goes whole to the one that started last
    (last touch, ties to the highest campaign_id), so it is never counted twice. This is
    attributed, not incremental, revenue (see the ROI analysis for the control-group lift);
    it grows until the campaigns' outcome windows have closed."""
    return m["campaign_revenue"]


@kpi(
    "campaign_leads",
    department="marketing",
    unit="count",
    direction="higher",
    measure="campaign_leads",
    labels={
        "en": ("Campaign leads", "Leads created in the period that came from a campaign."),
        "fr": (
            "Prospects issus des campagnes",
            "Prospects créés dans la période et issus d'une campagne.",
        ),
        "it": (
            "Lead acquisiti dalle campagne",
            "Lead creati nel periodo e generati da una campagna.",
        ),
    },
)
def campaign_leads(m):
    """Number of leads whose created_at falls in the period and whose campaign_id is set. No
    data when no lead of the whole report window (the 14 periods fetched) carries a
    campaign_id, e.g. when the leads table has no campaign_id column."""
    return _if_tracked(m, m["campaign_leads"])


@kpi(
    "campaign_new_customers",
    department="marketing",
    unit="count",
    direction="higher",
    measure="campaign_leads",
    labels={
        "en": (
            "New customers from campaigns",
            "Customers converted in the period from a campaign lead.",
        ),
        "fr": (
            "Nouveaux clients issus des campagnes",
            "Clients convertis dans la période à partir d'un prospect de campagne.",
        ),
        "it": (
            "Nuovi clienti acquisiti dalle campagne",
            "Clienti convertiti nel periodo da un lead generato da una campagna.",
        ),
    },
)
def campaign_new_customers(m):
    """Number of distinct customers (leads.customer_id) of leads with a campaign_id whose
    converted_at falls in the period, whatever the period the lead was created in. No data in
    the same case as campaign_leads (no campaign attribution in the leads)."""
    return _if_tracked(m, m["campaign_new_customers"])


# -- KPIs: funnel step rates (campaigns started in the period) -------------------------------------


@kpi(
    "delivery_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": ("Delivery rate", "Share of the messages sent that were delivered."),
        "fr": ("Taux de délivrabilité", "Part des messages envoyés qui ont été délivrés."),
        "it": ("Tasso di consegna", "Quota dei messaggi inviati che sono stati consegnati."),
    },
)
def delivery_rate(m):
    """Delivered members divided by contacted members (treatment group, sent_at set), over the
    campaigns whose starts_at falls in the period. A member is delivered when delivered is
    true, or when an open, a click or an unsubscription was recorded (they prove delivery)."""
    return safe_div(m["delivered"], m["sent"])


@kpi(
    "open_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": ("Open rate", "Share of the delivered messages that were opened."),
        "fr": ("Taux d'ouverture", "Part des messages délivrés qui ont été ouverts."),
        "it": ("Tasso di apertura", "Quota dei messaggi consegnati che sono stati aperti."),
    },
)
def open_rate(m):
    """Contacted members with an opened_at or a clicked_at (a click proves an open), divided by
    delivered members, over the campaigns whose starts_at falls in the period."""
    return safe_div(m["opened"], m["delivered"])


@kpi(
    "click_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": ("Click-to-open rate", "Share of the opened messages that were clicked."),
        "fr": ("Taux de réactivité", "Part des messages ouverts sur lesquels on a cliqué."),
        "it": (
            "Tasso di clic sulle aperture",
            "Quota dei messaggi aperti su cui si è cliccato.",
        ),
    },
)
def click_rate(m):
    """Contacted members with a clicked_at divided by members who opened (click-to-open rate,
    the funnel step after the open), over the campaigns whose starts_at falls in the period.
    Clicks over delivered messages = open_rate x click_rate."""
    return safe_div(m["clicked"], m["opened"])


@kpi(
    "purchase_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="campaign_outcomes",
    labels={
        "en": (
            "Campaign purchase rate",
            "Share of contacted members who ordered within the campaign's outcome window.",
        ),
        "fr": (
            "Taux d'achat des campagnes",
            "Part des membres contactés qui ont commandé dans la fenêtre de mesure de la campagne.",
        ),
        "it": (
            "Tasso di acquisto delle campagne",
            "Quota dei membri contattati che hanno ordinato entro la finestra di misura della "
            "campagna.",
        ),
    },
)
def purchase_rate(m):
    """Contacted members (treatment group, sent_at set) with at least one order placed in the
    campaign's outcome window (from starts_at to ends_at + roi.attribution_days, default 30
    days; any product line), divided by contacted members, over the campaigns whose starts_at
    falls in the period. Not reduced by last touch; not a lift (control members buy too)."""
    return safe_div(m["purchased"], m["sent"])


@kpi(
    "unsubscribe_rate",
    department="marketing",
    unit="ratio",
    direction="lower",
    measure="campaign_outcomes",
    labels={
        "en": (
            "Unsubscribe rate",
            "Share of the delivered messages followed by an unsubscription.",
        ),
        "fr": (
            "Taux de désabonnement",
            "Part des messages délivrés suivis d'un désabonnement.",
        ),
        "it": (
            "Tasso di disiscrizione",
            "Quota dei messaggi consegnati seguiti da una disiscrizione.",
        ),
    },
)
def unsubscribe_rate(m):
    """Contacted members with an unsubscribed_at divided by delivered members, over the
    campaigns whose starts_at falls in the period."""
    return safe_div(m["unsubscribed"], m["delivered"])


# -- KPIs: referrals, web, e-mail list ---------------------------------------------------------


@kpi(
    "referrals",
    department="marketing",
    unit="count",
    direction="higher",
    measure="referrals_created",
    labels={
        "en": ("Customer referrals", "Referrals made by customers in the period."),
        "fr": ("Recommandations clients", "Parrainages faits par des clients dans la période."),
        "it": ("Referenze dei clienti", "Referenze date dai clienti nel periodo."),
    },
)
def referrals(m):
    """Number of referrals whose created_at falls in the period, whether or not the referred
    person became a customer."""
    return m["referrals"]


@kpi(
    "web_page_views",
    department="marketing",
    unit="count",
    direction="higher",
    measure="web_visits",
    labels={
        "en": ("Web page views", "Pages viewed during the web visits of the period."),
        "fr": ("Pages vues", "Pages vues pendant les visites web de la période."),
        "it": (
            "Visualizzazioni di pagine web",
            "Pagine visualizzate nelle visite al sito del periodo.",
        ),
    },
)
def web_page_views(m):
    """Sum of web_sessions.page_views over sessions whose started_at falls in the period,
    anonymous visits included."""
    return m["page_views"]


@kpi(
    "web_goal_completion_rate",
    department="marketing",
    unit="ratio",
    direction="higher",
    measure="web_visits",
    labels={
        "en": (
            "Web goal completion rate",
            "Share of the period's web visits that completed a goal.",
        ),
        "fr": (
            "Taux de réalisation des objectifs web",
            "Part des visites web de la période qui ont atteint un objectif.",
        ),
        "it": (
            "Tasso di completamento degli obiettivi web",
            "Quota delle visite al sito del periodo che hanno completato un obiettivo.",
        ),
    },
)
def web_goal_completion_rate(m):
    """Sessions started in the period with goal_completed true, divided by the sessions started
    in the period whose goal_completed is known (not NULL)."""
    return safe_div(m["goal_sessions"], m["goal_known"])


@kpi(
    "time_per_visit",
    department="marketing",
    unit="seconds",
    direction="higher",
    measure="web_visits",
    labels={
        "en": ("Time per visit", "Mean duration of the period's web visits."),
        "fr": ("Durée par visite", "Durée moyenne des visites web de la période."),
        "it": ("Tempo per visita", "Durata media delle visite al sito del periodo."),
    },
)
def time_per_visit(m):
    """Mean of web_sessions.duration_seconds over sessions started in the period with a known
    duration (seconds)."""
    return safe_div(m["duration_seconds"], m["timed_sessions"])


@kpi(
    "email_list_growth_rate",
    department="marketing",
    unit="score",
    direction="higher",
    measure="email_list",
    labels={
        "en": (
            "E-mail list growth rate",
            "New subscriptions minus unsubscriptions, in % of the list size at the period start.",
        ),
        "fr": (
            "Taux de croissance de la liste e-mail",
            "Nouveaux abonnements moins désabonnements, en % de la taille de la liste en début "
            "de période.",
        ),
        "it": (
            "Tasso di crescita dell'elenco email",
            "Nuove iscrizioni meno disiscrizioni, in % della dimensione dell'elenco a inizio "
            "periodo.",
        ),
    },
)
def email_list_growth_rate(m):
    """100 x (subscriptions with subscribed_at in the period - subscriptions with
    unsubscribed_at in the period) / subscriptions on the list at the period start
    (subscribed_at before it, unsubscribed_at NULL or not before it), in percent: 7.5 means the
    list grew by 7.5 % over the period; negative when it shrank, above 100 when it more than
    doubled (so a score in percent, not a ratio in [0, 1]; changes are in points).
    Subscriptions are rows of subscriptions (customer x list), summed over all mailing lists;
    a row unsubscribed before it subscribed is ignored. No data when the list was empty at the
    period start."""
    growth = m["new_subscriptions"] - m["unsubscriptions"]
    return 100 * safe_div(growth, m["list_size_at_start"])


# -- KPIs: customer history --------------------------------------------------------------------


@kpi(
    "customer_tenure_days",
    department="marketing",
    unit="days",
    direction="higher",
    measure="basket_history",
    labels={
        "en": (
            "Customer tenure",
            "Mean age of the active customers' relationship at the end of the period.",
        ),
        "fr": (
            "Ancienneté des clients",
            "Ancienneté moyenne de la relation des clients actifs en fin de période.",
        ),
        "it": (
            "Tempo di vita del cliente",
            "Durata media della relazione dei clienti attivi alla fine del periodo.",
        ),
    },
)
def customer_tenure_days(m):
    """Mean, over the customers with at least one order in the period, of the days from their
    first order ever with the brand (on any product line) to the end of the period."""
    return safe_div(m["tenure_days"], m["active_customers"])


@kpi(
    "cross_sell_value",
    department="marketing",
    unit="currency",
    direction="higher",
    measure="basket_history",
    labels={
        "en": (
            "Cross-sell value",
            "Revenue of the period on product lines customers bought for the first time.",
        ),
        "fr": (
            "Valeur des ventes croisées",
            "Chiffre d'affaires de la période sur des lignes de produits achetées pour la "
            "première fois par des clients existants.",
        ),
        "it": (
            "Valore del cross-sell",
            "Fatturato del periodo su linee di prodotto acquistate per la prima volta da "
            "clienti esistenti.",
        ),
    },
)
def cross_sell_value(m):
    """Sum of orders.revenue over the orders placed in the period on a product line whose
    first order by that customer falls in the period, when the customer had ordered another
    line before (their first order ever is earlier); the acquisition order is never
    cross-sell (currency units). History covers every product line of the brand."""
    return m["cross_sell_value"]


@kpi(
    "up_sell_value",
    department="marketing",
    unit="currency",
    direction="higher",
    measure="basket_history",
    labels={
        "en": (
            "Up-sell value",
            "Revenue of the period above each customer's usual basket on the same line.",
        ),
        "fr": (
            "Valeur de la montée en gamme",
            "Chiffre d'affaires de la période au-delà du panier habituel du client sur la même "
            "ligne.",
        ),
        "it": (
            "Valore dell'up-sell",
            "Fatturato del periodo oltre lo scontrino abituale del cliente sulla stessa linea.",
        ),
    },
)
def up_sell_value(m):
    """Sum, over the orders placed in the period by customers who had ordered on the same
    product line before, of max(0, order revenue - mean revenue of their previous orders on
    that line) (currency units). Orders below the usual basket count 0, not a negative."""
    return m["up_sell_value"]
