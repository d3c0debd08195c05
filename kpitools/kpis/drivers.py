"""What changed and why: a KPI's change against the previous period and the same period a year
before, decomposed into its drivers, computed in the database.

Revenue
    ``revenue = buyers × orders per buyer × average order value``, where *buyers* are the
    customers who placed at least one order in the period (not the "active customers" of the
    lapse rule), *orders per buyer* = orders / buyers and *average order value* = revenue /
    orders. The change is split with the log-mean Divisia index (LMDI-I): the effect of factor
    ``x`` is ``L(R1, R0) · ln(x1 / x0)`` with ``L(a, b) = (a − b) / (ln a − ln b)``, and the
    three effects add up to ``R1 − R0`` with no residual. When a factor is zero or negative
    (refunds exceeding sales, no orders), the Shapley split is used instead: each factor's
    effect is its average marginal change over the orders in which the factors can change;
    it also adds up exactly.

    By group (:data:`REVENUE_DIMENSIONS`): new vs returning customers (first order ever in the
    period, else returning), customer segment (the scorecard's segment rule,
    :meth:`~kpitools.kpis.compute.QueryContext.customer_periods`), product line and order
    channel. Each group's revenue is ``N × s_g × r_g`` with ``N`` the brand's buyers (new /
    returning, segment: each buyer is in one group in a period) or orders (product line,
    channel: each order has one line and one channel), ``s_g`` the group's share of them (its
    *mix*) and ``r_g`` its revenue per buyer or order (its *rate*). The group's contribution
    ``R_g1 − R_g0`` is split into volume (``N``), mix and rate effects by the same LMDI (Shapley
    for a group that appears or vanishes: its rate is taken as unchanged, so its whole
    contribution is volume and mix). Contributions add up to the total change; any float
    residual is reported.

Other KPIs (an off-track objective's)
    - additive KPIs (counts and amounts that are sums, :data:`ADDITIVE_KPIS`): each group's
      contribution ``v_g1 − v_g0``; groups that overlap (a customer on two lines) leave a
      residual, reported;
    - ratio KPIs whose numerator and denominator are known (:data:`RATIO_KPIS`): the ratio is
      ``Σ_g s_g · r_g`` with ``s_g`` the group's share of the denominator and ``r_g`` its own
      ratio; the change splits into mix ``Δs_g · (r_g0 + r_g1) / 2`` and rate
      ``Δr_g · (s_g0 + s_g1) / 2`` (exact); the residual (overlapping groups) is reported;
    - any other KPI: the groups whose value moved most, weighted by their average share of the
      KPI's rows (among groups holding at least :data:`MIN_GROUP_SHARE` of the rows in both
      periods), with no claim that they add up.

    A declared decomposition is used only when the KPI's formula still equals the declared sum
    or ratio on the brand's numbers (so a KPI whose definition changed is not decomposed with a
    stale rule); a KPI that cannot be decomposed gets none.

Results are plain objects with ``to_dict()``; the words are :mod:`kpitools.report.drivers`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from ..data.sources import Database
from ..errors import MissingTableError
from ..numbers import finite_or_none
from ..params import BrandParams
from ..periods import Period
from ..vocab import UNKNOWN_GROUP, Status
from .compute import (
    DIMENSIONS,
    BreakdownUnsupported,
    QueryContext,
    Scorecard,
    _fetch_measure,
    _measure_context,
    latest_mature_cohort,
    maturity_days,
    measure_scope,
    resolve_period,
    window_for,
)
from .registry import Kpi, get_kpi

#: The factors of revenue, in the order of the product.
FACTORS = ("buyers", "orders_per_buyer", "average_order")

#: Revenue's group dimensions and the count each splits (the shift-share basis).
REVENUE_DIMENSIONS = {
    "customer_type": "buyers",
    "segment": "buyers",
    "product_line": "orders",
    "channel": "orders",
}

#: KPIs that are a sum over rows (the group values add up to the brand's): KPI id -> the
#: measure column that equals it.
ADDITIVE_KPIS: dict[str, str] = {
    "revenue": "revenue",
    "new_customer_revenue": "new_customer_revenue",
    "new_customers": "new_customers",
    "campaigns_run": "campaigns_run",
    "campaign_revenue": "campaign_revenue",
    "campaign_leads": "campaign_leads",
    "campaign_new_customers": "campaign_new_customers",
    "referrals": "referrals",
    "web_page_views": "page_views",
    "cross_sell_value": "cross_sell_value",
    "prospects": "leads",
    "loyal_customers": "loyal_customers",
    "open_opportunities": "open_opportunities",
    "quotes": "quotes",
    "new_sales_amount": "won_amount",
    "sales_calls": "sales_calls",
    "cases_handled": "cases_resolved",
    "customer_callbacks": "callbacks",
}

#: Ratio KPIs (rates, means) with a known numerator and denominator: KPI id -> (numerator
#: column, denominator column) of its measure group.
RATIO_KPIS: dict[str, tuple[str, str]] = {
    "active_crm_users_rate": ("active_crm_users", "crm_users"),
    "logins_per_user": ("logins", "crm_users"),
    "campaign_response_rate": ("responded", "sent"),
    "delivery_rate": ("delivered", "sent"),
    "open_rate": ("opened", "delivered"),
    "click_rate": ("clicked", "opened"),
    "purchase_rate": ("purchased", "sent"),
    "unsubscribe_rate": ("unsubscribed", "delivered"),
    "web_goal_completion_rate": ("goal_sessions", "goal_known"),
    "time_per_visit": ("duration_seconds", "timed_sessions"),
    "customer_tenure_days": ("tenure_days", "active_customers"),
    "avg_margin_per_customer": ("margin", "active_customers"),
    "csat": ("csat_sum", "csat_responses"),
    "csat_satisfied_rate": ("csat_satisfied", "csat_responses"),
    "relationship_freshness_7d": ("fresh_7d", "active_customers"),
    "relationship_freshness_30d": ("fresh_30d", "active_customers"),
    "share_of_voice": ("own_mentions", "mentions"),
    "social_sentiment": ("own_sentiment_sum", "own_sentiment_n"),
    "lead_conversion_rate": ("converted_leads", "leads"),
    "lead_response_target_rate": ("contacted_in_target", "leads"),
    "touches_to_convert": ("touches", "converted_leads"),
    "close_rate": ("won_opportunities", "closed_opportunities"),
    "renewal_rate": ("renewals_renewed", "renewals_due"),
    "churn_rate": ("lapsed", "active_start"),
    "average_deal_size": ("won_amount", "won_with_amount"),
    "calls_per_opportunity": ("opportunity_calls", "closed_opportunities"),
    "same_day_closure_rate": ("same_day", "cases_resolved"),
    "avg_resolution_hours": ("resolution_hours_sum", "resolution_n"),
    "complaint_resolution_hours": ("complaint_resolution_hours_sum", "complaint_resolution_n"),
    "cost_per_interaction": ("handling_cost", "interactions"),
    "sla_compliance_rate": ("sla_met", "sla_cases"),
    "first_contact_resolution_rate": ("fcr_first_contact", "fcr_cases"),
    "avg_handle_seconds": ("handle_seconds_sum", "handle_n"),
}

#: A group must hold at least this share of the rows, in both periods, to be named as one of
#: the groups that moved most (a KPI without a declared decomposition).
MIN_GROUP_SHARE = 0.05

#: The comparisons, in report order.
COMPARISONS = ("previous", "year_ago")

#: Relative tolerance of the checks that a declared rule still gives the KPI's value.
_RULE_RTOL = 1e-9


# -- decomposition maths ---------------------------------------------------------------------
def log_mean(a: float, b: float) -> float:
    """The logarithmic mean ``(a − b) / (ln a − ln b)`` of two positive numbers (``a`` when
    they are equal)."""
    if a == b:
        return a
    return (a - b) / (math.log(a) - math.log(b))


def shapley_effects(before: Sequence[float], after: Sequence[float]) -> list[float]:
    """Split ``prod(after) − prod(before)`` into one effect per factor (Shapley values).

    Each factor's effect is its marginal change averaged over every order in which the factors
    can move from ``before`` to ``after``; the effects add up exactly, whatever the signs.
    """
    n = len(before)
    effects = [0.0] * n
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for moved in itertools.combinations(others, size):
                base = math.prod(after[j] if j in moved else before[j] for j in others)
                effects[i] += weight * base * (after[i] - before[i])
    return effects


def product_effects(before: Sequence[float], after: Sequence[float]) -> list[float]:
    """Split ``prod(after) − prod(before)`` into one effect per factor, exactly.

    LMDI-I (``L(P1, P0) · ln(x1 / x0)`` for factor ``x``) when every factor is positive,
    Shapley values (:func:`shapley_effects`) otherwise.

    Examples
    --------
    >>> e = product_effects([100, 1.0, 50.0], [110, 1.0, 47.5])
    >>> round(sum(e), 9) == round(110 * 47.5 - 100 * 50.0, 9), e[1] == 0.0
    (True, True)
    """
    if all(x > 0 for x in (*before, *after)):
        p0, p1 = math.prod(before), math.prod(after)
        lm = log_mean(p1, p0)
        return [lm * math.log(x1 / x0) for x0, x1 in zip(before, after, strict=True)]
    return shapley_effects(before, after)


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One driver's share of a change, in the KPI's unit (currency for revenue, a fraction for
    a ratio).

    Attributes
    ----------
    driver : str
        A factor (:data:`FACTORS`), a group (as spelled in the data), ``mix`` or ``rate``.
    effect : float
        Its contribution to the change (the parts of a split add up to the total change, with
        the split's residual).
    before, after : float, optional
        The factor's or group's own value in the base period and the report's period
        (buyers, orders per buyer and average order for factors; the group's value of the KPI
        for groups).
    volume, mix, rate : float, optional
        For a group: its contribution split into the brand-wide volume effect, the effect of
        its share (mix) and of its own rate (they add up to ``effect``).
    """

    driver: str
    effect: float
    before: float | None = None
    after: float | None = None
    volume: float | None = None
    mix: float | None = None
    rate: float | None = None

    @property
    def change(self) -> float | None:
        """The factor's or group's relative change ``after / before − 1`` (None if undefined)."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return finite_or_none(self.after / self.before - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "driver": self.driver,
            "effect": finite_or_none(self.effect),
            "before": finite_or_none(self.before),
            "after": finite_or_none(self.after),
            "change": self.change,
            "volume": finite_or_none(self.volume),
            "mix": finite_or_none(self.mix),
            "rate": finite_or_none(self.rate),
        }


@dataclass
class GroupSplit:
    """A change split by the groups of one dimension.

    Attributes
    ----------
    by : str
        ``customer_type``, ``segment``, ``product_line``, ``channel`` (of the order) or
        ``acquisition_channel``.
    method : str
        ``shift_share`` (volume, mix and rate per group), ``contribution`` (an additive KPI's
        group changes), ``mix_rate`` (a ratio's mix and rate) or ``movers`` (the groups that
        moved most; the parts do not add up).
    parts : list of Part
        By decreasing absolute effect.
    residual : float or None
        Total change minus the sum of the parts (None for ``movers``).
    basis : str, optional
        What the shares are of: ``buyers``, ``orders`` or a ratio's denominator column.
    weights : dict of float, optional
        For ``movers``: each group's average share of the KPI's rows in the two periods.
    """

    by: str
    method: str
    parts: list[Part]
    residual: float | None = 0.0
    basis: str | None = None
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def adds_up(self) -> bool:
        return self.method != "movers"

    def totals(self) -> dict[str, float]:
        """Sum of the parts' volume, mix and rate effects (shift-share and mix/rate splits)."""
        return {
            k: float(sum(getattr(p, k) or 0.0 for p in self.parts))
            for k in ("volume", "mix", "rate")
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "method": self.method,
            "basis": self.basis,
            "parts": [p.to_dict() for p in self.parts],
            "residual": finite_or_none(self.residual),
            "totals": {k: finite_or_none(v) for k, v in self.totals().items()},
        }


