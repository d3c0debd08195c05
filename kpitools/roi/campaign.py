"""One campaign's analysis: group sizes, cost, lifts, ROI and guardrails.

:func:`analyse_campaign` takes one row of the ``campaigns`` table and the campaign's members
(one row each, as from :func:`kpitools.roi.outcomes.load_campaign_outcomes`) and returns a
:class:`~kpitools.roi.results.CampaignResult`; see :mod:`kpitools.roi.analysis` for the
method. Every problem is an :class:`~kpitools.roi.results.Issue` (a reason code and its
numbers); a figure that cannot be computed is ``None`` with an issue saying why.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd

from kpitools.errors import CampaignError, FitError, KpitoolsError
from kpitools.numbers import finite_or_none
from kpitools.params import BrandParams, RoiParams
from kpitools.roi.estimators import LiftResult, RoiInputError, estimate_lift
from kpitools.roi.guardrails import (
    check_groups,
    minimum_detectable_effect,
    required_control_size,
    sample_ratio_mismatch,
)
from kpitools.roi.programme import compute_roi, cost_of, test_segment_interaction
from kpitools.roi.results import CampaignResult, Issue
from kpitools.vocab import Verdict

__all__ = ["OUTCOMES", "POWER", "analyse_campaign", "outcome_lift", "pooled_sd"]

#: Power used for the minimum detectable effect.
POWER = 0.8

#: Outcomes analysed: (outcome column, pre-period covariate).
OUTCOMES = {
    "revenue": "pre_revenue",
    "margin": "pre_margin",
    "converted": "pre_orders",
}


def pooled_sd(df: pd.DataFrame, outcome: str) -> float | None:
    """Pooled within-group standard deviation of ``outcome`` (None if not computable).

    Groups are the values of ``df["treated"]``; outcome units per customer.
    """
    parts = [g[outcome].to_numpy(dtype=float) for _, g in df.groupby("treated")]
    dof = sum(len(p) - 1 for p in parts)
    if len(parts) < 2 or dof <= 0:
        return None
    ss = sum(float(((p - p.mean()) ** 2).sum()) for p in parts)
    sd = math.sqrt(ss / dof)
    return sd if sd > 0 and math.isfinite(sd) else None


def outcome_lift(
    df: pd.DataFrame,
    outcome: str,
    roi: RoiParams,
    issues: list[Issue] | None,
) -> LiftResult | None:
    """``estimate_lift`` with the params' method; fall back to the difference in means.

    Parameters
    ----------
    df : pandas.DataFrame
        Members: ``treated`` (0/1), the outcome column and its pre-period covariate
        (:data:`OUTCOMES`).
    outcome : {"revenue", "margin", "converted"}
    roi : RoiParams
        ``method``, ``cov_type``, ``alpha``, ``interval``, ``min_control_judge`` (a smaller
        control group gives a lift without interval, ``controls_needed`` set).
    issues : list of Issue or None
        Issues are appended here (None: not recorded).

    A covariate constant in ``df`` is dropped silently (the adjusted estimators then equal
    the difference in means). Other fitting failures fall back to ``"diff"`` with an info
    issue; a lift that cannot be estimated at all gives None and a warning issue.
    """
    covariate = OUTCOMES[outcome]
    method = roi.method
    covs: tuple[str, ...] = (covariate,)
    if method == "diff" or df[covariate].nunique(dropna=True) < 2:
        method, covs = "diff", ()
    kwargs: dict[str, Any] = dict(
        treatment="treated",
        cov_type=roi.cov_type,
        alpha=roi.alpha,
        interval=roi.interval,
        min_control_judge=roi.min_control_judge,
    )
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
                            severity="info",
                            fields={"outcome": outcome, "method": roi.method, "reason": str(exc)},
                            detail={"covariate": covariate},
                        )
                    )
                return res
    except CampaignError as exc:
        error = exc
    if issues is not None:
        issues.append(Issue("lift_failed", fields={"outcome": outcome, "reason": str(error)}))
    return None


def _text_or_none(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def analyse_campaign(
    meta: pd.Series,
    members: pd.DataFrame,
    params: BrandParams,
    data_end: datetime | None,
    *,
    guardrails: bool = True,
    margin: bool = True,
) -> CampaignResult:
    """Measure one campaign against its control group.

    With ``margin`` False (the orders carry no cost, ``orders.cost`` empty) the margin lift,
    the ROI and the margin guardrails are not estimated: a margin of "revenue - nothing"
    would be read as a zero margin and an ROI of -100 %; the revenue lift still is.

    Parameters
    ----------
    meta : pandas.Series
        The campaign's row of the ``campaigns`` table (``campaign_id``, ``name``, ``channel``,
        ``product_line``, ``starts_at``, ``ends_at``, ``fixed_cost`` and
        ``cost_per_contact`` in currency units, ``planned_control_share``).
    members : pandas.DataFrame
        Its members, one row each: ``treated``, ``contacted`` (0/1), ``segment``,
        ``revenue``, ``margin`` (currency units), ``converted`` (0/1) over the outcome
        window and the pre-period covariates ``pre_revenue``, ``pre_margin``, ``pre_orders``.
    params : BrandParams
        ``params.roi``.
    data_end : datetime or None
        Exclusive end of the data; a later outcome window makes the result provisional.
    guardrails : bool, default True
        Also compute the power figures (MDE, control size needed), the conversion lift and the
        segment test; False gives the cost, revenue and margin lifts and ROI only (the same
        numbers, for the programme KPIs of :mod:`kpitools.roi.kpis`).

    Returns
    -------
    CampaignResult
    """
    roi_p = params.roi
    issues: list[Issue] = []
    name = str(meta["name"])
    starts_at = pd.Timestamp(meta["starts_at"]).to_pydatetime()
    ends_at = pd.Timestamp(meta["ends_at"]).to_pydatetime()
    window_end = ends_at + pd.Timedelta(days=int(roi_p.attribution_days))
    n1 = int((members["treated"] == 1).sum())
    n0 = int((members["treated"] == 0).sum())
    n_contacted = int(members["contacted"].sum())
    share = finite_or_none(meta.get("planned_control_share"))
    fixed = finite_or_none(meta.get("fixed_cost")) or 0.0
    # a product-line report carries its share of a brand-wide campaign's set-up cost (the
    # contact cost is already the line's: only the line's members are analysed)
    cost_share = finite_or_none(meta.get("cost_share"))
    if cost_share is not None:
        fixed *= cost_share
    unit = finite_or_none(meta.get("cost_per_contact")) or 0.0
    product_line = _text_or_none(meta.get("product_line"))

    # -- group sizes ------------------------------------------------------------------------
    issues.extend(check_groups(n1, n0, min_control=roi_p.min_control))
    if n1 > 0 and n_contacted == 0:
        n_contacted = n1
        issues.append(Issue("not_contacted", severity="info", fields={"n_treated": n1}))
    missing_cost = [
        col
        for col in ("fixed_cost", "cost_per_contact")
        if meta.get(col) is None or pd.isna(meta.get(col))
    ]
    if missing_cost:
        issues.append(Issue("cost_missing", fields={"columns": ", ".join(missing_cost)}))
    cost = cost_of(fixed, unit, n_contacted)
    if cost_share is not None:
        issues.append(
            Issue(
                "line_cost_share",
                severity="info",
                fields={"share": cost_share, "n": int(meta.get("n_treated_line") or 0)},
            )
        )

    # -- sample ratio mismatch ---------------------------------------------------------------
    srm = None
    if n1 + n0 > 0:
        if share is not None and 0.0 < share < 1.0:
            srm = sample_ratio_mismatch(n1, n0, share)
            if srm.mismatch:
                issues.append(
                    Issue(
                        "srm",
                        fields={
                            "observed": srm.observed_control_share,
                            "planned": share,
                            "p_value": srm.p_value,
                        },
                        detail={
                            "total": n1 + n0,
                            "n_control": n0,
                            "expected_control": srm.expected_control,
                            "statistic": srm.statistic,
                            "alpha": srm.alpha,
                        },
                        # the exact test's sentence quotes no chi-square statistic
                        variant="binomial" if srm.test == "binomial" else None,
                    )
                )
        else:
            issues.append(Issue("no_planned_share", severity="info"))

    # data_end: the day after the last order (orders of that day are in the data)
    provisional = data_end is not None and window_end > data_end
    if provisional:
        last_day = data_end - pd.Timedelta(days=1)
        issues.append(Issue("provisional", fields={"window_end": window_end, "last_day": last_day}))

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
                    fields={"outcome": "revenue", "reason": "group too small"},
                    detail={"n_treated": n1, "n_control": n0},
                    variant="group_too_small",
                )
            )
        return CampaignResult(**common, issues=tuple(issues))

    # -- power ---------------------------------------------------------------------------------
    alpha = float(roi_p.alpha)
    sd_rev, sd_margin = (
        (pooled_sd(members, "revenue"), pooled_sd(members, "margin") if margin else None)
        if guardrails
        else (None, None)
    )
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
    # mde_margin is set only when sd_margin is (non-zero): the sd_margin test narrows its type
    if sd_margin and mde_margin is not None and break_even is not None and mde_margin > break_even:
        required = required_control_size(break_even, sd_margin, n1, alpha=alpha, power=POWER)

    # -- lifts and ROI ---------------------------------------------------------------------------
    rev = outcome_lift(members, "revenue", roi_p, issues)
    mar = outcome_lift(members, "margin", roi_p, issues) if margin else None
    conv = outcome_lift(members, "converted", roi_p, issues) if guardrails else None
    roi = None
    # too few controls to judge: the lifts have no interval, so no ROI interval and no verdict
    needed = next((lf.controls_needed for lf in (rev, mar) if lf is not None), None)
    if needed is not None:
        # "too few controls to judge" says more than "small control group": one warning
        issues = [i for i in issues if i.code != "small_control"]
        issues.append(Issue("too_few_controls", fields={"n_control": n0, "min": needed}))
    if mar is not None and needed is None:
        if cost > 0:
            roi = compute_roi(mar, n_treated_total=n1, cost=cost, name=name)
        else:
            issues.append(Issue("zero_cost"))
    inc_rev = lo = hi = None
    if rev is not None:
        inc_rev = rev.effect * n1
        if not rev.too_few_controls:
            lo, hi = rev.ci_low * n1, rev.ci_high * n1
    # Too small a control group explains an inconclusive ROI; once the ROI interval is clear
    # of 0 the figures (MDE, break-even, control needed) stay in the guardrails table only.
    if (
        required is not None
        and needed is None
        and (roi is None or roi.verdict == Verdict.INCONCLUSIVE)
    ):
        issues.append(
            Issue(
                "underpowered",
                fields={
                    "mde": mde_margin,
                    "break_even": break_even,
                    "required": required.n_control if required.feasible else None,
                },
            )
        )

    seg_test = None
    counts = members.groupby("segment")["treated"].agg(["sum", "count"])
    ok = counts.index[(counts["sum"] >= 2) & (counts["count"] - counts["sum"] >= 2)]
    if guardrails and len(ok) >= 2:
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
                Issue("segment_test_failed", severity="info", fields={"reason": str(exc)})
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
        controls_needed=needed,
        issues=tuple(issues),
    )
