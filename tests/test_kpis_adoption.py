"""CRM adoption KPIs on a tiny hand-built fixture (expected values worked out by hand below),
on the demo data against the planted truth (the same fixture on PostgreSQL: tests/test_postgres.py).

Brand ``acme``, monthly, report period March 2025; rows of brand ``other`` never count.

CRM users and logins
--------------------
=====  ==========  ===========  ===========  ===============================================
user   role        created      deactivated  logins
=====  ==========  ===========  ===========  ===============================================
u1     sales       2024-01-01   –            03-01, 03-02, 03-20
u2     sales       2025-03-15   –            03-16
u3     service     2024-06-01   2025-03-10   02-10
u4     service     –            –            02-28 23:59, 04-01 00:00
u5     marketing   2024-01-01   2025-02-20   02-15, 03-05 (after deactivation)
u6     sales       2025-04-02   –            –
u7     sales       (brand other)             03-08
=====  ==========  ===========  ===========  ===============================================

A login by user 99, who is not in ``crm_users``, on 03-07 is ignored. u4's creation date is
unknown: its account counts from its first login (02-28 23:59).

- March: users with an account during the month u1 u2 (created mid-March) u3 (deactivated
  mid-March) u4 (no dates) = 4; logged in u1 u2: **2 / 4 = 0.5**; logins 3 + 1 = **4 / 4 = 1**
  (u5's login after deactivation does not count).
- February: u1 u3 u4 u5 = 4; logged in u3 u4 u5: 0.75; logins 3: 0.75.
- April: u1 u2 u4 u6 = 4; logged in u4 (04-01 00:00): 0.25.

Customer records
----------------
March: k1 complete (line a); k2 no phone; k3 blank e-mail; k4 complete (line b); k5 no
acquisition channel: **2 / 5 = 0.4**. February: k6 complete, k7 no region: 1 / 2. Line a in
March: k1 of k1 k2 k3 k5: 1 / 4.
"""

from __future__ import annotations

import pytest
from helpers import make_db, write_params

from kpitools.data import demo
from kpitools.data.sources import connect
from kpitools.kpis.compute import Reason, Unsupported, compute_breakdown, compute_kpis
from kpitools.kpis.registry import get_kpi
from kpitools.params import load_params
from kpitools.report.i18n import kpi_name

ADOPTION_KPIS = ["active_crm_users_rate", "logins_per_user", "data_completeness_rate"]

USERS = [
    dict(user_id=1, role="sales", created_at="2024-01-01"),
    dict(user_id=2, role="sales", created_at="2025-03-15"),
    dict(user_id=3, role="service", created_at="2024-06-01", deactivated_at="2025-03-10"),
    dict(user_id=4, role="service"),
    dict(user_id=5, role="marketing", created_at="2024-01-01", deactivated_at="2025-02-20"),
    dict(user_id=6, role="sales", created_at="2025-04-02"),
    dict(user_id=7, role="sales", created_at="2024-01-01", brand="other"),
]

_LOGINS = [
    (1, "2025-03-01 08:00"),
    (1, "2025-03-02 08:00"),
    (1, "2025-03-20 08:00"),
    (2, "2025-03-16 08:00"),
    (3, "2025-02-10 08:00"),
    (4, "2025-02-28 23:59"),
    (4, "2025-04-01 00:00"),
    (5, "2025-02-15 08:00"),
    (5, "2025-03-05 08:00"),
    (99, "2025-03-07 08:00"),
]
LOGINS = [dict(login_id=i + 1, user_id=u, logged_in_at=t) for i, (u, t) in enumerate(_LOGINS)]
LOGINS.append(dict(login_id=100, user_id=7, logged_in_at="2025-03-08 08:00", brand="other"))


def _customer(i, created, line="a", **fields):
    full = dict(
        email=f"k{i}@example.com", phone="+3900000000", region="north", acquisition_channel="web"
    )
    full.update(fields)
    return dict(customer_id=i, product_line=line, created_at=created, **full)


