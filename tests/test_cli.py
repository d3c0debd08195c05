"""The CLI's thin subcommands: kpis, validate, demo-data."""

from __future__ import annotations

import json
from pathlib import Path

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


_ORDER = {
    "order_id": 1,
    "customer_id": 1,
    "product_line": "m",
    "ordered_at": "2025-01-05",
    "revenue": 1.0,
}


def test_validate_reports_each_problem_and_exits_non_zero(tmp_path):
    # validate checks what run needs: the brand has a dated row
    db = make_db(tmp_path / "ok.duckdb", {"orders": [_ORDER]})
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


def test_validate_loads_neither_the_kpi_engine_nor_the_report(tmp_path):
    """``kpitools validate`` needs params and the data sources only: it starts fast."""
    import subprocess
    import sys

    # validate checks what run needs: the brand has a dated row
    db = make_db(tmp_path / "ok.duckdb", {"orders": [_ORDER]})
    params = write_params(tmp_path / "acme.yaml", db)
    code = (
        "import sys\n"
        "from kpitools.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(params)!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = ('kpitools.kpis', 'kpitools.report', 'kpitools.roi', 'kpitools.clv',\n"
        "         'kpitools.plots', 'kpitools.runner', 'papermill', 'matplotlib')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kpitools', 'papermill',\n"
        "      'matplotlib') and m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_run_without_notebooks_folder_says_so(tmp_path, monkeypatch):
    """Outside a project and with no packaged copy (an editable install), ``run`` fails with
    one line naming ``--notebooks``, before any brand runs."""
    import kpitools.runner as runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "PACKAGED_NOTEBOOKS", tmp_path / "none")
    monkeypatch.setattr(runner, "SOURCE_NOTEBOOKS", tmp_path / "none")
    # validate checks what run needs: the brand has a dated row
    db = make_db(tmp_path / "ok.duckdb", {"orders": [_ORDER]})
    params = write_params(tmp_path / "acme.yaml", db)
    result = CliRunner().invoke(main, ["run", str(params), "--reports", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "--notebooks DIR" in result.output
    assert not (tmp_path / "r").exists()


def test_default_notebooks_folder_is_the_local_one_when_it_holds_the_reports(tmp_path):
    from kpitools.runner import PACKAGED_NOTEBOOKS, default_notebooks_dir

    root = Path(__file__).resolve().parent.parent
    assert default_notebooks_dir(root) == root / "notebooks"
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "10-kpi-report.ipynb").write_text("{}")  # not all of them
    if PACKAGED_NOTEBOOKS.is_dir():  # a wheel install
        assert default_notebooks_dir(tmp_path) == PACKAGED_NOTEBOOKS.resolve()
