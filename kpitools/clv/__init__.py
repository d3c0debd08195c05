"""Customer lifetime value: RFM summaries, BG/NBD and Gamma-Gamma models, CLV.

Typical use (weekly time unit)::

    from kpitools.clv import (
        rfm_summary, fit_bgnbd, fit_gamma_gamma, customer_lifetime_value, at_risk_customers,
    )

    summary = rfm_summary(orders, observation_end="2024-12-31", time_unit="W")
    purchases = fit_bgnbd(summary)
    spend = fit_gamma_gamma(summary)
    clv = customer_lifetime_value(purchases, spend, summary, margin_rate=0.35)
    shortlist = at_risk_customers(clv, top=20)

Use :func:`calibration_holdout_split` and :func:`calibration_table` to check the purchase model
on a holdout period before trusting it.

For a report, :func:`analyse_clv` does all of it for a brand and period, from the database
(:mod:`kpitools.clv.analysis`), and returns a :class:`ClvReport` of plain numbers; its text
and tables are in :mod:`kpitools.report.clv`, its figures in :mod:`kpitools.plots.clv`.

Modules: ``summary`` (RFM summaries), ``base`` (what the models share), ``bgnbd`` and
``gamma_gamma`` (the models), ``value`` (CLV from the models), ``fitting`` (fits with a
fallback penalty), ``queries`` (the database side of the analysis), ``results`` (the result
classes) and ``analysis`` (:func:`analyse_clv`).
"""

from kpitools.clv.analysis import analyse_clv
from kpitools.clv.base import (
    ClvFitWarning,
    ConvergenceError,
    ParameterAtBoundWarning,
    TooFewRepeatBuyersError,
)
from kpitools.clv.bgnbd import (
    BetaGeoModel,
    bgnbd_log_likelihood,
    fit_bgnbd,
    simulate_bgnbd,
)
from kpitools.clv.fitting import PENALIZERS
from kpitools.clv.gamma_gamma import (
    GammaGammaModel,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    simulate_gamma_gamma,
)
from kpitools.clv.results import (
    CALIBRATION_TOLERANCE,
    CalibrationQuality,
    ClvReason,
    ClvReport,
    FitStatus,
    SimpleClv,
)
from kpitools.clv.summary import (
    TIME_UNIT_DAYS,
    ClvInputError,
    calibration_holdout_expr,
    calibration_holdout_split,
    rfm_summary,
    rfm_summary_expr,
    unit_days,
)
from kpitools.clv.value import (
    at_risk_customers,
    calibration_table,
    customer_lifetime_value,
    simple_clv,
)

__all__ = [
    "CALIBRATION_TOLERANCE",
    "PENALIZERS",
    "TIME_UNIT_DAYS",
    "BetaGeoModel",
    "CalibrationQuality",
    "ClvFitWarning",
    "ClvInputError",
    "ClvReason",
    "ClvReport",
    "ConvergenceError",
    "FitStatus",
    "GammaGammaModel",
    "ParameterAtBoundWarning",
    "SimpleClv",
    "TooFewRepeatBuyersError",
    "analyse_clv",
    "at_risk_customers",
    "bgnbd_log_likelihood",
    "calibration_holdout_expr",
    "calibration_holdout_split",
    "calibration_table",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "rfm_summary",
    "rfm_summary_expr",
    "simple_clv",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "unit_days",
]