CUSTOMERS = [
    _customer(1, "2025-03-01"),
    _customer(2, "2025-03-05", phone=None),
    _customer(3, "2025-03-09", email="  "),
    _customer(4, "2025-03-20", line="b"),
    _customer(5, "2025-03-31 23:59", acquisition_channel=None),
    _customer(6, "2025-02-03"),
    _customer(7, "2025-02-04", region=None),
    _customer(8, "2025-03-10", email=None, brand="other"),
]

TABLES = {"crm_users": USERS, "crm_logins": LOGINS, "customers": CUSTOMERS}


@pytest.fixture()
def crm_db(tmp_path):
    return make_db(tmp_path / "crm.duckdb", TABLES)


def _scorecard(tmp_path, db_path, report_period="2025-03", kpis=ADOPTION_KPIS, **overrides):
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))
    with connect(params) as db:
        return compute_kpis(db, params, report_period, kpis=kpis)


def test_march_values_match_the_hand_computation(tmp_path, crm_db):
    sc = _scorecard(tmp_path, crm_db)
    assert sc.value("active_crm_users_rate") == pytest.approx(0.5)
    assert sc.value("logins_per_user") == pytest.approx(1.0)
    assert sc.value("data_completeness_rate") == pytest.approx(0.4)
    assert sc["active_crm_users_rate"].previous == pytest.approx(0.75)
    assert sc["logins_per_user"].previous == pytest.approx(0.75)
    assert sc["data_completeness_rate"].previous == pytest.approx(0.5)
    assert sc.queries == 2


def test_users_are_counted_while_their_account_exists(tmp_path, crm_db):
    sc = _scorecard(tmp_path, crm_db, "2025-04")
    assert sc.value("active_crm_users_rate") == pytest.approx(0.25)
    assert sc.value("logins_per_user") == pytest.approx(0.25)
    assert sc["data_completeness_rate"].status == "no_data"  # no record created in April
    trend = {p.label: v for p, v in sc["active_crm_users_rate"].trend}
    # January 2025: u1 u3 u5 have an account (u4 not yet), none logged in: 0, not "no data"
    assert trend["2025-01"] == 0.0


def test_quarter(tmp_path, crm_db):
    """Q1 2025: u1 u2 u3 u4 u5 had an account and all logged in: 5 / 5; logins u1 3, u2 1,
    u3 1, u4 1, u5 2 = 8 / 5; records k1 k4 k6 complete of k1..k7: 3 / 7."""
    sc = _scorecard(tmp_path, crm_db, "2025-Q1", period={"grain": "quarter"})
    assert sc.value("active_crm_users_rate") == pytest.approx(1.0)
    assert sc.value("logins_per_user") == pytest.approx(8 / 5)
    assert sc.value("data_completeness_rate") == pytest.approx(3 / 7)


def test_a_key_field_the_source_never_fills_is_not_required(tmp_path):
    """Without any phone number (the column is absent: NULL everywhere) the March records are
    complete when e-mail, region and channel are: k1 k2 k4 = 3 / 5."""
    rows = [{**c, "phone": None} for c in CUSTOMERS]
    path = make_db(tmp_path / "no_phone.duckdb", {"customers": rows})
    sc = _scorecard(tmp_path, path, kpis=["data_completeness_rate"])
    assert sc.value("data_completeness_rate") == pytest.approx(0.6)

    keys = ("email", "phone", "region", "acquisition_channel")
    bare = [{k: v for k, v in c.items() if k not in keys} for c in CUSTOMERS]
    path = make_db(tmp_path / "bare.duckdb", {"customers": bare})
    sc = _scorecard(tmp_path, path, kpis=["data_completeness_rate"])
    assert sc["data_completeness_rate"].status == "no_data"


