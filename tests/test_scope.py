"""Product-line reports honest about scope (issue 10, deliverable 3).

Hand fixture (brand ``acme``, lines ``machines`` and ``coffee``; brand ``other`` never counts):

=====  ========  ==========  ====================  ====================
table  id        line        dated                 note
=====  ========  ==========  ====================  ====================
cases  1, 2      machines    resolved 2025-03      6 h and 10 h
cases  3         coffee      resolved 2025-03      2 h
cases  4         NULL        resolved 2025-03      1 h (an account question)
cases  5         machines    resolved 2025-03      brand ``other``
calls  1         machines    offered 2025-03-05    answered
calls  2, 3      coffee      offered 2025-03       answered
surv.  1         machines    NPS 10                promoter
surv.  2         coffee      NPS 0                 detractor
surv.  3         NULL        NPS 9                 relationship survey
web    1, 2      machines    2025-03
web    3         NULL        2025-03
subs   1         machines    2025-02-01            on the machines list
subs   2         coffee      2025-02-01
refs   1         machines    2025-03-10
refs   2, 3      coffee      2025-03
acts   1, 2      (no line)   2025-03               sales calls on a lead
=====  ========  ==========  ====================  ====================

March 2025, machines report: cases handled 2 (1 and 2; 4 has no line, 5 is another brand),
mean resolution (6 + 10) / 2 = 8 h; answered calls 1 / 31 a day; NPS of survey 1 alone
100; 2 page-view sessions (1 page each); 1 referral; 1 subscriber at the start of March.
Brand report: 4 cases, mean (6 + 10 + 2 + 1) / 4 = 4.75 h; 3 / 31 calls a day; NPS
(2 promoters - 1 detractor) / 3 = 33.3; 3 sessions; 3 referrals; 2 subscribers.
Activities carry no line: ``sales_calls`` is brand-wide (2 in both reports).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis, measure_scope
from kpitools.kpis.registry import get_kpi
from kpitools.objectives import evaluate_objectives
from kpitools.params import load_params
from kpitools.report.kpis_json import scorecard_document
from kpitools.report.objectives import objectives_html
from kpitools.report.tables import scorecard_html
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.outcomes import line_cost_shares, load_campaigns
from kpitools.vocab import Scope


def _case(i, line, opened, hours, brand="acme"):
    return {
        "case_id": i,
        "brand": brand,
        "customer_id": i,
        "product_line": line,
        "channel": "phone",
        "opened_at": opened,
        "first_response_at": opened,
        "resolved_at": str(pd.Timestamp(opened) + pd.Timedelta(hours=hours)),
        "sla_hours": 24.0,
        "is_complaint": False,
        "contacts_to_resolve": 1,
        "handling_cost": 10.0,
    }


CASES = [
    _case(1, "machines", "2025-03-02 09:00", 6),
    _case(2, "machines", "2025-03-05 09:00", 10),
    _case(3, "coffee", "2025-03-06 09:00", 2),
    _case(4, None, "2025-03-07 09:00", 1),
    _case(5, "machines", "2025-03-08 09:00", 3, brand="other"),
]
CALLS = [
    {
        "call_id": i,
        "queue": "support",
        "agent_id": 1,
        "product_line": line,
        "offered_at": at,
        "answered_at": at,
        "ended_at": at,
        "handle_seconds": 60.0,
    }
    for i, line, at in [
        (1, "machines", "2025-03-05 10:00"),
        (2, "coffee", "2025-03-06 10:00"),
        (3, "coffee", "2025-03-07 10:00"),
    ]
]
SURVEYS = [
    {
        "response_id": 1,
        "customer_id": 1,
        "product_line": "machines",
        "responded_at": "2025-03-03",
        "nps_score": 10,
    },
    {
        "response_id": 2,
        "customer_id": 3,
        "product_line": "coffee",
        "responded_at": "2025-03-04",
        "nps_score": 0,
    },
    {
        "response_id": 3,
        "customer_id": 4,
        "product_line": None,
        "responded_at": "2025-03-05",
        "nps_score": 9,
    },
]
WEB = [
    {
        "session_id": i,
        "product_line": line,
        "started_at": "2025-03-10",
        "page_views": 1,
        "duration_seconds": 30.0,
        "goal_completed": False,
    }
    for i, line in [(1, "machines"), (2, "machines"), (3, None)]
]
SUBSCRIPTIONS = [
    {
        "customer_id": 1,
        "list": "machines news",
        "product_line": "machines",
        "subscribed_at": "2025-02-01",
    },
    {
        "customer_id": 3,
        "list": "coffee news",
        "product_line": "coffee",
        "subscribed_at": "2025-02-01",
    },
]
REFERRALS = [
    {"referral_id": i, "referrer_customer_id": 1, "product_line": line, "created_at": at}
    for i, line, at in [
        (1, "machines", "2025-03-10"),
        (2, "coffee", "2025-03-11"),
        (3, "coffee", "2025-03-12"),
    ]
]
ACTIVITIES = [
    {
        "activity_id": i,
        "lead_id": 1,
        "occurred_at": "2025-03-10",
        "type": "call",
        "direction": "outbound",
    }
    for i in (1, 2)
]
TABLES = {
    "cases": CASES,
    "calls": CALLS,
    "surveys": SURVEYS,
    "web_sessions": WEB,
    "subscriptions": SUBSCRIPTIONS,
    "referrals": REFERRALS,
    "activities": ACTIVITIES,
}
KPIS = [
    "cases_handled",
    "avg_resolution_hours",
    "service_calls_per_day",
    "nps",
    "web_page_views",
    "referrals",
    "sales_calls",
]
#: value in the machines report, in the brand report
EXPECTED = {
    "cases_handled": (2, 4),
    "avg_resolution_hours": (8.0, 4.75),
    "service_calls_per_day": (1 / 31, 3 / 31),
    "nps": (100.0, 100 / 3),
    "web_page_views": (2, 3),
    "referrals": (1, 3),
    "sales_calls": (2, 2),
}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("scope") / "scope.duckdb", TABLES)


def _params(tmp_path, db_path, **kw):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **kw))


def _scorecard(tmp_path, db_path, kpis=KPIS, **kw):
    params = _params(tmp_path, db_path, **kw)
    with connect(params) as db:
        return compute_kpis(db, params, "2025-03", kpis=kpis)


@pytest.fixture(scope="module")
def line_card(tmp_path_factory, db_path):
    return _scorecard(tmp_path_factory.mktemp("line"), db_path, product_lines=["machines"])


@pytest.fixture(scope="module")
def brand_card(tmp_path_factory, db_path):
    return _scorecard(tmp_path_factory.mktemp("brand"), db_path)


def test_new_line_columns_are_filtered_in_the_database(tmp_path, db_path):
    params = _params(tmp_path, db_path, product_lines=["machines"])
    with connect(params) as db:
        counts = {t: db.table(t).count().execute() for t in TABLES}
        assert all(db.carries_line(t) for t in TABLES if t != "activities")
        assert not db.carries_line("activities")
    # a NULL line is no line: case 4, survey 3, session 3 are left out of the line's report
    assert counts == {
        "cases": 2,
        "calls": 1,
        "surveys": 1,
        "web_sessions": 2,
        "subscriptions": 1,
        "referrals": 1,
        "activities": 2,
    }


def test_line_report_values_are_the_line_s(line_card, brand_card):
    for kpi_id, (line, brand) in EXPECTED.items():
        assert line_card[kpi_id].value == pytest.approx(line), kpi_id
        assert brand_card[kpi_id].value == pytest.approx(brand), kpi_id


def test_result_scope_is_line_or_brand_in_a_line_report_none_in_a_brand_report(
    line_card, brand_card
):
    assert {k: line_card[k].scope for k in KPIS} == {
        **{k: Scope.LINE for k in KPIS},
        "sales_calls": Scope.BRAND,
    }
    assert all(brand_card[k].scope is None for k in KPIS)
    # the static answer from the canonical model agrees here
    assert get_kpi("cases_handled").scope == Scope.LINE
    assert get_kpi("sales_calls").scope == Scope.BRAND
    # activities read only through the line's opportunities / leads / customers do not count
    assert get_kpi("calls_per_opportunity").scope == Scope.LINE
    assert get_kpi("touches_to_convert").scope == Scope.LINE


def _without_line_column(tmp_path, db_path, table, *, fill_null=False):
    path = tmp_path / "copy.duckdb"
    path.write_bytes(db_path.read_bytes())
    con = duckdb.connect(str(path))
    if fill_null:
        con.execute(f'UPDATE "{table}" SET product_line = NULL')
    else:
        con.execute(f'ALTER TABLE "{table}" DROP COLUMN product_line')
    con.close()
    return path


@pytest.mark.parametrize("fill_null", [False, True], ids=["column absent", "never filled"])
def test_runtime_scope_is_brand_when_the_source_has_no_line(tmp_path, db_path, fill_null):
    """Without the optional column (read as NULL) the cases cannot be filtered: every case
    of the brand stays (4, mean 4.75 h, the brand's figures) and the KPI is brand-wide, while
    the canonical model still says it could be a line's."""
    path = _without_line_column(tmp_path, db_path, "cases", fill_null=fill_null)
    card = _scorecard(tmp_path, path, product_lines=["machines"])
    assert card["cases_handled"].value == 4
    assert card["avg_resolution_hours"].value == pytest.approx(4.75)
    assert card["cases_handled"].scope == Scope.BRAND
    assert get_kpi("cases_handled").scope == Scope.LINE
    # the other tables still carry their line
    assert card["service_calls_per_day"].scope == Scope.LINE
    assert card["service_calls_per_day"].value == pytest.approx(1 / 31)
    params = _params(tmp_path, path, product_lines=["machines"])
    with connect(params) as db:
        assert measure_scope(db, "cases") == Scope.BRAND
        assert db.table("cases").count().execute() == 4


def test_kpis_json_carries_every_kpi_s_scope(line_card, brand_card):
    doc = scorecard_document(line_card)
    assert {k: e["scope"] for k, e in doc["kpis"].items()} == {
        **{k: "line" for k in KPIS},
        "sales_calls": "brand",
    }
    assert all(e["scope"] is None for e in scorecard_document(brand_card)["kpis"].values())


def _rows(html: str) -> dict[str, str]:
    """Scorecard rows by the KPI name they start with."""
    return {r.split("</td>")[0]: r for r in str(html).split("<tr")[2:]}


@pytest.mark.parametrize("locale, tag", [("en", "brand-wide"), ("it", "intero marchio")])
def test_scorecard_tags_brand_wide_kpis_only(line_card, brand_card, locale, tag):
    html = str(scorecard_html(line_card, locale=locale))
    tagged = [r for r in html.split("<tr")[2:] if 'class="scope-tag"' in r]
    assert len(tagged) == 1 and tag in tagged[0]
    assert html.count('class="scope-tag"') == 1
    assert "scope-note" in html  # the one-line explanation under the table
    brand_html = str(scorecard_html(brand_card, locale=locale))
    assert "scope-tag" not in brand_html and "scope-note" not in brand_html


OBJECTIVES = [
    {
        "id": "service",
        "title": "Faster service",
        "kpi": "avg_resolution_hours",
        "baseline": {"value": 10, "date": "2025-01-01"},
        "target": {"change": "-20%"},
        "deadline": "2025-12-31",
        "strategies": [
            {
                "title": "Call more",
                "function": "sales",
                "metrics": [{"kpi": "sales_calls", "target": {"min": 1}}],
            }
        ],
    }
]


def test_objectives_mark_a_brand_wide_metric(tmp_path, db_path):
    params = _params(tmp_path, db_path, product_lines=["machines"], objectives=OBJECTIVES)
    with connect(params) as db:
        card = compute_kpis(db, params, "2025-03")
    report = evaluate_objectives(params, card)
    o = report.objectives[0]
    assert o.scope == Scope.LINE and o.value == pytest.approx(8.0)
    assert o.metrics[0].scope == Scope.BRAND
    assert o.to_dict()["strategies"][0]["metrics"][0]["scope"] == "brand"
    html = str(objectives_html(report, locale="fr"))
    assert html.count('class="scope-tag"') == 1 and "toute la marque" in html


# -- ROI: a brand-wide campaign's cost shared by its targeted members on the line -------------
#
# Campaign 1 (no line): fixed cost 1 000, 2 a contact, 1-10 March 2025 (outcome window to
# 9 April). Treatment: customers 1-6 (machines) and 7-10 (coffee), all contacted; control:
# 11-14 (machines) and 15-18 (coffee). Orders in the window, one each on the customer's line:
# margins of machines treated 1-6 150 / 250 (odd / even customer, mean 200), machines control
# 11-14 40 / 60 (mean 50), coffee treated 7-10 10 / 30 (mean 20), coffee control 15-18
# 5 / 15 (mean 10); and customer 1 a coffee order of margin 1 000 (not the machines line's).
#
# Machines report: members 1-6 and 11-14, the line's orders: lift 200 - 50 = 150 per treated
# customer, incremental margin 6 x 150 = 900; cost 1 000 x 6 / 10 + 2 x 6 = 612;
# ROI (900 - 612) / 612 = 0.470588. Coffee: lift 20 - 10 = 10, margin 40, cost 400 + 8 = 408.
# Brand report: treated mean (1 200 + 5 x 200 + 4 x 20) / 10 = 228, control 240 / 8 = 30,
# lift 198, margin 1 980, cost 1 020, ROI 0.941176. Without a customers table the machines
# report cannot split: all 18 members, the line's orders (treated mean 1 200 / 10 = 120,
# control 200 / 8 = 25, lift 95, margin 950), the whole cost 1 020: ROI -0.068627.


def _line(c):
    return "machines" if c in (*range(1, 7), *range(11, 15)) else "coffee"


def _margin(c):
    """Margin of customer c's order on their own line: group mean -/+ a spread (odd/even)."""
    mean, spread = {
        ("machines", True): (200, 50),
        ("machines", False): (50, 10),
        ("coffee", True): (20, 10),
        ("coffee", False): (10, 5),
    }[(_line(c), c <= 10)]
    return mean - spread if c % 2 else mean + spread


ROI_TABLES = {
    "customers": [
        {"customer_id": c, "product_line": _line(c), "created_at": "2024-01-01"}
        for c in range(1, 19)
    ],
    "campaigns": [
        {
            "campaign_id": 1,
            "product_line": None,
            "name": "Spring",
            "channel": "email",
            "starts_at": "2025-03-01",
            "ends_at": "2025-03-10",
            "fixed_cost": 1000.0,
            "cost_per_contact": 2.0,
            "planned_control_share": 8 / 18,
        }
    ],
    "campaign_members": [
        {
            "campaign_id": 1,
            "customer_id": c,
            "group": "treatment" if c <= 10 else "control",
            "sent_at": "2025-03-01" if c <= 10 else None,
        }
        for c in range(1, 19)
    ],
    "orders": [
        {
            "order_id": c,
            "customer_id": c,
            "product_line": _line(c),
            "ordered_at": "2025-03-05",
            "revenue": 1000.0 + _margin(c),
            "cost": 1000.0,
        }
        for c in range(1, 19)
    ]
    + [
        {
            "order_id": 100,
            "customer_id": 1,
            "product_line": "coffee",
            "ordered_at": "2025-03-06",
            "revenue": 1500.0,
            "cost": 500.0,
        }
    ],
}
# 4 controls: below the default minimum to judge (10), which this cost-share fixture lowers
ROI = {"method": "diff", "min_control": 2, "min_control_judge": 2}


@pytest.fixture(scope="module")
def roi_db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("roi") / "roi.duckdb", ROI_TABLES)


