"""The CLV section's HTML blocks (templates under ``templates/clv/``) and notebook wrappers.

Each ``*_html(report)`` takes a :class:`kpitools.clv.ClvReport` and returns escaped HTML
(:class:`markupsafe.Markup`) in the report's locale; each ``show_*`` wraps it for a notebook
cell (:class:`kpitools.report.tables.Html`). Nothing here runs a query: the report is computed
once by :func:`kpitools.clv.analyse_clv`. A report whose models could not be fitted shows the
plain-language reason in every block, so a notebook never needs a branch.
"""

from __future__ import annotations

from markupsafe import Markup

from kpitools.clv.results import ClvReport
from kpitools.params import BrandParams

from ..formatting import format_date
from ..i18n import t
from ..tables import Html, header_html
from ..templating import render
from .text import calibration_text as _calibration_text
from .text import (
    churn_sentence,
    count,
    group_label,
    money,
    not_fitted_text,
    pct,
    simple_sentence,
)

__all__ = [
    "at_risk_html",
    "calibration_html",
    "clv_by_html",
    "clv_intro_html",
    "clv_summary_html",
    "not_fitted_html",
    "show_at_risk",
    "show_calibration",
    "show_clv_by",
    "show_clv_header",
    "show_clv_intro",
    "show_clv_section",
    "show_clv_summary",
]

_BY_COLUMNS = ("customers", "mean_clv", "median_clv", "total_clv", "share_of_clv")
_AT_RISK_COLUMNS = (
    "customer",
    "clv",
    "probability_alive",
    "last_purchase",
    "frequency",
    "value_if_retained",
)


def not_fitted_html(report: ClvReport) -> Markup:
    """The plain-language reason why the models could not be fitted."""
    return render("clv/paragraph.html", text=not_fitted_text(report), cls="clv-message")


def clv_intro_html(report: ClvReport) -> Markup:
    """A short explanation of CLV and of how it was estimated, in the report's language."""
    loc = report.locale
    intro = t(
        "clv.intro",
        loc,
        horizon=count(report, report.horizon_months),
        discount=pct(report, report.discount_rate_annual),
    )
    method = None
    if report.ok:
        method = t(
            "clv.method",
            loc,
            customers=count(report, report.n_customers),
            date=format_date(report.observation_end, loc),
            margin=pct(report, report.margin_rate),
        )
    return render("clv/intro.html", intro=intro, method=method)


def _tile(name: str, value: str, sub: str | None = None) -> dict[str, str | None]:
    return {"name": name, "value": value, "sub": sub}


def clv_summary_html(report: ClvReport) -> Markup:
    """Headline tiles (mean and median CLV, expected margin of the next 12 months, value of a
    new customer, simple formula, customers at risk) and the comparison with the simple
    formula; the reason instead when the models could not be fitted."""
    loc = report.locale
    if not report.ok:
        return render("clv/summary.html", not_fitted=not_fitted_text(report))
    threshold = pct(report, report.alive_threshold)
    tiles = [
        _tile(t("clv.mean_clv", loc), money(report, report.mean_clv)),
        _tile(t("clv.median_clv", loc), money(report, report.median_clv)),
        _tile(
            t("clv.expected_margin_12m", loc),
            money(report, report.expected_margin_12m),
            t("clv.all_customers", loc),
        ),
        _tile(
            t("clv.new_customer_clv", loc),
            money(report, report.new_customer_clv),
            t("clv.beyond_first_order", loc),
        ),
        _tile(t("clv.simple_clv", loc), money(report, report.simple.clv)),
        _tile(
            t("clv.at_risk_tile", loc),
            count(report, len(report.at_risk_all)),
            t("clv.at_risk_sub", loc, threshold=threshold),
        ),
    ]
    return render(
        "clv/summary.html",
        not_fitted=None,
        tiles=tiles,
        sentence=simple_sentence(report),
        churn=churn_sentence(report),
    )


