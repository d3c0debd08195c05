"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting your customers
the easy way", Marketing Science 24(2)).

Model, for one customer, time 0 being the first purchase:

* while alive, purchases follow a Poisson process of rate ``lambda`` (purchases per time
  unit); ``lambda ~ Gamma(shape=r, rate=alpha)`` across customers (``alpha`` in time units);
* after each *repeat* purchase the customer drops out for good with probability ``p``;
  ``p ~ Beta(a, b)`` across customers;
* ``lambda`` and ``p`` are independent.

Data per customer (see :mod:`kpitools.clv.summary`): ``x`` = ``frequency`` (repeat purchases),
``t_x`` = ``recency`` (time of the last purchase), ``T`` (length of observation).

Likelihood (FHL 2005, eq. 6)::

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / G(r) * (alpha+T)^-(r+x)
      + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / G(r) * (alpha+t_x)^-(r+x)

evaluated in log space with ``gammaln``/``betaln`` and ``logaddexp``.

The fit maximises the log-likelihood with L-BFGS-B over the log-parameters (bounded), using
the analytic gradient. Internally times are divided by the mean of ``T`` so that the
optimisation does not depend on the time unit; ``alpha`` is reported in the summary's time
unit. Customers without repeat purchase and with the same ``T`` are merged with weights.

Validation: the published CDNOW estimates (2357 customers, weeks) are r = 0.243,
alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4. The CDNOW data are not shipped; at those
parameters (:meth:`BetaGeoModel.from_params`) the predictions match the expected repeat
purchases of the authors' spreadsheet (``tests/test_clv_published.py``), and the test suite
checks the log-space likelihood against a direct implementation of the formula, the analytic
gradient against finite differences, the conditional expectation against numerical
integration, and parameter recovery on simulated data (``tests/test_clv_models.py``).
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
from kpitools.clv.summary import ClvInputError, rfm_arrays
from kpitools.errors import FitError

__all__ = [
    "BetaGeoModel",
    "ClvFitWarning",
    "bgnbd_log_likelihood",
    "fit_bgnbd",
    "simulate_bgnbd",
]

PARAM_NAMES = ("r", "alpha", "a", "b")


# --------------------------------------------------------------------------------------
# likelihood
# --------------------------------------------------------------------------------------


