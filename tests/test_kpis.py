"""KPIs of the first slice on a tiny hand-built fixture, every expected value worked out by hand.

Fixture (brand ``acme``; one order of brand ``other`` must never count):

======  ==================  =======  ====  =====
cust    ordered_at          revenue  cost  line
======  ==================  =======  ====  =====
c1      2025-01-10          100      60    a
c1      2025-02-03          50       30    a
c1      2025-03-15          40       10    a
c2      2025-02-20          200      150   a
c2      2025-03-01          20       5     b
c2      2025-03-31 23:59    30       10    b
c3      2024-03-05          70       20    a
c3      2025-03-10          60       30    b
c4      2025-03-20          10       4     a
c5      2025-02-11          80       40    b
c6      2025-04-01 00:00    999      0     a    (after March: excluded)
c9      2025-03-05          500      0     a    (brand "other": excluded)
======  ==================  =======  ====  =====

March 2025: active c1 c2 c3 c4 = 4; new = c4 only (c2 first bought in February, c3 in 2024) = 1;
revenue 40+20+30+60+10 = 160; margin 30+15+20+30+6 = 101; margin per customer 101/4 = 25.25.
February: active c1 c2 c5 = 3, of whom c1 and c2 bought again in March: retention 2/3, churn 1/3.
February revenue 50+200+80 = 330, new customers c2 c5 = 2. March 2024 (a year before): c3 only,
revenue 70, 1 new customer.
"""

from __future__ import annotations

import json
import math

import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_breakdown, compute_kpis
from kpitools.kpis.registry import get_kpi, get_registry
from kpitools.params import load_params
from kpitools.report.i18n import kpi_description, kpi_name
from kpitools.report.kpis_json import scorecard_document

ORDERS = [
    (1, 1, "2025-01-10", 100, 60, "a"),
    (2, 1, "2025-02-03", 50, 30, "a"),
    (3, 1, "2025-03-15", 40, 10, "a"),
    (4, 2, "2025-02-20", 200, 150, "a"),
    (5, 2, "2025-03-01", 20, 5, "b"),
    (6, 2, "2025-03-31 23:59:00", 30, 10, "b"),
    (7, 3, "2024-03-05", 70, 20, "a"),
    (8, 3, "2025-03-10", 60, 30, "b"),
    (9, 4, "2025-03-20", 10, 4, "a"),
    (10, 5, "2025-02-11", 80, 40, "b"),
    (11, 6, "2025-04-01 00:00:00", 999, 0, "a"),
]

# Leads of March 2025 (conversion window 90 days): l1 converts after 19 days (yes), l2 after
# 118 days (no), l3 never, l4 after 2 days (yes): 2 / 4 = 0.5. l5 is February's.
LEADS = [
    dict(lead_id=1, created_at="2025-03-01", converted_at="2025-03-20", customer_id=4),
    dict(lead_id=2, created_at="2025-03-05", converted_at="2025-07-01", customer_id=7),
    dict(lead_id=3, created_at="2025-03-10"),
    dict(lead_id=4, created_at="2025-03-31", converted_at="2025-04-02", customer_id=8),
    dict(lead_id=5, created_at="2025-02-10", converted_at="2025-02-11", customer_id=5),
]

# March 2025 NPS answers 10, 10, 9, 8, 3 (and one CSAT-only answer without NPS):
# promoters 3, detractors 1, answers 5 -> 100 * (3 - 1) / 5 = 40.
SURVEYS = [
    dict(response_id=i + 1, responded_at="2025-03-12", nps_score=s, csat_score=4)
    for i, s in enumerate([10, 10, 9, 8, 3, None])
]


def _orders():
    rows = [
        dict(
            order_id=o,
            customer_id=c,
            ordered_at=d,
            revenue=r,
            cost=k,
            product_line=pl,
        )
        for o, c, d, r, k, pl in ORDERS
    ]
    rows.append(
        dict(
            order_id=99,
            customer_id=9,
            ordered_at="2025-03-05",
            revenue=500,
            cost=0,
            product_line="a",
            brand="other",
        )
    )
    return rows


