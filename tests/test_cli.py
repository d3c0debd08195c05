"""The CLI's thin subcommands: kpis, validate, demo-data."""

from __future__ import annotations

import json

from click.testing import CliRunner
from helpers import make_db, write_params

from kpitools.cli import main
from kpitools.kpis.registry import get_registry
from kpitools.report.i18n import kpi_description, kpi_name


def test_kpis_lists_every_kpi_in_three_languages():
    result = CliRunner().invoke(main, ["kpis"])
    assert result.exit_code == 0, result.output
    reg = get_registry()
    for k in reg.values():
        assert f"  {k.id}  [" in result.output
        for lang in ("en", "fr", "it"):
            assert (
                f"    {lang}: {kpi_name(k.id, lang)}: {kpi_description(k.id, lang)}"
                in result.output
            )
    assert "Sales / Ventes / Vendite" in result.output


def test_kpis_json_for_tools():
    result = CliRunner().invoke(main, ["kpis", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert len(doc) == len(get_registry()) >= 55
    first = doc[0]
    assert {"id", "department", "unit", "direction", "tables", "labels", "definition"} <= set(first)
    assert set(first["labels"]) == {"en", "fr", "it"}


def test_validate_reports_each_problem_and_exits_non_zero(tmp_path):
    db = make_db(tmp_path / "ok.duckdb", {"orders": []})
    good = write_params(tmp_path / "good.yaml", db)
    bad = tmp_path / "bad.yaml"
    bad.write_text("brand: x\nperiod: {grain: week}\nsource: {path: nowhere.duckdb}\nsorce: 1\n")
    result = CliRunner().invoke(main, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{good}: ok" in result.output
    assert f"{bad}: period.grain: Input should be 'month', 'quarter' or 'year'" in result.output
    assert f"{bad}: sorce: unknown field" in result.output
    assert "absent tables" in result.output  # the good source lacks most tables: said, not fatal


def test_validate_deep_finds_bad_values(tmp_path):
    db = make_db(
        tmp_path / "bad_values.duckdb",
        {"surveys": [dict(response_id=1, responded_at="2025-01-01", nps_score=11)]},
    )
    params = write_params(tmp_path / "acme.yaml", db)
    result = CliRunner().invoke(main, ["validate", "--deep", str(params)])
    assert result.exit_code == 1
    assert "table 'surveys', column 'nps_score': values outside [0, 10]" in result.output


def test_demo_data_command_writes_a_database(tmp_path):
    out = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(
        main, ["demo-data", "--out", str(out), "--customers", "500", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and "500 customers" in result.output
