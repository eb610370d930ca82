"""A published number must not depend on the language of its page.

Oracle: an invariant of the method. Every survey table that notebook 01 builds is built here
twice from the committed synthetic exports, with ``lang="en"`` and ``lang="pl"``: the labels
differ, every numeric column must be identical. The reference levels of the dummy coding are
checked against the codebook YAML read with PyYAML (the first code of each predictor is the
one without a term), and the term labels against the codebook's labels read the same way.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from compendium.analysis import survey_analysis as sa
from compendium.analysis import survey_models as sm
from compendium.analysis.fitwarnings import ModelFitWarning, noted
from compendium.data.survey import apply_missing, read_survey

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw" / "ops_survey"
MODE_OUTCOMES = ["readiness_score", "want_training", "problem_language",
                 "problem_legal_status", "problem_interpreters"]


@pytest.fixture(scope="module")
def scored(cb):
    raw = read_survey(RAW / "cawi_limesurvey.csv", RAW / "papi_excel.csv", cb)
    return sa.add_readiness(apply_missing(raw, cb), cb)


def _tables(scored, cb, lang: str) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fit note is the page's business, not this test's
        out = dict(sm.training_models(scored, cb, lang, 0.95, 5))
        out["mode_power"] = sm.mode_power(scored, cb, MODE_OUTCOMES, 0.05, 0.8, 0.95, lang,
                                          cluster=sm.CENTRE)
        for name, outcomes, groups in (
            ("group_tests", ["readiness_score", "problem_language", "problem_legal_status"],
             ["gmina_type", "contact", "position"]),
            ("mode_check", MODE_OUTCOMES, ["mode"]),
        ):
            out[name] = sa.planned_family(scored, cb, outcomes, groups, 0.05, "holm", lang,
                                          seed=7, n_boot=30, level=0.95)
    return out


@pytest.fixture(scope="module")
def both(scored, cb):
    return {lang: _tables(scored, cb, lang) for lang in ("en", "pl")}


def test_every_numeric_column_is_the_same_in_english_and_polish(both):
    en, pl = both["en"], both["pl"]
    assert set(en) == set(pl)
    for name in en:
        a, b = en[name], pl[name]
        assert list(a.columns) == list(b.columns), name
        numeric = [c for c in a.columns
                   if pd.api.types.is_numeric_dtype(a[c]) or pd.api.types.is_bool_dtype(a[c])]
        assert numeric, name
        for col in numeric:
            np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy(),
                                          err_msg=f"{name}.{col}")
    # the labels do differ: this compares two languages, not one table with itself
    assert set(en["mode_power"]["outcome"]).isdisjoint(pl["mode_power"]["outcome"])
    assert set(en["primary"]["term"]).isdisjoint(pl["primary"]["term"])


def test_code_columns_are_the_same_in_both_languages(both):
    for name in ("primary", "dk_as_no", "multinomial"):
        assert both["en"][name]["term_code"].tolist() == both["pl"][name]["term_code"].tolist()
    assert (both["en"]["multinomial"]["answer_code"].tolist()
            == both["pl"]["multinomial"]["answer_code"].tolist())


def test_reference_level_is_the_codebooks_first_code_and_terms_read_as_labels(both):
    doc = yaml.safe_load((ROOT / "data" / "codebooks" / "ops_survey.yaml").read_text("utf-8"))
    variables = {v["name"]: v for v in doc["variables"]}

    def codes(var: str) -> list[str]:
        return [str(c) for c in variables[var]["codes"]]

    for lang in ("en", "pl"):
        primary = both[lang]["primary"]
        terms = dict(zip(primary["term_code"], primary["term"], strict=True))
        for var in ("gmina_type", "seniority"):
            first, *rest = codes(var)
            assert f"{var}[T.{first}]" not in terms
            for code in rest:
                label = variables[var]["codes"][int(code)][lang]
                assert terms[f"{var}[T.{code}]"] == f"{variables[var]['label'][lang]}: {label}"
        # the multinomial levels are the codebook's answers in the page's language
        answers = {str(lab["en"]): lab[lang] for lab in
                   {**variables["want_training"]["codes"],
                    **variables["want_training"].get("missing", {})}.values()}
        mn = both[lang]["multinomial"]
        assert set(mn["answer"]) == {answers["yes"], answers["don't know"]}
        assert not any("[T." in t for t in mn["term"])


def test_a_fit_note_names_the_outcome_label_not_the_column():
    def fit(df, outcome, predictors):
        warnings.warn("Maximum number of iterations has been exceeded.", stacklevel=1)
        return pd.DataFrame({"coef": [0.0]})

    with pytest.warns(ModelFitWarning) as caught:
        out = noted(fit)(pd.DataFrame({"y": [0, 1]}), "y", [], outcome_label="Udział w szkoleniu")
    issue = caught[0].message.issues[0]
    assert issue.outcome == "Udział w szkoleniu" and issue.kind == "convergence"
    assert out.attrs["fit_issues"][0]["outcome"] == "Udział w szkoleniu"
    with pytest.warns(ModelFitWarning) as plain:
        noted(fit)(pd.DataFrame({"y": [0, 1]}), "y", [])
    assert plain[0].message.issues[0].outcome == "y"
