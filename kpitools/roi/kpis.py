"""Registry KPIs from the campaign ROI analysis: programme ROI, incremental margin and revenue.

The measure group ``campaign_programme`` (loaded by the KPI registry, see
:data:`kpitools.kpis.registry.MODEL_MEASURE_MODULES`) measures every campaign once against its
control group, exactly as :func:`kpitools.roi.analyse_campaigns` does
(:func:`kpitools.roi.campaign.analyse_campaign`: lift per targeted customer with
``params.roi.method``, cost ``fixed_cost + cost_per_contact * contacted``), then adds the
campaign estimates up per period over the **programme of that period**: the campaigns that
*started* in the 12 months ending with the period (:func:`kpitools.roi.outcomes.programme_window`,
the window of the ROI report). So the report's period reads the ROI report's programme total,
and the trend costs one campaign analysis, not one per period.

Per period, over its programme, as the ROI report's headline programme total:

* ``incremental_margin``: sum of the measured campaigns' incremental margin (margin lift per
  targeted customer x targeted customers, over each campaign's outcome window; measured: a
  control group, a cost and an estimable margin lift);
* ``programme_cost``: sum of the cost of **every** campaign of the programme, measured or not
  (an unmeasured campaign's margin is unknown and counts as 0, its cost counts);
* ``measured_cost``: the measured campaigns' cost alone;
* ``programme_roi``: ``(incremental margin - programme cost) / programme cost``, the ROI
  report's headline (``CampaignReport.programme``);
* ``incremental_revenue``: sum of their incremental revenue (when every measured campaign has
  one, as :func:`kpitools.roi.programme.combine_programme`).

Each campaign is measured with the data in the source (its whole outcome window when the data
have it): an older period's value is what its programme is known to have earned by now, and a
campaign whose outcome window is not over is provisional, as in the ROI report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from kpitools.errors import KpitoolsError, MissingTableError
from kpitools.kpis.compute import BreakdownUnsupported, QueryContext
from kpitools.kpis.definitions.common import safe_div
from kpitools.kpis.registry import kpi, measure
from kpitools.periods import TREND_LENGTH, YEAR_LAG, Period
from kpitools.roi.campaign import analyse_campaign
from kpitools.roi.outcomes import (
    line_cost_shares,
    load_campaign_outcomes,
    load_campaigns,
    programme_window,
)

__all__ = ["ESTIMATE_COLUMNS", "campaign_estimates", "programme_by_period"]

log = logging.getLogger(__name__)

#: Columns of a campaign-estimates frame (money in currency units).
ESTIMATE_COLUMNS = (
    "campaign_id",
    "starts_at",
    "measured",
    "cost",
    "incremental_margin",
    "incremental_revenue",
)


def campaign_estimates(db, params, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Every campaign starting in ``[start, end)`` measured as the ROI report measures it.

    Parameters
    ----------
    db : kpitools.data.sources.Database
        ``campaigns``, ``campaign_members``, ``orders``.
    params : kpitools.params.BrandParams
        ``params.roi`` and ``settings.lapse_days``.
    start, end : datetime
        Window of ``campaigns.starts_at``.

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS`, one row per campaign: ``measured`` when it has a ROI (a
        control group, a cost and a margin lift), ``incremental_margin`` and
        ``incremental_revenue`` NaN when not measured or not estimable.
    """
    campaigns = load_campaigns(db, period=(start, end))
    if campaigns.empty:
        return pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    # a product-line report: a brand-wide campaign's set-up cost is shared by targeted members,
    # exactly as in the ROI report (kpitools.roi.analysis), so both show the same programme ROI
    shares = line_cost_shares(db, campaigns)
    if shares is not None and len(shares):
        campaigns = campaigns.merge(
            shares.drop(columns="n_treated_brand"), on="campaign_id", how="left"
        )
    outcomes = load_campaign_outcomes(db, params, campaign_ids=campaigns["campaign_id"].tolist())
    last = db.table("orders").ordered_at.max().execute()
    data_end = None
    if last is not None and not pd.isna(last):
        ts = pd.Timestamp(last)
        ts = ts.tz_convert(None) if ts.tzinfo is not None else ts
        data_end = (ts.normalize() + pd.Timedelta(days=1)).to_pydatetime()
    rows = []
    for _, meta in campaigns.iterrows():
        members = outcomes[outcomes["campaign_id"] == meta["campaign_id"]]
        r = analyse_campaign(meta, members, params, data_end, guardrails=False)
        measured = r.roi is not None
        rows.append(
            {
                "campaign_id": r.campaign_id,
                "starts_at": pd.Timestamp(meta["starts_at"]),
                "measured": measured,
                "cost": float(r.cost),
                "incremental_margin": (
                    float(r.roi.incremental_margin) if r.roi is not None else float("nan")
                ),
                "incremental_revenue": (
                    float(r.incremental_revenue)
                    if measured and r.incremental_revenue is not None
                    else float("nan")
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))


def programme_by_period(estimates: pd.DataFrame, periods: Sequence[Period]) -> pd.DataFrame:
    """Add campaign estimates up over each period's programme (campaigns started in the 12
    months ending with it).

    Parameters
    ----------
    estimates : pandas.DataFrame
        :data:`ESTIMATE_COLUMNS` (see :func:`campaign_estimates`).
    periods : sequence of Period

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period`` (start), ``n_rows`` and ``measured_campaigns`` (measured
        campaigns of the programme: 0 means no data), ``programme_campaigns`` (all of them),
        ``programme_cost`` (every campaign's), ``measured_cost`` (the measured ones'),
        ``incremental_margin``, ``incremental_revenue`` (NaN unless every measured campaign
        has one).
    """
    rows = []
    starts = (
        pd.to_datetime(estimates["starts_at"])
        if len(estimates)
        else pd.Series([], dtype="datetime64[ns]")
    )
    for p in periods:
        lo, hi = programme_window(p)
        in_p = estimates[(starts >= pd.Timestamp(lo)) & (starts < pd.Timestamp(hi))]
        m = in_p[in_p["measured"].astype(bool)]
        revenue = m["incremental_revenue"].astype("float64")
        rows.append(
            {
                "period": p.start_ts(),
                "n_rows": float(len(m)),
                "measured_campaigns": float(len(m)),
                "programme_campaigns": float(len(in_p)),
                # the headline counts every campaign's cost (0 without a measured campaign:
                # no data, as before)
                "programme_cost": float(in_p["cost"].astype("float64").sum()) if len(m) else 0.0,
                "measured_cost": float(m["cost"].astype("float64").sum()),
                "incremental_margin": float(m["incremental_margin"].astype("float64").sum()),
                "incremental_revenue": (
                    float(revenue.sum()) if len(m) and revenue.notna().all() else float("nan")
                ),
            }
        )
    return pd.DataFrame(rows)


@measure("campaign_programme", tables=("campaigns", "campaign_members", "orders"))
def campaign_programme_measure(ctx: QueryContext) -> pd.DataFrame:
    """The programme of each period (campaigns started in the 12 months ending with it),
    measured against control groups as in the ROI report: measured campaigns, their cost,
    incremental margin and incremental revenue (see :mod:`kpitools.roi.kpis`)."""
    if ctx.by is not None:  # campaign estimates are not broken down here (the ROI report is)
        raise BreakdownUnsupported(ctx.by)
    n = max(TREND_LENGTH, YEAR_LAG[ctx.grain] + 1)
    periods = ctx.periods[-n:]
    if ctx.params is None:
        return programme_by_period(pd.DataFrame(columns=list(ESTIMATE_COLUMNS)), [])
    start, _ = programme_window(periods[0])
    try:
        estimates = campaign_estimates(ctx.db, ctx.params, start, ctx.end)
    except MissingTableError:
        raise
    except KpitoolsError as exc:  # a campaign that cannot be analysed: no data, said why
        log.warning("programme ROI KPIs: no data, the campaigns could not be measured: %s", exc)
        estimates = pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    return programme_by_period(estimates, periods)


@kpi("programme_roi")
def programme_roi(m):
    """(Incremental margin - cost) / cost of the campaign programme: the campaigns that started
    in the 12 months ending with the period and could be measured against their control group
    (margin lift per targeted customer x targeted customers over each campaign's outcome
    window, the days of the campaign and roi.attribution_days after it); cost = fixed cost +
    cost per contact x treated customers contacted, of every campaign of the programme. 0.25
    means 25 % earned on top of the cost; a campaign that could not be measured (no control
    group, too few controls, no estimable lift) adds its cost and no margin, as in the ROI
    report's headline."""
    return safe_div(m["incremental_margin"] - m["programme_cost"], m["programme_cost"])


@kpi("incremental_margin")
def incremental_margin(m):
    """Margin the campaign programme of the 12 months ending with the period earned against
    its control groups: the sum over its measured campaigns of margin lift per targeted
    customer x targeted customers (currency units, before the campaigns' cost)."""
    return m["incremental_margin"]


@kpi("incremental_revenue")
def incremental_revenue(m):
    """Revenue the campaign programme of the 12 months ending with the period earned against
    its control groups: the sum over its measured campaigns of revenue lift per targeted
    customer x targeted customers (currency units); unlike attributed revenue it is what the
    campaigns added, not what their targets spent."""
    return m["incremental_revenue"]
