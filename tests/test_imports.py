"""What a report notebook's first cell imports stays out of the export and PDF machinery.

Each notebook's import cell is run in a fresh interpreter (as a kernel would) and
``sys.modules`` is read afterwards: nbformat (with jsonschema), nbconvert and WeasyPrint are
loaded only by :mod:`kpitools.report.export`'s functions, never by a report kernel.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HEAVY = ("nbformat", "nbconvert", "weasyprint", "jsonschema")
#: statsmodels' models and tests (1.6 s to import) are loaded by the functions that fit or size
#: something (estimate_lift, the power calculations), not by importing kpitools; seaborn's
#: ``import statsmodels`` probe loads only the package and its version module
STATSMODELS_PROBE = {"statsmodels", "statsmodels._version"}


def import_cell(notebook: Path) -> str:
    """The source of the first code cell after the ``parameters`` cell (the imports)."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    tagged = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    return "".join(cells[tagged[0] + 1]["source"])


def loaded_modules(code: str) -> set[str]:
    """Every module name in ``sys.modules`` after running ``code`` in a new interpreter."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=NOTEBOOKS
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def loaded_after(code: str) -> set[str]:
    """Top-level module names in ``sys.modules`` after running ``code`` in a new interpreter."""
    return {m.split(".")[0] for m in loaded_modules(code)}


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_imports_leave_export_machinery_out(name):
    code = import_cell(NOTEBOOKS / name)
    assert "setup_notebook()" in code  # the cell found is the import cell
    loaded = loaded_after(code)
    assert "kpitools" in loaded and "matplotlib" in loaded  # the cell really ran
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_imports_leave_statsmodels_models_out(name):
    """The KPI report fits nothing: its import cell (like the other two) must not pay for
    statsmodels.api / regression / stats; estimate_lift and the power functions import them."""
    loaded = loaded_modules(import_cell(NOTEBOOKS / name))
    assert "kpitools.roi" in loaded or "kpitools" in loaded  # the cell really ran
    extra = {m for m in loaded if m.split(".")[0] == "statsmodels"} - STATSMODELS_PROBE
    assert not extra, sorted(extra)[:10]


def test_roi_modules_import_without_statsmodels():
    loaded = loaded_modules("import kpitools.roi.estimators, kpitools.roi.guardrails")
    extra = {m for m in loaded if m.split(".")[0] == "statsmodels"} - STATSMODELS_PROBE
    assert not extra, sorted(extra)[:10]


def test_export_module_imports_nothing_heavy():
    loaded = loaded_after("import kpitools.report.export")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_kpi_figures_do_not_load_clv_or_roi_figures():
    code = (
        "from kpitools.plots import plot_trends\nimport sys\n"
        "assert 'kpitools.plots.kpis' in sys.modules\n"
        "assert 'kpitools.plots.clv' not in sys.modules, 'clv'\n"
        "assert 'kpitools.plots.roi' not in sys.modules, 'roi'\n"
    )
    loaded_after(code)


def test_lazy_plots_names_resolve():
    import kpitools.plots as plots
    from kpitools.plots.clv import plot_calibration

    assert plots.plot_calibration is plot_calibration
    assert set(plots.__all__) == set(plots._EXPORTS)
    with pytest.raises(AttributeError, match="no_such_plot"):
        _ = plots.no_such_plot
