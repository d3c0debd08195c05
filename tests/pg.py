"""A throwaway PostgreSQL server for tests: the ``postgres_url`` session fixture.

``conftest.py`` registers the fixture for the whole suite (one server per session; do not
re-export it from a test module, that would start another). Ask for it by name::

    def test_something(postgres_url, monkeypatch):
        for k, v in postgres_url.env.items():
            monkeypatch.setenv(k, v)
        params = ... source: {kind: sql, url: postgres_url.url} ...

The fixture runs ``initdb`` and ``pg_ctl`` (found on ``PATH`` or in
``/usr/lib/postgresql/*/bin``) on a new cluster in a temporary folder, listening on
``127.0.0.1`` only, on a free port, with its unix socket in that folder. It creates a
login role with a random password and a database it owns, and yields a
:class:`PostgresServer` whose ``url`` holds ``${KPI_TEST_PGPASSWORD}`` instead of the
password and whose ``env`` holds that variable. At the end of the session the server is
stopped and the folder removed.

PostgreSQL refuses to run as root: when the tests run as root, ``initdb`` and ``pg_ctl`` run as
the ``postgres`` system user (``runuser``, else ``su``), in a folder that user owns.

Without PostgreSQL binaries the tests that use the fixture are skipped, unless
``KPITOOLS_REQUIRE_POSTGRES=1``: then they fail, so that CI cannot pass without them
(``.ci/postgres.sh`` installs them).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pytest

PASSWORD_VAR = "KPI_TEST_PGPASSWORD"
USER = "kpi"
DATABASE = "crm"
REQUIRE_VAR = "KPITOOLS_REQUIRE_POSTGRES"
STARTUP_BUDGET_S = 10.0

_PG_TYPE = {
    "id": "bigint",
    "int": "bigint",
    "float": "double precision",
    "string": "text",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class PostgresServer:
    """A running test server.

    Attributes
    ----------
    url : str
        ``postgres://kpi:${KPI_TEST_PGPASSWORD}@127.0.0.1:PORT/crm``: no password in it.
    env : dict
        The environment variable(s) the URL needs, ``{"KPI_TEST_PGPASSWORD": "..."}``.
    host, port, user, database : connection details.
    startup_seconds : float
        How long initdb + start + role and database creation took.

    ``url, env = server`` unpacks the two values a test usually needs.
    """

    url: str
    env: dict[str, str] = field(repr=False)
    host: str
    port: int
    user: str
    database: str
    startup_seconds: float = 0.0

    def __iter__(self):
        return iter((self.url, self.env))

    @property
    def password(self) -> str:
        return self.env[PASSWORD_VAR]

    def database_named(self, name: str) -> PostgresServer:
        """The same server and role, database ``name`` (created, owned by the role, if new).

        One database per data set keeps test modules from seeing each other's tables."""
        from psycopg import sql

        with self.connect() as con:
            exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base = self.url.rsplit("/", 1)[0]
        return replace(self, url=f"{base}/{name}", database=name)

    def connect(self, **kw):
        """A psycopg connection as the test role, over TCP with the password (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
            autocommit=True,
            connect_timeout=5,
            **kw,
        )


# -- finding and running the binaries -----------------------------------------------------------


def _version_key(path: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", path))


def find_pg_bin() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``: from PATH, else the newest
    ``/usr/lib/postgresql/*/bin``; None when there is none."""
    initdb = shutil.which("initdb")
    if initdb:
        folder = Path(os.path.realpath(initdb)).parent
        if (folder / "pg_ctl").is_file():
            return folder
        if shutil.which("pg_ctl"):
            return Path(initdb).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    """``cmd`` run as system user ``owner`` (None: as ourselves)."""
    if owner is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", owner, "--", *cmd]
    return ["su", owner, "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(cmd: list[str], owner: str | None, cwd: Path, timeout: float = 30) -> str:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    env.pop("PGDATA", None)
    proc = subprocess.run(
        _as_owner(cmd, owner),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# -- the fixture --------------------------------------------------------------------------------


def start_postgres(root: Path, bindir: Path, owner: str | None) -> PostgresServer:
    """Create and start a cluster in ``root`` (which ``owner`` must own); see the module doc."""
    t0 = time.perf_counter()
    data, sock, log = root / "data", root / "sock", root / "postgres.log"
    superuser = owner or pwd.getpwuid(os.geteuid()).pw_name
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            superuser,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        owner,
        root,
    )
    # only we and the server's user may reach the cluster over the socket
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{sock}'",
        "unix_socket_permissions": "0700",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "20",
        "shared_buffers": "16MB",
        "password_encryption": "'scram-sha-256'",
    }
    # appended as ourselves: root may write the postgres user's file, and it keeps its owner
    with open(data / "postgresql.conf", "a", encoding="utf-8") as f:
        f.write("".join(f"{k} = {v}\n" for k, v in conf.items()))
    sock.mkdir(mode=0o700)
    if owner:
        shutil.chown(sock, owner, owner)

    last_error = None
    for _attempt in range(3):  # a free port can be taken between probe and bind: retry
        port = _free_port()
        try:
            _run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    f"-p {port}",
                    "-w",
                    "-t",
                    "20",
                    "start",
                ],
                owner,
                root,
            )
            break
        except RuntimeError as exc:
            last_error = f"{exc}\n--- postgres.log ---\n{_tail(log)}"
    else:
        raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")

    import psycopg
    from psycopg import sql

    password = secrets.token_urlsafe(18)
    with psycopg.connect(
        host=str(sock), port=port, user=superuser, dbname="postgres", autocommit=True
    ) as con:
        con.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                sql.Identifier(USER), sql.Literal(password)
            )
        )
        con.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DATABASE), sql.Identifier(USER)
            )
        )
    return PostgresServer(
        url=f"postgres://{USER}:${{{PASSWORD_VAR}}}@127.0.0.1:{port}/{DATABASE}",
        env={PASSWORD_VAR: password},
        host="127.0.0.1",
        port=port,
        user=USER,
        database=DATABASE,
        startup_seconds=time.perf_counter() - t0,
    )


def stop_postgres(root: Path, bindir: Path, owner: str | None) -> None:
    data = root / "data"
    if (data / "postmaster.pid").exists():
        try:
            _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                owner,
                root,
            )
        except (RuntimeError, subprocess.TimeoutExpired):  # pragma: no cover - best effort
            pass


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[PostgresServer]:
    """A running throwaway PostgreSQL server (see the module doc); skip without binaries."""
    bindir = find_pg_bin()
    if bindir is None:
        _unavailable(
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in "
            "/usr/lib/postgresql/*/bin; install them with .ci/postgres.sh"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed: pip install -e '.[postgres]'")
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' system user to run the server")
        owner = "postgres"

    root = Path(tempfile.mkdtemp(prefix="kpitools-pg-"))
    try:
        if owner:
            shutil.chown(root, owner, owner)
        root.chmod(0o700)
        try:
            server = start_postgres(root, bindir, owner)
        except Exception as exc:
            pytest.fail(f"could not start a test PostgreSQL with {bindir}: {exc}", pytrace=False)
        if server.startup_seconds > STARTUP_BUDGET_S:
            warnings.warn(
                f"test PostgreSQL took {server.startup_seconds:.1f} s to start "
                f"(budget {STARTUP_BUDGET_S:g} s)",
                stacklevel=1,
            )
        yield server
    finally:
        stop_postgres(root, bindir, owner)
        shutil.rmtree(root, ignore_errors=True)


# -- loading rows -------------------------------------------------------------------------------


def _value(kind: str, v):
    if v is None:
        return None
    if kind == "timestamp":
        return v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
    if kind == "float":
        return float(v)
    if kind in ("int", "id") and not isinstance(v, str):
        return int(v)
    return v


def make_pg_db(
    server: PostgresServer,
    tables: dict[str, list[dict]],
    *,
    defaults: dict | None = None,
) -> None:
    """PostgreSQL twin of ``helpers.make_db``: (re)create canonical tables from rows.

    Every canonical column is created with its canonical type (ids ``bigint``, dates
    ``timestamp``); columns a row omits are ``NULL`` (or taken from ``defaults``, by default
    ``{"brand": "acme"}``).
    """
    from psycopg import sql

    from kpitools.schema import TABLES

    defaults = defaults or {"brand": "acme"}
    with server.connect() as con, con.transaction():
        for name, rows in tables.items():
            spec = TABLES[name]
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            con.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    sql.Identifier(name),
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_PG_TYPE[c.kind]))
                        for c in spec.columns
                    ),
                )
            )
            if not rows:
                continue
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(name),
                sql.SQL(", ").join(sql.Identifier(c.name) for c in spec.columns),
                sql.SQL(", ").join(sql.Placeholder() for _ in spec.columns),
            )
            with con.cursor() as cur:
                cur.executemany(
                    insert,
                    [
                        [_value(c.kind, r.get(c.name, defaults.get(c.name))) for c in spec.columns]
                        for r in rows
                    ],
                )


# -- comparing a PostgreSQL run with the DuckDB one ------------------------------------------


def pg_params(tmp_path: Path, server, *, source_tables=None, **overrides):
    """Params of brand ``acme`` reading ``server`` (a ``sql`` source whose URL refers to the
    password through an environment variable; the file never holds the password)."""
    from helpers import write_params

    from kpitools.params import load_params

    source = {"kind": "sql", "url": server.url}
    if source_tables:
        source["tables"] = source_tables
    path = write_params(tmp_path / "acme-pg.yaml", "unused", source=source, **overrides)
    assert server.password not in path.read_text()
    return load_params(path)


def same_value(a, b) -> bool:
    """Equal KPI values: both missing, or equal floats to 1e-9."""
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


def assert_same_scorecard(got, want):
    """Every KPI's status, value, previous, year-ago and trend equal (floats to 1e-9)."""
    assert got.period == want.period
    assert list(got.results) == list(want.results)
    diffs = []
    for kid, w in want.results.items():
        g = got[kid]
        if g.status != w.status:
            diffs.append(f"{kid}.status: {g.status} != {w.status}")
        for attr in ("value", "previous", "year_ago"):
            if not same_value(getattr(g, attr), getattr(w, attr)):
                diffs.append(f"{kid}.{attr}: {getattr(g, attr)} != {getattr(w, attr)}")
        if [p.label for p, _ in g.trend] != [p.label for p, _ in w.trend]:
            diffs.append(f"{kid}.trend periods differ")
        for (p, gv), (_, wv) in zip(g.trend, w.trend, strict=False):
            if not same_value(gv, wv):
                diffs.append(f"{kid}.trend[{p.label}]: {gv} != {wv}")
    assert not diffs, "PostgreSQL and DuckDB disagree:\n" + "\n".join(diffs)
