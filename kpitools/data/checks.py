"""The checks a brand's data source must pass before a report: one function, run by both
``kpitools validate`` and ``kpitools run`` (:mod:`kpitools.runner`), so that they never
disagree.

:func:`check_params_source` opens the source and runs :func:`check_source`: the files are
readable (a CSV whose dialect DuckDB cannot detect is one line, not a stack trace), every
table meets its contract (:mod:`kpitools.data.contracts`), the brand has rows, and there is
at least one dated row (a period with data). Each problem is one :class:`Problem`, a line that
names the file, table or column at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import ContractError, KpitoolsError
from ..params import BrandParams
from ..schema import TABLES
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
    return Problem(where, f"cannot read the data: {type(exc).__name__}: {_first_line(exc)}")


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

    # the brand has rows, some of them dated
    rows: dict[str, int] = {}
    last = None
    for name in readable:
        spec = TABLES[name]
        try:
            t = db.brand_table(name)
            aggs = {"n": t.count()}
            if spec.time_column:
                aggs["last"] = t[spec.time_column].max()
            row = t.aggregate(**aggs).execute().iloc[0]
        except Exception as exc:
            problems.append(_unexpected(f"table '{name}'", exc))
            continue
        rows[name] = int(row["n"] or 0)
        stamp = row.get("last") if spec.time_column else None
        if stamp is not None and not pd.isna(stamp):
            stamp = pd.Timestamp(stamp)
            stamp = stamp.tz_convert(None) if stamp.tzinfo is not None else stamp
            last = stamp if last is None or stamp > last else last
    if problems:
        return problems
    if not any(rows.values()):
        problems.append(Problem(f"brand '{params.brand}'", _no_rows(db, readable)))
        return problems
    if last is None:
        dated = [n for n in readable if TABLES[n].time_column]
        what = (
            "no dated rows in " + ", ".join(dated)
            if dated
            else f"no dated rows: {', '.join(readable)} place nothing in a period "
            "(a report needs e.g. orders or customers)"
        )
        problems.append(Problem(f"brand '{params.brand}'", what + "; no period has data"))
        return problems
    requested = params.requested_period(None)
    if requested is not None and pd.Timestamp(requested.start) > last:
        problems.append(
            Problem(
                "period.current",
                f"{requested.label} starts after the brand's last dated row "
                f"({last.date().isoformat()}): no data in that period",
            )
        )
    return problems


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
    """
    try:
        db = connect(params)
    except KpitoolsError as exc:
        return [Problem("", line) for line in str(exc).splitlines() if line.strip()]
    except Exception as exc:  # DuckDB could not read a file (sniffing, encoding, ...)
        return [_unexpected(f"source {params.source.redacted()}", exc)]
    with db:
        try:
            return check_source(db, params, deep=deep)
        except KpitoolsError as exc:
            return [Problem("", line) for line in str(exc).splitlines() if line.strip()]
        except Exception as exc:
            return [_unexpected(db.description, exc)]


__all__ = ["Problem", "check_params_source", "check_source", "empty_optional_columns"]
