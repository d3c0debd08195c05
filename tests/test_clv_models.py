"""BG/NBD and Gamma-Gamma: likelihood checks, parameter recovery by simulation, errors.

Tolerances of the recovery tests were set from 30 seeds (20 000 customers each; standard
deviation of the relative error of the estimates over the seeds):

=========== ======== ======== ===========
parameter   truth    sd       tolerance
=========== ======== ======== ===========
BG/NBD r    0.24     1.5 %    6 %
BG/NBD α    4.4      2.5 %    10 %
BG/NBD a    0.79     5.5 %    22 %
BG/NBD b    2.43     6.8 %    27 %
GG p        6.25     4.0 %    16 %
GG q        3.74     1.3 %    6 %
GG γ        15.44    5.2 %    20 %
=========== ======== ======== ===========

i.e. about 4 standard deviations; the reported standard errors matched the spread over the
seeds (z-scores with standard deviation 0.8-1.0), so each estimate is also checked to be
within 4 of its own standard errors. Aggregate holdout purchases (39 weeks): sd 1.8 % over the
seeds, tolerance 7 %; number alive at T: sd 0.4 %, tolerance 2 %.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from kpitools.clv import (
    BetaGeoModel,
    ClvFitWarning,
    ClvInputError,
    ConvergenceError,
    GammaGammaModel,
    TooFewRepeatBuyersError,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    simulate_bgnbd,
    simulate_gamma_gamma,
)
from kpitools.clv import base as base_module
from kpitools.clv import bgnbd as bgnbd_module
from kpitools.errors import FitError

CDNOW = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, weeks
TRUTH = dict(r=0.24, alpha=4.4, a=0.79, b=2.43)
BG_TOL = dict(r=0.06, alpha=0.10, a=0.22, b=0.27)
GG_TRUTH = dict(p=6.25, q=3.74, gamma=15.44)
GG_TOL = dict(p=0.16, q=0.06, gamma=0.20)
HOLDOUT_WEEKS = 39.0


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(2024)
    return simulate_bgnbd(rng.uniform(30, 80, 20_000), **TRUTH, holdout=HOLDOUT_WEEKS, rng=rng)


@pytest.fixture(scope="module")
def fitted(simulated):
    return fit_bgnbd(simulated)


# ----------------------------------------------------------------------------------------
# BG/NBD likelihood
# ----------------------------------------------------------------------------------------


def _direct_bgnbd_likelihood(r, alpha, a, b, x, tx, T):
    """FHL 2005 eq. 6 evaluated literally, in ordinary (not log) space."""
    beta = special.beta
    front = math.gamma(r + x) * alpha**r / math.gamma(r)
    value = beta(a, b + x) / beta(a, b) * front / (alpha + T) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * front / (alpha + tx) ** (r + x)
    return value


def test_log_likelihood_matches_direct_formula():
    table = [
        (0, 0.0, 38.0),
        (0, 0.0, 27.5),
        (1, 2.0, 30.0),
        (2, 30.4, 38.9),
        (5, 20.1, 32.0),
        (9, 35.0, 35.3),
        (14, 12.0, 39.0),
        (25, 38.5, 39.0),
    ]
    x, tx, T = (np.array(c, dtype=float) for c in zip(*table, strict=True))
    for params in (CDNOW, dict(r=2.0, alpha=0.5, a=3.0, b=0.7)):
        got = bgnbd_log_likelihood(**params, frequency=x, recency=tx, T=T)
        direct = [math.log(_direct_bgnbd_likelihood(*params.values(), *row)) for row in table]
        np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-12)


def test_log_likelihood_stays_finite_where_direct_formula_underflows():
    ll = bgnbd_log_likelihood(**CDNOW, frequency=[400], recency=[5000.0], T=[5200.0])
    assert np.isfinite(ll).all()
    with pytest.raises(OverflowError):  # Gamma(400.243) alone exceeds the float range
        _direct_bgnbd_likelihood(*CDNOW.values(), 400, 5000.0, 5200.0)


def test_analytic_gradient_matches_finite_differences(simulated):
    sample = simulated.iloc[:3000]
    data = bgnbd_module._Data.build(
        sample["frequency"].to_numpy(float), sample["recency"].to_numpy(), sample["T"].to_numpy()
    )
    for theta in (np.log([0.3, 5.0, 0.8, 2.0]), np.log([1.5, 0.7, 2.5, 6.0])):
        _, grad = bgnbd_module._objective(theta, data, 0.0)
        numeric = optimize.approx_fprime(
            theta, lambda th: bgnbd_module._objective(th, data, 0.0)[0], 1e-7
        )
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------------------------
# BG/NBD fit on simulated data
# ----------------------------------------------------------------------------------------


def test_bgnbd_parameter_recovery(fitted):
    assert fitted.converged_
    assert fitted.n_customers_ == 20_000
    for name, truth in TRUTH.items():
        est = fitted.params_[name]
        assert abs(est / truth - 1) < BG_TOL[name], (name, est, truth)
        assert abs(est - truth) < 4 * fitted.standard_errors_[name], (name, est, truth)


def test_bgnbd_log_likelihood_attribute_is_the_total(fitted, simulated):
    total = bgnbd_log_likelihood(
        **fitted.params_,
        frequency=simulated["frequency"],
        recency=simulated["recency"],
        T=simulated["T"],
    ).sum()
    assert fitted.log_likelihood_ == pytest.approx(total, rel=1e-12)
    # the maximum: nudging any parameter lowers the likelihood
    for name in TRUTH:
        nudged = dict(fitted.params_, **{name: fitted.params_[name] * 1.01})
        ll = bgnbd_log_likelihood(
            **nudged,
            frequency=simulated["frequency"],
            recency=simulated["recency"],
            T=simulated["T"],
        ).sum()
        assert ll < fitted.log_likelihood_


def test_bgnbd_fit_does_not_depend_on_time_unit(simulated, fitted):
    days = simulated.assign(recency=simulated["recency"] * 7, T=simulated["T"] * 7)
    in_days = fit_bgnbd(days)
    for name in ("r", "a", "b"):
        assert in_days.params_[name] == pytest.approx(fitted.params_[name], rel=1e-5)
    assert in_days.params_["alpha"] == pytest.approx(7 * fitted.params_["alpha"], rel=1e-5)
    # the likelihood is a density in t_x: it shifts by sum(x) * log 7
    shift = simulated["frequency"].sum() * math.log(7)
    assert in_days.log_likelihood_ == pytest.approx(fitted.log_likelihood_ - shift, rel=1e-9)


def test_probability_alive_and_holdout_predictions(fitted, simulated):
    x, tx, T = simulated["frequency"], simulated["recency"], simulated["T"]
    alive = fitted.probability_alive(x, tx, T)
    assert isinstance(alive, pd.Series) and alive.index.equals(simulated.index)
    assert ((alive >= 0) & (alive <= 1)).all()
    assert (alive[x == 0] == 1).all()
    assert alive.sum() == pytest.approx(simulated["alive"].sum(), rel=0.02)
    expected = fitted.expected_purchases(HOLDOUT_WEEKS, x, tx, T)
    assert (expected >= 0).all()
    assert expected.sum() == pytest.approx(simulated["frequency_holdout"].sum(), rel=0.07)
    # also by frequency group for the common groups
    for group in (0, 1, 2):
        mask = x == group
        assert expected[mask].mean() == pytest.approx(
            simulated.loc[mask, "frequency_holdout"].mean(), rel=0.12
        )


def test_expected_purchases_against_numerical_integration():
    model = BetaGeoModel.from_params(**CDNOW)
    r, alpha, a, b = CDNOW.values()
    cases = [
        (0, 0.0, 30.0, 10.0),
        (2, 20.0, 35.0, 39.0),
        (7, 33.0, 36.0, 52.0),
        (60, 30.0, 31.0, 5.0),
        (500, 38.0, 39.0, 52.0),
        (2000, 38.0, 39.0, 520.0),
    ]
    for x, tx, T, t in cases:
        # E[Y(t) | alive] = E over the posterior (lambda, p) of (1 - exp(-lambda p t)) / p,
        # p ~ Beta(a, b + x); the p**(a-1) factor is left to quad's algebraic weight
        def integrand(p, x=x, T=T, t=t):
            log_rest = (b + x - 1) * np.log1p(-p) - special.betaln(a, b + x)
            if p == 0.0:  # limit of (1 - exp(-lambda p t)) / p
                return (r + x) * t / (alpha + T) * np.exp(log_rest)
            keep = np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t)))
            return -keep / p * np.exp(log_rest)

        given_alive = integrate.quad(
            integrand, 0, 1, weight="alg", wvar=(a - 1, 0), limit=500, epsabs=0, epsrel=1e-10
        )[0]
        expected = given_alive * model.probability_alive(x, tx, T)
        assert model.expected_purchases(t, x, tx, T) == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_new_customer(simulated):
    model = BetaGeoModel.from_params(**TRUTH)
    t = np.array([0.0, 10.0, 52.0])
    new = model.expected_purchases_new_customer(t)
    np.testing.assert_allclose(new, model.expected_purchases(t, 0, 0.0, 0.0), rtol=1e-10)
    assert new[0] == 0.0
    # against simulation: mean repeat purchases of customers observed for 52 weeks
    sim = simulate_bgnbd(np.full(20_000, 52.0), **TRUTH, rng=11)
    assert sim["frequency"].mean() == pytest.approx(new[2], rel=0.05)
    # a = 1 is a removable singularity of the closed form
    near = [
        BetaGeoModel.from_params(0.5, 3.0, a, 2.0).expected_purchases_new_customer(20.0)
        for a in (1 - 1e-3, 1.0, 1 + 1e-3)
    ]
    assert near[1] == pytest.approx((near[0] + near[2]) / 2, rel=1e-5)


def test_bgnbd_too_few_repeat_buyers():
    rng = np.random.default_rng(3)
    summary = pd.DataFrame({"frequency": 0, "recency": 0.0, "T": rng.uniform(10, 50, 500)})
    with pytest.raises(TooFewRepeatBuyersError, match="no repeat buyers among 500 customer"):
        fit_bgnbd(summary)
    summary.loc[:9, "frequency"] = 1
    summary.loc[:9, "recency"] = 5.0
    with pytest.raises(FitError, match=r"only 10 repeat buyer\(s\) among 500.*at least 20"):
        BetaGeoModel().fit(summary)


def test_bgnbd_fit_error_when_optimiser_fails(simulated, monkeypatch):
    def failing(fun, x0, args=(), **kwargs):
        return optimize.OptimizeResult(
            x=np.asarray(x0), fun=fun(x0, *args)[0], success=False, nit=3, message="ABNORMAL"
        )

    monkeypatch.setattr(base_module.optimize, "minimize", failing)
    with pytest.raises(ConvergenceError, match=r"did not converge after 6 iterations \(ABNORMAL\)"):
        fit_bgnbd(simulated.iloc[:2000])


def test_bgnbd_bad_input_and_unfitted():
    with pytest.raises(FitError, match="not fitted"):
        BetaGeoModel().probability_alive(1, 1.0, 2.0)
    bad = pd.DataFrame({"frequency": [1, 2], "recency": [5.0, 9.0], "T": [4.0, 10.0]})
    with pytest.raises(ClvInputError, match="recency > T"):
        fit_bgnbd(bad)
    with pytest.raises(ClvInputError, match="lacks column 'T'"):
        fit_bgnbd(bad.drop(columns="T"))


def test_fit_class_and_wrapper_agree(simulated, fitted):
    sample = simulated.iloc[:5000]
    model = BetaGeoModel()
    assert model.fit(sample) is model
    wrapped = fit_bgnbd(sample, initial=dict(r=0.5, alpha=2.0, a=1.5, b=4.0))
    for name in TRUTH:
        assert wrapped.params_[name] == pytest.approx(model.params_[name], rel=1e-4)
    assert list(model.summary().index) == ["r", "alpha", "a", "b"]


# ----------------------------------------------------------------------------------------
# Gamma-Gamma
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gg_simulated():
    rng = np.random.default_rng(99)
    frequency = rng.geometric(0.35, size=20_000)  # 1, 2, 3, ... repeat purchases
    return simulate_gamma_gamma(frequency, **GG_TRUTH, rng=rng)


def test_gamma_gamma_likelihood_against_numerical_integration():
    p, q, gamma = GG_TRUTH.values()
    for x, m in [(1, 20.0), (3, 35.5), (10, 80.0)]:
        # m_x | nu ~ Gamma(p x, rate nu x); nu ~ Gamma(q, rate gamma)
        def integrand(nu, x=x, m=m):
            return stats.gamma.pdf(m, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
                nu, q, scale=1 / gamma
            )

        density = integrate.quad(integrand, 0, np.inf, limit=200)[0]
        got = gamma_gamma_log_likelihood(p, q, gamma, [x], [m])[0]
        assert got == pytest.approx(math.log(density), rel=1e-8)


def test_gamma_gamma_parameter_recovery(gg_simulated):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClvFitWarning)  # independent data: no warning
        model = fit_gamma_gamma(gg_simulated)
    assert model.converged_ and model.n_customers_ == 20_000
    for name, truth in GG_TRUTH.items():
        est = model.params_[name]
        assert abs(est / truth - 1) < GG_TOL[name], (name, est, truth)
        assert abs(est - truth) < 4 * model.standard_errors_[name], (name, est, truth)
    spend = model.expected_average_spend(gg_simulated["frequency"], gg_simulated["monetary_value"])
    assert spend.mean() == pytest.approx(gg_simulated["mean_spend"].mean(), rel=0.03)


def test_gamma_gamma_expected_spend_formula():
    model = GammaGammaModel.from_params(**GG_TRUTH)
    p, q, gamma = GG_TRUTH.values()
    population = p * gamma / (q - 1)
    assert model.population_mean_spend == pytest.approx(population)
    assert model.expected_average_spend(0, 999.0) == pytest.approx(population)
    x, m = 4, 50.0
    weight = p * x / (p * x + q - 1)  # credibility weight of the customer's own mean
    assert model.expected_average_spend(x, m) == pytest.approx(
        (1 - weight) * population + weight * m
    )


def test_gamma_gamma_ignores_one_time_buyers(gg_simulated):
    with_zeros = pd.concat(
        [gg_simulated, pd.DataFrame({"frequency": [0] * 50, "monetary_value": [0.0] * 50})],
        ignore_index=True,
    )
    a = fit_gamma_gamma(gg_simulated.iloc[:3000])
    b = fit_gamma_gamma(pd.concat([gg_simulated.iloc[:3000], with_zeros.tail(50)]))
    assert a.params_ == pytest.approx(b.params_)
    assert b.n_customers_ == 3000


def test_gamma_gamma_warns_on_correlated_frequency_and_spend():
    rng = np.random.default_rng(5)
    frequency = rng.geometric(0.3, size=3000)
    monetary = 10.0 * frequency * rng.gamma(20.0, 1 / 20.0, size=3000)  # spend grows with x
    with pytest.warns(ClvFitWarning, match="correlated"):
        model = fit_gamma_gamma(pd.DataFrame({"frequency": frequency, "monetary_value": monetary}))
    assert model.frequency_monetary_correlation_ > 0.3


def test_gamma_gamma_errors():
    few = pd.DataFrame({"frequency": [1, 2, 0], "monetary_value": [10.0, 12.0, 0.0]})
    with pytest.raises(FitError, match="only 2 repeat buyer"):
        fit_gamma_gamma(few)
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {"frequency": rng.integers(1, 5, 100), "monetary_value": rng.gamma(5, 5, 100)}
    )
    data.loc[[3, 7], "monetary_value"] = 0.0
    with pytest.raises(FitError, match="2 of 100 repeat buyers have monetary_value <= 0"):
        fit_gamma_gamma(data)
