"""Data sources: open a brand's data through Ibis, mapped onto the canonical model.

This is the only module that touches storage. :func:`connect` returns a :class:`Database`
whose :meth:`Database.table` gives a canonical table (canonical column names and types),
already filtered on the brand and its product lines *inside the database*.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend
from sqlglot import exp

from ..errors import ContractError, DataSourceError, MissingTableError
from ..params import BrandParams, SourceParams
from ..params.brand import ColumnMapping, CsvDialect
from ..params.expressions import expression_columns, parse_expression
from ..schema import TABLES
from .compiled import install_compile_cache
from .contracts import ContractProblem, check_schema, check_values, conform, exclude_bad_values

log = logging.getLogger(__name__)


class Database:
    """A brand's view of a data source.

    Parameters
    ----------
    con : ibis.BaseBackend
        The open Ibis connection.
    source : SourceParams
        Where the data come from, and the user's table and column names.
    brand : str, optional
        Value of the ``brand`` column to keep; None keeps every brand.
    product_lines : sequence of str, optional
        Product lines to keep on tables that have a ``product_line`` column.
    """

    def __init__(
        self,
        con: BaseBackend,
        source: SourceParams,
        *,
        brand: str | None = None,
        product_lines: Iterable[str] = (),
        description: str = "",
        files: dict[str, Path] | None = None,
    ) -> None:
        #: queries compiled once per process for every connection of the same schema
        self.con = install_compile_cache(con)
        #: canonical table → the file it was read from (csv and parquet sources)
        self.files = dict(files or {})
        self.source = source
        self.brand = brand
        self.product_lines = tuple(product_lines or ())
        self.description = description or source.redacted()
        self._cache: dict[str, ibis.Table] = {}
        self._carries_line: dict[str, bool] = {}
        #: results computed once per open source (e.g. ``table_freshness``)
        self.memo: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Database({self.description!r}, brand={self.brand!r})"

    # -- which tables exist -------------------------------------------------------------
    def _physical_name(self, name: str) -> str:
        mapping = self.source.tables.get(name)
        stem = (mapping.table if mapping and mapping.table else None) or name
        if self.source.kind == "spark" and self.source.path:
            # the temporary view of this source's file (never a catalog table of that name)
            f = self.files.get(name)
            return spark_view_name(f) if f is not None else f"kpitools_absent_{name}"
        return stem

    @cached_property
    def _physical_tables(self) -> set[str]:
        return set(self.con.list_tables())

    def has(self, name: str) -> bool:
        """Whether the source holds canonical table ``name``."""
        return self._physical_name(name) in self._physical_tables

    @property
    def available_tables(self) -> list[str]:
        """Canonical tables the source holds."""
        return [n for n in TABLES if self.has(n)]

    @property
    def missing_tables(self) -> list[str]:
        """Canonical tables the source lacks (their KPIs are 'not available')."""
        return [n for n in TABLES if not self.has(n)]

    # -- tables ---------------------------------------------------------------------------
    def raw_table(self, name: str) -> ibis.Table:
        """The canonical table, mapped and typed, but not filtered on brand or product line.

        Raises
        ------
        MissingTableError
            When the source has no such table.
        ContractError
            When a column is missing or of the wrong type (all problems in one error).
        """
        if name not in TABLES:
            raise KeyError(f"{name!r} is not a canonical table; tables: {', '.join(TABLES)}")
        if name in self._cache:
            return self._cache[name]
        if not self.has(name):
            raise MissingTableError(name)
        spec = TABLES[name]
        t = self.con.table(self._physical_name(name))
        mapped = self._mapped_select(name, t)
        if mapped is not None:
            t, renames = mapped
        else:
            t, renames = self._renamed(name, t)
        problems = check_schema(spec, t.schema(), source_names=renames)
        if problems:
            raise ContractError(problems)
        t = conform(spec, t)
        self._cache[name] = t
        return t

    def _where(self, name: str) -> str:
        """The user's file or table behind canonical table ``name``, for messages."""
        f = self.files.get(name)
        return f"file {f.name}" if f is not None else f"table '{self._physical_name(name)}'"

    def _renamed(self, name: str, t: ibis.Table) -> tuple[ibis.Table, dict[str, str]]:
        """Plain renames (the mapping has nothing else), done by Ibis."""
        mapping = self.source.tables.get(name)
        renames: dict[str, str] = {}
        if mapping:
            for canonical, theirs in mapping.renames().items():
                if theirs not in t.columns:
                    raise ContractError([self._unknown_column(name, canonical, theirs, t)])
                renames[canonical] = theirs
            if renames:
                # drop user columns that collide with a canonical name being mapped
                clash = [c for c in renames if c in t.columns and c not in renames.values()]
                if clash:
                    t = t.drop(*clash)
                t = t.rename(renames)
        return t, renames

    def _unknown_column(
        self, name: str, canonical: str, theirs: str, t: ibis.Table, *, key: str = "column"
    ) -> ContractProblem:
        return ContractProblem(
            name,
            canonical,
            f"source.tables.{name}.columns.{canonical}: {key} '{theirs}', which "
            f"{self._where(name)} does not have (columns: {', '.join(t.columns)})",
        )

    # -- the mapping as one SELECT ----------------------------------------------------------
    def _mapped_select(self, name: str, t: ibis.Table) -> tuple[ibis.Table, dict[str, str]] | None:
        """The canonical table as one SQL SELECT over the user's table, or None when plain
        renames are enough.

        Constants, expressions, date formats and value maps of ``source.tables.<name>.columns``,
        the default brand (``source.brand``) and, for a CSV, the text columns that must be
        numbers or dates (decimal comma, thousands mark, ``csv.date_format``) become columns of
        a SELECT the database runs. Text that does not parse raises a :class:`ContractError`
        naming the params field, the file, the first offending value and its row.
        """
        spec = TABLES[name]
        mapping = self.source.tables.get(name)
        columns = mapping.columns if mapping else {}
        src = list(t.columns)
        is_csv = self.source.kind == "csv"
        dialect = self.source.dialect(name) if is_csv else CsvDialect()
        source_from: exp.Expression = exp.table_(self._physical_name(name), quoted=True)
        grouped = self._grouped_numbers(name, t, dialect) if is_csv else []
        if grouped:  # numbers with a thousands mark: numbers before any expression reads them
            typed: list[exp.Expression] = [
                _number(exp.column(c, quoted=True), "float", dialect).as_(c, quoted=True)
                if c in grouped
                else exp.column(c, quoted=True)
                for c in src
            ]
            source_from = exp.select(*typed).from_(source_from).subquery("src")
            t = self.con.sql(exp.select("*").from_(source_from).sql(dialect="duckdb"))
        schema = t.schema()
        items: dict[str, exp.Expression] = {}
        renames: dict[str, str] = {}
        checks: list[tuple[str, str, exp.Expression, exp.Expression]] = []
        problems: list[ContractProblem] = []
        special = bool(grouped)
        field = f"source.tables.{name}.columns"
        for canonical, cm in columns.items():
            try:
                raw = self._raw_value(name, canonical, cm, t)
            except _MappingProblem as exc:
                problems.append(exc.problem)
                continue
            if cm.column is not None:
                renames[canonical] = cm.column
            col = spec.column(canonical)
            value = raw
            if cm.format is not None and col.kind == "timestamp":
                special = True
                if cm.column is not None and schema[cm.column].is_temporal():
                    value = exp.cast(raw, "TIMESTAMP")  # already a date: the format is moot
                else:
                    value = _strptime(raw, cm.format)
                    checks.append(
                        (
                            canonical,
                            f"not a date in format {cm.format!r} ({field}.{canonical}.format)",
                            raw,
                            value,
                        )
                    )
            elif cm.format is not None:
                problems.append(
                    ContractProblem(
                        name,
                        canonical,
                        f"{field}.{canonical}.format: only a date or timestamp "
                        f"column takes a format; {canonical} is {col.kind}",
                    )
                )
                continue
            if cm.map is not None:
                special = True
                value = _value_map(value, cm)
            if not cm.is_rename:
                special = True
            elif is_csv and schema[cm.column].is_string():
                parsed = _parse_text(raw, col.kind, dialect)
                if parsed is not None:
                    special = True
                    value = parsed
                    checks.append((canonical, _dialect_field(name, col.kind), raw, parsed))
            items[canonical] = value
        if problems:
            raise ContractError(problems)
        if (
            self.source.brand is not None
            and "brand" in spec.column_names
            and "brand" not in items
            and "brand" not in src
        ):
            special = True
            items["brand"] = exp.Literal.string(self.source.brand)
        if is_csv:  # canonical columns read under their own name, as text
            for col in spec.columns:
                if col.name in items or col.name not in src or not schema[col.name].is_string():
                    continue
                raw = exp.column(col.name, quoted=True)
                parsed = _parse_text(raw, col.kind, dialect)
                if parsed is not None:
                    special = True
                    items[col.name] = parsed
                    checks.append((col.name, _dialect_field(name, col.kind), raw, parsed))
        if not special:
            return None
        dialect_name = self._sql_dialect()
        if checks:
            self._check_parsing(name, checks, source_from)
        select: list[exp.Expression] = [v.as_(c, quoted=True) for c, v in items.items()]
        select += [exp.column(c, quoted=True) for c in src if c not in items]
        query = exp.select(*select).from_(source_from)
        sql = query.sql(dialect=dialect_name)
        try:
            mapped = self.con.sql(sql)
        except Exception as exc:
            raise ContractError(
                self._failing_columns(name, items, source_from, schema, dialect_name)
                or [
                    ContractProblem(
                        name,
                        None,
                        f"{field}: the database cannot run the mapping of "
                        f"{self._where(name)}: {_first_line(exc)}",
                    )
                ]
            ) from None
        return mapped, renames

    def _failing_columns(self, name, items, source_from, schema, dialect_name):
        """The mapped columns the database refuses, each with its field and the text
        columns it reads (the usual cause: a number or date left as text)."""
        out = []
        for canonical, value in items.items():
            one = exp.select(value.as_("x")).from_(source_from).sql(dialect=dialect_name)
            try:
                self.con.sql(one).schema()
            except Exception as exc:
                text = [
                    c.name
                    for c in value.find_all(exp.Column)
                    if c.name in schema and schema[c.name].is_string()
                ]
                hint = (
                    f"; it reads text column(s) {', '.join(dict.fromkeys(text))} of "
                    f"{self._where(name)}: cast them, or set the CSV dialect (decimal, "
                    "thousands, date_format) so that they read as numbers or dates"
                    if text
                    else ""
                )
                out.append(
                    ContractProblem(
                        name,
                        canonical,
                        f"source.tables.{name}.columns.{canonical}: the database refuses "
                        f"it: {_first_line(exc)}{hint}",
                    )
                )
        return out

    def _raw_value(self, name: str, canonical: str, cm: ColumnMapping, t: ibis.Table):
        """The SQL expression of a column mapping before any format or value map."""
        if cm.column is not None:
            if cm.column not in t.columns:
                raise _MappingProblem(
                    self._unknown_column(name, canonical, cm.column, t, key="mapped to column")
                )
            return exp.column(cm.column, quoted=True)
        if "value" in cm.model_fields_set:
            if cm.value is None:  # a NULL of the canonical type (an untyped NULL is text)
                kind = TABLES[name].column(canonical).kind
                return exp.cast(exp.null(), _CSV_TYPES.get(kind, "VARCHAR"))
            return exp.convert(cm.value)
        assert cm.expr is not None  # ColumnMapping validation: exactly one of the three
        tree = parse_expression(cm.expr)
        for c in expression_columns(tree):
            if c not in t.columns:
                raise _MappingProblem(
                    self._unknown_column(name, canonical, c, t, key="expr reads column")
                )
        tree = tree.copy()
        for node in tree.find_all(exp.Column):  # quote: user names may be keywords or mixed case
            node.this.set("quoted", True)
        return exp.paren(tree)

    def _sql_dialect(self) -> str:
        name = getattr(self.con, "name", "duckdb")
        return {
            "postgres": "postgres",
            "mysql": "mysql",
            "sqlite": "sqlite",
            "mssql": "tsql",
            "snowflake": "snowflake",
            "bigquery": "bigquery",
            "trino": "trino",
            "oracle": "oracle",
            "clickhouse": "clickhouse",
            "datafusion": "duckdb",
            "pyspark": "spark",
        }.get(name, "duckdb")

    def _grouped_numbers(self, name: str, t: ibis.Table, dialect: CsvDialect) -> list[str]:
        """Text columns of a CSV whose every value is a number written with the dialect's
        thousands mark (``1 234,50``), which DuckDB's reader leaves as text (one query)."""
        if dialect.thousands is None:
            return []
        text = [c for c in t.columns if t[c].type().is_string()]
        if not text:
            return []
        th = re.escape(dialect.thousands)
        dec = re.escape(dialect.decimal or ".")
        pattern = rf"[+-]?(\d{{1,3}}({th}\d{{3}})+|\d+)({dec}\d+)?"
        tests = ", ".join(
            f"coalesce(bool_and(regexp_full_match(trim({_q(c)}), '{pattern}')), false) "
            f"AND bool_or(strpos({_q(c)}, '{dialect.thousands}') > 0)"
            for c in text
        )
        phys = _q(self._physical_name(name))
        flags = self.con.raw_sql(f"SELECT {tests} FROM {phys}").fetchone()
        return [c for c, flag in zip(text, flags, strict=True) if flag]

    def _check_parsing(self, name: str, checks, source_from: exp.Expression) -> None:
        """Raise a ContractError when text that should parse does not, with the first
        offending value and its row (1 = first data row of the file)."""
        if self._sql_dialect() != "duckdb":  # row numbers of a scan: DuckDB only
            return
        rn = exp.Window(this=exp.RowNumber()).as_("__row")
        inner = exp.select(
            rn,
            *[
                e
                for i, (_, _, raw, parsed) in enumerate(checks)
                for e in (exp.cast(raw, "VARCHAR").as_(f"r{i}"), parsed.as_(f"p{i}"))
            ],
        ).from_(source_from)
        aggs = []
        for i in range(len(checks)):
            bad = f"r{i} IS NOT NULL AND p{i} IS NULL"
            aggs += [
                f"count(*) FILTER (WHERE {bad}) AS n{i}",
                f"arg_min(r{i}, __row) FILTER (WHERE {bad}) AS v{i}",
                f"min(__row) FILTER (WHERE {bad}) AS w{i}",
            ]
        sql = f"SELECT {', '.join(aggs)} FROM ({inner.sql(dialect='duckdb')}) AS scan"
        try:
            row = self.con.raw_sql(sql).fetchone()
        except Exception as exc:
            raise ContractError(
                [
                    ContractProblem(
                        name,
                        None,
                        f"source.tables.{name}: cannot read {self._where(name)}: "
                        f"{_first_line(exc)}",
                    )
                ]
            ) from None
        problems = []
        for i, (canonical, what, _, _) in enumerate(checks):
            n, value, where = row[3 * i : 3 * i + 3]
            if n:
                more = f" ({n} rows in all)" if n > 1 else ""
                problems.append(
                    ContractProblem(
                        name,
                        canonical,
                        f"{self._where(name)}, row {where}: {value!r} is {what}{more}",
                    )
                )
        if problems:
            raise ContractError(problems)

    def carries_line(self, name: str) -> bool:
        """Whether canonical table ``name`` has a product line *in this source*.

        True when the canonical model gives the table a ``product_line`` column and the
        source's table really has it (under its own name or mapped). An optional column the
        source lacks is read as NULL and cannot be filtered: the table is then brand-wide
        in a product-line report. So is an optional column that is NULL in every row of the
        brand (an export that has the column but never fills it), which one small query checks
        (once per table). False too when the source lacks the table.
        """
        if name in self._carries_line:
            return self._carries_line[name]
        spec = TABLES[name]
        if spec.line_through:  # campaign members: through their campaign and customer
            carries = self.has(name) and all(self.carries_line(t) for t in spec.line_through)
            self._carries_line[name] = carries
            return carries
        carries = spec.product_line and self.has(name)
        if carries and spec.column("product_line").optional:
            mapping = self.source.tables.get(name)
            how = mapping.columns.get("product_line") if mapping else None
            if how is None or how.is_rename:
                theirs = how.column if how is not None else "product_line"
                carries = theirs in self.con.table(self._physical_name(name)).columns
            else:  # a constant, an expression or a mapped column: read what it gives
                carries = True
            if carries:
                t = self.brand_table(name)
                carries = bool(t.product_line.notnull().any().execute())
        self._carries_line[name] = bool(carries)
        return self._carries_line[name]

    def column_fill(self, name: str) -> dict[str, tuple[int, int]]:
        """How filled the brand's optional and nullable columns of table ``name`` are.

        One aggregate query per table (cached): for each optional or nullable column of the
        canonical table, ``(rows, filled)``: the brand's rows (all product lines) and those
        whose value is not NULL. An optional column the source lacks is read as NULL, so it
        is ``(rows, 0)`` like a column the export has but never fills.

        Returns
        -------
        dict
            Column name → (rows, filled); empty when the source lacks the table.
        """
        cache: dict[str, dict[str, tuple[int, int]]] = self.__dict__.setdefault("_fill", {})
        if name in cache:
            return cache[name]
        if not self.has(name):
            cache[name] = {}
            return cache[name]
        spec = TABLES[name]
        cols = [c.name for c in spec.columns if c.optional or c.nullable]
        t = self.brand_table(name)
        aggs = {"__rows": t.count()}
        aggs.update({f"c{i}": t[c].count() for i, c in enumerate(cols)})
        row = t.aggregate(**aggs).execute().iloc[0]
        rows = int(row["__rows"] or 0)
        cache[name] = {c: (rows, int(row[f"c{i}"] or 0)) for i, c in enumerate(cols)}
        return cache[name]

    def empty_column(self, qualified: str) -> bool:
        """Whether ``table.column`` is absent or NULL in every row of the brand (False when the
        table itself is absent or has no rows for the brand: that is another reason)."""
        table, _, column = qualified.partition(".")
        rows, filled = self.column_fill(table).get(column, (0, 1))
        return rows > 0 and filled == 0

    def single_valued(self, qualified: str) -> bool:
        """Whether ``table.column`` holds at most one distinct value in the brand's rows (all
        product lines; False when the table is absent or has no rows for the brand)."""
        cache: dict[str, bool] = self.__dict__.setdefault("_single", {})
        if qualified not in cache:
            table, _, column = qualified.partition(".")
            if not self.has(table):
                cache[qualified] = False
            else:
                t = self.brand_table(table)
                row = t.aggregate(n=t.count(), k=t[column].nunique()).execute().iloc[0]
                cache[qualified] = int(row["n"] or 0) > 0 and int(row["k"] or 0) <= 1
        return cache[qualified]

    def brand_rows(self, name: str) -> ibis.Table:
        """The canonical table filtered on this brand only, every row as the source has it
        (what the run-time value checks scan, :func:`kpitools.data.checks.scan_table`)."""
        t = self.raw_table(name)
        return t.filter(t.brand == self.brand) if self.brand is not None else t

    def brand_table(self, name: str) -> ibis.Table:
        """The canonical table filtered on this brand only (all product lines), without the
        rows and values the data-quality rules exclude
        (:func:`kpitools.data.contracts.exclude_bad_values`)."""
        t = self.brand_rows(name)  # a KeyError naming the tables for an unknown name
        return exclude_bad_values(TABLES[name], t)

    def table(self, name: str) -> ibis.Table:
        """The canonical table filtered on this brand and its product lines, in the database.

        Only tables that carry a line in this source (:meth:`carries_line`) are filtered; the
        others are the brand's whole table. A row with a NULL line belongs to no line and is
        left out, except in campaigns, where a campaign without a product line is brand-wide:
        it stays in a product-line report (its outcomes still count only that line's orders),
        with those of its members who are the line's customers (:meth:`_line_members`).
        The rows and values the data-quality rules exclude are left out (:meth:`brand_table`).
        """
        t = self.brand_table(name)
        if self.product_lines and name == "campaign_members":
            return self._line_members(t)
        if self.product_lines and self.carries_line(name):
            keep = t.product_line.isin(list(self.product_lines))
            if TABLES[name].null_line_is_brand_wide:
                keep = keep | t.product_line.isnull()
            t = t.filter(keep)
        return t

    def _line_members(self, m: ibis.Table) -> ibis.Table:
        """Campaign members in a product-line report: every member of the line's campaigns,
        and of a brand-wide campaign (no line) the members who are the line's customers (by
        ``customers.product_line``), the part of the campaign the line's report counts and
        pays for. Without a ``customers`` table a brand-wide campaign keeps all its members
        (its KPIs are then brand-wide)."""
        if not self.has("campaigns"):
            return m
        c = self.table("campaigns")  # the line's campaigns and the brand-wide ones
        own = m.campaign_id.isin(c.filter(c.product_line.notnull()).campaign_id)
        shared = m.campaign_id.isin(c.filter(c.product_line.isnull()).campaign_id)
        if self.has("customers"):
            shared = shared & m.customer_id.isin(self.table("customers").customer_id)
        return m.filter(own | shared)

    def check(self, *, values: bool = False) -> list[ContractProblem]:
        """Check every available table's contract; with ``values``, scan the data too."""
        problems: list[ContractProblem] = []
        for name in self.available_tables:
            try:
                t = self.raw_table(name)
            except ContractError as exc:
                problems.extend(exc.problems)
                continue
            if values:
                problems.extend(check_values(TABLES[name], t))
        return problems

    def close(self) -> None:
        if self.source.kind == "spark":
            # the session outlives the source (the next brand of a run reuses it; stopping
            # a JVM costs seconds): only this source's temporary views are dropped
            # (a view another open source of the same file still uses is kept)
            catalog = getattr(getattr(self.con, "_session", None), "catalog", None)
            views = [self._physical_name(name) for name in self.files]
            self.files = {}  # closing twice releases nothing twice
            for view in views:
                _SPARK_VIEW_USERS[view] -= 1
                if _SPARK_VIEW_USERS[view] > 0 or catalog is None:
                    continue
                del _SPARK_VIEW_USERS[view]
                try:
                    catalog.dropTempView(view)
                except Exception:  # pragma: no cover - best effort
                    log.debug("dropTempView failed", exc_info=True)
            return
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect:
            try:
                disconnect()
            except Exception:  # pragma: no cover - best effort
                log.debug("disconnect failed", exc_info=True)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duckdb_config(source: SourceParams) -> dict[str, str]:
    """DuckDB settings of a duckdb, parquet or csv source (``source.memory_limit``)."""
    return {"memory_limit": source.memory_limit} if source.memory_limit else {}


