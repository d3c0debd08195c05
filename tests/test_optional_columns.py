"""Optional columns are optional, honestly: a KPI whose column is absent or empty is "not
available (needs orders.cost)", never zero; a partly empty column is computed on the rows that
have it and reported in the data-quality frame with its share and the KPIs it touches.

Hand fixture (brand acme, report month 2025-03), ten orders:

====  ========  ==========  =======  =====
id    customer  date        revenue  cost
====  ========  ==========  =======  =====
1     1         2025-03-02  100      60
2     1         2025-03-05  50       NULL
3     2         2025-03-10  80       20
4     3         2025-03-20  70       NULL
5     3         2025-03-25  30       10
6     1         2025-01-10  40       10
7     2         2025-02-10  60       NULL
8     4         2025-02-15  20       5
9     4         2025-01-20  10       2
10    5         2025-02-20  90       30
====  ========  ==========  =======  =====

March: revenue 330; margin of the orders with a cost 40 + 60 + 20 = 120 over 3 buyers = 40.
Cost is NULL in 3 of the 10 orders: share 0.3.
"""

from __future__ import annotations

import duckdb
import pytest
from helpers import make_db, write_params

from kpitools.clv import analyse_clv
from kpitools.clv.results import ClvReason
from kpitools.data.sources import connect
from kpitools.kpis.columns import data_quality
from kpitools.kpis.compute import compute_breakdown, compute_kpis
from kpitools.params import load_params
from kpitools.report.clv.text import not_fitted_text
from kpitools.report.kpis_json import scorecard_document
from kpitools.report.tables import scorecard_html

COSTS = {1: 60, 2: None, 3: 20, 4: None, 5: 10, 6: 10, 7: None, 8: 5, 9: 2, 10: 30}
ORDERS = [
    (1, 1, "2025-03-02", 100.0),
    (2, 1, "2025-03-05", 50.0),
    (3, 2, "2025-03-10", 80.0),
    (4, 3, "2025-03-20", 70.0),
    (5, 3, "2025-03-25", 30.0),
    (6, 1, "2025-01-10", 40.0),
    (7, 2, "2025-02-10", 60.0),
    (8, 4, "2025-02-15", 20.0),
    (9, 4, "2025-01-20", 10.0),
    (10, 5, "2025-02-20", 90.0),
]
CUSTOMERS = [
    dict(customer_id=i, product_line="m", created_at="2025-01-01", acquisition_channel="web")
    for i in range(1, 6)
]
KPIS = ["revenue", "avg_margin_per_customer", "average_clv", "customer_equity"]
COST_KPIS = ("avg_margin_per_customer", "average_clv", "customer_equity")


def _orders(costs):
    return [
        dict(
            order_id=i,
            customer_id=c,
            product_line="m",
            ordered_at=d,
            revenue=r,
            cost=costs(i),
        )
        for i, c, d, r in ORDERS
    ]


def _db(tmp_path, name, costs):
    return make_db(tmp_path / name, {"customers": CUSTOMERS, "orders": _orders(costs)})


def _without_cost_column(path):
    """The same orders, from an export that has no cost column at all."""
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE orders DROP COLUMN cost")
    con.close()
    return path


@pytest.fixture(params=["absent", "all_null"])
def no_cost(tmp_path, request):
    path = _db(tmp_path, f"{request.param}.duckdb", lambda i: None)
    if request.param == "absent":
        _without_cost_column(path)
    return load_params(write_params(tmp_path / "acme.yaml", path))


def test_no_cost_margin_kpis_are_not_available_naming_the_column(no_cost):
    with connect(no_cost) as db:
        sc = compute_kpis(db, no_cost, "2025-03", kpis=KPIS)
    assert sc.value("revenue") == pytest.approx(330.0)  # still computed
    for k in COST_KPIS:
        r = sc[k]
        assert (r.status, r.reason, r.value) == ("not_available", "needs_column", None), k
        assert r.missing_columns == ("orders.cost",)
    doc = scorecard_document(sc)
    assert doc["kpis"]["avg_margin_per_customer"]["status"] == "not_available"
    assert doc["kpis"]["avg_margin_per_customer"]["reason"] == "needs column orders.cost"
    assert doc["kpis"]["avg_margin_per_customer"]["missing_columns"] == ["orders.cost"]
    html = str(scorecard_html(sc))
    assert "not available (needs orders.cost)" in html