@dataclass
class Comparison:
    """A KPI's change against one base period, and its drivers.

    Attributes
    ----------
    against : {"previous", "year_ago"}
    base_period : Period
    before, after : float or None
        The KPI's value in the base period and in the report's period.
    factors : list of Part
        Revenue only: buyers, orders per buyer, average order (they add up to ``total``).
    splits : dict of GroupSplit, by dimension
    lead : str, optional
        The dimension whose largest group explains most of the change (the one the report
        names), if any.
    """

    against: str
    base_period: Period
    before: float | None
    after: float | None
    factors: list[Part] = field(default_factory=list)
    splits: dict[str, GroupSplit] = field(default_factory=dict)
    lead: str | None = None

    @property
    def total(self) -> float | None:
        """``after − before`` in the KPI's unit."""
        if self.before is None or self.after is None:
            return None
        return finite_or_none(self.after - self.before)

    @property
    def relative(self) -> float | None:
        """``after / before − 1``."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return finite_or_none(self.after / self.before - 1)

    @property
    def factor_residual(self) -> float | None:
        if not self.factors or self.total is None:
            return None
        return self.total - sum(p.effect for p in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "base_period": self.base_period.label,
            "before": finite_or_none(self.before),
            "after": finite_or_none(self.after),
            "total": self.total,
            "relative": self.relative,
            "factors": [p.to_dict() for p in self.factors],
            "factor_residual": finite_or_none(self.factor_residual),
            "splits": {k: s.to_dict() for k, s in self.splits.items()},
            "lead": self.lead,
        }


@dataclass
class KpiDrivers:
    """One KPI's changes and their drivers.

    Attributes
    ----------
    kpi : Kpi
    method : str
        ``factors`` (revenue), ``additive``, ``ratio`` or ``movers``.
    period : Period
    comparisons : list of Comparison
        Against the previous period, then the year before (those with both values).
    """

    kpi: Kpi
    method: str
    period: Period
    comparisons: list[Comparison]

    @property
    def id(self) -> str:
        return self.kpi.id

    def comparison(self, against: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.against == against), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi.id,
            "unit": self.kpi.unit,
            "method": self.method,
            "period": self.period.label,
            "comparisons": {c.against: c.to_dict() for c in self.comparisons},
        }


@dataclass
class WhatChanged:
    """Revenue's and the off-track objectives' KPIs' drivers for one brand and period."""

    brand: str
    period: Period
    items: list[KpiDrivers]
    locale: str = "en"
    currency: str = "EUR"
    name: str = ""

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, kpi_id: str) -> KpiDrivers:
        for item in self.items:
            if item.id == kpi_id:
                return item
        raise KeyError(kpi_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "kpis": {item.id: item.to_dict() for item in self.items},
        }


