"""Matured cohort KPIs (``KpiDeclaration.matures``) on a hand-built fixture of leads.

Lead conversion within 90 days (``settings.conversion_window_days``), monthly, report period
June 2025 (ends 2025-07-01). A month's leads are final once month end + 90 days <= 1 July:
March (1 April + 90 days = 30 June) is the latest final cohort; April (1 May + 90 = 30 July),
May and June are not.

==========  ===============================================================  ==============
cohort      leads (created -> converted)                                     final value
==========  ===============================================================  ==============
2024-03     03-05 -> 03-20, 03-10 -> 04-01                                   2 / 2 = 1
2025-02     five leads, one converted (02-03 -> 02-10)                       1 / 5 = 0.2
2025-03     03-01 -> 03-11 (10 d), 03-05 -> 04-24 (50 d), 03-10 -> 06-18     2 / 4 = 0.5
            (100 d: too late), 03-31 never
2025-04     04-02 -> 04-05, 04-03 -> 04-10 (both converted, but not final)   immature
2025-06     06-02 -> 06-20, 06-05 -> 07-10 (after the report's end), 06-10,  provisional
            06-12 never                                                      1 / 4 = 0.25
==========  ===============================================================  ==============

So the June report shows March's cohort: value 0.5, previous (February) 0.2, a year before
(March 2024) 1; the trend is the 12 cohorts April 2024 - March 2025 (no immature month in it);
the provisional value of June is 0.25 (the 10 July conversion is not known at the end of June).
Later data (conversions in July, August; leads of July) change nothing in the June report.
"""

from __future__ import annotations

import json

import pytest
from helpers import make_db, write_params

from kpitools.catalogue import KPIS
from kpitools.data.sources import connect
from kpitools.kpis.compute import (
    cohort_is_mature,
    compute_breakdown,
    compute_kpis,
    latest_mature_cohort,
    maturity_days,
)
from kpitools.kpis.registry import get_kpi
from kpitools.objectives import evaluate_objectives
from kpitools.params import load_params
from kpitools.params.objectives import Objective
from kpitools.periods import parse_period
from kpitools.report.cohorts import cohort_label
from kpitools.report.kpis_json import scorecard_document
from kpitools.report.objectives import objective_html
from kpitools.report.tables import scorecard_html, summary_html


def _lead(i, created, converted=None):
    return dict(
        lead_id=i,
        created_at=created,
        converted_at=converted,
        customer_id=100 + i if converted else None,
        first_response_at=created,
        product_line="a",
    )


LEADS = [
    _lead(1, "2024-03-05", "2024-03-20"),
    _lead(2, "2024-03-10", "2024-04-01"),
    _lead(3, "2025-02-03", "2025-02-10"),
    *[_lead(4 + i, f"2025-02-{10 + i}") for i in range(4)],
    _lead(10, "2025-03-01", "2025-03-11"),
    _lead(11, "2025-03-05", "2025-04-24"),
    _lead(12, "2025-03-10", "2025-06-18"),
    _lead(13, "2025-03-31"),
    _lead(20, "2025-04-02", "2025-04-05"),
    _lead(21, "2025-04-03", "2025-04-10"),
    _lead(30, "2025-06-02", "2025-06-20"),
    _lead(31, "2025-06-05", "2025-07-10"),
    _lead(32, "2025-06-10"),
    _lead(33, "2025-06-12"),
]

#: What happens after June: more conversions of June's leads, leads of July.
LATER = [
    _lead(40, "2025-07-02", "2025-07-03"),
    _lead(41, "2025-07-05"),
]


def _later_leads():
    rows = [dict(r) for r in LEADS]
    for r in rows:
        if r["lead_id"] in (32, 33):  # June leads that convert in July and August
            r["converted_at"] = "2025-07-20" if r["lead_id"] == 32 else "2025-08-15"
            r["customer_id"] = 100 + r["lead_id"]
    return rows + LATER


@pytest.fixture()
def leads_db(tmp_path):
    return make_db(tmp_path / "leads.duckdb", {"leads": LEADS})


def _params(tmp_path, db_path, **overrides):
    return load_params(write_params(tmp_path / "acme.yaml", db_path, **overrides))


def _scorecard(tmp_path, db_path, report="2025-06", kpis=("lead_conversion_rate",), **overrides):
    params = _params(tmp_path, db_path, **overrides)
    with connect(params) as db:
        return compute_kpis(db, params, report, kpis=list(kpis))


# -- the rule --------------------------------------------------------------------------------


def test_a_cohort_is_mature_when_its_window_has_closed_by_the_report_end():
    june = parse_period("2025-06", "month")
    assert cohort_is_mature(parse_period("2025-03", "month"), june, 90)  # 30 June <= 1 July
    assert not cohort_is_mature(parse_period("2025-04", "month"), june, 90)  # 30 July
    assert latest_mature_cohort(june, 90).label == "2025-03"
    assert latest_mature_cohort(june, 30).label == "2025-05"  # 1 June + 30 days = 1 July
    assert latest_mature_cohort(june, 0).label == "2025-06"
    q2 = parse_period("2025-Q2", "quarter")
    assert latest_mature_cohort(q2, 90).label == "2025-Q1"


