"""Benchmark one brand's scorecard computed three ways on the same DuckDB file.

The scorecard is the 7 KPIs of the catalogue for the report's period, the previous period, the
same period a year before and a 12-period trend. It is computed:

``kpitools``
    ``compute_kpis(connect(params), params, period, kpis=[the 7])``: Ibis expressions run by
    DuckDB, one query per measure group.
``pandas``
    ``SELECT * FROM <table> WHERE brand = ?`` for orders, leads and surveys into pandas, then
    groupby / shift, as an analyst would without a database.
``sql``
    One hand-written DuckDB query per measure group, run with the ``duckdb`` Python API.

Each method lives in its own subprocess (so that its memory is its own) and does one untimed
warm-up run; then the ``--repeat`` timed runs are interleaved round-robin across the three
processes (the median wall and CPU times are reported), and each process does one last run
under ``tracemalloc``. Every run opens the DuckDB file, computes and closes it. The three
scorecards must agree to 1e-9 (relative); otherwise the script prints the differences and exits
with status 1.

Memory, per method (see ``benchmarks/README.md``):

``rss_peak_delta_mb``
    The process's peak resident set size (``VmHWM``, the counter behind ``getrusage``'s
    ``ru_maxrss``) over the warm-up and the timed runs, minus the same after the imports:
    DuckDB's native memory and the first run's lazy imports included.
``warm_rss_peak_delta_mb``
    After the warm-up the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``); the
    peak during the timed runs minus the resident size at the reset. Linux only.
``py_heap_peak_mb``
    ``tracemalloc`` peak of one run: Python and NumPy allocations only (not DuckDB's).

Usage::

    .venv/bin/python benchmarks/bench_scorecard.py --db data/demo.duckdb --repeat 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("kpitools", "pandas", "sql")
TABLES = ("orders", "leads", "surveys")
KPI_IDS = (
    "new_customers",
    "revenue",
    "retention_rate",
    "churn_rate",
    "avg_margin_per_customer",
    "lead_conversion_rate",
    "nps",
)
MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
PANDAS_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}
TREND = 12
REL_TOL = 1e-9
#: targets on the large demo: kpitools at most this many times the hand-written SQL's time ...
MAX_SLOWDOWN_VS_SQL = 2.0
#: ... and at most this fraction of the pandas path's peak RSS increase
MAX_MEMORY_VS_PANDAS = 0.5
#: the targets are judged on databases of at least this many customers (the 1M demo)
TARGET_CUSTOMERS = 1_000_000


# ---------------------------------------------------------------------------------------------
# The periods of a scorecard (derived here, independently of kpitools)
# ---------------------------------------------------------------------------------------------


def _shift(d: date, months: int) -> date:
    i = d.year * 12 + d.month - 1 + months
    return date(i // 12, i % 12 + 1, 1)


def _path(arg: str) -> Path:
    """A path given on the command line: as is when it exists, else relative to the repo."""
    p = Path(arg).expanduser()
    return p.resolve() if p.is_absolute() or p.exists() else ROOT / p


def make_spec(args) -> dict:
    """Everything a worker needs, as JSON: file, brand, filters, settings and the periods."""
    from kpitools.params import load_params

    params_path = _path(args.params or f"params/{args.brand}.yaml")
    params = load_params(params_path)
    if params.brand != args.brand:
        sys.exit(f"{params_path} is for brand {params.brand!r}, not {args.brand!r}")
    grain = params.period.grain
    period = params.requested_period(args.period)
    step = MONTHS_PER[grain]
    lag = 12 // step  # periods back to "a year ago"
    back = max(TREND, lag) + 1  # one more period for the 'previous' side of ratios
    window = [_shift(period.start, -k * step) for k in range(back, -1, -1)]
    label = period.label
    return {
        "db": str(_path(args.db)),
        "params": str(params_path.resolve()),
        "brand": params.brand,
        "product_lines": list(params.product_lines),
        "grain": grain,
        "step_months": step,
        "period": label,
        "conversion_window_days": params.settings.conversion_window_days,
        "window": [d.isoformat() for d in window],
        "end": _shift(period.start, step).isoformat(),
        "trend": [d.isoformat() for d in window[-TREND:]],
        "previous": window[-2].isoformat(),
        "year_ago": window[-1 - lag].isoformat(),
    }


# ---------------------------------------------------------------------------------------------
# KPI formulas over per-period measures (shared by the pandas and SQL paths)
# ---------------------------------------------------------------------------------------------


def _div(num, den):
    if num is None or den is None or den == 0:
        return None
    return num / den


def _kpi(kpi_id: str, cur: dict | None, prev: dict | None):
    """One KPI for one period from its measure row and the previous period's (None: no rows)."""
    if cur is None or not cur["n_rows"]:
        return None
    prev_active = prev.get("active") if prev and prev["n_rows"] else None
    if kpi_id == "new_customers":
        return cur["new"]
    if kpi_id == "revenue":
        return cur["revenue"]
    if kpi_id == "retention_rate":
        return _div(cur["retained"], prev_active)
    if kpi_id == "churn_rate":
        return _div(None if prev_active is None else prev_active - cur["retained"], prev_active)
    if kpi_id == "avg_margin_per_customer":
        return _div(cur["margin"], cur["active"])
    if kpi_id == "lead_conversion_rate":
        return _div(cur["converted"], cur["leads"])
    if kpi_id == "nps":
        return _div(100 * (cur["promoters"] - cur["detractors"]), cur["responses"])
    raise KeyError(kpi_id)