def _roi(tmp_path, path, **kw):
    params = _params(tmp_path, path, roi=ROI, **kw)
    with connect(params) as db:
        return analyse_campaigns(db, params, "2025-03")


def test_line_cost_share_of_a_brand_wide_campaign(tmp_path, roi_db):
    params = _params(tmp_path, roi_db, product_lines=["machines"])
    with connect(params) as db:
        shares = line_cost_shares(db, load_campaigns(db))
    assert shares.to_dict("records") == [
        {"campaign_id": 1, "n_treated_brand": 10, "n_treated_line": 6, "cost_share": 0.6}
    ]
    report = _roi(tmp_path, roi_db, product_lines=["machines"])
    (c,) = report.campaigns
    assert (c.n_treated, c.n_control, c.n_contacted) == (6, 4, 6)
    assert c.fixed_cost == pytest.approx(600.0) and c.cost == pytest.approx(612.0)
    assert c.roi.incremental_margin == pytest.approx(900.0)
    assert c.roi.roi == pytest.approx((900 - 612) / 612)
    assert report.programme.roi == pytest.approx((900 - 612) / 612)
    assert "line_cost_share" in [i.code for i in c.issues]
    assert "line_cost_shared" in [i.code for i in report.issues]


def test_line_shares_add_up_to_the_brand_cost(tmp_path, roi_db):
    machines = _roi(tmp_path, roi_db, product_lines=["machines"]).campaigns[0]
    coffee = _roi(tmp_path, roi_db, product_lines=["coffee"]).campaigns[0]
    brand = _roi(tmp_path, roi_db).campaigns[0]
    assert coffee.cost == pytest.approx(408.0)
    assert coffee.roi.incremental_margin == pytest.approx(40.0)
    assert machines.cost + coffee.cost == pytest.approx(brand.cost) == pytest.approx(1020.0)
    assert brand.roi.incremental_margin == pytest.approx(1980.0)
    assert brand.roi.roi == pytest.approx((1980 - 1020) / 1020)
    assert not [i for i in brand.issues if i.code.startswith("line_")]


