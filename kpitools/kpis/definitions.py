"""Measure groups (one Ibis query each) and the KPIs computed from them.

Each measure builder returns, per period of the window, an ``n_rows`` column (0: no data in
period) and the sums and counts its KPIs divide. Each KPI's docstring is its exact definition;
it is shown in ``kpitools kpis`` and in the report glossary.
"""

from __future__ import annotations

import ibis

from .compute import safe_div
from .registry import kpi, measure


def _flag(pred):
    """Count of rows where ``pred`` holds (NULL counts as false)."""
    return ibis.ifelse(pred.fill_null(False), 1, 0).sum()


# ---------------------------------------------------------------------------------------------
# Measure groups
# ---------------------------------------------------------------------------------------------


@measure("customer_activity", tables=("orders",))
def customer_activity(ctx):
    """Orders rolled up per customer and period (one pass over ``orders``).

    A customer is *active* in a period when they placed at least one order in it. A customer's
    first period is the period of their first order ever (all history, not only the window),
    so ``new_customers`` is right however far back the data go.
    """
    o = ctx.table("orders")
    o = o.filter(o.ordered_at < ctx.end)
    cp = o.group_by(customer_id=o.customer_id, period=ctx.bucket(o.ordered_at)).aggregate(
        revenue=o.revenue.sum(),
        margin=(o.revenue - o.cost).sum(),
        orders=o.count(),
    )
    by_customer = ibis.window(group_by=cp.customer_id, order_by=cp.period)
    cp = cp.mutate(
        first_period=cp.period.min().over(ibis.window(group_by=cp.customer_id)),
        prev_period=cp.period.lag().over(by_customer),
    )
    cp = cp.filter(cp.period >= ctx.start)
    return cp.group_by("period").aggregate(
        n_rows=cp.count(),
        active_customers=cp.count(),
        new_customers=_flag(cp.period == cp.first_period),
        retained_customers=_flag(cp.prev_period == cp.period - ctx.step),
        revenue=cp.revenue.sum(),
        margin=cp.margin.sum(),
        orders=cp.orders.sum(),
    )


@measure("leads", tables=("leads",))
def leads_measure(ctx):
    """Leads created per period, and those converted within the conversion window."""
    lead = ctx.table("leads")
    lead = lead.filter(ctx.in_window(lead.created_at))
    window = ibis.interval(days=ctx.settings.conversion_window_days)
    converted = (
        lead.converted_at.notnull()
        & (lead.converted_at >= lead.created_at)
        & (lead.converted_at < lead.created_at + window)
    )
    return lead.group_by(period=ctx.bucket(lead.created_at)).aggregate(
        n_rows=lead.count(),
        leads=lead.count(),
        converted_leads=_flag(converted),
    )


@measure("surveys", tables=("surveys",))
def surveys_measure(ctx):
    """Survey answers per period with an NPS score, split into promoters and detractors."""
    s = ctx.table("surveys")
    s = s.filter(ctx.in_window(s.responded_at) & s.nps_score.notnull())
    return s.group_by(period=ctx.bucket(s.responded_at)).aggregate(
        n_rows=s.count(),
        nps_responses=s.count(),
        promoters=_flag(s.nps_score >= 9),
        detractors=_flag(s.nps_score <= 6),
    )


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------


@kpi(
    "new_customers",
    department="sales",
    unit="count",
    direction="higher",
    measure="customer_activity",
    labels={
        "en": ("New customers", "Customers whose first order falls in the period."),
        "fr": ("Nouveaux clients", "Clients dont la première commande tombe dans la période."),
        "it": ("Nuovi clienti", "Clienti il cui primo ordine cade nel periodo."),
    },
)
def new_customers(m):
    """Number of customers whose first order ever (in the brand and its selected product lines)
    was placed in the period."""
    return m["new_customers"]


