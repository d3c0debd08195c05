"""docs/kpis.md is generated from the registry and the catalogue, and is up to date."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kpitools.cli import main
from kpitools.kpis.registry import get_registry
from kpitools.locales import LOCALES
from kpitools.report.i18n import kpi_name
from kpitools.report.kpi_docs import REGENERATE, kpi_markdown, kpis_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "kpis.md"


def test_committed_docs_match_the_registry():
    assert DOCS.exists(), f"docs/kpis.md is missing: run `{REGENERATE}` to regenerate it"
    committed = DOCS.read_text(encoding="utf-8")
    assert committed == kpis_markdown(), (
        f"docs/kpis.md differs from the KPI registry and catalogue: run `{REGENERATE}` to regenerate"
    )


def test_every_kpi_has_an_entry_with_its_names_unit_scope_and_tables():
    text = kpis_markdown()
    for k in get_registry().values():
        assert f"### `{k.id}`" in text
        entry = kpi_markdown(k)
        for loc in LOCALES:
            assert kpi_name(k.id, loc).replace("|", "\\|") in entry
        assert f"**Scope**: {k.scope}" in entry
        assert "**Unit**" in entry and ("higher is better" in entry or "lower is better" in entry)
        for table in k.tables:
            assert f"`{table}`" in entry


def test_entry_shows_population_window_maturity_and_fills_settings():
    reg = get_registry()
    loyal = kpi_markdown(reg["loyal_customers"])
    assert "| Population |" in loyal and "| Window |" in loyal
    assert "last 3 periods" in loyal  # {loyal_periods} filled with its default
    assert "final at the end of the period" in loyal
    # a KPI with a maturity setting says which, with its default
    matured = next((k for k in reg.values() if k.matures), None)
    if matured is not None:
        assert f"`{matured.matures}` window" in kpi_markdown(matured)


def test_cli_writes_the_markdown(tmp_path):
    out = tmp_path / "kpis.md"
    result = CliRunner().invoke(main, ["kpis", "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == kpis_markdown()
    shown = CliRunner().invoke(main, ["kpis", "--format", "markdown"])
    assert shown.output == kpis_markdown()


def test_cli_listing_shows_unit_and_scope():
    result = CliRunner().invoke(main, ["kpis", "--locale", "en"])
    assert result.exit_code == 0, result.output
    assert "  revenue  [currency, higher is better; by line; tables: orders]" in result.output
    brand = next(k for k in get_registry().values() if k.scope == "brand")
    assert f"  {brand.id}  [{brand.unit}, " in result.output
    assert "brand-wide in a product-line report" in result.output
