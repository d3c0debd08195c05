"""Seaborn figures of a report.

Single-axes functions take ``ax=None`` and return the Axes; multi-panel functions return the
Figure. Axis labels and tick numbers follow the report's locale.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

from .report.formatting import format_value
from .report.i18n import kpi_name

PALETTE = {"line": "#4a6fa5", "current": "#1f3b63", "grid": "#e5e8ef"}


def _axis_formatter(unit: str, locale: str, currency: str) -> FuncFormatter:
    def fmt(v, _pos):
        if unit == "currency" and abs(v) >= 10_000:
            return format_value(v / 1000, "number", locale) + "k"
        return format_value(v, unit if unit != "count" else "number", locale, currency)

    return FuncFormatter(fmt)


def plot_trend(scorecard, kpi_id: str, *, ax=None):
    """Line of one KPI over the last 12 periods, the report's period highlighted.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpi_id : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
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
    ax.set_title(kpi_name(r.kpi.id, scorecard.locale), fontsize=10, loc="left")
    if df["value"].notna().sum() == 0:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([])
        ax.set_yticks([])
        sns.despine(ax=ax, left=True, bottom=True)
        return ax
    sns.lineplot(data=df, x="period", y="value", marker="o", color=PALETTE["line"], ax=ax)
    last = df.dropna().iloc[-1]
    ax.scatter([last["period"]], [last["value"]], s=50, color=PALETTE["current"], zorder=3)
    ax.yaxis.set_major_formatter(_axis_formatter(r.kpi.unit, scorecard.locale, scorecard.currency))
    ticks = df["period"].iloc[::3]
    ax.set_xticks(ticks)
    ax.set_xticklabels(df["label"].iloc[::3], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.grid(axis="y", color=PALETTE["grid"])
    sns.despine(ax=ax)
    return ax


def plot_trends(scorecard, kpis=None, *, ncols: int = 3):
    """Small multiples of the 12-period trend of several KPIs.

    Parameters
    ----------
    scorecard : kpitools.kpis.Scorecard
    kpis : list of str, optional
        Default: every KPI of the scorecard with data.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ids = [k for k in kpis if k in scorecard.results] if kpis else None
    ids = ids or [r.id for r in scorecard if r.status == "ok"]
    n = max(len(ids), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.5 * nrows), squeeze=False)
    for ax, kid in zip(axes.flat, ids, strict=False):
        plot_trend(scorecard, kid, ax=ax)
    for ax in list(axes.flat)[len(ids) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_cohort_heatmap(cohorts, *, ax=None):
    """Heatmap of cohort retention: rows are acquisition periods, columns periods since.

    Parameters
    ----------
    cohorts : kpitools.kpis.cohorts.CohortRetention
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .report.formatting import TEXT

    rates = cohorts.rates
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.32 * max(len(rates), 4) + 1.2))
    if rates.empty or rates.notna().sum().sum() == 0:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    loc = cohorts.locale
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
    ax.set_ylabel(TEXT["cohort"].get(loc, "Cohort"), fontsize=8)
    ax.set_xlabel(TEXT["periods_since"].get(loc, "Periods since first order"), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.grid(False)
    return ax


FUNNEL_STEPS = ("sent", "delivered", "opened", "clicked", "purchased")


def plot_funnel(funnel, *, ax=None, locale: str = "en"):
    """Share of contacted members reaching each funnel step, bars grouped by channel.

    The last bar, "ordered in the outcome window", counts any order of a contacted member in
    the campaign's outcome window (clicked or not): it is not the click's conversion.

    Parameters
    ----------
    funnel : pandas.DataFrame
        :func:`kpitools.kpis.funnel.compute_funnel` with ``by="channel"``.
    ax : matplotlib Axes, optional
    locale : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .report.formatting import TEXT
    from .report.roi import channel_name

    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.2))
    if funnel is None or len(funnel) == 0:
        ax.text(
            0.5,
            0.5,
            TEXT["no_campaign"].get(locale, "no campaign"),
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="grey",
        )
        ax.set_axis_off()
        return ax
    rows = []
    for _, r in funnel.iterrows():
        sent = r["sent"]
        for step in FUNNEL_STEPS:
            share = r[step] / sent if sent else float("nan")
            label = TEXT[f"step_{step}"].get(locale, step)
            rows.append(
                {"channel": channel_name(r["channel"], locale), "step": label, "share": share}
            )
    df = pd.DataFrame(rows)
    sns.barplot(data=df, y="step", x="share", hue="channel", ax=ax, orient="h", palette="Blues_d")
    ax.xaxis.set_major_formatter(_axis_formatter("ratio", locale, "EUR"))
    ax.set_xlim(0, 1.0)
    ax.set_ylabel("")
    ax.set_xlabel(TEXT["share_of_sent"].get(locale, "share of contacted"), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, title=None, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    sns.despine(ax=ax)
    return ax


def plot_touch_response(touch, *, ax=None, locale: str = "en"):
    """Response rate by touch number, with the touch after which leads stop answering.

    Parameters
    ----------
    touch : kpitools.kpis.curves.TouchResponse
    ax : matplotlib Axes, optional
    locale : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .report.formatting import TEXT

    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.0))
    df = touch.frame
    if df.empty:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_axis_off()
        return ax
    sns.barplot(data=df, x="touch_number", y="response_rate", color=PALETTE["line"], ax=ax)
    ax.yaxis.set_major_formatter(_axis_formatter("ratio", locale, "EUR"))
    stop = touch.last_useful_touch()
    if stop is not None and stop < len(df):
        ax.axvline(stop - 0.5, color="#b91c1c", linestyle="--", linewidth=1)
        ax.text(
            stop - 0.4,
            ax.get_ylim()[1] * 0.92,
            TEXT["stop_after"].get(locale, "stop after touch {n}").format(n=stop),
            color="#b91c1c",
            fontsize=8,
        )
    ax.set_xlabel(TEXT["touch_number"].get(locale, "touch number"), fontsize=8)
    ax.set_ylabel(TEXT["response_rate"].get(locale, "response rate"), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color=PALETTE["grid"])
    sns.despine(ax=ax)
    return ax
