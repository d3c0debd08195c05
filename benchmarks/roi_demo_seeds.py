"""Campaign intervals and verdicts against the planted truth over several demo seeds.

For each seed a demo is generated in a temporary folder and every campaign of the three brands
is analysed. Printed:

* **coverage by control-group size**: a campaign's 95 % revenue interval either holds its
  planted lift (``demo_truth_campaigns.true_incremental_revenue_per_treated``) or not, or has
  no interval (too few controls to judge);
* **false "profitable"**: of the campaigns whose planted incremental margin
  (``true_incremental_margin_per_treated × n_treated``) is below their cost, the share called
  "profitable", by the campaign's own interval (``raw``) and by the report's verdict (after
  Benjamini–Hochberg where the code has it), and the share of wrong calls among the
  "profitable" verdicts;
* with ``--programme``, the programme ROI of each brand: the headline, the ROI on measured
  campaigns only, and the planted ROI (every campaign's planted margin against every cost).

Run with the code to measure on ``PYTHONPATH`` (the same script runs on older checkouts)::

    PYTHONPATH=. python benchmarks/roi_demo_seeds.py --customers 5000 --csv rows.csv 1 2 3
    PYTHONPATH=. python benchmarks/roi_demo_seeds.py --programme 42

``--demo-dir`` keeps the databases: generate them with the newer code, then run an older
checkout's estimators on the very same data (``PYTHONPATH=/tmp/roi-before``).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from kpitools.params import parse_params
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.outcomes import load_campaigns

try:
    from kpitools.data.demo import generate_demo
except ImportError:  # older checkouts
    from kpitools.data.demo.generate import generate_demo  # type: ignore[no-redef]
from kpitools.data.sources import connect

BRANDS = ("aurora", "bellevue", "castello")
BINS = ((2, 5), (6, 9), (10, 20), (21, 50), (51, 10**9))


def _label(b: tuple[int, int]) -> str:
    return f"{b[0]}-{b[1]}" if b[1] < 10**9 else f">{b[0] - 1}"


def _verdict(v) -> str:
    return str(getattr(v, "value", v))


def campaign_rows(seed: int, customers: int, tmp: str, programme: bool = False):
    """One row per campaign of the three brands of one demo seed (and programme rows)."""
    path = Path(tmp) / f"demo-{seed}-{customers}.duckdb"
    if not path.exists():
        generate_demo(path, customers=customers, seed=seed)
    con = duckdb.connect(str(path), read_only=True)
    truth = con.sql("SELECT * FROM demo_truth_campaigns").df().set_index("campaign_id")
    con.close()
    rows, prog = [], []
    for brand in BRANDS:
        params = parse_params(
            {
                "brand": brand,
                "period": {"grain": "year"},
                "source": {"kind": "duckdb", "path": str(path)},
            }
        )
        with connect(params) as db:
            ids = load_campaigns(db)["campaign_id"].tolist()
            rep = analyse_campaigns(db, params, "2025", campaign_ids=ids)
        true_margin_all = 0.0
        for c in rep.campaigns:
            t = truth.loc[c.campaign_id]
            true_margin = float(t["true_incremental_margin_per_treated"]) * c.n_treated
            true_margin_all += true_margin
            lift = c.revenue_lift
            raw = c.roi.verdict if c.roi is not None else "not measured"
            rows.append(
                {
                    "seed": seed,
                    "brand": brand,
                    "campaign_id": c.campaign_id,
                    "n_treated": c.n_treated,
                    "n_control": c.n_control,
                    "cost": c.cost,
                    "true_rev": float(t["true_incremental_revenue_per_treated"]),
                    "true_margin": true_margin,
                    "has_lift": lift is not None,
                    "rev_low": None if lift is None else lift.ci_low,
                    "rev_high": None if lift is None else lift.ci_high,
                    "raw_verdict": _verdict(raw),
                    "verdict": _verdict(c.verdict),
                    "broken_split": bool(t.get("broken_split", False)),
                    "provisional": bool(c.provisional),
                }
            )
        if programme:
            measured = getattr(rep, "programme_measured", None)
            head = rep.programme
            if measured is None:  # older code: the programme was on measured campaigns only
                measured, head = head, None
            cost_all = sum(c.cost for c in rep.campaigns)
            meas = [c for c in rep.campaigns if c.roi is not None]
            cost_m = sum(c.cost for c in meas)
            tm_m = sum(
                r["true_margin"]
                for r in rows[-len(rep.campaigns) :]
                if r["raw_verdict"] != "not measured"
            )
            prog.append(
                {
                    "brand": brand,
                    "campaigns": len(rep.campaigns),
                    "measured": len(meas),
                    "cost_all": cost_all,
                    "cost_measured": cost_m,
                    "headline": None
                    if head is None
                    else (head.roi, head.roi_ci_low, head.roi_ci_high),
                    "measured_only": None
                    if measured is None
                    else (measured.roi, measured.roi_ci_low, measured.roi_ci_high),
                    "planted_all": (true_margin_all - cost_all) / cost_all,
                    "planted_measured": (tm_m - cost_m) / cost_m if cost_m else math.nan,
                }
            )
    return rows, prog


def coverage_table(df: pd.DataFrame) -> str:
    out = [
        "| controls | campaigns | with interval | coverage | no interval |",
        "|---|---:|---:|---:|---:|",
    ]
    tot = [0, 0, 0]
    for b in BINS:
        d = df[(df.n_control >= b[0]) & (df.n_control <= b[1]) & df.has_lift]
        has = d[d.rev_low.notna()]
        held = int(((has.rev_low <= has.true_rev) & (has.true_rev <= has.rev_high)).sum())
        none = len(d) - len(has)
        cov = f"{held / len(has):.1%}" if len(has) else "-"
        out.append(f"| {_label(b)} | {len(d)} | {len(has)} | {cov} | {none} |")
        tot = [tot[0] + held, tot[1] + len(has), tot[2] + none]
    out.append(f"| all | {tot[1] + tot[2]} | {tot[1]} | {tot[0] / max(tot[1], 1):.1%} | {tot[2]} |")
    return "\n".join(out)


def verdict_table(df: pd.DataFrame) -> str:
    unprof = df[df.true_margin < df.cost]
    meas = unprof[unprof.raw_verdict != "not measured"]
    out = [
        f"truly unprofitable campaigns: {len(unprof)} ({len(meas)} with a ROI)",
        "| rule | unprofitable called profitable | share of unprofitable | "
        "profitable calls | wrong among profitable |",
        "|---|---:|---:|---:|---:|",
    ]
    for col, name in (("raw_verdict", "own interval"), ("verdict", "report verdict")):
        fp = int((unprof[col] == "profitable").sum())
        calls = int((df[col] == "profitable").sum())
        out.append(
            f"| {name} | {fp} | {fp / max(len(unprof), 1):.2%} | {calls} | "
            f"{fp / calls if calls else 0:.1%} |"
        )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--csv", help="write the per-campaign rows here")
    ap.add_argument("--programme", action="store_true", help="print programme ROI per brand")
    ap.add_argument(
        "--demo-dir",
        help="keep the demo databases here and reuse them (e.g. generated by the newer code, "
        "to measure older estimators on the same data)",
    )
    a = ap.parse_args(argv)
    rows, progs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if a.demo_dir:
            Path(a.demo_dir).mkdir(parents=True, exist_ok=True)
            tmp = a.demo_dir
        for seed in a.seeds:
            r, p = campaign_rows(seed, a.customers, tmp, a.programme)
            rows += r
            progs += [{"seed": seed, **x} for x in p]
            print(f"seed {seed} done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    if a.csv:
        df.to_csv(a.csv, index=False)
    print(f"seeds {a.seeds}, {a.customers} customers, {len(df)} campaigns")
    print(coverage_table(df))
    print()
    print(verdict_table(df))
    for p in progs:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
