"""Lift of a CRM campaign measured against its control group ("population témoin").

Every estimator works on a plain :class:`pandas.DataFrame` with **one row per customer**:
an outcome column (revenue, margin or a 0/1 conversion over the measurement window), a
treatment column (1/True = targeted by the campaign, 0/False = held out in the control group)
and, optionally, pre-campaign covariates (e.g. revenue over the previous 12 months).

Four estimators of the average effect of the campaign on the outcome are offered, all fitted
as ordinary least squares with a heteroskedasticity-robust covariance (``cov_type``):

``"diff"``
    Difference in means, fitted as ``outcome ~ treatment``. With ``cov_type="HC2"`` and a
    single binary regressor the robust variance of the slope is exactly the Neyman
    (Welch-type) variance ``s1²/n1 + s0²/n0``, where ``s²`` are the group variances with
    ``n - 1`` denominators, because the leverage of each row is ``1/n_g`` in its group.
``"ols"``
    Regression adjustment ``outcome ~ treatment + covariates``.
``"lin"``
    Lin (2013) fully interacted estimator
    ``outcome ~ treatment + Xc + treatment:Xc`` with the covariates centred at their overall
    mean (``Xc = X - mean(X)``), so that the treatment coefficient is the average effect. Lin
    shows that it never hurts asymptotic precision relative to ``"diff"`` and that the
    Huber-White standard error is consistent or conservative.
``"cuped"``
    CUPED (Deng et al. 2013) with one pre-period covariate ``X``: the pooled slope
    ``theta = cov(Y, X) / var(X)`` is computed over both groups, then the difference in means
    of ``Y - theta (X - mean X)`` is taken. The standard error is the robust OLS standard error
    of that adjusted outcome, i.e. it treats ``theta`` as known (conditional on theta); the
    error this neglects is of order ``1/n``. It is not measured on its own: the coverage
    simulation on zero-inflated revenue (``tests/test_roi_coverage.py``, 2,000 replications,
    randomisation interval with ``theta`` also held fixed) gives 97.6 / 96.1 / 95.6 % with
    10 / 20 / 50 controls for ``"cuped"``, as for the other estimators.

Intervals and p-values (``interval``, see :mod:`kpitools.roi.inference` and the design note
"Campaign intervals with small control groups"):

``"t"``
    Student's t on the robust standard error with the Bell–McCaffrey degrees of freedom
    (Imbens and Kolesár 2016) for the ``HC*`` covariances, the residual degrees of freedom
    (``n - number of parameters``) for ``"nonrobust"``.
``"randomisation"``
    The interval of a constant additive effect obtained by inverting the randomisation test
    (re-drawn control groups, Welch-studentised difference in means of the outcome, or of the
    regression-adjusted outcome for ``"ols"`` and ``"cuped"``, and with Lin's regression
    re-fitted on every re-drawn split for ``"lin"``); the p-value is the randomisation
    test's. Asymmetric where the revenue is skewed. ``se`` stays the robust one.
``"auto"``
    ``"randomisation"`` up to :data:`RI_MAX_CONTROL` control customers, ``"t"`` above (where
    the control mean is no longer skewed enough to matter and the draws would cost time).

With ``min_control_judge`` set, a control group smaller than it gives no interval and no
p-value (NaN) and ``controls_needed`` says how many controls judging would take.
Rows with a missing value in any column used are dropped and counted (``n_dropped``).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import stats

from kpitools.errors import CampaignError, FitError, KpitoolsError
from kpitools.roi.inference import RI_DRAWS, bell_mccaffrey_df, randomisation_interval

__all__ = [
    "COV_TYPES",
    "INTERVALS",
    "LIFT_NOTES",
    "LIFT_QUANTITIES",
    "METHODS",
    "RI_MAX_CONTROL",
    "LiftResult",
    "RoiInputError",
    "adjusted_outcome",
    "as_names",
    "covariate_matrix",
    "estimate_lift",
    "fit_ols",
    "prepare_frame",
]

METHODS = ("diff", "ols", "lin", "cuped")
"""Estimators accepted by :func:`estimate_lift`."""

COV_TYPES = ("HC0", "HC1", "HC2", "HC3", "nonrobust")
"""Covariance types accepted by :func:`estimate_lift` (statsmodels names)."""

INTERVALS = ("auto", "randomisation", "t")
"""Interval kinds accepted by :func:`estimate_lift` (see the module docstring)."""

RI_MAX_CONTROL = 250
"""Largest control group for which ``interval="auto"`` uses the randomisation interval."""

LIFT_NOTES = ("cuped_theta", "rows_dropped", "control_mean_zero")
"""Codes of :attr:`LiftResult.notes` (the numbers they quote are fields of the result):
``cuped_theta`` (CUPED slope ``theta``, pooled over both groups; the standard error treats it
as known), ``rows_dropped`` (``n_dropped`` rows had a missing value), ``control_mean_zero``
(the relative lift is not defined)."""

LIFT_QUANTITIES = (
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "relative_lift",
    "mean_treated",
    "mean_control",
    "n_treated",
    "n_control",
    "n_dropped",
)
"""Row codes of :meth:`LiftResult.to_frame`, in order (``relative_lift`` only when defined)."""


class RoiInputError(KpitoolsError, ValueError):
    """An argument of a :mod:`kpitools.roi` function is invalid (not a data problem).

    Derives from both :class:`~kpitools.errors.KpitoolsError` and :class:`ValueError`.
    """


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiftResult:
    """Estimated average effect of a campaign on one outcome.

    All amounts are in the unit of the outcome per customer (e.g. EUR of revenue per customer
    over the measurement window). For a 0/1 outcome they are proportions (0.02 = 2 percentage
    points); :meth:`to_frame` shows them in percentage points. ``str`` is a short numeric
    summary; the words (caption, notes, the HTML table) are in :mod:`kpitools.report.roi`
    (:func:`~kpitools.report.roi.lift_caption`, :func:`~kpitools.report.roi.notes_text`,
    :func:`~kpitools.report.roi.lift_html`).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    effect : float
        Estimated average effect of being targeted (treated minus control), outcome units
        per customer.
    se : float
        Standard error of ``effect``, outcome units per customer.
    ci_low, ci_high : float
        Bounds of the ``1 - alpha`` confidence interval of ``effect``, outcome units.
    p_value : float
        Two-sided p-value of the null hypothesis "no effect".
    n_treated, n_control : int
        Customers analysed in each group (after dropping rows with missing values).
    mean_treated, mean_control : float
        Raw (unadjusted) outcome means of each group, outcome units per customer.
    cov_type : str
        Covariance type used for ``se`` (see :data:`COV_TYPES`).
    alpha : float
        ``1 - confidence level`` of the interval.
    is_binary : bool
        Whether the outcome only takes the values 0 and 1 (a conversion).
    n_dropped : int
        Rows dropped because a used column was missing.
    model : statsmodels RegressionResults or None
        The fitted regression, for diagnostics.
    outcome, treatment : str
        Column names used.
    covariates : tuple of str
        Covariate columns used.
    theta : float or None
        CUPED slope (outcome units per covariate unit); None for other methods.
    notes : tuple of str
        Remarks about the estimate as codes (:data:`LIFT_NOTES`), in order.
    interval : {"t", "randomisation", "none"}
        How ``ci_low``, ``ci_high`` and ``p_value`` were computed; ``"none"``: too few
        controls to judge (they are NaN).
    df : float or None
        Degrees of freedom of the t-quantile (Bell–McCaffrey, or residual for
        ``"nonrobust"``); None for the other interval kinds.
    controls_needed : int or None
        Set when the control group is smaller than the minimum to judge: the number of control
        customers needed (``min_control_judge``); None otherwise.
    """

    method: str
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    cov_type: str
    alpha: float
    is_binary: bool
    n_dropped: int
    model: Any = field(default=None, repr=False, compare=False)
    outcome: str = ""
    treatment: str = ""
    covariates: tuple[str, ...] = ()
    theta: float | None = None
    notes: tuple[str, ...] = ()
    interval: str = "t"
    df: float | None = None
    controls_needed: int | None = None

    @property
    def too_few_controls(self) -> bool:
        """True when the control group is too small to judge (no interval, no p-value)."""
        return self.controls_needed is not None

    @property
    def confidence(self) -> float:
        """Confidence level of the interval (e.g. 0.95)."""
        return 1.0 - self.alpha

    @property
    def relative_lift(self) -> float | None:
        """Effect relative to the control mean (0.10 = +10 %); None if the control mean is 0."""
        if self.mean_control == 0:
            return None
        return self.effect / self.mean_control

    @property
    def effect_pp(self) -> float | None:
        """Effect in percentage points for a 0/1 outcome; None for other outcomes."""
        return 100.0 * self.effect if self.is_binary else None

    def to_frame(self) -> pd.DataFrame:
        """The estimate as a small table, one quantity per row.

        Returns
        -------
        pandas.DataFrame
            Index ``quantity`` (codes of :data:`LIFT_QUANTITIES`: ``effect``, ``se``,
            ``ci_low``, ``ci_high`` of the ``confidence`` interval, ``p_value``,
            ``relative_lift`` when defined, ``mean_treated``, ``mean_control``,
            ``n_treated``, ``n_control``, ``n_dropped``); columns ``value`` (float) and
            ``unit`` (a unit code: ``outcome`` = outcome units per customer, ``pp``
            = percentage points, ``percent``, ``percent_of_control`` = % of the control
            mean, ``customers``, ``rows``, ``""`` for the p-value). For a 0/1 outcome the
            effect and its interval are in percentage points and the group means in percent.
            Labels in a language: :func:`kpitools.report.roi.lift_html`.
        """
        if self.is_binary:
            scale, eff_unit, mean_unit = 100.0, "pp", "percent"
        else:
            scale, eff_unit, mean_unit = 1.0, "outcome", "outcome"
        rows: list[tuple[str, float, str]] = [
            ("effect", scale * self.effect, eff_unit),
            ("se", scale * self.se, eff_unit),
            ("ci_low", scale * self.ci_low, eff_unit),
            ("ci_high", scale * self.ci_high, eff_unit),
            ("p_value", self.p_value, ""),
        ]
        rel = self.relative_lift
        if rel is not None:
            rows.append(("relative_lift", 100.0 * rel, "percent_of_control"))
        rows += [
            ("mean_treated", scale * self.mean_treated, mean_unit),
            ("mean_control", scale * self.mean_control, mean_unit),
            ("n_treated", float(self.n_treated), "customers"),
            ("n_control", float(self.n_control), "customers"),
            ("n_dropped", float(self.n_dropped), "rows"),
        ]
        frame = pd.DataFrame(rows, columns=["quantity", "value", "unit"]).set_index("quantity")
        return frame

    def __str__(self) -> str:
        """A short numeric summary (no sentence; see :mod:`kpitools.report.roi`)."""
        return (
            f"LiftResult(outcome={self.outcome!r}, lift={self.effect:.4g}, "
            f"ci=[{self.ci_low:.4g}, {self.ci_high:.4g}], p={self.p_value:.4g}, "
            f"method={self.method!r}, cov_type={self.cov_type!r}, alpha={self.alpha:g}, "
            f"n=({self.n_treated}, {self.n_control}), notes={self.notes!r})"
        )


# --------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------


def _check_args(
    method: str, cov_type: str, alpha: float, interval: str = "t", min_control_judge: int = 0
) -> None:
    if method not in METHODS:
        raise RoiInputError(f"method '{method}' is not one of {', '.join(METHODS)}")
    if cov_type not in COV_TYPES:
        raise RoiInputError(f"cov_type '{cov_type}' is not one of {', '.join(COV_TYPES)}")
    if not isinstance(alpha, int | float) or not 0.0 < float(alpha) < 1.0:
        raise RoiInputError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    if interval not in INTERVALS:
        raise RoiInputError(f"interval '{interval}' is not one of {', '.join(INTERVALS)}")
    if (
        isinstance(min_control_judge, bool)
        or not isinstance(min_control_judge, int | np.integer)
        or min_control_judge < 0
    ):
        raise RoiInputError(
            f"min_control_judge must be a whole number of customers >= 0, got {min_control_judge!r}"
        )


def as_names(covariates: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(covariates, str):
        return (covariates,)
    return tuple(covariates)


def _check_columns(data: pd.DataFrame, columns: dict[str, str]) -> None:
    """``columns`` maps column name -> role (for the message)."""
    if not isinstance(data, pd.DataFrame):
        raise RoiInputError(
            f"data must be a pandas DataFrame with one row per customer, got {type(data).__name__}"
        )
    for name, role in columns.items():
        if name not in data.columns:
            raise CampaignError(f"{role} column '{name}' is not in the data")


def _treatment_as_float(series: pd.Series, name: str) -> pd.Series:
    """Validate a 0/1 or boolean treatment column and return it as 0.0/1.0 (NaN kept)."""
    nonnull = series.dropna()
    if ptypes.is_bool_dtype(series) or ptypes.is_numeric_dtype(series):
        ok = True
    else:
        ok = all(isinstance(v, bool | np.bool_ | int | np.integer | float) for v in nonnull)
    values: list[float] = []
    if ok:
        values = sorted(set(nonnull.astype(float).unique().tolist()))
        ok = set(values) <= {0.0, 1.0}
    if not ok:
        shown = ", ".join(repr(v) for v in list(pd.unique(nonnull))[:5])
        raise CampaignError(
            f"treatment column '{name}' must hold exactly two values, 0/1 or False/True "
            f"(1/True = targeted, 0/False = control group); found {shown}"
        )
    if len(values) < 2:
        if not values:
            raise CampaignError(f"treatment column '{name}' has no values (no members)")
        missing = "control (0/False)" if values == [1.0] else "treated (1/True)"
        raise CampaignError(
            f"treatment column '{name}' holds only one value: there are no {missing} customers"
        )
    if ptypes.is_object_dtype(series):
        return pd.Series(
            [np.nan if pd.isna(v) else float(v) for v in series], index=series.index, dtype=float
        )
    return series.astype(float)


def _numeric(series: pd.Series, name: str, role: str) -> pd.Series:
    if ptypes.is_bool_dtype(series):
        return series.astype(float)
    if not ptypes.is_numeric_dtype(series):
        raise CampaignError(f"{role} column '{name}' must be numeric, got dtype {series.dtype}")
    out = series.astype(float)
    if np.isinf(out.to_numpy()).any():
        raise CampaignError(f"{role} column '{name}' holds infinite values")
    return out


def _is_categorical(series: pd.Series) -> bool:
    return not (ptypes.is_numeric_dtype(series) or ptypes.is_bool_dtype(series))


def prepare_frame(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: tuple[str, ...],
    extra: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Check columns, drop incomplete rows and check that both groups remain.

    Returns the complete rows (outcome and covariates as float, treatment as 0.0/1.0,
    categorical covariates and ``extra`` columns kept as they are) and the number dropped.
    """
    roles = {outcome: "outcome", treatment: "treatment"}
    roles.update({c: "covariate" for c in covariates})
    roles.update(extra or {})
    _check_columns(data, roles)
    if outcome == treatment:
        raise RoiInputError(f"outcome and treatment are the same column '{outcome}'")
    for c in covariates:
        if c in (outcome, treatment):
            raise RoiInputError(f"covariate '{c}' is also the outcome or the treatment column")
    used = list(dict.fromkeys(roles))
    # Positional index (0-based row of ``data``): duplicate labels are harmless.
    sub = data.loc[:, used].set_axis(pd.RangeIndex(len(data)), axis=0)
    cols: dict[str, pd.Series] = {
        treatment: _treatment_as_float(sub[treatment], treatment),
        outcome: _numeric(sub[outcome], outcome, "outcome"),
    }
    for c in covariates:
        cols[c] = sub[c] if _is_categorical(sub[c]) else _numeric(sub[c], c, "covariate")
    for c in extra or {}:
        cols[c] = sub[c]
    frame = pd.DataFrame({c: cols[c] for c in used})
    complete = frame.notna().all(axis=1)
    n_dropped = int(len(frame) - complete.sum())
    if n_dropped:
        frame = frame.loc[complete]
    if frame.empty:
        raise CampaignError(
            f"no customer has all of {', '.join(repr(c) for c in used)} filled in (no members)"
        )
    n1 = int((frame[treatment] == 1.0).sum())
    n0 = len(frame) - n1
    for n, who in ((n1, "treated (1/True)"), (n0, "control (0/False)")):
        if n < 2:
            raise CampaignError(
                f"treatment column '{treatment}': only {n} {who} customer(s) with complete data; "
                "at least 2 per group are needed to measure a lift"
            )
    return frame, n_dropped


