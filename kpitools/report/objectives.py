"""The report's answer to "are we on track?": objectives, strategies and metrics.

:func:`objectives_html` gives one block per objective: a coloured status badge, the outcome KPI
and the metrics of each strategy against their expected (paced) and final targets, the gap,
a "between reviews" mark, and "What to do": the corrective actions of whatever is at risk or
off track. :func:`plot_objective_tree` draws the objective → strategy → metric tree coloured by
status. Every number goes through :mod:`kpitools.report.formatting`.
"""

from __future__ import annotations

import textwrap
from html import escape

from ..objectives import AT_RISK, OFF_TRACK, ON_TRACK, STATUSES, UNKNOWN
from .formatting import DEPARTMENT_NAMES, format_change, format_date, format_value
from .i18n import kpi_name
from .tables import Html

#: badge colours (background, text) and figure colours (fill, edge) per status
COLOURS = {
    ON_TRACK: {"bg": "#d1fae5", "fg": "#065f46", "edge": "#059669"},
    AT_RISK: {"bg": "#fef3c7", "fg": "#92400e", "edge": "#d97706"},
    OFF_TRACK: {"bg": "#fee2e2", "fg": "#991b1b", "edge": "#dc2626"},
    UNKNOWN: {"bg": "#e5e7eb", "fg": "#374151", "edge": "#9ca3af"},
}

TEXT = {
    ON_TRACK: {"en": "On track", "fr": "En bonne voie", "it": "In linea"},
    AT_RISK: {"en": "At risk", "fr": "À risque", "it": "A rischio"},
    OFF_TRACK: {"en": "Off track", "fr": "Hors trajectoire", "it": "Fuori rotta"},
    UNKNOWN: {"en": "Unknown", "fr": "Indéterminé", "it": "Non determinabile"},
    "objectives": {"en": "Objectives", "fr": "Objectifs", "it": "Obiettivi"},
    "indicator": {"en": "Indicator", "fr": "Indicateur", "it": "Indicatore"},
    "value": {"en": "Value", "fr": "Valeur", "it": "Valore"},
    "expected": {"en": "Expected now", "fr": "Attendu à date", "it": "Atteso ora"},
    "final": {"en": "Final target", "fr": "Cible finale", "it": "Traguardo finale"},
    "gap": {"en": "Gap", "fr": "Écart", "it": "Scarto"},
    "status": {"en": "Status", "fr": "Statut", "it": "Stato"},
    "outcome": {"en": "outcome", "fr": "résultat", "it": "risultato"},
    "todo": {"en": "What to do", "fr": "Que faire", "it": "Cosa fare"},
    "nothing": {
        "en": "Nothing to correct: everything measured is on track.",
        "fr": "Rien à corriger : tout ce qui est mesuré est en bonne voie.",
        "it": "Nulla da correggere: tutto ciò che è misurato è in linea.",
    },
    "no_action": {
        "en": "no corrective action is defined for it in the params: define one",
        "fr": "aucune action corrective n'est prévue dans les paramètres : en définir une",
        "it": "nessuna azione correttiva è prevista nei parametri: definirne una",
    },
    "no_value": {
        "en": "no value for the period: check the data source",
        "fr": "pas de valeur pour la période : vérifier la source des données",
        "it": "nessun valore per il periodo: verificare la fonte dei dati",
    },
    "review_point": {"en": "review point", "fr": "point de revue", "it": "punto di revisione"},
    "between": {
        "en": "between reviews, next review {date}",
        "fr": "entre deux revues, prochaine revue le {date}",
        "it": "tra due revisioni, prossima revisione il {date}",
    },
    "deadline_passed": {
        "en": "deadline passed",
        "fr": "échéance dépassée",
        "it": "scadenza superata",
    },
    "plan": {
        "en": "From {baseline} on {start} to {target} by {deadline}; {share} of the time elapsed.",
        "fr": "De {baseline} le {start} à {target} au {deadline} ; {share} du temps écoulé.",
        "it": "Da {baseline} il {start} a {target} entro il {deadline}; {share} del tempo trascorso.",
    },
    "tactics": {"en": "Tactics", "fr": "Tactiques", "it": "Tattiche"},
    "how_to_read": {"en": "How to read", "fr": "Comment lire", "it": "Come leggere"},
    "summary": {
        "en": "{n} objectives for {period}: {detail}.",
        "fr": "{n} objectifs pour {period} : {detail}.",
        "it": "{n} obiettivi per {period}: {detail}.",
    },
    "summary_one": {
        "en": "1 objective for {period}: {detail}.",
        "fr": "1 objectif pour {period} : {detail}.",
        "it": "1 obiettivo per {period}: {detail}.",
    },
    "none": {
        "en": "No objective is defined in the params file (section objectives).",
        "fr": "Aucun objectif n'est défini dans le fichier de paramètres (section objectives).",
        "it": "Nessun obiettivo è definito nel file dei parametri (sezione objectives).",
    },
}

