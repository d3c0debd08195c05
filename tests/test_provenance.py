"""Provenance of a report: hand-made data, every field checked (kpitools.data.provenance)."""

from __future__ import annotations

import hashlib

from helpers import make_db, write_params

from kpitools.data.provenance import compute_provenance, local_time, source_label
from kpitools.data.sources import connect
from kpitools.params import load_params
from kpitools.report.notebook import show_footer

ORDERS = [
    dict(order_id=1, customer_id=1, product_line="m", ordered_at="2025-01-05", revenue=10.0),
    dict(order_id=2, customer_id=2, product_line="m", ordered_at="2025-03-09 14:30", revenue=5.0),
    # another brand's row: neither counted nor its date taken as the freshness
    dict(
        order_id=3,
        customer_id=3,
        product_line="m",
        ordered_at="2025-06-01",
        revenue=1.0,
        brand="other",
    ),
]


def test_provenance_counts_the_brands_rows_and_their_latest_date(tmp_path):
    (tmp_path / "params").mkdir()
    (tmp_path / "data").mkdir()
    db_path = make_db(tmp_path / "data" / "crm.duckdb", {"orders": ORDERS, "customers": []})
    params_file = write_params(tmp_path / "params" / "acme.yaml", db_path)
    params = load_params(params_file)
    with connect(params) as db:
        prov = compute_provenance(
            params, db, run_id="20261202T063000-ab12cd", started_at="2026-12-02T06:30:00+00:00"
        )
        html = str(show_footer(params, db, prov))
    assert prov.params_file == "acme.yaml"
    assert prov.params_sha256 == hashlib.sha256(params_file.read_bytes()).hexdigest()
    assert prov.source == "duckdb:../data/crm.duckdb"  # relative to the params file
    assert prov.tables["orders"] == {"rows": 2, "latest": "2025-03-09T14:30:00"}
    assert prov.tables["customers"] == {"rows": 0, "latest": None}
    assert "table customers: no rows for this brand" in prov.warnings
    assert any(w.startswith("table leads: absent") for w in prov.warnings)
    assert prov.run_id == "20261202T063000-ab12cd"
    assert prov.started_at == "2026-12-02T06:30:00+00:00" <= prov.ended_at
    assert len(prov.data_fingerprint) == 64
    assert str(tmp_path) not in html
    assert "20261202T063000-ab12cd" in html and prov.params_sha256 in html
    assert "<td>orders</td><td>2</td><td>2025-03-09 14:30</td>" in html
    assert "2026-12-02 06:30 UTC" in html


def test_a_source_outside_the_project_shows_only_its_name(tmp_path):
    elsewhere = tmp_path / "srv" / "exports"
    elsewhere.mkdir(parents=True)
    db_path = make_db(elsewhere / "crm.duckdb", {"orders": ORDERS})
    (tmp_path / "proj" / "params").mkdir(parents=True)
    params = load_params(write_params(tmp_path / "proj" / "params" / "acme.yaml", db_path))
    assert source_label(params) == "duckdb:crm.duckdb"


def test_a_sql_source_shows_no_credential(tmp_path):
    (tmp_path / "params").mkdir()
    params = load_params(
        write_params(
            tmp_path / "params" / "acme.yaml",
            tmp_path / "x.duckdb",
            source={
                "kind": "sql",
                "url": "postgresql://${PGUSER}:${PGPASSWORD}@db.example:5432/crm",
            },
        )
    )
    label = source_label(params)
    assert "PGPASSWORD" not in label and "PGUSER" not in label
    assert label.startswith("postgresql://db.example")


def test_a_spark_catalog_source_shows_its_database(tmp_path):
    (tmp_path / "params").mkdir()
    source = {"kind": "spark", "spark": {"database": "crm_gold"}}
    params = load_params(
        write_params(tmp_path / "params" / "acme.yaml", tmp_path / "x.duckdb", source=source)
    )
    assert source_label(params) == "spark:catalog/crm_gold"  # not "spark:." (no path)


def test_local_time_marks_utc_only_when_the_time_has_an_offset():
    assert local_time("2026-12-02T06:30:00+00:00") == "2026-12-02 06:30 UTC"
    assert local_time("2025-12-31T22:42:08") == "2025-12-31 22:42"
    assert local_time(None) == "–"
