"""Build step of kpitools (everything else is in pyproject.toml).

The report notebooks live in the project's top-level ``notebooks/`` folder, where analysts
open and edit them; the wheel ships a copy in ``kpitools/notebooks/`` so that an installed
kpitools (``pip install .``, not editable) can run a report from any folder
(:func:`kpitools.runner.default_notebooks_dir`). An editable install reads ``./notebooks`` or
``kpitools run --notebooks DIR`` instead.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class build_py_with_notebooks(build_py):
    """``build_py`` that also copies ``notebooks/*.ipynb`` into ``kpitools/notebooks/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the project's notebooks/ in place
        target = Path(self.build_lib) / "kpitools" / "notebooks"
        self.mkpath(str(target))
        for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
            self.copy_file(str(nb), str(target / nb.name))


setup(cmdclass={"build_py": build_py_with_notebooks})