def test_product_lines_filter_records_but_not_crm_users(tmp_path, crm_db):
    sc = _scorecard(tmp_path, crm_db, product_lines=["a"])
    assert sc.value("data_completeness_rate") == pytest.approx(0.25)
    assert sc.value("active_crm_users_rate") == pytest.approx(0.5)

    params = load_params(write_params(tmp_path / "acme.yaml", crm_db))
    with connect(params) as db:
        b = compute_breakdown(db, params, "product_line", "2025-03", kpis=ADOPTION_KPIS)
    assert b.pivot()["data_completeness_rate"].to_dict() == pytest.approx({"a": 0.25, "b": 1.0})
    assert b.unsupported == {
        "active_crm_users_rate": Unsupported(Reason.NO_BREAKDOWN),
        "logins_per_user": Unsupported(Reason.NO_BREAKDOWN),
    }


def test_missing_tables(tmp_path):
    path = make_db(tmp_path / "users_only.duckdb", {"crm_users": USERS})
    sc = _scorecard(tmp_path, path)
    assert (sc["active_crm_users_rate"].reason, sc["active_crm_users_rate"].missing_tables) == (
        "needs_table",
        ("crm_logins",),
    )
    assert sc["logins_per_user"].status == "not_available"
    assert (sc["data_completeness_rate"].reason, sc["data_completeness_rate"].missing_tables) == (
        "needs_table",
        ("customers",),
    )


def test_empty_period_is_no_data(tmp_path, crm_db):
    """Before any account existed (u4, without a creation date, counts from its first login)."""
    sc = _scorecard(tmp_path, crm_db, "2023-06")
    assert [r.status for r in sc] == ["no_data"] * 3


def test_users_without_any_date_count_from_the_brands_first_login(tmp_path):
    """A source without ``created_at``: u1 logs in first, in January; u2 never logs in. From
    January both count (1 / 2 active in January, 0 / 2 in February); December is no data."""
    users = [dict(user_id=1), dict(user_id=2)]
    logins = [dict(login_id=1, user_id=1, logged_in_at="2025-01-10")]
    path = make_db(tmp_path / "nodates.duckdb", {"crm_users": users, "crm_logins": logins})
    sc = _scorecard(tmp_path, path, "2025-02", kpis=["active_crm_users_rate"])
    assert sc.value("active_crm_users_rate") == 0.0
    assert sc["active_crm_users_rate"].previous == pytest.approx(0.5)
    trend = {p.label: v for p, v in sc["active_crm_users_rate"].trend}
    assert trend["2024-12"] is None


def test_declarations():
    for k in ADOPTION_KPIS:
        kpi = get_kpi(k)
        assert kpi.department == "adoption"
        assert kpi.definition
        assert all(kpi_name(kpi.id, loc) for loc in ("en", "fr", "it"))
    assert get_kpi("active_crm_users_rate").tables == ("crm_users", "crm_logins")


# -- the demo data: the planted truth ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(demo_database):
    return demo_database  # the session's shared default demo (conftest.py)


@pytest.mark.slow
@pytest.mark.parametrize("brand", [b.id for b in demo.DEMO_BRANDS])
def test_demo_recovers_planted_adoption_truth(tmp_path, demo_db, brand):
    """An account logs in during a month with ``crm_monthly_login_probability`` p, then
    1 + Poisson(5) times: logins per user 6 p. About 98 % x 97 % x 90 % x 70 % = 59.9 % of
    customer records have a channel, a region, an e-mail and a phone."""
    p = next(b.crm_monthly_login_probability for b in demo.DEMO_BRANDS if b.id == brand)
    params = load_params(write_params(tmp_path / f"{brand}.yaml", demo_db, brand=brand))
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-12", kpis=ADOPTION_KPIS)
    months = [v for _, v in sc["active_crm_users_rate"].trend]
    assert sum(months) / len(months) == pytest.approx(p, abs=0.05)
    logins = [v for _, v in sc["logins_per_user"].trend]
    assert sum(logins) / len(logins) == pytest.approx(6 * p, rel=0.1)
    records = [v for _, v in sc["data_completeness_rate"].trend]
    assert sum(records) / len(records) == pytest.approx(0.98 * 0.97 * 0.90 * 0.70, abs=0.04)
