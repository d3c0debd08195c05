"""Tests of kpitools.roi.programme: ROI arithmetic, programme totals, segment interaction."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpitools.errors import CampaignError
from kpitools.report.roi import (
    notes_text,
    roi_result_html,
    segment_interaction_html,
    segment_test_text,
)
from kpitools.roi import (
    LiftResult,
    RoiInputError,
    RoiResult,
    SegmentInteractionResult,
    combine_programme,
    compute_roi,
    cost_of,
    estimate_lift,
    test_segment_interaction,  # has __test__ = False, so pytest does not collect it
    verdict,
)


def _lift(effect, se, lo, hi, *, is_binary=False, alpha=0.05, outcome="revenue"):
    return LiftResult(
        method="ols",
        effect=effect,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=0.01,
        n_treated=1000,
        n_control=200,
        mean_treated=22.0,
        mean_control=20.0,
        cov_type="HC2",
        alpha=alpha,
        is_binary=is_binary,
        n_dropped=0,
        outcome=outcome,
        treatment="targeted",
    )


# --------------------------------------------------------------------------------------
# ROI arithmetic
# --------------------------------------------------------------------------------------


def test_roi_on_revenue_lift_hand_worked():
    """Lift 2.0 EUR of revenue per customer, 95 % CI [1.0, 3.0], SE 0.5.

    10 000 customers targeted, margin rate 40 %, cost 5 000 EUR.
        revenue = 2.0 * 10 000 = 20 000 EUR, CI [10 000, 30 000]
        margin  = 20 000 * 0.4 = 8 000 EUR, CI [4 000, 12 000], SE 0.5 * 10 000 * 0.4 = 2 000
        ROI     = (8 000 - 5 000) / 5 000 = 0.6
        ROI CI  = [(4 000 - 5 000) / 5 000, (12 000 - 5 000) / 5 000] = [-0.2, 1.4]
    The interval straddles 0: inconclusive.
    """
    res = compute_roi(
        _lift(2.0, 0.5, 1.0, 3.0), n_treated_total=10_000, cost=5_000, margin_rate=0.4, name="A"
    )
    assert isinstance(res, RoiResult)
    assert res.incremental_revenue == pytest.approx(20_000)
    assert (res.revenue_ci_low, res.revenue_ci_high) == pytest.approx((10_000, 30_000))
    assert res.incremental_margin == pytest.approx(8_000)
    assert (res.margin_ci_low, res.margin_ci_high) == pytest.approx((4_000, 12_000))
    assert res.margin_se == pytest.approx(2_000)
    assert res.roi == pytest.approx(0.6)
    assert (res.roi_ci_low, res.roi_ci_high) == pytest.approx((-0.2, 1.4))
    assert res.net_margin == pytest.approx(3_000)
    assert verdict(res) == res.verdict == "inconclusive"
    frame = res.to_frame()
    assert list(frame.index) == ["A"]
    assert frame.loc["A", "roi"] == pytest.approx(0.6)
    assert "incremental_revenue" in frame.columns
    assert "<table" in roi_result_html(res) and "60.0%" in roi_result_html(res)
    assert not hasattr(res, "_repr_html_")


def test_roi_on_margin_lift_hand_worked():
    """Lift 1.5 EUR of margin per customer, CI [1.0, 2.0]; 8 000 targeted.

    cost = 1 000 fixed + 0.375 * 8 000 contacts = 1 000 + 3 000 = 4 000 EUR
    margin = 1.5 * 8 000 = 12 000, CI [8 000, 16 000]
    ROI = (12 000 - 4 000) / 4 000 = 2.0, CI [(8 000 - 4 000) / 4 000, (16 000 - 4 000) / 4 000]
        = [1.0, 3.0] -> profitable.
    """
    cost = cost_of(1_000, 0.375, 8_000)
    assert cost == pytest.approx(4_000)
    res = compute_roi(
        _lift(1.5, 0.25, 1.0, 2.0, outcome="margin"), n_treated_total=8_000, cost=cost
    )
    assert res.incremental_revenue is None
    assert res.incremental_margin == pytest.approx(12_000)
    assert (res.roi, res.roi_ci_low, res.roi_ci_high) == pytest.approx((2.0, 1.0, 3.0))
    assert verdict(res) == "profitable"
    assert "incremental_revenue" not in res.to_frame().columns
    assert res.notes == ("margin_lift",)
    assert notes_text(res) == ["The lift on 'margin' is taken as a margin lift."]
    assert notes_text(res, "fr") == ["L'effet sur « margin » est pris comme un effet sur la marge."]
    assert notes_text(res, "it") == ["L'effetto su «margin» è considerato un effetto sul margine."]
    # fewer customers targeted than analysed (the lift was measured on 1 000)
    small = compute_roi(_lift(1.5, 0.25, 1.0, 2.0), n_treated_total=500, cost=100, margin_rate=0.5)
    assert small.notes == ("n_below_analysed",)
    assert notes_text(small) == [
        "The customers targeted (500) are fewer than the targeted customers analysed (1,000)."
    ]
    assert str(res).startswith("RoiResult(name='campaign', margin=12000,")
    assert "verdict='profitable'" in str(res)


def test_verdict_not_profitable():
    res = compute_roi(_lift(0.2, 0.05, 0.1, 0.3), n_treated_total=1_000, cost=1_000)
    # margin 200 [100; 300] against a cost of 1 000: ROI -0.8 [-0.9; -0.7]
    assert (res.roi_ci_low, res.roi_ci_high) == pytest.approx((-0.9, -0.7))
    assert verdict(res) == "not profitable"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cost": 0}, "cost"),
        ({"cost": -10}, "cost"),
        ({"cost": float("nan")}, "cost"),
        ({"cost": 100, "margin_rate": 35}, "margin_rate"),
        ({"cost": 100, "margin_rate": 0}, "margin_rate"),
        ({"cost": 100, "n_treated_total": 0}, "n_treated_total"),
    ],
)
def test_roi_bad_inputs(kwargs, match):
    kwargs = {"n_treated_total": 1_000, **kwargs}
    with pytest.raises(RoiInputError, match=match):
        compute_roi(_lift(2.0, 0.5, 1.0, 3.0), **kwargs)


def test_roi_refuses_conversion_lift():
    with pytest.raises(CampaignError, match="'converted'"):
        compute_roi(
            _lift(0.02, 0.005, 0.01, 0.03, is_binary=True, outcome="converted"),
            n_treated_total=1_000,
            cost=100,
        )


def test_cost_of_bad_inputs():
    with pytest.raises(RoiInputError, match="contacted"):
        cost_of(100, 0.1, -5)
    with pytest.raises(RoiInputError, match="cost_per_contact"):
        cost_of(100, -0.1, 5)


# --------------------------------------------------------------------------------------
# Programme
# --------------------------------------------------------------------------------------


def test_combine_programme_variances_add():
    """A: margin 8 000, SE 2 000, cost 5 000. B: margin 12 000, SE 2 000, cost 4 000.

    total margin = 20 000; SE = sqrt(2 000² + 2 000²) = 2 828.427 (independent campaigns);
    95 % CI = 20 000 ± 1.959964 * 2 828.427 = 20 000 ± 5 543.6 = [14 456.4, 25 543.6]
    cost = 9 000; ROI = 11 000 / 9 000 = 1.2222, CI [0.6063, 1.8382].
    With correlation 1 the SEs add instead: 4 000.
    """
    a = compute_roi(
        _lift(2.0, 0.5, 1.0, 3.0), n_treated_total=10_000, cost=5_000, margin_rate=0.4, name="A"
    )
    b = compute_roi(
        _lift(1.5, 0.25, 1.0, 2.0, outcome="margin"), n_treated_total=8_000, cost=4_000, name="B"
    )
    prog = combine_programme([a, b])
    z = stats.norm.ppf(0.975)
    se = math.sqrt(2_000**2 + 2_000**2)
    assert prog.margin_se == pytest.approx(se)
    assert prog.incremental_margin == pytest.approx(20_000)
    assert prog.cost == pytest.approx(9_000)
    assert (prog.margin_ci_low, prog.margin_ci_high) == pytest.approx(
        (20_000 - z * se, 20_000 + z * se)
    )
    assert prog.margin_ci_low == pytest.approx(14_456.4, abs=0.1)
    assert prog.roi == pytest.approx(11_000 / 9_000)
    assert (prog.roi_ci_low, prog.roi_ci_high) == pytest.approx((0.6063, 1.8382), abs=1e-4)
    assert prog.verdict == "profitable"
    assert prog.n_treated_total == 18_000
    assert prog.incremental_revenue is None  # B was measured on margin
    frame = prog.to_frame()
    assert list(frame.index) == ["A", "B", "programme"]
    assert frame["cost"].tolist() == pytest.approx([5_000, 4_000, 9_000])
    assert prog.notes == ("independent", "revenue_not_reported")
    assert prog.correlation == 0.0
    assert notes_text(prog) == [
        "Campaign estimates assumed independent (disjoint customers and control groups).",
        "Programme revenue not reported: some lifts were measured on margin.",
    ]
    assert "indépendantes" in notes_text(prog, "fr")[0]
    assert "indipendenti" in notes_text(prog, "it")[0]
    assert "<table" in roi_result_html(prog)
    assert "<li>Campaign estimates assumed independent" in roi_result_html(prog)
    assert "<b>ROI of programme (95% intervals; money in currency units)</b>" in roi_result_html(
        prog
    )
    assert "<b>ROI de programme (intervalles à 95" in roi_result_html(prog, "fr")
    correlated = combine_programme([a, b], correlation=0.5)
    assert correlated.notes[0] == "correlated" and correlated.correlation == 0.5
    assert notes_text(correlated)[0] == (
        "Campaign estimates assumed correlated (common correlation 0.5)."
    )
    assert "0,5" in notes_text(correlated, "fr")[0] and "0,5" in notes_text(correlated, "it")[0]

    assert combine_programme([a, b], correlation=1.0).margin_se == pytest.approx(4_000)


def test_combine_programme_revenue_and_errors():
    a = compute_roi(_lift(2.0, 0.5, 1.0, 3.0), n_treated_total=1_000, cost=500, margin_rate=0.5)
    b = compute_roi(_lift(1.0, 0.3, 0.4, 1.6), n_treated_total=2_000, cost=500, margin_rate=0.25)
    prog = combine_programme([a, b])
    # revenue SEs 0.5 * 1 000 = 500 and 0.3 * 2 000 = 600
    assert prog.incremental_revenue == pytest.approx(4_000)
    half = stats.norm.ppf(0.975) * math.sqrt(500**2 + 600**2)
    assert prog.revenue_ci_high == pytest.approx(4_000 + half)
    assert prog.notes == ("independent",)
    assert a.notes == b.notes == ()
    with pytest.raises(RoiInputError):
        combine_programme([])
    c = compute_roi(_lift(2.0, 0.5, 1.0, 3.0, alpha=0.1), n_treated_total=1_000, cost=500)
    with pytest.raises(RoiInputError, match="alpha"):
        combine_programme([a, c])


# --------------------------------------------------------------------------------------
# Segment interaction
# --------------------------------------------------------------------------------------

SEGMENTS = np.array(["new", "reactivated", "steady"])


def _segmented(rng, n, lifts, *, control_share=0.3):
    seg = SEGMENTS[rng.integers(0, 3, n)]
    t = (rng.random(n) >= control_share).astype(int)
    x = rng.normal(size=n)
    base = np.select([seg == "new", seg == "reactivated"], [20.0, 35.0], 60.0)
    lift = np.select([seg == "new", seg == "reactivated"], [lifts[0], lifts[1]], lifts[2])
    y = base + 3 * x + lift * t + rng.normal(0, 4, n)
    return pd.DataFrame({"revenue": y, "targeted": t, "segment": seg, "revenue_prev": x})


def test_segment_interaction_detects_planted_interaction():
    df = _segmented(np.random.default_rng(42), 1_500, (0.0, 2.0, 5.0))
    res = test_segment_interaction(
        df, outcome="revenue", treatment="targeted", segment="segment", covariates=["revenue_prev"]
    )
    assert isinstance(res, SegmentInteractionResult)
    assert res.p_value < 1e-3
    assert res.differs
    assert res.code == "differs"
    text = segment_test_text(res)
    assert text.startswith("The lift differs between the values of 'segment'")
    assert f"on 2 and {1_500 - 7:,} df" in text
    assert segment_test_text(res, "fr").startswith("L'effet diffère")
    assert segment_test_text(res, "it").startswith("L'effetto differisce")
    assert text in html.unescape(str(segment_interaction_html(res)))
    assert list(res.table.index) == ["new", "reactivated", "steady"]
    assert (res.df_num, res.df_denom) == (2, 1_500 - 7)
    for seg, planted in zip(SEGMENTS, (0.0, 2.0, 5.0), strict=True):
        row = res.table.loc[seg]
        assert abs(row["effect"] - planted) < 4 * row["se"]
    assert res.table["n_treated"].sum() + res.table["n_control"].sum() == 1_500
    assert "<table" in segment_interaction_html(res)


def test_segment_lifts_without_covariates_are_per_segment_differences():
    df = _segmented(np.random.default_rng(1), 600, (1.0, 1.0, 1.0))
    res = test_segment_interaction(df, outcome="revenue", treatment="targeted", segment="segment")
    for seg in SEGMENTS:
        single = estimate_lift(
            df[df["segment"] == seg], outcome="revenue", treatment="targeted", method="diff"
        )
        assert res.table.loc[seg, "effect"] == pytest.approx(single.effect)
        assert res.table.loc[seg, "se"] == pytest.approx(single.se)


@pytest.mark.slow
def test_segment_interaction_false_alarm_rate():
    """No planted interaction: the 5 % test rejects in about 5 % of 200 campaigns."""
    rng = np.random.default_rng(2024)
    rejections = 0
    for _ in range(200):
        df = _segmented(rng, 300, (1.0, 1.0, 1.0))
        res = test_segment_interaction(
            df,
            outcome="revenue",
            treatment="targeted",
            segment="segment",
            covariates=["revenue_prev"],
        )
        rejections += res.differs
    print("false alarm rate", rejections / 200)
    assert rejections / 200 <= 0.10


def test_segment_interaction_errors():
    df = _segmented(np.random.default_rng(0), 200, (1.0, 1.0, 1.0))
    with pytest.raises(CampaignError, match="'channel'"):
        test_segment_interaction(df, outcome="revenue", treatment="targeted", segment="channel")
    no_control = df[~((df["segment"] == "new") & (df["targeted"] == 0))]
    with pytest.raises(CampaignError, match="'new'"):
        test_segment_interaction(
            no_control, outcome="revenue", treatment="targeted", segment="segment"
        )
    one = df.assign(segment="steady")
    with pytest.raises(CampaignError, match="single value"):
        test_segment_interaction(one, outcome="revenue", treatment="targeted", segment="segment")
    with_nan = df.copy()
    with_nan.loc[with_nan.index[:5], "segment"] = None
    res = test_segment_interaction(
        with_nan, outcome="revenue", treatment="targeted", segment="segment"
    )
    assert res.n_dropped == 5


# -- a programme total cannot be combined again (it has no margin rate) --------------------


def _nested_roi(effect: float, se: float, n: int, rate: float | None) -> RoiResult:
    lift = LiftResult(
        method="ols",
        effect=effect,
        se=se,
        ci_low=effect - 2 * se,
        ci_high=effect + 2 * se,
        p_value=0.01,
        n_treated=n,
        n_control=200,
        mean_treated=22.0,
        mean_control=20.0,
        cov_type="HC2",
        alpha=0.05,
        is_binary=False,
        n_dropped=0,
        outcome="revenue" if rate is not None else "margin",
        treatment="targeted",
    )
    return compute_roi(lift, n_treated_total=n, cost=500, margin_rate=rate)


def test_combine_programme_of_a_programme_total_with_revenue_is_an_input_error():
    a = _nested_roi(2.0, 0.5, 1_000, 0.5)
    b = _nested_roi(1.0, 0.3, 2_000, 0.25)
    total = combine_programme([a, b])
    assert total.incremental_revenue is not None and total.margin_rate is None
    # used to fail with TypeError (margin_se / None) while computing the revenue interval
    with pytest.raises(RoiInputError, match="margin_rate"):
        combine_programme([total, a])
    # with an input lacking revenue the revenue interval is not computed: still combined
    mixed = combine_programme([total, _nested_roi(1.0, 0.3, 2_000, None)])
    assert mixed.incremental_revenue is None
    assert mixed.notes == ("independent", "revenue_not_reported")


def test_with_unmeasured_cost_by_hand():
    """Measured: margin 300 (interval [100, 500]), cost 100: ROI 2 [0, 4]. With 50 of cost on
    unmeasured campaigns (margin counted as 0): ROI (300 - 150) / 150 = 1, interval
    [(100 - 150) / 150, (500 - 150) / 150] = [-1/3, 7/3]."""
    from kpitools.roi import with_unmeasured_cost

    measured = RoiResult(
        name="programme",
        n_treated_total=40,
        cost=100.0,
        incremental_margin=300.0,
        margin_se=102.04,
        margin_ci_low=100.0,
        margin_ci_high=500.0,
        roi=2.0,
        roi_ci_low=0.0,
        roi_ci_high=4.0,
        alpha=0.05,
        notes=("independent",),
    )
    total = with_unmeasured_cost(measured, 50.0, 10)
    assert (total.cost, total.n_treated_total) == (150.0, 50)
    assert total.incremental_margin == 300.0 and total.margin_se == 102.04
    assert total.roi == pytest.approx(1.0)
    assert (total.roi_ci_low, total.roi_ci_high) == pytest.approx((-1 / 3, 7 / 3))
    assert total.notes == ("independent", "unmeasured_cost")
    assert total.verdict == "inconclusive" and measured.verdict == "inconclusive"
    assert with_unmeasured_cost(measured, 0.0, 0).notes == ("independent",)
    with pytest.raises(RoiInputError, match="must not be negative"):
        with_unmeasured_cost(measured, -1.0, 0)
