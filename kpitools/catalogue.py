"""The KPI catalogue: every KPI's declaration (id, department, unit, direction, measure group).

This is the declarative half of a KPI, importable without Ibis or the KPI engine, so that a
params file can be validated (``kpis:``, objectives' ``kpi:``) in a fraction of a second. The
formula half lives in :mod:`kpitools.kpis.definitions` (``@kpi("revenue")`` on the function that
computes it from its measure group); a test checks that every declaration has exactly one
formula. Names and one-line definitions are message ids of the translation catalogue:
``kpi.<id>.name`` and ``kpi.<id>.description``.

The order below is the report's order within each department.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import UnknownKpiError
from .vocab import Department, Direction, Unit

DEPARTMENTS: tuple[Department, ...] = tuple(Department)


@dataclass(frozen=True)
class KpiDeclaration:
    """What a KPI is, independent of how it is computed.

    Attributes
    ----------
    id : str
        snake_case identifier, used in params files and ``kpis.json``.
    department : Department
    unit : Unit
        ``ratio`` values are fractions in [0, 1] shown as percentages.
    direction : Direction
        Which way is better.
    measure : str
        The measure group (one database query) whose columns the formula reads.
    matures : str, optional
        For a rate that needs time to happen (a lead converting, a renewal being won): the
        setting that holds its window in days: a field of the params' ``settings``
        (``"conversion_window_days"``) or a dotted path from the params
        (``"roi.attribution_days"``). A period's value is final only once that window has
        closed after the period; the report shows the latest such cohort (see
        :func:`kpitools.kpis.compute.maturity_days`). None for KPIs that are final at the end
        of the period.
    """

    id: str
    department: Department
    unit: Unit
    direction: Direction
    measure: str
    matures: str | None = None

    @property
    def name_msgid(self) -> str:
        """Message id of the KPI's name in the translation catalogue."""
        return f"kpi.{self.id}.name"

    @property
    def description_msgid(self) -> str:
        """Message id of the KPI's one-line definition in the translation catalogue."""
        return f"kpi.{self.id}.description"


def _k(
    id: str,
    department: str,
    unit: str,
    direction: str,
    measure: str,
    *,
    matures: str | None = None,
) -> KpiDeclaration:
    return KpiDeclaration(
        id, Department(department), Unit(unit), Direction(direction), measure, matures
    )


