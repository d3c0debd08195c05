"""Figures of the customer-value report: CLV distribution, CLV by group, holdout check.

Every function takes a :class:`kpitools.clv.ClvReport` first and ``ax=None`` (a new figure
when None) and returns the Axes. Text follows the report's locale (or ``locale``) and is drawn
literally. A report whose models (or holdout check) could not be fitted gives a figure that
says why instead of a plot, so a notebook never needs a branch.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ..clv.results import ClvReport
from ..report.clv.text import (
    calibration_text,
    count,
    group_label,
    money,
    not_fitted_text,
)
from ..report.formatting import format_date, format_money_whole, format_value
from ..report.i18n import locale_of, t
from .style import literal, plain_text

__all__ = ["plot_calibration", "plot_clv_by", "plot_clv_distribution"]

COLORS = {"bar": "#4a6fa5", "mark": "#1f3b63", "expected": "#d97706", "muted": "#6b7280"}


def _money_tick(report: ClvReport, value: float, locale: str) -> str:
    """An axis tick in the report's currency, without cents (``£1,200``, ``1 200 €``)."""
    if abs(value) >= 100_000:
        return format_value(value / 1000, "number", locale) + "k"
    return format_money_whole(value, locale, report.currency)


def _money_formatter(report: ClvReport, locale: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: literal(_money_tick(report, v, locale)))


