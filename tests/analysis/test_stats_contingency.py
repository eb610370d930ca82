"""compendium.analysis.contingency: Fisher-Freeman-Halton p-values and Bergsma's V.

Oracles: SciPy's exact 2×2 Fisher test, a brute-force enumeration written here with
``math.lgamma`` (independent of the vectorised one in the package), SciPy's Monte-Carlo
Fisher test with many resamples, and Bergsma's bias-corrected V worked by hand.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from scipy import stats as sps

from compendium.analysis import contingency as C
from compendium.errors import ParameterError


def _brute_force_p(table: np.ndarray) -> float:
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = int(table.sum())
    lg = math.lgamma

    def prob(first):
        second = cols - first
        num = sum(lg(v + 1) for v in [*rows, *cols])
        return math.exp(num - lg(n + 1) - sum(lg(v + 1) for v in [*first, *second]))

    p_obs = prob(table[0])
    return sum(
        prob(np.array(f))
        for f in product(*(range(c + 1) for c in cols))
        if sum(f) == rows[0] and prob(np.array(f)) <= p_obs * (1 + 1e-7)
    )


def test_fisher_2x2_is_scipys_exact_test():
    table = [[8, 2], [1, 5]]
    res = C.fisher_rxc(table)
    assert res["p_method"] == "exact"
    assert res["p"] == pytest.approx(sps.fisher_exact(table).pvalue)


@pytest.mark.parametrize(
    "table", [[[5, 1, 2, 0], [1, 4, 4, 3]], [[10, 3, 7], [2, 9, 6]]]
)
def test_fisher_2xc_is_exact_and_matches_brute_force_enumeration(table):
    res = C.fisher_rxc(table)
    assert res["p_method"] == "exact"
    assert res["p_se"] == 0
    assert res["p"] == pytest.approx(_brute_force_p(np.array(table)), rel=1e-9)
    # an r x 2 table is the transposed problem
    assert C.fisher_rxc(np.array(table).T)["p"] == pytest.approx(res["p"], rel=1e-12)


def test_fisher_falls_back_to_seeded_monte_carlo_with_its_standard_error():
    table = np.array([[10, 3, 7], [2, 9, 6]])
    exact = _brute_force_p(table)
    res = C.fisher_rxc(table, max_tables=10, n_resamples=20_000, seed=1)
    again = C.fisher_rxc(table, max_tables=10, n_resamples=20_000, seed=1)
    assert res["p_method"] == "monte-carlo"
    assert res["p"] == again["p"]  # seeded
    assert res["p_se"] == pytest.approx(math.sqrt(res["p"] * (1 - res["p"]) / 20_000))
    assert abs(res["p"] - exact) < 4 * res["p_se"]


def test_fisher_3x3_uses_monte_carlo():
    res = C.fisher_rxc([[3, 1, 0], [1, 3, 1], [0, 1, 4]], n_resamples=999)
    assert res["p_method"] == "monte-carlo" and res["n_resamples"] == 999


def test_fisher_rejects_negative_or_fractional_counts():
    with pytest.raises(ParameterError, match="whole counts"):
        C.fisher_rxc([[1, -1], [2, 3]])
    with pytest.raises(ParameterError, match="whole counts"):
        C.fisher_rxc([[1.5, 1], [2, 3]])


def test_bergsma_v_by_hand_on_a_2x2_table():
    # [[10, 20], [30, 40]], n = 100: chi2 = 100 (10*40 - 20*30)^2 / (30*70*40*60) = 0.79365;
    # phi2 = 0.0079365 - 1/99 < 0 -> corrected V = 0
    assert C.cramers_v_bc([[10, 20], [30, 40]]) == 0.0
    # [[30, 10], [10, 30]], n = 80: chi2 = 80 * 800^2 / 40^4 = 20, phi2 = 0.25 - 1/79,
    # r~ = c~ = 2 - 1/79 -> V = sqrt((0.25 - 1/79) / (1 - 1/79))
    expected = math.sqrt((0.25 - 1 / 79) / (1 - 1 / 79))
    assert C.cramers_v_bc([[30, 10], [10, 30]]) == pytest.approx(expected, rel=1e-12)


def test_bergsma_v_is_below_the_plain_v_and_bootstrap_interval_is_seeded():
    table = np.array([[25, 10, 5], [10, 20, 15]])
    plain = sps.contingency.association(table, method="cramer", correction=False)
    assert C.cramers_v_bc(table) < plain
    x = np.repeat(["a", "a", "a", "b", "b", "b"], table.ravel())
    y = np.repeat(["u", "v", "w", "u", "v", "w"], table.ravel())
    res = C.cramers_v_bootstrap(x, y, n_boot=199, seed=3)
    assert res == C.cramers_v_bootstrap(x, y, n_boot=199, seed=3)
    assert res["v"] == pytest.approx(C.cramers_v_bc(table))
    assert res["ci_low"] <= res["v"] <= res["ci_high"]
