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

from ..errors import ContractError, MissingTableError, PeriodError
from ..periods import MONTHS_PER, TREND_LENGTH, YEAR_LAG, Period, last_complete_period
from .registry import MEASURES, Kpi, get_kpi, get_registry

_TRUNC = {"month": "M", "quarter": "Q", "year": "Y"}

OK, NO_DATA, NOT_AVAILABLE = "ok", "no_data", "not_available"


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
            return self.value - other
        if other == 0:
            return None
        return (self.value - other) / abs(other)

    @property
    def change_previous(self) -> float | None:
        return self.change(self.previous)

    @property
    def change_year_ago(self) -> float | None:
        return self.change(self.year_ago)

    def to_dict(self) -> dict:
        k = self.kpi
        return {
            "name": k.name("en"),
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
        """Long table (kpi, name, period, period_start, value) for trend plots."""
        rows = [
            {
                "kpi": r.id,
                "name": r.kpi.name(self.locale),
                "period": p.label,
                "period_start": pd.Timestamp(p.start),
                "value": v,
            }
            for r in self
            for p, v in r.trend
        ]
        return pd.DataFrame(rows, columns=["kpi", "name", "period", "period_start", "value"])

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
    from ..data.schema import TABLES

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


def _fetch_measure(ctx: QueryContext, measure_id: str) -> pd.DataFrame:
    m = MEASURES[measure_id]
    expr = m.build(ctx)
    df = expr.execute()
    index = pd.DatetimeIndex([pd.Timestamp(p.start) for p in ctx.periods], name="period")
    if len(df):
        df["period"] = pd.to_datetime(df["period"]).dt.tz_localize(None).astype("datetime64[ns]")
        df = df.groupby("period").sum(min_count=1) if df["period"].duplicated().any() else df
        df = df.set_index("period")
    else:
        df = pd.DataFrame(columns=[c for c in df.columns if c != "period"]).rename_axis("period")
    df.index = pd.DatetimeIndex(df.index).astype("datetime64[ns]")
    df = df.reindex(index.astype("datetime64[ns]"))
    df["n_rows"] = df["n_rows"].fillna(0)
    return df.astype("float64")


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
    grain = params.period.grain
    if isinstance(period, str):
        period = params.resolve_period(period)
    if period is None:
        period = params.resolve_period() or latest_period(db, grain)
    if period.grain != grain:
        raise PeriodError(f"period {period} is a {period.grain}, but the report is by {grain}")
    ids = list(kpis or params.kpis or get_registry())
    selected = [get_kpi(i) for i in ids]
    ctx = QueryContext(db=db, grain=grain, periods=window_for(period), settings=params.settings)

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
        except ContractError:
            raise
        queries += 1

    results: dict[str, KpiResult] = {}
    trend_periods = period.trailing(TREND_LENGTH)
    for k in selected:
        if k.measure in unavailable:
            results[k.id] = KpiResult(k, NOT_AVAILABLE, reason=unavailable[k.measure])
            continue
        m = frames[k.measure]
        series = k.formula(m).astype("float64")
        series[m["n_rows"] <= 0] = float("nan")

        def at(p: Period, s=series) -> float | None:
            ts = pd.Timestamp(p.start)
            return _clean(s.get(ts)) if ts in s.index else None

        value = at(period)
        results[k.id] = KpiResult(
            k,
            OK if value is not None else NO_DATA,
            value=value,
            previous=at(period.previous),
            year_ago=at(period.year_ago),
            trend=[(p, at(p)) for p in trend_periods],
            reason=None if value is not None else "no data in period",
        )
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


def safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` with NaN where the denominator is 0 or missing (never inf)."""
    num = num.astype("float64")
    den = den.astype("float64")
    out = num / den.where(den != 0)
    return out
