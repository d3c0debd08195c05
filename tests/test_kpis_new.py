"""New registry KPIs on a hand-built fixture: customer acquisition cost, open pipeline value,
lead-to-customer (funnel) conversion, and the programme aggregation of campaign estimates
behind programme ROI; then each new KPI as a report headline and as an objective's KPI.

Brand ``acme``, monthly, report period March 2025; rows of brand ``other`` never count.

Orders (first order ever → new customer)
----------------------------------------
c4 2024-12-01 and 2025-03-02 · c1 2025-01-10 · c2 2025-03-05 · c3 2025-03-20 · c5 2025-04-02 ·
c6 (brand other) 2025-03-10. New customers: December c4, January c1, **March c2 c3 = 2**
(c4 is not new in March), April c5.

Campaigns (acquisition cost)
----------------------------
===  ============  ==========  =====  ===  ============================  ======
id   objective     starts_at   fixed  cpc  members                       cost
===  ============  ==========  =====  ===  ============================  ======
k1   acquisition   2025-03-01  100    2    treated c10 c11 sent, c12     104
                                           not sent, control c13
k2   "Acquisition  2025-03-15  50     1    treated c14 sent              51
     " (spaces)
k3   retention     2025-03-10  1000   5    treated c15 sent              (not)
k4   acquisition   2025-01-05  30     0    none                          30
k5   acquisition   2025-03-02  999    0    brand other                   (not)
===  ============  ==========  =====  ===  ============================  ======

March CAC = (104 + 51) / 2 = **77.5**; January 30 / 1 = **30**; February: no acquisition
campaign, **no data** (not 0: no acquisition cost is recorded).

Opportunities (open pipeline at period end)
-------------------------------------------
o1 open, created 02-10, 500 · o2 won 03-10, created 01-05, 300 · o3 lost 04-05, created 03-01,
200 · o4 open, created 03-20, no amount · o5 open, created 04-02, 1000 · o6 brand other, open,
10 000 · o7 won without a close date, 50 (left out everywhere).
End of March: o1 + o3 + o4 = **700** (3 open); February: o1 + o2 = **800**; January: o2 = 300.

Leads (funnel conversion, window 90 days)
-----------------------------------------
March: l1 (03-02, c2 first order 03-05: yes), l2 (03-10, c3 03-20: yes), l3 (03-15, c5 first
order 04-02: within 90 days but after the end of March), l4 (03-20, c4 already a customer since
December: no), l5 (03-25, c9 marked converted in the CRM but never ordered: no), l6 (brand
other). Report of March: **2 / 5**; report of April (c5's order is known): **3 / 5**.
January: l7 (01-02, c1 01-10: yes) **1 / 1**. September 2024: l8 (c1's first order 131 days
later: no) **0 / 1**.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.catalogue import UNBOUNDED_RATIOS
from kpitools.data.sources import connect
from kpitools.errors import ParamsError
from kpitools.kpis.compute import QueryContext, _fetch_measure, compute_kpis, window_for
from kpitools.kpis.registry import get_kpi, get_registry
from kpitools.objectives import evaluate_objectives
from kpitools.params import load_params, parse_params
from kpitools.periods import parse_period
from kpitools.roi.kpis import ESTIMATE_COLUMNS, programme_by_period

NEW_KPIS = (
    "average_clv",
    "customer_equity",
    "programme_roi",
    "incremental_margin",
    "incremental_revenue",
    "customer_acquisition_cost",
    "open_pipeline_value",
    "funnel_conversion_rate",
)


def _order(i, cust, at, revenue=100.0, brand="acme"):
    return dict(
        order_id=i,
        customer_id=cust,
        ordered_at=at,
        revenue=revenue,
        cost=40.0,
        product_line="a",
        brand=brand,
    )


ORDERS = [
    _order(1, 4, "2024-12-01 10:00"),
    _order(2, 4, "2025-03-02 10:00"),
    _order(3, 1, "2025-01-10 10:00"),
    _order(4, 2, "2025-03-05 10:00"),
    _order(5, 3, "2025-03-20 10:00"),
    _order(6, 5, "2025-04-02 10:00"),
    _order(7, 6, "2025-03-10 10:00", brand="other"),
]


def _campaign(cid, objective, starts, fixed, cpc, brand="acme"):
    return dict(
        campaign_id=cid,
        name=f"k{cid}",
        channel="email",
        objective=objective,
        starts_at=starts,
        ends_at=pd.Timestamp(starts) + pd.Timedelta(days=10),
        fixed_cost=fixed,
        cost_per_contact=cpc,
        planned_control_share=0.5,
        brand=brand,
    )


CAMPAIGNS = [
    _campaign(1, "acquisition", "2025-03-01", 100.0, 2.0),
    _campaign(2, " Acquisition ", "2025-03-15", 50.0, 1.0),
    _campaign(3, "retention", "2025-03-10", 1000.0, 5.0),
    _campaign(4, "acquisition", "2025-01-05", 30.0, 0.0),
    _campaign(5, "acquisition", "2025-03-02", 999.0, 0.0, brand="other"),
]


def _member(camp, cust, group="treatment", sent="2025-03-01 09:00", brand="acme"):
    return dict(campaign_id=camp, customer_id=cust, group=group, sent_at=sent, brand=brand)


MEMBERS = [
    _member(1, 10),
    _member(1, 11),
    _member(1, 12, sent=None),
    _member(1, 13, group="control", sent=None),
    _member(2, 14, sent="2025-03-15 09:00"),
    _member(3, 15, sent="2025-03-10 09:00"),
    _member(5, 16, sent="2025-03-02 09:00", brand="other"),
]


def _opp(i, status, created, closed=None, amount=None, brand="acme"):
    return dict(
        opportunity_id=i,
        status=status,
        created_at=created,
        closed_at=closed,
        amount=amount,
        owner_id=1,
        brand=brand,
        is_renewal=False,
    )


OPPORTUNITIES = [
    _opp(1, "open", "2025-02-10", amount=500.0),
    _opp(2, "won", "2025-01-05", "2025-03-10", 300.0),
    _opp(3, "lost", "2025-03-01", "2025-04-05", 200.0),
    _opp(4, "open", "2025-03-20"),
    _opp(5, "open", "2025-04-02", amount=1000.0),
    _opp(6, "open", "2025-01-01", amount=10_000.0, brand="other"),
    _opp(7, "won", "2025-01-01", None, 50.0),
]


def _lead(i, created, cust=None, converted=None, brand="acme"):
    return dict(
        lead_id=i,
        created_at=created,
        customer_id=cust,
        converted_at=converted,
        brand=brand,
        product_line="a",
    )


LEADS = [
    _lead(1, "2025-03-02 08:00", 2, "2025-03-05"),
    _lead(2, "2025-03-10 08:00", 3, "2025-03-20"),
    _lead(3, "2025-03-15 08:00", 5, "2025-04-02"),
    _lead(4, "2025-03-20 08:00", 4),
    _lead(5, "2025-03-25 08:00", 9, "2025-03-26"),
    _lead(6, "2025-03-01 08:00", 2, brand="other"),
    _lead(7, "2025-01-02 08:00", 1, "2025-01-10"),
    _lead(8, "2024-09-01 08:00", 1),
]

TABLES = {
    "orders": ORDERS,
    "campaigns": CAMPAIGNS,
    "campaign_members": MEMBERS,
    "opportunities": OPPORTUNITIES,
    "leads": LEADS,
}


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("new") / "new.duckdb", TABLES)


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


KPIS = ["customer_acquisition_cost", "open_pipeline_value", "open_opportunities"]


@pytest.fixture(scope="module")
def march(tmp_path_factory, fixture_db):
    params = _params(tmp_path_factory.mktemp("march"), fixture_db)
    with connect(params) as db:
        return compute_kpis(db, params, "2025-03", kpis=KPIS)


def test_every_new_kpi_is_in_the_registry_with_names_and_a_definition():
    from kpitools.report.i18n import kpi_name

    reg = get_registry()
    for kid in NEW_KPIS:
        assert kid in reg
        k = reg[kid]
        assert k.definition
        assert all(kpi_name(kid, loc) for loc in ("en", "fr", "it"))
    assert get_kpi("funnel_conversion_rate").matures == "conversion_window_days"


def test_customer_acquisition_cost_by_hand(march):
    r = march["customer_acquisition_cost"]
    assert r.status == "ok"
    assert r.value == pytest.approx(77.5)
    assert r.previous is None  # February: no acquisition campaign
    trend = {p.label: v for p, v in r.trend}
    assert trend["2025-01"] == pytest.approx(30.0)
    assert trend["2025-02"] is None


def test_customer_acquisition_cost_needs_the_campaign_tables(tmp_path):
    db_path = make_db(tmp_path / "no-campaigns.duckdb", {"orders": ORDERS})
    params = _params(tmp_path, db_path)
    with connect(params) as db:
        r = compute_kpis(db, params, "2025-03", kpis=["customer_acquisition_cost"])[
            "customer_acquisition_cost"
        ]
    assert r.status == "not_available"
    assert set(r.missing_tables) == {"campaigns", "campaign_members"}


def test_customer_acquisition_cost_without_an_objective_column_is_no_data(tmp_path):
    """A source whose campaigns carry no objective records no acquisition campaign."""
    db_path = make_db(tmp_path / "x.duckdb", TABLES)
    import duckdb

    con = duckdb.connect(str(db_path))
    con.execute("ALTER TABLE campaigns DROP COLUMN objective")
    con.close()
    params = _params(tmp_path, db_path)
    with connect(params) as db:
        r = compute_kpis(db, params, "2025-03", kpis=["customer_acquisition_cost"])
    assert r["customer_acquisition_cost"].status == "no_data"


def test_open_pipeline_value_by_hand(march):
    r = march["open_pipeline_value"]
    assert r.value == pytest.approx(700.0)
    assert r.previous == pytest.approx(800.0)
    trend = {p.label: v for p, v in r.trend}
    assert trend["2025-01"] == pytest.approx(300.0)
    assert march.value("open_opportunities") == 3


def _lead_frame(tmp_path, db_path, period: str, **settings):
    overrides = {"settings": settings} if settings else {}
    params = _params(tmp_path, db_path, **overrides)
    p = parse_period(period, "month")
    with connect(params) as db:
        ctx = QueryContext(
            db=db, grain="month", periods=window_for(p), settings=params.settings, params=params
        )
        m = _fetch_measure(ctx, "lead_customers")
    rate = get_kpi("funnel_conversion_rate").formula(m)
    rate[m["n_rows"] <= 0] = float("nan")
    return {ts.strftime("%Y-%m"): (None if math.isnan(v) else v) for ts, v in rate.items()}


def test_funnel_conversion_per_cohort_by_hand(tmp_path, fixture_db):
    march = _lead_frame(tmp_path, fixture_db, "2025-03")
    assert march["2025-03"] == pytest.approx(2 / 5)  # c5's April order is not known yet
    assert march["2025-01"] == pytest.approx(1.0)
    assert march["2024-09"] == pytest.approx(0.0)  # first order 131 days after the lead
    assert march["2025-02"] is None  # no lead
    april = _lead_frame(tmp_path, fixture_db, "2025-04")
    assert april["2025-03"] == pytest.approx(3 / 5)


def test_funnel_conversion_window_is_the_setting(tmp_path, fixture_db):
    """With a 10-day window l2 (10 days to the first order) still counts, c5 (18 days) not."""
    april = _lead_frame(tmp_path, fixture_db, "2025-04", conversion_window_days=10)
    assert april["2025-03"] == pytest.approx(1 / 5)  # l1 only: l2 took 10 days (not within)
    april = _lead_frame(tmp_path, fixture_db, "2025-04", conversion_window_days=11)
    assert april["2025-03"] == pytest.approx(2 / 5)


# -- programme aggregation -------------------------------------------------------------------

#: Campaign estimates, by hand (currency units).
ESTIMATES = pd.DataFrame(
    [
        ("A", "2024-03-15", True, 100.0, 250.0, 600.0),
        ("B", "2024-06-01", True, 200.0, 100.0, 300.0),
        ("C", "2025-02-10", False, 50.0, float("nan"), float("nan")),
        ("D", "2025-03-31", True, 100.0, 50.0, float("nan")),
    ],
    columns=list(ESTIMATE_COLUMNS),
).assign(starts_at=lambda d: pd.to_datetime(d["starts_at"]))


def _roi(row):
    return (row["incremental_margin"] - row["programme_cost"]) / row["programme_cost"]


def test_programme_aggregation_over_trailing_twelve_months():
    """March 2025: campaigns started from April 2024 = B, C, D; C not measured (its cost
    counts, its margin as 0): cost 350 (measured 300), margin 150, ROI -200/350, revenue
    unknown (D has none). February 2025: A, B, C: cost 350 (measured 300), margin 350, ROI 0,
    revenue 900. March 2024: A alone: ROI 1.5. June 2024: A and B (A started 2024-03-15,
    within [2023-07-01, 2024-07-01))."""
    periods = [parse_period(p, "month") for p in ("2024-03", "2024-06", "2025-02", "2025-03")]
    out = programme_by_period(ESTIMATES, periods).set_index("period")
    by = {p.label: out.loc[p.start_ts()] for p in periods}
    m = by["2025-03"]
    assert (m["programme_campaigns"], m["measured_campaigns"]) == (3, 2)
    assert (m["programme_cost"], m["measured_cost"], m["incremental_margin"]) == (350, 300, 150)
    assert _roi(m) == pytest.approx(-200 / 350)
    assert math.isnan(m["incremental_revenue"])
    f = by["2025-02"]
    assert (f["programme_cost"], f["incremental_margin"], f["incremental_revenue"]) == (
        350,
        350,
        900,
    )
    assert f["measured_cost"] == 300
    assert _roi(f) == pytest.approx(0)
    assert _roi(by["2024-03"]) == pytest.approx(1.5)
    assert by["2024-06"]["measured_campaigns"] == 2


def test_programme_aggregation_by_quarter_and_with_nothing_to_add():
    q = parse_period("2025-Q1", "quarter")
    out = programme_by_period(ESTIMATES, [q]).iloc[0]
    assert (out["programme_cost"], out["incremental_margin"]) == (350, 150)
    empty = programme_by_period(ESTIMATES.iloc[:0], [q]).iloc[0]
    assert empty["n_rows"] == 0  # no data, not a ROI of 0


def test_programme_kpi_formulas_read_the_frame():
    periods = [parse_period(p, "month") for p in ("2025-02", "2025-03")]
    m = programme_by_period(ESTIMATES, periods).set_index("period")
    assert list(get_kpi("programme_roi").formula(m)) == pytest.approx([0, -200 / 350])
    assert list(get_kpi("incremental_margin").formula(m)) == [350, 150]
    assert get_kpi("incremental_revenue").formula(m).iloc[0] == 900


# -- headline and objectives ------------------------------------------------------------------


def _share(kid: str) -> bool:
    return get_kpi(kid).unit == "ratio" and kid not in UNBOUNDED_RATIOS


def _target(kid: str) -> float:
    lower = get_kpi(kid).direction == "lower"
    if _share(kid):
        return 0.1 if lower else 0.4
    return 0.5 if lower else 2


def test_every_new_kpi_is_a_valid_headline_and_objective_kpi(tmp_path):
    data = {
        "brand": "acme",
        "name": "Acme",
        "locale": "en",
        "currency": "EUR",
        "period": {"grain": "month"},
        "source": {"kind": "duckdb", "path": "acme.duckdb"},
        "report": {"headline": list(NEW_KPIS)},
        "objectives": [
            {
                "id": f"o-{kid}",
                "title": kid,
                "kpi": kid,
                # a share is written as a fraction: 0.2 -> 0.4 (or 0.1 for a lower-is-better)
                "baseline": {"value": 0.2 if _share(kid) else 1, "date": "2025-01-01"},
                "target": {"value": _target(kid)},
                "deadline": "2025-12-31",
            }
            for kid in NEW_KPIS
        ],
    }
    params = parse_params(data)
    assert params.report.headline == list(NEW_KPIS)
    assert [o.kpi for o in params.objectives] == list(NEW_KPIS)
    with pytest.raises(ParamsError, match="did you mean average_clv"):
        parse_params({**data, "report": {"headline": ["average_clvv"]}})


def test_new_kpis_are_computed_for_objectives_and_evaluated(tmp_path, fixture_db):
    objectives = [
        {
            "id": "cac",
            "title": "Acquire for less",
            "kpi": "customer_acquisition_cost",
            "baseline": {"value": 100, "date": "2025-01-01"},
            "target": {"value": 60},
            "deadline": "2025-05-31",
            "strategies": [
                {
                    "title": "Fill the pipeline",
                    "function": "sales",
                    "metrics": [
                        {"kpi": "open_pipeline_value", "target": {"min": 500}},
                        {"kpi": "funnel_conversion_rate", "target": {"min": 0.3}},
                    ],
                }
            ],
        }
    ]
    params = _params(tmp_path, fixture_db, objectives=objectives, kpis=["revenue"])
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03")
    # the objective's KPIs are computed although params.kpis does not list them
    assert {"customer_acquisition_cost", "open_pipeline_value"} <= set(sc.results)
    report = evaluate_objectives(params, sc)
    o = report.objectives[0]
    assert o.value == pytest.approx(77.5)
    assert o.kpi_status == "ok"
    assert 60 < o.expected < 100  # paced from 100 (1 January) to 60 (31 May)
    metrics = {m.kpi.id: m for m in o.metrics}
    assert metrics["open_pipeline_value"].value == pytest.approx(700)
    assert metrics["open_pipeline_value"].status == "on_track"
