"""Customer lifetime value of a brand for a report: one call from the database to the numbers.

:func:`analyse_clv` answers the question of seed 001, *how much can we invest to keep and to
acquire customers*, for one brand (or product line) and period:

1. **RFM summary in the database.** :func:`kpitools.clv.rfm_summary_expr` over the brand's
   orders (``db.table("orders")``: brand and product lines filtered by the database) up to the
   last day of the period; only one row per customer comes back to Python, already joined with
   the customer's segment, product line and margin rate.
2. **Models.** BG/NBD (purchases, probability alive) and Gamma-Gamma (spend per purchase), in
   weeks. Each is fitted by maximum likelihood first; if the optimiser does not converge, or a
   parameter runs to its bound, it is refitted with the smallest L2 penalty of
   :data:`PENALIZERS` that works (data with an almost constant dropout probability drive the
   BG/NBD ``a`` and ``b`` to infinity; a tiny penalty keeps them finite with almost the same
   predictions). The penalty used is reported. When a model cannot be fitted at all (too few
   repeat buyers, no orders) the report carries the reason instead of raising.
3. **CLV per customer.** :func:`kpitools.clv.customer_lifetime_value`: expected margin over
   ``params.clv.horizon_months`` months, discounted at ``params.clv.discount_rate_annual``.
   Margin rate, ``(revenue - cost) / revenue`` of the orders of the 12 months up to the end of
   the period: with ``margin_by="brand"`` one rate for every customer (the brand, or the
   product lines of a product-line params file); with ``margin_by="product_line"`` (default)
   each customer gets the rates of the product lines weighted by *their own* revenue mix, so
   that a line with a thin margin does not inflate the value of its buyers.
4. **Simple formula beside it.** :func:`kpitools.clv.simple_clv` on the customer base of the
   scorecard (the lapse rule, ``settings.lapse_days``): the lapse churn ``churn_rate`` and the
   margin per *active* customer (margin of the period's orders / customers active at the
   period's start, :func:`kpitools.clv.queries.margin_per_active_customer`), each averaged over
   the trailing year of periods (12 months, 4 quarters or 1 year, to even out seasonality).
   For a quarterly or yearly brand they are converted to monthly equivalents: margin per
   month ``m / k`` and churn per month ``1 - (1 - c)**(1/k)`` (``k`` = 3 or 12 months per
   period). Expected time in the base is ``1 / churn`` months; the CLV is truncated at the
   same horizon and discounted monthly at the same annual rate. Both figures are per member of
   the base, which keeps a lost customer for the lapse after their last order: the longer
   time in the base and the lower margin per member offset (in a steady state margin per
   member / churn = margin per month / customers lost per month, the margin of a customer's
   whole life).
   **Model-based churn.** :func:`kpitools.clv.churn.compute_model_churn`: customers the fitted
   BG/NBD model expects to have been lost in the period, as a count and a rate, shown beside
   the lapse churn.
5. **Breakdowns.** CLV by segment (the customer's segment in the report's period from
   :meth:`kpitools.kpis.compute.QueryContext.customer_periods`: new, reactivated, steady,
   returning, and ``inactive`` for customers who did not buy in the period) and by product
   line (the line the customer was acquired on, from ``customers``; the customer's main line
   by revenue when ``customers`` lacks them or the table is absent).
6. **At-risk list.** :func:`kpitools.clv.at_risk_customers`: the ``params.clv.at_risk_top``
   customers of highest CLV whose probability of being alive is below
   ``params.clv.alive_threshold``, with their last purchase day and ``value_if_retained``
   (``clv / probability_alive``: their value if the retention team keeps them).
7. **Calibration check.** The purchase model refitted on the orders up to
   ``params.clv.calibration_months`` months before the end of the period, predicting the
   repeat purchases of the remaining months (:func:`kpitools.clv.calibration_table`).

Modules: the result classes are in :mod:`kpitools.clv.results`, the fits with a fallback
penalty in :mod:`kpitools.clv.fitting`, the database queries in :mod:`kpitools.clv.queries`;
the report's text, tables and figures in :mod:`kpitools.report.clv` and
:mod:`kpitools.plots.clv`.

Times: ``fit_seconds`` is the wall time of the two model fits of step 2; ``query_seconds`` of
the database queries; ``seconds`` of the whole analysis.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpitools.clv.base import (
    MIN_REPEAT_BUYERS,
    ConvergenceError,
    TooFewRepeatBuyersError,
)
from kpitools.clv.churn import compute_model_churn
from kpitools.clv.fitting import (
    PENALIZERS,
    fit_bgnbd_with_fallback,
    fit_gamma_gamma_with_fallback,
)
from kpitools.clv.queries import (
    MARGIN_MONTHS,
    customer_frame,
    margin_per_active_customer,
    margin_rates,
)
from kpitools.clv.results import ClvReason, ClvReport, SimpleClv
from kpitools.clv.summary import ClvInputError, calibration_holdout_expr, unit_days
from kpitools.clv.value import (
    at_risk_customers,
    calibration_table,
    customer_lifetime_value,
    simple_clv,
)
from kpitools.data.sources import Database
from kpitools.errors import FitError, MissingTableError
from kpitools.kpis.columns import ANALYSIS_COLUMNS, empty_columns
from kpitools.kpis.compute import compute_kpis, resolve_period
from kpitools.params import BrandParams
from kpitools.periods import MONTHS_PER, Period, add_months
from kpitools.vocab import FitStatus, ResultStatus, Segment

__all__ = [
    "PENALIZERS",
    "SEGMENTS",
    "ClvReason",
    "ClvReport",
    "SimpleClv",
    "analyse_clv",
]

#: Segment order in tables and figures (``inactive``: no order in the report's period).
SEGMENTS: tuple[Segment, ...] = tuple(Segment)


# --------------------------------------------------------------------------------------
# pieces of the report
# --------------------------------------------------------------------------------------


def _simple(
    db: Database,
    params: BrandParams,
    period: Period,
    horizon_months: int,
    discount_rate_annual: float,
) -> SimpleClv:
    k = MONTHS_PER[period.grain]
    out = SimpleClv(grain=period.grain)
    sc = compute_kpis(db, params, period, kpis=["churn_rate", "lapsed_customers"])
    churn = sc["churn_rate"]
    out.current_lapsed = sc["lapsed_customers"].value
    margin = margin_per_active_customer(db, params, period)
    current = margin.get(pd.Timestamp(period.start))
    out.current_avg_margin = None if current is None else float(current)
    out.current_churn = churn.value
    n = max(12 // k, 1)
    pairs = [
        (p.label, margin.get(pd.Timestamp(p.start)), c)
        for p, c in churn.trend[-n:]
        if c is not None and margin.get(pd.Timestamp(p.start)) is not None
    ]
    if not pairs:
        out.reason_code = ClvReason.NO_DATA
        return out
    out.periods = [p for p, _, _ in pairs]
    out.avg_margin_per_period = float(np.mean([m for _, m, _ in pairs]))
    out.churn_per_period = float(np.mean([c for _, _, c in pairs]))
    out.avg_margin_per_month = out.avg_margin_per_period / k
    out.churn_per_month = 1.0 - (1.0 - out.churn_per_period) ** (1.0 / k)
    if not out.churn_per_month > 0:
        out.reason_code = ClvReason.ZERO_CHURN
        return out
    out.expected_lifetime_months = 1.0 / out.churn_per_month
    monthly_discount = (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0
    out.clv = simple_clv(
        out.avg_margin_per_month,
        out.churn_per_month,
        discount_rate_per_period=monthly_discount,
        horizon_periods=horizon_months,
    )
    out.status = ResultStatus.OK
    return out


def _group_table(customers: pd.DataFrame, column: str, order=None) -> pd.DataFrame:
    """Customers, mean, median and total CLV, and share of CLV per value of ``column``."""
    g = customers.groupby(column, sort=True)["clv"]
    table = pd.DataFrame(
        {
            "n_customers": g.size(),
            "mean_clv": g.mean(),
            "median_clv": g.median(),
            "total_clv": g.sum(),
        }
    )
    total = table["total_clv"].sum()
    table["share_of_clv"] = table["total_clv"] / total if total > 0 else np.nan
    if order is not None:
        keys = [k for k in order if k in table.index] + [k for k in table.index if k not in order]
        table = table.loc[keys]
    table.index.name = column
    return table


def _new_customer_clv(bg, gg, margin_rate, horizon_months, discount_rate_annual, time_unit):
    """Discounted margin of the repeat purchases of a newly acquired customer (first order
    excluded): population mean spend x E[X(t)] month by month (FHL 2005, eq. 9)."""
    spend = gg.population_mean_spend
    if not math.isfinite(spend) or margin_rate is None:
        return None
    month = unit_days("M") / unit_days(time_unit)
    total, previous = 0.0, 0.0
    for k in range(1, horizon_months + 1):
        cumulative = float(bg.expected_purchases_new_customer(k * month))
        total += (cumulative - previous) / (1.0 + discount_rate_annual) ** (k / 12.0)
        previous = cumulative
    return margin_rate * spend * total


def _calibration(report: ClvReport, orders, period, penalizers, time_unit) -> None:
    cal_end = add_months(period.end, -report.calibration_months) - _dt.timedelta(days=1)
    report.calibration_end = cal_end
    try:
        frame = (
            calibration_holdout_expr(
                orders,
                calibration_end=cal_end,
                observation_end=report.observation_end,
                time_unit=time_unit,
            )
            .execute()
            .set_index("customer_id")
        )
        frame.attrs["time_unit"] = time_unit
        if frame.empty:
            report.calibration_status = FitStatus.NOT_FITTED
            report.calibration_reason_code = ClvReason.NO_CUSTOMERS
            return
        model, pen = fit_bgnbd_with_fallback(
            frame, penalizers, report.notes, what="BG/NBD (calibration)"
        )
    except (FitError, ClvInputError) as exc:
        report.calibration_status = FitStatus.NOT_FITTED
        report.calibration_error = str(exc)
        if isinstance(exc, TooFewRepeatBuyersError):
            report.calibration_reason_code = ClvReason.TOO_FEW_REPEAT_BUYERS
        elif isinstance(exc, ConvergenceError):
            report.calibration_reason_code = ClvReason.NO_CONVERGENCE
        else:
            report.calibration_reason_code = ClvReason.ERROR
        return
    report.calibration_penalizer = pen
    report.calibration = calibration_table(model, frame)
    report.calibration_status = FitStatus.OK


def _reason_code(exc: Exception, report: ClvReport) -> ClvReason:
    """Why the models could not be fitted, from the exception and the customer counts."""
    if isinstance(exc, MissingTableError) or report.n_customers == 0:
        return ClvReason.NO_ORDERS
    if report.n_repeat_buyers < MIN_REPEAT_BUYERS:
        return ClvReason.TOO_FEW_REPEAT_BUYERS
    if isinstance(exc, ConvergenceError):
        return ClvReason.NO_CONVERGENCE
    return ClvReason.ERROR


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------


def analyse_clv(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    margin_by: str = "product_line",
    time_unit: str = "W",
    penalizers: Sequence[float] = PENALIZERS,
    calibration: bool = True,
) -> ClvReport:
    """Customer lifetime value of a brand for a report (see the module docstring).

    Parameters
    ----------
    db : Database
        The brand's data (:func:`kpitools.data.sources.connect`): ``orders`` (customer id,
        ``ordered_at``, ``product_line``, ``revenue``, ``cost``, currency units); ``customers``
        (``product_line`` of acquisition) when present.
    params : BrandParams
        Brand, locale, currency, grain, and the CLV settings ``params.clv``.
    period : Period or str, optional
        The report's period; default ``params.period.current``, else the latest complete
        period in the data (as for :func:`kpitools.kpis.compute.compute_kpis`). Orders up to
        its last day are used.
    margin_by : {"product_line", "brand"}
        How margin rates are applied: each customer's revenue mix of the lines' rates, or one
        rate for all.
    time_unit : {"D", "W", "M"}, default "W"
        Time unit of the RFM summary and of the models.
    penalizers : sequence of float
        L2 penalties tried in turn (see :data:`PENALIZERS`).
    calibration : bool, default True
        Run the holdout check.

    Returns
    -------
    ClvReport
        ``status == "ok"`` with every number, or ``"not_fitted"`` with the reason (too few
        repeat buyers, no orders, ...): the function does not raise for data that cannot
        support the models.

    Raises
    ------
    ContractError, DataSourceError, PeriodError
        For broken data sources or periods, like :func:`compute_kpis`.
    """
    if margin_by not in ("product_line", "brand"):
        raise ClvInputError(f"margin_by must be 'product_line' or 'brand', got {margin_by!r}")
    t_start = time.perf_counter()
    period = resolve_period(db, params, period)
    settings = params.clv
    obs_end = period.end - _dt.timedelta(days=1)
    report = ClvReport(
        brand=params.brand,
        name=params.display_name,
        locale=params.locale,
        currency=params.currency,
        period=period,
        observation_end=obs_end,
        horizon_months=int(settings.horizon_months),
        discount_rate_annual=float(settings.discount_rate_annual),
        alive_threshold=float(settings.alive_threshold),
        at_risk_top=int(settings.at_risk_top),
        calibration_months=int(settings.calibration_months),
        time_unit=time_unit,
        margin_by=margin_by,
        lapse_days=int(params.settings.lapse_days),
    )
    stop: ClvReason | None = None
    if db.has("orders") and (empty := empty_columns(db, ANALYSIS_COLUMNS["customer_value"])):
        # customer value is an expected margin: without the orders' cost it is not available
        # (never a margin rate of 0 and a CLV of 0.00 for every customer)
        report.reason_details = {"column": ", ".join(empty)}
        report.error = f"column {', '.join(empty)} is empty or absent"
        report.status = FitStatus.NOT_FITTED
        report.reason_code = ClvReason.NEEDS_COLUMN
        report.simple = SimpleClv(
            grain=period.grain, reason_code=ClvReason.NEEDS_COLUMN, error=report.error
        )
        report.seconds = time.perf_counter() - t_start
        return report
    try:
        if not db.has("orders"):
            raise MissingTableError("orders", "customer lifetime value")
        orders = db.table("orders")
        t_query = time.perf_counter()
        start = _dt.datetime.combine(add_months(period.end, -MARGIN_MONTHS), _dt.time())
        end = period.end_ts()
        brand_rate, rates = margin_rates(orders, start, end)
        if brand_rate is None:  # nothing sold in the last year: fall back on all history
            brand_rate, rates = margin_rates(orders, _dt.datetime(1, 1, 1), end)
        report.margin_rate = brand_rate
        report.margin_rates = rates
        customers = customer_frame(
            db,
            params,
            period,
            orders,
            obs_end,
            rates=rates if margin_by == "product_line" else {},
            brand_rate=brand_rate if brand_rate is not None else 0.0,
            time_unit=time_unit,
        )
        report.query_seconds = time.perf_counter() - t_query
        report.customers = customers
        n_rep = int((customers["frequency"] > 0).sum())
        report.reason_details = {
            "customers": len(customers),
            "repeat_buyers": n_rep,
            "min_repeat_buyers": MIN_REPEAT_BUYERS,
        }
        if customers.empty:
            stop = ClvReason.NO_ORDERS
        elif brand_rate is None:
            stop = ClvReason.NO_REVENUE
    except (FitError, ClvInputError, MissingTableError) as exc:
        report.error = str(exc)
        return _not_fitted(report, _reason_code(exc, report), t_start, db, params, period)
    if stop is not None:
        return _not_fitted(report, stop, t_start, db, params, period)
    try:
        fit_frame = customers[["frequency", "recency", "T", "monetary_value"]].copy()
        fit_frame.attrs["time_unit"] = time_unit
        # Gamma-Gamma needs a positive mean spend: repeat buyers whose repeat orders net to
        # zero or less (returns) are left out of the spend fit and valued at a spend of 0.
        spend_frame = fit_frame[
            ~((fit_frame["frequency"] > 0) & (fit_frame["monetary_value"] <= 0))
        ]
        if len(spend_frame) < len(fit_frame):
            report.notes.append(
                f"Gamma-Gamma: {len(fit_frame) - len(spend_frame)} repeat buyer(s) with a "
                "non-positive mean spend left out of the spend fit"
            )
        t_fit = time.perf_counter()
        bg, report.bgnbd_penalizer = fit_bgnbd_with_fallback(fit_frame, penalizers, report.notes)
        gg, report.gamma_gamma_penalizer = fit_gamma_gamma_with_fallback(
            spend_frame, penalizers, report.notes
        )
        report.fit_seconds = time.perf_counter() - t_fit
        report.bgnbd, report.gamma_gamma = bg, gg
    except (FitError, ClvInputError, MissingTableError) as exc:
        report.error = str(exc)
        return _not_fitted(report, _reason_code(exc, report), t_start, db, params, period)

    # -- values ---------------------------------------------------------------------------
    value_frame = fit_frame.copy()
    value_frame["monetary_value"] = value_frame["monetary_value"].clip(lower=0.0)
    kwargs: dict[str, Any] = {"time_unit": time_unit, "margin_rate": 1.0}
    revenue_value = customer_lifetime_value(
        bg,
        gg,
        value_frame,
        horizon_months=report.horizon_months,
        discount_rate_annual=report.discount_rate_annual,
        **kwargs,
    )
    next_year = customer_lifetime_value(
        bg, gg, value_frame, horizon_months=12, discount_rate_annual=0.0, **kwargs
    )
    if margin_by == "product_line":
        rate = customers["mix_margin_rate"].fillna(report.margin_rate)
    else:
        rate = pd.Series(report.margin_rate, index=customers.index)
    rate = rate.clip(0.0, 1.0)
    customers["margin_rate"] = rate
    customers["clv"] = revenue_value["clv"] * rate
    for col in ("probability_alive", "expected_purchases", "expected_spend"):
        customers[col] = revenue_value[col]
    customers = customers.drop(columns="mix_margin_rate")
    report.customers = customers
    report.expected_margin_12m = float((next_year["clv"] * rate).sum())
    report.new_customer_clv = _new_customer_clv(
        bg,
        gg,
        report.margin_rate,
        report.horizon_months,
        report.discount_rate_annual,
        time_unit,
    )
    report.status = FitStatus.OK

    short = at_risk_customers(
        customers, top=report.at_risk_top, alive_threshold=report.alive_threshold
    )
    report.at_risk = short[["clv", "probability_alive", "last_purchase", "frequency"]].assign(
        value_if_retained=short["clv"] / short["probability_alive"]
    )
    report.by_segment = _group_table(customers, "segment", SEGMENTS)
    report.by_product_line = _group_table(customers, "product_line")
    _safe_simple(report, db, params, period)
    try:
        report.model_churn = compute_model_churn(bg, orders, period, time_unit=time_unit)
    except (FitError, ClvInputError, ValueError) as exc:
        report.notes.append(f"model-based churn: {exc}")
    if calibration:
        _calibration(report, orders, period, penalizers, time_unit)
    report.seconds = time.perf_counter() - t_start
    return report


def _not_fitted(
    report: ClvReport, code: ClvReason, t_start: float, db, params, period
) -> ClvReport:
    report.status = FitStatus.NOT_FITTED
    report.reason_code = code
    report.seconds = time.perf_counter() - t_start
    _safe_simple(report, db, params, period)
    return report


def _safe_simple(report: ClvReport, db, params, period) -> None:
    try:
        report.simple = _simple(
            db, params, period, report.horizon_months, report.discount_rate_annual
        )
    except (ClvInputError, MissingTableError) as exc:
        report.simple = SimpleClv(grain=period.grain, reason_code=ClvReason.ERROR, error=str(exc))
