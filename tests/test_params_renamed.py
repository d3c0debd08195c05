"""Params files written for kpitools 0.1 against the KPIs renamed, removed or rescaled in 0.2.

An old id gets one error naming the file, the field and the new id (or why it was removed),
wherever it appears: ``kpis:``, ``report.headline``, an objective's ``kpi:``, a metric's
``kpi:``. An absolute value of a ratio KPI (baseline, target value, min, max) must lie in
[0, 1] ([-1, 1] for a growth rate), so that ``csat: {min: 3.9}`` left on the old 1-5 scale is
refused with a note on what changed.
"""

from __future__ import annotations

import pytest
from helpers import write_params

from kpitools.catalogue import (
    KPIS,
    REMOVED,
    RENAMED,
    RESCALED,
    SIGNED_RATIOS,
    check_kpi_ids,
    get_declaration,
    unknown_kpi_message,
)
from kpitools.errors import ParamsError, UnknownKpiError
from kpitools.params import load_params
from kpitools.params.objectives import ratio_range_problem


def _objective(kpi="new_customer_revenue", baseline=100.0, target=None, metrics=()):
    o = {
        "id": "o1",
        "title": "An objective",
        "kpi": kpi,
        "baseline": {"value": baseline, "date": "2025-01-01"},
        "target": target or {"change": "+10%"},
        "deadline": "2025-12-31",
    }
    if metrics:
        o["strategies"] = [{"title": "A strategy", "function": "sales", "metrics": list(metrics)}]
    return o


def _errors(tmp_path, **overrides) -> list[str]:
    path = write_params(tmp_path / "brand.yaml", tmp_path / "none.duckdb", **overrides)
    with pytest.raises(ParamsError) as exc:
        load_params(path)
    return str(exc.value).splitlines()


# -- the maps ------------------------------------------------------------------------------------


def test_renamed_ids_point_at_existing_kpis_and_are_gone():
    assert RENAMED == {
        "campaign_revenue": "attributed_campaign_revenue",
        "revenue_per_salesperson": "won_amount_per_rep",
        "csat_satisfied_rate": "csat",
    }
    for old, new in RENAMED.items():
        assert old not in KPIS and new in KPIS
    assert set(REMOVED) == {"up_sell_value"}
    assert not set(REMOVED) & set(KPIS)
    assert set(RESCALED) <= set(KPIS)
    for kid in SIGNED_RATIOS | set(RESCALED):
        assert KPIS[kid].unit == "ratio"


def test_messages():
    assert unknown_kpi_message("campaign_revenue") == (
        "KPI 'campaign_revenue' was renamed 'attributed_campaign_revenue' in kpitools 0.2; "
        "use attributed_campaign_revenue"
    )
    msg = unknown_kpi_message("up_sell_value")
    assert msg.startswith("KPI 'up_sell_value' was removed in kpitools 0.2 because orders carry")
    assert "did you mean" in unknown_kpi_message("revnue")  # a typo still gets close matches
    with pytest.raises(UnknownKpiError, match="renamed 'won_amount_per_rep'"):
        get_declaration("revenue_per_salesperson")
    with pytest.raises(ValueError) as exc:
        check_kpi_ids(["revenue", "csat_satisfied_rate", "up_sell_value"])
    assert str(exc.value).count("KPI '") == 2  # one message per bad id, none for revenue


# -- every place a KPI id appears ------------------------------------------------------------------


def test_kpis_list(tmp_path):
    (line,) = _errors(tmp_path, kpis=["revenue", "campaign_revenue"])
    assert line.startswith(str(tmp_path / "brand.yaml"))
    assert ": kpis: " in line
    assert (
        "KPI 'campaign_revenue' was renamed 'attributed_campaign_revenue' in kpitools 0.2" in line
    )


def test_headline(tmp_path):
    (line,) = _errors(tmp_path, report={"headline": ["revenue", "up_sell_value"]})
    assert ": report.headline: " in line
    assert "KPI 'up_sell_value' was removed in kpitools 0.2 because" in line


