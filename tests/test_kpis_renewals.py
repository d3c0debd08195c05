"""renewal_rate over renewals DUE, on a hand-built fixture; then on the demo against SQL.

A renewal is an opportunity with a ``renewal_due_at`` (the end of the contract it renews) whose
``is_renewal`` is not false. It is *renewed* when won with ``closed_at`` before due date +
``settings.renewal_grace_days`` (default 30) and before the end of the report's period. The
rate is over every renewal due in the period: lost, won late, overdue and still open ones
count. A matured cohort: with 30 days of grace, a June 2025 report (ends 1 July) shows May
(1 June + 30 days = 1 July).

===  ===========  ==========  ===========  ======  ===============================
opp  is_renewal   due         closed       status  counts as
===  ===========  ==========  ===========  ======  ===============================
r1   yes          2025-05-10  2025-05-01   won     renewed (early)
r2   yes          2025-05-15  2025-06-10   won     renewed (26 days after, in grace)
r3   yes          2025-05-20  2025-06-25   won     not renewed (36 days: late)
r4   yes          2025-05-25  2025-05-20   lost    not renewed
r5   yes          2025-05-28  –            open    not renewed (overdue, still open)
r6   yes          2025-05-31  2025-06-29   won     renewed (29 days after)
r7   yes          2025-06-10  2025-06-20   won     June: renewed
r8   yes          2025-06-20  2025-07-05   won     June: not known at the end of June
r9   yes          2025-04-10  2025-04-05   won     April: renewed
r10  yes          2025-04-20  2025-04-25   lost    April: not renewed
r11  yes          2025-04-28  2025-05-10   won     April: renewed
r12  yes          2024-05-15  2024-05-01   won     May 2024: renewed
r13  NULL         2024-05-20  –            open    May 2024: a renewal (has a due date)
o14  no           2025-05-12  2025-05-12   won     not a renewal
r15  yes          –           2025-05-03   won     no due date: cannot be placed
r16  yes          2025-05-12  2025-05-12   won     brand "other"
===  ===========  ==========  ===========  ======  ===============================

May 2025: renewed r1 r2 r6 of r1-r6 = **3 / 6 = 0.5**; April 2 / 3; May 2024 1 / 2; June
(provisional) r7 of r7 r8 = 1 / 2. The old definition (renewals won / renewals won or lost
with closed_at in the period) read May 2025 as r1 r11 r15 won, r4 lost: 3 / 4.
"""

from __future__ import annotations

import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_breakdown, compute_kpis
from kpitools.params import load_params
from kpitools.report.kpis_json import scorecard_document
from kpitools.report.tables import scorecard_html


def _opp(i, due, closed, status, renewal=True, **kw):
    return dict(
        opportunity_id=i,
        customer_id=i,
        owner_id=1,
        created_at="2024-01-01",
        closed_at=closed,
        status=status,
        amount=100.0,
        is_renewal=renewal,
        renewal_due_at=due,
        product_line="a",
        **kw,
    )


OPPORTUNITIES = [
    _opp(1, "2025-05-10", "2025-05-01", "won"),
    _opp(2, "2025-05-15", "2025-06-10", "won"),
    _opp(3, "2025-05-20", "2025-06-25", "won"),
    _opp(4, "2025-05-25", "2025-05-20", "lost"),
    _opp(5, "2025-05-28", None, "open"),
    _opp(6, "2025-05-31", "2025-06-29", "won"),
    _opp(7, "2025-06-10", "2025-06-20", "won"),
    _opp(8, "2025-06-20", "2025-07-05", "won"),
    _opp(9, "2025-04-10", "2025-04-05", "won"),
    _opp(10, "2025-04-20", "2025-04-25", "lost"),
    _opp(11, "2025-04-28", "2025-05-10", "won"),
    _opp(12, "2024-05-15", "2024-05-01", "won"),
    _opp(13, "2024-05-20", None, "open", renewal=None),
    _opp(14, "2025-05-12", "2025-05-12", "won", renewal=False),
    _opp(15, None, "2025-05-03", "won"),
    _opp(16, "2025-05-12", "2025-05-12", "won", brand="other"),
]


@pytest.fixture()
def renewals_db(tmp_path):
    return make_db(tmp_path / "renewals.duckdb", {"opportunities": OPPORTUNITIES})


