"""Coverage of the campaign-lift intervals on skewed, zero-inflated revenue (issue 12).

The data-generating process is in :mod:`roi_sim` (300 targeted customers, about 3 in 4 buy
nothing, log-normal spend; planted effect = the exact mean difference, 5.1772 EUR per
customer). The estimators are fitted in closed form across replications (no statsmodels fit
per replication); the intervals are :mod:`kpitools.roi.inference`'s own functions, and
:func:`test_simulation_matches_estimate_lift` checks that the closed forms are what
:func:`~kpitools.roi.estimators.estimate_lift` computes.

Targets (issue 12): with 50 controls the 95 % intervals cover 93.5-96.5 % at 2,000
replications; with 20 at least 92 %; below that at least 93 % or no interval (the default
``roi.min_control_judge`` = 10 gives none with 5 controls).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from roi_sim import ATE, P0, P1, fit, simulate
from scipy import stats

from kpitools.params import RoiParams
from kpitools.roi.estimators import adjusted_outcome, estimate_lift
from kpitools.roi.inference import (
    bell_mccaffrey_df,
    draw_control_sets,
    randomisation_interval,
)

METHODS = ("diff", "ols", "lin", "cuped")
REPS = 2000
#: re-drawn control groups per replication (the exact-test +1 keeps any number valid)
DRAWS = 400
N_TREATED = 300


def test_planted_truth_is_the_mean_difference():
    """The closed-form ATE against a million simulated customers of each group."""
    rng = np.random.default_rng(5)
    y, _, t = simulate(rng, 1, 1_000_000, 1_000_000)
    diff = y[0, t].mean() - y[0, ~t].mean()
    se = math.sqrt(y[0, t].var() / 1e6 + y[0, ~t].var() / 1e6)
    assert ATE == pytest.approx((P1 - P0) * math.exp(4.0 + 0.64), rel=1e-12)
    assert abs(diff - ATE) < 4 * se  # se about 0.19 EUR


@pytest.mark.parametrize("method", METHODS)
def test_simulation_matches_estimate_lift(method):
    """The vectorised fits and intervals are estimate_lift's (one replication, 20 controls)."""
    rng = np.random.default_rng(17)
    y, x, t = simulate(rng, 1, N_TREATED, 20)
    f = fit(method, y, x, t)
    df = pd.DataFrame({"y": y[0], "x": x[0], "t": t.astype(int)})
    covs = () if method == "diff" else ("x",)
    kw = dict(outcome="y", treatment="t", covariates=covs, method=method)
    res_t = estimate_lift(df, interval="t", **kw)
    assert res_t.effect == pytest.approx(f["effect"][0], rel=1e-9)
    assert res_t.se == pytest.approx(f["se"][0], rel=1e-9)
    assert res_t.df == pytest.approx(f["df_bm"][0], rel=1e-9)
    q = stats.t.ppf(0.975, f["df_bm"][0])
    assert res_t.ci_low == pytest.approx(f["effect"][0] - q * f["se"][0], rel=1e-9)
    a = f["adjusted"][0]
    assert a[t].mean() - a[~t].mean() == pytest.approx(res_t.effect, rel=1e-9)

    res = estimate_lift(df, interval="randomisation", **kw)
    assert res.interval == "randomisation" and res.df is None
    assert res.se == pytest.approx(res_t.se)
    lin_x = x[0][:, None] - x[0].mean() if method == "lin" else None
    lo, hi, p = randomisation_interval(y[0] if method == "lin" else a, t, covariates=lin_x)
    assert (res.ci_low, res.ci_high, res.p_value) == pytest.approx(
        (float(lo), float(hi), float(p)), rel=1e-9
    )
    assert res.ci_low < res.effect < res.ci_high
    # the production adjusted outcome (from the fitted model) is the simulation's
    exog = pd.DataFrame(res.model.model.exog, columns=res.model.model.exog_names)
    endog = pd.Series(res.model.model.endog)
    assert np.allclose(adjusted_outcome(endog, exog, res.model, "t"), a, rtol=1e-9, atol=1e-9)


