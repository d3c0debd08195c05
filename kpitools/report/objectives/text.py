"""The objectives in words and locale-formatted numbers (no markup): statuses, bounds, gaps,
the plan line, the review mark, the summary line and the rules.

Every phrase comes from the translation catalogue (``objectives.*`` in
``report/locales/<locale>/objectives.yaml``); every number from :mod:`kpitools.report.formatting`.
"""

from __future__ import annotations

from ...locales import DEFAULT_LOCALE, LOCALES
from ...objectives import ObjectiveReport, ObjectiveResult
from ...vocab import Direction, Status
from ..formatting import (
    format_change,
    format_date,
    format_percent_short,
    format_value,
    period_title,
)
from ..i18n import t


def status_label(status: str, locale: str = "en") -> str:
    """The status in words: On track, At risk, Off track, Unknown (en, fr, it)."""
    return t(f"objectives.{Status(status)}", locale)


def function_name(function: str, locale: str = "en") -> str:
    """A strategy's function (marketing, sales, service) in words."""
    return t(f"department.{function}", locale)


def rule_text(locale: str = "en") -> str:
    """The pacing, status, roll-up and review rules in plain words (en, fr or it; another
    locale gets the English text)."""
    return t("objectives.rules", locale if locale in LOCALES else DEFAULT_LOCALE)


def bounds_text(
    low: float | None, high: float | None, unit: str, locale: str, currency: str
) -> str:
    """``≥ £2,500``, ``≤ 24.0 h``, ``30.0% – 80.0%`` (a range), or ``–`` without bounds."""
    if low is not None and high is not None:
        lo, hi = (
            format_value(low, unit, locale, currency),
            format_value(high, unit, locale, currency),
        )
        return f"{lo} – {hi}"
    if low is not None:
        return f"\u2265\u00a0{format_value(low, unit, locale, currency)}"
    if high is not None:
        return f"\u2264\u00a0{format_value(high, unit, locale, currency)}"
    return "–"


def objective_bounds(o: ObjectiveResult, value: float) -> tuple[float | None, float | None]:
    """``value`` as the outcome KPI's bound: a minimum when higher is better, else a maximum."""
    return (value, None) if o.kpi.direction == Direction.HIGHER else (None, value)


def gap_text(gap: float | None, rel: float | None, unit: str, locale: str, currency: str) -> str:
    """The gap with its sign: points for ratios and scores, else the unit and the relative gap."""
    if gap is None:
        return "–"
    if unit == "ratio":
        return format_change(gap, "points_ratio", locale)
    if unit == "score":
        return format_change(gap, "points", locale)
    sign = "+" if gap > 0 else ("\u2212" if gap < 0 else "\u00b1")
    text = sign + format_value(abs(gap), unit, locale, currency)
    if rel is not None and gap != 0:
        text += f" ({format_change(rel, 'relative', locale)})"
    return text


def _percent(x: float, locale: str) -> str:
    return format_percent_short(x, locale)


def plan_text(o: ObjectiveResult, locale: str, currency: str) -> str:
    """``From £88,000 on 1 January 2025 to £96,800 by 31 December 2025; 84% of the time
    elapsed.``"""
    unit, obj = o.kpi.unit, o.objective
    return t(
        "objectives.plan",
        locale,
        baseline=format_value(obj.baseline.value, unit, locale, currency),
        start=format_date(obj.baseline.date, locale),
        target=format_value(o.target, unit, locale, currency),
        deadline=format_date(obj.deadline, locale),
        share=_percent(o.fraction, locale),
    )


def review_mark(o: ObjectiveResult, locale: str) -> str:
    """``review point``, ``between reviews, next review 31 December 2025``, and ``deadline
    passed`` when it is; empty when none applies."""
    mark = t("objectives.review_point", locale) if o.review_point else ""
    if not o.review_point and o.next_review is not None:
        mark = t("objectives.between", locale, date=format_date(o.next_review, locale))
    if o.deadline_passed:
        passed = t("objectives.deadline_passed", locale)
        mark = f"{mark} · {passed}" if mark else passed
    return mark


def summary_text(report: ObjectiveReport, locale: str | None = None) -> str:
    """``3 objectives for December 2025: 1 on track, 1 at risk, 1 off track.``"""
    loc = locale or report.locale
    counts = report.counts()
    detail = ", ".join(f"{n} {status_label(s, loc).lower()}" for s, n in counts.items() if n)
    key = "objectives.summary_one" if len(report.objectives) == 1 else "objectives.summary"
    return t(
        key, loc, n=len(report.objectives), period=period_title(report.period, loc), detail=detail
    )


__all__ = [
    "bounds_text",
    "function_name",
    "gap_text",
    "objective_bounds",
    "plan_text",
    "review_mark",
    "rule_text",
    "status_label",
    "summary_text",
]
