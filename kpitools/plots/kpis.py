"""Figures of the KPI report: trends, the campaign funnel, cohort retention, touch response.

Every function takes the result object first and ``ax=None`` (a new figure when None) and
returns the Axes; :func:`plot_trends`, a grid of small multiples, returns its Figure. Axis
labels and tick numbers follow the report's locale; text is drawn literally (a ``$`` in a name
from the data is never read as mathtext).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..kpis.cohorts import CohortRetention
from ..kpis.compute import Scorecard
from ..kpis.curves import TouchResponse
from ..kpis.funnel import STEPS, Funnel
from ..report.formatting import format_value
from ..report.i18n import channel_name, kpi_name, locale_of, t
from .style import literal, plain_text

PALETTE = {"line": "#4a6fa5", "current": "#1f3b63", "grid": "#e5e8ef"}

#: The funnel steps drawn, in order (see :data:`kpitools.kpis.funnel.STEPS`).
FUNNEL_STEPS = STEPS


def axis_formatter(unit: str, locale: str, currency: str = "EUR") -> FuncFormatter:
    """Tick labels in the KPI's unit and the report's locale (``12k`` for large currency)."""

    def fmt(v, _pos):
        if unit == "currency" and abs(v) >= 10_000:
            return format_value(v / 1000, "number", locale) + "k"
        return format_value(v, unit if unit != "count" else "number", locale, currency)

    return FuncFormatter(fmt)


@plain_text
def empty_axes(ax: Axes, text: str = "–", *, color: str | None = "grey") -> Axes:
    """An axes with only ``text`` in its middle (no data to draw)."""
    kwargs: dict[str, Any] = {"color": color} if color else {}
    ax.text(0.5, 0.5, literal(text), ha="center", va="center", transform=ax.transAxes, **kwargs)
    ax.set_axis_off()
    return ax


@plain_text
def plot_trend(
    scorecard: Scorecard, kpi_id: str, ax: Axes | None = None, *, locale: str | None = None
) -> Axes:
    """Line of one KPI over the last 12 periods, the report's period highlighted.

    A matured KPI (``result.cohort`` set) draws its 12 final cohorts ending with the one its
    value describes, and says so under its name; its provisional value is never drawn.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpi_id : str
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: the scorecard's locale.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(scorecard, locale)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 2.4))
    r = scorecard.results[kpi_id]
    df = pd.DataFrame(
        {
            "period": [pd.Timestamp(p.start) for p, _ in r.trend],
            "label": [p.label for p, _ in r.trend],
            "value": [v for _, v in r.trend],
        }
    )
    title = kpi_name(r.kpi.id, loc)
    if r.cohort is not None:  # a matured KPI: its trend is of final cohorts, by cohort
        title = f"{title}\n{t('cohort.trend_note', loc)}"
    ax.set_title(literal(title), fontsize=10, loc="left")
    if df["value"].notna().sum() == 0:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([])
        ax.set_yticks([])
        sns.despine(ax=ax, left=True, bottom=True)
        return ax
    sns.lineplot(data=df, x="period", y="value", marker="o", color=PALETTE["line"], ax=ax)
    last = df.dropna().iloc[-1]
    ax.scatter([last["period"]], [last["value"]], s=50, color=PALETTE["current"], zorder=3)
    ax.yaxis.set_major_formatter(axis_formatter(r.kpi.unit, loc, scorecard.currency))
    ticks = df["period"].iloc[::3]
    ax.set_xticks(ticks)
    ax.set_xticklabels(df["label"].iloc[::3], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.grid(axis="y", color=PALETTE["grid"])
    sns.despine(ax=ax)
    return ax


@plain_text
def plot_trends(
    scorecard: Scorecard,
    kpis: list[str] | None = None,
    *,
    ncols: int = 3,
    locale: str | None = None,
) -> Figure | None:
    """Small multiples of the 12-period trend of several KPIs.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpis : list of str, optional
        Default: every KPI of the scorecard with data. A KPI without a single value in its
        trend (its table is missing) has no panel.
    ncols : int
        Panels per row.
    locale : str, optional
        Default: the scorecard's locale.

    Returns
    -------
    matplotlib.figure.Figure or None
        None, and no figure drawn, when no KPI has a value to plot.
    """
    with_data = [r.id for r in scorecard if any(v is not None for _, v in r.trend)]
    ids = [k for k in kpis if k in with_data] if kpis else None
    ids = ids or with_data
    if not ids:  # never an empty figure
        return None
    n = len(ids)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.5 * nrows), squeeze=False)
    for ax, kid in zip(axes.flat, ids, strict=False):
        plot_trend(scorecard, kid, ax=ax, locale=locale)
    for ax in list(axes.flat)[len(ids) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


@plain_text
def plot_cohort_heatmap(
    cohorts: CohortRetention, ax: Axes | None = None, *, locale: str | None = None
) -> Axes:
    """Heatmap of cohort retention: rows are acquisition periods, columns periods since.

    Parameters
    ----------
    cohorts : kpitools.kpis.cohorts.CohortRetention
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: the result's locale.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rates = cohorts.rates
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.32 * max(len(rates), 4) + 1.2))
    if rates.empty or rates.notna().sum().sum() == 0:
        return empty_axes(ax, color=None)
    loc = locale_of(cohorts, locale)
    annot = rates.map(
        lambda v: "" if pd.isna(v) else format_value(v, "ratio", loc).replace(",0", "")
    )
    sns.heatmap(
        rates.astype(float),
        ax=ax,
        cmap="Blues",
        vmin=0,
        vmax=1,
        annot=annot,
        fmt="",
        annot_kws={"fontsize": 7},
        cbar=False,
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_ylabel(t("report.cohort", loc), fontsize=8)
    ax.set_xlabel(t("report.periods_since", loc), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.grid(False)
    return ax


def funnel_shares(funnel: Funnel | pd.DataFrame, locale: str) -> pd.DataFrame:
    """Long table drawn by :func:`plot_funnel`: ``channel``, ``step`` (labels), ``share``."""
    frame = funnel.frame if isinstance(funnel, Funnel) else funnel
    rows = []
    for _, r in frame.iterrows():
        sent = r["sent"]
        for step in FUNNEL_STEPS:
            share = r[step] / sent if sent else float("nan")
            rows.append(
                {
                    "channel": literal(channel_name(r["channel"], locale)),
                    "step": t(f"report.step_{step}", locale),
                    "share": share,
                }
            )
    return pd.DataFrame(rows)


@plain_text
def plot_funnel(
    funnel: Funnel | pd.DataFrame | None, ax: Axes | None = None, *, locale: str | None = None
) -> Axes:
    """Share of contacted members reaching each funnel step, bars grouped by channel.

    The last bar, "ordered in the outcome window", counts any order of a contacted member in
    the campaign's outcome window (clicked or not): it is not the click's conversion.

    Parameters
    ----------
    funnel : pandas.DataFrame or Funnel
        :func:`kpitools.kpis.funnel.compute_funnel` with ``by="channel"``.
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: English.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(funnel, locale)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.2))
    if funnel is None or len(funnel.frame if isinstance(funnel, Funnel) else funnel) == 0:
        return empty_axes(ax, t("report.no_campaign", loc))
    df = funnel_shares(funnel, loc)
    sns.barplot(data=df, y="step", x="share", hue="channel", ax=ax, orient="h", palette="Blues_d")
    ax.xaxis.set_major_formatter(axis_formatter("ratio", loc))
    ax.set_xlim(0, 1.0)
    ax.set_ylabel("")
    ax.set_xlabel(t("report.share_of_sent", loc), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, title=None, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    sns.despine(ax=ax)
    return ax


@plain_text
def plot_touch_response(
    touch: TouchResponse, ax: Axes | None = None, *, locale: str | None = None
) -> Axes:
    """Response rate by touch number, with the touch after which leads stop answering.

    Parameters
    ----------
    touch : kpitools.kpis.curves.TouchResponse
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: English.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(touch, locale)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.0))
    df = touch.frame
    if df.empty:
        return empty_axes(ax)
    sns.barplot(data=df, x="touch_number", y="response_rate", color=PALETTE["line"], ax=ax)
    ax.yaxis.set_major_formatter(axis_formatter("ratio", loc))
    stop = touch.last_useful_touch()
    if stop is not None and stop < len(df):
        ax.axvline(stop - 0.5, color="#b91c1c", linestyle="--", linewidth=1)
        ax.text(
            stop - 0.4,
            ax.get_ylim()[1] * 0.92,
            t("report.stop_after", loc, n=stop),
            color="#b91c1c",
            fontsize=8,
        )
    ax.set_xlabel(t("report.touch_number", loc), fontsize=8)
    ax.set_ylabel(t("report.response_rate", loc), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color=PALETTE["grid"])
    sns.despine(ax=ax)
    return ax


__all__ = [
    "FUNNEL_STEPS",
    "PALETTE",
    "axis_formatter",
    "empty_axes",
    "funnel_shares",
    "literal",
    "plot_cohort_heatmap",
    "plot_funnel",
    "plot_touch_response",
    "plot_trend",
    "plot_trends",
]