def test_the_window_is_read_from_the_setting_the_declaration_names(tmp_path, leads_db):
    params = _params(tmp_path, leads_db, settings={"conversion_window_days": 45})
    assert KPIS["lead_conversion_rate"].matures == "conversion_window_days"
    assert maturity_days(get_kpi("lead_conversion_rate"), params) == 45
    assert KPIS["purchase_rate"].matures == "roi.attribution_days"  # a dotted path
    assert maturity_days(get_kpi("purchase_rate"), params) == params.roi.attribution_days
    assert maturity_days(get_kpi("revenue"), params) is None


# -- the hand-computed values ----------------------------------------------------------------


def test_the_report_shows_the_latest_mature_cohort(tmp_path, leads_db):
    r = _scorecard(tmp_path, leads_db)["lead_conversion_rate"]
    assert r.status == "ok"
    assert r.cohort.label == "2025-03"
    assert r.window_days == 90
    assert r.value == pytest.approx(0.5)
    assert r.previous == pytest.approx(0.2)
    assert r.year_ago == pytest.approx(1.0)
    assert r.change_previous == pytest.approx(0.3)


def test_the_trend_holds_only_mature_cohorts(tmp_path, leads_db):
    r = _scorecard(tmp_path, leads_db)["lead_conversion_rate"]
    periods = [p.label for p, _ in r.trend]
    assert periods == [parse_period("2025-03", "month").shift(-k).label for k in range(11, -1, -1)]
    assert all(p <= "2025-03" for p in periods)  # April (1.0 so far), May, June never drawn
    values = dict((p.label, v) for p, v in r.trend)
    assert values["2025-03"] == pytest.approx(0.5)
    assert values["2025-02"] == pytest.approx(0.2)
    assert values["2024-10"] is None  # no leads


def test_the_provisional_value_of_the_period_is_what_is_known_at_its_end(tmp_path, leads_db):
    r = _scorecard(tmp_path, leads_db)["lead_conversion_rate"]
    assert r.provisional == pytest.approx(0.25)  # 20 June yes; 10 July not yet known


def test_rerunning_an_old_period_later_gives_the_same_numbers(tmp_path, leads_db):
    before = _scorecard(tmp_path, leads_db)["lead_conversion_rate"]
    later_db = make_db(tmp_path / "later.duckdb", {"leads": _later_leads()})
    after = _scorecard(tmp_path, later_db)["lead_conversion_rate"]
    assert after.to_dict() == before.to_dict()
    # the July report sees July's conversions of June's leads (still provisional for June)
    july = _scorecard(tmp_path, later_db, "2025-07")["lead_conversion_rate"]
    assert july.cohort.label == "2025-04"
    assert july.value == pytest.approx(1.0)
    assert july.previous == pytest.approx(0.5)  # March: the same as in June's report


def test_a_shorter_window_moves_the_cohort(tmp_path, leads_db):
    """30 days: May is final in June's report (no lead in May: April is the latest with
    leads; April's leads converted within 3 and 7 days: 2 / 2)."""
    r = _scorecard(tmp_path, leads_db, settings={"conversion_window_days": 30})[
        "lead_conversion_rate"
    ]
    assert r.window_days == 30
    assert r.cohort.label == "2025-04"
    assert r.value == pytest.approx(1.0)
    # March within 30 days: 03-01 -> 03-11 only: 1 / 4
    assert r.previous == pytest.approx(0.25)


def test_quarter_grain(tmp_path, leads_db):
    """Q2 2025 report: Q1 is final (1 April + 90 days = 30 June): Feb 1 of 5 + Mar 2 of 4."""
    r = _scorecard(tmp_path, leads_db, "2025-Q2", period={"grain": "quarter"})[
        "lead_conversion_rate"
    ]
    assert r.cohort.label == "2025-Q1"
    assert r.value == pytest.approx(3 / 9)
    assert r.year_ago == pytest.approx(1.0)  # Q1 2024: the two March 2024 leads
    assert r.provisional == pytest.approx(3 / 6)  # Q2: April 2 of 2, June 1 of 4 known


def test_no_mature_cohort_with_leads_is_no_data_with_the_provisional_value(tmp_path):
    db = make_db(tmp_path / "new.duckdb", {"leads": [_lead(1, "2025-06-02", "2025-06-20")]})
    r = _scorecard(tmp_path, db)["lead_conversion_rate"]
    assert r.status == "no_data" and r.value is None
    assert r.cohort.label == "2025-03"
    assert r.provisional == pytest.approx(1.0)
    assert all(v is None for _, v in r.trend)