KPI_MEASURE = {
    "new_customers": "customer_activity",
    "revenue": "customer_activity",
    "retention_rate": "customer_activity",
    "churn_rate": "customer_activity",
    "avg_margin_per_customer": "customer_activity",
    "lead_conversion_rate": "leads",
    "nps": "surveys",
}


def scorecard_from_measures(spec: dict, measures: dict[str, dict[str, dict]]) -> dict:
    """``{measure group: {period start ISO: row}}`` -> ``{kpi: {value, previous, ...}}``."""
    window = spec["window"]

    def at(kpi_id: str, day: str):
        rows = measures[KPI_MEASURE[kpi_id]]
        i = window.index(day)
        return _kpi(kpi_id, rows.get(day), rows.get(window[i - 1]) if i else None)

    return {
        k: {
            "value": at(k, window[-1]),
            "previous": at(k, spec["previous"]),
            "year_ago": at(k, spec["year_ago"]),
            "trend": [at(k, d) for d in spec["trend"]],
        }
        for k in KPI_IDS
    }


# ---------------------------------------------------------------------------------------------
# Method 1: kpitools (Ibis -> DuckDB)
# ---------------------------------------------------------------------------------------------


def kpitools_method(spec: dict):
    from kpitools.data.sources import connect
    from kpitools.kpis.compute import compute_kpis
    from kpitools.params import load_params

    params = load_params(spec["params"])
    params = params.model_copy(
        update={"source": params.source.model_copy(update={"path": spec["db"]})}
    )
    period = params.requested_period(spec["period"])

    def run() -> tuple[dict, dict]:
        db = connect(params)
        try:
            sc = compute_kpis(db, params, period, kpis=list(KPI_IDS))
        finally:
            db.close()
        out = {
            r.id: {
                "value": r.value,
                "previous": r.previous,
                "year_ago": r.year_ago,
                "trend": [v for _, v in r.trend],
            }
            for r in sc
        }
        return out, {"queries": sc.queries}

    return run


# ---------------------------------------------------------------------------------------------
# Method 2: plain pandas
# ---------------------------------------------------------------------------------------------


