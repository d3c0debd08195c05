"""Compute a scorecard: every requested KPI for a period, its previous period, the same period a
year before, and a 12-period trend, with one database query per measure group.

Results are plain objects (:class:`Scorecard`, :class:`Breakdown`, :class:`KpiResult`) with
``to_dict()``; the report (:mod:`kpitools.report`) turns them into HTML and figures. Why a KPI
has no value is a :class:`Reason` code plus the tables missing, never prose.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from os import PathLike
from typing import Any, ParamSpec, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..catalogue import DEPARTMENTS
from ..data.sources import Database
from ..errors import KpitoolsError, MissingColumnError, MissingTableError, PeriodError
from ..numbers import finite_or_none
from ..params import BrandParams, RoiParams, Settings, objective_kpi_ids
from ..periods import (
    MONTHS_PER,
    TREND_LENGTH,
    YEAR_LAG,
    Period,
    end_of_today,
    last_complete_period,
)
from ..schema import TABLES

# Reason and ResultStatus are declared in vocab; report/ imports them from here too.
from ..vocab import UNKNOWN_GROUP, Reason, ResultStatus, Scope, Segment
from .cache import KpiCache, cache_enabled
from .columns import missing_columns_of
from .registry import MEASURES, Kpi, get_kpi, get_registry
from .segments import customer_segment

log = logging.getLogger(__name__)

_TRUNC = {"month": "M", "quarter": "Q", "year": "Y"}


OK, NO_DATA, NOT_AVAILABLE = ResultStatus.OK, ResultStatus.NO_DATA, ResultStatus.NOT_AVAILABLE


#: Dimensions a breakdown can be by.
DIMENSIONS = ("segment", "product_line", "acquisition_channel")
UNKNOWN = UNKNOWN_GROUP

P = ParamSpec("P")
R = TypeVar("R")


class BreakdownUnsupported(KpitoolsError):
    """A measure cannot be broken down by the requested dimension."""

    def __init__(self, by: str):
        self.by = by
        super().__init__(f"no breakdown by {by}")


#: The measure groups that read the per-customer, per-period roll-up
#: (:meth:`QueryContext.customer_periods`), with the variants ``(first_period, by_line)`` they
#: read; :func:`compute_kpis` materialises a variant only when two or more selected groups read
#: it (``tests/test_kpis.py`` checks this list against what every measure really reads).
ROLLUP_READERS: dict[str, tuple[tuple[bool, bool], ...]] = {
    "customer_activity": ((False, False),),
    "customer_loyalty": ((False, False),),
    "relationship_freshness": ((False, False),),
}


class SharedTables:
    """Tables several measure groups of one scorecard read, each materialised once.

    The first :meth:`get` of a key builds the expression and materialises it with Ibis'
    portable :meth:`ibis.Table.cache` (a temporary table on DuckDB, PostgreSQL, Spark…); later
    gets of the same key return the materialised table. A backend that cannot materialise gets
    the plain expression (computed again by each group, as before). :meth:`release` drops the
    temporary tables: call it when the scorecard is done (``with SharedTables() as shared``).

    Parameters
    ----------
    readers : mapping, optional
        Number of the scorecard's measure groups that read each table, by the key's first
        items (``key[:len(k)]`` for a key ``k`` of the mapping). A table with fewer than two
        readers is not materialised: its one reader computes it inside its own query, which
        saves writing and reading the temporary table. Keys the mapping does not cover are
        materialised. None materialises every table.
    """

    def __init__(self, readers: Mapping[tuple, int] | None = None) -> None:
        self._tables: dict[tuple, ibis.Table] = {}
        self._cached: list[Any] = []
        self._readers = dict(readers) if readers is not None else None

    def _shared_by(self, key: tuple) -> int | None:
        if self._readers is None:
            return None
        for k, n in self._readers.items():
            if key[: len(k)] == k:
                return n
        return None

    def get(self, key: tuple, build: Callable[[], ibis.Table]) -> ibis.Table:
        """The table of ``key``, built by ``build()`` and materialised on the first call
        (unless fewer than two groups read it, see ``readers``)."""
        if key not in self._tables:
            expr = build()
            n = self._shared_by(key)
            if n is not None and n < 2:  # one reader: the plain query, nothing to share
                self._tables[key] = expr
                return expr
            try:
                cached = expr.cache()
            except Exception as exc:  # a backend without temporary tables: the plain query
                log.debug("cannot materialise %s (%s): the plain query is used", key[0], exc)
                self._tables[key] = expr
            else:
                self._cached.append(cached)
                self._tables[key] = cached
        return self._tables[key]

    def release(self) -> None:
        """Drop every temporary table materialised so far."""
        while self._cached:
            cached = self._cached.pop()
            try:
                cached.release()
            except Exception as exc:  # a closed connection: its temporary tables are gone
                log.debug("could not release a shared table: %s", exc)
        self._tables.clear()

    def __enter__(self) -> SharedTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class QueryContext:
    """What a measure builder needs: the brand's tables, the period grain and the window.

    Attributes
    ----------
    db : kpitools.data.sources.Database
    grain : str
    periods : list of Period
        The periods of the window, oldest first; the last one is the report's period.
    settings : kpitools.params.Settings
    by : str, optional
        The breakdown dimension (one of :data:`DIMENSIONS`), None for the whole brand.
    params : kpitools.params.BrandParams, optional
    line_filter : bool
        Whether :meth:`table` keeps only the report's product lines (``Database.table``);
        False for a brand-wide measure of a product-line report, whose tables are then the
        brand's whole tables (``Database.brand_table``), see :func:`measure_scope`.
    shared : SharedTables, optional
        Tables materialised once and shared by the measure groups of one scorecard (the
        per-customer, per-period roll-up of :meth:`customer_periods`); None computes them
        inside each query.
    """

    db: Database
    grain: str
    periods: list[Period]
    settings: Settings
    by: str | None = None
    params: BrandParams | None = None
    line_filter: bool = True
    shared: SharedTables | None = field(default=None, compare=False, repr=False)

    @property
    def roi(self) -> RoiParams | None:
        """The brand's ROI settings (attribution window for campaign KPIs)."""
        return self.params.roi if self.params is not None else None

    @property
    def start(self) -> datetime:
        """Start of the window (inclusive)."""
        return self.periods[0].start_ts()

    @property
    def end(self) -> datetime:
        """End of the window (exclusive): the end of the report's period."""
        return self.periods[-1].end_ts()

    @property
    def step(self) -> ir.IntervalScalar:
        """One period as an Ibis interval."""
        return ibis.interval(months=MONTHS_PER[self.grain])

    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name`` of the brand's source (its lines, unless the measure
        is brand-wide: ``line_filter``)."""
        return self.db.table(name) if self.line_filter else self.db.brand_table(name)

    def bucket(self, col: ir.TimestampValue) -> ir.TimestampValue:
        """Start of the period that holds timestamp ``col``."""
        return col.truncate(_TRUNC[self.grain]).cast("timestamp")

    def in_window(self, col: ir.TimestampValue) -> ir.BooleanValue:
        """Whether timestamp ``col`` falls in the window ``[start, end)``."""
        return (col >= self.start) & (col < self.end)

    # -- breakdowns ------------------------------------------------------------------------
    def grouped(
        self, t: ibis.Table, time_col: str, *, customer_col: str | None = "customer_id"
    ) -> tuple[ibis.Table, dict[str, ir.Value]]:
        """Group keys for a measure: the period, plus the breakdown dimension ``dim``.

        Parameters
        ----------
        t : ibis.Table
            The measure's (filtered) table.
        time_col : str
            Column that places a row in a period.
        customer_col : str or None
            Column holding the customer id, for customer dimensions (segment, acquisition
            channel); None when the rows are not about customers (leads, CRM logins).

        Returns
        -------
        (ibis.Table, dict)
            The table (joined with the dimension when needed) and the ``group_by`` keys.

        Raises
        ------
        BreakdownUnsupported
            When this table cannot be broken down by ``self.by``.
        """
        if self.by is None:
            return t, {"period": self.bucket(t[time_col])}
        if self.by == "product_line" and "product_line" in t.columns:
            t = t.mutate(dim=t.product_line.fill_null(UNKNOWN))
        elif self.by in ("product_line", "acquisition_channel"):
            if (
                customer_col is None
                or customer_col not in t.columns
                or not self.db.has("customers")
            ):
                raise BreakdownUnsupported(self.by)
            # the brand's customers, whatever their product line: a customer acquired on
            # another line still has an acquisition channel and line
            c = self.db.brand_table("customers")
            c = c.select(dim_key=c.customer_id, dim=c[self.by])
            t = t.left_join(c, t[customer_col] == c.dim_key).drop("dim_key")
            t = t.mutate(dim=t.dim.fill_null(UNKNOWN))
        elif self.by == "segment":
            if customer_col is None or customer_col not in t.columns or not self.db.has("orders"):
                raise BreakdownUnsupported(self.by)
            seg = self.customer_segments().select("customer_id", "period", "segment")
            seg = seg.rename(seg_customer="customer_id", seg_period="period")
            t = t.mutate(_p=self.bucket(t[time_col]))
            t = t.left_join(
                seg, (t[customer_col] == seg.seg_customer) & (t._p == seg.seg_period)
            ).drop("seg_customer", "seg_period", "_p")
            t = t.mutate(dim=t.segment.fill_null(str(Segment.INACTIVE))).drop("segment")
        else:
            raise BreakdownUnsupported(self.by)
        return t, {"period": self.bucket(t[time_col]), "dim": t.dim}

    def customer_periods(self, *, first_period: bool = False, by_line: bool = False) -> ibis.Table:
        """Orders rolled up per customer and period, with each customer's segment.

        Columns: ``customer_id``, ``period``, ``revenue``, ``margin``, ``orders`` (distinct
        ``order_id``), ``first_order``, ``last_order``, ``prev_period``, ``next_period``, ``prev_last`` (last
        order before the period), ``next_first`` (first order after it), ``segment`` (and
        ``first_period`` when asked for). All history before the window end is scanned, so
        ``new`` means the first order ever.

        The segment is the one rule of :func:`kpitools.kpis.segments.customer_segment`, with the
        lapse ``L = settings.lapse_days``: ``new`` (first order ever in the period),
        ``reactivated`` (first order of the period more than ``L`` days after the previous
        one), ``steady`` (bought in the previous period too), ``returning`` (any other buyer).

        With ``by_line``, rows are per customer, period and product line, and the segments are
        the customer's on that line (new to the line, back on it, …).
        """
        if self.shared is not None:
            key = (
                "customer_periods",
                first_period,
                by_line,
                self.line_filter,
                self.grain,
                self.end,
                self.lapse_days,
            )
            return self.shared.get(
                key, lambda: self._customer_periods(first_period=first_period, by_line=by_line)
            )
        return self._customer_periods(first_period=first_period, by_line=by_line)

    def _customer_periods(self, *, first_period: bool, by_line: bool) -> ibis.Table:
        o = self.table("orders")
        o = o.filter(o.ordered_at < self.end)
        keys = {"customer_id": o.customer_id, "period": self.bucket(o.ordered_at)}
        if by_line:  # a customer's activity on each product line separately
            keys["product_line"] = o.product_line
        cp = o.group_by(**keys).aggregate(
            revenue=o.revenue.sum(),
            margin=(o.revenue - o.cost).sum(),
            # distinct order ids: an export of order lines (one row per product of a basket,
            # the basket's key repeated) counts each order once
            orders=o.order_id.nunique(),
            first_order=o.ordered_at.min(),
            last_order=o.ordered_at.max(),
        )
        who = [cp.customer_id, cp.product_line] if by_line else [cp.customer_id]
        w = ibis.window(group_by=who, order_by=cp.period)
        extra = {}
        if first_period:
            extra["first_period"] = cp.period.min().over(ibis.window(group_by=who))
        cp = cp.mutate(
            prev_period=cp.period.lag().over(w),
            next_period=cp.period.lead().over(w),
            prev_last=cp.last_order.lag().over(w),
            next_first=cp.first_order.lead().over(w),
            **extra,
        )
        segment = customer_segment(
            first_ever=cp.prev_period.isnull(),
            last_before=cp.prev_last,
            first_in_period=cp.first_order,
            bought_previous=cp.prev_period == cp.period - self.step,
            lapse_days=self.lapse_days,
        )
        return cp.mutate(segment=segment)

    @property
    def lapse_days(self) -> int:
        """``settings.lapse_days``: a customer is active while their last order is at most this
        many days old (:mod:`kpitools.kpis.segments`)."""
        return int(getattr(self.settings, "lapse_days", 365))

    def customer_segments(self) -> ibis.Table:
        """``customer_periods`` restricted to the window."""
        cp = self.customer_periods()
        return cp.filter(cp.period >= self.start)


@dataclass
class KpiResult:
    """A KPI's values for the report's period and around it.

    Attributes
    ----------
    kpi : Kpi
    status : ResultStatus
        ``ok``, ``no_data`` (no rows in the period, or an undefined ratio) or
        ``not_available`` (a required table is absent).
    value, previous, year_ago : float or None
        The period's value, the previous period's and the same period a year before.
    trend : list of (Period, float or None)
        The last 12 periods, oldest first.
    reason : Reason or None
        Why there is no value: ``no_data`` or ``needs_table`` (None when ``ok``).
    missing_tables : tuple of str
        For ``needs_table``: the tables absent from the source.
    missing_columns : tuple of str
        For ``needs_column`` (status ``not_available``): the optional columns, as ``table.column``,
        that the source leaves empty and the KPI needs.
    cohort : Period or None
        For a matured KPI (``kpi.matures``): the cohort ``value`` describes, the latest one
        whose window has closed by the end of the report's period; ``previous`` and
        ``year_ago`` are the cohort before it and the cohort a year before it, and ``trend``
        holds the 12 cohorts ending with it. None for KPIs final at the end of their period.
    provisional : float or None
        For a matured KPI: the report's own period's value as known at its end, before its
        window has closed (it still grows). Never compared with the mature values.
    window_days : int or None
        For a matured KPI: the days its outcomes are given after the cohort (the setting named
        by ``kpi.matures``).
    scope : Scope or None
        In a product-line report: ``line`` when the value covers the line only, ``brand`` when
        it is brand-wide (a table it reads cannot be filtered by line). None in a brand report.
    """

    kpi: Kpi
    status: ResultStatus
    value: float | None = None
    previous: float | None = None
    year_ago: float | None = None
    trend: list[tuple[Period, float | None]] = field(default_factory=list)
    reason: Reason | None = None
    missing_tables: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    cohort: Period | None = None
    provisional: float | None = None
    window_days: int | None = None
    scope: Scope | None = None

    @property
    def id(self) -> str:
        return self.kpi.id

    @property
    def matured(self) -> bool:
        """Whether the value is a matured cohort's (see :attr:`cohort`)."""
        return self.cohort is not None

    def change(self, other: float | None) -> float | None:
        """Change from ``other``: points for ratios and scores, relative change otherwise."""
        if self.value is None or other is None:
            return None
        if self.kpi.unit in ("ratio", "score"):
            return finite_or_none(self.value - other)
        if other == 0:
            return None
        return finite_or_none((self.value - other) / abs(other))

    @property
    def change_previous(self) -> float | None:
        return self.change(self.previous)

    @property
    def change_year_ago(self) -> float | None:
        return self.change(self.year_ago)

    def to_dict(self) -> dict[str, Any]:
        """Plain values; ``reason`` is the code (``kpis.json`` words it, see
        :func:`kpitools.report.kpis_json.scorecard_document`)."""
        k = self.kpi
        return {
            "department": k.department,
            "unit": k.unit,
            "direction": k.direction,
            "status": self.status,
            "reason": self.reason,
            "missing_columns": list(self.missing_columns),
            "value": self.value,
            "previous": self.previous,
            "year_ago": self.year_ago,
            "change_previous": self.change_previous,
            "change_year_ago": self.change_year_ago,
            "change_kind": "points" if k.unit in ("ratio", "score") else "relative",
            # None in a brand report; "line" or "brand" (brand-wide) in a product-line report
            "scope": self.scope,
            "trend": [{"period": p.label, "value": v} for p, v in self.trend],
            # matured KPIs: the cohort shown, the window, and the immature value of the period
            "cohort": self.cohort.label if self.cohort is not None else None,
            "window_days": self.window_days,
            "provisional": self.provisional,
        }


