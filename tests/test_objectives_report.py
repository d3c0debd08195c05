"""The objectives section of the report: HTML blocks and the objective tree figure."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from kpitools.kpis.compute import KpiResult, Scorecard  # noqa: E402
from kpitools.kpis.registry import get_kpi  # noqa: E402
from kpitools.objectives import Objective, evaluate_objectives  # noqa: E402
from kpitools.periods import parse_period  # noqa: E402
from kpitools.plots.objectives import plot_objective_tree  # noqa: E402
from kpitools.report.objectives import (  # noqa: E402
    objectives_html,
    rule_text,
    show_objectives,
    status_label,
)
from kpitools.report.tables import Html  # noqa: E402

OBJECTIVES = [
    {
        "id": "grow",
        "title": "Grow revenue from new customers by 10 %",
        "kpi": "new_customer_revenue",
        "baseline": {"value": 88000, "date": "2025-01-01"},
        "target": {"change": "+10%"},
        "deadline": "2025-12-31",
        "review": "yearly",
        "actions": ["Review the new-customer pipeline"],
        "strategies": [
            {
                "title": "Sell solutions rather than single products, with a title long "
                "enough to need wrapping in the figure",
                "function": "sales",
                "tactics": ["Bundles"],
                "actions": ["Solution-selling workshop"],
                "metrics": [
                    {
                        "kpi": "average_deal_size",
                        "target": {"min": 2500},
                        "actions": ["Review the bundle price list"],
                    },
                    {"kpi": "won_amount_per_rep", "target": {"min": 2000}},
                    {"kpi": "close_rate", "target": {"min": 0.3, "max": 0.8}},
                ],
            }
        ],
    },
    {
        "id": "service",
        "title": "Resolve cases faster",
        "kpi": "avg_resolution_hours",
        "baseline": {"value": 30, "date": "2025-01-01"},
        "target": {"value": 24},
        "deadline": "2025-12-31",
        "strategies": [
            {
                "title": "Solve at first contact",
                "function": "service",
                "metrics": [
                    {
                        "kpi": "first_contact_resolution_rate",
                        "target": {"min": 0.7},
                        "actions": ["Update the knowledge base"],
                    },
                    {"kpi": "csat_mean_score", "target": {"min": 4}},
                ],
            }
        ],
    },
    {
        "id": "advocacy",
        "title": "Raise advocacy",
        "kpi": "nps",
        "baseline": {"value": 30, "date": "2025-01-01"},
        "target": {"value": 40},
        "deadline": "2026-12-31",
    },
]


def scorecard(period="2025-10", locale="en", currency="GBP", **values) -> Scorecard:
    results = {}
    for kpi_id, v in values.items():
        k = get_kpi(kpi_id)
        results[kpi_id] = (
            KpiResult(k, "no_data", reason="no data in period")
            if v is None
            else KpiResult(k, "ok", value=float(v))
        )
    return Scorecard(
        brand="acme",
        period=parse_period(period, "month"),
        results=results,
        locale=locale,
        currency=currency,
    )


def report(locale="en", **extra):
    values = {
        # October 2025 ends on 1 November, 304 days after the baseline, deadline 364 days
        # after it: expected 88 000 + 8 800 * 304 / 364 = 95 349.45
        "new_customer_revenue": 99_000,  # on track
        "average_deal_size": 2300,  # off track (200 > 125)
        "won_amount_per_rep": 2100,  # on track
        "close_rate": 0.45,  # inside the range
        "avg_resolution_hours": 40,  # off track
        "first_contact_resolution_rate": 0.68,  # at risk (0.02 <= 0.035)
        "csat_mean_score": None,  # unknown
        "nps": None,  # unknown
    }
    values.update(extra)
    objectives = [Objective.model_validate(o) for o in OBJECTIVES]
    return evaluate_objectives(objectives, scorecard(locale=locale, **values))


def test_statuses_as_worked_out():
    rep = report()
    assert [o.status for o in rep] == ["off_track", "off_track", "unknown"]
    assert rep["grow"].outcome_status == "on_track"
    assert rep["service"].strategies[0].status == "at_risk"  # at risk + unknown: known problem
    assert rep["grow"].review_point is False  # October, yearly review


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_html_has_statuses_actions_and_no_missing_markers(locale):
    rep = report(locale)
    html = objectives_html(rep)
    for status in ("on_track", "at_risk", "off_track", "unknown"):
        assert status_label(status, locale) in html
        assert f"status-{status}" in html
    for action in (
        "Review the new-customer pipeline",
        "Solution-selling workshop",
        "Review the bundle price list",
        "Update the knowledge base",
    ):
        assert action in html
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)
    assert "None" not in html
    assert rule_text(locale)[:40] in html
    assert html.count("class='objective ") == 3


def test_html_in_english_reads_as_expected():
    html = objectives_html(report())
    assert "3 objectives for October 2025: 2 off track, 1 unknown." in html
    assert "What to do" in html
    assert "between reviews, next review 31 December 2025" in html
    assert "£99,000" in html  # numbers through format_value, in the report's currency
    assert "\u2265\u00a0£95,349" in html  # the expected value for October
    assert "no value for the period" in html  # the unknown CSAT mean score and NPS
    assert "Mean satisfaction score" in html


def test_html_in_french_uses_french_words_and_numbers():
    html = objectives_html(report("fr"), currency="EUR")
    assert "Que faire" in html and "Hors trajectoire" in html and "En bonne voie" in html
    assert "99\u202f000\u00a0€" in html or "99\u00a0000\u00a0€" in html


def test_show_objectives_is_an_html_wrapper_with_a_heading():
    shown = show_objectives(report("it"))
    assert isinstance(shown, Html)
    assert str(shown).startswith("<h2>Obiettivi</h2>")
    assert str(show_objectives(report(), heading=False)) == objectives_html(report())
    assert shown._repr_html_() == str(shown)


def test_no_objectives():
    rep = evaluate_objectives([], scorecard())
    html = objectives_html(rep)
    assert "No objective" in html and "None" not in html
    assert plot_objective_tree(rep) is None  # never an empty figure


def test_tree_figure_draws_a_png(tmp_path):
    rep = report()
    ax = plot_objective_tree(rep)
    fig = ax.figure
    width, height = fig.get_size_inches()
    assert width <= 8.27  # fits an A4 page width
    # one box per objective, strategy and metric
    assert len(ax.patches) == 3 + 2 + 5
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Raise advocacy" in texts and "Average deal size" in texts
    assert "nan" not in texts and "None" not in texts
    out = tmp_path / "tree.png"
    fig.savefig(out, dpi=80)
    plt.close(fig)
    assert out.stat().st_size > 5000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tree_figure_on_given_axes(tmp_path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5))
    assert plot_objective_tree(report("fr"), ax=right) is right
    fig.savefig(tmp_path / "two.png", dpi=60)
    plt.close(fig)
    assert (tmp_path / "two.png").stat().st_size > 0
