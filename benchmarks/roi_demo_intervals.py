"""Campaign and programme intervals of the demo's campaign ROI, for a before/after comparison.

Prints, per brand, the programme incremental revenue and margin with their 95 % intervals, the
programme ROI interval, the campaigns measured / with too few controls, the verdict counts and
how many campaign revenue intervals hold the planted lift. Run it with the code to compare on
``PYTHONPATH`` (e.g. an exported older commit, then this one)::

    python -m kpitools.cli demo-data --out data/demo.duckdb --customers 20000
    PYTHONPATH=. python benchmarks/roi_demo_intervals.py data/demo.duckdb
"""

from __future__ import annotations

import sys

import duckdb

from kpitools.data.sources import connect
from kpitools.params import parse_params
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.outcomes import load_campaigns

BRANDS = ("aurora", "bellevue", "castello")


def main(path: str) -> int:
    con = duckdb.connect(path, read_only=True)
    truth = con.sql("SELECT * FROM demo_truth_campaigns").df().set_index("campaign_id")
    con.close()
    for brand in BRANDS:
        params = parse_params(
            {
                "brand": brand,
                "period": {"grain": "year"},
                "source": {"kind": "duckdb", "path": path},
            }
        )
        with connect(params) as db:
            ids = load_campaigns(db)["campaign_id"].tolist()
            rep = analyse_campaigns(db, params, "2025", campaign_ids=ids)
        held = judged = 0
        for c in rep.campaigns:
            lift = c.revenue_lift
            if lift is None or not (lift.ci_low == lift.ci_low):  # NaN: no interval
                continue
            judged += 1
            held += bool(
                lift.ci_low
                <= truth.loc[c.campaign_id, "true_incremental_revenue_per_treated"]
                <= lift.ci_high
            )
        prog = rep.programme
        few = sum(1 for c in rep.campaigns if getattr(c, "controls_needed", None) is not None)
        print(
            f"{brand}: campaigns {len(rep.campaigns)}, measured {len(rep.measured)}, "
            f"too few controls {few}; revenue intervals holding the planted lift {held}/{judged}\n"
            f"  programme revenue {rep.programme_revenue:,.0f} "
            f"[{rep.programme_revenue_ci_low:,.0f}; {rep.programme_revenue_ci_high:,.0f}] "
            f"width {rep.programme_revenue_ci_high - rep.programme_revenue_ci_low:,.0f}\n"
            f"  programme margin {prog.incremental_margin:,.0f} "
            f"[{prog.margin_ci_low:,.0f}; {prog.margin_ci_high:,.0f}], cost {prog.cost:,.0f}, "
            f"ROI {prog.roi:.1%} [{prog.roi_ci_low:.1%}; {prog.roi_ci_high:.1%}]\n"
            f"  verdicts {rep.verdict_counts}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "data/demo.duckdb"))
