"""The KPI cache (:mod:`kpitools.kpis.cache`): closed periods read back, the rest queried, the
same scorecard as without; invalidated by a late row, by params, by another version; a corrupt
file is ignored.

Fixture (brand ``acme``, monthly, report period June 2025; window May 2024 to June 2025):

======  ==========  ========  =======
order   customer    date      revenue
======  ==========  ========  =======
o1      c1          01-10     100
o2      c2          02-10     200
o3      c1          03-10     100
o4      c3          04-10     400
o5      c2          05-10     50
o6      c1          06-10     10
======  ==========  ========  =======

Web sessions: one a month from January to June, 3 page views each (``web_page_views`` 3).

Revenue, January to June: 100, 200, 100, 400, 50, 10. A late order o7 (c4, 03-20, 50) makes
March 150, nothing else (c4 is new in March). The customer base (``customer_activity``) of a
period counts who buys again in the next one, so its row is final at the next period's end:
the late March order invalidates February (and after); web sessions' rows are final at their
period's end: a late March session invalidates March (and after), never February.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace

import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.cache import CACHEABLE, NOT_CACHED, KpiCache, kpi_cache_for
from kpitools.kpis.compute import (
    QueryContext,
    _fetch_measure,
    _measure_context,
    _measure_periods,
    compute_kpis,
    measure_scope,
    window_for,
)
from kpitools.kpis.registry import MEASURES, get_kpi, get_registry
from kpitools.params import load_params
from kpitools.periods import parse_period

#: o7: customer c4's first order, in March, recorded after the first run
LATE_ORDER = (7, 4, "2025-03-20", 50.0)
KPIS = ["revenue", "new_customers", "web_page_views"]
WINDOW = [p.label for p in window_for(parse_period("2025-06", "month"))]


def _orders(extra=()):
    rows = [
        (1, 1, "2025-01-10", 100.0),
        (2, 2, "2025-02-10", 200.0),
        (3, 1, "2025-03-10", 100.0),
        (4, 3, "2025-04-10", 400.0),
        (5, 2, "2025-05-10", 50.0),
        (6, 1, "2025-06-10", 10.0),
        *extra,
    ]
    return [
        {
            "order_id": i,
            "customer_id": c,
            "ordered_at": f"{d} 12:00",
            "revenue": r,
            "cost": r / 2,
            "product_line": "a",
        }
        for i, c, d, r in rows
    ]


def _sessions(extra=()):
    months = [f"2025-{m:02d}-05" for m in range(1, 7)] + list(extra)
    return [
        {"session_id": i, "started_at": f"{d} 10:00", "page_views": 3, "customer_id": 1}
        for i, d in enumerate(months)
    ]


def _make(tmp_path, orders=None, sessions=None, **settings):
    db_path = make_db(
        tmp_path / "acme.duckdb",
        {"orders": orders or _orders(), "web_sessions": sessions or _sessions()},
    )
    extra = {"settings": settings} if settings else {}
    return load_params(
        write_params(tmp_path / "acme.yaml", db_path, period={"current": "2025-06"}, **extra)
    )


def _run(params, cache):
    with connect(params) as db:
        return compute_kpis(db, params, kpis=KPIS, cache=cache)


def _same(a, b, tol=1e-12):
    if a is None or b is None:
        return a is b
    return a == b or abs(a - b) <= tol * max(abs(a), abs(b))


def _assert_same(sc1, sc2):
    assert list(sc1.results) == list(sc2.results)
    for k, r1 in sc1.results.items():
        r2 = sc2.results[k]
        assert r1.status == r2.status, k
        assert (r1.cohort, r1.window_days, r1.scope) == (r2.cohort, r2.window_days, r2.scope), k
        for f in ("value", "previous", "year_ago", "provisional"):
            assert _same(getattr(r1, f), getattr(r2, f)), (k, f)
        assert [p for p, _ in r1.trend] == [p for p, _ in r2.trend], k
        assert all(_same(x, y) for (_, x), (_, y) in zip(r1.trend, r2.trend, strict=True)), k


def test_every_measure_is_cached_or_says_why():
    get_registry()  # loads the model-based measures
    assert set(CACHEABLE) | set(NOT_CACHED) == set(MEASURES)
    assert not set(CACHEABLE) & set(NOT_CACHED)


def test_second_run_queries_only_the_report_period(tmp_path):
    params = _make(tmp_path)
    path = tmp_path / "cache" / "kpis-cache.json"
    cold = KpiCache(path)
    sc1 = _run(params, cold)
    assert cold.stats.read == {}
    assert cold.stats.queried["customer_activity"] == WINDOW
    # every closed period is stored: May 2024 to May 2025, for both measures
    assert cold.stats.stored == 2 * 13
    warm = KpiCache(path)
    sc2 = _run(params, warm)
    assert warm.stats.queried == {"customer_activity": ["2025-06"], "web_visits": ["2025-06"]}
    assert warm.stats.read["customer_activity"] == WINDOW[:-1]
    _assert_same(sc1, _run(params, None))
    _assert_same(sc1, sc2)
    assert [v for _, v in sc2["revenue"].trend][-6:] == [100, 200, 100, 400, 50, 10]
    assert sc2["web_page_views"].value == 3


def test_late_order_in_march_invalidates_march(tmp_path):
    params = _make(tmp_path)
    path = tmp_path / "kpis-cache.json"
    _run(params, KpiCache(path))
    # a late order in March, and a late session in March: the same source, new data
    new = make_db(
        tmp_path / "new.duckdb",
        {"orders": _orders([LATE_ORDER]), "web_sessions": _sessions(["2025-03-25"])},
    )
    new.replace(tmp_path / "acme.duckdb")
    late = params
    cache = KpiCache(path)
    sc = _run(late, cache)
    # customer base: February reads March (who buys again), so it is queried again from there
    assert cache.stats.read["customer_activity"] == WINDOW[: WINDOW.index("2025-02")]
    assert cache.stats.queried["customer_activity"] == ["2025-02", "2025-03", "2025-04"] + [
        "2025-05",
        "2025-06",
    ]
    # web sessions of February are final at its end: read back; March on queried
    assert cache.stats.read["web_visits"] == WINDOW[: WINDOW.index("2025-03")]
    assert cache.stats.queried["web_visits"][0] == "2025-03"
    trend = dict((p.label, v) for p, v in sc["revenue"].trend)
    assert trend["2025-03"] == 150 and trend["2025-02"] == 200
    assert dict((p.label, v) for p, v in sc["new_customers"].trend)["2025-03"] == 1
    assert dict((p.label, v) for p, v in sc["web_page_views"].trend)["2025-03"] == 6
    _assert_same(sc, _run(late, None))


def test_changed_settings_or_version_rebuild(tmp_path):
    params = _make(tmp_path)
    path = tmp_path / "kpis-cache.json"
    _run(params, KpiCache(path))
    other = params.model_copy(
        update={"settings": params.settings.model_copy(update={"lapse_days": 200})}
    )
    cache = KpiCache(path)
    _assert_same(_run(other, cache), _run(other, None))
    assert cache.stats.read == {}
    # a file written by another kpitools version: ignored, rebuilt with this one's
    doc = json.loads(path.read_text())
    doc["code"] = "0.0.1:0123456789abcdef"
    path.write_text(json.dumps(doc))
    cache = KpiCache(path)
    _run(params, cache)
    assert cache.stats.read == {}
    assert json.loads(path.read_text())["code"] != "0.0.1:0123456789abcdef"
    again = KpiCache(path)
    _run(params, again)
    assert again.stats.periods_read == 2 * 13


@pytest.mark.parametrize("text", ["{not json", '{"format": 1}', "[]", ""])
def test_corrupt_file_is_ignored_with_a_warning(tmp_path, caplog, text):
    params = _make(tmp_path)
    path = tmp_path / "kpis-cache.json"
    path.write_text(text)
    cache = KpiCache(path)
    with caplog.at_level(logging.WARNING, logger="kpitools.kpis.cache"):
        sc = _run(params, cache)
    assert "ignored and rebuilt" in caplog.text
    assert cache.stats.read == {}
    _assert_same(sc, _run(params, None))
    assert KpiCache(path)._load()  # rebuilt: a valid file with the rows


def test_unwritable_cache_is_a_warning_not_a_failure(tmp_path, caplog):
    params = _make(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="kpitools.kpis.cache"):
        sc = _run(params, KpiCache(blocker / "kpis-cache.json"))
    assert "not written" in caplog.text
    _assert_same(sc, _run(params, None))


def test_turned_off_by_the_environment(tmp_path, monkeypatch):
    params = _make(tmp_path)
    path = tmp_path / "kpis-cache.json"
    monkeypatch.setenv("KPITOOLS_KPI_CACHE", "off")
    _run(params, KpiCache(path))
    assert not path.exists()
    staging = tmp_path / "reports" / "acme" / ".staging-2025-06-x" / "kpis.json"
    assert kpi_cache_for(staging) is None
    monkeypatch.delenv("KPITOOLS_KPI_CACHE")
    assert kpi_cache_for(staging) is None  # the runner's reports use it only when asked
    monkeypatch.setenv("KPITOOLS_KPI_CACHE", "on")  # kpitools run --kpi-cache
    cache = kpi_cache_for(staging)
    assert cache is not None
    assert cache.path == (tmp_path / "reports" / ".cache" / "acme" / "kpis-cache.json").resolve()
    assert kpi_cache_for(None) is None


def _frames_equal(full, part, periods):
    for p in periods:
        a, b = full.loc[str(p.start)], part.loc[str(p.start)]
        for col in full.columns:
            x, y = float(a[col]), float(b[col])
            if math.isnan(x) or math.isnan(y):
                assert math.isnan(x) and math.isnan(y), (p, col)
            else:
                assert _same(x, y), (p, col, x, y)


def test_narrowed_window_gives_the_same_rows_on_the_demo(demo_database):
    """The assumption the cache rests on, per cacheable measure: a period's row computed over a
    suffix of the window (the report's end unchanged) equals the row over the whole window."""
    params = load_params(write_params(demo_database.parent / "cache-demo.yaml", demo_database))
    params = params.model_copy(update={"brand": "aurora"})
    with connect(params) as db:
        period = parse_period("2025-06", "month")
        ctx = QueryContext(
            db=db,
            grain="month",
            periods=window_for(period),
            settings=params.settings,
            params=params,
        )
        for mid in CACHEABLE:
            ks = [k for k in get_registry().values() if k.measure == mid]
            mctx = replace(
                _measure_context(ctx, measure_scope(db, mid)),
                periods=_measure_periods(period, ks, params),
            )
            full = _fetch_measure(mctx, mid)
            for cut in (1, 6, len(mctx.periods) - 1):
                rest = mctx.periods[cut:]
                _frames_equal(full, _fetch_measure(replace(mctx, periods=rest), mid), rest)


def test_same_scorecard_with_the_cache_on_the_demo(demo_database, tmp_path):
    params = load_params(write_params(tmp_path / "aurora.yaml", demo_database))
    params = params.model_copy(update={"brand": "aurora"})
    ids = [k for k in get_registry() if get_kpi(k).measure in CACHEABLE]
    path = tmp_path / "kpis-cache.json"
    with connect(params) as db:
        plain = compute_kpis(db, params, kpis=ids)
        cold = compute_kpis(db, params, kpis=ids, cache=KpiCache(path))
        warm_cache = KpiCache(path)
        warm = compute_kpis(db, params, kpis=ids, cache=warm_cache)
    _assert_same(plain, cold)
    _assert_same(plain, warm)
    assert warm_cache.stats.periods_read > 10 * len(CACHEABLE)
    assert set(warm_cache.stats.queried["customer_activity"]) == {plain.period.label}


def test_final_rows_are_the_same_in_a_later_report_on_the_demo(demo_database):
    """The settle rule, per cacheable measure: a closed period's row that is final at the end of
    June 2025 (:meth:`KpiCache.storable`) is the same in the October report on the same data
    (the "as of" moment moved by four months)."""
    params = load_params(write_params(demo_database.parent / "cache-later.yaml", demo_database))
    params = params.model_copy(update={"brand": "aurora"})
    june, october = parse_period("2025-06", "month"), parse_period("2025-10", "month")

    def rows(db, mid, period):
        ctx = QueryContext(
            db=db,
            grain="month",
            periods=window_for(period),
            settings=params.settings,
            params=params,
        )
        ks = [k for k in get_registry().values() if k.measure == mid]
        mctx = replace(
            _measure_context(ctx, measure_scope(db, mid)),
            periods=_measure_periods(period, ks, params),
        )
        return _fetch_measure(mctx, mid), mctx.periods

    with connect(params) as db:
        cache = KpiCache(demo_database.parent / "unused.json")
        cache.begin(db, params, june)
        for mid in CACHEABLE:
            early, periods = rows(db, mid, june)
            late, _ = rows(db, mid, october)
            final = [p for p in periods if cache.storable(mid, p, june.end_ts())]
            assert final, mid
            _frames_equal(early, late, [p for p in final if str(p.start) in late.index])


def test_leads_rows_wait_for_their_conversion_window(tmp_path):
    """Lead l1, created 2025-04-10, converts on 2025-07-01 (within the 90-day window): the
    June report counts it unconverted, the July report converted. So the June run stores
    the leads rows only up to March (March's window closes on 2025-06-30, April's on
    2025-07-30) and the July run queries April again."""
    leads = [
        {"lead_id": 1, "created_at": "2025-04-10 09:00", "converted_at": "2025-07-01 09:00"},
        {"lead_id": 2, "created_at": "2025-03-10 09:00", "converted_at": "2025-03-20 09:00"},
    ]
    db_path = make_db(
        tmp_path / "acme.duckdb", {"orders": _orders(), "web_sessions": _sessions(), "leads": leads}
    )
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    path = tmp_path / "kpis-cache.json"
    with connect(params) as db:
        june = KpiCache(path)
        compute_kpis(db, params, "2025-06", kpis=["lead_conversion_rate"], cache=june)
        entries = json.loads(path.read_text())["entries"]
        stored = sorted(k.split("|")[-1] for k in entries if k.startswith("leads|"))
        assert stored[-1] == "2025-03"
        july = KpiCache(path)
        sc = compute_kpis(db, params, "2025-07", kpis=["lead_conversion_rate"], cache=july)
        assert july.stats.read["leads"][-1] == "2025-03"
        assert july.stats.queried["leads"] == ["2025-04", "2025-05", "2025-06", "2025-07"]
        _assert_same(sc, compute_kpis(db, params, "2025-07", kpis=["lead_conversion_rate"]))
        frame = _fetch_measure(
            QueryContext(
                db=db,
                grain="month",
                periods=window_for(parse_period("2025-07", "month")),
                settings=params.settings,
                params=params,
            ),
            "leads",
        )
        assert frame.loc["2025-04-01", "converted_leads"] == 1


def test_an_entry_edited_by_hand_is_queried_again(tmp_path):
    params = _make(tmp_path)
    path = tmp_path / "kpis-cache.json"
    sc = _run(params, KpiCache(path))
    doc = json.loads(path.read_text())
    doc["entries"]["web_visits|all|month|2024-05"]["row"]["n_rows"] = "many"
    path.write_text(json.dumps(doc))
    cache = KpiCache(path)
    _assert_same(sc, _run(params, cache))
    assert "web_visits" not in cache.stats.read
    assert cache.stats.queried["web_visits"] == WINDOW
