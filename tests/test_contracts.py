"""Tests of kpitools.data.contracts: schema checks on load, value checks with failing rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pytest
from helpers import make_db

from kpitools.data.contracts import (
    ContractProblem,
    check_schema,
    check_values,
    conform,
    kind_of,
)
from kpitools.data.sources import connect
from kpitools.errors import ContractError, KpitoolsError
from kpitools.params import SourceParams
from kpitools.schema import TABLES


def open_db(path: Path, **kw):
    return connect(SourceParams(kind="duckdb", path=str(path), **kw))


def sql_db(tmp_path: Path, *statements: str) -> Path:
    """A DuckDB file built from raw SQL (for tables that break the canonical model)."""
    path = tmp_path / "user.duckdb"
    con = duckdb.connect(str(path))
    for s in statements:
        con.execute(s)
    con.close()
    return path


ORDERS_SQL = """
CREATE TABLE orders AS SELECT * FROM (VALUES
    (1, 10, 'acme', 'm', TIMESTAMP '2025-01-05', {revenue}, 60.0)
) t(order_id, customer_id, brand, product_line, ordered_at, revenue, cost)
"""


# --------------------------------------------------------------------------------------
# Schema checks (on every load)
# --------------------------------------------------------------------------------------


def test_missing_column_names_table_and_column(tmp_path):
    path = sql_db(
        tmp_path,
        "CREATE TABLE orders AS SELECT 1 AS order_id, 10 AS customer_id, 'acme' AS brand, "
        "'m' AS product_line, TIMESTAMP '2025-01-01' AS ordered_at, 5.0 AS cost",
    )
    with open_db(path) as db, pytest.raises(ContractError) as exc:
        db.table("orders")
    (problem,) = exc.value.problems
    assert (problem.table, problem.column) == ("orders", "revenue")
    assert str(problem) == (
        "table 'orders', column 'revenue': missing column; map it in the params file under "
        "source.tables.orders.columns"
    )
    assert isinstance(exc.value, KpitoolsError)


def test_all_missing_columns_reported_at_once(tmp_path):
    path = sql_db(tmp_path, "CREATE TABLE surveys AS SELECT 1 AS response_id, 'acme' AS brand")
    with open_db(path) as db, pytest.raises(ContractError) as exc:
        db.table("surveys")
    cols = [p.column for p in exc.value.problems]
    assert cols == ["customer_id", "responded_at", "nps_score", "csat_score"]
    assert len(str(exc.value).splitlines()) == 4


def test_wrong_type_names_table_column_expected_and_found(tmp_path):
    path = sql_db(tmp_path, ORDERS_SQL.format(revenue="'100.5'"))
    with open_db(path) as db, pytest.raises(ContractError) as exc:
        db.table("orders")
    (problem,) = exc.value.problems
    assert (problem.table, problem.column) == ("orders", "revenue")
    assert (
        str(problem) == "table 'orders', column 'revenue': wrong type: expected float, found string"
    )


def test_wrong_type_of_mapped_column_names_user_column(tmp_path):
    path = sql_db(
        tmp_path,
        "CREATE TABLE sales AS SELECT 1 AS order_id, 10 AS customer_id, 'acme' AS brand, "
        "'m' AS product_line, TIMESTAMP '2025-01-01' AS ordered_at, 'x' AS amount_net, 1.0 AS cost",
    )
    tables = {"orders": {"table": "sales", "columns": {"revenue": "amount_net"}}}
    with open_db(path, tables=tables) as db, pytest.raises(ContractError) as exc:
        db.table("orders")
    msg = str(exc.value)
    assert "column 'revenue'" in msg
    assert "(mapped from 'amount_net')" in msg
    assert "expected float, found string" in msg


@pytest.mark.parametrize(
    ("revenue", "expected_type"),
    [
        ("100", "float64"),  # INTEGER amount
        ("CAST(100.50 AS DECIMAL(10, 2))", "float64"),
        ("CAST(100.5 AS FLOAT)", "float64"),
    ],
)
def test_any_number_is_a_float(tmp_path, revenue, expected_type):
    path = sql_db(tmp_path, ORDERS_SQL.format(revenue=revenue))
    with open_db(path) as db:
        o = db.table("orders")
        assert str(o.revenue.type()) == expected_type
        assert o.revenue.sum().execute() == pytest.approx(100.5 if "." in revenue else 100)


def test_dates_and_string_ids_are_accepted(tmp_path):
    path = sql_db(
        tmp_path,
        "CREATE TABLE orders AS SELECT 'A-1' AS order_id, 'C-10' AS customer_id, 'acme' AS brand, "
        "'m' AS product_line, DATE '2025-01-05' AS ordered_at, 1.0 AS revenue, 0.5 AS cost",
    )
    with open_db(path) as db:
        o = db.table("orders")
        assert o.order_id.type().is_string() and o.customer_id.type().is_string()
        assert o.ordered_at.type().is_timestamp()
        row = o.execute().iloc[0]
        assert row.order_id == "A-1"
        assert str(row.ordered_at) == "2025-01-05 00:00:00"


def test_optional_columns_absent_are_filled_with_null(tmp_path):
    path = sql_db(
        tmp_path,
        # no 'channel' in orders; no region/email/phone/email_opt_in in customers
        ORDERS_SQL.format(revenue="10.0"),
        "CREATE TABLE customers AS SELECT 1 AS customer_id, 'acme' AS brand, 'm' AS product_line, "
        "TIMESTAMP '2024-01-01' AS created_at, 'web' AS acquisition_channel",
    )
    with open_db(path) as db:
        assert db.check() == []
        o = db.table("orders")
        assert o.channel.type().is_string()
        assert o.channel.isnull().all().execute()
        c = db.table("customers")
        assert c.columns == TABLES["customers"].column_names
        assert c.email_opt_in.type().is_boolean()
        df = c.execute()
        assert df[["region", "email", "phone", "email_opt_in"]].isna().all().all()


def test_check_collects_schema_problems_without_raising(tmp_path):
    path = sql_db(
        tmp_path,
        ORDERS_SQL.format(revenue="'oops'"),
        "CREATE TABLE surveys AS SELECT 1 AS response_id, 'acme' AS brand",
    )
    with open_db(path) as db:
        problems = db.check()
    assert {(p.table, p.column) for p in problems} == {
        ("orders", "revenue"),
        ("surveys", "customer_id"),
        ("surveys", "responded_at"),
        ("surveys", "nps_score"),
        ("surveys", "csat_score"),
    }


def test_check_schema_and_conform_directly():
    spec = TABLES["surveys"]
    schema = ibis.schema(
        {
            "response_id": "string",
            "brand": "string",
            "customer_id": "int32",
            "responded_at": "date",
            "nps_score": "int8",
            "csat_score": "float64",  # a float is not an int
        }
    )
    (problem,) = check_schema(spec, schema)
    assert (problem.column, problem.problem) == (
        "csat_score",
        "wrong type: expected int, found float64",
    )
    t = ibis.table(schema, name="surveys")
    c = conform(spec, t)
    assert c.columns == spec.column_names
    assert c.schema()["response_id"].is_string()
    assert c.schema()["customer_id"] == ibis.dtype("int64")
    assert c.schema()["responded_at"].is_timestamp()


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [
        ("int16", "int"),
        ("float32", "float"),
        ("decimal(10, 2)", "float"),
        ("string", "string"),
        ("date", "timestamp"),
        ("timestamp('UTC')", "timestamp"),
        ("boolean", "boolean"),
    ],
)
def test_kind_of(dtype, kind):
    assert kind_of(ibis.dtype(dtype)) == kind


# --------------------------------------------------------------------------------------
# Value checks (validate --deep)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dirty_db(tmp_path_factory) -> Path:
    """Built once: every test opens it read-only."""
    return make_db(
        tmp_path_factory.mktemp("dirty") / "dirty.duckdb",
        {
            "surveys": [
                dict(response_id=1, responded_at="2025-01-01", nps_score=11, csat_score=3),
                dict(response_id=2, responded_at="2025-01-02", nps_score=9, csat_score=None),
                dict(response_id=2, responded_at="2025-01-03", nps_score=None, csat_score=5),
            ],
            "opportunities": [
                dict(opportunity_id=1, created_at="2025-01-01", status="pending"),
                dict(opportunity_id=2, created_at=None, status="won"),
                dict(opportunity_id=3, created_at="2025-01-03", status="lost"),
            ],
            "orders": [
                dict(
                    order_id=1,
                    customer_id=1,
                    product_line="m",
                    ordered_at="2025-01-01",
                    revenue=1.0,
                    cost=0.5,
                )
            ],
        },
    )


def _by_kind(problems: list[ContractProblem]) -> dict[tuple[str, str], ContractProblem]:
    return {(p.table, p.column): p for p in problems}


def test_schema_check_alone_does_not_scan_values(dirty_db):
    with open_db(dirty_db) as db:
        assert db.check() == []


def test_value_checks_report_each_broken_rule_with_failing_rows(dirty_db):
    with open_db(dirty_db) as db:
        problems = _by_kind(db.check(values=True))
    assert set(problems) == {
        ("surveys", "nps_score"),
        ("surveys", "response_id"),
        ("opportunities", "status"),
        ("opportunities", "created_at"),
    }

    nps = problems["surveys", "nps_score"]
    assert nps.problem == "values outside [0, 10]"
    assert nps.count == 1
    assert [r["nps_score"] for r in nps.failing_rows] == [11]
    assert nps.failing_rows[0]["response_id"] == 1

    status = problems["opportunities", "status"]
    assert status.problem == "values outside ['open', 'won', 'lost']"
    assert status.count == 1
    assert [(r["opportunity_id"], r["status"]) for r in status.failing_rows] == [(1, "pending")]

    null = problems["opportunities", "created_at"]
    assert null.problem == "has NULL values"
    assert null.count == 1
    assert [r["opportunity_id"] for r in null.failing_rows] == [2]

    dup = problems["surveys", "response_id"]
    assert dup.problem == "duplicated key values"
    assert dup.failing_rows == [{"response_id": 2, "n": 2}]


def test_value_problem_message(dirty_db):
    with open_db(dirty_db) as db:
        problems = _by_kind(db.check(values=True))
    text = str(problems["surveys", "nps_score"])
    assert text.startswith(
        "table 'surveys', column 'nps_score': values outside [0, 10] (1 rows); e.g. "
    )
    assert "'nps_score': 11" in text


def test_nullable_columns_may_hold_null(dirty_db):
    # csat_score and nps_score are nullable: their NULLs are not reported
    with open_db(dirty_db) as db:
        problems = check_values(TABLES["surveys"], db.raw_table("surveys"))
    assert all(p.problem != "has NULL values" for p in problems)


def test_clean_table_has_no_value_problems(dirty_db):
    with open_db(dirty_db) as db:
        assert check_values(TABLES["orders"], db.raw_table("orders")) == []


def test_composite_key_duplicates(tmp_path):
    row = dict(campaign_id=1, customer_id=7, group="treatment")
    path = make_db(
        tmp_path / "cm.duckdb",
        {"campaign_members": [row, row, {**row, "customer_id": 8}, {**row, "group": "both"}]},
    )
    with open_db(path) as db:
        problems = _by_kind(
            check_values(TABLES["campaign_members"], db.raw_table("campaign_members"))
        )
    dup = problems["campaign_members", "campaign_id, customer_id"]
    assert dup.failing_rows == [{"campaign_id": 1, "customer_id": 7, "n": 3}]
    grp = problems["campaign_members", "group"]
    assert grp.count == 1 and grp.failing_rows[0]["group"] == "both"


def test_failing_rows_are_sampled(tmp_path):
    rows = [dict(response_id=i, responded_at="2025-01-01", nps_score=20 + i) for i in range(10)]
    path = make_db(tmp_path / "s.duckdb", {"surveys": rows})
    with open_db(path) as db:
        (problem,) = check_values(TABLES["surveys"], db.raw_table("surveys"), sample=2)
    assert problem.count == 10
    assert len(problem.failing_rows) == 2
