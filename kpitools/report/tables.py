"""HTML building blocks of the KPI report: scorecard, summary tiles, header, glossary, breakdowns.

Each function gathers the numbers and words of one fragment and renders its Jinja2 template
(``templates/kpis/*.html``, autoescaped): it returns :class:`markupsafe.Markup`, safe to put
in another template. :class:`Html` wraps a fragment for Jupyter, so a notebook cell is one
call (``show_scorecard(scorecard)``) and nbconvert, with code cells hidden, turns it into the
stakeholder's page. Every number goes through a formatter filter of
:mod:`kpitools.report.templating`; every word comes from the catalogue
(:mod:`kpitools.report.i18n`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup

from ..clv.results import ClvReport
from ..kpis.compute import Breakdown, KpiResult, Reason, Scorecard, Unsupported
from ..kpis.funnel import Funnel
from ..kpis.registry import get_registry
from ..objectives import ObjectiveReport
from ..params import BrandParams
from ..periods import Period
from ..roi import CampaignReport
from ..vocab import UNKNOWN_GROUP, Scope, Segment, Status
from .cohorts import provisional_text, result_cohort_label
from .coverage import breakdown_needs
from .formatting import change_kind
from .glossary import glossary_entries
from .i18n import kpi_description, kpi_name, t
from .templating import render


class Html:
    """Rich-display wrapper: Jupyter shows ``_repr_html_``; ``str()`` gives the HTML."""

    def __init__(self, html: Markup):
        if not isinstance(html, Markup):
            raise TypeError(f"Html wraps rendered Markup, not {type(html).__name__}")
        self.html = html

    def _repr_html_(self) -> str:
        return str(self.html)

    def __str__(self) -> str:
        return str(self.html)

    def __html__(self) -> str:  # a wrapped fragment is trusted inside another template
        return str(self.html)

    def __repr__(self) -> str:  # plain-text fallback never shows markup to a reader
        return ""


def sparkline_svg(
    values: Sequence[float | None], *, width: int = 110, height: int = 26, direction: str = "higher"
) -> Markup:
    """A small inline SVG line of the trend; gaps where a value is missing.

    Built from numbers only, so it is trusted markup (``Markup``); empty with fewer than two
    values.
    """
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return Markup("")
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    pad = 3

    def xy(i: int, v: float) -> tuple[str, str]:
        x = pad + (width - 2 * pad) * i / n
        y = height - pad - (height - 2 * pad) * (v - lo) / span
        return f"{x:.1f}", f"{y:.1f}"

    segments: list[list[str]] = []
    cur: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if len(cur) > 1:
                segments.append(cur)
            cur = []
        else:
            cur.append(",".join(xy(i, v)))
    if len(cur) > 1:
        segments.append(cur)
    return render(
        "kpis/sparkline.html", width=width, height=height, segments=segments, dot=xy(*pts[-1])
    )


def tone(result: KpiResult, change: float | None) -> str:
    """``good``, ``bad`` or ``flat``: whether a change goes the KPI's better way."""
    if change is None or change == 0:
        return "flat"
    good = (change > 0) == (result.kpi.direction == "higher")
    return "good" if good else "bad"


def status_text(result: KpiResult, locale: str) -> Markup:
    """Why a KPI has no value, in words: ``not available (needs table leads)``, ``no data``,
    ``no data (needs column opportunities.renewal_due_at)``."""
    return render(
        "kpis/status.html",
        status=str(result.status),
        reason=result.reason,
        missing_tables=result.missing_tables,
        missing_columns=result.missing_columns,
        locale=locale,
    )


def served_objectives(objectives: ObjectiveReport | None) -> dict[str, list[tuple[str, str]]]:
    """KPI id → [(objective title, status of the metric or outcome)] from an ObjectiveReport."""
    out: dict[str, list[tuple[str, str]]] = {}
    if objectives is None:
        return out
    for o in objectives.to_dict().get("objectives", []):
        out.setdefault(o["kpi"], []).append((o["title"], o.get("outcome_status", o["status"])))
        for s in o.get("strategies", []):
            for m in s.get("metrics", []):
                out.setdefault(m["kpi"], []).append((o["title"], m["status"]))
    return out


#: CSS class of each status (by its value, so a status read back from kpis.json works too).
STATUS_CLASS: dict[str, str] = {
    Status.ON_TRACK: "good",
    Status.AT_RISK: "warn",
    Status.OFF_TRACK: "bad",
    Status.UNKNOWN: "muted",
}


