"""Reading a user's own files: CSV dialect, column values beyond renames, the default brand,
shared source files, and errors that name the field, file, column, value and row.

Every CSV is written by hand (bytes as an export would have them) in ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml

from kpitools.data import connect
from kpitools.errors import ContractError, DataSourceError, ParamsError
from kpitools.params import load_params

# A French export: ';', decimal comma, dd/mm/yyyy, latin-1, no brand / product line /
# order id / cost columns; channel names in French.
FR_ORDERS = (
    "num_client;date_commande;montant_ttc;remise;canal\n"
    "C001;31/12/2024;1 234,50;34,50;Magasin\n"
    "C002;05/01/2025;99,90;0,00;Web\n"
    "C001;15/02/2025;250,00;10,00;Téléphone\n"
)
FR_CUSTOMERS = (
    "num_client;date_création;origine;région\nC001;02/03/2023;Salon;Île-de-France\n"
    "C002;20/12/2024;Web;Bretagne\n"
)


def write_fr(folder: Path, orders: str = FR_ORDERS, customers: str = FR_CUSTOMERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "commandes.csv").write_bytes(orders.encode("latin-1"))
    (folder / "clients.csv").write_bytes(customers.encode("latin-1"))
    return folder


FR_SOURCE = {
    "kind": "csv",
    "path": "export",
    "brand": "maison",
    "csv": {
        "delimiter": ";",
        "decimal": ",",
        "thousands": " ",
        "encoding": "latin-1",
        "date_format": "%d/%m/%Y",
    },
    "tables": {
        "orders": {
            "table": "commandes",
            "columns": {
                "order_id": {"expr": "row_number() over ()"},
                "customer_id": "num_client",
                "product_line": {"value": "all"},
                "ordered_at": "date_commande",
                "revenue": {"expr": "montant_ttc - remise"},
                "cost": {"value": None},
                "channel": {
                    "column": "canal",
                    "map": {"Web": "web", "Magasin": "store"},
                    "default": "other",
                },
            },
        },
        "customers": {
            "table": "clients",
            "columns": {
                "customer_id": "num_client",
                "product_line": {"value": "all"},
                "created_at": "date_création",
                "acquisition_channel": {"column": "origine", "map": {"Salon": "event"}},
                "region": "région",
            },
        },
    },
}


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def fr_params(tmp_path: Path, source: dict | None = None, **extra) -> Path:
    write_fr(tmp_path / "export")
    data = {"name": "Maison", "locale": "fr", "source": source or FR_SOURCE, **extra}
    return write_yaml(tmp_path / "maison.yaml", data)


def rows(t) -> list[dict]:
    return t.order_by(t.columns[0]).execute().to_dict("records")


def test_french_export_reads_into_canonical_orders_and_customers(tmp_path):
    params = load_params(fr_params(tmp_path))
    assert params.brand == "maison"  # from source.brand
    with connect(params) as db:
        orders = db.table("orders")
        assert orders.schema()["ordered_at"].is_timestamp()
        assert orders.schema()["revenue"].is_floating()
        got = orders.order_by("order_id").execute()
        assert got.order_id.tolist() == [1, 2, 3]  # the row of the file
        assert got.customer_id.tolist() == ["C001", "C002", "C001"]
        assert got.brand.tolist() == ["maison"] * 3
        assert got.product_line.tolist() == ["all"] * 3
        assert got.ordered_at.dt.date.tolist() == [
            dt.date(2024, 12, 31),
            dt.date(2025, 1, 5),
            dt.date(2025, 2, 15),
        ]
        assert got.revenue.tolist() == pytest.approx([1200.0, 99.9, 240.0])
        assert got.cost.isna().all()
        assert got.channel.tolist() == ["store", "web", "other"]
        c = db.table("customers")
        assert c.email.count().execute() == 0  # optional columns the export lacks: NULL
        keep = [
            "customer_id",
            "brand",
            "product_line",
            "created_at",
            "acquisition_channel",
            "region",
        ]
        customers = c.select(keep).order_by("customer_id").execute()
        assert customers.to_dict("records") == [
            {
                "customer_id": "C001",
                "brand": "maison",
                "product_line": "all",
                "created_at": dt.datetime(2023, 3, 2),
                "acquisition_channel": "event",
                "region": "Île-de-France",
            },
            {
                "customer_id": "C002",
                "brand": "maison",
                "product_line": "all",
                "created_at": dt.datetime(2024, 12, 20),
                "acquisition_channel": "Web",
                "region": "Bretagne",
            },
        ]
        assert db.check() == []


def test_mapping_is_one_select_in_the_database(tmp_path):
    with connect(load_params(fr_params(tmp_path))) as db:
        sql = str(db.con.compile(db.raw_table("orders")))
        assert "TRY_STRPTIME" not in sql  # dates parsed by the CSV reader (csv.date_format)
        assert "ROW_NUMBER() OVER ()" in sql.upper()
        assert "CASE" in sql and "'store'" in sql


def test_sniffer_alone_reads_a_plain_export(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,customer_id,product_line,ordered_at,revenue,cost\n"
        "1,7,a,2025-01-03,10.5,4\n2,8,a,2025-01-04,20,5\n"
    )
    source = {"kind": "csv", "path": str(folder), "brand": "solo"}
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        got = rows(db.table("orders"))
        assert [r["revenue"] for r in got] == [10.5, 20.0]
        assert {r["brand"] for r in got} == {"solo"}


def test_table_dialect_overrides_source_dialect_and_compact_dates(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id|customer_id|brand|product_line|ordered_at|revenue|cost\n"
        "1|7|b|a|20251231|1.234,5|1\n2|8|b|a|20250102|3,25|1\n"
    )
    (folder / "customers.csv").write_text(
        "customer_id;brand;product_line;created_at;acquisition_channel\n7;b;a;2025-01-01;x\n"
    )
    source = {
        "kind": "csv",
        "path": str(folder),
        "csv": {"delimiter": ";"},
        "tables": {
            "orders": {
                "csv": {"delimiter": "|", "decimal": ",", "thousands": ".", "date_format": "%Y%m%d"}
            }
        },
    }
    params = load_params(write_yaml(tmp_path / "p.yaml", {"brand": "b", "source": source}))
    assert params.source.dialect("orders").delimiter == "|"
    assert params.source.dialect("customers").delimiter == ";"
    with connect(params) as db:
        got = rows(db.table("orders"))
        assert [r["revenue"] for r in got] == [1234.5, 3.25]
        assert [r["ordered_at"].date() for r in got] == [dt.date(2025, 12, 31), dt.date(2025, 1, 2)]
        assert rows(db.table("customers"))[0]["created_at"] == dt.datetime(2025, 1, 1)


def test_format_on_one_column_and_concatenation(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "shop,num,client,jour,ht,tva\nP,1,7,31/01/2025,100,20\nP,2,8,01/02/2025,50,10\n"
    )
    source = {
        "kind": "csv",
        "path": str(folder),
        "brand": "b",
        "tables": {
            "orders": {
                "columns": {
                    "order_id": {"expr": "shop || '-' || num"},
                    "customer_id": "client",
                    "product_line": {"expr": "CASE WHEN ht > 60 THEN 'big' ELSE 'small' END"},
                    "ordered_at": {"column": "jour", "format": "%d/%m/%Y"},
                    "revenue": {"expr": "CAST(ht AS DOUBLE) + tva"},
                    "cost": {"value": 0},
                }
            }
        },
    }
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        got = rows(db.raw_table("orders"))
        assert [r["order_id"] for r in got] == ["P-1", "P-2"]
        assert [r["product_line"] for r in got] == ["big", "small"]
        assert [r["ordered_at"] for r in got] == [dt.datetime(2025, 1, 31), dt.datetime(2025, 2, 1)]
        assert [r["revenue"] for r in got] == [120.0, 60.0]
        assert [r["cost"] for r in got] == [0.0, 0.0]


def test_value_forms_work_on_a_duckdb_source(tmp_path):
    db_path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db_path))
    con.execute(
        "CREATE TABLE ventes AS SELECT * FROM (VALUES (1, 'C1', '03/02/2025', 10.0, "
        "'Web'), (2, 'C2', '04/02/2025', 5.0, 'Boutique')) t(id, client, jour, "
        "montant, canal)"
    )
    con.close()
    source = {
        "kind": "duckdb",
        "path": str(db_path),
        "brand": "b",
        "tables": {
            "orders": {
                "table": "ventes",
                "columns": {
                    "order_id": "id",
                    "customer_id": "client",
                    "product_line": {"value": "all"},
                    "ordered_at": {"column": "jour", "format": "%d/%m/%Y"},
                    "revenue": "montant",
                    "cost": {"expr": "montant * 0.4"},
                    "channel": {"column": "canal", "map": {"Web": "web"}},
                },
            }
        },
    }
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        got = rows(db.table("orders"))
        assert [r["ordered_at"].date() for r in got] == [dt.date(2025, 2, 3), dt.date(2025, 2, 4)]
        assert [r["cost"] for r in got] == pytest.approx([4.0, 2.0])
        assert [r["channel"] for r in got] == ["web", "Boutique"]  # unlisted values stay


# -- errors ---------------------------------------------------------------------------------


def test_date_that_does_not_match_the_format_names_value_and_row(tmp_path):
    bad = FR_ORDERS + "C002;2025-03-01;10,00;0,00;Web\nC002;32/13/2025;10,00;0,00;Web\n"
    path = fr_params(tmp_path)
    write_fr(tmp_path / "export", orders=bad)
    with connect(load_params(path)) as db, pytest.raises(ContractError) as err:
        db.raw_table("orders")
    msg = str(err.value)
    assert "table 'orders', column 'ordered_at'" in msg
    assert "file commandes.csv, row 4: '2025-03-01' is not a date" in msg
    assert "(2 rows in all)" in msg
    assert "date_format" in msg


def test_number_that_is_not_a_number_names_value_and_row(tmp_path):
    bad = FR_ORDERS + "C002;01/03/2025;n/a;0,00;Web\n"
    path = fr_params(tmp_path)
    write_fr(tmp_path / "export", orders=bad)
    source = yaml.safe_load(path.read_text(encoding="utf-8"))["source"]
    source["tables"]["orders"]["columns"]["revenue"] = "montant_ttc"
    write_yaml(path, {"source": source})
    with connect(load_params(path)) as db, pytest.raises(ContractError) as err:
        db.raw_table("orders")
    msg = str(err.value)
    assert "column 'revenue': file commandes.csv, row 4: 'n/a' is not a number" in msg
    assert "decimal, thousands" in msg


def test_format_on_a_column_with_another_format_names_the_field(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,customer_id,product_line,jour,revenue,cost\n1,7,a,31/01/2025,1,1\n"
        "2,7,a,2025-02-01,1,1\n"
    )
    source = {
        "kind": "csv",
        "path": str(folder),
        "brand": "b",
        "tables": {"orders": {"columns": {"ordered_at": {"column": "jour", "format": "%d/%m/%Y"}}}},
    }
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        with pytest.raises(ContractError) as err:
            db.raw_table("orders")
    assert str(err.value) == (
        "table 'orders', column 'ordered_at': file orders.csv, row 2: '2025-02-01' is not a "
        "date in format '%d/%m/%Y' (source.tables.orders.columns.ordered_at.format)"
    )


def test_expression_over_an_unknown_column_names_field_file_and_columns(tmp_path):
    path = fr_params(tmp_path)
    source = yaml.safe_load(path.read_text(encoding="utf-8"))["source"]
    source["tables"]["orders"]["columns"]["revenue"] = {"expr": "montant_ht - remise"}
    source["tables"]["orders"]["columns"]["customer_id"] = "client"
    write_yaml(path, {"source": source})
    with connect(load_params(path)) as db, pytest.raises(ContractError) as err:
        db.raw_table("orders")
    msg = str(err.value)
    assert (
        "table 'orders', column 'customer_id': source.tables.orders.columns.customer_id: "
        "mapped to column 'client', which file commandes.csv does not have (columns: "
        "num_client, "
    ) in msg
    assert (
        "column 'revenue': source.tables.orders.columns.revenue: expr reads column "
        "'montant_ht', which file commandes.csv does not have"
    ) in msg


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"expr": "(SELECT max(x) FROM t)"}, "without a subquery"),
        ({"expr": "a; DROP TABLE orders"}, "no ';'"),
        ({"expr": "sum(montant)"}, "aggregate"),
        ({"expr": "a +"}, "not a valid SQL expression"),
        ({"column": "a", "value": 1}, "exactly one of column"),
        ({"value": 1, "format": "%Y"}, "constant value takes no format"),
        ({"column": "a", "default": "x"}, "default goes with map"),
        ({"column": "a", "format": "dd/mm/yyyy"}, "strptime format"),
        ({"column": "a", "colour": "x"}, "unknown field"),
    ],
)
def test_bad_column_mapping_is_one_line_naming_the_field(tmp_path, spec, words):
    source = {
        "kind": "csv",
        "path": "x",
        "brand": "b",
        "tables": {"orders": {"columns": {"revenue": spec}}},
    }
    with pytest.raises(ParamsError) as err:
        load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))
    lines = str(err.value).splitlines()
    assert any("source.tables.orders.columns.revenue" in li and words in li for li in lines), lines


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        ({"decimal": ";"}, "csv.decimal"),
        ({"decimal": ",", "thousands": ","}, "cannot be the same mark"),
        ({"decimal": ",", "delimiter": ","}, "needs another delimiter"),
        ({"encoding": "ebcdic"}, "csv.encoding"),
        ({"sep": ";"}, "unknown field"),
    ],
)
def test_bad_dialect_is_one_line(tmp_path, csv, words):
    source = {"kind": "csv", "path": "x", "brand": "b", "csv": csv}
    with pytest.raises(ParamsError) as err:
        load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))
    assert words in str(err.value)


def test_csv_dialect_on_a_database_source_is_refused(tmp_path):
    source = {"kind": "duckdb", "path": "x.duckdb", "csv": {"delimiter": ";"}}
    with pytest.raises(ParamsError, match="applies to a csv source"):
        load_params(write_yaml(tmp_path / "p.yaml", {"brand": "b", "source": source}))


def test_unreadable_csv_is_one_line_naming_file_and_keys(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_bytes(b"a;b\r\n1;\xe9\n2;3\r4;5\n")
    source = {"kind": "csv", "path": str(folder), "brand": "b", "csv": {"encoding": "utf-8"}}
    with pytest.raises(DataSourceError) as err:
        connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source})))
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{folder / 'orders.csv'}: cannot read this CSV")
    assert msg.endswith("set source.csv: delimiter, quote, header, encoding, decimal, date_format")


# -- shared source file ---------------------------------------------------------------------


def test_include_a_shared_source_file_with_own_keys_overriding(tmp_path):
    write_fr(tmp_path / "data" / "export")
    shared = {**FR_SOURCE, "path": "../data/export"}  # relative to the shared file
    shared.pop("brand")
    (tmp_path / "sources").mkdir()
    write_yaml(tmp_path / "sources" / "export.yaml", shared)
    params_dir = tmp_path / "params"
    params_dir.mkdir()
    own = {
        "include": "../sources/export.yaml",
        "brand": "maison",
        "tables": {"orders": {"columns": {"product_line": {"value": "boutique"}}}},
    }
    p = load_params(write_yaml(params_dir / "maison.yaml", {"source": own}))
    assert p.brand == "maison"
    assert p.source.path == str((tmp_path / "data" / "export").resolve())
    cols = p.source.tables["orders"].columns
    assert cols["product_line"].value == "boutique"  # the brand's key
    assert cols["customer_id"] == "num_client"  # the shared file's keys
    with connect(p) as db:
        got = rows(db.table("orders"))
        assert {r["product_line"] for r in got} == {"boutique"}
        assert [r["revenue"] for r in got] == pytest.approx([1200.0, 99.9, 240.0])


def test_shared_source_file_is_validated_like_an_inline_source(tmp_path):
    (tmp_path / "sources").mkdir()
    write_yaml(
        tmp_path / "sources" / "export.yaml",
        {"kind": "csv", "path": "x", "tables": {"orders": {"columns": {"amount": "m"}}}},
    )
    with pytest.raises(ParamsError) as err:
        load_params(
            write_yaml(
                tmp_path / "p.yaml", {"brand": "b", "source": {"include": "sources/export.yaml"}}
            )
        )
    (line,) = str(err.value).splitlines()
    assert "source.tables: orders.columns: unknown column 'amount'" in line
    assert line.endswith("(source includes sources/export.yaml)")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "file ../nowhere.yaml not found"),
        ("[1, 2]", "must hold a source mapping"),
        ("include: other.yaml\n", "cannot include"),
    ],
)
def test_bad_include_is_one_line(tmp_path, content, words):
    target = "../nowhere.yaml"
    if content is not None:
        (tmp_path / "shared.yaml").write_text(content)
        target = "shared.yaml"
    with pytest.raises(ParamsError) as err:
        load_params(write_yaml(tmp_path / "p.yaml", {"brand": "b", "source": {"include": target}}))
    (line,) = str(err.value).splitlines()
    assert "source.include" in line and words in line


def test_existing_params_still_validate():
    root = Path(__file__).resolve().parents[1]
    for f in sorted((root / "params").glob("*.yaml")):
        p = load_params(f)
        for mapping in p.source.tables.values():
            assert mapping.only_renames


def test_brand_other_than_the_source_brand_is_refused(tmp_path):
    source = {"kind": "csv", "path": "x", "brand": "maison"}
    with pytest.raises(ParamsError, match="brand 'autre' differs from source.brand 'maison'"):
        load_params(write_yaml(tmp_path / "p.yaml", {"brand": "autre", "source": source}))


def test_expression_over_a_text_column_names_the_column_and_the_cause(tmp_path):
    # "12 345,5" has a thousands mark the dialect does not declare: the column stays text
    orders = FR_ORDERS.replace("1 234,50", "1 234 5,50")
    path = fr_params(tmp_path)
    write_fr(tmp_path / "export", orders=orders)
    with connect(load_params(path)) as db, pytest.raises(ContractError) as err:
        db.raw_table("orders")
    (line,) = str(err.value).splitlines()
    assert line.startswith(
        "table 'orders', column 'revenue': source.tables.orders.columns.revenue: the "
        "database refuses it: BinderException"
    )
    assert line.endswith(
        "it reads text column(s) montant_ttc of file commandes.csv: cast them, or set the "
        "CSV dialect (decimal, thousands, date_format) so that they read as numbers or dates"
    )


def test_value_forms_on_postgres(postgres_url, monkeypatch, tmp_path):
    """The same SELECT, translated by sqlglot, on a sql source (PostgreSQL)."""
    server = postgres_url.database_named("source_mapping")
    with server.connect() as con:
        con.execute("DROP TABLE IF EXISTS ventes")
        con.execute(
            "CREATE TABLE ventes (id int, client text, jour text, montant double precision, "
            "remise double precision, canal text)"
        )
        con.execute(
            "INSERT INTO ventes VALUES (1, 'C1', '03/02/2025', 10, 1, 'Web'), "
            "(2, 'C2', '04/02/2025', 5, 0, 'Boutique')"
        )
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    source = {
        "kind": "sql",
        "url": server.url,
        "brand": "b",
        "tables": {
            "orders": {
                "table": "ventes",
                "columns": {
                    "order_id": {"expr": "client || '-' || id"},
                    "customer_id": "client",
                    "product_line": {"value": "all"},
                    "ordered_at": {"column": "jour", "format": "%d/%m/%Y"},
                    "revenue": {"expr": "montant - remise"},
                    "cost": {"value": None},
                    "channel": {"column": "canal", "map": {"Web": "web"}, "default": "other"},
                },
            }
        },
    }
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        got = rows(db.table("orders"))
    assert [r["order_id"] for r in got] == ["C1-1", "C2-2"]
    assert [r["ordered_at"].date() for r in got] == [dt.date(2025, 2, 3), dt.date(2025, 2, 4)]
    assert [r["revenue"] for r in got] == [9.0, 5.0]
    assert [r["brand"] for r in got] == ["b", "b"]
    assert [r["channel"] for r in got] == ["web", "other"]


def test_headerless_file_expr_with_format_and_deep_check(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_text("7;2025;03;12,5\n8;2025;11;7,5\n")
    source = {
        "kind": "csv",
        "path": str(folder),
        "brand": "b",
        "csv": {"header": False, "delimiter": ";", "decimal": ","},
        "tables": {
            "orders": {
                "columns": {
                    "order_id": {"expr": "row_number() over ()"},
                    "customer_id": "column0",
                    "product_line": {"value": "all"},
                    "ordered_at": {
                        "expr": "column1 || '-' || column2 || '-01'",
                        "format": "%Y-%m-%d",
                    },
                    "revenue": "column3",
                    "cost": {"expr": "column3 / 2"},
                }
            }
        },
    }
    with connect(load_params(write_yaml(tmp_path / "p.yaml", {"source": source}))) as db:
        got = rows(db.table("orders"))
        assert [r["ordered_at"] for r in got] == [dt.datetime(2025, 3, 1), dt.datetime(2025, 11, 1)]
        assert [(r["revenue"], r["cost"]) for r in got] == [(12.5, 6.25), (7.5, 3.75)]
        assert db.check(values=True) == []
