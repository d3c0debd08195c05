"""Spark for tests: the ``spark_available`` check and a demo exported to Parquet.

The Spark tests (``tests/test_spark_parity.py``) run Ibis' PySpark backend in local mode
(``local[2]``, the settings of :data:`kpitools.data.sources.SPARK_DEFAULTS`). They need Java
(``java`` on ``PATH`` or ``JAVA_HOME``) and PySpark (``pip install -e '.[spark]'``); without
them they are skipped with the reason, unless ``KPITOOLS_REQUIRE_SPARK=1``: then they fail,
so that CI cannot pass without them (``.ci/spark.sh`` installs Java, ``make setup`` the extra).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_VAR = "KPITOOLS_REQUIRE_SPARK"


def _unavailable(reason: str):
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def find_java() -> str | None:
    """The ``java`` executable Spark will start: ``$JAVA_HOME/bin/java``, else on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def require_spark() -> None:
    """Skip (or fail under ``KPITOOLS_REQUIRE_SPARK=1``) without Java or PySpark."""
    if find_java() is None:
        _unavailable(
            "Java not found (JAVA_HOME or java on PATH); Spark needs Java 17 or 21: "
            "install it with .ci/spark.sh (apt-get install openjdk-17-jre-headless)"
        )
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("PySpark is not installed: pip install -e '.[spark]'")


def export_parquet(duckdb_file: Path, folder: Path) -> Path:
    """Every table of a DuckDB file as ``folder/<table>.parquet`` (DuckDB's COPY)."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        for t in tables:
            target = str(folder / f"{t}.parquet").replace("'", "''")
            con.execute(f"COPY \"{t}\" TO '{target}' (FORMAT parquet)")
    return folder
