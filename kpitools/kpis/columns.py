"""Optional columns: which KPIs need them, which the brand leaves empty, which it fills partly.

A canonical column marked ``optional`` (:mod:`kpitools.schema`) may be absent from a user's
export, and a nullable one may be NULL in every row: a KPI that reads it would then be computed
on nothing, and a sum of nothing is 0 (an export without ``orders.cost`` gave a margin of 0 and
a customer value of 0.00). So each KPI that cannot do without an optional column declares it
here (:data:`KPI_COLUMNS`), and :func:`empty_columns` asks the database, in one aggregate per
table (:meth:`kpitools.data.sources.Database.column_fill`), which of them the brand leaves
empty: those KPIs are "not available (needs orders.cost)", never zero.

A column filled in some rows only is used on the rows that have it; :func:`data_quality`
lists those above :data:`QUALITY_THRESHOLD` of the brand's rows with the KPIs they touch, for
the data-quality section of the report.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..data.sources import Database
from ..schema import TABLES

#: KPI id → the optional columns (``table.column``) it cannot do without. A KPI of a measure
#: group needs the columns of its own formula only: ``revenue`` shares its query with the
#: margin but does not need ``orders.cost``.
KPI_COLUMNS: dict[str, tuple[str, ...]] = {
    # margin = revenue - cost
    "avg_margin_per_customer": ("orders.cost",),
    # customer value is expected margin: the margin rate needs the cost
    "average_clv": ("orders.cost",),
    "customer_equity": ("orders.cost",),
    # the programme's margin lift against control groups needs the cost of the orders
    "incremental_margin": ("orders.cost",),
    "programme_roi": ("orders.cost",),
    # opportunities: the number of quotes, and the renewals' amount
    "quotes": ("opportunities.quote_count",),
    "renewal_amount": ("opportunities.is_renewal",),
    "renewal_rate": ("opportunities.renewal_due_at",),
    # leads attributed to a campaign
    "campaign_leads": ("leads.campaign_id",),
    "campaign_new_customers": ("leads.campaign_id",),
}

#: KPI id → the columns (``table.column``) that must hold at least two distinct values in the
#: brand's rows for the KPI to mean anything. A single-line export mapped with
#: ``product_line: {value: all}`` has no second line to cross-sell: ``cross_sell_value`` would be
#: 0 by construction, a result the data never measured, so it is "not available (needs
#: orders.product_line)" instead.
KPI_VARIED_COLUMNS: dict[str, tuple[str, ...]] = {
    "cross_sell_value": ("orders.product_line",),
}

#: Analyses beside the scorecard → the optional columns they need for their value figures.
ANALYSIS_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_value": ("orders.cost",),  # CLV (kpitools.clv): expected margin
    "roi_margin": ("orders.cost",),  # campaign ROI: margin lift and return on cost
}

#: Columns where a NULL means "not known" (a data-quality gap, not a meaning of its own as
#: for ``leads.campaign_id``: not from a campaign, or ``renewal_due_at``: not a renewal), with
#: the KPIs computed on the rows that have a value, beside those of :data:`KPI_COLUMNS`.
QUALITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders.cost": (),
    "opportunities.amount": (
        "open_pipeline_value",
        "new_sales_amount",
        "renewal_amount",
        "average_deal_size",
        "won_amount_per_rep",
    ),
    "opportunities.quote_count": (),
    "opportunities.is_renewal": ("new_sales_amount",),
    "cases.handling_cost": ("cost_per_interaction",),
}

#: ``table.column`` → the KPIs a value rule of that column touches (a run-time data-quality
#: entry, :func:`rule_kpis`); a column not listed touches every KPI that reads its table.
RULE_COLUMN_KPIS: dict[str, tuple[str, ...]] = {
    "surveys.nps_score": ("nps",),
    "surveys.csat_score": ("csat", "csat_mean_score"),
}


def rule_kpis(rule: str, table: str, column: str | None, kpis: Iterable[str] | None = None):
    """The KPI ids (among ``kpis``, default every registered KPI) that a run-time value rule
    broken on ``table.column`` touches: for a survey score the KPIs of that score, for
    ``future_date`` and ``order_lines`` none (the rows fall after every reported period; the
    lines of an order count once), else every KPI that
    reads ``table`` (a refund counts in revenue and as an order, a row without a date in
    nothing of the table)."""
    from .registry import get_registry

    registry = get_registry()
    ids = list(kpis) if kpis is not None else list(registry)
    if rule in ("future_date", "order_lines"):
        # future rows fall after every reported period; the lines of one order count as one
        # order (distinct order ids) and their revenue adds up, as it should
        return []
    own = RULE_COLUMN_KPIS.get(f"{table}.{column}")
    if own is not None:
        return [k for k in ids if k in own]
    return [k for k in ids if k in registry and table in registry[k].tables]


#: A partly empty column is reported when more than this share of the brand's rows lack it.
QUALITY_THRESHOLD = 0.01


def needed_columns(kpi_id: str) -> tuple[str, ...]:
    """The optional columns (``table.column``) KPI ``kpi_id`` needs (empty for most)."""
    return KPI_COLUMNS.get(kpi_id, ())


def empty_columns(db: Database, columns: Iterable[str]) -> tuple[str, ...]:
    """Those of ``columns`` (``table.column``) that the brand leaves absent or NULL in every
    row, in the order given; one aggregate query per table, cached by ``db``."""
    return tuple(c for c in dict.fromkeys(columns) if db.empty_column(c))


def missing_columns_of(db: Database, kpi_id: str) -> tuple[str, ...]:
    """The optional columns KPI ``kpi_id`` needs and the brand leaves empty, and the columns
    it needs varied (:data:`KPI_VARIED_COLUMNS`) that hold one value for the whole brand."""
    varied = tuple(c for c in KPI_VARIED_COLUMNS.get(kpi_id, ()) if db.single_valued(c))
    return tuple(dict.fromkeys(empty_columns(db, needed_columns(kpi_id)) + varied))


def touched_kpis(column: str, kpis: Iterable[str] | None = None) -> list[str]:
    """KPI ids (among ``kpis``, default every KPI declared here) that read ``table.column``:
    those of :data:`KPI_COLUMNS` that need it, and those :data:`QUALITY_COLUMNS` lists."""
    extra = QUALITY_COLUMNS.get(column, ())
    declared = [k for k, cols in KPI_COLUMNS.items() if column in cols]
    touched = list(dict.fromkeys([*declared, *extra]))
    if kpis is None:
        return touched
    return [k for k in dict.fromkeys(kpis) if k in touched]


def quality_columns() -> list[str]:
    """Columns the data-quality section checks (:data:`QUALITY_COLUMNS`), as
    ``table.column``, in the order of the canonical model."""
    return [
        f"{t.name}.{c.name}"
        for t in TABLES.values()
        for c in t.columns
        if f"{t.name}.{c.name}" in QUALITY_COLUMNS
    ]


def data_quality(
    db: Database, kpis: Iterable[str] | None = None, *, threshold: float = QUALITY_THRESHOLD
) -> pd.DataFrame:
    """Optional columns the brand fills in some rows but not all, with the KPIs they touch.

    Counted in the database, one aggregate per table (:meth:`Database.column_fill`, the brand's
    rows, every product line). A column empty in every row is not listed here: its KPIs are
    not available, and say so.

    Parameters
    ----------
    db : Database
    kpis : iterable of str, optional
        The KPIs of the report (default every KPI declared in :data:`KPI_COLUMNS`); ``kpis``
        lists those of them the column touches.
    threshold : float
        Least share of rows without a value for a column to be listed (default 1 %).

    Returns
    -------
    pandas.DataFrame
        One row per column: ``table``, ``column``, ``rows`` (the brand's rows), ``missing``
        (rows without a value), ``share`` (``missing / rows``, 0–1), ``kpis`` (list of ids),
        largest share first.
    """
    ids = list(kpis) if kpis is not None else None
    rows = []
    for q in quality_columns():
        table, _, column = q.partition(".")
        fill = db.column_fill(table)
        if column not in fill:
            continue
        n, filled = fill[column]
        if n == 0 or filled == 0:
            continue
        share = (n - filled) / n
        if share <= threshold:
            continue
        rows.append(
            {
                "table": table,
                "column": column,
                "rows": n,
                "missing": n - filled,
                "share": share,
                "kpis": touched_kpis(q, ids),
            }
        )
    frame = pd.DataFrame(rows, columns=["table", "column", "rows", "missing", "share", "kpis"])
    return frame.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)


__all__ = [
    "RULE_COLUMN_KPIS",
    "rule_kpis",
    "ANALYSIS_COLUMNS",
    "KPI_COLUMNS",
    "QUALITY_COLUMNS",
    "QUALITY_THRESHOLD",
    "data_quality",
    "empty_columns",
    "missing_columns_of",
    "KPI_VARIED_COLUMNS",
    "kpi_availability",
    "what_columns_add",
    "needed_columns",
    "quality_columns",
    "touched_kpis",
]


_ANALYSES = {"customer_value": "customer value (CLV)", "roi_margin": "campaign margin and ROI"}


def what_columns_add() -> dict[str, str]:
    """``table.column`` → the KPIs and analyses that need it, in words, for every optional
    column some KPI needs (for ``kpitools init``'s comments on what an export lacks)."""
    out: dict[str, list[str]] = {}
    for kpi_id, cols in KPI_COLUMNS.items():
        for c in cols:
            out.setdefault(c, []).append(kpi_id)
    for analysis, cols in ANALYSIS_COLUMNS.items():
        for c in cols:
            out.setdefault(c, []).append(_ANALYSES.get(analysis, analysis))
    return {c: ", ".join(v) for c, v in out.items()}


def kpi_availability(db: Database) -> dict[str, tuple[str, ...]]:
    """KPI id → what it lacks on this source (empty: the data allow it), in registry order.

    What a KPI lacks is the canonical tables its measure group reads that the source does not
    hold (``campaigns``) and the optional columns it needs that the brand leaves empty
    (``orders.cost``): the same rules that make a KPI "not available" in a report.
    """
    from .registry import get_registry

    have = set(db.available_tables)
    needed = [c for kpi_id in get_registry() for c in needed_columns(kpi_id)]
    empty = set(empty_columns(db, [c for c in needed if c.partition(".")[0] in have]))
    out: dict[str, tuple[str, ...]] = {}
    for kpi_id, kpi in get_registry().items():
        tables = [t for t in kpi.tables if t not in have]
        columns = [
            c for c in needed_columns(kpi_id) if c in empty and c.partition(".")[0] in have
        ] + [
            c
            for c in KPI_VARIED_COLUMNS.get(kpi_id, ())
            if c.partition(".")[0] in have and db.single_valued(c)
        ]
        out[kpi_id] = tuple(tables + columns)
    return out
