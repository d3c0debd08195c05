"""Compiled SQL reused across connections of the same schema (kpitools.data.compiled)."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data import compiled
from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

KPIS = ["revenue", "new_customers", "active_customers", "new_customer_revenue"]


def _brand(tmp_path, name: str, orders: list[dict], customers: list[dict]):
    (tmp_path / name).mkdir()
    path = make_db(tmp_path / name / "crm.duckdb", {"orders": orders, "customers": customers})
    return load_params(write_params(tmp_path / name / "p.yaml", path, brand="acme"))


def _orders(scale: float, n: int) -> list[dict]:
    return [
        dict(
            order_id=i,
            customer_id=i % 3 + 1,
            ordered_at=f"2025-{(i % 3) + 1:02d}-{(i % 27) + 1:02d}",
            revenue=scale * (i + 1),
        )
        for i in range(n)
    ]


CUSTOMERS = [dict(customer_id=c, first_seen=f"2025-0{c}-01") for c in (1, 2, 3)]


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.delenv("KPITOOLS_COMPILE_CACHE", raising=False)
    compiled.clear_compile_cache()
    yield
    compiled.clear_compile_cache()


def _values(params) -> dict:
    with connect(params) as db:
        card = compute_kpis(db, params, "2025-03", kpis=KPIS)
    return {
        r.kpi.id: (r.value, r.previous, [p["value"] for p in r.to_dict()["trend"]]) for r in card
    }


def test_a_second_brand_of_the_same_schema_reuses_the_sql_and_reads_its_own_data(
    tmp_path, monkeypatch
):
    a = _brand(tmp_path, "a", _orders(1.0, 12), CUSTOMERS)
    b = _brand(tmp_path, "b", _orders(10.0, 7), CUSTOMERS)
    first = _values(a)
    misses = compiled.stats["misses"]
    assert misses > 0 and compiled.stats["hits"] == 0
    second = _values(b)
    # brand b's queries were all compiled for brand a: no new SQL
    assert compiled.stats["misses"] == misses
    assert compiled.stats["hits"] >= misses
    # and yet b's numbers are b's: the SQL names tables, the connection is b's
    monkeypatch.setenv("KPITOOLS_COMPILE_CACHE", "off")
    assert _values(a) == first
    assert _values(b) == second
    assert first["revenue"][0] == sum(1.0 * (i + 1) for i in range(12) if i % 3 == 2)
    assert second["revenue"][0] == sum(10.0 * (i + 1) for i in range(7) if i % 3 == 2)


def test_cached_sql_is_the_sql_ibis_compiles(tmp_path):
    a = _brand(tmp_path, "a", _orders(1.0, 5), CUSTOMERS)
    b = _brand(tmp_path, "b", _orders(2.0, 5), CUSTOMERS)
    with connect(a) as da, connect(b) as dbb:
        ta, tb = da.con.table("orders"), dbb.con.table("orders")
        exprs = [
            lambda t: t.aggregate(n=t.count(), revenue=t.revenue.sum()),
            lambda t: t.filter(t.revenue > 2).group_by("customer_id").agg(m=t.revenue.max()),
            lambda t: t.order_by(t.ordered_at.desc()).limit(3),
            # a self-join: each .view() is numbered afresh process-wide, the SQL is the same
            lambda t: t.join(t.view(), "customer_id").aggregate(n=ibis._.count()),
        ]
        for make in exprs:
            first = da.con.compile(make(ta))
            hits = compiled.stats["hits"]
            again = dbb.con.compile(make(tb))  # another connection, another object: a hit
            assert compiled.stats["hits"] == hits + 1
            # the SQL Ibis itself compiles (the backend class's own method, not the wrapper)
            assert again == first == type(dbb.con).compile(dbb.con, make(tb))


def test_a_different_literal_column_or_schema_is_compiled_anew(tmp_path):
    con1, con2 = ibis.duckdb.connect(), ibis.duckdb.connect()
    con1.raw_sql("CREATE TABLE t (x BIGINT, y DOUBLE)")
    con2.raw_sql("CREATE TABLE t (x BIGINT, y VARCHAR)")  # same names, another type
    for con in (con1, con2):
        compiled.install_compile_cache(con)
    t1, t2 = con1.table("t"), con2.table("t")
    s1 = con1.compile(t1.filter(t1.x > 1))
    s2 = con1.compile(t1.filter(t1.x > 2))
    s3 = con1.compile(t1.filter(t1.x > 1).select("y"))
    con2.compile(t2.filter(t2.x > 1))
    assert compiled.stats == {"hits": 0, "misses": 4, "uncached": 0}
    assert s1 != s2 and "2" in s2 and s3 != s1
    assert con1.compile(t1.filter(t1.x > 1)) == s1
    assert compiled.stats["hits"] == 1


def test_memtables_and_scalar_parameters_are_compiled_every_time_and_never_kept():
    con = compiled.install_compile_cache(ibis.duckdb.connect())
    m = ibis.memtable(pd.DataFrame({"a": [1, 2, 3]}))
    assert con.execute(m.a.sum()) == 6
    p = ibis.param("int64")
    con.raw_sql("CREATE TABLE t AS SELECT 1 AS a UNION ALL SELECT 5")
    t = con.table("t")
    assert con.execute(t.filter(t.a > p).count(), params={p: 2}) == 1
    assert con.execute(t.filter(t.a > p).count(), params={p: 0}) == 2
    assert compiled.stats["hits"] == 0 and compiled.stats["misses"] == 0
    assert compiled.stats["uncached"] == 3
    assert len(compiled._cache) == 0


def test_the_cache_is_bounded_and_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(compiled, "MAX_ENTRIES", 3)
    con = compiled.install_compile_cache(ibis.duckdb.connect())
    con.raw_sql("CREATE TABLE t AS SELECT 1 AS a")
    t = con.table("t")
    for i in range(5):
        assert con.execute(t.filter(t.a < i).count()) == (1 if i > 1 else 0)
    assert len(compiled._cache) == 3
    monkeypatch.setenv("KPITOOLS_COMPILE_CACHE", "off")
    con.compile(t.filter(t.a < 4).count())
    assert compiled.stats["hits"] == 0 and compiled.stats["uncached"] == 1
    # installing twice wraps once
    assert compiled.install_compile_cache(con).compile is con.compile


def test_a_self_join_made_twice_is_compiled_once_and_two_self_joins_stay_apart():
    con = compiled.install_compile_cache(ibis.duckdb.connect())
    con.raw_sql("CREATE TABLE t AS SELECT * FROM (VALUES (1, 10), (1, 20), (2, 5)) v(k, x)")
    t = con.table("t")

    def pairs(t):
        v = t.view()
        return t.join(v, [t.k == v.k, t.x < v.x]).count()

    assert con.execute(pairs(t)) == 1
    assert con.execute(pairs(t)) == 1
    assert compiled.stats["misses"] == 1 and compiled.stats["hits"] == 1
    # three references of one table: not confused with the two-reference query
    v1, v2 = t.view(), t.view()
    three = (
        t.join(v1, [t.k == v1.k, t.x < v1.x])
        .join(v2, [v1.k == v2.k, v1.x < v2.x], rname="{name}_third")
        .count()
    )
    assert con.execute(three) == 0
    assert compiled.stats["misses"] == 2


def test_the_data_checks_of_two_brands_on_one_day_are_one_sql(tmp_path):
    from kpitools.data.checks import scan_source

    a = _brand(tmp_path, "a", _orders(1.0, 12), CUSTOMERS)
    b = _brand(tmp_path, "b", _orders(10.0, 7), CUSTOMERS)
    with connect(a) as da:
        sa = scan_source(da)
    misses = compiled.stats["misses"]
    with connect(b) as dbb:
        sb = scan_source(dbb)
    # "today" is the end of the day for the future-date rule: the same SQL, no new compile
    assert compiled.stats["misses"] == misses
    assert sa["orders"].rows == 12 and sb["orders"].rows == 7
