"""Model-based churn: customers the fitted purchase model expects to have been lost in a period.

Beside the lapse churn of the scorecard (``churn_rate``: a customer counts as lost once
``settings.lapse_days`` have passed since their last order, so a loss shows a lapse late), the
BG/NBD model gives each customer a probability of being alive (:meth:`BetaGeoModel.
probability_alive`). For the customers who had bought before the period starts:

``expected_lost = sum_i [ P_i(alive at start | orders before the start)
                         - P_i(alive at end | orders up to the end) ]``

``expected_alive_start = sum_i P_i(alive at start | orders before the start)``

``rate = expected_lost / expected_alive_start``

Why this is the expected number of customers lost in the period: the probability of being alive
given the data is a martingale (``E[P(alive at end | data to end) | data to start] = P(alive at
end | data to start)``, the tower property), and alive at the end implies alive at the start,
so the difference has expectation ``P(alive at start, dead at end | data to start)`` summed over
the customers: the expected deaths in the period. Each customer's term is noisy (it goes
negative for a customer whose purchase in the period proves them alive), the sum is not.

Both probabilities use the model fitted for the report (orders up to the period's end) and the
RFM summaries at the day before the period and at its last day.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import ibis
import pandas as pd

from kpitools.clv.bgnbd import BetaGeoModel
from kpitools.clv.summary import rfm_summary_expr
from kpitools.numbers import finite_or_none
from kpitools.periods import MONTHS_PER, Period

__all__ = ["ModelChurn", "compute_model_churn", "expected_customers_lost"]


@dataclass
class ModelChurn:
    """Customers expected lost in the report's period according to the fitted BG/NBD model.

    Attributes
    ----------
    grain : str
        The period's grain.
    customers : int
        Customers with an order before the period (those the figure is about).
    expected_alive_start : float
        Sum of their probabilities of being alive at the start (customers).
    expected_lost : float
        Expected customers lost during the period (customers).
    rate : float
        ``expected_lost / expected_alive_start`` (0-1, per period).
    rate_per_month : float
        Monthly equivalent ``1 - (1 - rate) ** (1 / k)`` (``k`` months per period).
    """

    grain: str = "month"
    customers: int = 0
    expected_alive_start: float | None = None
    expected_lost: float | None = None
    rate: float | None = None
    rate_per_month: float | None = None

    def to_dict(self) -> dict:
        return {
            "grain": self.grain,
            "customers": self.customers,
            "expected_alive_start": finite_or_none(self.expected_alive_start),
            "expected_lost": finite_or_none(self.expected_lost),
            "rate": finite_or_none(self.rate),
            "rate_per_month": finite_or_none(self.rate_per_month),
        }


def expected_customers_lost(
    model: BetaGeoModel, at_start: pd.DataFrame, at_end: pd.DataFrame, *, grain: str = "month"
) -> ModelChurn:
    """Expected customers lost between two observation dates (see the module docstring).

    Parameters
    ----------
    model : BetaGeoModel
        A fitted model (time unit of the summaries).
    at_start : pandas.DataFrame
        RFM summary (``frequency``, ``recency``, ``T``) at the start, indexed by customer.
    at_end : pandas.DataFrame
        RFM summary at the end (same time unit); must hold every customer of ``at_start``.
    grain : str
        Grain of the period (for the monthly equivalent).

    Returns
    -------
    ModelChurn
    """
    out = ModelChurn(grain=grain, customers=len(at_start))
    if at_start.empty:
        return out
    end = at_end.reindex(at_start.index)
    if end["T"].isna().any():
        raise ValueError("at_end lacks customers of at_start")
    p_start = model.probability_alive(at_start["frequency"], at_start["recency"], at_start["T"])
    p_end = model.probability_alive(end["frequency"], end["recency"], end["T"])
    out.expected_alive_start = float(p_start.sum())
    out.expected_lost = float((p_start - p_end).sum())
    if out.expected_alive_start > 0:
        out.rate = out.expected_lost / out.expected_alive_start
        k = MONTHS_PER[grain]
        out.rate_per_month = 1.0 - (1.0 - out.rate) ** (1.0 / k) if out.rate < 1 else 1.0
    return out


def compute_model_churn(
    model: BetaGeoModel, orders: ibis.Table, period: Period, *, time_unit: str = "W"
) -> ModelChurn:
    """:func:`expected_customers_lost` for the report's period, the RFM summaries computed in
    the database from ``orders`` (``customer_id``, ``ordered_at``, ``revenue``) at the day
    before the period and at its last day."""
    day_before = period.start - _dt.timedelta(days=1)
    last_day = period.end - _dt.timedelta(days=1)
    start = rfm_summary_expr(orders, observation_end=day_before, time_unit=time_unit)
    end = rfm_summary_expr(orders, observation_end=last_day, time_unit=time_unit)
    at_start = start.execute().set_index("customer_id")
    at_end = end.execute().set_index("customer_id")
    return expected_customers_lost(model, at_start, at_end, grain=period.grain)
