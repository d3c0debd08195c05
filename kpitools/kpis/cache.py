"""Closed periods' measure rows kept between runs, so that a monthly run queries the new period
and reads the rest of its 12-period trend from a file (issue 14, item 4).

What is cached is a measure group's row of one *closed* period (the per-period sums and counts
that :func:`kpitools.kpis.compute._complete` returns, before any KPI formula), under a key of

- the measure group, its scope (brand or line) and the period (label, hence the grain);
- a digest of the params that can change a value (brand, product lines, grain, source,
  ``settings``, ``roi``: all of them, not only those a measure reads);
- the kpitools version and a digest of the source code of the KPI engine (a changed builder
  in an editable install invalidates too);
- a *data fingerprint* of what the row reads: for each table of the measure, one grouped
  aggregate per period bucket of the table's time column (:func:`table_fingerprint`), and the
  digest of every bucket that starts before the moment the row becomes final
  (:data:`CACHEABLE`), plus the bucket of rows without a date.

A row is stored only when its period ended before the report's period started, and when the
moment it becomes final (its *settle* time: the period's end; the next period's end for the
customer base, whose ``retained_next`` reads the next period; the conversion window after it
for lead conversion) is at most the end of the report's period and at most now. It is read
back only when every part of its key is unchanged; a later run then queries the periods from
the first one not read back to the report's period (a contiguous suffix of the window: the
window's end, the "as of" moment of every measure, stays the report period's end).

Measures whose closed periods can change without any change of their data before the settle
time are never cached: :data:`NOT_CACHED` says why, one by one. A test checks that every
registered measure is in exactly one of the two tables.

The file is JSON, one per report (``<reports root>/.cache/<report id>/kpis-cache.json``,
:func:`kpi_cache_for`), written atomically. A missing, corrupt or other-version file is
ignored (a warning for a corrupt one) and rebuilt; a file that cannot be written is a warning,
never a failed report. The runner's reports use it only when asked: ``KPITOOLS_KPI_CACHE=on``
(set by ``kpitools run --kpi-cache``); ``off`` turns off even an explicit ``cache=``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from ..params import BrandParams, Settings
from ..periods import Period
from ..schema import TABLES
from ..vocab import Scope
from .registry import MEASURES

log = logging.getLogger(__name__)

#: Version of the file's layout; another value: the file is ignored and rebuilt.
CACHE_FORMAT = 1
#: File name of a report's cache, under ``<reports root>/.cache/<report id>/``.
CACHE_FILE = "kpis-cache.json"
#: Environment variable: ``off`` (or ``0``, ``false``, ``no``) turns the cache off.
CACHE_ENV = "KPITOOLS_KPI_CACHE"

_TRUNC = {"month": "M", "quarter": "Q", "year": "Y"}

Settle = Callable[[Period, Settings], datetime]


def settle_at_period_end(p: Period, settings: Settings) -> datetime:
    """The row is final at the end of its period."""
    return p.end_ts()


def settle_after_next_period(p: Period, settings: Settings) -> datetime:
    """The row is final at the end of the next period (it counts who bought again in it)."""
    return p.shift(1).end_ts()


def settle_after_conversion_window(p: Period, settings: Settings) -> datetime:
    """The row is final ``settings.conversion_window_days`` after the end of its period."""
    return p.end_ts() + timedelta(days=int(settings.conversion_window_days))


#: Measures whose closed periods are cached, and when a period's row becomes final. Checked
#: for each: (1) a period's row reads only rows of its tables dated (by the table's time
#: column) before its settle time, and (2) it does not depend on the window's other periods:
#: computed over any contiguous window that holds it and ends with the report's period it is
#: the same (look-backs such as the previous period's buyers, lapse windows, runs of active
#: periods and callbacks are computed over all history before the window's end, not from the
#: window's start).
CACHEABLE: dict[str, Settle] = {
    # customer base: lapse and segments from all history; retained_next reads period + 1
    "customer_activity": settle_after_next_period,
    # runs of active periods: lag over all history, filtered to the window afterwards
    "customer_loyalty": settle_at_period_end,
    # first order ever and on the line: all history before the window's end
    "basket_history": settle_at_period_end,
    # conversion within the window, and before the report's end: final after the window
    "leads": settle_after_conversion_window,
    "lead_customers": settle_after_conversion_window,
    # converted in the period (not before creation), touches at or before the conversion
    "lead_touches": settle_at_period_end,
    # opportunities alive in the period: created before its end (their later status is a
    # change of the data, seen by the fingerprint of their creation bucket)
    "opportunities": settle_at_period_end,
    "sales_activities": settle_at_period_end,
    "engagement": settle_at_period_end,
    "social": settle_at_period_end,
    "surveys": settle_at_period_end,
    "web_visits": settle_at_period_end,
    "referrals_created": settle_at_period_end,
    # campaigns and subscriptions started before the period's end (stocks by range join)
    "campaign_calendar": settle_at_period_end,
    "email_list": settle_at_period_end,
    # the period's buyers and their activities of the period and the one before
    "relationship_freshness": settle_at_period_end,
    # case answered: read from the data as they are (no "as of"), placed by opening
    "cases_opened": settle_at_period_end,
    # callbacks ranked over all history before the window's end
    "calls": settle_at_period_end,
}

#: Measures never cached, with the reason (a closed period's value can change with data dated
#: after it, or with the report's period).
NOT_CACHED: dict[str, str] = {
    "customer_value": "a purchase-model fit over the window (every period's value moves)",
    "campaign_programme": "control-group estimates of campaigns known at the report's end",
    "campaign_outcomes": "outcomes known at the report's end, windows run from campaign ends",
    "acquisition_cost": "campaign members sent at any date (after the period) add cost",
    "renewals": "renewals pending or closed as of the report's end, at any later date",
    "opportunity_calls": "calls logged at any date before the report's end",
    "crm_usage": "an account's start from its first login at any date",
    "customer_records": "a field is captured when any record, of any date, fills it",
    "campaign_leads": "conversions placed by converted_at, which may precede created_at",
    "cases": "cases placed by resolution, which may precede the opening (data errors)",
}


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file of its folder renamed over it (as
    :func:`kpitools.report.files.write_text_atomic`, a layer above; the temporary name is
    unique, so two writers never share it): a reader sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def cache_enabled() -> bool:
    """Whether :data:`CACHE_ENV` leaves the cache on (it is on unless set to off)."""
    return os.environ.get(CACHE_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def cache_requested() -> bool:
    """Whether :data:`CACHE_ENV` asks the runner's reports to use the cache (``on``; set by
    ``kpitools run --kpi-cache``). Off by default: on DuckDB it saves nothing (measured,
    docs/operations.md) and its fingerprint can miss some edits of closed periods."""
    return os.environ.get(CACHE_ENV, "").strip().lower() in ("on", "1", "true", "yes")


def kpi_cache_for(kpis_path: str | os.PathLike | None) -> KpiCache | None:
    """The cache of the report whose ``kpis.json`` goes to ``kpis_path`` (set by the runner:
    ``<reports root>/<report id>/.staging-…/kpis.json``): the file
    ``<reports root>/.cache/<report id>/kpis-cache.json``, which the portal never lists
    (folders starting with a dot are skipped). None (no cache) when ``kpis_path`` is None (a
    notebook run by hand) or the cache was not asked for (:func:`cache_requested`)."""
    if kpis_path is None or not cache_requested():
        return None
    brand_dir = Path(kpis_path).resolve().parent.parent
    return KpiCache(brand_dir.parent / ".cache" / brand_dir.name / CACHE_FILE)


# -- fingerprints ---------------------------------------------------------------------------------


#: Code of a NULL in :func:`_aggregates` (a value's code is at least 0 and below the prime
#: modulus, or a length, or a count of seconds: a NULL set or cleared changes the sum).
_NULL_CODE = -7


def _aggregates(t: ibis.Table, columns: Iterable[str]) -> dict[str, Any]:
    """Cheap, order-independent aggregates of ``columns`` of ``t``: the row count and, per
    column, one sum of exact integers (so that a parallel sum gives the same digest every
    time), NULLs counted as :data:`_NULL_CODE`."""
    aggs: dict[str, Any] = {"rows": t.count()}
    for i, name in enumerate(columns):
        c = t[name]
        dtype = c.type()
        if dtype.is_boolean():
            code = ibis.ifelse(c, 1, 0)
        elif dtype.is_integer():
            code = c.cast("int64") % 1_000_003
        elif dtype.is_floating() or dtype.is_decimal():
            # to the thousandth, as integers: float sums are not associative
            code = (c.cast("float64") * 1000).round().cast("int64") % 1_000_003
        elif dtype.is_timestamp() or dtype.is_date():
            code = c.cast("timestamp").epoch_seconds().cast("int64")
        elif dtype.is_string():
            code = c.length().cast("int64")
        else:
            continue
        aggs[f"c{i}"] = code.fill_null(_NULL_CODE).sum()
    return aggs


def _text(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "null"
    if isinstance(v, pd.Timestamp | datetime):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _bucket_texts(name: str, t: ibis.Table, time_column: str | None, grain: str) -> ibis.Table:
    """Table ``t``'s aggregates per bucket, as one text per bucket: ``_fp_table`` (``name``),
    ``_fp_bucket`` (bucket start), ``_fp_text``."""
    if time_column is not None:
        bucket = t[time_column].cast("timestamp").truncate(_TRUNC[grain]).cast("timestamp")
    else:
        bucket = ibis.null("timestamp")
    columns = list(t.columns)
    t = t.mutate(_fp_bucket=bucket)
    agg = t.group_by("_fp_bucket").aggregate(**_aggregates(t, columns))
    parts = [agg[c].cast("string").fill_null("null") for c in agg.columns if c != "_fp_bucket"]
    text = parts[0]
    for part in parts[1:]:
        text = text + "|" + part
    return agg.select(
        _fp_table=ibis.literal(name), _fp_bucket=agg._fp_bucket, _fp_text=text.name("_fp_text")
    )


def table_fingerprints(tables: Mapping[str, ibis.Table], grain: str) -> dict[str, dict[str, str]]:
    """Per table (canonical name to its rows), one grouped aggregate per period bucket of the
    table's time column, all tables in one query: the digest of each bucket, by bucket start
    (ISO text; ``"null"`` for rows without a date, or the whole table when it has no time
    column). A table without rows has no buckets.

    Per bucket: the row count and, per column, one sum of exact integers (so that a parallel
    sum gives the same digest every time), a NULL counting as -7: for integers the values
    modulo a prime, for floats the values to the thousandth (modulo the prime), for timestamps
    the epoch seconds, for text the lengths, for booleans the trues. It sees a row inserted or
    deleted, a value set to or from NULL, and almost any edit of a number, date or flag. It
    misses an edit that keeps every sum of its bucket: values swapped between rows of the same
    bucket, a text changed for another of the same length (``lost`` for ``open``), a float
    changed by less than 0.0005 (or by a multiple of 1 000.003), a timestamp moved by less
    than a second, or edits that cancel out in the sums.
    """
    parts = [_bucket_texts(name, t, TABLES[name].time_column, grain) for name, t in tables.items()]
    out: dict[str, dict[str, str]] = {name: {} for name in tables}
    if not parts:
        return out
    u = parts[0]
    for part in parts[1:]:
        u = u.union(part, distinct=False)
    for name, bucket, text in u.execute().itertuples(index=False):
        digest = hashlib.sha256(str(text).encode("utf-8")).hexdigest()
        out[name][_text(bucket)] = digest
    return out


def prefix_digest(buckets: Mapping[str, str], before: datetime) -> str:
    """Digest of the buckets that start before ``before``, and of the undated rows."""
    keep = sorted(
        (k, v) for k, v in buckets.items() if k == "null" or pd.Timestamp(k) < pd.Timestamp(before)
    )
    return hashlib.sha256(json.dumps(keep).encode("utf-8")).hexdigest()


# -- keys -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The kpitools version and a digest of the KPI engine's source (the measure builders,
    the engine, the schema and the data layer they read through)."""
    from .. import __version__

    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "kpis").rglob("*.py"))
    files += [root / "schema.py", root / "periods.py", root / "data" / "sources.py"]
    files += [root / "data" / "contracts.py"]
    h = hashlib.sha256(__version__.encode("utf-8"))
    for f in files:
        if f.is_file():
            h.update(f.relative_to(root).as_posix().encode("utf-8"))
            h.update(f.read_bytes())
    return f"{__version__}:{h.hexdigest()[:16]}"


