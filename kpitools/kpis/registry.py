"""The KPI registry: every KPI declared once.

A KPI is a small record (id, labels in en/fr/it, department, unit, direction, required tables)
plus a *formula* over the per-period measures of one *measure group*. A measure group is one
Ibis query that returns, per period, the sums and counts several KPIs share (for example
active, new and retained customers, revenue and margin all come from one pass over
``orders``). So a scorecard runs one query per group, not one per KPI, and everything heavy
happens in the database; the formulas only divide small per-period columns.

Declaring a KPI::

    @kpi(
        "revenue", department="sales", unit="currency", direction="higher",
        measure="customer_activity",
        labels={"en": ("Revenue", "Net revenue of orders placed in the period."), ...},
    )
    def revenue(m):
        '''Sum of ``orders.revenue`` for orders placed in the period.'''
        return m["revenue"]
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..errors import UnknownKpiError

DEPARTMENTS = ("sales", "marketing", "service", "perception", "adoption")
UNITS = ("count", "ratio", "currency", "score", "days", "hours", "minutes", "seconds", "number")
DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class Measure:
    """A measure group: one query giving per-period columns that several KPIs share.

    Parameters
    ----------
    id : str
    tables : tuple of str
        Canonical tables the query reads.
    build : callable
        ``build(ctx) -> ibis.Table`` with a ``period`` column (period start, timestamp), an
        ``n_rows`` column (rows of the main table in the period: 0 means "no data in period")
        and the measure columns. ``ctx`` is a :class:`kpitools.kpis.compute.QueryContext`.
    """

    id: str
    tables: tuple[str, ...]
    build: Callable
    doc: str = ""


@dataclass(frozen=True)
class Kpi:
    """One KPI of the catalogue.

    Attributes
    ----------
    id : str
        snake_case identifier, used in params files and ``kpis.json``.
    department : str
        One of :data:`DEPARTMENTS`.
    unit : str
        One of :data:`UNITS`; ``ratio`` values are fractions in [0, 1] shown as percentages.
    direction : {"higher", "lower"}
        Which way is better.
    measure : str
        The measure group whose columns the formula reads.
    formula : callable
        ``formula(m) -> pandas.Series`` over the periods of the measure frame ``m``.
    labels : dict
        ``{"en": (name, one-line definition), "fr": (...), "it": (...)}``.
    definition : str
        The exact definition (the formula's docstring).
    """

    id: str
    department: str
    unit: str
    direction: str
    measure: str
    formula: Callable[[pd.DataFrame], pd.Series]
    labels: dict[str, tuple[str, str]]
    definition: str = ""
    tables: tuple[str, ...] = field(default=())

    def name(self, locale: str = "en") -> str:
        return self.labels.get(locale, self.labels["en"])[0]

    def describe(self, locale: str = "en") -> str:
        return self.labels.get(locale, self.labels["en"])[1]


MEASURES: dict[str, Measure] = {}
REGISTRY: dict[str, Kpi] = {}


def measure(id: str, *, tables: tuple[str, ...]):
    """Register a measure group builder (decorator)."""

    def deco(fn):
        if id in MEASURES:
            raise ValueError(f"measure {id!r} declared twice")
        MEASURES[id] = Measure(id, tuple(tables), fn, (fn.__doc__ or "").strip())
        return fn

    return deco


def kpi(id, *, department, unit, direction, measure, labels):
    """Register a KPI whose formula is the decorated function (decorator)."""

    def deco(fn):
        if id in REGISTRY:
            raise ValueError(f"KPI {id!r} declared twice")
        if department not in DEPARTMENTS:
            raise ValueError(f"{id}: unknown department {department!r}")
        if unit not in UNITS:
            raise ValueError(f"{id}: unknown unit {unit!r}")
        if direction not in DIRECTIONS:
            raise ValueError(f"{id}: unknown direction {direction!r}")
        missing = {"en", "fr", "it"} - set(labels)
        if missing:
            raise ValueError(f"{id}: labels missing for {sorted(missing)}")
        REGISTRY[id] = Kpi(
            id=id,
            department=department,
            unit=unit,
            direction=direction,
            measure=measure,
            formula=fn,
            labels=dict(labels),
            definition=" ".join((fn.__doc__ or "").replace("``", "").split()),
        )
        return fn

    return deco


def _ensure_loaded() -> None:
    # the definitions register themselves on import
    from . import definitions  # noqa: F401


def get_registry() -> dict[str, Kpi]:
    """Every declared KPI, by id, in declaration order (tables filled in from their measure)."""
    _ensure_loaded()
    out = {}
    for k, v in REGISTRY.items():
        if not v.tables:
            object.__setattr__(v, "tables", MEASURES[v.measure].tables)
        out[k] = v
    return out


def get_kpi(kpi_id: str) -> Kpi:
    """The KPI with this id.

    Raises
    ------
    UnknownKpiError
        Listing the closest ids.
    """
    reg = get_registry()
    if kpi_id not in reg:
        raise UnknownKpiError(_unknown_message(kpi_id, reg))
    return reg[kpi_id]


def _unknown_message(kpi_id: str, reg) -> str:
    close = difflib.get_close_matches(kpi_id, list(reg), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `kpitools kpis` for the list"
    return f"unknown KPI {kpi_id!r}{hint}"


def check_kpi_ids(ids) -> None:
    """Raise ValueError (for pydantic) naming every unknown id with close matches."""
    reg = get_registry()
    bad = [_unknown_message(i, reg) for i in ids if i not in reg]
    if bad:
        raise ValueError("; ".join(bad))


def kpis_table(locale: str = "en") -> pd.DataFrame:
    """The registry as a table: id, department, name, definition, unit, direction, tables."""
    rows = [
        {
            "id": k.id,
            "department": k.department,
            "name": k.name(locale),
            "definition": k.describe(locale),
            "unit": k.unit,
            "direction": k.direction,
            "tables": ", ".join(k.tables),
        }
        for k in get_registry().values()
    ]
    return pd.DataFrame(rows)
