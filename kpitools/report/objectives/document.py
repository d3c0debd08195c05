"""The ``objectives`` section of ``kpis.json``: the results' codes, with the reasons in words.

:meth:`ObjectiveReport.to_dict` holds codes only; a KPI without a value for the period has a
``kpi_status`` (``missing``, ``no_data``, ``not_available``) and the scorecard's own reason when
it gave one. This adds the English reason where it gave none, as ``kpis.json`` has always had
(``kpis.json`` is written in English whatever the report's language).
"""

from __future__ import annotations

from typing import Any

from ...locales import DEFAULT_LOCALE
from ...objectives import ObjectiveReport
from ..i18n import t


def _reason(entry: dict[str, Any]) -> None:
    if entry.get("kpi_status", "ok") != "ok" and not entry.get("reason"):
        code = "missing" if entry["kpi_status"] == "missing" else "no_data"
        entry["reason"] = t(f"objectives.reason.{code}", DEFAULT_LOCALE)


def objectives_document(report: ObjectiveReport) -> dict[str, Any]:
    """The ``objectives`` section of ``kpis.json`` for ``report``.

    Use it as ``export_kpis_json(scorecard, path, extra={"objectives":
    objectives_document(report)})``.
    """
    doc = report.to_dict()
    for o in doc["objectives"]:
        _reason(o)
        for s in o["strategies"]:
            for m in s["metrics"]:
                _reason(m)
    return doc


__all__ = ["objectives_document"]
