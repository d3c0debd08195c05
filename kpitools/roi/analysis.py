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

Every problem is an :class:`Issue` (a code, a plain English message and the values needed to
translate it); a figure that cannot be computed is ``None`` together with an issue saying why,
never a silent NaN.

Programme views:

* **total**: :func:`~kpitools.roi.programme.combine_programme` over the campaigns with a ROI
  (campaign estimates assumed independent; the share of members in several campaigns is
  reported); the incremental revenue total is summed the same way (normal interval);
* **by segment** (segment of the member at the campaign's start): the lift is estimated
  within each campaign x segment cell (each cell compares treated and control customers of the
  same campaign, so different control shares across campaigns cannot bias it), then summed
  over campaigns: incremental revenue ``sum(n_treated_cs * lift_cs)``, lift per treated
  customer = that total / ``sum(n_treated_cs)``, variances added. The cost of a campaign is
  split between its segments: contact cost of the segment's contacted customers plus the fixed
  cost pro rata of its treated customers. Cells with fewer than 2 treated or 2 control
  customers are left out (counted in ``n_treated_skipped``);
* **by channel**: the campaigns of each channel combined as above.

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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpitools.errors import CampaignError, FitError, KpitoolsError
from kpitools.periods import Period
from kpitools.roi.estimators import LiftResult, RoiInputError, estimate_lift
from kpitools.roi.guardrails import (
    ControlSizeResult,
    SRMResult,
    check_groups,
    minimum_detectable_effect,
    required_control_size,
    sample_ratio_mismatch,
)
from kpitools.roi.outcomes import (
    SEGMENTS,
    load_campaign_outcomes,
    load_campaigns,
    programme_window,
)
from kpitools.roi.programme import (
    RoiResult,
    SegmentInteractionResult,
    combine_programme,
    compute_roi,
    cost_of,
    test_segment_interaction,
)
from kpitools.schema import CHANNELS

__all__ = [
    "VERDICTS",
    "CampaignReport",
    "CampaignResult",
    "GroupSummary",
    "GroupTest",
    "Issue",
    "analyse_campaigns",
    "analyse_outcomes",
    "heterogeneity_test",
]

#: Verdicts of a campaign, in report order (the last: no ROI could be computed).
VERDICTS = ("profitable", "not profitable", "inconclusive", "not measured")

#: Power used for the minimum detectable effect.
POWER = 0.8

#: Outcomes analysed: (outcome column, pre-period covariate).
OUTCOMES = {
    "revenue": "pre_revenue",
    "margin": "pre_margin",
    "converted": "pre_orders",
}


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


CAMPAIGN_COLUMNS = [
    "campaign_id",
    "name",
    "channel",
    "product_line",
    "starts_at",
    "ends_at",
    "fixed_cost",
    "cost_per_contact",
    "planned_control_share",
]


@dataclass(frozen=True)
class Issue:
    """A guardrail warning or a remark about an estimate.

    Parameters
    ----------
    code : str
        Stable identifier, used by the report to translate the message: ``no_members``,
        ``no_treated``, ``no_control``, ``small_control``, ``srm``, ``no_planned_share``,
        ``underpowered``, ``lift_failed``, ``method_fallback``, ``zero_cost``,
        ``not_contacted``, ``cost_missing``, ``provisional``, ``no_campaigns``,
        ``unmeasured``, ``overlap``,
        ``cells_skipped``, ``segment_test_failed``, ``single_group``.
    message : str
        Plain-language English sentence.
    severity : {"warning", "info"}
        ``warning``: the figures may be wrong or missing; ``info``: read with care.
    values : dict
        Numbers and names the message is made of (for translations).
    """

    code: str
    message: str
    severity: str = "warning"
    values: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "values": _jsonable(self.values),
        }