# -- revenue ---------------------------------------------------------------------------------
def _bases(period: Period) -> dict[str, Period]:
    return {"previous": period.previous, "year_ago": period.year_ago}


def _context(db: Database, params: BrandParams, period: Period) -> QueryContext:
    return QueryContext(
        db=db,
        grain=period.grain,
        periods=window_for(period),
        settings=params.settings,
        params=params,
    )


def compute_revenue_table(
    db: Database, params: BrandParams, period: Period | str | None = None
) -> pd.DataFrame:
    """Revenue, orders and buyers of the report's period, the previous one and the year
    before, for the brand and by group, in one database query.

    Returns
    -------
    DataFrame
        Columns ``by`` (``total`` or a key of :data:`REVENUE_DIMENSIONS`), ``group``,
        ``period`` (start, Timestamp), ``revenue`` (currency), ``orders`` and ``buyers``
        (distinct customers who ordered). Needs ``orders`` (``customer_id``, ``ordered_at``,
        ``revenue``, ``product_line``, and ``channel`` for the channel rows).
    """
    period = resolve_period(db, params, period)
    ctx = _context(db, params, period)
    wanted = [period, *_bases(period).values()]
    o = ctx.table("orders")
    o = o.filter(o.ordered_at < ctx.end)
    first = o.group_by(fc=o.customer_id).aggregate(first_at=o.ordered_at.min())
    in_periods = ibis.or_(
        *[(o.ordered_at >= p.start_ts()) & (o.ordered_at < p.end_ts()) for p in wanted]
    )
    o = o.filter(in_periods)
    o = o.mutate(period=ctx.bucket(o.ordered_at))
    o = o.left_join(first, o.customer_id == first.fc).drop("fc")
    o = o.mutate(
        customer_type=ibis.ifelse(o.first_at >= o.period, "new", "returning"),
        product_line=o.product_line.fill_null(UNKNOWN_GROUP),
    )
    dims = {"customer_type": o.customer_type, "product_line": o.product_line}
    if "channel" in o.columns:
        dims["channel"] = o.channel.fill_null(UNKNOWN_GROUP)

    def agg(by: str, group: Any) -> ibis.Table:
        g = o.group_by(period=o.period, group=group).aggregate(
            revenue=o.revenue.sum().fill_null(0.0).cast("float64"),
            orders=o.order_id.nunique().cast("int64"),  # order lines: each order once
            buyers=o.customer_id.nunique().cast("int64"),
        )
        return g.mutate(by=ibis.literal(by)).select("by", "group", "period", *_COUNTS)

    parts = [agg("total", ibis.literal("total"))] + [agg(by, col) for by, col in dims.items()]
    cp = ctx.customer_periods()
    cp = cp.filter(cp.period.isin([p.start_ts() for p in wanted]))
    seg = cp.group_by(period=cp.period, group=cp.segment).aggregate(
        revenue=cp.revenue.sum().fill_null(0.0).cast("float64"),
        orders=cp.orders.sum().cast("int64"),
        buyers=cp.count().cast("int64"),
    )
    parts.append(seg.mutate(by=ibis.literal("segment")).select("by", "group", "period", *_COUNTS))
    df = ibis.union(*parts).execute()
    df["period"] = pd.to_datetime(df["period"]).dt.tz_localize(None)
    df["group"] = df["group"].astype(str)
    return df


