"""A period or an objective of another grain than the brand's is refused, never converted.

``--period 2025-11`` for a quarterly brand used to become 2025-Q4 silently, and a monthly
revenue target was met by a quarter's revenue three times over when a brand moved from
monthly to quarterly reports. Both now stop with a message saying what to write.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kpitools.cli import main
from kpitools.errors import ParamsError, PeriodError
from kpitools.params import parse_params
from kpitools.params.objectives import Objective, grain_problem

BASE = {"brand": "acme", "source": {"kind": "duckdb", "path": "x.duckdb"}}

OBJECTIVE = {
    "id": "grow",
    "title": "Grow revenue",
    "kpi": "revenue",
    "baseline": {"value": 100_000, "date": "2025-01-01"},
    "target": {"value": 120_000},
    "deadline": "2025-12-31",
}


def test_a_month_for_a_quarterly_brand_is_refused_with_the_valid_periods():
    p = parse_params({**BASE, "period": {"grain": "quarter"}}, origin="params/acme.yaml")
    with pytest.raises(PeriodError) as exc:
        p.requested_period("2025-11")
    msg = str(exc.value)
    assert "'2025-11' is a month, but the report is by quarter" in msg
    assert "2025-Q1 … 2025-Q4" in msg and msg.endswith("is 2025-Q4")
    assert p.requested_period("2025-Q4").label == "2025-Q4"


def test_period_current_of_another_grain_is_a_params_error():
    with pytest.raises(ParamsError) as exc:
        parse_params(
            {**BASE, "period": {"grain": "quarter", "current": "2025-11"}},
            origin="params/acme.yaml",
        )
    (line,) = str(exc.value).splitlines()
    assert line.startswith("params/acme.yaml: period: current: period '2025-11' is a month")
    assert "the quarter holding 2025-11 is 2025-Q4" in line


@pytest.mark.e2e
def test_run_refuses_a_month_for_a_quarterly_brand(tmp_path):
    """End to end: `kpitools run --period 2025-11` on a quarterly brand fails with the message
    (and publishes nothing), before any notebook runs."""
    from tests.helpers import make_db, write_params

    db = make_db(
        tmp_path / "crm.duckdb",
        {
            "customers": [{"customer_id": 1, "created_at": "2025-01-05", "product_line": "m"}],
            "orders": [
                {
                    "order_id": m,
                    "customer_id": 1,
                    "product_line": "m",
                    "ordered_at": f"2025-{m:02d}-10",
                    "revenue": 10.0,
                }
                for m in range(1, 13)
            ],
        },
    )
    (tmp_path / "params").mkdir()
    params = write_params(tmp_path / "params" / "acme.yaml", db, period={"grain": "quarter"})
    result = CliRunner().invoke(
        main, ["run", str(params), "--period", "2025-11", "--reports-dir", str(tmp_path / "r")]
    )
    assert result.exit_code != 0
    assert "'2025-11' is a month, but the report is by quarter" in result.output
    assert "2025-Q4" in result.output
    assert not (tmp_path / "r" / "acme" / "2025-Q4").exists()
    assert not (tmp_path / "r" / "acme" / "2025-11").exists()


def test_an_objective_stated_per_month_is_refused_for_a_quarterly_brand():
    data = {**BASE, "period": {"grain": "quarter"}, "objectives": [{**OBJECTIVE, "grain": "month"}]}
    with pytest.raises(ParamsError) as exc:
        parse_params(data, origin="params/acme.yaml")
    (line,) = str(exc.value).splitlines()
    assert line.startswith("params/acme.yaml: objectives: objective 'grow' states its values per")
    assert "per month (grain: month) but the report is by quarter (period.grain)" in line
    assert "write grain: quarter, or report by month" in line


@pytest.mark.parametrize(("objective", "brand"), [("month", "month"), ("quarter", "quarter")])
def test_an_objective_of_the_brand_grain_is_accepted(objective, brand):
    data = {**BASE, "period": {"grain": brand}, "objectives": [{**OBJECTIVE, "grain": objective}]}
    p = parse_params(data, origin="params/acme.yaml")
    assert p.objectives[0].grain == objective
    # the values are used as written: nothing was rescaled
    assert p.objectives[0].target_value() == 120_000
    assert p.objectives[0].baseline.value == 100_000


def test_an_objective_without_grain_takes_the_brand_s():
    o = Objective.model_validate(OBJECTIVE)
    assert o.grain is None
    assert grain_problem(o, "month") is None and grain_problem(o, "year") is None


def test_the_shipped_params_state_the_grain_of_every_objective():
    """So that changing a shipped brand's period.grain stops the run instead of judging a
    quarter against a month's target."""
    from pathlib import Path

    from kpitools.params import load_params

    root = Path(__file__).resolve().parent.parent / "params"
    for f in sorted(root.glob("*.yaml")):
        p = load_params(f)
        assert p.objectives, f
        assert all(o.grain == p.period.grain for o in p.objectives), f
