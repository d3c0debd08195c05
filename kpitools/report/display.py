"""Rich display of analytics results in a notebook, registered in one place.

The result objects of the computation layer (a :class:`~kpitools.kpis.compute.Scorecard`, a
:class:`~kpitools.roi.results.CampaignReport` …) know nothing of HTML. So that an analyst who
ends a cell with ``scorecard`` still sees a formatted table, :func:`register_display_hooks` tells
IPython's HTML formatter how to render each of them, by type name, with the same functions the
report uses. :func:`kpitools.report.notebook.setup_notebook` calls it; importing this module
registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .clv import clv_summary_html
from .drivers import what_changed_html
from .i18n import locale_of
from .objectives import objectives_html
from .roi import lift_html, report_html, roi_result_html, segment_interaction_html
from .tables import breakdown_html, funnel_html, not_available_html, scorecard_html


def _not_available(result: Any) -> str:
    return not_available_html(result.missing_tables, locale_of(result))


def _funnel(result: Any) -> str:
    return funnel_html(result, locale=locale_of(result))


#: ``(module, class name) → function(result) -> HTML`` for every result with a rich display.
DISPLAYS: dict[tuple[str, str], Callable[[Any], str]] = {
    ("kpitools.kpis.compute", "Scorecard"): scorecard_html,
    ("kpitools.kpis.compute", "Breakdown"): breakdown_html,
    ("kpitools.kpis.compute", "NotAvailable"): _not_available,
    ("kpitools.kpis.funnel", "Funnel"): _funnel,
    ("kpitools.kpis.drivers", "WhatChanged"): what_changed_html,
    ("kpitools.objectives.results", "ObjectiveReport"): objectives_html,
    ("kpitools.roi.results", "CampaignReport"): report_html,
    ("kpitools.roi.estimators", "LiftResult"): lift_html,
    ("kpitools.roi.programme", "RoiResult"): roi_result_html,
    ("kpitools.roi.programme", "SegmentInteractionResult"): segment_interaction_html,
    ("kpitools.clv.results", "ClvReport"): clv_summary_html,
}


def register_display_hooks(shell: Any = None) -> bool:
    """Register :data:`DISPLAYS` with IPython's ``text/html`` formatter.

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        Default: the running one.

    Returns
    -------
    bool
        False outside IPython (nothing to register), True otherwise.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            return False
        shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for (module, name), render in DISPLAYS.items():
        formatter.for_type_by_name(module, name, lambda obj, _r=render: str(_r(obj)))
    return True


__all__ = ["DISPLAYS", "register_display_hooks"]
