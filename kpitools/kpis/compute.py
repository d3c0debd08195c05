"""Compute a scorecard: every requested KPI for a period, its previous period, the same period a
year before, and a 12-period trend, with one database query per measure group.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime

import ibis
import pandas as pd

from ..errors import KpitoolsError, MissingTableError, PeriodError
from ..periods import MONTHS_PER, TREND_LENGTH, YEAR_LAG, Period, last_complete_period
from .registry import MEASURES, Kpi, get_kpi, get_registry

_TRUNC = {"month": "M", "quarter": "Q", "year": "Y"}

OK, NO_DATA, NOT_AVAILABLE = "ok", "no_data", "not_available"
DIMENSIONS = ("segment", "product_line", "acquisition_channel")
UNKNOWN = "(unknown)"


class BreakdownUnsupported(KpitoolsError):
    """A measure cannot be broken down by the requested dimension."""

    def __init__(self, by: str):
        self.by = by
        super().__init__(f"no breakdown by {by}")


@dataclass
class QueryContext:
    """What a measure builder needs: the brand's tables, the period grain and the window.

    Attributes
    ----------
    db : kpitools.data.Database
    grain : str
    periods : list of Period
        The periods of the window, oldest first; the last one is the report's period.
    settings : kpitools.params.Settings
    """

    db: object
    grain: str
    periods: list[Period]
    settings: object
    by: str | None = None
    params: object = None

    @property
    def roi(self):
        """The brand's ROI settings (attribution window for campaign KPIs)."""
        return getattr(self.params, "roi", None)

    @property
    def start(self) -> datetime:
        """Start of the window (inclusive)."""
        return self.periods[0].start_ts()

    @property
    def end(self) -> datetime:
        """End of the window (exclusive): the end of the report's period."""
        return self.periods[-1].end_ts()

    @property
    def step(self):
        """One period as an Ibis interval."""
        return ibis.interval(months=MONTHS_PER[self.grain])

    def table(self, name: str):
        return self.db.table(name)

    def bucket(self, col):
        """Start of the period that holds timestamp ``col``."""
        return col.truncate(_TRUNC[self.grain]).cast("timestamp")

    def in_window(self, col):
        return (col >= self.start) & (col < self.end)

    # -- breakdowns ------------------------------------------------------------------------
    def grouped(self, t, time_col: str, *, customer_col: str | None = "customer_id"):
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
            t = t.mutate(dim=t.segment.fill_null("inactive")).drop("segment")
        else:
            raise BreakdownUnsupported(self.by)
        return t, {"period": self.bucket(t[time_col]), "dim": t.dim}

    def customer_periods(self, *, first_period: bool = False, by_line: bool = False):
        """Orders rolled up per customer and period, with each customer's segment.

        Columns: ``customer_id``, ``period``, ``revenue``, ``margin``, ``orders``,
        ``first_order``, ``last_order``, ``prev_period``, ``next_period``, ``segment`` (and
        ``first_period`` when asked for):

        - ``new``: the customer's first order ever falls in the period (no earlier active
          period: all history before the window end is scanned);
        - ``reactivated``: bought in the period after a lapse of at least
          ``settings.lapse_days`` days since their previous order;
        - ``steady``: bought in the period and in the previous one;
        - ``returning``: any other active customer (bought before, within the lapse window,
          but not in the previous period).

        With ``by_line``, rows are per customer, period and product line, and the segments are
        the customer's on that line (new to the line, back on it, …).
        """
        o = self.table("orders")
        o = o.filter(o.ordered_at < self.end)
        keys = {"customer_id": o.customer_id, "period": self.bucket(o.ordered_at)}
        if by_line:  # a customer's activity on each product line separately
            keys["product_line"] = o.product_line
        cp = o.group_by(**keys).aggregate(
            revenue=o.revenue.sum(),
            margin=(o.revenue - o.cost).sum(),
            orders=o.count(),
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
            **extra,
        )
        lapse = ibis.interval(days=int(getattr(self.settings, "lapse_days", 365)))
        segment = ibis.cases(
            (cp.prev_period.isnull(), "new"),
            (cp.prev_last + lapse <= cp.first_order, "reactivated"),
            (cp.prev_period == cp.period - self.step, "steady"),
            else_="returning",
        )
        return cp.mutate(segment=segment)

    def customer_segments(self):
        """``customer_periods`` restricted to the window."""
        cp = self.customer_periods()
        return cp.filter(cp.period >= self.start)


