"""The ``clv`` section of ``kpis.json``: the result's numbers and, for tools, English reasons.

:meth:`kpitools.clv.ClvReport.to_dict` gives the numbers; the ``reason`` fields (why the
models, the simple formula or the holdout check could not be estimated) are added here from
the reason codes: the message of the exception that stopped the fit when there was one, else
the ``clv.json.*`` message of the catalogue, always in English.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kpitools.clv.results import ClvReason, ClvReport

from ..i18n import t
from ..kpis_json import export_section

__all__ = ["clv_document", "export_clv_json"]

#: kpis.json is read by tools: its reasons are in English whatever the report's locale.
_JSON_LOCALE = "en"


def _reason(code: ClvReason | None, error: str | None, msgid: str, **fields: object) -> str | None:
    if error is not None:
        return error
    if code is None:
        return None
    return t(msgid, _JSON_LOCALE, **fields)


def clv_document(report: ClvReport) -> dict[str, Any]:
    """The ``clv`` section of ``kpis.json``: ``report.to_dict()`` with the reasons in English."""
    doc = report.to_dict()
    doc["reason"] = _reason(
        report.reason_code,
        report.error,
        f"clv.json.{report.reason_code}",
        date=report.observation_end.isoformat(),
        name=report.name,
    )
    simple = report.simple
    doc["simple_clv"]["reason"] = _reason(
        simple.reason_code, simple.error, f"clv.json.simple_{simple.reason_code}"
    )
    end = report.calibration_end
    doc["calibration"]["reason"] = _reason(
        report.calibration_reason_code,
        report.calibration_error,
        f"clv.json.calibration_{report.calibration_reason_code}",
        date=end.isoformat() if end else "",
    )
    return doc


def export_clv_json(report: ClvReport, path: str | os.PathLike) -> Path:
    """Add :func:`clv_document` under ``"clv"`` to ``kpis.json`` (created if absent)."""
    return export_section(path, "clv", clv_document(report))
