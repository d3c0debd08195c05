"""A brand's params file: every model of it, and the loader (layer 2).

- :mod:`kpitools.params.brand`: the brand, its source, period, settings, ROI, CLV and report
  options, and :func:`load_params` / :func:`parse_params`;
- :mod:`kpitools.params.objectives`: the objectives → strategies → metrics it declares;
- :mod:`kpitools.params.base`: the strict base model and the one-line-per-problem messages.

Importing this package loads neither Ibis, pandas nor the KPI engine: validating a params file
needs only the declarations of :mod:`kpitools.catalogue` and :mod:`kpitools.schema`.
"""

from ..locales import LOCALES
from ..periods import GRAINS
from .base import format_validation_error
from .brand import (
    BrandParams,
    ClvParams,
    PeriodParams,
    ReportParams,
    RoiParams,
    Settings,
    SourceParams,
    TableMapping,
    load_params,
    parse_params,
)
from .objectives import (
    Baseline,
    MetricBounds,
    MetricTarget,
    Objective,
    ObjectiveList,
    ObjectiveTarget,
    Strategy,
    objective_kpi_ids,
    parse_objectives,
)

__all__ = [
    "GRAINS",
    "LOCALES",
    "Baseline",
    "BrandParams",
    "ClvParams",
    "MetricBounds",
    "MetricTarget",
    "Objective",
    "ObjectiveList",
    "ObjectiveTarget",
    "PeriodParams",
    "ReportParams",
    "RoiParams",
    "Settings",
    "SourceParams",
    "Strategy",
    "TableMapping",
    "format_validation_error",
    "load_params",
    "objective_kpi_ids",
    "parse_objectives",
    "parse_params",
]