_COUNTS = ("revenue", "orders", "buyers")


def _cell(df: pd.DataFrame, p: Period) -> dict[str, float]:
    row = df[df["period"] == pd.Timestamp(p.start)]
    return {c: float(row[c].sum()) for c in _COUNTS}


def _factors(before: dict[str, float], after: dict[str, float]) -> list[Part]:
    def values(c: dict[str, float]) -> list[float]:
        b, o, r = c["buyers"], c["orders"], c["revenue"]
        return [b, o / b, r / o]

    v0, v1 = values(before), values(after)
    effects = product_effects(v0, v1)
    return [
        Part(f, e, before=x0, after=x1)
        for f, e, x0, x1 in zip(FACTORS, effects, v0, v1, strict=True)
    ]


def _shift_share(
    by: str, basis: str, df: pd.DataFrame, base: Period, period: Period, total: float
) -> GroupSplit:
    """Revenue's change by the groups of ``by``: volume, mix and rate effects per group."""
    d = df[df["by"] == by]
    n0 = _cell(df[df["by"] == "total"], base)[basis]
    n1 = _cell(df[df["by"] == "total"], period)[basis]
    parts: list[Part] = []
    for group, g in d.groupby("group", sort=True):
        c0, c1 = _cell(g, base), _cell(g, period)
        if c0[basis] == 0 and c1[basis] == 0:
            continue
        r0 = c0["revenue"] / c0[basis] if c0[basis] else None
        r1 = c1["revenue"] / c1[basis] if c1[basis] else None
        if r0 is None:  # a group that appears: its rate has not changed
            r0 = r1
        if r1 is None:  # a group that vanishes
            r1 = r0
        assert r0 is not None and r1 is not None
        f0 = [n0, c0[basis] / n0 if n0 else 0.0, r0]
        f1 = [n1, c1[basis] / n1 if n1 else 0.0, r1]
        volume, mix, rate = product_effects(f0, f1)
        parts.append(
            Part(
                str(group),
                volume + mix + rate,
                before=c0["revenue"],
                after=c1["revenue"],
                volume=volume,
                mix=mix,
                rate=rate,
            )
        )
    parts.sort(key=lambda p: -abs(p.effect))
    residual = total - sum(p.effect for p in parts)
    return GroupSplit(by, "shift_share", parts, residual=residual, basis=basis)