def _open(source: SourceParams, base_dir: Path) -> tuple[BaseBackend, dict[str, Path]]:
    if source.kind == "sql":
        try:
            url = source.resolved_url()
        except KeyError as exc:
            raise DataSourceError(
                f"source.url needs environment variable {exc.args[0]}, which is not set"
            ) from None
        try:
            return ibis.connect(url), {}
        except Exception as exc:
            # never echo the URL: it may hold a credential
            raise DataSourceError(
                f"cannot connect to {source.redacted()}: {type(exc).__name__}: "
                f"{_scrub(str(exc), source)}"
            ) from None
    if source.kind == "spark":
        return _open_spark(source, base_dir)
    if source.path is None:  # SourceParams validation requires it for every non-sql kind
        raise DataSourceError(f"a {source.kind} source needs a path")
    path = Path(os.path.expandvars(source.path)).expanduser()
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    if source.kind == "duckdb":
        if not path.is_file():
            raise DataSourceError(
                f"source.path: DuckDB file {path} does not exist"
                + (" (create the demo with: kpitools demo-data)" if "demo" in path.name else "")
            )
        try:
            return ibis.duckdb.connect(str(path), read_only=True, **_duckdb_config(source)), {}
        except Exception as exc:
            raise DataSourceError(f"source.path: cannot open DuckDB file {path}: {exc}") from None
    if not path.is_dir():
        raise DataSourceError(f"source.path: folder {path} does not exist")
    con = ibis.duckdb.connect(**_duckdb_config(source))
    ext = ".parquet" if source.kind == "parquet" else ".csv"
    files: dict[str, Path] = {}
    for name in TABLES:
        mapping = source.tables.get(name)
        stem = (mapping.table if mapping and mapping.table else None) or name
        named = _has_suffix(stem, ext) or _has_suffix(stem, ".xlsx")
        f = path / (stem if named else stem + ext)
        if not f.is_file():
            continue
        files[name] = f
        if _has_suffix(stem, ".xlsx"):
            _read_excel(con, f, stem, mapping.sheet if mapping else None)
            continue
        if source.kind == "parquet":
            try:
                con.read_parquet(str(f), table_name=stem)
            except Exception as exc:
                raise DataSourceError(
                    f"{f}: cannot read this Parquet file: {_first_line(exc)}"
                ) from None
            continue
        dialect = source.dialect(name)
        options = csv_options(dialect)
        where = f"source.tables.{name}.csv" if mapping and mapping.csv else "source.csv"
        if dialect.delimiter == "whitespace":
            try:
                _read_aligned(con, f, stem, dialect)
                con.table(stem).head(1).execute()
            except DataSourceError:
                raise
            except Exception as exc:
                raise DataSourceError(f"{f}: cannot read this file ({_first_line(exc)})") from None
            _materialise(con, f, stem)
            continue
        for attempt in range(2):
            try:
                # the sniffer runs here; the whole file is parsed once by _materialise below
                t = con.read_csv(str(f), table_name=stem, **options)
            except Exception as exc:
                raise DataSourceError(
                    f"{f}: cannot read this CSV ({_first_line(exc)}); set {where}: "
                    "delimiter, quote, header, encoding, decimal, date_format"
                ) from None
            _retype_csv(con, t, f, stem, TABLES[name], mapping, options)
            try:
                _materialise(con, f, stem)
                break
            except DataSourceError:
                if attempt:
                    raise
            # a value past the sniffer's sample (20,480 lines) does not fit the type it chose
            # (a thousands mark first seen at line 27,634): sniff the whole file, so that the
            # column reads as text and the mapping parses it or names the value that does not
            options = {**options, "sample_size": -1}
    return con, files


