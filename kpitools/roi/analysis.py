"""Campaign and programme ROI of a brand against control groups, from its data.

:func:`analyse_campaigns` is the one call a report makes. It selects the campaigns of the
report's period (:func:`kpitools.roi.outcomes.programme_window`: those starting in the 12
months ending with the period), loads one row per member in the database
(:func:`kpitools.roi.outcomes.load_campaign_outcomes`) and, per campaign:

* counts members, treated and control customers and the treated customers actually contacted
  (``sent_at`` filled in), and the cost ``fixed_cost + cost_per_contact * contacted``
  (:func:`~kpitools.roi.programme.cost_of`);
* estimates the lift per targeted customer on revenue, on margin and on conversion over the
  outcome window with ``params.roi.method`` (covariates ``pre_revenue``, ``pre_margin`` and
  ``pre_orders``; none for ``"diff"``), ``cov_type`` and ``alpha``
  (:func:`~kpitools.roi.estimators.estimate_lift`). A covariate that is constant among the
  members analysed carries no information: the difference in means is then used, which is what
  the adjusted estimators reduce to. If the adjusted fit fails for another reason (collinear
  data, leverage 1) the difference in means is used and an ``info`` issue says so;
* turns the **margin** lift into incremental margin and ROI with their intervals
  (:func:`~kpitools.roi.programme.compute_roi`, ``margin_rate=None``) and a verdict
  (``profitable`` / ``not profitable`` / ``inconclusive``, or ``not measured`` when no ROI can
  be computed: no members, no control group, no cost, lift not estimable);
* runs the guardrails: group sizes (:func:`~kpitools.roi.guardrails.check_groups` with
  ``roi.min_control``), sample ratio mismatch against ``planned_control_share``
  (:func:`~kpitools.roi.guardrails.sample_ratio_mismatch`), minimum detectable effect at 80 %
  power for the actual group sizes (:func:`~kpitools.roi.guardrails.minimum_detectable_effect`,
  from the pooled within-group standard deviation of the outcome, i.e. for the plain difference
  in means; covariate adjustment usually does a little better), compared with the **break-even
  margin lift** ``cost / n_treated``; when the break-even lift is below the MDE the control
  group is too small to prove the campaign pays, and the control size that would
  (:func:`~kpitools.roi.guardrails.required_control_size`) is given (as a warning when the ROI
  is inconclusive). A campaign whose outcome window runs past the last order in the data is
  flagged ``provisional``.

In a **product-line report** the orders are the line's, and a brand-wide campaign (no
product line) is analysed on its members who are the line's customers (by
``customers.product_line``, :meth:`kpitools.data.sources.Database.table`): the line carries
the contact cost of those members and the share of the fixed cost of its treated members
(:func:`~kpitools.roi.outcomes.line_cost_shares`, issue ``line_cost_share``), so that the
lines' costs add up to the campaign's. Without a ``customers`` table the line carries the
whole cost and the report says so (``line_cost_whole``). A line customer's purchase on
another line counts in neither line's report (it does in the brand's).

Every problem is an :class:`~kpitools.roi.results.Issue` (a reason code and the numbers it
is made of; the report writes the sentence); a figure that cannot be computed is ``None``
together with an issue saying why, never a silent NaN.

Modules: :mod:`~kpitools.roi.results` (result classes), :mod:`~kpitools.roi.campaign` (one
campaign), :mod:`~kpitools.roi.views` (segments and channels), this module (the window).

Programme views:

* **total**: :func:`~kpitools.roi.programme.combine_programme` over the campaigns with a ROI
  (campaign estimates assumed independent; the share of members in several campaigns is
  reported); the incremental revenue total is summed the same way (normal interval). The
  **headline** programme ROI (``CampaignReport.programme``) counts the cost of every campaign,
  measured or not (an unmeasured campaign's margin counted as 0,
  :func:`~kpitools.roi.programme.with_unmeasured_cost`); the ROI of the measured campaigns alone
  is ``CampaignReport.programme_measured``;
* **verdicts**: each campaign's break-even test, with Benjamini–Hochberg across the report's
  measured campaigns at ``q = alpha / 2`` in each direction (:mod:`kpitools.roi.verdicts`);
* **by segment** (segment of the member at the campaign's start): the lift is estimated
  within each campaign x segment cell (each cell compares treated and control customers of the
  same campaign, so different control shares across campaigns cannot bias it), then summed
  over campaigns: incremental revenue ``sum(n_treated_cs * lift_cs)``, lift per treated
  customer = that total / ``sum(n_treated_cs)``, variances added. The cost of a campaign is
  split between its segments: contact cost of the segment's contacted customers plus the fixed
  cost pro rata of its treated customers. Cells with fewer than 2 treated or 2 control
  customers are left out (counted in ``n_treated_skipped``);
* **by channel** and **by product line**: the campaigns of each group combined as above.

Every view has a last ``"not measured"`` row with what it could not measure (unmeasured
campaigns, cells too small) and why, so that its rows add up to the programme's treated,
control customers and cost.

Whether the lift differs between segments (or channels) is tested with
:func:`heterogeneity_test`, a Wald chi-square test that the group lifts per treated customer
are equal, with the group estimates independent (disjoint cells). For channels the test
compares the campaigns actually run: a difference may come from the campaigns' offers rather
than from the channel. For a single campaign, :func:`~kpitools.roi.programme.test_segment_interaction`
is also run (``CampaignResult.segment_test``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
from scipy import stats

from kpitools.data.sources import Database
from kpitools.errors import CampaignError
from kpitools.kpis.columns import ANALYSIS_COLUMNS, empty_columns
from kpitools.kpis.compute import resolve_period
from kpitools.params import BrandParams
from kpitools.periods import Period
from kpitools.roi.campaign import POWER, analyse_campaign
from kpitools.roi.outcomes import (
    line_cost_shares,
    load_campaign_outcomes,
    load_campaigns,
    programme_window,
)
from kpitools.roi.programme import combine_programme, with_unmeasured_cost
from kpitools.roi.results import (
    CAMPAIGN_COLUMNS,
    CampaignReport,
    CampaignResult,
    GroupSummary,
    GroupTest,
    Issue,
)
from kpitools.roi.verdicts import adjust_verdicts, control_advice
from kpitools.roi.views import by_channel, by_product_line, by_segment, heterogeneity_test
from kpitools.vocab import ESTIMATE_VERDICTS, Verdict

__all__ = [
    "CampaignReport",
    "CampaignResult",
    "GroupSummary",
    "GroupTest",
    "Issue",
    "analyse_campaigns",
    "analyse_outcomes",
    "find_campaign",
    "heterogeneity_test",
]

#: Member-level columns of an empty analysis (no campaign, or no campaign tables).
_EMPTY_OUTCOMES = ["campaign_id", "customer_id", "treated", "contacted", "segment"]


def _settings(params: BrandParams) -> dict[str, Any]:
    r = params.roi
    return {
        "method": r.method,
        "cov_type": r.cov_type,
        "alpha": float(r.alpha),
        "attribution_days": int(r.attribution_days),
        "pre_period_days": int(r.pre_period_days),
        "min_control": int(r.min_control),
        "interval": r.interval,
        "min_control_judge": int(r.min_control_judge),
        "lapse_days": int(params.settings.lapse_days),
        "power": POWER,
    }


def _with_verdicts(results: list[CampaignResult]) -> list[CampaignResult]:
    """The campaigns with their verdicts adjusted across the report (Benjamini–Hochberg,
    :func:`kpitools.roi.verdicts.adjust_verdicts`) and true advice on the control size
    (:func:`kpitools.roi.verdicts.control_advice`): the ``underpowered`` issue is raised for
    every campaign the adjusted verdict leaves inconclusive (or unmeasured) whose control group
    cannot detect the break-even lift, quoting the control size needed only when it exists and
    fits within the campaign's audience."""
    # the family: campaigns with a ROI and an estimate verdict (a campaign the estimator
    # declines to judge, e.g. too few controls, stays out of it)
    adjusted = adjust_verdicts(
        [
            r.roi if r.roi is not None and r.roi.verdict in ESTIMATE_VERDICTS else None
            for r in results
        ]
    )
    out = []
    for r, adj in zip(results, adjusted, strict=True):
        issues = [i for i in r.issues if i.code != "underpowered"]
        advice = None
        verdict = adj.verdict if adj is not None else r.verdict
        if r.required_control is not None and verdict in (
            Verdict.INCONCLUSIVE,
            Verdict.NOT_MEASURED,
        ):
            advice = control_advice(r.required_control, r.n_members)
            if advice is not None:
                issues.append(
                    Issue(
                        "underpowered",
                        fields={
                            "mde": r.mde_margin,
                            "break_even": r.break_even_margin,
                            "required": advice.n_control,
                            "audience": r.n_members,
                        },
                    )
                )
        out.append(replace(r, adjusted=adj, advice=advice, issues=tuple(issues)))
    return out


