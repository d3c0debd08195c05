"""Every CLV block escapes what comes from params or data (issue 9, escaping by construction).

Brand names, report titles, product lines, segments the vocabulary does not know, customer ids
and the messages of exceptions (which quote data) are all set to hostile text; the HTML of
every block (``kpitools.report.clv``) must show them as text, never as markup.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pandas as pd
import pytest

from kpitools.clv import BetaGeoModel, ClvReason, ClvReport, GammaGammaModel, SimpleClv
from kpitools.params import parse_params
from kpitools.periods import parse_period
from kpitools.report import clv as clv_report

HOSTILE = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"'")
ALLOWED_TAGS = {"div", "p", "h1", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td"}


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: object, shown: str | None = None) -> None:
    """No tag or attribute beyond the blocks' own, no raw ``<script``/``<img``; ``shown``
    (hostile text from the data) is displayed, as text."""
    html = str(html)
    parser = _Markup()
    parser.feed(html)
    parser.close()
    assert set(parser.tags) <= ALLOWED_TAGS, parser.tags
    assert {k for k, _ in parser.attrs} <= {"class", "style"}, parser.attrs
    assert "<script" not in html.lower() and "<img" not in html.lower()
    if shown is not None:
        assert shown in "".join(parser.text)


def _report(hostile: str, *, ok: bool = True) -> ClvReport:
    period = parse_period("2025-06")
    report = ClvReport(
        brand="acme",
        name=hostile,
        locale="en",
        currency="EUR",
        period=period,
        observation_end=dt.date(2025, 6, 30),
        horizon_months=12,
        discount_rate_annual=0.1,
        alive_threshold=0.5,
        at_risk_top=5,
        calibration_months=6,
    )
    ids = pd.Index([hostile, f"{hostile}-2", "c3"], name="customer_id")
    customers = pd.DataFrame(
        {
            "frequency": [3, 1, 0],
            "recency": [20.0, 5.0, 0.0],
            "T": [30.0, 30.0, 10.0],
            "monetary_value": [50.0, 20.0, 0.0],
            "segment": ["steady", hostile, "inactive"],
            "product_line": [hostile, hostile, "beta"],
            "margin_rate": 0.4,
            "last_purchase": pd.to_datetime(["2025-05-01", "2025-01-10", "2024-12-01"]),
            "clv": [120.0, 40.0, 5.0],
            "probability_alive": [0.3, 0.2, 0.9],
            "expected_purchases": [2.0, 1.0, 0.5],
            "expected_spend": [50.0, 20.0, 30.0],
        },
        index=ids,
    )
    report.customers = customers
    if not ok:
        report.reason_code = ClvReason.ERROR
        report.error = f"invalid summary column {hostile}"
        report.simple = SimpleClv(reason_code=ClvReason.ERROR, error=f"cannot compute {hostile}")
        report.calibration_status = "not_fitted"
        report.calibration_reason_code = ClvReason.ERROR
        report.calibration_error = f"calibration failed on {hostile}"
        return report
    report.status = "ok"
    report.margin_rate = 0.4
    report.margin_rates = {hostile: 0.4}
    report.bgnbd = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426, time_unit="W")
    report.gamma_gamma = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    report.expected_margin_12m = 100.0
    report.new_customer_clv = 30.0
    short = customers[customers["probability_alive"] < 0.5]
    report.at_risk = short[["clv", "probability_alive", "last_purchase", "frequency"]].assign(
        value_if_retained=short["clv"] / short["probability_alive"]
    )
    groups = {"n_customers": [2, 1], "mean_clv": [80.0, 5.0], "median_clv": [80.0, 5.0]}
    groups |= {"total_clv": [160.0, 5.0], "share_of_clv": [0.97, 0.03]}
    report.by_segment = pd.DataFrame(groups, index=pd.Index([hostile, "inactive"], name="segment"))
    report.by_product_line = pd.DataFrame(
        groups, index=pd.Index([hostile, "beta"], name="product_line")
    )
    report.simple = SimpleClv(
        status="ok",
        avg_margin_per_month=10.0,
        churn_per_month=0.2,
        expected_lifetime_months=5.0,
        clv=45.0,
    )
    report.calibration = pd.DataFrame(
        {"n_customers": [2, 1], "actual": [1.0, 2.0], "expected": [1.1, 1.9]},
        index=pd.Index(["0", "1"], name="frequency"),
    )
    report.calibration_status = "ok"
    report.calibration_end = dt.date(2024, 12, 31)
    return report


def _blocks(report: ClvReport) -> dict[str, str]:
    return {
        "intro": clv_report.clv_intro_html(report),
        "summary": clv_report.clv_summary_html(report),
        "by_segment": clv_report.clv_by_html(report, "segment"),
        "by_product_line": clv_report.clv_by_html(report, "product_line"),
        "show_by": str(clv_report.show_clv_by(report, "product_line")),
        "at_risk": clv_report.at_risk_html(report),
        "calibration": clv_report.calibration_html(report),
        "not_fitted": clv_report.not_fitted_html(report),
    }


@pytest.mark.parametrize("hostile", HOSTILE)
def test_fitted_blocks_escape_data(hostile):
    blocks = _blocks(_report(hostile))
    for key in ("by_segment", "by_product_line", "show_by", "at_risk"):
        assert_inert(blocks[key], hostile)
    for key in ("intro", "summary", "calibration"):
        assert_inert(blocks[key])


@pytest.mark.parametrize("hostile", HOSTILE)
def test_not_fitted_blocks_escape_exception_messages(hostile):
    report = _report(hostile, ok=False)
    blocks = _blocks(report)
    for key in ("summary", "by_segment", "at_risk", "not_fitted"):
        assert_inert(blocks[key], f"invalid summary column {hostile}")
    assert_inert(blocks["calibration"], f"calibration failed on {hostile}")
    # the simple formula's reason is shown in the summary only when the models are fitted
    report.status = "ok"
    report.by_segment = report.by_product_line = pd.DataFrame()
    report.at_risk = report.customers.iloc[0:0]
    assert_inert(clv_report.clv_summary_html(report), f"cannot compute {hostile}")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_header_and_headings_escape_params(hostile, tmp_path):
    params = parse_params(
        {
            "brand": "acme",
            "name": hostile,
            "locale": "en",
            "currency": "EUR",
            "period": {"grain": "month"},
            "source": {"kind": "duckdb", "path": str(tmp_path / "x.duckdb")},
            "report": {"title": hostile},
        }
    )
    report = _report(hostile)
    assert_inert(clv_report.show_clv_header(params, report), hostile)
    assert_inert(clv_report.show_clv_header(params, report, title="CLV"), hostile)
    assert_inert(clv_report.show_clv_section("at_risk", "fr"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_kpis_json_reasons_are_plain_text(hostile):
    """kpis.json is data: the reasons are the exceptions' text, unchanged (escaped by whoever
    renders them, the index's template say)."""
    doc = clv_report.clv_document(_report(hostile, ok=False))
    assert doc["reason"] == f"invalid summary column {hostile}"
    assert doc["simple_clv"]["reason"] == f"cannot compute {hostile}"
    assert doc["calibration"]["reason"] == f"calibration failed on {hostile}"
