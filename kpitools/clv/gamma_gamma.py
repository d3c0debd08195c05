"""Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis", JMR 42(4); Colombo & Jiang 1999).

Model, for one customer:

* the amounts of the customer's repeat purchases are i.i.d. ``Gamma(shape=p, rate=nu)``,
  so the customer's mean spend is ``p / nu``;
* ``nu ~ Gamma(shape=q, rate=gamma)`` across customers (``gamma`` in currency units);
* spend is independent of the purchase process (frequency and recency).

Data: repeat buyers only (``frequency = x > 0``), with ``monetary_value = m_x``, the mean of
the ``x`` repeat purchase amounts. Marginal density of ``m_x``::

    f(m_x | x) = G(p x + q) / (G(p x) G(q)) * gamma^q * m_x^(p x - 1) * x^(p x)
                 / (gamma + x m_x)^(p x + q)

Conditional expected spend per purchase (a weighted mean of the population mean
``p gamma / (q - 1)`` and the customer's own mean)::

    E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1)

The fit maximises the log-likelihood with L-BFGS-B over the log-parameters with the analytic
gradient; amounts are divided by their mean internally so that the fit does not depend on the
currency unit.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import special

from kpitools.clv.base import (
    MIN_REPEAT_BUYERS,
    PARAM_BOUNDS,
    ClvFitWarning,
    ConvergenceError,
    FittedModel,
    ParameterAtBoundWarning,
    TooFewRepeatBuyersError,
    broadcast_like,
    minimise,
    standard_errors,
)
from kpitools.clv.summary import ClvInputError, summary_column
from kpitools.errors import FitError

__all__ = [
    "GammaGammaModel",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "simulate_gamma_gamma",
]

PARAM_NAMES = ("p", "q", "gamma")
#: Absolute Pearson correlation between frequency and monetary value (repeat buyers) above
#: which a warning is issued: the model assumes the mean spend does not depend on frequency.
#: Pearson rather than Spearman because under the model the *distribution* of m_x narrows
#: (and its median rises) as x grows, which gives a small rank correlation even when the
#: assumption holds.
MAX_ABS_CORRELATION = 0.3


def gamma_gamma_log_likelihood(p, q, gamma, frequency, monetary_value) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend (repeat buyers only).

    Parameters
    ----------
    p, q, gamma : float
        Model parameters (``gamma`` in currency units).
    frequency : array_like of int
        Number of repeat purchases ``x`` (> 0).
    monetary_value : array_like of float
        Mean repeat purchase amount ``m_x`` (> 0, currency units).

    Returns
    -------
    numpy.ndarray
        ``log f(m_x | x)`` per customer (a density in currency units).
    """
    x = np.asarray(frequency, dtype="float64")
    m = np.asarray(monetary_value, dtype="float64")
    return _ll_and_grad(float(p), float(q), float(gamma), x, m, grad=False)[0]


def _ll_and_grad(p, q, gamma, x, m, *, grad: bool):
    px = p * x
    log_xm = np.log(x * m + gamma)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm
    )
    if not grad:
        return ll, None
    psi_pxq = special.digamma(px + q)
    g = np.array(
        [
            (x * (psi_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_xm)).sum(),
            (psi_pxq - special.digamma(q) + math.log(gamma) - log_xm).sum(),
            (q / gamma - (px + q) / (x * m + gamma)).sum(),
        ]
    )
    return ll, g


def _objective(theta, x, m, penalizer):
    params = np.exp(theta)
    ll, g = _ll_and_grad(*params, x, m, grad=True)
    n = x.size
    value = -ll.sum() / n + penalizer * np.sum(params**2)
    if not np.isfinite(value):
        return np.inf, np.zeros(3)
    return value, -g / n * params + 2.0 * penalizer * params**2


