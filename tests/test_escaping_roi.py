"""Every HTML block of the campaign ROI report escapes what comes from params or data.

Campaign names, channels, segments, the brand's name and the columns of a lift are set to
markup (``<script>``, ``<img onerror>``) and quote characters; the rendered HTML must hold no
tag and no attribute that the templates did not write themselves.
"""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from kpitools.locales import LOCALES
from kpitools.params import parse_params
from kpitools.report import roi as R
from kpitools.roi import analyse_outcomes, compute_roi, estimate_lift, test_segment_interaction

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTES = 'q" onmouseover="alert(1)" data-x=\'y'
PAYLOADS = (SCRIPT, IMG, QUOTES)

#: Tags and attributes the ROI templates write.
TAGS = {
    "b",
    "br",
    "div",
    "h1",
    "h3",
    "li",
    "p",
    "span",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ATTRIBUTES = {"class", "style", "border"}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.values: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            self.values.append(value or "")

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: str) -> str:
    """No executable markup: only the templates' tags and attributes, payloads as text."""
    html = str(html)
    low = html.lower()
    assert "<script" not in low
    assert "<img" not in low
    # "onerror=" may appear only as escaped text ("&lt;img src=x onerror=…"), never in a tag
    assert low.count("onerror=") == low.count("&lt;img src=x onerror=")
    p = _Collect()
    p.feed(html)
    p.close()
    assert p.tags <= TAGS, p.tags - TAGS
    assert p.attributes <= ATTRIBUTES, p.attributes - ATTRIBUTES
    for value in p.values:  # a quote never closed an attribute early
        assert "alert" not in value
    return "".join(p.text)


def _params(locale: str):
    return parse_params(
        {
            "brand": "acme",
            "name": f"Acme {SCRIPT} {IMG} {QUOTES}",
            "locale": locale,
            "currency": "EUR",
            "period": {"grain": "month"},
            "source": {"kind": "duckdb", "path": "unused.duckdb"},
            "roi": {"min_control": 30, "min_control_judge": 5},
        }
    )


