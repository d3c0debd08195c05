"""The per-customer, per-period roll-up shared by measure groups (``SharedTables``).

It is materialised (a temporary table) only when two or more selected measure groups read it;
one reader computes it inside its own query. Either way the KPI values are the same, and
:data:`kpitools.kpis.compute.ROLLUP_READERS` lists exactly the groups that read it.

Fixture (brand ``acme``), March 2025 report: c1 buys in January, February and March (a loyal,
steady customer), c2 in February and March, c3 in March only (new).
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from helpers import make_db, write_params

import kpitools.kpis.compute as compute
from kpitools.data.sources import connect
from kpitools.kpis.compute import ROLLUP_READERS, SharedTables, compute_kpis
from kpitools.kpis.registry import MEASURES, get_registry
from kpitools.params import load_params

ORDERS = [
    {"order_id": 1, "customer_id": 1, "ordered_at": "2025-01-10 10:00:00", "revenue": 100.0},
    {"order_id": 2, "customer_id": 1, "ordered_at": "2025-02-03 10:00:00", "revenue": 50.0},
    {"order_id": 3, "customer_id": 1, "ordered_at": "2025-03-15 10:00:00", "revenue": 40.0},
    {"order_id": 4, "customer_id": 2, "ordered_at": "2025-02-20 10:00:00", "revenue": 200.0},
    {"order_id": 5, "customer_id": 2, "ordered_at": "2025-03-01 10:00:00", "revenue": 20.0},
    {"order_id": 6, "customer_id": 3, "ordered_at": "2025-03-10 10:00:00", "revenue": 60.0},
]
ACTIVITY = ["new_customers", "active_customers", "revenue", "retention_rate"]
LOYALTY = ["loyal_customers"]


@pytest.fixture()
def params(tmp_path):
    rows = [{**r, "cost": r["revenue"] / 2, "product_line": "a"} for r in ORDERS]
    db_path = make_db(tmp_path / "fx.duckdb", {"orders": rows, "activities": []})
    return load_params(write_params(tmp_path / "acme.yaml", db_path))


@pytest.fixture()
def materialised(monkeypatch):
    """The keys :class:`SharedTables` materialises (the real ``Table.cache`` still runs)."""
    keys: list[tuple] = []
    real = ibis.Table.cache

    def spy(self):
        keys.append(self)
        return real(self)

    monkeypatch.setattr(ibis.Table, "cache", spy)
    return keys


def _values(params, kpis):
    with connect(params) as db:
        sc = compute_kpis(db, params, "2025-03", kpis=kpis)
    return {r.id: (r.value, r.previous, [v for _, v in r.trend]) for r in sc}


def test_one_reader_computes_the_rollup_in_its_own_query(params, materialised):
    values = _values(params, LOYALTY)
    assert materialised == []
    both = _values(params, LOYALTY + ACTIVITY)
    assert len(materialised) == 1  # two readers: one temporary table
    assert values["loyal_customers"] == both["loyal_customers"]
    activity = _values(params, ACTIVITY)
    assert len(materialised) == 1
    assert {k: both[k] for k in ACTIVITY} == activity
    # hand-computed: in March c3 is new; revenue 40 + 20 + 60; in February c2 was new
    assert activity["new_customers"][0] == 1
    assert activity["new_customers"][1] == 1
    assert activity["revenue"][0] == pytest.approx(120.0)


def test_shared_tables_materialise_only_keys_with_two_readers(tmp_path):
    con = ibis.duckdb.connect()
    t = con.create_table("t", pd.DataFrame({"x": [1, 2, 3]}))
    shared = SharedTables({("one",): 1, ("two",): 2})
    with shared:
        one = shared.get(("one", 7), lambda: t.mutate(y=t.x * 2))
        two = shared.get(("two", 7), lambda: t.mutate(y=t.x * 3))
        other = shared.get(("other",), lambda: t.mutate(y=t.x * 4))
        assert shared.get(("two", 7), lambda: t) is two  # materialised once
        assert len(shared._cached) == 2  # "two" and the undeclared "other"
        assert con.to_pyarrow(one)["y"].to_pylist() == [2, 4, 6]
        assert con.to_pyarrow(two)["y"].to_pylist() == [3, 6, 9]
        assert con.to_pyarrow(other)["y"].to_pylist() == [4, 8, 12]
    assert shared._cached == []


def test_rollup_readers_list_every_group_that_reads_the_rollup(params, monkeypatch):
    """Every measure group of the registry computable on the fixture, with what it reads."""
    current: list[str] = []
    reads: dict[str, set[tuple[bool, bool]]] = {}
    real_fetch, real_get = compute._fetch_measure, SharedTables.get

    def fetch(mctx, mid, kpis=None):
        current.append(mid)
        return real_fetch(mctx, mid, kpis)

    def get(self, key, build):
        reads.setdefault(current[-1], set()).add(tuple(key[1:3]))
        return real_get(self, key, build)

    monkeypatch.setattr(compute, "_fetch_measure", fetch)
    monkeypatch.setattr(SharedTables, "get", get)
    _values(params, list(get_registry()))
    computed = set(current)
    declared = {m: set(v) for m, v in ROLLUP_READERS.items()}
    assert reads == {m: v for m, v in declared.items() if m in computed}
    assert {"customer_activity", "customer_loyalty"} <= computed
    assert set(ROLLUP_READERS) <= set(MEASURES)
