"""Jinja2 templates with autoescape: every piece of HTML kpitools writes comes from here.

Templates live in ``kpitools/report/templates/`` (shipped as package data). Every value is
escaped unless it is a :class:`markupsafe.Markup` — the output of :func:`render` itself, or a
fragment built by a trusted helper (an inline SVG sparkline, say). Formatters are filters, the
catalogue is the global ``t``::

    {{ t("report.value", locale) }}  {{ value | kpi_value(unit, locale, currency) }}
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import formatting
from .i18n import t


@cache
def environment() -> Environment:
    """The one Jinja2 environment: autoescape on (files and strings), strict undefined."""
    env = Environment(
        loader=PackageLoader("kpitools.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = t
    env.filters.update(
        kpi_value=formatting.format_value,
        change=formatting.format_change,
        number=formatting.format_number,
        date=formatting.format_date,
        period_title=formatting.period_title,
    )
    return env


def render(template: str, /, **context: object) -> Markup:
    """Render ``template`` (a path under ``templates/``) to trusted, escaped HTML."""
    return Markup(environment().get_template(template).render(**context))


__all__ = ["Markup", "environment", "render"]
