"""HTML tables of the campaign ROI report (templates ``roi/*.html``, autoescaped).

Each function formats the figures of a result object for the report's locale and currency
(:mod:`.text`) and renders one template; it returns :class:`markupsafe.Markup`.
"""

from __future__ import annotations

from markupsafe import Markup

from kpitools.roi import CampaignReport, LiftResult, RoiResult, SegmentInteractionResult

from ..formatting import format_change, format_date, format_value
from ..i18n import channel_name, locale_of, t
from ..templating import render
from .text import (
    blocking_reason,
    confidence_level,
    currency_of,
    group_name,
    interval_kind,
    interval_separator,
    issue_text,
    lift_caption,
    lift_quantity,
    lift_unit,
    money,
    money0,
    not_measured_text,
    notes_text,
    p_value,
    pct,
    roi_result_caption,
    segment_caption,
    segment_test_text,
    short_issues,
    significant,
    verdict_rule_text,
)

__all__ = [
    "campaigns_table_html",
    "groups_html",
    "guardrails_html",
    "lift_html",
    "roi_result_html",
    "segment_interaction_html",
    "verdicts_html",
]

_NONE = ("–", None, None)


def _groups(n_treated, n_control, loc: str) -> str:
    return f"{format_value(n_treated, 'count', loc)} / {format_value(n_control, 'count', loc)}"


