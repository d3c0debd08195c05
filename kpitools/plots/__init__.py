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
