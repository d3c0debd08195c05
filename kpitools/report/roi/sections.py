"""Blocks of the campaign ROI report around its tables: header, programme summary, method."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from kpitools.params import BrandParams
from kpitools.roi import CampaignReport
from kpitools.roi.estimators import RI_MAX_CONTROL
from kpitools.roi.inference import RI_DRAWS
from kpitools.vocab import Verdict

from ..formatting import format_date, format_value, period_title
from ..i18n import locale_of, t
from ..templating import render
from .tables import campaigns_table_html, guardrails_html
from .text import (
    INTERVAL_KINDS,
    advice_lines,
    confidence_level,
    currency_of,
    interval,
    interval_kind,
    method_name,
    money0,
    pct,
    verdict_rule_text,
)

__all__ = ["method_html", "report_html", "roi_header_html", "roi_summary_html"]


def roi_header_html(
    report: CampaignReport, params: BrandParams | None = None, *, locale: str | None = None
) -> Markup:
    """Title block: brand, title, period and the window of campaign starts."""
    loc = locale_of(report, locale)
    name = params.display_name if params is not None else report.name
    if report.window is not None:
        start, end = report.window
        last = end - dt.timedelta(days=1)
        subtitle = t("roi.window", loc, start=format_date(start, loc), end=format_date(last, loc))
    else:
        subtitle = t("roi.selected", loc)
    period = period_title(report.period, loc) if report.period is not None else ""
    return render("roi/header.html", name=name, period=period, subtitle=subtitle, locale=loc)


def roi_summary_html(
    report: CampaignReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """Programme summary: cost, incremental margin, ROI with interval, and a plain sentence.

    The KPI report's ROI headline is this block, of a report computed once.
    """
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    prog = report.programme
    counts = report.verdict_counts
    count_line = t(
        "roi.verdict_counts",
        loc,
        profitable=counts[Verdict.PROFITABLE],
        not_profitable=counts[Verdict.NOT_PROFITABLE],
        inconclusive=counts[Verdict.INCONCLUSIVE],
    )
    if counts[Verdict.NOT_MEASURED]:
        count_line += t("roi.not_measured_count", loc, n=counts[Verdict.NOT_MEASURED])
    n_campaigns = format_value(len(report.campaigns), "count", loc)
    if prog is None:
        tiles = [
            (t("roi.programme_cost", loc), money0(report.total_cost, loc, cur), ""),
            (t("roi.campaigns", loc), n_campaigns, count_line),
        ]
        sentence = t("roi.summary_none", loc)
    else:
        margin_ci = interval(
            money0(prog.margin_ci_low, loc, cur), money0(prog.margin_ci_high, loc, cur), loc
        )
        roi_ci = interval(pct(prog.roi_ci_low, loc), pct(prog.roi_ci_high, loc), loc)
        tiles = [
            (t("roi.programme_cost", loc), money0(prog.cost, loc, cur), ""),
            (
                t("roi.incremental_margin", loc),
                money0(prog.incremental_margin, loc, cur),
                margin_ci,
            ),
            (
                # the headline: say that it carries every campaign's cost when some are unmeasured
                t("roi.roi_all_costs" if report.unmeasured_cost > 0 else "roi.roi", loc),
                pct(prog.roi, loc),
                roi_ci,
            ),
        ]
        measured = report.programme_measured
        if measured is not None and report.unmeasured_cost > 0:
            tiles.append(
                (
                    t("roi.roi_measured_only", loc),
                    pct(measured.roi, loc),
                    interval(pct(measured.roi_ci_low, loc), pct(measured.roi_ci_high, loc), loc),
                )
            )
        tiles.append((t("roi.campaigns", loc), n_campaigns, count_line))
        # with campaigns left unmeasured the cost is of all of them, the margin of the measured
        partial = len(report.measured) < len(report.campaigns)
        sentence = (
            t(
                "roi.summary_sentence_partial" if partial else "roi.summary_sentence",
                loc,
                n=format_value(len(report.measured), "count", loc),
                total=format_value(len(report.campaigns), "count", loc),
                margin=money0(prog.incremental_margin, loc, cur),
                margin_lo=money0(prog.margin_ci_low, loc, cur),
                margin_hi=money0(prog.margin_ci_high, loc, cur),
                cost=money0(prog.cost, loc, cur),
                roi=pct(prog.roi, loc),
                roi_lo=pct(prog.roi_ci_low, loc),
                roi_hi=pct(prog.roi_ci_high, loc),
                level=confidence_level(report, loc),
            )
            + " "
            + t(f"roi.summary_{prog.verdict}", loc)
        )
        measured = report.programme_measured
        if measured is not None and report.unmeasured_cost > 0:
            sentence += " " + t(
                "roi.summary_headline_one"
                if len(report.unmeasured) == 1
                else "roi.summary_headline",
                loc,
                total=format_value(len(report.campaigns), "count", loc),
                cost=money0(prog.cost, loc, cur),
                unmeasured_cost=money0(report.unmeasured_cost, loc, cur),
                n_unmeasured=format_value(len(report.unmeasured), "count", loc),
                measured_cost=money0(measured.cost, loc, cur),
                roi=pct(measured.roi, loc),
                lo=pct(measured.roi_ci_low, loc),
                hi=pct(measured.roi_ci_high, loc),
                level=confidence_level(report, loc),
            )
    rule = [verdict_rule_text(report, loc)] if report.measured else []
    # what to make of the campaigns (broken splits, advice, the verdicts' rule): a paragraph
    # of its own after the programme's figures
    notes = " ".join([*srm_lines(report, loc), *advice_lines(report, loc), *rule])
    return render(
        "roi/summary.html",
        tiles=tiles,
        sentence=sentence,
        notes=notes,
        days=report.settings.get("attribution_days", 30),
        locale=loc,
    )


def method_html(report: CampaignReport, locale: str | None = None) -> Markup:
    """How the figures were computed, in the report's language."""
    loc = locale_of(report, locale)
    s = report.settings
    text = t(
        "roi.method_text",
        loc,
        days=s.get("attribution_days"),
        pre=s.get("pre_period_days"),
        lapse=s.get("lapse_days"),
        method=method_name(str(s.get("method")), loc),
        cov=s.get("cov_type"),
        level=confidence_level(report, loc),
    )
    return render("roi/method.html", text=text + " " + intervals_text(report, loc))