def campaigns_table_html(
    report: CampaignReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """One row per campaign: channel, group sizes, lift, margin, cost, ROI, verdict, warnings.

    Lift = revenue lift per targeted customer; incremental margin and ROI come from the
    margin lift. Intervals at the report's confidence level under each figure.
    """
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    rows = []
    for c in report.campaigns:
        rl, roi = c.revenue_lift, c.roi
        lift = (
            (money(rl.effect, loc, cur), money(rl.ci_low, loc, cur), money(rl.ci_high, loc, cur))
            if rl is not None
            else _NONE
        )
        margin: tuple[str, str | None, str | None]
        roi_cell: tuple[str, str | None, str | None]
        if roi is not None:
            margin = (
                money0(roi.incremental_margin, loc, cur),
                money0(roi.margin_ci_low, loc, cur),
                money0(roi.margin_ci_high, loc, cur),
            )
            roi_cell = (pct(roi.roi, loc), pct(roi.roi_ci_low, loc), pct(roi.roi_ci_high, loc))
        else:
            margin = roi_cell = _NONE
        rows.append(
            {
                "name": c.name,
                "date": format_date(c.starts_at, loc),
                "channel": channel_name(c.channel, loc),
                "groups": _groups(c.n_treated, c.n_control, loc),
                "lift": lift,
                "margin": margin,
                "cost": money0(c.cost, loc, cur),
                "roi": roi_cell,
                "verdict": c.verdict,
                "warnings": short_issues(c, loc),
            }
        )
    return render(
        "roi/campaigns.html",
        rows=rows,
        locale=loc,
        level=confidence_level(report, loc),
        sep=interval_separator(loc),
    )


def groups_html(
    report: CampaignReport,
    by: str = "segment",
    locale: str | None = None,
    currency: str | None = None,
) -> Markup:
    """ROI by segment or channel: a table of group lifts and ROI, and the interaction verdict."""
    if by not in ("segment", "channel", "product_line"):
        raise ValueError(f"by must be 'segment', 'channel' or 'product_line', not {by!r}")
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    summary = {
        "segment": report.by_segment,
        "channel": report.by_channel,
        "product_line": report.by_product_line,
    }[by]
    title = t(f"roi.by_{by}", loc)
    if summary is None or summary.table.empty:
        return render("roi/groups.html", title=title, rows=[], locale=loc, by=by)
    rows = [
        {
            "name": group_name(by, str(g), loc),
            "n_campaigns": format_value(r["n_campaigns"], "count", loc),
            "groups": _groups(r["n_treated"], r["n_control"], loc),
            "lift": (
                money(r["revenue_lift"], loc, cur),
                money(r["revenue_lift_ci_low"], loc, cur),
                money(r["revenue_lift_ci_high"], loc, cur),
            ),
            "margin": (
                money0(r["incremental_margin"], loc, cur),
                money0(r["margin_ci_low"], loc, cur),
                money0(r["margin_ci_high"], loc, cur),
            ),
            "cost": money0(r["cost"], loc, cur),
            "roi": (pct(r["roi"], loc), pct(r["roi_ci_low"], loc), pct(r["roi_ci_high"], loc)),
            "verdict": r["verdict"],
        }
        for g, r in summary.table.iterrows()
    ]
    test = summary.test
    if test is None:
        verdict_line = t("roi.test_none", loc)
    else:
        key = "roi.test_differs" if test.differs else "roi.test_same"
        verdict_line = t(key, loc, by=t(f"roi.{by}_word", loc), p=p_value(test.p_value, loc))
    notes = [issue_text(i, loc, cur) for i in summary.issues if i.code != "single_group"]
    skipped = not_measured_text(summary, loc, cur)
    if skipped:
        notes.append(skipped)
    if by == "channel":
        notes.append(t("roi.channel_caveat", loc))
    return render(
        "roi/groups.html",
        title=title,
        rows=rows,
        by=by,
        verdict_line=verdict_line,
        notes=notes,
        locale=loc,
        level=confidence_level(report, loc),
        sep=interval_separator(loc),
    )


def _kind_label(campaign, loc: str) -> str:
    """The campaign's interval kind in ``loc`` (``randomisation``, ``Student t``, …), or ``–``."""
    kind = interval_kind(campaign)
    return "–" if kind is None else t(f"roi.interval_kind.{kind}", loc)


def guardrails_html(
    report: CampaignReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """Control groups per campaign (size, split check, detectable lift), then every warning."""
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    rows, lists = [], []
    for c in report.campaigns:
        total = c.n_treated + c.n_control
        share = format_value(c.n_control / total, "ratio", loc) if total else "–"
        planned = (
            format_value(c.planned_control_share, "ratio", loc)
            if c.planned_control_share is not None
            else "–"
        )
        req = c.required_control
        if req is None:
            needed = "–"
        elif req.feasible and req.n_control > c.n_members:
            # exists, but more than the campaign's audience: not advice (language-neutral)
            needed = (
                f"{format_value(req.n_control, 'count', loc)} > "
                f"{format_value(c.n_members, 'count', loc)}"
            )
        elif req.feasible:
            needed = format_value(req.n_control, "count", loc)
        else:
            needed = t("power.none", loc)
        rows.append(
            {
                "name": c.name,
                "groups": _groups(c.n_treated, c.n_control, loc),
                "share": f"{share} ({planned})",
                "srm_p": p_value(c.srm.p_value, loc) if c.srm is not None else "–",
                "mde": money(c.mde_margin, loc, cur),
                "break_even": money(c.break_even_margin, loc, cur),
                "needed": needed,
                "interval": _kind_label(c, loc),
            }
        )
        items = [
            (issue_text(i, loc, cur), i.severity)
            for i in sorted(c.issues, key=lambda i: i.severity != "warning")
        ]
        if items:
            lists.append((c.name, items))
    programme = [(issue_text(i, loc, cur), i.severity) for i in report.issues]
    if programme:
        lists.insert(0, (t("roi.programme_issues", loc), programme))
    return render("roi/guardrails.html", rows=rows, lists=lists, locale=loc)


def verdicts_html(
    report: CampaignReport, locale: str | None = None, currency: str | None = None
) -> Markup:
    """One plain-language sentence per campaign."""
    loc, cur = locale_of(report, locale), currency_of(report, currency)
    level = confidence_level(report, loc)
    items = []
    for c in report.campaigns:
        v = c.verdict
        if c.roi is not None and c.adjusted is not None and c.adjusted.changed:
            line = t(
                "roi.verdict_line_adjusted",
                loc,
                m=format_value(c.adjusted.m, "count", loc),
                roi=pct(c.roi.roi, loc),
                lo=pct(c.roi.roi_ci_low, loc),
                hi=pct(c.roi.roi_ci_high, loc),
                level=level,
            )
        elif c.roi is not None:
            line = t(
                f"roi.verdict_line_{v}",
                loc,
                roi=pct(c.roi.roi, loc),
                lo=pct(c.roi.roi_ci_low, loc),
                hi=pct(c.roi.roi_ci_high, loc),
                level=level,
            )
        else:
            line = t("roi.verdict_line_not measured", loc, reason=blocking_reason(c, loc, cur))
        cl = c.conversion_lift
        # too few controls to judge: no interval, so no conversion figure either
        if cl is not None and not cl.too_few_controls:
            line += " " + t(
                "roi.conversion_line",
                loc,
                pp=format_change(100 * cl.effect, "points", loc),
                lo=format_change(100 * cl.ci_low, "points", loc),
                hi=format_change(100 * cl.ci_high, "points", loc),
            )
        if c.srm is not None and c.srm.mismatch:
            p = p_value(c.srm.p_value, loc)
            line += " " + t("roi.verdict_srm", loc, p=p if p.startswith("<") else f"= {p}")
        items.append({"verdict": v, "name": c.name, "line": line, "provisional": c.provisional})
    rule = verdict_rule_text(report, loc) if report.measured else ""
    return render("roi/verdicts.html", items=items, rule=rule, locale=loc)


# --------------------------------------------------------------------------------------
# Result objects of kpitools.roi (notebook display)
# --------------------------------------------------------------------------------------


def _cell(v, loc: str) -> str:
    return significant(v, loc) if isinstance(v, int | float) else str(v)


def lift_html(result: LiftResult, locale: str = "en") -> Markup:
    """A :class:`~kpitools.roi.LiftResult` as a small table (one quantity per row), with its
    caption and notes in ``locale``."""
    frame = result.to_frame()
    rows = [
        (
            lift_quantity(str(code), result, locale),
            [_cell(r["value"], locale), lift_unit(r["unit"], locale)],
        )
        for code, r in frame.iterrows()
    ]
    return render(
        "roi/table.html",
        caption=lift_caption(result, locale),
        css_class="kpitools-lift",
        index_name=t("roi.lift_column.quantity", locale),
        columns=[t("roi.lift_column.value", locale), t("roi.lift_column.unit", locale)],
        rows=rows,
        notes=notes_text(result, locale),
        footer="",
    )


def roi_result_html(result: RoiResult, locale: str = "en") -> Markup:
    """A :class:`~kpitools.roi.RoiResult`: one row per campaign and the programme total
    (money in currency units, ROI in percent), with its caption and notes in ``locale``."""
    frame = result.to_frame()

    def fmt(column: str, v) -> str:
        if column == "verdict":
            return t(f"roi.{v}", locale)
        if column in ("roi", "roi_ci_low", "roi_ci_high"):
            return format_value(v, "ratio", locale)
        return format_value(v, "count", locale)

    rows = [(name, [fmt(c, r[c]) for c in frame.columns]) for name, r in frame.iterrows()]
    return render(
        "roi/table.html",
        caption=roi_result_caption(result, locale),
        css_class="kpitools-roi",
        index_name=frame.index.name,
        columns=list(frame.columns),
        rows=rows,
        notes=notes_text(result, locale),
        footer="",
    )


def segment_interaction_html(result: SegmentInteractionResult, locale: str = "en") -> Markup:
    """A :class:`~kpitools.roi.SegmentInteractionResult`: lift per segment and the test's
    verdict in ``locale``."""
    frame = result.table
    rows = [(name, [_cell(v, locale) for v in r]) for name, r in frame.iterrows()]
    return render(
        "roi/table.html",
        caption=segment_caption(result, locale),
        css_class="kpitools-segments",
        index_name=frame.index.name,
        columns=list(frame.columns),
        rows=rows,
        notes=[],
        footer=segment_test_text(result, locale),
    )
