"""Time the CLV fits (BG/NBD and Gamma-Gamma) on simulated customers; lifetimes if importable.

Both libraries fit the same simulated customers (``--customers``, 52 weeks of observation,
BG/NBD r=0.25, alpha=4, a=0.8, b=2.5; Gamma-Gamma spend of the repeat buyers). Each fit runs
once untimed (imports, caches), then ``--repeat`` times alternating kpitools and lifetimes;
the median wall and CPU seconds are reported, with the fitted parameters and their largest
relative difference between the libraries (the two maximise the same likelihoods).

``lifetimes`` (installed ``--no-deps`` by ``make setup`` for the real-data tests) needs
``dill`` and ``autograd``: ``pip install -e '.[bench]'``. Without them the lifetimes arm is
reported as skipped, with the reason.

Prints one JSON line.

Usage::

    python benchmarks/bench_clv.py --customers 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _median_runs(fns: dict, repeat: int) -> dict:
    """Each of ``fns`` once untimed, then ``repeat`` alternating timed runs: the last result
    and the median wall and CPU seconds of each."""
    out = {}
    for fn in fns.values():
        fn()
    runs: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            runs[name].append(_timed(fn))
    for name, rs in runs.items():
        out[name] = (
            rs[-1][0],
            statistics.median(r[1] for r in rs),
            statistics.median(r[2] for r in rs),
        )
    return out


def _max_rel_diff(a: dict, b: dict) -> float:
    return max(abs(x - y) / max(abs(x), 1e-300) for x, y in zip(a, b, strict=True))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    from kpitools.clv.bgnbd import fit_bgnbd, simulate_bgnbd
    from kpitools.clv.gamma_gamma import fit_gamma_gamma

    rng = np.random.default_rng(14)
    summary = simulate_bgnbd(np.full(args.customers, 52.0), 0.25, 4.0, 0.8, 2.5, rng=rng)
    freq = summary["frequency"].to_numpy()
    summary["monetary_value"] = np.where(
        freq > 0, rng.gamma(6.0, 1.0 / rng.gamma(3.0, 1 / 15.0, len(freq))), 0.0
    )
    rep = summary[summary["frequency"] > 0]
    fns = {
        "bgnbd": lambda: fit_bgnbd(summary),
        "gamma_gamma": lambda: fit_gamma_gamma(summary),
    }
    try:
        import lifetimes  # noqa: F401
    except Exception as exc:  # lifetimes needs dill and autograd, absent in some installs
        skipped = f"lifetimes not importable: {exc} (pip install -e '.[bench]')"
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        skipped = None
        fns["lt_bgnbd"] = lambda: BetaGeoFitter().fit(
            summary["frequency"], summary["recency"], summary["T"]
        )
        fns["lt_gamma_gamma"] = lambda: GammaGammaFitter().fit(
            rep["frequency"], rep["monetary_value"]
        )
    r = _median_runs(fns, args.repeat)
    (bg, bg_w, bg_c), (gg, gg_w, gg_c) = r["bgnbd"], r["gamma_gamma"]
    doc = {
        "customers": args.customers,
        "repeat_buyers": len(rep),
        "repeat": args.repeat,
        "kpitools": {
            "bgnbd_wall_s": bg_w,
            "bgnbd_cpu_s": bg_c,
            "gamma_gamma_wall_s": gg_w,
            "gamma_gamma_cpu_s": gg_c,
            "bgnbd": dict(bg.params_),
            "gamma_gamma": dict(gg.params_),
        },
    }
    if skipped:
        doc["lifetimes"] = {"skipped": skipped}
    else:
        (lbg, w, c), (lgg, w2, c2) = r["lt_bgnbd"], r["lt_gamma_gamma"]
        lt_bg = {k: float(v) for k, v in lbg.params_.items()}
        lt_gg = {k: float(v) for k, v in lgg.params_.items()}  # p, q, v (kpitools: gamma)
        doc["lifetimes"] = {
            "bgnbd_wall_s": w,
            "bgnbd_cpu_s": c,
            "gamma_gamma_wall_s": w2,
            "gamma_gamma_cpu_s": c2,
            "bgnbd": lt_bg,
            "gamma_gamma": lt_gg,
            "bgnbd_max_rel_diff": _max_rel_diff(
                [bg.params_[k] for k in ("r", "alpha", "a", "b")],
                [lt_bg[k] for k in ("r", "alpha", "a", "b")],
            ),
            "gamma_gamma_max_rel_diff": _max_rel_diff(
                [gg.params_[k] for k in ("p", "q", "gamma")],
                [lt_gg[k] for k in ("p", "q", "v")],
            ),
        }
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
