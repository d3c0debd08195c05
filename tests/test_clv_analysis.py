"""CLV analysis of a brand (:mod:`kpitools.clv.analysis`) and its report blocks, on a small
hand-built DuckDB database.

Brand ``acme`` (monthly, report period 2025-06): 90 customers drawn from a BG/NBD-like
process (seeded) plus five hand-written customers whose segment in 2025-06 and product line
are known by construction:

======= =============================================== ============= ==================
id      orders                                          segment       product line
======= =============================================== ============= ==================
9001    2025-06-10 alpha 40                             new           beta (customers)
9002    2024-03-01 alpha 50; 2025-06-05 alpha 60        reactivated   alpha (customers)
9003    2025-05-10 alpha 10; 2025-06-10 beta 100 (+ a   steady        beta (main line: not
        second order the same day, beta 20)                           in ``customers``)
9004    2025-04-01 alpha 30; 2025-06-02 alpha 35        returning     alpha (customers)
9005    2024-02-01 beta 70                              inactive      beta (customers)
======= =============================================== ============= ==================

Orders after 2025-06-30 exist and must be ignored. Brand ``tiny`` has ten customers and three
repeat buyers, too few for the models; brand ``empty`` has no orders.
"""

from __future__ import annotations

import html as html_module
import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import make_db, write_params
from scipy import integrate, stats

from kpitools.clv import (
    CALIBRATION_TOLERANCE,
    BetaGeoModel,
    CalibrationQuality,
    ClvReport,
    FitStatus,
    calibration_holdout_expr,
    calibration_holdout_split,
    rfm_summary,
)
from kpitools.clv.analysis import SEGMENTS, analyse_clv
from kpitools.clv.queries import margin_per_active_customer
from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params
from kpitools.plots import clv as clv_plots
from kpitools.report import clv as clv_report
from kpitools.report.i18n import t as message

PERIOD = "2025-06"
END = "2025-06-30"
MARGIN = {"alpha": 0.6, "beta": 0.3}


def _simulated_orders(rng: np.random.Generator, n: int = 90) -> list[dict]:
    """Customers born 2024-01..2025-03, weekly purchase rate ~ Gamma(2, 1/0.4), dropout after
    each repeat purchase with p ~ Beta(1, 6); orders until 2025-09-30."""
    start = pd.Timestamp("2024-01-01")
    stop = pd.Timestamp("2025-09-30")
    rows = []
    for i in range(n):
        cid = i + 1
        birth = start + pd.Timedelta(days=int(rng.integers(0, 455)))
        rate = rng.gamma(2.0, 0.4) / 7.0  # per day
        p = rng.beta(1.0, 6.0)
        line0 = "alpha" if rng.random() < 0.6 else "beta"
        day, first = birth, True
        while day <= stop:
            line = (
                line0
                if (first or rng.random() < 0.8)
                else ("beta" if line0 == "alpha" else "alpha")
            )
            revenue = round(float(rng.lognormal(np.log(50.0), 0.4)), 2)
            rows.append(
                {
                    "order_id": len(rows) + 1,
                    "customer_id": cid,
                    "product_line": line,
                    "ordered_at": day + pd.Timedelta(hours=int(rng.integers(8, 20))),
                    "revenue": revenue,
                    "cost": round(revenue * (1 - MARGIN[line]), 2),
                }
            )
            if not first and rng.random() < p:
                break
            first = False
            day = day + pd.Timedelta(days=max(1, int(rng.exponential(1.0 / rate))))
    return rows


