"""The KPI report's HTML escapes every text that comes from params or data, by construction.

Each fragment (page, index, header, summary, scorecard, glossary, breakdown, footer, headings,
not-available notes) is rendered with brand names, report titles, params file names, product
lines, data-source descriptions, group names, objective titles and failure messages set to
markup; the output must contain no executable markup: no ``<script>``, no element with an
``on…`` attribute, no attribute broken out of its quotes.
"""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from types import SimpleNamespace

import pandas as pd
import pytest
from markupsafe import Markup

from kpitools.kpis.compute import (
    Breakdown,
    KpiResult,
    NotAvailable,
    Reason,
    Scorecard,
    Unsupported,
)
from kpitools.kpis.registry import get_kpi
from kpitools.periods import Period
from kpitools.report.export import export_index, page
from kpitools.report.notebook import (
    show_breakdown,
    show_department,
    show_footer,
    show_funnel,
    show_glossary,
    show_header,
    show_roi_headline,
    show_scorecard,
    show_section,
    show_summary,
)
from kpitools.report.tables import (
    Html,
    breakdown_html,
    glossary_html,
    header_html,
    heading_html,
    not_available_html,
    scorecard_html,
    sparkline_svg,
    status_text,
    summary_html,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"\' onmouseover="alert(1)" x=\'',
    "'><svg onload=alert(1)>",
]
#: Payloads that can be a folder name (no "/").
SLUGS = [p for p in PAYLOADS if "/" not in p]

PERIOD = Period("month", date(2025, 12, 1))
TREND = [(PERIOD.shift(-k), 100.0 + k) for k in range(11, -1, -1)]

#: Tags and attributes the KPI report's own fragments use (the sparkline is inline SVG).
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "span", "h1", "h2", "h3", "p",
    "i", "b", "code", "table", "caption", "thead", "tbody", "tr", "th", "td", "dl", "dt",
    "dd", "a", "br", "svg", "polyline", "circle",
    # the portal (reports/index*.html)
    "section", "details", "summary", "nav", "strong", "g",
}  # fmt: skip
ALLOWED_ATTRS = {
    "lang", "charset", "name", "content", "class", "title", "colspan", "href", "id", "width",
    "height", "viewbox", "xmlns", "role", "points", "fill", "stroke", "stroke-width", "cx",
    "cy", "r",
    # the portal
    "aria-hidden", "aria-label", "hreflang", "open",
}  # fmt: skip


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_inert(html: object) -> None:
    """No script, no event handler, no tag or attribute the report does not write itself."""
    text = str(html)
    assert "<script" not in text.lower()
    p = _Elements()
    p.feed(text)
    p.close()
    for tag, attrs in p.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {text[:300]}"
        for name, _ in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name in ALLOWED_ATTRS, f"attribute {name!r} broke out on <{tag}>"
        if tag == "a":
            (href,) = [v for k, v in attrs if k == "href"]
            assert not href.lower().startswith("javascript:")


def fake_params(payload: str, *, product_lines=()):
    return SimpleNamespace(
        brand="acme",
        display_name=payload,
        locale="en",
        currency="EUR",
        product_lines=list(product_lines),
        report=SimpleNamespace(title=payload, headline=["revenue", "nps", "leads_missing"]),
    )


def fake_scorecard(payload: str, locale: str = "en") -> Scorecard:
    ok = KpiResult(
        get_kpi("revenue"), "ok", value=120.0, previous=100.0, year_ago=90.0, trend=TREND
    )
    missing = KpiResult(
        get_kpi("lead_conversion_rate"),
        "not_available",
        reason=Reason.NEEDS_TABLE,
        missing_tables=(payload,),
    )
    empty = KpiResult(get_kpi("nps"), "no_data", reason=Reason.NO_DATA)
    return Scorecard(
        brand=payload,
        period=PERIOD,
        results={"revenue": ok, "lead_conversion_rate": missing, "nps": empty},
        locale=locale,
        currency="EUR",
        name=payload,
    )


def fake_objectives(payload: str):
    doc = {
        "objectives": [
            {
                "kpi": "revenue",
                "title": payload,
                "status": "on_track",
                "outcome_status": "at_risk",
                "strategies": [{"metrics": [{"kpi": "nps", "status": payload}]}],
            }
        ]
    }
    return SimpleNamespace(to_dict=lambda: doc)


def fake_breakdown(payload: str) -> Breakdown:
    frame = pd.DataFrame(
        [
            {"group": g, "kpi": "revenue", "value": 10.0, "previous": None, "year_ago": None}
            | {"status": "ok"}
            for g in (payload, "new", "(unknown)")
        ]
    )
    return Breakdown(
        by="product_line",
        period=PERIOD,
        frame=frame,
        unsupported={"nps": Unsupported(Reason.NEEDS_TABLE, (payload,))},
    )


