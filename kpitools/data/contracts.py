"""Table contracts: the declarative checks of :mod:`kpitools.schema`, run on a source.

Two levels, in the spirit of pandera (all failures collected into one report, each carrying
the failing cases):

- :func:`check_schema` reads only the table's schema (no data scan): missing columns and
  wrong types. It runs every time a table is loaded.
- :func:`check_values` runs one aggregate query per table in the database, counting the rows
  that break a ``nullable`` / ``isin`` / ``between`` declaration or a duplicated key, and fetches
  a few failing rows for each broken check. It runs in ``kpitools validate --deep``.

The cheap part of those value checks also runs at ``kpitools run`` time
(:func:`kpitools.data.checks.scan_table`, one aggregate per table), each rule with the action
of :data:`RULES`: ``stop`` the brand with one line, or publish with an entry of the report's
data-quality section and ``kpis.json`` (``exclude``: the rows, or the values, are left out of
the KPIs by :func:`exclude_bad_values`, inside the database; ``keep``: counted as they are,
under a stated policy). The table is in ``docs/data.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt

from ..schema import Column, Table


@dataclass
class ContractProblem:
    """One broken rule: which table, which column, what, and a few failing rows."""

    table: str
    column: str | None
    problem: str
    failing_rows: list[dict] = field(default_factory=list)
    count: int | None = None

    def __str__(self) -> str:
        where = f"table '{self.table}'" + (f", column '{self.column}'" if self.column else "")
        noun = "keys" if self.problem.startswith("duplicated") else "rows"
        count = f" ({self.count} {noun})" if self.count else ""
        rows = ""
        if self.failing_rows:
            rows = "; e.g. " + ", ".join(str(r) for r in self.failing_rows[:3])
        return f"{where}: {self.problem}{count}{rows}"


@dataclass(frozen=True)
class Rule:
    """A value rule checked at run time, and what a run does when rows break it.

    Attributes
    ----------
    id : str
        The rule's id, as written in ``kpis.json`` (``data_quality[].rule``).
    action : str
        ``stop`` (the brand is not published: one line naming table, column, rule and rows),
        ``exclude`` (published; the rows or values are left out of the KPIs) or ``keep``
        (published; the rows are counted as they are, under a stated policy).
    text : str
        What the rule finds, in plain words (a line's middle part).
    """

    id: str
    action: str
    text: str


#: The run-time value rules (``docs/data.md``, "Bad data at run time").
RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("null_key", "stop", "NULL key values"),
        Rule("duplicate_key", "stop", "duplicated key values"),
        Rule("null_required", "stop", "NULL values in a required column"),
        Rule("not_in_list", "stop", "values outside the allowed list"),
        Rule("out_of_range", "stop", "values out of range"),
        Rule("score_out_of_scale", "exclude", "scores outside their scale"),
        Rule("null_date", "exclude", "rows without a date"),
        Rule("future_date", "keep", "rows dated after today"),
        Rule("negative_revenue", "keep", "negative revenue (refunds)"),
        Rule("order_lines", "keep", "rows sharing an order_id (lines of one order)"),
        Rule("unknown_product_line", "stop", "product lines not in the data"),
        Rule("period_outside_data", "stop", "a period outside the data"),
    ]
}

#: ``(table, column)`` whose out-of-range values are left out (set to NULL: the rest of the
#: row stays) rather than stopping the brand: a survey score outside its scale
#: (``nps_score`` 11) is one bad answer, not a broken export. Other ranges (campaign costs, a
#: control share) stop the brand: the ROI of a negative cost means nothing.
EXCLUDED_OUT_OF_RANGE: frozenset[tuple[str, str]] = frozenset(
    {("surveys", "nps_score"), ("surveys", "csat_score")}
)


def out_of_range(col: Column, c: ibis.Value) -> ibis.expr.types.BooleanValue:
    """Whether a value of ``col`` breaks its ``between`` declaration (NULL is not)."""
    assert col.between is not None
    lo, hi = col.between
    return c.notnull() & ((c < lo) | (c > hi))


def exclude_bad_values(table: Table, t: ibis.Table) -> ibis.Table:
    """The conformed table without what the ``exclude`` rules of :data:`RULES` leave out, in
    the database: rows without a date (``null_date``: they fall in no period) and survey
    scores outside their scale (``score_out_of_scale``: the score becomes NULL, so the
    answer counts in neither NPS nor CSAT for that score, the rest of the row stays)."""
    if table.time_column and not table.column(table.time_column).nullable:
        t = t.filter(t[table.time_column].notnull())
    changes = {}
    for col in table.columns:
        if col.between and (table.name, col.name) in EXCLUDED_OUT_OF_RANGE:
            c = t[col.name]
            changes[col.name] = ibis.ifelse(out_of_range(col, c), ibis.null(c.type()), c)
    return t.mutate(**changes) if changes else t


def kind_of(dtype: dt.DataType) -> str:
    """The schema kind that a database type satisfies best."""
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_integer():
        return "int"
    if dtype.is_floating() or dtype.is_decimal():
        return "float"
    if dtype.is_string():
        return "string"
    if dtype.is_timestamp() or dtype.is_date():
        return "timestamp"
    return str(dtype)


_ACCEPTS = {
    "id": {"int", "string"},
    "int": {"int"},
    "float": {"int", "float"},
    "string": {"string"},
    "timestamp": {"timestamp"},
    "boolean": {"boolean"},
}

_KIND_TYPE = {
    "id": dt.int64,
    "int": dt.int64,
    "float": dt.float64,
    "string": dt.string,
    "timestamp": dt.timestamp,
    "boolean": dt.boolean,
}


def ibis_type(col: Column) -> dt.DataType:
    """The Ibis type a canonical column is cast to."""
    return _KIND_TYPE[col.kind]


def check_schema(
    table: Table, schema: ibis.Schema, *, source_names: dict[str, str] | None = None
) -> list[ContractProblem]:
    """Missing columns and wrong types, from the schema alone.

    Parameters
    ----------
    table : Table
        The canonical table.
    schema : ibis.Schema
        Schema of the user's table, with canonical names (after mapping).
    source_names : dict, optional
        Canonical name → the user's name, to say both in messages.

    Returns
    -------
    list of ContractProblem
    """
    source_names = source_names or {}
    problems = []
    for col in table.columns:
        shown = source_names.get(col.name, col.name)
        alias = f" (mapped from '{shown}')" if shown != col.name else ""
        if col.name not in schema:
            if not col.optional:
                problems.append(
                    ContractProblem(
                        table.name,
                        col.name,
                        f"missing column{alias}; map it in the params file under "
                        f"source.tables.{table.name}.columns",
                    )
                )
            continue
        kind = kind_of(schema[col.name])
        if kind not in _ACCEPTS[col.kind]:
            problems.append(
                ContractProblem(
                    table.name,
                    col.name,
                    f"wrong type{alias}: expected {col.kind}, found {schema[col.name]}",
                )
            )
    return problems


def conform(table: Table, t: ibis.Table) -> ibis.Table:
    """Select the canonical columns in order, cast to canonical types, add absent optional ones."""
    cols = []
    for col in table.columns:
        target = ibis_type(col)
        if col.name in t.columns:
            expr = t[col.name]
            if col.kind == "id" and expr.type().is_string():
                target = dt.string
            if not expr.type().equals(target):
                expr = expr.cast(target)
            cols.append(expr.name(col.name))
        else:
            cols.append(ibis.null().cast(target).name(col.name))
    return t.select(cols)


def check_values(table: Table, t: ibis.Table, *, sample: int = 3) -> list[ContractProblem]:
    """Count rows breaking the value declarations, in one query, plus a few failing rows each.

    Parameters
    ----------
    table : Table
        The canonical table.
    t : ibis.Table
        The conformed table (canonical names and types).
    sample : int
        How many failing rows to fetch per broken check.
    """
    checks: dict[str, tuple[str | None, str, ibis.expr.types.BooleanValue]] = {}
    for col in table.columns:
        c = t[col.name]
        if not col.nullable and not col.optional:
            checks[f"{col.name}__null"] = (col.name, "has NULL values", c.isnull())
        if col.isin:
            checks[f"{col.name}__isin"] = (
                col.name,
                f"values outside {list(col.isin)}",
                c.notnull() & ~c.isin(list(col.isin)),
            )
        if col.between:
            lo, hi = col.between
            checks[f"{col.name}__between"] = (
                col.name,
                f"values outside [{lo:g}, {hi:g}]",
                c.notnull() & ((c < lo) | (c > hi)),
            )
    # CASE WHEN rather than CAST(bool AS BIGINT): PostgreSQL refuses the cast
    aggs = {name: ibis.ifelse(pred, 1, 0).sum() for name, (_, _, pred) in checks.items()}
    aggs["__rows"] = t.count()
    key = list(table.key)
    dup = t.group_by(key).aggregate(n=t.count()).filter(lambda x: x.n > 1).count()
    counts = t.aggregate(**aggs).execute().iloc[0].to_dict()
    problems = []
    for name, (col_name, text, pred) in checks.items():
        n = int(counts.get(name) or 0)
        if n:
            rows = t.filter(pred).limit(sample).execute().to_dict("records")
            problems.append(ContractProblem(table.name, col_name, text, rows, n))
    n_dup = int(dup.execute())
    if n_dup:
        rows = (
            t.group_by(key)
            .aggregate(n=t.count())
            .filter(lambda x: x.n > 1)
            .limit(sample)
            .execute()
            .to_dict("records")
        )
        problems.append(
            ContractProblem(table.name, ", ".join(key), "duplicated key values", rows, n_dup)
        )
    return problems
