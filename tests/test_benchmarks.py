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
    assert "| estimate_lift / statsmodels (CPU) | 1000 | 1.3 | ≤ 1.3 | met |" in text
