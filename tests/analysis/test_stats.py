"""compendium.analysis.stats: every number worked out by hand or by an independent library."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from compendium.analysis import stats as S
from compendium.errors import ParameterError


def wilson_by_hand(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    z = sps.norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


# --------------------------------------------------------------------------- wilson
def test_wilson_interval_matches_the_textbook_formula():
    low, high = S.wilson_ci(7, 20)
    exp_low, exp_high = wilson_by_hand(7, 20)
    assert low == pytest.approx(exp_low, abs=1e-12)
    assert high == pytest.approx(exp_high, abs=1e-12)


def test_wilson_interval_handles_zero_successes():
    low, high = S.wilson_ci(0, 10)
    assert low == 0.0
    # upper bound for 0/n is z^2 / (n + z^2)
    z = sps.norm.ppf(0.975)
    assert high == pytest.approx(z**2 / (10 + z**2), abs=1e-12)


def test_wilson_interval_handles_all_successes_and_empty_base():
    assert S.wilson_ci(10, 10)[1] == 1.0
    low, high = S.wilson_ci(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_wilson_interval_is_vectorised():
    low, high = S.wilson_ci(np.array([0, 7, 0]), np.array([10, 20, 0]), level=0.9)
    assert low.shape == (3,)
    assert low[1] == pytest.approx(wilson_by_hand(7, 20, 0.9)[0], abs=1e-12)
    assert math.isnan(high[2])


def test_wilson_interval_rejects_more_successes_than_trials():
    with pytest.raises(ParameterError, match="k <= n"):
        S.wilson_ci(5, 3)


# --------------------------------------------------------------------------- proportion_table
def test_proportion_table_keeps_zero_count_categories_in_order():
    s = pd.Series(pd.Categorical(["b", "a", "b", None], categories=["c", "b", "a"]))
    t = S.proportion_table(s)
    assert list(t.columns) == ["category", "n", "pct", "ci_low", "ci_high"]
    assert t["category"].tolist() == ["c", "b", "a"]
    assert t["n"].tolist() == [0, 2, 1]
    assert t.attrs["base"] == 3
    assert t["pct"].tolist() == pytest.approx([0.0, 200 / 3, 100 / 3])
    lo, hi = wilson_by_hand(2, 3)
    assert t.loc[1, "ci_low"] == pytest.approx(lo * 100)
    assert t.loc[1, "ci_high"] == pytest.approx(hi * 100)
    assert t.loc[0, "ci_low"] == 0.0


def test_proportion_table_uses_given_categories_and_rejects_unlisted_values():
    s = pd.Series(["yes", "no", "yes"])
    t = S.proportion_table(s, categories=["yes", "no", "unsure"])
    assert t["n"].tolist() == [2, 1, 0]
    with pytest.raises(ParameterError, match=r"values \['no'\] not listed"):
        S.proportion_table(s, categories=["yes"])


def test_proportion_table_counts_missing_in_base_when_dropna_false():
    s = pd.Series(["x", None, "x", "y"])
    t = S.proportion_table(s, dropna=False)
    assert t["category"].tolist() == ["x", "y", "(missing)"]
    assert t.attrs["base"] == 4
    assert t["pct"].tolist() == pytest.approx([50.0, 25.0, 25.0])


# --------------------------------------------------------------------------- multi response
def test_multi_response_table_uses_respondents_as_base_and_ranks():
    df = pd.DataFrame(
        {
            "jobs": [1, 0, np.nan, 1, 1],
            "housing": [1, 1, np.nan, np.nan, 0],
            "school": [0, 0, np.nan, 0, 0],
        }
    )
    t = S.multi_response_table(df, labels={"jobs": "Jobs"})
    # row 3 answered nothing -> base 4; a missing option among answering rows counts as no
    assert t.attrs["base"] == 4
    assert t["option"].tolist() == ["Jobs", "housing", "school"]
    assert t["n"].tolist() == [3, 2, 0]
    assert t["pct"].tolist() == pytest.approx([75.0, 50.0, 0.0])
    assert t["pct"].sum() > 100  # multiple response sums past 100 %


def test_multi_response_table_rejects_non_binary_values():
    df = pd.DataFrame({"a": [1, 2], "b": [0, 1]})
    with pytest.raises(ParameterError, match=r"column 'a', index 1: value 2 is not 0/1"):
        S.multi_response_table(df)


# --------------------------------------------------------------------------- chi2 / fisher
def _frame_from_table(table: list[list[int]]) -> pd.DataFrame:
    rows = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            rows += [(f"r{i}", f"c{j}")] * count
    return pd.DataFrame(rows, columns=["x", "y"])


def test_chi2_test_matches_scipy_without_continuity_correction():
    table = [[20, 15], [10, 25]]
    df = _frame_from_table(table)
    df.loc[len(df)] = [None, "c0"]  # a missing x is dropped
    res = S.chi2_test(df, "x", "y")
    chi2, p, dof, expected = sps.chi2_contingency(table, correction=False)
    assert res["test"] == "chi2"
    assert res["n"] == 70
    assert res["chi2"] == pytest.approx(chi2)
    assert res["p"] == pytest.approx(p)
    assert res["dof"] == dof == 1
    assert res["cramers_v"] == pytest.approx(math.sqrt(chi2 / 70))
    assert res["min_expected"] == pytest.approx(expected.min())


def test_chi2_test_switches_to_exact_fisher_on_small_2x2():
    # [[3, 0], [0, 3]]: only the two extreme tables are as unlikely -> p = 2 / C(6, 3)
    res = S.chi2_test(_frame_from_table([[3, 0], [0, 3]]), "x", "y")
    assert res["test"] == "fisher"
    assert res["p_method"] == "exact"
    assert res["p"] == pytest.approx(2 / 20)
    assert res["min_expected"] == pytest.approx(1.5)


def _exact_freeman_halton_2x3(table: np.ndarray) -> float:
    """Exact Fisher-Freeman-Halton p for a 2xc table, by enumerating the first row."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = table.sum()

    def prob(first_row):
        second = cols - first_row
        num = sum(math.lgamma(v + 1) for v in [*rows, *cols])
        den = math.lgamma(n + 1) + sum(math.lgamma(v + 1) for v in [*first_row, *second])
        return math.exp(num - den)

    p_obs = prob(table[0])
    total = 0.0
    for first in product(*(range(c + 1) for c in cols)):
        first = np.array(first)
        if first.sum() == rows[0]:
            pr = prob(first)
            if pr <= p_obs * (1 + 1e-7):
                total += pr
    return total