def pandas_method(spec: dict):
    import duckdb
    import pandas as pd

    freq = PANDAS_FREQ[spec["grain"]]
    start = pd.Timestamp(spec["window"][0])
    end = pd.Timestamp(spec["end"])
    lines = spec["product_lines"]

    def rows(frame) -> dict[str, dict]:
        return {p.start_time.date().isoformat(): r for p, r in frame.to_dict("index").items()}

    def run() -> tuple[dict, dict]:
        t0 = time.perf_counter()
        con = duckdb.connect(spec["db"], read_only=True)
        try:
            sql = "SELECT * FROM {} WHERE brand = ?"
            orders, leads, surveys = (
                con.execute(sql.format(t), [spec["brand"]]).df() for t in TABLES
            )
        finally:
            con.close()
        read = time.perf_counter() - t0
        if lines:
            orders = orders[orders["product_line"].isin(lines)]
            leads = leads[leads["product_line"].isin(lines)]

        # customer_activity: orders per customer and period over all history up to the end
        o = orders[orders["ordered_at"] < end]
        o = o.assign(period=o["ordered_at"].dt.to_period(freq), margin=o["revenue"] - o["cost"])
        cp = o.groupby(["customer_id", "period"], as_index=False).agg(
            revenue=("revenue", "sum"), margin=("margin", "sum")
        )
        cp["prev_period"] = cp.groupby("customer_id")["period"].shift()
        cp = cp[cp["period"] >= start.to_period(freq)]
        cp = cp.assign(
            new=cp["prev_period"].isna(),
            retained=cp["prev_period"] == cp["period"] - 1,
        )
        activity = cp.groupby("period").agg(
            n_rows=("customer_id", "size"),
            active=("customer_id", "size"),
            new=("new", "sum"),
            retained=("retained", "sum"),
            revenue=("revenue", "sum"),
            margin=("margin", "sum"),
        )

        # leads created in the window, converted within the conversion window
        le = leads[(leads["created_at"] >= start) & (leads["created_at"] < end)]
        horizon = le["created_at"] + pd.Timedelta(days=spec["conversion_window_days"])
        le = le.assign(
            period=le["created_at"].dt.to_period(freq),
            converted=le["converted_at"].notna()
            & (le["converted_at"] >= le["created_at"])
            & (le["converted_at"] < horizon),
        )
        lead_rows = le.groupby("period").agg(
            n_rows=("lead_id", "size"), leads=("lead_id", "size"), converted=("converted", "sum")
        )

        # survey answers with an NPS score
        s = surveys[
            (surveys["responded_at"] >= start)
            & (surveys["responded_at"] < end)
            & surveys["nps_score"].notna()
        ]
        s = s.assign(
            period=s["responded_at"].dt.to_period(freq),
            promoter=s["nps_score"] >= 9,
            detractor=s["nps_score"] <= 6,
        )
        survey_rows = s.groupby("period").agg(
            n_rows=("response_id", "size"),
            responses=("response_id", "size"),
            promoters=("promoter", "sum"),
            detractors=("detractor", "sum"),
        )

        measures = {
            "customer_activity": rows(activity),
            "leads": rows(lead_rows),
            "surveys": rows(survey_rows),
        }
        return scorecard_from_measures(spec, measures), {"read_seconds": read}

    return run


# ---------------------------------------------------------------------------------------------
# Method 3: hand-written SQL, one query per measure group
# ---------------------------------------------------------------------------------------------

LINES_FILTER = "AND list_contains($lines, product_line)"

SQL = {
    # A customer's first period is the one without a previous active period (all history is
    # scanned up to the end of the report's period), so one LAG gives both new and retained.
    "customer_activity": """
        WITH customer_periods AS (
            SELECT customer_id,
                   date_trunc($grain, ordered_at) AS period,
                   sum(revenue) AS revenue,
                   sum(revenue - cost) AS margin
            FROM orders
            WHERE brand = $brand AND ordered_at < $end {lines}
            GROUP BY customer_id, period
        ), flagged AS (
            SELECT *, lag(period) OVER (PARTITION BY customer_id ORDER BY period) AS prev_period
            FROM customer_periods
        )
        SELECT period,
               count(*) AS n_rows,
               count(*) AS active,
               count(*) FILTER (WHERE prev_period IS NULL) AS new,
               count(*) FILTER (WHERE prev_period = period - to_months($step)) AS retained,
               sum(revenue) AS revenue,
               sum(margin) AS margin
        FROM flagged
        WHERE period >= $start
        GROUP BY period
    """,
    "leads": """
        SELECT date_trunc($grain, created_at) AS period,
               count(*) AS n_rows,
               count(*) AS leads,
               count(*) FILTER (
                   WHERE converted_at >= created_at
                     AND converted_at < created_at + to_days($conversion_days)
               ) AS converted
        FROM leads
        WHERE brand = $brand AND created_at >= $start AND created_at < $end {lines}
        GROUP BY period
    """,
    "surveys": """
        SELECT date_trunc($grain, responded_at) AS period,
               count(*) AS n_rows,
               count(*) AS responses,
               count(*) FILTER (WHERE nps_score >= 9) AS promoters,
               count(*) FILTER (WHERE nps_score <= 6) AS detractors
        FROM surveys
        WHERE brand = $brand AND responded_at >= $start AND responded_at < $end
          AND nps_score IS NOT NULL
        GROUP BY period
    """,
}


