"""The KPIs recover the ground truth planted in the demo data (20 000 customers, a few seconds).

``repeat_purchase_rate``: under the demo's purchase process a customer active in month m - 1 is
active again in month m with probability (1 - h) q, whatever the tenure, so 1 - the monthly
repeat purchase rate (what ``churn_rate`` measured before the lapse rule, see
tests/test_demo_churn.py for the lapse churn) of every brand has expectation
``expected_monthly_churn_rate`` = 1 - (1 - h) q of
``demo_truth_brands`` (see :mod:`kpitools.data.demo`). The transitions of the N customers active
in month m - 1 are independent draws, so the month's churn rate has binomial standard error
``sqrt(p (1 - p) / N)``; 12 months pooled (each weighted by its N) have ``sqrt(p (1 - p) / sum N)``.
Months "long after the start": the 12 months of 2025 (the span starts in January 2024).
Campaign-driven extra orders move the observed churn by a few tenths of a point at most
(demo docstring); the tolerance is 4 standard errors of the month, and for the pooled rate 4
standard errors plus 0.5 point for that bias.

``nps``: answers are promoters, passives or detractors with the brand's planted shares P, D, so
one answer scores +100, 0 or -100 with variance 100^2 (P + D - (P - D)^2); the NPS of N answers
has standard error ``100 sqrt((P + D - (P - D)^2) / N)``. The 12 monthly NPS of the 2025 trend,
pooled (weighted by their answers, which is the NPS of the year 2025), must be within 4 standard
errors of ``expected_nps``.
"""

from __future__ import annotations

import math

import duckdb
import pytest
from helpers import write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

pytestmark = pytest.mark.slow

BRANDS = ("aurora", "bellevue", "castello")
REPORT = "2025-12"  # trend: 2025-01 .. 2025-12, 12 to 23 months after the start of the data
SE_MULTIPLE = 4.0
CHURN_BIAS_ALLOWANCE = 0.005  # campaign-driven orders, see the module docstring


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_database):
    """A 20 000-customer demo, the truth per brand, and each brand's 2025 monthly scorecard."""
    path = demo_database  # the session's shared default demo (conftest.py)
    con = duckdb.connect(str(path), read_only=True)
    truth = {
        r[0]: dict(zip(("churn", "nps", "promoters", "detractors"), r[1:], strict=True))
        for r in con.execute(
            "SELECT brand, expected_monthly_churn_rate, expected_nps, nps_promoter_share, "
            "nps_detractor_share FROM demo_truth_brands"
        ).fetchall()
    }
    # customers active per month and NPS answers per month: the N of the standard errors
    active = {
        (b, m.strftime("%Y-%m")): n
        for b, m, n in con.execute(
            "SELECT brand, date_trunc('month', ordered_at) AS m, count(DISTINCT customer_id) "
            "FROM orders GROUP BY ALL"
        ).fetchall()
    }
    answers = {
        (b, m.strftime("%Y-%m")): n
        for b, m, n in con.execute(
            "SELECT brand, date_trunc('month', responded_at) AS m, count(nps_score) "
            "FROM surveys GROUP BY ALL"
        ).fetchall()
    }
    con.close()
    cards, yearly = {}, {}
    for brand in BRANDS:
        folder = tmp_path_factory.mktemp(brand)
        params = load_params(write_params(folder / "p.yaml", path, brand=brand))
        with connect(params) as db:
            cards[brand] = compute_kpis(db, params, REPORT, kpis=["repeat_purchase_rate", "nps"])
        params = load_params(
            write_params(folder / "y.yaml", path, brand=brand, period={"grain": "year"})
        )
        with connect(params) as db:
            yearly[brand] = compute_kpis(db, params, "2025", kpis=["nps"]).value("nps")
    return truth, active, answers, cards, yearly


def _previous_month(label: str) -> str:
    y, m = map(int, label.split("-"))
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


@pytest.mark.parametrize("brand", BRANDS)
def test_monthly_churn_recovers_the_planted_rate(demo, brand):
    truth, active, _, cards, _ = demo
    p = truth[brand]["churn"]
    trend = [(per, 1.0 - v) for per, v in cards[brand]["repeat_purchase_rate"].trend]
    assert [per.label for per, _ in trend][0] == "2025-01" and len(trend) == 12
    misses, churned, at_risk = [], 0.0, 0
    for per, value in trend:
        n = active[(brand, _previous_month(per.label))]
        se = math.sqrt(p * (1 - p) / n)
        if abs(value - p) >= SE_MULTIPLE * se:
            misses.append(f"{per.label}: {value:.4f} vs {p:.4f} (N={n}, 4 SE={4 * se:.4f})")
        churned += value * n
        at_risk += n
    assert not misses, "\n".join(misses)
    pooled = churned / at_risk
    se = math.sqrt(p * (1 - p) / at_risk)
    tolerance = SE_MULTIPLE * se + CHURN_BIAS_ALLOWANCE
    assert abs(pooled - p) < tolerance, (brand, pooled, p, at_risk, tolerance)


@pytest.mark.parametrize("brand", BRANDS)
def test_nps_pooled_over_the_trend_recovers_the_planted_score(demo, brand):
    truth, _, answers, cards, yearly = demo
    t = truth[brand]
    trend = cards[brand]["nps"].trend
    n = [answers[(brand, per.label)] for per, _ in trend]
    pooled = sum(v * k for (_, v), k in zip(trend, n, strict=True)) / sum(n)
    assert pooled == pytest.approx(yearly[brand])  # the NPS of the year's answers
    prom, det = t["promoters"], t["detractors"]
    se = 100 * math.sqrt((prom + det - (prom - det) ** 2) / sum(n))
    assert abs(pooled - t["nps"]) < SE_MULTIPLE * se, (brand, pooled, t["nps"], sum(n), se)
