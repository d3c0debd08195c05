"""A brand's params file: what to report, on which data, for which period.

One YAML file per brand or product line in ``params/``. The models below are strict
(``extra="forbid"``): a misspelt key is an error, not a silently ignored setting. Every problem
becomes one line naming the file and the field::

    params/acme.yaml: period.grain: Input should be 'month', 'quarter' or 'year'

Paths inside a params file (``source.path``) are relative to the params file itself, so a params
file works the same from the project root, from ``notebooks/`` or from a scheduler.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import parse_qsl, quote, urlsplit

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from ..catalogue import check_kpi_ids
from ..errors import ParamsError, PeriodError
from ..locales import LocaleCode
from ..periods import Period, parse_period
from ..schema import TABLES
from .base import _Strict, format_validation_error
from .delivery import DeliveryParams
from .objectives import ObjectiveList, grain_problem

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_PARTS = re.compile(r"^(?P<scheme>[^:/]+)://(?:[^@/?#]*@)?(?P<host>[^/?#]*)(?P<path>[^?#]*)")
_SECRET_QUERY_KEYS = {"password", "pass", "pwd", "passwd", "secret", "token", "sslpassword"}
#: a query key holding one of these words is a secret (``api_key``, ``access_token``, ...)
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "auth")

#: URL schemes of the databases Ibis connects to (``ibis.connect``), ``postgresql`` included
SQL_SCHEMES = (
    "athena",
    "bigquery",
    "clickhouse",
    "databricks",
    "datafusion",
    "druid",
    "duckdb",
    "exasol",
    "flink",
    "impala",
    "materialize",
    "mssql",
    "mysql",
    "oracle",
    "polars",
    "postgres",
    "postgresql",
    "pyspark",
    "risingwave",
    "singlestoredb",
    "snowflake",
    "sqlite",
    "trino",
)

# scheme://user:password@host (user info up to the last '@' before the path)
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*:/{1,3})(?P<info>[^\s/?#'\"]*@)")
# key=value in a query string or a libpq keyword string (password=..., ?sslpassword=...)
_URL_SECRET_PARAM = re.compile(
    r"(?P<key>\b[A-Za-z_][A-Za-z0-9_.\-]*)(?P<eq>\s*=\s*)(?P<value>'[^']*'|\"[^\"]*\"|[^\s&#;,'\")]+)"
)
# a fragment of a URL (#...), up to the next blank or quote
_URL_FRAGMENT = re.compile(r"(?P<url>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"#]*)#[^\s'\"]*")


def _is_secret_key(key: str) -> bool:
    k = key.lower()
    return k in _SECRET_QUERY_KEYS or any(w in k for w in _SECRET_WORDS)


def scrub_secrets(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with every credential a connection URL can carry replaced by ``***``.

    Whatever the URL form: the user info of ``scheme://user:password@host`` (and of a
    mistyped ``scheme:/user:pw@host``), the value of any secret-looking key
    (``password=``, ``?sslpassword=``, ``token=``, ``api_key=``, ``secret=``, quoted or not,
    in a query string or a libpq keyword string), a URL's ``#fragment``, and each of
    ``secrets`` (the values read from the environment, raw and percent-encoded) wherever
    they appear.

    Parameters
    ----------
    text : str
        A message that may echo a URL (an error of a database driver, say).
    secrets : sequence of str
        Literal values to remove as well (empty strings are ignored).
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
            text = text.replace(form, "***")
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}***@", text)
    text = _URL_SECRET_PARAM.sub(
        lambda m: f"{m['key']}{m['eq']}***" if _is_secret_key(m["key"]) else m.group(0), text
    )
    return _URL_FRAGMENT.sub(lambda m: f"{m['url']}#***", text)


#: The dimensions a breakdown table can group by.
BreakdownBy = Literal["segment", "product_line", "acquisition_channel"]


#: Encodings a CSV file may be in (DuckDB reads utf-8, utf-16 and latin-1 itself; cp1252 is
#: read as latin-1, which differs only in bytes 0x80-0x9F such as the euro sign).
CsvEncoding = Literal["utf-8", "utf-16", "latin-1", "iso-8859-1", "cp1252", "windows-1252"]


class CsvDialect(_Strict):
    """How a CSV file is written. A key left out is found by DuckDB's sniffer.

    Given under ``source.csv`` (every file) and ``source.tables.<table>.csv`` (one file; its
    keys override the source's).
    """

    delimiter: Annotated[str, Field(min_length=1, max_length=4)] | Literal["whitespace"] | None = (
        Field(
            None,
            description="field separator: ';', ',', a tab, '|'; or 'whitespace' for columns "
            "aligned with runs of spaces or tabs (a text report's layout)",
        )
    )
    decimal: Literal[",", "."] | None = None
    thousands: Literal[",", ".", " ", "'", "\u00a0", "\u202f"] | None = None
    encoding: CsvEncoding | None = None
    header: bool | None = None
    date_format: str | None = Field(
        None, description="strptime format of the date columns, e.g. '%d/%m/%Y' or '%Y%m%d'"
    )
    quote: Annotated[str, Field(min_length=1, max_length=1)] | None = None

    @model_validator(mode="after")
    def _marks_differ(self):
        if self.decimal and self.thousands and self.decimal == self.thousands:
            raise ValueError("decimal and thousands cannot be the same mark")
        if self.decimal == "," and self.delimiter == ",":
            raise ValueError("a decimal comma needs another delimiter, such as ';'")
        if self.date_format is not None and "%" not in self.date_format:
            raise ValueError("date_format is a strptime format such as '%d/%m/%Y'")
        return self

    def over(self, base: CsvDialect | None) -> CsvDialect:
        """This dialect's keys, the others from ``base`` (the source-wide dialect)."""
        if base is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return CsvDialect.model_validate({**base.model_dump(exclude_none=True), **mine})


class ColumnMapping(_Strict):
    """How one canonical column is read, when it is more than a rename.

    Exactly one of ``column`` (a source column), ``value`` (a constant) or ``expr`` (an SQL
    expression over the source's columns); ``format`` parses text as a date or timestamp
    (strptime), ``map`` replaces values (those not listed stay as they are, or become
    ``default`` when given).
    """

    column: str | None = None
    value: str | int | float | bool | None = None
    expr: str | None = None
    format: str | None = None
    map: dict[str, str | int | float | bool | None] | None = None
    default: str | int | float | bool | None = None

    @property
    def is_rename(self) -> bool:
        """A source column read as is."""
        return self.column is not None and self.format is None and self.map is None

    def __eq__(self, other: object) -> bool:
        # a plain rename equals the string it was written as (`revenue: amount_net`)
        if isinstance(other, str):
            return self.is_rename and self.column == other
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("column", "value", "expr") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column (a source column), value (a constant) or expr "
                f"(an SQL expression); found {', '.join(given) or 'none'}"
            )
        if "value" in self.model_fields_set and (self.format or self.map is not None):
            raise ValueError("a constant value takes no format or map")
        if "default" in self.model_fields_set and self.map is None:
            raise ValueError("default goes with map (the value of source values not listed)")
        if self.format is not None and "%" not in self.format:
            raise ValueError("format is a strptime format such as '%d/%m/%Y' or '%Y%m%d'")
        if self.expr is not None:
            from .expressions import check_expression  # sqlglot only, no database

            check_expression(self.expr)
        return self


