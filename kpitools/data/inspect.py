"""Inspect a user's data before any mapping exists: files or database tables, their columns,
what the values look like (numbers with a decimal comma, dates and their format) and, for a
CSV, how the file is written (encoding, delimiter, header).

This is the first half of ``kpitools init`` (:mod:`kpitools.data.propose` is the second): it
only reads. The database reads every file and counts its rows; Python looks at a sample of
values (the first rows and a reservoir sample, at most :data:`SAMPLE_ROWS` rows) as text, to
tell ``31/12/2025`` from ``12/31/2025`` and ``1 234,50`` from ``1,234.50``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ibis

from ..errors import DataSourceError
from ..params.brand import CsvDialect

#: Rows of each table whose values are looked at (first rows plus a reservoir sample).
SAMPLE_ROWS = 2000

#: File suffixes ``init`` reads, by kind.
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".tab", ".dat")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

#: Date and timestamp formats tried on text columns, most specific first. Day-first and
#: month-first formats are both tried; when both read every value, the locale decides.
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
)
_DAY_FIRST = {"%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d/%m/%y"}
_MONTH_FIRST = {"%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m-%d-%Y", "%m/%d/%y"}
#: years a date in a business export can be in (an 8-digit number outside is not a date)
_YEARS = range(1900, 2101)

_INT = re.compile(r"[-+]?\d+")
_DOT_DECIMAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)")
_DOT_DECIMAL_GROUPED = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_COMMA_DECIMAL = re.compile(r"[-+]?\d+,\d+")
#: a decimal comma number with a thousands mark (space, no-break spaces, dot or apostrophe)
_COMMA_GROUPED = re.compile(r"[-+]?\d{1,3}([ \u00a0\u202f.'])\d{3}(\1\d{3})*(,\d+)?")
_BOOLEAN = {
    "true",
    "false",
    "yes",
    "no",
    "oui",
    "non",
    "vrai",
    "faux",
    "si",
    "sì",
    "y",
    "n",
    "t",
    "f",
}


def normalise(name: str) -> str:
    """A name as compared with synonyms: lower case, no accents, ``_`` between words."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class ColumnProfile:
    """What one column of a user's table holds.

    Attributes
    ----------
    name : str
        The user's column name.
    kind : str
        ``int``, ``float``, ``timestamp``, ``boolean`` or ``string``: what the values are.
    text : bool
        The values are text in the source (a CSV column, or a text column of a database)
        and need parsing to be ``kind`` (a date format, a decimal comma).
    date_format : str or None
        strptime format of text dates (``%d/%m/%Y``), or of 8-digit numbers (``%Y%m%d``).
    ambiguous_date : bool
        Both day-first and month-first read every sampled value; ``date_format`` is the
        locale's choice.
    decimal, thousands : str or None
        Marks of text numbers (``,`` and ``" "`` in ``1 234,50``).
    filled : int
        Sampled values that are not empty.
    distinct : int
        Distinct sampled values.
    examples : list of str
        A few distinct values, as text.
    """

    name: str
    kind: str
    text: bool = False
    date_format: str | None = None
    ambiguous_date: bool = False
    decimal: str | None = None
    thousands: str | None = None
    filled: int = 0
    distinct: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class TableProfile:
    """One of the user's tables or files.

    Attributes
    ----------
    name : str
        The name to give under ``source.tables.<t>.table``: a file name with its suffix, or a
        database table's name.
    rows : int
        Rows in the table.
    columns : list of ColumnProfile
    path : Path or None
        The file (file sources).
    dialect : CsvDialect or None
        How a CSV file is written, as found (encoding, delimiter, header).
    headerless : bool
        The file has no header line: columns are ``column0``, ``column1``, ...
    """

    name: str
    rows: int
    columns: list[ColumnProfile]
    path: Path | None = None
    dialect: CsvDialect | None = None
    headerless: bool = False

    @property
    def stem(self) -> str:
        """The name without a file suffix (``commandes`` for ``commandes.csv``)."""
        return Path(self.name).stem if self.path is not None else self.name

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


@dataclass
class Inventory:
    """Everything :func:`inspect_source` found: the source and its tables.

    Attributes
    ----------
    kind : str
        ``csv``, ``parquet`` (a folder of files), ``duckdb`` (a DuckDB file) or ``sql`` (a URL).
    location : str
        The folder, file or URL, as given.
    tables : list of TableProfile
    skipped : list of str
        Files that could not be read, each with the reason.
    """

    kind: str
    location: str
    tables: list[TableProfile]
    skipped: list[str] = field(default_factory=list)
    path: Path | None = None
    url: str | None = None


# -- values -------------------------------------------------------------------------------
def _parses(values: Sequence[str], fmt: str) -> bool:
    for v in values:
        try:
            d = dt.datetime.strptime(v, fmt)
        except ValueError:
            return False
        if d.year not in _YEARS:
            return False
    return True


