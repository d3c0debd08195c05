"""Seaborn figures of the reports, one module per domain.

One signature style: ``plot_x(result, ax=None, *, locale=None, ...)`` takes a computed result
and returns the matplotlib Axes it drew on (a grid of small multiples returns its Figure);
labels come from the translation catalogue and text is drawn literally (no mathtext).

- :mod:`~kpitools.plots.kpis`: trends, funnel, cohort retention, response by touch;
- :mod:`~kpitools.plots.roi`: lift by campaign, ROI by segment or channel;
- :mod:`~kpitools.plots.clv`: CLV distribution, CLV by group, holdout calibration;
- :mod:`~kpitools.plots.objectives`: the objective → strategy → metric tree;
- :mod:`~kpitools.plots.style`: text is text (no mathtext) in every figure.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers and linters; imported lazily below
    from .clv import plot_calibration, plot_clv_by, plot_clv_distribution
    from .kpis import (
        PALETTE,
        axis_formatter,
        empty_axes,
        plot_cohort_heatmap,
        plot_funnel,
        plot_touch_response,
        plot_trend,
        plot_trends,
    )
    from .objectives import plot_objective_tree
    from .roi import plot_lift_forest, plot_roi_by
    from .style import FIGURE_RC, literal, make_plain, plain_text

#: Public name -> the module of :mod:`kpitools.plots` defining it. Imported on first use
#: (PEP 562), so ``from kpitools.plots import plot_trends`` loads the KPI figures only, not the
#: CLV and ROI ones (and their report modules).
_EXPORTS: dict[str, str] = {
    "plot_calibration": "clv",
    "plot_clv_by": "clv",
    "plot_clv_distribution": "clv",
    "PALETTE": "kpis",
    "axis_formatter": "kpis",
    "empty_axes": "kpis",
    "plot_cohort_heatmap": "kpis",
    "plot_funnel": "kpis",
    "plot_touch_response": "kpis",
    "plot_trend": "kpis",
    "plot_trends": "kpis",
    "plot_objective_tree": "objectives",
    "plot_lift_forest": "roi",
    "plot_roi_by": "roi",
    "FIGURE_RC": "style",
    "literal": "style",
    "make_plain": "style",
    "plain_text": "style",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kpitools.plots' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "FIGURE_RC",
    "PALETTE",
    "axis_formatter",
    "empty_axes",
    "literal",
    "make_plain",
    "plain_text",
    "plot_calibration",
    "plot_clv_by",
    "plot_clv_distribution",
    "plot_cohort_heatmap",
    "plot_funnel",
    "plot_lift_forest",
    "plot_objective_tree",
    "plot_roi_by",
    "plot_touch_response",
    "plot_trend",
    "plot_trends",
]
