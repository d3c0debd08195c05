"""The objectives section as HTML, from the templates in ``templates/objectives/``.

Every value is escaped by the templates (autoescape); only the output of :func:`render` is
trusted markup.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from ...objectives import ObjectiveReport, ObjectiveResult
from ...objectives.results import SLIPPING
from ...vocab import Status
from ..cohorts import cohort_label
from ..i18n import kpi_name, t
from ..tables import Html
from ..templating import render
from .colours import COLOURS, TONES
from .text import (
    bounds_text,
    function_name,
    gap_text,
    objective_bounds,
    plan_text,
    review_mark,
    rule_text,
    status_label,
    summary_text,
)


def badge_html(status: str, locale: str = "en") -> Markup:
    """A coloured status badge (inline colours, so it survives any stylesheet)."""
    status = Status(status)
    return render(
        "objectives/badge.html",
        status=status,
        colour=COLOURS[status],
        label=status_label(status, locale),
    )


def _todo_items(o: ObjectiveResult, loc: str) -> list[dict[str, str]]:
    """What to do: the actions to take now, what slips without an action of its own in the
    params, and what has no value for the period."""
    items = []
    for a in o.actions:
        source = a.source
        if a.level == "metric":
            source = next(kpi_name(m.kpi.id, loc) for m in o.metrics if m.kpi_id == a.source)
        items.append(
            {
                "kind": "action",
                "text": a.text,
                "source": source,
                "status": status_label(a.status, loc).lower(),
            }
        )
    covered = {(a.level, a.source) for a in o.actions}
    lacking = []
    if o.outcome_status in SLIPPING and not o.objective.actions and not o.actions:
        lacking.append((kpi_name(o.kpi.id, loc), o.outcome_status))
    for s in o.strategies:
        for m in s.metrics:
            if m.status in SLIPPING and ("metric", m.kpi_id) not in covered:
                if ("strategy", s.title) not in covered:
                    lacking.append((kpi_name(m.kpi.id, loc), m.status))
    for name, status in lacking:
        items.append({"kind": "lacking", "name": name, "status": status_label(status, loc).lower()})
    unknown = []
    if o.outcome_status == Status.UNKNOWN:
        unknown.append(kpi_name(o.kpi.id, loc))
    unknown += [kpi_name(m.kpi.id, loc) for m in o.metrics if m.status == Status.UNKNOWN]
    items += [{"kind": "unknown", "name": name} for name in dict.fromkeys(unknown)]
    return items


def _helpers(loc: str, cur: str) -> dict[str, Any]:
    """The formatters the templates call, bound to the report's locale and currency."""
    return {
        "locale": loc,
        "currency": cur,
        "badge": lambda status: badge_html(status, loc),
        "bounds": bounds_text,
        "objective_bounds_text": lambda o, value: bounds_text(
            *objective_bounds(o, value), o.kpi.unit, loc, cur
        ),
        "gap_text": gap_text,
        "kpi_name": kpi_name,
        "function_name": function_name,
        "cohort_note": lambda r: t(
            "cohort.objective_note",
            loc,
            label=cohort_label(r.kpi.id, r.cohort, r.window_days, loc),
        ),
        "colours": COLOURS,
        "tones": TONES,
    }


def objective_html(o: ObjectiveResult, locale: str = "en", currency: str = "EUR") -> Markup:
    """One objective's block: status, plan, its KPIs against their targets, what to do."""
    return render(
        "objectives/objective.html",
        o=o,
        mark=review_mark(o, locale),
        plan=plan_text(o, locale, currency),
        todo=_todo_items(o, locale),
        **_helpers(locale, currency),
    )


def overview_html(
    report: ObjectiveReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """Every objective on one line: status, outcome value vs expected now, gap, first action."""
    loc = locale or report.locale
    cur = currency or report.currency
    return render("objectives/overview.html", report=report, **_helpers(loc, cur))


def objectives_html(
    report: ObjectiveReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """The objectives section: a summary line, one block per objective, the rules.

    Parameters
    ----------
    report : kpitools.objectives.ObjectiveReport
    locale : {"en", "fr", "it"}, optional
        Default: the report's (the scorecard's) locale.
    currency : str, optional
        Default: the report's currency.
    """
    loc = locale or report.locale
    cur = currency or report.currency
    if not report.objectives:
        return render("objectives/section.html", report=report, locale=loc)
    return render(
        "objectives/section.html",
        report=report,
        locale=loc,
        summary=summary_text(report, loc),
        overview=overview_html(report, loc, cur),
        blocks=[objective_html(o, loc, cur) for o in report.objectives],
        rules=rule_text(loc),
    )


def show_objectives(report: ObjectiveReport, *, heading: bool = True) -> Html:
    """The objectives section for a notebook cell (with an ``h2`` heading by default)."""
    return Html(
        render(
            "objectives/show.html",
            heading=heading,
            locale=report.locale,
            section=objectives_html(report),
        )
    )


__all__ = ["badge_html", "objective_html", "objectives_html", "overview_html", "show_objectives"]
