"""Small control groups (issue 12): interval kinds, the minimum to judge, and the campaign wiring.

Coverage by simulation is in ``test_roi_coverage.py``; here the arithmetic and the states.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpitools.params import parse_params
from kpitools.roi.campaign import analyse_campaign
from kpitools.roi.estimators import RI_MAX_CONTROL, RoiInputError, estimate_lift
from kpitools.vocab import Verdict


def _campaign_members(n1: int, n0: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n1 + n0
    treated = np.r_[np.ones(n1, int), np.zeros(n0, int)]
    pre = (rng.random(n) < 0.4) * rng.lognormal(4.0, 1.0, n)
    revenue = (rng.random(n) < np.where(treated == 1, 0.35, 0.25)) * rng.lognormal(4.0, 1.0, n)
    return pd.DataFrame(
        {
            "treated": treated,
            "contacted": treated,
            "segment": rng.choice(["new", "steady"], n),
            "revenue": revenue,
            "margin": 0.4 * revenue,
            "converted": (revenue > 0).astype(int),
            "pre_revenue": pre,
            "pre_margin": 0.4 * pre,
            "pre_orders": (pre > 0).astype(int),
        }
    )


META = pd.Series(
    {
        "campaign_id": 7,
        "name": "Spring",
        "channel": "email",
        "product_line": None,
        "starts_at": "2025-03-01",
        "ends_at": "2025-03-10",
        "fixed_cost": 100.0,
        "cost_per_contact": 0.5,
        "planned_control_share": 0.05,
    }
)


@pytest.fixture(scope="module")
def params():
    return parse_params(
        {
            "brand": "acme",
            "period": {"grain": "year"},
            "source": {"kind": "duckdb", "path": "unused.duckdb"},
        }
    )


def test_defaults_and_bad_arguments(params):
    assert params.roi.interval == "auto" and params.roi.min_control_judge == 10
    df = _campaign_members(30, 5)
    with pytest.raises(RoiInputError, match="interval 'bootstrap' is not one of"):
        estimate_lift(df, outcome="revenue", treatment="treated", interval="bootstrap")
    with pytest.raises(RoiInputError, match="min_control_judge"):
        estimate_lift(df, outcome="revenue", treatment="treated", min_control_judge=-1)
    with pytest.raises(Exception, match="min_control_judge"):
        parse_params(
            {
                "brand": "acme",
                "period": {"grain": "year"},
                "source": {"kind": "duckdb", "path": "x.duckdb"},
                "roi": {"min_control_judge": 1},
            }
        )


def test_t_interval_uses_bell_mccaffrey_df():
    """diff, 30 targeted + 12 controls: df = (1/30 + 1/12)² / (1/(30² 29) + 1/(12² 11))."""
    df = _campaign_members(30, 12, seed=4)
    res = estimate_lift(df, outcome="revenue", treatment="treated", method="diff", interval="t")
    bm = (1 / 30 + 1 / 12) ** 2 / (1 / (30**2 * 29) + 1 / (12**2 * 11))
    assert res.interval == "t" and res.df == pytest.approx(bm)
    # 0.116667² / (3.831e-5 + 6.313e-4) = 0.013611 / 6.696e-4 = 20.33, not the residual 40
    assert bm == pytest.approx(20.326, abs=1e-3)
    q = stats.t.ppf(0.975, bm)
    assert res.ci_high - res.effect == pytest.approx(q * res.se)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(res.effect / res.se), bm))
    nonrobust = estimate_lift(
        df,
        outcome="revenue",
        treatment="treated",
        method="diff",
        interval="t",
        cov_type="nonrobust",
    )
    assert nonrobust.df == pytest.approx(40.0)


def test_auto_switches_at_ri_max_control():
    """auto: randomisation up to RI_MAX_CONTROL controls, t above; the same seed, same interval."""
    small = _campaign_members(200, 20, seed=1)
    a = estimate_lift(small, outcome="revenue", treatment="treated", method="diff", interval="auto")
    b = estimate_lift(small, outcome="revenue", treatment="treated", method="diff", interval="auto")
    assert a.interval == "randomisation" and (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.effect < a.ci_high
    big = _campaign_members(400, RI_MAX_CONTROL + 1, seed=2)
    c = estimate_lift(big, outcome="revenue", treatment="treated", method="diff", interval="auto")
    assert c.interval == "t" and c.df is not None


def test_campaign_with_too_few_controls_has_no_verdict(params):
    """9 controls < 10: effects but no interval, no ROI, verdict 'not measured', the issue says
    10 are needed; with 10 controls the same campaign is judged (randomisation interval)."""
    members = _campaign_members(120, 9, seed=3)
    res = analyse_campaign(META, members, params, data_end=None)
    assert res.too_few_controls and res.controls_needed == 10
    assert res.roi is None and res.verdict == Verdict.NOT_MEASURED
    issue = next(i for i in res.issues if i.code == "too_few_controls")
    assert dict(issue.fields) == {"n_control": 9, "min": 10}
    assert "underpowered" not in {i.code for i in res.issues}
    lift = res.revenue_lift
    assert lift is not None and lift.too_few_controls and math.isnan(lift.ci_low)
    assert res.incremental_revenue == pytest.approx(lift.effect * 120)
    assert res.revenue_ci_low is None and res.revenue_ci_high is None
    assert res.row()["controls_needed"] == 10

    members10 = _campaign_members(120, 10, seed=3)
    ok = analyse_campaign(META, members10, params, data_end=None)
    assert not ok.too_few_controls and ok.roi is not None
    assert ok.revenue_lift is not None and ok.revenue_lift.interval == "randomisation"
    assert ok.margin_lift is not None
    assert ok.roi.margin_ci_low == pytest.approx(ok.margin_lift.ci_low * 120)
    assert "too_few_controls" not in {i.code for i in ok.issues}


def test_issue_text_in_every_locale(params):
    from kpitools.report.roi.text import issue_message, issue_text

    res = analyse_campaign(META, _campaign_members(50, 4, seed=5), params, data_end=None)
    issue = next(i for i in res.issues if i.code == "too_few_controls")
    assert "Too few controls to judge" in issue_message(issue) and "10" in issue_message(issue)
    assert issue_text(issue, "fr").startswith("Trop peu de témoins pour conclure : 4 clients")
    assert issue_text(issue, "it").startswith("Troppo pochi clienti di controllo per giudicare")
    assert "10" in issue_text(issue, "fr") and "10" in issue_text(issue, "it")