_CSS = """
.kpi-objectives .objective { border: 1px solid #dbe3f0; border-left-width: 5px;
  border-radius: 6px; padding: 8px 12px 6px; margin: 10px 0 12px; break-inside: avoid; }
.kpi-objectives .objective-head { font-size: 11.5pt; color: #1f3b63; }
.kpi-objectives .objective-title { font-weight: bold; margin: 0 6px; }
.kpi-objectives .objective-plan { font-size: 9pt; margin: 2px 0 4px; }
.kpi-objectives .obj-badge { display: inline-block; padding: 1px 8px; border-radius: 9px;
  font-size: 8.5pt; font-weight: bold; white-space: nowrap; }
.kpi-objectives table.kpi-objective th.name, .kpi-objectives table.kpi-objective td.name { width: 36%; }
.kpi-objectives tr.strategy td { background: #f7f9fc; font-weight: 600; color: #1f3b63; }
.kpi-objectives tr.metric td.name { padding-left: 18px; }
.kpi-objectives .tactics { font-weight: normal; font-size: 8.5pt; }
.kpi-objectives .todo { font-size: 9.5pt; margin: 4px 0 2px; }
.kpi-objectives .todo ol { margin: 2px 0 4px 18px; padding: 0; }
.kpi-objectives .rules { font-size: 8.5pt; }
"""


def _t(key: str, locale: str) -> str:
    entry = TEXT[key]
    return entry.get(locale, entry["en"])


def status_label(status: str, locale: str = "en") -> str:
    """The status in words: On track, At risk, Off track, Unknown (en, fr, it)."""
    return _t(status, locale)


def badge_html(status: str, locale: str = "en") -> str:
    """A coloured status badge (inline colours, so it survives any stylesheet)."""
    c = COLOURS[status]
    return (
        f"<span class='obj-badge status-{status}' "
        f"style='background:{c['bg']};color:{c['fg']}'>{escape(status_label(status, locale))}</span>"
    )


def _gap(gap, rel, unit: str, locale: str, currency: str) -> str:
    if gap is None:
        return "–"
    if unit == "ratio":
        return format_change(gap, "points_ratio", locale)
    if unit == "score":
        return format_change(gap, "points", locale)
    sign = "+" if gap > 0 else ("\u2212" if gap < 0 else "\u00b1")
    text = sign + format_value(abs(gap), unit, locale, currency)
    if rel is not None and gap != 0:
        text += f" ({format_change(rel, 'relative', locale)})"
    return text


def _bounds(lo, hi, unit: str, locale: str, currency: str) -> str:
    if lo is not None and hi is not None:
        return f"{format_value(lo, unit, locale, currency)} – {format_value(hi, unit, locale, currency)}"
    if lo is not None:
        return f"\u2265\u00a0{format_value(lo, unit, locale, currency)}"
    if hi is not None:
        return f"\u2264\u00a0{format_value(hi, unit, locale, currency)}"
    return "–"


