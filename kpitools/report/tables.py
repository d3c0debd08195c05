"""HTML building blocks of a report: the scorecard table, the summary, the glossary.

They return HTML strings wrapped in :class:`Html` objects that Jupyter displays as rich output,
so a notebook cell is one call (``show_scorecard(scorecard)``) and nbconvert, with code cells
hidden, turns them into the stakeholder's page. Every number goes through
:mod:`kpitools.report.formatting`.
"""

from __future__ import annotations

from html import escape

from .formatting import (
    DEPARTMENT_NAMES,
    change_kind,
    format_change,
    format_value,
    period_title,
    t,
)
from .i18n import kpi_description, kpi_name


class Html:
    """Rich-display wrapper: Jupyter shows ``_repr_html_``; ``str()`` gives the HTML."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:  # plain-text fallback never shows markup to a reader
        return ""


def sparkline_svg(values, *, width: int = 110, height: int = 26, direction: str = "higher") -> str:
    """A small inline SVG line of the trend; gaps where a value is missing."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    pad = 3

    def xy(i, v):
        x = pad + (width - 2 * pad) * i / n
        y = height - pad - (height - 2 * pad) * (v - lo) / span
        return f"{x:.1f},{y:.1f}"

    segments, cur = [], []
    for i, v in enumerate(values):
        if v is None:
            if len(cur) > 1:
                segments.append(cur)
            cur = []
        else:
            cur.append(xy(i, v))
    if len(cur) > 1:
        segments.append(cur)
    lines = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="#4a6fa5" stroke-width="1.5"/>'
        for s in segments
    )
    last_i, last_v = pts[-1]
    x, y = xy(last_i, last_v).split(",")
    dot = f'<circle cx="{x}" cy="{y}" r="2.2" fill="#1f3b63"/>'
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img">{lines}{dot}</svg>'
    )


def _tone(result, change) -> str:
    if change is None or change == 0:
        return "flat"
    good = (change > 0) == (result.kpi.direction == "higher")
    return "good" if good else "bad"


def _status_text(result, locale: str) -> str:
    if result.status == "not_available":
        reason = result.reason or ""
        if reason.startswith("needs table"):
            reason = f"{t('needs_table', locale)} {reason.removeprefix('needs table ').strip()}"
        return f"{t('not_available', locale)} ({escape(reason)})"
    return t("no_data", locale)


def served_objectives(objectives) -> dict[str, list[tuple[str, str]]]:
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


_STATUS_CLASS = {"on_track": "good", "at_risk": "warn", "off_track": "bad", "unknown": "muted"}


