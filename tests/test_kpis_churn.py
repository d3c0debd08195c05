"""Customer base, lapse churn, retention and repeat purchase on a hand-built fixture.

Lapse 90 days, monthly grain (brand ``acme``; customer 99 is brand ``other`` and never counts).
A customer is active at an instant ``t`` when they ordered in ``[t - 90 days, t)``; they lapse
90 days after an order not followed by another one within those 90 days.

- 2025-04-01 - 90 days = 2025-01-01; 2025-05-01 - 90 days = 2025-01-31;
  2025-03-01 - 90 days = 2024-12-01.

====  ===========================  ===============================================================
cust  orders                       April 2025
====  ===========================  ===============================================================
a 1   2025-01-15, 2025-03-10       active at start and end, no April order (lapse on 06-08)
b 2   2025-01-10                   active at start, lapses on 04-10: **lapsed**
c 3   2025-01-05, 2025-04-20       active at start, lapses on 04-05 (**lapsed**), back on 04-20
                                   (**reactivated**: more than 90 days later), active at end
d 4   2025-04-12                   **new**, active at end
e 5   2024-06-01, 2025-04-03       not active at start; **reactivated**, active at end
f 6   2025-03-25, 2025-04-28       active at start and end; bought in March and April (steady)
g 7   2025-02-14, 2025-04-02       active at start and end (returning in April)
h 8   2024-12-20                   lapsed on 2025-03-20 (March), not active in April
i 9   2025-01-01 00:00             active at start (exactly 90 days before), lapses on 04-01:
                                   **lapsed** in April
====  ===========================  ===============================================================

April: active at start a b c f g i = 6, lapsed b c i = 3: churn 3 / 6 = 0.5, retention 0.5;
new d = 1, reactivated c e = 2; active at end a c d e f g = 6. CRR identity: (6 - 1 - 2) / 6 =
0.5 = retention. Buyers: March a f, of whom f bought again in April: repeat purchase 1 / 2.

March: active at start (orders in [2024-12-01, 03-01)) a b c g h i = 6, lapsed h = 1: churn 1/6;
new f = 1, reactivated 0; active at end (= at April's start) 6 = 6 - 1 + 1 + 0.

By segment (a customer of the base counts in the segment of the last period they bought in
before April 1st): a's March (after a January order, not in February) is ``returning``; b c i
(January), g (February) and f (March) were ``new`` then. Active at start: new 5, returning 1;
lapsed: new b c i = 3, returning 0: churn 3 / 5 and 0.
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import QueryContext, compute_breakdown, compute_kpis, window_for
from kpitools.kpis.registry import MEASURES, get_kpi
from kpitools.params import load_params

ORDERS = [
    (1, "2025-01-15"),
    (1, "2025-03-10"),
    (2, "2025-01-10"),
    (3, "2025-01-05"),
    (3, "2025-04-20"),
    (4, "2025-04-12"),
    (5, "2024-06-01"),
    (5, "2025-04-03"),
    (6, "2025-03-25"),
    (6, "2025-04-28"),
    (7, "2025-02-14"),
    (7, "2025-04-02"),
    (8, "2024-12-20"),
    (9, "2025-01-01 00:00:00"),
]

BASE_KPIS = [
    "churn_rate",
    "retention_rate",
    "active_customers",
    "lapsed_customers",
    "repeat_purchase_rate",
    "new_customers",
]


@pytest.fixture()
def churn_db(tmp_path):
    rows = [
        dict(order_id=i + 1, customer_id=c, ordered_at=d, revenue=10.0, cost=5.0, product_line="a")
        for i, (c, d) in enumerate(ORDERS)
    ]
    rows.append(
        dict(
            order_id=99,
            customer_id=99,
            ordered_at="2025-01-20",
            revenue=10.0,
            cost=5.0,
            product_line="a",
            brand="other",
        )
    )
    return make_db(tmp_path / "churn.duckdb", {"orders": rows})


def _params(tmp_path, db_path):
    return load_params(
        write_params(tmp_path / "acme.yaml", db_path, kpis=BASE_KPIS, settings={"lapse_days": 90})
    )


@pytest.fixture()
def april(tmp_path, churn_db):
    params = _params(tmp_path, churn_db)
    with connect(params) as db:
        return compute_kpis(db, params, "2025-04")


def test_april_base_and_churn_match_the_hand_computation(april):
    sc = april
    assert sc.value("lapsed_customers") == 3
    assert sc.value("churn_rate") == pytest.approx(0.5)
    assert sc.value("retention_rate") == pytest.approx(0.5)
    assert sc.value("active_customers") == 6
    assert sc.value("new_customers") == 1
    assert sc.value("repeat_purchase_rate") == pytest.approx(0.5)


def test_march_values_are_the_previous_ones(april):
    sc = april
    assert sc["lapsed_customers"].previous == 1
    assert sc["churn_rate"].previous == pytest.approx(1 / 6)
    assert sc["active_customers"].previous == 6


def test_crr_identity_holds_in_every_period(tmp_path, churn_db):
    """retention = (active at end - new - reactivated) / active at start, exactly, in every
    period of the window with a customer base (the lapse, 90 days, is longer than a month)."""
    params = _params(tmp_path, churn_db)
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-04")
        period = sc.period
        ctx = QueryContext(
            db=db,
            grain="month",
            periods=window_for(period),
            settings=params.settings,
            params=params,
        )
        m = MEASURES["customer_activity"].build(ctx).execute().set_index("period").sort_index()
    months = pd.date_range(m.index.min(), m.index.max(), freq="MS")
    full = m.reindex(months, fill_value=0)
    # stock and flows: the base at a period's end is the base at the next period's start
    assert list(full.active_end[:-1]) == list(full.active_start[1:])
    m = m[m.active_start > 0]
    assert len(m) >= 4
    crr = (m.active_end - m.new_customers - m.reactivated_customers) / m.active_start
    assert list(crr) == pytest.approx(list(1 - m.lapsed / m.active_start))
    april = m.loc["2025-04-01"]
    assert (april.active_start, april.lapsed, april.reactivated_customers) == (6, 3, 2)


def test_churn_by_segment_of_the_last_purchase(tmp_path, churn_db):
    params = _params(tmp_path, churn_db)
    with connect(params) as db:
        b = compute_breakdown(db, params, "segment", "2025-04", kpis=["churn_rate"])
    v = b.pivot()["churn_rate"]
    assert v["new"] == pytest.approx(3 / 5)
    assert v["returning"] == pytest.approx(0.0)


def test_definitions_say_which_is_the_formula():
    assert "This is the formula" in get_kpi("retention_rate").definition
    assert "identity" in get_kpi("retention_rate").definition
    assert "lapse" in get_kpi("churn_rate").definition


def test_same_values_on_postgresql(tmp_path, postgres_url, monkeypatch):
    """The measure runs on PostgreSQL too (range join, window functions, intervals) and gives
    the hand-computed April values and the same breakdown by segment."""
    import pg

    server = postgres_url.database_named("churn")
    rows = [
        dict(order_id=i + 1, customer_id=c, ordered_at=d, revenue=10.0, cost=5.0, product_line="a")
        for i, (c, d) in enumerate(ORDERS)
    ]
    pg.make_pg_db(server, {"orders": rows})
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    params = pg.pg_params(tmp_path, server, kpis=BASE_KPIS, settings={"lapse_days": 90})
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-04")
        b = compute_breakdown(db, params, "segment", "2025-04", kpis=["churn_rate"])
    assert sc.value("lapsed_customers") == 3
    assert sc.value("churn_rate") == pytest.approx(0.5)
    assert sc.value("active_customers") == 6
    assert sc.value("repeat_purchase_rate") == pytest.approx(0.5)
    assert sc["churn_rate"].previous == pytest.approx(1 / 6)
    assert b.pivot()["churn_rate"]["new"] == pytest.approx(3 / 5)


def test_no_value_before_the_data_cover_a_lapse(tmp_path, churn_db):
    """The data begin on 2024-06-01 (customer e): a date is covered once the data reach 90 days
    before it (from 2024-08-30 on). July and August 2024 start uncovered; July ends uncovered,
    August ends covered (September 1st). Where the start is not covered the base KPIs have no
    value (nobody could have lapsed yet and the base is cut short)."""
    params = _params(tmp_path, churn_db)
    with connect(params) as db:
        ctx = QueryContext(
            db=db,
            grain="month",
            periods=window_for(compute_kpis(db, params, "2025-04").period),
            settings=params.settings,
            params=params,
        )
        m = MEASURES["customer_activity"].build(ctx).execute().set_index("period").sort_index()
    assert list(m.loc[["2024-07-01", "2024-08-01"], "start_covered"]) == [0, 0]
    assert list(m.loc[["2024-07-01", "2024-08-01"], "end_covered"]) == [0, 1]
    assert m.loc["2025-04-01", "start_covered"] == 1
    frame = pd.DataFrame(
        {"lapsed": [1.0, 1.0], "active_start": [2.0, 2.0], "start_covered": [0.0, 1.0]}
    )
    churn = get_kpi("churn_rate").formula(frame)
    assert churn.isna().iloc[0] and churn.iloc[1] == pytest.approx(0.5)
