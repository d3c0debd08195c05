"""Tests of kpitools.params: loading, path resolution, one clear line per problem, credentials."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from pydantic import ValidationError

from kpitools.errors import ParamsError, PeriodError
from kpitools.params import BrandParams, SourceParams, load_params, parse_params
from kpitools.periods import Period

FILE = "params/acme.yaml"

BASE = {
    "brand": "acme",
    "name": "Acme",
    "locale": "en",
    "currency": "EUR",
    "period": {"grain": "month"},
    "source": {"kind": "duckdb", "path": "../data/acme.duckdb"},
}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project root with an empty ``params/`` folder, as the working directory."""
    (tmp_path / "params").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(data=None, *, raw: str | None = None, path: str = FILE) -> str:
    """Write a params file (relative to the working directory) and return its relative path."""
    text = raw if raw is not None else yaml.safe_dump(data, sort_keys=False)
    Path(path).write_text(text, encoding="utf-8")
    return path


def problems(data=None, *, raw: str | None = None) -> list[str]:
    """The lines of the ParamsError raised by loading this params file."""
    path = write(data, raw=raw)
    with pytest.raises(ParamsError) as exc:
        load_params(path)
    assert exc.value.path == path
    assert str(exc.value) == "\n".join(exc.value.problems)
    return exc.value.problems


def with_(**changes) -> dict:
    return {**BASE, **changes}


# --------------------------------------------------------------------------------------
# Valid files
# --------------------------------------------------------------------------------------


def test_valid_file_loads_with_defaults(project):
    p = load_params(write(BASE))
    assert isinstance(p, BrandParams)
    assert (p.brand, p.display_name, p.locale, p.currency) == ("acme", "Acme", "en", "EUR")
    assert p.period.grain == "month" and p.period.current is None
    assert p.source.kind == "duckdb"
    assert p.kpis is None and p.product_lines == []
    assert p.settings.lapse_days == 365
    assert p.origin == FILE
    assert p.slug == "acme"


def test_display_name_falls_back_to_brand(project):
    data = {k: v for k, v in BASE.items() if k != "name"}
    assert load_params(write(data)).display_name == "acme"


def test_relative_source_path_resolves_against_params_folder(project, tmp_path, monkeypatch):
    path = write(BASE)
    # load from another working directory: the path still points next to params/
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    p = load_params(project / path)
    assert p.base_dir == (project / "params").resolve()
    assert p.source_path() == (project / "data" / "acme.duckdb").resolve()


def test_absolute_source_path_is_kept(project, tmp_path):
    target = tmp_path / "elsewhere" / "x.duckdb"
    p = load_params(write(with_(source={"kind": "duckdb", "path": str(target)})))
    assert p.source_path() == target


def test_requested_period_uses_argument_then_current(project):
    p = load_params(write(with_(period={"grain": "quarter", "current": "2025-Q4"})))
    assert p.requested_period() == Period("quarter", date(2025, 10, 1))
    assert p.requested_period("2024-Q1").label == "2024-Q1"
    latest = load_params(write(BASE))
    assert latest.requested_period() is None
    with pytest.raises(PeriodError):
        latest.requested_period("2025-Q1")  # a quarter for a monthly report


# --------------------------------------------------------------------------------------
# One line per problem, naming the file and the field
# --------------------------------------------------------------------------------------


def test_bad_grain_gives_exact_line(project):
    assert problems(with_(period={"grain": "week"})) == [
        "params/acme.yaml: period.grain: Input should be 'month', 'quarter' or 'year'"
    ]


def test_unknown_top_level_key_rejected(project):
    (line,) = problems(with_(colour="red"))
    assert line.startswith("params/acme.yaml: colour: ")
    assert "unknown field" in line


def test_unknown_nested_key_rejected(project):
    (line,) = problems(
        with_(source={"kind": "duckdb", "path": "x.duckdb", "tabels": {}}),
    )
    assert line.startswith("params/acme.yaml: source.tabels: ")
    assert "unknown field" in line


def test_several_problems_give_several_lines(project):
    lines = problems(with_(locale="de", currency="eur", period={"grain": "week"}))
    assert len(lines) == 3
    assert all(line.startswith("params/acme.yaml: ") for line in lines)
    fields = sorted(line.split(": ")[1] for line in lines)
    assert fields == ["currency", "locale", "period.grain"]


def test_wrong_locale(project):
    assert problems(with_(locale="de")) == [
        "params/acme.yaml: locale: Input should be 'en', 'fr' or 'it'"
    ]


def test_params_accept_exactly_the_declared_locales(project):
    from kpitools.locales import BABEL_LOCALE, LOCALES

    assert set(BABEL_LOCALE) == set(LOCALES)
    for code in LOCALES:
        assert load_params(write(with_(locale=code))).locale == code


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", ""])
def test_wrong_currency(project, currency):
    (line,) = problems(with_(currency=currency))
    assert line.startswith("params/acme.yaml: currency: ")


