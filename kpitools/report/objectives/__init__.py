"""The report's answer to "are we on track?": objectives, strategies and metrics.

:func:`objectives_html` gives one block per objective: a coloured status badge, the outcome KPI
and the metrics of each strategy against their expected (paced) and final targets, the gap,
a "between reviews" mark, and "What to do": the corrective actions of whatever is at risk or
off track. :func:`show_objectives` wraps it for a notebook cell; :func:`objectives_document`
is the ``objectives`` section of ``kpis.json``. The tree figure is
:func:`kpitools.plots.objectives.plot_objective_tree`.

- :mod:`.text`: words and formatted numbers (catalogue ``objectives.*``);
- :mod:`.html`: the HTML, from ``templates/objectives/``;
- :mod:`.colours`: the status colours, shared with the figure;
- :mod:`.document`: the ``kpis.json`` section.
"""

from .colours import COLOURS
from .document import objectives_document
from .html import badge_html, objective_html, objectives_html, overview_html, show_objectives
from .text import rule_text, status_label, summary_text

__all__ = [
    "COLOURS",
    "badge_html",
    "objective_html",
    "objectives_document",
    "objectives_html",
    "overview_html",
    "rule_text",
    "show_objectives",
    "status_label",
    "summary_text",
]
