"""KPIs whose meaning or unit changed in 0.2 (issue 10, names and units), beyond the
department fixtures (tests/test_kpis_*.py hold their hand-computed values).

First response by opening date, on a fixture of its own (hours after the opening):

====  ================  ==================  ================  ==============================
case  opened_at         first_response_at   resolved_at       counts in
====  ================  ==================  ================  ==============================
1     2025-03-01 10:00  +2 h                (open)            March: answered, not resolved
2     2025-02-28 22:00  +8 h (03-01 06:00)  2025-03-02        February (opened there)
3     2025-03-05 09:00  -1 h (before!)      2025-03-05 12:00  left out: a data error
4     2025-03-10 09:00  -                   (open)            left out: not answered yet
5     2025-03-20 10:00  +0.5 h              2025-04-02        March (resolved in April)
6     2025-03-25 10:00  +4 h                2025-03-25 18:00  March
====  ================  ==================  ================  ==============================

March: 2, 0.5, 4 -> median **2** h; February: 8 h. By resolution date (the 0.1 rule) March
would have been cases 2 and 6 (8 and 4 h, median 6) and case 1 would never have counted.
"""

from __future__ import annotations

import pytest
from helpers import make_db, write_params
from test_kpis_service import _case

from kpitools.catalogue import KPIS, SIGNED_RATIOS
from kpitools.data.sources import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

CASES = [
    _case(1, 1, "2025-03-01 10:00", "2025-03-01 12:00", None, 24, False, None, None),
    _case(2, 2, "2025-02-28 22:00", "2025-03-01 06:00", "2025-03-02 09:00", 24, False, 1, 10),
    _case(3, 3, "2025-03-05 09:00", "2025-03-05 08:00", "2025-03-05 12:00", 24, False, 1, 10),
    _case(4, 4, "2025-03-10 09:00", None, None, 48, False, None, None),
    _case(5, 5, "2025-03-20 10:00", "2025-03-20 10:30", "2025-04-02 10:00", 48, False, 2, 10),
    _case(6, 1, "2025-03-25 10:00", "2025-03-25 14:00", "2025-03-25 18:00", 24, False, 1, 10),
]


@pytest.fixture(scope="module")
def cases_db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("first") / "first.duckdb", {"cases": CASES})


def _scorecard(tmp_path, db_path, report="2025-03", kpis=("first_response_hours",), **kw):
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, **kw))
    with connect(params) as db:
        return compute_kpis(db, params, report, kpis=list(kpis))


def test_first_response_is_grouped_by_opening_date(tmp_path, cases_db):
    sc = _scorecard(tmp_path, cases_db, kpis=["first_response_hours", "cases_handled"])
    assert sc.value("first_response_hours") == pytest.approx(2.0)
    assert sc["first_response_hours"].previous == pytest.approx(8.0)
    assert KPIS["first_response_hours"].measure == "cases_opened"
    # the other case KPIs still place cases by resolution: 2, 3 and 6 resolved in March
    assert sc.value("cases_handled") == 3


def test_first_response_by_quarter_and_when_nothing_is_answered(tmp_path, cases_db):
    """Q1 2025: 2, 8, 0.5, 4 -> median 3. April: nothing opened, no data."""
    q1 = _scorecard(tmp_path, cases_db, "2025-Q1", period={"grain": "quarter"})
    assert q1.value("first_response_hours") == pytest.approx(3.0)
    april = _scorecard(tmp_path, cases_db, "2025-04")
    assert april["first_response_hours"].status == "no_data"
    only_unanswered = make_db(tmp_path / "unanswered.duckdb", {"cases": [CASES[3]]})
    sc = _scorecard(tmp_path, only_unanswered)
    assert sc["first_response_hours"].status == "no_data"  # never 0


def test_declarations_of_the_changed_kpis():
    assert (KPIS["actions_per_engagement"].unit, KPIS["actions_per_engagement"].direction) == (
        "number",
        "lower",
    )
    assert KPIS["csat"].unit == "ratio" and KPIS["csat_mean_score"].unit == "score"
    assert KPIS["email_list_growth_rate"].unit == "ratio"
    assert KPIS["renewal_amount"].measure == KPIS["new_sales_amount"].measure == "opportunities"
    assert KPIS["won_amount_per_rep"].unit == "currency"
    assert "up_sell_value" not in KPIS


def test_every_rate_is_a_ratio_and_scores_are_the_few_true_scores():
    """Every rate, share and CSAT is a fraction on the 0-1 scale; a score is a scale of its own
    (NPS in points from -100 to 100, the 1-5 CSAT mean, sentiment from -1 to 1)."""
    for k in KPIS.values():
        if k.id.endswith("_rate") or k.id in ("csat", "share_of_voice"):
            assert k.unit == "ratio", k.id
    scores = {k.id for k in KPIS.values() if k.unit == "score"}
    assert scores == {"nps", "csat_mean_score", "social_sentiment"}
    assert SIGNED_RATIOS == {"email_list_growth_rate"}
