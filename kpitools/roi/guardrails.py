"""Guardrails on the control group ("population témoin") of a CRM campaign.

Before reading a lift, check that:

* the split between targeted and control customers is the one that was planned
  (:func:`sample_ratio_mismatch`: Pearson's chi-square test, or the exact binomial test when an
  expected count is below :data:`SRM_MIN_EXPECTED`); a mismatch usually means the assignment or
  the data extraction is broken, and then no estimate can be trusted;
* the control group is large enough to detect an effect of a useful size
  (:func:`minimum_detectable_effect`, :func:`required_control_size`);
* both groups exist at all (:func:`check_groups`).

The results are numbers and reason codes (``SRMResult.code``, ``ControlSizeResult.code``,
:class:`~kpitools.roi.issues.Issue` codes); their sentences are written by
:mod:`kpitools.report.roi` (``srm_text``, ``control_size_text``, ``issue_text``).

Power calculations use the normal approximation (:class:`statsmodels.stats.power.NormalIndPower`)
with a common outcome standard deviation ``sd`` in both groups. The approximation is close for
control groups of a hundred customers or more (the t quantile with 100 degrees of freedom is
1.984 against 1.960); CRM control groups are often far smaller (the demo's hold 3 to 169
customers, median 18), where it understates the size needed: plan the next campaign's control
group with :func:`kpitools.roi.power.plan_control_size`, which uses the t-test's own power.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from kpitools.errors import CampaignError
from kpitools.roi.estimators import RoiInputError
from kpitools.roi.issues import Issue

__all__ = [
    "SRM_MIN_EXPECTED",
    "SRM_TESTS",
    "ControlSizeResult",
    "SRMResult",
    "check_groups",
    "minimum_detectable_effect",
    "required_control_size",
    "sample_ratio_mismatch",
]

ALTERNATIVES = ("two-sided", "larger", "smaller")

#: Below this expected count (customers) in either group, the sample ratio check uses the exact
#: binomial test instead of the chi-square (Cochran's rule: the chi-square approximation needs
#: every expected count to be at least 5).
SRM_MIN_EXPECTED = 5.0
#: The tests :func:`sample_ratio_mismatch` may use (:attr:`SRMResult.test`).
SRM_TESTS = ("chi-square", "binomial")


def _count(value, name: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not float(value).is_integer()
        or value < 0
    ):
        raise RoiInputError(
            f"{name} must be a non-negative whole number of customers, got {value!r}"
        )
    return int(value)


def _prob(value, name: str) -> float:
    if not isinstance(value, int | float) or not 0.0 < float(value) < 1.0:
        raise RoiInputError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return float(value)


def _positive(value, name: str, unit: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise RoiInputError(f"{name} must be a positive number ({unit}), got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------
# Sample ratio mismatch
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SRMResult:
    """Test that the observed split matches the planned one (chi-square or exact binomial).

    Parameters
    ----------
    n_treated, n_control : int
        Observed customers in each group.
    planned_control_share : float
        Planned share of customers held out in the control group (0.10 = 10 %).
    expected_treated, expected_control : float
        Expected counts under the plan, customers.
    statistic : float
        Pearson chi-square statistic (1 degree of freedom), reported whichever test gave the
        p-value.
    p_value : float
        P-value of the null hypothesis "the split follows the plan", from :attr:`test`.
    alpha : float
        Threshold below which a mismatch is declared.
    mismatch : bool
        ``p_value < alpha``.
    test : {"chi-square", "binomial"}
        The test the p-value comes from: ``"binomial"`` (exact, two-sided) when an expected
        count is below the threshold :attr:`min_expected`, else ``"chi-square"``.
    min_expected : float
        That threshold, customers (:data:`SRM_MIN_EXPECTED` by default).

    The conclusion is :attr:`code` (``"mismatch"`` or ``"ok"``); its sentence is
    :func:`kpitools.report.roi.srm_text`.
    """

    n_treated: int
    n_control: int
    planned_control_share: float
    expected_treated: float
    expected_control: float
    statistic: float
    p_value: float
    alpha: float
    mismatch: bool
    test: Literal["chi-square", "binomial"] = "chi-square"
    min_expected: float = SRM_MIN_EXPECTED

    @property
    def code(self) -> Literal["mismatch", "ok"]:
        """``"mismatch"`` when the split is not the planned one (``p_value < alpha``), else
        ``"ok"``."""
        return "mismatch" if self.mismatch else "ok"

    @property
    def n_total(self) -> int:
        """Customers in both groups."""
        return self.n_treated + self.n_control

    @property
    def observed_control_share(self) -> float:
        """Observed share of customers in the control group."""
        return self.n_control / (self.n_treated + self.n_control)


def sample_ratio_mismatch(
    n_treated: int,
    n_control: int,
    planned_control_share: float,
    alpha: float = 0.001,
    *,
    min_expected: float = SRM_MIN_EXPECTED,
) -> SRMResult:
    """Test whether the control group has the planned share of customers (SRM check).

    With ``N = n_treated + n_control`` customers and a planned control share ``s``, the
    expected counts are ``N (1 - s)`` and ``N s``. When both are at least ``min_expected``
    the p-value is Pearson's chi-square test (1 degree of freedom); when either is smaller
    the chi-square approximation is poor (5 controls out of 20 customers planned at 5 %,
    expected 1: chi-square 16.84, p = 4.1e-5, a mismatch at 0.001; exact p = 0.0026, none),
    and the p-value is the exact two-sided binomial test of
    ``n_control ~ Binomial(N, s)`` (:func:`scipy.stats.binomtest`: the probability of every
    count at most as likely as the one observed).

    Parameters
    ----------
    n_treated, n_control : int
        Customers observed in the targeted and in the control group.
    planned_control_share : float
        Share of customers the plan held out (0.10 = 10 %), strictly between 0 and 1.
    alpha : float, default 0.001
        Significance threshold. A strict default is customary because the check is run on
        every campaign and a true mismatch is usually glaring.
    min_expected : float, default :data:`SRM_MIN_EXPECTED` (5)
        Smallest expected count (customers) for which the chi-square test is used.

    Returns
    -------
    SRMResult
        ``statistic = sum((observed - expected)² / expected)`` over the two groups, computed
        with :func:`scipy.stats.chisquare`, the p-value of the test used (``test``:
        ``"chi-square"`` or ``"binomial"``) and the conclusion as a code (``"mismatch"`` /
        ``"ok"``).

    Raises
    ------
    RoiInputError
        Negative or fractional counts, no customer at all, share or alpha outside (0, 1),
        ``min_expected`` negative.
    """
    n1 = _count(n_treated, "n_treated")
    n0 = _count(n_control, "n_control")
    share = _prob(planned_control_share, "planned_control_share")
    alpha = _prob(alpha, "alpha")
    total = n1 + n0
    if total == 0:
        raise RoiInputError("sample_ratio_mismatch: there are no customers in either group")
    if (
        isinstance(min_expected, bool)
        or not isinstance(min_expected, int | float)
        or not math.isfinite(min_expected)
        or min_expected < 0
    ):
        raise RoiInputError(
            f"min_expected must be a non-negative number of customers, got {min_expected!r}"
        )
    exp1, exp0 = total * (1.0 - share), total * share
    stat, p = stats.chisquare([n1, n0], f_exp=[exp1, exp0])
    stat, p = float(stat), float(p)
    test: Literal["chi-square", "binomial"] = "chi-square"
    if min(exp1, exp0) < min_expected:
        test = "binomial"
        p = float(stats.binomtest(n0, total, share, alternative="two-sided").pvalue)
    return SRMResult(
        n_treated=n1,
        n_control=n0,
        planned_control_share=share,
        expected_treated=exp1,
        expected_control=exp0,
        statistic=stat,
        p_value=p,
        alpha=alpha,
        mismatch=p < alpha,
        test=test,
        min_expected=float(min_expected),
    )


# --------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------


def minimum_detectable_effect(
    n_treated: int,
    n_control: int,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
) -> float:
    """Smallest effect the campaign can detect with the given group sizes.

    Solves :meth:`statsmodels.stats.power.NormalIndPower.solve_power` for the standardized
    effect ``d`` (with ``ratio = n_control / n_treated``) and returns ``d * sd``. It is close to
    the closed form ``(z_{1-alpha/2} + z_{power}) * sd * sqrt(1/n_treated + 1/n_control)``
    (the exact two-sided power also counts the opposite tail, so it is marginally smaller).

    Parameters
    ----------
    n_treated, n_control : int
        Customers in the targeted and in the control group.
    sd : float
        Standard deviation of the outcome per customer, outcome units (for a conversion rate
        ``p``, ``sqrt(p (1 - p))``).
    alpha : float, default 0.05
        Significance level of the test.
    power : float, default 0.8
        Probability of detecting an effect of the returned size.
    alternative : {"two-sided", "larger", "smaller"}, default "two-sided"
        Alternative hypothesis of the test.

    Returns
    -------
    float
        Minimum detectable effect, as a positive magnitude in outcome units per customer.

    Raises
    ------
    CampaignError
        A group is empty (no control group, or no treated customers).
    RoiInputError
        ``sd`` not positive, ``alpha`` or ``power`` outside (0, 1), unknown ``alternative``.
    """
    n1 = _count(n_treated, "n_treated")
    n0 = _count(n_control, "n_control")
    sd = _positive(sd, "sd", "outcome units")
    alpha = _prob(alpha, "alpha")
    power = _prob(power, "power")
    if alternative not in ALTERNATIVES:
        raise RoiInputError(f"alternative '{alternative}' is not one of {', '.join(ALTERNATIVES)}")
    if n0 == 0:
        raise CampaignError("no control group: no effect can be detected without one")
    if n1 == 0:
        raise CampaignError("no treated customers: no effect can be detected")
    from statsmodels.stats.power import NormalIndPower  # loaded only when sizing a test

    d = NormalIndPower().solve_power(
        effect_size=None,
        nobs1=n1,
        alpha=alpha,
        power=power,
        ratio=n0 / n1,
        alternative=alternative,
    )
    d = abs(float(d))
    if not math.isfinite(d):
        raise CampaignError(
            f"the minimum detectable effect could not be solved for n_treated={n1}, "
            f"n_control={n0}, alpha={alpha}, power={power}"
        )
    return d * sd


@dataclass(frozen=True)
class ControlSizeResult:
    """Control-group size needed to detect a given effect.

    Parameters
    ----------
    n_control : int or float
        Customers needed in the control group (rounded up), or ``math.inf`` when no control
        group is large enough.
    feasible : bool
        Whether a finite control group suffices.
    effect : float
        Effect to detect, outcome units per customer.
    sd : float
        Outcome standard deviation, outcome units per customer.
    n_treated : int
        Customers targeted.
    alpha, power : float
        Test level and power.
    smallest_detectable : float
        Smallest effect detectable with an unlimited control group (limit of the minimum
        detectable effect as the control group grows), outcome units.

    The conclusion is :attr:`code` (``"feasible"`` or ``"infeasible"``); its sentence is
    :func:`kpitools.report.roi.control_size_text`.
    """

    n_control: int | float
    feasible: bool
    effect: float
    sd: float
    n_treated: int
    alpha: float
    power: float
    smallest_detectable: float

    @property
    def code(self) -> Literal["feasible", "infeasible"]:
        """``"feasible"`` when a finite control group detects the effect, else
        ``"infeasible"``."""
        return "feasible" if self.feasible else "infeasible"


def required_control_size(
    effect: float,
    sd: float,
    n_treated: int,
    alpha: float = 0.05,
    power: float = 0.8,
) -> ControlSizeResult:
    """Control-group size needed to detect ``effect`` with ``n_treated`` customers targeted.

    Solves :meth:`statsmodels.stats.power.NormalIndPower.solve_power` for the ratio
    ``n_control / n_treated`` (two-sided test). Because the variance of the difference never
    falls below ``sd² / n_treated``, effects smaller than about
    ``(z_{1-alpha/2} + z_{power}) * sd / sqrt(n_treated)`` cannot be detected whatever the
    control size: the result is then ``math.inf`` with ``feasible=False`` (code
    ``"infeasible"``).

    Parameters
    ----------
    effect : float
        Effect to detect, outcome units per customer (its sign does not matter).
    sd : float
        Standard deviation of the outcome per customer, outcome units.
    n_treated : int
        Customers targeted by the campaign.
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8
        Desired probability of detecting ``effect``.

    Returns
    -------
    ControlSizeResult
        ``n_control`` (customers, rounded up) or ``math.inf``, and ``smallest_detectable``.

    Raises
    ------
    RoiInputError
        ``effect`` zero or not finite, ``sd`` not positive, ``n_treated`` not a positive
        whole number, ``alpha`` or ``power`` outside (0, 1).
    """
    if not isinstance(effect, int | float) or not math.isfinite(effect) or effect == 0:
        raise RoiInputError(f"effect must be a non-zero number (outcome units), got {effect!r}")
    sd = _positive(sd, "sd", "outcome units")
    n1 = _count(n_treated, "n_treated")
    if n1 == 0:
        raise CampaignError("no treated customers: no control size can make the effect detectable")
    alpha = _prob(alpha, "alpha")
    power = _prob(power, "power")
    d = abs(float(effect)) / sd
    from statsmodels.stats.power import NormalIndPower  # loaded only when sizing a test

    analysis = NormalIndPower()
    limit = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) / math.sqrt(n1) * sd
    # Power with an (almost) unlimited control group: if it is still short, give up.
    max_power = analysis.power(effect_size=d, nobs1=n1, alpha=alpha, ratio=1e9)
    smallest = float(limit)
    if max_power <= power:
        return ControlSizeResult(
            n_control=math.inf,
            feasible=False,
            effect=float(effect),
            sd=sd,
            n_treated=n1,
            alpha=alpha,
            power=power,
            smallest_detectable=smallest,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ratio = analysis.solve_power(effect_size=d, nobs1=n1, alpha=alpha, power=power, ratio=None)
    ratio = float(ratio)
    if not math.isfinite(ratio) or ratio <= 0:
        # Root finder failed: fall back to a bracketed search on the same power function.
        from scipy.optimize import brentq

        ratio = brentq(
            lambda r: analysis.power(effect_size=d, nobs1=n1, alpha=alpha, ratio=r) - power,
            1e-9,
            1e9,
        )
    n0 = max(1, math.ceil(ratio * n1 - 1e-9))
    return ControlSizeResult(
        n_control=n0,
        feasible=True,
        effect=float(effect),
        sd=sd,
        n_treated=n1,
        alpha=alpha,
        power=power,
        smallest_detectable=smallest,
    )


# --------------------------------------------------------------------------------------
# Group checks
# --------------------------------------------------------------------------------------


def check_groups(n_treated: int, n_control: int, *, min_control: int = 1000) -> list[Issue]:
    """Problems with the sizes of the targeted and control groups, as reason codes.

    Parameters
    ----------
    n_treated, n_control : int
        Customers in the targeted and in the control group.
    min_control : int, default 1000
        Rule-of-thumb minimum control size, customers. Use
        :func:`minimum_detectable_effect` for the real question: is the control group large
        enough to detect an effect worth the campaign's cost?

    Returns
    -------
    list of Issue
        Severity ``warning``, codes ``no_members`` (neither group has a customer; then the
        only issue), ``no_treated``, ``no_control`` or ``small_control`` (fewer than
        ``min_control`` control customers), each with ``fields`` ``n_treated``,
        ``n_control`` and ``min`` (customers). Empty when nothing is wrong. The sentences
        are :func:`kpitools.report.roi.issue_text`.
    """
    n1 = _count(n_treated, "n_treated")
    n0 = _count(n_control, "n_control")
    min_control = _count(min_control, "min_control")
    if n1 + n0 == 0:
        codes = ["no_members"]
    else:
        codes = (["no_treated"] if n1 == 0 else []) + (
            ["no_control"] if n0 == 0 else (["small_control"] if n0 < min_control else [])
        )
    sizes = {"n_treated": n1, "n_control": n0, "min": min_control}
    return [Issue(code, fields=dict(sizes)) for code in codes]