class TableMapping(_Strict):
    """Where a canonical table lives in the user's source, and how to read its columns.

    ``columns`` maps canonical column names to the user's: a plain string renames
    (``{revenue: amount_net}``); a mapping gives a constant, an expression, a date format or a
    value mapping (:class:`ColumnMapping`). ``csv`` overrides the source's CSV dialect for
    this table's file.
    """

    table: str | None = Field(None, description="the user's table or file name")
    sheet: str | None = Field(
        None, description="worksheet of an Excel file (table: name.xlsx); default the first"
    )
    columns: dict[str, ColumnMapping] = Field(default_factory=dict)
    csv: CsvDialect | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _plain_renames(cls, v):
        # a plain string is a rename: `revenue: amount_net` is `revenue: {column: amount_net}`
        if isinstance(v, dict):
            return {k: {"column": s} if isinstance(s, str) else s for k, s in v.items()}
        return v

    def renames(self) -> dict[str, str]:
        """Canonical name → the user's column, for every column read from one source column."""
        return {c: s.column for c, s in self.columns.items() if s.column is not None}

    @property
    def only_renames(self) -> bool:
        """Whether every column is a plain rename (read as is, no format, map or expression)."""
        return all(s.is_rename for s in self.columns.values())


class SparkOptions(_Strict):
    """How a ``spark`` source reaches Spark (``source.spark``).

    Without a ``master`` the active Spark session is used when there is one (a notebook on a
    cluster, ``spark-submit``), else a local one on two cores (``local[2]``). Tables are the
    Parquet files or folders of ``source.path`` when given, else tables of the session's
    catalog (in ``database``, when given).
    """

    master: str | None = Field(
        None,
        description="Spark master URL: local[2] (default), local[*], spark://host:7077, "
        "yarn, k8s://https://host:443",
    )
    database: str | None = Field(
        None, description="catalog database (schema) holding the tables, when there is no path"
    )
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="extra Spark settings, e.g. {spark.executor.memory: 4g}",
    )

    @field_validator("master")
    @classmethod
    def _master(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(
            r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?|yarn|(spark|k8s|mesos)://\S+", v
        ):
            raise ValueError(
                f"not a Spark master URL: {v!r}; expected local, local[2], local[*], yarn, "
                "spark://host:7077 or k8s://https://host:443"
            )
        return v

    @field_validator("conf")
    @classmethod
    def _conf_keys(cls, v: dict) -> dict:
        for key in v:
            if not key.startswith("spark."):
                raise ValueError(f"{key!r} is not a Spark setting (they start with 'spark.')")
        return v


#: a DuckDB memory size: ``500MB``, ``2GiB``, ``1.5 GB``
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B)", re.IGNORECASE)


