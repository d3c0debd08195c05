"""The objective → strategy → metric tree, boxes coloured by status.

Objectives on the left, their strategies in the middle, the metrics on the right; each box
shows its name (wrapped) and, for KPIs, value and expected value. Sized for the width of an A4
page. Words and numbers come from :mod:`kpitools.report.objectives`; text is drawn literally.
"""

from __future__ import annotations

import textwrap
from typing import cast

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch

from ..objectives import ObjectiveReport
from ..report.formatting import format_value
from ..report.i18n import kpi_name, locale_of, t
from ..report.objectives.colours import COLOURS
from ..report.objectives.text import bounds_text, function_name, objective_bounds, status_label
from ..vocab import Status
from .style import literal, plain_text

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
        literal("\n".join(lines)),
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
            literal("\n".join(details)),
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


@plain_text
def plot_objective_tree(
    report: ObjectiveReport, ax: Axes | None = None, *, locale: str | None = None
) -> Axes | None:
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
    matplotlib.axes.Axes or None
        None, and no figure drawn, when the report has no objective and no ``ax`` is given.
    """
    if not report.objectives and ax is None:
        return None  # never an empty figure: the objectives section says there is none
    loc = locale_of(report, locale)
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
        ax.text(
            0.5, 0.5, literal(t("objectives.none", loc)), ha="center", va="center", color="grey"
        )
        return ax
    ax.set_ylim(-total, 0)
    fig = cast(Figure, ax.figure)
    box = ax.get_position()
    width_in, height_in = fig.get_size_inches()
    scale = (box.width * width_in, box.height * height_in / total)

    top = 0.0
    for o, n in zip(report.objectives, rows_per, strict=True):
        k = o.kpi
        expected = bounds_text(*objective_bounds(o, o.expected), k.unit, loc, cur)
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
            fn = function_name(s.function, loc)
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
                expected = bounds_text(m.expected_min, m.expected_max, mu, loc, cur)
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
        for s in Status
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


__all__ = ["plot_objective_tree"]
