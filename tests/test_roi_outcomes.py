"""Member-level campaign outcomes (kpitools.roi.outcomes) on a tiny hand-built fixture.

Defaults: ``roi.attribution_days = 30``, ``roi.pre_period_days = 90``, ``lapse_days = 365``.

Campaign 1 (email), 2025-03-01 .. 2025-03-10:
    outcome window [2025-03-01, 2025-04-09)   (03-10 + 30 days)
    pre-period     [2024-12-01, 2025-03-01)   (90 days: 31 Dec + 31 Jan + 28 Feb)
    previous 90 d  [2024-09-02, 2024-12-01)
Campaign 2 (sms), 2025-06-01 .. 2025-06-05:
    outcome window [2025-06-01, 2025-07-05)
    pre-period     [2025-03-03, 2025-06-01)   (31 May + 30 Apr + 29 days of March)
    previous 90 d  [2024-12-03, 2025-03-03)
Campaign 9 belongs to brand "other" and must never appear.

Orders (revenue / cost; margin = revenue - cost):

====  ===================  =====  ====  ==========================================
cust  ordered_at           rev    cost  role
====  ===================  =====  ====  ==========================================
1     2024-11-20           40     10    c1: previous 90 days (steady)
1     2025-01-15           100    60    c1: pre-period
1     2025-03-01 00:00     50     20    c1: outcome (start is inclusive); c2: before pre
1     2025-04-08 23:59     30     10    c1: outcome (last minute); c2: pre
1     2025-04-09 00:00     999    0     c1: excluded (end is exclusive); c2: pre
1     2025-07-04 12:00     10     4     c2: outcome
1     2025-03-20           500    0     brand "other": never counted
2     2023-06-01           10     5     before the lapse
2     2024-12-01 00:00     20     5     pre-period (start inclusive): back after 549 d
2     2025-02-28 23:59:59  5      1     pre-period (last second)
2     2025-03-05           60     30    outcome
3     2025-02-01           70     30    c1: first order ever, in the pre-period (new)
3     2025-06-01 00:00     45     15    c2: outcome (start inclusive)
4     2024-06-01           30     10    only order: before the pre-period (inactive)
5     2024-08-01           15     5     before the previous 90 days, within the lapse
5     2025-02-10           25     5     pre-period
5     2025-03-20           40     25    outcome
====  ===================  =====  ====  ==========================================

Campaign 1 members: 1 T (steady), 2 C (reactivated), 3 T (new), 4 C (inactive),
5 T (returning), 6 T (no order ever: new). Campaign 2 members: 1 C (steady), 3 T (ordered
before the pre-period, not in it: inactive), 7 T with no sent_at (new, not contacted).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.errors import MissingTableError
from kpitools.params import load_params
from kpitools.periods import Period
from kpitools.roi.outcomes import (
    OUTCOME_COLUMNS,
    load_campaign_outcomes,
    load_campaigns,
    programme_window,
)

CAMPAIGNS = [
    dict(
        campaign_id=1,
        name="Spring email",
        channel="email",
        starts_at="2025-03-01",
        ends_at="2025-03-10",
        fixed_cost=100.0,
        cost_per_contact=0.5,
        planned_control_share=0.3,
    ),
    dict(
        campaign_id=2,
        name="June SMS",
        channel="sms",
        starts_at="2025-06-01",
        ends_at="2025-06-05",
        fixed_cost=50.0,
        cost_per_contact=0.1,
        planned_control_share=0.3,
    ),
    dict(
        campaign_id=9,
        brand="other",
        name="Other brand",
        channel="print",
        starts_at="2025-03-01",
        ends_at="2025-03-10",
        fixed_cost=1.0,
        cost_per_contact=1.0,
        planned_control_share=0.5,
    ),
]

T, C = "treatment", "control"
MEMBERS = [
    (1, 1, T, "2025-03-01 10:00"),
    (1, 2, C, None),
    (1, 3, T, "2025-03-01 10:00"),
    (1, 4, C, None),
    (1, 5, T, "2025-03-01 10:00"),
    (1, 6, T, "2025-03-01 10:00"),
    (2, 1, C, None),
    (2, 3, T, "2025-06-01 09:00"),
    (2, 7, T, None),
]

ORDERS = [
    (1, "2024-11-20", 40, 10, "acme"),
    (1, "2025-01-15", 100, 60, "acme"),
    (1, "2025-03-01 00:00:00", 50, 20, "acme"),
    (1, "2025-04-08 23:59:00", 30, 10, "acme"),
    (1, "2025-04-09 00:00:00", 999, 0, "acme"),
    (1, "2025-07-04 12:00:00", 10, 4, "acme"),
    (1, "2025-03-20", 500, 0, "other"),
    (2, "2023-06-01", 10, 5, "acme"),
    (2, "2024-12-01 00:00:00", 20, 5, "acme"),
    (2, "2025-02-28 23:59:59", 5, 1, "acme"),
    (2, "2025-03-05", 60, 30, "acme"),
    (3, "2025-02-01", 70, 30, "acme"),
    (3, "2025-06-01 00:00:00", 45, 15, "acme"),
    (4, "2024-06-01", 30, 10, "acme"),
    (5, "2024-08-01", 15, 5, "acme"),
    (5, "2025-02-10", 25, 5, "acme"),
    (5, "2025-03-20", 40, 25, "acme"),
]

# (campaign, customer) -> (group, treated, contacted, segment, revenue, margin, orders,
#                          converted, pre_revenue, pre_margin, pre_orders)
EXPECTED = {
    (1, 1): ("treatment", 1, 1, "steady", 80, 50, 2, 1, 100, 40, 1),
    (1, 2): ("control", 0, 0, "reactivated", 60, 30, 1, 1, 25, 19, 2),
    (1, 3): ("treatment", 1, 1, "new", 0, 0, 0, 0, 70, 40, 1),
    (1, 4): ("control", 0, 0, "inactive", 0, 0, 0, 0, 0, 0, 0),
    (1, 5): ("treatment", 1, 1, "returning", 40, 15, 1, 1, 25, 20, 1),
    (1, 6): ("treatment", 1, 1, "new", 0, 0, 0, 0, 0, 0, 0),
    (2, 1): ("control", 0, 0, "steady", 10, 6, 1, 1, 1029, 1019, 2),
    (2, 3): ("treatment", 1, 1, "inactive", 45, 30, 1, 1, 0, 0, 0),
    (2, 7): ("treatment", 1, 0, "new", 0, 0, 0, 0, 0, 0, 0),
}


def _tables() -> dict[str, list[dict]]:
    orders = [
        dict(
            order_id=i + 1,
            customer_id=c,
            brand=b,
            product_line="a",
            ordered_at=d,
            revenue=float(r),
            cost=float(k),
        )
        for i, (c, d, r, k, b) in enumerate(ORDERS)
    ]
    members = [
        dict(campaign_id=cid, customer_id=cust, group=g, sent_at=s, brand="acme")
        for cid, cust, g, s in MEMBERS
    ] + [dict(campaign_id=9, customer_id=1, group=T, sent_at="2025-03-01", brand="other")]
    return {"campaigns": CAMPAIGNS, "campaign_members": members, "orders": orders}


@pytest.fixture()
def roi_db(tmp_path):
    return make_db(tmp_path / "roi.duckdb", _tables())


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


def _check_expected(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(OUTCOME_COLUMNS)
    assert sorted(zip(df.campaign_id, df.customer_id, strict=True)) == sorted(EXPECTED)
    assert set(df.campaign_id) == {1, 2}  # brand "other" is never loaded
    for _, row in df.iterrows():
        exp = EXPECTED[(row.campaign_id, row.customer_id)]
        got = (
            row.group,
            row.treated,
            row.contacted,
            row.segment,
            row.revenue,
            row.margin,
            row.orders,
            row.converted,
            row.pre_revenue,
            row.pre_margin,
            row.pre_orders,
        )
        assert got == pytest.approx(exp), (row.campaign_id, row.customer_id)
    assert (df.loc[df.campaign_id == 1, "channel"] == "email").all()
    assert (df.loc[df.campaign_id == 2, "channel"] == "sms").all()
    # never NULL: members without orders get zeros
    assert not df.isna().any().any()
    assert df["revenue"].dtype == "float64" and df["orders"].dtype == "int64"


def test_members_windows_and_segments_by_hand(tmp_path, roi_db):
    params = _params(tmp_path, roi_db)
    with connect(params) as db:
        _check_expected(load_campaign_outcomes(db, params))


def test_attribution_days_moves_the_outcome_window_end(tmp_path, roi_db):
    """attribution_days = 0: campaign 1's window is [03-01, 03-10): c1 keeps only the 03-01
    order (50 / 30), c2 its 03-05 order, c5 loses its 03-20 order."""
    params = _params(tmp_path, roi_db, roi={"attribution_days": 0})
    with connect(params) as db:
        df = load_campaign_outcomes(db, params, campaign_ids=[1]).set_index("customer_id")
    assert df.loc[1, ["revenue", "margin", "orders"]].tolist() == [50, 30, 1]
    assert df.loc[2, "revenue"] == 60
    assert df.loc[5, ["revenue", "converted"]].tolist() == [0, 0]


def test_pre_period_and_lapse_settings(tmp_path, roi_db):
    """pre_period_days = 30: campaign 1's pre-period is [2025-01-30, 2025-03-01).
    c1: only 01-15 before it and 11-20 is neither in it nor in [2024-12-31, 2025-01-30):
    c1 did not order in the pre-period -> inactive. c3's first order (02-01) is inside -> new.
    lapse_days = 600 makes c2 (549 days away) not reactivated; it did not order in
    [2024-09-02, 2024-12-01) -> returning (with the default 90-day pre-period)."""
    params = _params(tmp_path, roi_db, roi={"pre_period_days": 30})
    with connect(params) as db:
        df = load_campaign_outcomes(db, params, campaign_ids=[1]).set_index("customer_id")
    assert df.loc[1, "segment"] == "inactive"
    assert df.loc[1, ["pre_revenue", "pre_orders"]].tolist() == [0, 0]
    assert df.loc[3, "segment"] == "new"
    assert df.loc[2, ["pre_revenue", "pre_orders"]].tolist() == [5, 1]  # 02-28 23:59:59 only

    params = _params(tmp_path, roi_db, settings={"lapse_days": 600})
    with connect(params) as db:
        df = load_campaign_outcomes(db, params, campaign_ids=[1]).set_index("customer_id")
    assert df.loc[2, "segment"] == "returning"


def test_programme_window_is_the_trailing_twelve_months():
    assert programme_window(Period("month", date(2025, 6, 1))) == (
        datetime(2024, 7, 1),
        datetime(2025, 7, 1),
    )
    assert programme_window(Period("quarter", date(2025, 4, 1))) == (
        datetime(2024, 7, 1),
        datetime(2025, 7, 1),
    )
    assert programme_window(Period("year", date(2025, 1, 1))) == (
        datetime(2025, 1, 1),
        datetime(2026, 1, 1),
    )


def test_campaigns_of_a_period(tmp_path, roi_db):
    params = _params(tmp_path, roi_db)
    with connect(params) as db:
        # March 2025: window [2024-04-01, 2025-04-01) holds campaign 1 only
        march = load_campaign_outcomes(db, params, period=Period("month", date(2025, 3, 1)))
        june = load_campaigns(db, period=Period("month", date(2025, 6, 1)))
        explicit = load_campaigns(db, period=(datetime(2025, 5, 1), datetime(2025, 6, 1)))
        none = load_campaign_outcomes(db, params, campaign_ids=[])
    assert set(march.campaign_id) == {1}
    assert june["campaign_id"].tolist() == [1, 2]
    assert june.loc[0, "fixed_cost"] == 100.0 and june.loc[1, "name"] == "June SMS"
    assert isinstance(june.loc[0, "starts_at"], pd.Timestamp)
    assert explicit.empty
    assert none.empty and list(none.columns) == list(OUTCOME_COLUMNS)


def test_missing_table_is_named(tmp_path):
    path = make_db(tmp_path / "bare.duckdb", {"orders": [], "campaigns": []})
    params = _params(tmp_path, path)
    with connect(params) as db, pytest.raises(MissingTableError, match="campaign_members"):
        load_campaign_outcomes(db, params)
