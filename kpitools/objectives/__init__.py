"""Objectives → strategies → metrics against a scorecard: pacing, statuses, roll-up, actions.

The computation layer of the objectives (layer 4): :func:`evaluate_objectives` takes the
objectives a params file declares (:mod:`kpitools.params.objectives`) and a
:class:`~kpitools.kpis.Scorecard`, and returns an :class:`ObjectiveReport` of plain result
objects (``to_dict()`` gives the ``objectives`` section of ``kpis.json``). Words, HTML and the
tree figure come from :mod:`kpitools.report.objectives` and :mod:`kpitools.plots.objectives`.

- :mod:`.pacing`: the paced target and the review calendar;
- :mod:`.status`: a value against its bounds, and the roll-up of statuses;
- :mod:`.evaluation`: :func:`evaluate_objectives`;
- :mod:`.results`: the result dataclasses.

Rules
-----
The objectives themselves (values in each KPI's scale, changes, tolerances) are declared in a
brand's params file: see :mod:`kpitools.params.objectives`.

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

from ..params.objectives import (
    Baseline,
    MetricBounds,
    MetricTarget,
    Objective,
    ObjectiveList,
    ObjectiveTarget,
    Strategy,
    objective_kpi_ids,
    parse_change,
    parse_tolerance,
)
from .evaluation import evaluate_objectives
from .pacing import REVIEW_MONTHS, is_review_point, next_review, paced_value, pacing_fraction
from .results import (
    SLIPPING,
    Action,
    MetricResult,
    ObjectiveReport,
    ObjectiveResult,
    StrategyResult,
)
from .status import assess, rollup, tolerance_band

__all__ = [
    "REVIEW_MONTHS",
    "SLIPPING",
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
    "paced_value",
    "pacing_fraction",
    "parse_change",
    "parse_tolerance",
    "rollup",
    "tolerance_band",
]
