"""Export an executed report notebook: HTML without code, PDF, ``kpis.json``, and the index.

- HTML: nbconvert's ``basic`` template with every input cell, prompt, the ``parameters`` and
  ``injected-parameters`` cells and stderr output removed, wrapped in one stylesheet
  (``report.css``) shared with the PDF.
- PDF: WeasyPrint renders that same HTML (figures are embedded PNGs), so no browser is
  downloaded or started.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import nbformat
from markupsafe import Markup

from ..errors import ReportError
from ..kpis.registry import get_registry
from .formatting import format_value
from .i18n import kpi_name, t
from .templating import render

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "hide"}


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a reader sees the old file or the new
    one, never half of it (written beside it, then renamed over it)."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _stylesheet() -> Markup:
    """``report.css``, shipped with kpitools: trusted."""
    return Markup(files("kpitools.report").joinpath("report.css").read_text(encoding="utf-8"))


def page(body: Markup, *, title: str, lang: str = "en") -> str:
    """A complete HTML page around ``body`` (already rendered HTML) with the report stylesheet."""
    html = render("page.html", body=body, title=title, lang=lang, stylesheet=_stylesheet())
    return str(html) + "\n"


def _clean_notebook(nb):
    """Drop hidden cells, stderr streams and plain-text reprs of figures."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    continue
                if out.get("output_type") == "error":
                    continue
                data = out.get("data")
                if data and ("text/html" in data or "image/png" in data):
                    data.pop("text/plain", None)
                if out.get("output_type") == "execute_result" and data == {"text/plain": "''"}:
                    continue
                outputs.append(out)
            cell.outputs = outputs
        cells.append(cell)
    nb.cells = cells
    return nb


def notebook_to_html(nb_path: str | os.PathLike, *, title: str, lang: str = "en") -> str:
    """Render an executed notebook to a stakeholder page: outputs and narrative, no code.

    Parameters
    ----------
    nb_path : path
        The executed notebook (``report.ipynb``).
    title : str
        The page title.
    lang : str
        ``lang`` attribute of the page.
    """
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(nb_path), as_version=4)
    nb = _clean_notebook(nb)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    # Trusted: nbconvert's export of kpitools' own executed notebook, whose outputs are
    # fragments rendered by kpitools' autoescaped templates (and its figures).
    return page(Markup(body), title=title, lang=lang)


def export_html(nb_path, html_path, *, title: str, lang: str = "en") -> Path:
    """Write the code-free HTML of an executed notebook."""
    return write_text_atomic(html_path, notebook_to_html(nb_path, title=title, lang=lang))


def export_pdf(html_path, pdf_path) -> Path:
    """Render an HTML report to PDF with WeasyPrint (no browser involved).

    Raises
    ------
    ReportError
        When WeasyPrint fails (e.g. its system libraries are missing).
    """
    try:
        from weasyprint import HTML
    except Exception as exc:  # pragma: no cover - depends on system libraries
        raise ReportError(f"PDF export needs WeasyPrint and Pango: {exc}") from None
    out = Path(pdf_path)
    HTML(filename=str(html_path), base_url=str(Path(html_path).parent)).write_pdf(str(out))
    return out


#: The language of the index page (its words are the ``index.*`` messages).
INDEX_LOCALE = "en"

#: The objective statuses shown in the index: (key in kpis.json, badge class); the label is
#: the message ``index.<key>``.
INDEX_GOALS = (
    ("on_track", "ok"),
    ("at_risk", "risk"),
    ("off_track", "failed"),
    ("unknown", "unknown"),
)


def _index_links(slug: str, period: str, folder: Path) -> list[list[dict[str, str]]]:
    """The documents of one report folder, two per line (``Report · PDF``), present ones only."""
    loc = INDEX_LOCALE
    pdf = t("index.pdf", loc)
    docs = [("report.html", t("index.report", loc)), ("report.pdf", pdf)]
    for extra in sorted(folder.glob("*.html")):
        if extra.name != "report.html":
            label = extra.stem.replace("-", " ").capitalize().replace("roi", "ROI")
            docs += [(extra.name, label), (extra.with_suffix(".pdf").name, pdf)]
    docs.append(("kpis.json", t("index.json", loc)))
    return [
        [
            {"href": f"{slug}/{period}/{name}", "label": label}
            for name, label in docs[i : i + 2]
            if (folder / name).exists()
        ]
        for i in range(0, len(docs), 2)
    ]


def export_index(
    reports_dir: str | os.PathLike,
    *,
    headline: tuple[str, ...] = ("revenue", "new_customers", "retention_rate", "nps"),
) -> Path:
    """Write ``reports/index.html``: every brand and period with links and headline KPIs.

    Reads the ``kpis.json`` of each published report; a brand whose last run failed is shown
    with its failure beside its last good report.
    """
    root = Path(reports_dir)
    reg = get_registry()
    found = []
    for kp in sorted(root.glob("*/*/kpis.json")):
        try:
            doc = json.loads(kp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        folder = kp.parent
        found.append((folder.parent.name, folder.name, doc, folder))
    failures: dict[str, dict[str, Any]] = {}
    for f in sorted(root.glob("*/_failed/*.json")):
        try:
            failures.setdefault(f.parent.parent.name, json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    shown = [h for h in headline if h in reg]
    rows = []
    for slug, period, doc, folder in sorted(found, key=lambda r: (r[0], r[1])):
        loc = doc.get("locale", "en")
        cur = doc.get("currency", "EUR")
        kpis = doc.get("kpis", {})
        counts = (doc.get("objectives") or {}).get("counts") or {}
        fail = failures.get(slug)
        rows.append(
            {
                "name": doc.get("name", slug),
                "period": period,
                "goals": [
                    {"n": n, "cls": cls, "label": t(f"index.{key}", INDEX_LOCALE)}
                    for key, cls in INDEX_GOALS
                    if (n := counts.get(key))
                ],
                "cells": [
                    format_value(
                        kpis.get(h, {}).get("value"),
                        kpis.get(h, {}).get("unit", "number"),
                        loc,
                        cur,
                    )
                    for h in shown
                ],
                "failure": fail.get("error", "") if fail and fail.get("period") == period else None,
                "links": _index_links(slug, period, folder),
                # report notebooks left out for want of their tables (kpis.json coverage)
                "notes": [
                    t(
                        "coverage.item",
                        INDEX_LOCALE,
                        what=t(f"coverage.report.{x['key']}", INDEX_LOCALE),
                        needs=", ".join(x.get("needs", [])),
                    )
                    + ": "
                    + t("coverage.skipped_short", INDEX_LOCALE)
                    for x in (doc.get("coverage") or {}).get("left_out", [])
                    if x.get("kind") == "report"
                ],
            }
        )
    failed = [
        {"slug": slug, "period": str(fail.get("period", "")), "error": fail.get("error", "")}
        for slug, fail in failures.items()
        if not any(r[0] == slug for r in found)
    ]
    body = render(
        "index.html",
        heads=[kpi_name(reg[h].id, INDEX_LOCALE) for h in shown],
        rows=rows,
        failed=failed,
        blank_cells=1 + len(shown),
        stamp=datetime.now().strftime("%Y-%m-%d %H:%M"),
        locale=INDEX_LOCALE,
    )
    root.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(root / "index.html", page(body, title=t("index.title", INDEX_LOCALE)))


__all__ = [
    "ReportError",
    "export_html",
    "export_index",
    "export_pdf",
    "notebook_to_html",
    "page",
    "write_text_atomic",
]
