"""The objectives' HTML escapes every text that comes from a params file.

Objective titles, strategy titles, tactics and corrective actions are written by whoever edits
the params file; each is set to markup that would run if it reached the page unescaped, and
every HTML function of :mod:`kpitools.report.objectives` (each renders one template of
``templates/objectives/``) must show it as text: no element, no attribute, no event handler.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kpitools.kpis.compute import KpiResult, Scorecard
from kpitools.kpis.registry import get_kpi
from kpitools.objectives import ObjectiveReport, evaluate_objectives
from kpitools.params import parse_params
from kpitools.periods import parse_period
from kpitools.report.objectives import (
    badge_html,
    objective_html,
    objectives_html,
    overview_html,
    show_objectives,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"' onmouseover='alert(1)' x=\"",
]

#: the elements the templates write; anything else in the output came from the data
ALLOWED_TAGS = {
    "a",
    "b",
    "div",
    "h2",
    "li",
    "ol",
    "p",
    "span",
    "style",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
}
ALLOWED_ATTRS = {"class", "colspan", "href", "id", "style"}


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Markup:
    p = _Markup()
    p.feed(str(html))
    p.close()
    return p


def assert_inert(html: str, payload: str) -> None:
    """No element or attribute came from ``payload``; the payload is shown as text."""
    p = parse(html)
    for tag, attrs in p.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> in the output"
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, f"attribute {name}={value!r} on <{tag}>"
            assert "alert" not in (value or ""), f"{name}={value!r} on <{tag}>"
    assert "<script" not in str(html).lower() and "<img" not in str(html).lower()
    # every payload holds a character that markup reads (<, >, ' or "): escaped, it never
    # appears as written in the source, only in the text the reader sees
    assert payload not in str(html)
    assert payload in "".join(p.text)


def params_with(payload: str):
    data = {
        "brand": "acme",
        "source": {"kind": "duckdb", "path": "x.duckdb"},
        "objectives": [
            {
                "id": "grow",
                "title": payload,
                "kpi": "revenue",
                "baseline": {"value": 100, "date": "2025-01-01"},
                "target": {"value": 200},
                "deadline": "2025-03-04",
                "review": "quarterly",
                "actions": [f"objective action {payload}"],
                "strategies": [
                    {
                        "title": f"strategy {payload}",
                        "function": "sales",
                        "tactics": [f"tactic {payload}", payload],
                        "actions": [f"strategy action {payload}"],
                        "metrics": [
                            {
                                "kpi": "average_deal_size",
                                "target": {"min": 2000},
                                "actions": [f"metric action {payload}"],
                            },
                            {"kpi": "close_rate", "target": {"min": 0.3}},
                            {"kpi": "nps", "target": {"min": 30}},
                        ],
                    }
                ],
            },
            {
                "id": "quiet",
                "title": f"quiet {payload}",
                "kpi": "csat_mean_score",
                "baseline": {"value": 3.5, "date": "2025-01-01"},
                "target": {"value": 4},
                "deadline": "2025-12-31",
                "strategies": [
                    {
                        "title": f"no actions {payload}",
                        "function": "service",
                        "metrics": [{"kpi": "churn_rate", "target": {"max": 0.1}}],
                    }
                ],
            },
        ],
    }
    return parse_params(data, origin="params/acme.yaml")


def report_with(payload: str, locale: str = "en") -> ObjectiveReport:
    # revenue 120 of an expected 150: off track; deal size 1900: at risk; close rate on track;
    # NPS missing (unknown); churn 0.2 > 0.1: off track with no action of its own
    values = {"revenue": 120, "average_deal_size": 1900, "close_rate": 0.4, "churn_rate": 0.2}
    results = {k: KpiResult(get_kpi(k), "ok", value=float(v)) for k, v in values.items()}
    results["csat_mean_score"] = KpiResult(get_kpi("csat_mean_score"), "no_data")
    sc = Scorecard(
        brand="acme",
        period=parse_period("2025-01", "month"),
        results=results,
        locale=locale,
        currency="EUR",
    )
    return evaluate_objectives(params_with(payload), sc)


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_objectives_fragment_escapes_params_text(payload, locale):
    rep = report_with(payload, locale)
    # every kind of line is exercised: actions, a slip without an action, an unknown value
    assert {a.level for a in rep.actions()} == {"objective", "strategy", "metric"}
    fragments = {
        "objectives_html": objectives_html(rep),
        "show_objectives": str(show_objectives(rep)),
        "show_objectives(heading=False)": str(show_objectives(rep, heading=False)),
        "overview_html": overview_html(rep),
    }
    fragments |= {f"objective_html({o.id})": objective_html(o, locale) for o in rep}
    for name, html in fragments.items():
        try:
            assert_inert(html, payload)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    section = fragments["objectives_html"]
    for text in (
        f"objective action {payload}",
        f"strategy action {payload}",
        f"metric action {payload}",
        f"tactic {payload}; {payload}",
    ):
        assert text in "".join(parse(section).text)


def test_badges_and_the_empty_section_hold_no_data_markup():
    for status in ("on_track", "at_risk", "off_track", "unknown"):
        p = parse(badge_html(status, "fr"))
        assert [t for t, _ in p.tags] == ["span"]
    empty = report_with(PAYLOADS[0])
    empty.objectives.clear()
    p = parse(objectives_html(empty))
    assert {t for t, _ in p.tags} <= ALLOWED_TAGS
