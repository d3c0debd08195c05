"""Service KPIs on a tiny hand-built fixture, every expected value worked out by hand.

Cases (brand ``acme``; case 9 is brand ``other`` and never counts). Hours are
``resolved_at - opened_at``; the first response in hours follows the opening time.

====  ====  ==================  ===========  ==================  ===  =========  ========  ====
case  cust  opened_at           1st resp. h  resolved_at         SLA  complaint  contacts  cost
====  ====  ==================  ===========  ==================  ===  =========  ========  ====
1     c1    2025-03-02 09:00    0.5          2025-03-02 15:00    24   no         1         10
2     c2    2025-03-05 10:00    2            2025-03-07 10:00    24   yes        3         30
3     c3    2025-02-27 20:00    12           2025-03-01 08:00    48   no         1         16
4     c1    2025-03-10 08:00    0.1          2025-03-10 08:30    -    no         1         -
5     -     2025-03-20 00:00    -            (open)              24   no         -         -
6     c2    2025-03-30 12:00    -            (open)              48   no         -         -
7     c4    2025-02-10 09:00    1            2025-02-10 21:00    24   yes        1         12
8     c5    2025-02-20 10:00    1            2025-02-22 10:00    48   no         2         20
9     c1    2025-03-03 10:00    -            2025-03-03 11:00    24   no         1         99
10    c5    2025-03-25 10:00    -            2025-04-01 00:00    48   no         1         5
====  ====  ==================  ===========  ==================  ===  =========  ========  ====

March 2025, cases placed by ``resolved_at``: 1, 2, 3 (opened in February), 4 -> cases handled 4
(10 resolves in April). Same day: 1 and 4 -> 2 / 4 = 0.5. Resolution hours 6, 48, 36, 0.5:
mean 90.5 / 4 = 22.625, median (6 + 36) / 2 = 21, 90th percentile at rank 0.9 x 3 = 2.7 of
[0.5, 6, 36, 48]: 36 + 0.7 x 12 = 44.4. First response, by opening date: cases opened in
March 1, 2, 4, 5, 6, 10, answered 1 (0.5 h), 2 (2 h), 4 (0.1 h): median 0.5 (3 is February's:
opened on 02-27, 12 h; February 3, 7, 8: 12, 1, 1 -> median 1). Complaints resolved: case 2 only -> 48 h. Cost per interaction: cases
1, 2, 3 have a cost (4 has none): (10 + 30 + 16) / (1 + 3 + 1) = 56 / 5 = 11.2. SLA: 1 met
(6 <= 24), 2 breached (48 > 24), 3 met (36 <= 48), 4 has no SLA, 5 is still open and its
deadline 2025-03-21 00:00 passed in March (a breach), 6's deadline is 2025-04-01 12:00 (April):
2 / 4 = 0.5. First contact resolution: 1, 3, 4 of 4 -> 0.75.
February: cases 7 and 8 -> 2 handled; same day 7 only -> 0.5; mean hours (12 + 48) / 2 = 30;
SLA 2 / 2 = 1.0 (case 8 is resolved exactly at its 48 h deadline, which meets it).

Calls (brand ``acme``; 9 is brand ``other``, 10 is offered in April):

====  ====  ==================  ========  ======  =====
call  case  offered_at          answered  handle  agent
====  ====  ==================  ========  ======  =====
1     2     2025-03-05 10:00    yes       300     1
2     2     2025-03-06 09:00    no        -       -
3     2     2025-03-06 09:30    yes       600     2
4     3     2025-03-01 07:00    yes       120     1
5     -     2025-03-15 14:00    yes       240     1
6     -     2025-03-20 11:00    no        -       -
7     -     2025-03-31 23:00    yes       -       3
8     3     2025-02-27 20:00    yes       200     2
====  ====  ==================  ========  ======  =====

March: 7 calls offered, 5 answered, 2 abandoned -> 2 / 7; 5 / 31 answered calls per day.
Callbacks: 2 and 3 (case 2's first call is 1) and 4 (case 3's first call, 8, was in February)
-> 3. Handle times of answered calls 300, 600, 120, 240 (7 has none): mean 315, median
(240 + 300) / 2 = 270, 90th percentile at rank 2.7 of [120, 240, 300, 600]: 300 + 0.7 x 300 =
510. Agents 1, 2, 3 answered the 5 calls -> 5 / 3 calls per agent.
February: call 8 only: 1 / 28 calls per day, no abandon, no callback, 1 call per agent.
Q1 2025: 6 answered calls / 90 days.
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_breakdown, compute_kpis
from kpitools.kpis.registry import get_registry
from kpitools.params import load_params
from kpitools.report.i18n import kpi_name

SERVICE = [k for k, v in get_registry().items() if v.department == "service"]
CASE_KPIS = [k for k in SERVICE if get_registry()[k].measure == "cases"]
CALL_KPIS = [k for k in SERVICE if get_registry()[k].measure == "calls"]


def _case(i, cust, opened, first, resolved, sla, complaint, contacts, cost, **kw):
    return dict(
        case_id=i,
        customer_id=cust,
        opened_at=opened,
        first_response_at=first,
        resolved_at=resolved,
        sla_hours=sla,
        is_complaint=complaint,
        contacts_to_resolve=contacts,
        handling_cost=cost,
        **kw,
    )


CASES = [
    _case(1, 1, "2025-03-02 09:00", "2025-03-02 09:30", "2025-03-02 15:00", 24, False, 1, 10),
    _case(2, 2, "2025-03-05 10:00", "2025-03-05 12:00", "2025-03-07 10:00", 24, True, 3, 30),
    _case(3, 3, "2025-02-27 20:00", "2025-02-28 08:00", "2025-03-01 08:00", 48, False, 1, 16),
    _case(4, 1, "2025-03-10 08:00", "2025-03-10 08:06", "2025-03-10 08:30", None, False, 1, None),
    _case(5, None, "2025-03-20 00:00", None, None, 24, False, None, None),
    _case(6, 2, "2025-03-30 12:00", None, None, 48, False, None, None),
    _case(7, 4, "2025-02-10 09:00", "2025-02-10 10:00", "2025-02-10 21:00", 24, True, 1, 12),
    _case(8, 5, "2025-02-20 10:00", "2025-02-20 11:00", "2025-02-22 10:00", 48, False, 2, 20),
    _case(9, 1, "2025-03-03 10:00", None, "2025-03-03 11:00", 24, False, 1, 99, brand="other"),
    _case(10, 5, "2025-03-25 10:00", None, "2025-04-01 00:00", 48, False, 1, 5),
]


def _call(i, case, offered, answered_after_s, handle, agent, **kw):
    """A call answered ``answered_after_s`` seconds after it was offered (None: abandoned)."""
    answered = None
    if answered_after_s is not None:
        answered = str(pd.Timestamp(offered) + pd.Timedelta(seconds=answered_after_s))
    return dict(
        call_id=i,
        case_id=case,
        offered_at=offered,
        answered_at=answered,
        handle_seconds=handle,
        agent_id=agent,
        **kw,
    )


CALLS = [
    _call(1, 2, "2025-03-05 10:00", 60, 300, 1),
    _call(2, 2, "2025-03-06 09:00", None, None, None),
    _call(3, 2, "2025-03-06 09:30", 30, 600, 2),
    _call(4, 3, "2025-03-01 07:00", 10, 120, 1),
    _call(5, None, "2025-03-15 14:00", 20, 240, 1),
    _call(6, None, "2025-03-20 11:00", None, None, None),
    _call(7, None, "2025-03-31 23:00", 5, None, 3),
    _call(8, 3, "2025-02-27 20:00", 15, 200, 2),
    _call(9, None, "2025-03-10 10:00", 5, 999, 9, brand="other"),
    _call(10, None, "2025-04-01 00:00", 5, 100, 1),
]

# Acquisition channels (c1, c3, c5 web; c2, c4 store) and orders for the segment breakdown:
# in March c1 is steady (also bought in February), c2 new, c3 reactivated (last order in 2023).
CUSTOMERS = [
    dict(customer_id=i, created_at="2023-01-01", product_line="a", acquisition_channel=ch)
    for i, ch in [(1, "web"), (2, "store"), (3, "web"), (4, "store"), (5, "web")]
]
ORDERS = [
    dict(order_id=i, customer_id=c, ordered_at=d, revenue=10, cost=5, product_line="a")
    for i, c, d in [
        (1, 1, "2025-02-10"),
        (2, 1, "2025-03-10"),
        (3, 2, "2025-03-12"),
        (4, 3, "2023-05-01"),
        (5, 3, "2025-03-15"),
        (6, 4, "2025-02-11"),
        (7, 5, "2025-02-12"),
    ]
]
TABLES = {"cases": CASES, "calls": CALLS, "customers": CUSTOMERS, "orders": ORDERS}


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("service") / "service.duckdb", TABLES)


@pytest.fixture(scope="module")
def march(tmp_path_factory, fixture_db):
    """The March 2025 scorecard of the service KPIs (computed once for the module)."""
    return _scorecard(tmp_path_factory.mktemp("march"), fixture_db)


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


def _scorecard(tmp_path, db_path, report_period="2025-03", **overrides):
    params = _params(tmp_path, db_path, **overrides)
    with connect(params) as db:
        return compute_kpis(db, params, report_period, kpis=SERVICE)


def test_catalogue_service_kpis_are_declared():
    reg = get_registry()
    for kid in (
        "cases_handled",
        "same_day_closure_rate",
        "avg_resolution_hours",
        "median_resolution_hours",
        "p90_resolution_hours",
        "service_calls_per_day",
        "complaint_resolution_hours",
        "customer_callbacks",
        "cost_per_interaction",
        "sla_compliance_rate",
        "abandoned_call_rate",
        "avg_handle_seconds",
        "median_handle_seconds",
        "p90_handle_seconds",
        "first_contact_resolution_rate",
        "calls_handled_per_agent",
        "first_response_hours",
    ):
        k = reg[kid]
        assert k.department == "service"
        assert k.definition and all(kpi_name(k.id, loc) for loc in ("en", "fr", "it"))
    assert {reg[k].measure for k in SERVICE} == {"cases", "cases_opened", "calls"}


def test_case_kpis_match_the_hand_computation(march):
    sc = march
    assert sc.value("cases_handled") == 4
    assert sc.value("same_day_closure_rate") == pytest.approx(0.5)
    assert sc.value("avg_resolution_hours") == pytest.approx(22.625)
    assert sc.value("median_resolution_hours") == pytest.approx(21.0)
    assert sc.value("p90_resolution_hours") == pytest.approx(44.4)
    assert sc.value("first_response_hours") == pytest.approx(0.5)
    assert sc["first_response_hours"].previous == pytest.approx(1.0)
    assert sc.value("complaint_resolution_hours") == pytest.approx(48.0)
    assert sc.value("cost_per_interaction") == pytest.approx(11.2)
    assert sc.value("sla_compliance_rate") == pytest.approx(0.5)
    assert sc.value("first_contact_resolution_rate") == pytest.approx(0.75)
    assert sc.queries == 3  # cases by resolution, cases by opening, calls


def test_call_kpis_match_the_hand_computation(march):
    sc = march
    assert sc.value("service_calls_per_day") == pytest.approx(5 / 31)
    assert sc.value("customer_callbacks") == 3
    assert sc.value("abandoned_call_rate") == pytest.approx(2 / 7)
    assert sc.value("avg_handle_seconds") == pytest.approx(315.0)
    assert sc.value("median_handle_seconds") == pytest.approx(270.0)
    assert sc.value("p90_handle_seconds") == pytest.approx(510.0)
    assert sc.value("calls_handled_per_agent") == pytest.approx(5 / 3)


def test_previous_period(march):
    sc = march
    assert sc["cases_handled"].previous == 2
    assert sc["same_day_closure_rate"].previous == pytest.approx(0.5)
    assert sc["avg_resolution_hours"].previous == pytest.approx(30.0)
    assert sc["sla_compliance_rate"].previous == pytest.approx(1.0)
    assert sc["complaint_resolution_hours"].previous == pytest.approx(12.0)
    assert sc["service_calls_per_day"].previous == pytest.approx(1 / 28)
    assert sc["abandoned_call_rate"].previous == pytest.approx(0.0)
    assert sc["customer_callbacks"].previous == 0
    assert sc["calls_handled_per_agent"].previous == pytest.approx(1.0)
    # a ratio changes in points
    assert sc["sla_compliance_rate"].change_previous == pytest.approx(-0.5)


def test_quarter_divides_by_the_days_of_the_quarter(tmp_path, fixture_db):
    """Q1 2025 (90 days): 5 answered calls in March + 1 in February; cases 1-4, 7, 8."""
    sc = _scorecard(tmp_path, fixture_db, "2025-Q1", period={"grain": "quarter"})
    assert sc.value("service_calls_per_day") == pytest.approx(6 / 90)
    assert sc.value("cases_handled") == 6


def test_breakdown_by_acquisition_channel_and_segment(tmp_path, fixture_db):
    """March by acquisition channel: web = cases 1, 3, 4 (c1, c3, c1), store = case 2 (c2),
    (unknown) = the anonymous open case 5, a breach. SLA web 2 / 2, store 0 / 1. By segment:
    c1 steady (cases 1 and 4), c2 new (case 2), c3 reactivated (case 3), case 5 inactive.
    Calls carry no customer: no breakdown."""
    params = _params(tmp_path, fixture_db)
    with connect(params) as db:
        by_channel = compute_breakdown(db, params, "acquisition_channel", "2025-03", SERVICE)
        by_segment = compute_breakdown(db, params, "segment", "2025-03", SERVICE)
    p = by_channel.pivot()
    assert p.loc["web", "cases_handled"] == 3
    assert p.loc["store", "cases_handled"] == 1
    assert p.loc["web", "sla_compliance_rate"] == pytest.approx(1.0)
    assert p.loc["store", "sla_compliance_rate"] == pytest.approx(0.0)
    assert p.loc["(unknown)", "sla_compliance_rate"] == pytest.approx(0.0)
    assert p.loc["web", "avg_resolution_hours"] == pytest.approx((6 + 36 + 0.5) / 3)
    assert by_channel.unsupported["abandoned_call_rate"].reason == "no_breakdown"
    s = by_segment.pivot()
    assert s.loc["steady", "cases_handled"] == 2
    assert s.loc["new", "complaint_resolution_hours"] == pytest.approx(48.0)
    assert s.loc["reactivated", "first_contact_resolution_rate"] == pytest.approx(1.0)
    assert s.loc["inactive", "sla_compliance_rate"] == pytest.approx(0.0)
    assert set(CALL_KPIS) <= set(by_segment.unsupported)


def test_missing_table_makes_only_its_kpis_not_available(tmp_path):
    db_path = make_db(tmp_path / "no_calls.duckdb", {"cases": CASES})
    sc = _scorecard(tmp_path, db_path)
    for kid in CALL_KPIS:
        assert sc[kid].status == "not_available"
        assert (sc[kid].reason, sc[kid].missing_tables) == ("needs_table", ("calls",))
    assert sc.value("cases_handled") == 4
    assert sc.queries == 2  # cases by resolution and by opening


def test_empty_period_gives_no_data(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db, "2024-08")
    for r in sc:
        assert r.status == "no_data", r.id
        assert r.value is None


def test_period_with_only_open_breaches_handles_zero_cases(tmp_path):
    """A month whose only row is an open case past its deadline: 0 cases handled, SLA 0 / 1,
    and no data (never a division by zero) for the resolution figures."""
    db_path = make_db(tmp_path / "open.duckdb", {"cases": [CASES[4]]})
    sc = _scorecard(tmp_path, db_path)
    assert sc.value("cases_handled") == 0
    assert sc.value("sla_compliance_rate") == pytest.approx(0.0)
    assert sc["avg_resolution_hours"].status == "no_data"
    assert sc["same_day_closure_rate"].status == "no_data"
