"""The programme by customer segment and by channel, and the test that lifts differ.

* **by segment** (segment of the member at the campaign's start): the lift is estimated
  within each campaign x segment cell (each cell compares treated and control customers of the
  same campaign, so different control shares across campaigns cannot bias it), then summed
  over campaigns: incremental revenue ``sum(n_treated_cs * lift_cs)``, lift per treated
  customer = that total / ``sum(n_treated_cs)``, variances added. The cost of a campaign is
  split between its segments: contact cost of the segment's contacted customers plus the fixed
  cost pro rata of its treated customers. Cells with fewer than 2 treated customers, or fewer
  control customers than ``roi.min_control_judge`` (the rule that leaves a campaign without
  interval or verdict), are left out (counted in ``n_treated_skipped``);
* **by channel** and **by product line** (the campaign's line; ``all`` for a brand-wide
  campaign): the campaigns of each group combined as above.

Every view accounts for every campaign of the window: what could not be measured (a campaign
without a ROI, a cell too small, a segment with controls but no targeted customer) goes to a
last row ``"not measured"`` (:data:`NOT_MEASURED`) with its treated and control customers, its
cost and the reason codes (:data:`SKIP_REASONS`), so that each view's treated, control and cost
add up to the programme's (all campaigns).

:func:`heterogeneity_test` is a Wald chi-square test that the group lifts per treated
customer are equal, with the group estimates independent (disjoint cells).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kpitools.params import BrandParams
from kpitools.roi.campaign import outcome_lift
from kpitools.roi.estimators import RoiInputError
from kpitools.roi.issues import BLOCKING_CODES
from kpitools.roi.programme import RoiResult, combine_programme, compute_roi
from kpitools.roi.results import CampaignResult, GroupSummary, GroupTest, Issue
from kpitools.schema import CHANNELS
from kpitools.vocab import Segment, Verdict

__all__ = [
    "GROUP_COLUMNS",
    "NOT_MEASURED",
    "SKIP_REASONS",
    "by_channel",
    "by_product_line",
    "by_segment",
    "heterogeneity_test",
    "skip_reason",
]

#: Label of the row that carries what a view could not measure.
NOT_MEASURED = str(Verdict.NOT_MEASURED)

#: Label of brand-wide campaigns in the product-line view.
ALL_LINES = "all"

#: Reason codes of the ``"not measured"`` row: a campaign's blocking issue
#: (:data:`~kpitools.roi.issues.BLOCKING_CODES`, ``not_measured`` when none), or for a cell of
#: a measured campaign ``cell_too_small`` (fewer than 2 targeted or 2 control customers),
#: ``cell_too_few_controls`` (fewer control customers than ``roi.min_control_judge``: like a
#: campaign, such a cell is too small to judge and gets no interval),
#: ``cell_lift_failed`` (lift not estimable there), ``no_treated_in_cell`` (control customers
#: of a segment without targeted customers), ``no_segment`` (members without a segment),
#: ``no_revenue_lift`` (a campaign with a ROI but no revenue lift).
SKIP_REASONS = (
    *BLOCKING_CODES,
    "not_measured",
    "cell_too_small",
    "cell_too_few_controls",
    "cell_lift_failed",
    "no_treated_in_cell",
    "no_segment",
    "no_revenue_lift",
)

#: Columns of :attr:`GroupSummary.table` (index ``group``).
GROUP_COLUMNS = [
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
    "reason",
]


def skip_reason(campaign: CampaignResult) -> str:
    """Why a campaign has no ROI: its most telling blocking issue code (``not_measured``
    when none is recorded)."""
    codes = [i.code for i in campaign.issues if i.code in BLOCKING_CODES]
    if not codes:
        return "not_measured"
    return min(codes, key=BLOCKING_CODES.index)


class _Skipped:
    """What a view could not measure, by reason code."""

    def __init__(self) -> None:
        self.by_reason: dict[str, dict[str, float]] = {}
        self.campaigns: set = set()

    def add(self, reason: str, campaign_id, n_treated: int, n_control: int, cost: float) -> None:
        if n_treated == 0 and n_control == 0 and cost == 0:
            return
        d = self.by_reason.setdefault(
            reason, {"n_treated": 0, "n_control": 0, "cost": 0.0, "n_campaigns": 0}
        )
        d["n_treated"] += int(n_treated)
        d["n_control"] += int(n_control)
        d["cost"] += float(cost)
        key = (reason, campaign_id)
        if key not in self.campaigns:
            self.campaigns.add(key)
            d["n_campaigns"] += 1

    def row(self) -> dict | None:
        if not self.by_reason:
            return None
        tot = {k: sum(d[k] for d in self.by_reason.values()) for k in ("n_treated", "n_control")}
        return {
            "group": NOT_MEASURED,
            "n_campaigns": len({c for _, c in self.campaigns}),
            "n_treated": int(tot["n_treated"]),
            "n_control": int(tot["n_control"]),
            "n_treated_skipped": int(tot["n_treated"]),
            "cost": float(sum(d["cost"] for d in self.by_reason.values())),
            "verdict": Verdict.NOT_MEASURED,
            "reason": ", ".join(self.by_reason),
        }


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
        Group names.
    by : str
        What the groups are (``segment``, ``channel``).
    outcome : str
        Outcome of the lifts.
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
    return GroupTest(
        by=by,
        outcome=outcome,
        statistic=q,
        df=df,
        p_value=p,
        alpha=float(alpha),
        differs=p < alpha,
        labels=tuple(str(x) for x in labels),
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
    by: str,
    cells: list[_Cell],
    skipped: dict[str, int],
    order: Sequence[str],
    alpha: float,
    not_measured: _Skipped | None = None,
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
                "reason": None,
            }
        )
    nm_row = not_measured.row() if not_measured is not None else None
    if nm_row is not None:
        rows.append(nm_row)
    table = pd.DataFrame(rows, columns=GROUP_COLUMNS).set_index("group")
    left_out = {g: n for g, n in skipped.items() if n}
    if left_out:
        issues.append(
            Issue(
                "cells_skipped",
                severity="info",
                fields={"n": sum(left_out.values()), "by": by, "detail": left_out},
            )
        )
    test = None
    # a group without a cell has no se (None): the column is then of objects, not floats
    se = pd.to_numeric(table["revenue_lift_se"], errors="coerce")
    ok = table[np.isfinite(se) & (se > 0) & (table.index != NOT_MEASURED)]
    if len(ok) >= 2:
        test = heterogeneity_test(
            ok["revenue_lift"], ok["revenue_lift_se"], list(ok.index), by=by, alpha=alpha
        )
    else:
        issues.append(Issue("single_group", severity="info", fields={"by": by}))
    return GroupSummary(
        by=by,
        table=table,
        results=results,
        test=test,
        issues=tuple(issues),
        not_measured={} if not_measured is None else dict(not_measured.by_reason),
    )


def by_segment(
    results: list[CampaignResult], outcomes: pd.DataFrame, params: BrandParams
) -> GroupSummary:
    """The measured campaigns by segment of their members at the campaign's start.

    Parameters
    ----------
    results : list of CampaignResult
    outcomes : pandas.DataFrame
        Members of every campaign (``campaign_id``, ``segment``, ``treated``,
        ``contacted``, outcomes and covariates).
    params : BrandParams
        ``params.roi`` (method, cov_type, alpha).
    """
    roi_p = params.roi
    cells: list[_Cell] = []
    skipped: dict[str, int] = {}
    nm = _Skipped()
    for r in results:
        members = outcomes[outcomes["campaign_id"] == r.campaign_id]
        if r.roi is None:
            # the whole campaign: members, and the cost (also of a campaign without members)
            n1 = int((members["treated"] == 1).sum())
            nm.add(skip_reason(r), r.campaign_id, n1, len(members) - n1, r.cost)
            continue
        no_sent = int(members["contacted"].sum()) == 0
        for seg, sub in members.groupby("segment", sort=False, dropna=False):
            n1 = int((sub["treated"] == 1).sum())
            n0 = len(sub) - n1
            contacted = n1 if no_sent else int(sub["contacted"].sum())
            cost = r.fixed_cost * n1 / r.n_treated + r.cost_per_contact * contacted
            if seg is None or pd.isna(seg):
                nm.add("no_segment", r.campaign_id, n1, n0, cost)
                continue
            if n1 == 0:
                nm.add("no_treated_in_cell", r.campaign_id, 0, n0, cost)
                continue
            if n1 < 2 or n0 < 2 or n0 < roi_p.min_control_judge:
                # the campaigns' rule: too few controls to judge gives no interval, no verdict
                skipped[seg] = skipped.get(seg, 0) + n1
                reason = "cell_too_small" if n1 < 2 or n0 < 2 else "cell_too_few_controls"
                nm.add(reason, r.campaign_id, n1, n0, cost)
                continue
            rev = outcome_lift(sub, "revenue", roi_p, None)
            mar = outcome_lift(sub, "margin", roi_p, None)
            if rev is None or mar is None or cost <= 0:
                skipped[seg] = skipped.get(seg, 0) + n1
                nm.add("cell_lift_failed", r.campaign_id, n1, n0, cost)
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
    return _summarise("segment", cells, skipped, [s.value for s in Segment], float(roi_p.alpha), nm)


def _whole_campaigns(by: str, results: list[CampaignResult], key, order, alpha) -> GroupSummary:
    cells, nm = [], _Skipped()
    for r in results:
        if r.roi is None or r.revenue_lift is None:
            reason = skip_reason(r) if r.roi is None else "no_revenue_lift"
            nm.add(reason, r.campaign_id, r.n_treated, r.n_control, r.cost)
            continue
        cells.append(
            _Cell(
                group=key(r),
                n_treated=r.n_treated,
                n_control=r.n_control,
                revenue=r.revenue_lift.effect * r.n_treated,
                revenue_se=r.revenue_lift.se * r.n_treated,
                roi=r.roi,
            )
        )
    return _summarise(by, cells, {}, order, alpha, nm)


def by_channel(results: list[CampaignResult], alpha: float) -> GroupSummary:
    """The campaigns by channel (each campaign whole), ``alpha`` the test level; the
    unmeasured campaigns in the ``"not measured"`` row."""
    return _whole_campaigns("channel", results, lambda r: r.channel, CHANNELS, alpha)


def by_product_line(results: list[CampaignResult], alpha: float) -> GroupSummary:
    """The campaigns by product line (each campaign whole; ``"all"`` for a brand-wide
    campaign), ``alpha`` the test level; the unmeasured campaigns in the ``"not measured"``
    row."""
    return _whole_campaigns(
        "product_line", results, lambda r: r.product_line or ALL_LINES, [ALL_LINES], alpha
    )
