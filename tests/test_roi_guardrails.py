"""Tests of kpitools.roi.guardrails against hand computations and closed forms."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from kpitools.errors import CampaignError
from kpitools.locales import LOCALES
from kpitools.report.roi import control_size_text, issue_text, srm_text
from kpitools.roi import (
    ControlSizeResult,
    Issue,
    RoiInputError,
    SRMResult,
    check_groups,
    minimum_detectable_effect,
    required_control_size,
    sample_ratio_mismatch,
)


def test_srm_hand_computed_no_mismatch():
    """900 treated, 120 control, 10 % control planned.

    total = 1020; expected control = 102, expected treated = 918.
    chi² = (900 - 918)² / 918 + (120 - 102)² / 102 = 324 / 918 + 324 / 102
         = 0.3529412 + 3.1764706 = 3.5294118 on 1 df; p = 0.0603 > 0.001.
    """
    res = sample_ratio_mismatch(900, 120, 0.10)
    assert isinstance(res, SRMResult)
    assert (res.expected_treated, res.expected_control) == pytest.approx((918.0, 102.0))
    assert res.statistic == pytest.approx(324 / 918 + 324 / 102)
    assert res.statistic == pytest.approx(3.5294118)
    assert res.p_value == pytest.approx(stats.chi2.sf(3.5294118, 1), rel=1e-6)
    assert not res.mismatch
    assert res.code == "ok"
    assert res.n_total == 1020
    assert res.planned_control_share == 0.10
    assert res.alpha == 0.001
    assert res.observed_control_share == pytest.approx(120 / 1020)
    text = srm_text(res)
    assert text.startswith("No sample ratio mismatch")
    assert "11.76%" in text and "1,020" in text and "p = 0.0603" in text and "≥ 0.001" in text


def test_srm_hand_computed_mismatch():
    """1000 treated, 50 control, 10 % planned: expected 945 / 105.

    chi² = 55² / 945 + 55² / 105 = 3025 / 945 + 3025 / 105 = 3.2010582 + 28.8095238
         = 32.0105820; p ~ 1.5e-8 < 0.001.
    """
    res = sample_ratio_mismatch(1000, 50, 0.10)
    assert res.statistic == pytest.approx(32.0105820)
    assert res.mismatch
    assert res.code == "mismatch"
    assert res.expected_control == pytest.approx(105.0)
    text = srm_text(res)
    assert text.startswith("Sample ratio mismatch")
    assert "check the assignment" in text
    assert "4.76%" in text and "(50)" in text and "chi-square = 32.01" in text


@pytest.mark.parametrize(
    ("locale", "ok", "mismatch", "share"),
    [
        ("en", "No sample ratio mismatch", "Sample ratio mismatch", "4.76%"),
        ("fr", "Pas de déséquilibre", "Déséquilibre de répartition", "4,76"),
        ("it", "Nessuno squilibrio", "Squilibrio di ripartizione", "4,76%"),
    ],
)
def test_srm_sentences_in_every_locale(locale, ok, mismatch, share):
    assert srm_text(sample_ratio_mismatch(900, 120, 0.10), locale).startswith(ok)
    text = srm_text(sample_ratio_mismatch(1000, 50, 0.10), locale)
    assert text.startswith(mismatch)
    assert share in text
    assert "{" not in text


@pytest.mark.parametrize(
    "args",
    [(-1, 10, 0.1), (10, 10, 0.0), (10, 10, 1.0), (0, 0, 0.1), (10.5, 10, 0.1)],
)
def test_srm_bad_inputs(args):
    with pytest.raises(RoiInputError):
        sample_ratio_mismatch(*args)


@pytest.mark.parametrize(
    ("n1", "n0", "sd", "alpha", "power"),
    [
        (10_000, 1_000, 40.0, 0.05, 0.8),
        (5_000, 5_000, 1.0, 0.05, 0.9),
        (2_000, 300, 12.5, 0.10, 0.8),
        (50_000, 2_500, 0.25, 0.01, 0.95),
    ],
)
def test_mde_matches_closed_form(n1, n0, sd, alpha, power):
    closed = (
        (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd * math.sqrt(1 / n1 + 1 / n0)
    )
    mde = minimum_detectable_effect(n1, n0, sd, alpha=alpha, power=power)
    assert mde == pytest.approx(closed, rel=0.01)
    # The exact two-sided power also counts the other tail (solver tolerance ~1e-5).
    assert mde <= closed * (1 + 1e-4)


def test_mde_one_sided():
    closed = (stats.norm.ppf(0.95) + stats.norm.ppf(0.8)) * 3.0 * math.sqrt(1 / 800 + 1 / 200)
    for alt in ("larger", "smaller"):
        mde = minimum_detectable_effect(800, 200, 3.0, alternative=alt)
        assert mde == pytest.approx(closed, rel=1e-4)


def test_mde_errors():
    with pytest.raises(CampaignError, match="no control group"):
        minimum_detectable_effect(1000, 0, 1.0)
    with pytest.raises(RoiInputError, match="sd"):
        minimum_detectable_effect(1000, 100, 0.0)
    with pytest.raises(RoiInputError, match="alternative"):
        minimum_detectable_effect(1000, 100, 1.0, alternative="both")


@pytest.mark.parametrize(("n1", "n0"), [(10_000, 1_000), (5_000, 5_000), (2_000, 350)])
def test_required_control_size_round_trips_with_mde(n1, n0):
    sd = 25.0
    mde = minimum_detectable_effect(n1, n0, sd)
    res = required_control_size(mde, sd, n1)
    assert isinstance(res, ControlSizeResult)
    assert res.feasible
    assert abs(res.n_control - n0) <= 1
    # Sign of the effect does not matter.
    assert required_control_size(-mde, sd, n1).n_control == res.n_control
    # A slightly larger effect needs fewer control customers.
    assert required_control_size(1.1 * mde, sd, n1).n_control < res.n_control


def test_required_control_size_impossible():
    # With 1000 treated, sd 2: no control size detects less than about
    # (1.96 + 0.84) * 2 / sqrt(1000) = 0.177.
    res = required_control_size(0.1, 2.0, 1000)
    assert res.n_control == math.inf
    assert not res.feasible
    assert res.code == "infeasible"
    assert (res.effect, res.sd, res.n_treated, res.power) == (0.1, 2.0, 1000, 0.8)
    assert res.smallest_detectable == pytest.approx(
        (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 2 / math.sqrt(1000)
    )
    text = control_size_text(res)
    assert text.startswith("Impossible")
    assert "1,000 customers targeted" in text and "about 0.1772" in text
    assert control_size_text(res, "fr").startswith("Impossible :")
    assert "0,1772" in control_size_text(res, "fr")
    assert control_size_text(res, "it").startswith("Impossibile")
    with pytest.raises(RoiInputError):
        required_control_size(0.0, 2.0, 1000)


def test_required_control_size_sentence():
    res = required_control_size(1.0, 25.0, 10_000)
    assert res.feasible and res.code == "feasible"
    text = control_size_text(res)
    assert text.startswith(f"A control group of {res.n_control:,} customers")
    assert "80% power" in text
    for locale in LOCALES:
        assert "{" not in control_size_text(res, locale)
    assert "10 000" in control_size_text(res, "fr").replace("\u202f", " ").replace("\xa0", " ")
    assert "10.000" in control_size_text(res, "it")


def test_check_groups():
    assert check_groups(10_000, 2_000) == []
    (issue,) = check_groups(10_000, 0)
    assert isinstance(issue, Issue)
    assert (issue.code, issue.severity) == ("no_control", "warning")
    assert "No control group" in issue_text(issue)
    (issue,) = check_groups(10_000, 150)
    assert issue.code == "small_control"
    assert dict(issue.fields) == {"n_treated": 10_000, "n_control": 150, "min": 1000}
    msg = issue_text(issue)
    assert "small" in msg and "150" in msg
    assert check_groups(10_000, 150, min_control=100) == []
    (issue,) = check_groups(0, 0)
    assert issue.code == "no_members"
    assert "no members" in issue_text(issue)
    (issue,) = check_groups(0, 500, min_control=100)
    assert issue.code == "no_treated"
    assert "No customer was targeted" in issue_text(issue)
    assert [i.code for i in check_groups(0, 50, min_control=100)] == [
        "no_treated",
        "small_control",
    ]


def test_check_groups_sentences_in_every_locale():
    (issue,) = check_groups(10_000, 150)
    assert "150" in issue_text(issue, "fr") and "témoin" in issue_text(issue, "fr")
    assert "150" in issue_text(issue, "it") and "controllo" in issue_text(issue, "it")


# --------------------------------------------------------------------------------------
# The sample ratio check's test: chi-square, or exact binomial for small expected counts
# --------------------------------------------------------------------------------------


def test_srm_small_expected_count_uses_the_exact_binomial_test():
    """15 treated, 5 control, 5 % planned: expected control 20 x 0.05 = 1 < 5.

    chi² = (5 - 1)² / 1 + (15 - 19)² / 19 = 16 + 0.8421 = 16.8421, p = 4.06e-5: the
    chi-square would declare a mismatch at 0.001. The exact two-sided binomial test of
    5 ~ Binomial(20, 0.05): P(X >= 5) = 1 - sum_{k<5} C(20,k) 0.05^k 0.95^(20-k) = 0.002574
    (no count below 1 is less likely than 5), so p = 0.002574 > 0.001: no mismatch.
    """
    res = sample_ratio_mismatch(15, 5, 0.05)
    assert res.test == "binomial"
    assert res.expected_control == pytest.approx(1.0)
    assert res.statistic == pytest.approx(16 + 16 / 19)  # still the chi-square statistic
    tail = 1 - sum(math.comb(20, k) * 0.05**k * 0.95 ** (20 - k) for k in range(5))
    assert tail == pytest.approx(0.0025739, rel=1e-4)
    assert res.p_value == pytest.approx(tail, rel=1e-9)
    assert res.p_value == pytest.approx(stats.binomtest(5, 20, 0.05).pvalue, rel=1e-12)
    assert stats.chisquare([15, 5], f_exp=[19, 1]).pvalue < 0.001 < res.p_value
    assert not res.mismatch and res.code == "ok"
    text = srm_text(res)
    assert "exact binomial test" in text and "chi-square" not in text
    assert "p = 0.00257" in text


@pytest.mark.parametrize(
    ("n1", "n0", "share", "test"),
    [
        (27, 3, 0.10, "binomial"),  # expected control 3.0
        (40, 5, 0.10, "binomial"),  # expected control 4.5
        (45, 5, 0.10, "chi-square"),  # expected control exactly 5: chi-square
        (900, 120, 0.10, "chi-square"),
        (3, 30, 0.95, "binomial"),  # the *treated* expected count is small: 33 x 0.05 = 1.65
        (0, 40, 0.5, "chi-square"),
        (21, 5, 0.18, "binomial"),  # the demo's castello campaign 1: expected 4.68
    ],
)
def test_srm_test_choice_and_p_values_against_scipy(n1, n0, share, test):
    res = sample_ratio_mismatch(n1, n0, share)
    assert res.test == test
    total = n1 + n0
    if test == "binomial":
        ref = stats.binomtest(n0, total, share).pvalue
    else:
        ref = stats.chisquare([n1, n0], f_exp=[total * (1 - share), total * share]).pvalue
    assert res.p_value == pytest.approx(ref, rel=1e-12)
    assert res.mismatch == (ref < 0.001)


def test_srm_threshold_is_a_parameter():
    assert sample_ratio_mismatch(900, 120, 0.10, min_expected=200).test == "binomial"
    assert sample_ratio_mismatch(27, 3, 0.10, min_expected=0).test == "chi-square"
    assert sample_ratio_mismatch(27, 3, 0.10).min_expected == 5.0
    with pytest.raises(RoiInputError, match="min_expected"):
        sample_ratio_mismatch(27, 3, 0.10, min_expected=-1)


def test_srm_exact_test_flags_a_glaring_small_mismatch():
    """30 customers, 10 % planned (expected 3 controls), 12 observed: P(X >= 12) under
    Binomial(30, 0.1) is 4.5e-5 (scipy), below 0.001."""
    res = sample_ratio_mismatch(18, 12, 0.10)
    assert res.test == "binomial" and res.mismatch
    assert res.p_value == pytest.approx(stats.binomtest(12, 30, 0.1).pvalue)
    assert res.p_value < 1e-4
    for locale, word in (("en", "exact binomial"), ("fr", "binomial exact"), ("it", "binomiale")):
        text = srm_text(res, locale)
        assert word in text and "{" not in text
        assert text.startswith(("Sample ratio mismatch", "Déséquilibre", "Squilibrio"))


def test_srm_issue_of_the_exact_test_reads_its_test():
    """A campaign whose split fails the exact test gets the ``srm`` issue with the
    ``binomial`` variant: its kpis.json sentence names the exact test, not a chi-square."""
    from kpitools.report.roi import issue_message

    res = sample_ratio_mismatch(18, 12, 0.10)
    issue = Issue(
        "srm",
        fields={"observed": res.observed_control_share, "planned": 0.1, "p_value": res.p_value},
        detail={
            "total": 30,
            "n_control": 12,
            "expected_control": res.expected_control,
            "statistic": res.statistic,
            "alpha": res.alpha,
        },
        variant="binomial",
    )
    msg = issue_message(issue)
    assert msg.startswith("Sample ratio mismatch") and "exact binomial test" in msg
    assert "expected 3.0" in msg and "chi-square" not in msg