def sql_method(spec: dict):
    import duckdb

    lines = spec["product_lines"]
    base = {
        "brand": spec["brand"],
        "grain": spec["grain"],
        "start": datetime.fromisoformat(spec["window"][0]),
        "end": datetime.fromisoformat(spec["end"]),
    }
    if lines:
        base["lines"] = lines
    queries = {}
    for group, text in SQL.items():
        params = dict(base)
        if group == "customer_activity":
            params["step"] = spec["step_months"]
        if group == "leads":
            params["conversion_days"] = spec["conversion_window_days"]
        filt = LINES_FILTER if lines and group != "surveys" else ""
        if not filt:
            params.pop("lines", None)
        queries[group] = (text.format(lines=filt), params)

    def run() -> tuple[dict, dict]:
        con = duckdb.connect(spec["db"], read_only=True)
        try:
            measures = {}
            for group, (text, params) in queries.items():
                cur = con.execute(text, params)
                names = [d[0] for d in cur.description]
                measures[group] = {
                    r[0].date().isoformat(): dict(zip(names[1:], r[1:], strict=True))
                    for r in cur.fetchall()
                }
        finally:
            con.close()
        return scorecard_from_measures(spec, measures), {"queries": len(queries)}

    return run


# ---------------------------------------------------------------------------------------------
# Worker: one method in its own process
# ---------------------------------------------------------------------------------------------


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB.

    ``VmHWM`` of this process's address space. ``getrusage().ru_maxrss`` is the same counter
    except that, after fork + exec, it also carries the *parent's* peak at fork time (Linux
    keeps the replaced address space's high-water mark), which here is larger than a small
    method's whole footprint; so it is only the fallback where ``/proc`` is missing.
    """
    hwm = _proc_status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _say(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def worker(method: str) -> None:
    """Serve one method over stdin/stdout, one JSON line each way.

    Reads the spec, imports, warms up and answers ``ready``; then each ``run`` line gets the
    wall time of one run, and ``finish`` gets the memory figures and the scorecard.
    """
    import tracemalloc

    spec = json.loads(sys.stdin.readline())
    run = {"kpitools": kpitools_method, "pandas": pandas_method, "sql": sql_method}[method](spec)
    base = _peak_rss_mb()  # after the imports, before any data is touched

    scorecard, _ = run()  # warm-up: lazy imports, OS page cache, DuckDB and Ibis caches
    first_peak = _peak_rss_mb()  # read before the reset below
    warm_base = _proc_status_mb("VmRSS") if _reset_peak_rss() else None
    _say({"ready": True})
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0, c0 = time.perf_counter(), time.process_time()
        out, extra = run()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        # parallel float sums are not bit-reproducible run to run: compare within the tolerance
        unstable = differences(scorecard, out, spec, f"{method} (repeat)")
        if unstable:
            raise AssertionError("repeated runs disagree:\n  " + "\n  ".join(unstable[:20]))
        _say({"seconds": seconds, "cpu_seconds": cpu, **extra})
    peak = max(first_peak, _peak_rss_mb())
    warm_peak = _peak_rss_mb() if warm_base is not None else None

    tracemalloc.start()
    run()
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _say(
        {
            "rss_base_mb": round(base, 1),
            "rss_peak_delta_mb": round(peak - base, 1),
            "warm_rss_peak_delta_mb": (
                round(warm_peak - warm_base, 1) if warm_peak is not None else None
            ),
            "py_heap_peak_mb": round(heap_peak / 2**20, 1),
            "scorecard": scorecard,
        }
    )


class Worker:
    """A method's worker process, driven one run at a time."""

    def __init__(self, method: str, spec: dict):
        self.method = method
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", method],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.ask(json.dumps(spec))

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            self.proc.wait()
            sys.exit(f"the {self.method} worker failed (status {self.proc.returncode})")
        return json.loads(answer)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def measure(spec: dict, repeat: int) -> dict[str, dict]:
    """Warm each method up in its own process, then time them round-robin.

    Interleaving the runs (and rotating which method goes first) spreads any drift in the
    machine's load evenly over the three methods.
    """
    workers = {}
    try:
        for m in METHODS:  # one at a time, so warm-ups do not compete
            workers[m] = Worker(m, spec)
        runs = {m: [] for m in METHODS}
        for i in range(repeat):
            order = METHODS[i % len(METHODS) :] + METHODS[: i % len(METHODS)]
            for m in order:
                runs[m].append(workers[m].ask("run"))
        results = {}
        for m in METHODS:
            seconds = [r["seconds"] for r in runs[m]]
            cpu = [r["cpu_seconds"] for r in runs[m]]
            read = [r["read_seconds"] for r in runs[m] if "read_seconds" in r]
            results[m] = {
                "method": m,
                "seconds": seconds,
                "median_seconds": statistics.median(seconds),
                "min_seconds": min(seconds),
                "cpu_seconds": cpu,
                "median_cpu_seconds": statistics.median(cpu),
                "median_read_seconds": statistics.median(read) if read else None,
                "queries": runs[m][0].get("queries"),
                **workers[m].ask("finish"),
            }
    finally:
        for w in workers.values():
            w.close()
    return results