#: Every KPI, by id, in report order.
KPIS: dict[str, KpiDeclaration] = {
    k.id: k
    for k in (
        _k("new_customer_revenue", "sales", "currency", "higher", "customer_activity"),
        _k("active_crm_users_rate", "adoption", "ratio", "higher", "crm_usage"),
        _k("logins_per_user", "adoption", "number", "higher", "crm_usage"),
        _k("data_completeness_rate", "adoption", "ratio", "higher", "customer_records"),
        _k("campaigns_run", "marketing", "count", "higher", "campaign_calendar"),
        _k(
            "campaign_response_rate",
            "marketing",
            "ratio",
            "higher",
            "campaign_outcomes",
            matures="roi.attribution_days",
        ),
        _k("attributed_campaign_revenue", "marketing", "currency", "higher", "campaign_outcomes"),
        _k("campaign_leads", "marketing", "count", "higher", "campaign_leads"),
        _k("programme_roi", "marketing", "ratio", "higher", "campaign_programme"),
        _k("incremental_margin", "marketing", "currency", "higher", "campaign_programme"),
        _k("incremental_revenue", "marketing", "currency", "higher", "campaign_programme"),
        _k("campaign_new_customers", "marketing", "count", "higher", "campaign_leads"),
        _k("customer_acquisition_cost", "marketing", "currency", "lower", "acquisition_cost"),
        _k("delivery_rate", "marketing", "ratio", "higher", "campaign_outcomes"),
        _k("open_rate", "marketing", "ratio", "higher", "campaign_outcomes"),
        _k("click_rate", "marketing", "ratio", "higher", "campaign_outcomes"),
        _k(
            "purchase_rate",
            "marketing",
            "ratio",
            "higher",
            "campaign_outcomes",
            matures="roi.attribution_days",
        ),
        _k("unsubscribe_rate", "marketing", "ratio", "lower", "campaign_outcomes"),
        _k("referrals", "marketing", "count", "higher", "referrals_created"),
        _k("web_page_views", "marketing", "count", "higher", "web_visits"),
        _k("web_goal_completion_rate", "marketing", "ratio", "higher", "web_visits"),
        _k("time_per_visit", "marketing", "seconds", "higher", "web_visits"),
        _k("email_list_growth_rate", "marketing", "ratio", "higher", "email_list"),
        _k("customer_tenure_days", "marketing", "days", "higher", "basket_history"),
        _k("cross_sell_value", "marketing", "currency", "higher", "basket_history"),
        _k("retention_rate", "perception", "ratio", "higher", "customer_activity"),
        _k("churn_rate", "perception", "ratio", "lower", "customer_activity"),
        _k("active_customers", "perception", "count", "higher", "customer_activity"),
        _k("lapsed_customers", "perception", "count", "lower", "customer_activity"),
        _k("repeat_purchase_rate", "perception", "ratio", "higher", "customer_activity"),
        _k("avg_margin_per_customer", "perception", "currency", "higher", "customer_activity"),
        _k("average_clv", "perception", "currency", "higher", "customer_value"),
        _k("customer_equity", "perception", "currency", "higher", "customer_value"),
        _k("nps", "perception", "score", "higher", "surveys"),
        _k("csat", "perception", "ratio", "higher", "surveys"),
        _k("csat_mean_score", "perception", "score", "higher", "surveys"),
        _k("relationship_freshness_7d", "perception", "ratio", "higher", "relationship_freshness"),
        _k("relationship_freshness_30d", "perception", "ratio", "higher", "relationship_freshness"),
        _k("actions_per_engagement", "perception", "number", "lower", "engagement"),
        _k("social_sentiment", "perception", "score", "higher", "social"),
        _k("social_reach", "perception", "count", "higher", "social"),
        _k("share_of_voice", "perception", "ratio", "higher", "social"),
        _k("new_customers", "sales", "count", "higher", "customer_activity"),
        _k("revenue", "sales", "currency", "higher", "customer_activity"),
        _k(
            "lead_conversion_rate",
            "sales",
            "ratio",
            "higher",
            "leads",
            matures="conversion_window_days",
        ),
        _k("prospects", "sales", "count", "higher", "leads"),
        _k(
            "funnel_conversion_rate",
            "sales",
            "ratio",
            "higher",
            "lead_customers",
            matures="conversion_window_days",
        ),
        _k("loyal_customers", "sales", "count", "higher", "customer_loyalty"),
        _k("lead_response_minutes", "sales", "minutes", "lower", "leads"),
        _k("avg_lead_response_minutes", "sales", "minutes", "lower", "leads"),
        _k("p90_lead_response_minutes", "sales", "minutes", "lower", "leads"),
        _k("lead_response_target_rate", "sales", "ratio", "higher", "leads"),
        _k("touches_to_convert", "sales", "number", "lower", "lead_touches"),
        _k("open_opportunities", "sales", "count", "higher", "opportunities"),
        _k("open_pipeline_value", "sales", "currency", "higher", "opportunities"),
        _k("quotes", "sales", "count", "higher", "opportunities"),
        _k("close_rate", "sales", "ratio", "higher", "opportunities"),
        _k("renewal_rate", "sales", "ratio", "higher", "renewals", matures="renewal_grace_days"),
        _k("new_sales_amount", "sales", "currency", "higher", "opportunities"),
        _k("renewal_amount", "sales", "currency", "higher", "opportunities"),
        _k("average_deal_size", "sales", "currency", "higher", "opportunities"),
        _k("sales_cycle_days", "sales", "days", "lower", "opportunities"),
        _k("avg_sales_cycle_days", "sales", "days", "lower", "opportunities"),
        _k("p90_sales_cycle_days", "sales", "days", "lower", "opportunities"),
        _k("sales_calls", "sales", "count", "higher", "sales_activities"),
        _k("calls_per_opportunity", "sales", "number", "lower", "opportunity_calls"),
        _k("won_amount_per_rep", "sales", "currency", "higher", "opportunities"),
        _k("cases_handled", "service", "count", "higher", "cases"),
        _k("same_day_closure_rate", "service", "ratio", "higher", "cases"),
        _k("avg_resolution_hours", "service", "hours", "lower", "cases"),
        _k("median_resolution_hours", "service", "hours", "lower", "cases"),
        _k("p90_resolution_hours", "service", "hours", "lower", "cases"),
        _k("first_response_hours", "service", "hours", "lower", "cases_opened"),
        _k("complaint_resolution_hours", "service", "hours", "lower", "cases"),
        _k("cost_per_interaction", "service", "currency", "lower", "cases"),
        _k("sla_compliance_rate", "service", "ratio", "higher", "cases"),
        _k("first_contact_resolution_rate", "service", "ratio", "higher", "cases"),
        _k("service_calls_per_day", "service", "number", "higher", "calls"),
        _k("customer_callbacks", "service", "count", "lower", "calls"),
        _k("abandoned_call_rate", "service", "ratio", "lower", "calls"),
        _k("avg_handle_seconds", "service", "seconds", "lower", "calls"),
        _k("median_handle_seconds", "service", "seconds", "lower", "calls"),
        _k("p90_handle_seconds", "service", "seconds", "lower", "calls"),
        _k("calls_handled_per_agent", "service", "number", "higher", "calls"),
    )
}


