"""Data sources: open a brand's data through Ibis, mapped onto the canonical model.

This is the only module that touches storage. :func:`connect` returns a :class:`Database`
whose :meth:`Database.table` gives a canonical table (canonical column names and types),
already filtered on the brand and its product lines *inside the database*.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import ibis
from ibis.backends import BaseBackend

from ..errors import ContractError, DataSourceError, MissingTableError
from ..params import BrandParams, SourceParams
from ..schema import TABLES
from .contracts import ContractProblem, check_schema, check_values, conform

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
    ) -> None:
        self.con = con
        self.source = source
        self.brand = brand
        self.product_lines = tuple(product_lines or ())
        self.description = description or source.redacted()
        self._cache: dict[str, ibis.Table] = {}
        self._carries_line: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"Database({self.description!r}, brand={self.brand!r})"

    # -- which tables exist -------------------------------------------------------------
    def _physical_name(self, name: str) -> str:
        mapping = self.source.tables.get(name)
        return (mapping.table if mapping and mapping.table else None) or name

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
        mapping = self.source.tables.get(name)
        renames = {}
        if mapping:
            for canonical, theirs in mapping.columns.items():
                if theirs not in t.columns:
                    raise ContractError(
                        [
                            ContractProblem(
                                name,
                                canonical,
                                f"mapped to column '{theirs}', which table "
                                f"'{self._physical_name(name)}' does not have "
                                f"(columns: {', '.join(t.columns)})",
                            )
                        ]
                    )
                renames[canonical] = theirs
            if renames:
                # drop user columns that collide with a canonical name being mapped
                clash = [c for c in renames if c in t.columns and c not in renames.values()]
                if clash:
                    t = t.drop(*clash)
                t = t.rename(renames)
        problems = check_schema(spec, t.schema(), source_names=renames)
        if problems:
            raise ContractError(problems)
        t = conform(spec, t)
        self._cache[name] = t
        return t

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
            theirs = (mapping.columns.get("product_line") if mapping else None) or "product_line"
            carries = theirs in self.con.table(self._physical_name(name)).columns
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

    def brand_table(self, name: str) -> ibis.Table:
        """The canonical table filtered on this brand only (all product lines)."""
        t = self.raw_table(name)
        return t.filter(t.brand == self.brand) if self.brand is not None else t

    def table(self, name: str) -> ibis.Table:
        """The canonical table filtered on this brand and its product lines, in the database.

        Only tables that carry a line in this source (:meth:`carries_line`) are filtered; the
        others are the brand's whole table. A row with a NULL line belongs to no line and is
        left out, except in campaigns, where a campaign without a product line is brand-wide:
        it stays in a product-line report (its outcomes still count only that line's orders),
        with those of its members who are the line's customers (:meth:`_line_members`).
        """
        t = self.raw_table(name)
        if self.brand is not None:
            t = t.filter(t.brand == self.brand)
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


def _open(source: SourceParams, base_dir: Path) -> BaseBackend:
    if source.kind == "sql":
        try:
            url = source.resolved_url()
        except KeyError as exc:
            raise DataSourceError(
                f"source.url needs environment variable {exc.args[0]}, which is not set"
            ) from None
        try:
            return ibis.connect(url)
        except Exception as exc:
            # never echo the URL: it may hold a credential
            raise DataSourceError(
                f"cannot connect to {source.redacted()}: {type(exc).__name__}: "
                f"{_scrub(str(exc), source)}"
            ) from None
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
            return ibis.duckdb.connect(str(path), read_only=True)
        except Exception as exc:
            raise DataSourceError(f"source.path: cannot open DuckDB file {path}: {exc}") from None
    if not path.is_dir():
        raise DataSourceError(f"source.path: folder {path} does not exist")
    con = ibis.duckdb.connect()
    reader = con.read_parquet if source.kind == "parquet" else con.read_csv
    ext = ".parquet" if source.kind == "parquet" else ".csv"
    for name in TABLES:
        mapping = source.tables.get(name)
        stem = (mapping.table if mapping and mapping.table else None) or name
        f = path / (stem if stem.endswith(ext) else stem + ext)
        if not f.is_file():
            continue
        t = reader(str(f), table_name=stem)
        if source.kind == "csv":
            _retype_csv(con, t, f, stem, TABLES[name], mapping)
    return con


_CSV_TYPES = {"timestamp": "TIMESTAMP", "float": "DOUBLE", "int": "BIGINT", "boolean": "BOOLEAN"}


def _retype_csv(con, t, f: Path, stem: str, spec, mapping) -> None:
    """Read a CSV again with the canonical types of its columns that came out as text.

    A column that is empty in every row (say ``unsubscribed_at`` when nobody unsubscribed)
    is sniffed as text; with its declared type it reads as NULLs of the right type. If the
    values really are not of that type, the sniffed table is kept and the contract check
    names the column and the types.
    """
    names = mapping.columns if mapping else {}
    types = {}
    for col in spec.columns:
        theirs = names.get(col.name, col.name)
        if col.kind in _CSV_TYPES and theirs in t.columns and t[theirs].type().is_string():
            types[theirs] = _CSV_TYPES[col.kind]
    if not types:
        return
    try:
        typed = con.read_csv(str(f), table_name=stem, types=types)
        # read the typed columns themselves (a bare count would skip parsing them)
        typed.aggregate(**{f"n{i}": typed[c].count() for i, c in enumerate(types)}).execute()
    except Exception:  # real text in a typed column: leave it to the contract check
        con.read_csv(str(f), table_name=stem)


def _scrub(text: str, source: SourceParams) -> str:
    try:
        url = source.resolved_url()
    except KeyError:
        return text
    parts = url.split("@", 1)
    if len(parts) == 2 and ":" in parts[0].split("//", 1)[-1]:
        secret = parts[0].split("//", 1)[-1].split(":", 1)[1]
        if secret:
            text = text.replace(secret, "***")
    return text


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
    con = _open(source, Path(base_dir or Path.cwd()))
    return Database(con, source, brand=brand, product_lines=product_lines)
