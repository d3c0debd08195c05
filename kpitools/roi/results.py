"""Result objects of the campaign ROI analysis: plain dataclasses with ``to_dict()``.

:class:`Issue` (defined in :mod:`kpitools.roi.issues`, re-exported here) is a guardrail
warning or a remark as a *reason code* with the numbers it is made of; the sentence a reader
sees is written by :mod:`kpitools.report.roi` from the translation catalogue (messages
``roi.issue.<code>``, ``roi.message.<code>``). :class:`CampaignResult` holds one
campaign, :class:`GroupSummary` the programme by segment or channel (with its
:class:`GroupTest`), :class:`CampaignReport` the whole window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from kpitools.numbers import json_safe
from kpitools.periods import Period
from kpitools.roi.estimators import LiftResult
from kpitools.roi.guardrails import ControlSizeResult, SRMResult
from kpitools.roi.issues import Issue, Severity
from kpitools.roi.programme import RoiResult, SegmentInteractionResult
from kpitools.roi.verdicts import MULTIPLICITY_RULE, AdjustedVerdict, Advice
from kpitools.vocab import Verdict

__all__ = [
    "CAMPAIGN_COLUMNS",
    "CampaignReport",
    "CampaignResult",
    "GroupSummary",
    "GroupTest",
    "Issue",
    "Severity",
]

#: Columns of the ``campaigns`` table the analysis reads (an empty frame has these).
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
    controls_needed : int or None
        Set when the control group is too small to judge (fewer than
        ``roi.min_control_judge`` customers): the control customers needed. The lifts then
        have no interval, and there is no ROI and no verdict (issue ``too_few_controls``).
    issues : tuple of Issue
    adjusted : AdjustedVerdict or None
        The verdict after Benjamini–Hochberg across the report's measured campaigns
        (:func:`kpitools.roi.verdicts.adjust_verdicts`); None outside a report.
    advice : Advice or None
        What would settle the campaign when its control group is too small
        (:func:`kpitools.roi.verdicts.control_advice`): a larger control group of a given size,
        or "too small to measure on its own".
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
    controls_needed: int | None = None
    issues: tuple[Issue, ...] = ()
    adjusted: AdjustedVerdict | None = field(default=None, repr=False)
    advice: Advice | None = field(default=None, repr=False)

    @property
    def too_few_controls(self) -> bool:
        """True when the control group is too small to judge (see ``controls_needed``)."""
        return self.controls_needed is not None

    @property
    def verdict(self) -> Verdict:
        """The ROI verdict (adjusted across the report when :attr:`adjusted` is set), or
        :attr:`Verdict.NOT_MEASURED` when there is no ROI."""
        if self.roi is None:
            return Verdict.NOT_MEASURED
        return self.adjusted.verdict if self.adjusted is not None else self.roi.verdict

    @property
    def raw_verdict(self) -> Verdict:
        """The verdict of the campaign's own interval, before the adjustment."""
        return self.roi.verdict if self.roi is not None else Verdict.NOT_MEASURED

    @property
    def warnings(self) -> list[Issue]:
        """The issues of severity ``warning``."""
        return [i for i in self.issues if i.severity == "warning"]

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
            "raw_verdict": self.raw_verdict,
            "p_profitable": _get(self.adjusted, "p_profitable"),
            "p_not_profitable": _get(self.adjusted, "p_not_profitable"),
            "advice": _get(self.advice, "code"),
            "advice_control": _get(self.advice, "n_control"),
            "mde_revenue": self.mde_revenue,
            "mde_margin": self.mde_margin,
            "break_even_margin": self.break_even_margin,
            "srm_p_value": _get(self.srm, "p_value"),
            "controls_needed": self.controls_needed,
            "provisional": self.provisional,
            "warnings": len(self.warnings),
        }


