"""Notebook display of ROI results: each ``show_*`` takes a computed result, runs no query,
and returns an object Jupyter shows as HTML."""

from __future__ import annotations

from kpitools.params import BrandParams
from kpitools.roi import CampaignReport, LiftResult, RoiResult, SegmentInteractionResult

from ..tables import Html
from .sections import method_html, report_html, roi_header_html, roi_summary_html
from .tables import (
    campaigns_table_html,
    groups_html,
    guardrails_html,
    lift_html,
    roi_result_html,
    segment_interaction_html,
    verdicts_html,
)

__all__ = [
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
]


def show_roi_header(params: BrandParams, report: CampaignReport) -> Html:
    """Brand, title, period and window."""
    return Html(roi_header_html(report, params))


def show_roi_summary(report: CampaignReport) -> Html:
    """Programme summary tiles and sentence."""
    return Html(roi_summary_html(report))


def show_campaigns_table(report: CampaignReport) -> Html:
    """The table of campaigns."""
    return Html(campaigns_table_html(report))


def show_roi_by(report: CampaignReport, by: str = "segment") -> Html:
    """ROI by segment or channel with the interaction verdict."""
    return Html(groups_html(report, by))


def show_guardrails(report: CampaignReport) -> Html:
    """Control-group checks and warnings."""
    return Html(guardrails_html(report))


def show_verdicts(report: CampaignReport) -> Html:
    """One sentence per campaign."""
    return Html(verdicts_html(report))


def show_roi_method(report: CampaignReport) -> Html:
    """How the figures were computed."""
    return Html(method_html(report))


def show_campaign_report(report: CampaignReport) -> Html:
    """Summary, campaign table, guardrails and method together."""
    return Html(report_html(report))


def show_lift(result: LiftResult, locale: str = "en") -> Html:
    """A lift estimate as a small table."""
    return Html(lift_html(result, locale))


def show_roi_result(result: RoiResult, locale: str = "en") -> Html:
    """A campaign's or a programme's ROI as a table."""
    return Html(roi_result_html(result, locale))


def show_segment_interaction(result: SegmentInteractionResult, locale: str = "en") -> Html:
    """Lift per segment and the interaction test."""
    return Html(segment_interaction_html(result, locale))