def _scorecard_row(
    r: KpiResult,
    locale: str,
    serves: Iterable[tuple[str, str]],
    period: Period | None = None,
    currency: str = "EUR",
) -> dict[str, Any]:
    k = r.kpi
    row: dict[str, Any] = {
        "status": str(r.status),
        "name": kpi_name(k.id, locale),
        "description": kpi_description(k.id, locale),
        "serves": [
            {"title": title, "cls": STATUS_CLASS.get(st, "muted")}
            for title, st in dict.fromkeys(serves)
        ],
        # product-line report: the value is the whole brand's (tagged "brand-wide")
        "brand_wide": r.scope == Scope.BRAND,
        # a matured KPI: the cohort its value describes, and the period's provisional value
        "cohort": result_cohort_label(r, locale),
        "provisional": provisional_text(r, period, locale, currency) if period else None,
    }
    if r.status != "ok":
        row["status_text"] = status_text(r, locale)
        return row
    cp, cy = r.change_previous, r.change_year_ago
    row.update(
        unit=k.unit,
        kind=change_kind(k.unit),
        value=r.value,
        previous=r.previous,
        year_ago=r.year_ago,
        change_previous=cp,
        change_year_ago=cy,
        tone_previous=tone(r, cp),
        tone_year_ago=tone(r, cy),
        sparkline=sparkline_svg([v for _, v in r.trend], direction=k.direction),
    )
    return row


def scorecard_html(
    scorecard: Scorecard,
    *,
    kpis: Sequence[str] | None = None,
    locale: str | None = None,
    title: str | None = None,
    objectives: ObjectiveReport | None = None,
) -> Markup:
    """The scorecard table: value, previous, change, a year before, change, sparkline.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpis : list of str, optional
        KPI ids to show (default: all of the scorecard, in order).
    locale : str, optional
        Default: the scorecard's locale.
    title : str, optional
        A caption.
    objectives : kpitools.objectives.ObjectiveReport, optional
        Each KPI that an objective tracks names it, coloured by its status.
    """
    loc = locale or scorecard.locale
    served = served_objectives(objectives)
    rows = [
        _scorecard_row(
            scorecard.results[kid], loc, served.get(kid, []), scorecard.period, scorecard.currency
        )
        for kid in (kpis or list(scorecard.results))
    ]
    return render(
        "kpis/scorecard.html", rows=rows, title=title, locale=loc, currency=scorecard.currency
    )


def summary_html(
    scorecard: Scorecard,
    params: BrandParams,
    *,
    headline: Sequence[str] | None = None,
    locale: str | None = None,
) -> Markup:
    """The report's opening: the headline KPIs as tiles and the one-line verdict.

    Parameters
    ----------
    headline : list of str, optional
        KPI ids for the tiles (default: ``params.report.headline``, else the first four
        available KPIs of the scorecard). A KPI whose tables are missing has no tile (the
        coverage line says it was left out and what it needs).
    """
    loc = locale or scorecard.locale
    ok = [r for r in scorecard if r.status == "ok"]
    headline = headline if headline is not None else params.report.headline
    chosen = [
        scorecard.results[k]
        for k in (headline or [])
        if k in scorecard.results and str(scorecard.results[k].status) != "not_available"
    ]
    if not chosen:
        chosen = ok[:4]
    tiles = []
    for r in chosen:
        k = r.kpi
        tile: dict[str, Any] = {"name": kpi_name(k.id, loc), "status_text": None}
        if r.status != "ok":
            tile["status_text"] = status_text(r, loc)
        else:
            vs_year = r.year_ago is not None
            tile.update(
                cohort=result_cohort_label(r, loc),
                value=r.value,
                unit=k.unit,
                kind=change_kind(k.unit),
                change=r.change_year_ago if vs_year else r.change_previous,
                label=t("report.vs_year_ago" if vs_year else "report.vs_previous", loc),
            )
            tile["tone"] = tone(r, tile["change"])
        tiles.append(tile)
    return render(
        "kpis/summary.html",
        tiles=tiles,
        improved=sum(1 for r in ok if tone(r, r.change_year_ago) == "good"),
        worsened=sum(1 for r in ok if tone(r, r.change_year_ago) == "bad"),
        # without a year before (data shorter than a year) the line would say "0 and 0"
        compared=sum(1 for r in ok if r.change_year_ago is not None),
        locale=loc,
        currency=scorecard.currency,
    )


def header_html(
    params: BrandParams,
    result: Scorecard | CampaignReport | ClvReport,
    *,
    title: str | None = None,
) -> Markup:
    """Report title block: brand, report title and period.

    The period is ``result``'s (a ROI report of campaigns picked by id may have none: the
    period line is then empty).
    """
    loc = params.locale
    period: Period | None = result.period
    return render(
        "kpis/header.html",
        brand=params.display_name,
        title=title or params.report.title or t("report.report_title", loc),
        period=period,
        locale=loc,
    )