def analyse_outcomes(
    campaigns: pd.DataFrame,
    outcomes: pd.DataFrame,
    params: BrandParams,
    *,
    period: Period | None = None,
    window: tuple[datetime, datetime] | None = None,
    data_end: datetime | None = None,
    margin: bool = True,
) -> CampaignReport:
    """The analysis of :func:`analyse_campaigns` on data already loaded (no database).

    Parameters
    ----------
    campaigns : pandas.DataFrame
        One row per campaign, as from :func:`kpitools.roi.outcomes.load_campaigns`.
    outcomes : pandas.DataFrame
        One row per member, as from :func:`kpitools.roi.outcomes.load_campaign_outcomes`.
    params : BrandParams
    period, window, data_end :
        Recorded in the report; a campaign whose outcome window ends after ``data_end``
        (exclusive end of the data) is flagged provisional.

    Returns
    -------
    CampaignReport
    """
    roi_p = params.roi
    alpha = float(roi_p.alpha)
    results: list[CampaignResult] = []
    for _, meta in campaigns.iterrows():
        members = outcomes[outcomes["campaign_id"] == meta["campaign_id"]]
        results.append(analyse_campaign(meta, members, params, data_end, margin=margin))
    results = _with_verdicts(results)

    issues: list[Issue] = []
    if not results:
        issues.append(
            Issue(
                "no_campaigns",
                fields={"window": window},
                variant=None if window is None else "window",
            )
        )
    measured = [r for r in results if r.roi is not None]
    unmeasured = [r for r in results if r.roi is None] if margin else []
    programme = programme_measured = None
    prog_rev = prog_lo = prog_hi = None
    if not margin and results:
        # no cost of goods: margin lift and ROI not available; the revenue lift is shown
        issues.append(Issue("needs_cost", fields={"column": "orders.cost"}))
        # a campaign with too few controls to judge has no interval: its revenue lift is
        # left out of the programme's, as a campaign without ROI is when orders carry a cost
        measured_rev = [r for r in results if r.revenue_lift is not None and not r.too_few_controls]
    else:
        measured_rev = measured
    if measured:
        programme_measured = combine_programme(
            [r.roi for r in measured if r.roi is not None], name="programme"
        )
        # the headline: every campaign's cost counts (unmeasured campaigns' margin as 0)
        programme = with_unmeasured_cost(
            programme_measured,
            float(sum(r.cost for r in unmeasured)),
            int(sum(r.n_treated for r in unmeasured)),
        )
    # (incremental revenue, its se) of the campaigns with a revenue lift: the measured ones, or
    # without cost every campaign with a revenue lift; the revenue figure is set with the lift
    with_rev = [
        (r.incremental_revenue, r.revenue_lift.se * r.n_treated)
        for r in (measured or measured_rev)
        if r.revenue_lift is not None
        and r.incremental_revenue is not None
        and not r.revenue_lift.too_few_controls
    ]
    if with_rev:
        prog_rev = float(sum(rev for rev, _ in with_rev))
        se = math.sqrt(sum(rev_se**2 for _, rev_se in with_rev))
        z = float(stats.norm.ppf(1 - alpha / 2))
        prog_lo, prog_hi = prog_rev - z * se, prog_rev + z * se
    if unmeasured and results:
        names = ", ".join(r.name for r in unmeasured)
        cost = float(sum(r.cost for r in unmeasured))
        issues.append(
            Issue(
                "unmeasured",
                fields={"n": len(unmeasured), "total": len(results), "names": names, "cost": cost},
            )
        )
    if len(results) > 1 and len(outcomes):
        per_customer = outcomes.groupby("customer_id")["campaign_id"].nunique()
        several = int((per_customer > 1).sum())
        if several:
            share = several / len(per_customer)
            issues.append(Issue("overlap", severity="info", fields={"n": several, "share": share}))
    segments = by_segment(results, outcomes, params) if measured else None
    channels = by_channel(results, alpha) if measured else None
    lines = by_product_line(results, alpha) if measured else None
    return CampaignReport(
        brand=params.brand,
        name=params.display_name,
        period=period,
        window=window,
        campaigns=results,
        programme=programme,
        programme_revenue=prog_rev,
        programme_revenue_ci_low=prog_lo,
        programme_revenue_ci_high=prog_hi,
        by_segment=segments,
        by_channel=channels,
        by_product_line=lines,
        programme_measured=programme_measured,
        data_end=data_end,
        settings=_settings(params),
        locale=params.locale,
        currency=params.currency,
        issues=tuple(issues),
        outcomes=outcomes,
    )


