"""Words and numbers of the campaign ROI report: formatters and the sentences of results.

The computation (:mod:`kpitools.roi`) returns numbers and reason codes; this module writes
their sentences: issues (:func:`issue_text`, and :func:`issue_message` for ``kpis.json``), the
sample ratio check (:func:`srm_text`), the control size needed (:func:`control_size_text`),
the segment interaction test (:func:`segment_test_text`), a lift's caption and table labels
(:func:`lift_caption`, :func:`lift_quantity`, :func:`lift_unit`) and the notes of a lift or a
ROI (:func:`notes_text`).

Every phrase comes from the translation catalogue (``roi.*`` messages, :func:`~kpitools.report.i18n.t`),
every number from :mod:`kpitools.report.formatting` (Babel), so a French report reads
``ROI −23,6 %`` and never ``nan``.
"""

from __future__ import annotations

import math
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent, format_scientific

from kpitools.numbers import finite_or_none, is_missing
from kpitools.roi import (
    OUTCOMES,
    CampaignReport,
    CampaignResult,
    ControlSizeResult,
    GroupSummary,
    Issue,
    LiftResult,
    RoiResult,
    SegmentInteractionResult,
    SRMResult,
)
from kpitools.roi.issues import BLOCKING_CODES
from kpitools.vocab import Verdict

from ..formatting import (
    babel_locale,
    format_change,
    format_date,
    format_money_whole,
    format_percent_short,
    format_value,
)
from ..i18n import channel_name, has_message, segment_name, t

__all__ = [
    "INTERVAL_KINDS",
    "advice_lines",
    "interval_kind",
    "blocking_reason",
    "confidence_level",
    "control_size_text",
    "currency_of",
    "group_name",
    "interval",
    "interval_separator",
    "issue_message",
    "issue_text",
    "lift_caption",
    "lift_quantity",
    "lift_unit",
    "method_name",
    "money",
    "money0",
    "not_measured_text",
    "notes_text",
    "p_value",
    "pct",
    "roi_result_caption",
    "segment_caption",
    "segment_test_text",
    "short_issues",
    "significant",
    "srm_text",
    "verdict_rule_text",
]

#: Codes whose English report sentence formats its amounts in the report's currency (the other
#: English sentences are the plain English message of kpis.json).
_FORMATTED_IN_ENGLISH = frozenset({"underpowered", "unmeasured"})


def currency_of(report: CampaignReport, currency: str | None = None) -> str:
    """``currency``, else the report's currency, else EUR."""
    return currency or getattr(report, "currency", "EUR") or "EUR"


def money(v, loc: str, cur: str) -> str:
    """An amount per customer: ``£39.98`` (decimals below 1 000, as :func:`format_value`)."""
    return format_value(v, "currency", loc, cur)


def money0(v, loc: str, cur: str) -> str:
    """A total in whole currency units: ``£929`` / ``929 €`` (:func:`format_money_whole`)."""
    return format_money_whole(v, loc, cur)


def pct(v, loc: str) -> str:
    """A ratio as a signed percentage (ROI): ``+12.3%`` / ``−23.6%``."""
    if is_missing(v):
        return "–"
    return format_change(v, "relative", loc) if v != 0 else format_value(0.0, "ratio", loc)


def confidence_level(report: CampaignReport, loc: str) -> str:
    """The confidence level of the intervals: ``95%`` / ``95 %``."""
    return format_percent_short(1 - report.alpha, loc)


def interval_separator(loc: str) -> str:
    """Between the bounds of an interval: ``; `` (`` ; `` in French; message
    ``roi.interval_separator``)."""
    return t("roi.interval_separator", loc)


def interval(lo: str, hi: str, loc: str) -> str:
    """``[lo; hi]`` (``[lo ; hi]`` in French), plain text."""
    return f"[{lo}{interval_separator(loc)}{hi}]"


def p_value(v, loc: str) -> str:
    """A p-value with 3 decimals (``< 0.001`` below), in the locale's number format."""
    f = finite_or_none(v)
    if f is None:
        return "–"
    bl = babel_locale(loc)
    if f < 0.001:
        return "< " + format_decimal(0.001, format="0.000", locale=bl)
    return format_decimal(f, format="0.000", locale=bl)


def group_name(by: str, group: str, loc: str) -> str:
    """A segment's, a channel's or a product line's name in ``loc``; the ``"not measured"``
    row of a view and the brand-wide campaigns (``"all"`` product lines) in words."""
    if group == str(Verdict.NOT_MEASURED):
        return t("roi.not measured", loc)
    if by == "product_line":
        return t("roi.all_lines", loc) if group == "all" else group
    return segment_name(group, loc) if by == "segment" else channel_name(group, loc)