def _coverage(method: str, n0: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    y, x, t = simulate(rng, REPS, N_TREATED, n0)
    f = fit(method, y, x, t)
    lo, hi = np.empty(REPS), np.empty(REPS)
    chunk = 250
    for s in range(0, REPS, chunk):
        sets = draw_control_sets(len(t), n0, DRAWS, rng)
        if method == "lin":
            args = (y[s : s + chunk], t)
            cov = x[s : s + chunk, :, None]
        else:
            args, cov = (f["adjusted"][s : s + chunk], t), None
        lo[s : s + chunk], hi[s : s + chunk], _ = randomisation_interval(
            *args, covariates=cov, sets=sets
        )
    q = stats.t.ppf(0.975, f["df_resid"])
    return {
        "after": float(np.mean((lo <= ATE) & (ATE <= hi))),
        "before": float(np.mean(np.abs(f["effect"] - ATE) <= q * f["se"])),
    }


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_coverage_by_control_size(method):
    """2,000 replications at 10, 20 and 50 controls; 5 controls gives no interval.

    Seed 1212 + size, 400 re-drawn control groups per replication. Measured with these seeds
    (randomisation interval, 10 / 20 / 50 controls): diff 97.6 / 96.0 / 95.8 %, ols
    97.6 / 96.2 / 95.5 %, lin 97.0 / 96.1 / 95.6 %, cuped 97.6 / 96.1 / 95.6 %; the old
    interval (t on the residual degrees of freedom) 66-74 / 80-84 / 91-92 %. About 8 s per
    estimator (14 s for lin) on one core. ``benchmarks/roi_coverage.py`` prints the table
    with 5 and 120 controls and the Bell-McCaffrey and skewness-corrected t columns.
    """
    cov = {n0: _coverage(method, n0, 1212 + n0) for n0 in (10, 20, 50)}
    print(method, cov)
    assert 0.935 <= cov[50]["after"] <= 0.965, cov[50]
    assert cov[20]["after"] >= 0.92, cov[20]
    assert cov[10]["after"] >= 0.93, cov[10]
    # the problem was real: the residual-df t-interval under-covers at 20 controls
    assert cov[20]["before"] < 0.90, cov[20]


def test_too_few_controls_gives_no_interval():
    """Default settings: 5 controls (< roi.min_control_judge = 10) give no interval."""
    assert RoiParams().min_control_judge == 10
    rng = np.random.default_rng(3)
    y, x, t = simulate(rng, 1, N_TREATED, 5)
    df = pd.DataFrame({"y": y[0] + 1.0, "x": x[0], "t": t.astype(int)})
    res = estimate_lift(
        df, outcome="y", treatment="t", method="diff", interval="auto", min_control_judge=10
    )
    assert res.too_few_controls and res.controls_needed == 10 and res.interval == "none"
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high) and math.isnan(res.p_value)
    assert res.effect == pytest.approx(y[0, t].mean() - y[0, ~t].mean())
    ok = estimate_lift(
        df.iloc[:-5].pipe(lambda d: pd.concat([d, df.iloc[-5:]] * 2, ignore_index=True)),
        outcome="y",
        treatment="t",
        method="diff",
        interval="auto",
        min_control_judge=10,
    )
    assert not ok.too_few_controls and ok.n_control == 10 and ok.interval == "randomisation"


def test_bell_mccaffrey_difference_in_means_by_hand():
    """(1/n1 + 1/n0)² / (1/(n1²(n1-1)) + 1/(n0²(n0-1))): 8 for 5 + 5, 21.61 for 300 + 20."""
    X = np.c_[np.ones(10), np.r_[np.ones(5), np.zeros(5)]]
    assert bell_mccaffrey_df(X, 1) == pytest.approx(8.0)
    X = np.c_[np.ones(320), np.r_[np.ones(300), np.zeros(20)]]
    num = (1 / 300 + 1 / 20) ** 2
    den = 1 / (300**2 * 299) + 1 / (20**2 * 19)
    assert bell_mccaffrey_df(X, 1) == pytest.approx(num / den)
    assert num / den == pytest.approx(21.6117, abs=1e-4)


def _brute_p(a, x, t, tau, sets):
    """Tail probabilities of the studentised statistic by re-fitting every split in a loop."""

    def stat(z, treated):
        parts = []
        for g in (treated, ~treated):
            zg = z[g]
            if x is None:
                parts.append((zg.mean(), zg.var(ddof=1), len(zg)))
            else:
                xg = x[g] - x.mean()
                b = np.polyfit(xg, zg, 1)[0]
                resid = zg - zg.mean() - b * (xg - xg.mean())
                parts.append((zg.mean() - xg.mean() * b, (resid**2).sum() / (len(zg) - 2), len(zg)))
        (m1, v1, n1), (m0, v0, n0) = parts
        return (m1 - m0) / math.sqrt(v1 / n1 + v0 / n0)

    z = a - tau * t
    obs = stat(z, t)
    star = []
    for row in sets:
        tt = np.ones(len(a), bool)
        tt[row] = False
        star.append(stat(z, tt))
    star = np.array(star)
    return (1 + np.sum(star <= obs + 1e-9)) / (len(star) + 1), (1 + np.sum(star >= obs - 1e-9)) / (
        len(star) + 1
    )


@pytest.mark.parametrize("lin", [False, True])
def test_randomisation_interval_against_brute_force(lin):
    """The closed-form statistic of every split (sums linear in tau) against re-fitting each
    split in a loop: just inside a bound the shift is kept (tail > 2.5 %), just outside not."""
    rng = np.random.default_rng(8)
    n1, n0 = 40, 6
    t = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    x = rng.gamma(2.0, 10.0, n1 + n0)
    a = (rng.random(n1 + n0) < 0.5) * rng.lognormal(3, 1, n1 + n0) + 0.3 * x + 4.0 * t
    sets = draw_control_sets(n1 + n0, n0, 300, np.random.default_rng(1))
    cov = (x - x.mean())[:, None] if lin else None
    lo, hi, p = randomisation_interval(a, t, covariates=cov, sets=sets)
    lo, hi = float(lo), float(hi)
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    eps = 1e-6 * (hi - lo)
    xx = x if lin else None
    assert _brute_p(a, xx, t, lo + eps, sets)[1] > 0.025
    assert _brute_p(a, xx, t, lo - eps, sets)[1] <= 0.025
    assert _brute_p(a, xx, t, hi - eps, sets)[0] > 0.025
    assert _brute_p(a, xx, t, hi + eps, sets)[0] <= 0.025
    low0, high0 = _brute_p(a, xx, t, 0.0, sets)
    assert float(p) == pytest.approx(min(1.0, 2 * min(low0, high0)))


def test_randomisation_interval_unbounded_with_few_splits():
    """3 + 2 customers have 10 splits: no tail can fall to 2.5 % (the smallest is 1/11), so no
    shift is rejected and the interval is the whole line."""
    a = np.array([5.0, 7.0, 9.0, 1.0, 2.0])
    t = np.array([True, True, True, False, False])
    sets = np.array([[i, j] for i in range(5) for j in range(i + 1, 5)])
    lo, hi, p = randomisation_interval(a, t, sets=sets)
    assert (float(lo), float(hi)) == (-math.inf, math.inf)
    assert float(p) >= 2 / 11
