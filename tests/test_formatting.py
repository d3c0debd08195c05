"""Tests of kpitools.report.formatting: numbers and words in en / fr / it."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpitools.periods import Period
from kpitools.report.formatting import (
    change_kind,
    format_change,
    format_number,
    format_value,
    period_title,
)
from kpitools.report.i18n import CatalogueError, t

NBSP = "\u00a0"
NNBSP = "\u202f"
MINUS = "\u2212"


def norm(s: str) -> str:
    """Replace the locales' non-breaking and narrow non-breaking spaces by plain spaces."""
    return s.replace(NBSP, " ").replace(NNBSP, " ")


def check(actual: str, expected: str) -> None:
    """Equal after normalising spaces, and never a breakable plain space inside a number."""
    assert norm(actual) == expected
    assert " " not in actual, f"breakable space in {actual!r}"


# --------------------------------------------------------------------------------------
# format_value
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "locale", "expected"),
    [
        # currency: no decimals from 1000 on, the locale's symbol position
        (12345.6, "currency", "en", "€12,346"),
        (12345.6, "currency", "fr", "12 346 €"),
        (12345.6, "currency", "it", "12.346 €"),
        (123.456, "currency", "en", "€123.46"),
        (123.456, "currency", "fr", "123,46 €"),
        (123.456, "currency", "it", "123,46 €"),
        (-1234.5, "currency", "en", "-€1,234"),
        (-1234.5, "currency", "fr", "-1 234 €"),
        # counts are rounded integers with grouping
        (12345.6, "count", "en", "12,346"),
        (12345.6, "count", "fr", "12 346"),
        (12345.6, "count", "it", "12.346"),
        (0, "count", "en", "0"),
        # ratios are fractions shown as percentages with one decimal
        (0.1234, "ratio", "en", "12.3%"),
        (0.1234, "ratio", "it", "12,3%"),
        (1.0, "ratio", "en", "100.0%"),
        # scores: one decimal
        (42.34, "score", "en", "42.3"),
        (42.34, "score", "fr", "42,3"),
        (8.0, "score", "it", "8,0"),
        # durations: one decimal and the unit word
        (3.5, "days", "en", "3.5 days"),
        (3.5, "days", "fr", "3,5 jours"),
        (3.5, "days", "it", "3,5 giorni"),
        (1.5, "hours", "en", "1.5 h"),
        (20, "minutes", "fr", "20,0 min"),
        (12.34, "seconds", "it", "12,3 s"),
        # plain numbers: up to two decimals
        (1234.567, "number", "en", "1,234.57"),
        (1234.567, "number", "fr", "1 234,57"),
        (1234.567, "number", "it", "1.234,57"),
        (2.0, "number", "en", "2"),
    ],
)
def test_format_value(value, unit, locale, expected):
    check(format_value(value, unit, locale, "EUR"), expected)


def test_currency_french_uses_non_breaking_spaces():
    s = format_value(12345.6, "currency", "fr", "EUR")
    assert s == f"12{NNBSP}346{NBSP}€"


@pytest.mark.parametrize(
    ("currency", "locale", "expected"),
    [("GBP", "en", "£12,346"), ("GBP", "it", "12.346 £"), ("USD", "en", "US$12,346")],
)
def test_format_value_other_currencies(currency, locale, expected):
    check(format_value(12345.6, "currency", locale, currency), expected)


def test_ratio_french_has_space_before_percent():
    check(format_value(0.1234, "ratio", "fr"), "12,3 %")
    check(format_change(0.034, "relative", "fr"), "+3,4 %")


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
@pytest.mark.parametrize(
    "unit", ["count", "ratio", "currency", "score", "days", "hours", "minutes", "seconds", "number"]
)
@pytest.mark.parametrize("value", [None, float("nan"), np.nan, float("inf"), -math.inf])
def test_missing_values_show_a_dash(value, unit, locale):
    assert format_value(value, unit, locale) == "–"


@pytest.mark.parametrize("value", [np.float32("nan"), pd.NA], ids=["float32-nan", "pd-NA"])
def test_missing_numpy_and_pandas_values_show_a_dash(value):
    assert format_value(value, "ratio", "en") == "–"


