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
4. **Simple formula beside it.** :func:`kpitools.clv.simple_clv` with the scorecard's own KPIs
   (:func:`kpitools.kpis.compute.compute_kpis`): ``avg_margin_per_customer`` and
   ``churn_rate``, each averaged over the trailing year of periods (12 months, 4 quarters or
   1 year, to even out seasonality). For a quarterly or yearly brand they are converted to
   monthly equivalents: margin per month ``m / k`` and churn per month ``1 - (1 - c)**(1/k)``
   (``k`` = 3 or 12 months per period: a constant monthly hazard giving the same churn over
   the period). Expected lifetime is ``1 / churn`` months; the CLV is truncated at the same
   horizon and discounted monthly at the same annual rate. Note that the churn KPI counts a
   customer who merely skips a period as lost, so where customers do not buy every period
   the simple formula *understates* the lifetime; the model does not.
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

Times: ``fit_seconds`` is the wall time of the two model fits of step 2; ``query_seconds`` of
the database queries; ``seconds`` of the whole analysis.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpitools.clv.bgnbd import MIN_REPEAT_BUYERS, BetaGeoModel, ClvFitWarning, fit_bgnbd
from kpitools.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from kpitools.clv.summary import (
    ClvInputError,
    calibration_holdout_expr,
    rfm_summary_expr,
    unit_days,
)
from kpitools.clv.value import (
    at_risk_customers,
    calibration_table,
    customer_lifetime_value,
    simple_clv,
)
from kpitools.errors import FitError, MissingTableError
from kpitools.periods import add_months

__all__ = [
    "PENALIZERS",
    "SEGMENTS",
    "ClvReport",
    "SimpleClv",
    "analyse_clv",
]

#: L2 penalties tried in turn until a model converges with no parameter at its bound.
PENALIZERS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3)
#: Segment order in tables and figures (``inactive``: no order in the report's period).
SEGMENTS = ("new", "reactivated", "steady", "returning", "inactive")
UNKNOWN = "(unknown)"
#: Months of orders used for the margin rates.
MARGIN_MONTHS = 12


@dataclass
class SimpleClv:
    """The closed-form CLV from the scorecard's margin and churn KPIs (monthly equivalents).

    Attributes
    ----------
    status : str
        ``ok`` or ``no_data``; ``reason`` says why when not ok, ``reason_code`` is
        ``no_data`` (no period of the trailing year with both KPIs), ``zero_churn`` or
        ``error``.
    grain : str
        Grain of the KPIs used (the brand's report grain).
    periods : list of str
        Periods whose KPI values were averaged (the trailing year).
    avg_margin_per_period, churn_per_period : float
        Means of ``avg_margin_per_customer`` and ``churn_rate`` over those periods.
    avg_margin_per_month, churn_per_month : float
        Monthly equivalents (equal to the above for a monthly brand).
    expected_lifetime_months : float
        ``1 / churn_per_month``.
    clv : float
        :func:`kpitools.clv.simple_clv` over the horizon, discounted monthly.
    current_avg_margin, current_churn : float
        The KPI values of the report's period itself, for reference.
    """

    status: str = "no_data"
    reason: str | None = None
    reason_code: str | None = None
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

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "reason": self.reason,
            "grain": self.grain,
            "periods": list(self.periods),
            "avg_margin_per_period": _num(self.avg_margin_per_period),
            "churn_per_period": _num(self.churn_per_period),
            "avg_margin_per_month": _num(self.avg_margin_per_month),
            "churn_per_month": _num(self.churn_per_month),
            "expected_lifetime_months": _num(self.expected_lifetime_months),
            "clv": _num(self.clv),
        }


