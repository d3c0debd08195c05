"""A reports folder built by hand for the portal's tests: every case of a last attempt.

``build(tmp)`` writes ``tmp/params/*.yaml`` and ``tmp/reports/`` holding

- **aurora** (en, monthly): three published periods with planted headline values, two runs of
  2025-12 (the earlier kept in ``runs/<run-id>/``), then a last attempt that FAILED for 2026-01
  after those successes (failed notebook and log kept);
- **bellevue** (fr, quarterly): two published quarters, last attempt ok;
- **castello** (it): never succeeded, its only attempt failed BEFORE the period was known
  (``"period": null``), log kept;
- **castello-machines** (it): a params file that never ran.

``runs=False`` leaves out ``runs.jsonl`` (the folders then tell the story: ``_failed/last.json``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

#: Planted headline values per brand and period (what the portal must show and plot).
REVENUE = {
    "aurora": {"2025-10": 61000.0, "2025-11": 70500.5, "2025-12": 76355.25},
    "bellevue": {"2025-Q3": 91000.0, "2025-Q4": 97486.0},
}
NEW_CUSTOMERS = {
    "aurora": {"2025-10": 40, "2025-11": 48, "2025-12": 55},
    "bellevue": {"2025-Q3": 120, "2025-Q4": 147},
}
AURORA_ERROR = (
    "orders: column 'order_total' not found (mapped from 'amount'); run kpitools validate"
)
CASTELLO_ERROR = "source: cannot open ../data/missing.duckdb: file not found"
NAMES = {
    "aurora": ("Aurora Outdoor", "en", "GBP", "month"),
    "bellevue": ("Bellevue Cosmétiques", "fr", "EUR", "quarter"),
    "castello": ("Castello Caffè", "it", "EUR", "month"),
    "castello-machines": ("Castello Caffè · Macchine", "it", "EUR", "month"),
}


def _publish(reports: Path, slug: str, period: str, *, stamp: str, sub: str = "") -> Path:
    folder = reports / slug / period / sub
    folder.mkdir(parents=True, exist_ok=True)
    name, locale, currency, _ = NAMES[slug]
    for stem in ("report", "campaign-roi", "customer-value"):
        (folder / f"{stem}.html").write_text(
            f"<!DOCTYPE html><html><head><title>{name} · {stem} · {period}</title></head>"
            f"<body>{stem} {stamp}</body></html>",
            encoding="utf-8",
        )
        (folder / f"{stem}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    doc = {
        "brand": slug,
        "name": name,
        "period": period,
        "locale": locale,
        "currency": currency,
        "kpis": {
            "revenue": {"value": REVENUE[slug][period], "unit": "currency"},
            "new_customers": {"value": NEW_CUSTOMERS[slug][period], "unit": "count"},
            "retention_rate": {"value": 0.9, "unit": "ratio"},
            "nps": {"value": None, "unit": "score"},
        },
        "objectives": {"counts": {"on_track": 2, "off_track": 1}},
    }
    (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def _record(slug: str, run_id: str, started: str, status: str, period: str | None, **kw) -> dict:
    name, locale, _, grain = NAMES[slug]
    rec = {
        "run_id": run_id,
        "batch_id": "b" + run_id,
        "params_file": f"params/{slug}.yaml",
        "params_sha256": "0" * 64,
        "brand": slug,
        "name": name,
        "locale": locale,
        "period": period,
        "grain": grain if period else None,
        "data_fingerprint": None,
        "kpitools_version": "0",
        "kpitools_commit": None,
        "started_at": started,
        "ended_at": started,
        "seconds": 12.5,
        "status": status,
        "notebooks": {},
        "error": None,
        "report_dir": f"{slug}/{period}" if status == "ok" else None,
        "run_dir": None,
        "outputs": [],
        "failed_notebook": None,
        "log": None,
        "headline": None,
        "objectives": None,
        "warnings": [],
    }
    rec.update(kw)
    return rec


def build(tmp: Path, *, runs: bool = True) -> Path:
    """Write the scenario under ``tmp``; returns the reports folder."""
    params = tmp / "params"
    params.mkdir(parents=True, exist_ok=True)
    for slug, (name, locale, currency, grain) in NAMES.items():
        (params / f"{slug}.yaml").write_text(
            f"brand: {slug.split('-')[0]}\nname: {name}\nlocale: {locale}\n"
            f"currency: {currency}\nperiod:\n  grain: {grain}\n",
            encoding="utf-8",
        )
    reports = tmp / "reports"
    logs = reports / "_logs"
    logs.mkdir(parents=True, exist_ok=True)
    for p in ("2025-10", "2025-11", "2025-12"):
        _publish(reports, "aurora", p, stamp="current")
    kept = _publish(reports, "aurora", "2025-12", stamp="first", sub="runs/20261201T063000-aa0001")
    (kept / "kpis.json").unlink()  # a kept copy is not a period
    for p in ("2025-Q3", "2025-Q4"):
        _publish(reports, "bellevue", p, stamp="current")
    failed = reports / "aurora" / "_failed"
    failed.mkdir()
    nb = failed / "2026-01-20261202T063000-report.ipynb"
    nb.write_text("{}", encoding="utf-8")
    (logs / "aurora.log").write_text("Traceback …\n", encoding="utf-8")
    (logs / "castello.log").write_text("cannot open\n", encoding="utf-8")
    castello_failed = reports / "castello" / "_failed"
    castello_failed.mkdir(parents=True)
    if runs:
        lines = [
            _record(
                "aurora", "20261001T063000-aa0000", "2026-10-01T06:30:00+00:00", "ok", "2025-10"
            ),
            _record(
                "aurora", "20261101T063000-aa0000", "2026-11-01T06:30:00+00:00", "ok", "2025-11"
            ),
            _record(
                "aurora",
                "20261201T063000-aa0001",
                "2026-12-01T06:30:00+00:00",
                "ok",
                "2025-12",
                run_dir="aurora/2025-12/runs/20261201T063000-aa0001",
            ),
            _record(
                "aurora", "20261201T070000-aa0002", "2026-12-01T07:00:00+00:00", "ok", "2025-12"
            ),
            _record(
                "bellevue", "20261001T063000-bb0000", "2026-10-01T06:30:00+00:00", "ok", "2025-Q3"
            ),
            _record(
                "bellevue", "20261201T063000-bb0001", "2026-12-01T06:30:00+00:00", "ok", "2025-Q4"
            ),
            _record(
                "aurora",
                "20261202T063000-aa0003",
                "2026-12-02T06:30:00+00:00",
                "failed",
                "2026-01",
                error=AURORA_ERROR,
                failed_notebook=f"aurora/_failed/{nb.name}",
                log="_logs/aurora.log",
            ),
            _record(
                "castello",
                "20261202T063000-cc0001",
                "2026-12-02T06:30:00+00:00",
                "failed",
                None,
                error=CASTELLO_ERROR,
                log="_logs/castello.log",
            ),
        ]
        text = "".join(json.dumps(r) + "\n" for r in lines)
        text += '{"run_id": "20261202T063500-trunc", "params_file": "params/bell'  # killed writer
        (reports / "runs.jsonl").write_text(text, encoding="utf-8")
        old = time.time() - 10 * 86400  # written long before the records: the records win
    else:
        old = time.time()
    (failed / "last.json").write_text(
        json.dumps({"period": "2026-01", "error": AURORA_ERROR, "notebook": str(nb)}),
        encoding="utf-8",
    )
    (castello_failed / "last.json").write_text(
        json.dumps({"period": None, "error": CASTELLO_ERROR, "notebook": None}), encoding="utf-8"
    )
    for f in (failed / "last.json", castello_failed / "last.json"):
        os.utime(f, (old, old))
    return reports
