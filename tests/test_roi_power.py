"""Control-size planning (:mod:`kpitools.roi.power`): closed forms, hand-computed baselines,
and the stated power checked by simulation on skewed, zero-inflated revenue.

The simulated brand: a customer buys in the window with probability 0.3, one order of
log-normal value (mean 80, log-sd 1); a campaign's lift comes as Poisson(lift / 80) extra
orders of the same value distribution. Its exact moments: revenue per customer has mean
``0.3 * 80 = 24`` and second moment ``0.3 * 80² * e`` (``E[Y²] = 80² e^{1}``), so
``sd = sqrt(0.3 * 6400 e - 24²) = 68.14``; an order has mean 80 and sd ``80 sqrt(e - 1)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_db, write_params
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from kpitools.data.sources import connect
from kpitools.params import load_params, parse_params
from kpitools.roi import RoiInputError
from kpitools.roi.analysis import analyse_campaigns
from kpitools.roi.power import (
    PLAN_COLUMNS,
    BaselineRevenue,
    load_baseline_revenue,
    load_margin_rate,
    plan_by_channel,
    plan_control_size,
    welch_power,
)

P_BUY, ORDER_MEAN, LOG_SD = 0.3, 80.0, 1.0
EXACT = BaselineRevenue(
    n=10**6,
    mean=P_BUY * ORDER_MEAN,
    sd=math.sqrt(P_BUY * ORDER_MEAN**2 * math.e - (P_BUY * ORDER_MEAN) ** 2),
    zero_share=1 - P_BUY,
    skewness=float("nan"),
    order_mean=ORDER_MEAN,
    order_sd=ORDER_MEAN * math.sqrt(math.e - 1),
)


def _orders(rng, shape):
    return rng.lognormal(np.log(ORDER_MEAN) - LOG_SD**2 / 2, LOG_SD, shape)


def _baseline(rng, shape):
    return np.where(rng.random(shape) < P_BUY, _orders(rng, shape), 0.0)


def _simulated_power(plan, reps: int, seed: int) -> float:
    """Share of ``reps`` campaigns at the planned split, with a true lift of the break-even
    lift planted as extra orders, whose Welch t-test rejects "no lift" at the plan's level."""
    rng = np.random.default_rng(seed)
    n0, n1 = plan.n_control, plan.n_treated
    hits = 0
    for start in range(0, reps, 1000):
        r = min(1000, reps - start)
        control = _baseline(rng, (r, n0))
        treated = _baseline(rng, (r, n1))
        k = rng.poisson(plan.break_even_lift / ORDER_MEAN, (r, n1))
        for j in range(int(k.max())):
            treated += np.where(k > j, _orders(rng, (r, n1)), 0.0)
        p = stats.ttest_ind(treated, control, axis=1, equal_var=False).pvalue
        hits += int((p < plan.alpha).sum())
    return hits / reps


def test_exact_moments_of_the_simulated_brand():
    rng = np.random.default_rng(3)
    x = _baseline(rng, 400_000)
    base = BaselineRevenue.from_values(x, order_values=_orders(rng, 200_000))
    assert EXACT.sd == pytest.approx(68.14, abs=0.01)
    assert base.mean == pytest.approx(EXACT.mean, rel=0.01)
    assert base.sd == pytest.approx(EXACT.sd, rel=0.03)
    assert base.zero_share == pytest.approx(0.7, abs=0.003)
    assert base.order_mean == pytest.approx(ORDER_MEAN, rel=0.01)
    assert base.skewness > 3  # skewed


# --------------------------------------------------------------------------------------
# The t-test's power and the plan
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "d", "alpha"), [(20, 0.8, 0.05), (150, 0.3, 0.05), (60, 0.5, 0.1)])
def test_welch_power_equals_the_pooled_t_power_for_equal_groups(n, d, alpha):
    """With equal groups and equal spreads the Welch degrees of freedom are ``2n - 2``, those
    of the pooled t-test: statsmodels' ``TTestIndPower`` is then the same noncentral t."""
    ref = TTestIndPower().power(effect_size=d, nobs1=n, alpha=alpha, ratio=1.0)
    assert welch_power(d * 7.0, 7.0, n, n, alpha) == pytest.approx(ref, rel=1e-6)


