"""The benchmark driver's pure functions: ratios, target verdicts, cross-check, rendering."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "run_all", Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"
)
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)


def test_ratio_and_judge():
    assert run_all.ratio(3.0, 2.0) == 1.5
    assert run_all.ratio(None, 2.0) is None
    assert run_all.ratio(1.0, 0.0) is None
    assert run_all.judge("scorecard_vs_sql", 1.2) == "met"
    assert run_all.judge("scorecard_vs_sql", 1.21) == "missed"
    assert run_all.judge("pandas_vs_scorecard", 4.9) == "missed"
    assert run_all.judge("pandas_vs_scorecard", 5.0) == "met"
    assert run_all.judge("lift_vs_statsmodels", None) == "n/a"


def test_close_and_extrapolate():
    assert run_all.close(1.0, 1.0 + 1e-10)
    assert not run_all.close(1.0, 1.0 + 1e-8)
    assert run_all.close(math.nan, math.nan)
    # 24 brands in 72 s: 3 s a brand, 100 brands 300 s = 5 minutes
    assert run_all.extrapolate_minutes(72.0, 24) == 5.0


def test_table():
    text = run_all.table(["a", "b"], [[1.23456, None], ["x", 1234.5]])
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1.23 | – |", "| x | 1,234 |"]


def test_render_with_a_failed_section():
    doc = {
        "command": "make benchmark QUICK=1",
        "started": "2026-12-02 13:00",
        "duration_s": 120.0,
        "machine": {"cpu": "cpu", "cores": 2, "ram_gib": 4.0, "platform": "linux", "python": "3"},
        "load_start": (1.0, 1.0, 1.0),
        "load_end": (2.0, 1.0, 1.0),
        "versions": {"kpitools": "0"},
        "sections": {
            "lift": {
                "n": 1000,
                "kpitools": {"cpu_s": 2.6, "wall_s": 2.6},
                "statsmodels": {"cpu_s": 2.0, "wall_s": 2.0},
                "max_rel_diff": 0.0,
            },
            "e2e": {"error": "RuntimeError: boom"},
        },
    }
    text = run_all.render(doc)
    assert "**Failed**: RuntimeError: boom" in text
    assert "| estimate_lift / statsmodels (CPU) | 1,000 | 1.3 | ≤ 1.3 | met |" in text


def _load(name: str):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    s = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
    return mod


bench_scorecard = _load("bench_scorecard")


def test_kpi_sets_cover_the_five_departments_with_at_least_fifteen_kpis():
    from kpitools.kpis.registry import get_kpi

    ids = bench_scorecard.KPI_SETS["departments"]
    assert len(ids) >= 15
    assert {get_kpi(k).department.value for k in ids} == {
        "sales",
        "marketing",
        "service",
        "perception",
        "adoption",
    }
    # every KPI has a hand-written measure group and its group a SQL query
    for k in ids:
        assert bench_scorecard.KPIS[k][0] in bench_scorecard.SQL


def test_spec_places_the_matured_cohort_and_the_windows():
    """December 2025 with a 90-day conversion window: the latest cohort whose window closed by
    2026-01-01 is September 2025 (October 1st + 90 days = December 30th, November 1st + 90 days
    is in 2026), so lead_conversion_rate is anchored there and the leads window starts 13
    months before it; the other KPIs are anchored on December."""
    args = bench_scorecard.parse_args(["--db", "data/demo.duckdb"])
    spec = bench_scorecard.make_spec(args)
    lead = spec["kpis"]["lead_conversion_rate"]
    assert lead["anchor"] == "2025-09-01"
    assert lead["previous"] == "2025-08-01"
    assert lead["year_ago"] == "2024-09-01"
    assert lead["trend"][0] == "2024-10-01" and lead["trend"][-1] == "2025-09-01"
    assert spec["kpis"]["nps"]["anchor"] == "2025-12-01"
    assert spec["windows"]["leads"][0] == "2024-08-01"
    assert spec["windows"]["surveys"][0] == "2024-11-01"
    assert spec["windows"]["surveys"][-1] == "2025-12-01"
    assert len(spec["windows"]["surveys"]) == 14


def test_scorecard_from_measures_no_rows_and_coverage():
    """No row, or n_rows 0, is no value; retention is 1 - lapsed / active at start, and none
    before the data cover a whole lapse."""
    spec = {
        "kpis": {
            "retention_rate": {
                "anchor": "2025-02-01",
                "previous": "2025-01-01",
                "year_ago": "2024-02-01",
                "trend": ["2025-01-01", "2025-02-01"],
            }
        }
    }
    row = {"n_rows": 3, "lapsed": 1, "active_start": 4, "start_covered": True}
    measures = {
        "customer_activity": {
            "2025-02-01": row,
            "2025-01-01": {**row, "start_covered": False},
            "2024-02-01": {**row, "n_rows": 0},
        }
    }
    sc = bench_scorecard.scorecard_from_measures(spec, measures, ["retention_rate"])
    assert sc["retention_rate"] == {
        "value": 0.75,
        "previous": None,
        "year_ago": None,
        "trend": [None, 0.75],
    }


def test_render_the_scorecard_section():
    sets = {
        "departments": {
            "kpis": 23,
            "kpitools_cpu_s": 2.4,
            "sql_cpu_s": 2.0,
            "pandas_cpu_s": 12.0,
            "kpitools_vs_sql_cpu": 1.2,
            "kpitools_vs_sql_wall": 1.1,
            "pandas_vs_kpitools_cpu": 5.0,
            "pandas_vs_kpitools_wall": 4.0,
            "kpitools_peak_mb": 300.0,
            "pandas_peak_mb": 900.0,
            "sql_peak_mb": 200.0,
        }
    }
    full = {"kpis": 84, "queries": 28, "cpu_s": 16.0, "wall_s": 12.0, "peak_mb": 1100.0}
    doc = {
        "command": "make benchmark",
        "started": "2026-12-02 13:00",
        "duration_s": 60.0,
        "machine": {"cpu": "cpu", "cores": 2, "ram_gib": 4.0, "platform": "linux", "python": "3"},
        "load_start": (1.0, 1.0, 1.0),
        "load_end": (1.0, 1.0, 1.0),
        "versions": {},
        "sections": {
            "scorecard": {
                "1000000": {
                    "summary": {"sets": sets, "full": full, "judged": True},
                    "kpi_sets": {"departments": ["nps"]},
                    "departments": {"nps": "perception"},
                    "methods": {},
                    "repeat": 1,
                }
            }
        },
    }
    text = run_all.render(doc)
    assert "| kpitools / hand SQL (CPU) | 1,000,000 (23 KPIs) | 1.2 | ≤ 1.2 | met |" in text
    assert "| pandas / kpitools (CPU) | 1,000,000 (23 KPIs) | 5 | ≥ 5 | met |" in text
    assert (
        "| kpitools peak RSS increase (MiB) | 1,000,000 (full) | 1,100 | ≤ 1024 | missed |" in text
    )
    assert "| 1,000,000 | 84 | 28 | 16 | 12 | 1,100 |" in text
    assert "KPI set `departments`: `nps` (perception)." in text


def test_the_pdf_variants_take_out_what_they_say():
    bench_pdf = _load("bench_pdf")
    page = (
        "<html><head></head><body><h1>Acme</h1><svg><path d='M0 0'/></svg>"
        "<img src='data:image/png;base64,AA'><dl class=\"kpi-glossary\"><dt>Revenue</dt>"
        "<dd>sum of the orders</dd></dl><p>end</p></body></html>"
    )
    v = bench_pdf.variants(page)
    assert v["whole report"] == page
    assert "kpi-glossary" not in v["without the glossary"] and "end" in v["without the glossary"]
    alone = v["the glossary alone"]
    assert "Revenue" in alone and "Acme" not in alone and "end" not in alone
    assert "column-count: 1" in v["glossary in one column"]
    assert (
        "<svg" not in v["without the sparklines (SVG)"]
        and "<img" in v["without the sparklines (SVG)"]
    )
    assert "<img" not in v["without the figures (PNG)"] and "<svg" in v["without the figures (PNG)"]
    # a page without a glossary has no glossary variants
    assert set(bench_pdf.variants("<html><body><p>x</p></body></html>")) == {
        "whole report",
        "without the sparklines (SVG)",
        "without the figures (PNG)",
    }
