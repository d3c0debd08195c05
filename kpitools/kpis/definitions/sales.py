"""Sales KPIs (seed 003 "Vendite", seeds 000-002)."""

from __future__ import annotations

import ibis

from ..compute import safe_div
from ..registry import kpi, measure
from .common import flag


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
    lead, keys = ctx.grouped(lead, "created_at", customer_col=None)
    return lead.group_by(**keys).aggregate(
        n_rows=lead.count(),
        leads=lead.count(),
        converted_leads=flag(converted),
    )


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
