"""``kpitools validate`` runs the checks ``kpitools run`` runs (one function,
:func:`kpitools.data.checks.check_params_source`): a brand without rows, a CSV DuckDB cannot
read, a table the params name that is not there, no dated row. Both print the same one line
per problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import make_db, write_params

from kpitools.cli import main
from kpitools.data.checks import check_params_source
from kpitools.params import load_params
from kpitools.runner import run_brand

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ORDER = dict(order_id=1, customer_id=1, product_line="m", ordered_at="2025-01-05", revenue=1.0)


def _validate(params: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", str(params)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    prefix = f"{params}: "
    lines = [
        line[len(prefix) :] if line.startswith(prefix) else line
        for line in result.output.splitlines()
        if line.strip()
    ]
    return result.exit_code, lines


def _run(tmp_path: Path, params: Path) -> list[str]:
    result = run_brand(params, reports_dir=tmp_path / "reports", notebooks_dir=NOTEBOOKS, pdf=False)
    assert result.status == "failed"
    assert result.failed_notebook is None  # stopped before any notebook ran
    assert "Traceback" not in (result.error or "")
    return (result.error or "").splitlines()


def _same_in_validate_and_run(tmp_path, params) -> str:
    code, lines = _validate(params)
    assert code == 1
    assert lines == _run(tmp_path, params)
    assert len(lines) == 1, lines
    assert lines == [str(p) for p in check_params_source(load_params(params))]
    return lines[0]


def test_brand_without_rows(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": [{**ORDER, "brand": "zephyr"}]})
    params = write_params(tmp_path / "acme.yaml", db)
    line = _same_in_validate_and_run(tmp_path, params)
    assert line.startswith("brand 'acme': no rows in orders")
    assert "zephyr" in line  # the brands the data do hold


def test_no_dated_row(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"crm_users": [dict(user_id=1, role="rep")]})
    params = write_params(tmp_path / "acme.yaml", db)
    line = _same_in_validate_and_run(tmp_path, params)
    assert line.startswith("brand 'acme': no dated rows")


def test_unreadable_csv(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    # mixed line endings and stray quotes: DuckDB's sniffer gives up
    (folder / "orders.csv").write_bytes(
        b"order_id,customer_id,brand,product_line,ordered_at,revenue,cost\r\n"
        b"1,1,acme,x,2025-01-01,10,5\n"
        b'2,1,acme,x,2025-01-02,"1\r\n0",5\r'
        b'3,2,acme,x,2025-01-03,1"0,5\n'
    )
    params = write_params(tmp_path / "acme.yaml", folder)
    text = params.read_text().replace("kind: duckdb", "kind: csv")
    params.write_text(text)
    line = _same_in_validate_and_run(tmp_path, params)
    assert "orders.csv" in line
    assert "cannot read" in line or "sniff" in line.lower()


def test_a_table_named_in_the_params_must_exist(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": [ORDER]})
    params = write_params(
        tmp_path / "acme.yaml",
        db,
        source={"kind": "duckdb", "path": str(db), "tables": {"customers": {"table": "clients"}}},
    )
    line = _same_in_validate_and_run(tmp_path, params)
    assert line.startswith("source.tables.customers.table: no table or file 'clients'")


def test_no_canonical_table(tmp_path):
    import duckdb

    path = tmp_path / "d.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales AS SELECT 1 AS x")
    con.close()
    params = write_params(tmp_path / "acme.yaml", path)
    line = _same_in_validate_and_run(tmp_path, params)
    assert "no canonical table" in line


@pytest.mark.parametrize("deep", [False, True])
def test_a_good_source_is_ok(tmp_path, deep):
    db = make_db(tmp_path / "d.duckdb", {"orders": [ORDER]})
    params = write_params(tmp_path / "acme.yaml", db)
    assert check_params_source(load_params(params), deep=deep) == []
    args = ["validate", str(params)] + (["--deep"] if deep else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"{params}: ok" in result.output


def test_validate_names_the_empty_optional_columns(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": [ORDER]})  # no cost in any order
    params = write_params(tmp_path / "acme.yaml", db)
    result = CliRunner().invoke(main, ["validate", str(params)])
    assert result.exit_code == 0, result.output
    assert "(empty columns, their KPIs not available: orders.cost, orders.channel)" in (
        result.output
    )
