"""Every registered KPI has its four glossary texts (name, definition, population, window) in
every report language, written in plain words: no column, table or setting names.

The population and window texts live in ``report/locales/<locale>/glossary.yaml``, names and
definitions in ``kpis.yaml``; a text whose value depends on a setting names it as a ``{field}``
that the glossary fills in (see :mod:`kpitools.report.glossary`).
"""

from __future__ import annotations

import re
import string

import pytest

from kpitools.kpis.registry import get_registry
from kpitools.locales import LOCALES
from kpitools.report.glossary import TEXT_PARTS, fill_fields, kpi_text, setting_values
from kpitools.report.i18n import catalogue
from kpitools.schema import TABLES

#: A word with an underscore (``lapse_days``, ``converted_at``, ``is_renewal``).
SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
#: ``orders.revenue``, ``settings.x``, ``roi.attribution_days``: a table or section and a field.
DOTTED = re.compile(r"\b(?:settings|roi|clv|params|" + "|".join(TABLES) + r")\.[a-z]")
#: A timestamp column's suffix, a boolean column's prefix, a Python/SQL value.
CODE_WORDS = re.compile(r"(_at\b|\bis_[a-z]|\bNULL\b|\bNone\b|\bTrue\b|\bFalse\b|``)")


def without_fields(text: str) -> str:
    """The text with its ``{field}`` names removed (they are filled in, never shown)."""
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


def code_names(text: str) -> list[str]:
    """Column, table or setting names that a director should not read."""
    plain = without_fields(text)
    return [m.group(0) for rx in (SNAKE, DOTTED, CODE_WORDS) for m in rx.finditer(plain)]


def test_code_names_are_caught():
    assert code_names("orders with converted_at set") == ["converted_at", "_at"]
    assert code_names("sum of orders.revenue") == ["orders.r"]
    assert code_names("within settings.lapse_days") == ["lapse_days", "settings.l"]
    assert code_names("renewals (is_renewal true)") == ["is_renewal", "is_r"]
    assert code_names("within {conversion_window_days} days of creation") == []
    assert code_names("Customers who ordered in the period, e-mail and phone filled in.") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kpi_has_its_four_texts(locale):
    messages = catalogue(locale)
    missing = [
        f"kpi.{k}.{part}"
        for k in get_registry()
        for part in TEXT_PARTS
        if not messages.get(f"kpi.{k}.{part}", "").strip()
    ]
    assert not missing, f"{locale}: {len(missing)} texts missing: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_name_no_column_or_setting(locale):
    messages = catalogue(locale)
    bad = {
        f"kpi.{k}.{part}": names
        for k in get_registry()
        for part in TEXT_PARTS
        if (names := code_names(messages.get(f"kpi.{k}.{part}", "")))
    }
    assert not bad, f"{locale}: column or setting names in KPI texts: {bad}"


@pytest.mark.parametrize("locale", LOCALES)
def test_fields_are_settings_that_get_filled(locale):
    """A ``{field}`` in a KPI text is a setting of the params, so the glossary can fill it."""
    values = setting_values()
    unknown = {}
    for k in get_registry():
        for part in TEXT_PARTS:
            text = catalogue(locale).get(f"kpi.{k}.{part}", "")
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n}
            if names - set(values):
                unknown[f"kpi.{k}.{part}"] = sorted(names - set(values))
    assert not unknown, unknown


def test_fields_are_filled_with_the_brands_value():
    values = setting_values()
    assert "{" not in (kpi_text("loyal_customers", "population", "en", values) or "{")
    assert "3 periods" in kpi_text("loyal_customers", "population", "en", values)
    assert "45 minutes" in fill_fields(
        "within {lead_response_target_minutes} minutes", {"lead_response_target_minutes": 45.0}
    )
    assert fill_fields("{unknown} stays", {}) == "{unknown} stays"