def test_missing_required_fields(project):
    lines = problems(raw="name: Acme\n")
    assert lines == [
        "params/acme.yaml: brand: Field required",
        "params/acme.yaml: source: Field required",
    ]


def test_settings_bounds(project):
    (line,) = problems(with_(settings={"lapse_days": 0}))
    assert line == "params/acme.yaml: settings.lapse_days: Input should be greater than 0"


def test_current_period_checked_against_grain(project):
    (line,) = problems(with_(period={"grain": "month", "current": "2025-Q4"}))
    assert line.startswith("params/acme.yaml: period: current: ")
    assert "'2025-Q4'" in line and "month" in line


def test_malformed_current_period(project):
    (line,) = problems(with_(period={"grain": "month", "current": "Dec 2025"}))
    assert line.startswith("params/acme.yaml: period: current: ")
    assert "YYYY-MM" in line


def test_missing_file(project):
    with pytest.raises(ParamsError) as exc:
        load_params("params/nope.yaml")
    assert exc.value.problems == ["params/nope.yaml: file not found"]


def test_directory_is_not_a_params_file(project):
    with pytest.raises(ParamsError) as exc:
        load_params("params")
    assert exc.value.problems == [
        "params: is a folder, not a params file (give a .yaml file in it)"
    ]


def test_invalid_yaml_gives_line_and_column(project):
    (line,) = problems(raw="brand: acme\nsource:\n  kind: duckdb\n  path: [a\n")
    assert line.startswith("params/acme.yaml: line ")
    assert ", column " in line
    assert "not valid YAML" in line


def test_invalid_yaml_position_is_one_based(project):
    (line,) = problems(raw="brand: acme\n  bad: : x\n")
    assert line == (
        "params/acme.yaml: line 2, column 6: not valid YAML: mapping values are not allowed here"
    )


def test_not_utf8(project):
    Path(FILE).write_bytes(b"brand: acm\xe9\n")
    with pytest.raises(ParamsError) as exc:
        load_params(FILE)
    assert exc.value.problems == ["params/acme.yaml: not a UTF-8 text file"]


def test_top_level_must_be_a_mapping(project):
    assert problems(raw="- a\n- b\n") == [
        "params/acme.yaml: (top level): expected a mapping of fields"
    ]


def test_empty_file_reports_required_fields(project):
    lines = problems(raw="")
    assert "params/acme.yaml: brand: Field required" in lines


# --------------------------------------------------------------------------------------
# KPI ids
# --------------------------------------------------------------------------------------


def test_unknown_kpi_suggests_close_match(project):
    (line,) = problems(with_(kpis=["retension_rate"]))
    assert line.startswith("params/acme.yaml: kpis: ")
    assert "'retension_rate'" in line
    assert "did you mean retention_rate" in line


def test_known_kpis_accepted_in_order(project):
    p = load_params(write(with_(kpis=["revenue", "retention_rate"])))
    assert p.kpis == ["revenue", "retention_rate"]


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


def test_sql_source_needs_url(project):
    (line,) = problems(with_(source={"kind": "sql"}))
    assert line.startswith("params/acme.yaml: source: ")
    assert "sql source needs a url" in line


@pytest.mark.parametrize("kind", ["duckdb", "parquet", "csv"])
def test_file_sources_need_path(project, kind):
    (line,) = problems(with_(source={"kind": kind}))
    assert line == f"params/acme.yaml: source: a {kind} source needs a path"


def test_url_needs_a_scheme(project):
    (line,) = problems(with_(source={"kind": "sql", "url": "just-a-host/db"}))
    assert line.startswith("params/acme.yaml: source.url: not a URL")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://report:hunter2@db.example.com/crm",
        "postgres://report:@db.example.com/crm",
        "postgres://report:pre${PGPASSWORD}@db.example.com/crm",
    ],
)
def test_literal_password_rejected(project, url):
    (line,) = problems(with_(source={"kind": "sql", "url": url}))
    assert line.startswith("params/acme.yaml: source.url: the URL holds a literal password")
    assert "hunter2" not in line


@pytest.mark.parametrize(
    "url",
    [
        "postgres://report:${PGPASSWORD}@db.example.com:5432/crm",
        "postgres://${PGUSER}:${PGPASSWORD}@db.example.com/crm",
        "postgres://report@db.example.com/crm",
        "duckdb://",
    ],
)
def test_env_reference_password_accepted(project, url):
    p = load_params(write(with_(source={"kind": "sql", "url": url})))
    assert p.source.url == url


def test_literal_password_in_query_string_rejected():
    with pytest.raises(ValueError, match="literal password"):
        SourceParams(kind="sql", url="postgres://report@db.example.com/crm?password=hunter2")


