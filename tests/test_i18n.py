"""The translation catalogue is complete: every message in every locale, with the same fields,
and every message id the code and the templates name exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
import yaml

import kpitools
from kpitools.locales import DEFAULT_LOCALE, LOCALES
from kpitools.report.i18n import catalogue

PACKAGE = Path(kpitools.__file__).parent
TEMPLATES = PACKAGE / "report" / "templates"


def fields(text: str) -> set[str]:
    """The ``{name}`` fields of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_exists_in_every_locale(locale):
    reference = set(catalogue(DEFAULT_LOCALE))
    here = set(catalogue(locale))
    assert not reference - here, f"missing in {locale}: {sorted(reference - here)}"
    assert not here - reference, f"only in {locale}: {sorted(here - reference)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_fields_are_the_same_in_every_locale(locale):
    reference = catalogue(DEFAULT_LOCALE)
    differ = {
        msgid: (sorted(fields(reference[msgid])), sorted(fields(text)))
        for msgid, text in catalogue(locale).items()
        if msgid in reference and fields(text) != fields(reference[msgid])
    }
    assert not differ, differ


@pytest.mark.parametrize("locale", LOCALES)
def test_no_message_is_empty(locale):
    empty = [msgid for msgid, text in catalogue(locale).items() if not text.strip()]
    assert not empty, empty


def code_msgids() -> set[tuple[str, str]]:
    """``(file, msgid)`` of every ``t("literal", …)`` call in kpitools/ (``t`` or ``i18n.t``)."""
    out = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            first = node.args[0]
            if name == "t" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                out.add((str(path.relative_to(PACKAGE)), first.value))
    return out


#: ``t("literal"`` followed by ``,`` or ``)`` in a template (not ``t("prefix." ~ code)``).
TEMPLATE_CALL = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*[,)]""")


def template_msgids() -> set[tuple[str, str]]:
    out = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        for m in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            out.add((str(path.relative_to(PACKAGE)), m.group(2)))
    return out


def test_the_scans_find_the_kpi_report_messages():
    """The scans work: they see messages of the KPI report in code and in templates."""
    assert ("report/templates/kpis/scorecard.html", "report.kpi") in template_msgids()
    assert any(m == "report.funnel" for _, m in code_msgids())


def test_every_message_id_named_in_code_exists():
    known = set(catalogue(DEFAULT_LOCALE))
    unknown = sorted(f"{f}: {m}" for f, m in code_msgids() if m not in known)
    assert not unknown, "\n".join(unknown)


def test_every_message_id_named_in_templates_exists():
    known = set(catalogue(DEFAULT_LOCALE))
    unknown = sorted(f"{f}: {m}" for f, m in template_msgids() if m not in known)
    assert not unknown, "\n".join(unknown)


def test_a_key_written_twice_in_one_file_is_refused():
    from kpitools.report.i18n import CatalogueError, _UniqueKeyLoader

    with pytest.raises(CatalogueError, match="'kpi.x.name' declared twice"):
        yaml.load("kpi.x.name: A\nkpi.y.name: B\nkpi.x.name: C\n", Loader=_UniqueKeyLoader)