#: Settings of a Spark session kpitools starts itself (a local one, or ``spark.master`` given):
#: few shuffle partitions (the default 200 costs seconds a query on small data), no web UI or
#: progress bars, and naive timestamps read as they are written (UTC session time zone).
#: ``source.spark.conf`` overrides them.
SPARK_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
}

#: Added for a local master (``local[...]``): a partition a core (the default is 200).
SPARK_LOCAL_DEFAULTS: dict[str, str] = {"spark.sql.shuffle.partitions": "2"}

#: Spark log level of a session kpitools starts: errors reach the caller as exceptions.
SPARK_LOG_LEVEL = "FATAL"

#: Open ``spark`` sources using each temporary view (:func:`spark_view_name`) of this process.
_SPARK_VIEW_USERS: Counter[str] = Counter()


def spark_view_name(f: Path) -> str:
    """The temporary view a ``spark`` source registers for Parquet file or folder ``f``.

    Unique per file (``kpitools_<12 hex of the path's SHA-1>_<table>``), so that two sources
    open in one session (two folders, each with an ``orders.parquet``) never read each
    other's files, and a canonical table absent from the folder is never a catalog table
    that happens to be called ``orders`` or ``customers``.

    Parameters
    ----------
    f : Path
        The resolved path of the file or folder.

    Returns
    -------
    str
        A Spark identifier (letters, digits, underscores).
    """
    digest = hashlib.sha1(str(f).encode("utf-8")).hexdigest()[:12]
    stem = f.name[: -len(".parquet")] if f.name.lower().endswith(".parquet") else f.name
    return f"kpitools_{digest}_{re.sub(r'[^0-9A-Za-z_]', '_', stem)}"