def clv_by_html(report: ClvReport, by: str = "segment") -> Markup:
    """CLV by ``segment`` or ``product_line``: customers, mean, median and total CLV, share."""
    loc = report.locale
    if not report.ok:
        return render("clv/by.html", not_fitted=not_fitted_text(report))
    rows = [
        {
            "label": group_label(group, by, loc),
            "cells": [
                count(report, row["n_customers"]),
                money(report, row["mean_clv"]),
                money(report, row["median_clv"]),
                money(report, row["total_clv"]),
                pct(report, row["share_of_clv"]),
            ],
        }
        for group, row in report.by(by).iterrows()
    ]
    return render(
        "clv/by.html",
        not_fitted=None,
        group=t("clv.group", loc),
        columns=[t(f"clv.{k}", loc) for k in _BY_COLUMNS],
        rows=rows,
        note=t("clv.by_segment_note", loc) if by == "segment" else None,
    )


def at_risk_html(report: ClvReport) -> Markup:
    """The retention team's short list: customer, CLV, probability active, last purchase,
    repeat purchases and value if retained, by decreasing CLV."""
    loc = report.locale
    if not report.ok:
        return render("clv/at_risk.html", not_fitted=not_fitted_text(report))
    threshold = pct(report, report.alive_threshold)
    if report.at_risk.empty:
        none = t("clv.at_risk_none", loc, threshold=threshold)
        return render("clv/at_risk.html", not_fitted=None, none=none)
    everyone = report.at_risk_all
    intro = t(
        "clv.at_risk_intro",
        loc,
        n=count(report, len(report.at_risk)),
        threshold=threshold,
        count=count(report, len(everyone)),
        value=money(report, everyone["clv"].sum()),
    )
    rows = [
        {
            "customer": str(cid),
            "clv": money(report, row["clv"]),
            "probability_alive": pct(report, row["probability_alive"]),
            "last_purchase": format_date(row["last_purchase"].date(), loc),
            "frequency": count(report, row["frequency"]),
            "value_if_retained": money(report, row["value_if_retained"]),
        }
        for cid, row in report.at_risk.iterrows()
    ]
    return render(
        "clv/at_risk.html",
        not_fitted=None,
        none=None,
        intro=intro,
        columns=[t(f"clv.{k}", loc) for k in _AT_RISK_COLUMNS],
        rows=rows,
    )


def calibration_html(report: ClvReport) -> Markup:
    """One paragraph: the holdout forecast against what happened, and what it means."""
    return render("clv/paragraph.html", text=_calibration_text(report), cls=None)


# --------------------------------------------------------------------------------------
# notebook wrappers
# --------------------------------------------------------------------------------------


def show_clv_header(params: BrandParams, report: ClvReport, *, title: str | None = None) -> Html:
    """Brand, the CLV title and the period (the KPI report's header block)."""
    return Html(header_html(params, report, title=title or t("clv.title", params.locale)))


def show_clv_section(key: str, locale: str = "en") -> Html:
    """A section heading: the ``clv.<key>`` message (e.g. ``"at_risk"``, ``"calibration"``)."""
    return Html(render("clv/heading.html", level=2, text=t(f"clv.{key}", locale)))


def show_clv_intro(report: ClvReport) -> Html:
    """:func:`clv_intro_html` for a notebook cell."""
    return Html(clv_intro_html(report))


def show_clv_summary(report: ClvReport) -> Html:
    """:func:`clv_summary_html` for a notebook cell."""
    return Html(clv_summary_html(report))


def show_clv_by(report: ClvReport, by: str = "segment") -> Html:
    """Heading and table of CLV by ``segment`` or ``product_line``."""
    heading = render("clv/heading.html", level=3, text=t(f"clv.by_{by}", report.locale))
    return Html(heading + clv_by_html(report, by))


def show_at_risk(report: ClvReport) -> Html:
    """:func:`at_risk_html` for a notebook cell."""
    return Html(at_risk_html(report))


def show_calibration(report: ClvReport) -> Html:
    """:func:`calibration_html` for a notebook cell."""
    return Html(calibration_html(report))
