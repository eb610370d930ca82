"""compendium.analysis.models: Firth regression, separation, MNLogit, power, design effect.

Oracles: the closed form of Firth's estimate in a saturated 2×2 model (Haldane's +½
correction: OR = (a+½)(d+½)/((b+½)(c+½)), Firth 1993), the defining property of a profile
penalised-likelihood bound (penalised log-likelihood drop of χ²₁(0.95)/2, computed here
with numpy), a hand-made separated data set, statsmodels ``Logit`` on binary sub-models,
the normal-approximation power formula, and hand-worked design effects and weights.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from compendium.analysis import models as M
from compendium.errors import ParameterError


def _two_by_two(a: int, b: int, c: int, d: int) -> pd.DataFrame:
    """x = 'exposed': a events, b non-events; x = 'ref': c events, d non-events."""
    x = ["exposed"] * (a + b) + ["ref"] * (c + d)
    y = [1] * a + [0] * b + [1] * c + [0] * d
    return pd.DataFrame({"x": pd.Categorical(x, categories=["ref", "exposed"]), "y": y})


def _penalised_loglik(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    p = 1 / (1 + np.exp(-eta))
    ll = float(np.sum(y * eta - np.log1p(np.exp(eta))))
    info = X.T @ (X * (p * (1 - p))[:, None])
    return ll + 0.5 * float(np.linalg.slogdet(info)[1])


def test_firth_2x2_equals_haldane_corrected_odds_ratio():
    res = M.firth_logistic(_two_by_two(7, 3, 2, 9), "y", ["x"])
    row = res.set_index("term").loc["x[T.exposed]"]
    assert row["odds_ratio"] == pytest.approx((7.5 * 9.5) / (3.5 * 2.5), rel=1e-6)
    intercept = res.set_index("term").loc["Intercept"]
    assert intercept["odds_ratio"] == pytest.approx(2.5 / 9.5, rel=1e-6)
    assert (row["n_events"], row["n_nonevents"]) == (7, 3)
    assert not res["separated"].any()


def test_firth_profile_interval_bounds_drop_the_penalised_loglik_by_chi2_half():
    res = M.firth_logistic(_two_by_two(7, 3, 2, 9), "y", ["x"])
    X = np.column_stack([np.ones(21), np.r_[np.ones(10), np.zeros(11)]])
    y = np.r_[np.ones(7), np.zeros(3), np.ones(2), np.zeros(9)]
    b0 = np.log(2.5 / 9.5)
    b1 = math.log((7.5 * 9.5) / (3.5 * 2.5))
    top = _penalised_loglik(X, y, np.array([b0, b1]))
    target = top - sps.chi2.ppf(0.95, 1) / 2
    row = res.set_index("term").loc["x[T.exposed]"]
    for bound in (math.log(row["or_ci_low"]), math.log(row["or_ci_high"])):
        # profile out the intercept numerically at the bound
        grid = np.linspace(-6, 4, 20001)
        best = max(_penalised_loglik(X, y, np.array([g, bound])) for g in grid[::50])
        fine = np.linspace(grid[0], grid[-1], 2001)
        best = max(best, max(_penalised_loglik(X, y, np.array([g, bound])) for g in fine))
        assert best == pytest.approx(target, abs=2e-3)


def test_firth_flags_separation_and_stays_finite():
    # no non-event among the exposed: the ML odds ratio is infinite
    df = _two_by_two(6, 0, 4, 8)
    res = M.firth_logistic(df, "y", ["x"])
    row = res.set_index("term").loc["x[T.exposed]"]
    assert bool(row["separated"]) and res.attrs["separation"]
    assert np.isfinite(row["odds_ratio"])
    assert row["odds_ratio"] == pytest.approx((6.5 * 8.5) / (0.5 * 4.5), rel=1e-6)
    assert row["n_nonevents"] == 0


def test_multinomial_matches_binary_logit_when_saturated():
    # a single binary predictor: the multinomial model is saturated, so each level-vs-base
    # relative risk ratio equals the cross-product ratio of the 2x3 table
    x = ["a"] * 30 + ["b"] * 30
    y = ["yes"] * 15 + ["no"] * 10 + ["dk"] * 5 + ["yes"] * 8 + ["no"] * 12 + ["dk"] * 10
    df = pd.DataFrame({"x": x, "y": y})
    res = M.multinomial_logit(df, "y", ["x"], base="no").set_index(["level", "term"])
    assert res.loc[("yes", "x[T.b]"), "rrr"] == pytest.approx((8 / 12) / (15 / 10), rel=1e-6)
    assert res.loc[("dk", "x[T.b]"), "rrr"] == pytest.approx((10 / 12) / (5 / 10), rel=1e-6)
    # the Wald interval of a saturated log-ratio: se = sqrt(1/a + 1/b + 1/c + 1/d)
    se = math.sqrt(1 / 8 + 1 / 12 + 1 / 15 + 1 / 10)
    lo = math.exp(math.log((8 / 12) / (15 / 10)) - sps.norm.ppf(0.975) * se)
    assert res.loc[("yes", "x[T.b]"), "rrr_ci_low"] == pytest.approx(lo, rel=1e-5)
    assert not res["separated"].any()


def test_min_detectable_difference_matches_the_normal_formula():
    n1, n2 = 168, 49
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    h = z * math.sqrt(1 / n1 + 1 / n2)
    p0 = 0.3
    p1 = math.sin(math.asin(math.sqrt(p0)) + h / 2) ** 2
    assert M.min_detectable_difference(n1, n2, p0=p0) == pytest.approx(p1 - p0, rel=1e-3)
    # t-based d is a little above the normal one
    d = M.min_detectable_difference(n1, n2, sd=1.0)
    assert h < d < h * 1.01
    with pytest.raises(ParameterError, match="exactly one"):
        M.min_detectable_difference(n1, n2)


def test_adjusted_difference_equals_the_group_mean_difference_without_covariates():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "g": ["a", "a", "a", "b", "b", "b"]})
    res = M.adjusted_difference(df, "y", ["g"], "g[T.b]")
    assert res["estimate"] == pytest.approx(6 - 2)
    ols = sm.OLS(df["y"], sm.add_constant((df["g"] == "b").astype(float))).fit(cov_type="HC3")
    assert res["p"] == pytest.approx(float(ols.pvalues.iloc[1]))


def test_design_effect_by_hand():
    # two clusters of two: y = (0, 0 | 2, 2), mean 1, e = (-1, -1, 1, 1)
    # Var_SRS = s^2/n = (4/3)/4 = 1/3; Var_CR = ((-2)^2 + 2^2)/16 = 1/2 -> deff = 1.5
    res = M.design_effect([0, 0, 2, 2], ["A", "A", "B", "B"])
    assert res["deff"] == pytest.approx(1.5)
    assert res["icc"] == pytest.approx(0.5)  # 1 + (2 - 1) * icc = 1.5
    # clusters that look like the whole sample: y = (0, 2 | 0, 2) -> Var_CR = 0
    assert M.design_effect([0, 2, 0, 2], ["A", "A", "B", "B"])["deff"] == pytest.approx(0)


def test_poststrat_weights_by_hand_and_errors():
    cells = pd.Series(["f", "f", "f", "m"])
    w = M.poststrat_weights(cells, {"f": 0.5, "m": 0.5})
    # f: 0.5 / 0.75 = 2/3, m: 0.5 / 0.25 = 2
    assert w.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2])
    assert w.mean() == pytest.approx(1)
    with pytest.raises(ParameterError, match="margins without respondents"):
        M.poststrat_weights(cells, {"f": 0.4, "m": 0.3, "x": 0.3})


def test_design_matrix_equals_pandas_get_dummies_without_the_reference():
    df = pd.DataFrame({"city": ["b", "a", "c", "b", "a"], "flag": [True, False, True, True, False],
                       "age": [30.0, 41, 52, 28, 35]})
    X, refs = M.design_matrix(df, ["city", "flag", "age"], reference={"city": "b"})
    want = pd.get_dummies(df[["city", "flag"]].astype(str), prefix_sep="[T.", dtype=float)
    want.columns = [f"{c}]" for c in want.columns]
    want = want.drop(columns=["city[T.b]", "flag[T.False]"]).assign(age=df["age"])
    pd.testing.assert_frame_equal(X, want, check_like=True)
    assert refs == {"city": "b", "flag": False}
    with pytest.raises(ParameterError, match="numeric, not categorical"):
        M.design_matrix(df, ["age"], reference={"age": 30})
