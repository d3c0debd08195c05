"""Model-based registry KPIs against the analyses they come from, on simulated fixtures.

* ``average_clv`` and ``customer_equity`` (measure ``customer_value``): the report period's
  values equal :func:`kpitools.clv.analyse_clv`'s own per-customer CLV (same fitted models,
  same margin mix), averaged over the customers active at the period end and summed over all;
  an earlier period applies the *same* fitted models to the customers' history as of its end
  (checked against the public CLV functions); a base the model cannot be fitted on gives "no
  data", a source without orders "not available"; and on a base simulated from a known BG/NBD
  process with a planted purchase rate, the equity recovers the planted expected margin.
* ``programme_roi``, ``incremental_margin``, ``incremental_revenue`` (measure
  ``campaign_programme``): each period's value equals the programme total of
  :func:`kpitools.roi.analyse_campaigns` for that period (campaigns started in the 12 months
  ending with it).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.clv import analyse_clv, customer_lifetime_value, rfm_summary_expr
from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_breakdown, compute_kpis
from kpitools.params import load_params
from kpitools.roi import analyse_campaigns

CLV_KPIS = ["average_clv", "customer_equity"]
ROI_KPIS = ["programme_roi", "incremental_margin", "incremental_revenue"]
MARGIN = {"a": 0.40, "b": 0.25}  # (revenue - cost) / revenue of each product line
OBS_END = dt.date(2025, 3, 31)


def simulate_orders(
    n: int,
    *,
    seed: int,
    r: float = 2.0,
    alpha: float = 20.0,
    a: float = 1.0,
    b: float = 6.0,
    spend: float = 80.0,
    first_from: dt.date = dt.date(2023, 1, 1),
    first_to: dt.date = dt.date(2024, 9, 30),
) -> list[dict]:
    """Orders of ``n`` customers from a BG/NBD process (weeks): purchase rate ~ Gamma(r, 1 /
    alpha), dropout probability after each repeat purchase ~ Beta(a, b); first orders spread
    uniformly over [first_from, first_to]; revenue ~ Gamma(4, spend / 4); product line ``a``
    or ``b`` by customer (two thirds ``a``)."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    span = (first_to - first_from).days
    oid = 0
    for cust in range(1, n + 1):
        lam = rng.gamma(r, 1.0 / alpha)  # purchases per week
        p = rng.beta(a, b)
        line = "a" if rng.random() < 2 / 3 else "b"
        day = first_from + dt.timedelta(days=int(rng.integers(0, span + 1)))
        days = [day]
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam) * 7.0
            nxt = day + dt.timedelta(days=int(t))
            if nxt > OBS_END:
                break
            if nxt != days[-1]:
                days.append(nxt)
            if rng.random() < p:
                break
        for d in days:
            oid += 1
            revenue = round(float(rng.gamma(4.0, spend / 4.0)), 2)
            rows.append(
                dict(
                    order_id=oid,
                    customer_id=cust,
                    ordered_at=f"{d} 12:00",
                    revenue=revenue,
                    cost=round(revenue * (1 - MARGIN[line]), 2),
                    product_line=line,
                )
            )
    return rows


@pytest.fixture(scope="module")
def clv_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("clv") / "clv.duckdb"
    return make_db(path, {"orders": simulate_orders(600, seed=7)})


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


@pytest.fixture(scope="module")
def clv_case(tmp_path_factory, clv_db):
    params = _params(tmp_path_factory.mktemp("p"), clv_db)
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=CLV_KPIS)
        report = analyse_clv(db, params, "2025-03", calibration=False)
    return params, sc, report


def _active(last_purchase: pd.Series, period_end: dt.date, lapse_days: int) -> pd.Series:
    return (pd.Timestamp(period_end) - pd.to_datetime(last_purchase)).dt.days <= lapse_days