def lead_dimension(splits: dict[str, GroupSplit], total: float | None) -> str | None:
    """The dimension whose largest group, in the direction of the change, explains the biggest
    share of it (dimensions with one group, or new vs returning, are not candidates; nor is
    the ``new`` segment when new vs returning is there)."""
    if not total:
        return None
    best, best_share = None, 0.0
    for by, s in splits.items():
        if by == "customer_type" or len(s.parts) < 2 or not s.adds_up:
            continue
        # new customers are named by the new vs returning split already
        skip = "new" if by == "segment" and "customer_type" in splits else None
        share = max((p.effect / total for p in s.parts if p.driver != skip), default=0.0)
        if share > best_share:
            best, best_share = by, share
    return best


def compute_revenue_drivers(
    db: Database, params: BrandParams, period: Period | str | None = None
) -> KpiDrivers:
    """Revenue's change against the previous period and the year before, by driver.

    Factors (buyers × orders per buyer × average order, LMDI: no residual) and groups (new vs
    returning, segment, product line, order channel: volume, mix and rate effects), see the
    module's documentation.

    Parameters
    ----------
    db, params, period :
        As for :func:`kpitools.kpis.compute.compute_kpis`.

    Returns
    -------
    KpiDrivers
        Method ``factors``; a comparison is left out when either period has no order.

    Raises
    ------
    MissingTableError
        When the source has no ``orders`` table.
    """
    period = resolve_period(db, params, period)
    if not db.has("orders"):
        raise MissingTableError("orders")
    df = compute_revenue_table(db, params, period)
    total_rows = df[df["by"] == "total"]
    after = _cell(total_rows, period)
    comparisons = []
    for against, base in _bases(period).items():
        before = _cell(total_rows, base)
        if before["orders"] == 0 or after["orders"] == 0:
            continue
        total = after["revenue"] - before["revenue"]
        splits = {
            by: _shift_share(by, basis, df, base, period, total)
            for by, basis in REVENUE_DIMENSIONS.items()
            if (df["by"] == by).any()
        }
        comparisons.append(
            Comparison(
                against,
                base,
                before=before["revenue"],
                after=after["revenue"],
                factors=_factors(before, after),
                splits=splits,
                lead=lead_dimension(splits, total),
            )
        )
    return KpiDrivers(get_kpi("revenue"), "factors", period, comparisons)