def covariate_matrix(frame: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Numeric covariates as they are, categorical ones as 0/1 dummies (first level dropped)."""
    parts = []
    for c in covariates:
        s = frame[c]
        if _is_categorical(s):
            dummies = pd.get_dummies(s.astype(str), prefix=c, prefix_sep="=", drop_first=True)
            if dummies.shape[1] == 0:
                raise FitError(f"covariate '{c}' takes a single value in the data analysed")
            parts.append(dummies.astype(float))
        else:
            # constant (nunique() < 2) tested by min == max: no hash table of a million values
            v = s.to_numpy(dtype=float, na_value=np.nan)
            v = v[~np.isnan(v)]
            if v.size == 0 or v.min() == v.max():
                raise FitError(f"covariate '{c}' is constant in the data analysed")
            parts.append(s.to_frame())
    if not parts:
        return pd.DataFrame(index=frame.index)
    return pd.concat(parts, axis=1)


def fit_ols(y: pd.Series, X: pd.DataFrame, cov_type: str, covariates: tuple[str, ...]):
    """OLS with the requested covariance; clear errors instead of NaN.

    Parameters
    ----------
    y : pandas.Series
        Outcome (outcome units), one row per customer.
    X : pandas.DataFrame
        Design matrix, with the intercept column.
    cov_type : str
        One of :data:`COV_TYPES`.
    covariates : tuple of str
        The covariates' names, quoted by the errors.

    Returns
    -------
    statsmodels.regression.linear_model.RegressionResultsWrapper
        The fit, the same numbers as ``OLS(y, X).fit(cov_type=...)`` (bit for bit, but the
        HC2 and HC3 standard errors, whose leverages come from the SVD: equal to about
        1e-15 relative). Its
        ``model.pinv_wexog`` (the pseudo-inverse of ``X``, shape (k, n)) serves
        :func:`~kpitools.roi.inference.bell_mccaffrey_df`.

    Notes
    -----
    One thin SVD of ``X`` serves the rank test, the leverages and the fit: its singular
    values give the rank decision of ``np.linalg.matrix_rank(X)``, the leverages are the row
    sums of ``U`` squared (and serve HC2 and HC3), and the pseudo-inverse is formed from it exactly as statsmodels'
    ``OLS.fit(method="pinv")`` forms its own (``statsmodels.tools.tools.pinv_extended``),
    which would otherwise take a second SVD of the same ``n x k`` matrix.
    """
    return _fit_ols(y, X, cov_type, covariates)[0]


@functools.cache
def _known_leverage_results() -> type:
    """statsmodels' ``OLSResults`` whose HC2 and HC3 covariances take the leverages the SVD
    of :func:`_fit_ols` already gave (the row sums of ``U`` squared, set on the instance
    before ``__init__`` computes the covariance) instead of forming ``diag(X (X'X)^-1 X')``
    again, an ``n x k x k`` product (0.18 s at a million rows, five covariates); statsmodels'
    own ``cov_HC2`` and ``cov_HC3`` formulas otherwise."""
    from statsmodels.regression.linear_model import OLSResults

    class KnownLeverageResults(OLSResults):  # type: ignore[misc]
        _kpitools_leverage: np.ndarray

        @functools.cached_property
        def cov_HC2(self):
            self.het_scale = self.wresid**2 / (1 - self._kpitools_leverage)
            return self._HCCM(self.het_scale)

        @functools.cached_property
        def cov_HC3(self):
            self.het_scale = (self.wresid / (1 - self._kpitools_leverage)) ** 2
            return self._HCCM(self.het_scale)

    return KnownLeverageResults


def _fit_ols(y: pd.Series, X: pd.DataFrame, cov_type: str, covariates: tuple[str, ...]):
    """:func:`fit_ols`, and the leverages (``diag(H)``, shape (n,)) when it computed them (HC2,
    HC3), else None: :func:`estimate_lift` reuses them for the Bell-McCaffrey degrees of
    freedom."""
    n, k = X.shape
    if n <= k:
        raise FitError(
            f"{n} customers for {k} regression parameters: too few rows for the covariates given"
        )
    # statsmodels (about 1.6 s to import) only when a lift is fitted, not in every kernel that
    # imports kpitools.roi
    from statsmodels.regression.linear_model import OLS, OLSResults, RegressionResultsWrapper

    model = OLS(y, X)
    wexog = np.asarray(model.wexog)
    u, s, vt = np.linalg.svd(wexog.conjugate(), full_matrices=False)
    tol = s.max(initial=0.0) * max(n, k) * np.finfo(float).eps
    if int(np.count_nonzero(s > tol)) < k:
        raise FitError(
            "the regressors are collinear (a covariate is a combination of the others or of "
            f"the treatment); covariates: {', '.join(covariates) or 'none'}"
        )
    leverage = None
    if cov_type in ("HC2", "HC3"):
        # HC2/HC3 divide by 1 - leverage: a row with leverage 1 gives a meaningless SE.
        leverage = np.einsum("ij,ij->i", u, u)
        worst = int(np.argmax(leverage))
        if leverage[worst] > 1.0 - 1e-8:
            raise FitError(
                f"the customer in row {X.index[worst]} (0-based position in the data) has leverage 1 (e.g. the only customer of a "
                f"covariate category or segment), so {cov_type} standard errors are undefined; "
                "use cov_type='HC1' or merge rare categories; covariates: "
                f"{', '.join(covariates) or 'none'}"
            )
    # OLS.fit(method="pinv") from this SVD: pinv_extended's cut-off (1e-15 of the largest
    # singular value) and products, then the same attributes and results object
    cutoff = 1e-15 * np.maximum.reduce(s)
    with np.errstate(divide="ignore"):
        s_inv = np.where(s > cutoff, 1.0 / s, 0.0)
    pinv = np.dot(np.transpose(vt), np.multiply(s_inv[:, np.newaxis], np.transpose(u)))
    model.pinv_wexog = pinv
    model.normalized_cov_params = np.dot(pinv, np.transpose(pinv))
    model.wexog_singular_values = s
    model.rank = np.linalg.matrix_rank(np.diag(s))
    model.df_model = float(model.rank - model.k_constant)
    model.df_resid = model.nobs - model.rank
    beta = np.dot(pinv, model.wendog)
    robust = cov_type != "nonrobust"
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        args = (model, beta)
        kwargs = dict(
            normalized_cov_params=model.normalized_cov_params,
            cov_type=cov_type,
            cov_kwds=None,
            use_t=True if robust else None,
        )
        if leverage is None:
            inner = OLSResults(*args, **kwargs)
        else:  # HC2/HC3: the covariance from the leverages at hand
            cls: Any = _known_leverage_results()
            inner = cls.__new__(cls)
            inner._kpitools_leverage = leverage  # read by cov_HC2 / cov_HC3 during __init__
            inner.__init__(*args, **kwargs)
            # computed: back to statsmodels' own class (pickled by the shared programme
            # analysis, read by any statsmodels code), without the leverages
            inner.__class__ = OLSResults
            del inner._kpitools_leverage
        res = RegressionResultsWrapper(inner)
    # Relative test for an exact fit (e.g. a constant outcome): the SE would be 0 or noise.
    if float(res.ssr) <= 1e-20 * max(1.0, float(np.sum(np.square(y.to_numpy())))):
        raise FitError(
            f"outcome '{y.name}' is fitted exactly (no residual variance, e.g. a constant "
            "outcome): the uncertainty of the lift cannot be estimated"
        )
    return res, leverage


def _binary(y: pd.Series) -> bool:
    return bool(y.isin([0.0, 1.0]).all())


def _extract(res, term: str, outcome: str) -> tuple[float, float]:
    effect = float(res.params[term])
    se = float(res.bse[term])
    if not math.isfinite(se):
        raise FitError(
            f"the standard error of the lift on '{outcome}' cannot be computed (a customer "
            "has leverage 1, e.g. a covariate category with a single customer); use "
            "cov_type='HC1' or merge rare categories"
        )
    if se <= 0.0:
        raise FitError(
            f"outcome '{outcome}' is fitted exactly (no residual variance): the uncertainty "
            "of the lift cannot be estimated"
        )
    return effect, se


def _t_interval(effect: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    """Student-t interval and two-sided p-value on ``df`` degrees of freedom."""
    q = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    p = float(2.0 * stats.t.sf(abs(effect / se), df))
    return effect - q * se, effect + q * se, p


def adjusted_outcome(y: pd.Series, X: pd.DataFrame, res, treatment: str) -> np.ndarray:
    """Outcome minus its fitted covariate part: ``y - sum_c X_c b_c`` over the columns other
    than the intercept and the treatment (for ``"lin"`` also the interactions).

    Its difference in means between the groups is the regression's treatment coefficient
    (the residuals average to 0 in each group), so the randomisation interval of the
    adjusted estimators is taken on it, the fitted slopes held fixed. Outcome units.
    """
    others = [c for c in X.columns if c not in ("Intercept", treatment)]
    a = y.to_numpy(dtype=float)
    if others:
        a = a - X[others].to_numpy(dtype=float) @ res.params[others].to_numpy(dtype=float)
    return a


# --------------------------------------------------------------------------------------
# Estimator
# --------------------------------------------------------------------------------------


def estimate_lift(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: str | Sequence[str] = (),
    method: str = "ols",
    cov_type: str = "HC2",
    alpha: float = 0.05,
    interval: str = "t",
    min_control_judge: int = 0,
    ri_draws: int = RI_DRAWS,
) -> LiftResult:
    """Estimate the average effect of a campaign on an outcome against its control group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer (targeted or held out).
    outcome : str
        Column with the outcome per customer over the measurement window: an amount (e.g.
        revenue or margin in EUR) or a 0/1 conversion flag.
    treatment : str
        Column with 1/True for customers targeted by the campaign and 0/False for the control
        group. Exactly these two values must be present.
    covariates : str or sequence of str, optional
        Pre-campaign columns used for adjustment, measured before the campaign so that the
        campaign cannot have changed them. ``"diff"`` takes none, ``"cuped"`` exactly one
        numeric column; for ``"ols"`` and ``"lin"`` non-numeric covariates are turned into
        0/1 dummies (first level dropped).
    method : {"diff", "ols", "lin", "cuped"}, default "ols"
        Estimator, see the module docstring.
    cov_type : {"HC0", "HC1", "HC2", "HC3", "nonrobust"}, default "HC2"
        Covariance of the OLS coefficients. ``"HC2"`` with ``"diff"`` gives the Neyman
        variance ``s1²/n1 + s0²/n0``.
    alpha : float, default 0.05
        One minus the confidence level of the interval (0.05 gives a 95 % interval).
    interval : {"t", "randomisation", "auto"}, default "t"
        How the interval and the p-value are computed (module docstring). ``"t"`` uses the
        Bell–McCaffrey degrees of freedom; the campaign analysis uses ``roi.interval``
        (default ``"auto"``: the randomisation interval for small control groups).
    min_control_judge : int, default 0
        Control customers below which no interval and no p-value are given (NaN,
        ``interval="none"``, ``controls_needed = min_control_judge``); 0: always given.
    ri_draws : int, default :data:`~kpitools.roi.inference.RI_DRAWS`
        Random control groups drawn for the randomisation interval (fixed seed: the same data
        give the same interval).

    Returns
    -------
    LiftResult
        Effect (outcome units per customer), standard error, interval, p-value, group sizes
        and means, and the fitted statsmodels results in ``model``.

    Raises
    ------
    CampaignError
        A column is missing (the message names it), the treatment column is not 0/1 or
        boolean, or a group has fewer than 2 customers with complete data.
    FitError
        The regression cannot be fitted or its standard error is not finite or zero
        (constant or collinear covariates, outcome without variance).
    RoiInputError
        Unknown ``method``, ``cov_type`` or ``interval``, ``alpha`` out of (0, 1), wrong
        number of covariates for the method, negative ``min_control_judge``.

    Notes
    -----
    For ``"cuped"`` the standard error is conditional on the estimated ``theta``.
    For ``"lin"`` the covariates are centred at their mean over both groups; the standard
    error treats that mean as fixed, as in Lin (2013).

    Examples
    --------
    >>> res = estimate_lift(df, outcome="revenue", treatment="targeted",
    ...                     covariates=["revenue_prev_12m"], method="lin")  # doctest: +SKIP
    >>> res.effect, res.ci_low, res.ci_high  # doctest: +SKIP
    """
    _check_args(method, cov_type, alpha, interval, min_control_judge)
    covs = as_names(covariates)
    if len(set(covs)) != len(covs):
        raise RoiInputError(f"covariates are repeated: {list(covs)}")
    if method == "diff" and covs:
        raise RoiInputError(
            "method 'diff' takes no covariates; use method='ols', 'lin' or 'cuped' to adjust "
            f"for {', '.join(covs)}"
        )
    if method == "cuped" and len(covs) != 1:
        raise RoiInputError(
            f"method 'cuped' needs exactly one pre-period covariate, got {len(covs)}"
        )

    frame, n_dropped = prepare_frame(data, outcome=outcome, treatment=treatment, covariates=covs)
    if method == "cuped" and _is_categorical(frame[covs[0]]):
        raise CampaignError(f"CUPED covariate '{covs[0]}' must be numeric")

    y = frame[outcome]
    t = frame[treatment]
    X = pd.DataFrame({"Intercept": 1.0, treatment: t}, index=frame.index)
    theta: float | None = None
    notes: list[str] = []
    lin_covariates: np.ndarray | None = None

    if method in ("ols", "lin"):
        Z = covariate_matrix(frame, covs)
        if method == "lin":
            Z = Z - Z.mean()
            lin_covariates = Z.to_numpy(dtype=float)
            inter = Z.mul(t, axis=0)
            inter.columns = [f"{treatment}:{c}" for c in Z.columns]
            Z = pd.concat([Z, inter], axis=1)
        X = pd.concat([X, Z], axis=1)
    elif method == "cuped":
        x = frame[covs[0]]
        var_x = float(x.var(ddof=1))
        if var_x <= 0.0:
            raise FitError(f"CUPED covariate '{covs[0]}' is constant in the data analysed")
        theta = float(((y - y.mean()) * (x - x.mean())).sum() / (len(x) - 1) / var_x)
        y = (y - theta * (x - x.mean())).rename(f"{outcome} (CUPED-adjusted)")
        notes.append("cuped_theta")

    res, leverage = _fit_ols(y, X, cov_type, covs)
    effect, se = _extract(res, treatment, outcome)
    n1 = int((t == 1.0).sum())
    n0 = len(t) - n1
    df: float | None = None
    needed: int | None = None
    if n0 < min_control_judge:
        kind, needed = "none", int(min_control_judge)
        lo = hi = p = math.nan
    elif interval == "randomisation" or (interval == "auto" and n0 <= RI_MAX_CONTROL):
        kind = "randomisation"
        # Lin: the groups' own slopes are re-fitted on every re-drawn split; otherwise the
        # adjusted outcome (fitted slopes held fixed)
        a = y.to_numpy(dtype=float) if method == "lin" else adjusted_outcome(y, X, res, treatment)
        ri_lo, ri_hi, ri_p = randomisation_interval(
            a,
            t.to_numpy() == 1.0,
            covariates=lin_covariates,
            alpha=float(alpha),
            draws=int(ri_draws),
        )
        lo, hi, p = float(ri_lo), float(ri_hi), float(ri_p)
    else:
        kind = "t"
        if cov_type == "nonrobust":
            df = float(res.df_resid)
        else:
            df = bell_mccaffrey_df(
                res.model.wexog,
                list(X.columns).index(treatment),
                pinv=res.model.pinv_wexog,
                leverage=leverage,
            )
        lo, hi, p = _t_interval(effect, se, df, float(alpha))

    y_raw = frame[outcome]
    is_bin = _binary(y_raw)
    mean1 = float(y_raw[t == 1.0].mean())
    mean0 = float(y_raw[t == 0.0].mean())
    if n_dropped:
        notes.append("rows_dropped")
    if mean0 == 0:
        notes.append("control_mean_zero")

    return LiftResult(
        method=method,
        effect=effect,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        n_treated=n1,
        n_control=n0,
        mean_treated=mean1,
        mean_control=mean0,
        cov_type=cov_type,
        alpha=float(alpha),
        is_binary=is_bin,
        n_dropped=n_dropped,
        model=res,
        outcome=outcome,
        treatment=treatment,
        covariates=covs,
        theta=theta,
        notes=tuple(notes),
        interval=kind,
        df=df,
        controls_needed=needed,
    )