#: Ratio KPIs that are growth rates rather than shares: a fraction that can fall below 0 (a
#: shrinking list) or exceed 1 (a list that more than doubled); every other ratio is in [0, 1].
SIGNED_RATIOS: frozenset[str] = frozenset({"email_list_growth_rate"})

#: Ratios that are not shares, so neither bound holds: a return on cost is below 0 when a
#: programme loses money and above 1 when it more than doubles its cost.
UNBOUNDED_RATIOS: frozenset[str] = frozenset({"programme_roi"})

#: The kpitools version in which the ids of :data:`RENAMED` and :data:`REMOVED` changed.
CHANGED_IN = "0.2"

#: Old KPI id -> new id, for ids renamed because the old name overstated what they measure
#: (issue 10). A params file using an old id gets one error naming the new one.
RENAMED: dict[str, str] = {
    "campaign_revenue": "attributed_campaign_revenue",
    "revenue_per_salesperson": "won_amount_per_rep",
    "csat_satisfied_rate": "csat",
}

#: Removed KPI id -> why, and what to follow instead.
REMOVED: dict[str, str] = {
    "up_sell_value": (
        "orders carry no product or price tier, so an up-sell cannot be told from the usual "
        "spread of basket values (on the demo, where no up-sell is planted, it read 177 k and "
        "its mirror down-sell 174 k); follow revenue and the average order instead"
    ),
}

#: KPIs whose id was kept but whose scale changed in :data:`CHANGED_IN`: id -> what changed.
RESCALED: dict[str, str] = {
    "csat": (
        "csat is now the share of satisfied answers (4 or 5 out of 5) as a fraction, "
        "e.g. 0.75 for 75 %; the 1-5 mean score is csat_mean_score"
    ),
    "email_list_growth_rate": (
        "email_list_growth_rate is now a fraction, e.g. 0.05 for 5 % growth (it was in percent)"
    ),
}


def unknown_kpi_message(kpi_id: str) -> str:
    """Why ``kpi_id`` is not a KPI: renamed (to what), removed (why), or unknown.

    ``KPI 'campaign_revenue' was renamed 'attributed_campaign_revenue' in kpitools 0.2``;
    ``KPI 'up_sell_value' was removed in kpitools 0.2 because ...``; else
    ``unknown KPI 'revnue'; did you mean revenue?`` (close matches, or where to look).
    """
    if kpi_id in RENAMED:
        return (
            f"KPI {kpi_id!r} was renamed {RENAMED[kpi_id]!r} in kpitools {CHANGED_IN}; "
            f"use {RENAMED[kpi_id]}"
        )
    if kpi_id in REMOVED:
        return f"KPI {kpi_id!r} was removed in kpitools {CHANGED_IN} because {REMOVED[kpi_id]}"
    close = difflib.get_close_matches(kpi_id, list(KPIS), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `kpitools kpis` for the list"
    return f"unknown KPI {kpi_id!r}{hint}"


def get_declaration(kpi_id: str) -> KpiDeclaration:
    """The declaration of ``kpi_id``.

    Raises
    ------
    UnknownKpiError
        Naming the closest ids.
    """
    try:
        return KPIS[kpi_id]
    except KeyError:
        raise UnknownKpiError(unknown_kpi_message(kpi_id)) from None


def check_kpi_ids(ids: Iterable[str]) -> None:
    """Raise ValueError (for pydantic) naming every unknown id with its close matches."""
    bad = [unknown_kpi_message(i) for i in ids if i not in KPIS]
    if bad:
        raise ValueError("; ".join(bad))


__all__ = [
    "DEPARTMENTS",
    "KPIS",
    "CHANGED_IN",
    "KpiDeclaration",
    "REMOVED",
    "RENAMED",
    "RESCALED",
    "SIGNED_RATIOS",
    "UNBOUNDED_RATIOS",
    "check_kpi_ids",
    "get_declaration",
    "unknown_kpi_message",
]