def test_without_customers_the_line_carries_the_whole_cost_and_says_so(tmp_path, roi_db):
    path = tmp_path / "no_customers.duckdb"
    path.write_bytes(roi_db.read_bytes())
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE customers")
    con.close()
    report = _roi(tmp_path, path, product_lines=["machines"])
    (c,) = report.campaigns
    assert c.n_treated == 10 and c.cost == pytest.approx(1020.0)
    assert c.roi.incremental_margin == pytest.approx(950.0)
    whole = [i for i in report.issues if i.code == "line_cost_whole"]
    assert whole and whole[0].fields["n"] == 1
    from kpitools.report.roi.text import issue_message, issue_text

    assert "whole cost" in issue_message(whole[0])
    assert "intero costo" in issue_text(whole[0], "it")


# -- the demo: castello-machines against castello ---------------------------------------------

#: KPIs scoped to the line whose value may equal the brand's on the demo, and why
SAME_ON_THE_DEMO = {
    # the only campaign running in December 2025 is brand-wide (no line): it is in both
    "campaigns_run": "the period's only campaign is brand-wide",
    # the brand's median closed deal of December 2025 is a machines deal
    "sales_cycle_days": "the brand's median deal is the line's",
    # 0 in both in the period; in its one month with unsubscriptions (August 2025) the only
    # campaign was a machines one, the same members in both reports: the same all through
    "unsubscribe_rate": "0 in both",
    # matured cohorts and small counts: the latest final cohort of campaign responses (August
    # 2025) holds one campaign, a machines one; the renewals due in November 2025 and those won
    # in December 2025 are all machine contracts (the brand has 1-2 renewals a month)
    "campaign_response_rate": "August's only campaign is a machines one",
    "renewal_rate": "November's renewals due are all machine contracts",
    "renewal_amount": "December's renewals won are all machine contracts",
}
#: of those, the ones whose whole trend is the brand's too
SAME_THROUGHOUT = {"unsubscribe_rate"}