class SourceParams(_Strict):
    """The data source of a brand.

    ``kind``:

    - ``duckdb``: a DuckDB database file (``path``), opened read-only;
    - ``parquet`` / ``csv``: a folder (``path``) with one file per table (``orders.parquet``);
    - ``sql``: any database Ibis speaks, by ``url`` (a scheme of :data:`SQL_SCHEMES`, then
      ``://``: a typo such as ``postgress://`` or ``postgres:/`` is rejected). Credentials are
      written as ``${ENV_VAR}`` references and read from the environment when connecting; a
      literal password in the URL (user info, or a secret-looking query key such as
      ``password``, ``sslpassword``, ``token``, ``api_key``) is rejected, and so is a
      ``#fragment``. Messages never carry a credential (:meth:`scrub`).
    - ``spark``: Spark through Ibis' PySpark backend (extra ``kpitools[spark]``, and Java):
      the Parquet files or folders of ``path`` (``orders.parquet``, or ``orders/`` as Spark
      writes it), or, without a path, the catalog tables of ``spark.database``; ``spark`` also
      sets the master and extra settings (:class:`SparkOptions`, docs/engines.md).
    """

    kind: Literal["duckdb", "parquet", "csv", "sql", "spark"] = "duckdb"
    path: str | None = None
    url: str | None = None
    brand: str | None = Field(
        None, description="brand of every row when the export has no brand column"
    )
    csv: CsvDialect | None = Field(None, description="CSV dialect of every file (csv kind)")
    spark: SparkOptions | None = Field(
        None, description="Spark master, catalog database and settings (spark kind)"
    )
    tables: dict[str, TableMapping] = Field(default_factory=dict)
    memory_limit: str | None = Field(
        None,
        description=(
            "memory DuckDB may use for this brand's queries (duckdb, parquet and csv kinds), "
            "e.g. 500MB or 2GiB; beyond it DuckDB spills to disk. Default: DuckDB's own, 80 % "
            "of the machine's RAM per connection"
        ),
    )

    @field_validator("memory_limit")
    @classmethod
    def _a_size(cls, v: str | None) -> str | None:
        if v is None:
            return v
        text = str(v).strip()
        if not _MEMORY_SIZE.fullmatch(text):
            raise ValueError(
                f"{v!r} is not a memory size: write a number and a unit, e.g. 500MB or 2GiB"
            )
        return text

    @model_validator(mode="after")
    def _where(self):
        if self.memory_limit is not None and self.kind in ("sql", "spark"):
            raise ValueError(
                f"memory_limit applies to the DuckDB kinds (duckdb, parquet, csv), not {self.kind}: "
                "set the memory of that engine in the engine itself"
            )
        if self.kind == "sql":
            if not self.url:
                raise ValueError("a sql source needs a url, e.g. postgres://${PGUSER}@host/db")
        elif self.kind == "spark":
            if self.url:
                raise ValueError(
                    "a spark source takes a path (Parquet files) or spark.database, not a url"
                )
            if self.path and self.spark and self.spark.database:
                raise ValueError(
                    "a spark source reads either the Parquet files of path or the catalog "
                    "tables of spark.database, not both"
                )
        elif not self.path:
            raise ValueError(f"a {self.kind} source needs a path")
        if self.spark is not None and self.kind != "spark":
            raise ValueError(
                f"spark (master, database, conf) applies to a spark source, not {self.kind}"
            )
        if self.kind != "csv" and (self.csv or any(m.csv for m in self.tables.values())):
            raise ValueError(f"csv (the CSV dialect) applies to a csv source, not {self.kind}")
        return self

    def dialect(self, name: str) -> CsvDialect:
        """The CSV dialect of canonical table ``name``'s file (table keys over source keys)."""
        mapping = self.tables.get(name)
        own = mapping.csv if mapping else None
        if own is not None:
            return own.over(self.csv)
        return self.csv or CsvDialect()

    @field_validator("url")
    @classmethod
    def _no_literal_password(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            parts = urlsplit(_ENV_REF.sub("x", v))
        except ValueError as exc:  # pragma: no cover - urlsplit is lenient
            raise ValueError(f"not a URL: {exc}") from None
        if not parts.scheme:
            raise ValueError("not a URL: it needs a scheme such as postgres://")
        scheme = parts.scheme.lower()
        if scheme not in SQL_SCHEMES:
            raise ValueError(
                f"unknown URL scheme {parts.scheme!r}: expected one of "
                f"{', '.join(SQL_SCHEMES)} (e.g. postgres://${{PGUSER}}@host/db)"
            )
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", v):
            raise ValueError(
                f"not a URL: write {parts.scheme}://host/database (two slashes after "
                f"'{parts.scheme}:')"
            )
        netloc = urlsplit(v).netloc
        userinfo = netloc.rpartition("@")[0]
        literal = ValueError(
            "the URL holds a literal password: write it as ${SOME_ENV_VAR} and set "
            "that variable in the environment"
        )
        if ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            if not _ENV_REF.fullmatch(password):
                raise literal
        for key, value in parse_qsl(urlsplit(v).query, keep_blank_values=True):
            if _is_secret_key(key) and value and not _ENV_REF.fullmatch(value):
                raise literal
        if urlsplit(v).fragment:
            raise ValueError(
                "the URL has a #fragment, which no database reads: remove it (a '#' in a "
                "password goes in the ${SOME_ENV_VAR} it is read from)"
            )
        return v

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableMapping]) -> dict[str, TableMapping]:
        for name, mapping in v.items():
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r}; canonical tables: {', '.join(TABLES)}")
            cols = TABLES[name].column_names
            for col in mapping.columns:
                if col not in cols:
                    raise ValueError(
                        f"{name}.columns: unknown column {col!r}; {name} has {', '.join(cols)}"
                    )
        return v

    def env_vars(self) -> list[str]:
        """Environment variables the URL refers to."""
        return _ENV_REF.findall(self.url or "")

    def resolved_url(self) -> str:
        """The URL with ``${VAR}`` replaced from the environment.

        Raises
        ------
        KeyError
            Naming the first unset variable.
        """
        assert self.url is not None

        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise KeyError(name)
            # percent-encode, so that '@', '/', '#' or ':' in a secret cannot change the URL
            return quote(os.environ[name], safe="")

        return _ENV_REF.sub(sub, self.url)

    def secret_values(self) -> list[str]:
        """The credentials of the URL as they are when connecting: the password of the user
        info and the values of secret-looking query keys, read from the environment (unset
        variables are skipped)."""
        if not self.url:
            return []
        out: list[str] = []
        raw = self.url
        userinfo = urlsplit(_ENV_REF.sub(lambda m: f"<{m.group(1)}>", raw)).netloc.rpartition("@")[
            0
        ]
        positions = [userinfo.split(":", 1)[1]] if ":" in userinfo else []
        query = urlsplit(_ENV_REF.sub(lambda m: f"<{m.group(1)}>", raw)).query
        positions += [
            val for key, val in parse_qsl(query, keep_blank_values=True) if _is_secret_key(key)
        ]
        for pos in positions:
            for name in re.findall(r"<([A-Za-z_][A-Za-z0-9_]*)>", pos):
                if os.environ.get(name):
                    out.append(os.environ[name])
            if pos and "<" not in pos:
                out.append(pos)
        return out

    def scrub(self, text: str) -> str:
        """``text`` without any credential of this source (:func:`scrub_secrets`): safe for
        the console, ``_failed/last.json`` and ``validate``'s output."""
        return scrub_secrets(text, self.secret_values())

    def redacted(self) -> str:
        """A description safe for logs and reports: never a credential."""
        if self.kind == "spark" and not self.path:
            database = self.spark.database if self.spark else None
            return f"spark:catalog/{database}" if database else "spark:catalog"
        if self.kind != "sql":
            return f"{self.kind}:{self.path}"
        m = _URL_PARTS.match(self.url or "")
        if not m:
            return "sql:(unparsable URL)"
        return f"{m['scheme']}://{m['host']}{m['path']}"