@kpi(
    "revenue",
    department="sales",
    unit="currency",
    direction="higher",
    measure="customer_activity",
    labels={
        "en": ("Revenue", "Net revenue of the orders placed in the period."),
        "fr": ("Chiffre d'affaires", "Chiffre d'affaires net des commandes de la période."),
        "it": ("Fatturato", "Fatturato netto degli ordini del periodo."),
    },
)
def revenue(m):
    """Sum of ``orders.revenue`` over orders placed in the period (currency units)."""
    return m["revenue"]


@kpi(
    "retention_rate",
    department="perception",
    unit="ratio",
    direction="higher",
    measure="customer_activity",
    labels={
        "en": (
            "Retention rate",
            "Share of the previous period's active customers who bought again in this period.",
        ),
        "fr": (
            "Taux de fidélisation",
            "Part des clients actifs de la période précédente qui ont racheté dans la période.",
        ),
        "it": (
            "Tasso di fidelizzazione",
            "Quota dei clienti attivi nel periodo precedente che hanno riacquistato nel periodo.",
        ),
    },
)
def retention_rate(m):
    """Customers active (at least one order) in both the previous period and this one, divided
    by customers active in the previous period."""
    return safe_div(m["retained_customers"], m["active_customers"].shift(1))


@kpi(
    "churn_rate",
    department="perception",
    unit="ratio",
    direction="lower",
    measure="customer_activity",
    labels={
        "en": (
            "Churn rate",
            "Share of the previous period's active customers who did not buy in this period.",
        ),
        "fr": (
            "Taux d'attrition",
            "Part des clients actifs de la période précédente qui n'ont pas racheté.",
        ),
        "it": (
            "Tasso di abbandono",
            "Quota dei clienti attivi nel periodo precedente che non hanno riacquistato.",
        ),
    },
)
def churn_rate(m):
    """1 - retention rate: customers active in the previous period with no order in this one,
    divided by customers active in the previous period."""
    prev = m["active_customers"].shift(1)
    return safe_div(prev - m["retained_customers"], prev)


@kpi(
    "avg_margin_per_customer",
    department="perception",
    unit="currency",
    direction="higher",
    measure="customer_activity",
    labels={
        "en": ("Average margin per customer", "Gross margin of the period per active customer."),
        "fr": ("Marge moyenne par client", "Marge brute de la période par client actif."),
        "it": ("Margine medio per cliente", "Margine lordo del periodo per cliente attivo."),
    },
)
def avg_margin_per_customer(m):
    """Sum of ``orders.revenue - orders.cost`` over orders of the period, divided by the
    customers with at least one order in the period (currency units)."""
    return safe_div(m["margin"], m["active_customers"])


@kpi(
    "lead_conversion_rate",
    department="sales",
    unit="ratio",
    direction="higher",
    measure="leads",
    labels={
        "en": (
            "Lead conversion rate",
            "Share of the period's leads that became customers within the conversion window.",
        ),
        "fr": (
            "Taux de conversion des prospects",
            "Part des prospects de la période devenus clients dans la fenêtre de conversion.",
        ),
        "it": (
            "Tasso di conversione dei lead",
            "Quota dei lead del periodo diventati clienti entro la finestra di conversione.",
        ),
    },
)
def lead_conversion_rate(m):
    """Leads created in the period whose ``converted_at`` falls within
    ``settings.conversion_window_days`` (default 90) of their creation, divided by leads
    created in the period. Leads of the last weeks of data have not had the whole window yet."""
    return safe_div(m["converted_leads"], m["leads"])


@kpi(
    "nps",
    department="perception",
    unit="score",
    direction="higher",
    measure="surveys",
    labels={
        "en": ("Net Promoter Score", "% promoters (9-10) minus % detractors (0-6)."),
        "fr": ("Net Promoter Score", "% de promoteurs (9-10) moins % de détracteurs (0-6)."),
        "it": ("Net Promoter Score", "% promotori (9-10) meno % detrattori (0-6)."),
    },
)
def nps(m):
    """100 x (answers scoring 9 or 10 - answers scoring 0 to 6) / answers with an NPS score,
    over survey answers of the period; from -100 to +100."""
    return 100 * safe_div(m["promoters"] - m["detractors"], m["nps_responses"])
