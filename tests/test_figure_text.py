"""Text is text in figures: ``$``, ``%``, ``_`` and currency symbols are never mathtext.

Matplotlib reads a pair of ``$`` as mathematics: "US$76,109 (≥ US$100,000)" in the objective
tree came out as "US76, 109(≥US100,000)". Every figure of :mod:`kpitools.plots` is drawn with
``text.parse_math`` off, inside the report notebooks (``setup_notebook``) and outside them.
Each test renders a figure under matplotlib's default settings (mathtext on), checks every drawn
Text has mathtext off, and finds the literal strings in an SVG written with ``svg.fonttype:
none`` (text kept as text, so the exact characters drawn can be read back).
"""

from __future__ import annotations

import io
from html import unescape

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from kpitools.kpis.cohorts import CohortRetention  # noqa: E402
from kpitools.kpis.compute import KpiResult, Scorecard  # noqa: E402
from kpitools.kpis.registry import get_kpi  # noqa: E402
from kpitools.objectives import Objective, evaluate_objectives  # noqa: E402
from kpitools.periods import parse_period  # noqa: E402
from kpitools.plots import (  # noqa: E402
    FIGURE_RC,
    empty_axes,
    literal,
    plot_cohort_heatmap,
    plot_objective_tree,
    plot_trend,
    plot_trends,
)
from kpitools.report.formatting import format_value  # noqa: E402

#: currency → the symbol its amounts carry in English
CURRENCIES = {"USD": "US$", "CHF": "CHF", "BRL": "R$"}
TITLE = "Grow $ales_2025 by 10 % at Brand_$1"


@pytest.fixture(autouse=True)
def _default_rc():
    """Matplotlib's own defaults (mathtext on), as in a user's notebook; figures closed after."""
    with matplotlib.rc_context({"text.parse_math": True}):
        yield
    plt.close("all")


def drawn_texts(fig) -> list[Text]:
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def svg_text(fig) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    return unescape(buf.getvalue())


def assert_plain(fig) -> list[str]:
    texts = drawn_texts(fig)
    assert texts
    parsed = [t.get_text() for t in texts if t.get_parse_math()]
    assert not parsed, f"mathtext on for {parsed}"
    return [t.get_text() for t in texts]


def objective_report(currency: str):
    objective = Objective.model_validate(
        {
            "id": "grow",
            "title": TITLE,
            "kpi": "revenue",
            "baseline": {"value": 70_000, "date": "2025-01-01"},
            "target": {"value": 100_000},
            "deadline": "2025-12-31",
            "strategies": [
                {
                    "title": "Upsell_$ bundles",
                    "function": "sales",
                    "metrics": [{"kpi": "average_deal_size", "target": {"min": 2500}}],
                }
            ],
        }
    )
    results = {
        "revenue": KpiResult(get_kpi("revenue"), "ok", value=76_109.0),
        "average_deal_size": KpiResult(get_kpi("average_deal_size"), "ok", value=2300.0),
    }
    sc = Scorecard(
        brand="Brand_$1",
        period=parse_period("2025-10", "month"),
        results=results,
        locale="en",
        currency=currency,
    )
    return evaluate_objectives([objective], sc)


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_objective_tree_draws_amounts_and_titles_literally(currency):
    symbol = CURRENCIES[currency]
    ax = plot_objective_tree(objective_report(currency))
    texts = assert_plain(ax.figure)
    joined = "\n".join(texts)
    value = format_value(76_109, "currency", "en", currency)
    deal = format_value(2300, "currency", "en", currency)
    floor = format_value(2500, "currency", "en", currency)
    assert symbol in value
    # the objective's line: its value and the value expected by now, both with their symbol
    assert f"{value} (≥ {symbol}" in joined
    assert f"{deal} (≥ {floor})" in joined
    svg = svg_text(ax.figure)
    assert f"{value} (≥ {symbol}" in svg and f"{deal} (≥ {floor})" in svg
    if currency == "USD":  # the example, as it must read
        assert "US$76,109 (≥ US$95,055)" in svg and "US$2,300 (≥ US$2,500)" in svg
    # the objective's title (wrapped in its box) and the strategy's, character for character
    assert "$ales_2025" in svg and "Upsell_$ bundles" in svg
    assert "\\$" not in joined  # no escape left for mathtext