def profile_values(name: str, values: Sequence[str | None], *, day_first: bool = True):
    """The :class:`ColumnProfile` of a column from sampled values given as text.

    Parameters
    ----------
    name : str
        Column name.
    values : sequence of str or None
        Sampled values as text (None or blank: empty).
    day_first : bool
        Choice for dates that read both ways (``05/01/2025``): day first (fr, it, most of
        the world) or month first (US).
    """
    filled = [v.strip() for v in values if v is not None and v.strip() != ""]
    distinct = list(dict.fromkeys(filled))
    prof = ColumnProfile(
        name, "string", text=True, filled=len(filled), distinct=len(distinct), examples=distinct[:5]
    )
    if not filled:
        return prof
    probe = distinct[:500]
    if all(_INT.fullmatch(v) for v in probe):
        if all(len(v) == 8 for v in probe) and _parses(probe, "%Y%m%d"):
            prof.kind, prof.date_format = "timestamp", "%Y%m%d"
        else:
            prof.kind = "int"
        return prof
    if all(_INT.fullmatch(v) or _DOT_DECIMAL.fullmatch(v) for v in probe):
        prof.kind, prof.decimal = "float", "."
        return prof
    if all(
        _INT.fullmatch(v) or _DOT_DECIMAL.fullmatch(v) or _DOT_DECIMAL_GROUPED.fullmatch(v)
        for v in probe
    ):
        prof.kind, prof.decimal, prof.thousands = "float", ".", ","
        return prof
    comma = [_COMMA_DECIMAL.fullmatch(v) or _COMMA_GROUPED.fullmatch(v) for v in probe]
    if all(m or _INT.fullmatch(v) for m, v in zip(comma, probe, strict=True)) and any(comma):
        prof.kind, prof.decimal = "float", ","
        marks = {m.group(1) for m in comma if m is not None and m.re is _COMMA_GROUPED}
        if len(marks) == 1:
            prof.thousands = marks.pop()
        return prof
    if all(v.lower() in _BOOLEAN for v in probe):
        prof.kind = "boolean"
        return prof
    fits = [f for f in DATE_FORMATS if f != "%Y%m%d" and _parses(probe, f)]
    if fits:
        day = [f for f in fits if f in _DAY_FIRST]
        month = [f for f in fits if f in _MONTH_FIRST]
        prof.kind = "timestamp"
        if day and month:
            prof.ambiguous_date = True
            prof.date_format = (day if day_first else month)[0]
        else:
            prof.date_format = fits[0]
    return prof


# -- CSV files ----------------------------------------------------------------------------
def sniff_encoding(raw: bytes, *, truncated: bool = False) -> str:
    """``utf-8`` when the bytes decode as UTF-8, ``utf-16`` with its byte-order mark, else
    ``cp1252`` when a byte in 0x80-0x9F (a Windows character such as the euro sign) is there,
    else ``latin-1``. ``truncated``: ``raw`` is the start of a longer file, whose last
    character may be cut."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if truncated and exc.reason == "unexpected end of data" and exc.start >= len(raw) - 3:
            return "utf-8"
    if any(0x80 <= b <= 0x9F for b in raw):
        return "cp1252"
    return "latin-1"


_DELIMITERS = ("\t", ";", "|", ",")


def sniff_delimiter(lines: Sequence[str]) -> str | None:
    """The delimiter every line splits into the same number (≥ 2) of fields with, the most
    fields winning (``;`` before ``,`` on a tie: a decimal comma is no delimiter);
    ``whitespace`` for columns aligned with spaces; None when nothing fits."""
    best: tuple[int, str] | None = None
    for d in _DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=d)}
        if len(counts) == 1 and (n := counts.pop()) >= 2 and (best is None or n > best[0]):
            best = (n, d)
    if best is not None:
        return best[1]
    counts = {len(line.split()) for line in lines}
    if len(counts) == 1 and counts.pop() >= 2:
        return "whitespace"
    return None


def _looks_numeric(value: str) -> bool:
    v = value.strip()
    return bool(v) and bool(re.fullmatch(r"[-+]?[\d.,  ]*\d[\d.,  ]*", v))


def sniff_header(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first row is a header: it has no number and no empty field, or, when
    every row is text, its values are not repeated below (names, not values)."""
    if not rows:
        return True
    first = [v.strip() for v in rows[0]]
    if any(_looks_numeric(v) for v in first) or any(v == "" for v in first):
        return False
    rest = rows[1:]
    if any(any(_looks_numeric(v) for v in row) for row in rest):
        return True
    below = {v.strip() for row in rest for v in row}
    return not any(v in below for v in first)


