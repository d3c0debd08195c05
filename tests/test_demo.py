"""Tests of the demo data generator (:mod:`kpitools.data.demo`).

The small database (2 000 customers) checks the table contract, determinism and the atomic
write; the larger one (20 000 customers, still about two seconds) checks that the planted
quantities are recoverable from the data: monthly churn, NPS, touch response decay and each
campaign's incremental revenue against its control group.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from kpitools.data import demo
from kpitools.data.demo import DEMO_BRANDS, generate_demo
from kpitools.schema import CHANNELS, TABLES

START = "2024-01-01"
END = "2026-01-01"  # exclusive end of the default 24-month span

# DuckDB types each schema kind may have in the demo database
_TYPES = {
    "id": {"BIGINT"},
    "int": {"INTEGER", "BIGINT"},
    "float": {"DOUBLE"},
    "string": {"VARCHAR"},
    "timestamp": {"TIMESTAMP"},
    "boolean": {"BOOLEAN"},
}
TRUTH_TABLES = {
    "demo_truth_brands": {
        "brand",
        "monthly_churn_hazard",
        "monthly_active_probability",
        "expected_monthly_churn_rate",
        "nps_promoter_share",
        "nps_passive_share",
        "nps_detractor_share",
        "expected_nps",
    },
    "demo_truth_campaigns": {
        "brand",
        "campaign_id",
        "true_incremental_revenue_per_treated",
        "true_incremental_margin_per_treated",
        "n_control",
        "n_control_assigned",
        "broken_split",
    },
    "demo_truth_campaign_segments": {
        "campaign_id",
        "segment",
        "true_incremental_revenue_per_treated",
        "true_incremental_margin_per_treated",
    },
    "demo_truth_campaign_members": {
        "campaign_id",
        "customer_id",
        "expected_incremental_revenue",
    },
    "demo_truth_product_lines": {"brand", "product_line", "margin_rate"},
    "demo_truth_touch_response": {"touch_number", "response_probability"},
    "demo_truth_customer_lives": {"customer_id", "brand", "life", "start_month", "lost_at"},
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "small.duckdb"
    summary = generate_demo(path, customers=2000, seed=11)
    return path, summary


@pytest.fixture(scope="module")
def con(small):
    c = duckdb.connect(str(small[0]), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def big(demo_database):
    c = duckdb.connect(str(demo_database), read_only=True)  # the shared default demo
    yield c
    c.close()


def _one(con, sql):
    return con.execute(sql).fetchone()[0]


def _fingerprint(con, table: str) -> tuple:
    """Row count and an order-sensitive hash of every row of ``table``."""
    return con.execute(f'SELECT count(*), sum(hash(t, rowid)) FROM "{table}" t').fetchone()


# ---------------------------------------------------------------------------------------------
# The table contract
# ---------------------------------------------------------------------------------------------


def test_every_schema_table_has_exactly_the_schema_columns_and_types(con):
    for name, spec in TABLES.items():
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        assert [r[0] for r in rows] == list(spec.column_names), name
        for (col, dtype), column in zip(rows, spec.columns, strict=True):
            assert dtype in _TYPES[column.kind], f"{name}.{col}: {dtype} for {column.kind}"
        assert _one(con, f'SELECT count(*) FROM "{name}"') > 0, name


def test_truth_tables_exist_with_their_columns(con):
    for name, needed in TRUTH_TABLES.items():
        cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]
            ).fetchall()
        }
        assert needed <= cols, (name, needed - cols)
        assert _one(con, f"SELECT count(*) FROM {name}") > 0


def test_summary_counts_match_the_tables(small, con):
    path, summary = small
    assert summary["customers"] == 2000 and summary["seconds"] > 0
    assert summary["start"] == START and summary["end"] == END
    for name in TABLES:
        assert summary["rows"][name] == _one(con, f'SELECT count(*) FROM "{name}"'), name
    assert set(TRUTH_TABLES) <= set(summary["rows"])
    assert not path.with_name(path.name + ".tmp").exists()


def test_values_respect_isin_between_and_nullability(con):
    for name, spec in TABLES.items():
        for c in spec.columns:
            q = f'"{c.name}"'
            if not c.nullable:
                assert _one(con, f'SELECT count(*) FROM "{name}" WHERE {q} IS NULL') == 0, (
                    f"{name}.{c.name} has NULLs"
                )
            if c.isin:
                allowed = ", ".join(f"'{v}'" for v in c.isin)
                bad = _one(con, f'SELECT count(*) FROM "{name}" WHERE {q} NOT IN ({allowed})')
                assert bad == 0, f"{name}.{c.name} outside {c.isin}"
            if c.between:
                lo, hi = c.between
                bad = _one(
                    con, f'SELECT count(*) FROM "{name}" WHERE {q} NOT BETWEEN {lo} AND {hi}'
                )
                assert bad == 0, f"{name}.{c.name} outside {c.between}"


def test_keys_are_unique(con):
    for name, spec in TABLES.items():
        key = ", ".join(f'"{k}"' for k in spec.key)
        dup = _one(
            con,
            f'SELECT count(*) FROM (SELECT {key} FROM "{name}" GROUP BY ALL HAVING count(*) > 1)',
        )
        assert dup == 0, name


#: A date planned in advance, not an event: a renewal opened in December can be due in February.
PLANNED_DATES = ("opportunities", "renewal_due_at")


def test_every_timestamp_lies_in_the_span(con):
    for name, spec in TABLES.items():
        for c in spec.columns:
            if c.kind == "timestamp":
                lo, hi = con.execute(
                    f'SELECT min("{c.name}"), max("{c.name}") FROM "{name}"'
                ).fetchone()
                if lo is None:
                    continue
                if (name, c.name) == PLANNED_DATES:  # a contract may end after the data do
                    assert str(lo) >= START, (name, c.name, lo)
                    continue
                assert str(lo) >= START and str(hi) < END, (name, c.name, lo, hi)
    # and orders cover all 24 months
    assert _one(con, "SELECT count(DISTINCT date_trunc('month', ordered_at)) FROM orders") == 24


def test_brands_and_product_lines(con):
    expected = {(b.id, line) for b in DEMO_BRANDS for line in b.product_lines}
    assert {b.id for b in DEMO_BRANDS} == {"aurora", "bellevue", "castello"}
    assert (
        set(con.execute("SELECT DISTINCT brand, product_line FROM orders").fetchall()) == expected
    )
    assert (
        set(con.execute("SELECT DISTINCT brand, product_line FROM customers").fetchall())
        == expected
    )
    ids = {b.id for b in DEMO_BRANDS}
    for name, spec in TABLES.items():
        if "brand" in spec.column_names:
            got = {r[0] for r in con.execute(f'SELECT DISTINCT brand FROM "{name}"').fetchall()}
            assert got <= ids, (name, got)
    shares = dict(
        con.execute(
            "SELECT brand, count(*) / sum(count(*)) OVER () FROM customers GROUP BY 1"
        ).fetchall()
    )
    for b in DEMO_BRANDS:
        assert shares[b.id] == pytest.approx(b.weight, abs=0.01)


def test_referential_integrity_and_first_orders(con):
    orphans = {
        "orders": "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
        "members": "SELECT count(*) FROM campaign_members m ANTI JOIN customers c USING (customer_id)",
        "member_brand": "SELECT count(*) FROM campaign_members m JOIN customers c USING (customer_id) "
        "WHERE m.brand <> c.brand",
        "order_brand": "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.brand <> c.brand",
        "logins": "SELECT count(*) FROM crm_logins l ANTI JOIN crm_users u USING (user_id)",
        "calls": "SELECT count(*) FROM calls WHERE case_id NOT IN (SELECT case_id FROM cases)",
        "leads": "SELECT count(*) FROM leads WHERE customer_id NOT IN (SELECT customer_id FROM customers)",
        "owners": "SELECT count(*) FROM opportunities o JOIN crm_users u ON o.owner_id = u.user_id "
        "WHERE u.role <> 'sales' OR u.brand <> o.brand",
    }
    for what, sql in orphans.items():
        assert _one(con, sql) == 0, what
    # first order on the acquisition line, on or after created_at, in the acquisition month
    bad = _one(
        con,
        """
        SELECT count(*) FROM customers c JOIN (
            SELECT customer_id, arg_min(product_line, ordered_at) AS first_line,
                   min(ordered_at) AS first_at
            FROM orders GROUP BY 1) f USING (customer_id)
        WHERE f.first_at < c.created_at OR f.first_line <> c.product_line
           OR date_trunc('month', f.first_at) <> date_trunc('month', c.created_at)
        """,
    )
    assert bad == 0
    assert _one(con, "SELECT count(*) FROM customers ANTI JOIN orders USING (customer_id)") == 0
    assert (
        _one(con, "SELECT count(*) FROM orders WHERE cost < 0 OR cost > revenue OR revenue <= 0")
        == 0
    )


def test_sizes_scale_with_customers(con, big):
    """Orders ~10 per customer; other tables at most 1x (activities 2x) the customers.

    Checked at 20 000 customers: at 2 000 the floor of 10 CRM users per brand dominates.
    """
    users = dict(con.execute("SELECT brand, count(*) FROM crm_users GROUP BY 1").fetchall())
    assert sorted(users.values()) == [10, 10, 10]
    con = big
    n = _one(con, "SELECT count(*) FROM customers")
    orders = _one(con, "SELECT count(*) FROM orders")
    assert 7 * n < orders < 13 * n
    for name in TABLES:
        if name in ("customers", "orders"):
            continue
        rows = _one(con, f'SELECT count(*) FROM "{name}"')
        assert rows <= (2 if name == "activities" else 1) * n, name
    users = dict(con.execute("SELECT brand, count(*) FROM crm_users GROUP BY 1").fetchall())
    assert users == {"aurora": 45, "bellevue": 35, "castello": 20}  # 0.5 % of the customers
    roles = con.execute("SELECT brand, count(DISTINCT role) FROM crm_users GROUP BY 1").fetchall()
    assert all(r[1] == 3 for r in roles)


def test_optional_columns_are_partly_filled(con):
    email, phone, opt_null_without_email = con.execute(
        "SELECT avg((email IS NOT NULL)::INT), avg((phone IS NOT NULL)::INT), "
        "count(*) FILTER (WHERE email IS NULL AND email_opt_in IS NOT NULL) FROM customers"
    ).fetchone()
    assert 0.85 < email < 0.95 and 0.65 < phone < 0.75 and opt_null_without_email == 0
    assert _one(con, "SELECT count(*) FROM customers WHERE email NOT LIKE '%@example.%'") == 0
    renew = _one(con, "SELECT avg(is_renewal::INT) FROM opportunities")
    assert 0.08 < renew < 0.35


# ---------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------


def test_campaigns_channels_groups_and_control_share(con):
    per_brand = con.execute("SELECT brand, count(*) FROM campaigns GROUP BY 1").fetchall()
    assert len(per_brand) == 3 and all(10 <= n <= 14 for _, n in per_brand)
    channels = {r[0] for r in con.execute("SELECT DISTINCT channel FROM campaigns").fetchall()}
    assert channels == set(CHANNELS)
    rows = con.execute(
        """
        SELECT c.campaign_id, c.planned_control_share, count(*) AS n,
               count(*) FILTER (WHERE m."group" = 'control') AS n_control,
               any_value(t.broken_split), any_value(t.n_control_assigned),
               any_value(t.n_control), any_value(t.members), any_value(t.brand)
        FROM campaigns c JOIN campaign_members m USING (campaign_id)
        JOIN demo_truth_campaigns t USING (campaign_id) GROUP BY ALL
        """
    ).fetchall()
    assert len(rows) >= 25
    broken = [r for r in rows if r[4]]
    assert len(broken) == 1  # the one planted broken split
    for _cid, plan, n, n_control, is_broken, assigned, t_control, t_members, _ in rows:
        assert 0.1 <= plan <= 0.2
        assert (n_control, n) == (t_control, t_members)
        if not is_broken:  # complete randomisation with exactly round(share x members)
            assert assigned == n_control
            assert abs(n_control - plan * n) <= 0.5 + 1e-9
    # the broken one: the first brand's largest campaign (last month's excepted) lost 60 % of
    # the control group it was randomised with (which had the planned share)
    _cid, plan, n, n_control, _, assigned, _, _, brand = broken[0]
    assert brand == DEMO_BRANDS[0].id
    assert n_control == assigned - round(demo.LOST_CONTROL_SHARE * assigned)
    assert abs(assigned - plan * (n + assigned - n_control)) <= 0.5 + 1e-9
    largest = _one(
        con,
        f"SELECT max(members + n_control_assigned - n_control) FROM demo_truth_campaigns "
        f"WHERE brand = '{brand}' AND outcome_window_end <= DATE '{END}'",
    )
    assert n + assigned - n_control == largest
    assert _one(con, 'SELECT count(DISTINCT "group") FROM campaign_members') == 2
    # outcome windows end inside the span, but for one campaign per brand started in the last
    # month (so that a report on the latest period has a campaign to show)
    late = con.execute(
        "SELECT brand, min(starts_at) FROM campaigns "
        f"WHERE ends_at + INTERVAL 30 DAY > DATE '{END}' GROUP BY 1"
    ).fetchall()
    assert len(late) == 3
    assert all(str(start) >= "2025-12-01" for _, start in late)
    n_late = _one(
        con, f"SELECT count(*) FROM campaigns WHERE ends_at + INTERVAL 30 DAY > DATE '{END}'"
    )
    assert n_late == 3


def test_control_members_are_not_contacted(con):
    ctrl = con.execute(
        """
        SELECT count(*) FILTER (WHERE sent_at IS NOT NULL OR delivered IS NOT NULL
                  OR opened_at IS NOT NULL OR clicked_at IS NOT NULL
                  OR unsubscribed_at IS NOT NULL OR responded_at IS NOT NULL)
        FROM campaign_members WHERE "group" = 'control'
        """
    ).fetchone()[0]
    assert ctrl == 0
    treat = con.execute(
        """
        SELECT count(*) FILTER (WHERE sent_at IS NULL OR delivered IS NULL),
               count(*) FILTER (WHERE opened_at < sent_at OR clicked_at < opened_at
                                OR (clicked_at IS NOT NULL AND opened_at IS NULL)
                                OR (opened_at IS NOT NULL AND NOT delivered)),
               avg(delivered::INT)
        FROM campaign_members WHERE "group" = 'treatment'
        """
    ).fetchone()
    assert treat[0] == 0 and treat[1] == 0 and 0.5 < treat[2] < 1.0
    # sends happen during the campaign
    assert (
        _one(
            con,
            "SELECT count(*) FROM campaign_members m JOIN campaigns c USING (campaign_id) "
            "WHERE m.sent_at < c.starts_at OR m.sent_at >= c.ends_at",
        )
        == 0
    )


def test_planted_campaign_effects_vary_and_some_are_zero(con):
    effects = [
        r[0] for r in con.execute("SELECT planted_effect FROM demo_truth_campaigns").fetchall()
    ]
    assert sum(e == 0 for e in effects) == 3
    assert len({round(e, 1) for e in effects}) >= 10
    # per-segment truth is the base effect times the documented multipliers for a campaign
    # whose outcome window ends inside the data, and less for the last month's campaigns,
    # whose windows the end of the data cuts; none for a segment without a treated member
    rows = con.execute(
        "SELECT s.segment, s.true_incremental_revenue_per_treated, c.planted_effect, "
        f"c.outcome_window_end > DATE '{END}', s.n_treated "
        "FROM demo_truth_campaign_segments s JOIN demo_truth_campaigns c USING (campaign_id)"
    ).fetchall()
    n_cut = 0
    for seg, tau_s, tau, cut, n_treated in rows:
        if n_treated == 0:
            assert tau_s is None
        elif not cut:
            assert tau_s == pytest.approx(tau * demo.SEGMENT_EFFECT[seg])
        else:
            n_cut += 1
            assert 0 < tau_s < tau * demo.SEGMENT_EFFECT[seg]
    assert n_cut >= 3
    # and every segment's truth is the mean of its treated members' expected effects, whose
    # sum over the segments is the campaign's total
    bad = _one(
        con,
        """
        SELECT count(*) FROM demo_truth_campaign_segments s JOIN (
            SELECT campaign_id, segment, avg(expected_incremental_revenue) AS e, count(*) AS n
            FROM demo_truth_campaign_members WHERE "group" = 'treatment' GROUP BY 1, 2) m
        USING (campaign_id, segment)
        WHERE abs(m.e - s.true_incremental_revenue_per_treated) > 1e-9 OR m.n <> s.n_treated
        """,
    )
    assert bad == 0
    bad = _one(
        con,
        """
        SELECT count(*) FROM demo_truth_campaigns c JOIN (
            SELECT campaign_id, sum(n_treated * coalesce(true_incremental_revenue_per_treated, 0))
                     AS total, sum(n_treated) AS n, sum(n_control) AS n0
            FROM demo_truth_campaign_segments GROUP BY 1) s USING (campaign_id)
        WHERE abs(s.total - c.true_incremental_revenue_per_treated * c.n_treated) > 1e-6
           OR s.n <> c.n_treated OR s.n0 <> c.n_control
        """,
    )
    assert bad == 0
    # campaign truth is the mean of its treated members' expected effects
    bad = _one(
        con,
        """
        SELECT count(*) FROM demo_truth_campaigns c JOIN (
            SELECT campaign_id, avg(expected_incremental_revenue) AS e
            FROM demo_truth_campaign_members WHERE "group" = 'treatment' GROUP BY 1) m
        USING (campaign_id) WHERE abs(m.e - c.true_incremental_revenue_per_treated) > 1e-9
        """,
    )
    assert bad == 0


# ---------------------------------------------------------------------------------------------
# Determinism and the atomic write
# ---------------------------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(tmp_path, small):
    first, _ = small
    again = generate_demo(tmp_path / "again.duckdb", customers=2000, seed=11)["path"]
    other = generate_demo(tmp_path / "other.duckdb", customers=2000, seed=12)["path"]
    a = duckdb.connect(str(first), read_only=True)
    b = duckdb.connect(again, read_only=True)
    c = duckdb.connect(other, read_only=True)
    try:
        for name in [*TABLES, *TRUTH_TABLES]:
            assert _fingerprint(a, name) == _fingerprint(b, name), name
        for name in ("customers", "orders", "campaign_members", "activities"):
            assert _fingerprint(a, name) != _fingerprint(c, name), name
    finally:
        a.close()
        b.close()
        c.close()


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "dir" / "demo.duckdb"
    path.parent.mkdir(parents=True)
    stale = path.with_name(path.name + ".tmp")
    stale.write_text("stale")
    generate_demo(path, customers=300, seed=1)
    assert path.exists() and not stale.exists()
    before = path.stat().st_size

    def boom(gen):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo.perception, "surveys", boom)  # a table family half-way through
    with pytest.raises(RuntimeError, match="disk full"):
        generate_demo(path, customers=300, seed=2)
    assert not stale.exists()
    assert path.stat().st_size == before  # the previous file is untouched
    c = duckdb.connect(str(path), read_only=True)
    assert _one(c, "SELECT count(*) FROM customers") == 300
    c.close()


def test_parent_directories_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "demo.duckdb"
    summary = generate_demo(str(path), customers=150, seed=3, start="2023-07-01", months=12)
    assert path.exists() and summary["end"] == "2024-07-01"
    c = duckdb.connect(str(path), read_only=True)
    lo, hi = c.execute("SELECT min(ordered_at), max(ordered_at) FROM orders").fetchone()
    c.close()
    assert str(lo) >= "2023-07-01" and str(hi) < "2024-07-01"


@pytest.mark.parametrize(
    "kwargs",
    [dict(customers=50), dict(start="2024-01-15"), dict(months=6)],
)
def test_bad_arguments_raise(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_demo(tmp_path / "x.duckdb", **kwargs)
    assert not (tmp_path / "x.duckdb").exists()


# ---------------------------------------------------------------------------------------------
# Planted truth is recoverable (20 000 customers)
# ---------------------------------------------------------------------------------------------


def test_expected_churn_formula():
    for b in DEMO_BRANDS:
        h, q = b.monthly_churn_hazard, b.monthly_active_probability
        assert b.expected_monthly_churn_rate == pytest.approx(1 - (1 - h) * q)
    assert demo.expected_monthly_churn_rate(0.05, 0.6) == pytest.approx(0.43)


@pytest.mark.slow
def test_monthly_churn_matches_the_planted_rate(big):
    rows = big.execute(
        """
        WITH m AS (SELECT DISTINCT customer_id, brand, date_trunc('month', ordered_at) AS m
                   FROM orders)
        SELECT a.brand, 1 - count(b.customer_id) / count(*) AS churn, count(*) AS n
        FROM m a LEFT JOIN m b ON a.customer_id = b.customer_id AND b.m = a.m + INTERVAL 1 MONTH
        WHERE a.m < DATE '2025-12-01' GROUP BY 1
        """
    ).fetchall()
    truth = dict(
        big.execute("SELECT brand, expected_monthly_churn_rate FROM demo_truth_brands").fetchall()
    )
    assert len(rows) == 3
    for brand, churn, n in rows:
        se = np.sqrt(truth[brand] * (1 - truth[brand]) / n)
        assert abs(churn - truth[brand]) < 4 * se + 0.005, (brand, churn, truth[brand])


@pytest.mark.slow
def test_nps_matches_the_planted_mix(big):
    rows = big.execute(
        """
        SELECT s.brand, avg((nps_score >= 9)::INT) AS p, avg((nps_score <= 6)::INT) AS d,
               count(nps_score) AS n, any_value(t.expected_nps) AS nps
        FROM surveys s JOIN demo_truth_brands t USING (brand) WHERE nps_score IS NOT NULL
        GROUP BY 1
        """
    ).fetchall()
    for _brand, p, d, n, nps in rows:
        se = 100 * np.sqrt((p + d - (p - d) ** 2) / n)
        assert abs(100 * (p - d) - nps) < 4 * se
    spread = [r[4] for r in rows]
    assert max(spread) - min(spread) >= 10


@pytest.mark.slow
def test_touch_responses_stop_after_the_fourth_touch(big):
    rates = dict(
        big.execute(
            """
            WITH t AS (SELECT responded, row_number() OVER (PARTITION BY lead_id ORDER BY occurred_at) AS k
                       FROM activities WHERE lead_id IS NOT NULL AND direction = 'outbound')
            SELECT least(k, 5), avg(responded::INT) FROM t GROUP BY 1
            """
        ).fetchall()
    )
    for k in (1, 2, 3, 4):
        assert rates[k] == pytest.approx(demo.TOUCH_RESPONSE[k - 1], abs=0.04)
    assert rates[1] > rates[2] > rates[3] > rates[4] > 3 * rates[5]
    assert rates[5] < 0.05


@pytest.mark.slow
def test_lead_response_time_and_conversion(big):
    rows = big.execute(
        """
        SELECT l.brand, median(epoch(first_response_at - created_at) / 60) AS med,
               avg((converted_at IS NOT NULL)::INT) AS conv, any_value(t.lead_response_median_minutes)
        FROM leads l JOIN demo_truth_brands t USING (brand) GROUP BY 1
        """
    ).fetchall()
    for _brand, med, conv, planted in rows:
        assert med == pytest.approx(planted, rel=0.15)
        assert 0.12 < conv < 0.27


@pytest.mark.slow
def test_campaign_difference_in_means_recovers_the_planted_effect(big):
    """Treatment - control mean revenue in ``[starts_at, ends_at + 30 days)`` against the truth.

    Revenue is skewed and control groups are small, so each campaign is checked at 5 standard
    errors; the inverse-variance pooled error over all campaigns is checked at 4 of its own.
    """
    rows = big.execute(
        """
        WITH w AS (
            SELECT m.campaign_id, m."group", coalesce(sum(o.revenue), 0) AS rev
            FROM campaign_members m JOIN campaigns c USING (campaign_id)
            LEFT JOIN orders o ON o.customer_id = m.customer_id
                AND o.ordered_at >= c.starts_at AND o.ordered_at < c.ends_at + INTERVAL 30 DAY
            GROUP BY m.campaign_id, m.customer_id, m."group")
        SELECT campaign_id,
               avg(rev) FILTER (WHERE "group" = 'treatment')
                 - avg(rev) FILTER (WHERE "group" = 'control') AS diff,
               sqrt(var_samp(rev) FILTER (WHERE "group" = 'treatment')
                      / count(*) FILTER (WHERE "group" = 'treatment')
                    + var_samp(rev) FILTER (WHERE "group" = 'control')
                      / count(*) FILTER (WHERE "group" = 'control')) AS se,
               any_value(t.true_incremental_revenue_per_treated) AS tau
        FROM w JOIN demo_truth_campaigns t USING (campaign_id)
        GROUP BY campaign_id HAVING count(*) FILTER (WHERE "group" = 'control') >= 10
        """
    ).fetchall()
    assert len(rows) >= 15
    diff, se, tau = (np.array(x, dtype=float) for x in zip(*[r[1:] for r in rows], strict=True))
    assert np.all(np.abs(diff - tau) < 5 * se + 1.0)
    w = 1 / se**2
    pooled = np.sum(w * (diff - tau)) / w.sum()
    assert abs(pooled) < 4 / np.sqrt(w.sum())
    # the planted effects are large enough to show: treated members outspend controls overall
    assert np.sum(w * diff) / w.sum() > 0
