"""One-call helpers for report notebooks: each shows a result computed in the cell before.

A report notebook's code cells read like a table of contents; a cell computes (one call to
the computation layer) or shows (one ``show_*`` call), and no ``show_*`` runs a query::

    setup_notebook()
    params = load_params(params_path)
    db = connect(params)
    scorecard = compute_kpis(db, params, period)
    show_header(params, scorecard)
    show_summary(scorecard, params)
    funnel = unless_missing(compute_funnel, db, params, scorecard.period, by="channel")
    show_funnel(funnel, params.locale)
    show_glossary(scorecard)

An analysis that could not run because a table is absent arrives as
:class:`~kpitools.kpis.compute.NotAvailable`; its ``show_*`` shows nothing (no heading, no
empty figure), and page one's coverage line (``show_header(..., coverage=...)``, from
:func:`kpitools.report.coverage.compute_coverage`) says what was left out and which tables
would add it. Department tables list the KPIs computed and one line for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from ..data.checks import data_quality_findings
from ..data.provenance import Provenance
from ..data.sources import Database
from ..kpis.cohorts import CohortRetention
from ..kpis.columns import data_quality
from ..kpis.compute import Breakdown, NotAvailable, Scorecard
from ..kpis.curves import TouchResponse
from ..kpis.drivers import WhatChanged
from ..kpis.funnel import Funnel
from ..kpis.registry import get_kpi
from ..locales import DEFAULT_LOCALE
from ..objectives import ObjectiveReport
from ..params import BrandParams
from ..plots.kpis import plot_cohort_heatmap, plot_funnel, plot_touch_response
from ..plots.style import FIGURE_RC
from ..roi import CampaignReport
from ..schema import TABLES
from .coverage import (
    Coverage,
    analysis_needs,
    coverage_html,
    is_missing_input,
    rest_text,
    shown_results,
)
from .display import register_display_hooks
from .drivers import what_changed_html
from .i18n import has_message, locale_of, t
from .quality import data_quality_document, data_quality_html
from .roi import roi_summary_html
from .tables import (
    Html,
    breakdown_html,
    glossary_html,
    header_html,
    heading_html,
    scorecard_html,
    summary_html,
)
from .templating import render


def setup_notebook(dpi: int = 110) -> None:
    """Figure style for reports: seaborn theme, text drawn literally (no mathtext, see
    :mod:`kpitools.plots.style`), PNG figures (embedded in HTML and PDF), and
    rich display of kpitools' results (:func:`kpitools.report.display.register_display_hooks`).

    Called by the notebook, never on import.
    """
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font="DejaVu Sans")
    mpl.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi, "savefig.bbox": "tight"})
    mpl.rcParams.update(FIGURE_RC)  # "$", "%", "_" are text, never mathtext
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - outside Jupyter
        pass
    _draw_each_figure_once()
    register_display_hooks()


def _draw_each_figure_once() -> None:
    """Under the inline backend, drop pyplot's after-cell redraw of stale figures.

    That hook (meant for figure windows) drew every figure of a cell, and then the inline
    backend drew it again into the PNG it displays: each report figure was drawn twice
    (0.36 CPU s a brand). The PNG is the same without it. Other backends (ipympl, a GUI)
    keep it."""
    try:
        import matplotlib
        import matplotlib.pyplot as plt
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - outside IPython
        return
    ip = get_ipython()
    hook = getattr(plt, "_draw_all_if_interactive", None)
    if ip is None or hook is None or "inline" not in str(matplotlib.get_backend()):
        return
    if hook in ip.events.callbacks.get("post_execute", []):
        ip.events.unregister("post_execute", hook)


def show_header(
    params: BrandParams,
    scorecard: Scorecard,
    *,
    title: str | None = None,
    coverage: Coverage | None = None,
) -> Html:
    """Brand, report title and period; then, with ``coverage``, the line of what the report
    leaves out and which tables would add it (nothing when the report leaves nothing out)."""
    header = header_html(params, scorecard, title=title)
    return Html(header + coverage_html(coverage, params.locale))


def show_summary(
    scorecard: Scorecard, params: BrandParams, *, headline: Sequence[str] | None = None
) -> Html:
    """Headline tiles and the one-line verdict."""
    return Html(summary_html(scorecard, params, headline=headline))


def show_what_changed(what_changed: WhatChanged | NotAvailable, locale: str | None = None) -> Html:
    """Page one's "what changed and why": heading, each KPI's sentences and driver figures.

    Parameters
    ----------
    what_changed : WhatChanged or NotAvailable
        :func:`kpitools.kpis.drivers.compute_what_changed` (revenue, then the off-track
        objectives' KPIs), through :func:`~kpitools.kpis.compute.unless_missing`.
    locale : str, optional
    """
    loc = locale_of(what_changed, locale)
    if isinstance(what_changed, NotAvailable) or not what_changed.items:
        return Html(Markup())  # left out: the coverage line says why
    body = what_changed_html(what_changed, locale=loc)
    return Html(heading_html(t("drivers.title", loc), level=2, body=body))


def show_scorecard(
    scorecard: Scorecard, *, department: str | None = None, kpis: Sequence[str] | None = None
) -> Html:
    """The scorecard table, optionally for one department only."""
    ids = kpis or [r.id for r in scorecard if department is None or r.kpi.department == department]
    title = t(f"department.{department}", scorecard.locale) if department else None
    return Html(scorecard_html(scorecard, kpis=ids, title=title))


def show_department(
    scorecard: Scorecard, department: str, objectives: ObjectiveReport | None = None
) -> Html:
    """A department's section: heading, its scorecard of the KPIs computed, and one line
    for those whose tables or columns are missing ("Not shown: 22 more indicators, which
    need leads, opportunities"). Nothing when the department has no KPI the data allow.

    With ``objectives`` (an ObjectiveReport), each KPI that an objective tracks names it,
    coloured by its status.
    """
    results = [r for r in scorecard if r.kpi.department == department]
    ids = [r.id for r in shown_results(results)]
    if not ids:
        return Html(Markup())
    table = scorecard_html(scorecard, kpis=ids, objectives=objectives)
    rest = render(
        "kpis/rest.html",
        text=rest_text([r for r in results if is_missing_input(r)], scorecard.locale),
    )
    return Html(heading_html(t(f"department.{department}", scorecard.locale), body=table + rest))


def show_breakdown(breakdown: Breakdown, *, kpis: Sequence[str] | None = None) -> Html:
    """A breakdown table (groups × KPIs) with a heading naming the dimension; nothing when
    no KPI could be split (the coverage line names the table or column it needs)."""
    if analysis_needs(breakdown):
        return Html(Markup())
    title = t(f"report.by_{breakdown.by}", breakdown.locale)
    return Html(heading_html(title, level=3, body=breakdown_html(breakdown, kpis=kpis)))


def show_glossary(
    scorecard: Scorecard,
    params: BrandParams | None = None,
    *,
    kpis: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> Html:
    """The glossary of the KPIs the report shows, in plain words.

    Parameters
    ----------
    scorecard : Scorecard
        Its results are the KPIs the report's department tables and headline show (the
        headline's and the objectives' KPIs are always computed into it), in report order.
    params : BrandParams, optional
        The brand's params: the windows the texts name and "final N days after the period"
        take their values from its settings (without it, the defaults and no number of days).
    kpis : list of str, optional
        Only these KPI ids (in scorecard order), e.g. when the report shows a selection.
    extra : list of str
        KPIs the report shows elsewhere but the scorecard lacks (a breakdown's KPIs when the
        params select the scorecard's), added after the scorecard's.

    Each entry: name, definition, who is counted, which dates count, when the value is final,
    and "brand-wide" for a result whose ``scope`` is brand (a product-line report's KPI that
    the data cannot split by line). A KPI whose tables are missing is not shown, so it is
    not in the glossary either.
    """
    wanted = set(kpis) if kpis is not None else None
    shown: list[Any] = [r for r in shown_results(scorecard) if wanted is None or r.id in wanted]
    shown += [get_kpi(i) for i in dict.fromkeys(extra) if i not in scorecard.results]
    return Html(glossary_html(shown, locale=scorecard.locale, params=params))


def show_section(
    title_key_or_text: str, locale: str = DEFAULT_LOCALE, *, results: Sequence[Any] | None = None
) -> Html:
    """A section heading: the report phrase ``report.<key>`` in ``locale``, else the text.

    With ``results`` (the section's analyses, e.g. its breakdowns), nothing when every one of
    them is left out for want of its tables or columns.
    """
    if results is not None and all(analysis_needs(r) for r in results):
        return Html(Markup())
    msgid = f"report.{title_key_or_text}"
    text = t(msgid, locale) if has_message(msgid, locale) else title_key_or_text
    return Html(heading_html(text))


def show_data_quality(db: Database, scorecard: Scorecard) -> Html:
    """Data quality: the optional columns the brand fills in part of its rows only (more than
    1 % without a value), the share of rows affected and the scorecard's KPIs they touch, and
    the run-time value rules the report is published with (survey scores out of scale left
    out, refunds kept, ...: :func:`kpitools.data.checks.data_quality_findings`); an empty
    fragment when there are none (one aggregate query per table, in the database)."""
    kpis = list(scorecard.results)
    entries = data_quality_document(data_quality_findings(db), kpis)
    frame = data_quality(db, kpis=kpis)
    return Html(data_quality_html(frame, scorecard.locale, entries))


def show_footer(
    params: BrandParams,
    db: Database,
    provenance: Provenance,
) -> Html:
    """The report's last page: data source (never a credential), tables absent, time, and
    the provenance (params file and its sha256, data freshness and rows per table, kpitools
    version and commit, run id, start and end, warnings).

    Parameters
    ----------
    params : BrandParams
    db : Database
    provenance : Provenance
        :func:`kpitools.data.provenance.compute_provenance` of the notebook's cell before
        (the KPI report writes the same one to ``kpis.json``).
    """
    from ..data.provenance import local_time
    from .formatting import format_value

    brand_wide: list[str] = []
    if params.product_lines:
        brand_wide = [n for n in db.available_tables if not TABLES[n].product_line]
    prov = provenance
    loc = params.locale
    tables = [
        {
            "name": name,
            "rows": format_value(doc["rows"], "count", loc),
            "latest": local_time(doc["latest"]),
        }
        for name, doc in prov.tables.items()
    ]
    return Html(
        render(
            "kpis/footer.html",
            source=prov.source,
            product_lines=list(params.product_lines or []),
            brand_wide=brand_wide,
            missing_tables=list(db.missing_tables),
            stamp=datetime.now().strftime("%Y-%m-%d %H:%M"),
            locale=loc,
            prov=prov,
            tables=tables,
            started=local_time(prov.started_at),
            ended=local_time(prov.ended_at),
        )
    )


def cohort_has_data(cohorts: CohortRetention) -> bool:
    """Whether a cohort heatmap would show at least one rate."""
    rates = cohorts.rates
    return bool(len(rates)) and bool(rates.notna().to_numpy().any())


def _figure(
    draw: Callable[..., Any],
    result: pd.DataFrame | Funnel | CohortRetention | TouchResponse,
    *,
    figsize: tuple[float, float] = (7.2, 3.2),
    **kwargs: Any,
) -> Figure:
    """Draw on a new figure and return it closed, so Jupyter shows it exactly once."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    draw(result, ax=ax, **kwargs)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _section(heading: str, level: int) -> None:
    """Show a heading now (the section's figure or note follows as the cell's result)."""
    from IPython.display import display

    display(Html(heading_html(heading, level=level)))


def show_funnel(
    funnel: pd.DataFrame | Funnel | NotAvailable, locale: str | None = None
) -> Figure | Html:
    """Heading and funnel figure by channel (or "not available (needs table X)").

    Parameters
    ----------
    funnel : DataFrame, Funnel or NotAvailable
        :func:`kpitools.kpis.funnel.compute_funnel` by channel, through
        :func:`~kpitools.kpis.compute.unless_missing`.
    locale : str, optional
    """
    loc = locale_of(funnel, locale)
    if isinstance(funnel, NotAvailable):
        return Html(Markup())  # left out: the coverage line says why
    _section(t("report.funnel", loc), 3)
    return _figure(plot_funnel, funnel, locale=loc)


def show_cohort_retention(
    cohorts: CohortRetention | NotAvailable, locale: str | None = None
) -> Figure | Html:
    """Heading and cohort retention heatmap (nothing when orders are absent or no cohort has
    a rate: never an empty figure)."""
    loc = locale_of(cohorts, locale)
    if isinstance(cohorts, NotAvailable) or not cohort_has_data(cohorts):
        return Html(Markup())
    _section(t("report.cohort_retention", loc), 2)
    rows = max(len(cohorts.rates), 4)
    return _figure(plot_cohort_heatmap, cohorts, figsize=(8.5, 0.32 * rows + 1.2))


def show_touch_response(
    touch: TouchResponse | NotAvailable, locale: str | None = None
) -> Figure | Html:
    """Heading and response-by-touch figure for the sales section (nothing without leads)."""
    loc = locale_of(touch, locale)
    if isinstance(touch, NotAvailable):
        return Html(Markup())  # left out: the coverage line says why
    _section(t("report.touch_response", loc), 3)
    return _figure(plot_touch_response, touch, locale=loc, figsize=(7.2, 2.8))


def show_roi_headline(roi: CampaignReport | NotAvailable, locale: str | None = None) -> Html:
    """The campaign programme's ROI against control groups, in a few tiles (or a note).

    Parameters
    ----------
    roi : kpitools.roi.CampaignReport or NotAvailable
        :func:`kpitools.roi.analyse_campaigns`, computed once by the notebook. The full
        analysis, campaign by campaign, is the ``campaign-roi`` report.
    locale : str, optional
    """
    loc = locale_of(roi, locale)
    if analysis_needs(roi):  # no campaigns table: left out, the coverage line says why
        return Html(Markup())
    assert isinstance(roi, CampaignReport)
    body = roi_summary_html(roi)
    return Html(heading_html(t("report.roi_headline", loc), level=3, body=body))


__all__ = [
    "setup_notebook",
    "show_breakdown",
    "show_cohort_retention",
    "show_department",
    "show_data_quality",
    "show_footer",
    "show_funnel",
    "show_glossary",
    "show_header",
    "show_roi_headline",
    "show_scorecard",
    "show_section",
    "show_summary",
    "show_touch_response",
    "show_what_changed",
]
