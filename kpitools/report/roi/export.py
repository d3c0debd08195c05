"""The campaign ROI section of ``kpis.json``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kpitools.roi import CampaignReport, Issue

from ..kpis_json import export_section
from .text import issue_message

__all__ = ["export_roi_json", "roi_json"]


def _with_message(entry: dict[str, Any], issue: Issue) -> dict[str, Any]:
    """An issue's ``to_dict()`` with its English sentence after the severity."""
    return {
        "code": entry["code"],
        "severity": entry["severity"],
        "message": issue_message(issue),
        "values": entry["values"],
    }


def roi_json(report: CampaignReport) -> dict[str, Any]:
    """The report's headline numbers for ``kpis.json``: :meth:`CampaignReport.to_dict` with
    the English sentence (``message``) of every issue."""
    doc = report.to_dict()
    doc["issues"] = [_with_message(e, i) for e, i in zip(doc["issues"], report.issues, strict=True)]
    for row, campaign in zip(doc["campaign_results"], report.campaigns, strict=True):
        row["issues"] = [
            _with_message(e, i) for e, i in zip(row["issues"], campaign.issues, strict=True)
        ]
    return doc


def export_roi_json(
    report: CampaignReport, path: str | os.PathLike, *, key: str = "campaign_roi"
) -> Path:
    """Add the report's headline numbers (:func:`roi_json`) to a ``kpis.json`` file under
    ``key``."""
    return export_section(path, key, roi_json(report))