@pytest.fixture()
def fixture_db(tmp_path):
    return make_db(
        tmp_path / "fx.duckdb",
        {"orders": _orders(), "leads": LEADS, "surveys": SURVEYS},
    )


FIRST_SLICE = [
    "new_customers",
    "retention_rate",
    "churn_rate",
    "repeat_purchase_rate",
    "revenue",
    "avg_margin_per_customer",
    "lead_conversion_rate",
    "nps",
    "new_customer_revenue",
]


def _scorecard(tmp_path, db_path, report_period="2025-03", **overrides):
    overrides.setdefault("kpis", FIRST_SLICE)
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))
    with connect(params) as db:
        return compute_kpis(db, params, report_period)


def test_march_values_match_the_hand_computation(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db)
    assert sc.value("new_customers") == 1
    assert sc.value("revenue") == pytest.approx(160)
    assert sc.value("avg_margin_per_customer") == pytest.approx(25.25)
    # lapse rule (365 days): the data begin on 2024-03-05, less than 365 days before March 1st,
    # so the customer base is not covered yet: no churn, no retention (tests/test_kpis_churn.py)
    assert sc["retention_rate"].status == "no_data"
    assert sc["churn_rate"].status == "no_data"
    assert sc.value("repeat_purchase_rate") == pytest.approx(2 / 3)
    # lead conversion is a matured cohort: in March only provisional (l4's conversion on
    # 2 April is not known yet: 1 / 4); March's leads are final in the June report (0.5)
    assert sc["lead_conversion_rate"].provisional == pytest.approx(0.25)
    june = _scorecard(tmp_path, fixture_db, "2025-06", kpis=["lead_conversion_rate"])
    assert june["lead_conversion_rate"].cohort.label == "2025-03"
    assert june.value("lead_conversion_rate") == pytest.approx(0.5)
    assert sc.value("nps") == pytest.approx(40.0)
    # revenue from new customers: c4 only (10)
    assert sc.value("new_customer_revenue") == pytest.approx(10)


def test_previous_and_year_ago(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db)
    assert sc["revenue"].previous == pytest.approx(330)
    assert sc["new_customers"].previous == 2
    assert sc["revenue"].year_ago == pytest.approx(70)
    assert sc["new_customers"].year_ago == 1
    # relative change of revenue vs February: (160 - 330) / 330
    assert sc["revenue"].change_previous == pytest.approx((160 - 330) / 330)
    # a ratio changes in points: retention in February is undefined (no January customers
    # other than c1, who bought again in February: 1 / 1 = 1.0)
    assert sc["repeat_purchase_rate"].previous == pytest.approx(1.0)
    assert sc["repeat_purchase_rate"].change_previous == pytest.approx(2 / 3 - 1.0)


def test_trend_has_twelve_periods_ending_with_the_report_period(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db)
    trend = sc["revenue"].trend
    assert [p.label for p, _ in trend][0] == "2024-04"
    assert [p.label for p, _ in trend][-1] == "2025-03"
    values = dict((p.label, v) for p, v in trend)
    assert values["2025-01"] == pytest.approx(100)
    assert values["2025-02"] == pytest.approx(330)
    assert values["2024-06"] is None  # no orders: no data, not zero


def test_one_query_per_measure_group(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db)
    groups = {get_kpi(k).measure for k in sc.results}
    assert sc.queries == len(groups) == 3


def test_quarter_grain(tmp_path, fixture_db):
    """Q1 2025: active c1..c5 = 5; new c1 c2 c4 c5 = 4 (c3 first bought in Q1 2024);
    revenue 100+50+40+200+20+30+60+10+80 = 590. Q4 2024 had no customer, so retention is
    undefined: no data, never a division by zero."""
    sc = _scorecard(tmp_path, fixture_db, "2025-Q1", period={"grain": "quarter"})
    assert sc.period.label == "2025-Q1"
    assert sc.value("revenue") == pytest.approx(590)
    assert sc.value("new_customers") == 4
    assert sc["repeat_purchase_rate"].status == "no_data"
    assert sc["revenue"].year_ago == pytest.approx(70)