def params_digest(params: BrandParams, source: str, grain: str) -> str:
    """Digest of what in the params can change a measure's value: brand, product lines,
    grain, the source (redacted description), every setting and the ROI settings."""
    doc = {
        "brand": params.brand,
        "product_lines": list(params.product_lines),
        "grain": grain,
        "source": source,
        "settings": params.settings.model_dump(mode="json"),
        "roi": params.roi.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()


# -- the cache ------------------------------------------------------------------------------------


@dataclass
class CacheStats:
    """What one scorecard read from the cache and what it queried.

    Attributes
    ----------
    read : dict of str to list of str
        Per measure group, the period labels read back from the cache.
    queried : dict of str to list of str
        Per measure group, the period labels queried from the database.
    stored : int
        Rows (measure group x period) written to the file.
    """

    read: dict[str, list[str]] = field(default_factory=dict)
    queried: dict[str, list[str]] = field(default_factory=dict)
    stored: int = 0

    @property
    def periods_read(self) -> int:
        return sum(len(v) for v in self.read.values())

    @property
    def periods_queried(self) -> int:
        return sum(len(v) for v in self.queried.values())


class KpiCache:
    """The closed periods' measure rows of one report, in a JSON file.

    Parameters
    ----------
    path : str or os.PathLike
        The file (created with its folder on :meth:`save`).

    Use: :func:`kpitools.kpis.compute.compute_kpis` ``(…, cache=KpiCache(path))``; after it,
    :attr:`stats` says what was read and queried.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.stats = CacheStats()
        self._entries: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self._fingerprints: dict[str, dict[str, str]] | None = None
        self._tables: list[str] = []
        self._db: Any = None
        self._params: BrandParams | None = None
        self._report: Period | None = None
        self._now = datetime.now()

    def __repr__(self) -> str:
        return f"KpiCache({str(self.path)!r})"

    # -- file -----------------------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, "code": code_digest()}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is not None:
            return self._entries
        self._entries = {}
        if not self.path.is_file():
            return self._entries
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
                raise ValueError("not a kpitools KPI cache")
        except (OSError, ValueError) as exc:
            log.warning("KPI cache %s ignored and rebuilt: %s", self.path, exc)
            return self._entries
        if {k: doc.get(k) for k in ("format", "code")} != self._header():
            log.info("KPI cache %s is of another kpitools version: rebuilt", self.path)
            return self._entries
        self._entries = {
            k: v
            for k, v in doc["entries"].items()
            if isinstance(v, dict) and isinstance(v.get("row"), dict)
        }
        return self._entries

    def save(self) -> None:
        """Write the file atomically when rows were added; a failure is a warning."""
        if not self._dirty:
            return
        doc = {**self._header(), "entries": self._load()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.path, json.dumps(doc, sort_keys=True, allow_nan=False))
        except OSError as exc:
            log.warning("KPI cache %s not written: %s", self.path, exc)
        self._dirty = False

    # -- one scorecard --------------------------------------------------------------------
    def begin(
        self, db: Any, params: BrandParams, report: Period, measures: Iterable[str] = ()
    ) -> None:
        """Start a scorecard of ``measures``: fingerprints are taken afresh (of the tables of
        the cached ones, in one query when first needed), the statistics reset."""
        self._db, self._params, self._report = db, params, report
        self._tables = sorted(
            {t for m in measures if m in CACHEABLE for t in MEASURES[m].tables if db.has(t)}
        )
        self._fingerprints = None
        self._now = datetime.now()
        self.stats = CacheStats()

    def _fingerprint(self, table: str) -> dict[str, str] | None:
        assert self._report is not None
        if self._fingerprints is None:
            self._fingerprints = {}
            names = self._tables
            try:
                rows = {n: self._db.brand_rows(n) for n in names}
                self._fingerprints.update(table_fingerprints(rows, self._report.grain))
            except Exception as exc:  # a backend or a type the aggregates do not handle
                log.warning("KPI cache: no data fingerprint (%s): nothing cached", exc)
        return self._fingerprints.get(table)

    def _deps(self, measure: str, tables: Iterable[str], p: Period) -> str | None:
        assert self._params is not None
        settle = CACHEABLE[measure](p, self._params.settings)
        parts = []
        for t in tables:
            fp = self._fingerprint(t)
            if fp is None:
                return None
            parts.append(f"{t}:{prefix_digest(fp, settle)}")
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def _key(self, measure: str, scope: Scope | None, p: Period) -> str:
        return f"{measure}|{scope or 'all'}|{p.grain}|{p.label}"

    def _params_key(self) -> str:
        assert self._params is not None and self._report is not None
        return params_digest(self._params, str(self._db.description), self._report.grain)

    def storable(self, measure: str, p: Period, window_end: datetime) -> bool:
        """Whether ``p``'s row of ``measure`` is final: the period ended before the report's
        period, and its settle time has passed at the window's end and now."""
        assert self._report is not None and self._params is not None
        if measure not in CACHEABLE or p.end_ts() > self._report.start_ts():
            return False
        settle = CACHEABLE[measure](p, self._params.settings)
        return settle <= window_end and settle <= self._now

    def read(
        self,
        measure: str,
        tables: Iterable[str],
        scope: Scope | None,
        periods: list[Period],
        window_end: datetime,
    ) -> dict[Period, dict[str, float]]:
        """The rows of the leading ``periods`` found in the cache with an unchanged key,
        up to the first period that is not."""
        out: dict[Period, dict[str, float]] = {}
        if measure not in CACHEABLE:
            return out
        entries = self._load()
        tables = tuple(tables)
        params_key = self._params_key()
        for p in periods:
            e = entries.get(self._key(measure, scope, p))
            if (
                e is None
                or not self.storable(measure, p, window_end)
                or e.get("params") != params_key
                or e.get("deps") != self._deps(measure, tables, p)
            ):
                break
            try:
                row = {str(k): (math.nan if v is None else float(v)) for k, v in e["row"].items()}
            except (TypeError, ValueError):  # an entry edited by hand: queried again
                break
            out[p] = row
        if out:
            self.stats.read[measure] = [p.label for p in out]
        return out

    def write(
        self,
        measure: str,
        tables: Iterable[str],
        scope: Scope | None,
        frame: pd.DataFrame,
        periods: list[Period],
        window_end: datetime,
    ) -> None:
        """Store the final rows of ``frame`` (indexed by period start) for ``periods``."""
        if measure not in CACHEABLE:
            return
        entries = self._load()
        tables = tuple(tables)
        params_key = self._params_key()
        for p in periods:
            ts = pd.Timestamp(p.start)
            if ts not in frame.index or not self.storable(measure, p, window_end):
                continue
            deps = self._deps(measure, tables, p)
            if deps is None:
                continue
            row = {str(k): (None if pd.isna(v) else float(v)) for k, v in frame.loc[ts].items()}
            if not all(v is None or math.isfinite(v) for v in row.values()):
                continue  # JSON has no infinity: such a row is queried every time
            entries[self._key(measure, scope, p)] = {
                "params": params_key,
                "deps": deps,
                "row": row,
            }
            self._dirty = True
            self.stats.stored += 1


__all__ = [
    "CACHEABLE",
    "CACHE_ENV",
    "CACHE_FILE",
    "CACHE_FORMAT",
    "CacheStats",
    "KpiCache",
    "NOT_CACHED",
    "cache_enabled",
    "cache_requested",
    "code_digest",
    "kpi_cache_for",
    "params_digest",
    "prefix_digest",
    "table_fingerprints",
]
