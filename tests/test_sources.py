"""Tests of kpitools.data.sources: opening DuckDB / Parquet / CSV / SQL sources, filters, mapping."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import Database, connect
from kpitools.errors import (
    ContractError,
    DataSourceError,
    KpitoolsError,
    MissingTableError,
)
from kpitools.params import SourceParams, load_params, parse_params

ORDERS = [
    dict(
        order_id=1,
        customer_id=10,
        product_line="machines",
        ordered_at="2025-01-05",
        revenue=100.0,
        cost=60.0,
        channel="web",
    ),
    dict(
        order_id=2,
        customer_id=11,
        product_line="coffee",
        ordered_at="2025-01-20 13:45:00",
        revenue=50.25,
        cost=20.0,
        channel="store",
    ),
    dict(
        order_id=3,
        customer_id=10,
        product_line="machines",
        ordered_at="2025-02-03",
        revenue=200.0,
        cost=90.0,
        channel=None,
    ),
    dict(
        order_id=4,
        customer_id=99,
        brand="other",
        product_line="machines",
        ordered_at="2025-01-07",
        revenue=999.0,
        cost=1.0,
        channel="web",
    ),
]
SURVEYS = [
    dict(response_id=1, customer_id=10, responded_at="2025-01-31", nps_score=9, csat_score=5),
    dict(response_id=2, customer_id=11, responded_at="2025-02-01", nps_score=6, csat_score=3),
]


@pytest.fixture(scope="module")
def db_file(tmp_path_factory) -> Path:
    """Built once: every test opens it read-only."""
    path = tmp_path_factory.mktemp("crm") / "crm.duckdb"
    return make_db(path, {"orders": ORDERS, "surveys": SURVEYS})


def numbers(db: Database) -> dict:
    """The figures every source kind must agree on."""
    o = db.table("orders")
    jan = o.filter(
        (o.ordered_at >= ibis.timestamp("2025-01-01"))
        & (o.ordered_at < ibis.timestamp("2025-02-01"))
    )
    s = db.table("surveys")
    return {
        "orders": int(o.count().execute()),
        "revenue": float(o.revenue.sum().execute()),
        "jan_orders": int(jan.count().execute()),
        "customers": int(o.customer_id.nunique().execute()),
        "nps_sum": int(s.nps_score.sum().execute()),
        "channels_null": int(o.channel.isnull().sum().execute()),
    }


EXPECTED = {
    "orders": 3,
    "revenue": 350.25,
    "jan_orders": 2,
    "customers": 2,
    "nps_sum": 15,
    "channels_null": 1,
}


# --------------------------------------------------------------------------------------
# DuckDB file
# --------------------------------------------------------------------------------------


def test_connect_duckdb_file(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file)), brand="acme") as db:
        assert isinstance(db, Database)
        assert db.available_tables == ["orders", "surveys"]
        assert "customers" in db.missing_tables and "orders" not in db.missing_tables
        assert numbers(db) == EXPECTED
        assert repr(db) == f"Database('duckdb:{db_file}', brand='acme')"


def test_connect_from_params_file_with_relative_path(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "params").mkdir()
    make_db(tmp_path / "data" / "crm.duckdb", {"orders": ORDERS})
    params = write_params(tmp_path / "params" / "acme.yaml", Path("../data/crm.duckdb"))
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with connect(load_params(params)) as db:
        assert db.brand == "acme"
        assert db.table("orders").count().execute() == 3


def test_duckdb_is_opened_read_only(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file))) as db:
        with pytest.raises(Exception, match="(?i)read.only"):
            db.con.raw_sql("CREATE TABLE scratch (x INTEGER)")


def test_without_brand_every_row_is_kept(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file))) as db:
        assert db.table("orders").count().execute() == 4


def test_brand_filter_is_applied_in_the_database(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file)), brand="acme") as db:
        sql = ibis.to_sql(db.table("orders"))
        assert re.search(r"WHERE\s+\S*\"brand\" = 'acme'", sql), sql
        assert db.table("orders").count().execute() == 3
        # the raw table is not filtered
        assert db.raw_table("orders").count().execute() == 4
        assert "WHERE" not in ibis.to_sql(db.raw_table("orders"))


def test_product_line_filter_is_applied_in_the_database(tmp_path, db_file):
    p = load_params(write_params(tmp_path / "acme.yaml", db_file, product_lines=["machines"]))
    with connect(p) as db:
        o = db.table("orders")
        sql = ibis.to_sql(o)
        assert "\"brand\" = 'acme'" in sql
        assert re.search(r"\"product_line\" IN \('machines'\)", sql), sql
        assert sorted(o.order_id.execute().tolist()) == [1, 3]
        assert o.revenue.sum().execute() == 300.0
        # tables without a product_line column are filtered on brand only
        assert db.table("surveys").count().execute() == 2


def test_unknown_canonical_name_is_a_keyerror(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file))) as db:
        with pytest.raises(KeyError, match="not a canonical table"):
            db.table("order")


def test_missing_table(db_file):
    with connect(SourceParams(kind="duckdb", path=str(db_file)), brand="acme") as db:
        assert not db.has("cases")
        with pytest.raises(MissingTableError) as exc:
            db.table("cases")
        assert exc.value.table == "cases"
        assert "'cases'" in str(exc.value)
        assert isinstance(exc.value, KpitoolsError)


# --------------------------------------------------------------------------------------
# Mapping user names onto the canonical model
# --------------------------------------------------------------------------------------


@pytest.fixture
def user_db(tmp_path) -> Path:
    """A user's database with its own table and column names."""
    path = tmp_path / "user.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        CREATE TABLE my_orders AS SELECT * FROM (VALUES
            (1, 10, 'acme', 'machines', TIMESTAMP '2025-01-05', 100.5, 60.0, 999.0),
            (2, 11, 'acme', 'coffee',   TIMESTAMP '2025-01-06', 50.0, 20.0, 999.0),
            (3, 12, 'other', 'coffee',  TIMESTAMP '2025-01-07', 7.0, 1.0, 999.0)
        ) t(id, cust, brand, product_line, order_date, amount_net, cost, revenue)
        """
    )
    con.close()
    return path


MAPPING = {
    "orders": {
        "table": "my_orders",
        "columns": {
            "order_id": "id",
            "customer_id": "cust",
            "ordered_at": "order_date",
            "revenue": "amount_net",
        },
    }
}


def test_column_mapping_and_renamed_table(user_db):
    src = SourceParams(kind="duckdb", path=str(user_db), tables=MAPPING)
    with connect(src, brand="acme") as db:
        assert db.has("orders")
        o = db.table("orders")
        assert o.columns == (
            "order_id",
            "customer_id",
            "brand",
            "product_line",
            "ordered_at",
            "revenue",
            "cost",
            "channel",
        )
        df = o.order_by("order_id").execute()
        assert df.order_id.tolist() == [1, 2]
        assert df.customer_id.tolist() == [10, 11]
        # the user's own 'revenue' column (gross) is dropped in favour of the mapped one
        assert df.revenue.tolist() == [100.5, 50.0]
        assert str(o.ordered_at.type()).startswith("timestamp")


def test_mapping_from_params_file(tmp_path, user_db):
    params = write_params(
        tmp_path / "acme.yaml",
        user_db,
        product_lines=["coffee"],
    )
    data = load_params(params).model_dump()
    data["source"]["tables"] = MAPPING
    p = parse_params(data, origin=str(params), base_dir=tmp_path)
    with connect(p) as db:
        assert db.table("orders").revenue.sum().execute() == 50.0


def test_unmapped_canonical_table_name_is_not_used(user_db):
    # without the mapping, the canonical 'orders' table does not exist
    with connect(SourceParams(kind="duckdb", path=str(user_db))) as db:
        assert not db.has("orders")


def test_mapped_to_missing_user_column(user_db):
    tables = {
        "orders": {
            **MAPPING["orders"],
            "columns": {**MAPPING["orders"]["columns"], "customer_id": "customer"},
        }
    }
    with connect(SourceParams(kind="duckdb", path=str(user_db), tables=tables)) as db:
        with pytest.raises(ContractError) as exc:
            db.table("orders")
    (problem,) = exc.value.problems
    assert (problem.table, problem.column) == ("orders", "customer_id")
    msg = str(exc.value)
    assert "'customer'" in msg and "'my_orders'" in msg
    assert "cust" in msg  # lists the columns the user's table does have


# --------------------------------------------------------------------------------------
# Parquet and CSV folders
# --------------------------------------------------------------------------------------


def _export(db_file: Path, folder: Path, fmt: str, names: dict[str, str] | None = None) -> Path:
    folder.mkdir()
    names = names or {}
    con = duckdb.connect(str(db_file), read_only=True)
    for table in ("orders", "surveys"):
        stem = names.get(table, table)
        if fmt == "parquet":
            con.execute(f"COPY {table} TO '{folder / stem}.parquet' (FORMAT parquet)")
        else:
            con.execute(f"COPY {table} TO '{folder / stem}.csv' (HEADER, DELIMITER ',')")
    con.close()
    return folder


def test_parquet_folder_gives_same_numbers(tmp_path, db_file):
    folder = _export(db_file, tmp_path / "pq", "parquet")
    with connect(SourceParams(kind="parquet", path=str(folder)), brand="acme") as db:
        assert db.available_tables == ["orders", "surveys"]
        assert numbers(db) == EXPECTED


def test_csv_folder_gives_same_numbers(tmp_path, db_file):
    folder = _export(db_file, tmp_path / "csv", "csv", names={"surveys": "nps_export"})
    src = SourceParams(kind="csv", path=str(folder), tables={"surveys": {"table": "nps_export"}})
    with connect(src, brand="acme") as db:
        assert db.available_tables == ["orders", "surveys"]
        assert numbers(db) == EXPECTED


def test_parquet_written_by_pandas(tmp_path):
    import pandas as pd

    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame(
        {
            "order_id": ["A1", "A2"],
            "customer_id": [1, 2],
            "brand": ["acme", "acme"],
            "product_line": ["x", "y"],
            "ordered_at": pd.to_datetime(["2025-01-01", "2025-01-02"]),
            "revenue": [10, 20],  # integers are acceptable amounts
            "cost": [1.5, 2.5],
        }
    ).to_parquet(folder / "orders.parquet")
    with connect(SourceParams(kind="parquet", path=str(folder)), brand="acme") as db:
        o = db.table("orders")
        assert o.order_id.type().is_string()  # string ids stay strings
        assert o.revenue.type().is_floating()
        assert o.revenue.sum().execute() == 30.0
        assert o.channel.isnull().all().execute()


def test_missing_folder(tmp_path):
    with pytest.raises(DataSourceError, match=re.escape(str(tmp_path / "nowhere"))):
        connect(SourceParams(kind="parquet", path=str(tmp_path / "nowhere")))


# --------------------------------------------------------------------------------------
# Errors when opening
# --------------------------------------------------------------------------------------


def test_missing_duckdb_file_names_the_path(tmp_path):
    with pytest.raises(DataSourceError) as exc:
        connect(SourceParams(kind="duckdb", path="data/none.duckdb"), base_dir=tmp_path)
    assert str(tmp_path / "data" / "none.duckdb") in str(exc.value)
    assert str(exc.value).startswith("source.path: ")


def test_missing_demo_file_hints_at_demo_data(tmp_path):
    with pytest.raises(DataSourceError, match="kpitools demo-data"):
        connect(SourceParams(kind="duckdb", path=str(tmp_path / "demo.duckdb")))


def test_not_a_duckdb_file(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    with pytest.raises(DataSourceError, match="cannot open DuckDB file"):
        connect(SourceParams(kind="duckdb", path=str(bad)))


def test_env_var_in_path_is_expanded_like_source_path(tmp_path, monkeypatch, db_file):
    monkeypatch.setenv("KPI_TEST_DATA", str(db_file.parent))
    p = parse_params({"brand": "acme", "source": {"path": "${KPI_TEST_DATA}/crm.duckdb"}})
    assert p.source_path() == db_file
    with connect(p) as db:
        assert db.has("orders")


def test_sql_source_with_unset_variable(monkeypatch):
    monkeypatch.delenv("KPI_TEST_UNSET_PW", raising=False)
    src = SourceParams(kind="sql", url="postgres://u:${KPI_TEST_UNSET_PW}@127.0.0.1:1/db")
    with pytest.raises(DataSourceError, match="KPI_TEST_UNSET_PW") as exc:
        connect(src)
    assert "not set" in str(exc.value)


SECRET = "s3cr3t-Value-42"


def test_unreachable_server_does_not_leak_password(monkeypatch):
    monkeypatch.setenv("KPI_TEST_PW", SECRET)
    src = SourceParams(kind="sql", url="postgres://u:${KPI_TEST_PW}@127.0.0.1:1/db")
    with pytest.raises(DataSourceError) as exc:
        connect(src)
    msg = str(exc.value)
    assert msg.startswith("cannot connect to postgres://127.0.0.1:1/db: ")
    assert SECRET not in msg
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_error_echoing_the_url_is_scrubbed(monkeypatch):
    # ibis repeats the whole URL for a scheme it does not know (validation now rejects such a
    # scheme; built without validation here to reach ibis's message)
    monkeypatch.setenv("KPI_TEST_PW", SECRET)
    src = SourceParams.model_construct(
        kind="sql", url="nosuchdb://u:${KPI_TEST_PW}@127.0.0.1:1/db?token=${KPI_TEST_PW}#frag"
    )
    with pytest.raises(DataSourceError) as exc:
        connect(src)
    assert SECRET not in str(exc.value)
    assert "127.0.0.1" in str(exc.value)


def test_password_with_special_characters_does_not_leak(monkeypatch):
    monkeypatch.setenv("KPI_TEST_PW", "hunter2#topsecret")
    src = SourceParams(kind="sql", url="postgres://u:${KPI_TEST_PW}@127.0.0.1:1/db")
    with pytest.raises(DataSourceError) as exc:
        connect(src)
    assert "hunter2" not in str(exc.value)
    assert "topsecret" not in str(exc.value)


def test_csv_column_empty_in_every_row_reads_with_its_canonical_type(tmp_path):
    """Nobody unsubscribed: ``unsubscribed_at`` is empty in every row, which CSV sniffing
    reads as text; it must come back as a timestamp (all NULL). Real text in a numeric column
    still fails the contract, naming table, column and types."""
    folder = tmp_path / "csv"
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": [1, 2],
            "list": ["news", "news"],
            "brand": ["acme", "acme"],
            "subscribed_at": ["2025-01-01", "2025-02-01"],
            "unsubscribed_at": [None, None],
        }
    ).to_csv(folder / "subscriptions.csv", index=False)
    pd.DataFrame(
        {
            "order_id": [1],
            "customer_id": [1],
            "brand": ["acme"],
            "product_line": ["a"],
            "ordered_at": ["2025-03-01"],
            "revenue": ["twelve"],
            "cost": [1.0],
        }
    ).to_csv(folder / "orders.csv", index=False)
    params = load_params(
        write_params(tmp_path / "acme.yaml", folder, source={"kind": "csv", "path": str(folder)})
    )
    with connect(params) as db:
        subs = db.table("subscriptions")
        assert subs.schema()["unsubscribed_at"].is_timestamp()
        assert subs.unsubscribed_at.count().execute() == 0
        with pytest.raises(
            ContractError,
            match="'orders', column 'revenue': file orders.csv, row 1: 'twelve' is not a number",
        ):
            db.raw_table("orders")