def advice_lines(report: CampaignReport, loc: str) -> list[str]:
    """The programme's advice on control groups, true by the package's own calculation: how
    many inconclusive campaigns a larger control group would settle (messages
    ``roi.summary_advice_control``) and how many are too small to measure on their own
    (``roi.summary_advice_small``); empty when no campaign is underpowered."""
    codes = [c.advice.code for c in report.campaigns if c.advice is not None]
    lines = []
    n_larger, n_small = codes.count("larger_control"), codes.count("too_small")
    if n_larger:
        lines.append(t("roi.summary_advice_control", loc, n=format_value(n_larger, "count", loc)))
    if n_small:
        key = "roi.summary_advice_small"
        if n_small == len(report.campaigns) and n_small > 1:
            key += "_all"
        elif n_small == 1:
            key += "_one"
        lines.append(t(key, loc, n=format_value(n_small, "count", loc)))
    return lines


#: Kinds of campaign interval, in the order the method text lists them.
INTERVAL_KINDS = ("randomisation", "t", "none")


def interval_kind(campaign: CampaignResult) -> str | None:
    """The interval of a campaign's lifts: ``randomisation``, ``t`` or ``none`` (too few
    controls to judge); None when no lift was estimated."""
    lift = campaign.margin_lift or campaign.revenue_lift
    if lift is None:
        return None
    return "none" if lift.too_few_controls else ("t" if lift.interval == "t" else lift.interval)


def verdict_rule_text(report: CampaignReport, loc: str) -> str:
    """The multiplicity rule of the verdicts in one sentence (message ``roi.verdict_rule``)."""
    return t(
        "roi.verdict_rule",
        loc,
        m=format_value(len(report.measured), "count", loc),
        q=_percent(report.alpha / 2, loc, 1),
    )


def not_measured_text(summary: GroupSummary, loc: str, cur: str) -> str | None:
    """What a view's ``"not measured"`` row holds, reason by reason (message
    ``roi.not_measured_note``); None when the view measured everything."""
    if not summary.not_measured:
        return None
    items = [
        t(
            "roi.not_measured_item",
            loc,
            reason=t(f"roi.skip.{code}", loc) if has_message(f"roi.skip.{code}", loc) else code,
            n_treated=format_value(d["n_treated"], "count", loc),
            n_control=format_value(d["n_control"], "count", loc),
            cost=money0(d["cost"], loc, cur),
        )
        for code, d in summary.not_measured.items()
    ]
    return t("roi.not_measured_note", loc, detail=interval_separator(loc).join(items))


def method_name(method: str, loc: str) -> str:
    """The lift estimator's name in ``loc`` (message ``roi.method.<method>``: ``ols`` →
    ``regression adjustment …``); an unknown estimator as it is spelled."""
    msgid = f"roi.method.{method}"
    return t(msgid, loc) if has_message(msgid, loc) else method


#: Issue codes worded in the product-line scope catalogue (``scope.issue.<code>``).
SCOPE_ISSUE_CODES = frozenset({"line_cost_share", "line_cost_shared", "line_cost_whole"})


#: Issue codes worded in ``optional.yaml`` (an optional column the data leave empty).
OPTIONAL_ISSUE_CODES = frozenset({"needs_cost"})


def _area(code: str) -> str:
    """The catalogue area of an issue's sentences: ``scope``, ``optional`` or ``roi``."""
    if code in OPTIONAL_ISSUE_CODES:
        return "optional"
    return "scope" if code in SCOPE_ISSUE_CODES else "roi"


def issue_message(issue: Issue) -> str:
    """The plain English sentence of an issue, as written to ``kpis.json``.

    Message ``roi.message.<code>[.<variant>]``; numbers are written the Python way
    (``1,234``, ``12%``, ``2025-12-31``), without currency.
    """
    fields: dict[str, Any] = issue.message_fields
    code = issue.code
    if code in ("lift_failed", "method_fallback") and "outcome" in fields:
        fields["what"] = t(f"roi.outcome.{fields['outcome']}", "en")
        fields.setdefault("covariate", OUTCOMES.get(fields["outcome"], ""))
    if code == "cost_missing":
        columns = str(fields.get("columns", "")).split(", ")
        fields["column_list"] = format_list(columns, locale=babel_locale("en"))
    if code == "cells_skipped":
        detail = fields.get("detail") or {}
        fields["detail_list"] = ", ".join(f"{g}: {n:,}" for g, n in detail.items())
    if code == "underpowered":
        required = fields.get("required")
        fields["need"] = (
            t("roi.message.underpowered_none", "en")
            if required is None
            else t("roi.message.underpowered_need", "en", required=required)
        )
    msgid = f"{_area(code)}.message.{code}" + (f".{issue.variant}" if issue.variant else "")
    return t(msgid, "en", **fields)


