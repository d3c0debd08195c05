"""A scorecard of a few KPIs asks the database only for the measure columns their formulas
read (kpitools.kpis.compute.formula_columns), and its numbers are those of the full one."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from kpitools.data.sources import connect
from kpitools.kpis import compute
from kpitools.kpis.compute import compute_kpis, formula_columns
from kpitools.kpis.registry import Kpi, get_kpi, get_registry
from kpitools.params import parse_params

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"


def _params(brand: str, db_path: Path):
    data = yaml.safe_load((PARAMS_DIR / f"{brand}.yaml").read_text(encoding="utf-8"))
    data["source"] = {"kind": "duckdb", "path": str(db_path)}
    return parse_params(data, origin=f"{brand}.yaml", base_dir=db_path.parent)


def _close(a, b) -> bool:
    """Equal structure and text; numbers to 1e-9 (DuckDB's parallel float sums)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _doc(result) -> dict:
    doc = result.to_dict()
    doc.pop("seconds", None)
    return doc


@pytest.mark.parametrize("brand", ["aurora", "bellevue", "castello"])
def test_every_kpi_alone_equals_its_value_in_the_full_scorecard(demo_database, brand):
    params = _params(brand, demo_database)
    with connect(params) as db:
        full = {r.id: _doc(r) for r in compute_kpis(db, params)}
    assert len(full) == len(get_registry())
    differ = []
    for kpi_id in get_registry():
        with connect(params) as db:  # a fresh source: nothing read from the full run's memo
            (alone,) = list(compute_kpis(db, params, kpis=[kpi_id]))
        if not _close(full[kpi_id], _doc(alone)):
            differ.append(kpi_id)
    assert not differ, differ
    # every formula could be probed: none falls back to the whole group
    assert all(v is not None for v in compute._FORMULA_COLUMNS.values())


def test_the_columns_a_formula_reads():
    columns = ["period", "n_rows", "lapsed", "active_start", "start_covered", "revenue", "orders"]
    assert formula_columns(get_kpi("churn_rate"), columns) == {
        "lapsed",
        "active_start",
        "start_covered",
    }
    assert formula_columns(get_kpi("revenue"), columns) == {"revenue"}


def test_a_formula_that_cannot_be_probed_keeps_the_whole_group():
    kpi = get_kpi("revenue")

    def picky(m):
        if float(m["revenue"].sum()) == 14.0:  # the probe's frame of ones
            raise ZeroDivisionError
        return m["revenue"]

    odd = Kpi(kpi.declaration, picky, kpi.definition, kpi.tables)
    assert formula_columns(odd, ["period", "n_rows", "revenue", "orders"]) is None


def test_a_few_kpis_ask_for_fewer_columns_and_the_full_group_serves_later_asks(
    demo_database, monkeypatch
):
    params = _params("aurora", demo_database)
    asked: list[list[str] | None] = []
    real = compute._execute_once

    def spy(db, expr, columns=None):
        asked.append(None if columns is None else list(columns))
        return real(db, expr, columns)

    monkeypatch.setattr(compute, "_execute_once", spy)
    group = get_kpi("churn_rate").measure
    with connect(params) as db:
        few = {r.id: r.value for r in compute_kpis(db, params, kpis=["churn_rate"])}
        assert len(asked) == 1
        assert set(asked[0]) == {"period", "n_rows", "lapsed", "active_start", "start_covered"}
        # every KPI of the group: the columns of all their formulas, one more query
        ids = [k for k, v in get_registry().items() if v.measure == group]
        compute_kpis(db, params, kpis=ids)
        assert len(asked) == 2 and set(asked[1]) > set(asked[0])
        queries = len(db.memo)
        # a narrower ask after it is read from the whole group's frame: no new query
        again = {r.id: r.value for r in compute_kpis(db, params, kpis=["churn_rate"])}
        assert len(db.memo) == queries
    assert again == few
