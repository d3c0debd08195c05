"""scripts/compare_reports.py: the check that a restructuring changed no report."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "compare_reports", ROOT / "scripts/compare_reports.py"
)
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)

PNG = base64.b64encode(b"\x89PNG fake figure").decode()


def _tree(root: Path, *, html: str, doc: dict) -> Path:
    folder = root / "acme" / "2025-12"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(html, encoding="utf-8")
    (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    return root


def test_equal_trees_despite_quoting_whitespace_and_timings(tmp_path):
    a = _tree(
        tmp_path / "a",
        html=f"<p class='x'>O&#x27;Brien  <b>1,234</b></p><img src='data:image/png;base64,{PNG}'>"
        "<div>Generated: 2026-12-01 10:00 · kpitools</div>",
        doc={"kpis": {"revenue": {"value": 1.0}}, "seconds": 1.2, "generated_at": "x"},
    )
    b = _tree(
        tmp_path / "b",
        html=f'<p class="x">O&#39;Brien <b>1,234</b></p>\n<img src="data:image/png;base64,{PNG}">'
        "<div>Generated: 2026-12-02 11:30 · kpitools</div>",
        doc={"kpis": {"revenue": {"value": 1.0 + 1e-9}}, "seconds": 9.9, "generated_at": "y"},
    )
    assert compare.compare_trees(a, b) == []
    assert compare.main([str(a), str(b)]) == 0


def test_a_changed_number_word_figure_or_file_is_reported(tmp_path):
    a = _tree(
        tmp_path / "a",
        html=f"<p>Revenue <b>1,234</b></p><img src='data:image/png;base64,{PNG}'>",
        doc={"kpis": {"revenue": {"value": 1.0, "status": "ok"}}},
    )
    other_png = base64.b64encode(b"\x89PNG another figure").decode()
    b = _tree(
        tmp_path / "b",
        html=f"<p>Revenue <b>1,235</b></p><img src='data:image/png;base64,{other_png}'>",
        doc={"kpis": {"revenue": {"value": 1.01, "status": "ok"}}},
    )
    (b / "acme" / "2025-12" / "extra.html").write_text("<p>new</p>")
    problems = compare.compare_trees(a, b)
    assert any("report.html" in p and "1,234" in p for p in problems)
    assert any("kpis.json" in p and ".kpis.revenue.value" in p for p in problems)
    assert any("extra.html: new after" in p for p in problems)
    assert compare.main([str(a), str(b)]) == 1
    # the figure alone differing is also caught
    (b / "acme" / "2025-12" / "report.html").write_text(
        f"<p>Revenue <b>1,234</b></p><img src='data:image/png;base64,{other_png}'>"
    )
    assert compare.compare_file(
        a / "acme" / "2025-12" / "report.html", b / "acme" / "2025-12" / "report.html"
    )
