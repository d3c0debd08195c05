"""Every template under ``kpitools/report/templates/`` is used, and every template named exists.

A static check: a template's name must appear, quoted, in kpitools' code (``render("x.html")``)
or in another template (``{% include "x.html" %}``), so no template is dead and escapes the
escaping tests (``tests/test_escaping_*.py`` render every public HTML function); a quoted
``*.html`` name in the code must be a template that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import kpitools
from kpitools.report.templating import environment

PACKAGE = Path(kpitools.__file__).parent
TEMPLATES = PACKAGE / "report" / "templates"
_QUOTED = re.compile(r"""["']([\w\-/]+\.html)["']""")


def _templates() -> set[str]:
    return {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")}


def _references() -> dict[str, set[str]]:
    """Template name → the files (code or templates) that name it."""
    refs: dict[str, set[str]] = {}
    for path in [*PACKAGE.rglob("*.py"), *TEMPLATES.rglob("*.html")]:
        for name in _QUOTED.findall(path.read_text(encoding="utf-8")):
            refs.setdefault(name, set()).add(path.relative_to(PACKAGE).as_posix())
    return refs


def test_the_environment_sees_every_template_file():
    assert set(environment().list_templates(extensions=["html"])) == _templates()


def test_every_template_is_rendered_from_code():
    refs = _references()
    unused = sorted(name for name in _templates() if name not in refs)
    assert unused == [], f"templates no code or template renders: {unused}"


def test_every_template_named_exists():
    templates = _templates()
    # ``report.html`` and the like are the names of published documents, not templates.
    documents = {"report.html", "index.html"}
    missing = {
        name: sorted(files)
        for name, files in _references().items()
        if name not in templates and name not in documents and "/" in name
    }
    assert missing == {}, f"templates named but absent: {missing}"
