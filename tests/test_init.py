"""``kpitools init``: inspect a user's exports, propose the mapping, write a params file that
``validate`` and ``run`` accept without edits.

The exports are written byte for byte in ``tmp_path`` (latin-1, ``;``, decimal commas,
``dd/mm/yyyy``, no brand, product line, order id or cost columns); the real public datasets
go through the same path in ``tests/test_realdata*.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_source_mapping import FR_CUSTOMERS, FR_ORDERS, write_fr

from kpitools.cli import main
from kpitools.data import connect
from kpitools.data.inspect import (
    inspect_source,
    profile_values,
    sniff_delimiter,
    sniff_encoding,
    sniff_header,
)
from kpitools.data.propose import propose, render_params
from kpitools.params import load_params


# -- values -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "kind", "extra"),
    [
        (["12", "7", "-3"], "int", {}),
        (["12.50", "7", ".5"], "float", {"decimal": "."}),
        (["1,234.50", "7.00"], "float", {"decimal": ".", "thousands": ","}),
        (["12,50", "7", "0,99"], "float", {"decimal": ",", "thousands": None}),
        (["1 234,50", "99,90"], "float", {"decimal": ",", "thousands": " "}),
        (["1.234,50", "99,90"], "float", {"decimal": ",", "thousands": "."}),
        (["1\u202f234,50", "3,00"], "float", {"decimal": ",", "thousands": "\u202f"}),
        (["31/12/2025", "05/01/2025"], "timestamp", {"date_format": "%d/%m/%Y"}),
        (["12/31/2025", "05/01/2025"], "timestamp", {"date_format": "%m/%d/%Y"}),
        (["20251231", "19970101"], "timestamp", {"date_format": "%Y%m%d"}),
        (["2025-12-31", "2025-01-05"], "timestamp", {"date_format": "%Y-%m-%d"}),
        (["2025-12-31 10:00:00"], "timestamp", {"date_format": "%Y-%m-%d %H:%M:%S"}),
        (["31.12.2025"], "timestamp", {"date_format": "%d.%m.%Y"}),
        (["oui", "non", "Oui"], "boolean", {}),
        (["C001", "C002"], "string", {}),
        (["12345678", "99999999"], "int", {}),  # 8 digits that are not dates: ids
    ],
)
def test_profile_values_reads_numbers_and_dates_as_an_export_writes_them(values, kind, extra):
    prof = profile_values("x", [*values, None, "  "])
    assert prof.kind == kind
    for key, value in extra.items():
        assert getattr(prof, key) == value, key
    assert prof.filled == len(values)


def test_ambiguous_dates_follow_the_locale_and_say_so():
    values = ["05/01/2025", "06/02/2025"]
    day = profile_values("d", values, day_first=True)
    month = profile_values("d", values, day_first=False)
    assert (day.date_format, day.ambiguous_date) == ("%d/%m/%Y", True)
    assert (month.date_format, month.ambiguous_date) == ("%m/%d/%Y", True)


def test_sniffers():
    assert sniff_delimiter(["a;b;c", "1,5;2,5;x"]) == ";"  # a decimal comma is no delimiter
    assert sniff_delimiter(["a,b", "1,2"]) == ","
    assert sniff_delimiter(["a\tb\tc", "1\t2\t3"]) == "\t"
    assert sniff_delimiter([" id  date   amount", " 001 19970101  11.77"]) == "whitespace"
    assert sniff_delimiter(["one column", "a b c d"]) is None
    assert sniff_encoding("é".encode()) == "utf-8"
    assert sniff_encoding("é".encode("latin-1")) == "latin-1"
    assert sniff_encoding("€".encode("cp1252")) == "cp1252"
    assert sniff_encoding("aé".encode()[:2], truncated=True) == "utf-8"  # cut by the sample
    assert sniff_header([["num_client", "date"], ["C001", "31/12/2024"]])
    assert not sniff_header([["C001", "31/12/2024", "12,5"], ["C002", "01/01/2025", "3"]])


# -- a French export ----------------------------------------------------------------------
def _init(tmp_path: Path, *args: str) -> tuple[Path, str]:
    out = tmp_path / "params" / "maison.yaml"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "export"), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_init_maps_a_french_export_without_brand_line_order_id_or_cost(tmp_path):
    write_fr(tmp_path / "export")
    out, output = _init(tmp_path, "--name", "Maison Dupont")
    data = yaml.safe_load(out.read_text("utf-8"))
    assert data["brand"] == "maison-dupont"
    assert data["locale"] == "fr" and data["currency"] == "EUR"  # French column names
    src = data["source"]
    assert src["kind"] == "csv" and src["path"] == "../export"  # from the params file
    assert src["brand"] == "maison-dupont"
    assert src["csv"] == {
        "delimiter": ";",
        "encoding": "latin-1",
        "header": True,
        "date_format": "%d/%m/%Y",
    }
    orders = src["tables"]["orders"]
    assert orders["table"] == "commandes.csv"
    assert orders["csv"] == {"decimal": ",", "thousands": " "}  # this file's numbers only
    assert orders["columns"] == {
        "order_id": {"expr": "row_number() over ()"},
        "customer_id": "num_client",
        "product_line": {"value": "all"},
        "ordered_at": "date_commande",
        "revenue": "montant_ttc",
        "channel": "canal",
    }
    customers = src["tables"]["customers"]["columns"]
    assert customers["created_at"] == "date_création"
    assert customers["acquisition_channel"] == "origine"
    assert customers["region"] == "région"
    text = out.read_text("utf-8")
    # the commented guesses and what is missing
    assert "# cost: not in the export (it would add avg_margin_per_customer" in text
    assert 'revenue: {expr: "montant_ttc - remise"}' in text
    assert "check: an amount including tax" in text
    # what the data allow, by department, and what would add more
    assert "KPIs these data allow: 11 of" in output
    assert "+ orders.cost: 3 (avg_margin_per_customer, average_clv, customer_equity)" in output
    assert "+ orders.product_line: 1 (cross_sell_value)" in output
    assert f"next: kpitools validate {out}" in output


def test_what_init_wrote_reads_the_export_exactly(tmp_path):
    write_fr(tmp_path / "export")
    out, _ = _init(tmp_path)
    params = load_params(out)
    with connect(params) as db:
        got = db.table("orders").order_by("order_id").execute()
        assert got.revenue.tolist() == pytest.approx([1234.5, 99.9, 250.0])  # 1 234,50
        assert got.ordered_at.dt.date.tolist() == [
            dt.date(2024, 12, 31),
            dt.date(2025, 1, 5),
            dt.date(2025, 2, 15),
        ]
        assert got.customer_id.tolist() == ["C001", "C002", "C001"]
        assert got.order_id.tolist() == [1, 2, 3]
        assert set(got.product_line) == {"all"} and got.cost.isna().all()
        customers = db.table("customers").order_by("customer_id").execute()
        assert customers.created_at.dt.date.tolist() == [dt.date(2023, 3, 2), dt.date(2024, 12, 20)]
    result = CliRunner().invoke(main, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert ": ok" in result.output


def test_init_never_overwrites_without_force(tmp_path):
    write_fr(tmp_path / "export")
    out, _ = _init(tmp_path)
    before = out.read_text("utf-8")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "export"), "--out", str(out)])
    assert result.exit_code == 2
    assert "exists; give another --out or --force" in result.output
    assert out.read_text("utf-8") == before
    _init(tmp_path, "--force")


def test_a_file_without_header_is_mapped_by_the_kind_of_its_values(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "ventes.csv").write_text(
        "C001;31/12/2024;1 234,50\nC002;05/01/2025;99,90\nC001;15/02/2025;250,00\n"
    )
    out, _ = _init(tmp_path)
    data = yaml.safe_load(out.read_text())
    cols = data["source"]["tables"]["orders"]["columns"]
    assert (cols["customer_id"], cols["ordered_at"], cols["revenue"]) == (
        "column0",
        "column1",
        "column2",
    )
    assert data["source"]["csv"]["header"] is False
    assert "check: the file has no header" in out.read_text()
    with connect(load_params(out)) as db:
        assert db.table("orders").revenue.sum().execute() == pytest.approx(1584.4)


def test_aligned_text_listing_with_yyyymmdd_dates(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "transactions.txt").write_bytes(
        b" customer_id  date number_of_cds  dollar_value\r\n"
        b" 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n"
        b" 00002 19970112  5   77.00\r\n"
    )
    out, _ = _init(tmp_path, "--currency", "USD")
    data = yaml.safe_load(out.read_text())
    assert data["source"]["csv"]["delimiter"] == "whitespace"
    cols = data["source"]["tables"]["orders"]["columns"]
    assert cols["ordered_at"] == {"column": "date", "format": "%Y%m%d"}
    assert cols["revenue"] == "dollar_value"
    assert data["currency"] == "USD" and data["locale"] == "en"
    with connect(load_params(out)) as db:
        got = db.table("orders").order_by("order_id").execute()
        assert got.customer_id.tolist() == ["00001", "00002", "00002"]  # leading zeros kept
        assert got.revenue.tolist() == [11.77, 12.0, 77.0]
        assert got.ordered_at.dt.date.tolist()[1] == dt.date(1997, 1, 12)


def test_a_thousands_mark_late_in_the_file_is_read(tmp_path):
    """DuckDB's sniffer samples the first 20 480 lines: a '1 286,01' on line 30 000 used to
    fail the report mid-run while validate said ok."""
    folder = tmp_path / "export"
    folder.mkdir()
    lines = ["num_client;date_achat;montant"]
    lines += [f"C{i % 97:03d};01/0{1 + i % 9}/2025;{i % 50},50" for i in range(30_000)]
    lines.append("C001;15/03/2025;1 286,01")
    (folder / "achats.csv").write_text("\n".join(lines) + "\n")
    out, _ = _init(tmp_path)
    with connect(load_params(out)) as db:
        total = db.table("orders").revenue.sum().execute()
    expected = sum(i % 50 + 0.5 for i in range(30_000)) + 1286.01
    assert total == pytest.approx(expected)


def test_init_on_the_demo_database_maps_every_table_for_one_brand(demo_database, tmp_path):
    out = tmp_path / "demo.yaml"
    result = CliRunner().invoke(
        main, ["init", str(demo_database), "--brand", "bellevue", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    assert data["brand"] == "bellevue" and data["source"]["kind"] == "duckdb"
    assert "brand" not in data["source"]  # the data have a brand column
    assert set(data["source"]["tables"]) == {
        "customers", "orders", "leads", "opportunities", "activities", "campaigns",
        "campaign_members", "cases", "calls", "surveys", "web_sessions", "subscriptions",
        "referrals", "social_mentions", "crm_users", "crm_logins",
    }  # fmt: skip
    assert "KPIs these data allow: 84 of 84" in result.output
    assert "left out demo_truth_brands" in result.output
    wrong = CliRunner().invoke(main, ["init", str(demo_database), "--brand", "nope", "--out",
                                      str(tmp_path / "x.yaml")])  # fmt: skip
    assert wrong.exit_code == 2
    assert "the data's brand column holds aurora, bellevue, castello" in wrong.output


def test_nothing_to_map_says_so(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "notes.csv").write_text("title;text\nhello;world\n")
    result = CliRunner().invoke(main, ["init", str(folder), "--out", str(tmp_path / "p.yaml")])
    assert result.exit_code == 2
    assert "notes.csv: matches no canonical table" in result.output
    assert not (tmp_path / "p.yaml").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["init", str(empty)])
    assert result.exit_code == 2 and "no CSV, text, Excel or Parquet file" in result.output


def test_render_params_round_trips_through_yaml(tmp_path):
    folder = write_fr(tmp_path / "export", FR_ORDERS, FR_CUSTOMERS)
    proposal = propose(inspect_source(folder))
    text = render_params(
        proposal, brand="maison", name="Maison: l'atelier #1", locale="fr", currency="EUR",
        source_location="export",
    )  # fmt: skip
    path = tmp_path / "maison.yaml"
    path.write_text(text, encoding="utf-8")
    params = load_params(path)
    assert params.display_name == "Maison: l'atelier #1"
    assert params.source.tables["orders"].columns["order_id"].expr == "row_number() over ()"


def test_an_excel_sheet_beside_a_csv(tmp_path):
    """Excel cells keep their types (dates, numbers); text dates are read with a format."""
    import openpyxl

    folder = write_fr(tmp_path / "export")
    (folder / "clients.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Code client", "Date de création", "Origine", "Dernier contact"])
    ws.append(["C001", dt.datetime(2023, 3, 2), "Salon", "15/01/2025"])
    ws.append(["C002", dt.datetime(2024, 12, 20), "Web", "03/02/2025"])
    wb.create_sheet("notes").append(["not", "read"])
    wb.save(folder / "Fichier clients.xlsx")
    out, _ = _init(tmp_path)
    data = yaml.safe_load(out.read_text("utf-8"))
    customers = data["source"]["tables"]["customers"]
    assert customers["table"] == "Fichier clients.xlsx"
    assert customers["columns"]["customer_id"] == "Code client"
    assert customers["columns"]["created_at"] == "Date de création"
    assert "csv" not in customers
    with connect(load_params(out)) as db:
        got = db.table("customers").order_by("customer_id").execute()
        assert got.created_at.dt.date.tolist() == [dt.date(2023, 3, 2), dt.date(2024, 12, 20)]
        assert got.acquisition_channel.tolist() == ["Salon", "Web"]
        assert db.table("orders").count().execute() == 3
    result = CliRunner().invoke(main, ["validate", str(out)])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_init_on_a_postgres_database_with_french_text_columns(postgres_url, tmp_path, monkeypatch):
    """A database URL: tables found by their French names, text dates and decimal-comma
    amounts parsed in the query that PostgreSQL runs; the password stays a ${VAR}."""
    server = postgres_url.database_named("init_fr")
    with server.connect() as con:
        con.execute("DROP TABLE IF EXISTS ventes")
        con.execute(
            "CREATE TABLE ventes (num_client text, date_vente text, montant text, canal text)"
        )
        con.execute(
            "INSERT INTO ventes VALUES ('C001', '31/12/2024', '1234,50', 'Web'),"
            "('C002', '05/01/2025', '99,90', 'Magasin'), ('C001', '15/02/2025', '250', 'Web')"
        )
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "pg.yaml"
    result = CliRunner().invoke(main, ["init", server.url, "--brand", "maison", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert server.password not in text and server.password not in result.output
    data = yaml.safe_load(text)
    assert data["source"]["kind"] == "sql" and data["source"]["url"] == server.url
    cols = data["source"]["tables"]["orders"]["columns"]
    assert cols["ordered_at"] == {"column": "date_vente", "format": "%d/%m/%Y"}
    assert cols["revenue"] == {"expr": "cast(replace(montant, ',', '.') AS DOUBLE)"}
    with connect(load_params(out)) as db:
        got = db.table("orders").order_by("order_id").execute()
        assert got.revenue.tolist() == pytest.approx([1234.5, 99.9, 250.0])
        assert got.ordered_at.dt.date.tolist()[0] == dt.date(2024, 12, 31)
