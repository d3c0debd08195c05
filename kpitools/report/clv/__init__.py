"""The customer lifetime value section of a report: text, HTML blocks and ``kpis.json``.

Every function takes a :class:`kpitools.clv.ClvReport` (computed once by
:func:`kpitools.clv.analyse_clv`) and writes in the report's locale (phrases: the ``clv.*``
messages of the catalogue); the figures are in :mod:`kpitools.plots.clv`.

* :mod:`~kpitools.report.clv.text`: the sentences (plain text) and number formats;
* :mod:`~kpitools.report.clv.sections`: the HTML blocks (templates ``templates/clv/``) and
  their notebook wrappers ``show_*``;
* :mod:`~kpitools.report.clv.export`: the ``clv`` section of ``kpis.json``.

A notebook cell is one call::

    report = analyse_clv(db, params, period)
    show_clv_header(params, report)
    show_clv_intro(report)
    show_clv_summary(report)
    plot_clv_distribution(report);
    show_clv_by(report, "segment")
    plot_clv_by(report, by="segment");
    show_at_risk(report)
    show_calibration(report)
    plot_calibration(report);
"""

from .export import clv_document, export_clv_json
from .sections import (
    at_risk_html,
    calibration_html,
    clv_by_html,
    clv_intro_html,
    clv_summary_html,
    not_fitted_html,
    show_at_risk,
    show_calibration,
    show_clv_by,
    show_clv_header,
    show_clv_intro,
    show_clv_section,
    show_clv_summary,
)
from .text import (
    CALIBRATION_TOLERANCE,
    calibration_text,
    churn_sentence,
    not_fitted_text,
    simple_sentence,
)

__all__ = [
    "CALIBRATION_TOLERANCE",
    "at_risk_html",
    "calibration_html",
    "calibration_text",
    "clv_by_html",
    "clv_document",
    "clv_intro_html",
    "clv_summary_html",
    "export_clv_json",
    "not_fitted_html",
    "not_fitted_text",
    "show_at_risk",
    "show_calibration",
    "show_clv_by",
    "show_clv_header",
    "show_clv_intro",
    "show_clv_section",
    "show_clv_summary",
    "simple_sentence",
    "churn_sentence",
]
