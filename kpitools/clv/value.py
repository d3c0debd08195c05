"""Customer lifetime value (CLV) from the fitted models, and simple closed-form CLV.

* :func:`customer_lifetime_value`: per-customer CLV from a BG/NBD model (purchases) and a
  Gamma-Gamma model (spend), discounted month by month (the approach of
  ``lifetimes.utils._customer_lifetime_value``).
* :func:`simple_clv`: margin x expected (discounted) lifetime under a constant churn rate.
* :func:`at_risk_customers`: the retention team's short list.
* :func:`calibration_table`: model check, expected vs actual holdout purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.clv.bgnbd import BetaGeoModel
from kpitools.clv.gamma_gamma import GammaGammaModel
from kpitools.clv.summary import ClvInputError, rfm_arrays, summary_column, unit_days
from kpitools.errors import FitError

__all__ = [
    "at_risk_customers",
    "discounted_expected_purchases",
    "calibration_table",
    "customer_lifetime_value",
    "simple_clv",
]


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    margin_rate: float,
    discount_rate_annual: float = 0.10,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Per-customer CLV: discounted expected margin over the next ``horizon_months`` months.

    With a month of ``L = 30.4375`` days expressed in ``time_unit`` (4.348 weeks), ``E[Y(t)]``
    the BG/NBD conditional expected purchases in the next ``t`` time units, ``S`` the
    Gamma-Gamma expected spend per purchase and ``d`` the annual discount rate::

        clv = margin_rate * S * sum_{k=1..H} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + d)**(k / 12)

    i.e. each month's expected purchases are valued at the customer's expected spend and
    discounted from the end of that month, at the monthly rate ``(1 + d)**(1/12) - 1``.

    Parameters
    ----------
    bgnbd : BetaGeoModel
        Fitted purchase model (on a summary in ``time_unit``).
    gamma_gamma : GammaGammaModel
        Fitted spend model.
    summary : pandas.DataFrame
        RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``) of the customers to
        value, in ``time_unit``.
    horizon_months : int, default 12
        Number of months ``H`` (positive integer).
    margin_rate : float
        Gross margin as a share of revenue, in [0, 1] (e.g. 0.35).
    discount_rate_annual : float, default 0.10
        Annual discount rate ``d`` (>= 0), e.g. 0.10 for 10 % a year.
    time_unit : {"D", "W", "M"}, default "W"
        Time unit of the summary and of the BG/NBD fit; must match the model's if known.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``summary``:

        ``clv``
            discounted expected margin over the horizon, currency units;
        ``probability_alive``
            BG/NBD probability that the customer is alive at the end of observation;
        ``expected_purchases``
            expected purchases (purchase days) over the horizon, undiscounted;
        ``expected_spend``
            expected spend per purchase, currency units.
    """
    if not isinstance(bgnbd, BetaGeoModel) or bgnbd.params_ is None:
        raise FitError("customer_lifetime_value needs a fitted BetaGeoModel")
    if not isinstance(gamma_gamma, GammaGammaModel) or gamma_gamma.params_ is None:
        raise FitError("customer_lifetime_value needs a fitted GammaGammaModel")
    per_unit = unit_days(time_unit)
    if bgnbd.time_unit_ is not None and bgnbd.time_unit_ != time_unit:
        raise ClvInputError(
            f"the BG/NBD model was fitted in time unit '{bgnbd.time_unit_}' but "
            f"time_unit='{time_unit}' was given"
        )
    summary_unit = getattr(summary, "attrs", {}).get("time_unit")
    if summary_unit is not None and summary_unit != time_unit:
        raise ClvInputError(
            f"the summary is in time unit '{summary_unit}' but time_unit='{time_unit}' was given"
        )
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ClvInputError(f"horizon_months must be a positive integer, got {horizon_months}")
    if not 0.0 <= margin_rate <= 1.0:
        raise ClvInputError(f"margin_rate must be in [0, 1], got {margin_rate}")
    if not discount_rate_annual >= 0.0:
        raise ClvInputError(f"discount_rate_annual must be >= 0, got {discount_rate_annual}")
    x, tx, t_obs = rfm_arrays(summary)
    monetary = summary_column(summary, "monetary_value")
    month = unit_days("M") / per_unit
    spend = np.asarray(gamma_gamma.expected_average_spend(x, monetary), dtype="float64")
    discounted, previous = discounted_expected_purchases(
        bgnbd,
        x,
        tx,
        t_obs,
        horizon_months=int(horizon_months),
        month=month,
        discount_rate_annual=discount_rate_annual,
    )
    out = pd.DataFrame(
        {
            "clv": margin_rate * spend * discounted,
            "probability_alive": np.asarray(bgnbd.probability_alive(x, tx, t_obs), dtype="float64"),
            "expected_purchases": previous,
            "expected_spend": spend,
        },
        index=summary.index,
    )
    out.attrs.update(
        {
            "horizon_months": int(horizon_months),
            "margin_rate": float(margin_rate),
            "discount_rate_annual": float(discount_rate_annual),
            "time_unit": time_unit,
        }
    )
    return out