@dataclass
class Scorecard:
    """The KPIs of one brand for one period.

    Attributes
    ----------
    brand : str
    period : Period
    results : dict of KpiResult, by KPI id, in report order
    queries : int
        Database queries run to compute it.
    seconds : float
        Wall time of the computation.
    """

    brand: str
    period: Period
    results: dict[str, KpiResult]
    queries: int = 0
    seconds: float = 0.0
    locale: str = "en"
    currency: str = "EUR"
    name: str = ""

    def __getitem__(self, kpi_id: str) -> KpiResult:
        return self.results[kpi_id]

    def __iter__(self) -> Iterator[KpiResult]:
        return iter(self.results.values())

    def value(self, kpi_id: str) -> float | None:
        return self.results[kpi_id].value

    def to_dict(self) -> dict[str, Any]:
        """Brand, period, and every KPI's :meth:`KpiResult.to_dict`, by id."""
        return {
            "brand": self.brand,
            "name": self.name or self.brand,
            "period": self.period.label,
            "grain": self.period.grain,
            "locale": self.locale,
            "currency": self.currency,
            "queries": self.queries,
            "seconds": round(self.seconds, 3),
            "kpis": {k: r.to_dict() for k, r in self.results.items()},
        }

    def trend_frame(self) -> pd.DataFrame:
        """Long table (kpi, period, period_start, value) for trend plots."""
        rows = [
            {
                "kpi": r.id,
                "period": p.label,
                "period_start": pd.Timestamp(p.start),
                "value": v,
            }
            for r in self
            for p, v in r.trend
        ]
        return pd.DataFrame(rows, columns=["kpi", "period", "period_start", "value"])

    def to_frame(self) -> pd.DataFrame:
        """Raw numbers, one row per KPI."""
        return pd.DataFrame(
            [
                {
                    "kpi": r.id,
                    "status": r.status,
                    "value": r.value,
                    "previous": r.previous,
                    "year_ago": r.year_ago,
                }
                for r in self
            ]
        ).set_index("kpi")


