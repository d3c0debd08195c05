"""The checks a brand's data source must pass before a report: one function, run by both
``kpitools validate`` and ``kpitools run`` (:mod:`kpitools.runner`), so that they never
disagree.

:func:`check_params_source` opens the source and runs :func:`check_source`: the files are
readable (a CSV whose dialect DuckDB cannot detect is one line, not a stack trace), every
table meets its contract (:mod:`kpitools.data.contracts`), the brand has rows, and there is
at least one dated row (a period with data). Each problem is one :class:`Problem`, a line that
names the file, table or column at fault.

The cheap value rules (:data:`kpitools.data.contracts.RULES`: NULL and duplicated keys,
ranges, dates after today, product lines not in the data, a period outside the data) run here
too, so at every ``run``: :func:`scan_table` counts them in one aggregate query per table
(cached by the :class:`Database`). A ``stop`` rule broken is a :class:`Problem`; the
``exclude`` and ``keep`` rules become the entries of :func:`data_quality_findings`, shown in
the report's data-quality section and written to ``kpis.json`` (``data_quality``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import ibis
import pandas as pd

from ..errors import ContractError, KpitoolsError, PeriodError, out_of_memory_advice
from ..params import BrandParams
from ..periods import Period, end_of_today, period_containing
from ..schema import TABLES
from .contracts import EXCLUDED_OUT_OF_RANGE, RULES, out_of_range
from .sources import Database, connect


@dataclass(frozen=True)
class Problem:
    """One problem of a data source, printed as one line: ``where: what``.

    Attributes
    ----------
    where : str
        The file, table or ``table.column`` at fault (the source when it cannot be opened).
    what : str
        What is wrong, in plain words.
    """

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}" if self.where else self.what


def _first_line(exc: BaseException) -> str:
    """An exception in one line: its first non-empty line, without stack or search space."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines()]
    text = next((line for line in lines if line), "")
    # DuckDB's sniffer says which file in the first line and why in the second
    if "sniffing" in text.lower() and len(lines) > 1 and lines[1]:
        text = f"{text} {lines[1]}"
    return text or type(exc).__name__


def _unexpected(where: str, exc: BaseException) -> Problem:
    text = out_of_memory_advice(f"{type(exc).__name__}: {_first_line(exc)}")
    return Problem(where, f"cannot read the data: {text}")


@dataclass(frozen=True)
class Finding:
    """One run-time value rule broken by some of a brand's rows.

    Attributes
    ----------
    rule : str
        Id of the rule (:data:`kpitools.data.contracts.RULES`).
    table, column : str
        Where (``column`` None for a rule of whole rows).
    rows : int
        The brand's rows (every product line) that break the rule; for ``duplicate_key``,
        the rows beyond the first of each key.
    detail : str
        What more to say (``[0, 10]``, the lines not found).
    """

    rule: str
    table: str
    column: str | None
    rows: int
    detail: str = ""

    @property
    def action(self) -> str:
        """``stop``, ``exclude`` or ``keep`` (:data:`~kpitools.data.contracts.RULES`)."""
        return RULES[self.rule].action

    @property
    def rows_excluded(self) -> int:
        """Rows (or values) left out of the KPIs: all of them for an ``exclude`` rule."""
        return self.rows if self.action == "exclude" else 0

    def __str__(self) -> str:
        where = f"table '{self.table}'" + (f", column '{self.column}'" if self.column else "")
        detail = f" {self.detail}" if self.detail else ""
        noun = "row" if self.rows == 1 else "rows"
        return f"{where}: {RULES[self.rule].text}{detail} ({self.rows} {noun}) [{self.rule}]"


@dataclass
class TableScan:
    """What :func:`scan_table` found in one table (the brand's rows, every product line).

    Attributes
    ----------
    table : str
    rows : int
        The brand's rows.
    first, last : pandas.Timestamp or None
        Earliest and latest date of the table's time column (None: no dated row, or none).
    findings : list of Finding
        The rules broken (rows > 0).
    line_rows : dict
        Product line asked for (``params.product_lines``) → its rows in this table.
    """

    table: str
    rows: int
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    findings: list[Finding] = field(default_factory=list)
    line_rows: dict[str, int] = field(default_factory=dict)


