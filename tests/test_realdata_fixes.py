"""kpitools fixes found on the real datasets (tests/test_realdata.py), on small hand-made files.

- CSV values past DuckDB's sniffing sample (below).
- Order lines (Ta-Feng: one row per product of a basket) count each order once.
- A single-line export (``product_line: {value: all}``) has no cross-sell to measure:
  ``cross_sell_value`` is not available, it was 0 by construction.

CDNOW's French export has three amounts above 999 (``1 286,01``), the first at row 27 634:
past the 20 480 rows DuckDB's CSV sniffer samples, so the column was typed DOUBLE and the
first query failed mid-report with DuckDB's own conversion error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpitools.data import connect
from kpitools.errors import ContractError
from kpitools.params import load_params

#: More rows than DuckDB's CSV sniffer samples (20 480).
ROWS = 25_000


def _export(folder: Path, last_amount: str) -> Path:
    """A French export of ROWS + 1 orders; every amount is ``10,50`` but the last one."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["num_client;date_achat;montant_ttc"]
    lines += [f"C{i % 97};{1 + i % 28:02d}/01/2025;10,50" for i in range(ROWS)]
    lines.append(f"C1;28/02/2025;{last_amount}")
    (folder / "ventes.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    source = {
        "kind": "csv",
        "path": "export",
        "brand": "b",
        "csv": {"delimiter": ";", "decimal": ",", "thousands": " ", "date_format": "%d/%m/%Y"},
        "tables": {
            "orders": {
                "table": "ventes",
                "columns": {
                    "order_id": {"expr": "row_number() over ()"},
                    "customer_id": "num_client",
                    "product_line": {"value": "all"},
                    "ordered_at": "date_achat",
                    "revenue": "montant_ttc",
                    "cost": {"value": None},
                },
            }
        },
    }
    path = folder.parent / "b.yaml"
    path.write_text(yaml.safe_dump({"source": source}, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow  # 25,001 rows
def test_thousands_mark_first_seen_past_the_sniffer_sample_reads_as_a_number(tmp_path):
    params = load_params(_export(tmp_path / "export", "1 286,01"))
    with connect(params) as db:
        orders = db.table("orders")
        assert orders.count().execute() == ROWS + 1
        total = orders.revenue.sum().execute()
        assert total == pytest.approx(ROWS * 10.5 + 1286.01, rel=1e-12)
        last = orders.filter(orders.order_id == ROWS + 1).execute()
        assert last.revenue.tolist() == [pytest.approx(1286.01)]
        assert db.check() == []


@pytest.mark.slow  # 25,001 rows
def test_text_past_the_sniffer_sample_names_the_value_and_its_row(tmp_path):
    params = load_params(_export(tmp_path / "export", "n/a"))
    with connect(params) as db, pytest.raises(ContractError) as err:
        db.raw_table("orders")
    msg = str(err.value)
    assert "column 'revenue': file ventes.csv, row 25001: 'n/a' is not a number" in msg
    assert "Conversion Error" not in msg


LINES = (
    "basket,client,day,price,rayon\n"
    "B1,c1,2025-01-03,10,fruits\nB1,c1,2025-01-03,5,fruits\nB1,c1,2025-01-03,1,fruits\n"
    "B2,c1,2025-01-09,4,fruits\n"
    "B3,c2,2025-01-09,2,fruits\nB3,c2,2025-01-09,2,fruits\n"
    "B4,c2,2025-02-01,8,pain\n"  # c2's first order on a second line: cross-sell of 8
)


def _lines_params(tmp_path: Path, product_line) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "lines.csv").write_text(LINES)
    source = {
        "kind": "csv",
        "path": "export",
        "brand": "b",
        "tables": {
            "orders": {
                "table": "lines",
                "columns": {
                    "order_id": "basket",
                    "customer_id": "client",
                    "product_line": product_line,
                    "ordered_at": "day",
                    "revenue": "price",
                    "cost": {"value": None},
                },
            }
        },
    }
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump({"source": source}, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("product_line", "expected"), [({"value": "all"}, None), ("rayon", 8.0)])
def test_cross_sell_needs_a_second_product_line(tmp_path, product_line, expected):
    from kpitools.kpis.compute import compute_kpis

    params = load_params(_lines_params(tmp_path, product_line))
    with connect(params) as db:
        r = compute_kpis(db, params, "2025-02", kpis=["cross_sell_value", "revenue"])
    assert r.value("revenue") == 8.0
    x = r["cross_sell_value"]
    if expected is None:
        assert str(x.status) == "not_available" and str(x.reason) == "needs_column"
        assert x.missing_columns == ("orders.product_line",)
    else:
        assert str(x.status) == "ok" and x.value == expected


def test_order_lines_count_each_order_once(tmp_path):
    """An export of order lines (Ta-Feng: one row per product, the basket's key repeated): the
    orders of the revenue drivers and of the customer activity are distinct order ids."""
    from kpitools.kpis.compute import QueryContext, window_for
    from kpitools.kpis.drivers import compute_revenue_table
    from kpitools.periods import parse_period

    path = _lines_params(tmp_path, {"value": "all"})
    params = load_params(path)
    jan = parse_period("2025-01", "month")
    with connect(params) as db:
        table = compute_revenue_table(db, params, "2025-02")
        total = table[(table["by"] == "total")].set_index("period")
        row = total.loc[pd.Timestamp("2025-01-01")]
        assert (row.revenue, row.orders, row.buyers) == (24.0, 3, 2)
        ctx = QueryContext(db=db, grain="month", periods=window_for(jan), settings=params.settings)
        cp = ctx.customer_periods().execute().set_index("customer_id")
        assert cp.loc["c1", "orders"] == 2 and cp.loc["c2", "orders"] == 1