@dataclass(frozen=True)
class NotAvailable:
    """The result of an analysis that could not run: a table it needs is absent.

    Returned by :func:`unless_missing` in place of the analysis' own result, so a notebook
    cell computes (``x = unless_missing(compute_funnel, db, params, period)``) and the next
    one shows (``show_funnel(x, locale)``): "not available (needs table X)".

    Attributes
    ----------
    missing_table : str
        The canonical table the source does not have.
    needed_by : str, optional
        What needed it, in words, when the analysis said.
    reason : Reason
        Always ``needs_table``.
    """

    missing_table: str
    needed_by: str | None = None
    reason: Reason = Reason.NEEDS_TABLE

    @property
    def missing_tables(self) -> tuple[str, ...]:
        return (self.missing_table,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(NOT_AVAILABLE),
            "reason": str(self.reason),
            "missing_tables": list(self.missing_tables),
        }


def unless_missing(
    compute: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> R | NotAvailable:
    """``compute(*args, **kwargs)``, or :class:`NotAvailable` when a table it needs is absent.

    One mechanism for every analysis a report shows beside the scorecard (funnel, cohorts,
    touch response, campaign ROI): a missing table is a note in the report, never a crash.

    Examples
    --------
    >>> funnel = unless_missing(compute_funnel, db, params, period, by="channel")  # doctest: +SKIP
    """
    try:
        return compute(*args, **kwargs)
    except MissingTableError as exc:
        return NotAvailable(exc.table, needed_by=exc.needed_by)


def latest_period(db: Database, grain: str) -> Period:
    """The latest complete period of the brand's data (by order dates, else any dated table),
    never one that ends after today: rows dated in the future are ignored (the data-quality
    section counts them, rule ``future_date``).

    Raises
    ------
    PeriodError
        When the source has no dated rows for the brand.
    """
    candidates = ["orders"] + [n for n in TABLES if n != "orders"]
    for name in candidates:
        spec = TABLES[name]
        if not spec.time_column or not db.has(name):
            continue
        t = db.table(name)
        tc = t[spec.time_column]
        # rows dated after today do not make the default period the future
        last = tc.max(where=tc <= ibis.literal(end_of_today())).execute()
        if last is not None and not pd.isna(last):
            return last_complete_period(pd.Timestamp(last).to_pydatetime(), grain)
    raise PeriodError(f"no dated rows for brand {db.brand!r} in {db.description}")


def window_for(period: Period) -> list[Period]:
    """Periods fetched for a scorecard: trend, year-ago and one more for 'previous' ratios."""
    back = max(TREND_LENGTH, YEAR_LAG[period.grain]) + 1
    return [period.shift(-k) for k in range(back, -1, -1)]


def _complete(df: pd.DataFrame, ctx: QueryContext) -> pd.DataFrame:
    """Index a measure result by period start, one row per window period, floats."""
    index = pd.DatetimeIndex([pd.Timestamp(p.start) for p in ctx.periods], name="period").astype(
        "datetime64[ns]"
    )
    if len(df):
        df = df.copy()
        df["period"] = pd.to_datetime(df["period"]).dt.tz_localize(None).astype("datetime64[ns]")
        if df["period"].duplicated().any():
            df = df.groupby("period").sum(min_count=1)
        else:
            df = df.set_index("period")
    else:
        df = pd.DataFrame(columns=[c for c in df.columns if c != "period"]).rename_axis("period")
    df.index = pd.DatetimeIndex(df.index).astype("datetime64[ns]")
    df = df.reindex(index)
    df["n_rows"] = df["n_rows"].fillna(0)
    return df.astype("float64")


def _execute_once(db: Database, expr: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``expr.execute()``, once per open source for the same query.

    The KPI drivers ask for the measure groups of several KPIs that share one (orders, revenue
    and average order value read the same query): the second asks are read from
    ``db.memo``, keyed by the query's Ibis operation (structural equality), and get a copy.

    With ``columns`` (a subset of ``expr``'s) only those are asked for, so the database skips
    the aggregates nobody reads, unless this query with every one of them already ran on this
    source (its frame is then read).
    """
    memo = getattr(db, "memo", None)
    if memo is None:
        return (expr if columns is None else expr.select(*columns)).execute()
    op = expr.op()
    key: tuple = ("query", op)
    if key in memo:
        frame = memo[key]
        return (frame if columns is None else frame[list(columns)]).copy()
    if columns is None:
        memo[key] = expr.execute()
        return memo[key].copy()
    wanted = set(columns)
    for other in memo:
        if len(other) == 3 and other[0] == "query" and other[1] == op and wanted <= other[2]:
            return memo[other][list(columns)].copy()
    frame = expr.select(*columns).execute()
    memo[("query", op, frozenset(columns))] = frame
    return frame.copy()


class _ColumnsRead:
    """A measure frame stand-in that notes the columns a formula reads (``m["x"]``,
    ``m[["x", "y"]]``, ``m.x``); anything else goes to the frame."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame
        self.read: set[str] = set()

    def __getitem__(self, key: Any) -> Any:
        for k in key if isinstance(key, list) else [key]:
            if isinstance(k, str):
                self.read.add(k)
        return self._frame[key]

    def __getattr__(self, name: str) -> Any:
        if name in self._frame.columns:
            self.read.add(name)
        return getattr(self._frame, name)

    def __len__(self) -> int:
        return len(self._frame)

    def __contains__(self, key: object) -> bool:
        return key in self._frame


_FORMULA_COLUMNS: dict[tuple[str, tuple[str, ...]], frozenset[str] | None] = {}


def formula_columns(kpi: Kpi, columns: Sequence[str]) -> frozenset[str] | None:
    """The measure columns ``kpi``'s formula reads, of a group whose frame has ``columns``;
    None when that cannot be told (the formula failed on a frame of ones: every column is
    then kept). Found by running the formula once on a 14-period frame of ones."""
    key = (kpi.id, tuple(columns))
    if key not in _FORMULA_COLUMNS:
        index = pd.date_range("2020-01-01", periods=14, freq="MS", name="period")
        ones = pd.DataFrame(1.0, index=index, columns=[c for c in columns if c != "period"])
        probe = _ColumnsRead(ones)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kpi.formula(probe)  # type: ignore[arg-type]
            found: frozenset[str] | None = frozenset(probe.read)
        except Exception:
            found = None
        _FORMULA_COLUMNS[key] = found
    return _FORMULA_COLUMNS[key]


def _columns_for(built: Any, kpis: Sequence[Kpi] | None) -> list[str] | None:
    """The columns of the measure query ``built`` that ``kpis`` read (with
    the period, row count, window end and group), or None to keep them all (no KPIs named, a formula that cannot be
    probed, or every column read)."""
    if not kpis or not isinstance(built, ir.Table):
        return None
    columns = list(built.columns)
    # kept whatever the KPIs read: the period, its row count (no rows, no value), the moment
    # a matured cohort's window closes and a breakdown's group
    read: set[str] = {"period", "n_rows", WINDOW_CLOSES, "dim"}
    for k in kpis:
        cols = formula_columns(k, columns)
        if cols is None:
            return None
        read |= cols
    keep = [c for c in columns if c in read]
    return keep if len(keep) < len(columns) else None


def _fetch_measure(ctx: QueryContext, measure_id: str, kpis: Sequence[Kpi] | None = None):
    """Run one measure group's query; a frame per period, or a dict of them per ``dim``.

    With ``kpis``, only the measure columns their formulas read are asked for
    (:func:`formula_columns`): a scorecard of a few KPIs does not pay for the aggregates of
    the others that share their query."""
    m = MEASURES[measure_id]
    built = m.build(ctx)
    # an Ibis query, or a model-based measure's frame already computed (queries plus a fit)
    if isinstance(built, pd.DataFrame):
        df = built
    else:
        df = _execute_once(ctx.db, built, _columns_for(built, kpis))
    if ctx.by is None:
        return _complete(df, ctx)
    if "dim" not in df.columns:  # a builder that ignores breakdowns
        raise BreakdownUnsupported(ctx.by)
    out = {}
    for value, part in df.groupby("dim", dropna=False, sort=True):
        out[str(value)] = _complete(part.drop(columns="dim"), ctx)
    return out


def measure_scope(db: Database, measure_id: str) -> Scope | None:
    """What a measure group's values cover in this source: None in a brand report, else
    ``line`` when every table it reads carries a product line in the source
    (:meth:`Database.carries_line`; tables read through a join to a line table, see
    :attr:`kpitools.kpis.registry.Measure.scoped_through`, do not count), ``brand`` otherwise.

    A brand-wide measure of a product-line report is computed on the brand's whole tables, so
    that its value is the brand's (the same as in the brand's report) and marked as such, never
    a mix of filtered and unfiltered tables. In a line-scoped table a row with a NULL line
    belongs to no line and is left out (campaigns excepted: a campaign without a line is
    brand-wide and stays), see :meth:`Database.table`.
    """
    if not tuple(getattr(db, "product_lines", ()) or ()):
        return None
    tables = MEASURES[measure_id].line_tables()
    return Scope.LINE if all(db.carries_line(t) for t in tables) else Scope.BRAND


def _measure_context(ctx: QueryContext, scope: Scope | None) -> QueryContext:
    return replace(ctx, line_filter=scope != Scope.BRAND)


#: Measure column a builder may add for a matured KPI: per period, the latest moment (epoch
#: seconds) at which an outcome window of the period's cohort closes, when it can close later
#: than period end + the declared window (a campaign's window runs from its end, and campaigns
#: last weeks). The cohort is mature only once both have passed.
WINDOW_CLOSES = "window_closes_at"

#: Extra periods fetched before a matured measure's latest mature cohort, so that a cohort
#: pushed back (by :data:`WINDOW_CLOSES`, or past cohorts without rows, at most a trend's
#: length) still has its previous and year-ago cohorts and its whole trend.
_MATURITY_SLACK = TREND_LENGTH


def maturity_days(kpi: Kpi, params: BrandParams | None) -> int | None:
    """The window in days of a matured KPI (None for a KPI final at the end of its period).

    ``kpi.matures`` names the setting: a plain name is a field of ``params.settings``
    (``"conversion_window_days"``); a dotted name is a path from the params
    (``"roi.attribution_days"`` is ``params.roi.attribution_days``).

    Raises
    ------
    KpitoolsError
        When the params have no such setting (a declaration naming a setting that does not
        exist is a bug, not a brand's choice).
    """
    name = kpi.matures
    if name is None:
        return None
    holder: Any = params
    path = name.split(".") if "." in name else ["settings", name]
    for part in path:
        holder = getattr(holder, part, None)
    if holder is None:
        raise KpitoolsError(f"KPI {kpi.id!r} matures with {name!r}, which the params lack")
    return int(holder)


def cohort_is_mature(cohort: Period, period: Period, days: int) -> bool:
    """Whether ``cohort``'s window of ``days`` days has closed by the end of ``period``:
    ``cohort.end + days <= period.end``."""
    return cohort.end_ts() + timedelta(days=days) <= period.end_ts()


def latest_mature_cohort(period: Period, days: int) -> Period:
    """The latest period whose window of ``days`` days has closed by the end of ``period``."""
    c = period
    while not cohort_is_mature(c, period, days):
        c = c.previous
    return c


def _measure_periods(period: Period, ks: Sequence[Kpi], params: BrandParams | None) -> list[Period]:
    """The periods fetched for one measure group: :func:`window_for` the report's period, or,
    when some of its KPIs mature, from the window of the earliest mature cohort (less
    :data:`_MATURITY_SLACK`) to the report's period."""
    days = [d for d in (maturity_days(k, params) for k in ks) if d is not None]
    if not days:
        return window_for(period)
    first = latest_mature_cohort(period, max(days)).shift(-_MATURITY_SLACK)
    out = window_for(first)
    while out[-1] < period:
        out.append(out[-1].shift(1))
    return out


def _result(
    k: Kpi,
    m: pd.DataFrame,
    period: Period,
    trend_periods: list[Period],
    params: BrandParams | None = None,
) -> KpiResult:
    """A KPI's result from its measure frame ``m``; matured KPIs show their latest mature
    cohort (see :class:`KpiResult`)."""
    series = k.formula(m).astype("float64")
    series[m["n_rows"] <= 0] = float("nan")

    def at(p: Period) -> float | None:
        ts = pd.Timestamp(p.start)
        return finite_or_none(series.get(ts)) if ts in series.index else None

    days = maturity_days(k, params)
    if days is None:
        value = at(period)
        return KpiResult(
            k,
            OK if value is not None else NO_DATA,
            value=value,
            previous=at(period.previous),
            year_ago=at(period.year_ago),
            trend=[(p, at(p)) for p in trend_periods],
            reason=None if value is not None else Reason.NO_DATA,
        )

    closes = m[WINDOW_CLOSES] if WINDOW_CLOSES in m.columns else None
    report_end = pd.Timestamp(period.end_ts()).timestamp()

    def mature(p: Period) -> bool:
        if not cohort_is_mature(p, period, days):
            return False
        if closes is None:
            return True
        last = closes.get(pd.Timestamp(p.start))
        return last is None or pd.isna(last) or float(last) <= report_end

    first = pd.Timestamp(m.index.min()) if len(m.index) else None

    def fetched(p: Period) -> bool:
        return first is not None and pd.Timestamp(p.start) > first

    cohort = latest_mature_cohort(period, days)
    while not mature(cohort) and fetched(cohort):
        cohort = cohort.previous
    # a mature cohort without rows (no campaign started that month): the latest mature one
    # with rows within the trend, so that sparse cohorts still show their latest final value
    latest = cohort
    for _ in range(len(trend_periods) - 1):
        if at(cohort) is not None or not fetched(cohort):
            break
        cohort = cohort.previous
    if at(cohort) is None:
        cohort = latest

    def mature_at(p: Period) -> float | None:
        return at(p) if mature(p) else None

    value = mature_at(cohort)
    trend_length = len(trend_periods) or TREND_LENGTH
    return KpiResult(
        k,
        OK if value is not None else NO_DATA,
        value=value,
        previous=mature_at(cohort.previous),
        year_ago=mature_at(cohort.year_ago),
        trend=[(p, mature_at(p)) for p in cohort.trailing(trend_length)],
        reason=None if value is not None else Reason.NO_DATA,
        cohort=cohort,
        provisional=at(period) if cohort != period else None,
        window_days=days,
    )


def _selected(params: BrandParams, kpis: Sequence[str] | None) -> list[Kpi]:
    if kpis or params.kpis:
        ids = list(kpis or params.kpis or ())
        if not kpis:
            # the KPIs that objectives track and the report's headline are always computed
            extra = list(getattr(getattr(params, "report", None), "headline", []) or [])
            if getattr(params, "objectives", None):
                extra += objective_kpi_ids(params.objectives)
            ids += [i for i in dict.fromkeys(extra) if i not in ids]
        return [get_kpi(i) for i in ids]
    reg = list(get_registry().values())
    return sorted(reg, key=lambda k: DEPARTMENTS.index(k.department))


def resolve_period(db: Database, params: BrandParams, period: Period | str | None = None) -> Period:
    """The report's period: ``period`` (a Period or text), else ``params.period.current``,
    else the latest complete period in the data.

    The one resolver of a report's period: every analysis (scorecard, breakdowns, funnel,
    cohorts, curves, ROI, CLV) and the runner call it.

    Parameters
    ----------
    db : Database
        Read only when neither ``period`` nor ``params.period.current`` is given.
    params : BrandParams
        The grain (``period.grain``) and the default (``period.current``).
    period : Period or str, optional
        ``"YYYY-MM"``, ``"YYYY-Qn"`` or ``"YYYY"`` in the params' grain.

    Raises
    ------
    PeriodError
        When the period's grain is not the params' grain, or the data have no dated rows. (A
        run also stops on a period outside the data:
        :func:`kpitools.data.checks.check_period_in_data`; an analysis asked for such a
        period here says "no data".)
    """
    grain = params.period.grain
    if not isinstance(period, Period):
        period = params.requested_period(period)
    if period is None:
        period = latest_period(db, grain)
    if period.grain != grain:
        raise PeriodError(f"period {period} is a {period.grain}, but the report is by {grain}")
    return period


def compute_kpis(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    kpis: Sequence[str] | None = None,
    *,
    cache: KpiCache | str | PathLike | None = None,
) -> Scorecard:
    """Compute a brand's scorecard inside the database.

    Parameters
    ----------
    db : kpitools.data.sources.Database
        The brand's data (see :func:`kpitools.data.sources.connect`).
    params : kpitools.params.BrandParams
        Grain, settings, KPI selection, locale.
    period : Period or str, optional
        The report's period; default ``params.period.current``, else the latest complete
        period in the data.
    kpis : list of str, optional
        KPI ids; default ``params.kpis``, else every registered KPI.
    cache : KpiCache or path, optional
        Closed periods' measure rows kept between runs (:mod:`kpitools.kpis.cache`): the
        rows found with an unchanged key (data fingerprint, params, kpitools version) are
        read back and only the other periods are queried; the scorecard is the same as
        without. None (default), or :data:`kpitools.kpis.cache.CACHE_ENV` set to ``off``:
        no cache.

    Returns
    -------
    Scorecard
        Every KPI with status ``ok``, ``no_data`` or ``not_available`` (reason
        ``needs_table``, with the tables missing).

    Raises
    ------
    ContractError
        When a table the KPIs need breaks its contract (missing column, wrong type).
    """
    t0 = time.perf_counter()
    period = resolve_period(db, params, period)
    selected = _selected(params, kpis)
    if cache is not None and not isinstance(cache, KpiCache):
        cache = KpiCache(cache)
    if cache is not None and not cache_enabled():
        cache = None
    if cache is not None:
        cache.begin(db, params, period, [k.measure for k in selected])
    with SharedTables(_rollup_readers(db, selected)) as shared:
        scorecard = _compute_kpis(db, params, period, selected, shared, t0, cache)
    if cache is not None:
        cache.save()
    return scorecard


def _rollup_readers(db: Database, selected: list[Kpi]) -> dict[tuple, int]:
    """How many of the selected KPIs' measure groups read each variant of the roll-up
    (``("customer_periods", first_period, by_line, line_filter)``, see
    :data:`ROLLUP_READERS`), for :class:`SharedTables`."""
    readers: dict[tuple, int] = {}
    for mid in dict.fromkeys(k.measure for k in selected):
        if mid not in ROLLUP_READERS or not all(db.has(t) for t in MEASURES[mid].tables):
            continue
        line_filter = measure_scope(db, mid) != Scope.BRAND
        for first_period, by_line in ROLLUP_READERS[mid]:
            key = ("customer_periods", first_period, by_line, line_filter)
            readers[key] = readers.get(key, 0) + 1
    return readers


def _fetch_cached(
    mctx: QueryContext,
    mid: str,
    scope: Scope | None,
    cache: KpiCache | None,
    kpis: Sequence[Kpi] | None = None,
):
    """:func:`_fetch_measure` over ``mctx.periods``, reading the leading closed periods from
    ``cache`` and querying only the rest (from the first period not cached to the report's:
    the window's end, the "as of" moment of every measure, stays the report period's end).
    Without a cache only the columns of ``kpis`` are asked for; the cache keeps whole groups."""
    if cache is None:
        return _fetch_measure(mctx, mid, kpis)
    tables = MEASURES[mid].tables
    hits = cache.read(mid, tables, scope, mctx.periods, mctx.end)
    rest = mctx.periods[len(hits) :]
    frame = _fetch_measure(replace(mctx, periods=rest), mid) if rest else None
    if hits:
        old = pd.DataFrame.from_dict(
            {pd.Timestamp(p.start): row for p, row in hits.items()}, orient="index"
        )
        if frame is not None and set(old.columns) != set(frame.columns):
            # rows of another layout (cannot happen with one code digest): the whole window
            cache.stats.read.pop(mid, None)
            rest = mctx.periods
            frame = _fetch_measure(mctx, mid)
        else:
            if frame is not None:
                old = old[list(frame.columns)]
            frame = pd.concat([old.astype("float64"), frame])
            frame.index = pd.DatetimeIndex(frame.index, name="period").astype("datetime64[ns]")
    cache.stats.queried[mid] = [p.label for p in rest]
    cache.write(mid, tables, scope, frame, rest, mctx.end)
    return frame


def _compute_kpis(
    db: Database,
    params: BrandParams,
    period: Period,
    selected: list[Kpi],
    shared: SharedTables,
    t0: float,
    cache: KpiCache | None = None,
) -> Scorecard:
    ctx = QueryContext(
        db=db,
        grain=period.grain,
        periods=window_for(period),
        settings=params.settings,
        params=params,
        shared=shared,
    )
    frames: dict[str, pd.DataFrame] = {}
    unavailable: dict[str, tuple[str, ...]] = {}  # measure -> tables missing
    scopes: dict[str, Scope | None] = {}
    empty_columns: dict[str, tuple[str, ...]] = {}  # measure -> optional columns left empty
    queries = 0
    # optional columns the brand leaves empty: those KPIs are not available, never zero
    kpi_empty: dict[str, tuple[str, ...]] = {}
    for mid in dict.fromkeys(k.measure for k in selected):
        missing = tuple(t for t in MEASURES[mid].tables if not db.has(t))
        if missing:
            unavailable[mid] = missing
            continue
        ks = [k for k in selected if k.measure == mid]
        for k in ks:
            if cols := missing_columns_of(db, k.id):
                kpi_empty[k.id] = cols
        scopes[mid] = measure_scope(db, mid)
        if all(k.id in kpi_empty for k in ks):  # nothing left to compute in this measure
            continue
        mctx = replace(
            _measure_context(ctx, scopes[mid]), periods=_measure_periods(period, ks, params)
        )
        try:
            kpis_left = [k for k in ks if k.id not in kpi_empty]
            frames[mid] = _fetch_cached(mctx, mid, scopes[mid], cache, kpis_left)
        except MissingTableError as exc:  # a table the builder reads optionally
            unavailable[mid] = (exc.table,)
            continue
        except MissingColumnError as exc:  # an optional column the measure cannot do without
            empty_columns[mid] = (exc.qualified,)
            continue
        queries += 1

    results: dict[str, KpiResult] = {}
    trend_periods = period.trailing(TREND_LENGTH)
    line_report = bool(tuple(getattr(db, "product_lines", ()) or ()))
    for k in selected:
        if k.measure in unavailable:
            results[k.id] = KpiResult(
                k,
                NOT_AVAILABLE,
                reason=Reason.NEEDS_TABLE,
                missing_tables=unavailable[k.measure],
                scope=k.scope if line_report else None,
            )
        elif k.id in kpi_empty or k.measure in empty_columns:
            results[k.id] = KpiResult(
                k,
                NOT_AVAILABLE,
                reason=Reason.NEEDS_COLUMN,
                missing_columns=kpi_empty.get(k.id) or empty_columns[k.measure],
                scope=scopes.get(k.measure),
            )
        else:
            results[k.id] = _result(k, frames[k.measure], period, trend_periods, params)
            results[k.id].scope = scopes[k.measure]
    return Scorecard(
        brand=params.brand,
        period=period,
        results=results,
        queries=queries,
        seconds=time.perf_counter() - t0,
        locale=params.locale,
        currency=params.currency,
        name=params.display_name,
    )


@dataclass(frozen=True)
class Unsupported:
    """Why a KPI has no breakdown: a table is absent (``needs_table``, with the tables), an
    optional column it needs is empty (``needs_column``, with ``table.column`` in
    ``missing_tables``) or the KPI's rows cannot be grouped by the dimension
    (``no_breakdown``)."""

    reason: Reason
    missing_tables: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"reason": str(self.reason), "missing_tables": list(self.missing_tables)}


@dataclass
class Breakdown:
    """KPIs of one period broken down by a dimension (segment, product line, channel).

    ``frame`` is long: one row per (group, KPI) with value, previous, year_ago and status;
    KPIs that cannot be broken down this way are listed in ``unsupported`` (KPI id ->
    :class:`Unsupported`).
    """

    by: str
    period: Period
    frame: pd.DataFrame
    unsupported: dict[str, Unsupported]
    locale: str = "en"
    currency: str = "EUR"
    queries: int = 0

    def pivot(self, column: str = "value") -> pd.DataFrame:
        """Groups as rows, KPIs as columns."""
        if self.frame.empty:
            return pd.DataFrame()
        return self.frame.pivot(index="group", columns="kpi", values=column)

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "period": self.period.label,
            "rows": self.frame.to_dict(orient="records"),
            "unsupported": {k: u.to_dict() for k, u in self.unsupported.items()},
            "queries": self.queries,
        }


def compute_breakdown(
    db: Database,
    params: BrandParams,
    by: str,
    period: Period | str | None = None,
    kpis: Sequence[str] | None = None,
) -> Breakdown:
    """Break KPIs down by ``segment``, ``product_line`` or ``acquisition_channel``.

    Segments (per customer and period, from orders, :mod:`kpitools.kpis.segments`): ``new``
    (first order ever in the period), ``reactivated`` (back after more than
    ``settings.lapse_days`` without an order), ``steady`` (bought in the previous period too),
    ``returning`` (other buyers), and ``inactive`` for rows of other tables whose customer did
    not buy in the period. The customer base KPIs (active, lapsed customers, churn, retention)
    count a customer in the segment of the last period they bought in *before* the period's
    start (so a churned customer is counted in the segment of their last purchase); the repeat
    purchase rate in the segment of the previous period.

    Parameters
    ----------
    db, params, period, kpis :
        As for :func:`compute_kpis`.
    by : {"segment", "product_line", "acquisition_channel"}

    Returns
    -------
    Breakdown
    """
    if by not in DIMENSIONS:
        raise KpitoolsError(f"breakdown by {by!r}: choose one of {', '.join(DIMENSIONS)}")
    period = resolve_period(db, params, period)
    selected = _selected(params, kpis)
    ctx = QueryContext(
        db=db,
        grain=period.grain,
        periods=window_for(period),
        settings=params.settings,
        by=by,
        params=params,
    )
    rows: list[dict[str, Any]] = []
    unsupported: dict[str, Unsupported] = {}
    queries = 0
    trend_periods = period.trailing(TREND_LENGTH)
    for mid in dict.fromkeys(k.measure for k in selected):
        ks = [k for k in selected if k.measure == mid]
        missing = [t for t in MEASURES[mid].tables if not db.has(t)]
        if not missing:  # KPIs whose optional column the brand leaves empty
            for k in ks:
                if cols := missing_columns_of(db, k.id):
                    unsupported[k.id] = Unsupported(Reason.NEEDS_COLUMN, cols)
            ks = [k for k in ks if k.id not in unsupported]
            if not ks:
                continue
        try:
            if missing:
                raise MissingTableError(missing[0])
            mctx = replace(
                _measure_context(ctx, measure_scope(db, mid)),
                periods=_measure_periods(period, ks, params),
            )
            groups = _fetch_measure(mctx, mid)
            queries += 1
        except MissingTableError as exc:
            why = Unsupported(Reason.NEEDS_TABLE, (exc.table,))
            unsupported.update({k.id: why for k in ks})
            continue
        except MissingColumnError as exc:
            why = Unsupported(Reason.NEEDS_COLUMN, (exc.qualified,))
            unsupported.update({k.id: why for k in ks})
            continue
        except BreakdownUnsupported:
            unsupported.update({k.id: Unsupported(Reason.NO_BREAKDOWN) for k in ks})
            continue
        for group, m in groups.items():
            for k in ks:
                r = _result(k, m, period, trend_periods, params)
                rows.append(
                    {
                        "group": group,
                        "kpi": k.id,
                        "value": r.value,
                        "previous": r.previous,
                        "year_ago": r.year_ago,
                        "status": r.status,
                        "cohort": r.cohort.label if r.cohort is not None else None,
                    }
                )
    columns = ["group", "kpi", "value", "previous", "year_ago", "status", "cohort"]
    frame = pd.DataFrame(rows, columns=columns)
    return Breakdown(
        by=by,
        period=period,
        frame=frame,
        unsupported=unsupported,
        locale=params.locale,
        currency=params.currency,
        queries=queries,
    )
