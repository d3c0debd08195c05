"""One-call helpers for report notebooks: each returns an object Jupyter displays richly.

A report notebook's code cells read like a table of contents::

    setup_notebook()
    params = load_params(params_path)
    db = connect(params)
    scorecard = compute_kpis(db, params, period)
    show_header(params, scorecard)
    show_summary(scorecard, params)
    show_scorecard(scorecard)
    plot_trends(scorecard)
    show_glossary(scorecard)
"""

from __future__ import annotations

import html as _html
from datetime import datetime

from .formatting import DEPARTMENT_NAMES, t
from .tables import Html, glossary_html, header_html, scorecard_html, summary_html


def setup_notebook(dpi: int = 110) -> None:
    """Figure style for reports: seaborn theme, PNG figures (embedded in HTML and PDF).

    Called by the notebook, never on import.
    """
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font="DejaVu Sans")
    mpl.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi, "savefig.bbox": "tight"})
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - outside Jupyter
        pass


def show_header(params, scorecard, *, title: str | None = None) -> Html:
    """Brand, report title and period."""
    return Html(header_html(params, scorecard, title=title))


def show_summary(scorecard, params, *, headline=None) -> Html:
    """Headline tiles and the one-line verdict."""
    return Html(summary_html(scorecard, params, headline=headline))


def show_scorecard(scorecard, *, department: str | None = None, kpis=None) -> Html:
    """The scorecard table, optionally for one department only."""
    ids = kpis or [r.id for r in scorecard if department is None or r.kpi.department == department]
    title = None
    if department:
        title = DEPARTMENT_NAMES[department].get(scorecard.locale, department)
    return Html(scorecard_html(scorecard, kpis=ids, title=title))


def show_department(scorecard, department: str, objectives=None) -> Html:
    """A department's section: heading and its scorecard (nothing if it has no KPI).

    With ``objectives`` (an ObjectiveReport), each KPI that an objective tracks names it,
    coloured by its status.
    """
    ids = [r.id for r in scorecard if r.kpi.department == department]
    if not ids:
        return Html("")
    title = DEPARTMENT_NAMES[department].get(scorecard.locale, department)
    return Html(
        f"<h2>{_html.escape(title)}</h2>"
        + scorecard_html(scorecard, kpis=ids, objectives=objectives)
    )


def show_breakdown(breakdown, *, kpis=None) -> Html:
    """A breakdown table (groups × KPIs) with a heading naming the dimension."""
    from .tables import breakdown_html

    title = t(f"by_{breakdown.by}", breakdown.locale)
    return Html(f"<h3>{_html.escape(title)}</h3>" + breakdown_html(breakdown, kpis=kpis))


def show_glossary(scorecard) -> Html:
    """Definitions of the KPIs in the scorecard."""
    return Html(glossary_html([r.kpi for r in scorecard], locale=scorecard.locale))


def show_section(title_key_or_text: str, locale: str = "en") -> Html:
    """A section heading in the report's language."""
    from .formatting import TEXT

    text = t(title_key_or_text, locale) if title_key_or_text in TEXT else title_key_or_text
    return Html(f"<h2>{_html.escape(text)}</h2>")


def show_footer(params, db, scorecard) -> Html:
    """Where the numbers come from: data source (never a credential), tables absent, time."""
    loc = params.locale
    missing = db.missing_tables
    missing_line = f"<div>{t('missing_tables', loc)}: {', '.join(missing)}</div>" if missing else ""
    scope = ""
    if params.product_lines:
        from ..schema import TABLES

        brand_wide = [n for n in db.available_tables if not TABLES[n].product_line]
        scope = (
            f"<div>{t('product_lines', loc)}: {_html.escape(', '.join(params.product_lines))}. "
            f"{t('brand_wide', loc)}: {', '.join(brand_wide)}</div>"
        )
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    return Html(
        "<div class='kpi-footer'>"
        f"<div>{t('data_source', loc)}: {_html.escape(db.description)}</div>"
        f"{scope}{missing_line}"
        f"<div>{t('generated', loc)}: {stamp} · kpitools</div>"
        "</div>"
    )


def _not_available(table: str, locale: str) -> Html:
    return Html(
        f"<p class='muted'><i>{t('not_available', locale)} "
        f"({t('needs_table', locale)} {_html.escape(table)})</i></p>"
    )


def _figure(draw, *args, figsize=(7.2, 3.2), **kwargs):
    """Draw on a new figure and return it closed, so Jupyter shows it exactly once."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    draw(*args, ax=ax, **kwargs)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_funnel(db, params, period, *, trailing="year"):
    """Heading and funnel figure by channel of the last year's campaigns (or a note)."""
    from ..errors import MissingTableError
    from ..kpis.funnel import compute_funnel
    from ..plots import plot_funnel

    loc = params.locale
    from IPython.display import display

    display(Html(f"<h3>{_html.escape(t('funnel', loc))}</h3>"))
    try:
        funnel = compute_funnel(db, params, period, by="channel", trailing=trailing)
    except MissingTableError as exc:
        return _not_available(exc.table, loc)
    return _figure(plot_funnel, funnel, locale=loc)


def show_cohort_retention(db, params, period):
    """Heading and cohort retention heatmap (or a note when orders are absent)."""
    from IPython.display import display

    from ..errors import MissingTableError
    from ..kpis.cohorts import compute_cohort_retention
    from ..plots import plot_cohort_heatmap

    loc = params.locale
    display(Html(f"<h2>{_html.escape(t('cohort_retention', loc))}</h2>"))
    try:
        cohorts = compute_cohort_retention(db, params, period)
    except MissingTableError as exc:
        return _not_available(exc.table, loc)
    rows = max(len(cohorts.rates), 4)
    return _figure(plot_cohort_heatmap, cohorts, figsize=(8.5, 0.32 * rows + 1.2))


def show_touch_response(db, params, period):
    """Heading and response-by-touch figure for the sales section (or a note)."""
    from IPython.display import display

    from ..errors import MissingTableError
    from ..kpis.curves import compute_touch_response
    from ..plots import plot_touch_response

    loc = params.locale
    display(Html(f"<h3>{_html.escape(t('touch_response', loc))}</h3>"))
    try:
        touch = compute_touch_response(db, params, period)
    except MissingTableError as exc:
        return _not_available(exc.table, loc)
    return _figure(plot_touch_response, touch, locale=loc, figsize=(7.2, 2.8))


def show_roi_headline(db, params, period) -> Html:
    """The campaign programme's ROI against control groups, in a few tiles (or a note).

    The full analysis, campaign by campaign, is the ``campaign-roi`` report.
    """
    from ..errors import MissingTableError
    from ..roi.analysis import analyse_campaigns
    from .roi import roi_summary_html

    loc = params.locale
    head = f"<h3>{_html.escape(t('roi_headline', loc))}</h3>"
    try:
        report = analyse_campaigns(db, params, period)
    except MissingTableError as exc:
        return Html(head + _not_available(exc.table, loc).html)
    return Html(head + roi_summary_html(report))
