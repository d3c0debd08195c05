"""Work done once per brand: one freshness query per time type, a measure query run once per
open source, papermill saving the output notebook at its start, end and failures only."""

from __future__ import annotations

import nbformat
import pandas as pd
import papermill as pm
import pytest
from helpers import make_db, write_params

import kpitools.runner  # noqa: F401 - registers the "kpitools" papermill engine
from kpitools.data.provenance import table_freshness
from kpitools.data.sources import connect
from kpitools.kpis.compute import _execute_once
from kpitools.params import load_params

ORDERS = [
    dict(order_id=1, customer_id=1, product_line="m", ordered_at="2025-01-05", revenue=10.0),
    dict(order_id=2, customer_id=2, product_line="m", ordered_at="2025-03-09 14:30", revenue=5.0),
    dict(order_id=3, customer_id=3, ordered_at="2025-06-01", revenue=1.0, brand="other"),
]
CUSTOMERS = [
    dict(customer_id=1, first_seen="2024-12-01"),
    dict(customer_id=2, first_seen="2025-02-11 08:00"),
]


@pytest.fixture
def db(tmp_path):
    (tmp_path / "params").mkdir()
    (tmp_path / "data").mkdir()
    path = make_db(tmp_path / "data" / "crm.duckdb", {"orders": ORDERS, "customers": CUSTOMERS})
    params = load_params(write_params(tmp_path / "params" / "acme.yaml", path))
    with connect(params) as database:
        yield database


def _one_query_per_table(db) -> dict:
    """The freshness as it was computed before: one aggregate query per table."""
    from kpitools.data.provenance import _iso
    from kpitools.schema import TABLES

    out = {}
    for name in db.available_tables:
        t = db.table(name)
        col = TABLES[name].time_column
        if col and col in t.columns:
            row = t.aggregate(rows=t.count(), latest=t[col].max()).execute().iloc[0]
            out[name] = {"rows": int(row["rows"]), "latest": _iso(row["latest"])}
        else:
            out[name] = {"rows": int(t.count().execute()), "latest": None}
    return out


def test_freshness_in_one_query_equals_one_query_per_table(db):
    fresh = table_freshness(db)
    assert fresh == _one_query_per_table(db)
    assert fresh["orders"] == {"rows": 2, "latest": "2025-03-09T14:30:00"}  # brand's rows only
    assert list(fresh) == db.available_tables


def test_freshness_is_computed_once_per_source_and_handed_out_as_copies(db, monkeypatch):
    first = table_freshness(db)
    first["orders"]["rows"] = 999  # a caller's change does not reach the next caller
    import ibis.expr.types.core as core

    def no_query(self, *a, **k):  # pragma: no cover - the point is that it is not called
        raise AssertionError("table_freshness queried the source again")

    monkeypatch.setattr(core.Expr, "execute", no_query)
    again = table_freshness(db)
    assert again["orders"]["rows"] == 2


def test_a_query_is_run_once_per_source_and_each_caller_gets_a_copy(db, monkeypatch):
    t = db.table("orders")
    expr = t.aggregate(n=t.count(), revenue=t.revenue.sum())
    calls = []
    real = type(expr).execute

    def counting(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(type(expr), "execute", counting)
    first = _execute_once(db, expr)
    first.loc[0, "n"] = -1
    # the same query built again (structurally equal, another object): read from the memo
    t2 = db.table("orders")
    second = _execute_once(db, t2.aggregate(n=t2.count(), revenue=t2.revenue.sum()))
    assert len(calls) == 1
    pd.testing.assert_frame_equal(second, pd.DataFrame({"n": [2], "revenue": [15.0]}))
    # another query is run
    _execute_once(db, t2.aggregate(n=t2.count()))
    assert len(calls) == 2


def _notebook(tmp_path, cells: list[str]):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "py"}
    path = tmp_path / "in.ipynb"
    nbformat.write(nb, path)
    return path


def _saves(monkeypatch) -> list[int]:
    import papermill.engines as engines

    saves: list[int] = []
    real = engines.write_ipynb

    def counting(nb, path):
        saves.append(sum(1 for c in nb.cells if c.get("outputs")))
        return real(nb, path)

    monkeypatch.setattr(engines, "write_ipynb", counting)
    return saves


def test_the_kpitools_engine_saves_at_start_and_end_not_per_cell(tmp_path, monkeypatch):
    src = _notebook(tmp_path, [f"print({i})" for i in range(8)])
    saves = _saves(monkeypatch)
    out = tmp_path / "out.ipynb"
    nb = pm.execute_notebook(
        str(src), str(out), engine_name="kpitools", progress_bar=False, kernel_name="python3"
    )
    # papermill's own engine writes 2 + 2 per cell = 18 times; this one at start and end
    assert saves == [0, 8]
    written = nbformat.read(out, as_version=4)
    assert [c.outputs[0]["text"] for c in written.cells] == [f"{i}\n" for i in range(8)]
    assert [c.outputs for c in nb.cells] == [c.outputs for c in written.cells]


def test_the_kpitools_engine_saves_a_failing_cell_at_once(tmp_path, monkeypatch):
    src = _notebook(tmp_path, ["print('a')", "raise ValueError('boom')", "print('never')"])
    saves = _saves(monkeypatch)
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="boom"):
        pm.execute_notebook(
            str(src), str(out), engine_name="kpitools", progress_bar=False, kernel_name="python3"
        )
    assert saves[1] == 2  # saved when the cell failed, with its error output
    written = nbformat.read(out, as_version=4)
    code = [c for c in written.cells if c.cell_type == "code"]  # papermill adds its marker
    assert [c.metadata.papermill["status"] for c in code] == ["completed", "failed", "pending"]
    assert not code[2].outputs


def test_a_long_cell_still_autosaves(tmp_path, monkeypatch):
    src = _notebook(tmp_path, ["print('a')", "import time; time.sleep(1.5)", "print('b')"])
    saves = _saves(monkeypatch)
    pm.execute_notebook(
        str(src),
        str(tmp_path / "out.ipynb"),
        engine_name="kpitools",
        progress_bar=False,
        kernel_name="python3",
        autosave_cell_every=1,
    )
    assert len(saves) > 2  # the throttled autosave of papermill runs between cells