@pytest.fixture(scope="module")
def demo_cards(demo_database):
    cards = {}
    for name in ("castello", "castello-machines"):
        params = load_params(f"params/{name}.yaml")
        params = params.model_copy(
            update={"source": params.source.model_copy(update={"path": str(demo_database)})}
        )
        with connect(params) as db:
            cards[name] = compute_kpis(db, params)
    return cards


def _series(r):
    return [r.value, r.previous, r.year_ago, *(v for _, v in r.trend)]


def _same(x, y):
    """Equal values (up to the order of a floating-point sum), or both missing."""
    return (x is None and y is None) or (
        x is not None and y is not None and x == pytest.approx(y, rel=1e-9, abs=1e-12)
    )


def test_demo_line_report_differs_on_line_kpis_and_repeats_brand_wide_ones(demo_cards):
    brand, line = demo_cards["castello"], demo_cards["castello-machines"]
    scoped = {k: r.scope for k, r in line.results.items()}
    assert set(scoped.values()) <= {Scope.LINE, Scope.BRAND}
    same_line = []
    for k, r in line.results.items():
        b = brand[k]
        if r.scope == Scope.LINE and r.value is not None and b.value is not None:
            if r.value == pytest.approx(b.value, rel=1e-9):
                same_line.append(k)
        if r.scope == Scope.BRAND:
            assert all(map(_same, _series(r), _series(b))), k
    assert set(same_line) <= set(SAME_ON_THE_DEMO), same_line
    # the others differ somewhere in their trend
    for k in set(same_line) - SAME_THROUGHOUT:
        assert not all(map(_same, _series(line[k]), _series(brand[k]))), k
    # the service KPIs the machines objective tracks, NPS and CSAT are the line's
    for k in ("avg_resolution_hours", "sla_compliance_rate", "first_contact_resolution_rate"):
        assert line[k].scope == Scope.LINE
    assert line["nps"].scope == Scope.LINE
    assert sum(s == Scope.BRAND for s in scoped.values()) < len(scoped) / 4


def test_demo_line_programme_kpis_equal_the_line_roi_report(demo_database):
    """The registry's programme ROI of a product-line report shares brand-wide campaigns' cost
    by targeted members exactly as the ROI report does: one programme ROI per report."""
    from kpitools.roi import analyse_campaigns

    params = load_params("params/castello-machines.yaml")
    params = params.model_copy(
        update={"source": params.source.model_copy(update={"path": str(demo_database)})}
    )
    with connect(params) as db:
        card = compute_kpis(db, params, kpis=["programme_roi", "incremental_margin"])
        report = analyse_campaigns(db, params, card.period)
    assert report.programme is not None
    assert card.value("programme_roi") == pytest.approx(report.programme.roi, rel=1e-9)
    assert card.value("incremental_margin") == pytest.approx(
        report.programme.incremental_margin, rel=1e-9
    )