@dataclass
class ClvReport:
    """Everything the CLV section of a report shows (see the module docstring).

    Attributes
    ----------
    status : str
        ``ok`` when the models were fitted; ``not_fitted`` otherwise, with ``reason`` (English
        text) and ``reason_code`` (``no_orders``, ``too_few_repeat_buyers``, ``no_revenue``,
        ``no_convergence`` or ``error``) and ``reason_details`` (numbers for the message).
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
        :func:`kpitools.clv.calibration_table` of the holdout check.
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
    period: object
    observation_end: _dt.date
    horizon_months: int
    discount_rate_annual: float
    alive_threshold: float
    at_risk_top: int
    calibration_months: int
    time_unit: str = "W"
    status: str = "not_fitted"
    reason: str | None = None
    reason_code: str | None = None
    reason_details: dict = field(default_factory=dict)
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
    calibration: pd.DataFrame | None = None
    calibration_status: str = "not_run"
    calibration_reason: str | None = None
    calibration_end: _dt.date | None = None
    calibration_penalizer: float | None = None
    fit_seconds: float = 0.0
    query_seconds: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    # -- headline numbers ------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == "ok"

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
        return _num(self._clv().mean()) if self.ok else None

    @property
    def median_clv(self) -> float | None:
        return _num(self._clv().median()) if self.ok else None

    @property
    def total_clv(self) -> float | None:
        return _num(self._clv().sum()) if self.ok else None

    @property
    def mean_clv_active(self) -> float | None:
        """Mean CLV of the customers who bought in the report's period (the population of
        the ``avg_margin_per_customer`` KPI, hence of the simple formula)."""
        if not self.ok:
            return None
        active = self.customers["segment"] != "inactive"
        return _num(self.customers.loc[active, "clv"].mean()) if active.any() else None

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

    def by(self, dimension: str) -> pd.DataFrame:
        """``by_segment`` or ``by_product_line``."""
        if dimension == "segment":
            return self.by_segment
        if dimension == "product_line":
            return self.by_product_line
        raise ClvInputError(f"CLV breakdown by {dimension!r}: choose segment or product_line")

    def to_dict(self) -> dict:
        """Headline numbers for ``kpis.json`` (JSON-ready; non-finite numbers are ``None``)."""
        at_risk = self.at_risk_all
        value = at_risk["clv"] if self.ok else pd.Series(dtype="float64")
        retained = (
            at_risk["clv"] / at_risk["probability_alive"] if self.ok else pd.Series(dtype=float)
        )
        doc = {
            "status": self.status,
            "reason": self.reason,
            "period": self.period.label,
            "observation_end": self.observation_end.isoformat(),
            "currency": self.currency,
            "time_unit": self.time_unit,
            "horizon_months": self.horizon_months,
            "discount_rate_annual": self.discount_rate_annual,
            "customers": self.n_customers,
            "repeat_buyers": self.n_repeat_buyers,
            "margin_by": self.margin_by,
            "margin_rate": _num(self.margin_rate),
            "margin_rates": {k: _num(v) for k, v in self.margin_rates.items()},
            "mean_clv": self.mean_clv,
            "median_clv": self.median_clv,
            "mean_clv_active": self.mean_clv_active,
            "total_clv": self.total_clv,
            "expected_margin_12m": _num(self.expected_margin_12m),
            "new_customer_clv": _num(self.new_customer_clv),
            "simple_clv": self.simple.to_dict(),
            "models": {
                "bgnbd": _model_dict(self.bgnbd, self.bgnbd_penalizer),
                "gamma_gamma": _model_dict(self.gamma_gamma, self.gamma_gamma_penalizer),
            },
            "at_risk": {
                "alive_threshold": self.alive_threshold,
                "count": int(len(at_risk)),
                "value": _num(value.sum()) if self.ok else None,
                "value_if_retained": _num(retained.sum()) if self.ok else None,
                "shortlist_count": int(len(self.at_risk)),
                "shortlist_value": _num(self.at_risk["clv"].sum()) if self.ok else None,
            },
            "calibration": {
                "status": self.calibration_status,
                "reason": self.calibration_reason,
                "calibration_end": (
                    self.calibration_end.isoformat() if self.calibration_end else None
                ),
                "months": self.calibration_months,
                **{
                    k: v if k == "customers" else _num(v)
                    for k, v in (self.calibration_totals or {}).items()
                },
            },
            "fit_seconds": round(self.fit_seconds, 3),
            "seconds": round(self.seconds, 3),
        }
        return doc

    def _repr_html_(self) -> str:
        from kpitools.report.clv import clv_summary_html

        return clv_summary_html(self)


def _num(value) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _model_dict(model, penalizer) -> dict | None:
    if model is None or model.params_ is None:
        return None
    derived = {}
    params = model.params_
    if isinstance(model, BetaGeoModel):
        derived = {
            "mean_purchase_rate": _num(params["r"] / params["alpha"]),
            "mean_dropout_probability": _num(params["a"] / (params["a"] + params["b"])),
        }
    elif isinstance(model, GammaGammaModel):
        derived = {"mean_spend": _num(model.population_mean_spend)}
    return {
        "params": {k: _num(v) for k, v in params.items()},
        **derived,
        "standard_errors": {k: _num(v) for k, v in (model.standard_errors_ or {}).items()},
        "log_likelihood": _num(model.log_likelihood_),
        "penalizer": penalizer,
    }


# --------------------------------------------------------------------------------------
# fitting with a fallback penalty
# --------------------------------------------------------------------------------------


def _fit_with_fallback(fit, summary: pd.DataFrame, penalizers, notes: list[str], what: str):
    """Fit with each penalty in turn; keep the first that converges with no parameter at its
    bound (or the last that converges). Errors other than non-convergence are raised at once.
    """
    last_error: FitError | None = None
    fallback = None
    for pen in penalizers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClvFitWarning)
            try:
                model = fit(summary, penalizer=pen)
            except FitError as exc:
                if "did not converge" not in str(exc):
                    raise
                last_error = exc
                continue
        messages = [str(w.message) for w in caught if issubclass(w.category, ClvFitWarning)]
        at_bound = any("optimisation bound" in m for m in messages)
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


def _fit_bgnbd(summary, penalizers, notes, what="BG/NBD"):
    return _fit_with_fallback(fit_bgnbd, summary, penalizers, notes, what)


def _fit_gamma_gamma(summary, penalizers, notes):
    return _fit_with_fallback(fit_gamma_gamma, summary, penalizers, notes, "Gamma-Gamma")


# --------------------------------------------------------------------------------------
# database queries
# --------------------------------------------------------------------------------------


def _date_lit(d: _dt.date):
    import ibis

    return ibis.literal(d, type="date")


def _margin_rates(orders, start: _dt.datetime, end: _dt.datetime) -> tuple[float | None, dict]:
    """Brand-wide and per-line ``(revenue - cost) / revenue`` of the orders in [start, end)."""
    o = orders.filter((orders.ordered_at >= start) & (orders.ordered_at < end))
    per_line = (
        o.group_by(line=o.product_line.fill_null(UNKNOWN))
        .aggregate(revenue=o.revenue.sum(), margin=(o.revenue - o.cost).sum())
        .execute()
    )
    revenue = float(per_line["revenue"].sum()) if len(per_line) else 0.0
    if not revenue > 0:
        return None, {}
    brand_rate = float(per_line["margin"].sum()) / revenue
    rates = {
        str(row.line): float(row.margin) / float(row.revenue)
        for row in per_line.itertuples()
        if row.revenue and row.revenue > 0
    }
    return brand_rate, dict(sorted(rates.items()))


def _customer_frame(db, params, period, orders, obs_end, *, rates, brand_rate, time_unit):
    """The RFM summary (in the database) joined with segment, product line and margin rate."""
    import ibis

    from kpitools.kpis.compute import QueryContext

    end_lit = _date_lit(obs_end)
    summary = rfm_summary_expr(orders, observation_end=obs_end, time_unit=time_unit)

    # segment in the report's period
    ctx = QueryContext(db=db, grain=period.grain, periods=[period], settings=params.settings)
    cp = ctx.customer_periods()
    seg = cp.filter(cp.period == period.start_ts()).select(
        _seg_cid=cp.customer_id, _segment=cp.segment
    )

    # revenue per customer and line, up to the end of the observation
    o = orders.filter(orders.customer_id.notnull() & (orders.ordered_at.date() <= end_lit))
    lines = o.group_by(_l_cid=o.customer_id, _line=o.product_line.fill_null(UNKNOWN)).aggregate(
        _rev=o.revenue.sum()
    )
    rank = ibis.row_number().over(
        ibis.window(group_by=lines._l_cid, order_by=[lines._rev.desc(), lines._line])
    )
    main = (
        lines.mutate(_rank=rank)
        .filter(lambda t: t._rank == 0)
        .select(_m_cid="_l_cid", _main_line="_line")
    )
    rate = lines._line.substitute(rates, else_=brand_rate) if rates else brand_rate
    weighted = lines.mutate(_r=ibis.literal(1.0) * rate)
    mix = weighted.group_by(_x_cid=weighted._l_cid).aggregate(
        _rev_total=weighted._rev.sum(),
        _rev_rate=(weighted._rev * weighted._r).sum(),
    )

    j = summary.left_join(seg, summary.customer_id == seg._seg_cid).drop("_seg_cid")
    j = j.left_join(main, j.customer_id == main._m_cid).drop("_m_cid")
    j = j.left_join(mix, j.customer_id == mix._x_cid).drop("_x_cid")
    if db.has("customers"):
        c = db.table("customers")
        acq = c.select(_a_cid=c.customer_id, _acq_line=c.product_line)
        j = j.left_join(acq, j.customer_id == acq._a_cid).drop("_a_cid")
    else:
        j = j.mutate(_acq_line=ibis.null("string"))
    df = j.execute()
    df = df.sort_values("customer_id", kind="mergesort").set_index("customer_id")
    out = df[["frequency", "recency", "T", "monetary_value"]].copy()
    out["frequency"] = out["frequency"].astype("int64")
    out["segment"] = df["_segment"].fillna("inactive").astype(str)
    line = df["_acq_line"].where(df["_acq_line"].notna(), df["_main_line"])
    out["product_line"] = line.fillna(UNKNOWN).astype(str)
    with np.errstate(invalid="ignore", divide="ignore"):
        mix_rate = (df["_rev_rate"] / df["_rev_total"]).where(df["_rev_total"] > 0)
    out["mix_margin_rate"] = mix_rate.astype("float64")
    gap_days = np.rint((out["T"] - out["recency"]).to_numpy() * unit_days(time_unit))
    out["last_purchase"] = pd.Timestamp(obs_end) - pd.to_timedelta(gap_days, unit="D")
    out.attrs["time_unit"] = time_unit
    return out


# --------------------------------------------------------------------------------------
# pieces of the report
# --------------------------------------------------------------------------------------


def _simple(db, params, period, horizon_months: int, discount_rate_annual: float) -> SimpleClv:
    from kpitools.kpis.compute import compute_kpis
    from kpitools.periods import MONTHS_PER

    k = MONTHS_PER[period.grain]
    out = SimpleClv(grain=period.grain)
    sc = compute_kpis(db, params, period, kpis=["avg_margin_per_customer", "churn_rate"])
    margin, churn = sc["avg_margin_per_customer"], sc["churn_rate"]
    out.current_avg_margin, out.current_churn = margin.value, churn.value
    n = max(12 // k, 1)
    pairs = [
        (p.label, m, c)
        for (p, m), (_, c) in zip(margin.trend[-n:], churn.trend[-n:], strict=True)
        if m is not None and c is not None
    ]
    if not pairs:
        out.reason_code = "no_data"
        out.reason = "no period of the trailing year has both the margin and the churn KPI"
        return out
    out.periods = [p for p, _, _ in pairs]
    out.avg_margin_per_period = float(np.mean([m for _, m, _ in pairs]))
    out.churn_per_period = float(np.mean([c for _, _, c in pairs]))
    out.avg_margin_per_month = out.avg_margin_per_period / k
    out.churn_per_month = 1.0 - (1.0 - out.churn_per_period) ** (1.0 / k)
    if not out.churn_per_month > 0:
        out.reason_code = "zero_churn"
        out.reason = "churn rate is 0: the simple formula would give an infinite lifetime"
        return out
    out.expected_lifetime_months = 1.0 / out.churn_per_month
    monthly_discount = (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0
    out.clv = simple_clv(
        out.avg_margin_per_month,
        out.churn_per_month,
        discount_rate_per_period=monthly_discount,
        horizon_periods=horizon_months,
    )
    out.status = "ok"
    return out


def _group_table(customers: pd.DataFrame, column: str, order=None) -> pd.DataFrame:
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
            raise FitError(f"no customer bought on or before the calibration end {cal_end}")
        model, pen = _fit_bgnbd(frame, penalizers, report.notes, what="BG/NBD (calibration)")
    except (FitError, ClvInputError) as exc:
        report.calibration_status = "not_fitted"
        report.calibration_reason = str(exc)
        return
    report.calibration_penalizer = pen
    report.calibration = calibration_table(model, frame)
    report.calibration_status = "ok"


def _reason_code(exc: Exception, n_customers: int, n_repeat: int) -> str:
    if n_customers == 0:
        return "no_orders"
    if n_repeat < MIN_REPEAT_BUYERS:
        return "too_few_repeat_buyers"
    if "did not converge" in str(exc):
        return "no_convergence"
    return "error"


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------


def analyse_clv(
    db,
    params,
    period=None,
    *,
    margin_by: str = "product_line",
    time_unit: str = "W",
    penalizers=PENALIZERS,
    calibration: bool = True,
) -> ClvReport:
    """Customer lifetime value of a brand for a report (see the module docstring).

    Parameters
    ----------
    db : kpitools.data.Database
        The brand's data (:func:`kpitools.data.sources.connect`).
    params : kpitools.params.BrandParams
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
    from kpitools.kpis.compute import resolve_period

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
    )
    try:
        if not db.has("orders"):
            raise MissingTableError("orders", "customer lifetime value")
        orders = db.table("orders")
        t_query = time.perf_counter()
        start = _dt.datetime.combine(add_months(period.end, -MARGIN_MONTHS), _dt.time())
        end = period.end_ts()
        brand_rate, rates = _margin_rates(orders, start, end)
        if brand_rate is None:  # nothing sold in the last year: fall back on all history
            brand_rate, rates = _margin_rates(orders, _dt.datetime(1, 1, 1), end)
        report.margin_rate = brand_rate
        report.margin_rates = rates
        customers = _customer_frame(
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
            raise FitError(f"no orders up to {obs_end} for {params.display_name}")
        if brand_rate is None:
            report.reason_code = "no_revenue"
            raise FitError("the orders have no positive revenue: no margin rate")
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
        bg, report.bgnbd_penalizer = _fit_bgnbd(fit_frame, penalizers, report.notes)
        gg, report.gamma_gamma_penalizer = _fit_gamma_gamma(spend_frame, penalizers, report.notes)
        report.fit_seconds = time.perf_counter() - t_fit
        report.bgnbd, report.gamma_gamma = bg, gg
    except (FitError, ClvInputError, MissingTableError) as exc:
        report.status = "not_fitted"
        report.reason = str(exc)
        if report.reason_code is None:
            if isinstance(exc, MissingTableError):
                report.reason_code = "no_orders"
            else:
                report.reason_code = _reason_code(
                    exc, len(report.customers), report.n_repeat_buyers
                )
        report.seconds = time.perf_counter() - t_start
        _safe_simple(report, db, params, period)
        return report

    # -- values ---------------------------------------------------------------------------
    value_frame = fit_frame.copy()
    value_frame["monetary_value"] = value_frame["monetary_value"].clip(lower=0.0)
    kwargs = {"time_unit": time_unit, "margin_rate": 1.0}
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
    report.status = "ok"

    short = at_risk_customers(
        customers, top=report.at_risk_top, alive_threshold=report.alive_threshold
    )
    report.at_risk = short[["clv", "probability_alive", "last_purchase", "frequency"]].assign(
        value_if_retained=short["clv"] / short["probability_alive"]
    )
    report.by_segment = _group_table(customers, "segment", SEGMENTS)
    report.by_product_line = _group_table(customers, "product_line")
    _safe_simple(report, db, params, period)
    if calibration:
        _calibration(report, orders, period, penalizers, time_unit)
    report.seconds = time.perf_counter() - t_start
    return report


def _safe_simple(report: ClvReport, db, params, period) -> None:
    try:
        report.simple = _simple(
            db, params, period, report.horizon_months, report.discount_rate_annual
        )
    except (ClvInputError, MissingTableError) as exc:
        report.simple = SimpleClv(grain=period.grain, reason=str(exc), reason_code="error")