def _format_field(key: str, value, loc: str, cur: str) -> str:
    if key in ("observed", "planned", "share"):
        return format_value(value, "ratio", loc)
    if key in ("mde", "break_even"):
        return money(value, loc, cur)
    if key == "cost":
        return money0(value, loc, cur)
    if key == "p_value":
        return p_value(value, loc)
    if key in ("window_end", "last_day"):
        return format_date(value, loc)
    if key == "outcome":
        msgid = f"roi.outcome.{value}"
        return t(msgid, loc) if has_message(msgid, loc) else str(value)
    if key == "by":
        msgid = f"roi.{value}_word"
        return t(msgid, loc) if has_message(msgid, loc) else str(value)
    if key in ("n", "n_control", "n_treated", "min", "total", "required", "audience"):
        return format_value(value, "count", loc)
    return str(value)


def issue_text(issue: Issue, locale: str = "en", currency: str = "EUR") -> str:
    """An issue's sentence in the report's language (message ``roi.issue.<code>``).

    The English report shows the full English message (:func:`issue_message`), as it always
    has, except for the codes whose amounts are in the report's currency.
    """
    if locale == "en" and issue.code not in _FORMATTED_IN_ENGLISH:
        return issue_message(issue)
    values = {k: _format_field(k, v, locale, currency) for k, v in issue.fields.items()}
    if issue.code == "underpowered":
        if issue.fields.get("required") is None:
            values["need"] = t("roi.issue.underpowered_none", locale)
        elif issue.fields.get("audience") is not None:
            values["need"] = t(
                "roi.issue.underpowered_need_audience",
                locale,
                required=values.get("required"),
                audience=values.get("audience"),
            )
        else:
            values["need"] = t(
                "roi.issue.underpowered_need", locale, required=values.get("required")
            )
    return t(f"{_area(issue.code)}.issue.{issue.code}", locale, **values)


def short_issues(campaign: CampaignResult, loc: str) -> str:
    """Short labels of a campaign's warnings (``small control, underpowered``)."""
    labels = [
        t(f"roi.issue_short.{i.code}", loc)
        for i in campaign.warnings
        if has_message(f"roi.issue_short.{i.code}", loc)
    ]
    return ", ".join(dict.fromkeys(labels))


def blocking_reason(campaign: CampaignResult, loc: str, cur: str) -> str:
    """Why a campaign could not be measured: its most telling warning, or ``–``."""
    warn = sorted(
        campaign.warnings,
        key=lambda i: BLOCKING_CODES.index(i.code) if i.code in BLOCKING_CODES else 99,
    )
    return issue_text(warn[0], loc, cur) if warn else "–"


# --------------------------------------------------------------------------------------
# Result objects of kpitools.roi (guardrails, lifts, ROI, segment test)
# --------------------------------------------------------------------------------------


def significant(v, loc: str, digits: int = 4) -> str:
    """A number with ``digits`` significant digits in the locale's format (``0.0603``,
    ``1,234``, ``3,53``); below 0.001 in scientific notation (``1.5E-8``); ``–`` if missing."""
    f = finite_or_none(v)
    if f is None:
        return "–"
    bl = babel_locale(loc)
    if f != 0 and abs(f) < 1e-3:
        return format_scientific(f, format="0." + "#" * (digits - 1) + "E0", locale=bl)
    r = float(f"{f:.{digits}g}")
    decimals = 0 if r == 0 else max(0, digits - 1 - math.floor(math.log10(abs(r))))
    return format_decimal(r, format="#,##0" + ("." + "#" * decimals if decimals else ""), locale=bl)


def _percent(v, loc: str, decimals: int) -> str:
    """A share as a percentage with at most ``decimals`` decimals (``80%``, ``11,76 %``)."""
    if is_missing(v):
        return "–"
    bl = babel_locale(loc)
    pattern = Locale.parse(bl).percent_formats[None].pattern.split(";")[0]
    if decimals:
        pattern = pattern.replace("#,##0", "#,##0." + "#" * decimals, 1)
    return format_percent(float(v), format=pattern, locale=bl)


def _level(alpha: float, loc: str) -> str:
    """The confidence level ``1 - alpha`` as a percentage (``95%``, ``99,5 %``)."""
    return _percent(1 - alpha, loc, 1)


def srm_text(result: SRMResult, locale: str = "en") -> str:
    """The conclusion of a sample ratio check (message ``roi.srm.<code>``, or
    ``roi.srm.<code>.binomial`` when the exact binomial test was used).

    Quotes the observed and planned control shares, the counts, the test (chi-square statistic
    or exact binomial test), its p-value and the threshold ``alpha``.
    """
    return t(
        f"roi.srm.{result.code}" + (".binomial" if result.test == "binomial" else ""),
        locale,
        observed=_percent(result.observed_control_share, locale, 2),
        total=format_value(result.n_total, "count", locale),
        n_control=format_value(result.n_control, "count", locale),
        planned=_percent(result.planned_control_share, locale, 2),
        expected=format_value(result.expected_control, "count", locale),
        statistic=significant(result.statistic, locale),
        p_value=significant(result.p_value, locale, 3),
        alpha=significant(result.alpha, locale, 3),
    )