# ---------------------------------------------------------------------------------------------
# Cross-check, report
# ---------------------------------------------------------------------------------------------


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def differences(ref: dict, other: dict, spec: dict, name: str = "other") -> list[str]:
    """Every number on which scorecard ``other`` differs from ``ref`` beyond the tolerance."""
    problems = []
    for k in KPI_IDS:
        a, b = ref.get(k), other.get(k)
        if a is None or b is None:
            problems.append(f"{name}: {k} missing")
            continue
        pairs = [(f, a[f], b[f]) for f in ("value", "previous", "year_ago")]
        pairs += [
            (f"trend {d[:7]}", x, y)
            for d, x, y in zip(spec["trend"], a["trend"], b["trend"], strict=True)
        ]
        problems += [
            f"{name}: {k} {what}: kpitools {x!r} != {name} {y!r}"
            for what, x, y in pairs
            if not _same(x, y)
        ]
    return problems


def compare(results: dict[str, dict], spec: dict) -> list[str]:
    """Every number on which a method disagrees with kpitools."""
    ref = results["kpitools"]["scorecard"]
    problems = []
    if set(ref) != set(KPI_IDS):
        problems.append(f"kpitools computed {sorted(ref)}, expected {sorted(KPI_IDS)}")
    for method in METHODS[1:]:
        problems += differences(ref, results[method]["scorecard"], spec, method)
    return problems


