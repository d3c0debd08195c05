"""The campaign ROI report's planning table: the control group the brand's typical campaign of
each channel needs to be judged (:func:`kpitools.roi.power.plan_by_channel`).

:func:`power_plan_html` renders the plan (template ``roi/power.html``, messages ``power.*``);
:func:`show_power_plan` computes and shows it in a notebook cell (one call).
"""

from __future__ import annotations

import math

import pandas as pd
from babel.numbers import format_percent
from markupsafe import Markup

from kpitools.data.sources import Database
from kpitools.params import BrandParams
from kpitools.roi import CampaignReport
from kpitools.roi.power import plan_by_channel

from ..formatting import babel_locale, format_value
from ..i18n import channel_name, locale_of, t
from ..tables import Html, heading_html
from ..templating import render
from .text import currency_of, money, significant

__all__ = ["power_plan_html", "show_power_plan"]

#: Above this audience (customers) a plan is not worth quoting: no realistic campaign has it.
REALISTIC_AUDIENCE = 10_000_000


def _count(v, loc: str) -> str:
    return (
        "–"
        if v is None or (isinstance(v, float) and math.isnan(v))
        else format_value(int(v), "count", loc)
    )


def power_plan_html(
    plan: pd.DataFrame,
    report: CampaignReport,
    locale: str | None = None,
    currency: str | None = None,
    *,
    power: float = 0.8,
) -> Markup:
    """The planning table and one sentence per channel ("to judge a campaign like X you need
    N controls", or why no control group within its audience suffices).

    Parameters
    ----------
    plan : pandas.DataFrame
        :func:`kpitools.roi.power.plan_by_channel` (columns
        :data:`~kpitools.roi.power.PLAN_COLUMNS`).
    report : CampaignReport
        For its locale, currency and ``alpha``.
    locale, currency : str, optional
        Override the report's.
    power : float, default 0.8
        The power the plan was made for (quoted in the introduction).
    """
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    rows = []
    for r in plan.itertuples(index=False):
        channel = channel_name(r.channel, loc)
        fields = {
            "channel": channel,
            "audience": _count(r.audience, loc),
            "break_even": money(r.break_even_lift, loc, cur),
            "had": _count(r.n_control_actual, loc),
        }
        if r.feasible:
            needed = f"{_count(r.n_control, loc)} ({format_value(r.control_share, 'ratio', loc)})"
            line = t(
                "power.line_feasible",
                loc,
                n_control=_count(r.n_control, loc),
                share=format_value(r.control_share, "ratio", loc),
                **fields,
            )
        else:
            needed = t("power.none", loc)
            huge = pd.isna(r.audience_needed) or r.audience_needed > REALISTIC_AUDIENCE
            line = t(
                "power.line_infeasible_huge" if huge else "power.line_infeasible",
                loc,
                smallest=money(r.smallest_detectable, loc, cur),
                audience_needed=_count(None if huge else r.audience_needed, loc),
                n_control_needed=_count(None if huge else r.n_control_needed, loc),
                **fields,
            )
        rows.append(
            {
                "channel": channel,
                "campaigns": _count(r.n_campaigns, loc),
                "audience": fields["audience"],
                "break_even": fields["break_even"],
                "baseline": f"{money(r.baseline_mean, loc, cur)} ({money(r.baseline_sd, loc, cur)})",
                "needed": needed,
                "had": fields["had"],
                "line": line,
            }
        )
    intro = ""
    if len(plan):
        intro = t(
            "power.intro",
            loc,
            margin_rate=format_value(float(plan["margin_rate"].iloc[0]), "ratio", loc),
            alpha=significant(report.alpha, loc, 3),
            power=format_percent(power, locale=babel_locale(loc)),
        )
    return render(
        "roi/power.html",
        heading=heading_html(t("power.title", loc)),
        intro=intro,
        rows=rows,
        locale=loc,
    )


def show_power_plan(db: Database, params: BrandParams, report: CampaignReport) -> Html:
    """Plan the control groups of the brand's typical campaigns and show the table (one
    notebook cell): :func:`~kpitools.roi.power.plan_by_channel`, then
    :func:`power_plan_html`."""
    return Html(power_plan_html(plan_by_channel(db, params, report), report))
