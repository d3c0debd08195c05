"""Figures of the campaign ROI report: the lift forest plot and the ROI by segment or channel.

Both take a :class:`kpitools.roi.CampaignReport` first and ``ax=None`` (a new figure when
None) and return the Axes. Numbers follow the report's locale (Babel, as in the tables);
names from the data are drawn literally (no mathtext).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from ..report.formatting import format_money_whole
from ..report.i18n import locale_of, t
from ..report.roi.text import confidence_level, currency_of, group_name, pct
from ..roi import CampaignReport
from ..vocab import Verdict
from .kpis import empty_axes
from .style import literal, plain_text

__all__ = ["VERDICT_COLOUR", "plot_lift_forest", "plot_roi_by"]

#: Colour of each verdict in the figures.
VERDICT_COLOUR = {
    Verdict.PROFITABLE: "#047857",
    Verdict.NOT_PROFITABLE: "#b91c1c",
    Verdict.INCONCLUSIVE: "#4a6fa5",
    Verdict.NOT_MEASURED: "#9ca3af",
}

_DEFAULT_COLOUR = "#4a6fa5"


@plain_text
def plot_lift_forest(
    report: CampaignReport,
    ax: Axes | None = None,
    *,
    locale: str | None = None,
    currency: str | None = None,
) -> Axes:
    """Forest plot of each campaign's revenue lift per targeted customer with its interval.

    Campaigns are ordered by estimated lift; the vertical line at zero marks "no effect";
    colours follow the ROI verdict. Campaigns without a lift are left out.

    Parameters
    ----------
    report : CampaignReport
    ax : matplotlib Axes, optional
    locale, currency : str, optional
        Default: the report's.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    items = [(c, c.revenue_lift) for c in report.campaigns if c.revenue_lift is not None]
    items.sort(key=lambda item: item[1].effect)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.38 * max(len(items), 3) + 1.3))
    ax.set_title(literal(t("roi.forest_title", loc)), fontsize=10, loc="left")
    if not items:
        return empty_axes(ax)
    for y, (c, lift) in enumerate(items):
        colour = VERDICT_COLOUR.get(c.verdict, _DEFAULT_COLOUR)
        ax.plot([lift.ci_low, lift.ci_high], [y, y], color=colour, lw=2, solid_capstyle="butt")
        ax.scatter([lift.effect], [y], color=colour, s=36, zorder=3)
    ax.axvline(0, color="#374151", lw=1, ls="--")
    ax.set_yticks(range(len(items)))
    labels = [literal(c.name if len(c.name) <= 48 else c.name[:46] + "…") for c, _ in items]
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.7, len(items) - 0.3)
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: literal(format_money_whole(v, loc, cur)))
    )
    ax.tick_params(axis="x", labelsize=8)
    level = confidence_level(report, loc)
    ax.set_xlabel(
        literal(f"{t('roi.lift', loc)} ({t('roi.interval', loc, level=level)})"), fontsize=8
    )
    ax.grid(axis="x", color="#e5e8ef")
    ax.grid(axis="y", visible=False)
    present = list(dict.fromkeys(c.verdict for c, _ in items))
    handles = [
        Line2D(
            [0], [0], color=VERDICT_COLOUR[v], marker="o", lw=2, label=literal(t(f"roi.{v}", loc))
        )
        for v in present
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower right", frameon=False)
    sns.despine(ax=ax, left=True)
    return ax


@plain_text
def plot_roi_by(
    report: CampaignReport,
    ax: Axes | None = None,
    *,
    by: str = "segment",
    locale: str | None = None,
) -> Axes:
    """ROI of the programme by segment or channel, with intervals and the break-even line.

    Parameters
    ----------
    report : CampaignReport
    ax : matplotlib Axes, optional
        Default: a new figure.
    by : {"segment", "channel"}
    locale : str, optional
        Default: the report's.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if by not in ("segment", "channel"):
        raise ValueError(f"by must be 'segment' or 'channel', not {by!r}")
    loc = locale_of(report, locale)
    summary = report.by_segment if by == "segment" else report.by_channel
    table = None if summary is None else summary.table
    if table is not None:  # the "not measured" row has no ROI to plot (the table shows it)
        table = table[table.index != str(Verdict.NOT_MEASURED)]
    n = 0 if table is None else len(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.5 * max(n, 2) + 1.2))
    title = t("roi.roi_by_title", loc, by=t(f"roi.{by}_word", loc))
    ax.set_title(literal(title), fontsize=10, loc="left")
    if table is None or not n:
        return empty_axes(ax)
    rows = list(table.iterrows())[::-1]  # first group on top
    for y, (_, r) in enumerate(rows):
        colour = VERDICT_COLOUR.get(r["verdict"], _DEFAULT_COLOUR)
        ax.plot([r["roi_ci_low"], r["roi_ci_high"]], [y, y], color=colour, lw=2.5)
        ax.scatter([r["roi"]], [y], color=colour, s=44, zorder=3)
    ax.axvline(0, color="#374151", lw=1, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([literal(group_name(by, str(g), loc)) for g, _ in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: literal(pct(v, loc))))
    ax.tick_params(axis="x", labelsize=8)
    level = confidence_level(report, loc)
    ax.set_xlabel(
        literal(f"{t('roi.roi', loc)} ({t('roi.interval', loc, level=level)})"), fontsize=8
    )
    ax.grid(axis="x", color="#e5e8ef")
    ax.grid(axis="y", visible=False)
    sns.despine(ax=ax, left=True)
    return ax