HAND = [
    (9001, "2025-06-10 10:00", "alpha", 40.0),
    (9002, "2024-03-01 09:00", "alpha", 50.0),
    (9002, "2025-06-05 09:00", "alpha", 60.0),
    (9003, "2025-05-10 09:00", "alpha", 10.0),
    (9003, "2025-06-10 09:00", "beta", 100.0),
    (9003, "2025-06-10 18:00", "beta", 20.0),
    (9004, "2025-04-01 09:00", "alpha", 30.0),
    (9004, "2025-06-02 09:00", "alpha", 35.0),
    (9005, "2024-02-01 09:00", "beta", 70.0),
]
CUSTOMER_LINES = {9001: "beta", 9002: "alpha", 9004: "alpha", 9005: "beta"}


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """Path of the database and of acme's params file, and the acme orders as a frame."""
    tmp = tmp_path_factory.mktemp("clv")
    rng = np.random.default_rng(7)
    orders = _simulated_orders(rng)
    for cid, ts, line, revenue in HAND:
        orders.append(
            {
                "order_id": len(orders) + 1,
                "customer_id": cid,
                "product_line": line,
                "ordered_at": pd.Timestamp(ts),
                "revenue": revenue,
                "cost": round(revenue * (1 - MARGIN[line]), 2),
            }
        )
    for o in orders:
        o["brand"] = "acme"
    tiny = []
    for k in range(10):  # ten customers, three of whom buy again
        for j in range(2 if k < 3 else 1):
            tiny.append(
                {
                    "order_id": 100_000 + len(tiny),
                    "customer_id": 500 + k,
                    "brand": "tiny",
                    "product_line": "alpha",
                    "ordered_at": pd.Timestamp("2025-01-05") + pd.Timedelta(days=10 * k + 30 * j),
                    "revenue": 20.0,
                    "cost": 12.0,
                }
            )
    first_line = {}
    for o in orders:
        first_line.setdefault(o["customer_id"], o["product_line"])
    customers = [
        {
            "customer_id": cid,
            "brand": "acme",
            "product_line": CUSTOMER_LINES.get(cid, line),
            "created_at": "2024-01-01",
        }
        for cid, line in first_line.items()
        if cid != 9003  # 9003 is missing from customers: main line by revenue
    ]
    customers += [
        {
            "customer_id": 500 + k,
            "brand": "tiny",
            "product_line": "alpha",
            "created_at": "2025-01-01",
        }
        for k in range(10)
    ]
    db_path = make_db(tmp / "clv.duckdb", {"orders": orders + tiny, "customers": customers})
    params_path = write_params(tmp / "acme.yaml", db_path, clv={"at_risk_top": 5})
    frame = pd.DataFrame([o for o in orders])
    return {"db": db_path, "params": params_path, "orders": frame, "tmp": tmp}


@pytest.fixture(scope="module")
def report(acme):
    params = load_params(acme["params"])
    with connect(params) as db:
        return analyse_clv(db, params, PERIOD)


def _params(acme, name: str, **overrides):
    return load_params(write_params(acme["tmp"] / f"{name}.yaml", acme["db"], **overrides))


# ----------------------------------------------------------------------------------------
# summary in the database
# ----------------------------------------------------------------------------------------


def test_in_database_summary_equals_pandas_summary(report, acme):
    expected = rfm_summary(acme["orders"], observation_end=END, time_unit="W")
    got = report.customers[["frequency", "recency", "T", "monetary_value"]]
    assert report.time_unit == "W"
    assert list(got.index) == list(expected.index)  # 9001..9005 included, nobody born after
    np.testing.assert_array_equal(got["frequency"].to_numpy(), expected["frequency"].to_numpy())
    np.testing.assert_array_equal(got["recency"].to_numpy(), expected["recency"].to_numpy())
    np.testing.assert_array_equal(got["T"].to_numpy(), expected["T"].to_numpy())
    np.testing.assert_allclose(
        got["monetary_value"].to_numpy(), expected["monetary_value"].to_numpy(), rtol=1e-12
    )
    # 9003: same-day orders merged (10 on 05-10; 100 + 20 on 06-10), the first day excluded
    assert got.loc[9003, "frequency"] == 1
    assert got.loc[9003, "monetary_value"] == pytest.approx(120.0)


