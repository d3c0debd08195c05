"""Campaign ROI section of a report: phrases, HTML blocks, notebook display and JSON export.

Every function takes a result of :mod:`kpitools.roi` (mostly a
:class:`~kpitools.roi.CampaignReport`). The ``*_html`` functions render templates
``templates/roi/*.html`` (autoescaped) and return :class:`markupsafe.Markup`; the ``show_*``
wrappers return :class:`~kpitools.report.tables.Html` objects for a notebook cell; every number
goes through :mod:`kpitools.report.formatting` (Babel), every word through the catalogue
(``roi.*`` messages). Figures are in :mod:`kpitools.plots.roi`.

Modules: ``text`` (formatters; sentences of issues, guardrails, lifts, notes), ``tables`` (campaigns, groups, guardrails,
verdicts, result tables), ``sections`` (header, summary, method), ``show`` (notebook
display), ``export`` (``kpis.json``).
"""

from .export import export_roi_json, roi_json
from .sections import method_html, report_html, roi_header_html, roi_summary_html
from .show import (
    show_campaign_report,
    show_campaigns_table,
    show_guardrails,
    show_lift,
    show_roi_by,
    show_roi_header,
    show_roi_method,
    show_roi_result,
    show_roi_summary,
    show_segment_interaction,
    show_verdicts,
)
from .tables import (
    campaigns_table_html,
    groups_html,
    guardrails_html,
    lift_html,
    roi_result_html,
    segment_interaction_html,
    verdicts_html,
)
from .text import (
    control_size_text,
    issue_message,
    issue_text,
    lift_caption,
    notes_text,
    segment_test_text,
    srm_text,
    verdict_rule_text,
)

__all__ = [
    "campaigns_table_html",
    "control_size_text",
    "export_roi_json",
    "groups_html",
    "guardrails_html",
    "issue_message",
    "issue_text",
    "lift_caption",
    "lift_html",
    "method_html",
    "notes_text",
    "report_html",
    "roi_header_html",
    "roi_json",
    "roi_result_html",
    "roi_summary_html",
    "segment_interaction_html",
    "segment_test_text",
    "show_campaign_report",
    "show_campaigns_table",
    "show_guardrails",
    "show_lift",
    "show_roi_by",
    "show_roi_header",
    "show_roi_method",
    "show_roi_result",
    "show_roi_summary",
    "show_segment_interaction",
    "show_verdicts",
    "srm_text",
    "verdict_rule_text",
    "verdicts_html",
]