def _renewal_rate(tmp_path, db_path, period="2025-06", **overrides):
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))
    with connect(params) as db:
        return compute_kpis(db, params, period, kpis=["renewal_rate"])["renewal_rate"]


def test_renewal_rate_is_over_renewals_due_in_the_latest_final_cohort(tmp_path, renewals_db):
    r = _renewal_rate(tmp_path, renewals_db)
    assert r.status == "ok"
    assert r.kpi.measure == "renewals"
    assert (r.cohort.label, r.window_days) == ("2025-05", 30)
    assert r.value == pytest.approx(3 / 6)
    assert r.previous == pytest.approx(2 / 3)
    assert r.year_ago == pytest.approx(1 / 2)
    assert r.provisional == pytest.approx(1 / 2)  # r8's win on 5 July is not known yet
    assert [p.label for p, _ in r.trend][-1] == "2025-05"


def test_the_grace_window_is_a_setting(tmp_path, renewals_db):
    """No grace: June is final in June's report; r7 was won 10 days after its due date."""
    r = _renewal_rate(tmp_path, renewals_db, settings={"renewal_grace_days": 0})
    assert r.cohort.label == "2025-06"
    assert r.value == 0
    assert r.provisional is None  # the report's own period is final
    # May without grace: r1 only (r2 and r6 were won after their due date)
    assert r.previous == pytest.approx(1 / 6)


def test_later_wins_do_not_change_an_old_report(tmp_path, renewals_db):
    before = _renewal_rate(tmp_path, renewals_db)
    later = [dict(o) for o in OPPORTUNITIES]
    for o in later:
        if o["opportunity_id"] == 5:  # the overdue renewal is won in July
            o.update(status="won", closed_at="2025-07-02")
    db = make_db(tmp_path / "later.duckdb", {"opportunities": later})
    assert _renewal_rate(tmp_path, db).to_dict() == before.to_dict()
    # r5 was due on 28 May: won on 2 July is after its grace (27 June), so May stays 3 / 6
    assert _renewal_rate(tmp_path, db, "2025-07").previous == pytest.approx(3 / 6)


def test_no_due_date_in_the_source_is_no_data_with_its_reason_never_a_fallback(tmp_path):
    opps = [{k: v for k, v in o.items() if k != "renewal_due_at"} for o in OPPORTUNITIES]
    db = make_db(tmp_path / "no_due.duckdb", {"opportunities": opps})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    with connect(params) as con:
        sc = compute_kpis(con, params, "2025-06", kpis=["renewal_rate", "close_rate"])
    r = sc["renewal_rate"]
    assert (r.status, r.value, r.reason) == ("not_available", None, "needs_column")
    assert r.missing_columns == ("opportunities.renewal_due_at",)
    assert sc["close_rate"].status == "ok"  # the other opportunity KPIs are unaffected
    doc = scorecard_document(sc)
    assert doc["kpis"]["renewal_rate"]["reason"] == "needs column opportunities.renewal_due_at"
    assert "not available (needs opportunities.renewal_due_at)" in str(scorecard_html(sc))
    with connect(params) as con:
        b = compute_breakdown(con, params, "product_line", "2025-06", kpis=["renewal_rate"])
    assert b.unsupported["renewal_rate"].reason == "needs_column"


@pytest.mark.slow
@pytest.mark.parametrize("brand", ["aurora", "bellevue", "castello"])
def test_demo_renewal_rate_matches_sql(tmp_path, demo_database, brand):
    import duckdb

    r = _renewal_rate(tmp_path, demo_database, None, brand=brand)
    c = r.cohort
    report_end = _report_end(tmp_path, demo_database, brand)
    con = duckdb.connect(str(demo_database), read_only=True)
    due, renewed = con.execute(
        """
        select count(*), count(*) filter (
            where status = 'won' and closed_at < renewal_due_at + interval 30 day
              and closed_at < ?)
        from opportunities
        where brand = ? and is_renewal and renewal_due_at >= ? and renewal_due_at < ?
        """,
        [report_end, brand, c.start, c.end],
    ).fetchone()
    assert due > 0
    assert r.value == pytest.approx(renewed / due)


def _report_end(tmp_path, db_path, brand):
    params = load_params(write_params(tmp_path / "p.yaml", db_path, brand=brand))
    with connect(params) as db:
        sc = compute_kpis(db, params, None, kpis=["revenue"])
    return sc.period.end
