"""The analysts' loop: notebooks are saved without outputs, so ``make test`` stays clean.

``make lab`` starts JupyterLab with the project's ``jupyter_lab_config.py``, which installs
:func:`strip_outputs_hook` as the contents manager's pre-save hook for the ``notebooks/``
folder: after *Run All* the outputs stay on screen, but the file written to disk has none (no
outputs, no execution counts, no per-cell execution timings), exactly what the pre-commit
``nbstripout`` hook would commit. Notebooks elsewhere (a scratch folder) are saved as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

#: cell metadata that records a run, not the notebook
RUN_METADATA = ("execution", "collapsed", "scrolled", "papermill", "ExecuteTime")
#: notebook metadata that records a run
NOTEBOOK_RUN_METADATA = ("papermill", "widgets")


def strip_outputs(nb: MutableMapping[str, Any]) -> bool:
    """Remove outputs, execution counts and run metadata from a notebook, in place.

    Parameters
    ----------
    nb : mapping
        A notebook as nbformat reads it (``{"cells": [...], "metadata": {...}}``).

    Returns
    -------
    bool
        Whether anything was removed.
    """
    changed = False
    for cell in nb.get("cells") or []:
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                changed = True
            if cell.get("execution_count") is not None:
                changed = True
            cell["outputs"] = []
            cell["execution_count"] = None
        meta = cell.get("metadata") or {}
        for key in RUN_METADATA:
            if key in meta:
                del meta[key]
                changed = True
    meta = nb.get("metadata") or {}
    for key in NOTEBOOK_RUN_METADATA:
        if key in meta:
            del meta[key]
            changed = True
    return changed


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def strip_outputs_hook(folder: str | os.PathLike) -> Callable[..., None]:
    """A Jupyter ``ContentsManager.pre_save_hook`` stripping the notebooks under ``folder``.

    Parameters
    ----------
    folder : path
        The folder whose notebooks are committed (the project's ``notebooks/``).

    Returns
    -------
    callable
        ``hook(model, path, contents_manager, **kwargs)``: when ``model`` is a notebook whose
        file (``path`` under the manager's ``root_dir``) lies in ``folder``, its content is
        stripped by :func:`strip_outputs` before it is written.
    """
    target = Path(folder)

    def hook(model: dict[str, Any], path: str, contents_manager: Any, **kwargs: Any) -> None:
        if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
            return
        root = Path(getattr(contents_manager, "root_dir", "") or ".")
        if _inside(root / path.lstrip("/"), target):
            strip_outputs(model["content"])

    return hook


__all__ = ["strip_outputs", "strip_outputs_hook"]
