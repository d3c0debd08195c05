"""Customer perception KPIs (CSAT, relationship freshness, actions per engagement, social media)
on a tiny hand-built fixture, every expected value worked out by hand.

Orders (brand ``acme``; c9's order is brand ``other``): c1 2025-03-05, c2 2025-03-12, c3
2024-01-10 and 2025-03-20 (reactivated in March), c4 2025-02-14 and 2025-03-03 (steady in
March), c5 2025-02-02. Active in March: c1 c2 c3 c4 (c1 and c2 new); in February: c4 c5.
Acquisition channels: c1 c3 c5 ``web``, c2 c4 ``store``.

Surveys (NPS, CSAT): March (10, 5) (9, 4) (6, 2) (-, 3) (-, 5) (8, -): NPS answers 10 9 6 8 ->
100 x (2 - 1) / 4 = 25; CSAT 5 4 2 3 5 -> satisfied (4-5) 3 / 5 = 0.6 (``csat``), mean
19 / 5 = 3.8 (``csat_mean_score``). February (7, 4) (3, 1): NPS -50, CSAT 0.5, mean 2.5.
January: one CSAT-only answer (-, 4): CSAT 1.0, mean 4.0, and no NPS (no data, not zero).

Activities (direction, responded):

===  ====  ==================  ========  =========
id   cust  occurred_at         dir.      responded
===  ====  ==================  ========  =========
1    c1    2025-03-28 10:00    out       yes
2    c2    2025-03-10 10:00    in        -
3    -     2025-03-15 10:00    out       no         (a lead)
4    -     2025-03-16 10:00    out       yes        (a lead)
5    c2    2025-03-20 10:00    out       -
6    c5    2025-03-30 10:00    out       no
7    c3    2025-02-27 10:00    out       yes
8    c5    2025-02-25 10:00    in        -
9    c4    2025-01-31 12:00    out       no
10   c4    2025-03-30 10:00    out       yes        (brand ``other``: never counts)
===  ====  ==================  ========  =========

Freshness, March (ends 2025-04-01; 7 days back: from 03-25, 30 days back: from 03-02): c1 (03-28)
is fresh on both; c2 (03-10) on 30 days only; c3's last contact (02-27) is too old; c4 has none
(its ``other`` activity does not count): 7 days 1 / 4 = 0.25, 30 days 2 / 4 = 0.5.
February (ends 03-01; 7 days back: from 02-22, 30 days back: from 01-30): c5 (02-25; its 03-30
activity is after the period) is fresh on both, c4 (01-31, in the previous month) on 30 days:
7 days 1 / 2 = 0.5, 30 days 2 / 2 = 1.0.
Actions per engagement (actions per response), March: outbound 1 3 4 5 6 = 5, responded 1 4 =
2 -> 5 / 2 = 2.5 (5 has no answer recorded: not a response); February: 7 -> 1 / 1 = 1.0;
January: 9 -> 1 action, no response: no data (not infinite).

Social mentions (own brand or competitor, sentiment, reach): March: own 0.5 / 100, own -0.1 / -,
own - / 300, competitor 0.9 / 1000, competitor - / 50 (and one of brand ``other``'s monitoring):
share of voice 3 / 5 = 0.6, sentiment (0.5 - 0.1) / 2 = 0.2, reach 100 + 300 = 400.
February: one competitor mention: share 0, reach 0, sentiment no data. January: one own mention
with sentiment 0.3 and no reach: share 1, reach no data.
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

PERCEPTION = [k for k, v in get_registry().items() if v.department == "perception"]
NEW = [
    "csat",
    "csat_mean_score",
    "relationship_freshness_7d",
    "relationship_freshness_30d",
    "actions_per_engagement",
    "social_sentiment",
    "social_reach",
    "share_of_voice",
]

FRESHNESS = ["relationship_freshness_7d", "relationship_freshness_30d"]
BY_CHANNEL = FRESHNESS + ["actions_per_engagement", "csat", "share_of_voice"]

CUSTOMERS = [
    dict(customer_id=i, created_at="2023-01-01", product_line="a", acquisition_channel=ch)
    for i, ch in [(1, "web"), (2, "store"), (3, "web"), (4, "store"), (5, "web")]
]
ORDERS = [
    dict(order_id=i, customer_id=c, ordered_at=d, revenue=10, cost=5, product_line="a", **kw)
    for i, c, d, kw in [
        (1, 1, "2025-03-05", {}),
        (2, 2, "2025-03-12", {}),
        (3, 3, "2024-01-10", {}),
        (4, 3, "2025-03-20", {}),
        (5, 4, "2025-02-14", {}),
        (6, 4, "2025-03-03", {}),
        (7, 5, "2025-02-02", {}),
        (8, 9, "2025-03-05", {"brand": "other"}),
    ]
]
SURVEYS = [
    dict(response_id=i, customer_id=1, responded_at=d, nps_score=n, csat_score=c)
    for i, (d, n, c) in enumerate(
        [
            ("2025-03-03", 10, 5),
            ("2025-03-04", 9, 4),
            ("2025-03-05", 6, 2),
            ("2025-03-06", None, 3),
            ("2025-03-07", None, 5),
            ("2025-03-08", 8, None),
            ("2025-02-03", 7, 4),
            ("2025-02-04", 3, 1),
            ("2025-01-10", None, 4),
        ],
        start=1,
    )
]


def _activity(i, cust, when, direction, responded, **kw):
    return dict(
        activity_id=i,
        customer_id=cust,
        lead_id=None if cust else 100 + i,
        occurred_at=when,
        type="email",
        direction=direction,
        responded=responded,
        **kw,
    )


ACTIVITIES = [
    _activity(1, 1, "2025-03-28 10:00", "outbound", True),
    _activity(2, 2, "2025-03-10 10:00", "inbound", None),
    _activity(3, None, "2025-03-15 10:00", "outbound", False),
    _activity(4, None, "2025-03-16 10:00", "outbound", True),
    _activity(5, 2, "2025-03-20 10:00", "outbound", None),
    _activity(6, 5, "2025-03-30 10:00", "outbound", False),
    _activity(7, 3, "2025-02-27 10:00", "outbound", True),
    _activity(8, 5, "2025-02-25 10:00", "inbound", None),
    _activity(9, 4, "2025-01-31 12:00", "outbound", False),
    _activity(10, 4, "2025-03-30 10:00", "outbound", True, brand="other"),
]


def _mention(i, when, competitor, sentiment, reach, **kw):
    return dict(
        mention_id=i,
        mentioned_brand="rival" if competitor else "acme",
        is_competitor=competitor,
        occurred_at=when,
        sentiment=sentiment,
        reach=reach,
        **kw,
    )


MENTIONS = [
    _mention(1, "2025-03-02", False, 0.5, 100),
    _mention(2, "2025-03-03", False, -0.1, None),
    _mention(3, "2025-03-04", False, None, 300),
    _mention(4, "2025-03-05", True, 0.9, 1000),
    _mention(5, "2025-03-06", True, None, 50),
    _mention(6, "2025-03-07", False, 1.0, 5000, brand="other"),
    _mention(7, "2025-02-10", True, 0.2, 70),
    _mention(8, "2025-01-10", False, 0.3, None),
]

TABLES = {
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "surveys": SURVEYS,
    "activities": ACTIVITIES,
    "social_mentions": MENTIONS,
}


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("perception") / "perception.duckdb", TABLES)


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


def _scorecard(tmp_path, db_path, report_period="2025-03", **overrides):
    params = _params(tmp_path, db_path, **overrides)
    with connect(params) as db:
        return compute_kpis(db, params, report_period, kpis=PERCEPTION)


@pytest.fixture(scope="module")
def march(tmp_path_factory, fixture_db):
    """The March 2025 scorecard of the perception KPIs (computed once for the module)."""
    return _scorecard(tmp_path_factory.mktemp("march"), fixture_db)


def test_catalogue_perception_kpis_are_declared():
    reg = get_registry()
    for kid in NEW:
        k = reg[kid]
        assert k.department == "perception"
        assert k.definition and all(kpi_name(k.id, loc) for loc in ("en", "fr", "it"))


def test_march_values_match_the_hand_computation(march):
    sc = march
    assert sc.value("csat") == pytest.approx(0.6)
    assert sc.value("csat_mean_score") == pytest.approx(3.8)
    assert sc.value("relationship_freshness_7d") == pytest.approx(0.25)
    assert sc.value("relationship_freshness_30d") == pytest.approx(0.5)
    assert sc.value("actions_per_engagement") == pytest.approx(2.5)
    assert sc.value("social_sentiment") == pytest.approx(0.2)
    assert sc.value("social_reach") == pytest.approx(400)
    assert sc.value("share_of_voice") == pytest.approx(0.6)


def test_existing_perception_kpis_keep_their_values(march):
    """NPS counts only answers with an NPS score, CSAT-only answers do not dilute it; repeat
    purchase: February's c4 c5, of whom c4 bought again in March. Lapse churn (365 days): active
    on March 1st c4 c5 (c3's 2024 order is more than 365 days old), none lapses in March."""
    sc = march
    assert sc.value("nps") == pytest.approx(25.0)
    assert sc["nps"].previous == pytest.approx(-50.0)
    assert sc.value("repeat_purchase_rate") == pytest.approx(0.5)
    assert sc.value("retention_rate") == pytest.approx(1.0)
    assert sc.value("churn_rate") == pytest.approx(0.0)
    assert sc.value("avg_margin_per_customer") == pytest.approx(5.0)


def test_previous_period_and_trend(march):
    sc = march
    assert sc["csat"].previous == pytest.approx(0.5)
    assert sc["csat_mean_score"].previous == pytest.approx(2.5)
    assert sc["relationship_freshness_7d"].previous == pytest.approx(0.5)
    assert sc["relationship_freshness_30d"].previous == pytest.approx(1.0)
    assert sc["actions_per_engagement"].previous == pytest.approx(1.0)
    assert sc["share_of_voice"].previous == pytest.approx(0.0)
    assert sc["social_reach"].previous == 0
    assert sc["social_sentiment"].previous is None  # no own mention in February
    january = {k: dict((p.label, v) for p, v in sc[k].trend)["2025-01"] for k in NEW + ["nps"]}
    assert january["csat"] == pytest.approx(1.0)
    assert january["csat_mean_score"] == pytest.approx(4.0)
    assert january["nps"] is None  # CSAT-only answers: no NPS
    assert january["actions_per_engagement"] is None  # an action, no response: no data
    assert january["share_of_voice"] == pytest.approx(1.0)
    assert january["social_sentiment"] == pytest.approx(0.3)
    assert january["social_reach"] is None  # the brand's only mention has no reach
    assert january["relationship_freshness_30d"] is None  # no order in January


def test_breakdowns(tmp_path, fixture_db):
    """March by segment: new c1 (fresh 7 and 30 days) and c2 (30 days): 0.5 and 1.0;
    reactivated c3 and steady c4: 0 and 0. By acquisition channel: web c1 c3 -> 0.5 and 0.5,
    store c2 c4 -> 0 and 0.5; actions per engagement web 1 6 -> 2 actions / 1 response, store
    5 -> 1 / 0 (no data), (unknown) the leads' 3 4 -> 2 / 1. Social mentions have no customer: no breakdown."""
    params = _params(tmp_path, fixture_db)
    with connect(params) as db:
        seg = compute_breakdown(db, params, "segment", "2025-03", FRESHNESS)
        chan = compute_breakdown(db, params, "acquisition_channel", "2025-03", BY_CHANNEL)
    s = seg.pivot()
    assert s.loc["new", "relationship_freshness_7d"] == pytest.approx(0.5)
    assert s.loc["new", "relationship_freshness_30d"] == pytest.approx(1.0)
    assert s.loc["reactivated", "relationship_freshness_30d"] == pytest.approx(0.0)
    assert s.loc["steady", "relationship_freshness_30d"] == pytest.approx(0.0)
    c = chan.pivot()
    assert c.loc["web", "relationship_freshness_7d"] == pytest.approx(0.5)
    assert c.loc["store", "relationship_freshness_7d"] == pytest.approx(0.0)
    assert c.loc["store", "relationship_freshness_30d"] == pytest.approx(0.5)
    assert c.loc["web", "actions_per_engagement"] == pytest.approx(2.0)
    assert pd.isna(c.loc["store", "actions_per_engagement"])
    assert c.loc["(unknown)", "actions_per_engagement"] == pytest.approx(2.0)
    assert c.loc["web", "csat"] == pytest.approx(0.6)  # every answer is c1's
    assert chan.unsupported["share_of_voice"].reason == "no_breakdown"


def test_missing_tables_make_only_their_kpis_not_available(tmp_path):
    db_path = make_db(tmp_path / "partial.duckdb", {"orders": ORDERS, "surveys": SURVEYS})
    sc = _scorecard(tmp_path, db_path)
    for kid in ("relationship_freshness_7d", "relationship_freshness_30d"):
        assert sc[kid].status == "not_available"
        assert (sc[kid].reason, sc[kid].missing_tables) == ("needs_table", ("activities",))
    assert (sc["actions_per_engagement"].reason, sc["actions_per_engagement"].missing_tables) == (
        "needs_table",
        ("activities",),
    )
    for kid in ("social_sentiment", "social_reach", "share_of_voice"):
        assert (sc[kid].reason, sc[kid].missing_tables) == ("needs_table", ("social_mentions",))
    assert sc.value("csat") == pytest.approx(0.6)


def test_empty_period_gives_no_data(tmp_path, fixture_db):
    sc = _scorecard(tmp_path, fixture_db, "2024-08")
    for r in sc:
        assert r.status == "no_data", r.id
        assert r.value is None


def test_quarter_grain(tmp_path, fixture_db):
    """Q1 2025 (ends 04-01): active c1..c5; fresh 30 days: c1 (03-28), c2 (03-10), c5 (03-30)
    -> 3 / 5; 7 days: c1 and c5 -> 2 / 5. CSAT over the quarter: satisfied 3 + 1 + 1 of 8
    answers = 0.625; mean (19 + 5 + 4) / 8 = 3.5."""
    sc = _scorecard(tmp_path, fixture_db, "2025-Q1", period={"grain": "quarter"})
    assert sc.value("relationship_freshness_30d") == pytest.approx(3 / 5)
    assert sc.value("relationship_freshness_7d") == pytest.approx(2 / 5)
    assert sc.value("csat") == pytest.approx(0.625)
    assert sc.value("csat_mean_score") == pytest.approx(3.5)
