"""Objectives → strategies → metrics: params models, pacing, statuses, roll-up, reviews, actions.

Every expected number is worked out by hand in the comments. The dates are chosen so that the
pacing share is simple: baseline on 1 January 2025, deadline on 4 March 2025 (62 days later),
report period January 2025, whose end (the first day after it) is 1 February 2025, 31 days
after the baseline: f = 31 / 62 = 0.5.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from kpitools.errors import ParamsError
from kpitools.kpis.compute import KpiResult, Reason, Scorecard
from kpitools.kpis.registry import get_kpi
from kpitools.objectives import (
    MetricTarget,
    Objective,
    evaluate_objectives,
    is_review_point,
    next_review,
    objective_kpi_ids,
    pacing_fraction,
    parse_change,
    parse_tolerance,
    rollup,
)
from kpitools.params import load_params, parse_params
from kpitools.periods import parse_period
from kpitools.report.objectives import objectives_document, rule_text
from kpitools.vocab import Status

FILE = "params/acme.yaml"

BASE = {
    "brand": "acme",
    "name": "Acme",
    "locale": "en",
    "currency": "EUR",
    "period": {"grain": "month"},
    "source": {"kind": "duckdb", "path": "../data/acme.duckdb"},
}

#: the seed's example, as written: +10 % revenue from new customers, by selling solutions,
#: followed by the average deal size and the revenue per salesperson
SEED_YAML = """
objectives:
  - id: new-customer-revenue
    title: Grow revenue from new customers by 10 %
    kpi: new_customer_revenue
    baseline: {value: 88000, date: 2025-01-01}
    target: {change: +10%}
    deadline: 2025-12-31
    strategies:
      - title: Increase deals by selling solutions rather than single products
        function: sales
        metrics:
          - kpi: average_deal_size
            target: {min: 2500}
          - kpi: won_amount_per_rep
            target: {min: 2000}
