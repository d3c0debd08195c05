"""The words of the KPI glossary: each KPI's name, definition, population and window.

Every KPI has four texts in the translation catalogue, in every report language:

``kpi.<id>.name`` and ``kpi.<id>.description`` (``locales/<locale>/kpis.yaml``)
    what the report calls it, and what it counts in one sentence.
``kpi.<id>.population`` and ``kpi.<id>.window`` (``locales/<locale>/glossary.yaml``)
    who or what is counted, and which dates place it in a period (and how long it needs to be
    final).

These texts are written for a director: no column or setting names. A text whose value depends
on a setting names it as a ``{field}`` (``within {conversion_window_days} days``), filled here
with the brand's value: any field of the params' ``settings``, ``roi`` or ``clv`` sections.

The report's glossary (:func:`glossary_entries`, rendered by
:func:`kpitools.report.tables.glossary_html`) and ``docs/kpis.md``
(:mod:`kpitools.report.kpi_docs`) are both built from these texts.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..locales import DEFAULT_LOCALE
from ..params.brand import ClvParams, RoiParams, Settings
from ..vocab import Scope
from .formatting import format_number
from .i18n import catalogue, t

#: Sections of a brand's params whose fields a KPI text may name as ``{field}``.
SETTING_SECTIONS = ("settings", "roi", "clv")

#: The parts of a KPI's glossary entry, after ``kpi.<id>.``.
TEXT_PARTS = ("name", "description", "population", "window")


def setting_values(params: Any = None) -> dict[str, Any]:
    """Every setting a KPI text may name, by field name: the brand's values, else the defaults.

    Parameters
    ----------
    params : kpitools.params.BrandParams, optional
        Without it, the defaults of :class:`~kpitools.params.brand.Settings`,
        :class:`~kpitools.params.brand.RoiParams` and :class:`~kpitools.params.brand.ClvParams`.
    """
    defaults = {"settings": Settings(), "roi": RoiParams(), "clv": ClvParams()}
    out: dict[str, Any] = {}
    for name in SETTING_SECTIONS:
        section = getattr(params, name, None) if params is not None else None
        section = section if section is not None else defaults[name]
        for key, value in section.model_dump().items():
            out.setdefault(key, value)
    return out


class _Fields(dict):
    """Fields for ``str.format_map``: an unknown ``{field}`` stays as it is written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _formatted(values: Mapping[str, Any], locale: str) -> _Fields:
    out = _Fields()
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            out[key] = str(value)
        else:
            decimals = 0 if float(value).is_integer() else 2
            out[key] = format_number(value, locale, decimals)
    return out


def fill_fields(text: str, values: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> str:
    """``text`` with its ``{field}`` names replaced by the values (unknown fields are kept)."""
    names = {n for _, n, _, _ in string.Formatter().parse(text) if n}
    if not names:
        return text
    return text.format_map(_formatted({k: values[k] for k in names if k in values}, locale))


def kpi_text(
    kpi_id: str,
    part: str,
    locale: str = DEFAULT_LOCALE,
    values: Mapping[str, Any] | None = None,
) -> str | None:
    """The KPI's ``part`` (``name``, ``description``, ``population``, ``window``) in ``locale``,
    its ``{fields}`` filled from ``values`` (default: :func:`setting_values`); None when the
    catalogue has no such text."""
    text = catalogue(locale).get(f"kpi.{kpi_id}.{part}")
    if text is None:
        return None
    return fill_fields(text, setting_values() if values is None else values, locale)


def maturity_days(kpi: Any, values: Mapping[str, Any] | None = None) -> int | None:
    """Days after a period's end until the KPI's value is final (its ``matures`` setting's
    value), or None for a KPI final at the end of the period (or a setting not found)."""
    setting = getattr(kpi, "matures", None)
    if not setting:
        return None
    value = (setting_values() if values is None else values).get(setting)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class GlossaryEntry:
    """One KPI of the report's glossary, in the report's language (plain words only).

    Attributes
    ----------
    id : str
    name, department, definition : str
    population, window : str or None
        None when the catalogue has no such text yet.
    better : str
        ``Better when higher`` (or lower).
    brand_wide : bool
        The value covers the whole brand in a product-line report (``KpiResult.scope``).
    final_after : str or None
        ``Final 90 days after the end of the period …`` for a KPI that needs time to happen.
    """

    id: str
    name: str
    department: str
    definition: str
    population: str | None
    window: str | None
    better: str
    brand_wide: bool
    final_after: str | None


def glossary_entries(
    items: Iterable[Any], *, locale: str = DEFAULT_LOCALE, params: Any = None
) -> list[GlossaryEntry]:
    """The glossary entries of the KPIs shown, in the order given.

    Parameters
    ----------
    items : iterable of KpiResult or Kpi
        The KPIs the report shows. A :class:`~kpitools.kpis.compute.KpiResult` with
        ``scope == Scope.BRAND`` is marked brand-wide.
    locale : {"en", "fr", "it"}
    params : kpitools.params.BrandParams, optional
        For the values of the settings named in the texts and of the maturity windows (default:
        the settings' defaults, and a maturity phrase without a number of days).
    """
    values = setting_values(params)
    out: list[GlossaryEntry] = []
    seen: set[str] = set()
    for item in items:
        kpi = getattr(item, "kpi", item)
        if kpi.id in seen:
            continue
        seen.add(kpi.id)
        final_after = None
        if getattr(kpi, "matures", None):
            days = maturity_days(kpi, values) if params is not None else None
            final_after = (
                t("glossary.final_after", locale, days=format_number(days, locale))
                if days is not None
                else t("glossary.final_after_window", locale)
            )
        out.append(
            GlossaryEntry(
                id=kpi.id,
                name=kpi_text(kpi.id, "name", locale, values) or kpi.id,
                department=t(f"department.{kpi.department}", locale),
                definition=kpi_text(kpi.id, "description", locale, values) or "",
                population=kpi_text(kpi.id, "population", locale, values),
                window=kpi_text(kpi.id, "window", locale, values),
                better=f"{t('report.better', locale)} {t(f'report.{kpi.direction}', locale)}",
                brand_wide=getattr(item, "scope", None) == Scope.BRAND,
                final_after=final_after,
            )
        )
    return out


__all__ = [
    "SETTING_SECTIONS",
    "TEXT_PARTS",
    "GlossaryEntry",
    "fill_fields",
    "glossary_entries",
    "kpi_text",
    "maturity_days",
    "setting_values",
]
