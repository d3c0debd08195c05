"""Spark for tests: the availability check, ONE Spark session and ONE small demo.

The Spark tests (``tests/test_spark_parity.py``) run Ibis' PySpark backend in local mode
(``local[2]``, the settings of :data:`kpitools.data.sources.SPARK_DEFAULTS`). They need Java
17 or 21 (``java`` on ``PATH`` or ``JAVA_HOME``) and PySpark (``pip install -e '.[spark]'``);
without them they are skipped with the reason, unless ``KPITOOLS_REQUIRE_SPARK=1``: then they
fail, so that CI cannot pass without them (``.ci/spark.sh`` installs Java, ``make test`` the
extra).

- ``spark_session_for_tests`` (session scope): the one local session (one JVM, driver memory
  :data:`TEST_DRIVER_MEMORY`, JVM options :data:`TEST_JAVA_OPTIONS`) every Spark source of
  the test session reuses (a source without ``spark.master`` takes the active session);
  stopped at the end. The Spark tests carry ``@pytest.mark.xdist_group("spark")`` and ``make
  test`` runs ``--dist loadgroup``, so they all run on one xdist worker: one JVM for the whole
  suite.
- ``spark_demo`` (session scope): a 2 000-customer demo (seed 42) as a DuckDB file and as
  Parquet files, written once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_VAR = "KPITOOLS_REQUIRE_SPARK"
#: Java versions PySpark 4.0 supports (3.5 runs on 17 but not 21).
JAVA_VERSIONS = (17, 21)
#: Driver (JVM heap) of the test session: the 2 000-customer demo needs little.
TEST_DRIVER_MEMORY = "768m"
#: JVM options of the test session: the C1 compiler only, which warms up faster on a short
#: run (the first full scorecard in a fresh JVM: 40 s against 53-66 s with the default tiered
#: compilation, 2-core machine at load 5), at the cost of peak speed a long job would want.
TEST_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1"
#: Customers of the Spark (and PostgreSQL) parity demo.
DEMO_CUSTOMERS = 2000


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


def java_major(java: str) -> int | None:
    """Major version of a ``java`` executable (``17`` of ``openjdk version "17.0.15"``)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def require_spark() -> None:
    """Skip (or fail under ``KPITOOLS_REQUIRE_SPARK=1``) without Java 17/21 or PySpark."""
    java = find_java()
    if java is None:
        _unavailable(
            "Java not found (JAVA_HOME or java on PATH); Spark needs Java 17 or 21: "
            "install it with .ci/spark.sh (apt-get install openjdk-17-jre-headless)"
        )
    major = java_major(str(java))
    if major not in JAVA_VERSIONS:
        _unavailable(f"{java} is Java {major}; PySpark 4.0 needs Java 17 or 21 (JAVA_HOME)")
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


@pytest.fixture(scope="session", name="spark_session_for_tests")
def fixture_spark_session() -> Iterator[object]:
    """The one local Spark session of the test session (see the module docstring)."""
    require_spark()
    from kpitools.data.sources import spark_session
    from kpitools.params.brand import SourceParams

    source = SourceParams.model_validate(
        {
            "kind": "spark",
            "path": ".",
            "spark": {
                "master": "local[2]",
                "conf": {
                    "spark.driver.memory": TEST_DRIVER_MEMORY,
                    "spark.driver.extraJavaOptions": TEST_JAVA_OPTIONS,
                },
            },
        }
    )
    session = spark_session(source)
    yield session
    session.stop()


@pytest.fixture(scope="session", name="spark_demo")
def fixture_spark_demo(tmp_path_factory) -> tuple[Path, Path]:
    """(DuckDB file, Parquet folder) of the 2 000-customer demo, written once a session."""
    require_spark()
    from kpitools.data.demo import generate_demo

    folder = tmp_path_factory.mktemp("spark-demo")
    db = folder / "demo.duckdb"
    generate_demo(db, customers=DEMO_CUSTOMERS, seed=42)
    return db, export_parquet(db, folder / "parquet")
