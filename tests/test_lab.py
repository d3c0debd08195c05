"""The analysts' loop: notebooks under notebooks/ are saved without outputs by `make lab`'s
JupyterLab (jupyter_lab_config.py's pre-save hook), and `make lab` works as root."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import nbformat
import pytest

from kpitools.lab import strip_outputs, strip_outputs_hook

ROOT = Path(__file__).resolve().parent.parent


def _run_notebook() -> nbformat.NotebookNode:
    """A notebook as it is after Run All: outputs, counts, papermill and timing metadata."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 1.2}
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    code = nbformat.v4.new_code_cell("print(1 + 1)", execution_count=3)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    code.metadata["execution"] = {"iopub.execute_input": "2026-12-02T06:30:00Z"}
    code.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    return nb


def test_strip_outputs_removes_what_a_run_adds_and_keeps_the_rest():
    nb = _run_notebook()
    assert strip_outputs(nb) is True
    code = nb.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert "execution" not in code.metadata and code.metadata["tags"] == ["parameters"]
    assert code.source == "print(1 + 1)" and nb.cells[0].source == "# Title"
    assert "papermill" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(nb)
    assert strip_outputs(nb) is False  # nothing left to strip


def test_hook_strips_only_notebooks_under_the_folder(tmp_path):
    hook = strip_outputs_hook(tmp_path / "notebooks")

    class Manager:
        root_dir = str(tmp_path)

    inside = {"type": "notebook", "content": _run_notebook()}
    outside = {"type": "notebook", "content": _run_notebook()}
    hook(model=inside, path="notebooks/10-kpi-report.ipynb", contents_manager=Manager())
    hook(model=outside, path="scratch/try.ipynb", contents_manager=Manager())
    assert inside["content"].cells[1].outputs == []
    assert outside["content"].cells[1].outputs != []
    text = {"type": "file", "content": "x"}
    hook(model=text, path="notebooks/notes.txt", contents_manager=Manager())
    assert text["content"] == "x"


def test_jupyter_lab_config_strips_outputs_on_save(tmp_path):
    """The real thing: Jupyter's file contents manager, configured by the repository's
    jupyter_lab_config.py (copied into a project folder, as `make lab` passes it with
    --config), saves a run notebook of notebooks/ without outputs, and one elsewhere as is."""
    pytest.importorskip("jupyter_server")
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config.loader import PyFileConfigLoader

    shutil.copy(ROOT / "jupyter_lab_config.py", tmp_path / "jupyter_lab_config.py")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "scratch").mkdir()
    config = PyFileConfigLoader("jupyter_lab_config.py", path=str(tmp_path)).load_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # traitlets notes the hook set by config twice
        cm = FileContentsManager(root_dir=str(tmp_path), config=config)
        for path in ("notebooks/10-kpi-report.ipynb", "scratch/try.ipynb"):
            model = {"type": "notebook", "format": "json", "content": dict(_run_notebook())}
            cm.save(model, path)
    saved = nbformat.read(tmp_path / "notebooks" / "10-kpi-report.ipynb", as_version=4)
    assert saved.cells[1].outputs == [] and saved.cells[1].execution_count is None
    assert saved.cells[1].source == "print(1 + 1)"
    kept = nbformat.read(tmp_path / "scratch" / "try.ipynb", as_version=4)
    assert kept.cells[1].outputs[0].text == "2\n"


def test_shipped_notebooks_have_no_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert strip_outputs(nb) is False, f"{path.name} was committed with outputs"


def test_make_lab_uses_the_config_and_allows_root():
    """`make lab` passes --allow-root when `id -u` is 0 (a container) and says so, and always
    the config whose hook strips outputs (read from the Makefile: running make would build a
    virtual environment)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--config=jupyter_lab_config.py" in recipe
    assert '"$$(id -u)" = 0' in recipe and "--allow-root" in recipe
    assert "running as root" in recipe
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "id: nbstripout" in hooks