class PeriodParams(_Strict):
    grain: Literal["month", "quarter", "year"] = "month"
    current: str | None = Field(
        None,
        description="YYYY-MM, YYYY-Qn or YYYY; default: the latest complete period in the data",
    )

    @model_validator(mode="after")
    def _parse(self):
        if self.current is not None:
            try:
                parse_period(self.current, self.grain)
            except PeriodError as exc:
                raise ValueError(f"current: {exc}") from None
        return self


class Settings(_Strict):
    """Definitions that a brand may tune (documented with each KPI that uses them)."""

    lapse_days: Annotated[int, Field(gt=0)] = 365
    conversion_window_days: Annotated[int, Field(gt=0)] = 90
    lead_response_target_minutes: Annotated[float, Field(gt=0)] = 20.0
    loyal_periods: Annotated[int, Field(ge=2)] = 3
    #: days after a renewal's due date (the end of the contract) in which winning it still
    #: counts as renewed (``renewal_rate``)
    renewal_grace_days: Annotated[int, Field(ge=0)] = 30


class RoiParams(_Strict):
    """Campaign ROI settings (seed 004: measured against a control group)."""

    attribution_days: Annotated[int, Field(ge=0)] = 30
    pre_period_days: Annotated[int, Field(gt=0)] = 90
    method: Literal["diff", "ols", "lin", "cuped"] = "ols"
    cov_type: Literal["HC0", "HC1", "HC2", "HC3", "nonrobust"] = "HC2"
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05
    min_control: Annotated[int, Field(ge=2)] = 100
    interval: Literal["auto", "randomisation", "t"] = Field(
        "auto",
        description="campaign intervals: randomisation inference for control groups up to "
        "250 customers, Bell-McCaffrey t above (auto), or one of them always",
    )
    min_control_judge: Annotated[int, Field(ge=2)] = Field(
        10,
        description="control customers below which a campaign gets no interval and no "
        "verdict (too few controls to judge)",
    )
    campaign: str | None = Field(None, description="analyse one campaign (id or name) only")