def _objective_bounds(o, value) -> tuple:
    return (value, None) if o.kpi.direction == "higher" else (None, value)


def _row(name_html: str, cls: str, value, expected: str, final: str, gap: str, status, loc):
    tone = {ON_TRACK: "good", OFF_TRACK: "bad", AT_RISK: "", UNKNOWN: "muted"}[status]
    return (
        f"<tr class='{cls}'><td class='name'>{name_html}</td>"
        f"<td class='num value'>{value}</td><td class='num'>{expected}</td>"
        f"<td class='num'>{final}</td><td class='num {tone}'>{gap}</td>"
        f"<td class='num'>{badge_html(status, loc)}</td></tr>"
    )


def _percent(x: float, locale: str) -> str:
    return format_value(x, "ratio", locale).replace(",0", "").replace(".0", "")


def _objective_block(o, loc: str, cur: str) -> str:
    k = o.kpi
    unit = k.unit
    obj = o.objective
    mark = _t("review_point", loc) if o.review_point else ""
    if not o.review_point and o.next_review is not None:
        mark = _t("between", loc).format(date=format_date(o.next_review, loc))
    if o.deadline_passed:
        mark = f"{mark} · {_t('deadline_passed', loc)}" if mark else _t("deadline_passed", loc)
    plan = _t("plan", loc).format(
        baseline=format_value(obj.baseline.value, unit, loc, cur),
        start=format_date(obj.baseline.date, loc),
        target=format_value(o.target, unit, loc, cur),
        deadline=format_date(obj.deadline, loc),
        share=_percent(o.fraction, loc),
    )
    head = (
        f"<th class='name'>{_t('indicator', loc)}</th><th>{_t('value', loc)}</th>"
        f"<th>{_t('expected', loc)}</th><th>{_t('final', loc)}</th>"
        f"<th>{_t('gap', loc)}</th><th>{_t('status', loc)}</th>"
    )
    rows = [
        _row(
            f"<b>{escape(kpi_name(k.id, loc))}</b> <span class='muted'>({_t('outcome', loc)})</span>",
            "outcome",
            format_value(o.value, unit, loc, cur),
            _bounds(*_objective_bounds(o, o.expected), unit, loc, cur),
            _bounds(*_objective_bounds(o, o.target), unit, loc, cur),
            _gap(o.gap, o.relative_gap, unit, loc, cur),
            o.outcome_status,
            loc,
        )
    ]
    for s in o.strategies:
        fn = DEPARTMENT_NAMES[s.function].get(loc, s.function)
        tactics = ""
        if s.strategy.tactics:
            tactics = (
                f"<div class='tactics muted'>{_t('tactics', loc)}: "
                f"{escape('; '.join(s.strategy.tactics))}</div>"
            )
        rows.append(
            f"<tr class='strategy'><td class='name' colspan='5'>{escape(fn)} · "
            f"{escape(s.title)}{tactics}</td><td class='num'>{badge_html(s.status, loc)}</td></tr>"
        )
        for m in s.metrics:
            mu = m.kpi.unit
            rows.append(
                _row(
                    escape(kpi_name(m.kpi.id, loc)),
                    "metric",
                    format_value(m.value, mu, loc, cur),
                    _bounds(m.expected_min, m.expected_max, mu, loc, cur),
                    _bounds(m.target_min, m.target_max, mu, loc, cur),
                    _gap(m.gap, m.relative_gap, mu, loc, cur),
                    m.status,
                    loc,
                )
            )
    border = COLOURS[o.status]["edge"]
    return (
        f"<div class='objective status-{o.status}' id='objective-{escape(o.id)}' "
        f"style='border-left-color:{border}'>"
        f"<div class='objective-head'>{badge_html(o.status, loc)}"
        f"<span class='objective-title'>{escape(o.title)}</span>"
        + (f"<span class='muted review'>{escape(mark)}</span>" if mark else "")
        + "</div>"
        f"<div class='objective-plan muted'>{escape(plan)}</div>"
        f"<table class='kpi-scorecard kpi-objective'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"{_todo_html(o, loc)}</div>"
    )


