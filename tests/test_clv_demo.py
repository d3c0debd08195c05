"""CLV analysis end to end on a generated demo database (20 000 customers, seed 42).

Each demo brand is analysed with its own params file (aurora monthly in GBP, bellevue
quarterly, castello monthly), pointed at the generated database, for the default period (the
latest complete one: 2025-12, 2025-Q4). The demo's purchase process is *not* BG/NBD (monthly
churn hazard, activity per month, comebacks after a dormancy), so the checks are those a user
would make: finite values, planted margin rates recovered, the simple formula's churn the lapse
churn (a few percent a month), and the holdout forecast close to what happened on aggregate.

Tolerance of the calibration check: the 6-month holdout repeat purchases predicted by the
model refitted on the data up to 2025-06-30 are within 10 % of the actual ones, summed over
all calibration customers (observed with seed 42: +4.3 % aurora, +5.0 % bellevue,
+2.2 % castello; by frequency group the error is larger, e.g. one-time buyers are
over-predicted because BG/NBD lets them churn only after a repeat purchase).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

from kpitools.clv.analysis import analyse_clv
from kpitools.data.demo import DEMO_BRANDS
from kpitools.data.sources import connect
from kpitools.params import parse_params

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"
BRANDS = ("aurora", "bellevue", "castello")
CALIBRATION_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def demo_db(demo_database) -> Path:
    return demo_database  # the session's shared default demo (conftest.py)


def _params(brand: str, db_path: Path):
    data = yaml.safe_load((PARAMS_DIR / f"{brand}.yaml").read_text(encoding="utf-8"))
    data["source"] = {"kind": "duckdb", "path": str(db_path)}
    return parse_params(data, origin=f"{brand}.yaml", base_dir=db_path.parent)


@pytest.fixture(scope="module")
def reports(demo_db) -> dict:
    out = {}
    for brand in BRANDS:
        params = _params(brand, demo_db)
        with connect(params) as db:
            out[brand] = analyse_clv(db, params)
    return out


@pytest.fixture(scope="module")
def truth(demo_db) -> dict:
    con = duckdb.connect(str(demo_db), read_only=True)
    lines = con.execute(
        "select brand, product_line, margin_rate from demo_truth_product_lines"
    ).fetchall()
    brands = con.execute(
        "select brand, expected_monthly_churn_rate, monthly_churn_hazard from demo_truth_brands"
    ).fetchall()
    con.close()
    return {
        "margin": {(b, line): m for b, line, m in lines},
        "churn": {b: c for b, c, _ in brands},
        "hazard": {b: h for b, _, h in brands},
    }


@pytest.mark.parametrize("brand", BRANDS)
def test_runs_end_to_end_with_finite_values(reports, brand):
    r = reports[brand]
    assert r.ok, r.error
    assert r.period.label == ("2025-Q4" if brand == "bellevue" else "2025-12")
    c = r.customers
    weight = {b.id: b.weight for b in DEMO_BRANDS}[brand]
    assert len(c) == pytest.approx(20_000 * weight, rel=0.01)
    for col in ("clv", "probability_alive", "expected_purchases", "expected_spend"):
        assert np.isfinite(c[col]).all(), col
    assert (c["clv"] >= 0).all() and c["probability_alive"].between(0, 1).all()
    for value in (r.mean_clv, r.median_clv, r.expected_margin_12m, r.new_customer_clv):
        assert value is not None and math.isfinite(value) and value > 0
    assert r.simple.status == "ok" and math.isfinite(r.simple.clv)
    assert len(r.at_risk) == r.at_risk_top
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["status"] == "ok" and doc["fit_seconds"] > 0


@pytest.mark.parametrize("brand", BRANDS)
def test_margin_rates_recover_the_planted_ones(reports, truth, brand):
    r = reports[brand]
    for line, rate in r.margin_rates.items():
        assert rate == pytest.approx(truth["margin"][(brand, line)], abs=0.01)


@pytest.mark.parametrize("brand", ["aurora", "castello"])
def test_simple_formula_uses_the_lapse_churn(reports, truth, brand):
    """The simple formula's churn is the scorecard's lapse churn (a few percent a month, below
    the planted hazard on this young base, tests/test_demo_churn.py), no longer the repurchase
    complement 1 - (1 - h) q; its CLV is of the order of the models' for the active base."""
    s, r = reports[brand].simple, reports[brand]
    assert s.grain == "month" and len(s.periods) == 12
    assert 0.002 < s.churn_per_month < truth["hazard"][brand]
    assert 0.5 < s.clv / r.mean_clv_active < 2.0


def test_quarterly_brand_uses_monthly_equivalents(reports):
    s = reports["bellevue"].simple
    assert s.grain == "quarter" and s.periods == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert s.churn_per_month == pytest.approx(1 - (1 - s.churn_per_period) ** (1 / 3))
    assert s.avg_margin_per_month == pytest.approx(s.avg_margin_per_period / 3)


@pytest.mark.parametrize("brand", BRANDS)
def test_calibration_expected_close_to_actual_on_aggregate(reports, brand):
    r = reports[brand]
    assert r.calibration_status == "ok", r.calibration_error
    assert r.calibration_end.isoformat() == "2025-06-30"
    totals = r.calibration_totals
    assert totals["customers"] > 1000
    assert abs(totals["relative_error"]) < CALIBRATION_TOLERANCE, totals


def test_fit_time_of_the_largest_brand(reports):
    r = reports["aurora"]
    print(
        f"\naurora: {r.n_customers} customers, {r.n_repeat_buyers} repeat buyers; "
        f"fit {r.fit_seconds:.2f} s, queries {r.query_seconds:.2f} s, whole analysis "
        f"{r.seconds:.2f} s; BG/NBD {r.bgnbd!r} (penalty {r.bgnbd_penalizer}), "
        f"{r.gamma_gamma!r}; mean CLV {r.mean_clv:.2f}, simple {r.simple.clv:.2f}"
    )
    assert 0 < r.fit_seconds < 30
