"""The ``objectives`` section of ``kpis.json``: the results' codes, with the reasons in words.

:meth:`ObjectiveReport.to_dict` holds codes only: a KPI without a value for the period has a
``kpi_status`` (``missing``, ``no_data``, ``not_available``) and the scorecard's reason code
(``no_data``, ``needs_table``). This words them in English, as ``kpis.json`` has always had
them whatever the report's language: ``not in the scorecard``, ``no data in period``,
``needs table cases, surveys``.
"""

from __future__ import annotations

from typing import Any

from ...locales import DEFAULT_LOCALE
from ...objectives import MetricResult, ObjectiveReport, ObjectiveResult
from ..i18n import t

#: reason codes of the KPI layer that have words of their own
_CODES = ("no_data", "needs_table")


def reason_text(result: ObjectiveResult | MetricResult, locale: str = DEFAULT_LOCALE) -> str | None:
    """Why the KPI of ``result`` has no value, in words; None when it has one."""
    if result.kpi_status == "ok":
        return None
    if result.kpi_status == "missing":
        return t("objectives.reason.missing", locale)
    reason = result.reason
    if reason == "needs_table":
        return t("objectives.reason.needs_table", locale, tables=", ".join(result.missing_tables))
    if reason and reason not in _CODES:
        return str(reason)  # a reason the KPI layer gave in words
    return t("objectives.reason.no_data", locale)


def objectives_document(report: ObjectiveReport) -> dict[str, Any]:
    """The ``objectives`` section of ``kpis.json`` for ``report``.

    Use it as ``export_kpis_json(scorecard, path, extra={"objectives":
    objectives_document(report)})``.
    """
    doc = report.to_dict()
    for o, entry in zip(report.objectives, doc["objectives"], strict=True):
        entry["reason"] = reason_text(o)
        metrics = [m for s in entry["strategies"] for m in s["metrics"]]
        for m, m_entry in zip(o.metrics, metrics, strict=True):
            m_entry["reason"] = reason_text(m)
    return doc


__all__ = ["objectives_document", "reason_text"]
