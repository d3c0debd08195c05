"""``docs/kpis.md``: the KPI reference, generated from the registry and the catalogue.

One section per department, one entry per KPI in report order: its id, its name in every
report language, its definition, population and window (the glossary texts of
:mod:`kpitools.report.glossary`), its unit and which way is better, its scope in a
product-line report, when its value is final, its measure group and the tables it reads, and
the exact definition (the formula's docstring).

Regenerate after changing a KPI or its texts::

    python -m kpitools.cli kpis --format markdown --out docs/kpis.md

``tests/test_kpi_docs.py`` fails while the committed file differs from what this gives.
"""

from __future__ import annotations

from ..catalogue import DEPARTMENTS
from ..kpis.registry import Kpi, get_registry
from ..locales import LOCALES
from ..vocab import Direction, Scope, Unit
from .glossary import kpi_text, setting_values
from .i18n import t

#: The command that rewrites ``docs/kpis.md`` (quoted by the test that checks it).
REGENERATE = "python -m kpitools.cli kpis --format markdown --out docs/kpis.md"

_UNITS = {
    Unit.COUNT: "count",
    Unit.RATIO: "ratio from 0 to 1 (shown as %; changes in points)",
    Unit.CURRENCY: "currency of the brand",
    Unit.SCORE: "score (changes in points)",
    Unit.DAYS: "days",
    Unit.HOURS: "hours",
    Unit.MINUTES: "minutes",
    Unit.SECONDS: "seconds",
    Unit.NUMBER: "number",
}

_SCOPES = {
    Scope.LINE: "line: a product-line report filters it by the line",
    Scope.BRAND: "brand: brand-wide in a product-line report (a table it reads has no product line)",
}

_ROWS = (
    ("Name", "name"),
    ("Definition", "description"),
    ("Population", "population"),
    ("Window", "window"),
)


def _cell(text: str | None) -> str:
    """A Markdown table cell: pipes escaped, one line; a missing text shows as "(missing)"."""
    if text is None:
        return "*(missing)*"
    return " ".join(text.replace("|", "\\|").split())


def _maturity(kpi: Kpi, defaults: dict) -> str:
    if not kpi.matures:
        return "final at the end of the period"
    default = defaults.get(kpi.matures)
    extra = f", default {default} days" if default is not None else ""
    return f"final once the `{kpi.matures}` window has closed after the period{extra}"


def kpi_markdown(kpi: Kpi, defaults: dict | None = None) -> str:
    """One KPI's entry of ``docs/kpis.md``."""
    defaults = setting_values() if defaults is None else defaults
    better = "higher is better" if kpi.direction == Direction.HIGHER else "lower is better"
    lines = [
        f"### `{kpi.id}`",
        "",
        "| | " + " | ".join(LOCALES) + " |",
        "|---|" + "---|" * len(LOCALES),
    ]
    for label, part in _ROWS:
        cells = [_cell(kpi_text(kpi.id, part, loc, defaults)) for loc in LOCALES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"- **Unit**: {_UNITS[kpi.unit]}; {better}",
        f"- **Scope**: {_SCOPES[kpi.scope]}",
        f"- **Maturity**: {_maturity(kpi, defaults)}",
        f"- **Measure**: `{kpi.measure}`, tables " + ", ".join(f"`{x}`" for x in kpi.tables),
        f"- **Exact definition**: {_cell(kpi.definition)}",
        "",
    ]
    return "\n".join(lines)


def kpis_markdown() -> str:
    """The whole of ``docs/kpis.md`` (ends with a newline)."""
    reg = get_registry()
    defaults = setting_values()
    out = [
        "# KPI reference",
        "",
        "<!-- Generated from the KPI registry and the translation catalogue: do not edit.",
        f"     Regenerate with `{REGENERATE}`. -->",
        "",
        f"{len(reg)} KPIs by department, in report order. For each: its names in every report "
        "language, its definition, who or what it counts (population), which dates place it in "
        "a period (window), its unit, its scope in a product-line report and when its value is "
        "final. A number that comes from a setting of the params file (a window, a target) is "
        "shown with the setting's default; the report shows the brand's value. Where to add a "
        "KPI: "
        "[architecture.md](architecture.md#where-to-add-).",
        "",
    ]
    for dept in DEPARTMENTS:
        ks = [k for k in reg.values() if k.department == dept]
        if not ks:
            continue
        out.append(f"- [{t(f'department.{dept}')}](#{dept}): " + ", ".join(f"`{k.id}`" for k in ks))
    out.append("")
    for dept in DEPARTMENTS:
        ks = [k for k in reg.values() if k.department == dept]
        if not ks:
            continue
        out += [f'<a id="{dept}"></a>', "", f"## {t(f'department.{dept}')}", ""]
        out += [kpi_markdown(k, defaults) for k in ks]
    return "\n".join(out).rstrip("\n") + "\n"


__all__ = ["REGENERATE", "kpi_markdown", "kpis_markdown"]