def test_chi2_test_gives_exact_fisher_on_small_2xc_without_a_chi2_beside_it():
    table = np.array([[5, 1, 2], [1, 4, 4]])
    df = _frame_from_table(table.tolist())
    res = S.chi2_test(df, "x", "y")
    assert res["test"] == "fisher"
    assert res["p_method"] == "exact"
    assert res["p_se"] == 0
    assert res["p"] == pytest.approx(_exact_freeman_halton_2x3(table), rel=1e-9)
    # the chi2 statistic is not reported beside a Fisher p-value; V still is
    assert math.isnan(res["chi2"]) and math.isnan(res["dof"])
    chi2 = sps.chi2_contingency(table, correction=False)[0]
    assert res["cramers_v"] == pytest.approx(math.sqrt(chi2 / 17))


def test_chi2_test_rejects_a_variable_with_one_level():
    df = pd.DataFrame({"x": ["a", "a", "a", None], "y": ["u", "v", "u", "v"]})
    with pytest.raises(ParameterError, match="'x': has 1 observed level"):
        S.chi2_test(df, "x", "y")


def test_chi2_test_names_missing_columns():
    with pytest.raises(ParameterError, match=r"\['z'\] not in the data frame"):
        S.chi2_test(pd.DataFrame({"x": [1], "y": [2]}), "x", "z")


# --------------------------------------------------------------------------- cronbach
def test_cronbach_drops_incomplete_respondents_listwise():
    items = pd.DataFrame(
        {
            "q1": [1, 2, 3, 4, 5, 2, 3, np.nan],
            "q2": [2, 2, 3, 5, 4, 1, 3, 4],
            "q3": [1, 3, 4, 4, 5, 2, 2, 1],
        }
    )
    res = S.cronbach(items)
    complete = items.dropna()
    k, n = 3, len(complete)
    cov = complete.cov().to_numpy()
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * sps.f.isf(0.025, df1, df2)
    high = 1 - (1 - alpha) * sps.f.isf(0.975, df1, df2)
    assert res["n"] == 7 and res["k"] == 3
    assert res["alpha"] == pytest.approx(alpha)
    assert res["ci_low"] == pytest.approx(low, abs=5e-4)  # pingouin rounds to 3 decimals
    assert res["ci_high"] == pytest.approx(high, abs=5e-4)


def test_cronbach_rejects_text_items():
    with pytest.raises(ParameterError, match="not numeric"):
        S.cronbach(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))


# --------------------------------------------------------------------------- kruskal / mwu
def test_kruskal_test_matches_scipy_and_epsilon_squared():
    df = pd.DataFrame(
        {
            "score": [1, 2, 2, 3, 4, 4, 5, 5, 3, 1, np.nan],
            "city": list("aaabbbcccca"),
        }
    )
    res = S.kruskal_test(df, "score", "city")
    groups = [g["score"].dropna() for _, g in df.groupby("city")]
    h, p = sps.kruskal(*groups)
    assert res["n"] == 10
    assert res["dof"] == 2
    assert res["H"] == pytest.approx(h)
    assert res["p"] == pytest.approx(p)
    assert res["epsilon2"] == pytest.approx(h / 9)