def scorecard_html(
    scorecard, *, kpis=None, locale: str | None = None, title=None, objectives=None
) -> str:
    """The scorecard table: value, previous, change, a year before, change, sparkline.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpis : list of str, optional
        KPI ids to show (default: all of the scorecard, in order).
    locale : str, optional
        Default: the scorecard's locale.
    """
    loc = locale or scorecard.locale
    cur = scorecard.currency
    ids = kpis or list(scorecard.results)
    head = (
        f"<tr><th class='name'>{t('kpi', loc)}</th><th>{t('value', loc)}</th>"
        f"<th>{t('previous', loc)}</th><th>{t('vs_previous', loc)}</th>"
        f"<th>{t('year_ago', loc)}</th><th>{t('vs_year_ago', loc)}</th>"
        f"<th>{t('trend', loc)}</th></tr>"
    )
    rows = []
    served = served_objectives(objectives)
    arrow = {"en": "objective", "fr": "objectif", "it": "obiettivo"}.get(loc, "objective")
    for kid in ids:
        r = scorecard.results[kid]
        k = r.kpi
        links = "".join(
            f"<div class='serves {_STATUS_CLASS.get(st, 'muted')}'>→ {arrow}: {escape(title)}</div>"
            for title, st in dict.fromkeys(served.get(kid, []))
        )
        name = f"<td class='name' title='{escape(kpi_description(k.id, loc))}'>{escape(kpi_name(k.id, loc))}{links}</td>"
        if r.status != "ok":
            rows.append(
                f"<tr class='{r.status}'>{name}<td colspan='6' class='status'>"
                f"{_status_text(r, loc)}</td></tr>"
            )
            continue
        kind = change_kind(k.unit)
        cp, cy = r.change_previous, r.change_year_ago
        spark = sparkline_svg([v for _, v in r.trend], direction=k.direction)
        rows.append(
            "<tr>"
            + name
            + f"<td class='num value'>{format_value(r.value, k.unit, loc, cur)}</td>"
            + f"<td class='num'>{format_value(r.previous, k.unit, loc, cur)}</td>"
            + f"<td class='num {_tone(r, cp)}'>{format_change(cp, kind, loc)}</td>"
            + f"<td class='num'>{format_value(r.year_ago, k.unit, loc, cur)}</td>"
            + f"<td class='num {_tone(r, cy)}'>{format_change(cy, kind, loc)}</td>"
            + f"<td class='spark'>{spark}</td>"
            + "</tr>"
        )
    caption = f"<caption>{escape(title)}</caption>" if title else ""
    return (
        f"<table class='kpi-scorecard'>{caption}<thead>{head}</thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def summary_html(scorecard, params, *, headline=None, locale: str | None = None) -> str:
    """The report's opening: brand, period, and the headline KPIs as tiles.

    Parameters
    ----------
    headline : list of str, optional
        KPI ids for the tiles (default: the first four available KPIs of the scorecard).
    """
    loc = locale or scorecard.locale
    cur = scorecard.currency
    ok = [r for r in scorecard if r.status == "ok"]
    headline = headline if headline is not None else params.report.headline
    chosen = [scorecard.results[k] for k in (headline or []) if k in scorecard.results]
    if not chosen:
        chosen = ok[:4]
    tiles = []
    for r in chosen:
        k = r.kpi
        if r.status != "ok":
            body = f"<div class='tile-value muted'>{_status_text(r, loc)}</div>"
        else:
            kind = change_kind(k.unit)
            cy = r.change_year_ago if r.year_ago is not None else r.change_previous
            label = t("vs_year_ago", loc) if r.year_ago is not None else t("vs_previous", loc)
            body = (
                f"<div class='tile-value'>{format_value(r.value, k.unit, loc, cur)}</div>"
                f"<div class='tile-change {_tone(r, cy)}'>{format_change(cy, kind, loc)} "
                f"<span class='muted'>{label}</span></div>"
            )
        tiles.append(
            f"<div class='tile'><div class='tile-name'>{escape(kpi_name(k.id, loc))}</div>{body}</div>"
        )
    improved = sum(1 for r in ok if _tone(r, r.change_year_ago) == "good")
    worsened = sum(1 for r in ok if _tone(r, r.change_year_ago) == "bad")
    line = {
        "en": f"{improved} indicators improved and {worsened} worsened compared with a year before.",
        "fr": f"{improved} indicateurs en amélioration et {worsened} en recul par rapport à l'an dernier.",
        "it": f"{improved} indicatori in miglioramento e {worsened} in peggioramento rispetto a un anno prima.",
    }.get(loc)
    return (
        "<div class='kpi-summary'>"
        f"<div class='tiles'>{''.join(tiles)}</div>"
        f"<p class='summary-line'>{escape(line)}</p>"
        "</div>"
    )


def header_html(params, scorecard, *, title: str | None = None) -> str:
    """Report title block: brand, report title and period."""
    loc = params.locale
    title = title or params.report.title or t("report_title", loc)
    return (
        "<div class='kpi-header'>"
        f"<div class='brand'>{escape(params.display_name)}</div>"
        f"<h1>{escape(title)}</h1>"
        f"<div class='period'>{escape(period_title(scorecard.period, loc))}</div>"
        "</div>"
    )


def glossary_html(kpis, *, locale: str = "en") -> str:
    """Definition list of the KPIs shown: name, one-line definition, exact definition, unit."""
    items = []
    for k in kpis:
        dept = DEPARTMENT_NAMES[k.department].get(locale, k.department)
        better = t(k.direction, locale)
        items.append(
            f"<dt>{escape(kpi_name(k.id, locale))} <span class='muted'>({escape(dept)})</span></dt>"
            f"<dd>{escape(kpi_description(k.id, locale))}"
            + (f"<div class='exact'>{escape(k.definition)}</div>" if locale == "en" else "")
            + f"<div class='muted'>{t('better', locale)}: {better} · <code>{k.id}</code></div></dd>"
        )
    return f"<dl class='kpi-glossary'>{''.join(items)}</dl>"


_GROUP_CODES = ("new", "reactivated", "steady", "returning", "inactive", "(unknown)")


def breakdown_html(breakdown, *, kpis=None, title: str | None = None) -> str:
    """KPIs (columns) by group (rows) for the report's period, formatted for the locale."""
    from .formatting import TEXT

    loc, cur = breakdown.locale, breakdown.currency
    from ..kpis.registry import get_registry

    reg = get_registry()
    frame = breakdown.frame
    ids = [k for k in (kpis or list(dict.fromkeys(frame["kpi"]))) if k in set(frame["kpi"])]
    if not ids:
        reasons = sorted(set(breakdown.unsupported.values())) or ["no data in period"]
        text = "; ".join(
            r.replace("needs table", t("needs_table", loc)).replace(
                "no data in period", t("no_data", loc)
            )
            for r in reasons
        )
        return f"<p class='muted'><i>{t('not_available', loc)} ({escape(text)})</i></p>"
    pivot = breakdown.pivot("value")
    order = ["new", "reactivated", "steady", "returning", "inactive"]
    groups = sorted(pivot.index, key=lambda g: (order.index(g) if g in order else 99, g))
    groups = [g for g in groups if pivot.loc[g, ids].notna().any()]
    head = "".join(f"<th>{escape(kpi_name(reg[k].id, loc))}</th>" for k in ids)
    rows = []
    for g in groups:
        label = TEXT[g].get(loc, g) if g in _GROUP_CODES else g
        cells = "".join(
            f"<td class='num'>{format_value(pivot.loc[g, k], reg[k].unit, loc, cur)}</td>"
            for k in ids
        )
        rows.append(f"<tr><td class='name'>{escape(label)}</td>{cells}</tr>")
    caption = f"<caption>{escape(title)}</caption>" if title else ""
    return (
        f"<table class='kpi-scorecard breakdown'>{caption}<thead><tr>"
        f"<th class='name'>{t('group', loc)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