def discounted_expected_purchases(
    bgnbd: BetaGeoModel,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    *,
    horizon_months: int,
    month: float,
    discount_rate_annual: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's discounted and undiscounted expected purchases over the horizon.

    ``sum_{k=1..H} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + d)**(k / 12)`` and ``E[Y(H L)]``, the
    BG/NBD expectations taken from :meth:`BetaGeoModel.expected_purchases_factors` (the
    hypergeometric part once per distinct ``(frequency, T)``), summed in the same order as
    month by month, so the values equal those of :meth:`BetaGeoModel.expected_purchases`.

    Parameters
    ----------
    bgnbd : BetaGeoModel
        Fitted purchase model.
    frequency, recency, T : numpy.ndarray
        RFM summary arrays (float64, 1-d, time unit of the fit).
    horizon_months : int
        Number of months ``H``.
    month : float
        A month ``L`` in the time unit of the fit.
    discount_rate_annual : float
        Annual discount rate ``d``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Discounted expected purchases and expected purchases over the horizon (purchase days).
    """
    horizons = month * np.arange(1, int(horizon_months) + 1, dtype="float64")
    given, inverse, p_alive = bgnbd.expected_purchases_factors(horizons, frequency, recency, T)
    discounted = np.zeros(inverse.size)
    previous = np.zeros(inverse.size)
    for k in range(1, int(horizon_months) + 1):
        cumulative = given[k - 1][inverse] * p_alive
        discounted += (cumulative - previous) / (1.0 + discount_rate_annual) ** (k / 12.0)
        previous = cumulative
    return discounted, previous


def simple_clv(
    avg_margin_per_period,
    churn_rate_per_period,
    *,
    discount_rate_per_period=0.0,
    horizon_periods: int | None = None,
):
    """Closed-form CLV under a constant churn rate.

    The margin ``m`` of a period is earned at the start of the period (the first one for
    sure); a customer present in a period is still there in the next with probability
    ``1 - c``; money of period ``t`` is discounted by ``(1 + d)**t``. With
    ``rho = (1 - c) / (1 + d)``::

        CLV = sum_{t=0}^{H-1} m * rho**t = m * (1 - rho**H) / (1 - rho)      (horizon H)
        CLV = sum_{t>=0}      m * rho**t = m / (1 - rho) = m * (1 + d) / (d + c)   (no horizon)

    Without discounting the infinite-horizon value is ``m / c``: margin times the expected
    lifetime ``1 / c`` periods.

    Parameters
    ----------
    avg_margin_per_period : float or array_like
        Mean margin per customer and period ``m``, currency units.
    churn_rate_per_period : float or array_like
        Probability ``c`` of leaving in a period, in (0, 1].
    discount_rate_per_period : float or array_like, default 0.0
        Discount rate per period ``d`` (>= 0), e.g. ``1.10 ** (1/12) - 1`` for monthly periods
        at 10 % a year.
    horizon_periods : int, optional
        Number of periods ``H`` (>= 1); infinite when omitted.

    Returns
    -------
    float or numpy.ndarray
        Expected discounted margin, currency units.

    Raises
    ------
    ClvInputError
        ``c <= 0`` (infinite lifetime), ``c > 1``, ``d < 0`` or ``H < 1``.
    """
    m, c, d = np.broadcast_arrays(
        *(
            np.asarray(v, dtype="float64")
            for v in (avg_margin_per_period, churn_rate_per_period, discount_rate_per_period)
        )
    )
    if not np.all(np.isfinite(m)):
        raise ClvInputError("avg_margin_per_period must be finite")
    if np.any(~(c > 0.0)) or np.any(c > 1.0):
        raise ClvInputError(
            f"churn_rate_per_period must be in (0, 1] (0 would mean an infinite lifetime), got "
            f"{churn_rate_per_period}"
        )
    if np.any(~(d >= 0.0)):
        raise ClvInputError(
            f"discount_rate_per_period must be >= 0, got {discount_rate_per_period}"
        )
    rho = (1.0 - c) / (1.0 + d)
    if horizon_periods is None:
        out = m * (1.0 + d) / (d + c)
    else:
        if int(horizon_periods) != horizon_periods or horizon_periods < 1:
            raise ClvInputError(
                f"horizon_periods must be a positive integer, got {horizon_periods}"
            )
        out = m * (1.0 - rho ** int(horizon_periods)) / (1.0 - rho)
    return float(out) if out.ndim == 0 else out


def at_risk_customers(
    clv_frame: pd.DataFrame, *, top: int = 20, alive_threshold: float = 0.5
) -> pd.DataFrame:
    """The highest-CLV customers whose probability of being alive is below a threshold.

    Parameters
    ----------
    clv_frame : pandas.DataFrame
        Output of :func:`customer_lifetime_value` (needs ``clv`` and ``probability_alive``).
    top : int, default 20
        Length of the list.
    alive_threshold : float, default 0.5
        Customers with ``probability_alive < alive_threshold`` are at risk.

    Returns
    -------
    pandas.DataFrame
        At most ``top`` rows of ``clv_frame``, by decreasing ``clv`` (ties keep input order).

    Notes
    -----
    ``clv`` already includes the probability of being alive, so this ranks by value *expected*
    from the at-risk customers; ``clv / probability_alive`` is the value if the customer is
    retained, an alternative ranking for win-back campaigns.
    """
    missing = [c for c in ("clv", "probability_alive") if c not in clv_frame.columns]
    if missing:
        raise ClvInputError(f"clv_frame lacks {missing}; pass the customer_lifetime_value output")
    if int(top) != top or top < 0:
        raise ClvInputError(f"top must be a non-negative integer, got {top}")
    at_risk = clv_frame[clv_frame["probability_alive"] < alive_threshold]
    return at_risk.sort_values("clv", ascending=False, kind="mergesort").head(int(top))


def calibration_table(
    model: BetaGeoModel, calibration_summary_with_holdout: pd.DataFrame, max_frequency: int = 7
) -> pd.DataFrame:
    """Expected vs actual holdout purchases by calibration frequency.

    Parameters
    ----------
    model : BetaGeoModel
        Model fitted on the calibration part of ``calibration_summary_with_holdout``.
    calibration_summary_with_holdout : pandas.DataFrame
        Output of :func:`kpitools.clv.calibration_holdout_split` (``frequency``, ``recency``,
        ``T``, ``frequency_holdout``, ``duration_holdout``).
    max_frequency : int, default 7
        Calibration frequencies >= this are pooled in one group labelled ``"7+"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the calibration frequency group (labels ``"0"``, ``"1"``, ...,
        ``"7+"``; only groups with customers), with ``n_customers``, ``actual`` and
        ``expected`` (mean holdout repeat purchases per customer) and ``difference``
        (expected - actual).
    """
    frame = calibration_summary_with_holdout
    x, tx, t_obs = rfm_arrays(frame)
    actual = summary_column(frame, "frequency_holdout")
    duration = summary_column(frame, "duration_holdout")
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ClvInputError(f"max_frequency must be a positive integer, got {max_frequency}")
    expected = np.asarray(model.expected_purchases(duration, x, tx, t_obs), dtype="float64")
    group = np.minimum(x, max_frequency).astype("int64")
    table = (
        pd.DataFrame({"group": group, "actual": actual, "expected": expected})
        .groupby("group", sort=True)
        .agg(
            n_customers=("actual", "size"),
            actual=("actual", "mean"),
            expected=("expected", "mean"),
        )
    )
    table["difference"] = table["expected"] - table["actual"]
    table.index = pd.Index(
        [f"{k}+" if k == max_frequency else str(k) for k in table.index], name="frequency"
    )
    return table