class GammaGammaModel(FittedModel):
    """Gamma-Gamma spend model: fit on repeat buyers, predict expected spend per purchase.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (p**2 + q**2 + gamma**2)`` on the mean negative
        log-likelihood (``gamma`` on the internal scale, amounts divided by their mean).
    min_repeat_buyers : int, default 20
        Fewest customers with ``frequency > 0`` the fit accepts.
    max_abs_correlation : float, default 0.3
        A :class:`ClvFitWarning` is issued when the absolute Pearson correlation between
        ``frequency`` and ``monetary_value`` among repeat buyers exceeds this.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "gamma"}``; ``gamma`` in currency units.
    standard_errors_ : dict
        Asymptotic standard errors (inverse observed information, delta method).
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (unpenalised).
    n_customers_ : int
        Repeat buyers used by the fit (customers with ``frequency == 0`` are ignored).
    converged_ : bool
        Whether the optimiser converged.
    frequency_monetary_correlation_ : float
        Pearson correlation between frequency and monetary value of the repeat buyers.
    """

    PARAMS = PARAM_NAMES
    MODEL = "Gamma-Gamma"

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        min_repeat_buyers: int = MIN_REPEAT_BUYERS,
        max_abs_correlation: float = MAX_ABS_CORRELATION,
    ):
        if penalizer < 0:
            raise ClvInputError(f"penalizer must be >= 0, got {penalizer}")
        self.penalizer = float(penalizer)
        self.min_repeat_buyers = int(min_repeat_buyers)
        self.max_abs_correlation = float(max_abs_correlation)
        self.params_: dict[str, float] | None = None
        self.standard_errors_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: int | None = None
        self.converged_: bool | None = None
        self.n_iterations_: int | None = None
        self.frequency_monetary_correlation_: float | None = None

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGammaModel:
        """A model with given parameters, without fitting (``gamma`` in currency units)."""
        values = {"p": p, "q": q, "gamma": gamma}
        bad = [k for k, v in values.items() if not (np.isfinite(v) and v > 0)]
        if bad:
            raise ClvInputError(f"Gamma-Gamma parameters must be positive and finite: {bad}")
        model = cls()
        model.params_ = {k: float(v) for k, v in values.items()}
        return model

    def fit(self, summary: pd.DataFrame, *, initial: dict | None = None) -> GammaGammaModel:
        """Fit by maximum likelihood on the customers with ``frequency > 0``.

        Parameters
        ----------
        summary : pandas.DataFrame
            RFM summary with ``frequency`` and ``monetary_value`` (currency units per repeat
            purchase).
        initial : dict, optional
            Starting values ``{"p", "q", "gamma"}``; by default p = 1, q = 2 and gamma equal to
            the mean monetary value.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.

        Raises
        ------
        kpitools.errors.FitError
            Too few repeat buyers, non-positive monetary values among them, or no convergence.
        """
        freq = summary_column(summary, "frequency")
        monetary = summary_column(summary, "monetary_value")
        rep = freq > 0
        n_rep = int(rep.sum())
        if n_rep < self.min_repeat_buyers:
            what = "no repeat buyers" if n_rep == 0 else f"only {n_rep} repeat buyer(s)"
            raise TooFewRepeatBuyersError(
                f"Gamma-Gamma cannot be fitted: {what} among {freq.size} customer(s); at least "
                f"{self.min_repeat_buyers} customers with frequency > 0 are needed",
                model=self.MODEL,
                n_customers=freq.size,
                n_repeat_buyers=n_rep,
                minimum=self.min_repeat_buyers,
            )
        x, m = freq[rep], monetary[rep]
        if (m <= 0).any():
            raise FitError(
                f"Gamma-Gamma needs positive spend: {int((m <= 0).sum())} of {n_rep} repeat "
                "buyers have monetary_value <= 0 (returns or free orders); filter them out or "
                "net them before summarising"
            )
        rho = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else 0.0
        self.frequency_monetary_correlation_ = rho
        if abs(rho) > self.max_abs_correlation:
            warnings.warn(
                f"frequency and monetary value are correlated among the {n_rep} repeat buyers "
                f"(Pearson {rho:+.2f}, threshold {self.max_abs_correlation}); the Gamma-Gamma "
                "model assumes they are independent, so expected spend may be biased",
                ClvFitWarning,
                stacklevel=2,
            )
        scale = float(m.mean())
        ms = m / scale
        lo, hi = np.log(PARAM_BOUNDS[0]), np.log(PARAM_BOUNDS[1])
        bounds = [(lo, hi)] * 3
        if initial is None:
            start = np.array([1.0, 2.0, 1.0])
        else:
            missing = [k for k in PARAM_NAMES if k not in initial]
            if missing:
                raise ClvInputError(f"initial lacks {missing}")
            start = np.array([initial[k] for k in PARAM_NAMES], dtype="float64")
            start[2] /= scale
            if not np.all(np.isfinite(start) & (start > 0)):
                raise ClvInputError(f"initial values must be positive: {initial}")
        theta0 = np.clip(np.log(start), lo + 1e-6, hi - 1e-6)
        args = (x, ms, self.penalizer)
        res, converged = minimise(_objective, theta0, args, bounds)
        if not converged:
            raise ConvergenceError(
                f"Gamma-Gamma fit did not converge after {res.nit} iterations ({res.message}); "
                f"{n_rep} repeat buyers"
            )
        params = np.exp(res.x)
        params[2] *= scale
        self.params_ = dict(zip(PARAM_NAMES, (float(v) for v in params), strict=True))
        p, q, gamma = params
        self.log_likelihood_ = float(gamma_gamma_log_likelihood(p, q, gamma, x, m).sum())
        se = standard_errors(_objective, res.x, args, n_rep, params)
        self.standard_errors_ = dict(zip(PARAM_NAMES, (float(v) for v in se), strict=True))
        self.n_customers_ = n_rep
        self.converged_ = True
        self.n_iterations_ = int(res.nit)
        at_bound = [
            k
            for k, th in zip(PARAM_NAMES, res.x, strict=True)
            if th <= lo + 1e-6 or th >= hi - 1e-6
        ]
        if at_bound:
            warnings.warn(
                f"Gamma-Gamma parameter(s) {at_bound} reached the optimisation bound "
                f"{PARAM_BOUNDS}; the data do not identify them (q and gamma grow without "
                "bound when all customers have about the same mean spend)",
                ParameterAtBoundWarning,
                stacklevel=2,
            )
        if self.params_["q"] <= 1.0:
            warnings.warn(
                f"Gamma-Gamma q = {self.params_['q']:.3g} <= 1: the population mean spend is "
                "infinite (very heavy-tailed spend); expected spend is undefined for customers "
                "with few purchases",
                ClvFitWarning,
                stacklevel=2,
            )
        return self

    @property
    def population_mean_spend(self) -> float:
        """Mean spend per purchase across customers, ``p gamma / (q - 1)`` (currency units).

        Infinite when ``q <= 1``.
        """
        p, q, gamma = self._params()
        return p * gamma / (q - 1.0) if q > 1.0 else math.inf

    def expected_average_spend(self, frequency, monetary_value):
        """Expected spend per future purchase given the customer's history.

        ``E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1)``; for ``x = 0`` this is the
        population mean ``p gamma / (q - 1)`` whatever ``m_x``.

        Parameters
        ----------
        frequency : array_like of int
            Repeat purchases ``x`` (>= 0).
        monetary_value : array_like of float
            Mean repeat purchase amount (currency units; ignored where ``x == 0``).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Expected spend per purchase, currency units.

        Raises
        ------
        kpitools.errors.FitError
            Where ``p x + q - 1 <= 0`` (only possible when ``q <= 1``): the expectation is
            infinite.
        """
        p, q, gamma = self._params()
        x, m = np.broadcast_arrays(
            np.asarray(frequency, dtype="float64"), np.asarray(monetary_value, dtype="float64")
        )
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1.0
        if (denom <= 0).any():
            raise FitError(
                f"expected spend is infinite for {int((denom <= 0).sum())} customer(s): "
                f"q = {q:.3g} <= 1 and p * frequency + q <= 1"
            )
        out = p * (gamma + x * m) / denom
        return broadcast_like(out, frequency, monetary_value, name="expected_spend")