@pytest.fixture(params=PAYLOADS, ids=["script", "img-onerror", "quotes", "svg-onload"])
def payload(request):
    return request.param


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_scorecard_and_summary(payload, locale):
    sc = fake_scorecard(payload, locale)
    params = fake_params(payload)
    for html in (
        scorecard_html(sc, title=payload, objectives=fake_objectives(payload)),
        summary_html(sc, params),
        show_scorecard(sc, department="sales"),
        show_department(sc, "sales", fake_objectives(payload)),
        show_summary(sc, params),
        status_text(sc["lead_conversion_rate"], locale),
    ):
        assert_inert(html)
    assert "&lt;" in str(scorecard_html(sc, title=payload)) or "&#" in str(
        scorecard_html(sc, title=payload)
    )


def _provenance(payload):
    from kpitools.data.provenance import Provenance

    return Provenance(
        params_file=payload,
        params_sha256=payload,
        source=payload,
        tables={payload: {"rows": 3, "latest": payload}},
        data_fingerprint=payload,
        kpitools_version=payload,
        kpitools_commit=payload,
        run_id=payload,
        started_at=payload,
        ended_at=payload,
        warnings=[payload],
    )


def test_header_footer_and_headings(payload):
    params = fake_params(payload, product_lines=[payload, "b"])
    sc = fake_scorecard(payload)
    db = SimpleNamespace(
        description=payload, available_tables=["orders", "surveys"], missing_tables=[payload]
    )
    for html in (
        header_html(params, sc),
        header_html(params, sc, title=payload),
        show_header(params, sc),
        show_footer(params, db, _provenance(payload)),
        show_section(payload, "en"),
        heading_html(payload, level=3),
        not_available_html([payload], "fr"),
    ):
        assert_inert(html)


def test_glossary(payload):
    k = SimpleNamespace(id="revenue", department="sales", direction="higher", definition=payload)
    assert_inert(glossary_html([k], locale="en"))
    assert_inert(show_glossary(fake_scorecard(payload)))


def test_breakdown(payload):
    b = fake_breakdown(payload)
    for html in (breakdown_html(b, title=payload), show_breakdown(b)):
        assert_inert(html)
    none = Breakdown(
        by="segment",
        period=PERIOD,
        frame=b.frame.iloc[0:0],
        unsupported={"nps": Unsupported(Reason.NEEDS_TABLE, (payload,))},
    )
    assert_inert(breakdown_html(none))


def test_not_available_sections(payload):
    na = NotAvailable(payload)
    assert_inert(show_roi_headline(na, "it"))
    from IPython import display as ipd

    shown = []
    original = ipd.display
    ipd.display = lambda *objs, **_: shown.extend(objs)
    try:
        assert_inert(show_funnel(na, "fr"))
    finally:
        ipd.display = original
    for obj in shown:
        assert_inert(obj._repr_html_())


def test_page(payload):
    assert_inert(page(Markup(f"<p>{len(payload)}</p>"), title=payload, lang=payload))


def test_trusted_html_helpers_refuse_plain_text(payload):
    with pytest.raises(TypeError):
        Html(payload)  # type: ignore[arg-type]


def test_sparkline_is_numbers_only():
    svg = sparkline_svg([1.0, None, 2.0, 3.0, 2.5])
    assert str(svg).startswith("<svg class=")
    assert_inert(svg)


def test_index(tmp_path):
    for i, slug in enumerate(SLUGS):
        folder = tmp_path / slug / f"2025-12{slug}"
        folder.mkdir(parents=True)
        doc = {
            "name": PAYLOADS[i],
            "locale": "en",
            "currency": "EUR",
            "kpis": {"revenue": {"value": 1.0, "unit": "currency"}},
            "objectives": {"counts": {"on_track": 1, "at_risk": 2}},
        }
        (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
        (folder / "report.html").write_text("x", encoding="utf-8")
        (folder / f"{slug}.html").write_text("x", encoding="utf-8")
        failed = tmp_path / slug / "_failed"
        failed.mkdir()
        (failed / "last.json").write_text(
            json.dumps({"period": f"2025-12{slug}", "error": PAYLOADS[0]}), encoding="utf-8"
        )
    gone = tmp_path / "gone" / "_failed"
    gone.mkdir(parents=True)
    (gone / "last.json").write_text(
        json.dumps({"period": PAYLOADS[1], "error": PAYLOADS[2]}), encoding="utf-8"
    )
    html = export_index(tmp_path).read_text(encoding="utf-8")
    assert_inert(html)
    p = _Elements()
    p.feed(html)
    hrefs = [
        h
        for tag, attrs in p.tags
        if tag == "a" and not (h := dict(attrs)["href"]).startswith(("#", "index.", "_logs/"))
    ]
    # every link to a report stays whole: slug/period/file, quotes and all
    assert {h.split("/")[0] for h in hrefs} == set(SLUGS)
    assert all(h.count("/") == 2 for h in hrefs)