def _text_lines(f: Path, encoding: str, n: int = 50) -> list[str]:
    with open(f, encoding="latin-1" if encoding == "cp1252" else encoding, newline="") as fh:
        lines = []
        for line in fh:
            if line.strip():
                lines.append(line.rstrip("\r\n"))
            if len(lines) >= n:
                break
    return lines


def sniff_dialect(f: Path) -> CsvDialect:
    """Encoding, delimiter and header of a CSV or text file, from its first lines."""
    with open(f, "rb") as fh:
        raw = fh.read(1 << 20)
    encoding = sniff_encoding(raw, truncated=len(raw) == 1 << 20)
    lines = _text_lines(f, encoding)
    if not lines:
        raise DataSourceError(f"{f}: the file is empty")
    delimiter = sniff_delimiter(lines)
    if delimiter == "whitespace":
        rows = [line.split() for line in lines]
    else:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter or ","))
    return CsvDialect(
        encoding=encoding,  # type: ignore[arg-type]
        delimiter=delimiter,
        header=sniff_header(rows),
    )


def _sample(con, t: ibis.Table) -> list[dict]:
    """The first rows and a reservoir sample of ``t``, as text (at most SAMPLE_ROWS)."""
    text = t.select(*[t[c].cast("string").name(c) for c in t.columns])
    first = text.head(SAMPLE_ROWS // 10).execute()
    sql = ibis.to_sql(text, dialect=con.name)
    try:
        rest = con.sql(
            f"SELECT * FROM ({sql}) AS t USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (7)"
        ).execute()
    except Exception:  # a backend without SAMPLE: the first rows only
        rest = text.head(SAMPLE_ROWS).execute()
    out = first.to_dict("records") + rest.to_dict("records")
    return [{k: (None if v != v else v) for k, v in row.items()} for row in out]  # NaN -> None


def _thousands_marks(t: ibis.Table, prof: ColumnProfile) -> None:
    """Look at every value of a text number column for a thousands mark the sample missed
    (``1 234,50`` in a column of small amounts): one query in the database."""
    # [0-9] and literal marks: a regular expression PostgreSQL and DuckDB (RE2) both read
    if prof.decimal == ",":
        pattern = "[0-9]([ \u00a0\u202f.'])[0-9]{3}([^0-9]|$)"
    else:
        pattern = "[0-9](,)[0-9]{3}([^0-9]|$)"
    col = t[prof.name].cast("string")
    marks = (
        t.select(mark=col.re_extract(pattern, 1))
        .filter(lambda s: s.mark != "")
        .mark.value_counts()
        .execute()
    )
    if len(marks) == 1:
        prof.thousands = str(marks.iloc[0, 0])


def _profile(con, t: ibis.Table, *, day_first: bool) -> list[ColumnProfile]:
    rows = _sample(con, t)
    schema = t.schema()
    out = []
    for name in t.columns:
        dtype = schema[name]
        values = [r[name] for r in rows]
        if dtype.is_string():
            prof = profile_values(name, values, day_first=day_first)
            if prof.kind == "float" and prof.thousands is None:
                _thousands_marks(t, prof)
            out.append(prof)
            continue
        prof = profile_values(name, values, day_first=day_first)  # examples, counts
        prof.text = False
        if dtype.is_timestamp() or dtype.is_date():
            prof.kind, prof.date_format = "timestamp", None
        elif dtype.is_integer():
            if prof.date_format != "%Y%m%d":
                prof.kind = "int"
            else:
                prof.kind = "timestamp"
        elif dtype.is_floating() or dtype.is_decimal():
            prof.kind, prof.decimal, prof.thousands = "float", None, None
        elif dtype.is_boolean():
            prof.kind = "boolean"
        out.append(prof)
    return out


def _read_csv_text(con, f: Path, dialect: CsvDialect) -> ibis.Table:
    """Register file ``f`` (every column as text) and return it."""
    from .sources import _DUCKDB_ENCODINGS, _read_aligned

    stem = "init_" + normalise(f.name)
    if dialect.delimiter == "whitespace":
        _read_aligned(con, f, stem, dialect)
        return con.table(stem)
    options: dict = {"all_varchar": True, "header": bool(dialect.header)}
    if dialect.delimiter:
        options["delim"] = dialect.delimiter
    if dialect.encoding:
        options["encoding"] = _DUCKDB_ENCODINGS[dialect.encoding]
    return con.read_csv(str(f), table_name=stem, **options)


def inspect_files(folder: Path, *, day_first: bool = True) -> Inventory:
    """Profile every CSV, text and Parquet file of ``folder`` (not its subfolders)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    csvs = [p for p in files if p.suffix.lower() in CSV_SUFFIXES + EXCEL_SUFFIXES]
    parquets = [p for p in files if p.suffix.lower() in PARQUET_SUFFIXES]
    if not csvs and not parquets:
        raise DataSourceError(
            f"{folder}: no CSV, text, Excel or Parquet file "
            f"({', '.join(CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES)})"
        )
    kind = "csv" if len(csvs) >= len(parquets) else "parquet"
    chosen = csvs if kind == "csv" else parquets
    skipped = [
        f"{p.name}: a {'Parquet' if kind == 'csv' else 'CSV'} file in a {kind} folder; "
        "put it in its own folder"
        for p in (parquets if kind == "csv" else csvs)
    ]
    con = ibis.duckdb.connect()
    tables = []
    for f in chosen:
        try:
            if kind == "parquet":
                t = con.read_parquet(str(f), table_name="init_" + normalise(f.name))
                dialect = None
            elif f.suffix.lower() in EXCEL_SUFFIXES:
                from .sources import _read_excel

                _read_excel(con, f, "init_" + normalise(f.name), None)
                t = con.table("init_" + normalise(f.name))
                dialect = None
            else:
                dialect = sniff_dialect(f)
                t = _read_csv_text(con, f, dialect)
            rows = int(t.count().execute())
            columns = _profile(con, t, day_first=day_first)
        except Exception as exc:  # one unreadable file does not stop the others
            skipped.append(f"{f.name}: {_one_line(exc)}")
            continue
        headerless = dialect is not None and dialect.header is False
        tables.append(TableProfile(f.name, rows, columns, f, dialect, headerless))
    return Inventory(kind, str(folder), tables, skipped, path=folder)


def read_profiled(inventory: Inventory, profile: TableProfile) -> ibis.Table:
    """Open one inspected table again (as text for a CSV), to ask the database about it."""
    if inventory.kind in ("csv", "parquet"):
        assert profile.path is not None
        con = ibis.duckdb.connect()
        if inventory.kind == "parquet":
            return con.read_parquet(str(profile.path))
        if profile.path.suffix.lower() in EXCEL_SUFFIXES:
            from .sources import _read_excel

            _read_excel(con, profile.path, "init_table", None)
            return con.table("init_table")
        assert profile.dialect is not None
        return _read_csv_text(con, profile.path, profile.dialect)
    con = _connect_database(inventory.location)
    return con.table(profile.name)


def _connect_database(target: str):
    path = Path(target).expanduser()
    if path.is_file():
        return ibis.duckdb.connect(str(path), read_only=True)
    import os

    from ..params.brand import _ENV_REF  # ${VAR} references, read from the environment

    def sub(m: re.Match) -> str:
        if m.group(1) not in os.environ:
            raise DataSourceError(f"environment variable {m.group(1)} is not set")
        return os.environ[m.group(1)]

    try:
        return ibis.connect(_ENV_REF.sub(sub, target))
    except DataSourceError:
        raise
    except Exception as exc:  # never echo the URL: it may hold a credential
        raise DataSourceError(f"cannot connect: {type(exc).__name__}") from None


def inspect_database(target: str, *, day_first: bool = True) -> Inventory:
    """Profile every table of a DuckDB file (a path) or a database URL Ibis can open."""
    path = Path(target).expanduser()
    con = _connect_database(target)
    kind, url = ("duckdb", None) if path.is_file() else ("sql", target)
    tables = []
    skipped = []
    for name in con.list_tables():
        try:
            t = con.table(name)
            rows = int(t.count().execute())
            tables.append(TableProfile(name, rows, _profile(con, t, day_first=day_first)))
        except Exception as exc:
            skipped.append(f"{name}: {_one_line(exc)}")
    if not tables:
        why = "; ".join(skipped) if skipped else "the database has no table"
        raise DataSourceError(f"{target}: no table to read ({why})")
    return Inventory(
        kind, target, tables, skipped, path=path if kind == "duckdb" else None, url=url
    )


def inspect_source(target: str | Path, *, day_first: bool = True) -> Inventory:
    """Profile a folder of files, a DuckDB file or a database URL.

    Parameters
    ----------
    target : str or Path
        A folder of CSV/text or Parquet files (one file per table), a ``.duckdb`` file, or a
        URL such as ``postgres://${PGUSER}:${PGPASSWORD}@host/db``.
    day_first : bool
        How to read dates that read both ways (``05/01/2025``).

    Raises
    ------
    DataSourceError
        When the folder, file or server cannot be read.
    """
    text = str(target)
    path = Path(text).expanduser()
    if path.is_dir():
        return inspect_files(path, day_first=day_first)
    if path.is_file() or "://" in text:
        return inspect_database(text, day_first=day_first)
    raise DataSourceError(
        f"{text}: no such folder or file (give a folder of exports, a "
        "DuckDB file or a database URL)"
    )


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def as_texts(values: Iterable) -> list[str | None]:
    """Values as text (None stays None), for :func:`profile_values`."""
    return [None if v is None else str(v) for v in values]
