"""CLV: closed forms, the model-based CLV, the at-risk list and the calibration table."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kpitools.clv import (
    BetaGeoModel,
    ClvFitWarning,
    ClvInputError,
    GammaGammaModel,
    at_risk_customers,
    calibration_table,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_summary,
    simple_clv,
    simulate_bgnbd,
)
from kpitools.errors import FitError, KpitoolsError

BG = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # weeks
GG = dict(p=6.25, q=3.74, gamma=15.44)
MONTH_WEEKS = 30.4375 / 7


# ----------------------------------------------------------------------------------------
# simple_clv
# ----------------------------------------------------------------------------------------


def test_simple_clv_closed_forms():
    # no discount: margin x expected lifetime 1 / churn
    assert simple_clv(100.0, 0.25) == pytest.approx(400.0)
    # discounted: m (1 + d) / (d + c)
    assert simple_clv(100.0, 0.25, discount_rate_per_period=0.05) == pytest.approx(
        100 * 1.05 / 0.30
    )
    # churn 1: one period only
    assert simple_clv(80.0, 1.0, discount_rate_per_period=0.1) == pytest.approx(80.0)


def test_simple_clv_horizon_is_the_truncated_sum():
    m, c, d, horizon = 50.0, 0.1, 0.02, 24
    brute = sum(m * (1 - c) ** t / (1 + d) ** t for t in range(horizon))
    assert simple_clv(m, c, discount_rate_per_period=d, horizon_periods=horizon) == pytest.approx(
        brute, rel=1e-12
    )
    assert simple_clv(m, c, horizon_periods=1) == pytest.approx(m)
    # a long horizon tends to the infinite-horizon value
    assert simple_clv(m, c, discount_rate_per_period=d, horizon_periods=5000) == pytest.approx(
        simple_clv(m, c, discount_rate_per_period=d)
    )


def test_simple_clv_vectorised_and_errors():
    out = simple_clv(np.array([10.0, 20.0]), np.array([0.5, 0.2]))
    np.testing.assert_allclose(out, [20.0, 100.0])
    for churn in (0.0, -0.1, 1.2, np.nan):
        with pytest.raises(ClvInputError, match="churn_rate_per_period"):
            simple_clv(10.0, churn)
    with pytest.raises(KpitoolsError, match="discount"):
        simple_clv(10.0, 0.1, discount_rate_per_period=-0.01)
    with pytest.raises(ValueError, match="horizon_periods"):
        simple_clv(10.0, 0.1, horizon_periods=0)


# ----------------------------------------------------------------------------------------
# customer_lifetime_value
# ----------------------------------------------------------------------------------------


@pytest.fixture
def summary() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "frequency": [0, 1, 4, 12, 12, 3],
            "recency": [0.0, 5.0, 30.0, 38.0, 8.0, 2.0],
            "T": [39.0, 38.0, 39.0, 39.0, 39.0, 36.0],
            "monetary_value": [0.0, 40.0, 25.0, 60.0, 60.0, 15.0],
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )
    frame.attrs["time_unit"] = "W"
    return frame


def test_clv_matches_explicit_monthly_sum(summary):
    bg = BetaGeoModel.from_params(**BG, time_unit="W")
    gg = GammaGammaModel.from_params(**GG)
    out = customer_lifetime_value(bg, gg, summary, horizon_months=6, margin_rate=0.4)
    assert list(out.columns) == ["clv", "probability_alive", "expected_purchases", "expected_spend"]
    assert out.index.equals(summary.index)
    x, tx, T, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    spend = gg.expected_average_spend(x, m)
    clv = 0.0
    for k in range(1, 7):
        month = bg.expected_purchases(k * MONTH_WEEKS, x, tx, T) - bg.expected_purchases(
            (k - 1) * MONTH_WEEKS, x, tx, T
        )
        clv = clv + 0.4 * spend * month / 1.10 ** (k / 12)
    np.testing.assert_allclose(out["clv"], clv, rtol=1e-12)
    np.testing.assert_allclose(
        out["expected_purchases"], bg.expected_purchases(6 * MONTH_WEEKS, x, tx, T), rtol=1e-12
    )
    # the customer who stopped buying early ("e") is worth less than the recent one ("d")
    assert out.loc["e", "probability_alive"] < 0.5 < out.loc["d", "probability_alive"]
    assert out.loc["e", "clv"] < out.loc["d", "clv"]


def test_clv_without_discount_telescopes(summary):
    bg = BetaGeoModel.from_params(**BG)
    gg = GammaGammaModel.from_params(**GG)
    out = customer_lifetime_value(
        bg, gg, summary, horizon_months=12, margin_rate=0.3, discount_rate_annual=0.0
    )
    np.testing.assert_allclose(
        out["clv"], 0.3 * out["expected_spend"] * out["expected_purchases"], rtol=1e-12
    )
    longer = customer_lifetime_value(bg, gg, summary, horizon_months=24, margin_rate=0.3)
    assert (longer["clv"] > out["clv"]).all()


def test_clv_same_in_days_and_weeks(summary):
    gg = GammaGammaModel.from_params(**GG)
    weeks = customer_lifetime_value(
        BetaGeoModel.from_params(**BG, time_unit="W"), gg, summary, margin_rate=0.3
    )
    in_days = summary.assign(recency=summary["recency"] * 7, T=summary["T"] * 7)
    in_days.attrs["time_unit"] = "D"
    bg_days = BetaGeoModel.from_params(**dict(BG, alpha=BG["alpha"] * 7), time_unit="D")
    days = customer_lifetime_value(bg_days, gg, in_days, margin_rate=0.3, time_unit="D")
    np.testing.assert_allclose(days["clv"], weeks["clv"], rtol=1e-9)


def test_clv_errors(summary):
    bg = BetaGeoModel.from_params(**BG, time_unit="W")
    gg = GammaGammaModel.from_params(**GG)
    with pytest.raises(ClvInputError, match="fitted in time unit 'W'"):
        customer_lifetime_value(bg, gg, summary, margin_rate=0.3, time_unit="D")
    with pytest.raises(ClvInputError, match="margin_rate"):
        customer_lifetime_value(bg, gg, summary, margin_rate=35)
    with pytest.raises(FitError, match="fitted BetaGeoModel"):
        customer_lifetime_value(BetaGeoModel(), gg, summary, margin_rate=0.3)
    with pytest.raises(ClvInputError, match="monetary_value"):
        customer_lifetime_value(bg, gg, summary.drop(columns="monetary_value"), margin_rate=0.3)


# ----------------------------------------------------------------------------------------
# at-risk list and calibration table
# ----------------------------------------------------------------------------------------


def test_at_risk_customers():
    frame = pd.DataFrame(
        {
            "clv": [500.0, 80.0, 300.0, 900.0, 300.0, 50.0],
            "probability_alive": [0.2, 0.1, 0.45, 0.9, 0.3, 0.5],
        },
        index=list("abcdef"),
    )
    out = at_risk_customers(frame, top=3)
    assert list(out.index) == ["a", "c", "e"]  # d is alive, f is at the threshold; ties keep order
    assert list(at_risk_customers(frame, top=20, alive_threshold=0.25).index) == ["a", "b"]
    with pytest.raises(ClvInputError, match="probability_alive"):
        at_risk_customers(frame.drop(columns="probability_alive"))


def test_calibration_table_on_simulated_holdout():
    rng = np.random.default_rng(8)
    sim = simulate_bgnbd(rng.uniform(30, 60, 20_000), **BG, holdout=26.0, rng=rng)
    table = calibration_table(BetaGeoModel.from_params(**BG), sim, max_frequency=4)
    assert list(table.index) == ["0", "1", "2", "3", "4+"]
    assert table["n_customers"].sum() == 20_000
    assert table.loc["4+", "n_customers"] == (sim["frequency"] >= 4).sum()
    np.testing.assert_allclose(table["expected"], table["actual"], rtol=0.12)
    np.testing.assert_allclose(table["difference"], table["expected"] - table["actual"])


# ----------------------------------------------------------------------------------------
# end to end: transactions -> summary -> models -> CLV
# ----------------------------------------------------------------------------------------


def test_end_to_end_from_transactions():
    rng = np.random.default_rng(21)
    n = 3000
    start = pd.Timestamp("2023-01-01")
    sim = simulate_bgnbd(np.full(n, 52.0), **BG, rng=rng)
    rows = []
    for cid, (x, tx) in enumerate(zip(sim["frequency"], sim["recency"], strict=True)):
        first = start + pd.Timedelta(days=int(rng.integers(0, 30)))
        rows.append((cid, first, 30.0))
        scale = 15.44 / rng.gamma(3.74)  # customer-level mean spend 6.25 * scale
        if x:  # repeat purchases spread before the last one, which falls at recency
            times = np.sort(np.append(rng.uniform(0, tx, x - 1), tx))
            for w in times:
                amount = float(rng.gamma(6.25, scale))
                rows.append((cid, first + pd.Timedelta(weeks=float(w)), amount))
    orders = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "revenue"])
    summary = rfm_summary(orders, observation_end=start + pd.Timedelta(weeks=60))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClvFitWarning)
        bg = fit_bgnbd(summary)
        gg = fit_gamma_gamma(summary)
    assert bg.time_unit_ == "W"
    clv = customer_lifetime_value(bg, gg, summary, margin_rate=0.35)
    assert len(clv) == n and np.isfinite(clv.to_numpy()).all() and (clv["clv"] >= 0).all()
    shortlist = at_risk_customers(clv, top=10)
    assert len(shortlist) == 10 and (shortlist["probability_alive"] < 0.5).all()
    assert shortlist["clv"].is_monotonic_decreasing


def test_expectations_once_per_distinct_pair_equal_the_per_customer_ones():
    """:meth:`BetaGeoModel.expected_purchases_factors` (hypergeometric part once per distinct
    (frequency, T)) gives bit for bit the values of :meth:`expected_purchases`, and the
    discounted sum that of the month-by-month loop, on customers that repeat heavily (whole
    days in weeks), with a large a, b pair that takes the fallback forms."""
    from kpitools.clv.bgnbd import BetaGeoModel, simulate_bgnbd
    from kpitools.clv.value import discounted_expected_purchases

    rng = np.random.default_rng(3)
    t_obs = rng.integers(0, 400, 5000) / 7.0
    s = simulate_bgnbd(t_obs, 0.4, 3.0, 0.9, 2.0, rng=4)
    x, tx = s["frequency"].to_numpy("float64"), np.round(s["recency"].to_numpy() * 7) / 7
    month = 30.4375 / 7
    for params in ((0.4, 3.0, 0.9, 2.0), (0.4, 3.0, 3000.0, 9000.0)):
        bg = BetaGeoModel.from_params(*params, time_unit="W")
        horizons = month * np.arange(1, 13)
        given, inverse, p_alive = bg.expected_purchases_factors(horizons, x, tx, t_obs)
        assert given.shape[1] < x.size / 2  # customers share their (x, T) pairs
        discounted = np.zeros(x.size)
        previous = np.zeros(x.size)
        for k, h in enumerate(horizons, start=1):
            direct = np.asarray(bg.expected_purchases(h, x, tx, t_obs))
            np.testing.assert_array_equal(given[k - 1][inverse] * p_alive, direct)
            discounted += (direct - previous) / 1.1 ** (k / 12.0)
            previous = direct
        got, total = discounted_expected_purchases(
            bg, x, tx, t_obs, horizon_months=12, month=month, discount_rate_annual=0.1
        )
        np.testing.assert_array_equal(got, discounted)
        np.testing.assert_array_equal(total, previous)
