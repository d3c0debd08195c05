"""End-to-end: `kpitools run` on the demo data, failure isolation and atomic publishing.

These tests execute the real notebook with papermill, render HTML with nbconvert and PDF with
WeasyPrint, on a real DuckDB file made by the demo generator.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from pypdf import PdfReader

from kpitools.report.formatting import format_value
from kpitools.runner import run_all

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from kpitools.data.demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, customers=3000, seed=7)
    return path


def _params(tmp: Path, name: str, db: Path, **changes) -> Path:
    data = yaml.safe_load((ROOT / "params" / f"{name}.yaml").read_text())
    data["source"]["path"] = str(db)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    out = tmp / "params" / f"{name}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return out


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(str(path))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_run_one_brand_writes_every_output(tmp_path, demo_db):
    params = _params(tmp_path, "aurora", demo_db)
    reports = tmp_path / "reports"
    [result] = run_all([params], reports_dir=reports, jobs=1, progress=False)
    assert result.status == "ok", result.error
    folder = reports / "aurora" / result.period
    assert result.period == "2025-12"
    for stem in ("report", "campaign-roi", "customer-value"):
        for ext in ("ipynb", "html", "pdf"):
            assert (folder / f"{stem}.{ext}").is_file(), f"{stem}.{ext}"
    assert (folder / "kpis.json").is_file()

    doc = json.loads((folder / "kpis.json").read_text())
    assert doc["brand"] == "aurora" and doc["period"] == "2025-12"
    assert {"objectives", "campaign_roi", "clv"} <= set(doc)
    assert doc["objectives"]["counts"]
    revenue = doc["kpis"]["revenue"]
    assert revenue["unit"] == "currency" and revenue["value"] > 0
    assert {"value", "unit", "previous", "year_ago", "trend", "status"} <= set(revenue)
    assert len(revenue["trend"]) == 12

    html = re.sub(
        r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", (folder / "report.html").read_text()
    )
    assert "load_params" not in html and "compute_kpis" not in html  # no code
    assert "params_path" not in html  # no parameters / injected-parameters cell
    assert "Traceback" not in html
    for bad in (">nan<", ">None<", "NaN", "<function", "object at 0x"):
        assert bad not in html
    assert "Aurora Outdoor" in html

    pages, text = _pdf_text(folder / "report.pdf")
    assert pages >= 1
    assert "Aurora Outdoor" in text
    shown = format_value(revenue["value"], "currency", "en", "GBP")
    assert shown in text, f"revenue {shown} not found in the PDF"

    executed = nbformat.read(str(folder / "report.ipynb"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    index = (reports / "index.html").read_text()
    assert "aurora/2025-12/report.html" in index and "aurora/2025-12/report.pdf" in index

    # objective status agrees in kpis.json, the HTML, the PDF and the index
    labels = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"}
    for key, n in doc["objectives"]["counts"].items():
        if n and key in labels:
            assert f"{n} {labels[key]}" in index
    for o in doc["objectives"]["objectives"]:
        assert o["title"] in html
        assert o["title"].split(" ")[0] in text
    summary = ", ".join(
        f"{n} {labels[k]}" for k, n in doc["objectives"]["counts"].items() if n and k in labels
    )
    assert summary in " ".join(html.split())


MAIN_ONLY = {"notebooks": ["10-kpi-report"]}


def test_french_quarterly_report_uses_the_locale(tmp_path, demo_db):
    params = _params(tmp_path, "bellevue", demo_db, report=MAIN_ONLY)
    reports = tmp_path / "reports"
    [result] = run_all([params], reports_dir=reports, jobs=1, progress=False, pdf=False)
    assert result.status == "ok", result.error
    assert result.period == "2025-Q4"
    html = (reports / "bellevue" / "2025-Q4" / "report.html").read_text()
    assert "Nouveaux clients" in html and "Période précédente" in html
    assert "€" in html


def test_a_failing_brand_does_not_stop_the_others_nor_replace_its_last_good_report(
    tmp_path, demo_db
):
    reports = tmp_path / "reports"
    good = _params(tmp_path, "castello", demo_db, report=MAIN_ONLY)
    [first] = run_all([good], reports_dir=reports, jobs=1, progress=False, pdf=False)
    assert first.status == "ok", first.error
    published = reports / "castello" / first.period / "kpis.json"
    before = published.read_text()

    # the same brand now points at a database whose orders.revenue is text: the run must fail
    broken_db = tmp_path / "broken.duckdb"
    shutil.copy(demo_db, broken_db)
    import duckdb

    con = duckdb.connect(str(broken_db))
    con.execute("ALTER TABLE orders ALTER COLUMN revenue TYPE VARCHAR")
    con.close()
    _params(tmp_path, "castello", broken_db, report=MAIN_ONLY)
    bad_yaml = tmp_path / "params" / "typo.yaml"
    bad_yaml.write_text("brand: typo\nperiod:\n  grain: week\nsource:\n  path: x.duckdb\n")
    other = _params(tmp_path, "aurora", demo_db, report=MAIN_ONLY)

    results = run_all(
        [good, bad_yaml, other],
        reports_dir=reports,
        jobs=2,
        progress=False,
        pdf=False,
        period="2025-12",
    )
    by = {r.slug: r for r in results}
    assert by["aurora"].status == "ok", by["aurora"].error
    assert by["castello"].status == "failed"
    assert "orders" in by["castello"].error and "revenue" in by["castello"].error
    assert by["typo"].status == "failed"
    assert "typo.yaml: period.grain: Input should be 'month', 'quarter' or 'year'" in (
        by["typo"].error
    )
    # the last good report is intact; the broken contract is found by the checks `validate`
    # runs too, before any notebook (so no notebook is kept), and recorded in _failed/
    assert published.read_text() == before
    assert by["castello"].failed_notebook is None
    last = json.loads((reports / "castello" / "_failed" / "last.json").read_text())
    assert "revenue" in last["error"]
    index = (reports / "index.html").read_text()
    # the portal: castello (failed after a success) and typo (failed before its period) failed
    assert "Last attempt failed for 2 brand(s)" in index and "typo" in index
    assert not list((reports / "castello").glob(".staging-*"))


def test_cli_run_exit_code_and_summary(tmp_path, demo_db):
    params = _params(tmp_path, "aurora", demo_db, report=MAIN_ONLY)
    missing = tmp_path / "params" / "nobody.yaml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpitools.cli",
            "run",
            str(params),
            str(missing),
            "--reports",
            str(tmp_path / "reports"),
            "--no-pdf",
            "-j",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1
    assert "1 ok, 1 failed" in proc.stdout
    assert "nobody.yaml: file not found" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_source_with_only_orders_and_customers_still_gets_every_report(tmp_path, demo_db):
    """Absent tables leave their sections and reports out, page one says so; nothing fails."""
    import duckdb

    small = tmp_path / "orders_only.duckdb"
    shutil.copy(demo_db, small)
    con = duckdb.connect(str(small))
    for (name,) in con.execute("SHOW TABLES").fetchall():
        if name not in ("orders", "customers"):
            con.execute(f'DROP TABLE "{name}"')
    con.close()
    params = _params(tmp_path, "aurora", small)
    reports = tmp_path / "reports"
    [result] = run_all([params], reports_dir=reports, jobs=1, progress=False, pdf=False)
    assert result.status == "ok", result.error
    folder = reports / "aurora" / result.period
    report = (folder / "report.html").read_text()
    assert "not available (needs table" not in report
    assert "Not in this report:" in report and "campaign ROI report (requires campaigns)" in report
    assert "Traceback" not in report and "KeyError" not in report
    # the campaign-ROI report has nothing to show without campaigns: not produced
    assert not (folder / "campaign-roi.html").exists()
    assert result.skipped == {"campaign-roi": ["campaigns"]}
    assert (folder / "customer-value.html").is_file()
    doc = json.loads((folder / "kpis.json").read_text())
    assert "cases" in doc["coverage"]["needs"]
    assert doc["kpis"]["nps"]["status"] == "not_available"
    assert doc["kpis"]["revenue"]["status"] == "ok"