def brand_rows(spec: dict) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(spec["db"], read_only=True)
    try:
        q = "SELECT count(*) FROM {} WHERE brand = ?"
        rows = {t: con.execute(q.format(t), [spec["brand"]]).fetchone()[0] for t in TABLES}
        rows["customers"] = con.execute(
            "SELECT count(*) FROM customers WHERE brand = ?", [spec["brand"]]
        ).fetchone()[0]
        rows["all_customers"] = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        rows["duckdb_threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        con.close()
    return rows


def _fmt(x, spec=".3f") -> str:
    return "-" if x is None else format(x, spec)


def report(results: dict[str, dict], customers: int) -> tuple[str, dict]:
    """The figures table and the verdict on the targets (set for the 1M-customer demo)."""
    sql = results["sql"]
    head = (
        f"{'method':<9} {'median s':>9} {'min s':>7} {'x SQL':>6} {'CPU s':>7} {'x SQL':>6} "
        f"{'RSS peak Δ MB':>14} {'warm RSS Δ MB':>14} {'py heap MB':>11}"
    )
    lines = [head, "-" * len(head)]
    for m in METHODS:
        r = results[m]
        note = ""
        if r["median_read_seconds"] is not None:
            note = f"   (of which read into pandas: {r['median_read_seconds']:.3f} s)"
        lines.append(
            f"{m:<9} {r['median_seconds']:>9.3f} {r['min_seconds']:>7.3f} "
            f"{r['median_seconds'] / sql['median_seconds']:>6.2f} "
            f"{r['median_cpu_seconds']:>7.3f} "
            f"{r['median_cpu_seconds'] / sql['median_cpu_seconds']:>6.2f} "
            f"{r['rss_peak_delta_mb']:>14.1f} "
            f"{_fmt(r['warm_rss_peak_delta_mb'], '.1f'):>14} {r['py_heap_peak_mb']:>11.1f}{note}"
        )
    ibis, pandas_mem = results["kpitools"], results["pandas"]["rss_peak_delta_mb"]
    slowdown = ibis["median_seconds"] / sql["median_seconds"]
    cpu_slowdown = ibis["median_cpu_seconds"] / sql["median_cpu_seconds"]
    mem_ratio = ibis["rss_peak_delta_mb"] / pandas_mem if pandas_mem > 0 else None
    targets = {
        "time_vs_sql": round(slowdown, 3),
        "cpu_time_vs_sql": round(cpu_slowdown, 3),
        "time_vs_sql_max": MAX_SLOWDOWN_VS_SQL,
        "time_ok": slowdown <= MAX_SLOWDOWN_VS_SQL,
        "memory_vs_pandas": None if mem_ratio is None else round(mem_ratio, 3),
        "memory_vs_pandas_max": MAX_MEMORY_VS_PANDAS,
        "memory_ok": mem_ratio is not None and mem_ratio <= MAX_MEMORY_VS_PANDAS,
        "judged": customers >= TARGET_CUSTOMERS,
    }

    def verdict(ok: bool) -> str:
        if not targets["judged"]:
            return (
                "met" if ok else "not met"
            ) + f" (targets apply from {TARGET_CUSTOMERS:,} customers)"
        return "met" if ok else "MISSED"

    lines += [
        "",
        f"target time:   kpitools / SQL median wall time = {slowdown:.2f}x "
        f"(CPU time {cpu_slowdown:.2f}x; at most {MAX_SLOWDOWN_VS_SQL:g}x): "
        + verdict(targets["time_ok"]),
        f"target memory: kpitools / pandas peak RSS Δ = {_fmt(mem_ratio, '.2f')} "
        f"(at most {MAX_MEMORY_VS_PANDAS:g}): " + verdict(targets["memory_ok"]),
    ]
    return "\n".join(lines), targets


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("duckdb", "ibis-framework", "pandas", "numpy", "pyarrow", "kpitools"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _git() -> dict[str, str | bool | None]:
    """The commit measured, and whether the working tree had changes."""

    def git(*a: str) -> str | None:
        try:
            r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    status = git("status", "--porcelain", "--", "kpitools")
    return {
        "commit": git("rev-parse", "HEAD"),
        "kpitools_dirty": bool(status) if status is not None else None,
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="data/demo.duckdb", help="DuckDB file (default: %(default)s)")
    p.add_argument("--brand", default="aurora", help="brand (default: %(default)s)")
    p.add_argument("--params", help="params file (default: params/<brand>.yaml)")
    p.add_argument("--period", default="2025-12", help="report period (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per method (default: 5)")
    p.add_argument("--out", help="JSON results (default: benchmarks/results/scorecard-<db>.json)")
    p.add_argument(
        "--strict", action="store_true", help="exit 2 when a target is missed (1M customers and up)"
    )
    p.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0

    if not _path(args.db).is_file():
        sys.exit(f"{args.db} does not exist (make demo-data, or kpitools demo-data --out PATH)")
    spec = make_spec(args)
    rows = brand_rows(spec)
    print(
        f"{spec['db']}: brand {spec['brand']}, period {spec['period']} ({spec['grain']}); "
        f"{rows['all_customers']:,} customers in all, brand rows: "
        + ", ".join(f"{t} {rows[t]:,}" for t in ("customers", *TABLES))
    )
    print(
        f"{args.repeat} timed runs per method, interleaved, after one warm-up; "
        "each method in its own process\n"
    )

    load_before = os.getloadavg()
    results = measure(spec, args.repeat)
    load_after = os.getloadavg()
    problems = compare(results, spec)
    if problems:
        print("THE THREE METHODS DISAGREE:", *problems[:50], sep="\n  ", file=sys.stderr)
        return 1
    text, targets = report(results, rows["all_customers"])
    print(text)
    print(f"\nscorecards agree (relative tolerance {REL_TOL:g}) on {len(KPI_IDS)} KPIs")
    print(
        f"{os.cpu_count()} CPUs, DuckDB threads {rows['duckdb_threads']}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after "
        "(wall times are only comparable when the machine is otherwise idle)"
    )

    default_out = ROOT / "benchmarks" / "results" / f"scorecard-{Path(spec['db']).stem}.json"
    out = Path(args.out) if args.out else default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "created": datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "spec": spec,
        "db_bytes": Path(spec["db"]).stat().st_size,
        "brand_rows": rows,
        "repeat": args.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "versions": _versions(),
        "git": _git(),
        "targets": targets,
        "methods": {
            m: {k: v for k, v in r.items() if k != "scorecard"} for m, r in results.items()
        },
        "scorecard": results["kpitools"]["scorecard"],
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")
    if args.strict and targets["judged"] and not (targets["time_ok"] and targets["memory_ok"]):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