def test_redacted_never_contains_credentials(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "s3cr3t-value")
    src = SourceParams(kind="sql", url="postgres://report:${PGPASSWORD}@db.example.com:5432/crm")
    red = src.redacted()
    assert red == "postgres://db.example.com:5432/crm"
    assert "s3cr3t" not in red and "PGPASSWORD" not in red and "report" not in red


def test_redacted_file_source():
    assert SourceParams(kind="parquet", path="data/crm").redacted() == "parquet:data/crm"


def test_redacted_with_env_port():
    src = SourceParams(kind="sql", url="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/crm")
    red = src.redacted()
    assert red.startswith("postgres://") and red.endswith("/crm")


def test_resolved_url_reads_environment(monkeypatch):
    monkeypatch.setenv("KPI_TEST_USER", "report")
    monkeypatch.setenv("KPI_TEST_PW", "s3cr3t")
    src = SourceParams(kind="sql", url="postgres://${KPI_TEST_USER}:${KPI_TEST_PW}@db:5432/crm")
    assert src.env_vars() == ["KPI_TEST_USER", "KPI_TEST_PW"]
    assert src.resolved_url() == "postgres://report:s3cr3t@db:5432/crm"
    # the stored URL keeps the references
    assert src.url == "postgres://${KPI_TEST_USER}:${KPI_TEST_PW}@db:5432/crm"


def test_resolved_url_unset_variable_raises_keyerror(monkeypatch):
    monkeypatch.setenv("KPI_TEST_USER", "report")
    monkeypatch.delenv("KPI_TEST_UNSET_PW", raising=False)
    src = SourceParams(kind="sql", url="postgres://${KPI_TEST_USER}:${KPI_TEST_UNSET_PW}@db/crm")
    with pytest.raises(KeyError) as exc:
        src.resolved_url()
    assert exc.value.args == ("KPI_TEST_UNSET_PW",)


@pytest.mark.parametrize("password", ["p@ss/w0rd", "hunter2#topsecret"])
def test_resolved_url_keeps_special_characters_in_password(monkeypatch, password):
    monkeypatch.setenv("KPI_TEST_PW", password)
    src = SourceParams(kind="sql", url="postgres://report:${KPI_TEST_PW}@127.0.0.1:5432/crm")
    parts = urlsplit(src.resolved_url())
    assert parts.hostname == "127.0.0.1"
    assert parts.port == 5432
    assert unquote(parts.password) == password


def test_unknown_table_in_mapping_rejected(project):
    (line,) = problems(
        with_(source={"kind": "duckdb", "path": "x.duckdb", "tables": {"order": {"table": "o"}}})
    )
    assert line.startswith("params/acme.yaml: source.tables: unknown table 'order'")
    assert "orders" in line


def test_unknown_column_in_mapping_rejected(project):
    tables = {"orders": {"table": "my_orders", "columns": {"amount": "amount_net"}}}
    (line,) = problems(with_(source={"kind": "duckdb", "path": "x.duckdb", "tables": tables}))
    assert line.startswith(
        "params/acme.yaml: source.tables: orders.columns: unknown column 'amount'"
    )
    assert "revenue" in line  # lists the canonical columns


def test_valid_mapping_accepted(project):
    tables = {"orders": {"table": "my_orders", "columns": {"revenue": "amount_net"}}}
    p = load_params(write(with_(source={"kind": "duckdb", "path": "x.duckdb", "tables": tables})))
    assert p.source.tables["orders"].table == "my_orders"
    assert p.source.tables["orders"].columns == {"revenue": "amount_net"}


def test_parse_params_without_file_uses_origin():
    with pytest.raises(ParamsError) as exc:
        parse_params({"brand": "acme", "source": {"kind": "sql"}, "x": 1}, origin="inline")
    assert exc.value.path == "inline"
    assert len(exc.value.problems) == 2
    assert all(p.startswith("inline: ") for p in exc.value.problems)


def test_params_are_frozen(project):
    p = load_params(write(BASE))
    with pytest.raises(ValidationError, match="frozen"):
        p.brand = "other"


# --------------------------------------------------------------------------------------
# The package: one public surface, and validation without the engine
# --------------------------------------------------------------------------------------


def test_public_names_of_the_params_package():
    import kpitools.params as params
    from kpitools.locales import LOCALES
    from kpitools.params.objectives import Objective

    for name in params.__all__:
        assert hasattr(params, name), name
    assert params.LOCALES == LOCALES
    assert params.Objective is Objective
    # the objectives' declarations are params models like the others
    assert Objective.model_config == BrandParams.model_config


def test_validating_a_params_file_loads_neither_ibis_pandas_nor_the_kpi_engine():
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    heavy = ("ibis", "pandas", "kpitools.kpis", "kpitools.objectives", "kpitools.data")
    code = (
        "import sys\n"
        "from kpitools.params import load_params\n"
        "p = load_params('params/aurora.yaml')\n"
        "assert p.objectives\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