def trend_scorecard(currency: str) -> Scorecard:
    period = parse_period("2025-12", "month")
    months = [parse_period(f"2025-{m:02d}", "month") for m in range(1, 13)]
    trend = [(p, 1000.0 + 40 * i) for i, p in enumerate(months)]
    result = KpiResult(get_kpi("average_deal_size"), "ok", value=1440.0, trend=trend)
    return Scorecard(
        brand="Brand_$1",
        period=period,
        results={"average_deal_size": result},
        locale="en",
        currency=currency,
    )


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_trend_tick_labels_carry_the_currency_literally(currency):
    symbol = CURRENCIES[currency]
    ax = plot_trend(trend_scorecard(currency), "average_deal_size")
    texts = assert_plain(ax.figure)
    ticks = [t for t in texts if symbol in t]
    assert len(ticks) >= 2, texts  # two $ on one axis: mathtext would have eaten them
    svg = svg_text(ax.figure)
    assert sum(tick in svg for tick in ticks) >= 2, ticks  # those inside the axis limits
    fig = plot_trends(trend_scorecard(currency))
    assert sum(symbol in t for t in assert_plain(fig)) >= 2


def test_cohort_heatmap_and_empty_axes_are_plain():
    rates = pd.DataFrame({0: [1.0, 1.0], 1: [0.25, None]}, index=["2025_$1", "2025_$2"])
    cohorts = CohortRetention(
        period=parse_period("2025-02", "month"),
        sizes=pd.Series([4, 4], index=rates.index),
        rates=rates,
    )
    ax = plot_cohort_heatmap(cohorts)
    texts = assert_plain(ax.figure)
    assert "2025_$1" in texts and "2025_$2" in texts and "25.0%" in texts
    _, ax = plt.subplots()
    empty_axes(ax, "needs US$ and R$ data_1")
    assert "needs US$ and R$ data_1" in svg_text(ax.figure)
    assert_plain(ax.figure)


def test_literal_keeps_the_text_and_the_notebook_turns_mathtext_off():
    assert literal("US$1 – R$2_%") == "US$1 – R$2_%"
    assert FIGURE_RC["text.parse_math"] is False
    from kpitools.report.notebook import setup_notebook

    with matplotlib.rc_context():
        setup_notebook()
        assert matplotlib.rcParams["text.parse_math"] is False


# ---- ROI and CLV figures, on the hand-made data of their own tests, in each currency -------

from dataclasses import replace  # noqa: E402

from test_clv_analysis import acme, report  # noqa: E402, F401 - module fixtures reused
from test_roi_analysis import ab_report, params  # noqa: E402, F401 - module fixtures reused

from kpitools.plots import (  # noqa: E402
    plot_calibration,
    plot_clv_by,
    plot_clv_distribution,
    plot_lift_forest,
    plot_roi_by,
)


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_roi_figures_draw_the_currency_literally(ab_report, currency):  # noqa: F811
    symbol = CURRENCIES[currency]
    rep = replace(ab_report, currency=currency)
    ax = plot_lift_forest(rep)
    texts = assert_plain(ax.figure)
    assert sum(symbol in t for t in texts) >= 2, texts
    svg = svg_text(ax.figure)
    assert sum(t in svg for t in texts if symbol in t) >= 2
    ax = plot_roi_by(rep, by="channel")
    assert_plain(ax.figure)


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_clv_figures_draw_the_currency_literally(report, currency):  # noqa: F811
    symbol = CURRENCIES[currency]
    rep = replace(report, currency=currency)
    ax = plot_clv_distribution(rep)
    texts = assert_plain(ax.figure)
    assert sum(symbol in t for t in texts) >= 2, texts
    assert sum(t in svg_text(ax.figure) for t in texts if symbol in t) >= 2
    ax = plot_clv_by(rep, by="segment")
    texts = assert_plain(ax.figure)
    assert any(symbol in t for t in texts), texts
    assert_plain(plot_calibration(rep).figure)