def find_campaign(db: Database, key: str) -> list:
    """Ids of the campaigns whose id or name (case-insensitive) is ``key``.

    Raises
    ------
    CampaignError
        When no campaign matches (the message lists the campaigns).
    """
    campaigns = load_campaigns(db)
    key_s = str(key).strip()
    hit = campaigns[
        (campaigns["campaign_id"].astype(str) == key_s)
        | (campaigns["name"].astype(str).str.casefold() == key_s.casefold())
    ]
    if hit.empty:
        shown = ", ".join(
            f"{i} ({n})" for i, n in zip(campaigns.campaign_id, campaigns.name, strict=True)
        )
        raise CampaignError(
            f"roi.campaign: no campaign with id or name {key_s!r}; campaigns: {shown or 'none'}"
        )
    return hit["campaign_id"].tolist()


def analyse_campaigns(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    campaign: str | None = None,
    campaign_ids: Sequence | None = None,
) -> CampaignReport:
    """Measure the ROI of a brand's campaigns and of the programme against control groups.

    Parameters
    ----------
    db : Database
        The brand's data (``campaigns``, ``campaign_members``, ``orders``).
    params : BrandParams
        ``params.roi`` (method, cov_type, alpha, attribution_days, pre_period_days,
        min_control, campaign), ``settings.lapse_days``, locale and currency.
    period : Period or str, optional
        The report's period (default: ``params.period.current``, else the latest complete
        period in the data). The campaigns analysed are those starting in the 12 months
        ending with it (:func:`kpitools.roi.outcomes.programme_window`).
    campaign : str, optional
        Analyse this campaign only (id or name), whatever its dates; default
        ``params.roi.campaign``.
    campaign_ids : sequence, optional
        Analyse these campaigns, whatever their dates (overrides ``campaign``).

    Returns
    -------
    CampaignReport
        Per-campaign results, the programme total, the views by segment and by channel, and
        every guardrail issue.

    Raises
    ------
    MissingTableError
        When ``campaigns``, ``campaign_members`` or ``orders`` is absent.
    CampaignError
        When ``campaign`` names no campaign.
    """
    period = resolve_period(db, params, period)
    window = None
    missing = [t for t in ("campaigns", "campaign_members", "orders") if not db.has(t)]
    if missing:
        # not available, never a crash: the report says which table the analysis needs
        empty = pd.DataFrame(columns=CAMPAIGN_COLUMNS)
        outcomes = pd.DataFrame(columns=_EMPTY_OUTCOMES)
        report = analyse_outcomes(
            empty, outcomes, params, period=period, window=programme_window(period)
        )
        issue = Issue("missing_table", fields={"tables": ", ".join(missing)})
        return replace(report, issues=(issue,))
    key = campaign if campaign is not None else params.roi.campaign
    if campaign_ids is None and key:
        campaign_ids = find_campaign(db, key)
    if campaign_ids is not None:
        campaigns = load_campaigns(db, campaign_ids=campaign_ids)
    else:
        window = programme_window(period)
        campaigns = load_campaigns(db, period=window)
    scope_issues: list[Issue] = []
    shares = line_cost_shares(db, campaigns) if not campaigns.empty else None
    if shares is not None and len(shares):
        campaigns = campaigns.merge(
            shares.drop(columns="n_treated_brand"), on="campaign_id", how="left"
        )
        scope_issues.append(Issue("line_cost_shared", severity="info", fields={"n": len(shares)}))
    elif shares is None and not campaigns.empty and campaigns["product_line"].isna().any():
        # a product-line report without customers: brand-wide campaigns carry their full cost
        n = int(campaigns["product_line"].isna().sum())
        scope_issues.append(Issue("line_cost_whole", fields={"n": n}))
    if campaigns.empty:
        outcomes = pd.DataFrame(columns=_EMPTY_OUTCOMES)
    else:
        outcomes = load_campaign_outcomes(
            db, params, campaign_ids=campaigns["campaign_id"].tolist()
        )
    last = db.table("orders").ordered_at.max().execute()
    data_end = None
    if last is not None and not pd.isna(last):
        ts = pd.Timestamp(last)
        ts = ts.tz_convert(None) if ts.tzinfo is not None else ts
        data_end = (ts.normalize() + pd.Timedelta(days=1)).to_pydatetime()
    margin = not empty_columns(db, ANALYSIS_COLUMNS["roi_margin"])
    report = analyse_outcomes(
        campaigns,
        outcomes,
        params,
        period=period,
        window=window,
        data_end=data_end,
        margin=margin,
    )
    if scope_issues:
        report = replace(report, issues=(*report.issues, *scope_issues))
    return report


