"""Campaign ROI on the demo database against its planted truth.

The demo generator (:mod:`kpitools.data.demo`) plants, per campaign, an expected incremental
revenue per targeted customer (``demo_truth_campaigns.true_incremental_revenue_per_treated``)
through extra orders placed inside ``[starts_at, ends_at + 30 days)``. Each campaign's reported
95 % interval should hold it for about 95 % of the campaigns. The misses are binomial:
with ``n`` campaigns, ``E = 0.05 n`` and ``SD = sqrt(0.05 * 0.95 * n)``; we accept up to
``E + 3 SD`` misses (for 38 campaigns: 1.9 expected, at most 5). The demo's control groups are
small (3 to 169 customers, median 18) and revenue is skewed, so nominal 95 % t intervals cover a little less
than 95 %; the tolerance absorbs that.

Sample ratio: every demo campaign has exactly ``round(planned share x members)`` controls (its
check's p-value is above 0.8, so none is flagged at any sane level: expected false flags 0),
but for the one planted broken split (``demo_truth_campaigns.broken_split``: 60 % of the
control group lost in the export), which the check flags (chi-square p = 4.4e-6 with seed 42).

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
from kpitools.report import roi as R
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


def test_the_planted_broken_split_is_flagged_and_no_other(demo):
    """The report's sample ratio warning (issue ``srm``) is raised for the planted broken split
    only; no other campaign's split check comes near even a lax 5 % level, and the campaigns
    with an expected control count below 5 get the exact binomial test."""
    truth = demo["truth"]
    broken = set(truth.index[truth["broken_split"]])
    assert len(broken) == 1
    flagged, p_values, tests = set(), {}, {}
    for report in demo["reports"].values():
        for c in report.campaigns:
            assert c.srm is not None
            p_values[c.campaign_id] = c.srm.p_value
            tests[c.campaign_id] = c.srm.test
            codes = [i.code for i in c.issues]
            if "srm" in codes:
                flagged.add(c.campaign_id)
                assert c.srm.mismatch and c.srm.p_value < c.srm.alpha == 0.001
    assert flagged == broken
    (cid,) = broken
    assert p_values[cid] < 1e-4
    assert min(p for k, p in p_values.items() if k != cid) > 0.05
    small = {
        k
        for k, r in truth.iterrows()
        if r["n_treated"] + r["n_control"] > 0
        and (r["n_treated"] + r["n_control"]) * min(_planned(demo, k), 1 - _planned(demo, k)) < 5
    }
    assert small and {k for k, v in tests.items() if v == "binomial"} == small


def _planned(demo, campaign_id) -> float:
    for report in demo["reports"].values():
        for c in report.campaigns:
            if c.campaign_id == campaign_id:
                return float(c.planned_control_share)
    raise KeyError(campaign_id)


def test_the_broken_split_reads_in_the_report(demo):
    """The guardrails section of the broken campaign's report carries the split warning."""
    from kpitools.report.roi import guardrails_html

    truth = demo["truth"]
    (cid,) = truth.index[truth["broken_split"]]
    brand = truth.loc[cid, "brand"]
    html = str(guardrails_html(demo["reports"][brand]))
    assert "Split different from the plan" in html or "Sample ratio mismatch" in html
    others = [b for b in demo["reports"] if b != brand]
    for b in others:
        text = str(guardrails_html(demo["reports"][b]))
        assert "Sample ratio mismatch" not in text and "Split different" not in text


def test_every_view_adds_up_to_the_programme_on_the_demo(demo):
    """Each view (segment, channel, product line), its "not measured" row included, holds
    every campaign's treated, control customers and cost; the headline counts every cost."""
    for brand, report in demo["reports"].items():
        treated = sum(c.n_treated for c in report.campaigns)
        control = sum(c.n_control for c in report.campaigns)
        assert report.programme.cost == pytest.approx(report.total_cost)
        assert report.programme_measured.cost == pytest.approx(
            report.total_cost - report.unmeasured_cost
        )
        for view in (report.by_segment, report.by_channel, report.by_product_line):
            tot = view.totals()
            assert (tot["n_treated"], tot["n_control"]) == (treated, control), (brand, view.by)
            assert tot["cost"] == pytest.approx(report.total_cost), (brand, view.by)
            nm = view.table.index == "not measured"
            assert view.table.loc[nm, "reason"].notna().all()
        print(
            f"{brand}: {len(report.campaigns)} campaigns, {len(report.unmeasured)} unmeasured "
            f"(cost {report.unmeasured_cost:,.0f}); programme ROI all costs "
            f"{report.programme.roi:+.1%} [{report.programme.roi_ci_low:+.1%}; "
            f"{report.programme.roi_ci_high:+.1%}], measured only "
            f"{report.programme_measured.roi:+.1%}; segment view not measured: "
            f"{report.by_segment.not_measured}"
        )


def test_no_larger_control_advice_where_no_size_would_do_on_the_demo(demo):
    """'A larger control group would settle it' only with a size that exists and fits within
    the campaign's audience; every other underpowered campaign reads 'too small'."""
    n_larger = n_small = 0
    for report in demo["reports"].values():
        for c in report.campaigns:
            for issue in c.issues:
                if issue.code != "underpowered":
                    continue
                req = c.required_control
                assert req is not None
                if issue.fields["required"] is not None:
                    assert req.feasible and req.n_control == issue.fields["required"]
                    assert req.n_control <= c.n_members
                    assert c.advice.code == "larger_control"
                    n_larger += 1
                else:
                    assert not req.feasible or req.n_control > c.n_members
                    assert c.advice.code == "too_small"
                    n_small += 1
            if c.required_control is not None and (
                not c.required_control.feasible or c.required_control.n_control > c.n_members
            ):
                assert "would be needed" not in " ".join(R.issue_message(i) for i in c.issues)
        counts = report.verdict_counts
        print(report.brand, counts)
    print(f"underpowered advice: {n_larger} larger control, {n_small} too small on their own")
    assert n_small > 0
