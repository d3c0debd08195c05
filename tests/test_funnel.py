"""The campaign funnel on the marketing fixture (``test_kpis_marketing``), worked out by hand.

March 2025 campaigns (started in March): 1 (email, line a) and 2 (sms, no line).

========  =======  =======  ====  =========  ======  =======  =========  ======  =========  =====
campaign  members  control  sent  delivered  opened  clicked  purchased  unsub.  responded  rev.
========  =======  =======  ====  =========  ======  =======  =========  ======  =========  =====
1         6        1        4     3          3       2        2          1       1          100
2         3        1        2     2          0       0        2          0       1          85
total     9        2        6     5          3       2        4          1       2          185
========  =======  =======  ====  =========  ======  =======  =========  ======  =========  =====

Campaign 1: c1 c2 c3 c4 were sent (c6 never was, c5 is a control); delivered c1 c2 and c4
(whose click proves delivery and open; c3 bounced); opened c1 c2 c4; clicked c1 c4;
unsubscribed c2; purchased c1 (orders 2, 3) and c2 (order 7, attributed to campaign 6 by last
touch, but c2 did buy in 1's window); revenue order 2 = 100. Campaign 2: c1 c7 sent and
delivered; purchased c1 (order 3), c7 (order 4); revenue 55 + 30 = 85.
Rates of campaign 1: delivery 3/4, open 3/3, click-to-open 2/3, purchase 2/4, unsubscribe
1/3, response 1/4. Campaign 2: open rate 0/2 = 0 and click-to-open undefined (no opens): NaN.
February: campaign 3 only (print, 3 sent, all delivered, 1 opened, 2 purchased, revenue 25);
campaign 7 started in February but has no members, so it has no row.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import make_db, write_params
from test_kpis_marketing import MARCH, TABLES

from kpitools.data.sources import connect
from kpitools.errors import KpitoolsError, MissingTableError
from kpitools.kpis.compute import NotAvailable, compute_kpis, resolve_period, unless_missing
from kpitools.kpis.funnel import RATES, STEPS, Funnel, compute_funnel
from kpitools.params import load_params
from kpitools.report.tables import funnel_html

FUNNEL_KPIS = {
    "delivery_rate": "delivery_rate",
    "open_rate": "open_rate",
    "click_rate": "click_rate",
    "purchase_rate": "purchase_rate",
    "unsubscribe_rate": "unsubscribe_rate",
    "response_rate": "campaign_response_rate",
}


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    folder = tmp_path_factory.mktemp("funnel")
    db_path = make_db(folder / "funnel.duckdb", TABLES)
    params = load_params(write_params(folder / "acme.yaml", db_path))
    with connect(params) as db:
        yield db, params


@pytest.fixture(scope="module")
def march_by_campaign(duck):
    db, params = duck
    return compute_funnel(db, params, "2025-03")


def test_counts_per_campaign(march_by_campaign):
    f = march_by_campaign
    assert list(f.campaign_id) == [1, 2]
    assert list(f.channel) == ["email", "sms"]
    assert f.attrs == {"period": "2025-03", "by": "campaign"}
    counts = ["members", "control", "sent", "delivered", "opened", "clicked", "purchased"]
    counts += ["unsubscribed", "responded"]
    assert f.loc[0, counts].tolist() == [6, 1, 4, 3, 3, 2, 2, 1, 1]
    assert f.loc[1, counts].tolist() == [3, 1, 2, 2, 0, 0, 2, 0, 1]
    assert f.attributed_revenue.tolist() == pytest.approx([100, 85])
    assert f.attributed_orders.tolist() == [1, 2]
    assert f.loc[0, "name"] == "campaign 1"
    assert f.loc[0, "starts_at"] == pd.Timestamp("2025-03-01")


def test_rates_per_campaign(march_by_campaign):
    r = march_by_campaign.set_index("campaign_id")
    assert r.loc[1, list(RATES)].tolist() == pytest.approx([3 / 4, 1, 2 / 3, 2 / 4, 1 / 3, 1 / 4])
    assert r.loc[2, "open_rate"] == 0
    assert math.isnan(r.loc[2, "click_rate"])  # no opens: undefined, never inf
    assert r.loc[2, "purchase_rate"] == 1


def test_totals_equal_the_funnel_kpis(duck, march_by_campaign):
    db, params = duck
    sc = compute_kpis(
        db, params, "2025-03", kpis=list(FUNNEL_KPIS.values()) + ["attributed_campaign_revenue"]
    )
    # matured cohort KPIs (purchase, response) show March's campaigns in April's report
    april = compute_kpis(db, params, "2025-04", kpis=list(FUNNEL_KPIS.values()))
    total = Funnel(march_by_campaign, resolve_period(db, params, "2025-03"), "campaign").total()
    for rate, kid in FUNNEL_KPIS.items():
        card = april if sc[kid].kpi.matures else sc
        if card is april:
            assert april[kid].cohort.label == "2025-03"
        assert total[rate] == pytest.approx(card.value(kid)), rate
        assert card.value(kid) == pytest.approx(MARCH[kid])
    assert total["attributed_revenue"] == pytest.approx(sc.value("attributed_campaign_revenue"))
    assert total["campaigns"] == 2
    assert total["sent"] == 6


def test_by_channel(duck):
    db, params = duck
    f = compute_funnel(db, params, "2025-02", by="channel")
    assert f.channel.tolist() == ["print"]  # campaign 7 (e-mail) has no members
    row = f.iloc[0]
    assert (row.campaigns, row.sent, row.delivered, row.opened, row.purchased) == (1, 3, 3, 1, 2)
    assert row.attributed_revenue == pytest.approx(25)
    assert row.purchase_rate == pytest.approx(2 / 3)
    march = compute_funnel(db, params, "2025-03", by="channel")
    assert march.channel.tolist() == ["email", "sms"]
    assert march.sent.tolist() == [4, 2]


def test_funnel_object_steps_and_html(duck):
    db, params = duck
    fun = Funnel.compute(db, params, "2025-03")
    assert fun.period.label == "2025-03" and not fun.empty
    steps = fun.steps()
    one = steps[steps.group == "campaign 1"].set_index("step")
    assert list(one.index) == list(STEPS)
    assert one["count"].tolist() == [4, 3, 3, 2, 2]
    assert one["share_of_sent"].tolist() == pytest.approx([1, 3 / 4, 3 / 4, 2 / 4, 2 / 4])
    # each step over the previous one; purchases over the messages sent
    assert one["step_rate"].tolist() == pytest.approx([1, 3 / 4, 1, 2 / 3, 2 / 4])
    total = steps[steps.group == "total"].set_index("step")["count"]
    assert total.tolist() == [6, 5, 3, 2, 4]
    assert not hasattr(fun, "_repr_html_")  # the report renders it
    html = funnel_html(fun)
    assert "campaign 1" in html and "2025-03" in html
    assert fun.to_dict()["rows"][0]["name"] == "campaign 1"


def test_default_period_is_the_latest_complete_one(duck):
    """The last order is on 2025-04-09: April is incomplete, the funnel is March's."""
    db, params = duck
    assert compute_funnel(db, params).attrs["period"] == "2025-03"


def test_empty_period(duck):
    db, params = duck
    f = compute_funnel(db, params, "2025-01")
    assert f.empty
    assert {"campaign_id", "sent", "purchase_rate", "attributed_revenue"} <= set(f.columns)
    fun = Funnel.compute(db, params, "2025-01", by="channel")
    assert fun.empty and "no campaign" in funnel_html(fun)
    assert fun.steps().empty


def test_missing_table_and_bad_grouping(tmp_path, duck):
    db_path = make_db(
        tmp_path / "no_members.duckdb", {k: TABLES[k] for k in ("campaigns", "orders")}
    )
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    with connect(params) as db:
        with pytest.raises(MissingTableError, match="campaign_members"):
            compute_funnel(db, params, "2025-03")
        # the notebook's compute step: a result that says what is missing, never an error
        na = unless_missing(compute_funnel, db, params, "2025-03", by="channel")
        assert na == NotAvailable("campaign_members", needed_by="the campaign funnel")
        assert na.to_dict()["missing_tables"] == ["campaign_members"]
    db, params = duck
    with pytest.raises(KpitoolsError, match="choose one of campaign, channel"):
        compute_funnel(db, params, "2025-03", by="segment")
