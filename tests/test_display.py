"""Notebook display: results render as HTML through report/display.py, not through methods of
the analytics classes."""

from __future__ import annotations

import importlib

from IPython.core.interactiveshell import InteractiveShell

from kpitools.kpis.compute import NotAvailable
from kpitools.report.display import DISPLAYS, register_display_hooks


def test_every_display_names_a_real_result_class_without_its_own_html():
    for module, name in DISPLAYS:
        cls = getattr(importlib.import_module(module), name)
        assert isinstance(cls, type), f"{module}.{name}"
        assert not hasattr(cls, "_repr_html_"), f"{module}.{name} builds its own HTML"


def test_registered_hooks_render_a_result_as_html():
    shell = InteractiveShell.instance()
    assert register_display_hooks(shell)
    data, _ = shell.display_formatter.format(NotAvailable("leads"))
    assert "text/html" in data
    assert "leads" in data["text/html"] and "<" in data["text/html"]