"""


def card(period: str = "2025-01", grain: str = "month", **values) -> Scorecard:
    """A scorecard by hand: ``kpi_id=value``; None is 'no data', 'na' is 'not available'."""
    results = {}
    for kpi_id, v in values.items():
        k = get_kpi(kpi_id)
        if v is None:
            results[kpi_id] = KpiResult(k, "no_data", reason=Reason.NO_DATA)
        elif v == "na":
            results[kpi_id] = KpiResult(
                k, "not_available", reason=Reason.NEEDS_TABLE, missing_tables=("cases",)
            )
        else:
            results[kpi_id] = KpiResult(k, "ok", value=float(v))
    return Scorecard(brand="acme", period=parse_period(period, grain), results=results)


def objective(**changes) -> Objective:
    """Revenue from 100 (1 Jan 2025) to 200 by 4 March 2025: expected 150 in January."""
    data = {
        "id": "grow",
        "title": "Grow revenue",
        "kpi": "revenue",
        "baseline": {"value": 100, "date": "2025-01-01"},
        "target": {"value": 200},
        "deadline": "2025-03-04",
        "review": "monthly",
    }
    data.update(changes)
    return Objective.model_validate(data)


def metric(kpi: str, **changes) -> dict:
    return {"kpi": kpi, **changes}


def strategy(*metrics, function: str = "sales", **changes) -> dict:
    return {
        "title": f"{function} strategy",
        "function": function,
        "metrics": list(metrics),
        **changes,
    }


def one(obj: Objective, sc: Scorecard):
    return evaluate_objectives([obj], sc).objectives[0]


# --------------------------------------------------------------------------------------
# Pacing
# --------------------------------------------------------------------------------------


def test_pacing_fraction_by_hand():
    start, deadline = date(2025, 1, 1), date(2025, 3, 4)
    assert pacing_fraction(date(2024, 12, 1), start, deadline) == 0.0  # before the baseline
    assert pacing_fraction(start, start, deadline) == 0.0
    assert pacing_fraction(date(2025, 2, 1), start, deadline) == 0.5  # 31 / 62
    assert pacing_fraction(deadline, start, deadline) == 1.0
    assert pacing_fraction(date(2026, 1, 1), start, deadline) == 1.0  # past it


def test_before_the_baseline_date_the_kpi_must_hold_the_baseline():
    # baseline on 1 March 2025: January ends on 1 February, before it, so f = 0 and the
    # expected value is the baseline, 100; 5 % tolerance: at risk down to 95
    o = objective(baseline={"value": 100, "date": "2025-03-01"}, deadline="2025-12-31")
    r = one(o, card(revenue=100))
    assert (r.fraction, r.expected, r.target) == (0.0, 100.0, 200.0)
    assert r.status == Status.ON_TRACK and r.gap == 0.0
    assert one(o, card(revenue=96)).status == Status.AT_RISK  # misses by 4 <= 5
    assert one(o, card(revenue=94)).status == Status.OFF_TRACK  # misses by 6 > 5
    # a period ending exactly on the baseline date: still f = 0
    assert one(o, card("2025-02", revenue=100)).fraction == 0.0


def test_mid_way_expected_value_gap_and_relative_gap():
    # f = 0.5: expected 100 + (200 - 100) * 0.5 = 150
    o = objective()
    r = one(o, card(revenue=150))
    assert r.fraction == 0.5 and r.expected == 150.0
    assert r.status == Status.ON_TRACK and r.gap == 0.0
    r = one(o, card(revenue=160))
    assert (
        r.status == Status.ON_TRACK and r.gap == 10.0 and r.relative_gap == pytest.approx(10 / 150)
    )
    # tolerance 5 % of 150 = 7.5: at risk down to 142.5, off track below
    r = one(o, card(revenue=143))
    assert r.status == Status.AT_RISK and r.gap == -7.0
    r = one(o, card(revenue=142))
    assert r.status == Status.OFF_TRACK
    assert r.gap == -8.0 and r.relative_gap == pytest.approx(-8 / 150)


def test_tolerance_boundary_is_at_risk_just_beyond_is_off_track():
    o = objective()  # expected 150, band 7.5
    assert one(o, card(revenue=142.5)).status == Status.AT_RISK  # misses by exactly 7.5
    assert one(o, card(revenue=142.49)).status == Status.OFF_TRACK
    tight = objective(tolerance=0)
    assert one(tight, card(revenue=149.99)).status == Status.OFF_TRACK
    wide = objective(tolerance="20%")  # 20 % of 150 = 30
    assert one(wide, card(revenue=120)).status == Status.AT_RISK
    assert one(wide, card(revenue=119.9)).status == Status.OFF_TRACK


def test_points_tolerance_on_a_ratio_is_in_percentage_points():
    # retention 0.50 -> 0.70, expected 0.60 in January; "2 pts" = 0.02: at risk down to 0.58
    o = objective(
        kpi="retention_rate",
        baseline={"value": 0.50, "date": "2025-01-01"},
        target={"value": 0.70},
        tolerance="2 pts",
    )
    r = one(o, card(retention_rate=0.58))
    assert r.expected == pytest.approx(0.60) and r.status == Status.AT_RISK
    assert r.gap == pytest.approx(-0.02)
    assert one(o, card(retention_rate=0.579)).status == Status.OFF_TRACK
    # the default 5 % relative tolerance is 5 % of 0.60 = 0.03
    relative = objective(
        kpi="retention_rate",
        baseline={"value": 0.50, "date": "2025-01-01"},
        target={"value": 0.70},
    )
    assert one(relative, card(retention_rate=0.571)).status == Status.AT_RISK
    assert one(relative, card(retention_rate=0.569)).status == Status.OFF_TRACK


def test_on_the_deadline_and_past_it_the_full_target_applies():
    # the deadline is 1 February 2025, the end of January: f = 1, expected 200
    o = objective(deadline="2025-02-01")
    r = one(o, card(revenue=200))
    assert r.fraction == 1.0 and r.expected == 200.0 and r.status == Status.ON_TRACK
    assert not r.deadline_passed
    # a deadline inside the period: f = 1 too
    assert one(objective(deadline="2025-01-20"), card(revenue=1)).fraction == 1.0
    # June 2025, months past the 4 March deadline
    r = one(objective(), card("2025-06", revenue=170))
    assert r.fraction == 1.0 and r.expected == 200.0
    assert r.status == Status.OFF_TRACK and r.gap == -30.0  # 30 > 5 % of 200
    assert r.deadline_passed


def test_lower_is_better_outcome():
    # resolution hours from 40 to 20: expected 30 in January; at risk up to 30 + 1.5
    o = objective(
        kpi="avg_resolution_hours",
        baseline={"value": 40, "date": "2025-01-01"},
        target={"value": 20},
    )
    r = one(o, card(avg_resolution_hours=29))
    assert r.expected == 30.0 and r.status == Status.ON_TRACK and r.gap == -1.0
    r = one(o, card(avg_resolution_hours=31.5))
    assert r.status == Status.AT_RISK and r.gap == 1.5
    assert one(o, card(avg_resolution_hours=31.6)).status == Status.OFF_TRACK


def test_lower_is_better_change_target():
    # churn 0.30 "-5 pts" -> 0.25; expected 0.275 in January
    o = objective(
        kpi="churn_rate",
        baseline={"value": 0.30, "date": "2025-01-01"},
        target={"change": "-5 pts"},
    )
    r = one(o, card(churn_rate=0.27))
    assert r.target == pytest.approx(0.25) and r.expected == pytest.approx(0.275)
    assert r.status == Status.ON_TRACK
    assert one(o, card(churn_rate=0.30)).status == Status.OFF_TRACK  # 0.025 > 5 % of 0.275


def test_relative_change_targets():
    assert parse_change("+10%") == ("relative", pytest.approx(0.10))
    assert parse_change("-5 %") == ("relative", pytest.approx(-0.05))
    assert parse_change("+3 pts") == ("points", 3.0)
    assert parse_change("-2,5 pp") == ("points", -2.5)
    assert parse_change(3) == ("points", 3.0)
    # +10 % of 88 000 = 96 800 (the seed's example)
    assert objective(
        kpi="new_customer_revenue",
        baseline={"value": 88000, "date": "2025-01-01"},
        target={"change": "+10%"},
    ).target_value() == pytest.approx(96800)
    assert objective().target_value() == 200  # a value target is taken as is
    # relative to the baseline's magnitude: an NPS of -10 improved by 10 % is -9
    nps = objective(
        kpi="nps", baseline={"value": -10, "date": "2025-01-01"}, target={"change": "+10%"}
    )
    assert nps.target_value() == pytest.approx(-9)
    # points: percentage points for a ratio, the unit otherwise
    rate = objective(
        kpi="retention_rate",
        baseline={"value": 0.6, "date": "2025-01-01"},
        target={"change": "+3 pts"},
    )
    assert rate.target_value() == pytest.approx(0.63)
    score = objective(kpi="nps", baseline={"value": 30, "date": "2025-01-01"}, target={"change": 3})
    assert score.target_value() == 33
    # -5 % of 40 hours = 38
    hours = objective(
        kpi="avg_resolution_hours",
        baseline={"value": 40, "date": "2025-01-01"},
        target={"change": "-5%"},
    )
    assert hours.target_value() == pytest.approx(38)


def test_parse_tolerance():
    assert parse_tolerance(0.05) == ("relative", 0.05)
    assert parse_tolerance("5%") == ("relative", pytest.approx(0.05))
    assert parse_tolerance("2 pts") == ("points", 2.0)
    for bad in (-0.1, 5, "+2 pts", "lots"):
        with pytest.raises(ValueError):
            parse_tolerance(bad)


# --------------------------------------------------------------------------------------
# Metrics: one-sided, ranges, paced
# --------------------------------------------------------------------------------------


def metric_result(m: dict, sc: Scorecard, **obj):
    o = objective(strategies=[strategy(m)], **obj)
    return one(o, sc).strategies[0].metrics[0]


def test_one_sided_metric_without_baseline_compares_with_the_bound():
    m = metric("average_deal_size", target={"min": 2000})
    r = metric_result(m, card(revenue=150, average_deal_size=2100))
    assert r.status == Status.ON_TRACK and r.expected_min == 2000 and r.gap == 100
    assert r.fraction is None
    # 5 % of 2000 = 100
    assert metric_result(m, card(revenue=150, average_deal_size=1900)).status == Status.AT_RISK
    assert metric_result(m, card(revenue=150, average_deal_size=1899)).status == Status.OFF_TRACK
    m = metric("avg_resolution_hours", target={"max": 24})
    r = metric_result(m, card(revenue=150, avg_resolution_hours=25))
    assert r.status == Status.AT_RISK and r.gap == 1.0  # 1 <= 5 % of 24 = 1.2
    assert metric_result(m, card(revenue=150, avg_resolution_hours=25.3)).status == Status.OFF_TRACK


def test_range_targets():
    # CSAT mean score between 3.8 and 4.6: bands 5 % of 3.8 = 0.19 below, 5 % of 4.6 = 0.23 above
    m = metric("csat_mean_score", target={"min": 3.8, "max": 4.6})

    def at(v):
        return metric_result(m, card(revenue=150, csat_mean_score=v))

    r = at(4.0)
    assert r.status == Status.ON_TRACK and r.gap == 0.0
    r = at(3.7)
    assert r.status == Status.AT_RISK and r.gap == pytest.approx(-0.1)
    assert at(3.62).status == Status.AT_RISK  # 0.18 <= 0.19
    assert at(3.6).status == Status.OFF_TRACK  # 0.2 > 0.19
    r = at(4.7)
    assert r.status == Status.AT_RISK and r.gap == pytest.approx(0.1)
    assert at(4.9).status == Status.OFF_TRACK
    assert at(4.6).status == Status.ON_TRACK  # on the bound


def test_metric_with_baseline_is_paced_towards_the_objectives_deadline():
    # deal size from 2000 (1 Jan) to at least 3000 by 4 March: at least 2500 in January
    m = metric(
        "average_deal_size",
        baseline={"value": 2000, "date": "2025-01-01"},
        target={"min": 3000},
    )
    r = metric_result(m, card(revenue=150, average_deal_size=2500))
    assert (r.fraction, r.expected_min, r.target_min) == (0.5, 2500.0, 3000.0)
    assert r.status == Status.ON_TRACK
    assert metric_result(m, card(revenue=150, average_deal_size=2300)).status == Status.OFF_TRACK
    # a bound the baseline already meets is held, not paced
    held = metric(
        "average_deal_size",
        baseline={"value": 3500, "date": "2025-01-01"},
        target={"min": 3000},
    )
    assert metric_result(held, card(revenue=150, average_deal_size=3000)).expected_min == 3000


def test_metric_change_target_from_its_baseline():
    # +10 % of 2000 = a min of 2200, paced: 2100 in January
    up = metric(
        "average_deal_size",
        baseline={"value": 2000, "date": "2025-01-01"},
        target={"change": "+10%"},
    )
    r = metric_result(up, card(revenue=150, average_deal_size=2100))
    assert r.target_min == pytest.approx(2200) and r.target_max is None
    assert r.expected_min == pytest.approx(2100) and r.status == Status.ON_TRACK
    # lower is better: -10 % of 40 hours = a max of 36, paced: 38 in January
    down = metric(
        "avg_resolution_hours",
        baseline={"value": 40, "date": "2025-01-01"},
        target={"change": "-10%"},
    )
    r = metric_result(down, card(revenue=150, avg_resolution_hours=38))
    assert r.target_max == pytest.approx(36) and r.expected_max == pytest.approx(38)
    assert r.status == Status.ON_TRACK


def test_metric_tolerance_defaults_to_the_objectives():
    m = metric("average_deal_size", target={"min": 2000})
    # objective tolerance 10 %: at risk down to 1800
    r = metric_result(m, card(revenue=150, average_deal_size=1850), tolerance=0.10)
    assert r.status == Status.AT_RISK
    own = metric("average_deal_size", target={"min": 2000}, tolerance=0)
    assert (
        metric_result(own, card(revenue=150, average_deal_size=1999), tolerance=0.10).status
        == Status.OFF_TRACK
    )


# --------------------------------------------------------------------------------------
# Missing values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, kpi_status",
    [({"revenue": None}, "no_data"), ({"revenue": "na"}, "not_available"), ({}, "missing")],
)
def test_missing_outcome_is_unknown_never_on_track(values, kpi_status):
    r = one(objective(), card(**values))
    assert r.value is None and r.kpi_status == kpi_status
    assert r.outcome_status == Status.UNKNOWN and r.status == Status.UNKNOWN
    assert r.gap is None and r.relative_gap is None
    assert r.actions == []


def test_missing_metric_keeps_the_rollup_from_claiming_on_track():
    o = objective(
        strategies=[
            strategy(
                metric("average_deal_size", target={"min": 2000}),
                metric("close_rate", target={"min": 0.3}),
            )
        ]
    )
    r = one(o, card(revenue=150, average_deal_size=2100))  # close_rate not in the scorecard
    s = r.strategies[0]
    assert [m.status for m in s.metrics] == [Status.ON_TRACK, Status.UNKNOWN]
    assert s.metrics[1].kpi_status == "missing"
    assert s.status == Status.UNKNOWN and r.status == Status.UNKNOWN
    # a known problem is still reported
    r = one(o, card(revenue=150, average_deal_size=1000, close_rate=None))
    assert r.strategies[0].status == Status.OFF_TRACK and r.status == Status.OFF_TRACK


# --------------------------------------------------------------------------------------
# Roll-up
# --------------------------------------------------------------------------------------


def test_rollup_worst():
    assert rollup([Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK], "worst") == Status.OFF_TRACK
    assert rollup([Status.ON_TRACK, Status.AT_RISK], "worst") == Status.AT_RISK
    assert rollup([Status.ON_TRACK, Status.ON_TRACK], "worst") == Status.ON_TRACK
    assert (
        rollup([Status.ON_TRACK, Status.UNKNOWN], "worst") == Status.UNKNOWN
    )  # on track only when all is known
    assert (
        rollup([Status.AT_RISK, Status.UNKNOWN], "worst") == Status.AT_RISK
    )  # a known problem stands
    assert rollup([Status.UNKNOWN], "worst") == Status.UNKNOWN
    assert rollup([], "worst") == Status.UNKNOWN


def test_rollup_majority_with_ties_to_the_worse():
    assert (
        rollup([Status.ON_TRACK, Status.ON_TRACK, Status.OFF_TRACK], "majority") == Status.ON_TRACK
    )
    assert rollup([Status.ON_TRACK, Status.OFF_TRACK], "majority") == Status.OFF_TRACK  # 1-1 tie
    assert rollup([Status.ON_TRACK, Status.AT_RISK], "majority") == Status.AT_RISK
    assert (
        rollup(
            [Status.ON_TRACK, Status.AT_RISK, Status.AT_RISK, Status.OFF_TRACK, Status.OFF_TRACK],
            "majority",
        )
        == Status.OFF_TRACK
    )
    assert (
        rollup([Status.AT_RISK, Status.AT_RISK, Status.OFF_TRACK, Status.ON_TRACK], "majority")
        == Status.AT_RISK
    )
    assert (
        rollup([Status.OFF_TRACK, Status.OFF_TRACK, Status.ON_TRACK, Status.UNKNOWN], "majority")
        == Status.OFF_TRACK
    )
    assert (
        rollup([Status.ON_TRACK, Status.ON_TRACK, Status.AT_RISK, Status.UNKNOWN], "majority")
        == Status.UNKNOWN
    )
    assert rollup([Status.UNKNOWN, Status.UNKNOWN], "majority") == Status.UNKNOWN
    with pytest.raises(ValueError, match="roll-up"):
        rollup([Status.ON_TRACK], "best")


def test_objective_rollup_combines_outcome_and_every_metric():
    strategies = [
        strategy(metric("average_deal_size", target={"min": 2000})),
        strategy(
            metric("campaign_response_rate", target={"min": 0.05}),
            function="marketing",
        ),
    ]
    sc = card(revenue=160, average_deal_size=2100, campaign_response_rate=0.01)
    # outcome on, deal size on, response rate off
    worst = one(objective(strategies=strategies, rollup="worst"), sc)
    assert [s.status for s in worst.strategies] == [Status.ON_TRACK, Status.OFF_TRACK]
    assert worst.outcome_status == Status.ON_TRACK and worst.status == Status.OFF_TRACK
    majority = one(objective(strategies=strategies, rollup="majority"), sc)
    assert majority.status == Status.ON_TRACK  # two on track against one off track
    # 1 on track, 1 off track (outcome): a tie goes to the worse
    sc = card(revenue=100, average_deal_size=2100, campaign_response_rate=None)
    assert (
        one(objective(strategies=strategies[:1], rollup="majority"), sc).status == Status.OFF_TRACK
    )


# --------------------------------------------------------------------------------------
# Review cadence
# --------------------------------------------------------------------------------------


def test_review_points():
    month = lambda s: parse_period(s, "month")  # noqa: E731
    assert all(is_review_point(month(f"2025-{m:02d}"), "monthly") for m in range(1, 13))
    assert [m for m in range(1, 13) if is_review_point(month(f"2025-{m:02d}"), "quarterly")] == [
        3,
        6,
        9,
        12,
    ]
    assert [m for m in range(1, 13) if is_review_point(month(f"2025-{m:02d}"), "yearly")] == [12]
    # quarterly and yearly reports end on a quarter end; a year ends in December
    assert is_review_point(parse_period("2025-Q2", "quarter"), "quarterly")
    assert not is_review_point(parse_period("2025-Q2", "quarter"), "yearly")
    assert is_review_point(parse_period("2025-Q4", "quarter"), "yearly")
    assert is_review_point(parse_period("2025", "year"), "yearly")
    # the period holding the deadline is always a review point
    assert is_review_point(month("2025-05"), "yearly", deadline=date(2025, 5, 15))
    assert not is_review_point(month("2025-05"), "yearly", deadline=date(2025, 6, 15))


def test_next_review():
    month = lambda s: parse_period(s, "month")  # noqa: E731
    assert next_review(month("2025-04"), "quarterly") == date(2025, 6, 30)
    assert next_review(month("2025-12"), "quarterly") == date(2026, 3, 31)
    assert next_review(month("2025-04"), "yearly") == date(2025, 12, 31)
    assert next_review(month("2025-04"), "monthly") == date(2025, 5, 31)
    assert next_review(month("2025-04"), "quarterly", deadline=date(2025, 5, 15)) == date(
        2025, 5, 15
    )


def test_between_reviews_in_the_report():
    o = objective(review="quarterly", deadline="2025-12-31")
    r = one(o, card("2025-04", revenue=150))
    assert r.review_point is False and r.next_review == date(2025, 6, 30)
    assert r.status in (
        Status.ON_TRACK,
        Status.AT_RISK,
        Status.OFF_TRACK,
    )  # the status is still given
    r = one(o, card("2025-06", revenue=150))
    assert r.review_point is True and r.next_review is None


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


def test_actions_for_what_is_at_risk_or_off_track_in_tree_order():
    o = objective(
        actions=["escalate to the board"],
        strategies=[
            strategy(
                metric("average_deal_size", target={"min": 2000}, actions=["bundle offers"]),
                metric("close_rate", target={"min": 0.30}, actions=["coach the reps"]),
                actions=["solution-selling workshop"],
            ),
            strategy(
                metric("nps", target={"min": 30}, actions=["call detractors"]),
                function="service",
                actions=["review the service desk"],
            ),
        ],
    )
    # outcome 143: at risk; deal size 1950: at risk (5 % of 2000 = 100); close rate on;
    # NPS 20: off track (10 > 1.5)
    sc = card(revenue=143, average_deal_size=1950, close_rate=0.35, nps=20)
    r = one(o, sc)
    assert r.status == Status.OFF_TRACK
    got = [(a.level, a.status, a.text) for a in r.actions]
    assert got == [
        ("objective", Status.OFF_TRACK, "escalate to the board"),
        ("strategy", Status.AT_RISK, "solution-selling workshop"),
        ("metric", Status.AT_RISK, "bundle offers"),
        ("strategy", Status.OFF_TRACK, "review the service desk"),
        ("metric", Status.OFF_TRACK, "call detractors"),
    ]
    assert r.strategies[0].metrics[1].actions == []  # on track: nothing to do
    # everything on track: nothing to do
    r = one(o, card(revenue=150, average_deal_size=2000, close_rate=0.35, nps=30))
    assert r.status == Status.ON_TRACK and r.actions == []


def test_an_action_named_at_two_levels_is_listed_once():
    o = objective(
        actions=["review pricing"],
        strategies=[
            strategy(metric("average_deal_size", target={"min": 2000}, actions=["review pricing"]))
        ],
    )
    r = one(o, card(revenue=100, average_deal_size=1000))
    assert [(a.level, a.text) for a in r.actions] == [("objective", "review pricing")]


# --------------------------------------------------------------------------------------
# The report object
# --------------------------------------------------------------------------------------


def test_counts_to_dict_and_rule_text():
    on = objective(id="on")
    off = objective(
        id="off", kpi="nps", baseline={"value": 30, "date": "2025-01-01"}, target={"value": 40}
    )
    unknown = objective(
        id="unknown",
        kpi="csat_mean_score",
        baseline={"value": 3.5, "date": "2025-01-01"},
        target={"value": 4},
    )
    rep = evaluate_objectives([on, off, unknown], card(revenue=150, nps=10))
    assert rep.counts() == {
        Status.ON_TRACK: 1,
        Status.AT_RISK: 0,
        Status.OFF_TRACK: 1,
        Status.UNKNOWN: 1,
    }
    d = rep.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["period"] == "2025-01" and d["counts"] == rep.counts()
    first = d["objectives"][0]
    assert first["id"] == "on" and first["target"] == 200 and first["expected"] == 150
    assert first["value"] == 150 and first["status"] == Status.ON_TRACK and first["gap"] == 0
    assert first["baseline"] == {"value": 100, "date": "2025-01-01"}
    assert d["objectives"][2]["value"] is None and d["objectives"][2]["status"] == Status.UNKNOWN
    assert rep["off"].status == Status.OFF_TRACK
    texts = {loc: rule_text(loc) for loc in ("en", "fr", "it")}
    assert len(set(texts.values())) == 3
    assert "straight line" in texts["en"] and "ligne droite" in texts["fr"]
    assert "linea retta" in texts["it"]
    assert rule_text("de") == texts["en"]
    # the computation holds no words and no HTML: those come from kpitools.report
    assert not hasattr(rep, "rule_text") and not hasattr(rep, "_repr_html_")


@pytest.mark.parametrize(
    "values, kpi_status, reason",
    [
        ({"revenue": None}, "no_data", "no data in period"),
        ({"revenue": "na"}, "not_available", "needs table cases"),
        ({}, "missing", "not in the scorecard"),
    ],
)
def test_reasons_are_codes_in_the_results_and_words_in_kpis_json(values, kpi_status, reason):
    o = objective(strategies=[strategy(metric("close_rate", target={"min": 0.3}))])
    rep = evaluate_objectives([o], card(**values))
    doc = objectives_document(rep)
    json.dumps(doc, allow_nan=False)
    first = doc["objectives"][0]
    assert first["kpi_status"] == kpi_status and first["reason"] == reason
    # the metric's KPI is not in the scorecard in any of the cases
    m = first["strategies"][0]["metrics"][0]
    assert m["kpi_status"] == "missing" and m["reason"] == "not in the scorecard"
    # to_dict carries codes only: the scorecard's reason code, no phrase
    plain = rep.to_dict()["objectives"][0]
    code = {"no_data": Reason.NO_DATA, "not_available": Reason.NEEDS_TABLE, "missing": None}
    assert plain["reason"] == code[kpi_status]
    assert rep.objectives[0].missing_tables == (("cases",) if kpi_status == "not_available" else ())
    assert plain["strategies"][0]["metrics"][0]["reason"] is None
    # apart from the reasons, the document is to_dict
    full = rep.to_dict()
    for d in (doc, full):
        d["objectives"][0]["reason"] = None
        d["objectives"][0]["strategies"][0]["metrics"][0]["reason"] = None
    assert doc == full
    # a KPI result without a reason of its own
    sc = card()
    sc.results["revenue"] = KpiResult(get_kpi("revenue"), "no_data")
    doc = objectives_document(evaluate_objectives([o], sc))
    assert doc["objectives"][0]["reason"] == "no data in period"
    # a KPI with a value has no reason
    ok = objectives_document(evaluate_objectives([o], card(revenue=150, close_rate=0.4)))
    assert ok["objectives"][0]["reason"] is None
    assert ok["objectives"][0]["strategies"][0]["metrics"][0]["reason"] is None


def test_to_dict_metrics_carry_target_expected_value_status_gap_and_actions():
    o = objective(
        strategies=[
            strategy(
                metric(
                    "average_deal_size",
                    baseline={"value": 2000, "date": "2025-01-01"},
                    target={"min": 3000},
                    actions=["bundle offers"],
                )
            )
        ]
    )
    d = evaluate_objectives([o], card(revenue=150, average_deal_size=2000)).to_dict()
    m = d["objectives"][0]["strategies"][0]["metrics"][0]
    assert m["target"] == {"min": 3000, "max": None}
    assert m["expected"] == {"min": 2500, "max": None}
    assert m["value"] == 2000 and m["status"] == Status.OFF_TRACK and m["gap"] == -500
    assert m["actions"] == ["bundle offers"]
    assert d["objectives"][0]["actions"][0]["text"] == "bundle offers"


def test_evaluate_accepts_params_and_dicts(project):
    data = {**BASE, **yaml.safe_load(SEED_YAML)}
    p = parse_params(data, origin=FILE)
    sc = card(
        "2025-12",
        new_customer_revenue=100_000,
        average_deal_size=2600,
        won_amount_per_rep=2100,
    )
    rep = evaluate_objectives(p, sc)
    assert rep.objectives[0].status == Status.ON_TRACK
    assert objective_kpi_ids(p) == [
        "new_customer_revenue",
        "average_deal_size",
        "won_amount_per_rep",
    ]
    again = evaluate_objectives(yaml.safe_load(SEED_YAML)["objectives"], sc)
    assert again.to_dict() == rep.to_dict()
    with pytest.raises(ParamsError) as exc:
        evaluate_objectives([{"id": "x", "title": "X", "kpi": "revenu"}], sc)
    assert "objectives.0.kpi: unknown KPI 'revenu'" in str(exc.value)


# --------------------------------------------------------------------------------------
# Params: the seed's example, and one clear line per problem
# --------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    (tmp_path / "params").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems(objectives: list) -> list[str]:
    Path(FILE).write_text(yaml.safe_dump({**BASE, "objectives": objectives}, sort_keys=False))
    with pytest.raises(ParamsError) as exc:
        load_params(FILE)
    return exc.value.problems


def good(**changes) -> dict:
    data = {
        "id": "grow",
        "title": "Grow",
        "kpi": "new_customer_revenue",
        "baseline": {"value": 88000, "date": "2025-01-01"},
        "target": {"change": "+10%"},
        "deadline": "2025-12-31",
        "strategies": [
            {
                "title": "Sell solutions",
                "function": "sales",
                "metrics": [{"kpi": "average_deal_size", "target": {"min": 2500}}],
            }
        ],
    }
    data.update(changes)
    return data


def test_the_seeds_example_is_expressible_as_written(project):
    Path(FILE).write_text(yaml.safe_dump(BASE) + SEED_YAML)
    p = load_params(FILE)
    (o,) = p.objectives
    assert o.kpi == "new_customer_revenue" and o.target.change == "+10%"
    assert o.target_value() == pytest.approx(96800)
    assert o.deadline == date(2025, 12, 31) and o.review == "quarterly" and o.rollup == "worst"
    (s,) = o.strategies
    assert s.function == "sales"
    assert [m.kpi for m in s.metrics] == ["average_deal_size", "won_amount_per_rep"]
    assert isinstance(s.metrics[0], MetricTarget)


def test_no_objectives_by_default(project):
    Path(FILE).write_text(yaml.safe_dump(BASE))
    assert load_params(FILE).objectives == []


def test_unknown_objective_kpi_names_file_field_and_close_matches(project):
    (line,) = problems([good(kpi="new_customer_revenu")])
    assert line.startswith(
        f"{FILE}: objectives.0.kpi: unknown KPI 'new_customer_revenu'; did you mean "
        "new_customer_revenue"
    )


def test_unknown_metric_kpi_names_its_path(project):
    o = good()
    o["strategies"][0]["metrics"][0]["kpi"] = "average_deal_sise"
    (line,) = problems([o])
    assert line.startswith(
        f"{FILE}: objectives.0.strategies.0.metrics.0.kpi: unknown KPI 'average_deal_sise'; "
        "did you mean average_deal_size"
    )


def test_deadline_before_the_baseline_date(project):
    assert problems([good(deadline="2024-12-31")]) == [
        f"{FILE}: objectives.0.deadline: deadline 2024-12-31 is before the baseline date 2025-01-01"
    ]
    assert problems([good(deadline="2025-01-01")]) == [
        f"{FILE}: objectives.0.deadline: deadline 2025-01-01 is the same day as the baseline "
        "date 2025-01-01"
    ]


def test_min_greater_than_max(project):
    o = good()
    o["strategies"][0]["metrics"][0]["target"] = {"min": 0.5, "max": 0.4}
    assert problems([o]) == [
        f"{FILE}: objectives.0.strategies.0.metrics.0.target: min (0.5) is greater than max (0.4)"
    ]


def test_unknown_rollup_review_and_function(project):
    o = good(rollup="best", review="weekly")
    o["strategies"][0]["function"] = "finance"
    assert problems([o]) == [
        f"{FILE}: objectives.0.review: Input should be 'monthly', 'quarterly' or 'yearly'",
        f"{FILE}: objectives.0.rollup: Input should be 'worst' or 'majority'",
        f"{FILE}: objectives.0.strategies.0.function: Input should be 'marketing', 'sales' or "
        "'service'",
    ]


def test_misspelt_key_is_an_unknown_field(project):
    o = good()
    o["strategies"][0]["metric"] = o["strategies"][0].pop("metrics")
    lines = problems([o])
    assert (
        f"{FILE}: objectives.0.strategies.0.metric: unknown field (not allowed here; check the spelling)"
        in lines
    )
    assert f"{FILE}: objectives.0.strategies.0.metrics: Field required" in lines


def test_bad_targets(project):
    assert problems([good(target={"value": 1, "change": "+10%"})]) == [
        f"{FILE}: objectives.0.target: give either a value (value: 120000) or a change from the "
        "baseline (change: +10%), not both"
    ]
    (line,) = problems([good(target={"change": "ten percent"})])
    assert line.startswith(f"{FILE}: objectives.0.target: change 'ten percent' is not a change")
    # a target worse than the baseline is a sign error
    (line,) = problems([good(target={"change": "-10%"})])
    assert line.startswith(
        f"{FILE}: objectives.0.target: the target (79,200) is worse than the baseline"
    )
    (line,) = problems([good(baseline={"value": 0, "date": "2025-01-01"})])
    assert "a relative change needs a non-zero baseline value" in line


def test_bad_metrics(project):
    o = good()
    o["strategies"][0]["metrics"] = []
    assert problems([o]) == [
        f"{FILE}: objectives.0.strategies.0.metrics: a strategy needs at least one metric to follow it"
    ]
    o = good()
    o["strategies"][0]["metrics"][0]["target"] = {"change": "+10%"}
    assert problems([o]) == [
        f"{FILE}: objectives.0.strategies.0.metrics.0.target: a change needs the metric's "
        "baseline {value, date}"
    ]
    o = good()
    o["strategies"][0]["metrics"][0]["target"] = {}
    (line,) = problems([o])
    assert line.startswith(f"{FILE}: objectives.0.strategies.0.metrics.0.target: give min, max")
    o = good()
    o["strategies"][0]["metrics"][0]["baseline"] = {"value": 2000, "date": "2026-01-01"}
    (line,) = problems([o])
    assert line == (
        f"{FILE}: objectives.0.strategies: 0.metrics.0.baseline.date: 2026-01-01 is not before "
        "the objective's deadline 2025-12-31"
    )


def test_bad_tolerance_and_id(project):
    (line,) = problems([good(tolerance=5)])
    assert line.startswith(f"{FILE}: objectives.0.tolerance: tolerance 5")
    (line,) = problems([good(id="Grow Revenue")])
    assert line.startswith(f"{FILE}: objectives.0.id: id 'Grow Revenue': use lower-case")


def test_duplicate_objective_ids(project):
    assert problems([good(), good()]) == [
        f"{FILE}: objectives: objective id 'grow' is used more than once; ids must be unique"
    ]


# --------------------------------------------------------------------------------------
# The demo brands: each has an objective on track and one off track
# --------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
DEMO_BRANDS = ["aurora", "bellevue", "castello", "castello-machines"]


@pytest.fixture(scope="module")
def demo_db(demo_database) -> Path:
    return demo_database  # the session's shared default demo, as `make demo` (conftest.py)


@pytest.mark.slow
@pytest.mark.parametrize("brand", DEMO_BRANDS)
def test_demo_brands_have_an_objective_on_track_and_one_off_track(demo_db, brand):
    from kpitools.data.sources import connect
    from kpitools.kpis.compute import compute_kpis

    params_file = ROOT / "params" / f"{brand}.yaml"
    data = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    data["source"]["path"] = str(demo_db)
    p = parse_params(data, origin=f"params/{brand}.yaml", base_dir=params_file.parent)
    assert 2 <= len(p.objectives) <= 3
    functions = {s.function for o in p.objectives for s in o.strategies}
    assert functions <= {"marketing", "sales", "service"}
    for o in p.objectives:
        assert 1 <= len(o.strategies) <= 2
        assert all(len(s.metrics) >= 1 and s.actions for s in o.strategies)
    scorecard = compute_kpis(connect(p), p, kpis=objective_kpi_ids(p))
    rep = evaluate_objectives(p, scorecard)
    counts = rep.counts()
    assert counts[Status.ON_TRACK] >= 1, [(o.id, o.status) for o in rep]
    assert counts[Status.OFF_TRACK] >= 1, [(o.id, o.status) for o in rep]
    assert counts[Status.UNKNOWN] == 0
    off = [o for o in rep if o.status == Status.OFF_TRACK]
    assert all(o.actions for o in off)  # something to do
    json.dumps(rep.to_dict(), allow_nan=False)


def test_demo_params_cover_marketing_sales_and_service():
    for brand in DEMO_BRANDS:
        data = yaml.safe_load((ROOT / "params" / f"{brand}.yaml").read_text(encoding="utf-8"))
        p = parse_params(data, origin=f"params/{brand}.yaml", base_dir=ROOT / "params")
        assert {s.function for o in p.objectives for s in o.strategies} == {
            "marketing",
            "sales",
            "service",
        }
