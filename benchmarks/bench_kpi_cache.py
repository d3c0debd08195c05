"""CPU time of a full scorecard (every KPI) with and without the KPI cache of closed periods.

Four ways, interleaved round-robin ``--repeat`` times in one process after an untimed warm-up
(CPU seconds from ``time.process_time()``: DuckDB's threads included):

``none``
    ``compute_kpis(db, params, period, kpis=all)`` without a cache.
``cold``
    With an empty cache file (fingerprints taken, every closed period stored).
``warm``
    The same period again, through the file ``cold`` wrote.
``next_month``
    A monthly run: the file of the previous period's report, then this period's report.

The scorecards of ``cold``, ``warm`` and ``next_month`` must equal ``none``'s to 1e-9
(relative; the CLV fit's KPIs ``average_clv`` and ``customer_equity`` to 1e-6: the fit jitters
by about 1e-8 between two runs), else the script exits with status 1.

Usage::

    .venv/bin/python benchmarks/bench_kpi_cache.py --db data/demo.duckdb --repeat 3
    .venv/bin/kpitools demo-data --out /tmp/cache/bench.duckdb --customers 100000
    .venv/bin/python benchmarks/bench_kpi_cache.py --db /tmp/cache/bench.duckdb --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

LOOSE = ("average_clv", "customer_equity")


def _values(sc) -> dict[str, list]:
    return {
        k: [r.value, r.previous, r.year_ago, r.provisional, *(v for _, v in r.trend)]
        for k, r in sc.results.items()
    }


def _differences(a: dict, b: dict) -> list[str]:
    out = []
    for k, xs in a.items():
        tol = 1e-6 if k in LOOSE else 1e-9
        for x, y in zip(xs, b[k], strict=True):
            if x is None or y is None:
                if x is not y:
                    out.append(f"{k}: {x!r} != {y!r}")
            elif abs(x - y) > tol * max(abs(x), abs(y), 1e-300):
                out.append(f"{k}: {x!r} != {y!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    ap.add_argument("--db", type=Path, default=root / "data" / "demo.duckdb")
    ap.add_argument("--params", type=Path, default=root / "params" / "aurora.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args(argv)

    from kpitools.data.sources import connect
    from kpitools.kpis.cache import KpiCache
    from kpitools.kpis.compute import compute_kpis, resolve_period
    from kpitools.kpis.registry import get_registry
    from kpitools.params import load_params

    params = load_params(ns.params)
    source = params.source.model_copy(update={"path": str(ns.db.resolve())})
    params = params.model_copy(update={"source": source})
    ids = list(get_registry())
    folder = Path(tempfile.mkdtemp(prefix="bench-kpi-cache-"))
    cpu: dict[str, list[float]] = {k: [] for k in ("none", "cold", "warm", "next_month")}
    periods: dict[str, tuple[int, int]] = {}
    problems: list[str] = []
    try:
        with connect(params) as db:
            period = resolve_period(db, params, None)
            reference = _values(compute_kpis(db, params, period, kpis=ids))  # warm-up
            for _ in range(ns.repeat):
                shutil.rmtree(folder / "a", ignore_errors=True)
                shutil.rmtree(folder / "b", ignore_errors=True)
                runs = [
                    ("none", period, None, None),
                    ("cold", period, folder / "a" / "kpis-cache.json", None),
                    ("warm", period, folder / "a" / "kpis-cache.json", None),
                    ("next_month", period, folder / "b" / "kpis-cache.json", period.previous),
                ]
                for name, p, path, before in runs:
                    if before is not None:  # last month's report wrote the file
                        compute_kpis(db, params, before, kpis=ids, cache=KpiCache(path))
                    cache = KpiCache(path) if path is not None else None
                    t0 = time.process_time()
                    sc = compute_kpis(db, params, p, kpis=ids, cache=cache)
                    cpu[name].append(time.process_time() - t0)
                    if cache is not None:
                        periods[name] = (cache.stats.periods_read, cache.stats.periods_queried)
                    problems += [f"{name}: {d}" for d in _differences(reference, _values(sc))]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "db": str(ns.db),
        "period": period.label,
        "kpis": len(ids),
        "cpu_seconds_median": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
        "cpu_seconds": {k: [round(x, 3) for x in v] for k, v in cpu.items()},
        "periods_read_queried": periods,
    }
    print(json.dumps(result, indent=1))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
