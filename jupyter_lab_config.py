"""JupyterLab settings of ``make lab`` (``jupyter lab --config=jupyter_lab_config.py``).

Notebooks under ``notebooks/`` are saved without outputs (kpitools.lab.strip_outputs_hook):
after Run All the outputs stay on screen, the file on disk has none, so ``make test`` (nbval)
and the pre-commit nbstripout hook never see them. Outside ``notebooks/`` nothing is changed.
"""

from pathlib import Path

from kpitools.lab import strip_outputs_hook

c = get_config()  # noqa: F821 - defined by Jupyter when it reads this file
c.ContentsManager.pre_save_hook = strip_outputs_hook(Path(__file__).resolve().parent / "notebooks")