# -- any KPI ---------------------------------------------------------------------------------
def _at(frame: pd.DataFrame, p: Period, col: str) -> float | None:
    ts = pd.Timestamp(p.start)
    if ts not in frame.index or col not in frame.columns:
        return None
    return finite_or_none(frame.at[ts, col])


def _value(k: Kpi, frame: pd.DataFrame, p: Period) -> float | None:
    series = k.formula(frame).astype("float64")
    series[frame["n_rows"] <= 0] = float("nan")
    ts = pd.Timestamp(p.start)
    return finite_or_none(series.get(ts)) if ts in series.index else None


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=_RULE_RTOL, abs_tol=1e-12)


def kpi_method(k: Kpi, frame: pd.DataFrame, periods: Iterable[Period]) -> str:
    """How ``k`` can be decomposed: ``additive``, ``ratio`` or ``movers``.

    A declared rule (:data:`ADDITIVE_KPIS`, :data:`RATIO_KPIS`) counts only if it gives the
    KPI's value in every one of ``periods`` on the brand's measure ``frame``.
    """
    periods = list(periods)
    col = ADDITIVE_KPIS.get(k.id)
    if col and col in frame.columns and k.unit in ("count", "currency"):
        if all(_close(_value(k, frame, p), _at(frame, p, col)) for p in periods):
            return "additive"
    rule = RATIO_KPIS.get(k.id)
    if rule and all(c in frame.columns for c in rule):
        num, den = rule

        def ratio(p: Period) -> float | None:
            n, d = _at(frame, p, num), _at(frame, p, den)
            return None if n is None or not d else n / d

        if all(_close(_value(k, frame, p), ratio(p)) for p in periods):
            return "ratio"
    return "movers"


def _additive_split(
    by: str, k: Kpi, groups: dict[str, pd.DataFrame], base: Period, period: Period, total: float
) -> GroupSplit:
    parts = []
    for g, frame in groups.items():
        v0, v1 = _value(k, frame, base) or 0.0, _value(k, frame, period) or 0.0
        if v0 == 0 and v1 == 0:
            continue
        parts.append(Part(g, v1 - v0, before=v0, after=v1))
    parts.sort(key=lambda p: -abs(p.effect))
    residual = total - sum(p.effect for p in parts)
    return GroupSplit(by, "contribution", parts, residual=residual)


