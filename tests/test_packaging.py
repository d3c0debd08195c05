"""The project's own packaging promises: environment.yml in step with pyproject.toml, etc."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _normal(spec: str) -> tuple[str, frozenset, str]:
    r = Requirement(spec)
    return (r.name.lower().replace("_", "-"), frozenset(r.extras), str(r.specifier))


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [s for s in pip_block if not s.startswith("-")]
    assert set(map(_normal, listed)) == set(map(_normal, wanted)), (
        "environment.yml and pyproject.toml list different dependencies"
    )
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    python = next(d for d in conda if d.startswith("python"))
    assert python.split("=")[-1] in project["requires-python"] or "3.11" in python


def test_generated_files_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for needle in ("/.venv/", "/data/*.duckdb", "/reports/*"):
        assert needle in ignored


def test_committed_notebooks_have_no_outputs():
    import nbformat

    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} is committed with outputs"
                assert cell.execution_count is None, f"{path.name} has execution counts"


def test_every_notebook_has_a_parameters_cell_with_demo_defaults():
    import nbformat

    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
        assert "params_path" in tagged[0].source


def test_data_model_doc_lists_every_table_and_column():
    from kpitools.schema import TABLES

    doc = (ROOT / "docs" / "data-model.md").read_text()
    for table in TABLES.values():
        assert f"## {table.name}" in doc
        for col in table.columns:
            assert f"`{col.name}`" in doc, f"{table.name}.{col.name} missing from the doc"


def test_pre_commit_runs_ruff_ruff_format_and_nbstripout_from_the_dev_extra():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff", "ruff-format", "nbstripout"} <= set(hooks)
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {_normal(s)[0] for s in dev["dev"]}
    for tool in ("ruff", "nbstripout", "pre-commit", "mypy"):
        assert tool in names, f"{tool} is not in the dev extra"
    for hook in hooks.values():  # local hooks: the dev environment's own tools
        assert hook["entry"].split()[0] in names


def _make_recipe(target: str) -> str:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return "\n".join(recipe)


def test_make_test_checks_formatting_and_make_lint_type_checks():
    assert "ruff format --check kpitools tests benchmarks" in _make_recipe("test")
    lint = _make_recipe("lint")
    assert "ruff check" in lint and "ruff format --check" in lint and "mypy kpitools" in lint
    assert '-m "not slow and not e2e"' in _make_recipe("test-fast")
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["packages"] == ["kpitools"]


def test_wheel_build_ships_the_notebooks():
    """setup.py copies the analysts' notebooks/ into the wheel (test_wheel builds it)."""
    setup = (ROOT / "setup.py").read_text()
    assert "build_py" in setup and '"notebooks"' in setup
    assert "include notebooks/*.ipynb" in (ROOT / "MANIFEST.in").read_text()