def intervals_text(report: CampaignReport, loc: str) -> str:
    """Which interval each campaign got, counted by kind (randomisation, Student t, none), and
    the rule for too few controls to judge (message ``roi.method_intervals``)."""
    kinds = [interval_kind(c) for c in report.campaigns]
    total = format_value(len(report.campaigns), "count", loc)
    parts = [
        t(
            f"roi.method_interval.{kind}",
            loc,
            n=format_value(kinds.count(kind), "count", loc),
            total=total,
            max=format_value(RI_MAX_CONTROL, "count", loc),
            draws=format_value(RI_DRAWS, "count", loc),
        )
        for kind in INTERVAL_KINDS
        if kind in kinds
    ]
    return t(
        "roi.method_intervals",
        loc,
        kinds="; ".join(parts) if parts else "–",
        min=format_value(int(report.settings.get("min_control_judge") or 0), "count", loc),
    )


def srm_lines(report: CampaignReport, loc: str) -> list[str]:
    """One sentence naming the campaigns whose split is not the one planned (message
    ``roi.summary_srm``); empty when every split passed its check."""
    names = [c.name for c in report.campaigns if c.srm is not None and c.srm.mismatch]
    return [t("roi.summary_srm", loc, names=", ".join(names))] if names else []


def report_html(report: CampaignReport) -> Markup:
    """Summary, campaign table, guardrails and method: the rich display of a CampaignReport."""
    return render(
        "roi/report.html",
        summary=roi_summary_html(report),
        campaigns=campaigns_table_html(report),
        guardrails=guardrails_html(report),
        method=method_html(report),
    )
