"""What changed and why (kpitools.kpis.drivers): decompositions on fixtures whose answer is
known by construction, then additivity on the demo for every brand.

Fixture "buyers" (brand acme, monthly, report period December 2025)
-------------------------------------------------------------------
- October 2025: customers 1–10 order once each (50 each): they are returning customers from
  then on.
- November 2025 (previous period): customers 1–10 order twice each, 100 an order: buyers 10,
  orders 20, average order 100, revenue **2 000**, all of it from returning customers.
- December 2025: customers 1–10 and customer 11 (first order ever) order twice each, 95 an
  order: buyers **11 (+10 %)**, orders per buyer **2 (unchanged)**, average order **95
  (−5 %)**, revenue 11 × 2 × 95 = **2 090** (+90).
- LMDI: ``L = (2090 − 2000) / ln(2090 / 2000)``; buyers effect ``L · ln 1.1``, orders per buyer
  ``0``, average order ``L · ln 0.95``; they add up to +90 exactly.
- New vs returning: new 0 → 190 (**+190**), returning 2 000 → 1 900 (**−100**).
- Lines: customer 11's orders are on line ``b``, every other order on line ``a``.
- No order in December 2024: no comparison with the year before.

Fixture "mix" (orders)
----------------------
One order per customer. November: line ``a`` 10 orders × 100, line ``b`` 10 orders × 50
(revenue 1 500); December: ``a`` 15 × 100, ``b`` 5 × 50 (1 750). Orders (20) and each line's
revenue per order are unchanged, so the whole change (+250) is mix: ``a`` +500, ``b`` −250,
volume and rate effects 0. The channel (``web`` = line a, ``store`` = line b) gives the same.

Fixture "opportunities" (close rate, open opportunities by product line)
------------------------------------------------------------------------
Decided in November: ``a`` 10 (5 won), ``b`` 10 (2 won): close rate 7 / 20 = 0.35. Decided in
December: ``a`` 15 (9 won), ``b`` 5 (1 won): 10 / 20 = 0.50 (+0.15). Shares of decided
opportunities ``a`` 0.5 → 0.75, ``b`` 0.5 → 0.25; rates ``a`` 0.5 → 0.6, ``b`` 0.2 → 0.2.
Mix: ``a`` 0.25 × 0.55 = 0.1375, ``b`` −0.25 × 0.2 = −0.05 (total **0.0875**); rate: ``a``
0.1 × 0.625 = 0.0625, ``b`` 0 (total **0.0625**); sum 0.15, no residual.
Open at the end of November: ``a`` 3 + the 15 decided in December, ``b`` 1 + 5 (24); at the
end of December: ``a`` 5, ``b`` 1 (6): open opportunities −18, ``a`` −13 and ``b`` −5.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.kpis.drivers import (
    compute_kpi_drivers,
    compute_revenue_drivers,
    compute_what_changed,
    log_mean,
    off_track_kpis,
    product_effects,
    shapley_effects,
)
from kpitools.objectives import evaluate_objectives
from kpitools.params import load_params, parse_params

ROOT = Path(__file__).resolve().parents[1]
DEMO_BRANDS = ["aurora", "bellevue", "castello", "castello-machines"]


def _order(i, customer, when, revenue, line="a", channel="web"):
    return {
        "order_id": i,
        "customer_id": customer,
        "product_line": line,
        "ordered_at": when,
        "revenue": revenue,
        "cost": revenue / 2,
        "channel": channel,
    }


def _buyers_orders():
    rows, i = [], 0
    for c in range(1, 11):
        i += 1
        rows.append(_order(i, c, f"2025-10-{c + 5:02d} 10:00", 50.0))
        for day in (3, 17):
            i += 1
            rows.append(_order(i, c, f"2025-11-{day + c:02d} 10:00", 100.0))
    for c in range(1, 12):
        for day in (2, 16):
            i += 1
            line = "b" if c == 11 else "a"
            rows.append(_order(i, c, f"2025-12-{day + c:02d} 10:00", 95.0, line=line))
    rows.append({**_order(999, 1, "2025-12-05 10:00", 1000.0), "brand": "other"})
    return rows


@pytest.fixture
def buyers(tmp_path):
    db_path = make_db(tmp_path / "buyers.duckdb", {"orders": _buyers_orders()})
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    return connect(params), params


@pytest.fixture
def mix(tmp_path):
    rows, i = [], 0
    for month, n_a, n_b in (("11", 10, 10), ("12", 15, 5)):
        for k in range(n_a):
            i += 1
            rows.append(_order(i, i, f"2025-{month}-{k + 1:02d} 09:00", 100.0, "a", "web"))
        for k in range(n_b):
            i += 1
            rows.append(_order(i, i, f"2025-{month}-{k + 1:02d} 15:00", 50.0, "b", "store"))
    db_path = make_db(tmp_path / "mix.duckdb", {"orders": rows})
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    return connect(params), params


@pytest.fixture
def opportunities(tmp_path):
    rows, i = [], 0

    def opp(line, status, closed=None, created="2025-10-20 09:00"):
        nonlocal i
        i += 1
        rows.append(
            {
                "opportunity_id": i,
                "product_line": line,
                "owner_id": 1,
                "created_at": created,
                "closed_at": closed,
                "status": status,
                "amount": 1000.0,
            }
        )

    for month, decided in (
        ("11", {"a": (10, 5), "b": (10, 2)}),
        ("12", {"a": (15, 9), "b": (5, 1)}),
    ):
        for line, (n, won) in decided.items():
            for k in range(n):
                opp(line, "won" if k < won else "lost", f"2025-{month}-{k + 1:02d} 12:00")
    for line, n in (("a", 3), ("b", 1)):
        for _ in range(n):
            opp(line, "open", created="2025-11-10 09:00")
    for _ in range(2):
        opp("a", "open", created="2025-12-10 09:00")
    db_path = make_db(tmp_path / "opps.duckdb", {"opportunities": rows})
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    return connect(params), params


# -- maths -----------------------------------------------------------------------------------
def test_log_mean_and_exact_splits():
    assert log_mean(5.0, 5.0) == 5.0
    assert log_mean(2.0, 1.0) == pytest.approx(1 / math.log(2))
    before, after = [10.0, 2.0, 100.0], [11.0, 2.0, 95.0]
    e = product_effects(before, after)
    assert sum(e) == pytest.approx(11 * 2 * 95 - 10 * 2 * 100, abs=1e-9)
    assert e[1] == 0.0
    # zeros and negatives: Shapley, still exact
    for b, a in (([0.0, 3.0, 2.0], [4.0, 3.0, 1.0]), ([5.0, -2.0, 1.0], [6.0, 1.0, 3.0])):
        s = shapley_effects(b, a)
        assert sum(s) == pytest.approx(math.prod(a) - math.prod(b), abs=1e-12)
        assert product_effects(b, a) == pytest.approx(s)
    # two factors: Shapley is the midpoint rule
    s = shapley_effects([2.0, 3.0], [4.0, 5.0])
    assert s == pytest.approx([2.0 * (3 + 5) / 2, 2.0 * (2 + 4) / 2])


# -- revenue ---------------------------------------------------------------------------------
def test_revenue_factors_recover_the_planted_changes(buyers):
    db, params = buyers
    d = compute_revenue_drivers(db, params, "2025-12")
    assert d.method == "factors"
    assert [c.against for c in d.comparisons] == ["previous"]  # no order a year before
    c = d.comparisons[0]
    assert (c.before, c.after, c.total) == pytest.approx((2000.0, 2090.0, 90.0))
    f = {p.driver: p for p in c.factors}
    assert (f["buyers"].before, f["buyers"].after) == (10.0, 11.0)
    assert f["buyers"].change == pytest.approx(0.10)
    assert f["orders_per_buyer"].change == pytest.approx(0.0, abs=1e-12)
    assert f["average_order"].change == pytest.approx(-0.05)
    lm = (2090 - 2000) / math.log(2090 / 2000)
    assert f["buyers"].effect == pytest.approx(lm * math.log(1.1))
    assert f["orders_per_buyer"].effect == pytest.approx(0.0, abs=1e-9)
    assert f["average_order"].effect == pytest.approx(lm * math.log(0.95))
    assert sum(p.effect for p in c.factors) == pytest.approx(90.0, abs=1e-9)
    assert abs(c.factor_residual) < 1e-9


def test_new_vs_returning_and_every_split_adds_up(buyers):
    db, params = buyers
    c = compute_revenue_drivers(db, params, "2025-12").comparisons[0]
    ct = {p.driver: p for p in c.splits["customer_type"].parts}
    assert ct["new"].effect == pytest.approx(190.0)
    assert ct["returning"].effect == pytest.approx(-100.0)
    assert (ct["returning"].before, ct["returning"].after) == (2000.0, 1900.0)
    assert set(c.splits) == {"customer_type", "segment", "product_line", "channel"}
    for split in c.splits.values():
        assert sum(p.effect for p in split.parts) + split.residual == pytest.approx(90.0)
        assert abs(split.residual) < 1e-9
        for p in split.parts:  # volume + mix + rate = the group's contribution
            assert p.volume + p.mix + p.rate == pytest.approx(p.effect)
    lines = {p.driver: p.effect for p in c.splits["product_line"].parts}
    assert lines == pytest.approx({"a": -100.0, "b": 190.0})
    # line b appears: its rate is unchanged, all of its contribution is volume and mix
    b = next(p for p in c.splits["product_line"].parts if p.driver == "b")
    assert b.rate == pytest.approx(0.0)


def test_a_mix_shift_with_unchanged_rates_is_all_mix(mix):
    db, params = mix
    c = compute_revenue_drivers(db, params, "2025-12").comparisons[0]
    assert c.total == pytest.approx(250.0)
    for by in ("product_line", "channel"):
        split = c.splits[by]
        assert split.basis == "orders"
        assert split.totals()["volume"] == pytest.approx(0.0, abs=1e-9)
        assert split.totals()["rate"] == pytest.approx(0.0, abs=1e-9)
        assert split.totals()["mix"] == pytest.approx(250.0)
        effects = {p.driver: p.mix for p in split.parts}
        assert effects == pytest.approx(
            {"a": 500.0, "b": -250.0} if by == "product_line" else {"web": 500.0, "store": -250.0}
        )
    assert c.lead in ("product_line", "channel")


# -- other KPIs ------------------------------------------------------------------------------
def test_ratio_kpi_splits_into_mix_and_rate(opportunities):
    db, params = opportunities
    d = compute_kpi_drivers(db, params, "close_rate", "2025-12")
    assert d is not None and d.method == "ratio"
    c = d.comparison("previous")
    assert (c.before, c.after) == pytest.approx((0.35, 0.50))
    split = c.splits["product_line"]
    assert split.method == "mix_rate" and split.basis == "closed_opportunities"
    parts = {p.driver: p for p in split.parts}
    assert parts["a"].mix == pytest.approx(0.1375)
    assert parts["a"].rate == pytest.approx(0.0625)
    assert parts["b"].mix == pytest.approx(-0.05)
    assert parts["b"].rate == pytest.approx(0.0)
    assert split.totals()["mix"] == pytest.approx(0.0875)
    assert split.totals()["rate"] == pytest.approx(0.0625)
    assert abs(split.residual) < 1e-12
    assert c.lead == "product_line"


def test_additive_kpi_by_group_contribution(opportunities):
    db, params = opportunities
    d = compute_kpi_drivers(db, params, "open_opportunities", "2025-12")
    assert d is not None and d.method == "additive"
    c = d.comparison("previous")
    assert (c.before, c.after) == (24.0, 6.0)
    parts = {p.driver: p.effect for p in c.splits["product_line"].parts}
    assert parts == {"a": -13.0, "b": -5.0}
    assert c.splits["product_line"].residual == 0.0


def test_a_kpi_that_cannot_be_decomposed_gets_nothing(opportunities, buyers):
    db, params = opportunities
    assert compute_kpi_drivers(db, params, "nps", "2025-12") is None  # no surveys
    db, params = buyers  # orders only, one dimension with two groups at most
    assert compute_kpi_drivers(db, params, "close_rate", "2025-12") is None


def test_what_changed_is_revenue_then_off_track_objectives(tmp_path):
    rows = _buyers_orders()
    db_path = make_db(tmp_path / "b.duckdb", {"orders": rows})
    objectives = [
        {
            "id": "grow",
            "title": "Grow revenue",
            "kpi": "revenue",
            "baseline": {"value": 2000, "date": "2025-01-01"},
            "target": {"value": 100000},
            "deadline": "2025-12-31",
        },
        {
            "id": "new",
            "title": "More new customers",
            "kpi": "new_customers",
            "baseline": {"value": 1, "date": "2025-01-01"},
            "target": {"value": 50},
            "deadline": "2025-12-31",
        },
    ]
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, objectives=objectives))
    db = connect(params)
    scorecard = compute_kpis(db, params, "2025-12")
    report = evaluate_objectives(params, scorecard)
    assert off_track_kpis(report) == ["revenue", "new_customers"]
    wc = compute_what_changed(db, params, scorecard, report)
    assert [i.id for i in wc] == ["revenue", "new_customers"]
    nc = wc["new_customers"].comparison("previous")
    assert (nc.before, nc.after) == (0.0, 1.0)
    assert {p.driver: p.effect for p in nc.splits["product_line"].parts} == {"b": 1.0}
    assert compute_what_changed(db, params, scorecard).items[0].id == "revenue"


# -- demo ------------------------------------------------------------------------------------
def _demo_params(brand: str, demo_db: Path):
    params_file = ROOT / "params" / f"{brand}.yaml"
    data = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    data["source"]["path"] = str(demo_db)
    return parse_params(data, origin=f"params/{brand}.yaml", base_dir=params_file.parent)


@pytest.mark.slow
@pytest.mark.parametrize("brand", DEMO_BRANDS)
def test_demo_decompositions_add_up(demo_database, brand):
    params = _demo_params(brand, demo_database)
    db = connect(params)
    scorecard = compute_kpis(db, params)
    report = evaluate_objectives(params, scorecard)
    wc = compute_what_changed(db, params, scorecard, report)
    assert wc.items[0].id == "revenue"
    rev = wc["revenue"]
    assert [c.against for c in rev.comparisons] == ["previous", "year_ago"]
    for c in rev.comparisons:
        # the scorecard's revenue is the decomposed one
        base = scorecard["revenue"].previous if c.against == "previous" else None
        assert c.after == pytest.approx(scorecard["revenue"].value)
        if base is not None:
            assert c.before == pytest.approx(base)
        assert sum(p.effect for p in c.factors) == pytest.approx(c.total, rel=1e-9)
        assert set(c.splits) >= {"customer_type", "segment", "product_line", "channel"}
        for split in c.splits.values():
            assert sum(p.effect for p in split.parts) == pytest.approx(c.total, rel=1e-9)
            assert abs(split.residual) < 1e-6
    for item in wc.items[1:]:
        assert item.id in off_track_kpis(report)
        for c in item.comparisons:
            assert c.total == pytest.approx(c.after - c.before)
            for split in c.splits.values():
                if split.adds_up:
                    total = sum(p.effect for p in split.parts) + split.residual
                    assert total == pytest.approx(c.total, rel=1e-9, abs=1e-9)
    doc = wc.to_dict()
    assert doc["kpis"]["revenue"]["comparisons"]["previous"]["factor_residual"] == pytest.approx(
        0.0, abs=1e-6
    )
    assert datetime.fromisoformat(wc.period.start.isoformat())  # a plain period
