"""The KPI registry: every KPI's formula, joined to its declaration.

A KPI is declared in :mod:`kpitools.catalogue` (id, department, unit, direction, measure
group) and computed by a *formula* over the per-period measures of its measure group. A
measure group is one Ibis query that returns, per period, the sums and counts several KPIs
share (for example active, new and retained customers, revenue and margin all come from one
pass over ``orders``). So a scorecard runs one query per group, not one per KPI, and everything
heavy happens in the database; the formulas only divide small per-period columns.

A formula::

    @kpi("revenue")
    def revenue(m):
        '''Sum of ``orders.revenue`` for orders placed in the period.'''
        return m["revenue"]

The formulas register themselves when :mod:`kpitools.kpis.definitions` is imported, which
importing :mod:`kpitools.kpis` does.

Model-based measures (average CLV from the fitted purchase model, programme ROI from the
campaigns' control groups) are built by the analyses of the same layer that sit on top of the
KPI engine (:mod:`kpitools.clv.kpis`, :mod:`kpitools.roi.kpis`): their builder runs database
queries and a fit, and returns the small per-period pandas frame itself. The KPI engine must not
import those analyses (they import it), so the registry loads them *by name*
(:data:`MODEL_MEASURE_MODULES`) the first time it is built: a plug-in registration, not an
import of the layer below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..catalogue import DEPARTMENTS, KPIS, KpiDeclaration, get_declaration, unknown_kpi_message
from ..errors import UnknownKpiError
from ..schema import TABLES
from ..vocab import Department, Direction, Scope, Unit

UNITS: tuple[Unit, ...] = tuple(Unit)
DIRECTIONS: tuple[Direction, ...] = tuple(Direction)


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
        A model-based measure's builder returns the same columns as a ``pandas.DataFrame``
        (already computed: queries plus a model fit), see :data:`MODEL_MEASURE_MODULES`.
    scoped_through : tuple of str
        Tables without a product line whose rows the query only reads through a join to a
        table that has one (the activities logged on the line's opportunities): they do not
        make the measure brand-wide.
    """

    id: str
    tables: tuple[str, ...]
    build: Callable
    doc: str = ""
    scoped_through: tuple[str, ...] = ()

    def line_tables(self) -> tuple[str, ...]:
        """The tables that must carry a product line for the measure to cover one line."""
        return tuple(t for t in self.tables if t not in self.scoped_through)


@dataclass(frozen=True)
class Kpi:
    """One KPI: its declaration, its formula and the tables it needs.

    Attributes
    ----------
    id, department, unit, direction, measure
        From its :class:`kpitools.catalogue.KpiDeclaration`.
    formula : callable
        ``formula(m) -> pandas.Series`` over the periods of the measure frame ``m``.
    definition : str
        The exact definition (the formula's docstring).
    tables : tuple of str
        Canonical tables its measure group reads.
    scoped_through : tuple of str
        Those of ``tables`` read only through a join to a table with a product line
        (:attr:`Measure.scoped_through`).
    """

    declaration: KpiDeclaration
    formula: Callable[[pd.DataFrame], pd.Series]
    definition: str
    tables: tuple[str, ...]
    scoped_through: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.declaration.id

    @property
    def department(self) -> Department:
        return self.declaration.department

    @property
    def unit(self) -> Unit:
        return self.declaration.unit

    @property
    def direction(self) -> Direction:
        return self.declaration.direction

    @property
    def measure(self) -> str:
        return self.declaration.measure

    @property
    def matures(self) -> str | None:
        return self.declaration.matures

    @property
    def scope(self) -> Scope:
        """``line`` when every table the KPI reads carries a product line in the canonical
        model (so a product-line report can filter it), else ``brand`` (brand-wide).

        A table read only through a join to a table with a line (``scoped_through``) does
        not count, nor does one whose line comes from other tables (``Table.line_through``:
        campaign members). This is the static answer; whether a given source really carries the line
        (an optional column may be absent) is :attr:`kpitools.kpis.compute.KpiResult.scope`.
        """
        if all(
            TABLES[t].product_line or TABLES[t].line_through
            for t in self.tables
            if t not in self.scoped_through
        ):
            return Scope.LINE
        return Scope.BRAND


MEASURES: dict[str, Measure] = {}
FORMULAS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {}

#: Modules that register model-based measures and their KPIs' formulas (builders returning a
#: pandas frame from queries plus a fit). They import the KPI engine, so it loads them by name
#: when the registry is first built (:func:`load_model_measures`).
MODEL_MEASURE_MODULES: tuple[str, ...] = ("kpitools.clv.kpis", "kpitools.roi.kpis")


def load_model_measures() -> None:
    """Import :data:`MODEL_MEASURE_MODULES` (once; they register with :func:`measure` and
    :func:`kpi`)."""
    for name in MODEL_MEASURE_MODULES:
        importlib.import_module(name)


def measure(id: str, *, tables: tuple[str, ...], scoped_through: tuple[str, ...] = ()):
    """Register a measure group builder (decorator); see :class:`Measure`."""
    if not set(scoped_through) <= set(tables):
        raise ValueError(f"measure {id!r}: scoped_through must be among its tables")

    def deco(fn):
        if id in MEASURES:
            raise ValueError(f"measure {id!r} declared twice")
        MEASURES[id] = Measure(
            id, tuple(tables), fn, (fn.__doc__ or "").strip(), tuple(scoped_through)
        )
        return fn

    return deco


def kpi(id: str):
    """Register the decorated function as the formula of the declared KPI ``id`` (decorator)."""
    get_declaration(id)

    def deco(fn):
        if id in FORMULAS:
            raise ValueError(f"KPI {id!r} has two formulas")
        FORMULAS[id] = fn
        return fn

    return deco


_REGISTRY: dict[str, Kpi] = {}


def get_registry() -> dict[str, Kpi]:
    """Every KPI, by id, in catalogue order (declaration, formula, definition, tables)."""
    if len(_REGISTRY) != len(KPIS):
        load_model_measures()
        missing = [k for k in KPIS if k not in FORMULAS]
        if missing:
            raise RuntimeError(f"KPIs declared without a formula: {', '.join(missing)}")
        for k, decl in KPIS.items():
            fn = FORMULAS[k]
            _REGISTRY[k] = Kpi(
                declaration=decl,
                formula=fn,
                definition=" ".join((fn.__doc__ or "").replace("``", "").split()),
                tables=MEASURES[decl.measure].tables,
                scoped_through=MEASURES[decl.measure].scoped_through,
            )
    return _REGISTRY


def get_kpi(kpi_id: str) -> Kpi:
    """The KPI with this id.

    Raises
    ------
    UnknownKpiError
        Listing the closest ids.
    """
    reg = get_registry()
    if kpi_id not in reg:
        raise UnknownKpiError(unknown_kpi_message(kpi_id))
    return reg[kpi_id]


__all__ = [
    "DEPARTMENTS",
    "DIRECTIONS",
    "FORMULAS",
    "MEASURES",
    "UNITS",
    "Kpi",
    "Measure",
    "get_kpi",
    "get_registry",
    "MODEL_MEASURE_MODULES",
    "kpi",
    "load_model_measures",
    "measure",
]
