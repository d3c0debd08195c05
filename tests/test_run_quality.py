"""Bad data is never published silently: the cheap value rules of ``validate --deep`` run at
every ``run`` (:func:`kpitools.data.checks.scan_table`, one aggregate per table), and each
either stops the brand with one line (table, column, rule, rows) or publishes with a
data-quality entry (rule, rows, rows left out, KPIs affected), the rows left out really left
out of the KPI queries. Each rule on a hand-built DuckDB file, stop and publish cases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import make_db, write_params

from kpitools.cli import main
from kpitools.data.checks import (
    check_params_source,
    data_quality_findings,
    period_outside_data,
    scan_table,
)
from kpitools.data.contracts import RULES
from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis, latest_period
from kpitools.params import load_params
from kpitools.periods import parse_period
from kpitools.report.quality import data_quality_document, data_quality_html
from kpitools.runner import run_all, run_brand

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _order(i, day="2025-01-05", revenue=10.0, customer=1, line="m"):
    return dict(
        order_id=i,
        customer_id=customer,
        product_line=line,
        ordered_at=day,
        revenue=revenue,
        cost=revenue / 2,
    )


ORDERS = [_order(1, "2025-01-05"), _order(2, "2025-02-10", customer=2), _order(3, "2025-03-31")]


def _customer(i, line="m"):
    return dict(
        customer_id=i, product_line=line, created_at="2024-12-01", acquisition_channel="web"
    )


def _lines(params: Path) -> list[str]:
    return [str(p) for p in check_params_source(load_params(params))]


def _validate(params: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", str(params)])
    assert "Traceback" not in result.output
    prefix = f"{params}: "
    return result.exit_code, [
        line.removeprefix(prefix) for line in result.output.splitlines() if line.strip()
    ]


def _run_stops(tmp_path: Path, params: Path, period: str | None = None) -> str:
    result = run_brand(
        params, period=period, reports_dir=tmp_path / "reports", notebooks_dir=NOTEBOOKS, pdf=False
    )
    assert result.status == "failed"
    assert result.failed_notebook is None  # stopped before any notebook ran
    assert not list((tmp_path / "reports").glob("*/2025-*"))  # nothing published
    lines = (result.error or "").splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# -- stop rules ---------------------------------------------------------------------------


def test_null_customer_id_stops_the_brand(tmp_path):
    customers = [_customer(1), _customer(2), {**_customer(3), "customer_id": None}]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "customers": customers})
    params = write_params(tmp_path / "acme.yaml", db)
    line = "table 'customers', column 'customer_id': NULL key values (1 row) [null_key]"
    assert _lines(params) == [line]
    assert _validate(params) == (1, [line])
    assert _run_stops(tmp_path, params) == line


def test_duplicate_customer_ids_stop_the_brand(tmp_path):
    # customer 2 three times, customer 1 twice: 3 rows beyond the first of their key
    customers = [_customer(1), _customer(1), _customer(2), _customer(2), _customer(2)]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "customers": customers})
    params = write_params(tmp_path / "acme.yaml", db)
    line = "table 'customers', column 'customer_id': duplicated key values (3 rows) [duplicate_key]"
    assert _lines(params) == [line]
    assert _run_stops(tmp_path, params) == line


def test_duplicated_composite_key_is_counted(tmp_path):
    members = [
        dict(campaign_id=1, customer_id=1, group="treatment"),
        dict(campaign_id=1, customer_id=1, group="treatment"),
        dict(campaign_id=1, customer_id=2, group="control"),
        dict(campaign_id=2, customer_id=1, group="control"),  # another campaign: not a dup
    ]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "campaign_members": members})
    with connect(load_params(write_params(tmp_path / "acme.yaml", db))) as con:
        scan = scan_table(con, "campaign_members")
    dup = [f for f in scan.findings if f.rule == "duplicate_key"]
    assert [(f.column, f.rows) for f in dup] == [("campaign_id, customer_id", 1)]


def test_other_brands_rows_are_not_this_brands_problem(tmp_path):
    customers = [_customer(1), {**_customer(1), "brand": "zephyr"}, {**_customer(2), "brand": "z"}]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "customers": customers})
    assert _lines(write_params(tmp_path / "acme.yaml", db)) == []


def test_value_outside_the_allowed_list_stops(tmp_path):
    opps = [
        dict(opportunity_id=i, created_at="2025-01-10", status=s, amount=1.0)
        for i, s in enumerate(["won", "lost", "pending", "pending"])
    ]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "opportunities": opps})
    params = write_params(tmp_path / "acme.yaml", db)
    assert _lines(params) == [
        "table 'opportunities', column 'status': values outside the allowed list "
        "(allowed: open, won, lost) (2 rows) [not_in_list]"
    ]


def test_negative_campaign_cost_stops(tmp_path):
    campaigns = [
        dict(
            campaign_id=1,
            name="c",
            channel="email",
            starts_at="2025-01-01",
            ends_at="2025-01-31",
            fixed_cost=-5.0,
            cost_per_contact=0.1,
        )
    ]
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "campaigns": campaigns})
    assert _lines(write_params(tmp_path / "acme.yaml", db)) == [
        "table 'campaigns', column 'fixed_cost': values out of range [0, 1e+12] (1 row) "
        "[out_of_range]"
    ]


def test_order_lines_sharing_an_order_id_are_kept(tmp_path):
    # an export of order lines: order 1 has two lines (10 + 5); counted once, revenue summed
    orders = [*ORDERS, {**_order(1, "2025-01-05", revenue=5.0)}]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    assert check_params_source(params) == []
    with connect(params) as con:
        (f,) = data_quality_findings(con)
        card = compute_kpis(con, params, "2025-01", kpis=["revenue"])
    assert (f.rule, f.column, f.rows, f.rows_excluded, f.action) == (
        "order_lines",
        "order_id",
        1,
        0,
        "keep",
    )
    assert card.results["revenue"].value == pytest.approx(15.0)
    # no KPI is affected: the lines count as one order and their revenue adds up
    assert data_quality_document([f])[0]["kpis"] == []


def test_the_year_on_year_line_needs_a_year_before(tmp_path):
    """Data shorter than a year: no "0 indicators improved and 0 worsened" line."""
    from kpitools.report.tables import summary_html

    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    with connect(params) as con:
        card = compute_kpis(con, params, "2025-01", kpis=["revenue", "new_customers"])
    html = str(summary_html(card, params))
    assert "tile" in html and "improved" not in html


def test_null_required_value_stops(tmp_path):
    orders = [*ORDERS, {**_order(4), "revenue": None}]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders})
    assert _lines(write_params(tmp_path / "acme.yaml", db)) == [
        "table 'orders', column 'revenue': NULL values in a required column (1 row) [null_required]"
    ]


def test_product_lines_not_in_the_data_stop(tmp_path):
    orders = [*ORDERS, _order(4, line="n")]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders, "customers": [_customer(1)]})
    params = write_params(tmp_path / "acme.yaml", db, product_lines=["m", "x", "y"])
    line = (
        "product_lines: 'x', 'y' not in the data (2 of 3 lines, 0 rows in customers, orders); "
        "lines in the data: m, n [unknown_product_line]"
    )
    assert _lines(params) == [line]
    assert _run_stops(tmp_path, params) == f"{line}"
    # a line that is there passes
    ok = write_params(tmp_path / "ok.yaml", db, product_lines=["n"])
    assert _lines(ok) == []


@pytest.mark.parametrize(
    ("period", "why"),
    [
        ("2027-03", "2027-03 is in the future (today is "),
        ("2015-01", "2015-01 is outside the data: the data cover 2025-01 to 2025-03"),
        ("2025-06", "2025-06 is outside the data: the data cover 2025-01 to 2025-03"),
    ],
)
def test_requested_period_outside_the_data_stops(tmp_path, period, why):
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS})
    params = write_params(tmp_path / "acme.yaml", db, period={"grain": "month", "current": period})
    lines = _lines(params)
    assert len(lines) == 1 and lines[0].startswith(f"period.current: {why}"), lines
    assert lines[0].endswith("[period_outside_data]")
    if period == "2027-03":
        assert "the data cover 2025-01 to 2025-03" in lines[0]
    # the same period given to `run --period` stops the brand too
    cli = write_params(tmp_path / "cli.yaml", db)
    line = _run_stops(tmp_path, cli, period=period)
    assert line.startswith(f"period {why}")
    assert "the data cover 2025-01 to 2025-03" in line


def test_a_period_inside_the_data_passes(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS})
    with connect(load_params(write_params(tmp_path / "acme.yaml", db))) as con:
        for label in ("2025-01", "2025-02", "2025-03"):
            assert period_outside_data(con, parse_period(label, "month")) is None
        q = parse_period("2025-Q1", "quarter")
        assert period_outside_data(con, q) is None
        assert "the data cover 2025-Q1" in (
            period_outside_data(con, parse_period("2025-Q3", "quarter")) or ""
        )


# -- publish rules ------------------------------------------------------------------------


def _surveys():
    # NPS 10, 10, 0 and an 11 (out of the 0-10 scale) whose CSAT 5 is fine
    return [
        dict(response_id=1, responded_at="2025-03-02", nps_score=10, csat_score=4),
        dict(response_id=2, responded_at="2025-03-03", nps_score=10, csat_score=None),
        dict(response_id=3, responded_at="2025-03-04", nps_score=0, csat_score=2),
        dict(response_id=4, responded_at="2025-03-05", nps_score=11, csat_score=5),
        dict(response_id=5, responded_at="2025-03-06", nps_score=None, csat_score=6),
    ]


def test_nps_out_of_scale_is_published_and_left_out_of_nps(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "surveys": _surveys()})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    assert check_params_source(params) == []  # published
    with connect(params) as con:
        found = {(f.rule, f.column): f for f in data_quality_findings(con)}
        card = compute_kpis(con, params, "2025-03", kpis=["nps", "csat", "csat_mean_score"])
    nps = found[("score_out_of_scale", "nps_score")]
    csat = found[("score_out_of_scale", "csat_score")]
    assert (nps.rows, nps.rows_excluded, nps.action) == (1, 1, "exclude")
    assert (csat.rows, csat.rows_excluded) == (1, 1)
    # NPS on 10, 10, 0: 2 promoters, 1 detractor of 3 answers = +33.3 (the 11 left out)
    nps_value = card.results["nps"].value
    assert nps_value == pytest.approx(100 * (2 - 1) / 3) or nps_value == pytest.approx(1 / 3)
    # CSAT on 4, 2, 5 (the 6 left out, the 5 of the NPS-11 answer kept): 2 of 3 satisfied
    assert card.results["csat"].value == pytest.approx(2 / 3)
    assert card.results["csat_mean_score"].value == pytest.approx((4 + 2 + 5) / 3)
    doc = data_quality_document([nps, csat], ["nps", "csat", "csat_mean_score", "revenue"])
    assert doc == [
        {
            "rule": "score_out_of_scale",
            "action": "exclude",
            "table": "surveys",
            "column": "nps_score",
            "rows": 1,
            "rows_excluded": 1,
            "kpis": ["nps"],
        },
        {
            "rule": "score_out_of_scale",
            "action": "exclude",
            "table": "surveys",
            "column": "csat_score",
            "rows": 1,
            "rows_excluded": 1,
            "kpis": ["csat", "csat_mean_score"],
        },
    ]
    # validate --deep still reports the raw values (it reads the source as it is)
    with connect(params) as con:
        assert con.raw_table("surveys").nps_score.max().execute() == 11


def test_negative_revenue_is_kept_as_refunds(tmp_path):
    # March: an order of 10 and a refund of -4 by customer 3
    orders = [*ORDERS, _order(4, "2025-03-15", revenue=-4.0, customer=3)]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    assert check_params_source(params) == []
    with connect(params) as con:
        (f,) = data_quality_findings(con)
        card = compute_kpis(
            con, params, "2025-03", kpis=["revenue", "new_customers", "new_customer_revenue"]
        )
    assert (f.rule, f.table, f.column, f.rows, f.rows_excluded) == (
        "negative_revenue",
        "orders",
        "revenue",
        1,
        0,
    )
    assert RULES[f.rule].action == "keep"
    assert card.results["revenue"].value == pytest.approx(10.0 - 4.0)  # net of the refund
    # the refund's row counts as an order of its period: customer 3, whose only row is the
    # refund, is a new customer of March with revenue -4 (the policy docs/data.md states)
    assert card.results["new_customers"].value == 1
    assert card.results["new_customer_revenue"].value == pytest.approx(-4.0)


def test_future_dates_do_not_make_the_default_period_the_future(tmp_path):
    later = (datetime.now() + timedelta(days=400)).strftime("%Y-%m-%d")
    orders = [*ORDERS, _order(4, later), _order(5, later)]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    assert check_params_source(params) == []
    with connect(params) as con:
        assert latest_period(con, "month").label == "2025-03"
        (f,) = data_quality_findings(con)
    assert (f.rule, f.column, f.rows, f.rows_excluded, f.action) == (
        "future_date",
        "ordered_at",
        2,
        0,
        "keep",
    )
    assert data_quality_document([f], ["revenue"])[0]["kpis"] == []


def test_rows_without_a_date_are_left_out(tmp_path):
    orders = [*ORDERS, {**_order(4), "ordered_at": None, "revenue": 1000.0}]
    db = make_db(tmp_path / "d.duckdb", {"orders": orders})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    assert check_params_source(params) == []
    with connect(params) as con:
        (f,) = data_quality_findings(con)
        assert con.table("orders").count().execute() == 3
        assert con.brand_rows("orders").count().execute() == 4
    assert (f.rule, f.rows, f.rows_excluded) == ("null_date", 1, 1)


def test_the_section_says_each_rule_in_the_brands_language(tmp_path):
    entries = [
        {
            "rule": "score_out_of_scale",
            "action": "exclude",
            "table": "surveys",
            "column": "nps_score",
            "rows": 1200,
            "rows_excluded": 1200,
            "kpis": ["nps"],
        },
        {
            "rule": "negative_revenue",
            "action": "keep",
            "table": "orders",
            "column": "revenue",
            "rows": 3,
            "rows_excluded": 0,
            "kpis": ["revenue"],
        },
    ]
    empty = pd.DataFrame(columns=["table", "column", "rows", "missing", "share", "kpis"])
    en = str(data_quality_html(empty, "en", entries))
    fr = str(data_quality_html(empty, "fr", entries))
    it = str(data_quality_html(empty, "it", entries))
    assert "surveys.nps_score: scores outside 0–10, left out of the KPIs" in en
    assert "kept as refunds" in en
    assert "Lignes écartées" in fr and "remboursement" in fr
    assert "Righe escluse" in it and "rimborsi" in it
    assert "1,200" in en and "1\u202f200" in fr
    assert str(data_quality_html(empty, "en", [])) == ""


def test_scan_is_one_query_per_table(tmp_path):
    db = make_db(tmp_path / "d.duckdb", {"orders": ORDERS, "surveys": _surveys()})
    params = load_params(write_params(tmp_path / "acme.yaml", db))
    with connect(params) as con:
        first = scan_table(con, "orders")
        assert scan_table(con, "orders") is first  # cached: validate and the report share it
        assert first.rows == 3
        assert str(first.first.date()) == "2025-01-05" and str(first.last.date()) == "2025-03-31"


# -- one run, two brands ------------------------------------------------------------------


@pytest.mark.slow
def test_a_bad_brand_stops_while_another_of_the_same_run_publishes(tmp_path):
    customers = [_customer(1), _customer(2), _customer(2)]
    bad_db = make_db(tmp_path / "bad.duckdb", {"orders": ORDERS, "customers": customers})
    good_db = make_db(
        tmp_path / "good.duckdb",
        {"orders": ORDERS, "customers": [_customer(1), _customer(2)], "surveys": _surveys()},
    )
    params_dir = tmp_path / "params"
    params_dir.mkdir()
    bad = write_params(params_dir / "bad.yaml", bad_db)
    good = write_params(params_dir / "good.yaml", good_db)
    reports = tmp_path / "reports"
    results = run_all(
        [bad, good], reports_dir=reports, notebooks_dir=NOTEBOOKS, jobs=1, pdf=False, progress=False
    )
    by = {r.slug: r for r in results}
    assert by["bad"].status == "failed"
    assert by["bad"].error == (
        "table 'customers', column 'customer_id': duplicated key values (1 row) [duplicate_key]"
    )
    assert by["good"].status == "ok", by["good"].error
    doc = json.loads((reports / "good" / "2025-03" / "kpis.json").read_text())
    rules = {(e["rule"], e["column"]): e for e in doc["data_quality"]}
    assert rules[("score_out_of_scale", "nps_score")]["rows_excluded"] == 1
    assert rules[("score_out_of_scale", "nps_score")]["kpis"] == ["nps"]
    html = (reports / "good" / "2025-03" / "report.html").read_text()
    assert "scores outside 0–10, left out of the KPIs" in html
    assert not (reports / "bad" / "2025-03").exists()
