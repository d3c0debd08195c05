"""Paths never come from the working directory by accident.

A project lives elsewhere (``<project>/params/acme.yaml`` with ``source.path:
../data/acme.duckdb``, ``<project>/notebooks/``); every command runs from an unrelated working
directory. Params sources resolve from the params file's folder, ``--all`` finds
``--params-dir``'s files (or says which folder it searched), reports default to
``<project>/reports`` and the report notebooks to ``<project>/notebooks``.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner
from helpers import make_db

from kpitools.cli import main
from kpitools.errors import KpitoolsError
from kpitools.runner import (
    common_project_dir,
    default_notebooks_dir,
    default_reports_dir,
    project_dir,
)

ORDERS = [
    {
        "order_id": i + 1,
        "customer_id": i % 3 + 1,
        "ordered_at": f"2025-{m:02d}-10",
        "product_line": "line",
        "revenue": 100.0,
        "cost": 40.0,
    }
    for i, m in enumerate([1, 2, 3, 4])
]


def _project(root: Path, brands=("acme", "bolt")) -> Path:
    """``root/params/<brand>.yaml`` reading ``../data/crm.duckdb``, as the demo params do."""
    (root / "data").mkdir(parents=True)
    (root / "params").mkdir()
    make_db(root / "data" / "crm.duckdb", {"orders": ORDERS}, defaults={"brand": "acme"})
    for brand in brands:
        data = {
            "brand": "acme",
            "name": brand.title(),
            "locale": "en",
            "currency": "EUR",
            "period": {"grain": "month"},
            "source": {"kind": "duckdb", "path": "../data/crm.duckdb"},
        }
        (root / "params" / f"{brand}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A project in tmp/project, the working directory tmp/elsewhere (empty)."""
    project = _project(tmp_path / "project")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return project


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_all_from_another_folder_names_the_folder_it_searched(elsewhere):
    result = invoke("validate", "--all")
    assert result.exit_code == 2
    searched = Path.cwd().resolve() / "params"
    assert f"--all: no params files (*.yaml) in {searched}" in result.output
    assert "--params-dir DIR" in result.output
    assert "Traceback" not in result.output


def test_validate_all_with_params_dir_resolves_sources_from_the_params_folder(elsewhere):
    params = elsewhere / "params"
    for args in (["--all", "--params-dir", str(params)], ["--params-dir", str(params)]):
        result = invoke("validate", *args)
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert [line.split(": ")[0] for line in lines] == [
            str(params / "acme.yaml"),
            str(params / "bolt.yaml"),
        ]
        assert all(": ok" in line for line in lines)


def test_validate_names_relative_to_params_dir_and_to_the_working_directory(elsewhere):
    params = elsewhere / "params"
    result = invoke("validate", "--params-dir", str(params), "bolt.yaml")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{params / 'bolt.yaml'}: ok")
    # without --params-dir a name is the shell's: relative to the working directory
    result = invoke("validate", "bolt.yaml")
    assert result.exit_code != 0
    result = invoke("validate", str(params / "acme.yaml"))
    assert result.exit_code == 0, result.output
    result = invoke("validate", "--params-dir", str(elsewhere / "nope"), "--all")
    assert result.exit_code == 2
    assert f"--params-dir: no folder {(elsewhere / 'nope').resolve()}" in result.output


def test_project_folder_of_params_files(tmp_path):
    assert project_dir(tmp_path / "p" / "params" / "a.yaml") == (tmp_path / "p").resolve()
    assert project_dir(tmp_path / "srv" / "a.yaml") == (tmp_path / "srv").resolve()
    files = [tmp_path / "p" / "params" / "a.yaml", tmp_path / "p" / "params" / "b.yaml"]
    assert default_reports_dir(files) == (tmp_path / "p" / "reports").resolve()
    with pytest.raises(KpitoolsError, match="--reports-dir DIR"):
        common_project_dir([tmp_path / "p" / "params" / "a.yaml", tmp_path / "q" / "a.yaml"])


def _tiny_notebook(path: Path) -> Path:
    """A report notebook that writes a minimal kpis.json (papermill injects the parameters)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'params_path = ""\nperiod = None\nkpis_path = "kpis.json"',
        metadata={"tags": ["parameters"]},
    )
    body = nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "pathlib.Path(kpis_path).write_text(json.dumps("
        "{'brand': 'acme', 'period': period, 'params_path': params_path, 'kpis': {}}))\n"
        "print(pathlib.Path.cwd())"
    )
    nb.cells = [params, body]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def test_default_notebooks_are_the_projects_own(elsewhere):
    (elsewhere / "notebooks").mkdir()
    for name in ("10-kpi-report", "20-campaign-roi", "30-customer-value"):
        _tiny_notebook(elsewhere / "notebooks" / f"{name}.ipynb")
    assert default_notebooks_dir(elsewhere) == (elsewhere / "notebooks").resolve()


@pytest.mark.e2e
def test_run_from_another_folder_publishes_into_the_projects_reports(elsewhere):
    _tiny_notebook(elsewhere / "notebooks" / "tiny.ipynb")
    acme = elsewhere / "params" / "acme.yaml"
    data = yaml.safe_load(acme.read_text())
    data["report"] = {"notebooks": ["tiny.ipynb"]}  # relative: in the project's notebooks/
    acme.write_text(yaml.safe_dump(data, sort_keys=False))
    (elsewhere / "params" / "bolt.yaml").unlink()

    result = invoke("run", "--params-dir", str(elsewhere / "params"), "--no-pdf", "-j", "1")
    assert result.exit_code == 0, result.output
    published = elsewhere / "reports" / "acme" / "2025-03"
    doc = json.loads((published / "kpis.json").read_text())
    assert doc["period"] == "2025-03" and Path(doc["params_path"]) == acme.resolve()
    assert (published / "report.html").is_file()
    assert f"index: {(elsewhere / 'reports' / 'index.html').resolve()}" in result.output
    assert not (Path.cwd() / "reports").exists()

    other = Path.cwd() / "out"
    result = invoke("run", str(acme), "--reports-dir", "out", "--no-pdf", "-j", "1")
    assert result.exit_code == 0, result.output
    assert (other / "acme" / "2025-03" / "kpis.json").is_file()
    assert (other / "index.html").is_file()
