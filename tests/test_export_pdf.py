"""export_pdf: the report page to PDF with WeasyPrint, caches shared across a worker's PDFs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from markupsafe import Markup

from kpitools.report.export import export_pdf, page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
def test_pdfs_with_shared_cache_and_fonts_keep_their_text(tmp_path):
    from weasyprint.text.fonts import FontConfiguration

    body = Markup(
        '<h1>Aurora</h1><dl class="kpi-glossary">'
        + "".join(f"<dt>KPI {i}</dt><dd>Definition {i}</dd>" for i in range(40))
        + "</dl>"
    )
    html = tmp_path / "report.html"
    html.write_text(page(body, title="Aurora · KPI report"), encoding="utf-8")
    cache: dict = {}
    fonts = FontConfiguration()
    texts = []
    for name in ("a.pdf", "b.pdf"):
        out = export_pdf(html, tmp_path / name, cache=cache, font_config=fonts)
        assert out.read_bytes()[:5] == b"%PDF-"
        texts.append(
            subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        )
    assert texts[0] == texts[1]
    assert "KPI 0" in texts[0] and "Definition 39" in texts[0]  # text stays selectable