def test_no_cost_in_every_locale(no_cost):
    with connect(no_cost) as db:
        sc = compute_kpis(db, no_cost, "2025-03", kpis=["avg_margin_per_customer"])
    for locale, words in [
        ("fr", "non disponible (nécessite orders.cost)"),
        ("it", "non disponibile (richiede orders.cost)"),
    ]:
        sc.locale = locale
        assert words in str(scorecard_html(sc))


def test_no_cost_breakdown_says_why(no_cost):
    with connect(no_cost) as db:
        b = compute_breakdown(db, no_cost, "segment", "2025-03", kpis=["revenue", *COST_KPIS[:1]])
    why = b.unsupported["avg_margin_per_customer"]
    assert (why.reason, why.missing_tables) == ("needs_column", ("orders.cost",))
    assert set(b.frame["kpi"]) == {"revenue"}


def test_no_cost_customer_value_is_not_available_never_zero(no_cost):
    with connect(no_cost) as db:
        report = analyse_clv(db, no_cost, "2025-03", calibration=False)
    assert report.status == "not_fitted"
    assert report.reason_code == ClvReason.NEEDS_COLUMN
    assert report.customers is None or "clv" not in report.customers.columns
    text = not_fitted_text(report, "en")
    assert "orders.cost" in text and "expected margin" in text
    assert "orders.cost" in not_fitted_text(report, "fr")


def test_partly_null_cost_is_computed_on_the_rest_and_reported(tmp_path):
    params = load_params(write_params(tmp_path / "acme.yaml", _db(tmp_path, "p.duckdb", COSTS.get)))
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=KPIS[:2])
        dq = data_quality(db, kpis=list(sc.results))
        dq_all = data_quality(db)
    assert sc.value("revenue") == pytest.approx(330.0)
    assert sc["avg_margin_per_customer"].status == "ok"
    assert sc.value("avg_margin_per_customer") == pytest.approx(120.0 / 3)
    row = dq[(dq.table == "orders") & (dq.column == "cost")].iloc[0]
    assert row["share"] == pytest.approx(0.3)
    assert (row["rows"], row["missing"]) == (10, 3)
    assert row["kpis"] == ["avg_margin_per_customer"]  # among the report's KPIs
    full = dq_all[dq_all.column == "cost"].iloc[0]["kpis"]
    assert {"avg_margin_per_customer", "average_clv", "incremental_margin"} <= set(full)


def test_columns_below_the_threshold_or_empty_are_not_in_the_data_quality_frame(tmp_path):
    full = load_params(write_params(tmp_path / "f.yaml", _db(tmp_path, "f.duckdb", lambda i: 1.0)))
    with connect(full) as db:
        assert "cost" not in set(data_quality(db).column)
    empty = load_params(
        write_params(tmp_path / "e.yaml", _db(tmp_path, "e.duckdb", lambda i: None))
    )
    with connect(empty) as db:  # empty throughout: not available, not "partly"
        assert "cost" not in set(data_quality(db).column)


def test_other_brands_rows_do_not_count(tmp_path):
    """The counts are the brand's: another brand's orders without cost do not touch acme."""
    rows = _orders(lambda i: 1.0) + [
        dict(
            order_id=100 + i,
            customer_id=9,
            product_line="m",
            ordered_at="2025-03-03",
            revenue=1.0,
            cost=None,
            brand="other",
        )
        for i in range(10)
    ]
    path = make_db(tmp_path / "b.duckdb", {"customers": CUSTOMERS, "orders": rows})
    params = load_params(write_params(tmp_path / "acme.yaml", path))
    with connect(params) as db:
        assert "cost" not in set(data_quality(db).column)
        assert (
            compute_kpis(db, params, "2025-03", kpis=["avg_margin_per_customer"])[
                "avg_margin_per_customer"
            ].status
            == "ok"
        )