def _stamp(value) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _key_expr(t: ibis.Table, key: tuple[str, ...]):
    """One value per key (a composite key as text joined by a separator; NULL when a part is)."""
    if len(key) == 1:
        return t[key[0]]
    parts = [t[k].cast("string") for k in key]
    out = parts[0]
    for part in parts[1:]:
        out = out.concat("\x1f", part)
    return out


def scan_table(db: Database, name: str, *, now: datetime | None = None) -> TableScan:
    """Count the rows of table ``name`` that break the run-time value rules, in one aggregate
    query over the brand's rows (every product line, before any exclusion).

    Rules (:data:`kpitools.data.contracts.RULES`): NULL key (``null_key``), duplicated key
    (``duplicate_key``: rows beyond the first of a key; ``order_lines`` for orders, whose
    lines may share their order's id), NULL in a required column
    (``null_required``), values outside an ``isin`` list (``not_in_list``) or a ``between``
    range (``out_of_range``; ``score_out_of_scale`` for survey scores), rows without a date
    (``null_date``), rows dated after ``now`` (``future_date``), negative ``orders.revenue``
    (``negative_revenue``); with the earliest and latest date and the rows of each product line
    the params ask for. Cached by ``db`` (one query per table per connection).

    Parameters
    ----------
    db : Database
    name : str
        A canonical table the source holds.
    now : datetime, optional
        "Today" for the future-date rule: rows dated after it are counted (default: the end
        of the current local day, :func:`~kpitools.periods.end_of_today`).
    """
    cache: dict[str, TableScan] = db.__dict__.setdefault("_scans", {})
    if name in cache and now is None:
        return cache[name]
    now = now or end_of_today()
    spec = TABLES[name]
    t = db.brand_rows(name)
    key = tuple(spec.key)
    checks: list[tuple[str, str | None, str, object]] = []  # (rule, column, detail, count)

    def flag(pred):
        return ibis.ifelse(pred, 1, 0).sum()

    for col in spec.columns:
        c = t[col.name]
        if col.name == "brand":
            continue  # a row without a brand is no brand's row
        if col.name in key:
            checks.append(("null_key", col.name, "", flag(c.isnull())))
        elif col.name == spec.time_column and not col.nullable:
            checks.append(("null_date", col.name, "", flag(c.isnull())))
        elif not col.nullable and not col.optional:
            checks.append(("null_required", col.name, "", flag(c.isnull())))
        if col.isin:
            checks.append(
                (
                    "not_in_list",
                    col.name,
                    f"(allowed: {', '.join(col.isin)})",
                    flag(c.notnull() & ~c.isin(list(col.isin))),
                )
            )
        if col.between:
            lo, hi = col.between
            rule = (
                "score_out_of_scale"
                if (name, col.name) in EXCLUDED_OUT_OF_RANGE
                else "out_of_range"
            )
            checks.append((rule, col.name, f"[{lo:g}, {hi:g}]", flag(out_of_range(col, c))))
    k = _key_expr(t, key)
    # an export of order lines repeats its order's id on each line: the KPIs count distinct
    # order ids, so for orders a repeated key is a stated policy, not a broken export
    dup_rule = "order_lines" if name == "orders" else "duplicate_key"
    checks.append((dup_rule, ", ".join(key), "", k.count() - k.nunique()))
    if name == "orders":
        checks.append(("negative_revenue", "revenue", "", flag(t.revenue < 0)))
    aggs: dict = {"__rows": t.count()}
    if spec.time_column:
        tc = t[spec.time_column]
        aggs["__first"] = tc.min()
        aggs["__last"] = tc.max()
        checks.append(("future_date", spec.time_column, "", flag(tc > ibis.literal(now))))
    aggs.update({f"c{i}": check[3] for i, check in enumerate(checks)})
    lines = list(db.product_lines) if spec.product_line else []
    aggs.update({f"l{i}": flag(t.product_line == line) for i, line in enumerate(lines)})
    row = t.aggregate(**aggs).execute().iloc[0]
    scan = TableScan(
        name,
        int(row["__rows"] or 0),
        _stamp(row.get("__first")) if spec.time_column else None,
        _stamp(row.get("__last")) if spec.time_column else None,
    )
    for i, (rule, column, detail, _) in enumerate(checks):
        n = row[f"c{i}"]
        n = 0 if n is None or pd.isna(n) else int(n)
        if n:
            scan.findings.append(Finding(rule, name, column, n, detail))
    scan.line_rows = {line: int(row[f"l{i}"] or 0) for i, line in enumerate(lines)}
    cache[name] = scan
    return scan


