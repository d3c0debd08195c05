"""Response curves of :mod:`kpitools.kpis.curves` on hand-built leads (expected values worked
out below), on the demo data against the planted truth (the same fixture on PostgreSQL: tests/test_postgres.py).

Touch response (report period March 2025)
-----------------------------------------
======  =========  =====================================================================
lead    created    outbound touches (responded)
======  =========  =====================================================================
L1      03-01      03-01 call (no), 03-02 e-mail (no), 03-03 call (yes); an inbound call
L2      03-05      03-05 SMS (yes)
L3      03-10      03-10 .. 03-14, five calls, none answered (the 2nd: responded NULL)
L4      02-10      02-10 call (yes)
L5      03-20      04-02 call (after March: not counted)
L6      03-25      two calls at 03-25 10:00: #49 (no) then #50 (yes), by activity id
======  =========  =====================================================================

March only (``periods=1``): touch 1 reached L1 L2 L3 L6, answered by L2: 1 / 4; touch 2 L1 L3
L6, answered by L6: 1 / 3; touch 3 L1 L3, answered by L1: 1 / 2; touches 4 and 5 L3: 0 / 1.
Cumulative share of responses 1/3, 2/3, 1, 1, 1. February and March (``periods=2``) add L4 to
touch 1: 2 / 5.

Conversion by delay to first contact (March, conversion window 90 days)
-----------------------------------------------------------------------
R1 3 min converted · R2 5 min · R3 15 min converted after 100 days (too late) · R4 20 min
converted · R5 25 min converted · R6 2 days · R7 never contacted, converted · R8 answered before
its creation (not contacted) · R9 is February's.

Classes (upper bound inclusive): ≤ 5 min R1 R2 (1/2), 10-20 min R3 R4 (1/2), 20-30 min R5 (1),
> 1 d R6 (0), not contacted R7 R8 (1/2). Within 20 minutes R1 R2 R3 R4: 2 / 4; after R5 R6:
1 / 2. With a 15-minute target: within R1 R2 R3: 1 / 3.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data import demo
from kpitools.data.sources import connect
from kpitools.errors import KpitoolsError, MissingTableError
from kpitools.kpis.curves import (
    DEFAULT_DELAY_BOUNDS,
    TouchResponse,
    compute_response_time_conversion,
    compute_touch_response,
)
from kpitools.params import load_params
from kpitools.periods import parse_period

TOUCH_LEADS = [
    dict(lead_id=1, created_at="2025-03-01 09:00"),
    dict(lead_id=2, created_at="2025-03-05 09:00"),
    dict(lead_id=3, created_at="2025-03-10 09:00"),
    dict(lead_id=4, created_at="2025-02-10 09:00"),
    dict(lead_id=5, created_at="2025-03-20 09:00"),
    dict(lead_id=6, created_at="2025-03-25 09:00"),
    dict(lead_id=9, created_at="2025-03-25 09:00", brand="other"),
]


def _touch(i, lead, at, responded=False, type_="call", direction="outbound", **kw):
    return dict(
        activity_id=i,
        lead_id=lead,
        occurred_at=at,
        type=type_,
        direction=direction,
        responded=responded,
        **kw,
    )


TOUCHES = [
    _touch(1, 1, "2025-03-01 10:00"),
    _touch(2, 1, "2025-03-02 10:00", type_="email"),
    _touch(3, 1, "2025-03-03 10:00", True),
    _touch(4, 1, "2025-03-02 12:00", None, direction="inbound"),
    _touch(5, 2, "2025-03-05 10:00", True, type_="sms"),
    _touch(10, 3, "2025-03-10 10:00"),
    _touch(11, 3, "2025-03-11 10:00", None),
    _touch(12, 3, "2025-03-12 10:00"),
    _touch(13, 3, "2025-03-13 10:00"),
    _touch(14, 3, "2025-03-14 10:00"),
    _touch(20, 4, "2025-02-10 10:00", True),
    _touch(30, 5, "2025-04-02 10:00", True),
    _touch(50, 6, "2025-03-25 10:00", True),
    _touch(49, 6, "2025-03-25 10:00"),
    _touch(90, 9, "2025-03-25 10:00", True, brand="other"),
]


def _rlead(i, created, minutes=None, converted_days=None, **kw):
    t0 = pd.Timestamp(created)
    return dict(
        lead_id=i,
        created_at=created,
        first_response_at=None if minutes is None else str(t0 + pd.Timedelta(minutes=minutes)),
        converted_at=None
        if converted_days is None
        else str(t0 + pd.Timedelta(days=converted_days)),
        **kw,
    )


RESPONSE_LEADS = [
    _rlead(1, "2025-03-01 09:00", 3, 10),
    _rlead(2, "2025-03-02 09:00", 5),
    _rlead(3, "2025-03-03 09:00", 15, 100),
    _rlead(4, "2025-03-04 09:00", 20, 1),
    _rlead(5, "2025-03-05 09:00", 25, 5),
    _rlead(6, "2025-03-06 09:00", 2 * 1440),
    _rlead(7, "2025-03-07 09:00", None, 3),
    _rlead(8, "2025-03-08 09:00", -30),
    _rlead(9, "2025-02-08 09:00", 1, 1),
]


def _params(tmp_path, path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", path, **overrides))


@pytest.fixture()
def touch_db(tmp_path):
    return make_db(tmp_path / "touch.duckdb", {"leads": TOUCH_LEADS, "activities": TOUCHES})


@pytest.fixture()
def response_db(tmp_path):
    return make_db(tmp_path / "response.duckdb", {"leads": RESPONSE_LEADS})


def _touch_response(tmp_path, path, **kw):
    params = _params(tmp_path, path)
    with connect(params) as db:
        return compute_touch_response(db, params, "2025-03", **kw)


def test_touch_response_matches_the_hand_computation(tmp_path, touch_db):
    tr = _touch_response(tmp_path, touch_db, periods=1)
    f = tr.frame
    assert f["touch_number"].tolist() == [1, 2, 3, 4, 5]
    assert f["leads_touched"].tolist() == [4, 3, 2, 1, 1]
    assert f["responses"].tolist() == [1, 1, 1, 0, 0]
    assert f["response_rate"].tolist() == pytest.approx([1 / 4, 1 / 3, 1 / 2, 0, 0])
    assert f["share_of_responses"].tolist() == pytest.approx([1 / 3, 2 / 3, 1, 1, 1])
    assert (tr.first.label, tr.last.label, tr.brand) == ("2025-03", "2025-03", "acme")


def test_touch_response_window_and_cut(tmp_path, touch_db):
    tr = _touch_response(tmp_path, touch_db, periods=2, max_touch=4)
    assert tr.first.label == "2025-02"
    assert tr.frame["touch_number"].tolist() == [1, 2, 3, 4]
    assert tr.frame.loc[0, ["leads_touched", "responses"]].tolist() == [5, 2]


def test_touch_response_needs_activities(tmp_path):
    path = make_db(tmp_path / "leads_only.duckdb", {"leads": TOUCH_LEADS})
    with pytest.raises(MissingTableError, match="activities"):
        _touch_response(tmp_path, path)
    with pytest.raises(KpitoolsError, match="at least 1"):
        _touch_response(tmp_path, make_db(tmp_path / "t.duckdb", {"leads": []}), periods=0)


def _curve(rates, leads):
    frame = pd.DataFrame(
        {
            "touch_number": range(1, len(rates) + 1),
            "leads_touched": leads,
            "response_rate": rates,
        }
    )
    p = parse_period("2025-03")
    return TouchResponse("acme", p, p, frame, 10)


@pytest.mark.parametrize(
    "rates, leads, expected",
    [
        ([0.30, 0.22, 0.16, 0.12, 0.02, 0.01], [900, 600, 400, 300, 200, 100], 4),
        ([0.01, 0.5], [100, 100], 0),  # not even the first touch is answered
        ([0.3, 0.2], [100, 100], 2),  # still answered at the last touch observed
        ([0.3, 0.2, 0.01], [100, 100, 10], 2),  # the 3rd touch has too few leads to decide
        ([0.3], [5], None),
    ],
)
def test_last_useful_touch(rates, leads, expected):
    assert _curve(rates, leads).last_useful_touch(min_rate=0.05, min_leads=30) == expected


def _response(tmp_path, path, **overrides):
    params = _params(tmp_path, path, **overrides)
    with connect(params) as db:
        return compute_response_time_conversion(db, params, "2025-03", periods=1)


def test_conversion_by_response_delay_matches_the_hand_computation(tmp_path, response_db):
    rc = _response(tmp_path, response_db)
    f = rc.frame.set_index("delay")
    assert list(f.index) == [
        "≤ 5 min",
        "5 min – 10 min",
        "10 min – 20 min",
        "20 min – 30 min",
        "30 min – 1 h",
        "1 h – 2 h",
        "2 h – 4 h",
        "4 h – 1 d",
        "> 1 d",
        "not contacted",
    ]
    assert f["leads"].tolist() == [2, 0, 2, 1, 0, 0, 0, 0, 1, 2]
    assert f["converted_leads"].tolist() == [1, 0, 1, 1, 0, 0, 0, 0, 0, 1]
    assert f.loc["≤ 5 min", "conversion_rate"] == 0.5
    assert math.isnan(f.loc["5 min – 10 min", "conversion_rate"])
    assert f["share_of_leads"].sum() == pytest.approx(1.0)
    assert math.isinf(f.loc["> 1 d", "upper_minutes"])
    assert rc.conversion_within(20) == pytest.approx(0.5)
    assert rc.conversion_after(20) == pytest.approx(0.5)
    assert rc.conversion_within(5) == pytest.approx(0.5)
    with pytest.raises(KpitoolsError, match="not a bound"):
        rc.conversion_within(17)


def test_the_brands_target_is_always_a_bound(tmp_path, response_db):
    rc = _response(tmp_path, response_db, settings={"lead_response_target_minutes": 15})
    assert 15 in rc.frame["upper_minutes"].tolist()
    assert len(rc.frame) == len(DEFAULT_DELAY_BOUNDS) + 3  # + 15, + "> 1 d", + not contacted
    assert rc.conversion_within(15) == pytest.approx(1 / 3)
    assert rc.conversion_after(15) == pytest.approx(2 / 3)


# -- the demo data: the planted truth ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(demo_database):
    return demo_database  # the session's shared default demo (conftest.py)


@pytest.mark.slow
@pytest.mark.parametrize("brand", [b.id for b in demo.DEMO_BRANDS])
def test_demo_touch_responses_stop_after_the_fourth_touch(tmp_path, demo_db, brand):
    """Touches stop at the first response, so the k-th touch is answered with the planted
    ``TOUCH_RESPONSE[k - 1]``; seed 002: "customers stop answering after four attempts"."""
    params = load_params(write_params(tmp_path / "d.yaml", demo_db, brand=brand))
    with connect(params) as db:
        tr = compute_touch_response(db, params, "2025-06", periods=12)
    rates = tr.frame.set_index("touch_number")["response_rate"]
    n = tr.frame.set_index("touch_number")["leads_touched"]
    for k in (1, 2, 3, 4):
        p = demo.TOUCH_RESPONSE[k - 1]
        assert rates[k] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n[k]))
    assert tr.last_useful_touch() == 4


@pytest.mark.slow
@pytest.mark.parametrize("brand", [b.id for b in demo.DEMO_BRANDS])
def test_demo_conversion_drops_after_twenty_minutes(tmp_path, demo_db, brand):
    """A lead answered within 20 minutes converts with the planted fast probability, a later
    one with the slow probability (both times the chance that the lead answers a touch)."""
    params = load_params(write_params(tmp_path / "d.yaml", demo_db, brand=brand))
    with connect(params) as db:
        rc = compute_response_time_conversion(db, params, "2025-06", periods=12)
    con = duckdb.connect(str(demo_db), read_only=True)
    fast, slow = con.execute(
        "SELECT lead_conversion_probability_fast, lead_conversion_probability_slow "
        "FROM demo_truth_brands WHERE brand = ?",
        [brand],
    ).fetchone()
    con.close()
    f = rc.frame
    n_fast = f.loc[f["upper_minutes"] <= 20, "leads"].sum()
    n_slow = f.loc[f["lower_minutes"] >= 20, "leads"].sum()
    assert rc.conversion_within(20) == pytest.approx(
        fast, abs=4 * math.sqrt(fast * (1 - fast) / n_fast)
    )
    assert rc.conversion_after(20) == pytest.approx(
        slow, abs=4 * math.sqrt(slow * (1 - slow) / n_slow)
    )
    assert f.loc[f["delay"] == "not contacted", "conversion_rate"].item() == 0
