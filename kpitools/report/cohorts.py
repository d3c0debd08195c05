"""Words for matured cohort KPIs (a rate that needs time to happen, see
:func:`kpitools.kpis.compute.maturity_days`): the cohort a value describes, and the provisional
value of the report's own period.

Phrases live in ``locales/<locale>/cohorts.yaml``: ``cohort.label.<kpi id>`` for a KPI with its
own wording ("Leads of September 2025, converted within 90 days"), else
``cohort.label.default``.
"""

from __future__ import annotations

from ..kpis.compute import KpiResult
from ..periods import Period
from .formatting import format_value, period_title
from .i18n import has_message, t


def cohort_label(
    kpi_id: str, cohort: Period | None, days: int | None, locale: str = "en"
) -> str | None:
    """``Leads of September 2025, converted within 90 days``; None without a cohort."""
    if cohort is None:
        return None
    msgid = f"cohort.label.{kpi_id}"
    if not has_message(msgid, locale):
        msgid = "cohort.label.default"
    return t(msgid, locale, cohort=period_title(cohort, locale), days=days)


def result_cohort_label(result: KpiResult, locale: str = "en") -> str | None:
    """:func:`cohort_label` of a scorecard's KPI result (None for a KPI final at period end)."""
    return cohort_label(result.id, result.cohort, result.window_days, locale)


def provisional_text(
    result: KpiResult, period: Period, locale: str = "en", currency: str = "EUR"
) -> str | None:
    """``December 2025 so far: 17.1 % (provisional)``; None when there is no provisional
    value (a KPI final at period end, or no data in the report's period)."""
    if result.cohort is None or result.provisional is None:
        return None
    value = format_value(result.provisional, result.kpi.unit, locale, currency)
    return t("cohort.provisional", locale, period=period_title(period, locale), value=value)


__all__ = ["cohort_label", "provisional_text", "result_cohort_label"]
