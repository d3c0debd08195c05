"""The results of a CLV analysis: plain objects with the numbers, no HTML, no figures.

:class:`ClvReport` is what :func:`kpitools.clv.analyse_clv` returns; :class:`SimpleClv` its
closed-form comparison; :class:`ClvReason` the codes saying why something could not be
estimated. The report's text, tables and figures are in :mod:`kpitools.report.clv` and
:mod:`kpitools.plots.clv`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from kpitools.clv.base import FittedModel
from kpitools.clv.bgnbd import BetaGeoModel
from kpitools.clv.churn import ModelChurn
from kpitools.clv.gamma_gamma import GammaGammaModel
from kpitools.clv.summary import ClvInputError
from kpitools.numbers import finite_or_none
from kpitools.periods import Period
from kpitools.vocab import CalibrationQuality, FitStatus, ResultStatus

__all__ = [
    "CALIBRATION_TOLERANCE",
    "CalibrationQuality",
    "ClvReason",
    "ClvReport",
    "FitStatus",
    "SimpleClv",
    "model_dict",
]

#: Relative error of the holdout forecast (expected / actual - 1) within which the
#: calibration is called good (:attr:`ClvReport.calibration_quality`).
CALIBRATION_TOLERANCE = 0.10


class ClvReason(StrEnum):
    """Why a CLV figure could not be estimated (the report words it in its locale).

    For the models (:attr:`ClvReport.reason_code`): ``no_orders``, ``too_few_repeat_buyers``,
    ``no_revenue``, ``no_convergence``, ``error``. For the simple formula
    (:attr:`SimpleClv.reason_code`): ``no_data``, ``zero_churn``, ``error``. For the holdout
    check (:attr:`ClvReport.calibration_reason_code`): ``no_customers``,
    ``too_few_repeat_buyers``, ``no_convergence``, ``error``.
    """

    NO_ORDERS = "no_orders"
    TOO_FEW_REPEAT_BUYERS = "too_few_repeat_buyers"
    NO_REVENUE = "no_revenue"
    NO_CONVERGENCE = "no_convergence"
    ERROR = "error"
    NO_DATA = "no_data"
    ZERO_CHURN = "zero_churn"
    NO_CUSTOMERS = "no_customers"
    #: the orders carry no cost (``orders.cost`` absent or empty): customer value is an
    #: expected margin, so it is not available (``reason_details["column"]`` names it)
    NEEDS_COLUMN = "needs_column"


@dataclass
class SimpleClv:
    """The closed-form CLV from the scorecard's margin and churn KPIs (monthly equivalents).

    Attributes
    ----------
    status : ResultStatus
        ``ok`` or ``no_data``; when not ok, ``reason_code`` says why: ``no_data`` (no period
        of the trailing year with both KPIs), ``zero_churn`` (an infinite lifetime) or
        ``error`` (the KPIs could not be computed; ``error`` holds the exception's message).
    grain : str
        Grain of the KPIs used (the brand's report grain).
    periods : list of str
        Periods whose KPI values were averaged (the trailing year).
    avg_margin_per_period, churn_per_period : float
        Means over those periods of the margin per active customer (margin of the period's
        orders / customers active at its start, by the lapse rule) and of ``churn_rate`` (the
        lapse churn).
    avg_margin_per_month, churn_per_month : float
        Monthly equivalents (equal to the above for a monthly brand).
    expected_lifetime_months : float
        ``1 / churn_per_month``: expected months in the customer base (which keeps a lost
        customer until the lapse after their last order).
    clv : float
        :func:`kpitools.clv.simple_clv` over the horizon, discounted monthly.
    current_avg_margin, current_churn, current_lapsed : float
        The values of the report's period itself, for reference (margin per active customer,
        ``churn_rate``, ``lapsed_customers``).
    """

    status: ResultStatus = ResultStatus.NO_DATA
    reason_code: ClvReason | None = None
    error: str | None = None
    grain: str = "month"
    periods: list[str] = field(default_factory=list)
    avg_margin_per_period: float | None = None
    churn_per_period: float | None = None
    avg_margin_per_month: float | None = None
    churn_per_month: float | None = None
    expected_lifetime_months: float | None = None
    clv: float | None = None
    current_avg_margin: float | None = None
    current_churn: float | None = None
    current_lapsed: float | None = None

    def to_dict(self) -> dict:
        """The numbers for ``kpis.json`` (the English ``reason`` is added by the report's
        export, :func:`kpitools.report.clv.clv_document`)."""
        return {
            "status": self.status,
            "grain": self.grain,
            "periods": list(self.periods),
            "avg_margin_per_period": finite_or_none(self.avg_margin_per_period),
            "churn_per_period": finite_or_none(self.churn_per_period),
            "avg_margin_per_month": finite_or_none(self.avg_margin_per_month),
            "churn_per_month": finite_or_none(self.churn_per_month),
            "expected_lifetime_months": finite_or_none(self.expected_lifetime_months),
            "clv": finite_or_none(self.clv),
        }


@dataclass
class ClvReport:
    """Everything the CLV section of a report shows (see the module docstring).

    Attributes
    ----------
    status : FitStatus
        ``ok`` when the models were fitted; ``not_fitted`` otherwise, with ``reason_code``
        (:class:`ClvReason`: ``no_orders``, ``too_few_repeat_buyers``, ``no_revenue``,
        ``no_convergence`` or ``error``), ``reason_details`` (numbers for the message) and
        ``error`` (the message of the exception that stopped the fit, if one did).
    customers : pandas.DataFrame
        One row per customer (index ``customer_id``): ``frequency``, ``recency``, ``T``,
        ``monetary_value`` (the RFM summary, weeks), ``segment``, ``product_line``,
        ``margin_rate``, ``last_purchase`` and, when fitted, ``clv``, ``probability_alive``,
        ``expected_purchases``, ``expected_spend``.
    at_risk : pandas.DataFrame
        The short list: ``clv``, ``probability_alive``, ``last_purchase``, ``frequency``,
        ``value_if_retained``, by decreasing CLV.
    by_segment, by_product_line : pandas.DataFrame
        Per group: ``n_customers``, ``mean_clv``, ``median_clv``, ``total_clv``,
        ``share_of_clv``.
    calibration : pandas.DataFrame or None
        :func:`kpitools.clv.calibration_table` of the holdout check; ``calibration_status``
        is ``ok``, ``not_run`` or ``not_fitted`` (then ``calibration_reason_code``:
        ``no_customers``, ``too_few_repeat_buyers``, ``no_convergence`` or ``error``, and
        ``calibration_error``, the exception's message).
    margin_rate, margin_rates : float, dict
        ``(revenue - cost) / revenue`` of the last 12 months' orders, overall and per line.
    expected_margin_12m : float
        Expected margin of the next 12 months from all current customers, undiscounted (a
        budget figure, whatever the CLV horizon).
    new_customer_clv : float
        Discounted margin over the horizon of the repeat purchases of a newly acquired
        customer (first order excluded): BG/NBD ``E[X(t)]`` of a new customer times the
        Gamma-Gamma population mean spend times the overall margin rate; the most an
        acquisition may cost beyond the first order's own margin.
    """

    brand: str
    name: str
    locale: str
    currency: str
    period: Period
    observation_end: _dt.date
    horizon_months: int
    discount_rate_annual: float
    alive_threshold: float
    at_risk_top: int
    calibration_months: int
    time_unit: str = "W"
    status: FitStatus = FitStatus.NOT_FITTED
    reason_code: ClvReason | None = None
    reason_details: dict = field(default_factory=dict)
    error: str | None = None
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    margin_by: str = "product_line"
    margin_rate: float | None = None
    margin_rates: dict[str, float] = field(default_factory=dict)
    bgnbd: BetaGeoModel | None = None
    gamma_gamma: GammaGammaModel | None = None
    bgnbd_penalizer: float | None = None
    gamma_gamma_penalizer: float | None = None
    expected_margin_12m: float | None = None
    new_customer_clv: float | None = None
    at_risk: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_product_line: pd.DataFrame = field(default_factory=pd.DataFrame)
    simple: SimpleClv = field(default_factory=SimpleClv)
    model_churn: ModelChurn | None = None
    lapse_days: int = 365
    calibration: pd.DataFrame | None = None
    calibration_status: FitStatus = FitStatus.NOT_RUN
    calibration_reason_code: ClvReason | None = None
    calibration_error: str | None = None
    calibration_end: _dt.date | None = None
    calibration_penalizer: float | None = None
    fit_seconds: float = 0.0
    query_seconds: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    # -- headline numbers ------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == FitStatus.OK

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    @property
    def n_repeat_buyers(self) -> int:
        if "frequency" not in self.customers:
            return 0
        return int((self.customers["frequency"] > 0).sum())

    def _clv(self) -> pd.Series:
        if not self.ok:
            return pd.Series(dtype="float64")
        return self.customers["clv"]

    @property
    def mean_clv(self) -> float | None:
        return finite_or_none(self._clv().mean()) if self.ok else None

    @property
    def median_clv(self) -> float | None:
        return finite_or_none(self._clv().median()) if self.ok else None

    @property
    def total_clv(self) -> float | None:
        return finite_or_none(self._clv().sum()) if self.ok else None

    @property
    def mean_clv_active(self) -> float | None:
        """Mean CLV of the customers active at the end of the report's period by the lapse rule
        (last purchase in the ``lapse_days`` before it: the population of the simple formula
        and of the ``active_customers`` KPI)."""
        if not self.ok:
            return None
        since = pd.Timestamp(self.observation_end) - pd.Timedelta(days=self.lapse_days - 1)
        active = self.customers["last_purchase"] >= since
        return finite_or_none(self.customers.loc[active, "clv"].mean()) if active.any() else None

    @property
    def at_risk_all(self) -> pd.DataFrame:
        """Every customer below the alive threshold (not only the short list)."""
        if not self.ok:
            return self.customers.iloc[0:0]
        c = self.customers
        return c[c["probability_alive"] < self.alive_threshold]

    @property
    def calibration_totals(self) -> dict | None:
        """Holdout repeat purchases over all calibration customers: expected, actual and
        ``relative_error`` = expected / actual - 1."""
        t = self.calibration
        if t is None or t.empty:
            return None
        n = t["n_customers"]
        expected = float((n * t["expected"]).sum())
        actual = float((n * t["actual"]).sum())
        return {
            "customers": int(n.sum()),
            "expected": expected,
            "actual": actual,
            "relative_error": expected / actual - 1.0 if actual > 0 else None,
        }

    @property
    def calibration_quality(self) -> CalibrationQuality | None:
        """The holdout check's judgement: ``good`` when ``|relative_error|`` is at most
        :data:`CALIBRATION_TOLERANCE`, else ``over`` (forecast above what happened) or
        ``under``; None when the check did not run, failed, or had no holdout purchase."""
        if self.calibration_status != FitStatus.OK:
            return None
        totals = self.calibration_totals
        error = totals["relative_error"] if totals else None
        if error is None:
            return None
        if abs(error) <= CALIBRATION_TOLERANCE:
            return CalibrationQuality.GOOD
        return CalibrationQuality.OVER if error > 0 else CalibrationQuality.UNDER

    def by(self, dimension: str) -> pd.DataFrame:
        """``by_segment`` or ``by_product_line``."""
        if dimension == "segment":
            return self.by_segment
        if dimension == "product_line":
            return self.by_product_line
        raise ClvInputError(f"CLV breakdown by {dimension!r}: choose segment or product_line")

    def to_dict(self) -> dict:
        """Headline numbers for ``kpis.json`` (JSON-ready; non-finite numbers are ``None``).

        The English ``reason`` texts of ``kpis.json`` are added by the report's export
        (:func:`kpitools.report.clv.clv_document`) from the reason codes.
        """
        at_risk = self.at_risk_all
        value = at_risk["clv"] if self.ok else pd.Series(dtype="float64")
        retained = (
            at_risk["clv"] / at_risk["probability_alive"] if self.ok else pd.Series(dtype=float)
        )
        doc = {
            "status": self.status,
            "period": self.period.label,
            "observation_end": self.observation_end.isoformat(),
            "currency": self.currency,
            "time_unit": self.time_unit,
            "horizon_months": self.horizon_months,
            "discount_rate_annual": self.discount_rate_annual,
            "customers": self.n_customers,
            "repeat_buyers": self.n_repeat_buyers,
            "margin_by": self.margin_by,
            "margin_rate": finite_or_none(self.margin_rate),
            "margin_rates": {k: finite_or_none(v) for k, v in self.margin_rates.items()},
            "mean_clv": self.mean_clv,
            "median_clv": self.median_clv,
            "mean_clv_active": self.mean_clv_active,
            "total_clv": self.total_clv,
            "expected_margin_12m": finite_or_none(self.expected_margin_12m),
            "new_customer_clv": finite_or_none(self.new_customer_clv),
            "simple_clv": self.simple.to_dict(),
            "churn": {
                "lapse_days": self.lapse_days,
                "lapse_churn": finite_or_none(self.simple.current_churn),
                "model": self.model_churn.to_dict() if self.model_churn is not None else None,
            },
            "models": {
                "bgnbd": model_dict(self.bgnbd, self.bgnbd_penalizer),
                "gamma_gamma": model_dict(self.gamma_gamma, self.gamma_gamma_penalizer),
            },
            "at_risk": {
                "alive_threshold": self.alive_threshold,
                "count": int(len(at_risk)),
                "value": finite_or_none(value.sum()) if self.ok else None,
                "value_if_retained": finite_or_none(retained.sum()) if self.ok else None,
                "shortlist_count": int(len(self.at_risk)),
                "shortlist_value": finite_or_none(self.at_risk["clv"].sum()) if self.ok else None,
            },
            "calibration": {
                "status": self.calibration_status,
                "calibration_end": (
                    self.calibration_end.isoformat() if self.calibration_end else None
                ),
                "months": self.calibration_months,
                **{
                    k: v if k == "customers" else finite_or_none(v)
                    for k, v in (self.calibration_totals or {}).items()
                },
            },
            "fit_seconds": round(self.fit_seconds, 3),
            "seconds": round(self.seconds, 3),
        }
        return doc


def model_dict(model: FittedModel | None, penalizer: float | None) -> dict | None:
    """A fitted model for ``kpis.json``: parameters, derived means, standard errors,
    log-likelihood and the L2 penalty used; None when there is no fitted model."""
    if model is None or model.params_ is None:
        return None
    derived = {}
    params = model.params_
    if isinstance(model, BetaGeoModel):
        derived = {
            "mean_purchase_rate": finite_or_none(params["r"] / params["alpha"]),
            "mean_dropout_probability": finite_or_none(params["a"] / (params["a"] + params["b"])),
        }
    elif isinstance(model, GammaGammaModel):
        derived = {"mean_spend": finite_or_none(model.population_mean_spend)}
    return {
        "params": {k: finite_or_none(v) for k, v in params.items()},
        **derived,
        "standard_errors": {
            k: finite_or_none(v) for k, v in (model.standard_errors_ or {}).items()
        },
        "log_likelihood": finite_or_none(model.log_likelihood_),
        "penalizer": penalizer,
    }
