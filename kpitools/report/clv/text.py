"""The CLV section's sentences and labels, in the report's locale (plain text, not HTML).

Every phrase comes from the catalogue (``clv.*`` messages, :func:`kpitools.report.i18n.t`);
every number goes through :func:`kpitools.report.formatting.format_value`. A result whose
models could not be fitted is worded from its reason code (:class:`kpitools.clv.ClvReason`).
Both the HTML blocks (:mod:`kpitools.report.clv.sections`) and the figures
(:mod:`kpitools.plots.clv`) use these functions.
"""

from __future__ import annotations

from kpitools.clv.results import CALIBRATION_TOLERANCE, ClvReason, ClvReport
from kpitools.vocab import FitStatus, Segment

from ..formatting import format_change, format_date, format_value
from ..i18n import locale_of, segment_name, t

__all__ = [
    "CALIBRATION_TOLERANCE",
    "calibration_text",
    "churn_sentence",
    "count",
    "group_label",
    "money",
    "not_fitted_text",
    "pct",
    "reason_text",
    "simple_sentence",
]

#: Calibration failures that mean "too little history before the check period".
_CALIBRATION_SHORT = (
    ClvReason.NO_CUSTOMERS,
    ClvReason.TOO_FEW_REPEAT_BUYERS,
    ClvReason.NO_CONVERGENCE,
)


_SEGMENTS = frozenset(Segment)


def money(report: ClvReport, value, locale: str | None = None) -> str:
    """An amount in the report's currency (``£1,234.56``; ``–`` when missing)."""
    return format_value(value, "currency", locale_of(report, locale), report.currency)


def pct(report: ClvReport, value, locale: str | None = None) -> str:
    """A share as a percentage (``12.3%``)."""
    return format_value(value, "ratio", locale_of(report, locale))


def count(report: ClvReport, value, locale: str | None = None) -> str:
    """A whole number (``1,234``)."""
    return format_value(value, "count", locale_of(report, locale))


def group_label(group: object, by: str, locale: str) -> str:
    """A row of a CLV breakdown: the segment's name in ``locale`` (customers without an order
    in the period: "Not buying in period"); product lines as spelled in the data."""
    if by != "segment":
        return str(group)
    if group == Segment.INACTIVE:
        return t("clv.segment_inactive", locale)
    if group in _SEGMENTS:
        return segment_name(group, locale)
    return str(group)


def reason_text(report: ClvReport, locale: str | None = None) -> str:
    """Why the models could not be fitted, in plain words (no final full stop)."""
    loc = locale_of(report, locale)
    d = report.reason_details or {}
    code = report.reason_code
    if code == ClvReason.TOO_FEW_REPEAT_BUYERS:
        return t(
            "clv.too_few_repeat_buyers",
            loc,
            repeat=count(report, d.get("repeat_buyers"), loc),
            customers=count(report, d.get("customers"), loc),
            minimum=count(report, d.get("min_repeat_buyers"), loc),
        )
    if code in (ClvReason.NO_ORDERS, ClvReason.NO_REVENUE):
        return t(f"clv.{code}", loc)
    if code == ClvReason.NEEDS_COLUMN:
        return t("optional.clv.needs_cost", loc, column=d.get("column", "orders.cost"))
    if code == ClvReason.NO_CONVERGENCE:
        return t("clv.no_convergence", loc, detail=report.error or "")
    return (report.error or "").rstrip(".")


def not_fitted_text(report: ClvReport, locale: str | None = None) -> str:
    """The whole not-fitted sentence ("The customer lifetime value could not be estimated:
    …")."""
    loc = locale_of(report, locale)
    return t("clv.not_fitted", loc, reason=reason_text(report, loc))


def simple_sentence(report: ClvReport, locale: str | None = None) -> str:
    """The simple formula against the models, and why they differ (or why it is missing)."""
    loc = locale_of(report, locale)
    s = report.simple
    if s.status != "ok" or s.clv is None:
        if s.reason_code in (ClvReason.NO_DATA, ClvReason.ZERO_CHURN):
            reason = t(f"clv.simple_{s.reason_code}", loc)
        elif s.reason_code == ClvReason.NEEDS_COLUMN:
            column = (report.reason_details or {}).get("column", "orders.cost")
            reason = t("optional.clv.needs_cost", loc, column=column)
        else:
            reason = (s.error or "–").rstrip(".")
        return t("clv.simple_missing", loc, reason=reason)
    model = report.mean_clv_active
    text = t(
        "churn.simple_sentence",
        loc,
        margin=money(report, s.avg_margin_per_month, loc),
        churn=pct(report, s.churn_per_month, loc),
        lifetime=format_value(s.expected_lifetime_months, "score", loc),
        simple=money(report, s.clv, loc),
        model=money(report, model, loc),
    )
    if model is None or not model > 0:
        return text
    ratio = s.clv / model
    key = (
        "churn.simple_lower"
        if ratio < 0.8
        else "churn.simple_higher"
        if ratio > 1.25
        else "clv.simple_agree"
    )
    return f"{text} {t(key, loc)}"


def churn_sentence(report: ClvReport, locale: str | None = None) -> str:
    """Customers lost in the period: the lapse churn of the scorecard and, beside it, the
    customers the fitted purchase model expects to have been lost (``churn.*`` messages)."""
    loc = locale_of(report, locale)
    s = report.simple
    parts = []
    if s.current_lapsed is not None and s.current_churn is not None:
        parts.append(
            t(
                "churn.sentence",
                loc,
                lapsed=count(report, s.current_lapsed, loc),
                lapse_rate=pct(report, s.current_churn, loc),
                lapse_days=count(report, report.lapse_days, loc),
            )
        )
    m = report.model_churn
    if m is not None and m.rate is not None:
        per_month = ""
        if m.grain != "month" and m.rate_per_month is not None:
            per_month = t("churn.per_month", loc, rate=pct(report, m.rate_per_month, loc))
        parts.append(
            t(
                "churn.model_sentence",
                loc,
                expected=count(report, m.expected_lost, loc),
                alive=count(report, m.expected_alive_start, loc),
                model_rate=pct(report, m.rate, loc),
                per_month=per_month,
            )
        )
    elif report.ok:
        parts.append(t("churn.model_missing", loc))
    return " ".join(parts)


def calibration_text(report: ClvReport, locale: str | None = None) -> str:
    """The holdout forecast against what happened, and what it means for the CLV."""
    loc = locale_of(report, locale)
    totals = report.calibration_totals
    if report.calibration_status != FitStatus.OK or not totals:
        if report.calibration_reason_code in _CALIBRATION_SHORT:
            reason = t("clv.calibration_short", loc)
        else:
            reason = report.calibration_error or ""
        return t("clv.calibration_missing", loc, reason=reason.rstrip(".") or "–")
    error = totals["relative_error"]
    text = t(
        "clv.calibration_text",
        loc,
        date=format_date(report.calibration_end, loc),
        months=count(report, report.calibration_months, loc),
        expected=count(report, totals["expected"], loc),
        customers=count(report, totals["customers"], loc),
        actual=count(report, totals["actual"], loc),
        error=format_change(error, "relative", loc),
    )
    quality = report.calibration_quality
    verdict = ""
    if quality is not None:
        tolerance = pct(report, CALIBRATION_TOLERANCE, loc)
        verdict = t(f"clv.calibration_{quality}", loc, tolerance=tolerance)
    return f"{text} {verdict}".strip()
