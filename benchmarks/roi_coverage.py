"""Coverage of the campaign-lift 95 % intervals by control-group size, before and after issue 12.

Simulated campaigns on skewed, zero-inflated revenue (``tests/roi_sim.py``: 300 targeted
customers, about 3 in 4 buy nothing, log-normal spend, planted effect = the exact mean
difference, 5.18 EUR per customer), for control groups of 5, 10, 20, 50 and 120 customers and
the four estimators. Columns:

``before``
    HC2 standard error, Student t with the residual degrees of freedom (the estimator before
    issue 12).
``bm_t``
    HC2 standard error, Student t with the Bell–McCaffrey degrees of freedom
    (``roi.interval: t``).
``skew-corrected t``
    The Bell–McCaffrey t-interval moved by the estimated skewness of the estimate (Johnson
    1978; Hall 1992; Cornish–Fisher form), the candidate not chosen.
``after``
    The campaign analysis' default (``roi.interval: auto``, ``roi.min_control_judge: 10``):
    the randomisation-inference interval, and no interval below 10 controls (the figure in
    brackets is what the randomisation interval would have covered there).

Also the median width of the ``after`` interval relative to ``bm_t``, and the share of misses
above / below.

Run from the repository root::

    PYTHONPATH=. python benchmarks/roi_coverage.py [--reps 2000] [--draws 1000] [--seed 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from roi_sim import ATE, fit, simulate  # noqa: E402

from kpitools.params import RoiParams  # noqa: E402
from kpitools.roi.inference import draw_control_sets, randomisation_interval  # noqa: E402

METHODS = ("diff", "ols", "lin", "cuped")
SIZES = (5, 10, 20, 50, 120)
N_TREATED = 300


def coverage_row(rng, method: str, n0: int, reps: int, draws: int, chunk: int = 250) -> dict:
    """Coverage of the three intervals for one estimator and control size."""
    y, x, treated = simulate(rng, reps, N_TREATED, n0)
    f = fit(method, y, x, treated)
    out: dict[str, float] = {}
    widths = {}
    for name, df in (("before", f["df_resid"]), ("bm_t", f["df_bm"])):
        q = stats.t.ppf(0.975, df)
        out[name] = float(np.mean(np.abs(f["effect"] - ATE) <= q * f["se"]))
        widths[name] = 2 * q * f["se"]
    # skewness-corrected t (Johnson 1978; Hall 1992, Cornish-Fisher form) on the adjusted
    # outcome: both quantiles move by -K (2 q² + 1) / 6, K = estimated skewness of the estimate
    a = f["adjusted"]
    k3 = np.zeros(reps)
    for g, sign in ((treated, 1.0), (~treated, -1.0)):
        ag = a[:, g]
        m = ag.shape[1]
        c3 = m / ((m - 1) * (m - 2)) * np.sum((ag - ag.mean(1, keepdims=True)) ** 3, axis=1)
        k3 += sign * c3 / m**2
    skew = k3 / f["se"] ** 3
    q = stats.t.ppf(0.975, f["df_bm"])
    shift = skew * (2 * q**2 + 1) / 6 * f["se"]
    out["skew_t"] = float(
        np.mean(
            (f["effect"] - q * f["se"] + shift <= ATE) & (ATE <= f["effect"] + q * f["se"] + shift)
        )
    )
    lo = np.empty(reps)
    hi = np.empty(reps)
    for s in range(0, reps, chunk):
        sets = draw_control_sets(len(treated), n0, draws, rng)
        if method == "lin":  # re-fitted on every split
            xc = x[s : s + chunk, :, None]
            lo[s : s + chunk], hi[s : s + chunk], _ = randomisation_interval(
                y[s : s + chunk], treated, covariates=xc, sets=sets
            )
        else:
            lo[s : s + chunk], hi[s : s + chunk], _ = randomisation_interval(
                f["adjusted"][s : s + chunk], treated, sets=sets
            )
    out["ri"] = float(np.mean((lo <= ATE) & (ATE <= hi)))
    out["ri_miss_high"] = float(np.mean(ATE < lo))  # interval entirely above the truth
    out["ri_miss_low"] = float(np.mean(ATE > hi))
    # nanmedian: with few controls Lin's t-interval is undefined (leverage 1) in some draws
    out["width_ratio"] = float(np.median(hi - lo) / np.nanmedian(widths["bm_t"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--draws", type=int, default=1000, help="re-drawn control groups per rep")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--methods", default=",".join(METHODS))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    min_judge = RoiParams().min_control_judge
    t0 = time.perf_counter()
    print(
        f"95 % interval coverage, {args.reps} replications, {N_TREATED} targeted, "
        f"planted effect {ATE:.4f} per customer (seed {args.seed}, {args.draws} draws)\n"
    )
    print(
        "| method | controls | before (t, resid df) | BM t | skew-corrected t | "
        "after (default) | after misses above / below | after width / BM width |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    methods = args.methods.split(",")
    for method in methods:
        for n0 in SIZES:
            r = coverage_row(rng, method, n0, args.reps, args.draws)
            after = f"no interval ({r['ri']:.1%})" if n0 < min_judge else f"{r['ri']:.1%}"
            print(
                f"| {method} | {n0} | {r['before']:.1%} | {r['bm_t']:.1%} | {r['skew_t']:.1%} | "
                f"{after} | "
                f"{r['ri_miss_high']:.1%} / {r['ri_miss_low']:.1%} | {r['width_ratio']:.2f} |",
                flush=True,
            )
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