def glossary_html(
    kpis: Iterable[Any], *, locale: str = "en", params: BrandParams | None = None
) -> Markup:
    """Definition list of the KPIs shown, in plain words: name, definition, population,
    window, a "brand-wide" mark and when the value is final (see
    :func:`kpitools.report.glossary.glossary_entries`).

    Parameters
    ----------
    kpis : iterable of KpiResult or Kpi
        The KPIs the report shows, in report order; a result's ``scope`` marks brand-wide ones.
    locale : {"en", "fr", "it"}
    params : BrandParams, optional
        The brand's settings, for the windows the texts and maturity phrases name.
    """
    return render(
        "kpis/glossary.html",
        entries=glossary_entries(kpis, locale=locale, params=params),
        locale=locale,
    )


#: Breakdown groups named by the catalogue (``report.<code>``); others are shown as in the data.
GROUP_CODES = (*(str(s) for s in Segment), UNKNOWN_GROUP)
_GROUP_ORDER = [str(s) for s in Segment]  # new, reactivated, steady, returning, inactive


def group_label(group: str, locale: str) -> str:
    """A breakdown group's name: a segment or ``(unknown)`` translated, else as in the data."""
    return t(f"report.{group}", locale) if group in GROUP_CODES else str(group)


def unsupported_text(why: Unsupported | None, by: str, locale: str) -> str:
    """Why a KPI has no breakdown, in words (``needs table leads``, ``no breakdown by …``)."""
    if why is None:
        return t("report.no_data", locale)
    if why.reason == Reason.NEEDS_TABLE:
        return f"{t('report.needs_table', locale)} {', '.join(why.missing_tables)}"
    if why.reason == Reason.NEEDS_COLUMN:
        return f"{t('cohort.needs_column', locale)} {', '.join(why.missing_tables)}"
    return t("report.no_breakdown", locale, by=by)


def breakdown_html(
    breakdown: Breakdown, *, kpis: Sequence[str] | None = None, title: str | None = None
) -> Markup:
    """KPIs (columns) by group (rows) for the report's period, formatted for the locale."""
    loc = breakdown.locale
    reg = get_registry()
    frame = breakdown.frame
    ids = [k for k in (kpis or list(dict.fromkeys(frame["kpi"]))) if k in set(frame["kpi"])]
    ctx: dict[str, Any] = {
        "title": title,
        "locale": loc,
        "currency": breakdown.currency,
        "kpi_name": kpi_name,
    }
    if not ids or breakdown_needs(breakdown):
        # what the dimension itself needs first (customers.acquisition_channel), then the
        # tables of the KPIs that could not be computed at all: the reason really missing
        needs = breakdown_needs(breakdown) or ()
        reasons = [t("coverage.needs", loc, needs=", ".join(needs))] if needs else []
        reasons = reasons or [unsupported_text(None, breakdown.by, loc)]
        return render("kpis/breakdown.html", kpis=[], reasons=reasons, rows=[], **ctx)
    pivot = breakdown.pivot("value")
    order = _GROUP_ORDER
    groups = sorted(pivot.index, key=lambda g: (order.index(g) if g in order else 99, g))
    groups = [g for g in groups if pivot.loc[g, ids].notna().any()]
    rows = [
        {
            "label": group_label(g, loc),
            "cells": [{"value": pivot.loc[g, k], "unit": reg[k].unit} for k in ids],
        }
        for g in groups
    ]
    return render("kpis/breakdown.html", kpis=[reg[k] for k in ids], reasons=[], rows=rows, **ctx)


def heading_html(text: str, *, level: int = 2, body: Markup | None = None) -> Markup:
    """A section heading (``h2``) or sub-heading (``h3``), then an optional rendered fragment."""
    return render("kpis/heading.html", text=text, level=int(level), body=body or Markup())


def not_available_html(missing_tables: Sequence[str], locale: str) -> Markup:
    """``not available (needs table X)`` for an analysis that could not run."""
    return render("kpis/not_available.html", missing_tables=list(missing_tables), locale=locale)


def funnel_html(funnel: Funnel, *, locale: str = "en") -> Markup:
    """The funnel's numbers as a table (analyst view), with its period and grouping."""
    frame = funnel.frame
    rows = [["" if pd.isna(v) else v for v in r] for r in frame.itertuples(index=False)]
    return render(
        "kpis/funnel_table.html",
        by=funnel.by,
        period=funnel.period.label,
        columns=list(frame.columns),
        rows=rows,
        locale=locale,
    )


__all__ = [
    "GROUP_CODES",
    "STATUS_CLASS",
    "Html",
    "breakdown_html",
    "funnel_html",
    "glossary_html",
    "group_label",
    "header_html",
    "heading_html",
    "not_available_html",
    "scorecard_html",
    "served_objectives",
    "sparkline_svg",
    "status_text",
    "summary_html",
    "tone",
    "unsupported_text",
]