def test_product_line_filter_runs_in_the_database(tmp_path, fixture_db):
    """Line b in March: c2 (20 + 30) and c3 (60): revenue 110, 2 active customers; c2's first
    line-b order is in March, c3's too, so both are new on that line."""
    sc = _scorecard(tmp_path, fixture_db, product_lines=["b"])
    assert sc.value("revenue") == pytest.approx(110)
    assert sc.value("new_customers") == 2


def test_missing_table_makes_only_its_kpis_not_available(tmp_path):
    db_path = make_db(tmp_path / "no_leads.duckdb", {"orders": _orders()})
    sc = _scorecard(tmp_path, db_path)
    assert sc["lead_conversion_rate"].status == "not_available"
    assert sc["lead_conversion_rate"].reason == "needs_table"
    assert sc["lead_conversion_rate"].missing_tables == ("leads",)
    assert sc["nps"].missing_tables == ("surveys",)
    assert sc.value("revenue") == pytest.approx(160)
    # kpis.json keeps the English words it always had
    doc = scorecard_document(sc)["kpis"]
    assert doc["lead_conversion_rate"]["reason"] == "needs table leads"
    assert doc["nps"]["reason"] == "needs table surveys"
    assert doc["revenue"]["reason"] is None


def test_empty_period_gives_no_data_never_nan(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db, "2024-08")
    for r in sc:
        assert r.value is None
        assert r.status == "no_data"
    text = json.dumps(sc.to_dict())
    assert "NaN" not in text and "Infinity" not in text


def test_default_period_is_the_latest_complete_one(tmp_path, fixture_db):
    """Last order on 2025-04-01 00:00: April is incomplete, so the report is for March."""
    params = load_params(write_params(tmp_path / "acme.yaml", fixture_db))
    with connect(params) as db:
        sc = compute_kpis(db, params)
    assert sc.period.label == "2025-03"


def test_registry_declarations_are_complete():
    reg = get_registry()
    first_slice = {
        "new_customers",
        "retention_rate",
        "churn_rate",
        "revenue",
        "avg_margin_per_customer",
        "lead_conversion_rate",
        "nps",
    }
    assert first_slice <= set(reg)
    for k in reg.values():
        for loc in ("en", "fr", "it"):
            assert kpi_name(k.id, loc) and kpi_description(k.id, loc)
        assert k.definition, f"{k.id} has no exact definition (docstring)"
        assert k.tables


def test_ratios_stay_finite_and_bounded(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db)
    for r in sc:
        if r.kpi.unit == "ratio":
            for _, v in r.trend:
                assert v is None or (0 <= v <= 1 and math.isfinite(v))


def test_breakdown_by_product_line_follows_the_orders_line(tmp_path, fixture_db):
    """March by the orders' line: line a = c1 40 + c4 10 = 50; line b = c2 20 + 30 and c3 60 =
    110 (c2's February order was on line a). New to the line: a = c4 (c1 bought line a in
    January) = 1; b = c2 and c3 (first line-b orders, although both bought line a before) = 2.
    Breakdowns by acquisition channel use every customer of the brand."""
    params = load_params(write_params(tmp_path / "acme.yaml", fixture_db))
    with connect(params) as db:
        b = compute_breakdown(
            db, params, "product_line", "2025-03", kpis=["revenue", "new_customers"]
        )
    v = b.pivot()
    assert v.loc["a", "revenue"] == pytest.approx(50)
    assert v.loc["b", "revenue"] == pytest.approx(110)
    assert v.loc["a", "new_customers"] == 1
    assert v.loc["b", "new_customers"] == 2
