"""Per-member outcomes of CRM campaigns, computed in the database with Ibis.

:func:`load_campaign_outcomes` joins every campaign member (targeted or held out in the control
group) with that customer's orders and aggregates, **inside the database**, one row per member:
the outcome over the campaign's measurement window, the same quantities over a pre-period
(covariates for the lift estimators of :mod:`kpitools.roi.estimators`) and the customer's
segment at the start of the campaign. Only the member-level result comes back to Python: at
most as many rows as ``campaign_members`` holds for the campaigns selected, a few columns each.

Windows (all half-open, ``[start, end)``, so that an order exactly at ``end`` is outside):

outcome window
    ``[starts_at, ends_at + roi.attribution_days days)``. Orders placed from the first day of
    the campaign until ``attribution_days`` after its end count as its outcome, in both groups.
pre-period
    ``[starts_at - roi.pre_period_days days, starts_at)``: ``pre_revenue``, ``pre_margin``,
    ``pre_orders``; measured before the campaign, so the campaign cannot have changed them.

Segment at the start of the campaign (the one segment rule,
:func:`kpitools.kpis.segments.customer_segment`, that the scorecard applies to calendar periods, with the reference period being the
pre-period ``W = [starts_at - P, starts_at)`` of ``P = roi.pre_period_days`` days instead of a
calendar month, and ``L = settings.lapse_days``), first matching rule wins:

``new``
    no order before ``W`` (the first order ever falls in ``W``, or the customer has not
    ordered at all yet: a prospect targeted by the campaign);
``inactive``
    ordered before ``W`` but not in ``W`` (a lapsed customer; the catalogue's "not buying in
    the period");
``reactivated``
    ordered in ``W`` and the first order in ``W`` comes more than ``L`` days after the last
    order before ``W`` (came back after a lapse);
``steady``
    ordered in ``W`` and in the ``P`` days before it, ``[starts_at - 2P, starts_at - P)`` (the
    catalogue's "bought in the period and in the previous one");
``returning``
    any other customer who ordered in ``W`` (bought before, within the lapse, but not in the
    previous ``P`` days).

With the defaults (``P = 90``, ``L = 365``) ``new``, ``reactivated`` and ``inactive`` are the
demo generator's ``new``, ``reactivated`` and ``lapsed``; its ``steady`` is ``steady`` plus
``returning``.

Campaigns of a report period: see :func:`programme_window`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import ibis
import pandas as pd

from kpitools.data.sources import Database
from kpitools.errors import CampaignError, MissingTableError
from kpitools.kpis.segments import customer_segment
from kpitools.params import BrandParams
from kpitools.periods import MONTHS_PER, Period
from kpitools.vocab import Segment

#: A date or timestamp, or its ISO text (anything :class:`pandas.Timestamp` reads).
DateLike = date | str

#: A campaign id (the ``campaigns.campaign_id`` column: an integer or a text key).
CampaignId = int | str

__all__ = [
    "OUTCOME_COLUMNS",
    "PROGRAMME_MONTHS",
    "line_cost_shares",
    "line_customers",
    "load_campaign_outcomes",
    "load_campaigns",
    "programme_window",
]

#: Length of the programme window (months) ending with the report's period.
PROGRAMME_MONTHS = 12

#: Columns of :func:`load_campaign_outcomes`, in order.
OUTCOME_COLUMNS = (
    "campaign_id",
    "customer_id",
    "group",
    "treated",
    "contacted",
    "segment",
    "channel",
    "revenue",
    "margin",
    "orders",
    "converted",
    "pre_revenue",
    "pre_margin",
    "pre_orders",
)

_CAMPAIGN_COLUMNS = (
    "campaign_id",
    "name",
    "channel",
    "product_line",
    "starts_at",
    "ends_at",
    "fixed_cost",
    "cost_per_contact",
    "planned_control_share",
)


def programme_window(period: Period) -> tuple[datetime, datetime]:
    """The campaigns of a report period: those starting in the 12 months ending with it.

    A single month rarely holds more than one or two campaigns, which is too few for a
    programme view, and a campaign's outcome runs past its own month anyway. So the programme
    of period ``p`` is every campaign whose ``starts_at`` falls in the
    :data:`PROGRAMME_MONTHS` (12) months ending with ``p``: ``[p.end - 12 months, p.end)``
    (the year itself for a yearly report, four quarters for a quarterly one). Campaigns whose
    outcome window is not over when the data end are flagged as provisional by the analysis.

    Parameters
    ----------
    period : Period
        The report's period.

    Returns
    -------
    (datetime, datetime)
        Inclusive start and exclusive end of the window.
    """
    n = max(1, PROGRAMME_MONTHS // MONTHS_PER[period.grain])
    first = period.shift(-(n - 1))
    return first.start_ts(), period.end_ts()


def _need(db, *names: str) -> None:
    for name in names:
        if not db.has(name):
            raise MissingTableError(name, needed_by="campaign ROI")


def _campaign_filter(c, *, campaign_ids=None, window=None):
    if campaign_ids is not None:
        ids = list(campaign_ids)
        if not ids:
            return c.filter(ibis.literal(False))
        c = c.filter(c.campaign_id.isin(ids))
    if window is not None:
        start, end = window
        c = c.filter((c.starts_at >= start) & (c.starts_at < end))
    return c


def _window_of(period) -> tuple[datetime, datetime] | None:
    if period is None:
        return None
    if isinstance(period, Period):
        return programme_window(period)
    if isinstance(period, tuple) and len(period) == 2:
        return pd.Timestamp(period[0]).to_pydatetime(), pd.Timestamp(period[1]).to_pydatetime()
    raise CampaignError(
        f"period must be a Period or a (start, end) pair, got {type(period).__name__}"
    )


def load_campaigns(
    db: Database,
    *,
    campaign_ids: Sequence[CampaignId] | None = None,
    period: Period | tuple[DateLike, DateLike] | None = None,
) -> pd.DataFrame:
    """The campaigns selected, one row each (the ``campaigns`` table is small).

    Parameters
    ----------
    db : kpitools.data.sources.Database
        The brand's data.
    campaign_ids : sequence, optional
        Keep these campaigns only.
    period : Period or (start, end), optional
        Keep the campaigns starting in :func:`programme_window` of this period (or in
        ``[start, end)``). Without ``campaign_ids`` nor ``period``: every campaign.

    Returns
    -------
    pandas.DataFrame
        ``campaign_id``, ``name``, ``channel``, ``product_line``, ``starts_at``, ``ends_at``,
        ``fixed_cost``, ``cost_per_contact`` (currency units), ``planned_control_share``;
        ordered by ``starts_at`` then ``campaign_id``.
    """
    _need(db, "campaigns")
    c = db.table("campaigns")
    c = _campaign_filter(c, campaign_ids=campaign_ids, window=_window_of(period))
    df = c.select(*_CAMPAIGN_COLUMNS).execute()
    for col in ("starts_at", "ends_at"):
        df[col] = pd.to_datetime(df[col]).dt.tz_localize(None)
    return df.sort_values(["starts_at", "campaign_id"], kind="stable").reset_index(drop=True)


def line_customers(db: Database) -> ibis.Table | None:
    """The customers of the report's product lines (one ``customer_id`` column), by the
    ``customers.product_line`` they belong to; None in a brand report or when the source has
    no ``customers`` table (a brand-wide campaign's members cannot then be told apart)."""
    if not tuple(getattr(db, "product_lines", ()) or ()) or not db.has("customers"):
        return None
    c = db.table("customers")
    return c.select(c.customer_id)


def line_cost_shares(db: Database, campaigns: pd.DataFrame) -> pd.DataFrame | None:
    """The line's share of each brand-wide campaign's targeted members, in a product-line report.

    A campaign without a product line is run for the whole brand: a line's report carries
    the part of its cost that falls on the line, in proportion to its targeted (treatment)
    members whose customer belongs to the line (:func:`line_customers`); its outcome is
    measured on the same members, on the line's orders (:func:`load_campaign_outcomes`).

    Parameters
    ----------
    db : Database
        The brand's data, with its product lines.
    campaigns : pandas.DataFrame
        As from :func:`load_campaigns` (``campaign_id``, ``product_line``).

    Returns
    -------
    pandas.DataFrame or None
        One row per brand-wide campaign: ``campaign_id``, ``n_treated_brand`` (treatment
        members of the brand), ``n_treated_line`` (of them, the line's customers) and
        ``cost_share`` (their ratio, 0 to 1; NaN without treatment members). Empty in a
        brand report or without brand-wide campaigns; None when the share cannot be computed
        (no ``customers`` table): the line then carries the whole cost.
    """
    columns = ["campaign_id", "n_treated_brand", "n_treated_line", "cost_share"]
    lines = tuple(getattr(db, "product_lines", ()) or ())
    shared = campaigns.loc[campaigns["product_line"].isna(), "campaign_id"].tolist()
    if not lines or not shared:
        return pd.DataFrame(columns=columns)
    who = line_customers(db)
    if who is None:
        return None
    _need(db, "campaign_members")
    m = db.brand_table("campaign_members")  # every member, whatever their line
    m = m.filter(m.campaign_id.isin(shared) & (m["group"] == "treatment"))
    on_line = m.customer_id.isin(who.customer_id)
    df = (
        m.group_by(m.campaign_id)
        .aggregate(n_treated_brand=m.count(), n_treated_line=on_line.sum())
        .execute()
    )
    df = pd.DataFrame({"campaign_id": shared}).merge(df, on="campaign_id", how="left")
    df["n_treated_brand"] = df["n_treated_brand"].fillna(0).astype("int64")
    df["n_treated_line"] = df["n_treated_line"].fillna(0).astype("int64")
    brand = df["n_treated_brand"].where(df["n_treated_brand"] > 0)
    df["cost_share"] = (df["n_treated_line"] / brand).astype("float64")
    return df.loc[:, columns]


def _outcome_expr(db, params, c):
    """The Ibis expression of the member-level outcomes for the campaigns in ``c``."""
    roi = params.roi
    pre = ibis.interval(days=int(roi.pre_period_days))
    c = c.select(
        c.campaign_id,
        c.channel,
        c.starts_at,
        win_end=c.ends_at + ibis.interval(days=int(roi.attribution_days)),
        pre_start=c.starts_at - pre,
        prev_start=c.starts_at - pre - pre,
    )
    m = db.table("campaign_members")
    m = m.select(
        m_campaign_id=m.campaign_id,
        customer_id=m.customer_id,
        group=m.group,
        sent_at=m.sent_at,
    )
    # in a product-line report, a brand-wide campaign (no line) has only its members who are
    # the line's customers (Database.table), the members its share of the cost is for
    mc = m.join(c, m.m_campaign_id == c.campaign_id).drop("m_campaign_id")
    o = db.table("orders")
    o = o.select(
        o_customer=o.customer_id,
        ordered_at=o.ordered_at,
        o_revenue=o.revenue.cast("float64"),
        o_margin=(o.revenue - o.cost).cast("float64"),
    )
    # Every order of the member before the end of its outcome window: the history is needed
    # for the segment (first order ever, last order before the pre-period).
    j = mc.left_join(o, (mc.customer_id == o.o_customer) & (o.ordered_at < mc.win_end))
    in_out = (j.ordered_at >= j.starts_at) & (j.ordered_at < j.win_end)
    in_pre = (j.ordered_at >= j.pre_start) & (j.ordered_at < j.starts_at)
    in_prev = (j.ordered_at >= j.prev_start) & (j.ordered_at < j.pre_start)
    before_pre = j.ordered_at < j.pre_start
    agg = j.group_by(
        "campaign_id", "customer_id", "group", "sent_at", "channel", "starts_at"
    ).aggregate(
        revenue=j.o_revenue.sum(where=in_out),
        margin=j.o_margin.sum(where=in_out),
        orders=j.ordered_at.count(where=in_out),
        pre_revenue=j.o_revenue.sum(where=in_pre),
        pre_margin=j.o_margin.sum(where=in_pre),
        pre_orders=j.ordered_at.count(where=in_pre),
        n_prev=j.ordered_at.count(where=in_prev),
        n_before=j.ordered_at.count(where=before_pre),
        last_before=j.ordered_at.max(where=before_pre),
        first_pre=j.ordered_at.min(where=in_pre),
    )
    # the one segment rule of the scorecard (kpis.segments), with the pre-period as the
    # reference period; a member who did not order in it is inactive
    segment = ibis.ifelse(
        (agg.n_before > 0) & (agg.pre_orders == 0),
        Segment.INACTIVE.value,
        customer_segment(
            first_ever=agg.n_before == 0,
            last_before=agg.last_before,
            first_in_period=agg.first_pre,
            bought_previous=agg.n_prev > 0,
            lapse_days=int(params.settings.lapse_days),
        ),
    )
    # ifelse rather than casting booleans: PostgreSQL has no boolean -> bigint cast
    treated = agg.group == "treatment"
    orders = agg.orders.fill_null(0)
    return agg.select(
        agg.campaign_id,
        agg.customer_id,
        agg.group,
        treated=ibis.ifelse(treated, 1, 0),
        contacted=ibis.ifelse(treated & agg.sent_at.notnull(), 1, 0),
        segment=segment,
        channel=agg.channel,
        revenue=agg.revenue.fill_null(0.0),
        margin=agg.margin.fill_null(0.0),
        orders=orders,
        converted=ibis.ifelse(orders > 0, 1, 0),
        pre_revenue=agg.pre_revenue.fill_null(0.0),
        pre_margin=agg.pre_margin.fill_null(0.0),
        pre_orders=agg.pre_orders.fill_null(0),
    )


def load_campaign_outcomes(
    db: Database,
    params: BrandParams,
    *,
    campaign_ids: Sequence[CampaignId] | None = None,
    period: Period | tuple[DateLike, DateLike] | None = None,
) -> pd.DataFrame:
    """One row per campaign member with its outcome, pre-period covariates and segment.

    The join of members with orders and the aggregation per member run in the database (one
    query); only the member-level result is fetched, i.e. at most the number of
    ``campaign_members`` rows of the campaigns selected, which is acceptable for any CRM
    campaign programme (hundreds of thousands of rows at most, 14 narrow columns).

    Parameters
    ----------
    db : kpitools.data.sources.Database
        The brand's data (tables ``campaigns``, ``campaign_members``, ``orders``).
    params : kpitools.params.BrandParams
        ``roi.attribution_days`` and ``roi.pre_period_days`` set the windows,
        ``settings.lapse_days`` the reactivation lapse (see the module docstring).
    campaign_ids : sequence, optional
        Campaigns to load.
    period : Period or (start, end), optional
        Load the campaigns starting in :func:`programme_window` of this period (or in the
        ``[start, end)`` pair given). With neither ``campaign_ids`` nor ``period``, every
        campaign of the brand is loaded.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTCOME_COLUMNS`:

        - ``campaign_id``, ``customer_id``; ``group`` (``treatment`` / ``control``);
        - ``treated`` 1 for the treatment group, 0 for the control group;
        - ``contacted`` 1 for a treated member with a ``sent_at`` (the campaign was sent);
        - ``segment`` at the start of the campaign (:class:`kpitools.vocab.Segment`, rules in the module
          docstring); ``channel`` of the campaign;
        - ``revenue``, ``margin`` (revenue - cost of goods, currency units), ``orders`` and
          ``converted`` (1 if at least one order) over the outcome window
          ``[starts_at, ends_at + attribution_days)``;
        - ``pre_revenue``, ``pre_margin``, ``pre_orders`` over
          ``[starts_at - pre_period_days, starts_at)``.

        Members without orders get 0, never NULL. Sorted by campaign then customer.

        In a product-line report the orders are the line's, and a brand-wide campaign (no
        product line) keeps only its members who are the line's customers (when the source has
        ``customers``), the members the line's share of its cost is for
        (:func:`line_cost_shares`).

    Raises
    ------
    MissingTableError
        When ``campaigns``, ``campaign_members`` or ``orders`` is absent.
    """
    _need(db, "campaigns", "campaign_members", "orders")
    c = db.table("campaigns")
    c = _campaign_filter(c, campaign_ids=campaign_ids, window=_window_of(period))
    df = _outcome_expr(db, params, c).execute()
    df = df.loc[:, list(OUTCOME_COLUMNS)]
    for col in ("revenue", "margin", "pre_revenue", "pre_margin"):
        df[col] = df[col].astype("float64")
    for col in ("treated", "contacted", "orders", "converted", "pre_orders"):
        df[col] = df[col].astype("int64")
    df["group"] = df["group"].astype(str)
    df["segment"] = df["segment"].astype(str)
    return df.sort_values(["campaign_id", "customer_id"], kind="stable").reset_index(drop=True)
