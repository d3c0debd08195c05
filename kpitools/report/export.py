"""Export an executed report notebook: HTML without code, PDF, ``kpis.json``, and the index.

- HTML: nbconvert's ``basic`` template with every input cell, prompt, the ``parameters`` and
  ``injected-parameters`` cells and stderr output removed, wrapped in one stylesheet
  (``report.css``) shared with the PDF.
- PDF: WeasyPrint renders that same HTML (figures are embedded PNGs), so no browser is
  downloaded or started.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..errors import ReportError
from .files import write_text_atomic
from .portal import doc_label, export_portal
from .templating import render

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "hide"}


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


@lru_cache(maxsize=1)
def _html_exporter():
    """One nbconvert exporter per process: its templates are loaded once, not per notebook."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def notebook_to_html(nb_path: str | os.PathLike | Any, *, title: str, lang: str = "en") -> str:
    """Render an executed notebook to a stakeholder page: outputs and narrative, no code.

    Parameters
    ----------
    nb_path : path or nbformat.NotebookNode
        The executed notebook (``report.ipynb``), or the notebook itself as papermill returns
        it (not read back from disk); its hidden cells are dropped in place.
    title : str
        The page title.
    lang : str
        ``lang`` attribute of the page.
    """
    if isinstance(nb_path, (str, os.PathLike)):
        # Imported here, not at module level: nbformat (through jsonschema) costs over a
        # second and a report kernel never exports (tests/test_imports.py).
        import nbformat

        nb = nbformat.read(str(nb_path), as_version=4)
    else:
        nb = nb_path
    nb = _clean_notebook(nb)
    body, _ = _html_exporter().from_notebook_node(nb)
    # Trusted: nbconvert's export of kpitools' own executed notebook, whose outputs are
    # fragments rendered by kpitools' autoescaped templates (and its figures).
    return page(Markup(body), title=title, lang=lang)


def export_html(nb_path, html_path, *, title: str, lang: str = "en") -> Path:
    """Write the code-free HTML of an executed notebook (a path, or the notebook itself)."""
    return write_text_atomic(html_path, notebook_to_html(nb_path, title=title, lang=lang))


@lru_cache(maxsize=1)
def shared_font_config() -> Any:
    """One WeasyPrint font configuration per process (fonts looked up once, every PDF)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def export_pdf(
    html_path,
    pdf_path,
    *,
    cache: dict | None = None,
    font_config: Any = None,
) -> Path:
    """Render an HTML report to PDF with WeasyPrint (no browser involved).

    Parameters
    ----------
    html_path, pdf_path : path
        The report page and the PDF to write.
    cache : dict, optional
        WeasyPrint's image cache (``write_pdf(cache=)``): pass the same dict for every PDF a
        worker renders so images and stylesheets fetched once are reused across brands.
    font_config : weasyprint.text.fonts.FontConfiguration, optional
        Default: :func:`shared_font_config`, one per process, so a worker's PDFs look fonts
        up once.

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
    options: dict[str, Any] = {}
    if cache is not None:
        options["cache"] = cache
    options["font_config"] = font_config if font_config is not None else shared_font_config()
    HTML(filename=str(html_path), base_url=str(Path(html_path).parent)).write_pdf(
        str(out), **options
    )
    return out


def report_title(name: str, stem: str, period: str, locale: str = "en") -> str:
    """The tab title of one of a brand's report pages: ``Aurora Outdoor · Campaign ROI · 2025-11``.

    ``stem`` is the page's file stem (``report``, ``campaign-roi``, ``customer-value``), named
    in ``locale`` (messages ``portal.doc.<stem>``), so each of a brand's pages has its own title.
    """
    return f"{name} · {doc_label(stem, locale)} · {period}"


def export_index(
    reports_dir: str | os.PathLike,
    *,
    headline: tuple[str, ...] = ("revenue", "new_customers", "retention_rate", "nps"),
    params_paths: list[str | os.PathLike] | None = None,
) -> Path:
    """Write the reports portal: ``reports/index.html`` (and ``index.<locale>.html``).

    Every params file with the status of its last attempt (from ``reports/runs.jsonl``, else
    the folders), its latest published report, objective badges, headline trends and history;
    see :mod:`kpitools.report.portal`. Returns the path of ``index.html``.

    Parameters
    ----------
    reports_dir : path
        The reports folder.
    headline : tuple of str
        Headline KPI ids for brands whose run records do not name theirs.
    params_paths : list of path, optional
        Params files to list even when never run, besides ``params/*.yaml`` beside the
        reports folder.
    """
    return export_portal(reports_dir, params_paths=params_paths, headline=headline)[0]


__all__ = [
    "ReportError",
    "export_html",
    "export_index",
    "export_pdf",
    "notebook_to_html",
    "page",
    "report_title",
    "write_text_atomic",
]
