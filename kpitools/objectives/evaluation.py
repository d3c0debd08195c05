"""Evaluation: a brand's objectives, strategies and metrics against a scorecard."""

from __future__ import annotations

from ..catalogue import get_declaration
from ..kpis import Scorecard
from ..numbers import finite_or_none
from ..params import BrandParams
from ..params.objectives import (
    MetricTarget,
    Objective,
    ObjectivesSource,
    parse_objectives,
    parse_tolerance,
)
from ..periods import Period
from ..vocab import KpiStatus, ResultStatus, Scope, Status
from .pacing import is_review_point, next_review, paced_value, pacing_fraction
from .results import (
    SLIPPING,
    Action,
    MetricResult,
    ObjectiveReport,
    ObjectiveResult,
    StrategyResult,
)
from .status import assess, rollup

_Lookup = tuple[float | None, KpiStatus, str | None, tuple[str, ...]]


def _lookup(scorecard: Scorecard, kpi_id: str) -> _Lookup:
    """``(value, kpi_status, reason, missing_tables)`` of a KPI in the scorecard (see
    :class:`MetricResult`)."""
    r = scorecard.results.get(kpi_id)
    if r is None:
        return None, KpiStatus.MISSING, None, ()
    value = finite_or_none(r.value)
    if r.status != ResultStatus.OK or value is None:
        status = KpiStatus(r.status) if r.status != ResultStatus.OK else KpiStatus.NO_DATA
        return None, status, r.reason or None, tuple(r.missing_tables)
    return value, KpiStatus.OK, None, ()


def _scope(scorecard: Scorecard, kpi_id: str) -> Scope | None:
    """The KPI result's scope (None when absent or in a brand report)."""
    r = scorecard.results.get(kpi_id)
    return None if r is None else r.scope


def _cohort(scorecard: Scorecard, kpi_id: str) -> tuple[Period | None, int | None]:
    """The cohort a matured KPI's value describes, and its window in days ((None, None) for a
    KPI final at the end of its period). The objective is judged on that cohort, its target
    paced to the cohort's end."""
    r = scorecard.results.get(kpi_id)
    if r is None:
        return None, None
    return getattr(r, "cohort", None), getattr(r, "window_days", None)


def _evaluate_metric(m: MetricTarget, objective: Objective, scorecard: Scorecard) -> MetricResult:
    k = get_declaration(m.kpi)
    lo, hi = m.bounds()
    cohort, window_days = _cohort(scorecard, m.kpi)
    end = (cohort or scorecard.period).end
    f: float | None = None
    elo, ehi = lo, hi
    if m.baseline is not None:
        f = fraction = pacing_fraction(end, m.baseline.date, objective.deadline)
        b = m.baseline.value
        elo = lo if lo is None or b >= lo else paced_value(b, lo, fraction)
        ehi = hi if hi is None or b <= hi else paced_value(b, hi, fraction)
    tol = parse_tolerance(m.tolerance if m.tolerance is not None else objective.tolerance)
    value, kpi_status, reason, missing_tables = _lookup(scorecard, m.kpi)
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
        missing_tables=missing_tables,
        status=status,
        gap=gap,
        relative_gap=rel,
        tolerance=tol,
        scope=_scope(scorecard, m.kpi),
        cohort=cohort,
        window_days=window_days,
    )


def _actions(o: Objective, status: Status, strategies: list[StrategyResult]) -> list[Action]:
    """In the order of the tree; the same text named at two levels once, at its first place."""
    actions: list[Action] = []
    if status in SLIPPING:
        actions += [Action(a, "objective", o.title, status) for a in o.actions]
    for s in strategies:
        if s.status in SLIPPING:
            actions += [Action(a, "strategy", s.title, s.status) for a in s.strategy.actions]
        for m in s.metrics:
            actions += [Action(a, "metric", m.kpi_id, m.status) for a in m.actions]
    seen: set[str] = set()
    unique = []
    for a in actions:
        if a.text not in seen:
            seen.add(a.text)
            unique.append(a)
    return unique


def _evaluate(o: Objective, scorecard: Scorecard) -> ObjectiveResult:
    period = scorecard.period
    k = get_declaration(o.kpi)
    target = o.target_value()
    cohort, window_days = _cohort(scorecard, o.kpi)
    f = pacing_fraction((cohort or period).end, o.baseline.date, o.deadline)
    expected = paced_value(o.baseline.value, target, f)
    tol = parse_tolerance(o.tolerance)
    value, kpi_status, reason, missing_tables = _lookup(scorecard, o.kpi)
    low, high = (expected, None) if k.direction == "higher" else (None, expected)
    outcome, gap, rel = assess(value, low, high, tol, k.unit)

    strategies = []
    for s in o.strategies:
        metrics = [_evaluate_metric(m, o, scorecard) for m in s.metrics]
        strategies.append(StrategyResult(s, rollup([m.status for m in metrics], o.rollup), metrics))
    status = rollup([outcome] + [m.status for s in strategies for m in s.metrics], o.rollup)

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
        missing_tables=missing_tables,
        outcome_status=outcome,
        status=status,
        gap=gap,
        relative_gap=rel,
        tolerance=tol,
        review_point=review,
        next_review=None if review else next_review(period, o.review, o.deadline),
        deadline_passed=period.start > o.deadline,
        strategies=strategies,
        actions=_actions(o, status, strategies),
        scope=_scope(scorecard, o.kpi),
        cohort=cohort,
        window_days=window_days,
    )


def evaluate_objectives(
    params: BrandParams | ObjectivesSource, scorecard: Scorecard
) -> ObjectiveReport:
    """Check a brand's objectives, strategies and metrics against a scorecard.

    Parameters
    ----------
    params : BrandParams, Objective, or list of Objective or dict
        The brand's params (their ``objectives``), or objectives directly.
    scorecard : kpitools.kpis.Scorecard
        Its period is the report's period; KPIs missing from it are *unknown*.
        :func:`~kpitools.params.objective_kpi_ids` lists the KPIs to compute.

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
    objectives = parse_objectives(params)
    return ObjectiveReport(
        period=scorecard.period,
        objectives=[_evaluate(o, scorecard) for o in objectives],
        locale=getattr(scorecard, "locale", "en"),
        currency=getattr(scorecard, "currency", "EUR"),
    )


__all__ = ["evaluate_objectives"]
