"""Warnings of model fits kept with the result and shown as notes in the page's language.

Oracles: statsmodels itself — its ``Logit`` warns ``ConvergenceWarning`` when stopped after
one Newton step and ``PerfectSeparationWarning`` on data where x predicts y exactly (data
made here, separation visible by eye); a hand-written list of English words that a Polish
note may not contain outside the library's verbatim message; IPython's real display
machinery capturing what the kernel would publish.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from compendium.analysis.fitwarnings import ModelFitWarning, classify, noted, recorded
from compendium.publish.warningnotes import install, note_html

ENGLISH = re.compile(r"\b(the|and|of|model fit|did not|converge|estimates|warning|library|"
                     r"outcome|separation|separate)\b", re.I)


def logit(df: pd.DataFrame, outcome: str, *, maxiter: int = 35) -> pd.DataFrame:
    """A fit whose warnings are statsmodels' own."""
    from statsmodels.discrete.discrete_model import Logit

    res = Logit(df[outcome].to_numpy(float), np.c_[np.ones(len(df)), df["x"]]).fit(
        disp=0, maxiter=maxiter, method="newton")
    return pd.DataFrame({"coef": res.params})


def noisy() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(size=80)
    return pd.DataFrame({"x": x, "y": (x + rng.normal(size=80) > 0).astype(int)})


def separated() -> pd.DataFrame:
    x = np.r_[np.zeros(10), np.ones(10)]
    return pd.DataFrame({"x": x, "y": x.astype(int)})  # y == x: perfect separation


def test_a_fit_that_does_not_converge_says_so_with_its_result():
    with pytest.warns(ModelFitWarning) as caught:
        out = noted(logit)(noisy(), "y", maxiter=1)
    issues = out.attrs["fit_issues"]
    assert [(i["model"], i["outcome"], i["kind"], i["category"]) for i in issues] == [
        ("logit", "y", "convergence", "ConvergenceWarning")]
    assert len(caught) == 1 and caught[0].message.issues[0].kind == "convergence"
    assert "failed to converge" in issues[0]["message"]  # the library's words, verbatim


def test_separation_is_told_apart_and_repeated_messages_kept_once():
    with pytest.warns(ModelFitWarning) as caught:
        out = noted(logit)(separated(), "y")
    kinds = [i["kind"] for i in out.attrs["fit_issues"]]
    assert "separation" in kinds and kinds.count("separation") == 1
    assert len(caught) == 1


def test_a_clean_fit_warns_nothing_and_records_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = noted(logit)(noisy(), "y")
    assert out.attrs["fit_issues"] == []


@pytest.mark.parametrize(("category", "message", "kind"), [
    (UserWarning, "Step-halving failed to converge.", "convergence"),
    (UserWarning, "LRT inference was not computed because the full-model fit did not converge.",
     "convergence"),
    (RuntimeWarning, "overflow encountered in exp", "numeric"),
    (UserWarning, "Inverting hessian failed, no bse or cov_params available", "singular"),
    (FutureWarning, "The default of observed=False is deprecated", "other"),
])
def test_classify(category, message, kind):
    assert classify(category, message) == kind


def test_the_models_module_wraps_its_fits():
    from compendium.analysis import models

    for name in ("firth_logistic", "multinomial_logit", "adjusted_difference"):
        assert getattr(models, name).__wrapped__.__name__ == name


def test_recorded_keeps_warnings_of_the_block_only():
    with recorded("m", "y") as issues:
        warnings.warn("inner: maximum number of iterations reached", stacklevel=1)
    assert [(i.kind, i.message) for i in issues] == [
        ("convergence", "inner: maximum number of iterations reached")]


def _note(lang: str) -> BeautifulSoup:
    with pytest.warns(ModelFitWarning) as caught:
        out = noted(logit)(noisy().rename(columns={"y": "y<&>"}), "y<&>", maxiter=1)
    assert out.attrs["fit_issues"]
    return BeautifulSoup(note_html(caught[0].message, ModelFitWarning, lang), "html.parser")


def test_the_polish_note_is_polish_and_keeps_the_library_message_marked_english():
    note = _note("pl")
    assert note.div["lang"] == "pl" and note.div["role"] == "note"
    assert note.strong.get_text() == "Uwaga o dopasowaniu modelu"
    assert "nie osiągnęła zbieżności" in note.get_text()
    original = note.select_one('code[lang="en"]')
    assert original.get_text().startswith("ConvergenceWarning: Maximum Likelihood")
    original.decompose()
    assert ENGLISH.findall(note.get_text(" ")) == []
    # the outcome's name is data: escaped, shown as code
    assert note.select_one("p code").get_text() == "y<&>"
    assert "<&>" not in str(note).replace("&lt;&amp;&gt;", "")


def test_the_english_note_is_english():
    note = _note("en")
    assert note.strong.get_text() == "Note on the model fit"
    assert "The estimation did not converge" in note.get_text()


def test_a_warning_outside_a_fit_is_a_library_note():
    note = BeautifulSoup(note_html(FutureWarning("something changes"), FutureWarning, "pl"),
                         "html.parser")
    assert note.strong.get_text() == "Ostrzeżenie biblioteki"
    assert note.select_one('code[lang="en"]').get_text() == "FutureWarning: something changes"


def test_install_shows_warnings_as_notes_in_the_cell_output(monkeypatch):
    """With an IPython shell (a real InteractiveShell), a warning becomes a display of the
    note's HTML instead of text on stderr."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown: list[dict] = []
    monkeypatch.setattr(shell.display_pub, "publish",
                        lambda data, *a, **k: shown.append(data))
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored after
    try:
        install("pl")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            noted(logit)(noisy(), "y", maxiter=1)
    finally:
        InteractiveShell.clear_instance()
    assert len(shown) == 1
    html = shown[0]["text/html"]
    assert "Uwaga o dopasowaniu modelu" in html
    assert "model statystyczny" in html  # "logit" is no model the catalogue names
    with pytest.raises(ValueError, match="unknown page language"):
        InteractiveShell.instance()
        try:
            install("de")
        finally:
            InteractiveShell.clear_instance()
