"""Build tiny DuckDB files in the canonical model from hand-written rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import yaml

from kpitools.schema import TABLES

_SQL_TYPE = {
    "id": "BIGINT",
    "int": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def make_db(path: Path, tables: dict[str, list[dict]], *, defaults: dict | None = None) -> Path:
    """Write ``tables`` (canonical name -> rows) to a DuckDB file; absent columns are NULL.

    ``defaults`` gives column values used when a row omits them (e.g. ``{"brand": "acme"}``).
    """
    defaults = defaults or {"brand": "acme"}
    con = duckdb.connect(str(path))
    for name, rows in tables.items():
        spec = TABLES[name]
        cols = ", ".join(f'"{c.name}" {_SQL_TYPE[c.kind]}' for c in spec.columns)
        con.execute(f'CREATE TABLE "{name}" ({cols})')
        if rows:
            full = [
                {c.name: r.get(c.name, defaults.get(c.name)) for c in spec.columns} for r in rows
            ]
            df = pd.DataFrame(full, columns=list(spec.column_names))
            for c in spec.columns:
                if c.kind == "timestamp":
                    df[c.name] = pd.to_datetime(df[c.name], format="mixed")
            con.register("df", df)
            con.execute(f'INSERT INTO "{name}" SELECT * FROM df')
            con.unregister("df")
    con.close()
    return path


def write_params(path: Path, db_path: Path, **overrides) -> Path:
    """A minimal valid params file pointing at ``db_path``."""
    data = {
        "brand": "acme",
        "name": "Acme",
        "locale": "en",
        "currency": "EUR",
        "period": {"grain": "month"},
        "source": {"kind": "duckdb", "path": str(db_path)},
    }
    data.update(overrides)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
