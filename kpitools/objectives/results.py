"""What :func:`~kpitools.objectives.evaluate_objectives` returns: plain result objects.

Numbers are in each KPI's scale (ratios as fractions), missing ones ``None``; statuses are
:class:`~kpitools.vocab.Status` members (equal to their strings). ``to_dict()`` gives the
``objectives`` section of ``kpis.json`` with codes where a reader needs words (``reason``); the
report layer (:func:`kpitools.report.objectives.objectives_document`) words them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import KpiDeclaration
from ..params.objectives import MetricTarget, Objective, Strategy
from ..periods import Period
from ..vocab import KpiStatus, Scope, Status

#: statuses that call for corrective actions
SLIPPING = (Status.AT_RISK, Status.OFF_TRACK)


@dataclass
class Action:
    """A corrective action to take now: its text (from the params) and what it comes from."""

    text: str
    level: str  # objective | strategy | metric
    source: str  # the objective's or strategy's title, or the metric's KPI id
    status: Status  # at_risk | off_track

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "source": self.source,
            "status": self.status,
            "text": self.text,
        }


@dataclass
class MetricResult:
    """A metric against its (paced) target.

    ``kpi_status`` (:class:`~kpitools.vocab.KpiStatus`) says why a value may be missing: ``ok``, ``no_data``, ``not_available``
    (as the scorecard's KPI result) or ``missing`` (the KPI is not in the scorecard);
    ``reason`` and ``missing_tables`` are the KPI result's (a
    :class:`~kpitools.vocab.Reason` code such as ``no_data`` or ``needs_table``, and
    the tables absent from the source), when it gave them. For a matured KPI (a rate that
    needs time to happen), ``cohort`` is the period its value describes (the latest final
    cohort, not the report's period) and ``window_days`` its window; the expected value is
    paced to the cohort's end.
    """

    metric: MetricTarget
    kpi: KpiDeclaration
    target_min: float | None
    target_max: float | None
    expected_min: float | None
    expected_max: float | None
    fraction: float | None  # pacing share, None without a baseline
    value: float | None
    kpi_status: KpiStatus
    reason: str | None
    missing_tables: tuple[str, ...]
    status: Status
    gap: float | None
    relative_gap: float | None
    tolerance: tuple[str, float]
    #: the KPI result's scope: None in a brand report, ``brand`` when it is brand-wide in a
    #: product-line report (the line's data cannot be told apart), ``line`` otherwise
    scope: Scope | None = None
    cohort: Period | None = None
    window_days: int | None = None

    @property
    def kpi_id(self) -> str:
        return self.kpi.id

    @property
    def actions(self) -> list[str]:
        """Corrective actions to take now (none when on track or unknown)."""
        return list(self.metric.actions) if self.status in SLIPPING else []

    def to_dict(self) -> dict[str, Any]:
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
            "scope": self.scope,
            "cohort": self.cohort.label if self.cohort is not None else None,
        }


@dataclass
class StrategyResult:
    """A strategy and its metrics, with the roll-up of their statuses."""

    strategy: Strategy
    status: Status
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
        return list(self.strategy.actions) if self.status in SLIPPING else []

    def to_dict(self) -> dict[str, Any]:
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
    """An objective for the report's period: outcome, strategies, roll-up, review, actions.

    ``kpi_status``, ``reason``, ``missing_tables``, ``cohort`` and ``window_days`` are those
    of the outcome KPI, as in :class:`MetricResult`.
    """

    objective: Objective
    kpi: KpiDeclaration
    target: float  # final target
    expected: float  # paced target for the period
    fraction: float
    value: float | None
    kpi_status: KpiStatus
    reason: str | None
    missing_tables: tuple[str, ...]
    outcome_status: Status  # the outcome KPI alone
    status: Status  # roll-up of the outcome and every metric
    gap: float | None
    relative_gap: float | None
    tolerance: tuple[str, float]
    review_point: bool
    next_review: dt.date | None
    deadline_passed: bool
    strategies: list[StrategyResult]
    actions: list[Action] = field(default_factory=list)
    #: the outcome KPI's scope, as :attr:`MetricResult.scope`
    scope: Scope | None = None
    cohort: Period | None = None
    window_days: int | None = None

    @property
    def id(self) -> str:
        return self.objective.id

    @property
    def title(self) -> str:
        return self.objective.title

    @property
    def metrics(self) -> list[MetricResult]:
        return [m for s in self.strategies for m in s.metrics]

    def to_dict(self) -> dict[str, Any]:
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
            "tolerance": {"kind": self.tolerance[0], "amount": self.tolerance[1]},
            "review": o.review,
            "review_point": self.review_point,
            "next_review": self.next_review.isoformat() if self.next_review else None,
            "deadline_passed": self.deadline_passed,
            "cohort": self.cohort.label if self.cohort is not None else None,
            "strategies": [s.to_dict() for s in self.strategies],
            "actions": [a.to_dict() for a in self.actions],
            "scope": self.scope,
        }


@dataclass
class ObjectiveReport:
    """Every objective of a brand for one period (see :func:`evaluate_objectives`).

    ``locale`` and ``currency`` are the scorecard's: the report layer writes in them.
    """

    period: Period
    objectives: list[ObjectiveResult]
    locale: str = "en"
    currency: str = "EUR"

    def __iter__(self) -> Iterator[ObjectiveResult]:
        return iter(self.objectives)

    def __len__(self) -> int:
        return len(self.objectives)

    def __getitem__(self, objective_id: str) -> ObjectiveResult:
        for o in self.objectives:
            if o.id == objective_id:
                return o
        raise KeyError(objective_id)

    def counts(self) -> dict[Status, int]:
        """Objectives per status: ``{"on_track": n, "at_risk": n, "off_track": n, "unknown": n}``."""
        c = Counter(o.status for o in self.objectives)
        return {s: c.get(s, 0) for s in Status}

    def actions(self) -> list[Action]:
        """Every action to take now, objective by objective."""
        return [a for o in self.objectives for a in o.actions]

    def to_dict(self) -> dict[str, Any]:
        """The ``objectives`` section of ``kpis.json``, codes only (see the module doc).

        ``period_end`` is the first day after the period, the date the expected values are
        paced to; numbers are in each KPI's scale (ratios as fractions), missing ones None.
        """
        return {
            "period": self.period.label,
            "period_end": self.period.end.isoformat(),
            "counts": self.counts(),
            "objectives": [o.to_dict() for o in self.objectives],
        }


__all__ = [
    "SLIPPING",
    "Action",
    "MetricResult",
    "ObjectiveReport",
    "ObjectiveResult",
    "StrategyResult",
]