def test_report_period_equals_the_clv_analysis(clv_case):
    params, sc, report = clv_case
    assert report.status == "ok"
    customers = report.customers
    active = _active(customers["last_purchase"], dt.date(2025, 4, 1), params.settings.lapse_days)
    assert 0 < active.sum() < len(customers)  # some customers have lapsed
    assert sc["customer_equity"].value == pytest.approx(customers["clv"].sum(), rel=1e-6)
    assert sc["average_clv"].value == pytest.approx(customers.loc[active, "clv"].mean(), rel=1e-6)
    assert sc["average_clv"].status == "ok"


def test_earlier_periods_apply_the_same_fitted_models(clv_case, clv_db):
    """February: the analysis' models (fitted at the end of March) on every customer's
    summary as of 28 February, at their revenue mix (to that day) of March's line rates."""
    params, sc, report = clv_case
    feb_end = dt.date(2025, 2, 28)
    with connect(params) as db:
        orders = db.table("orders")
        summary = (
            rfm_summary_expr(orders, observation_end=feb_end, time_unit="W")
            .execute()
            .set_index("customer_id")
        )
        o = orders.filter(orders.ordered_at < dt.datetime(2025, 3, 1)).execute()
    summary.attrs["time_unit"] = "W"
    summary["monetary_value"] = summary["monetary_value"].clip(lower=0.0)
    value = customer_lifetime_value(
        report.bgnbd,
        report.gamma_gamma,
        summary,
        horizon_months=params.clv.horizon_months,
        discount_rate_annual=params.clv.discount_rate_annual,
        margin_rate=1.0,
        time_unit="W",
    )
    o["rated"] = o["revenue"] * o["product_line"].map(report.margin_rates)
    g = o.groupby("customer_id")
    mix = (g["rated"].sum() / g["revenue"].sum()).reindex(summary.index)
    clv = value["clv"] * mix
    last = o.groupby("customer_id")["ordered_at"].max().dt.normalize().reindex(summary.index)
    active = _active(last, dt.date(2025, 3, 1), params.settings.lapse_days)
    assert sc["customer_equity"].previous == pytest.approx(clv.sum(), rel=1e-6)
    assert sc["average_clv"].previous == pytest.approx(clv[active].mean(), rel=1e-6)
    # the base grows: a year earlier the equity is smaller, the trend has twelve points
    assert sc["customer_equity"].year_ago < sc["customer_equity"].value
    assert len(sc["customer_equity"].trend) == 12
    assert all(v is not None for _, v in sc["customer_equity"].trend)


def test_the_horizon_is_the_clv_setting(tmp_path, clv_db, clv_case):
    _, sc12, _ = clv_case
    params = _params(tmp_path, clv_db, clv={"horizon_months": 24})
    with connect(params) as db:
        sc24 = compute_kpis(db, params, "2025-03", kpis=CLV_KPIS)
    assert sc24.value("customer_equity") > sc12.value("customer_equity")


def test_no_fit_is_no_data_and_no_orders_is_not_available(tmp_path):
    few = [
        dict(order_id=i, customer_id=i, ordered_at="2025-03-05", revenue=10.0, cost=5.0)
        for i in range(1, 6)
    ]
    params = _params(tmp_path, make_db(tmp_path / "few.duckdb", {"orders": few}))
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=CLV_KPIS)
    assert [sc[k].status for k in CLV_KPIS] == ["no_data", "no_data"]
    params = _params(tmp_path, make_db(tmp_path / "none.duckdb", {"leads": []}))
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=CLV_KPIS + ROI_KPIS)
    assert all(r.status == "not_available" for r in sc)
    assert sc["average_clv"].missing_tables == ("orders",)


def test_model_based_kpis_are_not_broken_down(tmp_path, clv_db):
    params = _params(tmp_path, clv_db)
    with connect(params) as db:
        bd = compute_breakdown(db, params, "segment", "2025-03", kpis=CLV_KPIS)
    assert set(bd.unsupported) == set(CLV_KPIS)
    assert all(u.reason == "no_breakdown" for u in bd.unsupported.values())