def _todo_html(o, loc: str) -> str:
    items = []
    for a in o.actions:
        source = a.source
        if a.level == "metric":
            source = next(kpi_name(m.kpi.id, loc) for m in o.metrics if m.kpi_id == a.source)
        items.append(
            f"<li>{escape(a.text)} <span class='muted'>({escape(source)}: "
            f"{escape(status_label(a.status, loc).lower())})</span></li>"
        )
    # something slipping without an action of its own in the params
    bad = (AT_RISK, OFF_TRACK)
    covered = {(a.level, a.source) for a in o.actions}
    lacking = []
    if o.outcome_status in bad and not o.objective.actions and not o.actions:
        lacking.append((kpi_name(o.kpi.id, loc), o.outcome_status))
    for s in o.strategies:
        for m in s.metrics:
            if m.status in bad and ("metric", m.kpi_id) not in covered:
                if ("strategy", s.title) not in covered:
                    lacking.append((kpi_name(m.kpi.id, loc), m.status))
    for name, status in lacking:
        items.append(
            f"<li class='muted'>{escape(name)} ({escape(status_label(status, loc).lower())}): "
            f"{_t('no_action', loc)}</li>"
        )
    unknown = []
    if o.outcome_status == UNKNOWN:
        unknown.append(kpi_name(o.kpi.id, loc))
    unknown += [kpi_name(m.kpi.id, loc) for m in o.metrics if m.status == UNKNOWN]
    for name in dict.fromkeys(unknown):
        items.append(f"<li class='muted'>{escape(name)}: {_t('no_value', loc)}</li>")
    if not items:
        return f"<div class='todo'><b>{_t('todo', loc)}</b>: {_t('nothing', loc)}</div>"
    return f"<div class='todo'><b>{_t('todo', loc)}</b><ol>{''.join(items)}</ol></div>"


def summary_text(report, locale: str | None = None) -> str:
    """``3 objectives for December 2025: 1 on track, 1 at risk, 1 off track.``"""
    from .formatting import period_title

    loc = locale or report.locale
    counts = report.counts()
    detail = ", ".join(f"{n} {status_label(s, loc).lower()}" for s, n in counts.items() if n)
    key = "summary_one" if len(report.objectives) == 1 else "summary"
    return _t(key, loc).format(
        n=len(report.objectives), period=period_title(report.period, loc), detail=detail
    )


_OVERVIEW = {
    "objective": {"en": "Objective", "fr": "Objectif", "it": "Obiettivo"},
    "first_action": {"en": "First thing to do", "fr": "Première action", "it": "Prima azione"},
}