def test_mwu_test_matches_scipy_and_effect_sizes():
    x = [3, 4, 5, 5, 6, np.nan]
    y = [1, 2, 3, 4, 4, 2, 1]
    res = S.mwu_test(x, y)
    sp = sps.mannwhitneyu([3, 4, 5, 5, 6], y, alternative="two-sided")
    assert (res["n1"], res["n2"]) == (5, 7)
    assert res["U"] == pytest.approx(sp.statistic)
    # by hand: pairs with x > y plus half the ties: 4.5 + 6 + 7 + 7 + 7
    assert res["U"] == 31.5
    assert res["p"] == pytest.approx(sp.pvalue)
    assert res["cles"] == pytest.approx(sp.statistic / 35)
    assert res["rbc"] == pytest.approx(2 * sp.statistic / 35 - 1)


# --------------------------------------------------------------------------- logistic
def test_logistic_dummy_codes_against_reference_and_matches_statsmodels():
    rng = np.random.default_rng(7)
    n = 120
    city = rng.choice(["Kalisz", "Konin", "Poznań"], n)
    age = rng.normal(45, 10, n)
    lin = -0.5 + 0.8 * (city == "Poznań") + 0.04 * (age - 45)
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    df = pd.DataFrame({"y": y, "city": city, "age": age})
    df.loc[0, "age"] = np.nan  # dropped listwise
    res = S.logistic(df, "y", ["city", "age"], reference={"city": "Konin"})

    assert res["term"].tolist() == ["Intercept", "city[T.Kalisz]", "city[T.Poznań]", "age"]
    assert res.attrs["n"] == n - 1 and (res["n"] == n - 1).all()
    assert res.attrs["reference"] == {"city": "Konin"}

    d = df.dropna()
    X = pd.DataFrame(
        {
            "const": 1.0,
            "kalisz": (d["city"] == "Kalisz").astype(float),
            "poznan": (d["city"] == "Poznań").astype(float),
            "age": d["age"],
        }
    )
    fit = sm.Logit(d["y"], X).fit(disp=0)
    assert res["coef"].to_numpy() == pytest.approx(fit.params.to_numpy(), abs=1e-4)
    assert res["se"].to_numpy() == pytest.approx(fit.bse.to_numpy(), abs=1e-4)
    assert res["p"].to_numpy() == pytest.approx(fit.pvalues.to_numpy(), abs=1e-4)
    ci = fit.conf_int().to_numpy()
    assert res["ci_low"].to_numpy() == pytest.approx(ci[:, 0], abs=1e-4)
    assert res["odds_ratio"].to_numpy() == pytest.approx(np.exp(fit.params.to_numpy()), rel=1e-3)
    assert res["or_ci_high"].to_numpy() == pytest.approx(np.exp(ci[:, 1]), rel=1e-3)


def test_logistic_default_reference_is_first_category():
    df = pd.DataFrame(
        {
            "y": [0, 1, 0, 1, 1, 0, 1, 0],
            "g": pd.Categorical(list("bababbaa"), categories=["b", "a"]),
        }
    )
    res = S.logistic(df, "y", ["g"])
    assert res.attrs["reference"] == {"g": "b"}
    assert res["term"].tolist() == ["Intercept", "g[T.a]"]


def test_logistic_rejects_non_binary_outcome_and_unknown_reference():
    df = pd.DataFrame({"y": [0, 1, 2, 1], "g": list("abab")})
    with pytest.raises(ParameterError, match="0/1"):
        S.logistic(df, "y", ["g"])
    df["y"] = [0, 1, 0, 1]
    with pytest.raises(ParameterError, match="level 'c' of 'g' not observed"):
        S.logistic(df, "y", ["g"], reference={"g": "c"})


# --------------------------------------------------------------------------- multiplicity
def test_adjust_pvalues_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03]
    # Holm: sorted 0.01*3, 0.03*2, 0.04*1 -> monotone max: 0.03, 0.06, 0.06
    assert S.adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06])
    # BH: 0.01*3/1, 0.03*3/2, 0.04*3/3 -> monotone min from the top: 0.03, 0.04, 0.04
    assert S.adjust_pvalues(p, "fdr_bh") == pytest.approx([0.03, 0.04, 0.04])
    assert S.adjust_pvalues(p, "bonf") == pytest.approx([0.03, 0.12, 0.09])
    assert S.adjust_pvalues(p, "none") == pytest.approx(p)


def test_adjust_pvalues_lists_allowed_methods():
    with pytest.raises(ParameterError, match="allowed: .*holm.*fdr_bh.*bonf.*none"):
        S.adjust_pvalues([0.1], "sidak")


def test_test_family_adds_adjusted_p_and_significance():
    results = [
        {"label": "city", "test": "chi2", "p": 0.01},
        {"label": "age", "test": "chi2", "p": 0.04},
        {"label": "sex", "test": "fisher", "p": 0.03},
    ]
    t = S.test_family(results, "holm")
    assert t["label"].tolist() == ["city", "age", "sex"]
    assert t["p_adj"].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert t["significant"].tolist() == [True, False, False]


def test_test_family_requires_p_in_every_result():
    with pytest.raises(ParameterError, match="result 1 has no 'p' key"):
        S.test_family([{"p": 0.1}, {"pval": 0.2}])