def test_equity_recovers_the_planted_expected_margin(tmp_path):
    """A base of customers who all stay alive (dropout probability ~ 0) and buy at a planted
    rate of ``r / alpha`` = 0.1 purchase a week, 80 of revenue each: over the next 12 months
    (52.18 weeks, no discount) each is expected to buy 5.2 times, i.e. 80 x 5.2 x margin. The
    KPI's equity (one fit at the end of March 2025) recovers it within 10 %."""
    orders = simulate_orders(1500, seed=11, r=20.0, alpha=200.0, a=1.0, b=5000.0, spend=80.0)
    params = _params(
        tmp_path,
        make_db(tmp_path / "sim.duckdb", {"orders": orders}),
        clv={"discount_rate_annual": 0.0},
    )
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=CLV_KPIS)
    df = pd.DataFrame(orders)
    rate = (df.revenue - df.cost).sum() / df.revenue.sum()
    weeks = 12 * 30.4375 / 7
    planted = 1500 * 0.1 * weeks * 80.0 * rate
    assert sc.value("customer_equity") == pytest.approx(planted, rel=0.10)
    assert sc.value("average_clv") == pytest.approx(planted / 1500, rel=0.10)


# -- programme ROI against the ROI analysis ---------------------------------------------------


def roi_tables(seed: int = 3) -> dict[str, list[dict]]:
    """Three campaigns of 60 members (40 treated, 20 control), each treated member buying a
    little more in the campaign's outcome window; pre-period orders for the covariates."""
    rng = np.random.default_rng(seed)
    campaigns, members, orders = [], [], []
    starts = {1: "2024-05-06", 2: "2024-11-04", 3: "2025-02-03"}
    oid = 0
    for cid, start in starts.items():
        s = pd.Timestamp(start)
        campaigns.append(
            dict(
                campaign_id=cid,
                name=f"c{cid}",
                channel="email",
                objective="retention",
                starts_at=s,
                ends_at=s + pd.Timedelta(days=7),
                fixed_cost=200.0,
                cost_per_contact=0.5,
                planned_control_share=1 / 3,
                product_line="a",
            )
        )
        for j in range(60):
            cust = cid * 1000 + j
            treated = j < 40
            members.append(
                dict(
                    campaign_id=cid,
                    customer_id=cust,
                    group="treatment" if treated else "control",
                    sent_at=s if treated else None,
                )
            )
            for when, mean in ((s - pd.Timedelta(days=30), 50.0), (s + pd.Timedelta(days=5), 0)):
                revenue = float(rng.gamma(4.0, (mean or (60.0 if treated else 45.0)) / 4.0))
                oid += 1
                orders.append(
                    dict(
                        order_id=oid,
                        customer_id=cust,
                        ordered_at=when,
                        revenue=round(revenue, 2),
                        cost=round(revenue * 0.6, 2),
                        product_line="a",
                    )
                )
    return {"campaigns": campaigns, "campaign_members": members, "orders": orders}


@pytest.fixture(scope="module")
def roi_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roi")
    params = _params(tmp, make_db(tmp / "roi.duckdb", roi_tables()), roi={"min_control": 2})
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=ROI_KPIS)
        reports = {p: analyse_campaigns(db, params, p) for p in ("2025-03", "2025-01", "2024-06")}
    return sc, reports


@pytest.mark.parametrize("kpi", ROI_KPIS)
def test_programme_kpis_equal_the_roi_analysis_in_every_period(roi_case, kpi):
    sc, reports = roi_case
    trend = {p.label: v for p, v in sc[kpi].trend}
    for label, rep in reports.items():
        assert rep.programme is not None
        expected = {
            "programme_roi": rep.programme.roi,
            "incremental_margin": rep.programme.incremental_margin,
            "incremental_revenue": rep.programme_revenue,
        }[kpi]
        assert trend[label] == pytest.approx(expected, rel=1e-9), label
    # March 2025 holds campaigns 1 (May 2024), 2 and 3; January 2025 1 and 2; June 2024 1
    assert [len(reports[p].campaigns) for p in ("2025-03", "2025-01", "2024-06")] == [3, 2, 1]
    assert sc[kpi].value == trend["2025-03"]
    assert sc[kpi].year_ago is None  # no campaign started from April 2023 to March 2024