def test_in_database_calibration_split_equals_pandas(acme):
    params = load_params(acme["params"])
    with connect(params) as db:
        expr = calibration_holdout_expr(
            db.table("orders"), calibration_end="2024-12-31", observation_end=END
        )
        got = expr.execute().set_index("customer_id")
    expected = calibration_holdout_split(
        acme["orders"], calibration_end="2024-12-31", observation_end=END
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    assert got["frequency_holdout"].sum() > 0


# ----------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------


def test_report_is_fitted_with_finite_values(report):
    assert report.ok, report.error
    c = report.customers
    assert np.isfinite(c["clv"]).all() and (c["clv"] >= 0).all()
    assert c["probability_alive"].between(0, 1).all()
    assert report.fit_seconds > 0 and report.seconds >= report.fit_seconds
    assert report.mean_clv == pytest.approx(c["clv"].mean())
    assert report.total_clv == pytest.approx(c["clv"].sum())
    assert report.expected_margin_12m > 0 and report.new_customer_clv > 0
    # CLV is margin x discounted revenue: each customer's margin rate is their line mix's
    assert c["margin_rate"].between(min(MARGIN.values()) - 0.01, max(MARGIN.values()) + 0.01).all()


def test_segments_and_product_lines(report):
    c = report.customers
    assert c.loc[[9001, 9002, 9003, 9004, 9005], "segment"].tolist() == [
        "new",
        "reactivated",
        "steady",
        "returning",
        "inactive",
    ]
    # acquisition line from customers; 9003 is not there: its main line by revenue
    assert c.loc[[9001, 9002, 9003, 9005], "product_line"].tolist() == [
        "beta",
        "alpha",
        "beta",
        "beta",
    ]
    assert set(c["segment"]) <= set(SEGMENTS)
    by_segment = report.by_segment
    assert list(by_segment.index) == [s for s in SEGMENTS if s in set(c["segment"])]
    assert by_segment["n_customers"].sum() == len(c)
    assert by_segment["total_clv"].sum() == pytest.approx(c["clv"].sum())
    assert by_segment["share_of_clv"].sum() == pytest.approx(1.0)
    assert by_segment.loc["new", "mean_clv"] == pytest.approx(
        c.loc[c["segment"] == "new", "clv"].mean()
    )
    assert report.by_product_line["n_customers"].sum() == len(c)


def test_margin_rates_from_orders(report, acme):
    o = acme["orders"]
    recent = o[(o["ordered_at"] >= "2024-07-01") & (o["ordered_at"] < "2025-07-01")]
    rates = {
        line: (g["revenue"] - g["cost"]).sum() / g["revenue"].sum()
        for line, g in recent.groupby("product_line")
    }
    brand = (recent["revenue"] - recent["cost"]).sum() / recent["revenue"].sum()
    assert report.margin_by == "product_line"
    assert report.margin_rate == pytest.approx(brand)
    assert report.margin_rates == pytest.approx(rates)
    # 9003 bought alpha 10 and beta 120: its rate is the revenue mix of the line rates
    mix = (10 * rates["alpha"] + 120 * rates["beta"]) / 130
    assert report.customers.loc[9003, "margin_rate"] == pytest.approx(mix)


def test_one_margin_rate_for_the_brand(acme, report):
    params = load_params(acme["params"])
    with connect(params) as db:
        flat = analyse_clv(db, params, PERIOD, margin_by="brand", calibration=False)
    np.testing.assert_allclose(flat.customers["margin_rate"], report.margin_rate, rtol=1e-12)
    # same models, so CLV only differs by the margin rate
    ratio = flat.customers["clv"] / report.customers["clv"]
    expected = report.margin_rate / report.customers["margin_rate"]
    np.testing.assert_allclose(ratio, expected, rtol=1e-6)  # refit: optimiser tolerance


def test_at_risk_list_logic(report, acme):
    c = report.customers
    short = report.at_risk
    threshold = report.alive_threshold
    below = c[c["probability_alive"] < threshold]
    assert report.at_risk_top == 5
    assert len(short) == min(5, len(below)) and len(short) > 0
    assert list(short.columns) == [
        "clv",
        "probability_alive",
        "last_purchase",
        "frequency",
        "value_if_retained",
    ]
    assert (short["probability_alive"] < threshold).all()
    assert short["clv"].is_monotonic_decreasing
    # nobody left out is below the threshold with a higher CLV than the last one listed
    left_out = below.drop(index=short.index)
    assert (left_out["clv"] <= short["clv"].min()).all()
    # the list is exactly at_risk_customers' top CLV among the customers below threshold
    assert list(short.index) == list(below.sort_values("clv", ascending=False).index[:5])
    np.testing.assert_allclose(
        short["value_if_retained"], short["clv"] / short["probability_alive"], rtol=1e-12
    )
    # last purchase day = the customer's last order day up to the end of the period
    o = acme["orders"]
    last = o[o["ordered_at"] < "2025-07-01"].groupby("customer_id")["ordered_at"].max()
    for cid, row in short.iterrows():
        assert row["last_purchase"] == last[cid].normalize()
    assert report.to_dict()["at_risk"]["count"] == len(below)


def test_at_risk_threshold_and_length_follow_params(acme):
    params = _params(acme, "risk", clv={"at_risk_top": 3, "alive_threshold": 0.95})
    with connect(params) as db:
        r = analyse_clv(db, params, PERIOD, calibration=False)
    assert len(r.at_risk) == 3
    assert (r.at_risk["probability_alive"] < 0.95).all()
    assert len(r.at_risk_all) == int((r.customers["probability_alive"] < 0.95).sum())


def test_calibration_check(report):
    assert report.calibration_status == "ok"
    assert report.calibration_end.isoformat() == "2024-12-31"  # 6 months before the end
    table = report.calibration
    assert set(table.columns) >= {"n_customers", "actual", "expected"}
    totals = report.calibration_totals
    assert totals["customers"] == table["n_customers"].sum()
    assert totals["relative_error"] == pytest.approx(totals["expected"] / totals["actual"] - 1)
    error = totals["relative_error"]
    expected_quality = (
        "good" if abs(error) <= CALIBRATION_TOLERANCE else "over" if error > 0 else "under"
    )
    assert report.calibration_quality == expected_quality


def test_calibration_quality_judges_the_holdout_error(report):
    from dataclasses import replace

    def with_error(error: float | None) -> ClvReport:
        actual = 100.0
        expected = actual * (1 + error) if error is not None else 5.0
        table = pd.DataFrame(
            {"n_customers": [10], "expected": [expected / 10], "actual": [actual / 10]}
        )
        if error is None:
            table["actual"] = 0.0
        return replace(report, calibration=table, calibration_status=FitStatus.OK)

    assert CALIBRATION_TOLERANCE == 0.10
    assert with_error(0.0).calibration_quality == CalibrationQuality.GOOD
    assert with_error(-0.09).calibration_quality == "good"
    assert with_error(0.25).calibration_quality == "over"
    assert with_error(-0.25).calibration_quality == "under"
    assert with_error(None).calibration_quality is None  # no holdout purchase
    assert replace(report, calibration_status=FitStatus.NOT_FITTED).calibration_quality is None
    assert replace(report, calibration=None).calibration_quality is None


def test_simple_formula_uses_the_scorecard_kpis(report, acme):
    params = load_params(acme["params"])
    with connect(params) as db:
        sc = compute_kpis(db, params, PERIOD, kpis=["churn_rate"])
        per_active = margin_per_active_customer(db, params, sc.period)
    # the lapse base: margin per customer active at the period's start, the lapse churn
    trend = [(p, c) for p, c in sc["churn_rate"].trend if c is not None]
    trend = [(p, c) for p, c in trend if pd.Timestamp(p.start) in per_active.index]
    margins = [per_active[pd.Timestamp(p.start)] for p, _ in trend]
    churns = [c for _, c in trend]
    s = report.simple
    assert s.status == "ok" and s.grain == "month"
    assert s.avg_margin_per_month == pytest.approx(np.mean(margins))
    assert s.churn_per_month == pytest.approx(np.mean(churns))
    assert s.expected_lifetime_months == pytest.approx(1 / s.churn_per_month)
    d = 1.10 ** (1 / 12) - 1
    rho = (1 - s.churn_per_month) / (1 + d)
    assert s.clv == pytest.approx(s.avg_margin_per_month * (1 - rho**12) / (1 - rho))


def test_simple_formula_monthly_equivalents_for_a_quarterly_brand(acme):
    params = _params(acme, "quarterly", period={"grain": "quarter"})
    with connect(params) as db:
        r = analyse_clv(db, params, "2025-Q2", calibration=False)
        sc = compute_kpis(db, params, "2025-Q2", kpis=["churn_rate"])
        per_active = margin_per_active_customer(db, params, sc.period)
    s = r.simple
    assert s.grain == "quarter" and s.status == "ok"
    assert len(s.periods) <= 4 and s.periods[-1] == "2025-Q2"  # the trailing year
    trend = [(p, c) for p, c in sc["churn_rate"].trend[-4:] if c is not None]
    trend = [(p, c) for p, c in trend if pd.Timestamp(p.start) in per_active.index]
    margins = [per_active[pd.Timestamp(p.start)] for p, _ in trend]
    churns = [c for _, c in trend]
    assert s.avg_margin_per_period == pytest.approx(np.mean(margins))
    assert s.avg_margin_per_month == pytest.approx(np.mean(margins) / 3)
    assert s.churn_per_month == pytest.approx(1 - (1 - np.mean(churns)) ** (1 / 3))
    assert r.observation_end.isoformat() == END


# ----------------------------------------------------------------------------------------
# when the models cannot be fitted
# ----------------------------------------------------------------------------------------


def test_too_few_repeat_buyers_gives_a_clear_message(acme):
    params = _params(acme, "tiny", brand="tiny", locale="fr")
    with connect(params) as db:
        r = analyse_clv(db, params, PERIOD)  # must not raise
    assert r.status == "not_fitted" and not r.ok
    assert r.reason_code == "too_few_repeat_buyers"
    assert "only 3 repeat buyer(s) among 10 customer(s)" in r.error
    assert "only 3 repeat buyer(s)" in clv_report.clv_document(r)["reason"]
    assert r.reason_details == {"customers": 10, "repeat_buyers": 3, "min_repeat_buyers": 20}
    assert r.n_customers == 10  # the summary is still there
    assert r.mean_clv is None and r.at_risk.empty
    html = clv_report.clv_summary_html(r)
    assert "seuls 3 des 10 clients ont acheté plus d'une fois" in html_module.unescape(html)
    assert "au moins 20" in html
    for block in (clv_report.at_risk_html(r), clv_report.clv_by_html(r, "segment")):
        assert "n'a pas pu être estimée" in html_module.unescape(block)
    assert "nan" not in html.lower() and "None" not in html
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["status"] == "not_fitted" and doc["mean_clv"] is None
    assert doc["models"]["bgnbd"] is None
    # the figures say why instead of failing
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for ax in (
        clv_plots.plot_clv_distribution(r),
        clv_plots.plot_clv_by(r, by="segment"),
        clv_plots.plot_calibration(r),
    ):
        assert ax.texts and "pas pu" in ax.texts[0].get_text()
    plt.close("all")


def test_brand_without_orders(acme):
    params = _params(acme, "empty", brand="empty")
    with connect(params) as db:
        r = analyse_clv(db, params, PERIOD)
    assert r.reason_code == "no_orders" and r.n_customers == 0
    assert "no orders up to the end of the period" in clv_report.clv_summary_html(r)
    # kpis.json keeps its English reason, worded from the code
    assert clv_report.clv_document(r)["reason"] == f"no orders up to {END} for {r.name}"


# ----------------------------------------------------------------------------------------
# report blocks and kpis.json
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_html_blocks_in_each_locale(report, locale):
    report.locale = locale
    try:
        blocks = [
            clv_report.clv_intro_html(report),
            clv_report.clv_summary_html(report),
            clv_report.clv_by_html(report, "segment"),
            clv_report.clv_by_html(report, "product_line"),
            clv_report.at_risk_html(report),
            clv_report.calibration_html(report),
        ]
    finally:
        report.locale = "en"
    html = "".join(blocks)
    assert "nan" not in html.lower() and "None" not in html and "{" not in html
    assert message("clv.title", locale) and message("clv.mean_clv", locale) in html
    if locale == "fr":
        assert "Nouveaux" in html
        assert "\u202f€" in html or "\xa0€" in html  # French: the symbol after the number


def test_figures(report):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert clv_plots.plot_clv_distribution(report).get_xlabel().startswith("CLV per customer")
    assert clv_plots.plot_clv_distribution(report, kind="ecdf", log=True).get_xscale() == "log"
    ax = clv_plots.plot_clv_by(report, by="product_line")
    assert [t.get_text() for t in ax.get_yticklabels()] == list(report.by_product_line.index)
    ax = clv_plots.plot_calibration(report)
    assert len(ax.lines) == 2
    plt.close("all")


def test_to_dict_and_kpis_json(report, tmp_path):
    doc = report.to_dict()
    assert json.loads(json.dumps(doc)) == doc
    for key in ("mean_clv", "median_clv", "total_clv", "expected_margin_12m"):
        assert math.isfinite(doc[key])
    assert doc["simple_clv"]["clv"] == pytest.approx(report.simple.clv)
    assert set(doc["models"]["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(doc["models"]["gamma_gamma"]["params"]) == {"p", "q", "gamma"}
    assert doc["at_risk"]["shortlist_count"] == len(report.at_risk)
    path = tmp_path / "kpis.json"
    path.write_text(json.dumps({"brand": "acme", "kpis": {}}))
    clv_report.export_clv_json(report, path)
    written = json.loads(path.read_text())
    assert written["brand"] == "acme" and written["clv"]["mean_clv"] == doc["mean_clv"]
    assert written["clv"]["reason"] is None and written["clv"]["calibration"]["reason"] is None
    assert set(written["clv"]) == set(doc) | {"reason"}


# ----------------------------------------------------------------------------------------
# BG/NBD predictions with very large a and b (almost no dropout heterogeneity)
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b"),
    [(16.75, 79.5, 2551.0, 88110.0), (0.69, 13.2, 13389.0, 72895.0), (3.0, 20.0, 300.0, 5000.0)],
)
def test_expected_purchases_stay_finite_for_large_a_and_b(r, alpha, a, b):
    """Such parameters are the maximum-likelihood fit of the demo brands; the closed form's
    hypergeometric function overflows there, the fallbacks must match numerical integration
    of E over p ~ Beta(a, b + x) of (1 - ((alpha+T)/(alpha+T+p t))**(r+x)) / p."""
    model = BetaGeoModel.from_params(r, alpha, a, b)
    for x, tx, T, t in [(0, 0, 0, 4.35), (0, 0, 1, 52.2), (5, 20, 30, 52.2), (300, 25, 30, 520)]:
        dist = stats.beta(a, b + x)

        def f(p, x=x, T=T, t=t, dist=dist):
            return dist.pdf(p) * -np.expm1((r + x) * np.log((alpha + T) / (alpha + T + p * t))) / p

        lo, hi = dist.ppf(1e-13), dist.ppf(1 - 1e-13)
        given_alive = integrate.quad(f, lo, hi, points=[dist.mean()], epsrel=1e-11, limit=500)[0]
        expected = given_alive * model.probability_alive(x, tx, T)
        assert model.expected_purchases(t, x, tx, T) == pytest.approx(expected, rel=1e-5)


def test_fit_falls_back_on_a_small_penalty(report):
    """Every model in the report converged; a penalty, if any, is one of the ladder's."""
    from kpitools.clv.analysis import PENALIZERS

    assert report.bgnbd_penalizer in PENALIZERS
    assert report.gamma_gamma_penalizer in PENALIZERS
    assert report.bgnbd.converged_ and report.gamma_gamma.converged_


def test_orders_after_the_period_are_ignored(acme, report):
    con = duckdb.connect(str(acme["db"]), read_only=True)
    late = con.execute(
        "select count(*) from orders where brand = 'acme' and ordered_at >= '2025-07-01'"
    ).fetchone()[0]
    con.close()
    assert late > 0
    assert (report.customers["last_purchase"] <= pd.Timestamp(END)).all()


def test_kpis_json_reasons_keep_their_english_wording(report):
    """The reason codes of the result give kpis.json the English reasons it always had."""
    from dataclasses import replace

    from kpitools.clv import ClvReason, SimpleClv

    cases = {
        ClvReason.NO_DATA: "no period of the trailing year has both the margin and the churn KPI",
        ClvReason.ZERO_CHURN: "churn rate is 0: the simple formula would give an infinite lifetime",
    }
    for code, text in cases.items():
        doc = clv_report.clv_document(replace(report, simple=SimpleClv(reason_code=code)))
        assert doc["simple_clv"]["reason"] == text and doc["simple_clv"]["status"] == "no_data"
    no_history = replace(
        report,
        calibration_status="not_fitted",
        calibration_reason_code=ClvReason.NO_CUSTOMERS,
        calibration=None,
    )
    doc = clv_report.clv_document(no_history)
    end = report.calibration_end.isoformat()
    assert doc["calibration"]["reason"] == (
        f"no customer bought on or before the calibration end {end}"
    )
    # the report words it as too little history, in the report's language
    assert "too little history" in clv_report.calibration_html(no_history)
    no_revenue = replace(report, status="not_fitted", reason_code=ClvReason.NO_REVENUE)
    doc = clv_report.clv_document(no_revenue)
    assert doc["reason"] == "the orders have no positive revenue: no margin rate"
