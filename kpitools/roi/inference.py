"""Small-sample inference for a campaign lift: Bell–McCaffrey degrees of freedom and a
randomisation-inference interval.

Two pieces, both used by :func:`kpitools.roi.estimators.estimate_lift`:

:func:`bell_mccaffrey_df`
    The degrees of freedom of Bell and McCaffrey (2002) for the HC2 standard error of one
    regression coefficient, as recommended by Imbens and Kolesár (2016, *Review of Economics
    and Statistics* 98(4)): the t-quantile is taken with the degrees of freedom of a
    Satterthwaite approximation to the distribution of the HC2 variance under homoskedastic
    normal errors. For the difference in means it is close to ``n_control - 1`` when the
    control group is much smaller than the targeted group (the residual degrees of freedom,
    ``n - 2``, which the package used before, are then far too many), and it equals ``n - 2``
    when the groups have the same size.
:func:`randomisation_interval`
    The interval obtained by inverting the randomisation (permutation) test of a constant
    additive effect ``tau``: under that hypothesis ``a_i - tau * T_i`` would have been the
    same whichever customers had been held out, so re-drawing the control group at random
    gives the distribution of the test statistic. The statistic is the Welch-studentised
    difference in means (Janssen 1997; Chung and Romano 2013: with it the permutation test
    stays valid for the difference of means when the groups' variances differ). The interval
    is equal-tailed: ``tau`` is kept when neither one-sided test rejects at ``alpha / 2``.
    ``a`` is the outcome (``"diff"``) or the regression-adjusted outcome (``"ols"``,
    ``"cuped"``: outcome minus the fitted covariate part, whose difference in means is the
    estimator; the fitted slope is held fixed). For ``"lin"`` ``a`` is the outcome and the
    groups' own slopes are re-fitted on every re-drawn split (``covariates``).

Why the randomisation interval where the control group is small: campaign revenue is
zero-inflated and right-skewed (most customers buy nothing, a few spend a lot), so the mean of
a small control group is right-skewed and the t-interval, symmetric, misses on one side (about
80–84 % coverage with 20 controls on simulated zero-inflated revenue, see
``benchmarks/roi_coverage.py`` and ``tests/test_roi_coverage.py``). Re-drawing the control
group from the whole campaign's customers reproduces that skewness from the data of all of them
(hundreds of targeted customers), not from the few controls, and the interval becomes
asymmetric where the data are.

Every function here is vectorised over leading axes (simulated replications): ``a`` may be
``(..., n)`` with one treatment vector ``(n,)`` shared by all.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "RI_DRAWS",
    "RI_SEED",
    "bell_mccaffrey_df",
    "draw_control_sets",
    "randomisation_interval",
]

#: Random control groups drawn for a randomisation interval (Monte Carlo error of a 2.5 %
#: tail probability: sqrt(0.025 * 0.975 / 4000) = 0.25 percentage point).
RI_DRAWS = 4000

#: Seed of the draws: the same data always give the same interval.
RI_SEED = 20240612


def bell_mccaffrey_df(
    X: ArrayLike,
    column: int,
    *,
    pinv: ArrayLike | None = None,
    leverage: ArrayLike | None = None,
) -> float:
    """Bell–McCaffrey degrees of freedom of the HC2 standard error of one coefficient.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of the regression (with the intercept), full column rank.
    column : int
        Position of the coefficient (e.g. the treatment's column).
    pinv : array_like, shape (k, n), optional
        The pseudo-inverse of ``X``, ``(X'X)⁻¹ X'``, when the fit has it already (the
        ``model.pinv_wexog`` of :func:`kpitools.roi.estimators.fit_ols`); else computed here.
    leverage : array_like, shape (n,), optional
        The leverages ``h_ii`` (the diagonal of the hat matrix) when the fit has them already
        (an HC2 or HC3 fit checks them); else computed here from ``X`` and ``pinv``.

    Returns
    -------
    float
        ``(sum_i d_i M_ii)² / sum_ij d_i d_j M_ij²`` with ``M = I - H`` the residual maker,
        ``H = X P`` the hat matrix (``P`` the pseudo-inverse), ``d_i = g_i² / (1 - h_ii)``
        and ``g = X (X'X)⁻¹ e_column``, the row ``column`` of ``P``: the Satterthwaite degrees
        of freedom of the HC2 variance when the errors are homoskedastic (Bell and McCaffrey
        2002; Imbens and Kolesár 2016, section 3). Computed in ``O(n k²)`` through
        ``sum_ij d_i d_j H_ij² = trace((P D X)²)``, a ``k x k`` product.

    Notes
    -----
    For a difference in means (``X = [1, T]``) it is
    ``(1/n1 + 1/n0)² / (1/(n1² (n1 - 1)) + 1/(n0² (n0 - 1)))``: 8 for 5 + 5 customers,
    21.6 for 300 targeted and 20 controls.
    """
    Xa = np.asarray(X, dtype=float)
    P = np.linalg.pinv(Xa) if pinv is None else np.asarray(pinv, dtype=float)
    if leverage is None:
        h = np.einsum("ij,ji->i", Xa, P)  # the diagonal of X P
    else:
        h = np.asarray(leverage, dtype=float)
    g = P[column]
    d = g**2 / (1.0 - h)
    num = float(np.sum(d * (1.0 - h))) ** 2
    PdX = P @ (d[:, None] * Xa)
    den = float(np.sum(d**2 * (1.0 - 2.0 * h)) + np.sum(PdX * PdX.T))
    return num / den


def draw_control_sets(n: int, n_control: int, draws: int, rng: np.random.Generator) -> NDArray:
    """``draws`` random control groups of ``n_control`` of ``n`` positions, shape (draws, n_control).

    Each row is a uniform draw without replacement (a random split like the campaign's own):
    Floyd's algorithm, vectorised over the draws, when ``n_control`` is small (cost
    ``draws * n_control²``), else the ``n_control`` smallest of ``n`` uniform keys (cost
    ``draws * n``).
    """
    if n_control * n_control <= 8 * n:
        out = np.empty((draws, n_control), dtype=np.int64)
        for i, j in enumerate(range(n - n_control, n)):
            r = rng.integers(0, j + 1, size=draws)
            taken = (out[:, :i] == r[:, None]).any(axis=1)
            out[:, i] = np.where(taken, j, r)
        return out
    chunk = max(1, min(draws, 4_000_000 // max(n, 1)))
    parts = []
    done = 0
    while done < draws:
        m = min(chunk, draws - done)
        keys = rng.random((m, n))
        parts.append(np.argpartition(keys, n_control - 1, axis=1)[:, :n_control])
        done += m
    return np.concatenate(parts, axis=0)


@lru_cache(maxsize=32)
def _seeded_sets(n: int, n_control: int, draws: int, seed: int) -> NDArray:
    """The draws of a fixed seed, shared by the outcomes of one campaign (read-only)."""
    sets = draw_control_sets(n, n_control, draws, np.random.default_rng(seed))
    sets.setflags(write=False)
    return sets


def _welch(mean1, mean0, var1, var0, n1, n0):
    se = np.sqrt(var1 / n1 + var0 / n0)
    diff = mean1 - mean0
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = diff / se
    # 0/0 (both groups constant and equal): the statistic is 0 (nothing to reject)
    return np.where(np.isnan(stat), 0.0, stat)


class _Permutations:
    """Sufficient statistics of the re-drawn groups, so that the studentised statistic is a
    closed form in ``tau`` (``z = a - tau T``): no pass over the customers per ``tau``."""

    def __init__(self, a: NDArray, treated: NDArray, sets: NDArray):
        t = treated.astype(float)
        self.n = a.shape[-1]
        self.n0 = sets.shape[1]
        self.n1 = self.n - self.n0
        a = a - a.mean(axis=-1, keepdims=True)  # the statistic is shift invariant
        self.S = a.sum(-1)[..., None]
        self.Q = (a * a).sum(-1)[..., None]
        self.SA = (a * t).sum(-1)[..., None]
        aC = a[..., sets]  # (..., draws, n0)
        tC = t[sets]  # (draws, n0)
        self.S_C = aC.sum(-1)
        self.Q_C = (aC * aC).sum(-1)
        self.SA_C = (aC * tC).sum(-1)
        self.m_C = tC.sum(-1)
        # observed groups
        a1 = np.where(treated, a, 0.0)
        a0 = np.where(treated, 0.0, a)
        self.mean1 = a1.sum(-1) / self.n1
        self.mean0 = a0.sum(-1) / self.n0
        self.var1 = (np.where(treated, a - self.mean1[..., None], 0.0) ** 2).sum(-1) / (self.n1 - 1)
        self.var0 = (np.where(treated, 0.0, a - self.mean0[..., None]) ** 2).sum(-1) / (self.n0 - 1)
        self.effect = self.mean1 - self.mean0
        self.se = np.sqrt(self.var1 / self.n1 + self.var0 / self.n0)

    def tails(self, tau: NDArray) -> tuple[NDArray, NDArray]:
        """(P(stat* <= stat), P(stat* >= stat)) under ``tau``, with the +1 of an exact test."""
        n0, n1 = self.n0, self.n1
        tt = tau[..., None]
        sum_c = self.S_C - tt * self.m_C
        sq_c = self.Q_C - 2.0 * tt * self.SA_C + tt * tt * self.m_C
        sum_all = self.S - tt * n1
        sq_all = self.Q - 2.0 * tt * self.SA + tt * tt * n1
        sum_t = sum_all - sum_c
        sq_t = sq_all - sq_c
        mean_c, mean_t = sum_c / n0, sum_t / n1
        var_c = np.maximum(sq_c - n0 * mean_c**2, 0.0) / (n0 - 1)
        var_t = np.maximum(sq_t - n1 * mean_t**2, 0.0) / (n1 - 1)
        star = _welch(mean_t, mean_c, var_t, var_c, n1, n0)
        with np.errstate(divide="ignore", invalid="ignore"):
            obs = (self.effect - tau) / self.se
        obs = np.where(np.isnan(obs), 0.0, obs)[..., None]
        # relative tolerance: a re-drawn split equal to the observed one ties with it
        tol = 1e-9 * np.maximum(1.0, np.abs(obs))
        draws = star.shape[-1]
        low = (1.0 + np.sum(star <= obs + tol, axis=-1)) / (draws + 1.0)
        high = (1.0 + np.sum(star >= obs - tol, axis=-1)) / (draws + 1.0)
        return low, high


class _LinPermutations:
    """Lin's interacted regression re-fitted on every re-drawn split, in closed form.

    With ``z = y - tau T`` and covariates ``x`` centred at their overall mean (which no split
    changes), a group's adjusted mean is ``mean(z) - mean(x)' b`` with ``b`` the group's own
    least-squares slope, and the statistic is the difference of the two adjusted means over
    ``sqrt(s1²/n1 + s0²/n0)``, ``s²`` the group's residual variance (``n_g - k - 1``
    denominator). Every sum is linear or quadratic in ``tau``, so the statistic of every
    split is a closed form in ``tau``. The observed split is the last row of the draws.
    """

    def __init__(self, y: NDArray, x: NDArray, treated: NDArray, sets: NDArray):
        n0 = int((~treated).sum())
        observed = np.flatnonzero(~treated)[None, :]
        sets = np.concatenate([sets, observed], axis=0)
        t = treated.astype(float)
        self.n, self.k = y.shape[-1], x.shape[-1]
        self.n0, self.n1 = n0, self.n - n0
        y = y - y.mean(axis=-1, keepdims=True)
        x = x - x.mean(axis=-2, keepdims=True)
        # totals (..., 1, ...) so they broadcast against the draws axis
        self.T = {
            "x": x.sum(-2)[..., None, :],
            "xx": np.einsum("...ni,...nj->...ij", x, x)[..., None, :, :],
            "y": y.sum(-1)[..., None],
            "xy": np.einsum("...ni,...n->...i", x, y)[..., None, :],
            "yy": (y * y).sum(-1)[..., None],
            "tx": np.einsum("...ni,n->...i", x, t)[..., None, :],
            "ty": (y * t).sum(-1)[..., None],
            "m": float(self.n1),
        }
        xC = x[..., sets, :]  # (..., draws, n0, k)
        yC = y[..., sets]
        tC = t[sets]
        self.C = {
            "x": xC.sum(-2),
            "xx": np.einsum("...ni,...nj->...ij", xC, xC),
            "y": yC.sum(-1),
            "xy": np.einsum("...ni,...n->...i", xC, yC),
            "yy": (yC * yC).sum(-1),
            "tx": np.einsum("...ni,...n->...i", xC, np.broadcast_to(tC, yC.shape)),
            "ty": (yC * tC).sum(-1),
            "m": tC.sum(-1),
        }
        zero = np.zeros(y.shape[:-1])
        stat, diff, scale = self._stat(zero, observed_only=True)
        self.effect = diff
        self.se = scale

    def _group(self, cnt, sx, sxx, sz, sxz, szz):
        xbar = sx / cnt
        zbar = sz / cnt
        cxx = sxx - cnt * np.einsum("...i,...j->...ij", xbar, xbar)
        cxz = sxz - cnt * xbar * zbar[..., None]
        czz = szz - cnt * zbar**2
        # a group whose covariate does not vary gets slope 0 (pinv): its adjusted mean is its mean
        if self.k == 1:  # closed form, much faster than a batched pseudo-inverse
            v = cxx[..., 0, 0]
            ok = v > 1e-10 * np.maximum(1.0, sxx[..., 0, 0])
            b = np.where(ok, cxz[..., 0] / np.where(ok, v, 1.0), 0.0)[..., None]
        else:
            b = np.einsum("...ij,...j->...i", np.linalg.pinv(cxx, rcond=1e-10), cxz)
        adj = zbar - np.einsum("...i,...i->...", xbar, b)
        var = np.maximum(czz - np.einsum("...i,...i->...", cxz, b), 0.0) / max(cnt - self.k - 1, 1)
        return adj, var

    def _stat(self, tau: NDArray, observed_only: bool = False):
        T, C = self.T, self.C
        if observed_only:  # the last draw is the observed split
            C = {
                "x": C["x"][..., -1:, :],
                "xx": C["xx"][..., -1:, :, :],
                "y": C["y"][..., -1:],
                "xy": C["xy"][..., -1:, :],
                "yy": C["yy"][..., -1:],
                "tx": C["tx"][..., -1:, :],
                "ty": C["ty"][..., -1:],
                "m": C["m"][-1:],
            }
        tt = tau[..., None]
        m_c = C["m"]
        sz_c = C["y"] - tt * m_c
        sxz_c = C["xy"] - tt[..., None] * C["tx"]
        szz_c = C["yy"] - 2.0 * tt * C["ty"] + tt * tt * m_c
        sz_all = T["y"] - tt * T["m"]
        sxz_all = T["xy"] - tt[..., None] * T["tx"]
        szz_all = T["yy"] - 2.0 * tt * T["ty"] + tt * tt * T["m"]
        adj0, var0 = self._group(self.n0, C["x"], C["xx"], sz_c, sxz_c, szz_c)
        adj1, var1 = self._group(
            self.n1,
            T["x"] - C["x"],
            T["xx"] - C["xx"],
            sz_all - sz_c,
            sxz_all - sxz_c,
            szz_all - szz_c,
        )
        stat = _welch(adj1, adj0, var1, var0, self.n1, self.n0)
        if observed_only:
            return stat, (adj1 - adj0)[..., 0], np.sqrt(var1 / self.n1 + var0 / self.n0)[..., 0]
        return stat, None, None

    def tails(self, tau: NDArray) -> tuple[NDArray, NDArray]:
        stat, _, _ = self._stat(tau)
        obs = stat[..., -1:]
        star = stat[..., :-1]
        tol = 1e-9 * np.maximum(1.0, np.abs(obs))
        draws = star.shape[-1]
        low = (1.0 + np.sum(star <= obs + tol, axis=-1)) / (draws + 1.0)
        high = (1.0 + np.sum(star >= obs - tol, axis=-1)) / (draws + 1.0)
        return low, high


def randomisation_interval(
    a: ArrayLike,
    treated: ArrayLike,
    *,
    covariates: ArrayLike | None = None,
    alpha: float = 0.05,
    draws: int = RI_DRAWS,
    seed: int | np.random.Generator = RI_SEED,
    sets: NDArray | None = None,
    iterations: int = 36,
) -> tuple[NDArray, NDArray, NDArray]:
    """Interval of a constant additive effect by inverting the randomisation test.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Outcome per customer (or regression-adjusted outcome), outcome units; leading axes are
        independent data sets (e.g. simulated replications) sharing ``treated``.
    treated : array_like of bool, shape (n,)
        True for targeted customers; at least 2 in each group.
    alpha : float, default 0.05
        Each one-sided test rejects at ``alpha / 2`` (equal-tailed ``1 - alpha`` interval).
    draws : int, default :data:`RI_DRAWS`
        Random control groups drawn (ignored when ``sets`` is given).
    seed : int or numpy Generator, default :data:`RI_SEED`
    sets : ndarray of int, shape (draws, n_control), optional
        The control groups to use (from :func:`draw_control_sets`).
    covariates : array_like, shape (..., n, k), optional
        For Lin's interacted estimator: ``a`` is then the raw outcome and the regression on
        these covariates is re-fitted, group by group, on every re-drawn split (a control
        group's own slope, estimated from few customers, is too noisy to be held fixed).
    iterations : int, default 36
        Bisection steps for each bound (the bracket is 15 standard errors wide or more: 36
        steps leave an error below 1e-9 standard error).

    Returns
    -------
    (ci_low, ci_high, p_value) : ndarrays of shape ``a.shape[:-1]``
        Bounds in outcome units per customer (``-inf`` / ``inf`` when no shift, however
        large, is rejected: too few distinct splits, e.g. 2 controls among 6 customers), and
        the two-sided p-value of "no effect" (twice the smaller one-sided randomisation
        p-value, at most 1).
    """
    arr = np.asarray(a, dtype=float)
    t = np.asarray(treated).astype(bool)
    n0 = int((~t).sum())
    if t.shape != arr.shape[-1:] or n0 < 2 or int(t.sum()) < 2:
        raise ValueError("randomisation_interval needs a (n,) treatment with 2+ per group")
    if sets is None:
        if isinstance(seed, np.random.Generator):
            sets = draw_control_sets(arr.shape[-1], n0, draws, seed)
        else:
            sets = _seeded_sets(arr.shape[-1], n0, int(draws), int(seed))
    perm: _Permutations | _LinPermutations
    if covariates is None:
        perm = _Permutations(arr, t, sets)
    else:
        perm = _LinPermutations(arr, np.asarray(covariates, dtype=float), t, sets)
    half = alpha / 2.0
    se = np.where(perm.se > 0, perm.se, 1.0)
    centre = perm.effect

    def bound(upper: bool) -> NDArray:
        # inside: tau kept (p > alpha/2 on the side that matters); far: rejected
        sign = 1.0 if upper else -1.0
        inside = centre.copy()
        width = 15.0 * se
        for _ in range(8):  # widen until rejected everywhere
            far = centre + sign * width
            low, high = perm.tails(far)
            p = low if upper else high
            if np.all(p <= half):
                break
            width = np.where(p > half, 2.0 * width, width)
        far = centre + sign * width
        low, high = perm.tails(far)
        unbounded = (low if upper else high) > half  # too few distinct splits to reject
        for _ in range(iterations):
            mid = 0.5 * (inside + far)
            low, high = perm.tails(mid)
            keep = (low if upper else high) > half
            inside = np.where(keep, mid, inside)
            far = np.where(keep, far, mid)
        return np.where(unbounded, sign * np.inf, 0.5 * (inside + far))

    lo, hi = bound(False), bound(True)
    low0, high0 = perm.tails(np.zeros_like(centre))
    p = np.minimum(1.0, 2.0 * np.minimum(low0, high0))
    return lo, hi, p
