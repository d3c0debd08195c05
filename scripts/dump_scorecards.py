"""Dump every KPI value of the demo brands' full scorecards, and compare two dumps.

Used to check that a change to the query layer leaves the numbers identical: run ``dump`` with
``PYTHONPATH`` set to the old checkout, then to the new one, then ``compare``::

    cp /work/main/data/demo.duckdb /tmp/q/demo.duckdb
    PYTHONPATH=/work/main python scripts/dump_scorecards.py dump --db /tmp/q/demo.duckdb \
        --out /tmp/q/before.json
    PYTHONPATH=. python scripts/dump_scorecards.py dump --db /tmp/q/demo.duckdb \
        --out /tmp/q/after.json
    python scripts/dump_scorecards.py compare /tmp/q/before.json /tmp/q/after.json

``dump --cache DIR`` computes through the KPI cache (:mod:`kpitools.kpis.cache`) in ``DIR``: dump
twice (cold, then warm) and compare each with a dump without it.

Every KPI of the registry is computed for every ``params/*.yaml`` (value, previous, year-ago,
provisional and the 12-period trend, plus the status and reason); ``compare`` fails (exit 1)
on any difference above ``--rtol`` (relative, default 1e-9) or any status change.

The CLV-fit KPIs (``average_clv``, ``customer_equity``) differ by about 1e-8 relative between
two runs of the same code (the fit's optimiser); give ``--loose average_clv,customer_equity``
(checked to ``--loose-rtol``, default 1e-6) and check that two dumps of the old code show the
same differences.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path


def dump(params_dir: Path, db_path: Path | None, out: Path, cache: Path | None = None) -> None:
    """Write ``{brand: {kpi: {...}}}`` for every params file of ``params_dir`` to ``out``;
    with ``cache``, through the KPI cache ``<cache>/<params stem>/kpis-cache.json``."""
    from kpitools.data.sources import connect
    from kpitools.kpis.compute import compute_kpis
    from kpitools.kpis.registry import get_registry
    from kpitools.params import load_params

    all_ids = list(get_registry())
    doc: dict[str, dict] = {}
    for f in sorted(params_dir.glob("*.yaml")):
        params = load_params(f)
        if db_path is not None and params.source.kind == "duckdb":
            params = params.model_copy(
                update={"source": params.source.model_copy(update={"path": str(db_path)})}
            )
        db = connect(params)
        t0 = time.perf_counter()
        kpi_cache = None if cache is None else cache / f.stem / "kpis-cache.json"
        sc = compute_kpis(db, params, kpis=all_ids, cache=kpi_cache)
        took = time.perf_counter() - t0
        rows = {}
        for kid, r in sc.results.items():
            rows[kid] = {
                "status": str(r.status),
                "reason": None if r.reason is None else str(r.reason),
                "value": r.value,
                "previous": r.previous,
                "year_ago": r.year_ago,
                "provisional": r.provisional,
                "cohort": None if r.cohort is None else str(r.cohort),
                "trend": [[str(p), v] for p, v in r.trend],
            }
        doc[f.stem] = {"period": str(sc.period), "queries": sc.queries, "kpis": rows}
        print(f"{f.stem}: {len(rows)} KPIs, {sc.queries} queries, {took:.2f} s", file=sys.stderr)
    out.write_text(json.dumps(doc, indent=1, sort_keys=True))


def _same(a, b, rtol: float) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300) or a == b


def compare(
    before: Path, after: Path, rtol: float, loose: frozenset[str] = frozenset(), loose_rtol=1e-6
) -> int:
    """Print every difference between two dumps; the number of differences."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    diffs = []
    for brand in sorted(set(a) | set(b)):
        if brand not in a or brand not in b:
            diffs.append(f"{brand}: only in one dump")
            continue
        ka, kb = a[brand]["kpis"], b[brand]["kpis"]
        if a[brand]["period"] != b[brand]["period"]:
            diffs.append(f"{brand}: period {a[brand]['period']} != {b[brand]['period']}")
        for kid in sorted(set(ka) | set(kb)):
            if kid not in ka or kid not in kb:
                diffs.append(f"{brand}.{kid}: only in one dump")
                continue
            x, y = ka[kid], kb[kid]
            tol = loose_rtol if kid in loose else rtol
            for f in ("status", "reason", "cohort"):
                if x[f] != y[f]:
                    diffs.append(f"{brand}.{kid}.{f}: {x[f]!r} != {y[f]!r}")
            for f in ("value", "previous", "year_ago", "provisional"):
                if not _same(x[f], y[f], tol):
                    diffs.append(f"{brand}.{kid}.{f}: {x[f]!r} != {y[f]!r}")
            if [p for p, _ in x["trend"]] != [p for p, _ in y["trend"]]:
                diffs.append(f"{brand}.{kid}.trend: periods differ")
            for (p, u), (_, v) in zip(x["trend"], y["trend"], strict=False):
                if not _same(u, v, tol):
                    diffs.append(f"{brand}.{kid}.trend[{p}]: {u!r} != {v!r}")
    for d in diffs:
        print(d)
    n = sum(len(a[br]["kpis"]) for br in a)
    print(f"{len(diffs)} differences over {len(a)} brands, {n} KPIs (rtol {rtol:g})")
    return len(diffs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--params", type=Path, default=Path(__file__).parents[1] / "params")
    d.add_argument("--db", type=Path, help="DuckDB file to read instead of the params' path")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--cache", type=Path, help="folder of KPI caches (kpitools.kpis.cache)")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--rtol", type=float, default=1e-9)
    c.add_argument("--loose", default="", help="comma-separated KPI ids checked to --loose-rtol")
    c.add_argument("--loose-rtol", type=float, default=1e-6)
    ns = ap.parse_args(argv)
    if ns.cmd == "dump":
        dump(ns.params, ns.db, ns.out, ns.cache)
        return 0
    loose = frozenset(x for x in ns.loose.split(",") if x)
    return 1 if compare(ns.before, ns.after, ns.rtol, loose, ns.loose_rtol) else 0


if __name__ == "__main__":
    sys.exit(main())
