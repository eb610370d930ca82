"""compendium.publish.display: tables for reading.

Oracle: hand-written expected strings (the way a methods textbook prints p-values, effect
sizes and percentages), checked on frames shaped like the analyses' published tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from compendium.publish import render
from compendium.publish.display import display_frame, format_value, header


@pytest.mark.parametrize(("value", "expected"), [
    (0.0031, "0.003"), (0.00049, "< 0.001"), (0.00099, "< 0.001"), (0.001, "0.001"),
    (0.0496, "0.050"), (1.0, "1.000"), (0.0, "< 0.001"), (np.float64(0.183408), "0.183"),
])
def test_p_values_have_three_decimals_and_a_floor(value, expected):
    assert format_value(value, "p") == expected


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (0.341773, "number", "0.34"),       # Cramér's V
    (0.922566, "number", "0.92"),       # kappa
    (-0.00443108, "number", "0.00"),    # no "-0.00"
    (-0.283631, "number", "-0.28"),
    (94.3089, "pct", "94.3"),
    (100.0, "pct", "100.0"),
    (168, "count", "168"),
    (np.int64(7), "number", "7"),       # an integer stays an integer in any column
    (12.0, "count", "12"),
    (2.5, "count", "2.50"),
    ("<5", "count", "<5"),              # a suppressed cell is text
    ("NA", "number", "NA"),             # text that looks like NA is text
    (np.nan, "pct", ""),
    (None, "p", ""),
    (float("inf"), "number", "∞"),
])
def test_numbers_by_kind_and_text_unchanged(value, kind, expected):
    assert format_value(value, kind) == expected


@pytest.mark.parametrize(("value", "lang", "expected"), [
    (True, "en", "yes"), (False, "en", "no"), (np.True_, "pl", "tak"), (np.False_, "pl", "nie"),
])
def test_booleans_are_words_of_the_page_language(value, lang, expected):
    assert format_value(value, "bool", lang) == expected


def test_headers_in_both_languages_with_the_run_confidence_level():
    assert header("ci_low", "en") == "95 % CI low"
    assert header("ci_low", "pl") == "95 % PU dolna"
    assert header("ci_high", "en", ci_level=0.9) == "90 % CI high"
    assert header("ci_high", "en", ci_level=0.975) == "97.5 % CI high"
    assert header("p_adj", "pl") == "p (skorygowane)"
    assert header("some_new_column", "en") == "some new column"
    assert header("Integration area", "pl") == "Integration area"  # a label: unchanged


GROUP_TESTS = pd.DataFrame({
    "outcome": ["readiness score", "language barrier"],
    "group": ["Type of municipality", "Type of municipality"],
    "statistic": [3.39209, 0.214],
    "dof": [2, 2],
    "p": [0.183408, 0.0000123],
    "effect_size": [0.0203119, 0.0],
    "effect_ci_low": [np.nan, 0.0],
    "n": [168, 123],
    "p_adj": [1.0, 0.00049],
    "significant": [False, True],
})


def test_a_test_table_reads_like_a_paper():
    shown = display_frame(GROUP_TESTS, "en")
    assert list(shown.columns) == ["outcome", "group", "statistic", "df", "p", "value",
                                   "95 % CI low", "n", "p (adjusted)", "significant"]
    assert shown.iloc[0].tolist() == ["readiness score", "Type of municipality", "3.39", "2",
                                      "0.183", "0.02", "", "168", "1.000", "no"]
    assert shown.iloc[1].tolist() == ["language barrier", "Type of municipality", "0.21", "2",
                                      "< 0.001", "0.00", "0.00", "123", "< 0.001", "yes"]


def test_id_columns_are_off_the_page_and_percent_intervals_have_one_decimal():
    problems = pd.DataFrame({
        "option": ["language barrier"], "n": [93], "pct": [75.6098], "ci_low": [67.3207],
        "ci_high": [82.3476], "n_base": [123], "option_code": ["problem_language"],
    })
    shown = display_frame(problems, "pl")
    assert list(shown.columns) == ["odpowiedź", "n", "%", "95 % PU dolna", "95 % PU górna",
                                   "n bazy"]
    assert shown.iloc[0].tolist() == ["language barrier", "93", "75.6", "67.3", "82.3", "123"]
    areas = pd.DataFrame({"code_id": ["Integration area\\Culture"], "label": ["Culture"],
                          "n_documents": [19], "pct_documents": [86.3636]})
    assert display_frame(areas, "en").iloc[0].tolist() == ["Culture", "19", "86.4"]
    long = pd.DataFrame({"code_id": ["Qualities\\Speed"], "label": ["Speed"],
                         "group": ["Berlin"], "group_label": ["Berlin"], "n": [13]})
    assert list(display_frame(long, "en").columns) == ["code", "group", "n"]


def test_interval_bounds_of_an_estimate_that_is_not_a_percentage_keep_two_decimals():
    power = pd.DataFrame({"estimate": [-0.00443108], "ci_low": [-0.283631],
                          "ci_high": [0.274769], "p": [0.975185]})
    assert display_frame(power, "en").iloc[0].tolist() == ["0.00", "-0.28", "0.27", "0.975"]


def test_the_html_table_shows_the_display_form_and_the_csv_frame_is_untouched():
    before = GROUP_TESTS.copy()
    html = render.table_html(GROUP_TESTS, index=False, uuid="table-3", lang="en")
    tree = BeautifulSoup(html, "html.parser")
    assert tree.table["id"] == "table-3"
    assert [th.get_text() for th in tree.find_all("th")][:5] == [
        "outcome", "group", "statistic", "df", "p"]
    cells = [td.get_text() for td in tree.find_all("tr")[2].find_all("td")]
    assert cells[4] == "< 0.001" and cells[-1] == "yes"
    assert "True" not in tree.get_text() and "0.0\n" not in tree.get_text()
    assert tree.find_all("td", class_="num")[0].get_text() == "3.39"
    assert tree.div["class"] == ["compendium-table-wrap"]
    pd.testing.assert_frame_equal(GROUP_TESTS, before)


def test_a_collapsed_table_sits_behind_a_disclosure_naming_its_rows():
    html = render.table_html(GROUP_TESTS, index=False, uuid="t", lang="pl", collapsed=True)
    tree = BeautifulSoup(html, "html.parser")
    assert tree.details is not None and not tree.details.has_attr("open")
    assert tree.details.summary.get_text() == "Pokaż tabelę (wiersze: 2)"
    assert tree.details.table is not None


def test_an_index_keeps_its_labels_as_row_headers():
    fw = pd.DataFrame({"Berlin": ["n = 13 | quote"]}, index=pd.Index(["Speed"], name="City"))
    tree = BeautifulSoup(render.table_html(fw, index=True, uuid="t"), "html.parser")
    assert [th.get_text() for th in tree.thead.find_all("th")] == ["City", "Berlin"]
    row = tree.tbody.tr
    assert row.th.get_text() == "Speed" and row.td.get_text() == "n = 13 | quote"


def test_method_names_and_flags_read_in_the_pages_language_the_frame_keeps_them():
    """Oracle: the message catalogues read with PyYAML (their ``values`` section and the
    agreement flags of ``codebook.flags``)."""
    import yaml

    from compendium.publish.language import CATALOGUES

    cat = {lang: yaml.safe_load((CATALOGUES / f"{lang}.yaml").read_text("utf-8"))
           for lang in ("en", "pl")}
    df = pd.DataFrame({"test": ["chi-squared", "Mann-Whitney U"],
                       "p_method": ["asymptotic", "exact"], "p_test": ["LRT", "Wald"],
                       "effect": ["Cramer's V (bias-corrected)", "rank-biserial r"],
                       "flag": ["below 0.6", ""], "label": ["asymptotic", "x"]})
    before = df.copy()
    for lang in ("en", "pl"):
        shown = display_frame(df, lang)
        words = cat[lang]["values"]
        for col in ("test", "p_method", "p_test", "effect"):
            assert shown[header(col, lang)].tolist() == [words[col][v] for v in df[col]]
        flag = cat[lang]["codebook"]["flags"]["below"].format(threshold="0.6")
        assert shown[header("flag", lang)].tolist() == [flag, ""]
        assert shown[header("label", lang)].tolist() == ["asymptotic", "x"]  # a label column
    assert shown[header("p_method", "pl")].tolist() == ["asymptotycznie", "dokładnie"]
    pd.testing.assert_frame_equal(df, before)  # the CSV's values are untouched


def test_colophon_names_the_kind_of_data_in_the_pages_language(tmp_path):
    import json

    from bs4 import BeautifulSoup as Soup

    from compendium.publish.provenance import colophon_html

    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "dataset.yaml").write_text(json.dumps({"kind": "synthetic"}))
    rows = {lang: {tr.th.get_text(): tr.td.get_text() for tr in
                   Soup(colophon_html("01_ops_survey", tmp_path, lang=lang),
                        "html.parser").find_all("tr")} for lang in ("en", "pl")}
    assert rows["en"]["data set"] == "synthetic"
    assert rows["pl"]["zbiór danych"] == "syntetyczne"
