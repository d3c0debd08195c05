"""Verdicts across a report (Benjamini–Hochberg on the break-even test) and true advice.

Hand-computed cases for :func:`bh_reject`, :func:`break_even_p_values`, :func:`adjust_verdicts`
and :func:`control_advice`; and a simulation of many 40-campaign programmes with a planted
share of truly unprofitable campaigns (a third of them with no effect at all, some exactly at
break-even): the share of truly unprofitable campaigns called "profitable" and the false
discovery rate among "profitable" verdicts, before (each campaign's own 95 % interval) and
after (BH at q = 2.5 % in each direction).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kpitools.roi import (
    RoiResult,
    adjust_verdicts,
    bh_reject,
    break_even_p_values,
    control_advice,
    required_control_size,
    verdict,
)
from kpitools.roi.estimators import RoiInputError
from kpitools.vocab import Verdict


def _roi(margin: float, se: float, cost: float, df: float = math.inf, name: str = "c"):
    """A campaign ROI whose margin interval is ``margin ± t_{0.975, df} * se``."""
    q = stats.norm.ppf(0.975) if math.isinf(df) else stats.t.ppf(0.975, df)
    lo, hi = margin - q * se, margin + q * se
    return RoiResult(
        name=name,
        n_treated_total=100,
        cost=cost,
        incremental_margin=margin,
        margin_se=se,
        margin_ci_low=lo,
        margin_ci_high=hi,
        roi=(margin - cost) / cost,
        roi_ci_low=(lo - cost) / cost,
        roi_ci_high=(hi - cost) / cost,
        alpha=0.05,
    )


# -- Benjamini–Hochberg ------------------------------------------------------------------------


def test_bh_by_hand():
    # m = 8, q = 0.05: thresholds k * 0.00625; p(1) = 0.001 <= 0.00625, p(2) = 0.008 <= 0.0125,
    # p(3) = 0.039 > 0.01875 and no later p(k) <= k q / m: the two smallest are rejected
    p = [0.039, 0.001, 0.041, 0.205, 0.008, 0.042, 0.06, 0.074]
    assert bh_reject(p, 0.05).tolist() == [False, True, False, False, True, False, False, False]
    # step-up: p(4) = 0.04 <= 4 * 0.05 / 4 rejects all four even though p(1) alone would not
    # pass a Bonferroni threshold of 0.0125
    assert bh_reject([0.04, 0.03, 0.02, 0.015], 0.05).all()
    # thresholds 0.0083, 0.0167, ...: none passes
    assert not bh_reject([0.01, 0.02, 0.03, 0.04, 0.05, 0.5], 0.05).any()
    # NaN is outside the family: m = 2, thresholds 0.025 and 0.05
    assert bh_reject([0.03, np.nan, 0.045], 0.05).tolist() == [True, False, True]
    # vectorised over the leading axis
    two = bh_reject([[0.001, 0.9], [0.03, 0.04]], 0.05)
    assert two.tolist() == [[True, False], [True, True]]
    with pytest.raises(RoiInputError, match="q must be"):
        bh_reject([0.1], 0.0)


def test_break_even_p_values_match_the_interval():
    # margin 150, se 40, cost 60 with a t-interval on 7 df: p = t.sf((150 - 60) / 40, 7)
    r = _roi(150.0, 40.0, 60.0, df=7)
    up, down = break_even_p_values(r)
    assert up == pytest.approx(stats.t.sf(90 / 40, 7), rel=1e-6)
    assert down == pytest.approx(1 - up, rel=1e-6)
    # a normal interval gives normal p-values
    up_n, _ = break_even_p_values(_roi(150.0, 40.0, 60.0))
    assert up_n == pytest.approx(stats.norm.sf(90 / 40), rel=1e-9)
    # p_up < 2.5 % exactly when the interval's low end clears the cost, for any df
    for df in (3, 12, 80, math.inf):
        q = stats.norm.ppf(0.975) if math.isinf(df) else stats.t.ppf(0.975, df)
        for margin in (60 + q * 40 - 1e-3, 60 + q * 40 + 1e-3):
            r = _roi(margin, 40.0, 60.0, df=df)
            assert (break_even_p_values(r)[0] < 0.025) == (verdict(r) == Verdict.PROFITABLE)
    with pytest.raises(RoiInputError, match="standard error"):
        break_even_p_values(_roi(1.0, 0.0, 1.0))


def test_adjusted_verdicts_single_campaign_is_the_interval_verdict_and_many_are_stricter():
    for margin in (200.0, 10.0, -100.0, 60 + 1.97 * 40, 60 + 1.95 * 40):
        r = _roi(margin, 40.0, 60.0)
        (adj,) = adjust_verdicts([r])
        assert adj.verdict == verdict(r) and adj.m == 1 and adj.q == 0.025
    # one campaign just clears break-even (p = 0.0228), 39 others are at break-even: on its
    # own it is "profitable", among 40 it needs p <= 0.025 / 40 and becomes inconclusive
    border = _roi(60 + 2.0 * 40, 40.0, 60.0, name="border")
    flat = [_roi(60.0, 40.0, 60.0, name=f"f{i}") for i in range(39)]
    adj = adjust_verdicts([border, None, *flat])
    assert adj[1] is None
    assert adj[0].raw == Verdict.PROFITABLE and adj[0].verdict == Verdict.INCONCLUSIVE
    assert adj[0].changed and adj[0].m == 40
    assert adj[0].p_profitable == pytest.approx(stats.norm.sf(2.0))
    # a clear campaign stays clear among many: p = norm.sf(5) = 2.9e-7 <= 0.025 / 40
    clear = _roi(60 + 5 * 40, 40.0, 60.0)
    losing = _roi(60 - 5 * 40, 40.0, 60.0)
    adj = adjust_verdicts([clear, losing, *flat])
    assert adj[0].verdict == Verdict.PROFITABLE and adj[1].verdict == Verdict.NOT_PROFITABLE
    assert adj[0].to_dict()["rule"] == "benjamini-hochberg"


# -- simulation ----------------------------------------------------------------------------------


def _simulate(rng, n_programmes: int = 3000, m: int = 40):
    """Planted truth and estimates of ``n_programmes`` programmes of ``m`` campaigns.

    Per campaign: cost 1 (ROI = margin - 1), margin standard error between 0.2 and 2, t-noise
    with 4 to 60 degrees of freedom (the interval uses the same df). Truth: 60 % truly
    unprofitable (true ROI <= 0): a third with no effect (margin 0, ROI -100 %), a third
    exactly at break-even (the hardest case), a third between; 40 % profitable, ROI uniform
    in (0, 3].
    """
    shape = (n_programmes, m)
    u = rng.random(shape)
    roi = np.where(
        u < 0.2,
        -1.0,
        np.where(u < 0.4, 0.0, np.where(u < 0.6, -rng.random(shape), 3 * rng.random(shape))),
    )
    roi[(u >= 0.6) & (roi == 0)] = 1e-3
    se = rng.uniform(0.2, 2.0, shape)
    df = rng.integers(4, 61, shape).astype(float)
    margin_hat = (roi + 1.0) + se * rng.standard_t(df)
    tstat = (margin_hat - 1.0) / se
    p_up = stats.t.sf(tstat, df)
    p_down = stats.t.sf(-tstat, df)
    before = tstat > stats.t.ppf(0.975, df)  # the campaign's own 95 % interval clears 0
    up = bh_reject(p_up, 0.025)
    down = bh_reject(p_down, 0.025)
    after = up & ~down
    return roi, before, after


def _rates(roi, called):
    unprofitable = roi <= 0
    per_null = called[unprofitable].mean()
    false = (called & unprofitable).sum(axis=1)
    fdr = (false / np.maximum(called.sum(axis=1), 1)).mean()
    return float(per_null), float(fdr)


def test_simulated_false_profitable_rate_stays_at_the_stated_rate():
    """3,000 programmes x 40 campaigns, vectorised (well under a second)."""
    roi, before, after = _simulate(np.random.default_rng(20261202))
    null_before, fdr_before = _rates(roi, before)
    null_after, fdr_after = _rates(roi, after)
    print(
        f"truly unprofitable called profitable: before {null_before:.4f}, after {null_after:.4f}; "
        f"false discovery rate among 'profitable': before {fdr_before:.4f}, after {fdr_after:.4f}"
    )
    n_null = int((roi <= 0).sum())
    mc = 3 * math.sqrt(0.025 * 0.975 / n_null)
    # the stated rule: at most 2.5 % of "profitable" verdicts wrong on average (q), and so
    # at most 2.5 % of truly unprofitable campaigns called profitable
    assert fdr_after <= 0.025
    assert null_after <= 0.025 + mc
    # BH is never looser than the interval rule, campaign by campaign
    assert not (after & ~before).any()
    # the interval rule alone lets more through, and not all of its false calls survive
    assert fdr_before > fdr_after
    assert null_before > null_after
    # the price: fewer clearly profitable campaigns found (seed: 34 % against 56 % for a true
    # ROI above 150 %), but not a collapse
    assert after[roi > 1.5].mean() > 0.5 * before[roi > 1.5].mean()


def test_simulated_rate_with_no_profitable_campaign_at_all():
    """Every campaign at or below break-even (the complete null): BH then controls the
    family-wise rate, at most q of the programmes have any false 'profitable'."""
    rng = np.random.default_rng(7)
    shape = (4000, 40)
    roi = np.where(rng.random(shape) < 0.5, 0.0, -1.0)
    se = rng.uniform(0.2, 2.0, shape)
    tstat = (roi + se * rng.standard_normal(shape)) / se
    after = bh_reject(stats.norm.sf(tstat), 0.025)
    before = tstat > stats.norm.ppf(0.975)
    any_after = after.any(axis=1).mean()
    print(
        f"programmes with a false 'profitable': before {before.any(axis=1).mean():.3f}, "
        f"after {any_after:.4f}"
    )
    assert any_after <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / shape[0])
    assert before.any(axis=1).mean() > 0.2


# -- advice --------------------------------------------------------------------------------------


def test_advice_larger_control_only_when_the_size_exists_and_fits():
    # effect 2, sd 10, 1,000 targeted: 245 controls suffice (guardrails.required_control_size)
    fits = required_control_size(2.0, 10.0, 1000)
    assert fits.feasible and fits.n_control == 245
    advice = control_advice(fits, 1100)
    assert advice.code == "larger_control" and advice.n_control == 245
    assert advice.to_dict() == {"code": "larger_control", "n_control": 245, "n_audience": 1100}
    # effect 0.9: 31,253 controls would be needed, more than the 1,100 members of the campaign
    big = required_control_size(0.9, 10.0, 1000)
    assert big.feasible and big.n_control == 31253
    assert control_advice(big, 1100).code == "too_small"
    assert control_advice(big, 1100).n_control is None
    assert control_advice(big, 40000).code == "larger_control"
    # effect 0.5: no control group of any size
    none = required_control_size(0.5, 10.0, 1000)
    assert not none.feasible
    assert control_advice(none, 10**9).code == "too_small"
    # a control group that is large enough: no advice
    assert control_advice(None, 1100) is None
