"""The bootstrap of Cramér's V without SciPy's per-call overhead gives the same floats.

``cramers_v_bootstrap`` used to build each resample's table with ``np.add.at`` and call
``scipy.stats.chi2_contingency`` 999 times (~1 ms a call in its argument handling: ~10 s of
CPU a page at 100x survey data). It now counts with ``np.bincount`` and computes Pearson's
χ² by SciPy's own operations. Oracles: SciPy's ``chi2_contingency`` on random tables (the
very same float, not an approximation), a χ² worked by hand, and the previous implementation,
kept here as a reference (labelled as such), on random samples.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from compendium.analysis import contingency as C


def reference_cramers_v_bootstrap(x, y, *, level=0.95, n_boot=999, seed=20240501):
    """REFERENCE: the implementation before this change (commit 5980d11), verbatim but for
    the argument checks."""
    xa, ya = np.asarray(x, dtype=object), np.asarray(y, dtype=object)
    xi = np.unique(xa.astype(str), return_inverse=True)[1]
    yi = np.unique(ya.astype(str), return_inverse=True)[1]
    r, c = xi.max() + 1, yi.max() + 1

    def v_of(idx):
        tab = np.zeros((r, c), dtype=np.int64)
        np.add.at(tab, (xi[idx], yi[idx]), 1)
        tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
        return 0.0 if min(tab.shape) < 2 else C.cramers_v_bc(tab)

    rng = np.random.default_rng(seed)
    n = len(xi)
    boots = np.array([v_of(rng.integers(0, n, n)) for _ in range(n_boot)])
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return {"v": v_of(np.arange(n)), "ci_low": float(lo), "ci_high": float(hi)}


def test_pearson_chi2_by_hand():
    # [[10, 20], [30, 40]]: n = 100, expected [[12, 18], [28, 42]];
    # chi2 = 4/12 + 4/18 + 4/28 + 4/42 = 0.79365...
    assert C._pearson_chi2(np.array([[10, 20], [30, 40]])) == pytest.approx(
        4 / 12 + 4 / 18 + 4 / 28 + 4 / 42, rel=1e-15)


def test_pearson_chi2_is_scipys_float_on_random_tables():
    rng = np.random.default_rng(7)
    for _ in range(400):
        r, c = rng.integers(2, 7, size=2)
        tab = rng.integers(1, rng.choice([5, 50, 5000, 10**6]), size=(r, c))
        expected = float(sps.chi2_contingency(tab, correction=False)[0])
        assert C._pearson_chi2(tab) == expected  # bit for bit


@pytest.mark.parametrize("seed", range(6))
def test_the_bootstrap_equals_the_previous_implementation(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 600))
    levels_x = ["a", "b", "c", "d"][: int(rng.integers(2, 5))]
    levels_y = ["yes", "no", "NA"][: int(rng.integers(2, 4))]
    x = rng.choice(levels_x, n, p=None)
    y = np.where(rng.random(n) < 0.3, x[:1].repeat(n), rng.choice(levels_y, n))  # related
    kw = {"n_boot": 199, "seed": 100 + seed, "level": [0.9, 0.95][seed % 2]}
    assert C.cramers_v_bootstrap(x, y, **kw) == reference_cramers_v_bootstrap(x, y, **kw)


def test_the_bootstrap_equals_the_previous_implementation_with_rare_levels():
    # a level seen once: many resamples lose it (a smaller table) or keep one level (V = 0)
    x = np.array(["a"] * 30 + ["b"] * 29 + ["c"])
    y = np.array(["u", "v"] * 30)
    kw = {"n_boot": 299, "seed": 5}
    assert C.cramers_v_bootstrap(x, y, **kw) == reference_cramers_v_bootstrap(x, y, **kw)
