"""Power planning for the next campaign: how large a control group must be to judge it.

A campaign is worth its cost when its incremental revenue per targeted customer reaches the
**break-even lift** ``cost per targeted customer / margin rate``. Judging it means telling a
campaign that earns its break-even lift from one that earns nothing: the two-sided
difference-in-means test (Welch's t-test, the test behind the report's intervals) at level
``alpha`` must reject "no lift" with probability ``power`` when the true lift is the
break-even lift. By symmetry, the same control group then finds a campaign that earns nothing
below its break-even with the same probability.

:func:`plan_control_size` finds the smallest such control group within a planned audience
(the customers split between the targeted group and the control group), from the spread of
revenue per customer in the brand's own data (:class:`BaselineRevenue`, from an array or from
the database with :func:`load_baseline_revenue`). Revenue per customer is skewed (many
customers buy nothing, a few buy a lot), so its standard deviation is large against any
campaign effect: the control group often has to be a large share of the audience, and for
small audiences no split suffices (code ``"infeasible"``, with the smallest lift the best
split could judge). :func:`plan_by_channel` plans the brand's typical campaign
of each channel (median audience and break-even lift of its campaigns in a report).

The power is the t-test's own (noncentral t with the Welch-Satterthwaite degrees of freedom),
not the normal approximation of :func:`~kpitools.roi.guardrails.required_control_size`, so it
holds for the small control groups CRM campaigns have. A campaign's lift comes as extra
orders, which also widen the spread of the targeted group's revenue: when the baseline knows
the brand's order values (mean ``m``, standard deviation ``s``), the plan takes the lift
``L`` as a Poisson number of extra orders of that size, which adds ``L (m² + s²) / m`` to the
targeted group's variance (compound Poisson); without them it assumes the spread unchanged,
which overstates the power. ``tests/test_roi_power.py`` checks the stated power by simulation
on zero-inflated log-normal revenue with the effect planted as extra orders.

Results are numbers and codes (:attr:`ControlPlan.code`); the report's sentences and table are
:mod:`kpitools.report.roi.power`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from kpitools.errors import MissingTableError
from kpitools.numbers import finite_or_none
from kpitools.roi.estimators import RoiInputError

if TYPE_CHECKING:
    from kpitools.data.sources import Database
    from kpitools.params import BrandParams
    from kpitools.roi.results import CampaignReport

__all__ = [
    "ACTIVE_LOOKBACK_DAYS",
    "MAX_AUDIENCE",
    "PLAN_COLUMNS",
    "BaselineRevenue",
    "ControlPlan",
    "load_baseline_revenue",
    "load_margin_rate",
    "plan_by_channel",
    "plan_control_size",
    "welch_power",
]

#: A customer is in the baseline (a typical campaign's audience) when they ordered in the
#: days before the revenue window (days).
ACTIVE_LOOKBACK_DAYS = 365

#: Largest audience :func:`plan_control_size` looks for (customers).
MAX_AUDIENCE = 10**9

#: Columns of :func:`plan_by_channel`.
PLAN_COLUMNS = (
    "channel",
    "n_campaigns",
    "audience",
    "cost_per_targeted",
    "margin_rate",
    "break_even_lift",
    "window_days",
    "baseline_customers",
    "baseline_mean",
    "baseline_sd",
    "n_control",
    "control_share",
    "feasible",
    "smallest_detectable",
    "audience_needed",
    "n_control_needed",
    "n_control_actual",
)


# --------------------------------------------------------------------------------------
# Baseline revenue
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineRevenue:
    """Revenue per customer over a window without a campaign: what the plan needs of it.

    Parameters
    ----------
    n : int
        Customers summarised.
    mean : float
        Mean revenue per customer over the window, currency units.
    sd : float
        Standard deviation of revenue per customer (``n - 1`` denominator), currency units.
    zero_share : float
        Share of customers with no revenue in the window (0.7 = 70 %).
    skewness : float
        Sample skewness (third standardised moment; 0 for a symmetric distribution).
    window_days : int or None
        Length of the window, days (None when unknown).
    order_mean, order_sd : float or None
        Mean and standard deviation of the revenue of one order in the window, currency units
        (None when unknown: the plan then assumes the campaign leaves the spread unchanged).
    """

    n: int
    mean: float
    sd: float
    zero_share: float
    skewness: float
    window_days: int | None = None
    order_mean: float | None = None
    order_sd: float | None = None

    def lift_variance(self, lift: float) -> float:
        """Variance a lift of ``lift`` per customer adds to revenue per customer when it comes
        as a Poisson number of extra orders of the usual size: ``lift * (m² + s²) / m``
        (currency units squared; 0 without order values)."""
        m, sd = self.order_mean, self.order_sd
        if m is None or sd is None or not m > 0:
            return 0.0
        return abs(float(lift)) * (m * m + sd * sd) / m

    @classmethod
    def from_values(
        cls,
        values: Sequence[float] | np.ndarray | pd.Series,
        window_days: int | None = None,
        order_values: Sequence[float] | np.ndarray | pd.Series | None = None,
    ) -> BaselineRevenue:
        """Summarise an array of revenue per customer (currency units, one value each), and
        optionally the revenue of each order behind it (``order_values``).

        Raises
        ------
        RoiInputError
            Fewer than 2 values, a missing, infinite or negative value.
        """
        x = np.asarray(values, dtype=float)
        if x.ndim != 1 or len(x) < 2:
            raise RoiInputError(
                "baseline_revenue needs the revenue of at least 2 customers (one value each)"
            )
        if not np.all(np.isfinite(x)):
            raise RoiInputError("baseline_revenue has missing or infinite values")
        if np.any(x < 0):
            raise RoiInputError("baseline_revenue has negative revenue")
        sd = float(x.std(ddof=1))
        skew = float(stats.skew(x)) if sd > 0 else 0.0
        om = osd = None
        if order_values is not None:
            v = np.asarray(order_values, dtype=float)
            if len(v) >= 2 and np.all(np.isfinite(v)) and v.mean() > 0:
                om, osd = float(v.mean()), float(v.std(ddof=1))
        return cls(
            n=len(x),
            mean=float(x.mean()),
            sd=sd,
            zero_share=float(np.mean(x == 0)),
            skewness=skew,
            window_days=window_days,
            order_mean=om,
            order_sd=osd,
        )


def _data_end(db: Database) -> datetime:
    o = db.table("orders")
    last = o.aggregate(last=o.ordered_at.max()).execute()["last"].iloc[0]
    if last is None or pd.isna(last):
        raise RoiInputError("orders: no order, so no baseline revenue can be measured")
    return (pd.Timestamp(last).normalize() + pd.Timedelta(days=1)).to_pydatetime()


def load_baseline_revenue(
    db: Database,
    window_days: int,
    *,
    end: datetime | None = None,
    lookback_days: int = ACTIVE_LOOKBACK_DAYS,
) -> BaselineRevenue:
    """Revenue per customer over the latest window of ``window_days`` days, from the database.

    The customers are those who ordered in the ``lookback_days`` before the window (the
    brand's active customers, whom campaigns target); each one's revenue over
    ``[end - window_days, end)`` is summed in the database (0 without an order) and only the
    moments come back (one row), with the mean and standard deviation of the revenue of the
    window's orders (all the brand's, a second one-row query).

    Parameters
    ----------
    db : kpitools.data.sources.Database
        The brand's data (table ``orders``: ``customer_id``, ``ordered_at``, ``revenue``).
    window_days : int
        Length of the window, days (a campaign's outcome window: its days plus the
        attribution days).
    end : datetime, optional
        Exclusive end of the window; by default the midnight after the last order.
    lookback_days : int, default :data:`ACTIVE_LOOKBACK_DAYS` (365)
        Days before the window in which a customer must have ordered to be counted.

    Returns
    -------
    BaselineRevenue

    Raises
    ------
    MissingTableError
        Without an ``orders`` table.
    RoiInputError
        No order at all, a window or look-back not a positive number of days, fewer than 2
        active customers.
    """
    if not db.has("orders"):
        raise MissingTableError("orders", needed_by="control-size planning")
    for name, value in (("window_days", window_days), ("lookback_days", lookback_days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
            raise RoiInputError(f"{name} must be a positive whole number of days, got {value!r}")
    end = end or _data_end(db)
    start = pd.Timestamp(end) - pd.Timedelta(days=int(window_days))
    look = start - pd.Timedelta(days=int(lookback_days))
    o = db.table("orders")
    active = (
        o.filter((o.ordered_at >= look.to_pydatetime()) & (o.ordered_at < start.to_pydatetime()))
        .select(a_customer=o.customer_id)
        .distinct()
    )
    w = o.filter((o.ordered_at >= start.to_pydatetime()) & (o.ordered_at < end))
    rev = w.group_by(w.customer_id).aggregate(rev=w.revenue.cast("float64").sum())
    per = active.left_join(rev, active.a_customer == rev.customer_id)
    x = per.rev.fill_null(0.0)
    per = per.select(x=x)
    row = (
        per.aggregate(
            n=per.x.count(),
            s1=per.x.mean(),
            s2=(per.x * per.x).mean(),
            s3=(per.x * per.x * per.x).mean(),
            zero=ibis.ifelse(per.x == 0, 1.0, 0.0).mean(),
        )
        .execute()
        .iloc[0]
    )
    n = int(row["n"] or 0)
    if n < 2:
        raise RoiInputError(
            f"orders: {n} customer(s) ordered in the {lookback_days} days before "
            f"{start.date()}; at least 2 are needed to measure the spread of revenue"
        )
    orders = (
        w.aggregate(
            k=w.count(), om=w.revenue.cast("float64").mean(), osd=w.revenue.cast("float64").std()
        )
        .execute()
        .iloc[0]
    )
    m1, m2, m3 = float(row["s1"]), float(row["s2"]), float(row["s3"])
    var_pop = max(m2 - m1 * m1, 0.0)
    sd = math.sqrt(var_pop * n / (n - 1))
    skew = (m3 - 3 * m1 * m2 + 2 * m1**3) / var_pop**1.5 if var_pop > 0 else 0.0
    return BaselineRevenue(
        n=n,
        mean=m1,
        sd=sd,
        zero_share=float(row["zero"]),
        skewness=float(skew),
        window_days=int(window_days),
        order_mean=finite_or_none(orders["om"]) if int(orders["k"] or 0) >= 2 else None,
        order_sd=finite_or_none(orders["osd"]) if int(orders["k"] or 0) >= 2 else None,
    )


def load_margin_rate(db: Database, *, end: datetime | None = None, days: int = 365) -> float | None:
    """Margin per unit of revenue of the orders of the ``days`` before ``end`` (0.35 = 35 %).

    ``sum(revenue - cost) / sum(revenue)`` computed in the database; None when the orders of
    the window carry no cost or no revenue.
    """
    if not db.has("orders"):
        raise MissingTableError("orders", needed_by="control-size planning")
    end = end or _data_end(db)
    start = (pd.Timestamp(end) - pd.Timedelta(days=int(days))).to_pydatetime()
    o = db.table("orders")
    o = o.filter((o.ordered_at >= start) & (o.ordered_at < end) & o.cost.notnull())
    row = (
        o.aggregate(
            rev=o.revenue.cast("float64").sum(), margin=(o.revenue - o.cost).cast("float64").sum()
        )
        .execute()
        .iloc[0]
    )
    rev, margin = finite_or_none(row["rev"]), finite_or_none(row["margin"])
    if rev is None or margin is None or rev <= 0 or margin <= 0:
        return None
    return margin / rev


# --------------------------------------------------------------------------------------
# Power of the t-test and the plan
# --------------------------------------------------------------------------------------


def welch_power(
    effect: float,
    sd: float,
    n_treated: int,
    n_control: int,
    alpha: float = 0.05,
    sd_treated: float | None = None,
) -> float:
    """Power of the two-sided Welch t-test of "no lift" when the true lift is ``effect``.

    With ``v1 = sd_treated²``, ``v0 = sd²``: the standard error is
    ``se = sqrt(v1/n1 + v0/n0)``, the Welch-Satterthwaite degrees of freedom
    ``(v1/n1 + v0/n0)² / ((v1/n1)²/(n1 - 1) + (v0/n0)²/(n0 - 1))`` and the power
    ``P(|T| > t_{1 - alpha/2, df})`` for ``T`` noncentral t with noncentrality
    ``effect / se`` (both tails).

    Parameters
    ----------
    effect : float
        True lift per targeted customer, outcome units (its sign does not matter).
    sd : float
        Standard deviation of the outcome per customer in the control group, outcome units.
    n_treated, n_control : int
        Customers in each group, at least 2 each.
    alpha : float, default 0.05
        Level of the test.
    sd_treated : float, optional
        Standard deviation in the targeted group (default ``sd``).
    """
    n1, n0 = int(n_treated), int(n_control)
    if n1 < 2 or n0 < 2:
        raise RoiInputError(f"welch_power needs 2 customers per group, got {n1} and {n0}")
    s1 = sd if sd_treated is None else sd_treated
    a, b = s1 * s1 / n1, sd * sd / n0
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1))
    ncp = abs(float(effect)) / se
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


@dataclass(frozen=True)
class ControlPlan:
    """The control group needed to judge a campaign, or why none suffices.

    Parameters
    ----------
    audience : int
        Customers of the planned campaign (targeted + control).
    break_even_lift : float
        Revenue lift per targeted customer at which the campaign pays its cost (``cost per
        targeted / margin rate``), currency units.
    sd : float
        Standard deviation of revenue per customer without the campaign (control group),
        currency units.
    sd_treated : float
        The same in the targeted group at the break-even lift (``sd`` widened by the extra
        orders, :meth:`BaselineRevenue.lift_variance`), currency units.
    alpha, power : float
        Level of the two-sided test and the power wanted.
    n_control : int or None
        Smallest control group (customers) with which the test reaches ``power`` at the
        break-even lift; None when no split of the audience does.
    control_share : float or None
        ``n_control / audience``.
    achieved_power : float
        Power at ``n_control`` (at the best split when infeasible).
    smallest_detectable : float
        Smallest lift per targeted customer judged with ``power`` by the best split of the
        audience, currency units.
    audience_needed : int or None
        Smallest audience whose best split judges the break-even lift (at most ``audience``
        when feasible; None beyond :data:`MAX_AUDIENCE`).
    n_control_needed : int or None
        The control group of that audience's plan.
    """

    audience: int
    break_even_lift: float
    sd: float
    sd_treated: float
    alpha: float
    power: float
    n_control: int | None
    control_share: float | None
    achieved_power: float
    smallest_detectable: float
    audience_needed: int | None = None
    n_control_needed: int | None = None

    @property
    def feasible(self) -> bool:
        """Whether a control group within the audience suffices."""
        return self.n_control is not None

    @property
    def code(self) -> Literal["feasible", "infeasible"]:
        """``"feasible"``, or ``"infeasible"`` when no control group within the audience
        suffices."""
        return "feasible" if self.feasible else "infeasible"

    @property
    def n_treated(self) -> int | None:
        """Customers left to target with the planned control group."""
        return None if self.n_control is None else self.audience - self.n_control


def _check_prob(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise RoiInputError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return float(value)


def _best_split(audience: int, sd: float, sd_treated: float) -> int:
    """The control size that minimises ``sd_treated²/n1 + sd²/n0`` (``n1 + n0 = audience``)."""
    guess = audience * sd / (sd + sd_treated)
    cands = {min(max(2, c), audience - 2) for c in (math.floor(guess), math.ceil(guess))}
    return min(cands, key=lambda c: sd_treated**2 / (audience - c) + sd**2 / c)


def _smallest_detectable(base: BaselineRevenue, audience: int, alpha: float, power: float) -> float:
    """The smallest lift the best split of ``audience`` judges with ``power`` (bisection)."""
    sd = base.sd

    def reached(lift: float) -> float:
        s1 = math.sqrt(sd * sd + base.lift_variance(lift))
        n0 = _best_split(audience, sd, s1)
        return welch_power(lift, sd, audience - n0, n0, alpha, s1)

    lo, hi = 0.0, sd * 50
    for _ in range(60):
        mid = (lo + hi) / 2
        if reached(mid) < power:
            lo = mid
        else:
            hi = mid
    return hi


def _smallest_control(
    effect: float, sd: float, s1: float, audience: int, alpha: float, power: float
) -> int | None:
    """The smallest control group reaching ``power`` within ``audience`` (None if none)."""

    def pw(n0: int) -> float:
        return welch_power(effect, sd, audience - n0, n0, alpha, s1)

    best = _best_split(audience, sd, s1)
    if pw(best) < power:
        return None
    # power rises with n0 up to the best split: the smallest n0 reaching it, by bisection
    lo, hi = 2, best
    if pw(lo) >= power:
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pw(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def _audience_needed(effect: float, sd: float, s1: float, alpha: float, power: float) -> int | None:
    """The smallest audience whose best split reaches ``power`` (None beyond MAX_AUDIENCE)."""

    def ok(a: int) -> bool:
        n0 = _best_split(a, sd, s1)
        return welch_power(effect, sd, a - n0, n0, alpha, s1) >= power

    lo, hi = 4, 8
    if ok(lo):
        return lo
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > MAX_AUDIENCE:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def plan_control_size(
    audience: int,
    baseline_revenue: BaselineRevenue | Sequence[float] | np.ndarray | pd.Series,
    break_even_lift: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> ControlPlan:
    """Control group needed to judge a campaign of ``audience`` customers against its
    break-even lift.

    Finds the smallest ``n_control`` for which the two-sided Welch t-test of "no lift" at
    level ``alpha``, with ``audience - n_control`` targeted customers, rejects with
    probability ``power`` when the true lift is ``break_even_lift`` (:func:`welch_power`; the
    control group has the baseline's standard deviation ``sd``, the targeted group
    ``sqrt(sd² + lift variance)``, :meth:`BaselineRevenue.lift_variance`). The standard error
    ``sqrt(sd_t²/n1 + sd²/n0)`` is smallest at ``n0 = audience * sd / (sd + sd_t)`` (half
    and half when the spreads are equal): a larger control group only makes the targeted
    group smaller, so when that split is not enough no control group within the audience
    suffices.

    Parameters
    ----------
    audience : int
        Customers of the planned campaign (targeted and control together), at least 4.
    baseline_revenue : BaselineRevenue or array of float
        Revenue per customer over a window as long as the campaign's outcome window, from the
        brand's own data (currency units, one value per customer; or its summary from
        :func:`load_baseline_revenue`).
    break_even_lift : float
        Revenue lift per targeted customer at which the campaign pays its cost: cost per
        targeted customer / margin rate, currency units; positive.
    alpha : float, default 0.05
        Level of the two-sided test (the report's intervals are ``1 - alpha``).
    power : float, default 0.8
        Probability wanted of judging the campaign.

    Returns
    -------
    ControlPlan
        ``n_control`` and ``control_share`` (None when infeasible), the power reached, and
        the smallest lift the best split could judge.

    Raises
    ------
    RoiInputError
        ``audience`` below 4 or not whole, ``break_even_lift`` not positive, ``alpha`` or
        ``power`` outside (0, 1), a baseline without spread or with bad values.
    """
    if (
        isinstance(audience, bool)
        or not isinstance(audience, int | np.integer | float)
        or not float(audience).is_integer()
        or audience < 4
    ):
        raise RoiInputError(
            f"audience must be a whole number of customers (4 or more), got {audience!r}"
        )
    audience = int(audience)
    if (
        isinstance(break_even_lift, bool)
        or not isinstance(break_even_lift, int | float | np.floating)
        or not math.isfinite(break_even_lift)
        or break_even_lift <= 0
    ):
        raise RoiInputError(
            f"break_even_lift must be a positive amount per targeted customer, got "
            f"{break_even_lift!r}"
        )
    alpha = _check_prob(alpha, "alpha")
    power = _check_prob(power, "power")
    base = (
        baseline_revenue
        if isinstance(baseline_revenue, BaselineRevenue)
        else BaselineRevenue.from_values(baseline_revenue)
    )
    sd = float(base.sd)
    if not math.isfinite(sd) or sd <= 0:
        raise RoiInputError("baseline_revenue has no spread (standard deviation 0)")
    effect = float(break_even_lift)
    s1 = math.sqrt(sd * sd + base.lift_variance(effect))
    smallest = _smallest_detectable(base, audience, alpha, power)
    needed = _audience_needed(effect, sd, s1, alpha, power)
    n0_needed = None if needed is None else _smallest_control(effect, sd, s1, needed, alpha, power)
    n0 = _smallest_control(effect, sd, s1, audience, alpha, power)
    at = n0 if n0 is not None else _best_split(audience, sd, s1)
    reached = welch_power(effect, sd, audience - at, at, alpha, s1)
    return ControlPlan(
        audience=audience,
        break_even_lift=effect,
        sd=sd,
        sd_treated=s1,
        alpha=alpha,
        power=power,
        n_control=n0,
        control_share=None if n0 is None else n0 / audience,
        achieved_power=reached,
        smallest_detectable=smallest,
        audience_needed=needed,
        n_control_needed=n0_needed,
    )


# --------------------------------------------------------------------------------------
# The brand's typical campaigns
# --------------------------------------------------------------------------------------


def plan_by_channel(
    db: Database,
    params: BrandParams,
    report: CampaignReport,
    *,
    power: float = 0.8,
) -> pd.DataFrame:
    """The control group the brand's typical campaign of each channel needs.

    For each channel of the report's campaigns with members and a cost: the median audience
    (members) and the median cost per targeted customer (``cost / n_treated``) of its
    campaigns, the brand's margin rate over the last 365 days of orders
    (:func:`load_margin_rate`), the break-even lift ``cost per targeted / margin rate``, the
    baseline revenue over the median outcome window of the channel
    (:func:`load_baseline_revenue`, one database query per window length) and
    :func:`plan_control_size` at the report's ``alpha``.

    Parameters
    ----------
    db : kpitools.data.sources.Database
    params : kpitools.params.BrandParams
        ``roi.attribution_days`` (outcome windows) and ``roi.alpha``.
    report : CampaignReport
        The campaigns to take the channels' typical audience and cost from.
    power : float, default 0.8

    Returns
    -------
    pandas.DataFrame
        One row per channel (in the order of :data:`kpitools.schema.CHANNELS`), columns
        :data:`PLAN_COLUMNS`: money in currency units, ``margin_rate`` and ``control_share``
        as ratios, ``n_control`` None when no control group within the audience suffices
        (``feasible`` False), ``n_control_actual`` the median control group the channel's
        campaigns had. Empty (with these columns) when no campaign has members and a cost
        or the orders carry no cost.
    """
    from kpitools.schema import CHANNELS

    alpha = float(params.roi.alpha)
    attribution = int(params.roi.attribution_days)
    rows: list[dict] = []
    camps = [c for c in report.campaigns if c.n_treated > 0 and c.cost > 0]
    end = report.data_end
    try:
        margin_rate = load_margin_rate(db, end=end) if camps else None
    except (RoiInputError, MissingTableError):  # no order at all: nothing to plan from
        margin_rate = None
    if margin_rate is None:
        return pd.DataFrame(columns=list(PLAN_COLUMNS))
    baselines: dict[int, BaselineRevenue] = {}
    order = {ch: i for i, ch in enumerate(CHANNELS)}
    channels = sorted({c.channel for c in camps}, key=lambda ch: (order.get(ch, 99), ch))
    for ch in channels:
        cs = [c for c in camps if c.channel == ch]
        audience = int(round(float(np.median([c.n_members for c in cs]))))
        cost_pt = float(np.median([c.cost / c.n_treated for c in cs]))
        days = int(round(float(np.median([(c.ends_at - c.starts_at).days for c in cs]))))
        window = days + attribution
        if window not in baselines:
            try:
                baselines[window] = load_baseline_revenue(db, window, end=end)
            except RoiInputError:  # fewer than 2 active customers: no spread to plan from
                continue
        base = baselines[window]
        break_even = cost_pt / margin_rate
        plan = (
            plan_control_size(audience, base, break_even, alpha=alpha, power=power)
            if audience >= 4
            else None
        )
        rows.append(
            {
                "channel": ch,
                "n_campaigns": len(cs),
                "audience": audience,
                "cost_per_targeted": cost_pt,
                "margin_rate": margin_rate,
                "break_even_lift": break_even,
                "window_days": window,
                "baseline_customers": base.n,
                "baseline_mean": base.mean,
                "baseline_sd": base.sd,
                "n_control": plan.n_control if plan else None,
                "control_share": plan.control_share if plan else None,
                "feasible": bool(plan and plan.feasible),
                "smallest_detectable": plan.smallest_detectable if plan else None,
                "audience_needed": plan.audience_needed if plan else None,
                "n_control_needed": plan.n_control_needed if plan else None,
                "n_control_actual": int(round(float(np.median([c.n_control for c in cs])))),
            }
        )
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