def _ratio_formatter(locale: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: format_value(v, "ratio", locale))


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _message_axes(ax: Axes | None, text: str) -> Axes:
    """An empty figure that says why there is nothing to plot."""
    ax = _axes(ax, (6.5, 1.2))
    ax.text(
        0.5,
        0.5,
        literal(text),
        ha="center",
        va="center",
        wrap=True,
        color=COLORS["muted"],
        fontsize=9,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    sns.despine(ax=ax, left=True, bottom=True)
    return ax


def _is_skewed(values: np.ndarray) -> bool:
    """Right-skewed enough for a log axis: positive values spanning 3 decades or more, with
    the mean above the median by more than half a median."""
    pos = values[values > 0]
    if pos.size < 10:
        return False
    lo, med, hi = np.quantile(pos, [0.01, 0.5, 0.99])
    return bool(hi / max(lo, 1e-12) > 1000 and pos.mean() > 1.5 * med)


@plain_text
def plot_clv_distribution(
    report: ClvReport,
    ax: Axes | None = None,
    *,
    locale: str | None = None,
    kind: str = "hist",
    log: bool | None = None,
) -> Axes:
    """Distribution of CLV across customers, with the mean and the median marked.

    Parameters
    ----------
    report : ClvReport
        Needs ``customers["clv"]`` (currency units).
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: the report's locale.
    kind : {"hist", "ecdf"}
        Histogram (share of customers per bin) or empirical cumulative distribution.
    log : bool, optional
        Log axis for CLV; default: when the distribution is strongly right-skewed.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(report, locale)
    if not report.ok:
        return _message_axes(ax, not_fitted_text(report, loc))
    ax = _axes(ax, (7, 3.0))
    values = report.customers["clv"].to_numpy(dtype="float64")
    values = values[np.isfinite(values)]
    log = _is_skewed(values) if log is None else bool(log)
    shown = values[values > 0] if log else values
    if kind == "ecdf":
        sns.ecdfplot(x=shown, ax=ax, color=COLORS["bar"], log_scale=log)
    else:
        sns.histplot(
            x=shown,
            bins=40,
            stat="proportion",
            ax=ax,
            color=COLORS["bar"],
            log_scale=log,
            alpha=0.85,
        )
    ax.set_ylabel(literal(t("clv.share_customers", loc)))
    ax.yaxis.set_major_formatter(_ratio_formatter(loc))
    for value, key, style in (
        (float(np.mean(values)), "mean", "-"),
        (float(np.median(values)), "median", "--"),
    ):
        if log and not value > 0:
            continue
        ax.axvline(
            value,
            color=COLORS["mark"],
            linestyle=style,
            linewidth=1.2,
            label=literal(f"{t(f'clv.{key}', loc)} {money(report, value, loc)}"),
        )
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    xlabel = t("clv.clv_axis", loc, horizon=count(report, report.horizon_months, loc))
    ax.set_xlabel(literal(xlabel + (f" ({t('clv.log_scale', loc)})" if log else "")))
    if not log:
        ax.xaxis.set_major_formatter(_money_formatter(report, loc))
    ax.set_title(literal(t("clv.distribution", loc)), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax


@plain_text
def plot_clv_by(
    report: ClvReport,
    ax: Axes | None = None,
    *,
    by: str = "segment",
    locale: str | None = None,
) -> Axes:
    """Mean CLV per segment or product line (horizontal bars), with the number of customers.

    Parameters
    ----------
    report : ClvReport
        Needs ``by_segment`` / ``by_product_line`` (``mean_clv``, ``n_customers``).
    ax : matplotlib Axes, optional
    by : {"segment", "product_line"}
    locale : str, optional
        Default: the report's locale.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(report, locale)
    if not report.ok:
        return _message_axes(ax, not_fitted_text(report, loc))
    table = report.by(by)
    labels = [literal(group_label(g, by, loc)) for g in table.index]
    ax = _axes(ax, (7, 0.45 * len(labels) + 1.0))
    sns.barplot(x=table["mean_clv"].to_numpy(), y=labels, ax=ax, color=COLORS["bar"], orient="h")
    top = float(np.nanmax(table["mean_clv"].to_numpy())) if len(table) else 0.0
    for i, (value, n) in enumerate(zip(table["mean_clv"], table["n_customers"], strict=True)):
        if not math.isfinite(value):
            continue
        bar = t("clv.n_customers_bar", loc, n=count(report, n, loc))
        ax.text(
            value + 0.01 * top,
            i,
            literal(f" {money(report, value, loc)} · {bar}"),
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, top * 1.45 if top > 0 else 1)
    ax.xaxis.set_major_formatter(_money_formatter(report, loc))
    ax.set_xlabel(literal(t("clv.mean_clv", loc)))
    ax.set_ylabel("")
    ax.set_title(literal(t(f"clv.by_{by}", loc)), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax


@plain_text
def plot_calibration(
    report: ClvReport, ax: Axes | None = None, *, locale: str | None = None
) -> Axes:
    """Predicted vs actual mean repeat purchases in the holdout, by calibration frequency.

    Parameters
    ----------
    report : ClvReport
        Needs ``calibration`` (:func:`kpitools.clv.calibration_table`).
    ax : matplotlib Axes, optional
    locale : str, optional
        Default: the report's locale.

    Returns
    -------
    matplotlib.axes.Axes
    """
    loc = locale_of(report, locale)
    if report.calibration_status != "ok" or report.calibration is None:
        return _message_axes(ax, calibration_text(report, loc))
    table = report.calibration
    ax = _axes(ax, (7, 3.0))
    x = np.arange(len(table))
    ax.plot(
        x, table["actual"], marker="o", color=COLORS["mark"], label=literal(t("clv.actual", loc))
    )
    ax.plot(
        x,
        table["expected"],
        marker="s",
        linestyle="--",
        color=COLORS["expected"],
        label=literal(t("clv.expected", loc)),
    )
    ax.set_xticks(x)
    ax.set_xticklabels(list(table.index))
    date = format_date(report.calibration_end, loc)
    ax.set_xlabel(literal(t("clv.calibration_x", loc, date=date)))
    ax.set_ylabel(
        literal(t("clv.calibration_y", loc, months=count(report, report.calibration_months, loc))),
        fontsize=8,
    )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_value(v, "number", loc)))
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(literal(t("clv.calibration", loc)), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax
