"""Secrets never leave in a message, whatever the URL form: user info, query string
(``?password=``, ``?sslpassword=``, ``token``, ``api_key``, ...), fragments, a mistyped
scheme. Validation rejects a scheme no database speaks and a URL that is not one; a connection
error to a real PostgreSQL server (``postgres_url``) never echoes the URL or the password, on
the console (``validate``), in ``run``'s error nor in ``_failed/last.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kpitools.cli import main
from kpitools.data.checks import check_params_source
from kpitools.data.sources import connect
from kpitools.errors import DataSourceError, ParamsError
from kpitools.params import SourceParams, load_params, parse_params
from kpitools.params.brand import scrub_secrets
from kpitools.runner import run_brand

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SECRET = "Wr0ng-S3cret-99"


# -- the scrubber -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://kpi:hunter2@db:5432/crm failed", "postgres://***@db:5432/crm failed"),
        ("postgres://kpi@db/crm", "postgres://***@db/crm"),
        (
            "postgres://db/crm?password=hunter2&sslmode=require",
            "postgres://db/crm?password=***&sslmode=require",
        ),
        ("x://db/crm?sslpassword=hunter2", "x://db/crm?sslpassword=***"),
        ("url ?token=abc123&api_key=k3y&x=1", "url ?token=***&api_key=***&x=1"),
        ("?Secret=s&access_token=t&PWD=p", "?Secret=***&access_token=***&PWD=***"),
        ("postgres://db/crm#hunter2 is wrong", "postgres://db/crm#*** is wrong"),
        # a mistyped scheme (one slash) still has its user info removed
        ("postgres:/kpi:hunter2@db/crm", "postgres:/***@db/crm"),
        ("postgress://kpi:hunter2@db/crm", "postgress://***@db/crm"),
        # libpq keyword strings, quoted values
        ("host=db password='hunter 2' user=kpi", "host=db password=*** user=kpi"),
        ('dsn "password=hunter2"', 'dsn "password=***"'),
        # nothing secret: unchanged
        ("host=db port=5432 sslmode=require", "host=db port=5432 sslmode=require"),
    ],
)
def test_scrub_secrets_every_url_form(text, expected):
    assert scrub_secrets(text) == expected


def test_scrub_secrets_removes_the_values_wherever_they_are():
    secret = "p@ss#w/rd"
    text = f"auth failed for {secret} (p%40ss%23w%2Frd in the URL)"
    out = scrub_secrets(text, [secret, ""])
    assert "p@ss" not in out and "p%40ss" not in out
    assert out == "auth failed for *** (*** in the URL)"


def test_source_scrub_knows_the_environment_secrets(monkeypatch):
    monkeypatch.setenv("KPI_T_PW", SECRET)
    monkeypatch.setenv("KPI_T_USER", "kpi")
    src = SourceParams(kind="sql", url="postgres://${KPI_T_USER}@db/crm?sslpassword=${KPI_T_PW}")
    assert src.secret_values() == [SECRET]
    assert src.scrub(f"bad key {SECRET} for kpi") == "bad key *** for kpi"  # the user stays


# -- validation ---------------------------------------------------------------------------


def _url_problems(url: str) -> list[str]:
    data = {"brand": "acme", "source": {"kind": "sql", "url": url}}
    with pytest.raises(ParamsError) as exc:
        parse_params(data, origin="acme.yaml")
    return exc.value.problems


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgress://kpi:${PW}@db/crm", "unknown URL scheme 'postgress': expected one of"),
        ("postgres:/kpi:${PW}@db/crm", "two slashes after 'postgres:'"),
        ("postgres:db/crm", "two slashes after 'postgres:'"),
        ("postgres://kpi@db/crm?password=hunter2", "literal password"),
        ("postgres://kpi@db/crm?sslpassword=hunter2", "literal password"),
        ("postgres://kpi@db/crm?api_key=hunter2", "literal password"),
        ("postgres://kpi@db/crm?auth_token=hunter2", "literal password"),
        ("postgres://kpi:${PW}@db/crm#hunter2", "#fragment"),
    ],
)
def test_validation_rejects(url, says):
    problems = _url_problems(url)
    assert len(problems) == 1, problems
    assert problems[0].startswith("acme.yaml: source.url: ")
    assert says in problems[0]
    assert "hunter2" not in problems[0]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://kpi:${PW}@db:5432/crm",
        "postgresql://kpi@db/crm?password=${PW}&sslmode=require",
        "postgres://kpi@db/crm?sslpassword=${PW}",
        "duckdb:///tmp/x.duckdb",
        "sqlite:///tmp/x.db",
    ],
)
def test_validation_accepts(url):
    params = parse_params({"brand": "acme", "source": {"kind": "sql", "url": url}})
    assert "PW" not in params.source.redacted() and "?" not in params.source.redacted()


# -- a real server: nothing leaks ---------------------------------------------------------


def _forms(server) -> dict[str, tuple[str, dict[str, str]]]:
    """URLs to the test server that must fail with a wrong password, the env they need."""
    base = f"{server.host}:{server.port}/{server.database}"
    return {
        "userinfo": (f"postgres://{server.user}:${{KPI_T_PW}}@{base}", {"KPI_T_PW": SECRET}),
        "query": (f"postgres://{server.user}@{base}?password=${{KPI_T_PW}}", {"KPI_T_PW": SECRET}),
        "sslpassword": (
            f"postgres://{server.user}:${{KPI_T_PW}}@{base}?sslpassword=${{KPI_T_SSL}}"
            "&sslmode=disable",
            {"KPI_T_PW": SECRET, "KPI_T_SSL": "Ssl-" + SECRET},
        ),
        "special": (
            f"postgres://{server.user}:${{KPI_T_PW}}@{base}",
            {"KPI_T_PW": "h#u@n/" + SECRET},
        ),
    }


@pytest.mark.parametrize("form", ["userinfo", "query", "sslpassword", "special"])
def test_wrong_password_never_leaks(postgres_url, tmp_path, monkeypatch, form):
    url, env = _forms(postgres_url)[form]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    secrets = [*env.values(), SECRET, "h#u@n"]
    params_file = tmp_path / "acme.yaml"
    params_file.write_text(
        yaml.safe_dump({"brand": "acme", "source": {"kind": "sql", "url": url}}, sort_keys=False)
    )
    params = load_params(params_file)

    with pytest.raises(DataSourceError) as exc:
        connect(params)
    msg = str(exc.value)
    assert msg.startswith(
        f"cannot connect to postgres://{postgres_url.host}:{postgres_url.port}/"
        f"{postgres_url.database}: "
    )
    assert "authentication failed" in msg or "password" in msg.lower()

    lines = [str(p) for p in check_params_source(params)]
    result = CliRunner().invoke(main, ["validate", str(params_file)])
    run = run_brand(params_file, reports_dir=tmp_path / "reports", notebooks_dir=NOTEBOOKS)
    last = (tmp_path / "reports" / "acme" / "_failed" / "last.json").read_text()
    assert run.status == "failed" and json.loads(last)["error"] == run.error
    for text in (msg, *lines, result.output, run.error or "", last):
        for secret in secrets:
            assert secret not in text, (form, text)
        assert "KPI_T_" not in text  # not even the variable's name in a query string