def control_size_text(result: ControlSizeResult, locale: str = "en") -> str:
    """The control size needed to detect an effect, or why none suffices (message
    ``roi.control_size.<code>``); the effect in outcome units, as a magnitude."""
    fields = {
        "n_treated": format_value(result.n_treated, "count", locale),
        "effect": significant(abs(result.effect), locale),
        "power": _percent(result.power, locale, 1),
        "alpha": significant(result.alpha, locale, 3),
    }
    if result.feasible:
        fields["n_control"] = format_value(result.n_control, "count", locale)
    else:
        fields["smallest"] = significant(result.smallest_detectable, locale)
    return t(f"roi.control_size.{result.code}", locale, **fields)


def segment_test_text(result: SegmentInteractionResult, locale: str = "en") -> str:
    """The verdict of the segment interaction test (message ``roi.segment_test.<code>``)."""
    return t(
        f"roi.segment_test.{result.code}",
        locale,
        segment=str(result.segment),
        statistic=significant(result.statistic, locale, 3),
        df_num=format_value(result.df_num, "count", locale),
        df_denom=format_value(result.df_denom, "count", locale),
        p_value=significant(result.p_value, locale, 3),
        alpha=significant(result.alpha, locale, 3),
    )


def lift_caption(result: LiftResult, locale: str = "en") -> str:
    """Title of a lift table: outcome, estimator, standard errors, confidence level and the
    covariates (messages ``roi.lift_caption``, ``roi.lift_caption_covariates``)."""
    fields = {
        "outcome": result.outcome or t("roi.lift_outcome", locale),
        "method": result.method,
        "cov_type": result.cov_type,
        "level": _level(result.alpha, locale),
    }
    if result.covariates:
        return t(
            "roi.lift_caption_covariates", locale, covariates=", ".join(result.covariates), **fields
        )
    return t("roi.lift_caption", locale, **fields)


def lift_quantity(code: str, result: LiftResult, locale: str = "en") -> str:
    """The label of a row of :meth:`LiftResult.to_frame` (message ``roi.lift_row.<code>``)."""
    if code in ("ci_low", "ci_high"):
        return t(f"roi.lift_row.{code}", locale, level=_level(result.alpha, locale))
    return t(f"roi.lift_row.{code}", locale)


def lift_unit(code: str, locale: str = "en") -> str:
    """A unit code of :meth:`LiftResult.to_frame` in words (message ``roi.lift_unit.<code>``;
    ``""`` stays empty)."""
    return t(f"roi.lift_unit.{code}", locale) if code else ""


def _lift_note(code: str, result: LiftResult, locale: str) -> str:
    if code == "cuped_theta":
        return t("roi.note.cuped_theta", locale, theta=significant(result.theta, locale))
    if code == "rows_dropped":
        return t("roi.note.rows_dropped", locale, n=format_value(result.n_dropped, "count", locale))
    return t(f"roi.note.{code}", locale)


def _roi_note(code: str, result: RoiResult, locale: str) -> str:
    lift = result.lift
    if code == "margin_lift":
        outcome = (lift.outcome if lift is not None else "") or t("roi.lift_outcome", locale)
        return t("roi.note.margin_lift", locale, outcome=outcome)
    if code == "n_below_analysed":
        return t(
            "roi.note.n_below_analysed",
            locale,
            n=format_value(result.n_treated_total, "count", locale),
            analysed=format_value(lift.n_treated if lift is not None else None, "count", locale),
        )
    if code == "correlated":
        return t(
            "roi.note.correlated", locale, correlation=significant(result.correlation, locale, 3)
        )
    return t(f"roi.note.{code}", locale)


def notes_text(result: LiftResult | RoiResult, locale: str = "en") -> list[str]:
    """The sentences of the notes of a lift or of a ROI (messages ``roi.note.<code>``), in
    order; the numbers they quote come from the result's fields."""
    if isinstance(result, LiftResult):
        return [_lift_note(code, result, locale) for code in result.notes]
    return [_roi_note(code, result, locale) for code in result.notes]


def roi_result_caption(result: RoiResult, locale: str = "en") -> str:
    """Title of a ROI table (message ``roi.result_caption``)."""
    return t("roi.result_caption", locale, name=result.name, level=_level(result.alpha, locale))


def segment_caption(result: SegmentInteractionResult, locale: str = "en") -> str:
    """Title of a per-segment lift table (message ``roi.segment_caption``)."""
    return t(
        "roi.segment_caption", locale, outcome=str(result.outcome), segment=str(result.segment)
    )
