"""Simulated campaigns on skewed, zero-inflated revenue, and the lift estimators in closed form
vectorised across replications (for the coverage tests and ``benchmarks/roi_coverage.py``).

Data-generating process (one replication = one campaign of ``n1`` targeted and ``n0`` control
customers, the first ``n1`` positions targeted):

- a customer's spending level ``u ~ N(0, 1)``;
- pre-period revenue ``X = B_x * exp(MU + S_U u + S_E e_x)``, ``B_x ~ Bernoulli(Q_PRE)``;
- outcome revenue ``Y = B * exp(MU + S_U u + S_E e_y)`` with ``B ~ Bernoulli(P0)`` for a
  control and ``Bernoulli(P1)`` for a targeted customer (the campaign makes more of them buy);
  ``e_x, e_y ~ N(0, 1)`` independent.

So about three customers in four buy nothing, and a buyer's spend is log-normal (log-sd
``sqrt(S_U² + S_E²) = 1.13``, skewness of a buyer's spend about 6). The planted truth is the
mean difference ``ATE = (P1 - P0) exp(MU + (S_U² + S_E²) / 2)`` exactly (5.1772 EUR).
"""

from __future__ import annotations

import numpy as np

MU, S_U, S_E = 4.0, 0.8, 0.8
P0, P1, Q_PRE = 0.25, 0.30, 0.35
ATE = (P1 - P0) * float(np.exp(MU + (S_U**2 + S_E**2) / 2))


def simulate(rng: np.random.Generator, reps: int, n1: int, n0: int):
    """(y, x, treated): outcome and pre-period revenue (reps, n), treatment (n,) bool."""
    n = n1 + n0
    treated = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    u = rng.standard_normal((reps, n))
    x = (rng.random((reps, n)) < Q_PRE) * np.exp(
        MU + S_U * u + S_E * rng.standard_normal((reps, n))
    )
    buys = rng.random((reps, n)) < np.where(treated, P1, P0)
    y = buys * np.exp(MU + S_U * u + S_E * rng.standard_normal((reps, n)))
    return y, x, treated


def _design(method: str, y: np.ndarray, x: np.ndarray, treated: np.ndarray):
    """(outcome, design (reps, n, k)) of each estimator; treatment in column 1."""
    reps, n = y.shape
    one = np.ones((reps, n))
    t = np.broadcast_to(treated.astype(float), (reps, n))
    if method == "diff":
        return y, np.stack([one, t], axis=-1)
    if method == "cuped":
        xc = x - x.mean(axis=1, keepdims=True)
        yc = y - y.mean(axis=1, keepdims=True)
        theta = (xc * yc).sum(1) / (xc * xc).sum(1)
        return y - theta[:, None] * xc, np.stack([one, t], axis=-1)
    if method == "ols":
        return y, np.stack([one, t, x], axis=-1)
    if method == "lin":
        xc = x - x.mean(axis=1, keepdims=True)
        return y, np.stack([one, t, xc, t * xc], axis=-1)
    raise ValueError(method)


def fit(method: str, y: np.ndarray, x: np.ndarray, treated: np.ndarray) -> dict[str, np.ndarray]:
    """OLS of each replication with the HC2 standard error of the treatment coefficient.

    Returns ``effect``, ``se`` (HC2), ``df_resid``, ``df_bm`` (Bell–McCaffrey, the same
    formula as :func:`kpitools.roi.inference.bell_mccaffrey_df`, batched) and ``adjusted``
    (the outcome minus its fitted covariate part, as
    :func:`kpitools.roi.estimators.adjusted_outcome`), one value per replication.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # leverage 1: se NaN (a miss)
        return _fit(method, y, x, treated)


def _fit(method: str, y: np.ndarray, x: np.ndarray, treated: np.ndarray) -> dict[str, np.ndarray]:
    yy, X = _design(method, y, x, treated)
    reps, n, k = X.shape
    Q, _ = np.linalg.qr(X)
    XtX_inv = np.linalg.inv(np.einsum("rni,rnj->rij", X, X))
    beta = np.einsum("rij,rnj,rn->ri", XtX_inv, X, yy)
    resid = yy - np.einsum("rnk,rk->rn", X, beta)
    h = np.einsum("rnk,rnk->rn", Q, Q)
    g = np.einsum("rnk,rk->rn", X, XtX_inv[:, :, 1])
    se = np.sqrt(np.sum(g**2 * resid**2 / (1.0 - h), axis=1))
    d = g**2 / (1.0 - h)
    num = np.sum(d * (1.0 - h), axis=1) ** 2
    QdQ = np.einsum("rni,rn,rnj->rij", Q, d, Q)
    den = np.sum(d**2 * (1.0 - 2.0 * h), axis=1) + np.einsum("rij,rji->r", QdQ, QdQ)
    others = [c for c in range(k) if c not in (0, 1)]
    adjusted = yy - np.einsum("rnk,rk->rn", X[:, :, others], beta[:, others]) if others else yy
    return {
        "effect": beta[:, 1],
        "se": se,
        "df_resid": np.full(reps, float(n - k)),
        "df_bm": num / den,
        "adjusted": adjusted,
    }
