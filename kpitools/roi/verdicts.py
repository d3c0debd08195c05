"""Campaign verdicts controlled across a report, and advice that is true.

**Multiplicity.** A report judges some forty campaigns at once. Calling each campaign
"profitable" when its own 95 % interval clears break-even lets about 2.5 % of the truly
unprofitable ones through *each*, so a report with many campaigns that do not pay prints
several false "profitable" verdicts. The verdicts here are the **Benjamini–Hochberg** step-up
procedure (Benjamini and Hochberg 1995) applied to the one-sided break-even tests of the
report's measured campaigns, separately in each direction:

* "profitable": H0 ``ROI <= 0`` (incremental margin at most the cost), p-value
  ``p_up``; rejected by BH at level ``q``;
* "not profitable": H0 ``ROI >= 0``, p-value ``p_down = 1 - p_up``; rejected by BH at level
  ``q``;
* otherwise "inconclusive".

With ``q = alpha / 2`` (2.5 % for the report's 95 % intervals) a report with a single campaign
gives exactly the interval verdict (:func:`kpitools.roi.programme.verdict`); with ``m``
campaigns a campaign needs ``p <= k q / m`` (``k`` its BH rank), so no verdict is looser than
the interval rule, and of the campaigns called "profitable" at most ``q`` are expected, on
average, not to pay (the false discovery rate; the campaign estimates are independent, on
disjoint control groups, which is the condition of the theorem). Each direction is controlled
at ``q``, as in the directional procedure of Benjamini and Yekutieli (2005).

The p-values are those of the campaign's own interval (:func:`break_even_p_values`): the
one-sided t-test of ``M <= cost`` with the standard error of the margin estimate and the
degrees of freedom implied by the interval's half-width (``half / se`` is the t-quantile), so
that ``p_up < alpha / 2`` exactly when the interval's lower bound is above the cost, whatever
small-sample degrees of freedom the estimator used.

**Advice.** :func:`control_advice` says "a larger control group would settle it" only when
:func:`kpitools.roi.guardrails.required_control_size` finds a finite size that fits within the
campaign's audience (its targeted and control members); otherwise the campaign is too small to
be measured on its own and the advice is to judge it pooled with similar campaigns or over a
longer window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, stats

from kpitools.roi.estimators import RoiInputError
from kpitools.roi.guardrails import ControlSizeResult
from kpitools.roi.programme import RoiResult
from kpitools.vocab import Verdict

__all__ = [
    "MULTIPLICITY_RULE",
    "AdjustedVerdict",
    "Advice",
    "adjust_verdicts",
    "bh_reject",
    "break_even_p_values",
    "control_advice",
]

#: Name of the multiplicity rule (written to ``kpis.json``).
MULTIPLICITY_RULE = "benjamini-hochberg"

AdviceCode = Literal["larger_control", "too_small"]


def _implied_df(quantile: float, alpha: float) -> float:
    """Degrees of freedom of the t distribution whose ``1 - alpha/2`` quantile is
    ``quantile`` (``inf`` at or below the normal quantile)."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    if not math.isfinite(quantile) or quantile <= z * (1 + 1e-9):
        return math.inf
    hi = 1e7
    if float(stats.t.ppf(1 - alpha / 2, hi)) >= quantile:
        return math.inf
    lo = 1e-3
    if float(stats.t.ppf(1 - alpha / 2, lo)) <= quantile:
        return lo
    return float(optimize.brentq(lambda d: float(stats.t.ppf(1 - alpha / 2, d)) - quantile, lo, hi))


def _sf(x: float, df: float) -> float:
    return float(stats.norm.sf(x)) if math.isinf(df) else float(stats.t.sf(x, df))


def break_even_p_values(result: RoiResult) -> tuple[float, float]:
    """One-sided p-values of the break-even test of a campaign's ROI.

    Parameters
    ----------
    result : RoiResult
        A campaign's ROI (incremental margin ``M`` with standard error ``margin_se`` and
        interval ``[M_lo, M_hi]``, cost ``C``; currency units).

    Returns
    -------
    (float, float)
        ``p_up``: p-value of H0 ``ROI <= 0`` (small when the campaign pays); ``p_down``: of
        H0 ``ROI >= 0`` (small when it does not). ``p_up < alpha/2`` exactly when
        ``M_lo > C``, ``p_down < alpha/2`` exactly when ``M_hi < C``.

    Raises
    ------
    RoiInputError
        Not a RoiResult, or a standard error that is not positive and finite.
    """
    if not isinstance(result, RoiResult):
        raise RoiInputError(f"break_even_p_values takes a RoiResult, got {type(result).__name__}")
    se = float(result.margin_se)
    if not math.isfinite(se) or se <= 0:
        raise RoiInputError(
            f"{result.name!r}: the margin standard error must be positive and finite, got {se!r}"
        )
    m, cost, alpha = result.incremental_margin, result.cost, result.alpha
    df_lo = _implied_df((m - result.margin_ci_low) / se, alpha)
    df_hi = _implied_df((result.margin_ci_high - m) / se, alpha)
    t = (m - cost) / se
    return _sf(t, df_lo), _sf(-t, df_hi)


