"""Words and numbers of the campaign ROI report: formatters and the sentences of issues.

Every phrase comes from the translation catalogue (``roi.*`` messages, :func:`~kpitools.report.i18n.t`),
every number from :mod:`kpitools.report.formatting` (Babel), so a French report reads
``ROI −23,6 %`` and never ``nan``.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_currency, format_decimal

from kpitools.numbers import finite_or_none, is_missing
from kpitools.roi import OUTCOMES, CampaignReport, CampaignResult, Issue

from ..formatting import babel_locale, currency_pattern, format_change, format_date, format_value
from ..i18n import catalogue, channel_name, segment_name, t

__all__ = [
    "BLOCKING_CODES",
    "blocking_reason",
    "confidence_level",
    "currency_of",
    "group_name",
    "interval",
    "interval_separator",
    "issue_message",
    "issue_text",
    "locale_of",
    "method_name",
    "money",
    "money0",
    "p_value",
    "pct",
    "short_issues",
]

#: Issues that explain why a campaign is not measured, most telling first.
BLOCKING_CODES = ("no_members", "no_treated", "no_control", "lift_failed", "zero_cost")

#: Codes whose English report sentence formats its amounts in the report's currency (the other
#: English sentences are the plain English message of kpis.json).
_FORMATTED_IN_ENGLISH = frozenset({"underpowered", "unmeasured"})


def locale_of(report: CampaignReport, locale: str | None = None) -> str:
    """``locale``, else the report's locale, else English."""
    return locale or getattr(report, "locale", "en") or "en"


def currency_of(report: CampaignReport, currency: str | None = None) -> str:
    """``currency``, else the report's currency, else EUR."""
    return currency or getattr(report, "currency", "EUR") or "EUR"


def money(v, loc: str, cur: str) -> str:
    """An amount per customer: ``£39.98`` (decimals below 1 000, as :func:`format_value`)."""
    return format_value(v, "currency", loc, cur)


def money0(v, loc: str, cur: str) -> str:
    """A total in whole currency units: ``£929`` / ``929 €`` (Babel, no decimals)."""
    if is_missing(v):
        return "–"
    if abs(float(v)) >= 1000:
        return format_value(v, "currency", loc, cur)
    return format_currency(
        round(float(v)),
        cur,
        format=currency_pattern(loc, False),
        locale=babel_locale(loc),
        currency_digits=False,
    )


def pct(v, loc: str) -> str:
    """A ratio as a signed percentage (ROI): ``+12.3%`` / ``−23.6%``."""
    if is_missing(v):
        return "–"
    return format_change(v, "relative", loc) if v != 0 else format_value(0.0, "ratio", loc)


def confidence_level(report: CampaignReport, loc: str) -> str:
    """The confidence level of the intervals: ``95%`` / ``95 %``."""
    return format_value(1 - report.alpha, "ratio", loc).replace(",0", "").replace(".0", "")


def interval_separator(loc: str) -> str:
    """Between the bounds of an interval: ``; `` (`` ; `` in French)."""
    return " ; " if loc == "fr" else "; "


def interval(lo: str, hi: str, loc: str) -> str:
    """``[lo; hi]`` (``[lo ; hi]`` in French), plain text."""
    return f"[{lo}{interval_separator(loc)}{hi}]"


def p_value(v, loc: str) -> str:
    """A p-value with 3 decimals (``< 0.001`` below), in the locale's number format."""
    f = finite_or_none(v)
    if f is None:
        return "–"
    bl = babel_locale(loc)
    if f < 0.001:
        return "< " + format_decimal(0.001, format="0.000", locale=bl)
    return format_decimal(f, format="0.000", locale=bl)


def group_name(by: str, group: str, loc: str) -> str:
    """A segment's or a channel's name in ``loc``."""
    return segment_name(group, loc) if by == "segment" else channel_name(group, loc)