@dataclass
class KpiResult:
    """A KPI's values for the report's period and around it.

    ``status`` is ``ok``, ``no_data`` (no rows in the period, or an undefined ratio) or
    ``not_available`` (a required table is absent; ``reason`` says which).
    """

    kpi: Kpi
    status: str
    value: float | None = None
    previous: float | None = None
    year_ago: float | None = None
    trend: list[tuple[Period, float | None]] = field(default_factory=list)
    reason: str | None = None

    @property
    def id(self) -> str:
        return self.kpi.id

    def change(self, other: float | None) -> float | None:
        """Change from ``other``: points for ratios and scores, relative change otherwise."""
        if self.value is None or other is None:
            return None
        if self.kpi.unit in ("ratio", "score"):
            return _clean(self.value - other)
        if other == 0:
            return None
        return _clean((self.value - other) / abs(other))

    @property
    def change_previous(self) -> float | None:
        return self.change(self.previous)

    @property
    def change_year_ago(self) -> float | None:
        return self.change(self.year_ago)

    def to_dict(self) -> dict:
        k = self.kpi
        return {
            "department": k.department,
            "unit": k.unit,
            "direction": k.direction,
            "status": self.status,
            "reason": self.reason,
            "value": self.value,
            "previous": self.previous,
            "year_ago": self.year_ago,
            "change_previous": self.change_previous,
            "change_year_ago": self.change_year_ago,
            "change_kind": "points" if k.unit in ("ratio", "score") else "relative",
            "trend": [{"period": p.label, "value": v} for p, v in self.trend],
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

    def __iter__(self):
        return iter(self.results.values())

    def value(self, kpi_id: str) -> float | None:
        return self.results[kpi_id].value

    def to_dict(self) -> dict:
        """The ``kpis.json`` document."""
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

    def _repr_html_(self) -> str:
        from ..report.tables import scorecard_html

        return scorecard_html(self)


def _clean(x) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def latest_period(db, grain: str) -> Period:
    """The latest complete period of the brand's data (by order dates, else any dated table).

    Raises
    ------
    PeriodError
        When the source has no dated rows for the brand.
    """
    from ..schema import TABLES

    candidates = ["orders"] + [n for n in TABLES if n != "orders"]
    for name in candidates:
        spec = TABLES[name]
        if not spec.time_column or not db.has(name):
            continue
        t = db.table(name)
        last = t[spec.time_column].max().execute()
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


def _fetch_measure(ctx: QueryContext, measure_id: str):
    """Run one measure group's query; a frame per period, or a dict of them per ``dim``."""
    m = MEASURES[measure_id]
    df = m.build(ctx).execute()
    if ctx.by is None:
        return _complete(df, ctx)
    if "dim" not in df.columns:  # a builder that ignores breakdowns
        raise BreakdownUnsupported(ctx.by)
    out = {}
    for value, part in df.groupby("dim", dropna=False, sort=True):
        out[str(value)] = _complete(part.drop(columns="dim"), ctx)
    return out


def _result(k: Kpi, m: pd.DataFrame, period: Period, trend_periods) -> KpiResult:
    series = k.formula(m).astype("float64")
    series[m["n_rows"] <= 0] = float("nan")

    def at(p: Period) -> float | None:
        ts = pd.Timestamp(p.start)
        return _clean(series.get(ts)) if ts in series.index else None

    value = at(period)
    return KpiResult(
        k,
        OK if value is not None else NO_DATA,
        value=value,
        previous=at(period.previous),
        year_ago=at(period.year_ago),
        trend=[(p, at(p)) for p in trend_periods],
        reason=None if value is not None else "no data in period",
    )


def _selected(params, kpis) -> list[Kpi]:
    from .registry import DEPARTMENTS

    if kpis or params.kpis:
        ids = list(kpis or params.kpis)
        if not kpis:
            # the KPIs that objectives track and the report's headline are always computed
            extra = list(getattr(getattr(params, "report", None), "headline", []) or [])
            if getattr(params, "objectives", None):
                from ..objectives import objective_kpi_ids

                extra += objective_kpi_ids(params.objectives)
            ids += [i for i in dict.fromkeys(extra) if i not in ids]
        return [get_kpi(i) for i in ids]
    reg = list(get_registry().values())
    return sorted(reg, key=lambda k: DEPARTMENTS.index(k.department))


def resolve_period(db, params, period=None) -> Period:
    """The report's period: ``period`` (a Period or text), else ``params.period.current``,
    else the latest complete period in the data.

    Raises
    ------
    PeriodError
        When the period's grain is not the params' grain, or the data have no dated rows.
    """
    grain = params.period.grain
    if isinstance(period, str):
        period = params.resolve_period(period)
    if period is None:
        period = params.resolve_period() or latest_period(db, grain)
    if period.grain != grain:
        raise PeriodError(f"period {period} is a {period.grain}, but the report is by {grain}")
    return period


def compute_kpis(db, params, period: Period | str | None = None, kpis=None) -> Scorecard:
    """Compute a brand's scorecard inside the database.

    Parameters
    ----------
    db : kpitools.data.Database
        The brand's data (see :func:`kpitools.data.connect`).
    params : kpitools.params.BrandParams
        Grain, settings, KPI selection, locale.
    period : Period or str, optional
        The report's period; default ``params.period.current``, else the latest complete
        period in the data.
    kpis : list of str, optional
        KPI ids; default ``params.kpis``, else every registered KPI.

    Returns
    -------
    Scorecard
        Every KPI with status ``ok``, ``no_data`` or ``not_available``.

    Raises
    ------
    ContractError
        When a table the KPIs need breaks its contract (missing column, wrong type).
    """
    t0 = time.perf_counter()
    period = resolve_period(db, params, period)
    selected = _selected(params, kpis)
    ctx = QueryContext(
        db=db,
        grain=period.grain,
        periods=window_for(period),
        settings=params.settings,
        params=params,
    )
    frames: dict[str, pd.DataFrame] = {}
    unavailable: dict[str, str] = {}
    queries = 0
    for mid in dict.fromkeys(k.measure for k in selected):
        missing = [t for t in MEASURES[mid].tables if not db.has(t)]
        if missing:
            unavailable[mid] = "needs table " + ", ".join(missing)
            continue
        try:
            frames[mid] = _fetch_measure(ctx, mid)
        except MissingTableError as exc:  # a table the builder reads optionally
            unavailable[mid] = f"needs table {exc.table}"
            continue
        queries += 1

    results: dict[str, KpiResult] = {}
    trend_periods = period.trailing(TREND_LENGTH)
    for k in selected:
        if k.measure in unavailable:
            results[k.id] = KpiResult(k, NOT_AVAILABLE, reason=unavailable[k.measure])
        else:
            results[k.id] = _result(k, frames[k.measure], period, trend_periods)
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


@dataclass
class Breakdown:
    """KPIs of one period broken down by a dimension (segment, product line, channel).

    ``frame`` is long: one row per (group, KPI) with value, previous, year_ago and status;
    KPIs that cannot be broken down this way are listed in ``unsupported``.
    """

    by: str
    period: Period
    frame: pd.DataFrame
    unsupported: dict[str, str]
    locale: str = "en"
    currency: str = "EUR"
    queries: int = 0

    def pivot(self, column: str = "value") -> pd.DataFrame:
        """Groups as rows, KPIs as columns."""
        if self.frame.empty:
            return pd.DataFrame()
        return self.frame.pivot(index="group", columns="kpi", values=column)

    def _repr_html_(self) -> str:
        from ..report.tables import breakdown_html

        return breakdown_html(self)


def compute_breakdown(db, params, by: str, period=None, kpis=None) -> Breakdown:
    """Break KPIs down by ``segment``, ``product_line`` or ``acquisition_channel``.

    Segments (per customer and period, from orders): ``new`` (first order ever in the period),
    ``reactivated`` (bought after a lapse of at least ``settings.lapse_days``), ``steady``
    (bought in the previous period too), ``returning`` (other active customers), and
    ``inactive`` for rows of other tables whose customer did not buy in the period. Retention
    and churn are grouped by the segment customers had in the *previous* period.

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
    rows, unsupported, queries = [], {}, 0
    trend_periods = period.trailing(TREND_LENGTH)
    for mid in dict.fromkeys(k.measure for k in selected):
        ks = [k for k in selected if k.measure == mid]
        missing = [t for t in MEASURES[mid].tables if not db.has(t)]
        try:
            if missing:
                raise MissingTableError(missing[0])
            groups = _fetch_measure(ctx, mid)
            queries += 1
        except MissingTableError as exc:
            unsupported.update({k.id: f"needs table {exc.table}" for k in ks})
            continue
        except BreakdownUnsupported:
            unsupported.update({k.id: f"no breakdown by {by}" for k in ks})
            continue
        for group, m in groups.items():
            for k in ks:
                r = _result(k, m, period, trend_periods)
                rows.append(
                    {
                        "group": group,
                        "kpi": k.id,
                        "value": r.value,
                        "previous": r.previous,
                        "year_ago": r.year_ago,
                        "status": r.status,
                    }
                )
    frame = pd.DataFrame(rows, columns=["group", "kpi", "value", "previous", "year_ago", "status"])
    return Breakdown(
        by=by,
        period=period,
        frame=frame,
        unsupported=unsupported,
        locale=params.locale,
        currency=params.currency,
        queries=queries,
    )
