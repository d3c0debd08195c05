"""The data-quality section of the KPI report: optional columns the brand fills in part of its
rows only (:func:`kpitools.kpis.columns.data_quality`), with the share of rows without a value
and the KPIs they touch, in plain words. Columns empty throughout are not here: their KPIs say
"not available (needs orders.cost)" in the scorecard itself.

Beside them, the run-time value rules that publish (:func:`kpitools.data.checks.data_quality_findings`:
survey scores out of scale left out, rows without a date left out, rows dated after today and
refunds kept), each with its rows, the rows left out and the KPIs affected; the same entries go
to ``kpis.json`` under ``data_quality`` (:func:`data_quality_document`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from markupsafe import Markup

from ..data.checks import Finding
from ..kpis.columns import rule_kpis
from .formatting import format_number, format_percent_short
from .i18n import kpi_name, t
from .templating import render


def data_quality_document(
    findings: list[Finding], kpis: list[str] | None = None
) -> list[dict[str, Any]]:
    """The ``data_quality`` entries of ``kpis.json``: one per run-time rule broken with a
    published report.

    Returns
    -------
    list of dict
        ``rule`` (id), ``action`` (``exclude`` or ``keep``), ``table``, ``column``, ``rows``
        (the brand's rows breaking the rule), ``rows_excluded`` (left out of the KPIs) and
        ``kpis`` (ids of the report's KPIs affected).
    """
    return [
        {
            "rule": f.rule,
            "action": f.action,
            "table": f.table,
            "column": f.column,
            "rows": f.rows,
            "rows_excluded": f.rows_excluded,
            "kpis": rule_kpis(f.rule, f.table, f.column, kpis),
        }
        for f in findings
    ]


def data_quality_html(
    frame: pd.DataFrame, locale: str = "en", entries: list[dict[str, Any]] | None = None
) -> Markup:
    """The section for the frame of :func:`kpitools.kpis.columns.data_quality` and the
    run-time rule entries of :func:`data_quality_document`; an empty fragment when there is
    neither (the report then leaves the section out).

    Parameters
    ----------
    frame : pandas.DataFrame
        ``table``, ``column``, ``share`` (0–1), ``kpis`` (list of KPI ids).
    locale : str
    entries : list of dict, optional
        ``rule``, ``table``, ``column``, ``rows``, ``rows_excluded``, ``kpis``.
    """
    entries = entries or []
    if (frame is None or frame.empty) and not entries:
        return Markup()
    rules = [
        {
            "rule": t(
                f"optional.dq.rule.{e['rule']}",
                locale,
                where=f"{e['table']}.{e['column']}" if e["column"] else e["table"],
                detail=_RULE_DETAIL.get(f"{e['table']}.{e['column']}", ""),
            ),
            "rows": format_number(e["rows"], locale),
            "excluded": format_number(e["rows_excluded"], locale),
            "kpis": ", ".join(kpi_name(k, locale) for k in e["kpis"])
            or t("optional.dq.none_kpi", locale),
        }
        for e in entries
    ]
    if frame is None or frame.empty:
        return render("kpis/data_quality.html", rows=[], rules=rules, locale=locale)
    rows = [
        {
            "column": f"{r.table}.{r.column}",
            "share": format_percent_short(float(r.share), locale),
            "kpis": ", ".join(kpi_name(k, locale) for k in r.kpis)
            or t("optional.dq.none_kpi", locale),
        }
        for r in frame.itertuples(index=False)
    ]
    return render("kpis/data_quality.html", rows=rows, rules=rules, locale=locale)


#: the scale of a score column, for its rule's sentence
_RULE_DETAIL = {"surveys.nps_score": "0–10", "surveys.csat_score": "1–5"}


__all__ = ["data_quality_document", "data_quality_html"]