def _ratio_split(
    by: str,
    rule: tuple[str, str],
    groups: dict[str, pd.DataFrame],
    base: Period,
    period: Period,
    total: float,
) -> GroupSplit:
    num, den = rule
    cells = {}
    for g, frame in groups.items():
        n0, d0 = _at(frame, base, num) or 0.0, _at(frame, base, den) or 0.0
        n1, d1 = _at(frame, period, num) or 0.0, _at(frame, period, den) or 0.0
        if d0 or d1:
            cells[g] = (n0, d0, n1, d1)
    d0_all = sum(c[1] for c in cells.values())
    d1_all = sum(c[3] for c in cells.values())
    parts = []
    for g, (n0, d0, n1, d1) in cells.items():
        r0 = n0 / d0 if d0 else None
        r1 = n1 / d1 if d1 else None
        r0 = r1 if r0 is None else r0
        r1 = r0 if r1 is None else r1
        assert r0 is not None and r1 is not None
        s0 = d0 / d0_all if d0_all else 0.0
        s1 = d1 / d1_all if d1_all else 0.0
        mix = (s1 - s0) * (r0 + r1) / 2
        rate = (r1 - r0) * (s0 + s1) / 2
        parts.append(
            Part(
                g,
                mix + rate,
                before=n0 / d0 if d0 else None,
                after=n1 / d1 if d1 else None,
                mix=mix,
                rate=rate,
            )
        )
    parts.sort(key=lambda p: -abs(p.effect))
    residual = total - sum(p.effect for p in parts)
    return GroupSplit(by, "mix_rate", parts, residual=residual, basis=den)


def _movers(
    by: str, k: Kpi, groups: dict[str, pd.DataFrame], base: Period, period: Period
) -> GroupSplit:
    rows0 = sum(_at(f, base, "n_rows") or 0.0 for f in groups.values())
    rows1 = sum(_at(f, period, "n_rows") or 0.0 for f in groups.values())
    parts: list[Part] = []
    weight: dict[str, float] = {}
    for g, frame in groups.items():
        n0, n1 = _at(frame, base, "n_rows") or 0.0, _at(frame, period, "n_rows") or 0.0
        if not rows0 or not rows1 or n0 / rows0 < MIN_GROUP_SHARE or n1 / rows1 < MIN_GROUP_SHARE:
            continue
        v0, v1 = _value(k, frame, base), _value(k, frame, period)
        if v0 is None or v1 is None:
            continue
        weight[g] = (n0 / rows0 + n1 / rows1) / 2
        parts.append(Part(g, v1 - v0, before=v0, after=v1))
    # the moves that weigh most: a group's change times its average share of the rows
    parts.sort(key=lambda p: -abs(p.effect) * weight[p.driver])
    return GroupSplit(by, "movers", parts, residual=None, weights=weight)


