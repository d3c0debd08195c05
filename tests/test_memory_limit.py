"""source.memory_limit: DuckDB's memory bound for a brand's queries, checked in the params."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import make_db, write_params

from kpitools.data.sources import connect
from kpitools.errors import ParamsError
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

ORDERS = [
    dict(order_id=i, customer_id=i % 4 + 1, ordered_at=f"2025-0{i % 3 + 1}-1{i % 9}", revenue=10.0)
    for i in range(30)
]


def _source(tmp_path, **source):
    db = make_db(tmp_path / "crm.duckdb", {"orders": ORDERS})
    return write_params(
        tmp_path / "p.yaml", db, source={"kind": "duckdb", "path": str(db), **source}
    )


def _limit(db) -> str:
    return db.con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_the_limit_is_duckdbs_and_the_numbers_do_not_change(tmp_path):
    free = load_params(_source(tmp_path))
    bound = free.model_copy(
        update={"source": free.source.model_copy(update={"memory_limit": "64MB"})}
    )
    with connect(free) as db:
        default = _limit(db)
        values = [
            r.value
            for r in compute_kpis(db, free, "2025-03", kpis=["revenue", "repeat_purchase_rate"])
        ]
    with connect(bound) as db:
        assert _limit(db) == "61.0 MiB"  # DuckDB's own spelling of 64 MB
        same = [
            r.value
            for r in compute_kpis(db, bound, "2025-03", kpis=["revenue", "repeat_purchase_rate"])
        ]
    assert default != "61.0 MiB"
    assert same == values == [100.0, 1.0]


def test_a_folder_source_takes_it_too(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    pd.DataFrame(ORDERS).assign(ordered_at=lambda f: pd.to_datetime(f.ordered_at)).to_parquet(
        folder / "orders.parquet"
    )
    path = write_params(
        tmp_path / "p.yaml",
        folder,
        source={"kind": "parquet", "path": str(folder), "memory_limit": "1GiB"},
    )
    with connect(load_params(path)) as db:
        assert _limit(db) == "1.0 GiB"


@pytest.mark.parametrize("bad", ["lots", "500", "-1GB", "2 parsecs"])
def test_a_size_without_a_unit_is_refused_naming_the_field(tmp_path, bad):
    with pytest.raises(ParamsError) as err:
        load_params(_source(tmp_path, memory_limit=bad))
    assert "source.memory_limit" in str(err.value)
    assert "500MB or 2GiB" in str(err.value)


def test_a_sql_source_is_told_to_set_its_engines_memory(tmp_path):
    path = write_params(
        tmp_path / "p.yaml",
        tmp_path / "x.duckdb",
        source={"kind": "sql", "url": "postgres://${PGUSER}@db/crm", "memory_limit": "1GB"},
    )
    with pytest.raises(ParamsError, match="memory_limit applies to the DuckDB kinds"):
        load_params(path)


def test_running_out_of_the_limit_says_which_setting_to_raise():
    import duckdb

    from kpitools.errors import out_of_memory_advice
    from kpitools.runner import _one_line

    con = duckdb.connect(config={"memory_limit": "1MB"})
    with pytest.raises(duckdb.OutOfMemoryException) as err:
        con.execute("SELECT range, repeat('x', 100) AS s FROM range(2000000) ORDER BY s").fetchall()
    message = _one_line(err.value)
    assert message.startswith("OutOfMemoryException: Out of Memory Error")
    assert "raise source.memory_limit in the params file" in message
    assert "SET memory_limit" not in message and "\n" not in message  # not DuckDB's SQL advice
    assert out_of_memory_advice(message) == message  # said once, however often it is passed on
    assert out_of_memory_advice("ValueError: boom") == "ValueError: boom"
