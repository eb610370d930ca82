"""compendium.analysis.reliability: item-rest r, one-factor model, ω, polychoric, ordinal α.

Oracles: numpy's correlation of each item with a rest score summed here; ω and
standardised α worked by hand from given loadings/correlations; data simulated from a
known one-factor model (population ω from its loadings) and from a known bivariate normal
(the polychoric estimate recovers the latent ρ; the Pearson r of the coarse codes does not);
scikit-learn's ``FactorAnalysis`` (test group only) for the one-factor loadings; and the
just-identified three-item model, whose loadings solve λᵢλⱼ = rᵢⱼ by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.analysis import reliability as R
from compendium.errors import ParameterError


def _one_factor_data(loadings, n, seed, cuts=None):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    cols = {}
    for i, lam in enumerate(loadings):
        latent = lam * f + np.sqrt(1 - lam**2) * rng.standard_normal(n)
        cols[f"q{i}"] = latent if cuts is None else np.searchsorted(cuts, latent) + 1.0
    return pd.DataFrame(cols)


def test_item_rest_matches_numpy_on_rest_scores():
    df = pd.DataFrame(
        {"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 1], "c": [1, 3, 2, 4, 5, np.nan]}
    )
    res = R.item_rest(df).set_index("item")["r_rest"]
    complete = df.dropna()
    rest_a = complete["b"] + complete["c"]
    assert res["a"] == pytest.approx(np.corrcoef(complete["a"], rest_a)[0, 1])
    assert R.item_rest(df).attrs["n"] == 5


def test_omega_and_standardised_alpha_by_hand():
    # loadings 0.8, 0.6, 0.4: (1.8)^2 = 3.24; uniquenesses 0.36 + 0.64 + 0.84 = 1.84
    assert R.omega([0.8, 0.6, 0.4]) == pytest.approx(3.24 / (3.24 + 1.84))
    # three items, all r = 0.5: alpha = 3 * 0.5 / (1 + 2 * 0.5) = 0.75
    corr = np.full((3, 3), 0.5) + np.eye(3) * 0.5
    assert R.standardised_alpha(corr) == pytest.approx(0.75)


def test_one_factor_recovers_known_loadings_and_omega():
    lam = [0.8, 0.7, 0.6, 0.5]
    res = R.one_factor(_one_factor_data(lam, 20_000, seed=1))
    assert res["loadings"].to_numpy() == pytest.approx(lam, abs=0.03)
    assert res["omega"] == pytest.approx(R.omega(lam), abs=0.01)
    assert res["eigenvalues"][0] > 1 > res["eigenvalues"][1]


def _with_correlation(corr: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Data whose sample correlation matrix is exactly ``corr`` (whitened, then coloured)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, len(corr)))
    x -= x.mean(axis=0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False)).T)
    x = x @ np.linalg.cholesky(corr).T
    return pd.DataFrame(x * [1.0, 2.0, 0.5][: len(corr)] + 3, columns=list("abc")[: len(corr)])


def test_three_items_are_just_identified():
    r12, r13, r23 = 0.56, 0.48, 0.42
    corr = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1]])
    res = R.one_factor(_with_correlation(corr, 200, seed=5))
    want = [np.sqrt(r12 * r13 / r23), np.sqrt(r12 * r23 / r13), np.sqrt(r13 * r23 / r12)]
    assert res["loadings"].to_numpy() == pytest.approx(want, abs=1e-5)
    assert res["explained"] == pytest.approx(np.mean(np.square(want)), abs=1e-5)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_one_factor_equals_scikit_learn(seed):
    fa_module = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.3, 0.85, size=6)
    df = _one_factor_data(lam, 300, seed=seed, cuts=[-1.2, -0.4, 0.4, 1.2])
    res = R.one_factor(df)
    z = (df - df.mean()) / df.std(ddof=0)
    fa = fa_module.FactorAnalysis(n_components=1, tol=1e-12, max_iter=100_000).fit(z)
    want = fa.components_[0] * np.sign(fa.components_[0].sum())
    assert res["loadings"].to_numpy() == pytest.approx(want, abs=1e-4)


def test_polychoric_recovers_the_latent_correlation_of_coarse_codes():
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=4000)
    cuts = [-0.8, 0.0, 0.9]
    codes = pd.DataFrame({"x": np.searchsorted(cuts, z[:, 0]) + 1.0,
                          "y": np.searchsorted(cuts, z[:, 1]) + 1.0})
    rho = R.polychoric(codes).loc["x", "y"]
    assert rho == pytest.approx(0.6, abs=0.04)
    assert codes.corr().loc["x", "y"] < rho  # coarse codes attenuate Pearson's r


def test_ordinal_alpha_is_standardised_alpha_of_the_polychoric_matrix():
    df = _one_factor_data([0.7, 0.7, 0.7], 3000, seed=3, cuts=[-1.0, 0.0, 1.0])
    res = R.ordinal_alpha(df)
    # population: all latent r = 0.49 -> 3 * 0.49 / (1 + 2 * 0.49)
    assert res["alpha"] == pytest.approx(3 * 0.49 / 1.98, abs=0.03)
    assert res["n"] == 3000


def test_reliability_rejects_a_single_item():
    with pytest.raises(ParameterError, match="at least two item columns"):
        R.item_rest(pd.DataFrame({"a": [1, 2, 3]}))
