"""The survey statistics on scaled-up synthetic data: Mann–Whitney's effect size is the
formula U/(n1·n2) (U counted independently, pair by pair), and the statistics on 100× data
run in memory that does not grow with n1·n2 (no pairwise matrix)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import yaml

from compendium.analysis import stats, survey_analysis
from compendium.data.codebook import load_codebook
from compendium.data.sources import files_of
from compendium.data.survey import apply_missing, read_survey
from compendium.synthetic import survey as synthetic

ROOT = Path(__file__).resolve().parents[2]
CODEBOOK = files_of("ops_survey", ROOT / "data")["codebook"]


def _scores(tmp_path: Path, scale: int) -> tuple[np.ndarray, np.ndarray]:
    cal = yaml.safe_load((ROOT / "data" / "calibration" / "survey.yaml").read_text("utf-8"))
    cawi, papi = synthetic.write(tmp_path, CODEBOOK, cal, seed=1, scale=scale)
    cb = load_codebook(CODEBOOK)
    scored = survey_analysis.add_readiness(apply_missing(read_survey(cawi, papi, cb), cb), cb)
    score = scored["readiness_score"].to_numpy(dtype=float)
    mode = scored["mode"].to_numpy()
    return score[mode == "CAWI"], score[mode == "PAPI"]


def test_mann_whitney_effect_size_is_u_over_n1_n2_on_10x_data(tmp_path):
    x, y = _scores(tmp_path, 10)
    res = stats.mwu_test(x, y)
    xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
    assert res["n1"] == len(xs) > 1000 and res["n2"] == len(ys) > 300
    # U by definition: pairs in which x is larger, ties counting one half (all n1·n2 pairs)
    greater = (xs[:, None] > ys[None, :]).sum()
    ties = (xs[:, None] == ys[None, :]).sum()
    u = greater + 0.5 * ties
    assert res["U"] == u
    assert res["cles"] == pytest.approx(u / (len(xs) * len(ys)), rel=1e-12)
    assert res["rbc"] == pytest.approx(2 * u / (len(xs) * len(ys)) - 1, rel=1e-12)


@pytest.mark.slow  # generates and reads 100x survey data (~8 s)
def test_statistics_on_100x_data_run_in_bounded_memory(tmp_path):
    x, y = _scores(tmp_path, 100)
    n1, n2 = np.count_nonzero(~np.isnan(x)), np.count_nonzero(~np.isnan(y))
    pairwise_bytes = 8 * n1 * n2  # what one n1 × n2 float matrix would take (~0.4 GB here)
    tracemalloc.start()
    try:
        res = stats.mwu_test(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pairwise_bytes > 3e8
    assert peak < 50 * (n1 + n2) * 8  # linear in the sample sizes
    # the effect size is still the formula, U from the rank sum: U = R1 − n1(n1 + 1)/2
    from scipy.stats import rankdata

    ranks = rankdata(np.r_[x[~np.isnan(x)], y[~np.isnan(y)]])
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    assert res["U"] == pytest.approx(u, rel=1e-12)
    assert res["cles"] == pytest.approx(u / (n1 * n2), rel=1e-12)
