"""The data-quality section of the KPI report: optional columns the brand fills in part of its
rows only (:func:`kpitools.kpis.columns.data_quality`), with the share of rows without a value
and the KPIs they touch, in plain words. Columns empty throughout are not here: their KPIs say
"not available (needs orders.cost)" in the scorecard itself."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from .formatting import format_percent_short
from .i18n import kpi_name, t
from .templating import render


def data_quality_html(frame: pd.DataFrame, locale: str = "en") -> Markup:
    """The section for the frame of :func:`kpitools.kpis.columns.data_quality`; an empty
    fragment when no column is partly empty (the report then leaves the section out).

    Parameters
    ----------
    frame : pandas.DataFrame
        ``table``, ``column``, ``share`` (0–1), ``kpis`` (list of KPI ids).
    locale : str
    """
    if frame is None or frame.empty:
        return Markup()
    rows = [
        {
            "column": f"{r.table}.{r.column}",
            "share": format_percent_short(float(r.share), locale),
            "kpis": ", ".join(kpi_name(k, locale) for k in r.kpis)
            or t("optional.dq.none_kpi", locale),
        }
        for r in frame.itertuples(index=False)
    ]
    return render("kpis/data_quality.html", rows=rows, locale=locale)


__all__ = ["data_quality_html"]
