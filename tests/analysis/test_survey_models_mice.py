"""The array-sliced MICE imputer gives statsmodels' own imputations (the oracle: plain
``MICEData``, which builds each design matrix by parsing a formula with patsy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.imputation.mice import MICEData

from compendium.analysis.survey_models import _mice_data


def _battery(seed: int, n: int = 120, k: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    items = np.clip(np.round(3 + latent[:, None] + rng.normal(size=(n, k))), 1, 5)
    frame = pd.DataFrame(items, columns=[f"x{i}" for i in range(k)])
    frame = frame.mask(rng.random(frame.shape) < 0.08)
    return frame.assign(papi=(rng.random(n) < 0.4).astype(float))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_array_mice_imputes_exactly_what_statsmodels_formula_mice_imputes(seed):
    frame = _battery(seed)
    assert frame.isna().any().any()
    ours = _mice_data(frame, k_pmm=10, rng=np.random.default_rng(seed))
    theirs = MICEData(frame, k_pmm=10, rng=np.random.default_rng(seed))
    for cycles in (3, 2, 2):
        ours.update_all(cycles)
        theirs.update_all(cycles)
        pd.testing.assert_frame_equal(ours.data, theirs.data, check_exact=True)
    # the observed values are untouched
    observed = frame.notna()
    assert (ours.data[observed] == frame[observed]).sum().sum() == observed.sum().sum()