def test_objective_and_metric_kpis(tmp_path):
    metric = {"kpi": "revenue_per_salesperson", "target": {"min": 2000}}
    lines = _errors(tmp_path, objectives=[_objective(kpi="campaign_revenue", metrics=[metric])])
    assert len(lines) == 2, lines
    assert any(
        ": objectives.0.kpi: KPI 'campaign_revenue' was renamed 'attributed_campaign_revenue'" in ln
        for ln in lines
    )
    assert any(
        ": objectives.0.strategies.0.metrics.0.kpi: KPI 'revenue_per_salesperson' was renamed "
        "'won_amount_per_rep'" in ln
        for ln in lines
    )


def test_the_new_ids_are_accepted(tmp_path):
    metric = {"kpi": "won_amount_per_rep", "target": {"min": 2000}}
    path = write_params(
        tmp_path / "ok.yaml",
        tmp_path / "none.duckdb",
        kpis=["attributed_campaign_revenue", "csat", "csat_mean_score", "renewal_amount"],
        report={"headline": ["attributed_campaign_revenue"]},
        objectives=[_objective(metrics=[metric, {"kpi": "csat", "target": {"min": 0.73}}])],
    )
    p = load_params(path)
    assert p.objectives[0].kpi_ids() == ["new_customer_revenue", "won_amount_per_rep", "csat"]


# -- ratio targets on the 0-1 scale ----------------------------------------------------------------


def test_csat_left_on_the_old_scale(tmp_path):
    (line,) = _errors(
        tmp_path, objectives=[_objective(metrics=[{"kpi": "csat", "target": {"min": 3.9}}])]
    )
    assert (
        ": objectives.0.strategies.0.metrics.0.target: min 3.9 is outside [0, 1] for csat" in line
    )
    assert "the 1-5 mean score is csat_mean_score" in line
    # the mean keeps its 1-5 scale
    path = write_params(
        tmp_path / "mean.yaml",
        tmp_path / "none.duckdb",
        objectives=[_objective(metrics=[{"kpi": "csat_mean_score", "target": {"min": 3.9}}])],
    )
    assert load_params(path).objectives[0].strategies[0].metrics[0].target.min == 3.9


def test_objective_baseline_and_target_value(tmp_path):
    lines = _errors(
        tmp_path,
        objectives=[_objective(kpi="close_rate", baseline=35, target={"value": 40})],
    )
    assert any(
        ": objectives.0.baseline: the baseline value 35 is outside [0, 1]" in ln for ln in lines
    )
    assert any(": objectives.0.target: the target value 40 is outside [0, 1]" in ln for ln in lines)


def test_metric_baseline_and_max(tmp_path):
    metric = {
        "kpi": "churn_rate",
        "baseline": {"value": 12, "date": "2025-01-01"},
        "target": {"max": 1.5},
    }
    lines = _errors(tmp_path, objectives=[_objective(metrics=[metric])])
    where = ": objectives.0.strategies.0.metrics.0."
    assert any(f"{where}baseline: the baseline value 12 is outside [0, 1]" in ln for ln in lines)
    assert any(f"{where}target: max 1.5 is outside [0, 1] for churn_rate" in ln for ln in lines)


def test_email_list_growth_in_percent_is_refused_a_fraction_accepted(tmp_path):
    metric = {"kpi": "email_list_growth_rate", "target": {"min": 7.5}}
    (line,) = _errors(tmp_path, objectives=[_objective(metrics=[metric])])
    assert "min 7.5 is outside [-1, 1] for email_list_growth_rate" in line
    assert "(it was in percent)" in line
    ok = {"kpi": "email_list_growth_rate", "target": {"min": -0.02, "max": 0.05}}
    path = write_params(
        tmp_path / "g.yaml", tmp_path / "none.duckdb", objectives=[_objective(metrics=[ok])]
    )
    assert load_params(path).objectives[0].strategies[0].metrics[0].target.min == -0.02


@pytest.mark.parametrize(
    "kpi, value, bad",
    [
        ("csat", 0.0, False),
        ("csat", 1.0, False),
        ("csat", 1.01, True),
        ("csat", -0.01, True),
        ("email_list_growth_rate", -1.0, False),
        ("email_list_growth_rate", -1.2, True),
        ("nps", 45.0, False),  # a score in points, not a ratio
        ("csat_mean_score", 4.2, False),
        ("actions_per_engagement", 3.5, False),  # a number now, not a rate
        (None, 12.0, False),  # an unknown KPI is reported on its own field
    ],
)
def test_ratio_range_problem(kpi, value, bad):
    assert (ratio_range_problem(kpi, value, "min") is not None) == bad