@dataclass(frozen=True)
class GroupTest:
    """Wald test that the lift per targeted customer is the same in every group.

    ``statistic = sum_g (e_g - e_bar)² / se_g²`` with ``e_bar`` the inverse-variance weighted
    mean of the group lifts ``e_g``; chi-square with ``df = groups - 1`` under equal lifts.
    ``labels`` are the groups compared, in order.
    """

    by: str
    outcome: str
    statistic: float
    df: int
    p_value: float
    alpha: float
    differs: bool
    labels: tuple[str, ...] = ()

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
        ``roi_ci_low``, ``roi_ci_high``; ``verdict``; ``reason``. When something was not
        measured, a last row ``"not measured"`` carries the treated and control customers and
        the cost left out of the groups, ``reason`` the reason codes (comma-separated), so
        that the rows add up to the programme.
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
    not_measured: dict[str, dict[str, float]] = field(default_factory=dict, compare=False)

    def totals(self) -> dict[str, float]:
        """``n_treated``, ``n_control`` and ``cost`` summed over every row (the programme's)."""
        t = self.table
        return {k: float(t[k].astype(float).sum()) for k in ("n_treated", "n_control", "cost")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "groups": {str(g): json_safe(row.to_dict()) for g, row in self.table.iterrows()},
            "not_measured": json_safe(self.not_measured),
            "test": None if self.test is None else json_safe(self.test.to_dict()),
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
        The headline programme ROI: the incremental margin of the campaigns with a ROI against
        the cost of **every** campaign of the window (unmeasured campaigns' margin counted as
        0, :func:`~kpitools.roi.programme.with_unmeasured_cost`); None when no campaign has a
        ROI.
    programme_revenue, programme_revenue_ci_low, programme_revenue_ci_high : float or None
        Incremental revenue of the measured campaigns and its interval.
    by_segment, by_channel, by_product_line : GroupSummary or None
        Each with a ``"not measured"`` row when something was left out, so that its rows add
        up to every campaign's treated, control customers and cost.
    data_end : datetime or None
        End of the data: midnight after the day of the last order.
    settings : dict
        ``method``, ``cov_type``, ``alpha``, ``attribution_days``, ``pre_period_days``,
        ``min_control``, ``interval``, ``min_control_judge``, ``lapse_days``, ``power``.
    locale, currency : str
    issues : tuple of Issue
        Programme-level issues (campaign issues are on each campaign).
    outcomes : pandas.DataFrame
        The member-level data analysed (:func:`kpitools.roi.outcomes.load_campaign_outcomes`).
    programme_measured : RoiResult or None
        The programme ROI on the measured campaigns only (their margin against their cost).
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
    programme_measured: RoiResult | None = None
    by_product_line: GroupSummary | None = None

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
    def unmeasured(self) -> list[CampaignResult]:
        """Campaigns without a ROI (their cost still counts in :attr:`programme`)."""
        return [c for c in self.campaigns if c.roi is None]

    @property
    def unmeasured_cost(self) -> float:
        """Cost of the campaigns without a ROI, currency units."""
        return float(sum(c.cost for c in self.unmeasured))

    @property
    def verdict_counts(self) -> dict[str, int]:
        """Campaigns per verdict, every :class:`~kpitools.vocab.Verdict` present."""
        counts = dict.fromkeys(Verdict, 0)
        for c in self.campaigns:
            counts[c.verdict] += 1
        return {str(v): n for v, n in counts.items()}

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
        """Headline numbers for ``kpis.json`` (JSON-safe: None, never NaN).

        Issues are written as :meth:`Issue.to_dict` (code, severity, values); the report's
        export adds each issue's English sentence.
        """
        prog = self.programme
        counts = self.verdict_counts
        return json_safe(
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
                "profitable": counts[Verdict.PROFITABLE],
                "not_profitable": counts[Verdict.NOT_PROFITABLE],
                "inconclusive": counts[Verdict.INCONCLUSIVE],
                "not_measured": counts[Verdict.NOT_MEASURED],
                "total_cost": self.total_cost,
                "unmeasured_cost": self.unmeasured_cost,
                "headline": "all_costs",
                "verdict_rule": {
                    "rule": MULTIPLICITY_RULE,
                    "q": self.alpha / 2,
                    "m": len(self.measured),
                },
                "programme_measured_only": _programme_dict(self.programme_measured),
                "programme": None
                if prog is None
                else {
                    "includes": "all_costs",
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
                "by_product_line": None
                if self.by_product_line is None
                else self.by_product_line.to_dict(),
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


def _programme_dict(prog: RoiResult | None) -> dict[str, Any] | None:
    if prog is None:
        return None
    return {
        "includes": "measured_only",
        "cost": prog.cost,
        "incremental_margin": prog.incremental_margin,
        "margin_ci_low": prog.margin_ci_low,
        "margin_ci_high": prog.margin_ci_high,
        "roi": prog.roi,
        "roi_ci_low": prog.roi_ci_low,
        "roi_ci_high": prog.roi_ci_high,
        "verdict": prog.verdict,
    }


def _get(obj, name: str):
    return None if obj is None else getattr(obj, name)
