"""Time ``estimate_lift`` (lin, HC2) against statsmodels OLS HC2 on the same design.

Prints one JSON line: ``{"n", "covariates", "kpitools": {...}, "statsmodels": {...},
"max_rel_diff"}``. Runs are interleaved (kpitools, statsmodels, kpitools, ...).

Usage::

    python benchmarks/bench_lift.py --members 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd


def make_data(n: int, k: int = 5, seed: int = 14) -> pd.DataFrame:
    """Simulated campaign: ``n`` members, ``k`` numeric pre-period covariates, 80 % targeted."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    t = (rng.random(n) < 0.8).astype(float)
    y = 10 + X @ np.linspace(1.0, 0.2, k) + t * (1.5 + 0.3 * X[:, 0]) + rng.normal(size=n)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(k)])
    frame["treated"] = t
    frame["y"] = y
    return frame


def lin_design(frame: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lin (2013) design: constant, treatment, centred covariates and their interactions."""
    t = frame["treated"].to_numpy(float)
    Xc = frame[covariates].to_numpy(float)
    Xc = Xc - Xc.mean(axis=0)
    X = np.column_stack([np.ones(len(t)), t, Xc, Xc * t[:, None]])
    return frame["y"].to_numpy(float), X


def run_kpitools(frame, covariates):
    from kpitools.roi.estimators import estimate_lift

    res = estimate_lift(
        frame, outcome="y", treatment="treated", covariates=covariates, method="lin"
    )
    return res.effect, res.se


def run_statsmodels(frame, covariates):
    import statsmodels.api as sm

    y, X = lin_design(frame, covariates)
    res = sm.OLS(y, X).fit(cov_type="HC2")
    return float(res.params[1]), float(res.bse[1])


def _time(fn, *args):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--covariates", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    frame = make_data(args.members, args.covariates)
    cov = [f"x{i}" for i in range(args.covariates)]
    run_kpitools(frame, cov)  # warm-up: imports
    run_statsmodels(frame, cov)
    times = {"kpitools": ([], []), "statsmodels": ([], [])}
    outs = {}
    for _ in range(args.repeat):
        for name, fn in (("kpitools", run_kpitools), ("statsmodels", run_statsmodels)):
            out, wall, cpu = _time(fn, frame, cov)
            times[name][0].append(wall)
            times[name][1].append(cpu)
            outs[name] = out
    diff = max(
        abs(a - b) / max(abs(b), 1e-300)
        for a, b in zip(outs["kpitools"], outs["statsmodels"], strict=True)
    )
    doc = {
        "n": args.members,
        "covariates": args.covariates,
        "repeat": args.repeat,
        **{
            k: {
                "wall_s": statistics.median(v[0]),
                "cpu_s": statistics.median(v[1]),
                "effect": outs[k][0],
                "se": outs[k][1],
            }
            for k, v in times.items()
        },
        "max_rel_diff": diff,
    }
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
