"""The ``demo_truth_*`` tables of brand parameters and derived expectations."""

from __future__ import annotations

from math import log

import numpy as np
import pyarrow as pa

from .arrays import (
    normal_cdf,
)
from .brands import DemoBrand
from .generator import DemoGenerator
from .planted import (
    CSAT_BY_CLASS,
    LEAD_FAST_MINUTES,
    MIN_DORMANCY_MONTHS,
    NEWSLETTER_UNSUBSCRIBE_HAZARD,
    TOUCH_COUNT_PROBABILITY,
    TOUCH_RESPONSE,
)


def touch_response_probability() -> float:
    """Probability that a contacted lead answers one of its planned touches."""
    total = 0.0
    for k, pk in enumerate(TOUCH_COUNT_PROBABILITY, start=1):
        silent = 1.0
        for r in TOUCH_RESPONSE[:k]:
            silent *= 1.0 - r
        total += pk * (1.0 - silent)
    return total


def fast_response_share(brand: DemoBrand) -> float:
    """Share of first responses within :data:`LEAD_FAST_MINUTES` (log-normal, log-sd 1)."""
    return normal_cdf(log(LEAD_FAST_MINUTES / brand.lead_response_median_minutes))


def expected_csat(brand: DemoBrand) -> float:
    return float(
        sum(
            share * sum((k + 1) * p for k, p in enumerate(CSAT_BY_CLASS[c]))
            for c, share in enumerate(brand.nps_mix)
        )
    )


def truth_brands(gen: DemoGenerator) -> None:
    p_resp = touch_response_probability()
    recs = []
    for b in gen.brands:
        fast = fast_response_share(b)
        recs.append(
            dict(
                brand=b.id,
                brand_name=b.name,
                locale=b.locale,
                currency=b.currency,
                customer_share=b.weight,
                monthly_churn_hazard=b.monthly_churn_hazard,
                monthly_active_probability=b.monthly_active_probability,
                expected_monthly_churn_rate=b.expected_monthly_churn_rate,
                expected_monthly_retention_rate=1.0 - b.expected_monthly_churn_rate,
                extra_orders_per_active_month=b.extra_orders_per_active_month,
                expected_orders_per_active_month=1.0 + b.extra_orders_per_active_month,
                return_probability=b.return_probability,
                min_dormancy_months=MIN_DORMANCY_MONTHS,
                nps_promoter_share=b.nps_mix[0],
                nps_passive_share=b.nps_mix[1],
                nps_detractor_share=b.nps_mix[2],
                expected_nps=b.expected_nps,
                expected_csat=expected_csat(b),
                lead_fast_response_minutes=LEAD_FAST_MINUTES,
                lead_response_median_minutes=b.lead_response_median_minutes,
                lead_fast_response_share=fast * 0.95,
                lead_touch_response_probability=p_resp,
                lead_conversion_probability_fast=p_resp * b.lead_conversion_fast,
                lead_conversion_probability_slow=p_resp * b.lead_conversion_slow,
                opportunity_win_probability=b.opportunity_win_probability,
                renewal_win_probability=b.renewal_win_probability,
                renewal_share=0.20,
                call_abandonment_probability=b.call_abandonment_probability,
                complaint_share=b.complaint_share,
                first_contact_resolution_probability=b.first_contact_resolution_probability,
                own_share_of_voice=b.own_share_of_voice,
                mean_sentiment=b.mean_sentiment,
                web_goal_completion_probability=b.web_goal_completion_probability,
                crm_monthly_login_probability=b.crm_monthly_login_probability,
                newsletter_monthly_unsubscribe_hazard=NEWSLETTER_UNSUBSCRIBE_HAZARD,
            )
        )
    strings = ("brand", "brand_name", "locale", "currency")
    cols = {k: pa.array([r[k] for r in recs]) for k in recs[0]}
    types = {k: "VARCHAR" for k in strings} | {"min_dormancy_months": "INTEGER"}
    gen.write_truth("demo_truth_brands", cols, types)

    lines = [
        dict(
            brand=b.id,
            product_line=b.product_lines[i],
            acquisition_share=b.acquisition_share[i],
            mean_order_revenue=b.order_revenue_mean[i],
            order_revenue_sigma=b.order_revenue_sigma[i],
            margin_rate=b.margin_rate[i],
            cross_sell_probability=b.cross_sell_probability[i],
        )
        for b in gen.brands
        for i in range(2)
    ]
    cols = {k: pa.array([r[k] for r in lines]) for k in lines[0]}
    gen.write_truth(
        "demo_truth_product_lines", cols, {"brand": "VARCHAR", "product_line": "VARCHAR"}
    )
    gen.write_truth(
        "demo_truth_touch_response",
        {
            "touch_number": pa.array(np.arange(1, len(TOUCH_RESPONSE) + 1)),
            "response_probability": pa.array(TOUCH_RESPONSE),
            "planned_touches_probability": pa.array(TOUCH_COUNT_PROBABILITY),
        },
        {"touch_number": "INTEGER"},
    )


def truth_customer_lives(gen: DemoGenerator) -> None:
    """``demo_truth_customer_lives``: when each customer is truly lost (no random draw).

    One row per life of a customer (the first from acquisition; a second after a return),
    from the arrays :func:`~.customers.purchase_process` leaves: ``customer_id``, ``brand``,
    ``life`` (1 or 2), ``start_month`` (start of the life's first month), ``lost_at`` (end of the
    life's last alive month: the customer dies at that instant; NULL when still alive at the
    end of the span). A customer is *alive* from ``start_month`` until ``lost_at``; orders
    happen only in alive months (plus a few campaign-driven ones).
    """
    n, last = gen.n, gen.months - 1
    second = np.flatnonzero(gen.has2)
    cust = np.concatenate([np.arange(n), second])
    life = np.concatenate([np.ones(n, np.int64), np.full(len(second), 2, np.int64)])
    start = np.concatenate([gen.month, gen.s2[second]]).astype(np.int64)
    end = np.concatenate([gen.end1, gen.end2[second]]).astype(np.int64)
    alive_at_end = end >= last
    lost = gen.mstart[np.minimum(end, last) + 1].astype(np.int64)
    order = np.lexsort((life, cust))
    cust, life, start, lost, alive_at_end = (
        cust[order],
        life[order],
        start[order],
        lost[order],
        alive_at_end[order],
    )
    ids = np.array([b.id for b in gen.brands], dtype=object)
    gen.write_truth(
        "demo_truth_customer_lives",
        {
            "customer_id": pa.array(cust + 1),
            "brand": pa.array(ids[gen.brand[cust]].tolist()),
            "life": pa.array(life),
            "start_month": pa.array(gen.mstart[start].astype(np.int64), type=pa.timestamp("s")),
            "lost_at": pa.array(lost, type=pa.timestamp("s"), mask=alive_at_end),
        },
        {
            "customer_id": "BIGINT",
            "brand": "VARCHAR",
            "life": "INTEGER",
            "start_month": "TIMESTAMP",
            "lost_at": "TIMESTAMP",
        },
    )
