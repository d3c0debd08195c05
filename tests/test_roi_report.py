"""The sentences of ROI issues: reason codes and numbers in, the catalogue's words out.

The English sentences are those ``kpis.json`` has always held (they were built in the
analysis before the catalogue); the French ones format numbers for the locale.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from kpitools.report.roi import issue_message, issue_text
from kpitools.roi import Issue

SIZES = {"n_treated": 1200, "n_control": 45, "min": 1000}

ENGLISH = [
    (
        Issue("small_control", fields=SIZES),
        "The control group is small (45 customers, fewer than 1,000): the lift will be "
        "imprecise; check the minimum detectable effect.",
    ),
    (
        Issue(
            "srm",
            fields={"observed": 0.0361, "planned": 0.1, "p_value": 1.2e-9},
            detail={
                "total": 1245,
                "n_control": 45,
                "expected_control": 124.5,
                "statistic": 56.41,
                "alpha": 0.001,
            },
        ),
        "Sample ratio mismatch: the control group holds 3.61% of 1,245 customers (45), planned "
        "10.00% (expected 124); chi-square = 56.41, p = 1.2e-09 < 0.001. The split is not the "
        "one planned: check the assignment and the data extraction before trusting any lift.",
    ),
    (
        Issue("not_contacted", severity="info", fields={"n_treated": 1200}),
        "No targeted member has a sending date (sent_at): all 1,200 targeted members are "
        "counted as contacted for the cost.",
    ),
    (
        Issue("cost_missing", fields={"columns": "fixed_cost, cost_per_contact"}),
        "The campaign's fixed_cost and cost_per_contact is missing: counted as 0, so its cost "
        "is understated and its ROI overstated.",
    ),
    (
        Issue(
            "provisional",
            fields={"window_end": datetime(2026, 1, 15), "last_day": datetime(2025, 12, 31)},
        ),
        "The outcome window runs until 2026-01-15 (excluded) but the data end on 2025-12-31: "
        "the figures are provisional.",
    ),
    (
        Issue(
            "lift_failed",
            fields={"outcome": "revenue", "reason": "group too small"},
            detail={"n_treated": 3, "n_control": 1},
            variant="group_too_small",
        ),
        "The lift cannot be estimated: 3 targeted and 1 control customers; at least 2 in each "
        "group are needed.",
    ),
    (
        Issue("lift_failed", fields={"outcome": "converted", "reason": "no variance"}),
        "The lift on conversion cannot be estimated: no variance",
    ),
    (
        Issue(
            "method_fallback",
            severity="info",
            fields={"outcome": "margin", "method": "lin", "reason": "collinear"},
        ),
        "The lift on margin was estimated as a plain difference in means: the 'lin' adjustment "
        "on pre_margin could not be fitted (collinear).",
    ),
    (
        Issue("underpowered", fields={"mde": 40.1347, "break_even": 2.8858, "required": None}),
        "The control group is too small to prove that the campaign pays: it detects (80 % "
        "power) a margin lift of 40.13 per targeted customer, above the break-even lift of "
        "2.89; no control group that fits within the campaign's audience would suffice: the "
        "campaign is too small to be measured on its own; judge it pooled with similar "
        "campaigns or over a longer window.",
    ),
    (
        Issue("underpowered", fields={"mde": 5.0, "break_even": 2.0, "required": 12345}),
        "The control group is too small to prove that the campaign pays: it detects (80 % "
        "power) a margin lift of 5.00 per targeted customer, above the break-even lift of "
        "2.00; a control group of about 12,345 customers would be needed.",
    ),
    (
        Issue(
            "no_campaigns",
            fields={"window": (datetime(2025, 1, 1), datetime(2026, 1, 1))},
            variant="window",
        ),
        "No campaign starting between 2025-01-01 and 2026-01-01 (excluded): there is nothing "
        "to measure.",
    ),
    (Issue("no_campaigns", fields={"window": None}), "No campaign: there is nothing to measure."),
    (
        Issue("unmeasured", fields={"n": 2, "total": 5, "names": "C, D", "cost": 1234.4}),
        "2 of 5 campaigns could not be measured (C, D); their cost (1,234) counts in the "
        "headline programme ROI, their incremental margin as 0 (the ROI of the measured "
        "campaigns alone is reported beside it).",
    ),
    (
        Issue("overlap", severity="info", fields={"n": 283, "share": 0.1374}),
        "283 customers (14%) were members of several campaigns: campaign estimates are treated "
        "as independent and their lifts may overlap.",
    ),
    (
        Issue(
            "cells_skipped",
            severity="info",
            fields={"n": 1500, "by": "segment", "detail": {"new": 1200, "steady": 300}},
        ),
        "1,500 targeted customers are left out of the segment view because their campaign had, "
        "in that segment, fewer than 2 targeted customers or fewer control customers than the "
        "minimum to judge, or the lift could not be estimated there (new: 1,200, steady: 300).",
    ),
    (
        Issue("single_group", severity="info", fields={"by": "channel"}),
        "Fewer than two channels could be measured: no comparison between channels.",
    ),
    (
        Issue("missing_table", fields={"tables": "campaigns, campaign_members"}),
        "Campaign ROI is not available: the data source has no table campaigns, campaign_members.",
    ),
]


@pytest.mark.parametrize(("issue", "expected"), ENGLISH, ids=[i.code for i, _ in ENGLISH])
def test_english_sentence_of_every_reason_code(issue, expected):
    assert issue_message(issue) == expected


def test_english_report_uses_the_sentence_and_currency_where_it_always_did():
    small = ENGLISH[0][0]
    assert issue_text(small, "en", "GBP") == issue_message(small)
    unmeasured = Issue("unmeasured", fields={"n": 2, "total": 5, "names": "C, D", "cost": 1234.4})
    assert "£1,234" in issue_text(unmeasured, "en", "GBP")
    assert "(1,234)" in issue_message(unmeasured)


def test_french_sentences_format_numbers_for_the_locale():
    assert issue_text(ENGLISH[0][0], "fr", "EUR") == (
        "Groupe témoin réduit (45 clients, moins de 1\u202f000) : mesure imprécise."
    )
    overlap = Issue("overlap", fields={"n": 283, "share": 0.1374})
    assert issue_text(overlap, "fr", "EUR") == (
        "283 clients (13,7\xa0%) ont reçu plusieurs campagnes : estimations supposées "
        "indépendantes."
    )
    failed = Issue("lift_failed", fields={"outcome": "revenue", "reason": "x"})
    assert issue_text(failed, "fr") == "L'effet sur le CA ne peut pas être estimé (x)."


def test_issue_to_dict_has_no_prose():
    issue = ENGLISH[1][0]
    assert issue.to_dict() == {
        "code": "srm",
        "severity": "warning",
        "values": {"observed": 0.0361, "planned": 0.1, "p_value": 1.2e-9},
    }
