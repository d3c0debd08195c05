"""A report fits the data it has: an orders-and-customers source gives a report of what it can
compute, one line on page one of what was left out and which tables would add it, a glossary of
the KPIs shown only, no empty figure, and the right reason for what is missing."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import duckdb
import pytest
from matplotlib.figure import Figure

from kpitools.data.sources import connect
from kpitools.kpis.cohorts import compute_cohort_retention
from kpitools.kpis.compute import compute_breakdown, compute_kpis, unless_missing
from kpitools.kpis.curves import compute_touch_response
from kpitools.kpis.drivers import compute_what_changed
from kpitools.kpis.funnel import compute_funnel
from kpitools.objectives import evaluate_objectives
from kpitools.params import load_params
from kpitools.plots import plot_trends
from kpitools.report.coverage import (
    breakdown_needs,
    compute_coverage,
    report_needs,
    skipped_reports,
)
from kpitools.report.i18n import kpi_name
from kpitools.report.kpis_json import export_kpis_json
from kpitools.report.notebook import (
    setup_notebook,
    show_breakdown,
    show_cohort_retention,
    show_department,
    show_funnel,
    show_glossary,
    show_header,
    show_roi_headline,
    show_section,
    show_summary,
    show_touch_response,
    show_what_changed,
)
from kpitools.roi import analyse_campaigns
from tests.helpers import make_db, write_params

DEPARTMENTS = ("sales", "marketing", "service", "perception", "adoption")


def small_source(tmp_path, *, channel: bool = True):
    """40 customers and 120 orders over 2024–2025, one brand, no other table."""
    start = datetime(2024, 1, 5)
    customers = [
        {
            "customer_id": i,
            "product_line": "main",
            "created_at": start + timedelta(days=17 * i),
            "acquisition_channel": ("web", "store")[i % 2] if channel else None,
            "email": f"c{i}@example.org",
        }
        for i in range(1, 41)
    ]
    orders = []
    for n in range(120):
        cid = 1 + n % 40
        created = customers[cid - 1]["created_at"]
        orders.append(
            {
                "order_id": n + 1,
                "customer_id": cid,
                "product_line": "main",
                "ordered_at": created + timedelta(days=40 * (n // 40) + n % 7),
                "revenue": 50.0 + 3 * (n % 11),
                "cost": 30.0 + (n % 5),
                "channel": "web",
            }
        )
    db_path = make_db(tmp_path / "small.duckdb", {"customers": customers, "orders": orders})
    return write_params(tmp_path / "acme.yaml", db_path, period={"grain": "month"})


def render_report(params_path, period=None, kpis_path=None):
    """The KPI report as notebooks/10-kpi-report.ipynb builds it, cell by cell, outside Jupyter.

    Returns (html, figures, coverage, scorecard): the HTML fragments and the figures shown.
    """
    setup_notebook()
    params = load_params(params_path)
    db = connect(params)
    scorecard = compute_kpis(db, params, period)
    objectives = evaluate_objectives(params, scorecard)
    what_changed = unless_missing(compute_what_changed, db, params, scorecard, objectives)
    touch = unless_missing(compute_touch_response, db, params, scorecard.period)
    funnel = unless_missing(
        compute_funnel, db, params, scorecard.period, by="channel", trailing="year"
    )
    roi = unless_missing(analyse_campaigns, db, params, scorecard.period)
    cohorts = unless_missing(compute_cohort_retention, db, params, scorecard.period)
    breakdowns = [
        compute_breakdown(db, params, by, scorecard.period, kpis=params.report.breakdown_kpis)
        for by in params.report.breakdowns
    ]
    coverage = compute_coverage(
        scorecard,
        headline=params.report.headline,
        analyses={
            "what_changed": what_changed,
            "touch_response": touch,
            "funnel": funnel,
            "roi": roi,
            "cohorts": cohorts,
        },
        breakdowns=breakdowns,
        reports=skipped_reports(db),
        db=db,
    )
    shown = [
        show_header(params, scorecard, coverage=coverage),
        show_what_changed(what_changed),
        show_summary(scorecard, params),
        plot_trends(scorecard, params.report.headline, ncols=4),
        show_department(scorecard, "sales", objectives),
        show_touch_response(touch, params.locale),
        show_department(scorecard, "marketing", objectives),
        show_funnel(funnel, params.locale),
        show_roi_headline(roi, params.locale),
        *(show_department(scorecard, d, objectives) for d in DEPARTMENTS[2:]),
        show_cohort_retention(cohorts, params.locale),
        *(show_breakdown(b) for b in breakdowns),
        show_glossary(scorecard, params, extra=params.report.breakdown_kpis),
    ]
    if kpis_path:
        export_kpis_json(scorecard, kpis_path, extra={"coverage": coverage.to_dict()})
    figures = [x for x in shown if isinstance(x, Figure)]
    html = "".join(str(x) for x in shown if x is not None and not isinstance(x, Figure))
    db.close()
    return html, figures, coverage, scorecard


def glossary_names(html: str) -> list[str]:
    block = html[html.index('<dl class="kpi-glossary">') :]
    return [re.sub(r"<[^>]+>", "", n).strip() for n in re.findall(r"<dt>(.*?) <span", block)]


def figure_has_data(fig: Figure) -> bool:
    axes = [ax for ax in fig.axes if ax.get_visible()]
    return bool(axes) and all(ax.lines or ax.collections or ax.patches or ax.images for ax in axes)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("coverage")
    html, figures, coverage, scorecard = render_report(
        small_source(tmp), kpis_path=tmp / "kpis.json"
    )
    return html, figures, coverage, scorecard, json.loads((tmp / "kpis.json").read_text())


def test_no_row_of_a_missing_table(small_report):
    html, _, _, scorecard, _ = small_report
    assert "not available (needs table" not in html
    assert "needs table" not in html
    # what is computed is shown: revenue and new customers, with their values
    assert scorecard["revenue"].status == "ok"
    assert kpi_name("revenue", "en") in html
    # a department with nothing computed has no table (service: cases, calls)
    assert ">Service<" not in html
    # one line per department for the rest
    assert re.search(r"Not shown: \d+ more indicators, which need leads", html)


def test_coverage_line_names_missing_groups_and_tables(small_report):
    html, _, coverage, _, doc = small_report
    line = coverage.text()
    header_end = html.index("</div></div>") + len("</div></div>")
    assert html[header_end:].startswith('<p class="kpi-coverage muted">Not in this report:')
    assert "Service (requires cases, calls)" in line
    assert "campaign funnel (requires campaigns)" in line
    assert "campaign ROI report (requires campaigns)" in line
    assert "headline figure Net Promoter Score (requires surveys)" in line
    assert re.search(r"\d+ Sales indicators \(requires leads", line)
    assert set(coverage.needs) >= {"cases", "calls", "campaigns", "leads", "surveys"}
    assert "customers" not in coverage.needs and "orders" not in coverage.needs
    # kpis.json says the same
    assert doc["coverage"]["text"] == line
    kinds = {(x["kind"], x["key"]) for x in doc["coverage"]["left_out"]}
    assert ("department", "service") in kinds and ("report", "campaign_roi") in kinds
    assert ("report", "customer_value") not in kinds  # orders are there


@pytest.mark.parametrize(
    ("locale", "opening"),
    [("fr", "Absent de ce rapport : "), ("it", "Non presenti in questo report: ")],
)
def test_coverage_line_in_every_locale(small_report, locale, opening):
    coverage = small_report[2]
    assert coverage.text(locale).startswith(opening)
    assert "cases, calls" in coverage.text(locale)


def test_headline_tile_of_a_missing_kpi_is_left_out(small_report, tmp_path):
    html = small_report[0]
    assert "not available" not in html
    params = load_params(small_source(tmp_path))
    db = connect(params)
    tiles = str(show_summary(compute_kpis(db, params, None), params))
    db.close()
    assert kpi_name("revenue", "en") in tiles
    assert kpi_name("nps", "en") not in tiles


def test_glossary_lists_only_kpis_computed(small_report):
    html, _, _, scorecard, _ = small_report
    names = glossary_names(html)
    computed = {kpi_name(r.id, "en") for r in scorecard if r.status != "not_available"}
    missing = {kpi_name(r.id, "en") for r in scorecard if r.status == "not_available"}
    assert names and set(names) <= computed
    assert not set(names) & missing
    assert kpi_name("nps", "en") not in names


def test_no_empty_figure(small_report):
    html, figures, _, scorecard, _ = small_report
    # the trends of the headline KPIs that have data, and the cohort heatmap
    assert len(figures) == 2
    assert all(figure_has_data(f) for f in figures)
    trends = figures[0]
    panels = [ax for ax in trends.axes if ax.get_visible()]
    assert len(panels) == 3  # revenue, new customers, retention rate: no NPS panel
    # no heading of a section left out
    for heading in ("Campaign funnel", "Response rate by contact attempt", "Campaign programme"):
        assert heading not in html


def test_plot_trends_draws_nothing_without_data(small_report):
    scorecard = small_report[3]
    assert plot_trends(scorecard, ["nps"]) is not None  # falls back to KPIs with data
    missing = [r.id for r in scorecard if r.status == "not_available"]
    for kid in missing:
        scorecard.results[kid]  # noqa: B018 - they exist, with an empty trend
    only_missing = type(scorecard)(
        brand=scorecard.brand,
        period=scorecard.period,
        results={k: scorecard.results[k] for k in missing},
    )
    assert plot_trends(only_missing) is None


def test_breakdown_reason_names_the_missing_column(tmp_path):
    params = load_params(small_source(tmp_path, channel=False))
    db = connect(params)
    b = compute_breakdown(
        db, params, "acquisition_channel", None, kpis=params.report.breakdown_kpis
    )
    assert breakdown_needs(b, db) == ("customers.acquisition_channel",)
    assert str(show_breakdown(b)) == ""  # left out; the coverage line says why
    assert str(show_section("customer_segments", "en", results=[b])) == ""
    assert "Customers by segment" in str(show_section("customer_segments", "en"))
    from kpitools.report.tables import breakdown_html

    text = str(breakdown_html(b))
    assert "customers.acquisition_channel" in text and "surveys" not in text
    sc = compute_kpis(db, params, None)
    line = compute_coverage(sc, breakdowns=[b], db=db).text()
    assert "breakdown by acquisition channel (requires customers.acquisition_channel)" in line
    db.close()


def test_breakdown_without_customers_names_the_table(tmp_path):
    params_path = small_source(tmp_path)
    con = duckdb.connect(str(tmp_path / "small.duckdb"))
    con.execute("DROP TABLE customers")
    con.close()
    params = load_params(params_path)
    db = connect(params)
    b = compute_breakdown(db, params, "acquisition_channel", None, kpis=["revenue", "nps"])
    # the groups come from customers: that alone would add the breakdown (nps's own table,
    # surveys, is named where nps is left out)
    assert breakdown_needs(b, db) == ("customers",)
    db.close()


def test_runner_rule_of_reports_left_out():
    assert report_needs("campaign-roi", ["customers", "orders"]) == ("campaigns",)
    assert report_needs("customer-value", ["customers", "orders"]) == ()
    assert report_needs("customer-value", ["customers"]) == ("orders",)
    assert report_needs("campaign-roi", ["campaigns", "orders"]) == ()


def test_full_demo_leaves_nothing_out(demo_database, tmp_path):
    params_path = write_params(
        tmp_path / "aurora.yaml", demo_database, brand="aurora", name="Aurora", currency="GBP"
    )
    html, figures, coverage, scorecard = render_report(params_path)[:4]
    assert coverage.left_out == ()
    assert coverage.text() == ""
    assert "kpi-coverage" not in html
    assert "Not shown:" not in html
    names = glossary_names(html)
    assert set(names) >= {kpi_name(r.id, "en") for r in scorecard}
    assert all(figure_has_data(f) for f in figures)
    assert len(figures) >= 4  # trends, touch response, funnel, cohorts
