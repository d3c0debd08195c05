"""Objectives → strategies → metrics, as a brand's params file declares them.

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
              - kpi: won_amount_per_rep
                target: {min: 2000}

**Values** are in the KPI's own scale: a ratio is a fraction (``0.62`` for 62 %), and an
absolute value of a ratio KPI (a baseline, a target value, a min or a max) outside [0, 1] is
refused (outside [-1, 1] for a growth rate, which can be negative), so that a target left on an
old scale (``csat: {min: 4}`` from the 1-5 mean) is caught.

**Changes** (``target.change``): ``"+10%"`` is relative to the baseline (baseline + 10 % of
its magnitude, so it also works for a negative NPS); ``"+3 pts"`` (or ``pt``, ``points``,
``pp``, or a bare number) is in points: percentage points for a ratio (``+3 pts`` on 0.60 gives
0.63), the KPI's unit otherwise (``+3`` on an NPS of 30 gives 33, on revenue 3 currency units).
A target worse than its baseline (for the KPI's direction) is refused as a likely sign error.

**Tolerances** are a number or ``"5%"`` (relative: a share of the expected value) or
``"2 pts"`` (absolute, in points as for changes); the default is 5 % relative, and a metric
without a tolerance uses its objective's.

These are declarations only: how they are paced and checked against a scorecard is
:mod:`kpitools.objectives`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Literal, Protocol, get_args

from pydantic import (
    AfterValidator,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..catalogue import (
    KPIS,
    RESCALED,
    SIGNED_RATIOS,
    UNBOUNDED_RATIOS,
    KpiDeclaration,
    check_kpi_ids,
    get_declaration,
)
from ..errors import ParamsError
from .base import _Strict, format_validation_error

#: the customer-facing function that owns a strategy
Function = Literal["marketing", "sales", "service"]
#: how often an objective is reviewed
Review = Literal["monthly", "quarterly", "yearly"]
#: how the statuses of an objective's or a strategy's parts combine
Rollup = Literal["worst", "majority"]
FUNCTIONS: tuple[str, ...] = get_args(Function)
REVIEWS: tuple[str, ...] = get_args(Review)
ROLLUPS: tuple[str, ...] = get_args(Rollup)
#: an objective's tolerance when it gives none: 5 % of the expected value
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


def _check_kpi(v: str) -> str:
    check_kpi_ids([v])  # ValueError listing close matches
    return v


def ratio_range_problem(kpi_id: str | None, value: float, what: str) -> str | None:
    """Why ``value`` (a ``what``: baseline, target, min, max) cannot be one of ``kpi_id``'s.

    None when the KPI is not a ratio or the value lies in [0, 1] ([-1, 1] for a growth rate
    of :data:`SIGNED_RATIOS`). The message says the scale, and what changed when the KPI was
    rescaled (:data:`kpitools.catalogue.RESCALED`).
    """
    k = KPIS.get(kpi_id or "")
    if k is None or k.unit != "ratio" or k.id in UNBOUNDED_RATIOS:
        return None
    lo = -1.0 if k.id in SIGNED_RATIOS else 0.0
    if lo <= value <= 1.0:
        return None
    msg = (
        f"{what} {_fmt(value)} is outside [{lo:g}, 1] for {k.id}, a ratio written as a "
        "fraction (0.62 for 62 %)"
    )
    if k.id in RESCALED:
        msg += f"; note: {RESCALED[k.id]}"
    return msg


def _check_ratio(kpi_id: str | None, value: float | None, what: str) -> None:
    if value is not None:
        problem = ratio_range_problem(kpi_id, value, what)
        if problem:
            raise ValueError(problem)


def _check_tolerance(v: float | str | None) -> float | str | None:
    if v is not None:
        parse_tolerance(v)
    return v


def _fmt(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


KpiId = Annotated[str, AfterValidator(_check_kpi)]
Tolerance = Annotated[float | str, AfterValidator(_check_tolerance)]
Text = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------------------


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
        assert self.change is not None  # the validator requires a value or a change
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

    def resolve(
        self, kpi: KpiDeclaration, baseline: Baseline | None
    ) -> tuple[float | None, float | None]:
        """Final ``(min, max)``; a change becomes a min (higher is better) or a max."""
        if self.change is None:
            return self.min, self.max
        assert baseline is not None
        bound = ObjectiveTarget(change=self.change).resolve(baseline.value, kpi.unit)
        return (bound, None) if kpi.direction == "higher" else (None, bound)


def _worse_than_baseline(kpi: KpiDeclaration, final: float, baseline: float) -> bool:
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

    @field_validator("baseline")
    @classmethod
    def _baseline_on_scale(cls, v: Baseline | None, info: ValidationInfo) -> Baseline | None:
        if v is not None:
            _check_ratio(info.data.get("kpi"), v.value, "the baseline value")
        return v

    @field_validator("target")
    @classmethod
    def _change_needs_baseline(cls, v: MetricBounds, info: ValidationInfo) -> MetricBounds:
        _check_ratio(info.data.get("kpi"), v.min, "min")
        _check_ratio(info.data.get("kpi"), v.max, "max")
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
        k = get_declaration(kpi_id)
        if parse_change(v.change)[0] == "relative" and baseline.value == 0:
            raise ValueError("a relative change needs a non-zero baseline value; give min/max")
        lo, hi = v.resolve(k, baseline)
        final = lo if lo is not None else hi
        if final is not None and _worse_than_baseline(k, final, baseline.value):
            raise ValueError(
                f"the change {v.change!r} moves {kpi_id} away from better ({k.direction} is "
                "better); check the sign"
            )
        return v

    def bounds(self) -> tuple[float | None, float | None]:
        """Final ``(min, max)`` of the target."""
        return self.target.resolve(get_declaration(self.kpi), self.baseline)


class Strategy(_Strict):
    """How an objective is pursued by one function, and the metrics that follow it."""

    title: Text
    function: Function
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
    review: Review = "quarterly"
    rollup: Rollup = "worst"
    tolerance: Tolerance = DEFAULT_TOLERANCE
    grain: Literal["month", "quarter", "year"] | None = Field(
        None,
        description="the period its baseline, target and metric values are stated for; "
        "refused when the brand reports by another period.grain (default: the brand's)",
    )
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

    @field_validator("baseline")
    @classmethod
    def _baseline_on_scale(cls, v: Baseline, info: ValidationInfo) -> Baseline:
        _check_ratio(info.data.get("kpi"), v.value, "the baseline value")
        return v

    @field_validator("target")
    @classmethod
    def _towards_better(cls, v: ObjectiveTarget, info: ValidationInfo) -> ObjectiveTarget:
        _check_ratio(info.data.get("kpi"), v.value, "the target value")
        kpi_id, baseline = info.data.get("kpi"), info.data.get("baseline")
        if kpi_id is None or baseline is None:
            return v  # reported on their own fields
        k = get_declaration(kpi_id)
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
        return self.target.resolve(self.baseline.value, get_declaration(self.kpi).unit)

    def kpi_ids(self) -> list[str]:
        """The outcome KPI and every metric's KPI, without repeats."""
        ids = [self.kpi] + [m.kpi for s in self.strategies for m in s.metrics]
        return list(dict.fromkeys(ids))