def test_welch_power_by_simulation_on_normal_data():
    """Unequal groups and spreads: 20 000 normal replications against the formula."""
    rng = np.random.default_rng(11)
    n1, n0, sd0, sd1, effect = 60, 15, 10.0, 14.0, 9.0
    y1 = rng.normal(effect, sd1, (20_000, n1))
    y0 = rng.normal(0.0, sd0, (20_000, n0))
    sim = (stats.ttest_ind(y1, y0, axis=1, equal_var=False).pvalue < 0.05).mean()
    assert sim == pytest.approx(welch_power(effect, sd0, n1, n0, 0.05, sd1), abs=0.01)


def test_plan_is_the_smallest_control_group_reaching_the_power():
    plan = plan_control_size(3000, EXACT, 8.0)
    assert plan.feasible and plan.code == "feasible"
    n0, n1, s1 = plan.n_control, plan.n_treated, plan.sd_treated
    assert n0 + n1 == 3000 and plan.control_share == pytest.approx(n0 / 3000)
    # the extra orders widen the targeted group: sd² + lift (m² + s²) / m
    assert s1**2 == pytest.approx(EXACT.sd**2 + 8.0 * ORDER_MEAN * math.e)
    assert welch_power(8.0, EXACT.sd, n1, n0, 0.05, s1) >= 0.8
    assert welch_power(8.0, EXACT.sd, n1 + 1, n0 - 1, 0.05, s1) < 0.8
    assert plan.achieved_power == pytest.approx(0.8, abs=0.002)
    # the normal approximation (z quantiles, ncp) lands close for groups of this size
    z = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2
    assert 8.0**2 / (s1**2 / n1 + EXACT.sd**2 / n0) == pytest.approx(z, rel=0.02)
    # a larger break-even lift needs fewer controls; an array baseline works the same
    assert plan_control_size(3000, EXACT, 12.0).n_control < n0


def test_plan_at_the_planned_size_has_the_stated_power_on_skewed_revenue():
    """3 000 customers, break-even 8 per targeted customer: the plan's control group, with
    the lift planted as extra orders on zero-inflated log-normal revenue (skewness about 8),
    rejects "no lift" in 0.80 of 3 000 simulated campaigns within Monte Carlo error
    (SE = sqrt(0.8 x 0.2 / 3000) = 0.0073; checked at 3 SE)."""
    plan = plan_control_size(3000, EXACT, 8.0)
    sim = _simulated_power(plan, 3000, seed=20261202)
    mcse = math.sqrt(0.8 * 0.2 / 3000)
    print(f"planned n_control={plan.n_control}: stated 0.800, simulated {sim:.3f}")
    assert abs(sim - plan.achieved_power) <= 3 * mcse


def test_plan_with_a_small_control_group_is_not_optimistic():
    """200 customers, break-even 40: a control group of about 40. With so few controls on
    skewed revenue the t-test's power is a little above the noncentral-t figure (the control
    mean's right skew thins the lower tail of treated - control; 0.818 against 0.803 over
    20 000 replications): the plan errs on the safe side. 3 000 replications, SE 0.0073."""
    plan = plan_control_size(200, EXACT, 40.0)
    assert plan.feasible and 20 <= plan.n_control <= 60
    sim = _simulated_power(plan, 3000, seed=7)
    mcse = math.sqrt(0.8 * 0.2 / 3000)
    print(f"planned n_control={plan.n_control}: stated {plan.achieved_power:.3f}, sim {sim:.3f}")
    assert plan.achieved_power - 3 * mcse <= sim <= plan.achieved_power + 0.05


def test_no_control_group_within_a_small_audience_suffices():
    """400 customers, break-even 8: even the best split detects only lifts of about 2.8 SE
    of a half-and-half difference, ``2.8 * 68 * sqrt(4 / 400)`` ~ 20: infeasible."""
    plan = plan_control_size(400, EXACT, 8.0)
    assert not plan.feasible and plan.code == "infeasible"
    assert plan.n_control is None and plan.control_share is None and plan.n_treated is None
    assert plan.achieved_power < 0.8
    assert 15 < plan.smallest_detectable < 30
    # the smallest detectable lift is feasible (just), a little less is not
    assert plan_control_size(400, EXACT, plan.smallest_detectable * 1.001).feasible
    assert not plan_control_size(400, EXACT, plan.smallest_detectable * 0.99).feasible
    # the audience needed: feasible there, not one customer below
    need = plan.audience_needed
    assert need is not None and need > 400
    at = plan_control_size(need, EXACT, 8.0)
    assert at.feasible and at.n_control == plan.n_control_needed
    assert not plan_control_size(need - 1, EXACT, 8.0).feasible


