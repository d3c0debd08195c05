"""Campaign ROI on the demo database against its planted truth.

The demo generator (:mod:`kpitools.data.demo`) plants, per campaign, an expected incremental
revenue per targeted customer (``demo_truth_campaigns.true_incremental_revenue_per_treated``)
through extra orders placed inside ``[starts_at, ends_at + 30 days)``. Each campaign's reported
95 % interval should hold it for about 95 % of the campaigns. The misses are binomial:
with ``n`` campaigns, ``E = 0.05 n`` and ``SD = sqrt(0.05 * 0.95 * n)``; we accept up to
``E + 3 SD`` misses (for 38 campaigns: 1.9 expected, at most 5). The demo's control groups are
small (3 to 64 customers) and revenue is skewed, so nominal 95 % t intervals cover a little less
than 95 %; the tolerance absorbs that.

Programme totals (one per brand, all its campaigns): the planted total is
``sum(true_incremental_revenue_per_treated * n_treated)``. Each estimate must lie within
3 standard errors of it (calibrated intervals fail this for one of three brands with
probability 0.8 %); the number of 95 % intervals holding it is printed. With seed 42 only
bellevue's does: aurora's and castello's targeted customers happen to out-spend their control
groups in *baseline* (non-campaign) revenue by about 45 000 and 27 000, i.e. +2.1 and +2.2
standard errors, which no unbiased estimator can remove. Over 16 other seeds (48 brand
programmes) the 95 % programme intervals held the planted total 45 times (93.8 %, standardised
errors with SD 1.07); ``test_outcome_revenue_contains_every_planted_order`` rules out a
measurement error.
"""

from __future__ import annotations

import math

import duckdb
import pytest
from scipy import stats

from kpitools.data.sources import connect
from kpitools.params import parse_params
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.outcomes import load_campaigns

BRANDS = ("aurora", "bellevue", "castello")
#: the demo generator's segments, from ours (its "steady" = our steady + returning)
TO_DEMO_SEGMENT = {
    "new": "new",
    "reactivated": "reactivated",
    "steady": "steady",
    "returning": "steady",
    "inactive": "lapsed",
}


@pytest.fixture(scope="module")
def demo(demo_database):
    path = demo_database  # the session's shared default demo (conftest.py)
    con = duckdb.connect(str(path), read_only=True)
    try:
        truth = con.sql("SELECT * FROM demo_truth_campaigns").df()
        members = con.sql(
            "SELECT campaign_id, customer_id, segment AS demo_segment, realised_incremental_revenue "
            "FROM demo_truth_campaign_members"
        ).df()
    finally:
        con.close()
    reports = {}
    for brand in BRANDS:
        params = parse_params(
            {
                "brand": brand,
                "period": {"grain": "year"},
                "source": {"kind": "duckdb", "path": str(path)},
            }
        )
        with connect(params) as db:
            ids = load_campaigns(db)["campaign_id"].tolist()
            reports[brand] = analyse_campaigns(db, params, "2025", campaign_ids=ids)
    return {"truth": truth.set_index("campaign_id"), "members": members, "reports": reports}


def test_outcome_revenue_contains_every_planted_order(demo):
    """Every planted extra order lies in the outcome window: a member's outcome revenue is at
    least its realised extra revenue; control members have none. Segments are the
    generator's (mapped)."""
    for report in demo["reports"].values():
        out = report.outcomes.merge(demo["members"], on=["campaign_id", "customer_id"])
        assert len(out) == len(report.outcomes)
        assert (out["revenue"] >= out["realised_incremental_revenue"] - 0.01).all()
        assert (out.loc[out["treated"] == 0, "realised_incremental_revenue"] == 0).all()
        assert (out["segment"].map(TO_DEMO_SEGMENT) == out["demo_segment"]).all()


def report_min_judge(report) -> int:
    return int(report.settings.get("min_control_judge", 10))


def test_campaign_intervals_cover_the_planted_lift(demo):
    truth = demo["truth"]
    rows = []
    judged_out: list[str] = []
    for report in demo["reports"].values():
        for c in report.campaigns:
            planted = truth.loc[c.campaign_id, "true_incremental_revenue_per_treated"]
            assert c.n_treated == truth.loc[c.campaign_id, "n_treated"]
            assert c.n_control == truth.loc[c.campaign_id, "n_control"]
            lift = c.revenue_lift
            assert lift is not None, c.name  # every demo campaign has a control group
            if c.n_control < report_min_judge(report):
                # too few controls to judge (issue 12): an effect, no interval, no verdict
                assert lift.too_few_controls and c.controls_needed == report_min_judge(report)
                assert math.isnan(lift.ci_low) and c.roi is None
                judged_out.append(c.name)
                continue
            rows.append(lift.ci_low <= planted <= lift.ci_high)
    n = len(rows)
    assert n + len(judged_out) == len(truth)
    print(f"too few controls to judge: {len(judged_out)} campaigns")
    misses = n - sum(rows)
    expected, sd = 0.05 * n, math.sqrt(0.05 * 0.95 * n)
    print(f"campaign intervals holding the planted lift: {n - misses} / {n}")
    assert misses <= expected + 3 * sd
    # and not trivially wide: at least one campaign is significant either way
    assert any(
        c.revenue_lift.ci_low > 0 or c.revenue_lift.ci_high < 0
        for r in demo["reports"].values()
        for c in r.campaigns
    )


def test_programme_intervals_hold_the_planted_totals(demo):
    truth = demo["truth"]
    z = stats.norm.ppf(0.975)
    covered = 0
    n_brands = len(demo["reports"])
    for brand, report in demo["reports"].items():
        t = truth[truth["brand"] == brand]
        # the programme sums the campaigns with a verdict (not those with too few controls)
        t = t[t.index.isin([c.campaign_id for c in report.measured])]
        planted = float((t["true_incremental_revenue_per_treated"] * t["n_treated"]).sum())
        lo, hi = report.programme_revenue_ci_low, report.programme_revenue_ci_high
        se = (hi - lo) / (2 * z)
        print(
            f"{brand}: planted {planted:,.0f}, estimate {report.programme_revenue:,.0f} "
            f"[{lo:,.0f}; {hi:,.0f}]"
        )
        covered += lo <= planted <= hi
        assert abs(report.programme_revenue - planted) <= 3 * se, brand
        assert report.programme is not None
        assert len(report.measured) == sum(
            c.n_control >= report_min_judge(report) for c in report.campaigns
        )
        assert report.programme_revenue_ci_low < report.programme_revenue
    print(f"programme 95 % intervals holding the planted total: {covered} / {n_brands}")
