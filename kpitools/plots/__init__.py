"""Seaborn figures of the reports, one module per domain (``plots.kpis``, …).

One signature style: ``plot_x(result, ax=None, *, locale=None, ...)`` returns the matplotlib
Axes it drew on (a grid of small multiples returns its Figure); text is drawn literally.
"""

from .kpis import (
    PALETTE,
    axis_formatter,
    empty_axes,
    literal,
    locale_of,
    plot_cohort_heatmap,
    plot_funnel,
    plot_touch_response,
    plot_trend,
    plot_trends,
)

__all__ = [
    "PALETTE",
    "axis_formatter",
    "empty_axes",
    "literal",
    "locale_of",
    "plot_cohort_heatmap",
    "plot_funnel",
    "plot_touch_response",
    "plot_trend",
    "plot_trends",
]