def overview_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """Every objective on one line: status, outcome value vs expected now, gap, first action."""
    loc = locale or report.locale
    cur = currency or report.currency
    rows = []
    for o in report.objectives:
        unit = o.kpi.unit
        action = o.actions[0].text if o.actions else "–"
        rows.append(
            f"<tr><td>{badge_html(o.status, loc)}</td>"
            f"<td class='name'><a href='#objective-{escape(o.id)}'>{escape(o.title)}</a></td>"
            f"<td class='num value'>{format_value(o.value, unit, loc, cur)}</td>"
            f"<td class='num'>{format_value(o.expected, unit, loc, cur)}</td>"
            f"<td class='num'>{_gap(o.gap, o.relative_gap, unit, loc, cur)}</td>"
            f"<td class='action'>{escape(action)}</td></tr>"
        )
    head = (
        f"<th>{_t('status', loc)}</th><th class='name'>{_OVERVIEW['objective'][loc]}</th>"
        f"<th>{_t('value', loc)}</th><th>{_t('expected', loc)}</th><th>{_t('gap', loc)}</th>"
        f"<th class='name'>{_OVERVIEW['first_action'][loc]}</th>"
    )
    return (
        f"<table class='kpi-scorecard kpi-overview'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def objectives_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """The objectives section: a summary line, one block per objective, the rules.

    Parameters
    ----------
    report : kpitools.objectives.ObjectiveReport
    locale : {"en", "fr", "it"}, optional
        Default: the report's (the scorecard's) locale.
    currency : str, optional
        Default: the report's currency.
    """
    loc = locale or report.locale
    cur = currency or report.currency
    if not report.objectives:
        return f"<div class='kpi-objectives'><p class='muted'>{_t('none', loc)}</p></div>"
    blocks = "".join(_objective_block(o, loc, cur) for o in report.objectives)
    return (
        f"<div class='kpi-objectives'><style>{_CSS}</style>"
        f"<p class='summary-line'>{escape(summary_text(report, loc))}</p>"
        f"{overview_html(report, loc, cur)}"
        f"{blocks}"
        f"<p class='rules muted'><b>{_t('how_to_read', loc)}.</b> "
        f"{escape(report.rule_text(loc))}</p></div>"
    )


def show_objectives(report, *, heading: bool = True) -> Html:
    """The objectives section for a notebook cell (with an ``h2`` heading by default)."""
    loc = report.locale
    h = f"<h2>{_t('objectives', loc)}</h2>" if heading else ""
    return Html(h + objectives_html(report))


# --------------------------------------------------------------------------------------
# The tree figure
# --------------------------------------------------------------------------------------

_ROW_INCHES = 0.62
_WIDTH_INCHES = 7.4  # A4 width less the page margins
_COLUMNS = {"objective": (0.01, 0.31), "strategy": (0.35, 0.64), "metric": (0.68, 0.99)}
_FONT = 7.0


def _wrap(text: str, width: int, lines: int) -> list[str]:
    out = textwrap.wrap(text, width=width) or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: max(width - 1, 1)].rstrip() + "\u2026"
    return out


def _box(ax, column, top, bottom, status, title, detail, scale):
    from matplotlib.patches import FancyBboxPatch

    x0, x1 = _COLUMNS[column]
    c = COLOURS[status]
    pad = 0.08
    ax.add_patch(
        FancyBboxPatch(
            (x0, bottom + pad),
            x1 - x0,
            top - bottom - 2 * pad,
            boxstyle="round,pad=0,rounding_size=0.012",
            facecolor=c["bg"],
            edgecolor=c["edge"],
            linewidth=1.2,
            mutation_aspect=8,
        )
    )
    # scale: (axes width, inches per row); DejaVu Sans averages about 0.6 em per character
    width_in, row_in = scale
    chars = max(8, int((x1 - x0) * width_in * 72 / (_FONT * 0.62)) - 2)
    lines_fit = int((top - bottom - 2 * pad) * row_in * 72 / (_FONT * 1.35))
    max_lines = max(1, lines_fit - detail.count("\n") - (1 if detail else 0))
    lines = _wrap(title, chars, max_lines)
    details = detail.split("\n") if detail else []
    y = (top + bottom) / 2
    line_h = _FONT * 1.3 / 72 / row_in  # one text line in rows
    first = y + (len(lines) + len(details)) * line_h / 2
    ax.text(
        (x0 + x1) / 2,
        first - len(lines) * line_h / 2,
        "\n".join(lines),
        ha="center",
        va="center",
        fontsize=_FONT,
        fontweight="bold" if column != "metric" else "normal",
        color="#111827",
        linespacing=1.1,
    )
    if details:
        ax.text(
            (x0 + x1) / 2,
            first - (len(lines) + len(details) / 2) * line_h,
            "\n".join(details),
            ha="center",
            va="center",
            fontsize=_FONT,
            color=c["fg"],
            linespacing=1.1,
        )
    return x0, x1, y


def _connect(ax, x_from: float, y_from: float, x_to: float, y_to: float) -> None:
    xm = (x_from + x_to) / 2
    ax.plot(
        [x_from, xm, xm, x_to],
        [y_from, y_from, y_to, y_to],
        color="#9ca3af",
        linewidth=0.9,
        solid_capstyle="round",
        zorder=0,
    )


def plot_objective_tree(report, ax=None, *, locale: str | None = None):
    """The objective → strategy → metric tree, boxes coloured by status.

    Objectives on the left, their strategies in the middle, the metrics on the right; each
    box shows its name (wrapped) and, for KPIs, value and expected value. Sized for the width
    of an A4 page.

    Parameters
    ----------
    report : kpitools.objectives.ObjectiveReport
    ax : matplotlib Axes, optional
        Default: a new figure 7.4 in wide, about 0.6 in per metric.
    locale : str, optional
        Default: the report's locale.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    loc = locale or report.locale
    cur = report.currency
    rows_per = [max(1, len(o.metrics) or 1) for o in report.objectives]
    gap_rows = 0.35
    total = sum(rows_per) + gap_rows * max(len(rows_per) - 1, 0)
    if ax is None:
        height = max(1.6, _ROW_INCHES * total + 0.7)
        fig, ax = plt.subplots(figsize=(_WIDTH_INCHES, height))
        fig.subplots_adjust(left=0.005, right=0.995, top=0.99, bottom=min(0.6, 0.7 / height))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    if not report.objectives:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, _t("none", loc), ha="center", va="center", color="grey")
        return ax
    ax.set_ylim(-total, 0)
    fig = ax.figure
    box = ax.get_position()
    width_in, height_in = fig.get_size_inches()
    scale = (box.width * width_in, box.height * height_in / total)

    top = 0.0
    for o, n in zip(report.objectives, rows_per, strict=True):
        k = o.kpi
        expected = _bounds(*_objective_bounds(o, o.expected), k.unit, loc, cur)
        odetail = (
            f"{format_value(o.value, k.unit, loc, cur)} ({expected})\n{status_label(o.status, loc)}"
        ).replace("\u00a0", " ")
        _, ox1, oy = _box(ax, "objective", -top, -(top + n), o.status, o.title, odetail, scale)
        row = top
        if not o.strategies:
            top += n + gap_rows
            continue
        for s in o.strategies:
            sn = len(s.metrics)
            fn = DEPARTMENT_NAMES[s.function].get(loc, s.function)
            sx0, sx1, sy = _box(
                ax,
                "strategy",
                -row,
                -(row + sn),
                s.status,
                f"{fn}: {s.title}",
                status_label(s.status, loc),
                scale,
            )
            _connect(ax, ox1, oy, sx0, sy)
            for i, m in enumerate(s.metrics):
                mu = m.kpi.unit
                expected = _bounds(m.expected_min, m.expected_max, mu, loc, cur)
                detail = f"{format_value(m.value, mu, loc, cur)} ({expected})".replace(
                    "\u00a0", " "
                )
                mx0, _, my = _box(
                    ax,
                    "metric",
                    -(row + i),
                    -(row + i + 1),
                    m.status,
                    kpi_name(m.kpi.id, loc),
                    detail,
                    scale,
                )
                _connect(ax, sx1, sy, mx0, my)
            row += sn
        top += n + gap_rows

    handles = [
        Patch(facecolor=COLOURS[s]["bg"], edgecolor=COLOURS[s]["edge"], label=status_label(s, loc))
        for s in STATUSES
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(handles),
        frameon=False,
        fontsize=_FONT + 0.5,
        handlelength=1.4,
    )
    return ax


__all__ = [
    "COLOURS",
    "badge_html",
    "objectives_html",
    "plot_objective_tree",
    "show_objectives",
    "status_label",
    "summary_text",
]