class ClvParams(_Strict):
    """Customer lifetime value settings."""

    horizon_months: Annotated[int, Field(gt=0, le=120)] = 12
    discount_rate_annual: Annotated[float, Field(ge=0, lt=1)] = 0.10
    calibration_months: Annotated[int, Field(gt=0)] = 6
    at_risk_top: Annotated[int, Field(gt=0)] = 20
    alive_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.5


class ReportParams(_Strict):
    """What the report shows beyond the scorecard."""

    title: str | None = None
    notebooks: list[str] = Field(
        default_factory=lambda: ["10-kpi-report", "20-campaign-roi", "30-customer-value"],
        description="notebooks run for the brand; the first one is report.html/.pdf",
    )
    headline: list[str] = Field(
        default_factory=lambda: ["revenue", "new_customers", "retention_rate", "nps"],
        description="KPIs shown as tiles on the first page and as trend figures",
    )
    breakdowns: list[BreakdownBy] = Field(default_factory=lambda: list(get_args(BreakdownBy)))
    breakdown_kpis: list[str] = Field(
        default_factory=lambda: [
            "new_customers",
            "revenue",
            "avg_margin_per_customer",
            "retention_rate",
            "churn_rate",
            "nps",
        ]
    )
    keep_runs: Annotated[int, Field(ge=1)] = Field(
        5,
        description="copies of a period's runs kept in reports/<brand>/<period>/runs/ "
        "(the oldest are pruned after each publish; the current report is always kept)",
    )

    @field_validator("headline", "breakdown_kpis")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        check_kpi_ids(v)
        return v


