"""combine_programme refuses a programme total among its inputs (it has no margin rate)."""

from __future__ import annotations

import pytest

from kpitools.roi import LiftResult, RoiInputError, RoiResult, combine_programme, compute_roi


def _roi(effect: float, se: float, n: int, rate: float | None) -> RoiResult:
    lift = LiftResult(
        method="ols",
        effect=effect,
        se=se,
        ci_low=effect - 2 * se,
        ci_high=effect + 2 * se,
        p_value=0.01,
        n_treated=n,
        n_control=200,
        mean_treated=22.0,
        mean_control=20.0,
        cov_type="HC2",
        alpha=0.05,
        is_binary=False,
        n_dropped=0,
        outcome="revenue" if rate is not None else "margin",
        treatment="targeted",
    )
    return compute_roi(lift, n_treated_total=n, cost=500, margin_rate=rate)


def test_combine_programme_of_a_programme_total_with_revenue_is_an_input_error():
    a = _roi(2.0, 0.5, 1_000, 0.5)
    b = _roi(1.0, 0.3, 2_000, 0.25)
    total = combine_programme([a, b])
    assert total.incremental_revenue is not None and total.margin_rate is None
    # used to fail with TypeError (margin_se / None) while computing the revenue interval
    with pytest.raises(RoiInputError, match="margin_rate"):
        combine_programme([total, a])
    # with an input lacking revenue the revenue interval is not computed: still combined
    mixed = combine_programme([total, _roi(1.0, 0.3, 2_000, None)])
    assert mixed.incremental_revenue is None
    assert mixed.notes == ("independent", "revenue_not_reported")
