"""Fitting a CLV model with a fallback penalty, as the report does.

Each model is fitted by maximum likelihood first; if the optimiser does not converge, or a
parameter runs to its bound, it is refitted with the smallest L2 penalty of
:data:`PENALIZERS` that works (data with an almost constant dropout probability drive the
BG/NBD ``a`` and ``b`` to infinity; a tiny penalty keeps them finite with almost the same
predictions).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import pandas as pd

from kpitools.clv.base import (
    ClvFitWarning,
    ConvergenceError,
    FittedModel,
    ParameterAtBoundWarning,
)
from kpitools.clv.bgnbd import BetaGeoModel, fit_bgnbd
from kpitools.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma

__all__ = [
    "PENALIZERS",
    "fit_bgnbd_with_fallback",
    "fit_gamma_gamma_with_fallback",
    "fit_with_fallback",
]

#: L2 penalties tried in turn until a model converges with no parameter at its bound.
PENALIZERS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3)


def fit_with_fallback(
    fit: Callable[..., FittedModel],
    summary: pd.DataFrame,
    penalizers: Sequence[float],
    notes: list[str],
    what: str,
) -> tuple[FittedModel, float]:
    """Fit with each penalty in turn; keep the first that converges with no parameter at its
    bound (or the last that converges).

    Parameters
    ----------
    fit : callable
        ``fit(summary, penalizer=...)`` returning a fitted model (:func:`fit_bgnbd`, say).
    summary : pandas.DataFrame
        The RFM summary to fit on.
    penalizers : sequence of float
        L2 penalties to try, in order.
    notes : list of str
        Receives one line per penalty fallback and per :class:`ClvFitWarning` of the fit kept
        (for the analyst, in English).
    what : str
        Name of the model in the notes (``"BG/NBD"``).

    Returns
    -------
    (model, penalizer)

    Raises
    ------
    ConvergenceError
        When no penalty converges (the last one's error).
    kpitools.errors.FitError, ClvInputError
        Other errors at once (too few repeat buyers, invalid summary).
    """
    last_error: ConvergenceError | None = None
    fallback = None
    for pen in penalizers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClvFitWarning)
            try:
                model = fit(summary, penalizer=pen)
            except ConvergenceError as exc:
                last_error = exc
                continue
        fit_warnings = [w for w in caught if issubclass(w.category, ClvFitWarning)]
        messages = [str(w.message) for w in fit_warnings]
        at_bound = any(issubclass(w.category, ParameterAtBoundWarning) for w in fit_warnings)
        if at_bound:
            fallback = (model, pen, messages)
            continue
        if pen > 0:
            notes.append(
                f"{what}: maximum likelihood did not give a usable fit; refitted with an L2 "
                f"penalty of {pen:g}"
            )
        notes.extend(f"{what}: {m}" for m in messages)
        return model, pen
    if fallback is not None:
        model, pen, messages = fallback
        notes.extend(f"{what}: {m}" for m in messages)
        return model, pen
    assert last_error is not None
    raise last_error


def fit_bgnbd_with_fallback(
    summary: pd.DataFrame, penalizers: Sequence[float], notes: list[str], what: str = "BG/NBD"
) -> tuple[BetaGeoModel, float]:
    """:func:`fit_with_fallback` of :func:`kpitools.clv.fit_bgnbd`."""
    return fit_with_fallback(fit_bgnbd, summary, penalizers, notes, what)  # type: ignore[return-value]


def fit_gamma_gamma_with_fallback(
    summary: pd.DataFrame, penalizers: Sequence[float], notes: list[str]
) -> tuple[GammaGammaModel, float]:
    """:func:`fit_with_fallback` of :func:`kpitools.clv.fit_gamma_gamma`."""
    return fit_with_fallback(fit_gamma_gamma, summary, penalizers, notes, "Gamma-Gamma")  # type: ignore[return-value]
