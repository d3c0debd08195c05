"""Time the CLV fits (BG/NBD and Gamma-Gamma) on simulated customers; lifetimes if importable.

Prints one JSON line with the fit times (wall and CPU seconds) and the fitted parameters.

Usage::

    python benchmarks/bench_clv.py --customers 100000
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=100_000)
    args = p.parse_args(argv)
    from kpitools.clv.bgnbd import fit_bgnbd, simulate_bgnbd
    from kpitools.clv.gamma_gamma import fit_gamma_gamma

    rng = np.random.default_rng(14)
    summary = simulate_bgnbd(np.full(args.customers, 52.0), 0.25, 4.0, 0.8, 2.5, rng=rng)
    freq = summary["frequency"].to_numpy()
    summary["monetary_value"] = np.where(
        freq > 0, rng.gamma(6.0, 1.0 / rng.gamma(3.0, 1 / 15.0, len(freq))), 0.0
    )
    bg, bg_w, bg_c = _timed(lambda: fit_bgnbd(summary))
    gg, gg_w, gg_c = _timed(lambda: fit_gamma_gamma(summary))
    doc = {
        "customers": args.customers,
        "kpitools": {
            "bgnbd_wall_s": bg_w,
            "bgnbd_cpu_s": bg_c,
            "gamma_gamma_wall_s": gg_w,
            "gamma_gamma_cpu_s": gg_c,
            "bgnbd": dict(bg.params_),
            "gamma_gamma": dict(gg.params_),
        },
    }
    try:
        import lifetimes  # noqa: F401
    except Exception as exc:  # lifetimes needs dill, absent in some installs
        doc["lifetimes"] = {"skipped": f"lifetimes not importable: {exc}"}
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        lbg, w, c = _timed(
            lambda: BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        )
        rep = summary[summary["frequency"] > 0]
        lgg, w2, c2 = _timed(
            lambda: GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
        )
        doc["lifetimes"] = {
            "bgnbd_wall_s": w,
            "bgnbd_cpu_s": c,
            "gamma_gamma_wall_s": w2,
            "gamma_gamma_cpu_s": c2,
            "bgnbd": {k: float(v) for k, v in lbg.params_.items()},
            "gamma_gamma": {k: float(v) for k, v in lgg.params_.items()},
        }
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
