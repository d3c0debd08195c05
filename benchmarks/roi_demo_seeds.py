"""Per-campaign revenue-interval coverage of the planted lift over several demo seeds.

For each seed a 20,000-customer demo is generated in a temporary folder and every campaign of
the three brands is analysed; a campaign's 95 % revenue interval either holds its planted lift
(``demo_truth_campaigns.true_incremental_revenue_per_treated``) or not, or has no interval
(too few controls to judge). Coverage is printed by control-group size. Run with the code to
measure on ``PYTHONPATH``::

    PYTHONPATH=. python benchmarks/roi_demo_seeds.py 1 2 3 4 5 6 7 8
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import duckdb

from kpitools.data.demo import generate_demo
from kpitools.data.sources import connect
from kpitools.params import parse_params
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.outcomes import load_campaigns

BRANDS = ("aurora", "bellevue", "castello")
BINS = ((2, 5), (6, 9), (10, 20), (21, 50), (51, 10**9))


def main(seeds: list[int]) -> int:
    counts = {b: [0, 0, 0] for b in BINS}  # held, judged, no interval
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            path = Path(tmp) / f"demo-{seed}.duckdb"
            generate_demo(path, customers=20_000, seed=seed)
            con = duckdb.connect(str(path), read_only=True)
            truth = con.sql("SELECT * FROM demo_truth_campaigns").df().set_index("campaign_id")
            con.close()
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
                for c in rep.campaigns:
                    lift = c.revenue_lift
                    if lift is None:
                        continue
                    b = next(b for b in BINS if b[0] <= c.n_control <= b[1])
                    if math.isnan(lift.ci_low):
                        counts[b][2] += 1
                        continue
                    planted = truth.loc[c.campaign_id, "true_incremental_revenue_per_treated"]
                    counts[b][0] += bool(lift.ci_low <= planted <= lift.ci_high)
                    counts[b][1] += 1
            print(f"seed {seed} done", file=sys.stderr, flush=True)
    print(f"seeds {seeds}")
    print("| controls | campaigns judged | coverage | no interval |")
    print("|---|---:|---:|---:|")
    tot = [0, 0, 0]
    for b, (held, judged, none) in counts.items():
        label = f"{b[0]}-{b[1]}" if b[1] < 10**9 else f"{b[0]}+"
        cov = f"{held / judged:.1%}" if judged else "-"
        print(f"| {label} | {judged} | {cov} | {none} |")
        tot = [tot[0] + held, tot[1] + judged, tot[2] + none]
    print(f"| all | {tot[1]} | {tot[0] / max(tot[1], 1):.1%} | {tot[2]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main([int(s) for s in sys.argv[1:]] or [1, 2, 3]))
