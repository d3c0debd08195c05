"""Numbers and dates for the report's locale (en, fr, it), with Babel.

Every number a stakeholder reads goes through :func:`format_value` or :func:`format_change`,
so that a French report shows ``12 345,6 €`` and ``+1,2 pt`` and never ``nan`` or ``None``.
The few words they need (unit words, ``pp``/``pt``, the quarter's ``Q``/``T``) come from the
catalogue (:mod:`kpitools.report.i18n`: ``unit.*``, ``period.quarter_prefix``). In templates
they are filters: ``kpi_value``, ``change``, ``number``, ``date``, ``period_title``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent

from ..locales import BABEL_LOCALE
from ..numbers import is_missing
from ..periods import Period
from ..vocab import Unit
from . import i18n


def babel_locale(locale: str) -> str:
    """Babel's locale for a report language: ``en`` → ``en_GB``, ``fr`` → ``fr_FR``."""
    return BABEL_LOCALE.get(locale, locale)


@lru_cache(maxsize=32)
def currency_pattern(locale: str, decimals: bool) -> str:
    """The locale's currency pattern, with or without decimals (``¤#,##0`` / ``#,##0.00 ¤``)."""
    pattern = Locale.parse(babel_locale(locale)).currency_formats["standard"].pattern
    pattern = pattern.split(";")[0]
    return pattern if decimals else pattern.replace(".00", "")


@lru_cache(maxsize=32)
def _percent_pattern(locale: str) -> str:
    """The locale's percent pattern with one decimal: ``#,##0.0%`` (en), ``#,##0.0 %`` (fr)."""
    pattern = Locale.parse(babel_locale(locale)).percent_formats[None].pattern.split(";")[0]
    return pattern.replace("#,##0", "#,##0.0", 1) if ".0" not in pattern else pattern


#: Units shown as a number and a word (``3.5 days``, ``20 min``): ``unit.<unit>`` messages.
_DURATIONS = (Unit.DAYS, Unit.HOURS, Unit.MINUTES, Unit.SECONDS)


def format_number(value: object, locale: str = "en", decimals: int = 0) -> str:
    """A plain number with grouping, e.g. ``12,345`` / ``12 345`` / ``12.345``."""
    if is_missing(value):
        return "–"
    value = float(value)  # type: ignore[arg-type]  # a number: not missing
    fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=fmt, locale=babel_locale(locale))


def format_value(value: object, unit: str, locale: str = "en", currency: str = "EUR") -> str:
    """Format a KPI value by its unit.

    Parameters
    ----------
    value : float or None
    unit : str
        A registry unit: count, ratio (fraction shown as %), currency, score, days, hours,
        minutes, seconds, number.
    locale : {"en", "fr", "it"}
    currency : str
        ISO 4217 code.

    Returns
    -------
    str
        ``–`` for a missing value; never ``nan`` or ``None``.
    """
    if is_missing(value):
        return "–"
    value = float(value)  # type: ignore[arg-type]  # a number: not missing
    loc = babel_locale(locale)
    if unit == "count":
        return format_decimal(round(value), format="#,##0", locale=loc)
    if unit == "ratio":
        return format_percent(value, format=_percent_pattern(locale), locale=loc)
    if unit == "currency":
        big = abs(value) >= 1000
        return format_currency(
            round(value) if big else value,
            currency,
            format=currency_pattern(locale, not big),
            locale=loc,
            currency_digits=False,
        )
    if unit == "score":
        return format_decimal(value, format="#,##0.0", locale=loc)
    if unit in _DURATIONS:
        word = i18n.t(f"unit.{unit}", locale)
        return f"{format_decimal(value, format='#,##0.0', locale=loc)}\u00a0{word}"
    return format_decimal(value, format="#,##0.##", locale=loc)


def format_money_whole(value: object, locale: str = "en", currency: str = "EUR") -> str:
    """An amount in whole currency units, ``£929`` / ``929 €`` / ``£12,345``; ``–`` if missing."""
    if is_missing(value):
        return "–"
    return format_currency(
        round(float(value)),  # type: ignore[arg-type]  # a number: not missing
        currency,
        format=currency_pattern(locale, False),
        locale=babel_locale(locale),
        currency_digits=False,
    )


@lru_cache(maxsize=32)
def _short_percent_pattern(locale: str) -> str:
    """The locale's percent pattern with an optional decimal: ``#,##0.#%`` / ``#,##0.# %``."""
    return _percent_pattern(locale).replace("#,##0.0", "#,##0.#", 1)


def format_percent_short(value: object, locale: str = "en") -> str:
    """A ratio as a percentage with one decimal, none when it is zero: ``95%``, ``12.5%``,
    ``1,000%`` (``95 %``, ``12,5 %`` in French); ``–`` if missing."""
    if is_missing(value):
        return "–"
    value = float(value)  # type: ignore[arg-type]  # a number: not missing
    return format_percent(value, format=_short_percent_pattern(locale), locale=babel_locale(locale))


def format_change(change: object, kind: str, locale: str = "en") -> str:
    """A change with its sign: ``+1.2 pp`` for points (ratios, scores), ``−3.4%`` relative.

    Parameters
    ----------
    change : float or None
        Difference in points (for a ratio: a fraction, shown ×100) or relative change.
    kind : {"points", "points_ratio", "difference", "relative"}
    """
    if is_missing(change):
        return "–"
    change = float(change)  # type: ignore[arg-type]
    loc = babel_locale(locale)
    if kind == "points_ratio":
        change = change * 100
        kind = "points"
    if kind in ("points", "difference"):
        body = format_decimal(abs(change), format="#,##0.0", locale=loc)
        unit = "\u00a0" + i18n.t("unit.points", locale) if kind == "points" else ""
    else:
        body = format_percent(abs(change), format=_percent_pattern(locale), locale=loc)
        unit = ""
    if body.strip("0,.\u00a0 %") == "":  # rounds to zero: no sign, never "−0.0"
        sign = "\u00b1"
    else:
        sign = "+" if change > 0 else ("\u2212" if change < 0 else "\u00b1")
    return f"{sign}{body}{unit}"


def change_kind(unit: str) -> str:
    """How a KPI's change is expressed: a ratio in points of %, a score as a plain signed
    difference (NPS +3.7, CSAT −0.2), anything else as a relative change."""
    if unit == "ratio":
        return "points_ratio"
    if unit == "score":
        return "difference"
    return "relative"


def format_date(d: date | None, locale: str = "en") -> str:
    """A date in the locale's long form: ``1 December 2025`` / ``1 décembre 2025``; ``–``
    when there is none."""
    if d is None:
        return "–"
    return babel_format_date(d, format="long", locale=babel_locale(locale))


def period_title(period: Period, locale: str = "en") -> str:
    """``December 2025`` / ``décembre 2025`` / ``Q4 2025`` / ``2025``."""
    if period.grain == "month":
        return babel_format_date(period.start, format="LLLL y", locale=babel_locale(locale))
    if period.grain == "quarter":
        q = (period.start.month - 1) // 3 + 1
        return f"{i18n.t('period.quarter_prefix', locale)}{q} {period.start.year}"
    return str(period.start.year)


__all__ = [
    "babel_locale",
    "change_kind",
    "currency_pattern",
    "format_change",
    "format_date",
    "format_money_whole",
    "format_number",
    "format_percent_short",
    "format_value",
    "period_title",
]