def method_name(method: str, loc: str) -> str:
    """The lift estimator's name in ``loc`` (``ols`` → ``regression adjustment …``)."""
    names = dict(part.split(":", 1) for part in t("roi.method_names", loc).split("|"))
    return names.get(method, method)


def _has(msgid: str, loc: str) -> bool:
    return msgid in catalogue(loc)


def issue_message(issue: Issue) -> str:
    """The plain English sentence of an issue, as written to ``kpis.json``.

    Message ``roi.message.<code>[.<variant>]``; numbers are written the Python way
    (``1,234``, ``12%``, ``2025-12-31``), without currency.
    """
    fields: dict[str, Any] = issue.message_fields
    code = issue.code
    if code in ("lift_failed", "method_fallback") and "outcome" in fields:
        fields["what"] = t(f"roi.outcome.{fields['outcome']}", "en")
        fields.setdefault("covariate", OUTCOMES.get(fields["outcome"], ""))
    if code == "cost_missing":
        fields["column_list"] = " and ".join(str(fields.get("columns", "")).split(", "))
    if code == "cells_skipped":
        detail = fields.get("detail") or {}
        fields["detail_list"] = ", ".join(f"{g}: {n:,}" for g, n in detail.items())
    if code == "underpowered":
        required = fields.get("required")
        fields["need"] = (
            t("roi.message.underpowered_none", "en")
            if required is None
            else t("roi.message.underpowered_need", "en", required=required)
        )
    msgid = f"roi.message.{code}" + (f".{issue.variant}" if issue.variant else "")
    return t(msgid, "en", **fields)


def _format_field(key: str, value, loc: str, cur: str) -> str:
    if key in ("observed", "planned", "share"):
        return format_value(value, "ratio", loc)
    if key in ("mde", "break_even"):
        return money(value, loc, cur)
    if key == "cost":
        return money0(value, loc, cur)
    if key == "p_value":
        return p_value(value, loc)
    if key in ("window_end", "last_day"):
        return format_date(value, loc)
    if key == "outcome":
        msgid = f"roi.outcome.{value}"
        return t(msgid, loc) if _has(msgid, loc) else str(value)
    if key == "by":
        msgid = f"roi.{value}_word"
        return t(msgid, loc) if _has(msgid, loc) else str(value)
    if key in ("n", "n_control", "n_treated", "min", "total", "required"):
        return format_value(value, "count", loc)
    return str(value)


def issue_text(issue: Issue, locale: str = "en", currency: str = "EUR") -> str:
    """An issue's sentence in the report's language (message ``roi.issue.<code>``).

    The English report shows the full English message (:func:`issue_message`), as it always
    has, except for the codes whose amounts are in the report's currency.
    """
    if locale == "en" and issue.code not in _FORMATTED_IN_ENGLISH:
        return issue_message(issue)
    values = {k: _format_field(k, v, locale, currency) for k, v in issue.fields.items()}
    if issue.code == "underpowered":
        values["need"] = (
            t("roi.issue.underpowered_none", locale)
            if issue.fields.get("required") is None
            else t("roi.issue.underpowered_need", locale, required=values.get("required"))
        )
    try:
        return t(f"roi.issue.{issue.code}", locale, **values)
    except (KeyError, IndexError):
        return issue_message(issue)


def short_issues(campaign: CampaignResult, loc: str) -> str:
    """Short labels of a campaign's warnings (``small control, underpowered``)."""
    labels = [
        t(f"roi.issue_short.{i.code}", loc)
        for i in campaign.warnings
        if _has(f"roi.issue_short.{i.code}", loc)
    ]
    return ", ".join(dict.fromkeys(labels))


def blocking_reason(campaign: CampaignResult, loc: str, cur: str) -> str:
    """Why a campaign could not be measured: its most telling warning, or ``–``."""
    warn = sorted(
        campaign.warnings,
        key=lambda i: BLOCKING_CODES.index(i.code) if i.code in BLOCKING_CODES else 99,
    )
    return issue_text(warn[0], loc, cur) if warn else "–"
