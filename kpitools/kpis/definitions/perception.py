"""Customer perception and relationship KPIs (seeds 001-003)."""

from __future__ import annotations

from ..compute import safe_div
from ..registry import kpi, measure
from .common import flag


@measure("surveys", tables=("surveys",))
def surveys_measure(ctx):
    """Survey answers per period with an NPS score, split into promoters and detractors."""
    s = ctx.table("surveys")
    s = s.filter(ctx.in_window(s.responded_at) & s.nps_score.notnull())
    s, keys = ctx.grouped(s, "responded_at")
    return s.group_by(**keys).aggregate(
        n_rows=s.count(),
        nps_responses=s.count(),
        promoters=flag(s.nps_score >= 9),
        detractors=flag(s.nps_score <= 6),
    )


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
    return safe_div(m["retained_next"].shift(1), m["active_customers"].shift(1))


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
    return safe_div(prev - m["retained_next"].shift(1), prev)


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
