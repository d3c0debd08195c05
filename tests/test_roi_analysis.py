"""Campaign and programme ROI (kpitools.roi.analysis) on a tiny fixture worked out by hand.

Every member orders at most once, inside its campaign's outcome window, with cost = revenue / 2
(so margin = revenue / 2); nobody ordered before, so every member is "new" and the pre-period
covariates are all 0: the default method ("ols" on pre_revenue) then equals the difference in
means (a constant covariate carries no information), whose HC2 standard error is the Neyman
``sqrt(s1²/n1 + s0²/n0)``, with Student t on n - 2 = 5 degrees of freedom
(t_0.975,5 = 2.570582).

Campaign A (email), fixed 10, 0.5 per contact; revenue of targeted 100, 60, 0, 40 (one of them,
customer 104, has no sent_at: 3 contacted), control 20, 0, 10.
    revenue lift = 50 - 10 = 40; s1² = 5200 / 3, s0² = 100; SE = sqrt(433.33 + 33.33) = 21.602
    margin lift = 20, SE = 10.801; cost = 10 + 0.5 * 3 = 11.5
    incremental margin = 20 * 4 = 80; ROI = (80 - 11.5) / 11.5 = 5.9565
    margin interval 4 * (20 ± 2.570582 * 10.801) = [-31.06, 191.06] -> inconclusive
    conversion: 3/4 - 2/3 = +8.33 points
Campaign B (sms), fixed 50, 1.0 per contact; targeted 100, 102, 98, 100, control 0, 2, 1.
    revenue lift = 100 - 1 = 99, SE = sqrt((8/3)/4 + 1/3) = 1
    margin lift = 49.5, SE = sqrt((2/3)/4 + 0.25/3) = 0.5; cost = 50 + 4 = 54
    incremental margin = 198, interval 4 * (49.5 ± 1.285291) = [192.86, 203.14]
    ROI = (198 - 54) / 54 = 2.6667, interval [2.5715, 2.7618] -> profitable
Programme A + B: margin 278, SE = sqrt((4 * 10.801)² + (4 * 0.5)²) = 43.251, normal interval
    278 ± 1.959964 * 43.251; cost 65.5; ROI = (278 - 65.5) / 65.5 = 3.2443.
Campaign C: 3 targeted, no control group. Campaign D: no members at all.
Campaign E: 30 targeted, 2 control with 50 % planned: sample ratio mismatch, small control,
    and its outcome window (06-01 .. 07-10) runs past the last order (06-20): provisional.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from helpers import make_db, write_params
from markupsafe import escape
from scipy import stats

from kpitools.data.sources import connect
from kpitools.errors import CampaignError
from kpitools.params import load_params
from kpitools.plots.roi import plot_lift_forest, plot_roi_by
from kpitools.report import roi as R
from kpitools.report.i18n import t
from kpitools.roi import (
    CampaignReport,
    ControlSizeResult,
    analyse_campaigns,
    analyse_outcomes,
    heterogeneity_test,
    minimum_detectable_effect,
)
from kpitools.roi.analysis import _with_verdicts
from kpitools.roi.results import CAMPAIGN_COLUMNS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# 4 targeted and 3 controls, HC2 t-interval with the Bell-McCaffrey degrees of freedom
# (Imbens and Kolesar 2016) for a difference in means:
# (1/4 + 1/3)² / (1/(4² x 3) + 1/(3² x 2)) = (49/144) / (11/144) = 49/11 = 4.4545
# (the residual degrees of freedom, 5, were used before issue 12).
T975 = stats.t.ppf(0.975, 49 / 11)  # 2.668204
Z975 = stats.norm.ppf(0.975)

CAMPAIGNS = [
    ("A", "email", "2025-03-01", "2025-03-10", 10.0, 0.5, 0.4),
    ("B", "sms", "2025-04-01", "2025-04-05", 50.0, 1.0, 0.4),
    ("C", "print", "2025-05-01", "2025-05-03", 20.0, 1.0, 0.2),
    ("D", "phone", "2025-05-10", "2025-05-12", 30.0, 2.0, 0.2),
    ("E", "social", "2025-06-01", "2025-06-10", 5.0, 0.1, 0.5),
]

# campaign index -> [(customer, group, revenue or 0 for no order, order date, sent)]
T, C = "treatment", "control"
MEMBERS = {
    1: [
        (101, T, 100, "2025-03-05", True),
        (102, T, 60, "2025-03-05", True),
        (103, T, 0, None, True),
        (104, T, 40, "2025-03-05", False),
        (105, C, 20, "2025-03-05", False),
        (106, C, 0, None, False),
        (107, C, 10, "2025-03-05", False),
    ],
    2: [
        (201, T, 100, "2025-04-03", True),
        (202, T, 102, "2025-04-03", True),
        (203, T, 98, "2025-04-03", True),
        (204, T, 100, "2025-04-03", True),
        (205, C, 0, None, False),
        (206, C, 2, "2025-04-03", False),
        (207, C, 1, "2025-04-03", False),
    ],
    3: [(300 + i, T, 10 * i, "2025-05-02", True) for i in range(1, 4)],
    4: [],
    5: [(500 + i, T, 10 + 10 * (i % 3), "2025-06-05", True) for i in range(1, 31)]
    + [(531, C, 0, None, False), (532, C, 20, "2025-06-20", False)],
}


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("roi_analysis")
    campaigns = [
        dict(
            campaign_id=i + 1,
            name=name,
            channel=ch,
            starts_at=s,
            ends_at=e,
            fixed_cost=f,
            cost_per_contact=u,
            planned_control_share=p,
        )
        for i, (name, ch, s, e, f, u, p) in enumerate(CAMPAIGNS)
    ]
    members, orders = [], []
    for cid, rows in MEMBERS.items():
        start = CAMPAIGNS[cid - 1][2]
        for cust, group, revenue, day, sent in rows:
            members.append(
                dict(
                    campaign_id=cid,
                    customer_id=cust,
                    group=group,
                    sent_at=f"{start} 09:00" if sent else None,
                )
            )
            if revenue:
                orders.append(
                    dict(
                        order_id=len(orders) + 1,
                        customer_id=cust,
                        product_line="a",
                        ordered_at=day,
                        revenue=float(revenue),
                        cost=revenue / 2,
                    )
                )
    path = make_db(
        tmp_path / "roi.duckdb",
        {"campaigns": campaigns, "campaign_members": members, "orders": orders},
    )
    # by-hand arithmetic: the t-interval (not the randomisation one) and no minimum to judge
    return load_params(
        write_params(
            tmp_path / "acme.yaml",
            path,
            roi={"min_control": 3, "min_control_judge": 2, "interval": "t"},
        )
    )


@pytest.fixture(scope="module")
def ab_report(params):
    """Campaigns A and B only."""
    with connect(params) as db:
        return analyse_campaigns(db, params, campaign_ids=[1, 2])


@pytest.fixture(scope="module")
def window_report(params):
    """Every campaign starting in the 12 months to June 2025: A to E."""
    with connect(params) as db:
        return analyse_campaigns(db, params, "2025-06")


def _codes(result):
    return {i.code for i in result.issues}


def test_campaign_figures_by_hand(ab_report):
    a, b = ab_report.campaigns
    assert (a.name, a.n_members, a.n_treated, a.n_control, a.n_contacted) == ("A", 7, 4, 3, 3)
    assert a.cost == pytest.approx(11.5)
    se_a = math.sqrt(5200 / 3 / 4 + 100 / 3)
    assert a.revenue_lift.effect == pytest.approx(40)
    assert a.revenue_lift.se == pytest.approx(se_a)
    assert a.revenue_lift.method == "diff"  # constant pre_revenue: difference in means
    assert (a.revenue_lift.ci_low, a.revenue_lift.ci_high) == pytest.approx(
        (40 - T975 * se_a, 40 + T975 * se_a)
    )
    assert a.incremental_revenue == pytest.approx(160)
    assert a.margin_lift.effect == pytest.approx(20)
    assert a.margin_lift.se == pytest.approx(se_a / 2)
    assert a.roi.incremental_margin == pytest.approx(80)
    assert a.roi.roi == pytest.approx((80 - 11.5) / 11.5)
    assert a.roi.margin_ci_low == pytest.approx(4 * (20 - T975 * se_a / 2))
    assert a.roi.roi_ci_low == pytest.approx((4 * (20 - T975 * se_a / 2) - 11.5) / 11.5)
    assert a.verdict == "inconclusive"
    assert a.conversion_lift.effect == pytest.approx(3 / 4 - 2 / 3)
    # A cannot detect its break-even lift: margin sd pooled = sqrt((1300 + 50) / 5)
    assert a.break_even_margin == pytest.approx(11.5 / 4)
    assert a.mde_margin == pytest.approx(minimum_detectable_effect(4, 3, math.sqrt(270)))
    assert "underpowered" in _codes(a)
    assert a.srm is not None and not a.srm.mismatch

    assert b.cost == pytest.approx(54)
    assert b.revenue_lift.effect == pytest.approx(99)
    assert b.revenue_lift.se == pytest.approx(1.0)
    assert b.margin_lift.se == pytest.approx(0.5)
    assert b.roi.incremental_margin == pytest.approx(198)
    assert (b.roi.margin_ci_low, b.roi.margin_ci_high) == pytest.approx(
        (4 * (49.5 - T975 * 0.5), 4 * (49.5 + T975 * 0.5))
    )
    assert b.roi.roi == pytest.approx(144 / 54)
    assert b.roi.roi_ci_low == pytest.approx((4 * (49.5 - T975 * 0.5) - 54) / 54)
    assert b.verdict == "profitable"
    assert b.mde_margin == pytest.approx(minimum_detectable_effect(4, 3, math.sqrt(0.5)))
    assert "underpowered" not in _codes(b)
    assert not b.warnings


def test_programme_and_channel_totals_by_hand(ab_report):
    report = ab_report
    se_a, se_b = math.sqrt(5200 / 3 / 4 + 100 / 3) / 2 * 4, 0.5 * 4
    se = math.sqrt(se_a**2 + se_b**2)
    prog = report.programme
    assert prog.incremental_margin == pytest.approx(278)
    assert prog.margin_se == pytest.approx(se)
    assert (prog.margin_ci_low, prog.margin_ci_high) == pytest.approx(
        (278 - Z975 * se, 278 + Z975 * se)
    )
    assert prog.cost == pytest.approx(65.5)
    assert prog.roi == pytest.approx((278 - 65.5) / 65.5)
    assert report.programme_revenue == pytest.approx(160 + 396)
    assert report.verdict_counts == {
        "profitable": 1,
        "not profitable": 0,
        "inconclusive": 1,
        "not measured": 0,
    }
    # by channel: one campaign each; the Wald test of two groups is (eA - eB)² / (seA² + seB²)
    ch = report.by_channel.table
    assert list(ch.index) == ["email", "sms"]
    assert ch.loc["sms", "revenue_lift"] == pytest.approx(99)
    assert ch.loc["email", "roi"] == pytest.approx((80 - 11.5) / 11.5)
    q = (40 - 99) ** 2 / ((2 * se_a / 4) ** 2 + 1.0)
    assert report.by_channel.test.statistic == pytest.approx(q)
    assert report.by_channel.test.p_value == pytest.approx(stats.chi2.sf(q, 1))
    # by segment: everybody is "new", so the segment view is the programme itself
    seg = report.by_segment.table
    assert list(seg.index) == ["new"]
    assert seg.loc["new", "incremental_margin"] == pytest.approx(278)
    assert seg.loc["new", "cost"] == pytest.approx(65.5)
    assert seg.loc["new", "revenue_lift"] == pytest.approx(556 / 8)
    assert report.by_segment.test is None
    assert "single_group" in {i.code for i in report.by_segment.issues}


def test_guardrails_no_control_no_members_mismatch(window_report):
    report = window_report
    assert report.window is not None
    by_name = {c.name: c for c in report.campaigns}
    assert list(by_name) == ["A", "B", "C", "D", "E"]
    c, d, e = by_name["C"], by_name["D"], by_name["E"]

    assert c.verdict == "not measured" and c.roi is None and c.revenue_lift is None
    assert "no_control" in _codes(c)
    assert any("No control group" in R.issue_message(w) for w in c.warnings)
    assert c.cost == pytest.approx(20 + 3)

    assert d.verdict == "not measured" and d.n_members == 0
    assert _codes(d) == {"no_members"}
    assert d.cost == pytest.approx(30)
    assert d.srm is None and d.mde_margin is None

    assert e.srm.mismatch and "srm" in _codes(e)
    assert "small_control" in _codes(e)  # 2 < min_control = 3
    assert e.provisional and "provisional" in _codes(e)
    assert e.roi is not None  # 2 controls are enough to estimate, with warnings

    assert {i.code for i in report.issues} >= {"unmeasured"}
    # headline: every campaign's cost (C and D unmeasured: their margin counts as 0)
    assert report.programme.cost == pytest.approx(11.5 + 54 + 23 + 30 + e.cost)
    assert report.programme_measured.cost == pytest.approx(11.5 + 54 + e.cost)
    assert report.total_cost == pytest.approx(11.5 + 54 + 23 + 30 + e.cost)
    assert report.unmeasured_cost == pytest.approx(23 + 30)
    m = report.programme.incremental_margin
    assert m == pytest.approx(report.programme_measured.incremental_margin)
    assert report.programme.roi == pytest.approx((m - report.total_cost) / report.total_cost)
    assert report.programme.margin_ci_low == report.programme_measured.margin_ci_low
    assert "unmeasured_cost" in report.programme.notes

    # nothing is a silent NaN: the kpis.json part is strict JSON
    doc = report.to_dict()
    text = json.dumps(doc, allow_nan=False)
    assert doc["campaigns"] == 5 and doc["not_measured"] == 2
    assert doc["headline"] == "all_costs" and doc["programme"]["includes"] == "all_costs"
    assert doc["programme"]["cost"] == pytest.approx(report.total_cost)
    assert doc["programme_measured_only"]["cost"] == pytest.approx(11.5 + 54 + e.cost)
    assert doc["unmeasured_cost"] == pytest.approx(53)
    assert doc["programme"]["incremental_margin"] == pytest.approx(278 + e.roi.incremental_margin)
    assert "NaN" not in text
    frame = report.to_frame()
    assert frame.loc[4, "verdict"] == "not measured"  # campaign D, indexed by id


def test_one_campaign_by_name_and_unknown_name(params):
    with connect(params) as db:
        report = analyse_campaigns(db, params, campaign="b")
        assert [c.name for c in report.campaigns] == ["B"]
        assert report.window is None
        with pytest.raises(CampaignError, match="no campaign with id or name 'Z'"):
            analyse_campaigns(db, params, campaign="Z")


def test_empty_window_is_reported_not_raised(params):
    with connect(params) as db:
        report = analyse_campaigns(db, params, "2024-01")
    assert report.campaigns == [] and report.programme is None
    assert {i.code for i in report.issues} == {"no_campaigns"}
    assert json.dumps(report.to_dict(), allow_nan=False)


def test_heterogeneity_test_three_groups_by_hand():
    """Lifts 1, 2, 4 with SE 1, 1, 2: weights 1, 1, 0.25; mean = (1 + 2 + 1) / 2.25 = 16/9.
    Q = (1 - 16/9)² + (2 - 16/9)² + 0.25 (4 - 16/9)² = 49/81 + 4/81 + 100/81 = 153/81."""
    res = heterogeneity_test([1, 2, 4], [1, 1, 2], ["a", "b", "c"], by="segment")
    assert res.statistic == pytest.approx(153 / 81)
    assert res.df == 2
    assert res.p_value == pytest.approx(stats.chi2.sf(153 / 81, 2))
    assert not res.differs


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_report_blocks_render_in_every_locale(params, window_report, locale):
    report = window_report
    assert isinstance(report, CampaignReport)
    blocks = [
        R.roi_header_html(report, params, locale=locale),
        R.roi_summary_html(report, locale, "EUR"),
        R.campaigns_table_html(report, locale, "EUR"),
        R.groups_html(report, "segment", locale, "EUR"),
        R.groups_html(report, "channel", locale, "EUR"),
        R.guardrails_html(report, locale, "EUR"),
        R.verdicts_html(report, locale, "EUR"),
        R.method_html(report, locale),
    ]
    html = "".join(blocks)
    assert re.search(r"\b(nan|NaN|None|inf)\b", html) is None
    assert html.count("<tr>") >= 5 + 5 + 2
    assert t("roi.title", locale) in blocks[0]
    ax = plot_lift_forest(report, locale=locale)
    assert len(ax.get_yticklabels()) == 3  # A, B, E have a lift
    ax2 = plot_roi_by(report, by="channel", locale=locale)
    assert len(ax2.get_yticklabels()) == 3
    assert "<table" in R.report_html(report)
    assert not hasattr(report, "_repr_html_")  # display comes from report/, not the result
    assert str(R.show_verdicts(report)) == R.verdicts_html(report)
    plt.close("all")


def test_export_extends_kpis_json(ab_report, tmp_path):
    target = tmp_path / "kpis.json"
    target.write_text(json.dumps({"brand": "acme", "kpis": {}}))
    R.export_roi_json(ab_report, target)
    doc = json.loads(target.read_text())
    assert doc["brand"] == "acme"
    assert doc["campaign_roi"]["programme"]["roi"] == pytest.approx((278 - 65.5) / 65.5)
    assert doc["campaign_roi"]["profitable"] == 1


# -- issue 12: views that add up, verdicts across the report, advice ---------------------------


def _view_totals_match(report):
    """Each view's treated, control and cost add up to every campaign's."""
    treated = sum(c.n_treated for c in report.campaigns)
    control = sum(c.n_control for c in report.campaigns)
    for view in (report.by_segment, report.by_channel, report.by_product_line):
        tot = view.totals()
        assert tot["n_treated"] == treated, view.by
        assert tot["n_control"] == control, view.by
        assert tot["cost"] == pytest.approx(report.total_cost), view.by
        assert tot["cost"] == pytest.approx(report.programme.cost), view.by


def test_every_view_adds_up_to_the_programme(window_report):
    """A to E: C (3 targeted, no control, cost 23) and D (no members, cost 30) go to the
    "not measured" row of every view, with their reason."""
    report = window_report
    _view_totals_match(report)
    seg = report.by_segment.table
    assert list(seg.index) == ["new", "not measured"]
    nm = seg.loc["not measured"]
    assert (nm["n_treated"], nm["n_control"], nm["cost"]) == (3, 0, pytest.approx(53))
    assert nm["reason"] == "no_control, no_members"
    assert report.by_segment.not_measured == {
        "no_control": {"n_treated": 3, "n_control": 0, "cost": 23.0, "n_campaigns": 1},
        "no_members": {"n_treated": 0, "n_control": 0, "cost": 30.0, "n_campaigns": 1},
    }
    ch = report.by_channel.table
    assert ch.index[-1] == "not measured" and ch.loc["not measured", "n_campaigns"] == 2
    assert report.by_product_line.table.loc["all", "n_campaigns"] == 3
    doc = report.to_dict()
    assert doc["by_segment"]["not_measured"]["no_control"]["cost"] == 23.0
    assert doc["by_product_line"]["groups"]["not measured"]["reason"] == "no_control, no_members"
    html = R.groups_html(report, "segment")
    assert "Not measured row: campaigns without a control group (3 targeted, 0 control" in html
    assert "toutes les lignes" in R.groups_html(report, "product_line", locale="fr")
    assert "non mesur" in R.groups_html(report, "channel", locale="fr")


def _outcomes(rows):
    cols = ["campaign_id", "customer_id", "treated", "contacted", "segment", "revenue"]
    df = pd.DataFrame(rows, columns=cols)
    df["group"] = np.where(df["treated"] == 1, "treatment", "control")
    df["margin"] = df["revenue"] / 2
    df["orders"] = (df["revenue"] > 0).astype(int)
    df["converted"] = df["orders"]
    df["channel"] = "email"
    for c in ("pre_revenue", "pre_margin", "pre_orders"):
        df[c] = 0.0
    return df


def test_segment_view_keeps_skipped_cells_and_control_only_segments(params):
    """Campaign X: "new" 3 targeted / 3 control (measured); "steady" 1 / 2 (cell too small);
    "inactive" 0 / 1 (controls without targeted). Fixed cost 10, 1 per contact, 4 contacted:
    cost 14, split 10 * 3/4 + 3 = 10.5 (new), 2.5 + 1 = 3.5 (steady), 0 (inactive).
    Campaign Y: 2 targeted, no control, cost 5 + 2 = 7, not measured."""
    campaigns = pd.DataFrame(
        [
            (1, "X", "email", None, "2025-03-01", "2025-03-10", 10.0, 1.0, 0.5),
            (2, "Y", "email", None, "2025-03-01", "2025-03-10", 5.0, 1.0, 0.5),
        ],
        columns=CAMPAIGN_COLUMNS,
    )
    rows = [
        (1, 1, 1, 1, "new", 50.0),
        (1, 2, 1, 1, "new", 30.0),
        (1, 3, 1, 1, "new", 0.0),
        (1, 4, 0, 0, "new", 10.0),
        (1, 5, 0, 0, "new", 0.0),
        (1, 6, 0, 0, "new", 5.0),
        (1, 7, 1, 1, "steady", 40.0),
        (1, 8, 0, 0, "steady", 20.0),
        (1, 9, 0, 0, "steady", 0.0),
        (1, 10, 0, 0, "inactive", 0.0),
        (2, 11, 1, 1, "new", 10.0),
        (2, 12, 1, 1, "new", 0.0),
    ]
    report = analyse_outcomes(campaigns, _outcomes(rows), params)
    assert report.total_cost == pytest.approx(21)
    assert report.programme.cost == pytest.approx(21)
    assert report.programme_measured.cost == pytest.approx(14)
    seg = report.by_segment.table
    assert list(seg.index) == ["new", "not measured"]
    assert (seg.loc["new", "n_treated"], seg.loc["new", "n_control"]) == (3, 3)
    assert seg.loc["new", "cost"] == pytest.approx(10.5)
    nm = seg.loc["not measured"]
    assert (nm["n_treated"], nm["n_control"], nm["cost"]) == (3, 3, pytest.approx(10.5))
    assert report.by_segment.not_measured["cell_too_small"]["cost"] == pytest.approx(3.5)
    assert report.by_segment.not_measured["no_treated_in_cell"]["n_control"] == 1
    assert report.by_segment.not_measured["no_control"]["n_treated"] == 2
    assert seg.loc["new", "n_treated_skipped"] == 0
    _view_totals_match(report)


def _with_required(result, required):
    return replace(result, required_control=required, mde_margin=9.0, break_even_margin=2.0)


def test_advice_through_the_report_both_branches(ab_report):
    """Campaign A (4 targeted, 3 control, 7 members) is inconclusive: a control size that fits
    its audience is quoted, one that does not (or none at all) gives 'too small'."""
    a, b = ab_report.campaigns
    assert a.verdict == "inconclusive"
    fits = ControlSizeResult(5, True, 2.0, 10.0, 4, 0.05, 0.8, 1.0)
    too_big = ControlSizeResult(8, True, 2.0, 10.0, 4, 0.05, 0.8, 1.0)
    none = ControlSizeResult(math.inf, False, 2.0, 10.0, 4, 0.05, 0.8, 3.0)
    for required, code, n in ((fits, "larger_control", 5), (too_big, "too_small", None)):
        (out, _) = _with_verdicts([_with_required(a, required), b])
        assert out.advice.code == code and out.advice.n_control == n
        issue = next(i for i in out.issues if i.code == "underpowered")
        assert issue.fields["required"] == n and issue.fields["audience"] == 7
        text = R.issue_text(issue, "en")
        if n is None:
            assert "too small to be measured on its own" in text and "about" not in text
        else:
            assert "a control group of about 5 customers (the campaign has 7 members)" in text
    (out, _) = _with_verdicts([_with_required(a, none), b])
    assert out.advice.code == "too_small"
    # a profitable campaign gets no advice, whatever its control group
    (_, out_b) = _with_verdicts([a, _with_required(b, none)])
    assert out_b.advice is None and "underpowered" not in _codes(out_b)
    # the programme summary: 'a larger control group would settle it' only with a size
    rep = replace(ab_report, campaigns=list(_with_verdicts([_with_required(a, none), b])))
    summary = R.roi_summary_html(rep)
    assert "larger control group would settle" not in summary
    assert "One campaign is too small to be judged on its own" in summary
    rep = replace(ab_report, campaigns=list(_with_verdicts([_with_required(a, fits), b])))
    assert "For 1 inconclusive campaign(s) a larger control group" in R.roi_summary_html(rep)
    for loc in ("fr", "it"):
        assert "Benjamini" not in R.verdicts_html(rep, loc)  # plain words, no jargon
        assert str(escape(R.verdict_rule_text(rep, loc))) in str(R.verdicts_html(rep, loc))


def test_verdict_rule_and_both_rois_in_the_report(window_report):
    report = window_report
    summary = R.roi_summary_html(report)
    assert "Headline: the ROI counts the cost of all 5 campaigns" in summary
    assert t("roi.roi_measured_only", "en") in summary
    assert "at most 2.5% of these verdicts are expected to be wrong" in summary
    doc = report.to_dict()
    assert doc["verdict_rule"] == {"rule": "benjamini-hochberg", "q": 0.025, "m": 3}
    for row, c in zip(doc["campaign_results"], report.campaigns, strict=True):
        assert row["verdict"] == c.verdict and row["raw_verdict"] == c.raw_verdict


def test_programme_roi_kpi_is_the_headline(params, window_report):
    """The registry's programme figures for June 2025 are the ROI report's headline: every
    campaign's cost (C and D unmeasured included), the measured campaigns' margin."""
    from kpitools.periods import parse_period
    from kpitools.roi.kpis import campaign_estimates, programme_by_period
    from kpitools.roi.outcomes import programme_window

    period = parse_period("2025-06", "month")
    lo, hi = programme_window(period)
    with connect(params) as db:
        est = campaign_estimates(db, params, lo, hi)
    row = programme_by_period(est, [period]).iloc[0]
    prog = window_report.programme
    assert row["programme_cost"] == pytest.approx(prog.cost)
    assert row["measured_cost"] == pytest.approx(window_report.programme_measured.cost)
    assert row["incremental_margin"] == pytest.approx(prog.incremental_margin)
    roi = (row["incremental_margin"] - row["programme_cost"]) / row["programme_cost"]
    assert roi == pytest.approx(prog.roi)


def _judge_at(params, n):
    """``params`` with ``roi.min_control_judge = n``."""
    return params.model_copy(update={"roi": params.roi.model_copy(update={"min_control_judge": n})})


def _x_campaign(fixed=10.0, per_contact=1.0):
    return pd.DataFrame(
        [(1, "X", "email", None, "2025-03-01", "2025-03-10", fixed, per_contact, 0.5)],
        columns=CAMPAIGN_COLUMNS,
    )


# Campaign X: "new" 3 targeted / 3 control, "steady" 2 targeted / 2 control; 5 controls in
# all. Fixed cost 10, 1 per contact, 5 contacted: cost 15, split 10 * 3/5 + 3 = 9 (new) and
# 10 * 2/5 + 2 = 6 (steady).
X_ROWS = [
    (1, 1, 1, 1, "new", 50.0),
    (1, 2, 1, 1, "new", 30.0),
    (1, 3, 1, 1, "new", 0.0),
    (1, 4, 0, 0, "new", 10.0),
    (1, 5, 0, 0, "new", 0.0),
    (1, 6, 0, 0, "new", 5.0),
    (1, 7, 1, 1, "steady", 40.0),
    (1, 8, 1, 1, "steady", 0.0),
    (1, 9, 0, 0, "steady", 20.0),
    (1, 10, 0, 0, "steady", 0.0),
]


def test_segment_cell_with_too_few_controls_has_no_interval(params):
    """With ``min_control_judge`` 3 the campaign (5 controls) is judged, but its "steady" cell
    (2 controls) is too small to judge, like a campaign: it goes to the "not measured" row
    instead of giving the segment an interval and a verdict. With 2 it is a row."""
    loose = analyse_outcomes(_x_campaign(), _outcomes(X_ROWS), _judge_at(params, 2))
    assert list(loose.by_segment.table.index) == ["new", "steady"]

    report = analyse_outcomes(_x_campaign(), _outcomes(X_ROWS), _judge_at(params, 3))
    assert report.campaigns[0].roi is not None  # 5 controls: the campaign is judged
    seg = report.by_segment.table
    assert list(seg.index) == ["new", "not measured"]
    assert seg.loc["new", "cost"] == pytest.approx(9)
    assert seg.loc["new", "verdict"] in ("profitable", "not profitable", "inconclusive")
    assert report.by_segment.not_measured == {
        "cell_too_few_controls": {"n_treated": 2, "n_control": 2, "cost": 6.0, "n_campaigns": 1}
    }
    assert seg.loc["not measured", "verdict"] == "not measured"
    assert "steady" not in report.by_segment.results
    _view_totals_match(report)
    html = R.groups_html(report, "segment")
    assert (
        "cells with fewer control customers than the minimum to judge (2 targeted, 2 control"
        in html
    )
    for loc in ("fr", "it"):
        assert "cell_too_few_controls" not in R.groups_html(report, "segment", locale=loc)


def test_programme_revenue_without_cost_leaves_out_too_few_controls(params):
    """Orders without cost: no ROI, the programme revenue sums the campaigns' revenue lifts,
    but not a campaign with too few controls to judge (it has no interval). X: 3 targeted
    (50, 30, 0) and 3 controls (10, 0, 5): lift 26.667 - 5 = 21.667, x 3 = 65. Y: 3 targeted,
    2 controls, below the minimum of 3."""
    campaigns = pd.concat(
        [
            _x_campaign(),
            pd.DataFrame(
                [(2, "Y", "sms", None, "2025-04-01", "2025-04-10", 5.0, 1.0, 0.4)],
                columns=CAMPAIGN_COLUMNS,
            ),
        ],
        ignore_index=True,
    )
    rows = [r for r in X_ROWS if r[4] == "new"] + [
        (2, 11, 1, 1, "new", 400.0),
        (2, 12, 1, 1, "new", 200.0),
        (2, 13, 1, 1, "new", 0.0),
        (2, 14, 0, 0, "new", 0.0),
        (2, 15, 0, 0, "new", 10.0),
    ]
    report = analyse_outcomes(campaigns, _outcomes(rows), _judge_at(params, 3), margin=False)
    assert "needs_cost" in [i.code for i in report.issues]
    x, y = report.campaigns
    assert y.too_few_controls and y.incremental_revenue == pytest.approx(3 * (200 - 5))
    assert x.incremental_revenue == pytest.approx(65)
    assert report.programme_revenue == pytest.approx(65)
    assert report.programme_revenue_ci_low < 65 < report.programme_revenue_ci_high


def test_report_text_names_interval_kinds_srm_and_unmeasured(window_report):
    """A, B and E (2 controls, the minimum here) get Student t intervals; C (no control) and
    D (no members) no lift. E's split (2 controls for 50 % planned) fails its check: named in
    the summary and cautioned in its verdict line. The summary's cost is of all 5 campaigns,
    its margin of the 3 measured."""
    report = window_report
    method = R.method_html(report)
    assert "Intervals: Student t with Bell–McCaffrey degrees of freedom for 3 of 5 campaigns" in (
        method
    )
    assert "randomisation interval" not in method
    assert "fewer than 2 control customers (roi.min_control_judge)" in method
    assert "pour 3 sur 5 campagnes" in R.method_html(report, locale="fr")
    assert "per 3 su 5 campagne" in R.method_html(report, locale="it")
    guard = R.guardrails_html(report)
    assert "<th>Interval</th>" in guard and guard.count("<td>Student t</td>") == 3
    summary = R.roi_summary_html(report)
    assert "ROI, cost of all campaigns (headline)" in summary  # C and D are not measured
    assert "ROI, measured campaigns only" in summary
    assert "The 5 campaigns of the CRM programme cost" in summary
    assert "the 3 measured against a control group brought" in summary
    assert "Over the 3 campaigns measured" not in summary
    e = report.campaign("E")
    assert e.srm is not None and e.srm.mismatch
    assert "Split not as planned for E:" in summary
    verdicts = R.verdicts_html(report)
    line_e = verdicts.split("E</b>")[-1] if "E</b>" in verdicts else verdicts
    assert "Caution: the split between targeted and control customers is not the one planned" in (
        line_e
    )
    assert verdicts.count("Caution: the split") == 1
    assert "Répartition non conforme au plan pour E" in R.roi_summary_html(report, locale="fr")
    assert "Attenzione: la ripartizione" in R.verdicts_html(report, locale="it")


def test_randomisation_and_too_few_controls_in_the_report(params):
    """X (5 controls) gets a randomisation interval; Y (2 controls, minimum 3) none: its
    verdict line says why, with no conversion figure (it has no interval), and its only
    control-size warning is "too few controls" (not also "small control")."""
    campaigns = pd.concat(
        [
            _x_campaign(),
            pd.DataFrame(
                [(2, "Y", "sms", None, "2025-04-01", "2025-04-10", 5.0, 1.0, 0.4)],
                columns=CAMPAIGN_COLUMNS,
            ),
        ],
        ignore_index=True,
    )
    rows = X_ROWS + [
        (2, 11, 1, 1, "new", 400.0),
        (2, 12, 1, 1, "new", 200.0),
        (2, 13, 1, 1, "new", 0.0),
        (2, 14, 0, 0, "new", 0.0),
        (2, 15, 0, 0, "new", 10.0),
    ]
    p = _judge_at(params, 3)
    p = p.model_copy(update={"roi": p.roi.model_copy(update={"interval": "auto"})})
    report = analyse_outcomes(campaigns, _outcomes(rows), p)
    x, y = report.campaigns
    assert x.margin_lift.interval == "randomisation" and y.too_few_controls
    assert "small_control" not in _codes(y) and "too_few_controls" in _codes(y)
    method = R.method_html(report)
    assert "randomisation interval for 1 of 2 campaigns (control groups of up to 250" in method
    assert "none for 1 of 2 campaigns (too few controls to judge)" in method
    assert "fewer than 3 control customers" in method
    guard = R.guardrails_html(report)
    assert "<td>randomisation</td>" in guard and "<td>none (too few controls)</td>" in guard
    verdicts = R.verdicts_html(report)
    assert "Y</b>: Too few controls to judge: the control group holds 2 customers" in (verdicts)
    assert verdicts.count("Conversion") == 1  # X only
    assert "roi.min_control_judge" not in verdicts
    for loc in ("fr", "it"):
        assert "randomi" in R.method_html(report, locale=loc)
        assert "roi.interval_kind" not in R.guardrails_html(report, locale=loc)