def compute_kpi_drivers(
    db: Database,
    params: BrandParams,
    kpi_id: str,
    period: Period | str | None = None,
    *,
    dimensions: Sequence[str] = DIMENSIONS,
) -> KpiDrivers | None:
    """A KPI's change against the previous period and the year before, by group.

    Revenue gets :func:`compute_revenue_drivers`; another KPI its group contributions
    (additive), mix and rate effects (ratio) or the groups that moved most (see the module's
    documentation), by segment, product line and acquisition channel: one query per
    dimension, run by the database (pandas only divides the per-group rows).

    Returns
    -------
    KpiDrivers or None
        None when the KPI cannot be decomposed: a table is absent, the KPI has no value in
        the period or either base period, or no dimension has two groups.
    """
    if kpi_id == "revenue":
        try:
            return compute_revenue_drivers(db, params, period)
        except MissingTableError:
            return None
    period = resolve_period(db, params, period)
    k = get_kpi(kpi_id)
    if any(not db.has(t) for t in k.tables):
        return None
    days = maturity_days(k, params)
    if days is not None:
        # a matured KPI is judged on its latest final cohort: decompose that cohort's change
        # (against the cohort before it and the one a year before), never an immature value
        period = latest_mature_cohort(period, days)
    ctx = _context(db, params, period)
    # the scorecard's scope: a brand-wide KPI of a product-line report is the brand's
    ctx = _measure_context(ctx, measure_scope(db, k.measure))
    try:
        brand = _fetch_measure(ctx, k.measure)
    except MissingTableError:
        return None
    bases = {a: b for a, b in _bases(period).items()}
    after = _value(k, brand, period)
    if after is None:
        return None
    known = [p for p in (period, *bases.values()) if _value(k, brand, p) is not None]
    method = kpi_method(k, brand, known)
    by_dim: dict[str, dict[str, pd.DataFrame]] = {}
    for by in dimensions:
        ctx.by = by
        try:
            groups = _fetch_measure(ctx, k.measure)
        except (BreakdownUnsupported, MissingTableError):
            continue
        if len(groups) >= 2:
            by_dim[by] = groups
    if not by_dim:
        return None
    comparisons = []
    for against, base in bases.items():
        before = _value(k, brand, base)
        if before is None:
            continue
        total = after - before
        splits: dict[str, GroupSplit] = {}
        for by, groups in by_dim.items():
            if method == "additive":
                split = _additive_split(by, k, groups, base, period, total)
            elif method == "ratio":
                split = _ratio_split(by, RATIO_KPIS[k.id], groups, base, period, total)
            else:
                split = _movers(by, k, groups, base, period)
            if split.parts:
                splits[by] = split
        lead = lead_dimension(splits, total) if method != "movers" else _movers_lead(splits)
        comparisons.append(Comparison(against, base, before, after, splits=splits, lead=lead))
    if not comparisons:
        return None
    # one dimension for the KPI, so that its words and its table speak of the same groups
    first = next((c.lead for c in comparisons if c.lead), None)
    for c in comparisons:
        c.lead = first if first in c.splits else c.lead
    return KpiDrivers(k, method, period, comparisons)


def _movers_lead(splits: dict[str, GroupSplit]) -> str | None:
    """The dimension holding the group whose move, weighted by its share, is largest."""
    best, best_move = None, 0.0
    for by, s in splits.items():
        move = max((abs(p.effect) * s.weights.get(p.driver, 0.0) for p in s.parts), default=0.0)
        if move > best_move:
            best, best_move = by, move
    return best


def off_track_kpis(objectives: Any) -> list[str]:
    """The KPI ids of the objectives whose status is off track, in their order, once each.

    ``objectives`` is a :class:`kpitools.objectives.ObjectiveReport` (read by its attributes:
    the objectives layer builds on this one).
    """
    ids = [
        o.kpi.id
        for o in getattr(objectives, "objectives", []) or []
        if o.status == Status.OFF_TRACK
    ]
    return list(dict.fromkeys(ids))


def compute_what_changed(
    db: Database,
    params: BrandParams,
    scorecard: Scorecard,
    objectives: Any = None,
) -> WhatChanged:
    """Revenue's drivers, then those of every off-track objective's KPI (page one's "what
    changed").

    Parameters
    ----------
    db, params :
        As for :func:`kpitools.kpis.compute.compute_kpis`.
    scorecard : Scorecard
        The report's scorecard (its period, locale and currency).
    objectives : kpitools.objectives.ObjectiveReport, optional
        :func:`kpitools.objectives.evaluate_objectives`; its off-track objectives' KPIs are
        decomposed after revenue.

    Returns
    -------
    WhatChanged
        KPIs that cannot be decomposed are left out.
    """
    period = scorecard.period
    items = []
    for kpi_id in dict.fromkeys(["revenue", *off_track_kpis(objectives)]):
        item = compute_kpi_drivers(db, params, kpi_id, period)
        if item is not None:
            items.append(item)
    return WhatChanged(
        brand=scorecard.brand,
        period=period,
        items=items,
        locale=scorecard.locale,
        currency=scorecard.currency,
        name=scorecard.name,
    )


__all__ = [
    "ADDITIVE_KPIS",
    "COMPARISONS",
    "FACTORS",
    "RATIO_KPIS",
    "REVENUE_DIMENSIONS",
    "Comparison",
    "GroupSplit",
    "KpiDrivers",
    "Part",
    "WhatChanged",
    "compute_kpi_drivers",
    "compute_revenue_drivers",
    "compute_revenue_table",
    "compute_what_changed",
    "kpi_method",
    "lead_dimension",
    "log_mean",
    "off_track_kpis",
    "product_effects",
    "shapley_effects",
]