def grain_problem(o: Objective, grain: str) -> str | None:
    """Why objective ``o`` cannot be judged in a report by ``grain``, or None.

    An objective's values (baseline, target, metrics' min/max/baselines) describe one period
    of its ``grain``: a month's revenue target would be met by a quarter's revenue three times
    over, and a monthly churn rate is not a quarterly one. kpitools never rescales them
    (seasonality and rates make any factor a guess): an objective stated for another grain is
    refused, and the message says what to change.
    """
    if o.grain is None or o.grain == grain:
        return None
    return (
        f"objective {o.id!r} states its values per {o.grain} (grain: {o.grain}) but the report "
        f"is by {grain} (period.grain): a {o.grain}'s target cannot judge a {grain}'s value; "
        f"restate its baseline, target and metric values per {grain} and write grain: {grain}, "
        f"or report by {o.grain}"
    )


def _unique_ids(v: list[Objective]) -> list[Objective]:
    seen = Counter(o.id for o in v)
    dupes = [i for i, n in seen.items() if n > 1]
    if dupes:
        raise ValueError(f"objective id {dupes[0]!r} is used more than once; ids must be unique")
    return v


#: the type of ``BrandParams.objectives``: a list of objectives with unique ids
ObjectiveList = Annotated[list[Objective], AfterValidator(_unique_ids)]


class HasObjectives(Protocol):
    """Anything with an ``objectives`` list: :class:`~kpitools.params.BrandParams`, say."""

    @property
    def objectives(self) -> list[Objective]: ...


#: what :func:`parse_objectives` accepts
ObjectivesSource = HasObjectives | Objective | Iterable["Objective | dict"] | None

_OBJECTIVE_LIST: TypeAdapter[list[Objective]] = TypeAdapter(ObjectiveList)


def parse_objectives(source: ObjectivesSource) -> list[Objective]:
    """The objectives of ``source``: params (their ``objectives``), one objective, or a list
    of objectives or of mappings as written in a params file.

    Raises
    ------
    ParamsError
        When mappings are invalid, one line per problem (``<objectives>: objectives.0.kpi: …``).
    """
    if hasattr(source, "objectives") and not isinstance(source, list | tuple):
        return list(source.objectives)  # type: ignore[union-attr]
    if isinstance(source, Objective):
        return [source]
    items = list(source or [])  # type: ignore[arg-type]
    if all(isinstance(o, Objective) for o in items):
        return items
    try:
        return _OBJECTIVE_LIST.validate_python(
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


def objective_kpi_ids(objectives: ObjectivesSource) -> list[str]:
    """Every KPI the objectives need (pass them to ``compute_kpis(kpis=...)``)."""
    return list(dict.fromkeys(k for o in parse_objectives(objectives) for k in o.kpi_ids()))


__all__ = [
    "DEFAULT_TOLERANCE",
    "FUNCTIONS",
    "REVIEWS",
    "ROLLUPS",
    "Baseline",
    "Function",
    "MetricBounds",
    "MetricTarget",
    "Objective",
    "ObjectiveList",
    "ObjectiveTarget",
    "ObjectivesSource",
    "Review",
    "Rollup",
    "Strategy",
    "objective_kpi_ids",
    "parse_change",
    "parse_objectives",
    "grain_problem",
    "parse_tolerance",
    "points_to_unit",
    "ratio_range_problem",
]
