"""compendium.analysis.firth: our Firth logistic regression and separation check.

Oracles: firthmodels (an independent implementation, kept in the test group only) on
random designs with and without separation, to 1e-6; the closed form of a saturated 2×2
model (Firth's estimate is the log odds ratio with ½ added to each cell, Firth 1993); the
inverse of XᵀWX computed here with numpy for the standard errors (firthmodels inverts
XᵀW(1 + h)X instead, so its standard errors are not an oracle); the defining property of
a profile bound; and hand-made separated data for Konis's linear programme.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps
from scipy.optimize import minimize_scalar

from compendium.analysis import firth as F
from compendium.errors import ParameterError

firthmodels = pytest.importorskip("firthmodels")


def _data(seed: int, n: int, k: int, separate: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    X[:, 0] = rng.integers(0, 2, n)  # a dummy, as in the survey models
    eta = 0.3 + X @ rng.normal(scale=0.8, size=k)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    if separate:  # quasi-complete separation: every row with the dummy at 1 is an event
        y[X[:, 0] == 1] = 1.0
    return X, y


CASES = [(1, 30, 2, False), (2, 60, 3, True), (3, 200, 5, False), (4, 25, 1, True),
         (5, 120, 4, True), (6, 80, 3, False)]


def _oracle(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """firthmodels' fit with the intercept moved first (it puts it last)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = firthmodels.FirthLogisticRegression(backend="numpy", max_iter=100, gtol=1e-8,
                                                xtol=1e-8).fit(X, y)
        m.lrt()
        ci = m.conf_int(method="pl", tol=1e-9, max_iter=100)
    order = [X.shape[1], *range(X.shape[1])]
    sep = firthmodels.detect_separation(X, y)
    return {"coef": np.r_[m.coef_, m.intercept_][order], "p_lrt": m.lrt_pvalues_[order],
            "ci_low": ci[order, 0], "ci_high": ci[order, 1],
            "infinite": ~np.asarray(sep.is_finite)[order]}


@pytest.mark.parametrize(("seed", "n", "k", "separate"), CASES)
def test_fit_equals_firthmodels(seed, n, k, separate):
    X, y = _data(seed, n, k, separate)
    Xc = np.column_stack([np.ones(n), X])
    fit = F.firth_fit(Xc, y)
    want = _oracle(X, y)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, want["coef"], atol=1e-6)
    for key in ("p_lrt", "ci_low", "ci_high"):
        ok = ~np.isnan(want[key])  # firthmodels gives NaN where its constrained fit fails
        assert ok.sum() >= len(ok) - 1, key
        np.testing.assert_allclose(getattr(fit, key)[ok], want[key][ok], atol=1e-6)
    assert not np.isnan(fit.p_lrt).any() and not np.isnan(fit.ci_low).any()
    np.testing.assert_array_equal(F.infinite_ml(Xc, y), want["infinite"])
    assert F.infinite_ml(Xc, y)[1] == separate


@pytest.mark.parametrize(("seed", "n", "k", "separate"), CASES[:3])
def test_standard_errors_are_the_inverse_fisher_information(seed, n, k, separate):
    X, y = _data(seed, n, k, separate)
    Xc = np.column_stack([np.ones(n), X])
    fit = F.firth_fit(Xc, y)
    p = 1 / (1 + np.exp(-Xc @ fit.coef))
    info = Xc.T @ (Xc * (p * (1 - p))[:, None])
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(np.linalg.inv(info))), rtol=1e-8)
    np.testing.assert_allclose(fit.p_wald, 2 * sps.norm.sf(np.abs(fit.coef / fit.se)),
                               rtol=1e-8)


def _two_by_two(a: int, b: int, c: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Exposed: a events, b non-events; reference: c events, d non-events."""
    x = np.r_[np.ones(a + b), np.zeros(c + d)]
    y = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    return np.column_stack([np.ones_like(x), x]), y


@pytest.mark.parametrize("cells", [(7, 3, 2, 9), (6, 0, 4, 8), (0, 5, 5, 0), (12, 30, 4, 1)])
def test_saturated_two_by_two_adds_a_half_to_each_cell(cells):
    a, b, c, d = cells
    X, y = _two_by_two(a, b, c, d)
    fit = F.firth_fit(X, y)
    assert fit.coef[0] == pytest.approx(math.log((c + 0.5) / (d + 0.5)), abs=1e-8)
    assert fit.coef[1] == pytest.approx(
        math.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))), abs=1e-8)
    # separation: a zero cell makes the ML log odds ratio infinite
    assert F.infinite_ml(X, y)[1] == (0 in cells)


def test_profile_bound_drops_the_penalised_loglik_by_half_the_chi2_quantile():
    X, y = _two_by_two(7, 3, 2, 9)
    fit = F.firth_fit(X, y, level=0.9)
    target = F.penalised_loglik(X, y, fit.coef) - sps.chi2.ppf(0.9, 1) / 2
    for bound in (fit.ci_low[1], fit.ci_high[1]):
        # profile the intercept out with SciPy's bounded scalar search (not our Newton steps)
        best = minimize_scalar(lambda g, b=bound: -F.penalised_loglik(X, y, np.array([g, b])),
                               bounds=(-6, 4), method="bounded", options={"xatol": 1e-9})
        assert -best.fun == pytest.approx(target, abs=1e-8)
    assert fit.ci_low[1] < fit.coef[1] < fit.ci_high[1]


def test_penalised_loglik_by_hand():
    X, y = _two_by_two(1, 1, 1, 1)
    # beta = 0: p = 1/2, l = 4 log(1/2); XᵀWX = [[1, 1/2], [1/2, 1/2]], det = 1/4
    assert F.penalised_loglik(X, y, np.zeros(2)) == pytest.approx(
        4 * math.log(0.5) + 0.5 * math.log(0.25))


def test_complete_separation_by_hand():
    X = np.column_stack([np.ones(6), [1, 2, 3, 4, 5, 6]])
    y = np.array([0, 0, 0, 1, 1, 1.0])
    assert F.infinite_ml(X, y).tolist() == [True, True]
    assert F.infinite_ml(X, np.array([0, 1, 0, 1, 0, 1.0])).tolist() == [False, False]
    fit = F.firth_fit(X, y)
    assert np.isfinite(fit.coef).all() and fit.coef[1] > 0


def test_collinear_design_names_the_aliased_column():
    X = np.column_stack([np.ones(6), [0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]])
    with pytest.raises(ParameterError, match="aliased: b"):
        F.infinite_ml(X, np.array([0, 1, 1, 0, 0, 1.0]), names=["Intercept", "a", "b"])
