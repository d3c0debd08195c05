"""Peak memory and CPU of the full scorecard with and without ``source.memory_limit``.

Each limit runs in its own process (peak RSS is per process): two scorecards, the second
timed; the peak is the increase of ``VmHWM`` over the imports.

Usage::

    python benchmarks/bench_memory.py --db data/bench/demo-1000000.duckdb --limits none,500MB
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def one(db: str, limit: str | None, period: str) -> dict:
    from kpitools.data.sources import connect
    from kpitools.kpis.compute import compute_kpis
    from kpitools.params import load_params

    params = load_params(ROOT / "params" / "aurora.yaml")
    source = params.source.model_copy(
        update={"path": str(Path(db).resolve()), "memory_limit": limit}
    )
    params = params.model_copy(update={"source": source})
    base = _hwm_mib()
    for _ in range(2):
        with connect(params) as con:
            c0, w0 = time.process_time(), time.perf_counter()
            card = compute_kpis(con, params, period)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {
        "memory_limit": limit or "DuckDB default",
        "kpis": len(list(card)),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "peak_rss_delta_mib": round(_hwm_mib() - base),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="data/bench/demo-1000000.duckdb")
    p.add_argument("--limits", default="none,500MB")
    p.add_argument("--period", default="2025-12")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        limit = None if args.worker == "none" else args.worker
        print(json.dumps(one(args.db, limit, args.period)))
        return 0
    for limit in args.limits.split(","):
        cmd = [sys.executable, __file__, "--db", args.db, "--period", args.period]
        out = subprocess.run([*cmd, "--worker", limit], capture_output=True, text=True, check=True)
        print(out.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
