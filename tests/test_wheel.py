"""The built wheel works on its own: installed (not editable) into a fresh venv, it runs a
brand's report from a folder outside the project, with the notebooks shipped in the package.

The venv reuses the development environment's third-party packages through a ``.pth`` file (no
download of every dependency; their data files, nbconvert's templates, through
``JUPYTER_PATH``), but ``kpitools`` itself is imported from the installed wheel:
the test asserts that ``kpitools.__file__`` is inside the new venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from kpitools.data.demo import generate_demo
from kpitools.params import ReportParams

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parent.parent
#: What a source distribution of the project holds (enough to build the wheel).
SOURCES = ("kpitools", "notebooks", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the project's sources (the work tree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(p, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)])
    [whl] = out.glob("kpitools-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (not editable); returns its folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    # third-party dependencies from the development environment (after the venv's own)
    (site / "_kpitools_dev_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + ["--no-index", str(wheel)]
    )
    return env


def test_wheel_ships_the_notebooks_templates_and_catalogues(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for nb in ReportParams().notebooks:
        assert f"kpitools/notebooks/{nb}.ipynb" in names
    for path in (ROOT / "kpitools").rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_file() and "__pycache__" not in rel and path.suffix != ".pyc":
            assert rel in names, f"{rel} is not in the wheel"


def test_installed_wheel_runs_a_brand_outside_the_project(installed, tmp_path):
    bin_dir = installed / "bin"
    where = _run(
        [str(bin_dir / "python"), "-c", "import kpitools; print(kpitools.__file__)"],
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(installed.resolve()), where

    db = generate_demo(tmp_path / "demo.duckdb", customers=3000, seed=7)["path"]
    params = yaml.safe_load((ROOT / "params" / "aurora.yaml").read_text(encoding="utf-8"))
    params["source"] = {"kind": "duckdb", "path": str(db)}
    work = tmp_path / "elsewhere"  # no notebooks/ here: the packaged copy is used
    work.mkdir()
    (work / "aurora.yaml").write_text(yaml.safe_dump(params, allow_unicode=True))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (nbconvert's templates) are in the development prefix too
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    proc = subprocess.run(
        [str(bin_dir / "kpitools"), "run", "aurora.yaml", "--reports", "out", "-j", "1"]
        + ["--no-pdf"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [folder] = [p for p in (work / "out" / "aurora").iterdir() if not p.name.startswith("_")]
    assert (folder / "report.html").is_file()
    doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    assert doc["brand"] == "aurora" and doc["kpis"]["revenue"]["value"] > 0
    assert (work / "out" / "index.html").is_file()