def bgnbd_log_likelihood(r, alpha, a, b, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood, computed in log space.

    Parameters
    ----------
    r, alpha, a, b : float
        Model parameters (``alpha`` in the time unit of ``recency`` and ``T``).
    frequency : array_like of int
        Repeat purchases ``x``.
    recency : array_like of float
        Time of the last purchase ``t_x`` (time units since the first purchase).
    T : array_like of float
        Length of observation (time units since the first purchase).

    Returns
    -------
    numpy.ndarray
        ``log L_i`` for each customer (natural log; a density in ``t_x`` when ``x > 0``, so it
        depends on the time unit).
    """
    x, tx, t_obs = np.broadcast_arrays(
        *(np.asarray(v, dtype="float64") for v in (frequency, recency, T))
    )
    data = _Data.build(x.ravel(), tx.ravel(), t_obs.ravel(), compress=False)
    ll, _ = _ll_and_grad(float(r), float(alpha), float(a), float(b), data, grad=False)
    return ll.reshape(x.shape)


class _Data:
    """Customers prepared for the likelihood: one-time buyers merged on T, x-only terms cached.

    ``x``, ``tx``, ``T`` are rows (possibly merged), ``w`` their weights (customer counts),
    ``ux`` the distinct values of ``x`` and ``inv`` the index of each row's ``x`` in ``ux``.
    """

    def __init__(self, x, tx, t_obs, w):
        self.x, self.tx, self.T, self.w = x, tx, t_obs, w
        self.ux, self.inv = np.unique(x, return_inverse=True)

    @classmethod
    def build(cls, x, tx, t_obs, *, compress: bool = True) -> _Data:
        if not compress:
            return cls(x, tx, t_obs, np.ones_like(x))
        once = x == 0
        t_once, counts = np.unique(t_obs[once], return_counts=True)
        rep = ~once
        return cls(
            np.concatenate([np.zeros_like(t_once), x[rep]]),
            np.concatenate([np.zeros_like(t_once), tx[rep]]),
            np.concatenate([t_once, t_obs[rep]]),
            np.concatenate([counts.astype("float64"), np.ones(int(rep.sum()))]),
        )


def _ll_and_grad(r, alpha, a, b, d: _Data, *, grad: bool):
    """Log-likelihood per row and, if ``grad``, the weighted sum of its gradient in
    ``(r, alpha, a, b)``.

    Terms that depend on the customer only through ``x`` are computed once per distinct
    ``x`` (``d.ux``) and gathered with ``d.inv``.
    """
    ux, inv, x = d.ux, d.inv, d.x
    rep_u = ux > 0
    beta_ab = special.betaln(a, b)
    common_u = special.gammaln(r + ux) - special.gammaln(r) + r * math.log(alpha)
    alive_u = special.betaln(a, b + ux) - beta_ab
    dead_u = np.full_like(ux, -np.inf)
    dead_u[rep_u] = special.betaln(a + 1.0, b + ux[rep_u] - 1.0) - beta_ab
    log_a_t = np.log(alpha + d.T)
    log_a_tx = np.log(alpha + d.tx)
    log_alive = alive_u[inv] - (r + x) * log_a_t
    log_dead = dead_u[inv] - (r + x) * log_a_tx  # -inf where x == 0
    ll = common_u[inv] + np.logaddexp(log_alive, log_dead)
    if not grad:
        return ll, None
    w_dead = special.expit(log_dead - log_alive)  # share of the "dropped out at t_x" term
    w_alive = 1.0 - w_dead
    psi = special.digamma
    psi_abx = psi(a + b + ux)
    psi_ab = psi(a + b)
    d_common_r = psi(r + ux) - psi(r) + math.log(alpha)
    d_alive_a = psi_ab - psi_abx
    d_alive_b = psi(b + ux) - psi(b) + psi_ab - psi_abx
    d_dead_a = np.where(rep_u, 1.0 / a + psi_ab - psi_abx, 0.0)
    d_dead_b = np.zeros_like(ux)
    d_dead_b[rep_u] = psi(b + ux[rep_u] - 1.0) - psi(b) + psi_ab - psi_abx[rep_u]
    # Weighted sums as (w * v).sum(), not BLAS dot products: a multi-threaded BLAS on a busy
    # machine makes ``@`` on long vectors much slower than a single-threaded reduction.
    w = d.w
    ww_alive = w * w_alive
    ww_dead = w * w_dead
    g = np.array(
        [
            (w * d_common_r[inv] - ww_alive * log_a_t - ww_dead * log_a_tx).sum(),
            w.sum() * r / alpha
            - ((ww_alive / (alpha + d.T) + ww_dead / (alpha + d.tx)) * (r + x)).sum(),
            (ww_alive * d_alive_a[inv] + ww_dead * d_dead_a[inv]).sum(),
            (ww_alive * d_alive_b[inv] + ww_dead * d_dead_b[inv]).sum(),
        ]
    )
    return ll, g


def _objective(theta, data: _Data, penalizer):
    """Penalised mean negative log-likelihood and its gradient in log-parameters."""
    params = np.exp(theta)
    r, alpha, a, b = params
    ll, g = _ll_and_grad(r, alpha, a, b, data, grad=True)
    total = data.w.sum()
    value = -(data.w * ll).sum() / total + penalizer * np.sum(params**2)
    gradient = -g / total * params + 2.0 * penalizer * params**2
    if not np.isfinite(value):
        return np.inf, np.zeros(4)
    return value, gradient


#: log of ~1e-200: below it a factor (1-z)**k is treated as vanishing (see below).
_LOG_TINY = -460.0


def _expected_given_alive(r, alpha, a, b, t, x, t_obs):
    """``E[Y(t) | alive, x, T]``: the bracket of FHL 2005 eq. 10 (eq. 9 with x = T = 0).

    The paper's form ``(a+b+x-1)/(a-1) * [1 - (1-z)**(r+x) * 2F1(r+x, b+x; a+b+x-1; z)]``,
    ``z = t / (alpha+T+t)``, gives 0 * inf for frequent buyers (x in the hundreds) because
    the 2F1 overflows while ``(1-z)**(r+x)`` underflows. Euler's transformation
    ``2F1(A, B; C; z) = (1-z)**(C-A-B) * 2F1(C-A, C-B; C; z)`` turns the product into
    ``(1-z)**(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose first two parameters do not grow
    with x; this is what is evaluated (checked against numerical integration over p).

    When ``a`` and ``b`` are large (thousands: almost no heterogeneity in the dropout
    probability, which the fit may find on data with a constant dropout), that 2F1 overflows
    in turn while ``(1-z)**(a-1)`` underflows. Where the result is not finite or that factor
    is below about 1e-200 (so the product is unreliable), the paper's own
    form is evaluated instead (its parameters ``r+x`` stay small unless x is large), and
    where that fails too, Pfaff's transformation
    ``2F1(A, B; C; z) = (1-z)**(-B) * 2F1(C-A, B; C; z/(z-1))``, which gives the product as
    ``2F1(r+x, a-1; a+b+x-1; -t/(alpha+T))``. Where all three fail (SciPy's 2F1 gives up on
    some large parameters and long horizons), the expectation is integrated numerically
    over p (:func:`_expected_given_alive_quadrature`).
    """
    t, x, t_obs = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (t, x, t_obs)))
    log1mz = np.log(alpha + t_obs) - np.log(alpha + t_obs + t)
    z = t / (alpha + t_obs + t)

    def evaluate(a_):
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            log_keep = (a_ - 1.0) * log1mz
            hyp = special.hyp2f1(a_ + b - 1.0 - r, a_ - 1.0, a_ + b + x - 1.0, z)
            # 1 - keep * hyp, written to avoid cancellation when t is small
            bracket = -np.expm1(log_keep) - np.exp(log_keep) * (hyp - 1.0)
            # keep below ~1e-200: the product of a vanishing and a huge number is unreliable
            bad = ~np.isfinite(bracket) | (log_keep < _LOG_TINY)
            if np.any(bad):
                log_keep = (r + x) * log1mz
                hyp = special.hyp2f1(r + x, b + x, a_ + b + x - 1.0, z)
                paper = -np.expm1(log_keep) - np.exp(log_keep) * (hyp - 1.0)
                bracket = np.where(bad, paper, bracket)
                bad = bad & (~np.isfinite(paper) | (log_keep < _LOG_TINY))
            if np.any(bad):
                w = -t / (alpha + t_obs)
                pfaff = 1.0 - special.hyp2f1(r + x, a_ - 1.0, a_ + b + x - 1.0, w)
                bracket = np.where(bad, pfaff, bracket)
                bad = bad & ~(np.isfinite(pfaff) & (pfaff >= 0.0))
            out = (a_ + b + x - 1.0) / (a_ - 1.0) * bracket
        if np.any(bad):
            out = np.where(bad, 0.0, out)
            out[bad] = _expected_given_alive_quadrature(r, alpha, a_, b, t[bad], x[bad], t_obs[bad])
        return out + 0.0  # + 0.0: no -0.0 at t = 0

    return _around_a_equal_one(evaluate, a)


def _distinct_pairs(x: np.ndarray, t_obs: np.ndarray):
    """The distinct ``(x, T)`` pairs of two 1-d float arrays and each row's index among them
    (as ``np.unique(..., axis=0, return_inverse=True)``, by one lexicographic sort)."""
    n = x.size
    if n == 0:
        return x[:0], t_obs[:0], np.zeros(0, dtype="int64")
    order = np.lexsort((t_obs, x))
    xs, ts = x[order], t_obs[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    new[1:] |= ts[1:] != ts[:-1]
    inverse = np.empty(n, dtype="int64")
    inverse[order] = np.cumsum(new) - 1
    return xs[new], ts[new], inverse


#: Gauss-Legendre nodes and weights on (0, 1), for :func:`_expected_given_alive_quadrature`.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_GL_NODES = (_GL_NODES + 1.0) / 2.0
_GL_WEIGHTS = _GL_WEIGHTS / 2.0


def _expected_given_alive_quadrature(r, alpha, a, b, t, x, t_obs):
    """``E[Y(t) | alive, x, T]`` by quadrature, the last resort of :func:`_expected_given_alive`.

    ``E over p ~ Beta(a, b+x) of (1 - ((alpha+T) / (alpha+T+p t))**(r+x)) / p`` (integrating
    out lambda), computed as a 64-point Gauss-Legendre rule on the quantile scale of p: the
    integrand is bounded and smooth, so this is accurate to about 1e-6 relative whatever the
    size of ``a`` and ``b``. Arguments are 1-d arrays of equal length (``a`` and ``b``
    scalars).
    """
    x = x[:, None]
    log_c = np.log(alpha + t_obs)[:, None]
    p = special.betaincinv(a, b + x, _GL_NODES[None, :])
    tt = t[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -np.expm1((r + x) * (log_c - np.log(np.exp(log_c) + p * tt))) / p
    g = np.where(p > 0, g, (r + x) * tt / np.exp(log_c))  # limit p -> 0
    return (g * _GL_WEIGHTS[None, :]).sum(axis=1)


def _around_a_equal_one(fn, a: float, delta: float = 1e-4):
    """Evaluate ``fn(a)``, a closed form with a removable singularity at ``a == 1``.

    Near 1 the form ``(...)/(a - 1)`` loses digits to cancellation; there it is interpolated
    linearly between ``a = 1 - delta`` and ``a = 1 + delta`` (error of order ``delta**2``).
    """
    if abs(a - 1.0) >= delta:
        return fn(a)
    lo, hi = fn(1.0 - delta), fn(1.0 + delta)
    return lo + (a - (1.0 - delta)) / (2.0 * delta) * (hi - lo)


# --------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------


class BetaGeoModel(FittedModel):
    """BG/NBD model: fit on an RFM summary, predict purchases and the probability alive.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (r**2 + alpha**2 + a**2 + b**2)`` added to the mean negative
        log-likelihood, with ``alpha`` taken on the internal time scale (mean T = 1) so that
        the penalty does not depend on the time unit. 0 gives the maximum-likelihood fit.
    min_repeat_buyers : int, default 20
        Fewest customers with ``frequency > 0`` the fit accepts.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}``; ``alpha`` in the summary's time unit.
    standard_errors_ : dict
        Asymptotic standard errors (inverse observed information, delta method); NaN when the
        information matrix is singular.
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (unpenalised).
    n_customers_, n_repeat_buyers_ : int
        Customers in the fit and those with ``frequency > 0``.
    converged_ : bool
        Whether the optimiser converged (a fit that does not converge raises instead).
    n_iterations_ : int
        L-BFGS-B iterations.
    time_unit_ : str or None
        Time unit of the summary (from ``summary.attrs["time_unit"]``) if known.
    """

    PARAMS = PARAM_NAMES
    MODEL = "BG/NBD"

    def __init__(self, *, penalizer: float = 0.0, min_repeat_buyers: int = MIN_REPEAT_BUYERS):
        if penalizer < 0:
            raise ClvInputError(f"penalizer must be >= 0, got {penalizer}")
        self.penalizer = float(penalizer)
        self.min_repeat_buyers = int(min_repeat_buyers)
        self.params_: dict[str, float] | None = None
        self.standard_errors_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: int | None = None
        self.n_repeat_buyers_: int | None = None
        self.converged_: bool | None = None
        self.n_iterations_: int | None = None
        self.time_unit_: str | None = None

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_params(
        cls, r: float, alpha: float, a: float, b: float, *, time_unit: str | None = None
    ) -> BetaGeoModel:
        """A model with given parameters (e.g. published ones), without fitting.

        Parameters
        ----------
        r, alpha, a, b : float
            Positive parameters; ``alpha`` in ``time_unit``.
        time_unit : str, optional
            Time unit of ``alpha`` and of the predictions.
        """
        values = {"r": r, "alpha": alpha, "a": a, "b": b}
        bad = [k for k, v in values.items() if not (np.isfinite(v) and v > 0)]
        if bad:
            raise ClvInputError(f"BG/NBD parameters must be positive and finite: {bad}")
        model = cls()
        model.params_ = {k: float(v) for k, v in values.items()}
        model.time_unit_ = time_unit
        return model

    def fit(self, summary: pd.DataFrame, *, initial: dict | None = None) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            RFM summary with ``frequency``, ``recency`` and ``T`` (see
            :func:`kpitools.clv.rfm_summary`).
        initial : dict, optional
            Starting values ``{"r", "alpha", "a", "b"}`` (``alpha`` in the summary's time unit);
            by default r = 1, a = 1, b = 1 and alpha from the mean purchase rate.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        kpitools.errors.FitError
            Too few repeat buyers, or the optimiser did not converge.
        """
        x, tx, t_obs = rfm_arrays(summary)
        n = x.size
        n_rep = int((x > 0).sum())
        if n_rep < self.min_repeat_buyers:
            what = "no repeat buyers" if n_rep == 0 else f"only {n_rep} repeat buyer(s)"
            raise TooFewRepeatBuyersError(
                f"BG/NBD cannot be fitted: {what} among {n} customer(s); at least "
                f"{self.min_repeat_buyers} customers with frequency > 0 are needed "
                "(use a longer observation window or a larger customer base)",
                model=self.MODEL,
                n_customers=n,
                n_repeat_buyers=n_rep,
                minimum=self.min_repeat_buyers,
            )
        scale = float(t_obs.mean())
        if not scale > 0:
            raise FitError(f"BG/NBD cannot be fitted: T is 0 for all {n} customers")
        data = _Data.build(x, tx / scale, t_obs / scale)
        lo, hi = np.log(PARAM_BOUNDS[0]), np.log(PARAM_BOUNDS[1])
        bounds = [(lo, hi)] * 4
        if initial is None:
            rate = (x.sum() + 1.0) / (t_obs / scale).sum()
            start = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        else:
            missing = [k for k in PARAM_NAMES if k not in initial]
            if missing:
                raise ClvInputError(f"initial lacks {missing}")
            start = np.array([initial[k] for k in PARAM_NAMES], dtype="float64")
            start[1] /= scale
            if not np.all(np.isfinite(start) & (start > 0)):
                raise ClvInputError(f"initial values must be positive: {initial}")
        theta0 = np.clip(np.log(start), lo + 1e-6, hi - 1e-6)
        args = (data, self.penalizer)
        res, converged = minimise(_objective, theta0, args, bounds)
        if not converged:
            raise ConvergenceError(
                f"BG/NBD fit did not converge after {res.nit} iterations ({res.message}); "
                f"{n} customers, {n_rep} repeat buyers. Try other initial values or a small "
                "penalizer."
            )
        scaled = np.exp(res.x)
        params = scaled.copy()
        params[1] *= scale
        self.params_ = dict(zip(PARAM_NAMES, (float(v) for v in params), strict=True))
        r, alpha, a, b = params
        self.log_likelihood_ = float(bgnbd_log_likelihood(r, alpha, a, b, x, tx, t_obs).sum())
        se = standard_errors(_objective, res.x, args, n, params)
        self.standard_errors_ = dict(zip(PARAM_NAMES, (float(v) for v in se), strict=True))
        self.n_customers_ = int(n)
        self.n_repeat_buyers_ = n_rep
        self.converged_ = True
        self.n_iterations_ = int(res.nit)
        self.time_unit_ = summary.attrs.get("time_unit") if hasattr(summary, "attrs") else None
        at_bound = [
            name
            for name, th in zip(PARAM_NAMES, res.x, strict=True)
            if th <= lo + 1e-6 or th >= hi - 1e-6
        ]
        if at_bound:
            warnings.warn(
                f"BG/NBD parameter(s) {at_bound} reached the optimisation bound "
                f"{PARAM_BOUNDS}: the data do not identify them (e.g. no visible dropout gives "
                "b -> infinity); predictions are usable, the parameter values are not",
                ParameterAtBoundWarning,
                stacklevel=2,
            )
        return self

    # -- predictions -------------------------------------------------------------------

    def probability_alive(self, frequency, recency, T):
        """Probability that a customer is still alive at the end of observation.

        ``P = 1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))**(r + x))``
        (FHL 2005, eq. 11); 1 for customers without repeat purchase (the model lets customers
        drop out only after a repeat purchase).

        Parameters
        ----------
        frequency, recency, T : array_like
            As in the RFM summary (time unit of the fit).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Probabilities in [0, 1]; a Series with the input's index if an input is one.
        """
        r, alpha, a, b = self._params()
        x, tx, t_obs = np.broadcast_arrays(
            *(np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        )
        out = self._p_alive(r, alpha, a, b, x, tx, t_obs)
        return broadcast_like(out, frequency, recency, T, name="probability_alive")

    @staticmethod
    def _p_alive(r, alpha, a, b, x, tx, t_obs):
        rep = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = (
                np.log(a)
                - np.log(np.where(rep, b + x - 1.0, 1.0))
                + (r + x) * (np.log(alpha + t_obs) - np.log(alpha + tx))
            )
        return np.where(rep, special.expit(-log_odds_dead), 1.0)

    def expected_purchases(self, t, frequency, recency, T):
        """Expected number of purchases in the next ``t`` time units, given the history.

        FHL 2005, eq. 10::

            E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1)
                * [1 - ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
                * P(alive | x, t_x, T)

        Parameters
        ----------
        t : float or array_like
            Horizon, in the time unit of the fit (e.g. weeks), >= 0.
        frequency, recency, T : array_like
            As in the RFM summary.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Expected purchases (repeat purchase days) in ``(T, T + t]``.
        """
        r, alpha, a, b = self._params()
        t_arr, x, tx, t_obs = np.broadcast_arrays(
            *(np.asarray(v, dtype="float64") for v in (t, frequency, recency, T))
        )
        if (t_arr < 0).any():
            raise ClvInputError("t must be >= 0")
        out = self._conditional_expectation(r, alpha, a, b, t_arr, x, tx, t_obs)
        return broadcast_like(out, t, frequency, recency, T, name="expected_purchases")

    def expected_purchases_factors(self, horizons, frequency, recency, T):
        """:meth:`expected_purchases` at several horizons, evaluated once per distinct (x, T).

        ``E[Y(h_k) | x_i, t_x,i, T_i] = given_alive[k, inverse[i]] * p_alive[i]``, with the
        same floating-point values as :meth:`expected_purchases`: the expensive part, the
        expectation given alive (Gauss hypergeometric functions), depends on the customer
        only through ``x`` and ``T``, which repeat heavily (whole days in a time unit), so it
        is computed for each distinct pair only; the probability alive is computed per
        customer, once for all horizons.

        Parameters
        ----------
        horizons : array_like of float
            Horizons ``h_k`` in the time unit of the fit, >= 0 (1-d).
        frequency, recency, T : array_like
            As in the RFM summary (1-d, equal length).

        Returns
        -------
        given_alive : numpy.ndarray
            ``(len(horizons), n_pairs)``: expected purchases in ``(T, T + h_k]`` given alive,
            for each distinct ``(x, T)`` pair.
        inverse : numpy.ndarray
            Index of each customer's pair (int64, length of the inputs).
        p_alive : numpy.ndarray
            Probability alive of each customer.
        """
        r, alpha, a, b = self._params()
        h = np.asarray(horizons, dtype="float64").ravel()
        if (h < 0).any():
            raise ClvInputError("horizons must be >= 0")
        x, tx, t_obs = (
            np.ravel(v)
            for v in np.broadcast_arrays(
                *(np.asarray(v, dtype="float64") for v in (frequency, recency, T))
            )
        )
        ux, ut, inverse = _distinct_pairs(x, t_obs)
        given = _expected_given_alive(r, alpha, a, b, h[:, None], ux[None, :], ut[None, :])
        return given, inverse, self._p_alive(r, alpha, a, b, x, tx, t_obs)

    @classmethod
    def _conditional_expectation(cls, r, alpha, a, b, t, x, tx, t_obs):
        given_alive = _expected_given_alive(r, alpha, a, b, t, x, t_obs)
        return given_alive * cls._p_alive(r, alpha, a, b, x, tx, t_obs)

    def expected_purchases_new_customer(self, t):
        """Unconditional expected repeat purchases ``E[X(t)]`` of a newly acquired customer.

        FHL 2005, eq. 9:
        ``E[X(t)] = (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))**r * 2F1(r, b; a+b-1; t/(alpha+t))]``.

        Parameters
        ----------
        t : float or array_like
            Time since the first purchase, in the time unit of the fit, >= 0.

        Returns
        -------
        float or numpy.ndarray
            Expected number of repeat purchases in ``(0, t]``.
        """
        r, alpha, a, b = self._params()
        t_arr = np.asarray(t, dtype="float64")
        if (t_arr < 0).any():
            raise ClvInputError("t must be >= 0")
        out = _expected_given_alive(r, alpha, a, b, t_arr, np.zeros_like(t_arr), 0.0)
        return broadcast_like(out, t, name="expected_purchases")


def fit_bgnbd(
    summary: pd.DataFrame,
    *,
    penalizer: float = 0.0,
    initial: dict | None = None,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
) -> BetaGeoModel:
    """Fit a BG/NBD model on an RFM summary (thin wrapper around :class:`BetaGeoModel`).

    Parameters
    ----------
    summary : pandas.DataFrame
        RFM summary with ``frequency``, ``recency``, ``T``.
    penalizer : float, default 0.0
        L2 penalty (see :class:`BetaGeoModel`).
    initial : dict, optional
        Starting values ``{"r", "alpha", "a", "b"}``.
    min_repeat_buyers : int, default 20
        Fewest customers with ``frequency > 0`` accepted.

    Returns
    -------
    BetaGeoModel
        The fitted model.
    """
    model = BetaGeoModel(penalizer=penalizer, min_repeat_buyers=min_repeat_buyers)
    return model.fit(summary, initial=initial)


# --------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------


def simulate_bgnbd(
    T,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    holdout: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Simulate customers from the BG/NBD generative process, event by event.

    Each customer draws ``lambda ~ Gamma(r, rate=alpha)`` and ``p ~ Beta(a, b)``; starting from
    the first purchase at time 0, waiting times are exponential with rate ``lambda``; after each
    repeat purchase the customer drops out with probability ``p``. Purchases in ``(0, T]`` form
    the calibration summary, those in ``(T, T + holdout]`` the holdout count.

    Parameters
    ----------
    T : array_like of float
        Observation length per customer (time units); its length is the number of customers.
    r, alpha, a, b : float
        Model parameters (``alpha`` in the same time unit).
    holdout : float, default 0.0
        Length of the holdout window after ``T`` (time units).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``, and the
        latent ``lambda``, ``p`` and ``alive`` (still alive at ``T``).
    """
    rng = np.random.default_rng(rng)
    t_obs = np.asarray(T, dtype="float64").ravel()
    n = t_obs.size
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    end = t_obs + holdout
    x = np.zeros(n, dtype="int64")
    tx = np.zeros(n)
    x_hold = np.zeros(n, dtype="int64")
    alive = np.ones(n, dtype=bool)
    now = np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1.0, size=active.size) / np.maximum(lam[active], 1e-300)
        active = active[now[active] <= end[active]]
        in_cal = now[active] <= t_obs[active]
        cal = active[in_cal]
        x[cal] += 1
        tx[cal] = now[cal]
        x_hold[active[~in_cal]] += 1
        drop = rng.random(active.size) < p[active]
        alive[cal[drop[in_cal]]] = False
        active = active[~drop]
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": tx,
            "T": t_obs,
            "frequency_holdout": x_hold,
            "duration_holdout": float(holdout),
            "lambda": lam,
            "p": p,
            "alive": alive,
        }
    )