def spark_session(source: SourceParams):
    """The Spark session of a ``spark`` source.

    Without ``source.spark.master``, the active session when there is one (a notebook on a
    cluster, ``spark-submit``), else a new local one (``local[2]``); with a master, a session
    on that master. A session kpitools builds gets :data:`SPARK_DEFAULTS`, then
    ``source.spark.conf``.

    Raises
    ------
    DataSourceError
        When PySpark is not installed or the JVM (Java) cannot be started.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataSourceError(
            "source.kind spark needs PySpark: pip install 'kpitools[spark]' (and Java 17 or 21)"
        ) from None
    opts = source.spark
    master = opts.master if opts else None
    conf = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in (opts.conf if opts else {}).items()
    }
    if master is None:
        active = SparkSession.getActiveSession()
        if active is not None:
            for k, v in conf.items():
                try:
                    active.conf.set(k, v)
                except Exception as exc:  # a static or core setting of a running session
                    raise DataSourceError(
                        f"source.spark.conf: {k} cannot be changed on the running Spark "
                        f"session (only runtime settings such as spark.sql.* can): "
                        f"{_first_line(exc)}"
                    ) from None
            return active
    master = master or "local[2]"
    builder = SparkSession.builder.master(master).appName("kpitools")
    local = SPARK_LOCAL_DEFAULTS if master.startswith("local") else {}
    for k, v in {**SPARK_DEFAULTS, **local, **conf}.items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, a JVM that does not start, an unreachable master
        raise DataSourceError(
            f"source.kind spark: cannot start Spark (master {master}): "
            f"{_first_line(exc)}; Spark needs Java 17 or 21 (JAVA_HOME or java on PATH)"
        ) from None
    session.sparkContext.setLogLevel(SPARK_LOG_LEVEL)
    return session


def _open_spark(source: SourceParams, base_dir: Path) -> tuple[BaseBackend, dict[str, Path]]:
    """A ``spark`` source: each canonical table is the Parquet file or folder of ``path``
    (``orders.parquet``, ``orders/`` or the name under ``source.tables.<t>.table``), registered
    as a temporary view of the session; without a path, the catalog's tables (of
    ``source.spark.database`` when given)."""
    session = spark_session(source)
    database = source.spark.database if source.spark else None
    if source.path is None:
        if database is not None:
            if not session.catalog.databaseExists(database):
                raise DataSourceError(
                    f"source.spark.database: Spark's catalog has no database {database!r}"
                )
            session.catalog.setCurrentDatabase(database)
        return ibis.pyspark.connect(session), {}
    path = Path(os.path.expandvars(source.path)).expanduser()
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    if not path.is_dir():
        raise DataSourceError(f"source.path: folder {path} does not exist")
    files: dict[str, Path] = {}
    for name in TABLES:
        mapping = source.tables.get(name)
        stem = (mapping.table if mapping and mapping.table else None) or name
        candidates = [path / stem] if _has_suffix(stem, ".parquet") else []
        candidates += [path / f"{stem}.parquet", path / stem]
        f = next((c for c in candidates if c.exists()), None)
        if f is None:
            continue
        view = spark_view_name(f)
        try:
            session.read.parquet(str(f)).createOrReplaceTempView(view)
        except Exception as exc:
            raise DataSourceError(
                f"{f}: Spark cannot read this Parquet: {_first_line(exc)}"
            ) from None
        _SPARK_VIEW_USERS[view] += 1
        files[name] = f
    return ibis.pyspark.connect(session), files


def _materialise(con, f: Path, stem: str) -> None:
    """Read a text file once into a table of the (in-memory) database.

    A CSV registered as a view is parsed again by every query that reads it: a scorecard's
    twenty-odd queries on an 800,000-line export took a minute. The file is parsed once here
    (DuckDB spills to disk past its memory limit), so a value that does not read fails when
    the source is opened, in ``validate`` as in ``run``, never in the middle of a report.
    """
    tmp = f"__file_{uuid.uuid4().hex[:8]}"
    con.raw_sql(f"ALTER VIEW {_q(stem)} RENAME TO {_q(tmp)}")
    try:
        con.raw_sql(f"CREATE TABLE {_q(stem)} AS SELECT * FROM {_q(tmp)}")
    except Exception as exc:
        raise DataSourceError(f"{f}: cannot read this file: {_first_line(exc)}") from None
    finally:
        con.raw_sql(f"DROP VIEW IF EXISTS {_q(tmp)}")


#: Suffixes of a file named with its own extension under ``source.tables.<t>.table`` (a text
#: export is often ``.txt`` or ``.tsv``); other names get the source kind's ``.csv``/``.parquet``.
FILE_SUFFIXES = {
    ".csv": (".csv", ".txt", ".tsv", ".tab", ".dat", ".csv.gz", ".txt.gz", ".tsv.gz"),
    ".parquet": (".parquet", ".pq"),
    ".xlsx": (".xlsx", ".xlsm"),
}


def _read_excel(con, f: Path, stem: str, sheet: str | None) -> None:
    """Load one worksheet of an Excel file into the database as table ``stem``.

    DuckDB reads Excel only through an extension downloaded at run time, so the sheet is
    read by openpyxl (through pandas, at most Excel's 1 048 576 rows) and handed to DuckDB
    once; the mapping then runs in the database as for any table. Cells keep their types
    (numbers, dates); a column of mixed cells is read as text.
    """
    import pandas as pd

    try:
        frame = pd.read_excel(f, sheet_name=sheet if sheet is not None else 0, engine="openpyxl")
    except ValueError as exc:  # no such sheet
        raise DataSourceError(f"{f}: {_first_line(exc)} (source.tables.<table>.sheet)") from None
    except Exception as exc:
        raise DataSourceError(f"{f}: cannot read this Excel file: {_first_line(exc)}") from None
    frame.columns = [str(c) for c in frame.columns]
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: None if v is None or v != v else str(v))
    con.create_table(stem, frame, overwrite=True)


def _has_suffix(name: str, ext: str) -> bool:
    return name.lower().endswith(FILE_SUFFIXES.get(ext, (ext,)))


def _read_aligned(con, f: Path, stem: str, dialect: CsvDialect) -> None:
    """Register a text file whose columns are separated by runs of spaces or tabs as view
    ``stem``, every column as text (the mapping parses numbers and dates in the query).

    DuckDB reads each line whole; the view splits it with a regular expression, so the file
    is read by the database, never by pandas. The column names are those of the first line
    (``header`` not false) or ``column0``, ``column1``, ...
    """
    encoding = _DUCKDB_ENCODINGS[dialect.encoding or "utf-8"]
    first, before = "", 0  # the first line with text, and the lines before it
    with open(f, encoding="latin-1" if encoding == "latin-1" else encoding, newline="") as fh:
        for line in fh:
            if line.strip():
                first = line
                break
            before += 1
    fields = first.split()
    if not fields:
        raise DataSourceError(f"{f}: the file is empty")
    header = dialect.header
    if header is None:  # a header line has no number in it; a data line usually has
        header = not any(_NUMBERISH.fullmatch(v) for v in fields)
    names = fields if header else [f"column{i}" for i in range(len(fields))]
    if len(set(names)) != len(names):
        names = [f"{n}_{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    path = str(f).replace("'", "''")
    skip = before + 1 if header else before
    lines = (
        f"SELECT string_split_regex(trim(line), '\\s+') AS f FROM read_csv('{path}', "
        f"columns = {{'line': 'VARCHAR'}}, header = false, delim = '{chr(1)}', quote = '', "
        f"escape = '', auto_detect = false, skip = {skip}, encoding = '{encoding}') "
        "WHERE trim(line) <> ''"
    )
    select = ", ".join(f"f[{i + 1}] AS {_q(n)}" for i, n in enumerate(names))
    con.raw_sql(f"CREATE OR REPLACE VIEW {_q(stem)} AS SELECT {select} FROM ({lines})")


_NUMBERISH = re.compile(r"[-+]?\d[\d.,]*")


#: encodings DuckDB's CSV reader knows without an extension
_DUCKDB_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "cp1252": "latin-1",
    "windows-1252": "latin-1",
}


def csv_options(dialect: CsvDialect) -> dict:
    """DuckDB ``read_csv`` options of a CSV dialect (keys not given are sniffed).

    The thousands mark has no DuckDB option: a column with one reads as text and
    :meth:`Database._mapped_select` turns it into a number in the query.
    """
    # the sniffer reads the whole file: a value such as "1 286,01" or "n/a" on line 27 634
    # makes its column text, instead of a type guessed on the first 20 480 lines that a
    # later line breaks in the middle of a report
    out: dict = {"sample_size": -1}
    if dialect.delimiter is not None:
        out["delim"] = dialect.delimiter
    if dialect.quote is not None:
        out["quote"] = dialect.quote
    if dialect.header is not None:
        out["header"] = dialect.header
    if dialect.encoding is not None:
        out["encoding"] = _DUCKDB_ENCODINGS[dialect.encoding]
    if dialect.decimal is not None:
        out["decimal_separator"] = dialect.decimal
    if dialect.date_format is not None:
        out["dateformat"] = dialect.date_format
        out["timestampformat"] = dialect.date_format
    return out


_CSV_TYPES = {"timestamp": "TIMESTAMP", "float": "DOUBLE", "int": "BIGINT", "boolean": "BOOLEAN"}


def _retype_csv(con, t, f: Path, stem: str, spec, mapping, options: dict) -> None:
    """Read a CSV again with the canonical types of its columns that came out as text.

    A column that is empty in every row (say ``unsubscribed_at`` when nobody unsubscribed)
    is sniffed as text; with its declared type it reads as NULLs of the right type. If the
    values really are not of that type, the sniffed table is kept and the mapping
    (:meth:`Database._mapped_select`) parses them or names the first that does not parse.
    """
    names = mapping.renames() if mapping else {}
    types = {}
    for col in spec.columns:
        how = mapping.columns.get(col.name) if mapping else None
        if how is not None and not how.is_rename:
            continue  # read by a format, a map or an expression
        theirs = names.get(col.name, col.name)
        if col.kind in _CSV_TYPES and theirs in t.columns and t[theirs].type().is_string():
            types[theirs] = _CSV_TYPES[col.kind]
    if not types:
        return
    try:
        typed = con.read_csv(str(f), table_name=stem, types=types, **options)
        # read the typed columns themselves (a bare count would skip parsing them)
        typed.aggregate(**{f"n{i}": typed[c].count() for i, c in enumerate(types)}).execute()
    except Exception:  # real text in a typed column: leave it to the mapping
        con.read_csv(str(f), table_name=stem, **options)


class _MappingProblem(Exception):
    def __init__(self, problem: ContractProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _strptime(raw: exp.Expression, fmt: str) -> exp.Expression:
    """Text → timestamp with a strptime format; NULL where it does not match."""
    return exp.StrToTime(this=exp.cast(raw, "VARCHAR"), format=exp.Literal.string(fmt), safe=True)


def _value_map(value: exp.Expression, cm: ColumnMapping) -> exp.Expression:
    """``CASE value WHEN 'Web' THEN 'web' ... ELSE default END`` (else the value itself)."""
    text = exp.cast(value, "VARCHAR")
    case = exp.Case(this=text)
    for k, v in (cm.map or {}).items():
        case = case.when(exp.Literal.string(str(k)), exp.null() if v is None else exp.convert(v))
    if "default" in cm.model_fields_set:
        default = exp.null() if cm.default is None else exp.convert(cm.default)
    else:
        default = text
    return case.else_(default)


def _parse_text(raw: exp.Expression, kind: str, dialect: CsvDialect) -> exp.Expression | None:
    """A CSV text column that must be a number or a date, parsed with the file's dialect
    (NULL where a value does not parse), or None for a column that is text anyway."""
    if kind in ("float", "int"):
        return _number(raw, kind, dialect)
    if kind == "timestamp":
        if dialect.date_format is not None:
            return _strptime(raw, dialect.date_format)
        return exp.TryCast(this=exp.cast(raw, "VARCHAR"), to=exp.DataType.build("TIMESTAMP"))
    return None


def _number(raw: exp.Expression, kind: str, dialect: CsvDialect) -> exp.Expression:
    """Text → number with the dialect's decimal and thousands marks (NULL if it is not one)."""
    text: exp.Expression = exp.func("trim", exp.cast(raw, "VARCHAR"))
    if dialect.thousands is not None:
        text = exp.func(
            "replace", text, exp.Literal.string(dialect.thousands), exp.Literal.string("")
        )
    if dialect.decimal == ",":
        text = exp.func("replace", text, exp.Literal.string(","), exp.Literal.string("."))
    return exp.TryCast(this=text, to=exp.DataType.build("DOUBLE" if kind == "float" else "BIGINT"))


def _dialect_field(name: str, kind: str) -> str:
    """What a text value that does not parse should have been, and the keys that say how."""
    if kind in ("float", "int"):
        return (
            f"not a number (source.csv or source.tables.{name}.csv: decimal, thousands; "
            f"or an expr under source.tables.{name}.columns)"
        )
    return (
        f"not a date (source.csv or source.tables.{name}.csv: date_format; "
        f"or a format under source.tables.{name}.columns)"
    )


def _scrub(text: str, source: SourceParams) -> str:
    """``text`` without the source's credentials, whatever the URL form (user info, query
    string, fragment; :func:`kpitools.params.brand.scrub_secrets`)."""
    return source.scrub(text)


def connect(
    params: BrandParams | SourceParams,
    *,
    brand: str | None = None,
    product_lines: Iterable[str] = (),
    base_dir: str | os.PathLike | None = None,
) -> Database:
    """Open a data source as a :class:`Database`.

    Parameters
    ----------
    params : BrandParams or SourceParams
        A brand's params (brand, product lines and source taken from it), or a bare source.
    brand, product_lines :
        Filters, when ``params`` is a bare source.
    base_dir : Path, optional
        Directory relative paths are resolved against (default: the params file's folder,
        or the working directory for a bare source).

    Raises
    ------
    DataSourceError
        When the file, folder or server cannot be opened, or a credential variable is unset.
    """
    if isinstance(params, BrandParams):
        source = params.source
        brand = params.brand
        product_lines = params.product_lines
        base_dir = params.base_dir
    else:
        source = params
    con, files = _open(source, Path(base_dir or Path.cwd()))
    return Database(con, source, brand=brand, product_lines=product_lines, files=files)