class BrandParams(_Strict):
    """Everything a report needs to know about one brand or product line.

    Attributes
    ----------
    brand : str
        Value of the ``brand`` column in the data.
    name : str
        Display name in reports.
    locale : {"en", "fr", "it"}
        Language and number format of the report.
    currency : str
        ISO 4217 code of the monetary columns.
    product_lines : list of str
        Product lines to keep (empty: all lines of the brand).
    """

    brand: Annotated[str, Field(min_length=1)]
    name: str | None = None
    locale: LocaleCode = "en"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    product_lines: list[str] = Field(default_factory=list)
    period: PeriodParams = Field(default_factory=PeriodParams)
    source: SourceParams
    kpis: list[str] | None = Field(
        None, description="KPI ids to report, in order; default: every KPI the data allow"
    )
    settings: Settings = Field(default_factory=Settings)
    roi: RoiParams = Field(default_factory=RoiParams)
    clv: ClvParams = Field(default_factory=ClvParams)
    report: ReportParams = Field(default_factory=ReportParams)
    objectives: ObjectiveList = []
    delivery: DeliveryParams | None = Field(
        None, description="who receives the report by e-mail after `kpitools run --deliver`"
    )

    #: directory of the params file; relative source paths are resolved against it
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    #: the file the params came from (for messages)
    origin: str = Field("<params>", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _brand_from_source(cls, data):
        # single-brand data: `source.brand` alone names the brand of the report
        if isinstance(data, dict) and "brand" not in data:
            source = data.get("source")
            if isinstance(source, dict) and isinstance(source.get("brand"), str):
                data = {**data, "brand": source["brand"]}
        return data

    @model_validator(mode="after")
    def _one_brand(self):
        if self.source.brand is not None and self.source.brand != self.brand:
            raise ValueError(
                f"brand {self.brand!r} differs from source.brand {self.source.brand!r} (the "
                "brand given to rows without one): the report would find no rows"
            )
        return self

    @field_validator("objectives")
    @classmethod
    def _objectives_of_the_grain(cls, v: list, info: ValidationInfo) -> list:
        period = info.data.get("period")
        if period is None:
            return v  # the period itself is invalid and reported
        problems = [p for o in v if (p := grain_problem(o, period.grain))]
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @field_validator("kpis")
    @classmethod
    def _known_kpis(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        check_kpi_ids(v)  # raises ValueError listing close matches
        return v

    @property
    def display_name(self) -> str:
        return self.name or self.brand

    @property
    def slug(self) -> str:
        """Folder name for this brand's reports: the file stem (one file per brand or line)."""
        stem = Path(self.origin).stem
        return stem if stem and stem != "<params>" else self.brand

    def source_path(self) -> Path:
        """Absolute path of a file or folder source."""
        assert self.source.path is not None
        p = Path(os.path.expandvars(self.source.path)).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def requested_period(self, text: str | None = None) -> Period | None:
        """The period asked for (argument, else ``period.current``), or None for "the latest
        complete period in the data", which only :func:`kpitools.kpis.compute.resolve_period`
        can tell (it reads the database)."""
        text = text or self.period.current
        return parse_period(text, self.period.grain) if text else None


def _deep_merge(base: dict, own: dict) -> dict:
    """``base`` with ``own``'s keys over it, mappings merged key by key."""
    out = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _include_source(data: dict, origin: str, base_dir: Path) -> tuple[dict, str | None]:
    """Resolve ``source: {include: file.yaml, ...}``: the shared source file's keys, the
    brand's own keys over them. A relative ``path`` in the shared file is relative to it.

    Raises
    ------
    ParamsError
        When the file is missing, is not YAML, is not a mapping or includes another file.
    """
    source = data.get("source")
    if not isinstance(source, dict) or "include" not in source:
        return data, None
    ref = source["include"]
    if not isinstance(ref, str) or not ref.strip():
        raise ParamsError(origin, [f"{origin}: source.include: expected the path of a file"])
    f = Path(os.path.expandvars(ref)).expanduser()
    if not f.is_absolute():
        f = base_dir / f
    if not f.is_file():
        raise ParamsError(origin, [f"{origin}: source.include: file {ref} not found ({f})"])
    try:
        shared = yaml.safe_load(f.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParamsError(
            origin, [f"{origin}: source.include: {ref} is not YAML: {problem}"]
        ) from None
    if isinstance(shared, dict) and set(shared) == {"source"}:
        shared = shared["source"]  # a file written as `source: {...}` works too
    if not isinstance(shared, dict):
        raise ParamsError(origin, [f"{origin}: source.include: {ref} must hold a source mapping"])
    if "include" in shared:
        raise ParamsError(
            origin,
            [
                f"{origin}: source.include: {ref} includes another file; "
                "a shared source file cannot include"
            ],
        )
    shared = dict(shared)
    if isinstance(shared.get("path"), str):
        shared_path = Path(os.path.expandvars(shared["path"])).expanduser()
        if not shared_path.is_absolute():
            shared["path"] = str((f.parent / shared_path).resolve())
    own = {k: v for k, v in source.items() if k != "include"}
    return {**data, "source": _deep_merge(shared, own)}, ref


def parse_params(
    data: dict, *, origin: str = "<params>", base_dir: Path | None = None
) -> BrandParams:
    """Validate a params mapping (already read from YAML).

    ``source: {include: ../sources/export.yaml}`` reads the source from a shared file
    (relative to ``base_dir``), the keys written beside ``include`` overriding its keys.

    Raises
    ------
    ParamsError
        With one line per problem.
    """
    if not isinstance(data, dict):
        raise ParamsError(origin, [f"{origin}: (top level): expected a mapping of fields"])
    base = base_dir or Path.cwd()
    data, included = _include_source(data, origin, base)
    extra = {"origin": origin, "base_dir": base}
    try:
        return BrandParams.model_validate({**data, **extra})
    except ValidationError as exc:
        lines = format_validation_error(origin, exc)
        if included:
            lines = [
                f"{line} (source includes {included})"
                if line.startswith(f"{origin}: source")
                else line
                for line in lines
            ]
        raise ParamsError(origin, lines) from None


def load_params(path: str | os.PathLike) -> BrandParams:
    """Read and validate a brand's params file.

    Parameters
    ----------
    path : str or Path
        A YAML file, e.g. ``params/aurora.yaml``.

    Returns
    -------
    BrandParams

    Raises
    ------
    ParamsError
        When the file is missing, is not YAML, or breaks the model; the message has one line per
        problem, each naming the file and the field.
    """
    p = Path(path)
    shown = str(path)
    if p.is_dir():
        raise ParamsError(
            shown, [f"{shown}: is a folder, not a params file (give a .yaml file in it)"]
        )
    if not p.is_file():
        raise ParamsError(shown, [f"{shown}: file not found"])
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError(shown, [f"{shown}: {where}not valid YAML: {problem}"]) from None
    except UnicodeDecodeError:
        raise ParamsError(shown, [f"{shown}: not a UTF-8 text file"]) from None
    return parse_params(data or {}, origin=shown, base_dir=p.resolve().parent)


__all__ = [
    "BrandParams",
    "DeliveryParams",
    "ClvParams",
    "PeriodParams",
    "ReportParams",
    "RoiParams",
    "Settings",
    "SourceParams",
    "TableMapping",
    "ColumnMapping",
    "CsvDialect",
    "SQL_SCHEMES",
    "load_params",
    "parse_params",
    "scrub_secrets",
]
