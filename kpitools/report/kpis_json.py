"""The one writer of ``kpis.json``: a report's numbers for tools (the index, dashboards, diffs).

The KPI report writes the scorecard (:func:`export_kpis_json`); the campaign-ROI and
customer-value reports add their section to the same file (:func:`export_section`). Every
write goes through :func:`kpitools.numbers.write_json`: atomic, and NaN or infinities written
as ``null``, so the file is always valid JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..kpis.compute import Reason, Scorecard
from ..numbers import write_json
from .cohorts import result_cohort_label
from .i18n import kpi_name


def reason_message(
    reason: str | None, missing_tables: Sequence[str] = (), missing_columns: Sequence[str] = ()
) -> str | None:
    """A reason code in the stable English words ``kpis.json`` has always used:
    ``needs table leads``, ``needs table opportunities, activities``, ``no data in period``;
    and ``needs column opportunities.renewal_due_at`` (an optional column left empty)."""
    if reason is None:
        return None
    if reason == Reason.NEEDS_TABLE:
        return "needs table " + ", ".join(missing_tables)
    if reason == Reason.NEEDS_COLUMN:
        return "needs column " + ", ".join(missing_columns)
    if reason == Reason.NO_DATA:
        return "no data in period"
    return str(reason)


def scorecard_document(scorecard: Scorecard) -> dict[str, Any]:
    """The scorecard part of ``kpis.json``; each KPI carries its English name, and its reason
    (when it has no value) in English words (:func:`reason_message`).

    A matured KPI (a rate that needs time to happen) also carries ``cohort`` (the period its
    ``value``, ``previous``, ``year_ago`` and ``trend`` describe: the latest final cohort and
    the cohorts before it), ``cohort_label`` (in English words), ``window_days``, and
    ``provisional``: the report's own period's value so far, which still grows and is never
    compared with the final ones. Other KPIs have them null."""
    doc = scorecard.to_dict()
    doc["kpis"] = {
        k: {
            "name": kpi_name(k, "en"),
            **entry,
            "reason": reason_message(
                scorecard[k].reason, scorecard[k].missing_tables, scorecard[k].missing_columns
            ),
            "cohort_label": result_cohort_label(scorecard[k], "en"),
        }
        for k, entry in doc["kpis"].items()
    }
    return doc


def export_kpis_json(
    scorecard: Scorecard, path: str | os.PathLike, *, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write ``kpis.json``: ``{"brand", "period", "kpis": {id: {"name", "value", "unit", …}}}``
    plus ``extra`` sections (``objectives``, say) and the time it was written."""
    doc = scorecard_document(scorecard)
    doc["generated_at"] = datetime.now().isoformat(timespec="seconds")
    if extra:
        doc.update(extra)
    return write_json(path, doc)


def export_section(path: str | os.PathLike, key: str, section: Mapping[str, Any]) -> Path:
    """Add ``section`` under ``key`` to ``kpis.json`` (the file is created when absent).

    An existing file (written by the KPI report) keeps every other key; an unreadable one is
    replaced.
    """
    out = Path(path)
    doc: dict[str, Any] = {}
    if out.is_file():
        try:
            doc = json.loads(out.read_text(encoding="utf-8"))
        except ValueError:
            doc = {}
    doc[key] = section
    return write_json(out, doc)


__all__ = ["export_kpis_json", "export_section", "reason_message", "scorecard_document"]
