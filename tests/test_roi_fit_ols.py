"""fit_ols: one SVD for the rank test, the leverages and the fit, the same numbers as statsmodels;
bell_mccaffrey_df from the fit's pseudo-inverse and leverages, against the n x n definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS

from kpitools.errors import FitError
from kpitools.roi.estimators import _fit_ols, fit_ols
from kpitools.roi.inference import bell_mccaffrey_df


def _design(n: int = 400, seed: int = 3) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.85).astype(float)
    x = rng.normal(size=(n, 2))
    seg = rng.integers(0, 3, n)
    X = pd.DataFrame(
        {
            "Intercept": 1.0,
            "treated": t,
            "x0": x[:, 0],
            "x1": x[:, 1],
            "seg=b": (seg == 1).astype(float),
            "seg=c": (seg == 2).astype(float),
        }
    )
    # heteroskedastic, skewed outcome: the robust covariances differ from one another
    y = pd.Series(3 + 2 * t + x @ [1.0, -0.5] + rng.gamma(1.0, 1.0 + 2 * t, n), name="revenue")
    return y, X


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3", "nonrobust"])
def test_same_fit_as_statsmodels_bit_for_bit(cov_type):
    y, X = _design()
    res = fit_ols(y, X, cov_type, ("x0", "x1", "seg"))
    kw = {} if cov_type == "nonrobust" else {"cov_type": cov_type, "use_t": True}
    ref = OLS(y, X).fit(**kw)
    assert res.cov_type == ref.cov_type
    assert list(res.params.index) == list(X.columns)
    np.testing.assert_array_equal(res.params.to_numpy(), ref.params.to_numpy())
    if cov_type in ("HC2", "HC3"):
        # the leverages come from the SVD (rows of U squared), statsmodels' from X (X'X)^-1 X':
        # the same numbers to the last bits, and not a shortcut (they differ from HC1's)
        np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-13, atol=0)
        hc1 = OLS(y, X).fit(cov_type="HC1").bse.to_numpy()
        assert np.abs(res.bse.to_numpy() / hc1 - 1).max() > 1e-4
        np.testing.assert_allclose(res.het_scale, ref.het_scale, rtol=1e-12, atol=0)
    else:
        np.testing.assert_array_equal(res.bse.to_numpy(), ref.bse.to_numpy())
    np.testing.assert_array_equal(res.model.pinv_wexog, ref.model.pinv_wexog)
    assert (res.ssr, res.df_resid, res.df_model) == (ref.ssr, ref.df_resid, ref.df_model)
    assert res.use_t == ref.use_t


def test_leverages_are_the_hat_matrix_diagonal():
    y, X = _design(60)
    _, h = _fit_ols(y, X, "HC2", ())
    Xa = X.to_numpy()
    H = Xa @ np.linalg.inv(Xa.T @ Xa) @ Xa.T
    np.testing.assert_allclose(h, np.diag(H), rtol=0, atol=1e-12)
    assert _fit_ols(y, X, "HC1", ())[1] is None  # HC0/HC1 need none


def test_collinear_design_is_refused():
    y, X = _design(50)
    X = X.assign(x2=2 * X["x0"] - X["treated"])
    with pytest.raises(FitError, match="collinear"):
        fit_ols(y, X, "HC2", ("x0", "x2"))


def test_bell_mccaffrey_from_the_fit_equals_the_n_by_n_definition():
    """(sum_i d_i M_ii)^2 / sum_ij d_i d_j M_ij^2 with M = I - H formed explicitly."""
    y, X = _design(80, seed=11)
    Xa = X.to_numpy()
    H = Xa @ np.linalg.inv(Xa.T @ Xa) @ Xa.T
    M = np.eye(len(Xa)) - H
    g = Xa @ np.linalg.inv(Xa.T @ Xa)[:, 1]
    d = g**2 / (1 - np.diag(H))
    truth = np.sum(d * np.diag(M)) ** 2 / np.sum(np.outer(d, d) * M**2)
    res, h = _fit_ols(y, X, "HC2", ())
    shared = bell_mccaffrey_df(res.model.wexog, 1, pinv=res.model.pinv_wexog, leverage=h)
    assert shared == pytest.approx(truth, rel=1e-12)
    assert bell_mccaffrey_df(Xa, 1) == pytest.approx(truth, rel=1e-12)
    assert bell_mccaffrey_df(Xa, 1, pinv=res.model.pinv_wexog) == pytest.approx(truth, rel=1e-12)
