"""Objectives → strategies → metrics: what the CRM is for, how, and how we know it works.

Seed 000 asks for three linked levels:

1. a business **objective**, quantified: an outcome KPI, a baseline (value and date), a target
   (a value, or a change such as ``+10%`` from the baseline) and a deadline;
2. **strategies** to reach it, each owned by a customer-facing function (marketing, sales,
   service), with its tactics and the corrective actions to take when it slips;
3. **metrics** that follow each strategy: a KPI with a target (``min``, ``max``, a
   ``min``-``max`` range, or a ``change`` from its own baseline) and corrective actions.

A brand's params file lists them under ``objectives:``::

    objectives:
      - id: new-customer-revenue
        title: Grow revenue from new customers by 10 %
        kpi: new_customer_revenue
        baseline: {value: 88000, date: 2025-01-01}
        target: {change: +10%}
        deadline: 2025-12-31
        review: quarterly            # monthly | quarterly (default) | yearly
        rollup: worst                # worst (default) | majority
        tolerance: 0.05              # default; or "5%", or "2 pts"
        strategies:
          - title: Sell solutions rather than single products
            function: sales
            tactics: [Bundle machine, service plan and coffee subscription]
            actions: [Coach the sales team on solution selling]
            metrics:
              - kpi: average_deal_size
                target: {min: 2500}
                actions: [Review the bundle price list]
              - kpi: revenue_per_salesperson
                target: {min: 2000}

:func:`evaluate_objectives` checks them against a :class:`~kpitools.kpis.compute.Scorecard`.

Rules
-----
**Values** are in the KPI's own scale: a ratio is a fraction (``0.62`` for 62 %).

**Changes** (``target.change``): ``"+10%"`` is relative to the baseline (baseline + 10 % of
its magnitude, so it also works for a negative NPS); ``"+3 pts"`` (or ``pt``, ``points``,
``pp``, or a bare number) is in points: percentage points for a ratio (``+3 pts`` on 0.60 gives
0.63), the KPI's unit otherwise (``+3`` on an NPS of 30 gives 33, on revenue 3 currency units).
A target worse than its baseline (for the KPI's direction) is refused as a likely sign error.

**Pacing**: the target is reached in a straight line from the baseline date to the deadline.
For a report period the expected value is ``baseline + (target - baseline) * f`` with
``f = clamp((period end - baseline date) / (deadline - baseline date), 0, 1)``, where the period
end is the first day after the period. Before the baseline date the KPI must hold the
baseline (f = 0); from the deadline on it must meet the target (f = 1). A metric with its own
baseline is paced the same way towards the objective's deadline; only a bound the baseline
does not already meet is paced (a bound already met must be held). A metric without a
baseline is compared with its bounds directly.

**Status**: *on track* when the value meets the expected value (at least it when higher is
better, at most it when lower is better; inside the range for a range); *at risk* when it
misses by no more than the tolerance; *off track* beyond. The tolerance is a number or
``"5%"`` (relative: a share of the expected value, or of the missed bound of a range) or
``"2 pts"`` (absolute, in points as for changes). The default is 5 % relative; a metric
without a tolerance uses its objective's. A KPI with no value for the period (no data, a
table absent, or not in the scorecard) is *unknown*: never on track.

**Gap**: value minus the expected value, in the KPI's unit (for a range: minus the missed
bound, 0 inside); the relative gap divides it by the expected value's magnitude.

**Roll-up**: an objective's status combines its outcome KPI and all its metrics; a strategy's
combines its metrics. ``worst`` takes the worst known status; ``majority`` the most frequent
known status, a tie going to the worse. In both, a roll-up is never *on track* while one of
its parts is unknown: it is then *unknown* (a known problem, at risk or off track, is still
reported). Nothing known gives *unknown*.

**Reviews**: a report period is a review point when its last month is a review month
(``monthly``: every month; ``quarterly``: March, June, September, December; ``yearly``:
December) or when it holds the deadline. Otherwise the status is still shown, marked "between
reviews", with the date of the next review.

**Actions**: for every objective, strategy or metric at risk or off track, its corrective
actions from the params, in the order of the tree (objective, then each strategy followed by
its metrics).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .catalogue import check_kpi_ids, get_declaration
from .periods import Period

ON_TRACK, AT_RISK, OFF_TRACK, UNKNOWN = "on_track", "at_risk", "off_track", "unknown"
#: every status, best first, unknown last
STATUSES = (ON_TRACK, AT_RISK, OFF_TRACK, UNKNOWN)
_SEVERITY = {ON_TRACK: 0, AT_RISK: 1, OFF_TRACK: 2}
FUNCTIONS = ("marketing", "sales", "service")
REVIEWS = ("monthly", "quarterly", "yearly")
ROLLUPS = ("worst", "majority")
#: months whose end is a review point, per cadence
REVIEW_MONTHS = {"monthly": tuple(range(1, 13)), "quarterly": (3, 6, 9, 12), "yearly": (12,)}
DEFAULT_TOLERANCE = 0.05

_CHANGE = re.compile(
    r"^(?P<sign>[+\-\u2212]?)\s*(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>%|pts?|points?|pp|p\.p\.)?$",
    re.IGNORECASE,
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


# --------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------


def parse_change(change: float | str) -> tuple[str, float]:
    """``"+10%"`` → ``("relative", 0.10)``; ``"+3 pts"``, ``"-2"`` or ``3`` → ``("points", 3.0)``.

    Raises
    ------
    ValueError
        When the text is not a change.
    """
    if isinstance(change, bool):
        raise ValueError(f"change {change!r} is not a change")
    if isinstance(change, (int, float)):
        if not math.isfinite(change):
            raise ValueError(f"change {change!r} is not a finite number")
        return "points", float(change)
    m = _CHANGE.match(str(change).strip())
    if not m:
        raise ValueError(
            f"change {change!r} is not a change: write e.g. '+10%' (relative to the baseline) "
            "or '+3 pts' (points)"
        )
    amount = float(m["num"].replace(",", "."))
    if m["sign"] in ("-", "\u2212"):
        amount = -amount
    if m["unit"] == "%":
        return "relative", amount / 100
    return "points", amount


def parse_tolerance(tolerance: float | str) -> tuple[str, float]:
    """``0.05`` or ``"5%"`` → ``("relative", 0.05)``; ``"2 pts"`` → ``("points", 2.0)``.

    Raises
    ------
    ValueError
        When negative, not a tolerance, or a relative tolerance above 100 %.
    """
    if isinstance(tolerance, bool):
        raise ValueError(f"tolerance {tolerance!r} is not a number")
    if isinstance(tolerance, (int, float)):
        kind, amount = "relative", float(tolerance)
    else:
        text = str(tolerance).strip()
        try:
            kind, amount = "relative", float(text)
        except ValueError:
            m = _CHANGE.match(text)
            if not m or m["sign"]:
                raise ValueError(
                    f"tolerance {tolerance!r} is not a tolerance: write e.g. 0.05 or '5%' "
                    "(a share of the expected value) or '2 pts' (points)"
                ) from None
            kind, amount = parse_change(text)
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"tolerance {tolerance!r} must be zero or positive")
    if kind == "relative" and amount > 1:
        raise ValueError(
            f"tolerance {tolerance!r} is a share of the expected value and must be at most 1 "
            "(write 0.05 or '5%' for five per cent, '5 pts' for points)"
        )
    return kind, amount


def points_to_unit(amount: float, unit: str) -> float:
    """Points in the KPI's scale: percentage points for a ratio (÷ 100), the unit otherwise."""
    return amount / 100 if unit == "ratio" else amount


