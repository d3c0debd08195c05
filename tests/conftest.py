"""Shared fixtures and markers of the test suite.

- ``tests/`` is on ``sys.path``: test modules import :mod:`helpers` and :mod:`pg` as plain
  modules.
- ``postgres_url`` (from :mod:`pg`): ONE throwaway PostgreSQL server for the whole session.
- ``demo_database``: ONE default demo database (20 000 customers, seed 42, as
  ``make demo-data``), generated once per session into a temporary folder (with pytest-xdist,
  once for all workers). Read it only (``read_only=True`` or through ``kpitools.data.connect``).
- Markers: a test that uses ``demo_database`` or a PostgreSQL server, or whose recorded run
  time (``tests/durations.json``) is at least :data:`SLOW_SECONDS`, is marked ``slow``, so that
  ``pytest -m "not slow and not e2e"`` (``make test-fast``) stays under a minute.
  ``pytest --record-durations`` rewrites ``tests/durations.json`` from the run (a serial run of
  the whole suite gives the fairest numbers).
"""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from pg import postgres_url  # noqa: E402,F401  (the one session-scoped server)

#: The shared demo: the default of ``kpitools demo-data``.
DEMO_CUSTOMERS = 20_000
DEMO_SEED = 42
#: A test whose recorded setup + call + teardown time reaches this is ``slow``.
SLOW_SECONDS = 0.5
DURATIONS = TESTS / "durations.json"
#: Fixtures that make a test slow whatever its recorded time.
SLOW_FIXTURES = ("demo_database", "postgres_url")


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory, worker_id) -> Path:
    """Path of the shared default demo DuckDB file (generated once, then read-only)."""
    from kpitools.data.demo import generate_demo

    if worker_id == "master":  # no xdist: this process's own temporary folder
        path = tmp_path_factory.mktemp("shared-demo") / "demo.duckdb"
        generate_demo(path, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
        return path
    # xdist: the workers' base temporary folders share a parent; the first worker writes the
    # file, the others wait on the lock and reuse it (generate_demo writes it atomically)
    root = tmp_path_factory.getbasetemp().parent
    path = root / f"shared-demo-{DEMO_CUSTOMERS}-{DEMO_SEED}.duckdb"
    with open(root / "shared-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.exists():
                generate_demo(path, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    """pytest-xdist's worker id (``gw0``...), ``master`` without xdist (as xdist's fixture)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


# -- markers ------------------------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption(
        "--record-durations",
        action="store_true",
        help=f"rewrite {DURATIONS.name} with this run's test times (marks slow tests)",
    )


def _recorded() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    recorded = _recorded()
    slow = pytest.mark.slow
    for item in items:
        if item.get_closest_marker("slow"):
            continue
        if (
            item.get_closest_marker("postgres")
            or any(f in item.fixturenames for f in SLOW_FIXTURES)
            or recorded.get(item.nodeid, 0.0) >= SLOW_SECONDS
        ):
            item.add_marker(slow)


_times: dict[str, float] = {}


def pytest_runtest_logreport(report):
    if report.when in ("setup", "call", "teardown"):
        _times[report.nodeid] = _times.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if not config.getoption("--record-durations") or hasattr(config, "workerinput"):
        return  # only the controller (or a run without xdist) writes the file
    merged = _recorded() | {k: round(v, 2) for k, v in _times.items()}
    DURATIONS.write_text(
        json.dumps(dict(sorted(merged.items())), indent=0) + "\n", encoding="utf-8"
    )