@dataclass(frozen=True)
class CampaignResult:
    """Everything measured about one campaign.

    Money in currency units; lifts per targeted customer over the outcome window; ROI as a
    ratio (0.25 = 25 %). ``None`` where a figure could not be computed (an :class:`Issue` in
    ``issues`` says why).

    Attributes
    ----------
    campaign_id, name, channel, product_line :
        From the ``campaigns`` table.
    starts_at, ends_at, window_end : datetime
        Campaign dates; ``window_end`` = ``ends_at + attribution_days`` (exclusive end of the
        outcome window).
    n_members, n_treated, n_control, n_contacted : int
        Members, treatment group, control group, treated members sent the campaign.
    planned_control_share : float or None
    fixed_cost, cost_per_contact, cost : float
        ``cost = fixed_cost + cost_per_contact * n_contacted``.
    revenue_lift, margin_lift, conversion_lift : LiftResult or None
        Lifts per targeted customer (conversion: a proportion, ×100 for points).
    roi : RoiResult or None
        Incremental margin and ROI with intervals (from ``margin_lift``).
    incremental_revenue, revenue_ci_low, revenue_ci_high : float or None
        ``revenue_lift × n_treated`` and its interval.
    srm : SRMResult or None
    mde_revenue, mde_margin : float or None
        Minimum detectable lift per targeted customer (80 % power, ``alpha``).
    break_even_margin : float or None
        Margin lift per targeted customer for which ROI = 0: ``cost / n_treated``.
    required_control : ControlSizeResult or None
        Control size needed to detect the break-even lift (when the control is too small).
    provisional : bool
        The outcome window is not over in the data.
    segment_test : SegmentInteractionResult or None
        Per-segment revenue lifts of this campaign and the interaction test.
    issues : tuple of Issue
    """

    campaign_id: Any
    name: str
    channel: str
    product_line: str | None
    starts_at: datetime
    ends_at: datetime
    window_end: datetime
    n_members: int
    n_treated: int
    n_control: int
    n_contacted: int
    planned_control_share: float | None
    fixed_cost: float
    cost_per_contact: float
    cost: float
    revenue_lift: LiftResult | None = field(default=None, repr=False)
    margin_lift: LiftResult | None = field(default=None, repr=False)
    conversion_lift: LiftResult | None = field(default=None, repr=False)
    roi: RoiResult | None = field(default=None, repr=False)
    incremental_revenue: float | None = None
    revenue_ci_low: float | None = None
    revenue_ci_high: float | None = None
    srm: SRMResult | None = field(default=None, repr=False)
    mde_revenue: float | None = None
    mde_margin: float | None = None
    break_even_margin: float | None = None
    required_control: ControlSizeResult | None = field(default=None, repr=False)
    provisional: bool = False
    segment_test: SegmentInteractionResult | None = field(default=None, repr=False)
    issues: tuple[Issue, ...] = ()

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`."""
        return self.roi.verdict if self.roi is not None else "not measured"

    @property
    def warnings(self) -> list[str]:
        """Messages of the issues of severity ``warning``."""
        return [i.message for i in self.issues if i.severity == "warning"]

    def row(self) -> dict[str, Any]:
        """The campaign as one flat row (see :meth:`CampaignReport.to_frame`)."""
        rl, ml, cl, roi = self.revenue_lift, self.margin_lift, self.conversion_lift, self.roi
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "channel": self.channel,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "n_members": self.n_members,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_contacted": self.n_contacted,
            "cost": self.cost,
            "revenue_lift": _get(rl, "effect"),
            "revenue_lift_ci_low": _get(rl, "ci_low"),
            "revenue_lift_ci_high": _get(rl, "ci_high"),
            "revenue_lift_p_value": _get(rl, "p_value"),
            "margin_lift": _get(ml, "effect"),
            "margin_lift_ci_low": _get(ml, "ci_low"),
            "margin_lift_ci_high": _get(ml, "ci_high"),
            "conversion_lift_pp": None if cl is None else 100.0 * cl.effect,
            "conversion_lift_pp_ci_low": None if cl is None else 100.0 * cl.ci_low,
            "conversion_lift_pp_ci_high": None if cl is None else 100.0 * cl.ci_high,
            "incremental_revenue": self.incremental_revenue,
            "revenue_ci_low": self.revenue_ci_low,
            "revenue_ci_high": self.revenue_ci_high,
            "incremental_margin": _get(roi, "incremental_margin"),
            "margin_ci_low": _get(roi, "margin_ci_low"),
            "margin_ci_high": _get(roi, "margin_ci_high"),
            "roi": _get(roi, "roi"),
            "roi_ci_low": _get(roi, "roi_ci_low"),
            "roi_ci_high": _get(roi, "roi_ci_high"),
            "verdict": self.verdict,
            "mde_revenue": self.mde_revenue,
            "mde_margin": self.mde_margin,
            "break_even_margin": self.break_even_margin,
            "srm_p_value": _get(self.srm, "p_value"),
            "provisional": self.provisional,
            "warnings": len(self.warnings),
        }


@dataclass(frozen=True)
class GroupTest:
    """Wald test that the lift per targeted customer is the same in every group.

    ``statistic = sum_g (e_g - e_bar)² / se_g²`` with ``e_bar`` the inverse-variance weighted
    mean of the group lifts ``e_g``; chi-square with ``df = groups - 1`` under equal lifts.
    """

    by: str
    outcome: str
    statistic: float
    df: int
    p_value: float
    alpha: float
    differs: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "outcome": self.outcome,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "differs": self.differs,
        }


@dataclass(frozen=True)
class GroupSummary:
    """Programme figures by segment or by channel.

    Attributes
    ----------
    by : {"segment", "channel"}
    table : pandas.DataFrame
        One row per group (index ``group``): ``n_campaigns``, ``n_treated``, ``n_control``,
        ``n_treated_skipped``, ``revenue_lift`` (per targeted customer) with ``revenue_lift_se``,
        ``revenue_lift_ci_low``, ``revenue_lift_ci_high``; ``incremental_revenue``,
        ``incremental_margin`` with ``margin_ci_low``, ``margin_ci_high``; ``cost``; ``roi``,
        ``roi_ci_low``, ``roi_ci_high``; ``verdict``.
    results : dict of RoiResult
        The combined ROI of each group.
    test : GroupTest or None
        None with fewer than two groups (an issue says so).
    issues : tuple of Issue
    """

    by: str
    table: pd.DataFrame = field(compare=False)
    results: dict[str, RoiResult] = field(default_factory=dict, repr=False, compare=False)
    test: GroupTest | None = None
    issues: tuple[Issue, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "groups": {str(g): _jsonable(row.to_dict()) for g, row in self.table.iterrows()},
            "test": None if self.test is None else _jsonable(self.test.to_dict()),
        }


@dataclass(frozen=True)
class CampaignReport:
    """ROI of a brand's campaigns and of the programme over a window.

    Attributes
    ----------
    brand, name : str
        Brand id and display name.
    period : Period or None
        The report's period (None when campaigns were picked by id).
    window : (datetime, datetime) or None
        Campaigns starting in ``[start, end)`` were analysed.
    campaigns : list of CampaignResult
        In order of start.
    programme : RoiResult or None
        Combined ROI of the campaigns with a ROI (None when there is none).
    programme_revenue, programme_revenue_ci_low, programme_revenue_ci_high : float or None
        Incremental revenue of those campaigns and its interval.
    by_segment, by_channel : GroupSummary or None
    data_end : datetime or None
        End of the data: midnight after the day of the last order.
    settings : dict
        ``method``, ``cov_type``, ``alpha``, ``attribution_days``, ``pre_period_days``,
        ``min_control``, ``lapse_days``.
    locale, currency : str
    issues : tuple of Issue
        Programme-level issues (campaign issues are on each campaign).
    outcomes : pandas.DataFrame
        The member-level data analysed (:func:`load_campaign_outcomes`).
    """

    brand: str
    name: str
    period: Period | None
    window: tuple[datetime, datetime] | None
    campaigns: list[CampaignResult]
    programme: RoiResult | None
    programme_revenue: float | None
    programme_revenue_ci_low: float | None
    programme_revenue_ci_high: float | None
    by_segment: GroupSummary | None
    by_channel: GroupSummary | None
    data_end: datetime | None
    settings: dict[str, Any]
    locale: str = "en"
    currency: str = "EUR"
    issues: tuple[Issue, ...] = ()
    outcomes: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def alpha(self) -> float:
        return float(self.settings.get("alpha", 0.05))

    @property
    def measured(self) -> list[CampaignResult]:
        """Campaigns with a ROI."""
        return [c for c in self.campaigns if c.roi is not None]

    @property
    def total_cost(self) -> float:
        """Cost of every campaign of the window, measured or not, currency units."""
        return float(sum(c.cost for c in self.campaigns))

    @property
    def verdict_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        for c in self.campaigns:
            counts[c.verdict] += 1
        return counts

    def campaign(self, key) -> CampaignResult:
        """A campaign by id or name."""
        for c in self.campaigns:
            if c.campaign_id == key or str(c.campaign_id) == str(key) or c.name == key:
                return c
        raise KeyError(key)

    def to_frame(self) -> pd.DataFrame:
        """One row per campaign (see :meth:`CampaignResult.row`), indexed by ``campaign_id``."""
        rows = [c.row() for c in self.campaigns]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        return frame.set_index("campaign_id")

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers for ``kpis.json`` (JSON-safe: None, never NaN)."""
        prog = self.programme
        counts = self.verdict_counts
        return _jsonable(
            {
                "period": None if self.period is None else self.period.label,
                "window": None
                if self.window is None
                else {
                    "start": self.window[0].date().isoformat(),
                    "end": self.window[1].date().isoformat(),
                },
                "currency": self.currency,
                "settings": self.settings,
                "campaigns": len(self.campaigns),
                "campaigns_measured": len(self.measured),
                "profitable": counts["profitable"],
                "not_profitable": counts["not profitable"],
                "inconclusive": counts["inconclusive"],
                "not_measured": counts["not measured"],
                "total_cost": self.total_cost,
                "programme": None
                if prog is None
                else {
                    "cost": prog.cost,
                    "incremental_revenue": self.programme_revenue,
                    "revenue_ci_low": self.programme_revenue_ci_low,
                    "revenue_ci_high": self.programme_revenue_ci_high,
                    "incremental_margin": prog.incremental_margin,
                    "margin_ci_low": prog.margin_ci_low,
                    "margin_ci_high": prog.margin_ci_high,
                    "roi": prog.roi,
                    "roi_ci_low": prog.roi_ci_low,
                    "roi_ci_high": prog.roi_ci_high,
                    "verdict": prog.verdict,
                    "confidence": 1 - prog.alpha,
                },
                "by_segment": None if self.by_segment is None else self.by_segment.to_dict(),
                "by_channel": None if self.by_channel is None else self.by_channel.to_dict(),
                "campaign_results": [
                    {
                        **c.row(),
                        "starts_at": c.starts_at.date().isoformat(),
                        "ends_at": c.ends_at.date().isoformat(),
                        "issues": [i.to_dict() for i in c.issues],
                    }
                    for c in self.campaigns
                ],
                "issues": [i.to_dict() for i in self.issues],
            }
        )

    def _repr_html_(self) -> str:
        from kpitools.report.roi import report_html

        return report_html(self)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _get(obj, name: str):
    return None if obj is None else getattr(obj, name)


def _jsonable(value):
    """Plain JSON types; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    if value is None or isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def _money_or_zero(value) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _pooled_sd(df: pd.DataFrame, outcome: str) -> float | None:
    """Pooled within-group standard deviation of ``outcome`` (None if not computable)."""
    parts = [g[outcome].to_numpy(dtype=float) for _, g in df.groupby("treated")]
    dof = sum(len(p) - 1 for p in parts)
    if len(parts) < 2 or dof <= 0:
        return None
    ss = sum(float(((p - p.mean()) ** 2).sum()) for p in parts)
    sd = math.sqrt(ss / dof)
    return sd if sd > 0 and math.isfinite(sd) else None


def _lift(
    df: pd.DataFrame,
    outcome: str,
    roi,
    issues: list[Issue] | None,
    *,
    label: str = "",
) -> LiftResult | None:
    """``estimate_lift`` with the params' method; fall back to the difference in means.

    A covariate constant in ``df`` is dropped silently (the adjusted estimators then equal
    the difference in means). Other fitting failures fall back to ``"diff"`` with an info
    issue; a lift that cannot be estimated at all gives None and a warning issue.
    """
    covariate = OUTCOMES[outcome]
    method = roi.method
    covs: tuple[str, ...] = (covariate,)
    if method == "diff" or df[covariate].nunique(dropna=True) < 2:
        method, covs = "diff", ()
    kwargs = dict(treatment="treated", cov_type=roi.cov_type, alpha=roi.alpha)
    what = {"converted": "conversion"}.get(outcome, outcome) + label
    try:
        return estimate_lift(df, outcome=outcome, covariates=covs, method=method, **kwargs)
    except FitError as exc:
        error: KpitoolsError = exc
        if covs:
            try:
                res = estimate_lift(df, outcome=outcome, method="diff", **kwargs)
            except (FitError, CampaignError) as exc2:
                error = exc2
            else:
                if issues is not None:
                    issues.append(
                        Issue(
                            "method_fallback",
                            f"The lift on {what} was estimated as a plain difference in means: "
                            f"the '{roi.method}' adjustment on {covariate} could not be fitted "
                            f"({exc}).",
                            severity="info",
                            values={"outcome": outcome, "method": roi.method, "reason": str(exc)},
                        )
                    )
                return res
    except CampaignError as exc:
        error = exc
    if issues is not None:
        issues.append(
            Issue(
                "lift_failed",
                f"The lift on {what} cannot be estimated: {error}",
                values={"outcome": outcome, "reason": str(error)},
            )
        )
    return None


def _normal_interval(total: float, se: float, alpha: float) -> tuple[float, float]:
    z = float(stats.norm.ppf(1 - alpha / 2))
    return total - z * se, total + z * se


# --------------------------------------------------------------------------------------
# One campaign
# --------------------------------------------------------------------------------------


def _analyse_one(
    meta: pd.Series, members: pd.DataFrame, params, data_end: datetime | None
) -> CampaignResult:
    roi_p = params.roi
    issues: list[Issue] = []
    name = str(meta["name"])
    starts_at = pd.Timestamp(meta["starts_at"]).to_pydatetime()
    ends_at = pd.Timestamp(meta["ends_at"]).to_pydatetime()
    window_end = ends_at + pd.Timedelta(days=int(roi_p.attribution_days))
    n1 = int((members["treated"] == 1).sum())
    n0 = int((members["treated"] == 0).sum())
    n_contacted = int(members["contacted"].sum())
    share = meta.get("planned_control_share")
    share = None if share is None or pd.isna(share) else float(share)
    fixed = _money_or_zero(meta.get("fixed_cost"))
    unit = _money_or_zero(meta.get("cost_per_contact"))
    product_line = meta.get("product_line")
    product_line = None if product_line is None or pd.isna(product_line) else str(product_line)

    # -- group sizes ------------------------------------------------------------------------
    messages = check_groups(n1, n0, min_control=int(roi_p.min_control))
    if n1 + n0 == 0:
        codes = ["no_members"]
    else:
        codes = (["no_treated"] if n1 == 0 else []) + (
            ["no_control"] if n0 == 0 else (["small_control"] if n0 < roi_p.min_control else [])
        )
    for code, msg in zip(codes, messages, strict=True):
        issues.append(
            Issue(code, msg, values={"n_treated": n1, "n_control": n0, "min": roi_p.min_control})
        )
    if n1 > 0 and n_contacted == 0:
        n_contacted = n1
        issues.append(
            Issue(
                "not_contacted",
                f"No targeted member has a sending date (sent_at): all {n1:,} targeted members "
                "are counted as contacted for the cost.",
                severity="info",
                values={"n_treated": n1},
            )
        )
    missing_cost = [
        col
        for col in ("fixed_cost", "cost_per_contact")
        if meta.get(col) is None or pd.isna(meta.get(col))
    ]
    if missing_cost:
        issues.append(
            Issue(
                "cost_missing",
                f"The campaign's {' and '.join(missing_cost)} is missing: counted as 0, so its "
                "cost is understated and its ROI overstated.",
                values={"columns": ", ".join(missing_cost)},
            )
        )
    cost = cost_of(fixed, unit, n_contacted)

    # -- sample ratio mismatch ---------------------------------------------------------------
    srm = None
    if n1 + n0 > 0:
        if share is not None and 0.0 < share < 1.0:
            srm = sample_ratio_mismatch(n1, n0, share)
            if srm.mismatch:
                issues.append(
                    Issue(
                        "srm",
                        srm.message,
                        values={
                            "observed": srm.observed_control_share,
                            "planned": share,
                            "p_value": srm.p_value,
                        },
                    )
                )
        else:
            issues.append(
                Issue(
                    "no_planned_share",
                    "No planned control share: the split between targeted and control "
                    "customers was not checked (sample ratio mismatch).",
                    severity="info",
                )
            )

    # data_end: the day after the last order (orders of that day are in the data)
    provisional = data_end is not None and window_end > data_end
    if provisional:
        last_day = data_end - pd.Timedelta(days=1)
        issues.append(
            Issue(
                "provisional",
                f"The outcome window runs until {window_end:%Y-%m-%d} (excluded) but the data "
                f"end on {last_day:%Y-%m-%d}: the figures are provisional.",
                values={"window_end": window_end, "last_day": last_day},
            )
        )

    common = dict(
        campaign_id=meta["campaign_id"],
        name=name,
        channel=str(meta["channel"]),
        product_line=product_line,
        starts_at=starts_at,
        ends_at=ends_at,
        window_end=window_end,
        n_members=n1 + n0,
        n_treated=n1,
        n_control=n0,
        n_contacted=n_contacted,
        planned_control_share=share,
        fixed_cost=fixed,
        cost_per_contact=unit,
        cost=cost,
        srm=srm,
        provisional=provisional,
    )
    if n1 < 2 or n0 < 2:
        if n1 + n0 > 0 and n1 > 0 and n0 > 0:  # 1 customer in a group
            issues.append(
                Issue(
                    "lift_failed",
                    f"The lift cannot be estimated: {n1} targeted and {n0} control customers; "
                    "at least 2 in each group are needed.",
                    values={"outcome": "revenue", "reason": "group too small"},
                )
            )
        return CampaignResult(**common, issues=tuple(issues))

    # -- power ---------------------------------------------------------------------------------
    alpha = float(roi_p.alpha)
    sd_rev, sd_margin = _pooled_sd(members, "revenue"), _pooled_sd(members, "margin")
    mde_rev = (
        minimum_detectable_effect(n1, n0, sd_rev, alpha=alpha, power=POWER) if sd_rev else None
    )
    mde_margin = (
        minimum_detectable_effect(n1, n0, sd_margin, alpha=alpha, power=POWER)
        if sd_margin
        else None
    )
    break_even = cost / n1 if cost > 0 else None
    required = None
    if mde_margin is not None and break_even is not None and mde_margin > break_even:
        required = required_control_size(break_even, sd_margin, n1, alpha=alpha, power=POWER)

    # -- lifts and ROI ---------------------------------------------------------------------------
    rev = _lift(members, "revenue", roi_p, issues)
    mar = _lift(members, "margin", roi_p, issues)
    conv = _lift(members, "converted", roi_p, issues)
    roi = None
    if mar is not None:
        if cost > 0:
            roi = compute_roi(mar, n_treated_total=n1, cost=cost, name=name)
        else:
            issues.append(
                Issue(
                    "zero_cost",
                    "The campaign cost nothing (no fixed cost, no contact cost): its ROI is not "
                    "defined; only its incremental margin is reported.",
                )
            )
    inc_rev = lo = hi = None
    if rev is not None:
        inc_rev, lo, hi = rev.effect * n1, rev.ci_low * n1, rev.ci_high * n1
    # Too small a control group explains an inconclusive ROI; once the ROI interval is clear
    # of 0 the figures (MDE, break-even, control needed) stay in the guardrails table only.
    if required is not None and (roi is None or roi.verdict == "inconclusive"):
        need = (
            f"a control group of about {required.n_control:,} customers would be needed"
            if required.feasible
            else "no control group size would suffice with this many targeted customers"
        )
        issues.append(
            Issue(
                "underpowered",
                f"The control group is too small to prove that the campaign pays: it detects "
                f"(80 % power) a margin lift of {mde_margin:,.2f} per targeted customer, above "
                f"the break-even lift of {break_even:,.2f}; {need}.",
                values={
                    "mde": mde_margin,
                    "break_even": break_even,
                    "required": required.n_control if required.feasible else None,
                },
            )
        )

    seg_test = None
    counts = members.groupby("segment")["treated"].agg(["sum", "count"])
    ok = counts.index[(counts["sum"] >= 2) & (counts["count"] - counts["sum"] >= 2)]
    if len(ok) >= 2:
        sub = members[members["segment"].isin(ok)]
        covs = (
            () if roi_p.method == "diff" or sub["pre_revenue"].nunique() < 2 else ("pre_revenue",)
        )
        try:
            seg_test = test_segment_interaction(
                sub,
                outcome="revenue",
                treatment="treated",
                segment="segment",
                covariates=covs,
                cov_type=roi_p.cov_type,
                alpha=alpha,
            )
        except (FitError, CampaignError, RoiInputError) as exc:
            issues.append(
                Issue(
                    "segment_test_failed",
                    f"The test of a different lift by segment could not be run: {exc}",
                    severity="info",
                    values={"reason": str(exc)},
                )
            )

    return CampaignResult(
        **common,
        revenue_lift=rev,
        margin_lift=mar,
        conversion_lift=conv,
        roi=roi,
        incremental_revenue=inc_rev,
        revenue_ci_low=lo,
        revenue_ci_high=hi,
        mde_revenue=mde_rev,
        mde_margin=mde_margin,
        break_even_margin=break_even,
        required_control=required,
        segment_test=seg_test,
        issues=tuple(issues),
    )


# --------------------------------------------------------------------------------------
# Groups (segments, channels)
# --------------------------------------------------------------------------------------


def heterogeneity_test(
    effects: Sequence[float],
    ses: Sequence[float],
    labels: Sequence[str],
    *,
    by: str,
    outcome: str = "revenue",
    alpha: float = 0.05,
) -> GroupTest:
    """Wald chi-square test that independent group lifts are all equal.

    Parameters
    ----------
    effects, ses : sequence of float
        Lift per targeted customer of each group and its standard error (currency units).
    labels : sequence of str
        Group names (for the message).
    by : str
        What the groups are (``segment``, ``channel``).
    outcome : str
        Outcome of the lifts (for the message).
    alpha : float
        Level of the test.

    Returns
    -------
    GroupTest
        ``Q = sum (e_g - e_bar)² / se_g²``, ``e_bar = sum(e_g / se_g²) / sum(1 / se_g²)``,
        p-value from chi-square with ``groups - 1`` degrees of freedom.

    Raises
    ------
    RoiInputError
        Fewer than two groups, or a standard error that is not positive and finite.
    """
    e = np.asarray(effects, dtype=float)
    s = np.asarray(ses, dtype=float)
    if len(e) < 2 or len(e) != len(s) or len(labels) != len(e):
        raise RoiInputError("heterogeneity_test needs at least two groups with one SE each")
    if not np.all(np.isfinite(s)) or np.any(s <= 0) or not np.all(np.isfinite(e)):
        raise RoiInputError("heterogeneity_test: every effect and SE must be finite, SE > 0")
    w = 1.0 / s**2
    e_bar = float((w * e).sum() / w.sum())
    q = float((w * (e - e_bar) ** 2).sum())
    df = len(e) - 1
    p = float(stats.chi2.sf(q, df))
    differs = p < alpha
    detail = f"Wald chi-square = {q:.3g} on {df} df, p = {p:.3g}"
    groups = ", ".join(str(x) for x in labels)
    if differs:
        message = (
            f"The {outcome} lift per targeted customer differs between {by}s ({groups}; "
            f"{detail} < {alpha:g}): decide {by} by {by}."
        )
    else:
        message = (
            f"No evidence that the {outcome} lift per targeted customer differs between "
            f"{by}s ({groups}; {detail} >= {alpha:g}). This does not prove the lifts are "
            "equal: small groups give the test little power."
        )
    return GroupTest(
        by=by,
        outcome=outcome,
        statistic=q,
        df=df,
        p_value=p,
        alpha=float(alpha),
        differs=differs,
        message=message,
    )


heterogeneity_test.__test__ = False  # type: ignore[attr-defined]


@dataclass
class _Cell:
    """One campaign's contribution to a group (a segment of it, or all of it)."""

    group: str
    n_treated: int
    n_control: int
    revenue: float  # incremental revenue
    revenue_se: float
    roi: RoiResult


def _summarise(
    by: str, cells: list[_Cell], skipped: dict[str, int], order: Sequence[str], alpha: float
) -> GroupSummary:
    issues: list[Issue] = []
    rows, results = [], {}
    groups = [g for g in order if any(c.group == g for c in cells)]
    groups += sorted({c.group for c in cells} - set(groups))
    z = float(stats.norm.ppf(1 - alpha / 2))
    for g in groups:
        mine = [c for c in cells if c.group == g]
        res = combine_programme([c.roi for c in mine], name=g)
        n1 = sum(c.n_treated for c in mine)
        rev = float(sum(c.revenue for c in mine))
        rev_se = math.sqrt(sum(c.revenue_se**2 for c in mine))
        lift, lift_se = rev / n1, rev_se / n1
        results[g] = res
        rows.append(
            {
                "group": g,
                "n_campaigns": len(mine),
                "n_treated": n1,
                "n_control": sum(c.n_control for c in mine),
                "n_treated_skipped": skipped.get(g, 0),
                "revenue_lift": lift,
                "revenue_lift_se": lift_se,
                "revenue_lift_ci_low": lift - z * lift_se,
                "revenue_lift_ci_high": lift + z * lift_se,
                "incremental_revenue": rev,
                "incremental_margin": res.incremental_margin,
                "margin_ci_low": res.margin_ci_low,
                "margin_ci_high": res.margin_ci_high,
                "cost": res.cost,
                "roi": res.roi,
                "roi_ci_low": res.roi_ci_low,
                "roi_ci_high": res.roi_ci_high,
                "verdict": res.verdict,
            }
        )
    columns = [
        "group",
        "n_campaigns",
        "n_treated",
        "n_control",
        "n_treated_skipped",
        "revenue_lift",
        "revenue_lift_se",
        "revenue_lift_ci_low",
        "revenue_lift_ci_high",
        "incremental_revenue",
        "incremental_margin",
        "margin_ci_low",
        "margin_ci_high",
        "cost",
        "roi",
        "roi_ci_low",
        "roi_ci_high",
        "verdict",
    ]
    table = pd.DataFrame(rows, columns=columns).set_index("group")
    left_out = {g: n for g, n in skipped.items() if n}
    if left_out:
        total = sum(left_out.values())
        detail = ", ".join(f"{g}: {n:,}" for g, n in left_out.items())
        issues.append(
            Issue(
                "cells_skipped",
                f"{total:,} targeted customers are left out of the {by} view because their "
                f"campaign had fewer than 2 targeted or 2 control customers of that {by}, or "
                f"the lift could not be estimated there ({detail}).",
                severity="info",
                values={"n": total, "by": by, "detail": left_out},
            )
        )
    test = None
    ok = table[np.isfinite(table["revenue_lift_se"]) & (table["revenue_lift_se"] > 0)]
    if len(ok) >= 2:
        test = heterogeneity_test(
            ok["revenue_lift"], ok["revenue_lift_se"], list(ok.index), by=by, alpha=alpha
        )
    else:
        issues.append(
            Issue(
                "single_group",
                f"Fewer than two {by}s could be measured: no comparison between {by}s.",
                severity="info",
                values={"by": by},
            )
        )
    return GroupSummary(by=by, table=table, results=results, test=test, issues=tuple(issues))


def _by_segment(results: list[CampaignResult], outcomes: pd.DataFrame, params) -> GroupSummary:
    roi_p = params.roi
    cells: list[_Cell] = []
    skipped: dict[str, int] = {}
    for r in results:
        if r.roi is None:
            continue
        members = outcomes[outcomes["campaign_id"] == r.campaign_id]
        no_sent = int(members["contacted"].sum()) == 0
        for seg, sub in members.groupby("segment", sort=False):
            n1 = int((sub["treated"] == 1).sum())
            n0 = len(sub) - n1
            if n1 == 0:
                continue
            rev = mar = None
            if n1 >= 2 and n0 >= 2:
                rev = _lift(sub, "revenue", roi_p, None)
                mar = _lift(sub, "margin", roi_p, None)
            contacted = n1 if no_sent else int(sub["contacted"].sum())
            cost = r.fixed_cost * n1 / r.n_treated + r.cost_per_contact * contacted
            if rev is None or mar is None or cost <= 0:
                skipped[seg] = skipped.get(seg, 0) + n1
                continue
            cells.append(
                _Cell(
                    group=str(seg),
                    n_treated=n1,
                    n_control=n0,
                    revenue=rev.effect * n1,
                    revenue_se=rev.se * n1,
                    roi=compute_roi(mar, n_treated_total=n1, cost=cost, name=f"{r.name} · {seg}"),
                )
            )
    return _summarise("segment", cells, skipped, SEGMENTS, float(roi_p.alpha))


def _by_channel(results: list[CampaignResult], alpha: float) -> GroupSummary:
    cells = [
        _Cell(
            group=r.channel,
            n_treated=r.n_treated,
            n_control=r.n_control,
            revenue=r.revenue_lift.effect * r.n_treated,
            revenue_se=r.revenue_lift.se * r.n_treated,
            roi=r.roi,
        )
        for r in results
        if r.roi is not None and r.revenue_lift is not None
    ]
    return _summarise("channel", cells, {}, CHANNELS, alpha)


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def _settings(params) -> dict[str, Any]:
    r = params.roi
    return {
        "method": r.method,
        "cov_type": r.cov_type,
        "alpha": float(r.alpha),
        "attribution_days": int(r.attribution_days),
        "pre_period_days": int(r.pre_period_days),
        "min_control": int(r.min_control),
        "lapse_days": int(params.settings.lapse_days),
        "power": POWER,
    }


def analyse_outcomes(
    campaigns: pd.DataFrame,
    outcomes: pd.DataFrame,
    params,
    *,
    period: Period | None = None,
    window: tuple[datetime, datetime] | None = None,
    data_end: datetime | None = None,
) -> CampaignReport:
    """The analysis of :func:`analyse_campaigns` on data already loaded (no database).

    Parameters
    ----------
    campaigns : pandas.DataFrame
        One row per campaign, as from :func:`kpitools.roi.outcomes.load_campaigns`.
    outcomes : pandas.DataFrame
        One row per member, as from :func:`kpitools.roi.outcomes.load_campaign_outcomes`.
    params : kpitools.params.BrandParams
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
        results.append(_analyse_one(meta, members, params, data_end))

    issues: list[Issue] = []
    if not results:
        where = (
            f" starting between {window[0]:%Y-%m-%d} and {window[1]:%Y-%m-%d} (excluded)"
            if window
            else ""
        )
        issues.append(
            Issue(
                "no_campaigns",
                f"No campaign{where}: there is nothing to measure.",
                values={"window": window},
            )
        )
    measured = [r for r in results if r.roi is not None]
    unmeasured = [r for r in results if r.roi is None]
    programme = None
    prog_rev = prog_lo = prog_hi = None
    if measured:
        programme = combine_programme([r.roi for r in measured], name="programme")
        with_rev = [r for r in measured if r.revenue_lift is not None]
        if with_rev:
            prog_rev = float(sum(r.incremental_revenue for r in with_rev))
            se = math.sqrt(sum((r.revenue_lift.se * r.n_treated) ** 2 for r in with_rev))
            prog_lo, prog_hi = _normal_interval(prog_rev, se, alpha)
    if unmeasured and results:
        names = ", ".join(r.name for r in unmeasured)
        cost = float(sum(r.cost for r in unmeasured))
        issues.append(
            Issue(
                "unmeasured",
                f"{len(unmeasured)} of {len(results)} campaigns could not be measured ({names}); "
                f"their cost ({cost:,.0f}) is left out of the programme ROI.",
                values={"n": len(unmeasured), "total": len(results), "names": names, "cost": cost},
            )
        )
    if len(results) > 1 and len(outcomes):
        per_customer = outcomes.groupby("customer_id")["campaign_id"].nunique()
        several = int((per_customer > 1).sum())
        if several:
            share = several / len(per_customer)
            issues.append(
                Issue(
                    "overlap",
                    f"{several:,} customers ({share:.0%}) were members of several campaigns: "
                    "campaign estimates are treated as independent and their lifts may overlap.",
                    severity="info",
                    values={"n": several, "share": share},
                )
            )
    by_segment = _by_segment(results, outcomes, params) if measured else None
    by_channel = _by_channel(results, alpha) if measured else None
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
        by_segment=by_segment,
        by_channel=by_channel,
        data_end=data_end,
        settings=_settings(params),
        locale=params.locale,
        currency=params.currency,
        issues=tuple(issues),
        outcomes=outcomes,
    )


def _find_campaign(db, key: str) -> list:
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
    db,
    params,
    period: Period | str | None = None,
    *,
    campaign: str | None = None,
    campaign_ids: Sequence | None = None,
) -> CampaignReport:
    """Measure the ROI of a brand's campaigns and of the programme against control groups.

    Parameters
    ----------
    db : kpitools.data.sources.Database
        The brand's data (``campaigns``, ``campaign_members``, ``orders``).
    params : kpitools.params.BrandParams
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
    from kpitools.kpis.compute import resolve_period

    period = resolve_period(db, params, period)
    window = None
    missing = [t for t in ("campaigns", "campaign_members", "orders") if not db.has(t)]
    if missing:
        # not available, never a crash: the report says which table the analysis needs
        empty = pd.DataFrame(columns=CAMPAIGN_COLUMNS)
        outcomes = pd.DataFrame(
            columns=["campaign_id", "customer_id", "treated", "contacted", "segment"]
        )
        report = analyse_outcomes(
            empty, outcomes, params, period=period, window=programme_window(period)
        )
        issue = Issue(
            "missing_table",
            f"Campaign ROI is not available: the data source has no table {', '.join(missing)}.",
            values={"tables": ", ".join(missing)},
        )
        return replace(report, issues=(issue,))
    key = campaign if campaign is not None else params.roi.campaign
    if campaign_ids is None and key:
        campaign_ids = _find_campaign(db, key)
    if campaign_ids is not None:
        campaigns = load_campaigns(db, campaign_ids=campaign_ids)
    else:
        window = programme_window(period)
        campaigns = load_campaigns(db, period=window)
    if campaigns.empty:
        outcomes = pd.DataFrame(
            columns=["campaign_id", "customer_id", "treated", "contacted", "segment"]
        )
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
    return analyse_outcomes(
        campaigns, outcomes, params, period=period, window=window, data_end=data_end
    )