def fit_gamma_gamma(
    summary: pd.DataFrame,
    *,
    penalizer: float = 0.0,
    initial: dict | None = None,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
    max_abs_correlation: float = MAX_ABS_CORRELATION,
) -> GammaGammaModel:
    """Fit a Gamma-Gamma spend model (thin wrapper around :class:`GammaGammaModel`).

    Parameters
    ----------
    summary : pandas.DataFrame
        RFM summary with ``frequency`` and ``monetary_value``; rows with ``frequency == 0``
        are ignored.
    penalizer, initial, min_repeat_buyers, max_abs_correlation
        See :class:`GammaGammaModel`.

    Returns
    -------
    GammaGammaModel
        The fitted model.
    """
    model = GammaGammaModel(
        penalizer=penalizer,
        min_repeat_buyers=min_repeat_buyers,
        max_abs_correlation=max_abs_correlation,
    )
    return model.fit(summary, initial=initial)


def simulate_gamma_gamma(
    frequency,
    p: float,
    q: float,
    gamma: float,
    *,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Simulate mean repeat spend from the Gamma-Gamma process, purchase by purchase.

    Each customer draws ``nu ~ Gamma(q, rate=gamma)``, then each of its ``frequency`` purchases
    an amount ``~ Gamma(p, rate=nu)``; ``monetary_value`` is their mean (0 when
    ``frequency == 0``).

    Parameters
    ----------
    frequency : array_like of int
        Repeat purchases per customer (>= 0).
    p, q, gamma : float
        Model parameters (``gamma`` in currency units).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``monetary_value`` and the latent mean spend ``mean_spend = p / nu``.
    """
    rng = np.random.default_rng(rng)
    x = np.asarray(frequency, dtype="int64").ravel()
    nu = rng.gamma(q, 1.0 / gamma, size=x.size)
    owner = np.repeat(np.arange(x.size), x)
    amounts = rng.gamma(p, 1.0 / nu[owner])
    totals = np.bincount(owner, weights=amounts, minlength=x.size)
    monetary = np.divide(totals, x, out=np.zeros(x.size), where=x > 0)
    return pd.DataFrame({"frequency": x, "monetary_value": monetary, "mean_spend": p / nu})