def test_numpy_scalars_are_formatted():
    check(format_value(np.float64(0.5), "ratio", "en"), "50.0%")
    check(format_value(np.int64(12345), "count", "fr"), "12 345")


def test_format_number():
    check(format_number(1234567.891, "en", 2), "1,234,567.89")
    check(format_number(1234567.891, "fr", 2), "1 234 567,89")
    check(format_number(1234567.891, "it"), "1.234.568")
    assert format_number(None) == "–"


# --------------------------------------------------------------------------------------
# format_change
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "kind", "locale", "expected"),
    [
        (1.234, "points", "en", "+1.2 pp"),
        (1.234, "points", "fr", "+1,2 pt"),
        (1.234, "points", "it", "+1,2 p.p."),
        (-1.234, "points", "en", f"{MINUS}1.2 pp"),
        (-1.234, "points", "fr", f"{MINUS}1,2 pt"),
        # a change of a ratio is a fraction, shown in percentage points
        (0.0123, "points_ratio", "en", "+1.2 pp"),
        (-0.0123, "points_ratio", "it", f"{MINUS}1,2 p.p."),
        (0.034, "relative", "en", "+3.4%"),
        (-0.034, "relative", "en", f"{MINUS}3.4%"),
        (-0.034, "relative", "it", f"{MINUS}3,4%"),
        (1.5, "relative", "en", "+150.0%"),
        (0, "relative", "en", "±0.0%"),
        (0.0, "points", "fr", "±0,0 pt"),
    ],
)
def test_format_change(change, kind, locale, expected):
    check(format_change(change, kind, locale), expected)


@pytest.mark.parametrize("change", [None, float("nan"), math.inf])
@pytest.mark.parametrize("kind", ["points", "points_ratio", "relative"])
def test_format_change_missing(change, kind):
    assert format_change(change, kind, "fr") == "–"


def test_minus_sign_is_typographic():
    s = format_change(-0.05, "relative", "en")
    assert s.startswith(MINUS) and "-" not in s


@pytest.mark.parametrize(
    ("unit", "kind"),
    [
        ("ratio", "points_ratio"),
        ("score", "difference"),
        ("currency", "relative"),
        ("count", "relative"),
    ],
)
def test_change_kind(unit, kind):
    assert change_kind(unit) == kind


# --------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "start", "locale", "expected"),
    [
        ("month", date(2025, 12, 1), "en", "December 2025"),
        ("month", date(2025, 12, 1), "fr", "décembre 2025"),
        ("month", date(2025, 12, 1), "it", "dicembre 2025"),
        ("month", date(2025, 2, 1), "fr", "février 2025"),
        ("quarter", date(2025, 10, 1), "en", "Q4 2025"),
        ("quarter", date(2025, 10, 1), "fr", "T4 2025"),
        ("quarter", date(2025, 1, 1), "it", "T1 2025"),
        ("year", date(2025, 1, 1), "en", "2025"),
        ("year", date(2025, 1, 1), "fr", "2025"),
        ("year", date(2025, 1, 1), "it", "2025"),
    ],
)
def test_period_title(grain, start, locale, expected):
    assert period_title(Period(grain, start), locale) == expected


def test_text_lookup_in_the_catalogue():
    assert t("report.summary", "fr") == "Synthèse"
    assert t("report.summary", "it") == "Sintesi"
    assert t("report.summary") == "Summary"
    with pytest.raises(CatalogueError, match="unknown locale"):
        t("report.summary", "de")
    with pytest.raises(CatalogueError, match="no message"):
        t("summary", "en")


@pytest.mark.parametrize(
    ("locale", "days", "points", "quarter"),
    [("en", "days", "pp", "Q"), ("fr", "jours", "pt", "T"), ("it", "giorni", "p.p.", "T")],
)
def test_unit_words_come_from_the_catalogue(locale, days, points, quarter):
    assert format_value(2, "days", locale).endswith(NBSP + t("unit.days", locale))
    assert t("unit.days", locale) == days
    assert format_change(1.0, "points", locale).endswith(NBSP + points)
    assert period_title(Period("quarter", date(2025, 4, 1)), locale) == f"{quarter}2 2025"