def test_breakdown_shows_the_cohort_too(tmp_path, leads_db):
    params = _params(tmp_path, leads_db)
    with connect(params) as db:
        b = compute_breakdown(db, params, "product_line", "2025-06", kpis=["lead_conversion_rate"])
    row = b.frame.iloc[0]
    assert (row.group, row.cohort) == ("a", "2025-03")
    assert row.value == pytest.approx(0.5)


# -- what the report says ----------------------------------------------------------------------


def test_kpis_json_carries_the_cohort_and_the_provisional_value(tmp_path, leads_db):
    sc = _scorecard(tmp_path, leads_db, kpis=("lead_conversion_rate", "prospects"))
    doc = scorecard_document(sc)
    entry = doc["kpis"]["lead_conversion_rate"]
    assert entry["cohort"] == "2025-03"
    assert entry["cohort_label"] == "Leads of March 2025, converted within 90 days"
    assert entry["window_days"] == 90
    assert entry["value"] == pytest.approx(0.5)
    assert entry["provisional"] == pytest.approx(0.25)
    assert [t["period"] for t in entry["trend"]][-1] == "2025-03"
    # a KPI final at the end of its period has none of them
    assert doc["kpis"]["prospects"]["cohort"] is None
    assert doc["kpis"]["prospects"]["provisional"] is None
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize(
    "locale, label, provisional",
    [
        ("en", "Leads of March 2025, converted within 90 days", "June 2025 so far"),
        ("fr", "Prospects de mars 2025, convertis sous 90 jours", "juin 2025 à ce jour"),
        ("it", "Lead di marzo 2025, convertiti entro 90 giorni", "giugno 2025 finora"),
    ],
)
def test_scorecard_shows_the_cohort_under_the_value(tmp_path, leads_db, locale, label, provisional):
    sc = _scorecard(tmp_path, leads_db, locale=locale)
    assert cohort_label("lead_conversion_rate", sc["lead_conversion_rate"].cohort, 90, locale) == (
        label
    )
    html = str(scorecard_html(sc))
    assert f'<div class="cohort">{label}</div>' in html
    assert provisional in html
    params = _params(tmp_path, leads_db, locale=locale)
    tiles = str(summary_html(sc, params, headline=["lead_conversion_rate"]))
    assert label in tiles


def test_a_kpi_without_its_own_label_gets_the_generic_one():
    march = parse_period("2025-03", "month")
    assert cohort_label("revenue", march, 30) == "Cohort of March 2025, final after 30 days"


def test_an_objective_on_a_matured_kpi_is_judged_on_the_cohort_and_says_so(tmp_path, leads_db):
    sc = _scorecard(tmp_path, leads_db)
    o = Objective.model_validate(
        {
            "id": "convert",
            "title": "Convert more leads",
            "kpi": "lead_conversion_rate",
            "baseline": {"value": 0.2, "date": "2025-01-01"},
            "target": {"value": 0.4},
            "deadline": "2025-05-01",
            "review": "monthly",
        }
    )
    res = evaluate_objectives([o], sc).objectives[0]
    assert res.cohort.label == "2025-03"
    assert res.value == pytest.approx(0.5)  # March's final value, not June's 0.25
    # paced to the cohort's end (1 April: 90 of 120 days): 0.2 + 0.2 x 0.75
    assert res.fraction == pytest.approx(90 / 120)
    assert res.expected == pytest.approx(0.35)
    assert res.outcome_status == "on_track"
    assert res.to_dict()["cohort"] == "2025-03"
    html = str(objective_html(res))
    assert "judged on the latest final cohort: Leads of March 2025" in html


# -- campaigns: a cohort is final once every campaign's outcome window has closed ----------


def test_a_campaign_cohort_waits_for_its_longest_outcome_window(tmp_path):
    """The marketing fixture (tests/test_kpis_marketing.py): February's campaign 3 ends on
    15 March, its window on 14 April. In March's report February is not final although
    1 March + 30 days <= 1 April; the latest final cohort is March 2024 (campaign 4; no
    campaign in between). In April's report March is final (windows closed 9 and 5 April),
    February is its previous cohort."""
    from test_kpis_marketing import TABLES as MARKETING_TABLES

    db = make_db(tmp_path / "mkt.duckdb", MARKETING_TABLES)
    march = _scorecard(tmp_path, db, "2025-03", kpis=("purchase_rate",))["purchase_rate"]
    assert march.cohort.label == "2024-03"
    assert march.value == pytest.approx(1.0)
    assert march.provisional == pytest.approx(2 / 6)  # orders of April are not known yet
    assert all(p.label <= "2024-03" for p, _ in march.trend)
    april = _scorecard(tmp_path, db, "2025-04", kpis=("purchase_rate",))["purchase_rate"]
    assert april.cohort.label == "2025-03"
    assert (april.value, april.previous) == pytest.approx((4 / 6, 2 / 3))