def _data():
    """Three measured campaigns (one per payload, as name and channel), one without control."""
    rng = np.random.default_rng(9)
    campaigns, members = [], []
    for k, payload in enumerate((*PAYLOADS, SCRIPT + " unmeasured")):
        cid = k + 1
        campaigns.append(
            {
                "campaign_id": cid,
                "name": f"{payload} #{cid}",
                "channel": PAYLOADS[k % 3],
                "product_line": None,
                "starts_at": pd.Timestamp(2025, 1 + k, 1),
                "ends_at": pd.Timestamp(2025, 1 + k, 10),
                "fixed_cost": 50.0,
                "cost_per_contact": 0.5 if k != 1 else None,
                "planned_control_share": 0.3 if k != 2 else None,
            }
        )
        for i in range(60):
            treated = 1 if (k == 3 or i % 3) else 0
            revenue = float(rng.gamma(2.0, 20.0) * (1.3 if treated else 1.0))
            members.append(
                {
                    "campaign_id": cid,
                    "customer_id": 1000 * cid + i,
                    "treated": treated,
                    "contacted": treated,
                    "segment": PAYLOADS[(i // 3) % 3] if i % 10 else "new",
                    "revenue": revenue,
                    "margin": revenue / 2,
                    "converted": int(revenue > 40),
                    "orders": int(revenue > 40),
                    "pre_revenue": float(rng.gamma(2.0, 10.0)),
                    "pre_margin": float(rng.gamma(2.0, 5.0)),
                    "pre_orders": int(rng.integers(0, 3)),
                }
            )
    return pd.DataFrame(campaigns), pd.DataFrame(members)


@pytest.fixture(scope="module")
def reports():
    campaigns, outcomes = _data()
    out = {}
    for locale in ("en", "fr", "it"):
        params = _params(locale)
        window = (
            pd.Timestamp(2025, 1, 1).to_pydatetime(),
            pd.Timestamp(2026, 1, 1).to_pydatetime(),
        )
        out[locale] = (
            params,
            analyse_outcomes(
                campaigns,
                outcomes,
                params,
                window=window,
                data_end=pd.Timestamp(2025, 4, 15).to_pydatetime(),
            ),
        )
    return out


def test_fixture_carries_the_payloads(reports):
    _, report = reports["en"]
    assert len(report.measured) == 3
    assert report.by_segment is not None and len(report.by_segment.table) >= 2
    assert report.by_channel is not None and len(report.by_channel.table) == 3 + 1
    assert report.by_channel.table.index[-1] == "not measured"  # the campaign without control
    assert {i.code for i in report.issues} >= {"unmeasured"}


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_every_roi_block_escapes_data_and_params(reports, locale):
    params, report = reports[locale]
    blocks = {
        "header": R.roi_header_html(report, params),
        "header_report_name": R.roi_header_html(report),
        "summary": R.roi_summary_html(report),
        "campaigns": R.campaigns_table_html(report),
        "segments": R.groups_html(report, "segment"),
        "channels": R.groups_html(report, "channel"),
        "guardrails": R.guardrails_html(report),
        "verdicts": R.verdicts_html(report),
        "method": R.method_html(report),
        "report": R.report_html(report),
    }
    shows = [
        R.show_roi_header(params, report),
        R.show_roi_summary(report),
        R.show_campaigns_table(report),
        R.show_roi_by(report, "segment"),
        R.show_roi_by(report, "channel"),
        R.show_roi_by(report, "product_line"),
        R.show_guardrails(report),
        R.show_verdicts(report),
        R.show_roi_method(report),
        R.show_campaign_report(report),
    ]
    texts = {name: assert_inert(html) for name, html in blocks.items()}
    for shown in shows:
        assert_inert(shown._repr_html_())
    # the payloads are shown, as text
    assert SCRIPT in texts["header"] and IMG in texts["header"] and QUOTES in texts["header"]
    for payload in PAYLOADS:
        assert payload in texts["campaigns"]
        assert payload in texts["verdicts"]
        assert payload in texts["channels"]
        assert payload in texts["segments"]
    assert "unmeasured" in texts["guardrails"]


def test_result_tables_escape_column_and_segment_names():
    rng = np.random.default_rng(3)
    n = 120
    df = pd.DataFrame(
        {
            "t": np.arange(n) % 2,
            SCRIPT: rng.normal(10, 2, n),
            IMG: [PAYLOADS[i % 3] for i in range(n)],
        }
    )
    lift = estimate_lift(df, outcome=SCRIPT, treatment="t", method="diff")
    margin = estimate_lift(df.assign(m=df[SCRIPT] / 2), outcome="m", treatment="t", method="diff")
    roi = compute_roi(margin, n_treated_total=60, cost=10.0, name=QUOTES)
    seg = test_segment_interaction(df, outcome=SCRIPT, treatment="t", segment=IMG)
    for html in (
        R.lift_html(lift),
        R.roi_result_html(roi),
        R.segment_interaction_html(seg),
        R.show_lift(lift)._repr_html_(),
        R.show_roi_result(roi)._repr_html_(),
        R.show_segment_interaction(seg)._repr_html_(),
    ):
        assert_inert(html)
    assert SCRIPT in assert_inert(R.lift_html(lift))
    assert QUOTES in assert_inert(R.roi_result_html(roi))
    assert IMG in assert_inert(R.segment_interaction_html(seg))
    for locale in LOCALES:
        assert SCRIPT in assert_inert(R.lift_html(lift, locale))
        assert QUOTES in assert_inert(R.roi_result_html(roi, locale))
        texts = assert_inert(R.segment_interaction_html(seg, locale))
        assert IMG in texts and SCRIPT in texts  # the segment name and the outcome column
        assert SCRIPT in assert_inert(R.show_lift(lift, locale)._repr_html_())
