"""compendium.analysis.survey_analysis and survey_models on the committed synthetic exports.

Oracles are computed here by hand from the tidy table with pandas/numpy, or by an
independent library: scipy's Kruskal-Wallis, statsmodels' Holm correction, Cronbach's α
from its definition, Rubin's rules written out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from compendium.analysis import survey_analysis as sa
from compendium.analysis import survey_models as sm
from compendium.analysis.disclosure_audit import DisclosureError, Ledger
from compendium.data.survey import apply_missing, labelled, read_survey

RAW = Path(__file__).resolve().parents[2] / "data" / "raw" / "ops_survey"
READY = [f"ready_{r}" for r in ("language_course", "intercultural", "legal", "procedures",
                                "cooperation", "mentoring")]


@pytest.fixture(scope="module")
def raw_codes(cb):
    return read_survey(RAW / "cawi_limesurvey.csv", RAW / "papi_excel.csv", cb)


@pytest.fixture(scope="module")
def codes(raw_codes, cb):
    return apply_missing(raw_codes, cb)


@pytest.fixture(scope="module")
def scored(codes, cb):
    return sa.add_readiness(codes, cb)


def _alpha(x: pd.DataFrame) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_readiness_score_is_the_mean_of_complete_answers_without_dont_know(raw_codes, scored):
    items = raw_codes[READY].astype("Float64").astype(float)
    items = items.where(items != 9)
    complete = items.notna().all(axis=1)
    expected = items.mean(axis=1).where(complete)
    pd.testing.assert_series_equal(scored["readiness_score"], expected, check_names=False)
    assert (scored["ready"].dropna() == (expected.dropna() >= 4)).all()


def test_planned_family_runs_only_the_named_tests_with_holm_by_statsmodels(scored, cb):
    fam = sa.planned_family(scored, cb, ["readiness_score", "problem_language"],
                            ["gmina_type", "contact"], 0.05, "holm", "en", seed=1,
                            n_boot=99, level=0.95)
    # problem_language by contact has no variation (asked only of those with contact)
    assert fam.attrs["skipped"] == [("problem_language", "contact")]
    assert len(fam) == 3
    expected = multipletests(fam["p"], method="holm")[1]
    assert fam["p_adj"].to_numpy() == pytest.approx(expected)
    # Kruskal-Wallis of the score by gmina type, by scipy
    kw = fam[(fam["test"] == "Kruskal-Wallis H")].iloc[0]
    groups = [g["readiness_score"].dropna() for _, g in scored.groupby("gmina_type")]
    assert kw["statistic"] == pytest.approx(sps.kruskal(*groups).statistic)
    assert kw["epsilon2" if "epsilon2" in fam else "effect_size"] == pytest.approx(
        kw["statistic"] / (sum(map(len, groups)) - 1))


def test_fisher_rows_show_no_chi2_statistic(scored, cb):
    fam = sa.planned_family(scored, cb, ["problem_legal_status"], ["position"], 0.05, "holm",
                            "en", seed=1, n_boot=99, level=0.95)
    row = fam.iloc[0]
    assert row["test"] == "Fisher-Freeman-Halton"
    assert np.isnan(row["statistic"]) and np.isnan(row["dof"])
    assert row["p_method"] == "exact"
    assert row["effect_ci_low"] <= row["effect_size"] <= row["effect_ci_high"]


def test_dk_by_mode_counts_respondents_with_any_dont_know(raw_codes, cb):
    led = Ledger(1)  # nothing small to hide: every count shown
    sa.declare(led, labelled(apply_missing(raw_codes, cb), cb, "en"))
    table = sm.dk_by_mode(raw_codes, cb, "ready", 0.95, led, "dk")
    dk = (raw_codes[READY] == 9).fillna(False).any(axis=1)
    for _, row in table.iterrows():
        sub = dk[raw_codes["mode"] == row["mode"]]
        assert int(row["n"]) == int(sub.sum())
        assert float(row["pct"]) == pytest.approx(100 * sub.mean())


def test_dk_sensitivity_rows_by_hand(raw_codes, cb):
    out = sm.dk_sensitivity(raw_codes, cb, "ready", 0.95, n_imputations=3, seed=1, lang="en")
    items = raw_codes[READY].astype("Float64").astype(float)
    listwise = items.where(items != 9).dropna()
    midpoint = items.where(items != 9, 3.0).dropna()
    lw, mid, mi = out.iloc[0], out.iloc[1], out.iloc[2]
    assert lw["n"] == len(listwise) and mid["n"] == len(midpoint) and mi["n"] == len(items)
    assert lw["alpha"] == pytest.approx(_alpha(listwise), rel=1e-6)
    assert mid["alpha"] == pytest.approx(_alpha(midpoint), rel=1e-6)
    assert lw["mean"] == pytest.approx(listwise.mean(axis=1).mean())
    assert mid["pct_ready"] == pytest.approx(100 * (midpoint.mean(axis=1) >= 4).mean())
    assert mi["mean_ci_low"] < mi["mean"] < mi["mean_ci_high"]
    again = sm.dk_sensitivity(raw_codes, cb, "ready", 0.95, n_imputations=3, seed=1, lang="en")
    pd.testing.assert_frame_equal(out, again)  # seeded


def test_rubin_rules_by_hand():
    q, lo, hi = sm._rubin([1.0, 2.0, 3.0], [0.5, 0.5, 0.5], 0.95)
    # Qbar = 2, Ubar = 0.5, B = 1, T = 0.5 + 4/3, r = (4/3)/0.5, df = 2 (1 + 1/r)^2
    t = 0.5 + 4 / 3
    df = 2 * (1 + 0.5 / (4 / 3)) ** 2
    assert q == 2
    assert hi - q == pytest.approx(sps.t.ppf(0.975, df) * np.sqrt(t))
    assert q - lo == pytest.approx(hi - q)


def test_training_models_use_the_answers_as_asked(codes, cb):
    out = sm.training_models(codes, cb, "en", 0.95, 5)
    # rows with every predictor known (no contact counts as its own contact category)
    known = (codes["gmina_type"].notna() & codes["seniority"].notna()
             & ((codes["contact"] == 0) | codes["contact_freq"].notna()))
    yes_no = (known & codes["want_training"].isin([1, 2])).sum()
    answered = (known & codes["want_training"].notna()).sum()
    assert out["primary"].attrs["n"] == yes_no
    assert out["dk_as_no"].attrs["n"] == answered
    mn = out["multinomial"]
    assert set(mn["answer_code"]) == {"yes", "dk"}
    assert set(mn["answer"]) == {"yes", "don't know"}  # the codebook's English labels
    # a separated term shows no ratio
    assert mn.loc[mn["separated"], "rrr"].isna().all()
    assert "n_events" not in out["primary"].columns  # small counts are not published


def test_mode_power_difference_is_the_group_mean_difference(scored, cb):
    out = sm.mode_power(scored, cb, ["readiness_score", "want_training"], 0.05, 0.8, 0.95, "en")
    frame = scored.dropna(subset=["readiness_score", "position", "institution"])
    by_mode = frame.groupby("mode")["readiness_score"].mean()
    row = out.iloc[0]
    assert row["difference"] == pytest.approx(by_mode["CAWI"] - by_mode["PAPI"])
    assert row["n_papi"] == (frame["mode"] == "PAPI").sum()
    assert row["detectable"] == (abs(row["difference"]) >= row["mdd"])
    assert out.iloc[1]["adjusted"].startswith("OR PAPI/CAWI")


def test_design_summary_needs_the_centre_column(scored):
    assert sm.design_summary(scored.drop(columns="centre_id"), 0.95) == {"clustered": False}
    res = sm.design_summary(scored, 0.95)
    assert res["clustered"] and res["clusters"] == scored.dropna(
        subset=["readiness_score"])["centre_id"].nunique()
    assert res["cr_ci_low"] < res["mean"] < res["cr_ci_high"]


def test_weighted_readiness_by_hand(scored, cb):
    margins = {"variable": "gmina_type", "shares": {1: 0.2, 2: 0.4, 3: 0.4}}
    res = sm.weighted_readiness(scored, cb, margins)
    data = scored.dropna(subset=["readiness_score", "gmina_type"])
    share = data["gmina_type"].astype(int).value_counts(normalize=True)
    w = data["gmina_type"].astype(int).map(lambda g: margins["shares"][g] / share[g])
    assert res["mean"] == pytest.approx((w * data["readiness_score"]).sum() / w.sum())
    assert res["n_effective"] == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_key_findings_state_what_the_mode_data_can_show(scored, codes, cb):
    df = scored.assign(mode=scored["mode"])
    problems = pd.DataFrame({"option": ["Language"], "pct": [50.0], "ci_low": [40.0],
                             "ci_high": [60.0]})
    wanted = pd.DataFrame({"item": ["Law"], "pct": [70.0]})
    tests = pd.DataFrame({"significant": [True, False]})
    modes = pd.DataFrame({"significant": [False, False, False]})
    power = pd.DataFrame({"outcome": ["readiness score"], "n_papi": [45], "mdd": [0.39]})
    rel = {"alpha": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    text = sa.key_findings(df, problems, wanted, rel, tests, modes, power, 0.05, "en")
    n_cawi = int((df["mode"] == "CAWI").sum())
    assert text[0] == f"{len(df)} workers answered ({n_cawi} online, {len(df) - n_cawi} on paper)."
    assert "1 of 2 planned" in text[-1] and "0 of 3" in text[-1]
    assert "45 paper respondents" in text[-1] and "0.39 points" in text[-1]


def test_analysis_plan_is_validated_and_defaults_to_group_by_and_p_adjust():
    from compendium.errors import ParameterError
    from compendium.publish.params import validate

    p = validate("01_ops_survey", {})
    assert p.analysis_plan.groups.by is None and p.analysis_plan.groups.correction is None
    assert "ready" not in p.analysis_plan.groups.outcomes  # not beside the score it cuts
    with pytest.raises(ParameterError, match="analysis_plan.groups.outcomes"):
        validate("01_ops_survey", {"analysis_plan": {"groups": {"outcomes": ["height"]}}})


# ----------------------------------------------------------------------------- the ledger
@pytest.fixture(scope="module")
def df(codes, cb):
    return labelled(codes, cb, "en")


def _ledger(df, min_cell):
    led = Ledger(min_cell)
    sa.declare(led, df)
    return led


PROFILE = ["mode", "position", "seniority", "contact", "contact_freq"]


def test_sample_table_counts_by_hand_and_no_hidden_category_follows_from_its_base(df, cb):
    # min_cell 12 hides real categories (10 "never", ...); oracle: pandas counts, and the
    # arithmetic of a base: the hidden categories of a variable share base - shown, so each
    # needs a partner and that remainder must leave room for every small value 1..11
    led = _ledger(df, 12)
    table = sa.sample_table(df, cb, PROFILE, "en", 0.95, led)
    assert table.attrs["sdc"] == "ledger"
    labels = {cb.label(v, "en") if v != "mode" else "mode": v for v in PROFILE}
    n_hidden = 0
    for label, part in table.groupby("variable", sort=False):
        truth = df[labels[label]].value_counts()
        assert (part["n_base"] == int(truth.sum())).all()
        hidden = part[part["n"] == "x"]
        for _, r in part.iterrows():
            if r["n"] != "x":
                assert int(r["n"]) == int(truth[r["category"]])
            elif 0 < truth[r["category"]] < 12:
                assert np.isnan(r["pct"])
        if len(hidden):
            n_hidden += len(hidden)
            rest = int(truth.sum()) - sum(int(v) for v in part["n"] if v != "x")
            assert len(hidden) >= 2 and rest >= 11, (label, hidden, rest)
    assert n_hidden >= 2


def test_the_same_count_in_the_results_is_the_same_decision(df, cb):
    led = _ledger(df, 5)
    sa.sample_table(df, cb, ["mode"], "en", 0.95, led)
    papi = int((df["mode"] == "PAPI").sum())
    assert sa.respondents(led, papi, "results", mode="PAPI") == papi
    with pytest.raises(DisclosureError, match="one population must give one count"):
        sa.respondents(led, papi + 1, "results", mode="PAPI")


def test_multi_table_hides_small_options_and_their_percentages(df, cb):
    led = _ledger(df, 5)
    table = sa.multi_table(df, cb, "citizenship", "en", 0.95, led, "citizenships")
    items = cb.items("citizenship")
    base = int(df[items].notna().any(axis=1).sum())
    truth = df[items].fillna(False).astype(bool).sum()
    assert (table["n_base"] == base).all()
    for _, r in table.iterrows():
        n = int(truth[r["option_code"]])
        if 0 < n < 5 or n in (0, base):
            assert r["n"] == "x" and np.isnan(r["pct"])
        else:
            assert int(r["n"]) == n and r["pct"] == pytest.approx(100 * n / base)
    assert (table["n"] == "x").sum() == int(((truth > 0) & (truth < 5)).sum())


def test_an_item_whose_answers_all_fall_in_one_category_is_hidden_whole(df, cb):
    # class disclosure: every respondent answering "communication" said "rather difficult"
    one = df.copy()
    item = "difficulty_communication"
    one[item] = one[item].where(one[item].isna(), "rather difficult")
    one[item] = one[item].astype(df[item].dtype)
    led = _ledger(one, 5)
    counts = sa.likert_counts(one, cb, "difficulty", "en")
    table = sa.likert_table(counts, led, "difficulty_counts")
    row = table.set_index(table.columns[0]).loc[cb.label(item, "en")]
    assert (row == "x").all()
    assert any(c["rule"] == "class disclosure" and item in c["detail"]
               for c in led.audit()["checks"])
    # the figure reads the same decisions: the row is drawn empty
    drawn = sa.likert_plot_counts(counts, led, "difficulty_diverging")
    assert drawn.loc[cb.label(item, "en")].sum() == 0


def test_top_box_is_the_sum_of_the_two_highest_answers_the_figure_draws(df, cb):
    led = _ledger(df, 5)
    counts = sa.likert_counts(df, cb, "ready", "en")
    sa.likert_plot_counts(counts, led, "readiness_diverging")
    table = sa.top_box(df, cb, "ready", "en", 0.95, led, "readiness_wanted")
    scale = list(counts.columns[:5])  # the five points of the scale, "don't know" after
    for _, r in table.iterrows():
        row = counts.loc[r["item"]]
        assert int(r["n"]) == int(row[scale[-2:]].sum())
        assert int(r["n_base"]) == int(row[scale].sum())


def test_a_midpoint_n_that_would_pin_the_dont_know_count_is_hidden_with_its_statistics():
    # hand-worked: 20 respondents (CAWI 12, PAPI 8), none left an item empty, 10 scored, so
    # the other 10 had a don't-know: 6 CAWI, 4 PAPI (4 < min_cell 5, hidden). Publishing the
    # midpoint's n = 20 says nobody left an item empty, so don't-knows = 20 - 10 = 10 and
    # PAPI = 10 - 6 = 4: the ledger must hide that n, and the row's mean and % ready with it
    led = Ledger(5)
    led.domain("respondent", "mode", ["CAWI", "PAPI", sa.NO_ANSWER])
    for dim in ("dk:ready", "blank:ready"):
        led.domain("respondent", dim, (True, False))
    led.publish({("respondent", ()): 20}, "respondents")
    sa.respondents(led, 12, "results", mode="CAWI")
    sa.respondents(led, 8, "results", mode="PAPI")
    assert sa.scored(led, 10, "results") == 10
    by_mode = pd.DataFrame({"mode": ["CAWI", "PAPI"], "n": [6, 4], "n_base": [12, 8],
                            "pct": [50.0, 50.0], "ci_low": [0.0, 0.0], "ci_high": [1.0, 1.0]})
    shown = sa.dk_counts_by_mode(led, by_mode, "ready", "dk_by_mode")
    assert shown["n"].tolist() == [6, "x"] and np.isnan(shown["pct"].iloc[1])
    sens = pd.DataFrame({"strategy": ["listwise", "midpoint", "mi"], "n": [10, 20, 20],
                         "alpha": [0.8, 0.7, 0.75], "mean": [3.1, 3.2, 3.3],
                         "pct_ready": [40.0, 35.0, 38.0], "pct_ci_low": [20.0, 15.0, 18.0],
                         "diff_cawi_papi": [0.1, 0.2, 0.3]})
    out = sa.dk_sensitivity_counts(led, sens, "ready", "sensitivity")
    assert out["n"].tolist() == [10, "x", 20]
    mid = out.iloc[1]
    assert np.isnan(mid["mean"]) and np.isnan(mid["pct_ready"]) and np.isnan(mid["pct_ci_low"])
    assert mid["alpha"] == 0.7 and mid["diff_cawi_papi"] == 0.2
    papi = next(c for c in led.audit()["suppressed"] if "PAPI" in c["count"])
    assert papi["feasible_range"][0] <= 1 and papi["feasible_range"][1] >= 4
    assert sa.records(out, "strategy", ["n", "mean"])["midpoint"] == {"n": None, "mean": None}