def test_plan_from_an_array_and_without_order_values():
    """An array baseline is summarised (sd with n - 1); without order values the spread is
    assumed unchanged by the campaign, so fewer controls are asked for."""
    x = np.array([0, 0, 0, 0, 0, 0, 0, 50.0, 120.0, 30.0] * 100)
    base = BaselineRevenue.from_values(x)
    assert base.sd == pytest.approx(float(np.std(x, ddof=1)))
    assert base.zero_share == pytest.approx(0.7)
    assert base.lift_variance(5.0) == 0.0
    a = plan_control_size(6000, x, 5.0)
    b = plan_control_size(6000, base, 5.0)
    assert a == b and a.sd_treated == a.sd
    widened = BaselineRevenue(**{**base.__dict__, "order_mean": 66.7, "order_sd": 37.9})
    assert a.feasible and plan_control_size(6000, widened, 5.0).n_control > a.n_control


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((3, EXACT, 5.0), "audience"),
        ((100.5, EXACT, 5.0), "audience"),
        ((100, EXACT, 0.0), "break_even_lift"),
        ((100, EXACT, float("nan")), "break_even_lift"),
        ((100, [1.0], 5.0), "at least 2"),
        ((100, [1.0, -2.0], 5.0), "negative"),
        ((100, [1.0, float("nan")], 5.0), "missing"),
        ((100, [3.0, 3.0], 5.0), "spread"),
    ],
)
def test_plan_bad_inputs(args, match):
    with pytest.raises(RoiInputError, match=match):
        plan_control_size(*args)
    with pytest.raises(RoiInputError, match="power"):
        plan_control_size(100, EXACT, 5.0, power=1.0)


# --------------------------------------------------------------------------------------
# From the database
# --------------------------------------------------------------------------------------


@pytest.fixture()
def tiny(tmp_path):
    """Orders of 5 customers; data end 2025-07-01 (last order 2025-06-30).

    Window of 30 days: [2025-06-01, 2025-07-01); look-back 365 days before it.
    Active before the window: customers 1, 2, 3, 4 (customer 5 only ordered inside it;
    customer 4's order is 400 days before: not active). Window revenue: 1 -> 100 + 20,
    2 -> 0, 3 -> 60; so the baseline is [120, 0, 60] (customer 5 is not in it).
    Margin rate over the last 365 days: (sum revenue - sum cost) / sum revenue.
    """
    orders = [
        (1, "2025-03-01", 50.0, 30.0),
        (1, "2025-06-10", 100.0, 60.0),
        (1, "2025-06-30", 20.0, 12.0),
        (2, "2024-12-01", 80.0, 40.0),
        (3, "2025-05-31", 10.0, 5.0),
        (3, "2025-06-01", 60.0, 30.0),
        (4, "2024-04-27", 70.0, 35.0),
        (5, "2025-06-15", 40.0, 20.0),
    ]
    rows = [
        dict(
            order_id=i + 1,
            customer_id=c,
            product_line="a",
            ordered_at=day,
            revenue=rev,
            cost=cost,
        )
        for i, (c, day, rev, cost) in enumerate(orders)
    ]
    path = make_db(tmp_path / "tiny.duckdb", {"orders": rows})
    return load_params(write_params(tmp_path / "acme.yaml", path)), orders