def _kpi(kpi_id: str):
    return get_declaration(kpi_id)


def _check_kpi(v: str) -> str:
    check_kpi_ids([v])  # ValueError listing close matches
    return v


def _check_tolerance(v):
    if v is not None:
        parse_tolerance(v)
    return v


def _fmt(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


KpiId = Annotated[str, AfterValidator(_check_kpi)]
Tolerance = Annotated[float | str, AfterValidator(_check_tolerance)]
Text = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------------------
# Params models
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    # same settings as kpitools.params._Strict (not imported: params imports this module)
    model_config = ConfigDict(extra="forbid", frozen=True)


class Baseline(_Strict):
    """Where a KPI stood when the objective was set: a value (KPI scale) on a date."""

    value: float
    date: dt.date

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("the baseline value must be a finite number")
        return v


class ObjectiveTarget(_Strict):
    """The objective's target: a ``value``, or a ``change`` from the baseline."""

    value: float | None = None
    change: float | str | None = Field(
        None, description="'+10%' (relative to the baseline) or '+3 pts' (points)"
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.value is None) == (self.change is None):
            raise ValueError(
                "give either a value (value: 120000) or a change from the baseline "
                "(change: +10%), not both"
                if self.value is not None
                else "give a value (value: 120000) or a change from the baseline (change: +10%)"
            )
        if self.change is not None:
            parse_change(self.change)
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError("the target value must be a finite number")
        return self

    def resolve(self, baseline: float, unit: str) -> float:
        """The final target for this baseline and KPI unit."""
        if self.value is not None:
            return float(self.value)
        kind, amount = parse_change(self.change)
        if kind == "relative":
            return baseline + abs(baseline) * amount
        return baseline + points_to_unit(amount, unit)


class MetricBounds(_Strict):
    """A metric's target: ``min``, ``max``, both (a range), or a ``change`` from its baseline."""

    min: float | None = None
    max: float | None = None
    change: float | str | None = Field(
        None,
        description="from the metric's baseline: a min when higher is better, else a max",
    )

    @model_validator(mode="after")
    def _consistent(self):
        has_bound = self.min is not None or self.max is not None
        if self.change is not None and has_bound:
            raise ValueError("give min and/or max, or a change from the baseline, not both")
        if self.change is None and not has_bound:
            raise ValueError("give min, max, both (a range) or a change from the metric's baseline")
        for name in ("min", "max"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({_fmt(self.min)}) is greater than max ({_fmt(self.max)})")
        if self.change is not None:
            parse_change(self.change)
        return self

    def resolve(self, kpi, baseline: Baseline | None) -> tuple[float | None, float | None]:
        """Final ``(min, max)``; a change becomes a min (higher is better) or a max."""
        if self.change is None:
            return self.min, self.max
        assert baseline is not None
        bound = ObjectiveTarget(change=self.change).resolve(baseline.value, kpi.unit)
        return (bound, None) if kpi.direction == "higher" else (None, bound)


def _worse_than_baseline(kpi, final: float, baseline: float) -> bool:
    return final < baseline if kpi.direction == "higher" else final > baseline


class MetricTarget(_Strict):
    """A KPI that follows a strategy, with its target and corrective actions."""

    kpi: KpiId
    baseline: Baseline | None = Field(
        None, description="optional: paced from it towards the target by the deadline"
    )
    target: MetricBounds
    tolerance: Tolerance | None = Field(None, description="default: the objective's")
    actions: list[Text] = Field(default_factory=list)

    @field_validator("target")
    @classmethod
    def _change_needs_baseline(cls, v: MetricBounds, info: ValidationInfo) -> MetricBounds:
        if v.change is None:
            return v
        baseline = info.data.get("baseline")
        if baseline is None:
            if "baseline" in info.data:
                raise ValueError("a change needs the metric's baseline {value, date}")
            return v  # the baseline itself is invalid and reported
        kpi_id = info.data.get("kpi")
        if kpi_id is None:
            return v
        k = _kpi(kpi_id)
        if parse_change(v.change)[0] == "relative" and baseline.value == 0:
            raise ValueError("a relative change needs a non-zero baseline value; give min/max")
        lo, hi = v.resolve(k, baseline)
        final = lo if lo is not None else hi
        if _worse_than_baseline(k, final, baseline.value):
            raise ValueError(
                f"the change {v.change!r} moves {kpi_id} away from better ({k.direction} is "
                "better); check the sign"
            )
        return v

    def bounds(self) -> tuple[float | None, float | None]:
        """Final ``(min, max)`` of the target."""
        return self.target.resolve(_kpi(self.kpi), self.baseline)


class Strategy(_Strict):
    """How an objective is pursued by one function, and the metrics that follow it."""

    title: Text
    function: Literal["marketing", "sales", "service"]
    tactics: list[Text] = Field(default_factory=list)
    actions: list[Text] = Field(
        default_factory=list, description="corrective actions when the strategy slips"
    )
    metrics: list[MetricTarget]

    @field_validator("metrics")
    @classmethod
    def _some(cls, v: list[MetricTarget]) -> list[MetricTarget]:
        if not v:
            raise ValueError("a strategy needs at least one metric to follow it")
        return v


class Objective(_Strict):
    """A quantified business objective, its strategies and their metrics (see module doc)."""

    id: str
    title: Text
    kpi: KpiId = Field(description="the outcome KPI")
    baseline: Baseline
    target: ObjectiveTarget
    deadline: dt.date
    review: Literal["monthly", "quarterly", "yearly"] = "quarterly"
    rollup: Literal["worst", "majority"] = "worst"
    tolerance: Tolerance = DEFAULT_TOLERANCE
    actions: list[Text] = Field(
        default_factory=list, description="corrective actions when the objective slips"
    )
    strategies: list[Strategy] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(
                f"id {v!r}: use lower-case letters, digits, '-' and '_' (e.g. new-customer-revenue)"
            )
        return v

    @field_validator("target")
    @classmethod
    def _towards_better(cls, v: ObjectiveTarget, info: ValidationInfo) -> ObjectiveTarget:
        kpi_id, baseline = info.data.get("kpi"), info.data.get("baseline")
        if kpi_id is None or baseline is None:
            return v  # reported on their own fields
        k = _kpi(kpi_id)
        if v.change is not None and parse_change(v.change)[0] == "relative":
            if baseline.value == 0:
                raise ValueError(
                    "a relative change needs a non-zero baseline value; give target.value"
                )
        final = v.resolve(baseline.value, k.unit)
        if _worse_than_baseline(k, final, baseline.value):
            raise ValueError(
                f"the target ({_fmt(final)}) is worse than the baseline "
                f"({_fmt(baseline.value)}) for {kpi_id}, where {k.direction} is better; "
                "check the sign"
            )
        return v

    @field_validator("deadline")
    @classmethod
    def _after_baseline(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        baseline = info.data.get("baseline")
        if baseline is not None and v <= baseline.date:
            when = "the same day as" if v == baseline.date else "before"
            raise ValueError(f"deadline {v} is {when} the baseline date {baseline.date}")
        return v

    @field_validator("strategies")
    @classmethod
    def _metric_baselines(cls, v: list[Strategy], info: ValidationInfo) -> list[Strategy]:
        deadline = info.data.get("deadline")
        if deadline is None:
            return v
        for i, s in enumerate(v):
            for j, m in enumerate(s.metrics):
                if m.baseline is not None and m.baseline.date >= deadline:
                    raise ValueError(
                        f"{i}.metrics.{j}.baseline.date: {m.baseline.date} is not before the "
                        f"objective's deadline {deadline}"
                    )
        return v

    def target_value(self) -> float:
        """The final target in the KPI's scale."""
        return self.target.resolve(self.baseline.value, _kpi(self.kpi).unit)

    def kpi_ids(self) -> list[str]:
        """The outcome KPI and every metric's KPI, without repeats."""
        ids = [self.kpi] + [m.kpi for s in self.strategies for m in s.metrics]
        return list(dict.fromkeys(ids))


def _unique_ids(v: list[Objective]) -> list[Objective]:
    seen = Counter(o.id for o in v)
    dupes = [i for i, n in seen.items() if n > 1]
    if dupes:
        raise ValueError(f"objective id {dupes[0]!r} is used more than once; ids must be unique")
    return v


#: the type of ``BrandParams.objectives``: a list of objectives with unique ids
ObjectiveList = Annotated[list[Objective], AfterValidator(_unique_ids)]


def objective_kpi_ids(objectives) -> list[str]:
    """Every KPI the objectives need (pass them to ``compute_kpis(kpis=...)``)."""
    return list(dict.fromkeys(k for o in _as_objectives(objectives) for k in o.kpi_ids()))


# --------------------------------------------------------------------------------------
# Pacing, status, roll-up, reviews
# --------------------------------------------------------------------------------------


def pacing_fraction(period_end: dt.date, start: dt.date, deadline: dt.date) -> float:
    """Share of the way from ``start`` to ``deadline`` at ``period_end``, clamped to [0, 1]."""
    if period_end <= start:
        return 0.0
    if period_end >= deadline:
        return 1.0
    return (period_end - start).days / (deadline - start).days


def paced_value(baseline: float, target: float, fraction: float) -> float:
    """``baseline + (target - baseline) * fraction``."""
    return baseline + (target - baseline) * fraction


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def tolerance_band(tolerance: tuple[str, float], reference: float, unit: str) -> float:
    """How far (KPI scale) a value may miss ``reference`` and still be at risk."""
    kind, amount = tolerance
    if kind == "points":
        return points_to_unit(amount, unit)
    return amount * abs(reference)


def assess(
    value: float | None,
    low: float | None,
    high: float | None,
    tolerance: tuple[str, float],
    unit: str,
) -> tuple[str, float | None, float | None]:
    """Status, gap and relative gap of ``value`` against the bounds ``[low, high]``.

    One bound is a one-sided target (at least ``low``, at most ``high``); both are a range.
    The gap is ``value - bound`` for a one-sided target; for a range, value minus the missed
    bound, 0 inside. The relative gap divides it by the bound's magnitude (None when 0).
    """
    if value is None:
        return UNKNOWN, None, None
    if low is not None and value < low and not _close(value, low):
        miss, ref = low - value, low
    elif high is not None and value > high and not _close(value, high):
        miss, ref = value - high, high
    else:
        miss, ref = None, None
    if low is not None and high is not None:
        gap_ref = ref
        gap = 0.0 if ref is None else value - ref
    else:
        gap_ref = low if low is not None else high
        gap = value - gap_ref
    rel = gap / abs(gap_ref) if gap_ref not in (None, 0) else (0.0 if gap == 0 else None)
    if miss is None:
        return ON_TRACK, gap, rel
    band = tolerance_band(tolerance, ref, unit)
    status = AT_RISK if (miss <= band or _close(miss, band)) else OFF_TRACK
    return status, gap, rel


def rollup(statuses, rule: str = "worst") -> str:
    """Combine statuses by ``worst`` or ``majority`` (see the module doc).

    >>> rollup(["on_track", "at_risk", "off_track"], "worst")
    'off_track'
    >>> rollup(["on_track", "on_track", "off_track"], "majority")
    'on_track'
    >>> rollup(["on_track", "unknown"], "worst")
    'unknown'
    """
    statuses = list(statuses)
    if rule not in ROLLUPS:
        raise ValueError(f"unknown roll-up rule {rule!r}; choose {' or '.join(ROLLUPS)}")
    known = [s for s in statuses if s != UNKNOWN]
    if not known:
        return UNKNOWN
    if rule == "worst":
        result = max(known, key=_SEVERITY.__getitem__)
    else:
        counts = Counter(known)
        result = max(counts, key=lambda s: (counts[s], _SEVERITY[s]))
    if result == ON_TRACK and len(known) < len(statuses):
        return UNKNOWN
    return result


def _last_day(period: Period) -> dt.date:
    return period.end - dt.timedelta(days=1)


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def is_review_point(period: Period, review: str, deadline: dt.date | None = None) -> bool:
    """Whether ``period`` ends on a review boundary of ``review`` or holds ``deadline``."""
    if deadline is not None and period.start <= deadline < period.end:
        return True
    return _last_day(period).month in REVIEW_MONTHS[review]


def next_review(period: Period, review: str, deadline: dt.date | None = None) -> dt.date:
    """Last day of the next review month after ``period`` (or the deadline, if sooner)."""
    last = _last_day(period)
    year, month = last.year, last.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if month in REVIEW_MONTHS[review]:
            break
    nxt = _month_end(year, month)
    if deadline is not None and last < deadline < nxt:
        return deadline
    return nxt


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass
class Action:
    """A corrective action to take now: its text and what it comes from."""

    text: str
    level: str  # objective | strategy | metric
    source: str  # the objective's or strategy's title, or the metric's KPI id
    status: str  # at_risk | off_track

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "source": self.source,
            "status": self.status,
            "text": self.text,
        }


@dataclass
class MetricResult:
    """A metric against its (paced) target."""

    metric: MetricTarget
    kpi: Any  # kpitools.kpis.registry.Kpi
    target_min: float | None
    target_max: float | None
    expected_min: float | None
    expected_max: float | None
    fraction: float | None  # pacing share, None without a baseline
    value: float | None
    kpi_status: str  # ok | no_data | not_available | missing
    reason: str | None
    status: str
    gap: float | None
    relative_gap: float | None
    tolerance: tuple[str, float]

    @property
    def kpi_id(self) -> str:
        return self.kpi.id

    @property
    def actions(self) -> list[str]:
        """Corrective actions to take now (none when on track or unknown)."""
        return list(self.metric.actions) if self.status in (AT_RISK, OFF_TRACK) else []

    def to_dict(self) -> dict:
        b = self.metric.baseline
        return {
            "kpi": self.kpi.id,
            "unit": self.kpi.unit,
            "direction": self.kpi.direction,
            "baseline": None if b is None else {"value": b.value, "date": b.date.isoformat()},
            "target": {"min": self.target_min, "max": self.target_max},
            "expected": {"min": self.expected_min, "max": self.expected_max},
            "progress": self.fraction,
            "value": self.value,
            "kpi_status": self.kpi_status,
            "reason": self.reason,
            "status": self.status,
            "gap": self.gap,
            "relative_gap": self.relative_gap,
            "tolerance": {"kind": self.tolerance[0], "amount": self.tolerance[1]},
            "actions": self.actions,
        }


@dataclass
class StrategyResult:
    """A strategy and its metrics, with the roll-up of their statuses."""

    strategy: Strategy
    status: str
    metrics: list[MetricResult]

    @property
    def title(self) -> str:
        return self.strategy.title

    @property
    def function(self) -> str:
        return self.strategy.function

    @property
    def actions(self) -> list[str]:
        """The strategy's own corrective actions to take now."""
        return list(self.strategy.actions) if self.status in (AT_RISK, OFF_TRACK) else []

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "function": self.function,
            "tactics": list(self.strategy.tactics),
            "status": self.status,
            "actions": self.actions,
            "metrics": [m.to_dict() for m in self.metrics],
        }


@dataclass
class ObjectiveResult:
    """An objective for the report's period: outcome, strategies, roll-up, review, actions."""

    objective: Objective
    kpi: Any
    target: float  # final target
    expected: float  # paced target for the period
    fraction: float
    value: float | None
    kpi_status: str
    reason: str | None
    outcome_status: str  # the outcome KPI alone
    status: str  # roll-up of the outcome and every metric
    gap: float | None
    relative_gap: float | None
    review_point: bool
    next_review: dt.date | None
    deadline_passed: bool
    strategies: list[StrategyResult]
    actions: list[Action] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.objective.id

    @property
    def title(self) -> str:
        return self.objective.title

    @property
    def metrics(self) -> list[MetricResult]:
        return [m for s in self.strategies for m in s.metrics]

    def to_dict(self) -> dict:
        o = self.objective
        return {
            "id": o.id,
            "title": o.title,
            "kpi": o.kpi,
            "unit": self.kpi.unit,
            "direction": self.kpi.direction,
            "baseline": {"value": o.baseline.value, "date": o.baseline.date.isoformat()},
            "target": self.target,
            "deadline": o.deadline.isoformat(),
            "expected": self.expected,
            "progress": self.fraction,
            "value": self.value,
            "kpi_status": self.kpi_status,
            "reason": self.reason,
            "outcome_status": self.outcome_status,
            "status": self.status,
            "gap": self.gap,
            "relative_gap": self.relative_gap,
            "rollup": o.rollup,
            "tolerance": {
                "kind": parse_tolerance(o.tolerance)[0],
                "amount": parse_tolerance(o.tolerance)[1],
            },
            "review": o.review,
            "review_point": self.review_point,
            "next_review": self.next_review.isoformat() if self.next_review else None,
            "deadline_passed": self.deadline_passed,
            "strategies": [s.to_dict() for s in self.strategies],
            "actions": [a.to_dict() for a in self.actions],
        }


@dataclass
class ObjectiveReport:
    """Every objective of a brand for one period (see :func:`evaluate_objectives`)."""

    period: Period
    objectives: list[ObjectiveResult]
    locale: str = "en"
    currency: str = "EUR"

    def __iter__(self):
        return iter(self.objectives)

    def __len__(self) -> int:
        return len(self.objectives)

    def __getitem__(self, objective_id: str) -> ObjectiveResult:
        for o in self.objectives:
            if o.id == objective_id:
                return o
        raise KeyError(objective_id)

    def counts(self) -> dict[str, int]:
        """Objectives per status: ``{"on_track": n, "at_risk": n, "off_track": n, "unknown": n}``."""
        c = Counter(o.status for o in self.objectives)
        return {s: c.get(s, 0) for s in STATUSES}

    def actions(self) -> list[Action]:
        """Every action to take now, objective by objective."""
        return [a for o in self.objectives for a in o.actions]

    def to_dict(self) -> dict:
        """The ``objectives`` section of ``kpis.json``.

        ``period_end`` is the first day after the period, the date the expected values are
        paced to; numbers are in each KPI's scale (ratios as fractions), missing ones None.
        """
        return {
            "period": self.period.label,
            "period_end": self.period.end.isoformat(),
            "counts": self.counts(),
            "objectives": [o.to_dict() for o in self.objectives],
        }

    def rule_text(self, locale: str | None = None) -> str:
        return rule_text(locale or self.locale)

    def _repr_html_(self) -> str:
        from .report.objectives import objectives_html

        return objectives_html(self)


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------


def _as_objectives(source) -> list[Objective]:
    if hasattr(source, "objectives") and not isinstance(source, (list, tuple)):
        return list(source.objectives)
    if isinstance(source, Objective):
        return [source]
    items = list(source or [])
    if all(isinstance(o, Objective) for o in items):
        return items
    from pydantic import TypeAdapter

    from .errors import ParamsError
    from .params import format_validation_error

    try:
        return TypeAdapter(ObjectiveList).validate_python(
            [o.model_dump() if isinstance(o, Objective) else o for o in items]
        )
    except ValidationError as exc:
        origin = "<objectives>"
        lines = []
        for line in format_validation_error(origin, exc):
            where, _, rest = line.removeprefix(f"{origin}: ").partition(": ")
            where = "objectives" if where == "(top level)" else f"objectives.{where}"
            lines.append(f"{origin}: {where}: {rest}")
        raise ParamsError(origin, lines) from None


def _lookup(scorecard, kpi_id: str) -> tuple[float | None, str, str | None]:
    r = scorecard.results.get(kpi_id)
    if r is None:
        return None, "missing", "not in the scorecard"
    value = _num(r.value)
    if r.status != "ok" or value is None:
        return None, r.status if r.status != "ok" else "no_data", r.reason or "no data in period"
    return value, "ok", None


def _evaluate_metric(m: MetricTarget, objective: Objective, scorecard) -> MetricResult:
    k = _kpi(m.kpi)
    lo, hi = m.bounds()
    end = scorecard.period.end
    if m.baseline is not None:
        f = pacing_fraction(end, m.baseline.date, objective.deadline)
        b = m.baseline.value
        elo = lo if lo is None or b >= lo else paced_value(b, lo, f)
        ehi = hi if hi is None or b <= hi else paced_value(b, hi, f)
    else:
        f, elo, ehi = None, lo, hi
    tol = parse_tolerance(m.tolerance if m.tolerance is not None else objective.tolerance)
    value, kpi_status, reason = _lookup(scorecard, m.kpi)
    status, gap, rel = assess(value, elo, ehi, tol, k.unit)
    return MetricResult(
        metric=m,
        kpi=k,
        target_min=lo,
        target_max=hi,
        expected_min=elo,
        expected_max=ehi,
        fraction=f,
        value=value,
        kpi_status=kpi_status,
        reason=reason,
        status=status,
        gap=gap,
        relative_gap=rel,
        tolerance=tol,
    )


def _evaluate(o: Objective, scorecard) -> ObjectiveResult:
    period = scorecard.period
    k = _kpi(o.kpi)
    target = o.target_value()
    f = pacing_fraction(period.end, o.baseline.date, o.deadline)
    expected = paced_value(o.baseline.value, target, f)
    tol = parse_tolerance(o.tolerance)
    value, kpi_status, reason = _lookup(scorecard, o.kpi)
    low, high = (expected, None) if k.direction == "higher" else (None, expected)
    outcome, gap, rel = assess(value, low, high, tol, k.unit)

    strategies = []
    for s in o.strategies:
        metrics = [_evaluate_metric(m, o, scorecard) for m in s.metrics]
        strategies.append(StrategyResult(s, rollup([m.status for m in metrics], o.rollup), metrics))
    status = rollup([outcome] + [m.status for s in strategies for m in s.metrics], o.rollup)

    actions: list[Action] = []
    bad = (AT_RISK, OFF_TRACK)
    if status in bad:
        actions += [Action(a, "objective", o.title, status) for a in o.actions]
    for s in strategies:
        if s.status in bad:
            actions += [Action(a, "strategy", s.title, s.status) for a in s.strategy.actions]
        for m in s.metrics:
            actions += [Action(a, "metric", m.kpi_id, m.status) for a in m.actions]
    seen: set[str] = set()
    unique = []
    for a in actions:  # the same action named at two levels is listed once, first place
        if a.text not in seen:
            seen.add(a.text)
            unique.append(a)

    review = is_review_point(period, o.review, o.deadline)
    return ObjectiveResult(
        objective=o,
        kpi=k,
        target=target,
        expected=expected,
        fraction=f,
        value=value,
        kpi_status=kpi_status,
        reason=reason,
        outcome_status=outcome,
        status=status,
        gap=gap,
        relative_gap=rel,
        review_point=review,
        next_review=None if review else next_review(period, o.review, o.deadline),
        deadline_passed=period.start > o.deadline,
        strategies=strategies,
        actions=unique,
    )


def evaluate_objectives(params_or_objectives, scorecard) -> ObjectiveReport:
    """Check a brand's objectives, strategies and metrics against a scorecard.

    Parameters
    ----------
    params_or_objectives : BrandParams, Objective, or list of Objective or dict
        The brand's params (their ``objectives``), or objectives directly.
    scorecard : kpitools.kpis.compute.Scorecard
        Its period is the report's period; KPIs missing from it are *unknown*.
        :func:`objective_kpi_ids` lists the KPIs to compute.

    Returns
    -------
    ObjectiveReport
        Per objective: expected (paced) value, value, gap, status, review point, strategies
        with their metrics, and the corrective actions to take now.

    Raises
    ------
    ParamsError
        When objectives given as dicts are invalid (one line per problem).
    """
    objectives = _as_objectives(params_or_objectives)
    return ObjectiveReport(
        period=scorecard.period,
        objectives=[_evaluate(o, scorecard) for o in objectives],
        locale=getattr(scorecard, "locale", "en"),
        currency=getattr(scorecard, "currency", "EUR"),
    )


# --------------------------------------------------------------------------------------
# The rules in plain words
# --------------------------------------------------------------------------------------

_RULES = {
    "en": (
        "Each objective is expected to move in a straight line from its baseline to its "
        "target by its deadline. The expected value for this period is the baseline plus the "
        "share of that time elapsed at the end of the period times the planned change "
        "(nothing before the baseline date, the whole change from the deadline on). An "
        "indicator is on track when it meets the expected value (at least it when higher is "
        "better, at most it when lower is better, inside the range for a range), at risk when "
        "it misses it by no more than the tolerance (5 % of the expected value unless stated; "
        "tolerances in points are percentage points for rates), and off track beyond. An "
        "indicator without a value for the period is unknown, never on track. A strategy "
        "combines its metrics, an objective its outcome indicator and all its metrics: by the "
        "worst status, or by the most frequent one (a tie goes to the worse). A combination "
        "with an unknown part is never on track. Objectives are reviewed monthly, quarterly "
        "(end of March, June, September and December) or yearly (end of December), and at "
        "their deadline; between two reviews the status is shown for information. Corrective "
        "actions are listed for everything at risk or off track."
    ),
    "fr": (
        "Chaque objectif doit progresser en ligne droite de sa valeur de départ à sa cible "
        "jusqu'à son échéance. La valeur attendue pour cette période est la valeur de départ "
        "plus la part du temps écoulée à la fin de la période multipliée par la variation "
        "prévue (rien avant la date de départ, toute la variation à partir de l'échéance). Un "
        "indicateur est en bonne voie s'il atteint la valeur attendue (au moins celle-ci quand "
        "plus élevé est meilleur, au plus quand plus bas est meilleur, dans la fourchette pour "
        "une fourchette), à risque s'il la manque d'au plus la tolérance (5 % de la valeur "
        "attendue sauf mention contraire ; une tolérance en points s'exprime en points de "
        "pourcentage pour les taux), et hors trajectoire au-delà. Un indicateur sans valeur "
        "pour la période est indéterminé, jamais en bonne voie. Une stratégie combine ses "
        "mesures, un objectif son indicateur de résultat et toutes ses mesures : selon le pire "
        "statut, ou selon le plus fréquent (en cas d'égalité, le moins bon l'emporte). Une "
        "combinaison dont une partie est indéterminée n'est jamais en bonne voie. Les objectifs "
        "sont revus chaque mois, chaque trimestre (fin mars, juin, septembre et décembre) ou "
        "chaque année (fin décembre), ainsi qu'à leur échéance ; entre deux revues, le statut "
        "est donné pour information. Les actions correctives sont listées pour tout ce qui est "
        "à risque ou hors trajectoire."
    ),
    "it": (
        "Ogni obiettivo deve avanzare in linea retta dal valore di partenza al traguardo entro "
        "la scadenza. Il valore atteso per questo periodo è il valore di partenza più la quota "
        "di tempo trascorsa alla fine del periodo moltiplicata per la variazione prevista "
        "(nulla prima della data di partenza, tutta la variazione dalla scadenza in poi). Un "
        "indicatore è in linea se raggiunge il valore atteso (almeno quello quando più alto è "
        "meglio, al massimo quello quando più basso è meglio, dentro l'intervallo per un "
        "intervallo), a rischio se lo manca al più della tolleranza (il 5 % del valore atteso "
        "salvo indicazione; una tolleranza in punti è in punti percentuali per i tassi) e "
        "fuori rotta oltre. Un indicatore senza valore per il periodo è non determinabile, mai "
        "in linea. Una strategia combina le sue metriche, un obiettivo il suo indicatore di "
        "risultato e tutte le sue metriche: secondo lo stato peggiore, o secondo il più "
        "frequente (in caso di parità prevale il peggiore). Una combinazione con una parte non "
        "determinabile non è mai in linea. Gli obiettivi sono rivisti ogni mese, ogni "
        "trimestre (fine marzo, giugno, settembre e dicembre) o ogni anno (fine dicembre), e "
        "alla scadenza; tra due revisioni lo stato è indicativo. Le azioni correttive sono "
        "elencate per tutto ciò che è a rischio o fuori rotta."
    ),
}


def rule_text(locale: str = "en") -> str:
    """The pacing, status, roll-up and review rules in plain words (en, fr or it)."""
    return _RULES.get(locale, _RULES["en"])


__all__ = [
    "AT_RISK",
    "OFF_TRACK",
    "ON_TRACK",
    "STATUSES",
    "UNKNOWN",
    "Action",
    "Baseline",
    "MetricBounds",
    "MetricResult",
    "MetricTarget",
    "Objective",
    "ObjectiveList",
    "ObjectiveReport",
    "ObjectiveResult",
    "ObjectiveTarget",
    "Strategy",
    "StrategyResult",
    "assess",
    "evaluate_objectives",
    "is_review_point",
    "next_review",
    "objective_kpi_ids",
    "pacing_fraction",
    "parse_change",
    "parse_tolerance",
    "rollup",
    "rule_text",
]
