"""What the CLV models share: their warnings and errors, the fitted-model base, the optimiser.

* :class:`ClvFitWarning` (and :class:`ParameterAtBoundWarning`): a model was fitted but the fit
  deserves a look;
* :class:`TooFewRepeatBuyersError`, :class:`ConvergenceError`: the two ways a fit fails on
  data that cannot support it (both :class:`kpitools.errors.FitError`), so that callers tell
  them apart by type, never by reading the message;
* :class:`FittedModel`: ``params_``, the parameter tuple, the summary table and the repr;
* :func:`minimise` and :func:`standard_errors`: L-BFGS-B over log-parameters and delta-method
  standard errors, used by the BG/NBD and Gamma-Gamma fits;
* :func:`broadcast_like`: a prediction as a float, an array or a Series like its inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from kpitools.errors import FitError

__all__ = [
    "MIN_REPEAT_BUYERS",
    "PARAM_BOUNDS",
    "ClvFitWarning",
    "ConvergenceError",
    "FittedModel",
    "ParameterAtBoundWarning",
    "TooFewRepeatBuyersError",
    "broadcast_like",
    "minimise",
    "standard_errors",
]

#: Bounds of the parameters during optimisation (time or spend scaled so that the mean is 1).
PARAM_BOUNDS = (1e-5, 1e5)
#: Fewest customers with ``frequency > 0`` a fit accepts by default.
MIN_REPEAT_BUYERS = 20


class ClvFitWarning(UserWarning):
    """A CLV model was fitted but something about the fit or the data deserves a look."""


class ParameterAtBoundWarning(ClvFitWarning):
    """A parameter reached its optimisation bound: the data do not identify it (the
    predictions are usable, the parameter value is not)."""


class TooFewRepeatBuyersError(FitError):
    """Fewer customers with a repeat purchase than the model needs.

    Attributes
    ----------
    model : str
        ``"BG/NBD"`` or ``"Gamma-Gamma"``.
    n_customers, n_repeat_buyers, minimum : int
        Customers given, those with ``frequency > 0``, and the fewest the fit accepts.
    """

    def __init__(
        self, message: str, *, model: str, n_customers: int, n_repeat_buyers: int, minimum: int
    ):
        super().__init__(message)
        self.model = model
        self.n_customers = int(n_customers)
        self.n_repeat_buyers = int(n_repeat_buyers)
        self.minimum = int(minimum)


class ConvergenceError(FitError):
    """The optimiser did not converge (another penalty or other initial values may)."""


class FittedModel:
    """What the CLV models share once fitted: ``params_`` (None before ``fit``), the parameter
    tuple, a summary table and a short repr. Subclasses set ``PARAMS`` and ``MODEL``."""

    PARAMS: tuple[str, ...] = ()
    MODEL = "model"
    params_: dict | None = None
    standard_errors_: dict | None = None
    log_likelihood_: float | None = None

    def _params(self) -> tuple[float, ...]:
        if self.params_ is None:
            raise FitError(f"the {self.MODEL} model is not fitted; call fit() first")
        return tuple(self.params_[k] for k in self.PARAMS)

    def summary(self) -> pd.DataFrame:
        """Parameters and standard errors as a small table (one row per parameter)."""
        self._params()
        se = self.standard_errors_ or {}
        return pd.DataFrame(
            {
                "estimate": list(self._params()),
                "standard_error": [se.get(k, np.nan) for k in self.PARAMS],
            },
            index=pd.Index(self.PARAMS, name="parameter"),
        )

    def __repr__(self) -> str:
        if self.params_ is None:
            return f"{type(self).__name__}(unfitted)"
        body = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({body})"


def broadcast_like(result: np.ndarray, *inputs, name: str | None = None):
    """Return ``result`` as a float, an array, or a Series carrying an input's index."""
    for value in inputs:
        if isinstance(value, pd.Series) and np.shape(result) == (len(value),):
            return pd.Series(result, index=value.index, name=name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def minimise(objective, theta0, args, bounds):
    """L-BFGS-B with one restart; returns the result and whether it converged.

    ``objective(theta, *args)`` returns ``(value, gradient)``; ``bounds`` are per-parameter
    ``(low, high)`` pairs of ``theta`` (log-parameters).
    """
    options = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20}
    res = optimize.minimize(
        objective, theta0, args=args, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    if not res.success and np.all(np.isfinite(res.x)):
        res2 = optimize.minimize(
            objective, res.x, args=args, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        res2.nit = res.nit + res2.nit
        res = res2
    _, grad = objective(res.x, *args)
    lo, hi = np.array(bounds).T
    projected = np.where(
        ((res.x <= lo + 1e-10) & (grad > 0)) | ((res.x >= hi - 1e-10) & (grad < 0)), 0.0, grad
    )
    # L-BFGS-B sometimes stops on a line-search failure at the optimum, where the gradient
    # is zero to rounding; accept that, not a real failure.
    converged = bool(np.isfinite(res.fun) and (res.success or np.max(np.abs(projected)) < 1e-6))
    return res, converged


def standard_errors(objective, theta, args, n_weight, params) -> np.ndarray:
    """Delta-method standard errors from the observed information in log-parameters."""
    k = theta.size
    h = 1e-5
    hess = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        hess[:, j] = (objective(theta + step, *args)[1] - objective(theta - step, *args)[1]) / (
            2 * h
        )
    hess = 0.5 * (hess + hess.T) * n_weight
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(cov)
    with np.errstate(invalid="ignore"):
        return np.where(var > 0, params * np.sqrt(np.abs(var)), np.nan)