def scan_source(db: Database, *, now: datetime | None = None) -> dict[str, TableScan]:
    """:func:`scan_table` of every table the source holds (tables that cannot be read left
    out: :func:`check_source` says why)."""
    out = {}
    for name in db.available_tables:
        try:
            out[name] = scan_table(db, name, now=now)
        except Exception:  # a table that cannot be read: check_source says why
            continue
    return out


def data_coverage(
    scans: dict[str, TableScan], *, now: datetime | None = None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last date of the brand's data (every dated table), the last one no later
    than ``now`` (rows dated after today do not extend the data); None without dated rows."""
    firsts = [s.first for s in scans.values() if s.first is not None]
    lasts = [s.last for s in scans.values() if s.last is not None]
    if not firsts or not lasts:
        return None
    today = pd.Timestamp(now or datetime.now())
    first, last = min(firsts), max(lasts)
    return first, min(last, today) if first <= today else last


def coverage_text(first: pd.Timestamp, last: pd.Timestamp, grain: str) -> str:
    """``the data cover 2024-01 to 2025-12`` in the report's grain."""
    a = period_containing(first.to_pydatetime(), grain).label
    b = period_containing(last.to_pydatetime(), grain).label
    return f"the data cover {a}" if a == b else f"the data cover {a} to {b}"


def period_outside_data(db: Database, period: Period, *, now: datetime | None = None) -> str | None:
    """Why ``period`` has no data at all (it ends before the brand's first dated row, starts
    after its last one, or starts after today), with the periods the data cover; None when
    the period overlaps the data. One aggregate per table (:func:`scan_table`, cached)."""
    cover = data_coverage(scan_source(db, now=now), now=now)
    if cover is None:
        return None
    first, last = cover
    today = pd.Timestamp(now or datetime.now())
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    span = coverage_text(first, last, period.grain)
    if start > today:
        return f"{period.label} is in the future (today is {today.date().isoformat()}); {span}"
    if start > last or end <= first.normalize():
        return f"{period.label} is outside the data: {span}"
    return None


def check_period_in_data(db: Database, period: Period, *, now: datetime | None = None) -> None:
    """Raise :class:`~kpitools.errors.PeriodError` when a requested ``period`` lies outside
    the brand's data (:func:`period_outside_data`): the brand stops rather than publishing an
    empty report."""
    why = period_outside_data(db, period, now=now)
    if why is not None:
        raise PeriodError(f"period {why}")


def stop_problems(db: Database, params: BrandParams, scans: dict[str, TableScan]) -> list[Problem]:
    """The ``stop`` rules broken: one :class:`Problem` each (table, column, rule, rows), and
    the product lines the params ask for that no table holds."""
    problems = [
        Problem("", str(f)) for s in scans.values() for f in s.findings if f.action == "stop"
    ]
    if params.product_lines:
        with_lines = [s for n, s in scans.items() if TABLES[n].product_line]
        missing = [
            line
            for line in params.product_lines
            if with_lines and not any(s.line_rows.get(line) for s in with_lines)
        ]
        if missing:
            shown = _lines_in_data(db, [s.table for s in with_lines])
            problems.append(
                Problem(
                    "product_lines",
                    f"{', '.join(repr(m) for m in missing)} not in the data "
                    f"({len(missing)} of {len(params.product_lines)} lines, 0 rows in "
                    f"{', '.join(s.table for s in with_lines)})"
                    + (f"; lines in the data: {shown}" if shown else "")
                    + " [unknown_product_line]",
                )
            )
    return problems


def _lines_in_data(db: Database, tables: list[str]) -> str:
    for name in ["orders", *tables]:
        if name not in tables:
            continue
        try:
            t = db.brand_rows(name)
            vals = t.select("product_line").distinct().limit(21).execute()["product_line"]
        except Exception:  # the column cannot be read: say nothing more
            continue
        found = sorted(str(v) for v in vals.dropna())
        if found:
            return ", ".join(found[:20]) + (", …" if len(found) > 20 else "")
    return ""


def check_source(db: Database, params: BrandParams, *, deep: bool = False) -> list[Problem]:
    """Every problem that would stop a report of ``params``' brand on source ``db``.

    Parameters
    ----------
    db : Database
        The open source (:func:`kpitools.data.sources.connect`).
    params : BrandParams
        The brand, and the report's period when set (``period.current``).
    deep : bool
        Also scan the values (``validate --deep``: out-of-range values, NULLs, duplicates).

    Returns
    -------
    list of Problem
        Empty when the source can make a report: contracts hold, the brand has rows, at least
        one of them is dated.
    """
    problems: list[Problem] = []
    for name, mapping in params.source.tables.items():
        # a table the params file names explicitly must be there (a typo is not "absent")
        if mapping is not None and mapping.table and name in TABLES and not db.has(name):
            problems.append(
                Problem(
                    f"source.tables.{name}.table",
                    f"no table or file '{mapping.table}' in {db.description}",
                )
            )
    readable: list[str] = []
    for name in db.available_tables:
        try:
            t = db.raw_table(name)
            if deep:
                from .contracts import check_values

                problems.extend(Problem("", str(p)) for p in check_values(TABLES[name], t))
        except ContractError as exc:
            problems.extend(Problem("", str(p)) for p in exc.problems)
            continue
        except KpitoolsError as exc:
            problems.append(Problem(f"table '{name}'", str(exc)))
            continue
        except Exception as exc:  # a file that cannot be scanned (bad value, encoding)
            problems.append(_unexpected(f"table '{name}'", exc))
            continue
        readable.append(name)
    if problems or not readable:
        if not readable and not problems:
            problems.append(
                Problem(db.description, "no canonical table found (e.g. orders, customers)")
            )
        return problems

    # the brand has rows, some of them dated: the value rules' scan (one query per table)
    scans: dict[str, TableScan] = {}
    for name in readable:
        try:
            scans[name] = scan_table(db, name)
        except Exception as exc:
            problems.append(_unexpected(f"table '{name}'", exc))
    if problems:
        return problems
    if not any(s.rows for s in scans.values()):
        problems.append(Problem(f"brand '{params.brand}'", _no_rows(db, readable)))
        return problems
    cover = data_coverage(scans)
    if cover is None:
        dated = [n for n in readable if TABLES[n].time_column]
        what = (
            "no dated rows in " + ", ".join(dated)
            if dated
            else f"no dated rows: {', '.join(readable)} place nothing in a period "
            "(a report needs e.g. orders or customers)"
        )
        problems.append(Problem(f"brand '{params.brand}'", what + "; no period has data"))
        return problems
    if not deep:  # validate --deep says the same with failing rows (check_values)
        problems.extend(stop_problems(db, params, scans))
    else:
        problems.extend(p for p in stop_problems(db, params, scans) if p.where)
    try:
        requested = params.requested_period(None)
    except PeriodError:
        requested = None  # a malformed period is the params' problem, said elsewhere
    if requested is not None:
        why = period_outside_data(db, requested)
        if why is not None:
            problems.append(Problem("period.current", f"{why} [period_outside_data]"))
    return problems


def data_quality_findings(db: Database) -> list[Finding]:
    """The ``exclude`` and ``keep`` rules the brand's rows break (the report is published
    with them): one :class:`Finding` each, from :func:`scan_table` (cached, one query per
    table). The ``stop`` rules are not here: a brand breaking one is not published."""
    return [
        f for s in scan_source(db).values() for f in s.findings if f.action in ("exclude", "keep")
    ]


def _no_rows(db: Database, tables: list[str]) -> str:
    """``no rows in orders, customers (brands in the data: a, b)``."""
    found: list[str] = []
    for name in tables:
        try:
            t = db.raw_table(name)
            vals = t.select("brand").distinct().limit(11).execute()["brand"].dropna()
        except Exception:  # the brand column cannot be read: say nothing more
            continue
        found = sorted(str(v) for v in vals)
        if found:
            break
    where = ", ".join(tables)
    if not found:
        return f"no rows in {where}"
    shown = ", ".join(found[:10]) + (", …" if len(found) > 10 else "")
    return f"no rows in {where} (brands in the data: {shown}); check 'brand' in the params file"


def empty_optional_columns(db: Database) -> list[str]:
    """The optional columns (``table.column``) that the brand leaves absent or NULL in every
    row of a table it has rows in (one aggregate per table): the KPIs that need them are
    "not available (needs orders.cost)". The line column is left out (an absent line only makes
    a table brand-wide)."""
    out = []
    for name in db.available_tables:
        for column, (rows, filled) in db.column_fill(name).items():
            col = TABLES[name].column(column)
            if col.optional and column != "product_line" and rows and not filled:
                out.append(f"{name}.{column}")
    return out


def check_params_source(params: BrandParams, *, deep: bool = False) -> list[Problem]:
    """Open ``params``' source and :func:`check_source` it; a source that cannot be opened (a
    missing file, a CSV whose dialect cannot be detected) is a problem too, never an exception.
    For a database source every line is scrubbed of the URL's credentials
    (:meth:`kpitools.params.SourceParams.scrub`), whatever a driver's message echoes.
    """
    db, problems = connect_checked(params, deep=deep)
    if db is not None:
        db.close()
    return problems


def connect_checked(
    params: BrandParams, *, deep: bool = False
) -> tuple[Database | None, list[Problem]]:
    """:func:`check_params_source`, keeping the source open when it passes.

    Returns ``(db, [])`` with the open, checked source (the caller closes it; its table scans
    are cached on it, so a later :func:`check_period_in_data` or :func:`data_quality_findings`
    queries nothing again), else ``(None, problems)``.
    """
    db, problems = _connect_checked(params, deep=deep)
    if params.source.kind == "sql":
        problems = [
            Problem(params.source.scrub(p.where), params.source.scrub(p.what)) for p in problems
        ]
    if problems and db is not None:
        db.close()
        db = None
    return db, problems


def _connect_checked(
    params: BrandParams, *, deep: bool = False
) -> tuple[Database | None, list[Problem]]:
    try:
        db = connect(params)
    except KpitoolsError as exc:
        return None, [Problem("", line) for line in str(exc).splitlines() if line.strip()]
    except Exception as exc:  # DuckDB could not read a file (sniffing, encoding, ...)
        return None, [_unexpected(f"source {params.source.redacted()}", exc)]
    try:
        return db, check_source(db, params, deep=deep)
    except KpitoolsError as exc:
        return db, [Problem("", line) for line in str(exc).splitlines() if line.strip()]
    except Exception as exc:
        return db, [_unexpected(db.description, exc)]


__all__ = [
    "Finding",
    "Problem",
    "TableScan",
    "check_params_source",
    "check_period_in_data",
    "check_source",
    "connect_checked",
    "coverage_text",
    "data_coverage",
    "data_quality_findings",
    "empty_optional_columns",
    "period_outside_data",
    "scan_source",
    "scan_table",
    "stop_problems",
]