def bh_reject(p_values: Any, q: float) -> np.ndarray:
    """Benjamini–Hochberg step-up rejections along the last axis.

    Parameters
    ----------
    p_values : array_like
        P-values, shape ``(..., m)``; NaN marks a campaign outside the family (never
        rejected, not counted in ``m``).
    q : float
        False discovery rate, in (0, 1).

    Returns
    -------
    numpy.ndarray of bool
        Same shape: rejected hypotheses (the ``k`` smallest p-values, ``k`` the largest rank
        with ``p_(k) <= k q / m``).
    """
    if not isinstance(q, int | float) or not 0.0 < float(q) < 1.0:
        raise RoiInputError(f"q must be strictly between 0 and 1, got {q!r}")
    p = np.asarray(p_values, dtype=float)
    if p.ndim == 0:
        p = p[None]
    valid = np.isfinite(p)
    m = valid.sum(axis=-1, keepdims=True)
    filled = np.where(valid, p, np.inf)
    order = np.argsort(filled, axis=-1)
    sorted_p = np.take_along_axis(filled, order, axis=-1)
    ranks = np.arange(1, p.shape[-1] + 1)
    ok = sorted_p <= ranks * float(q) / np.maximum(m, 1)
    # largest rank k with p_(k) <= k q / m (0 when none)
    k = np.where(ok, ranks, 0).max(axis=-1, keepdims=True)
    reject_sorted = ranks <= k
    out = np.zeros_like(reject_sorted)
    np.put_along_axis(out, order, reject_sorted, axis=-1)
    return out & valid


@dataclass(frozen=True)
class AdjustedVerdict:
    """A campaign's verdict after Benjamini–Hochberg across the report.

    Attributes
    ----------
    verdict : Verdict
        The adjusted verdict.
    raw : Verdict
        The campaign's own interval verdict (:func:`kpitools.roi.programme.verdict`).
    p_profitable, p_not_profitable : float
        One-sided p-values of the break-even test (:func:`break_even_p_values`).
    q : float
        False discovery rate of each direction.
    m : int
        Campaigns in the family (the measured campaigns of the report).
    """

    verdict: Verdict
    raw: Verdict
    p_profitable: float
    p_not_profitable: float
    q: float
    m: int

    @property
    def changed(self) -> bool:
        """The adjustment turned a clear interval verdict into "inconclusive"."""
        return self.verdict != self.raw

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": MULTIPLICITY_RULE,
            "q": self.q,
            "m": self.m,
            "p_profitable": self.p_profitable,
            "p_not_profitable": self.p_not_profitable,
            "raw_verdict": str(self.raw),
        }


def adjust_verdicts(
    results: Sequence[RoiResult | None], q: float | None = None
) -> list[AdjustedVerdict | None]:
    """Verdicts of a report's campaigns with Benjamini–Hochberg in each direction.

    Parameters
    ----------
    results : sequence of RoiResult or None
        Campaign ROI results (None: not measured, outside the family).
    q : float, optional
        False discovery rate of each direction; default ``alpha / 2`` of the results.

    Returns
    -------
    list of AdjustedVerdict or None
        In the order of ``results``; None where the result is None.
    """
    idx = [i for i, r in enumerate(results) if r is not None]
    out: list[AdjustedVerdict | None] = [None] * len(results)
    if not idx:
        return out
    measured = [r for r in results if r is not None]
    if q is None:
        q = measured[0].alpha / 2
    pv = np.array([break_even_p_values(r) for r in measured], dtype=float)
    up = bh_reject(pv[:, 0], q)
    down = bh_reject(pv[:, 1], q)
    for j, (i, r) in enumerate(zip(idx, measured, strict=True)):
        if up[j] and not down[j]:
            v = Verdict.PROFITABLE
        elif down[j] and not up[j]:
            v = Verdict.NOT_PROFITABLE
        else:
            v = Verdict.INCONCLUSIVE
        out[i] = AdjustedVerdict(
            verdict=v,
            raw=r.verdict,
            p_profitable=float(pv[j, 0]),
            p_not_profitable=float(pv[j, 1]),
            q=float(q),
            m=len(measured),
        )
    return out


@dataclass(frozen=True)
class Advice:
    """What would settle an inconclusive campaign.

    Attributes
    ----------
    code : {"larger_control", "too_small"}
        ``larger_control``: a control group of ``n_control`` customers (with the same targeted
        customers) would detect the break-even lift with the power of the guardrails, and it
        fits within the campaign's audience; ``too_small``: no control group would, or none
        that fits: the campaign cannot be measured on its own (pool it with similar campaigns
        or measure it over a longer window).
    n_control : int or None
        Control customers needed (``larger_control`` only).
    n_audience : int
        The campaign's members (targeted and control customers).
    """

    code: AdviceCode
    n_control: int | None
    n_audience: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "n_control": self.n_control, "n_audience": self.n_audience}


def control_advice(required: ControlSizeResult | None, n_audience: int) -> Advice | None:
    """The advice for an underpowered campaign, true by the package's own calculation.

    Parameters
    ----------
    required : ControlSizeResult or None
        :func:`kpitools.roi.guardrails.required_control_size` for the break-even margin lift
        (None when the control group is large enough: no advice).
    n_audience : int
        The campaign's members, targeted and control customers.

    Returns
    -------
    Advice or None
        ``larger_control`` with the size when it is finite and at most ``n_audience``;
        ``too_small`` otherwise; None when ``required`` is None.
    """
    if required is None:
        return None
    n = int(n_audience)
    if required.feasible and math.isfinite(required.n_control) and required.n_control <= n:
        return Advice("larger_control", int(required.n_control), n)
    return Advice("too_small", None, n)
