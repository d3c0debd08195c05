"""The ``sql`` source on a real PostgreSQL server: same rows as ``test_kpis.py``, same numbers.

The server is a throwaway cluster started by ``pg.postgres_url`` (skipped without PostgreSQL
binaries, unless ``KPITOOLS_REQUIRE_POSTGRES=1``). Its password only ever lives in the
environment variable ``KPI_TEST_PGPASSWORD``; the params file holds ``${KPI_TEST_PGPASSWORD}``.
"""

from __future__ import annotations

import traceback

import pg
import pytest
from helpers import make_db, write_params
from test_kpis import LEADS, SURVEYS, _orders

from kpitools.data.sources import connect
from kpitools.errors import DataSourceError
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

pytestmark = pytest.mark.postgres


postgres_url = pg.postgres_url  # the session fixture, under its own name

TABLES = {"orders": _orders(), "leads": LEADS, "surveys": SURVEYS}
MAPPING = {
    "table": "sales_orders",
    "columns": {"revenue": "amount_net", "ordered_at": "order_date"},
}


@pytest.fixture(scope="module")
def crm(postgres_url):
    """The test_kpis fixture rows in PostgreSQL, plus ``sales_orders``: the orders under a
    user's own table and column names."""
    pg.make_pg_db(postgres_url, TABLES)
    with postgres_url.connect() as con:
        con.execute("DROP TABLE IF EXISTS sales_orders")
        con.execute(
            "CREATE TABLE sales_orders AS SELECT order_id, customer_id, brand, product_line, "
            "ordered_at AS order_date, revenue AS amount_net, cost, channel FROM orders"
        )
    return postgres_url


@pytest.fixture()
def pg_env(crm, monkeypatch):
    for k, v in crm.env.items():
        monkeypatch.setenv(k, v)
    return crm


def _pg_scorecard(tmp_path, server, report_period="2025-03", source_tables=None, **overrides):
    params = pg.pg_params(tmp_path, server, source_tables=source_tables, **overrides)
    with connect(params) as db:
        return compute_kpis(db, params, report_period)


def _duckdb_scorecard(tmp_path, report_period="2025-03", **overrides):
    db_path = make_db(tmp_path / "fx.duckdb", TABLES)
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))
    with connect(params) as db:
        return compute_kpis(db, params, report_period)


# -- the numbers ---------------------------------------------------------------------------------


def test_march_values_match_the_hand_computation(tmp_path, pg_env):
    sc = _pg_scorecard(tmp_path, pg_env)
    assert sc.value("new_customers") == 1
    assert sc.value("revenue") == pytest.approx(160)
    assert sc.value("avg_margin_per_customer") == pytest.approx(25.25)
    assert sc.value("retention_rate") == pytest.approx(2 / 3)
    assert sc.value("churn_rate") == pytest.approx(1 / 3)
    assert sc.value("lead_conversion_rate") == pytest.approx(0.5)
    assert sc.value("nps") == pytest.approx(40.0)
    assert sc["revenue"].previous == pytest.approx(330)
    assert sc["revenue"].year_ago == pytest.approx(70)
    # one query per measure group that could run (absent tables cost no query)
    assert sc.queries == len({r.kpi.measure for r in sc if r.status != "not_available"})


def test_quarter_values_match_the_hand_computation(tmp_path, pg_env):
    sc = _pg_scorecard(tmp_path, pg_env, "2025-Q1", period={"grain": "quarter"})
    assert sc.period.label == "2025-Q1"
    assert sc.value("revenue") == pytest.approx(590)
    assert sc.value("new_customers") == 4
    assert sc["retention_rate"].status == "no_data"
    assert sc["revenue"].year_ago == pytest.approx(70)


@pytest.mark.parametrize(
    "period, overrides",
    [
        ("2025-03", {}),
        ("2025-Q1", {"period": {"grain": "quarter"}}),
        ("2025-03", {"product_lines": ["b"]}),
        ("2024-08", {}),  # an empty period: no data on both
    ],
    ids=["month", "quarter", "product-line-b", "empty-month"],
)
def test_scorecard_equals_duckdb(tmp_path, pg_env, period, overrides):
    got = _pg_scorecard(tmp_path, pg_env, period, **overrides)
    want = _duckdb_scorecard(tmp_path, period, **overrides)
    pg.assert_same_scorecard(got, want)
    assert got.queries == want.queries


def test_column_mapping_gives_the_same_revenue(tmp_path, pg_env):
    sc = _pg_scorecard(tmp_path, pg_env, source_tables={"orders": MAPPING})
    assert sc.value("revenue") == pytest.approx(160)
    assert sc["revenue"].previous == pytest.approx(330)
    pg.assert_same_scorecard(sc, _duckdb_scorecard(tmp_path))


def test_sql_source_reads_canonical_tables_and_types(tmp_path, pg_env):
    params = pg.pg_params(tmp_path, pg_env)
    with connect(params) as db:
        assert {"orders", "leads", "surveys"} <= set(db.available_tables)
        schema = db.raw_table("orders").schema()
        assert schema["order_id"].is_int64()
        assert schema["ordered_at"].is_timestamp()
        assert schema["revenue"].is_float64()
        assert schema["customer_id"].is_int64()
        assert db.check() == []
        assert db.table("orders").count().execute() == len(TABLES["orders"]) - 1  # brand filter


def test_deep_contract_check_runs_on_postgres(tmp_path, pg_env):
    params = pg.pg_params(tmp_path, pg_env)
    with connect(params) as db:
        assert db.check(values=True) == []


# -- the credential --------------------------------------------------------------------------


def test_password_is_never_shown(tmp_path, pg_env):
    params = pg.pg_params(tmp_path, pg_env)
    with connect(params) as db:
        assert db.description == f"postgres://127.0.0.1:{pg_env.port}/crm"
        for text in (db.description, repr(db), str(params.source), repr(params)):
            assert pg_env.password not in text


def test_wrong_password_error_does_not_echo_it(tmp_path, pg_env, monkeypatch):
    wrong = "Wr0ng-" + pg_env.password[::-1]
    monkeypatch.setenv(pg.PASSWORD_VAR, wrong)
    params = pg.pg_params(tmp_path, pg_env)
    with pytest.raises(DataSourceError) as info:
        connect(params)
    shown = str(info.value) + "".join(traceback.format_exception(info.value))
    assert f"127.0.0.1:{pg_env.port}/crm" in str(info.value)
    assert wrong not in shown
    assert pg_env.password not in shown
    assert "password" in str(info.value).lower()  # says why, e.g. "password authentication failed"


def test_unset_password_variable_is_named(tmp_path, pg_env, monkeypatch):
    monkeypatch.delenv(pg.PASSWORD_VAR)
    params = pg.pg_params(tmp_path, pg_env)
    with pytest.raises(DataSourceError, match=pg.PASSWORD_VAR):
        connect(params)
