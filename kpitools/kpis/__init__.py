"""KPIs computed inside the database: the registry of formulas, scorecards and breakdowns.

Importing this package registers every formula of :mod:`kpitools.kpis.definitions`.
"""

from . import definitions  # noqa: F401  (registers the formulas)
from .compute import Breakdown, KpiResult, Scorecard, compute_breakdown, compute_kpis
from .registry import Kpi, get_kpi, get_registry

__all__ = [
    "Breakdown",
    "Kpi",
    "KpiResult",
    "Scorecard",
    "compute_breakdown",
    "compute_kpis",
    "get_kpi",
    "get_registry",
]