#: Folder, beside a run's ``kpis.json``, where :func:`analyse_campaigns_shared` keeps the
#: campaign analysis between a brand's notebooks (removed by the notebook that reads it last).
SHARED_DIR = ".shared"


def campaign_analysis_key(
    db: Database, params: BrandParams, period: Period, campaign: str | None = None
) -> str:
    """The sha256 naming one campaign analysis: params, period, campaign, data, kpitools.

    Two notebooks of a run share an analysis only when every input of
    :func:`analyse_campaigns` is the same: the params (their canonical JSON), the resolved
    period, the campaign asked for, the data fingerprint (row count and latest time of each
    table, :func:`kpitools.runs.data_fingerprint`) and the kpitools version.
    """
    import hashlib

    from kpitools import __version__
    from kpitools.data.provenance import table_freshness
    from kpitools.runs import data_fingerprint

    key = campaign if campaign is not None else params.roi.campaign
    parts = [
        params.model_dump_json(),
        period.label,
        repr(key),
        data_fingerprint(table_freshness(db)),
        __version__,
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def analyse_campaigns_shared(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    campaign: str | None = None,
    kpis_path: str | None = None,
    last: bool = False,
) -> CampaignReport:
    """:func:`analyse_campaigns`, computed once per brand run and shared between notebooks.

    With ``kpis_path`` (set by ``kpitools run``), the analysis is pickled to
    ``<folder of kpis_path>/.shared/campaigns-<key>.pkl`` (key:
    :func:`campaign_analysis_key`) by the first notebook that needs it and read back by the
    next; ``last=True`` (the campaign-ROI notebook) removes the file once read, so nothing of it
    is published. Without ``kpis_path`` (a notebook run by hand) it is simply computed.

    Parameters
    ----------
    db, params, period, campaign
        As for :func:`analyse_campaigns`.
    kpis_path : str, optional
        The run's ``kpis.json`` path; its folder holds the shared file.
    last : bool
        This notebook is the last to read the shared analysis: remove the file.

    Returns
    -------
    CampaignReport
        The same report as :func:`analyse_campaigns` (pickled, so every number is identical).
    """
    if not kpis_path:
        return analyse_campaigns(db, params, period, campaign=campaign)
    import os
    import pickle
    from pathlib import Path

    resolved = resolve_period(db, params, period)
    folder = Path(kpis_path).parent / SHARED_DIR
    path = folder / f"campaigns-{campaign_analysis_key(db, params, resolved, campaign)}.pkl"
    if path.is_file():
        # written by this run's previous notebook, in the run's own staging folder
        with path.open("rb") as fh:
            report: CampaignReport = pickle.load(fh)  # noqa: S301
    else:
        report = analyse_campaigns(db, params, resolved, campaign=campaign)
        if not last:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp-{os.getpid()}")
            with tmp.open("wb") as fh:
                pickle.dump(report, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
    if last:
        path.unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
    return report