def test_data_quality_section_in_the_report(tmp_path):
    from kpitools.report.notebook import show_data_quality

    params = load_params(write_params(tmp_path / "acme.yaml", _db(tmp_path, "q.duckdb", COSTS.get)))
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=KPIS[:2])
        html = show_data_quality(db, sc)._repr_html_()
    assert "Data quality" in html
    assert "orders.cost" in html and "30%" in html
    assert "Average margin per customer" in html or "margin" in html.lower()
    for locale, title in [("fr", "Qualité des données"), ("it", "Qualità dei dati")]:
        sc.locale = locale
        with connect(params) as db:
            assert title in show_data_quality(db, sc)._repr_html_()
    full = load_params(write_params(tmp_path / "f.yaml", _db(tmp_path, "f.duckdb", lambda i: 1.0)))
    with connect(full) as db:  # nothing partly empty: the section is left out
        sc = compute_kpis(db, full, "2025-03", kpis=KPIS[:2])
        assert "Data quality" not in (show_data_quality(db, sc)._repr_html_() or "")


def _roi_db(tmp_path, cost):
    """One email campaign in March 2025: customers 1-20 treated, 21-40 held out; treated
    customers with an odd id order 100, control customers with id divisible by 4 order 60."""
    customers = [
        dict(customer_id=i, product_line="m", created_at="2024-01-01", acquisition_channel="web")
        for i in range(1, 41)
    ]
    campaign = dict(
        campaign_id=1,
        name="Spring",
        channel="email",
        product_line="m",
        starts_at="2025-03-01",
        ends_at="2025-03-07",
        fixed_cost=100.0,
        cost_per_contact=1.0,
        planned_control_share=0.5,
    )
    members = [
        dict(
            campaign_id=1,
            customer_id=i,
            group="treatment" if i <= 20 else "control",
            sent_at="2025-03-01" if i <= 20 else None,
        )
        for i in range(1, 41)
    ]
    buyers = [i for i in range(1, 21) if i % 2] + [i for i in range(21, 41) if i % 4 == 0]
    orders = [
        dict(
            order_id=n,
            customer_id=i,
            product_line="m",
            ordered_at="2025-03-10",
            revenue=100.0 if i <= 20 else 60.0,
            cost=cost,
        )
        for n, i in enumerate(buyers, start=1)
    ]
    path = make_db(
        tmp_path / "roi.duckdb",
        {
            "customers": customers,
            "orders": orders,
            "campaigns": [campaign],
            "campaign_members": members,
        },
    )
    return load_params(write_params(tmp_path / "acme.yaml", path))


def test_no_cost_campaign_roi_shows_no_margin_lift_and_no_roi(tmp_path):
    from kpitools.report.roi.text import issue_text
    from kpitools.roi import analyse_campaigns

    params = _roi_db(tmp_path, cost=None)
    with connect(params) as db:
        report = analyse_campaigns(db, params, "2025-03")
        sc = compute_kpis(db, params, "2025-03", kpis=["programme_roi", "incremental_margin"])
    (campaign,) = report.campaigns
    assert campaign.roi is None  # never an ROI of -100 % from a margin of nothing
    assert campaign.revenue_lift is not None
    # treated: 10 of 20 buy 100 (mean 50); control: 5 of 20 buy 60 (mean 15)
    assert campaign.revenue_lift.effect == pytest.approx(35.0)
    assert report.programme is None
    assert report.programme_revenue == pytest.approx(35.0 * 20)
    codes = [i.code for i in report.issues]
    assert "needs_cost" in codes and "unmeasured" not in codes
    issue = next(i for i in report.issues if i.code == "needs_cost")
    assert "orders.cost" in issue_text(issue, "en") and "orders.cost" in issue_text(issue, "it")
    for k in ("programme_roi", "incremental_margin"):
        assert (sc[k].status, sc[k].missing_columns) == ("not_available", ("orders.cost",))


def test_with_cost_campaign_roi_is_measured(tmp_path):
    from kpitools.roi import analyse_campaigns

    params = _roi_db(tmp_path, cost=40.0)
    with connect(params) as db:
        report = analyse_campaigns(db, params, "2025-03")
    (campaign,) = report.campaigns
    assert campaign.roi is not None
    assert "needs_cost" not in [i.code for i in report.issues]