def test_baseline_from_the_database_is_the_hand_computed_one(tiny):
    params, orders = tiny
    with connect(params) as db:
        base = load_baseline_revenue(db, 30)
        margin = load_margin_rate(db)
    ref = BaselineRevenue.from_values([120.0, 0.0, 60.0])
    assert base.n == 3 and base.window_days == 30
    assert base.mean == pytest.approx(60.0)
    assert base.sd == pytest.approx(60.0)  # deviations 60, -60, 0: sqrt(7200 / 2)
    assert base.sd == pytest.approx(ref.sd)
    assert base.zero_share == pytest.approx(1 / 3)
    assert base.skewness == pytest.approx(ref.skewness, abs=1e-9)
    # the window's orders: 100, 20, 60, 40
    assert base.order_mean == pytest.approx(55.0)
    assert base.order_sd == pytest.approx(float(np.std([100, 20, 60, 40], ddof=1)))
    recent = [o for o in orders if o[1] >= "2024-07-01"]
    rev = sum(o[2] for o in recent)
    assert margin == pytest.approx((rev - sum(o[3] for o in recent)) / rev)


def test_baseline_needs_orders(tmp_path):
    path = make_db(tmp_path / "none.duckdb", {"orders": []})
    params = load_params(write_params(tmp_path / "acme.yaml", path))
    with connect(params) as db, pytest.raises(RoiInputError, match="orders"):
        load_baseline_revenue(db, 30)


# --------------------------------------------------------------------------------------
# The demo's table
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_plan(demo_database):
    params = parse_params(
        {
            "brand": "aurora",
            "period": {"grain": "year"},
            "source": {"kind": "duckdb", "path": str(demo_database)},
        }
    )
    with connect(params) as db:
        report = analyse_campaigns(db, params, "2025")
        plan = plan_by_channel(db, params, report)
        margin = load_margin_rate(db, end=report.data_end)
    return params, report, plan, margin


def test_plan_by_channel_on_the_demo(demo_plan):
    _, report, plan, margin = demo_plan
    assert list(plan.columns) == list(PLAN_COLUMNS)
    camps = [c for c in report.campaigns if c.cost > 0 and c.n_treated > 0]
    assert set(plan["channel"]) == {c.channel for c in camps}
    for r in plan.itertuples(index=False):
        cs = [c for c in camps if c.channel == r.channel]
        assert r.n_campaigns == len(cs)
        assert r.audience == round(float(np.median([c.n_members for c in cs])))
        cost = float(np.median([c.cost / c.n_treated for c in cs]))
        assert r.break_even_lift == pytest.approx(cost / margin)
        assert r.baseline_customers > 1000 and r.baseline_sd > r.baseline_mean > 0
        if r.feasible:
            assert r.n_control <= r.audience
        else:  # the smallest judgeable lift is above the break-even
            assert pd.isna(r.n_control) and r.smallest_detectable > r.break_even_lift
            assert r.audience_needed > r.audience


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_power_table_reads_in_every_locale(demo_plan, locale):
    from kpitools.report.roi.power import power_plan_html

    _, report, plan, _ = demo_plan
    html = str(power_plan_html(plan, report, locale))
    assert "{" not in html.replace("{#", "")
    assert html.count("<tr>") == len(plan) + 1  # the heading row and one per channel
    first = {
        "en": "Planning the next campaigns",
        "fr": "Dimensionner les groupes témoins",
        "it": "Dimensionare i gruppi di controllo",
    }
    assert first[locale] in html
    if not plan["feasible"].all():
        word = {"en": "No control group within", "fr": "Aucun groupe témoin", "it": "Nessun"}
        assert word[locale] in html


def test_power_table_feasible_sentence():
    """A plan that is feasible reads "you need N controls"."""
    from kpitools.report.roi.power import power_plan_html
    from kpitools.roi.power import PLAN_COLUMNS as cols

    row = dict.fromkeys(cols)
    row.update(
        channel="email",
        n_campaigns=2,
        audience=3000,
        cost_per_targeted=4.0,
        margin_rate=0.5,
        break_even_lift=8.0,
        window_days=40,
        baseline_customers=5000,
        baseline_mean=24.0,
        baseline_sd=68.1,
        n_control=950,
        control_share=950 / 3000,
        feasible=True,
        smallest_detectable=7.9,
        n_control_actual=300,
    )

    class _Report:
        locale, currency, alpha = "en", "EUR", 0.05

    html = str(power_plan_html(pd.DataFrame([row], columns=list(cols)), _Report()))
    assert "you need 950 controls (31.7% of the audience)" in html
    assert "€8.00" in html and "had 300" in html
