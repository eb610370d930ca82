"""The OPS survey codebook: content, lookups and validation (compendium.data.codebook)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from compendium.data.codebook import TYPES, load_codebook
from compendium.errors import DataError, ParameterError

CODEBOOK = Path(__file__).resolve().parents[2] / "data" / "codebooks" / "ops_survey.yaml"
POLISH_LETTERS = set("ąćęłńóśźż")
REQUIRED = [
    "respondent_id", "mode", "centre_id", "position", "seniority", "gmina_type", "subregion",
    "institution",
    "centre_size", "contact", "contact_freq", "foreign_share", "want_training",
    *[f"citizenship_{c}" for c in ("ukraine", "belarus", "russia", "georgia", "vietnam",
                                    "other")],
    *[f"problem_{p}" for p in ("language", "interpreters", "legal_status", "rights_knowledge",
                               "procedures", "culture", "distrust", "cooperation", "none")],
    *[f"difficulty_{d}" for d in ("communication", "documents", "procedures", "culture",
                                  "cooperation")],
    *[f"ready_{r}" for r in ("language_course", "intercultural", "legal", "procedures",
                             "cooperation", "mentoring")],
]


@pytest.fixture()
def doc():
    return yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _var(doc: dict, name: str) -> dict:
    return next(v for v in doc["variables"] if v["name"] == name)


def test_codebook_declares_every_variable_the_notebooks_use(cb):
    assert sorted(cb.variables) == sorted(REQUIRED)
    assert cb.variables[:2] == ["respondent_id", "mode"]
    assert {cb.type(n) for n in cb.variables} <= set(TYPES)


def test_codebook_metadata_holds_study_n_fieldwork_and_the_dont_know_rule(cb):
    assert cb.study["n"] == 217
    assert cb.study["fieldwork"]["start"].startswith("2020-09")
    assert cb.study["fieldwork"]["end"].startswith("2020-12")
    assert cb.dont_know_as_missing is True
    assert cb.dont_know_types == ["likert"]
    text = cb.rule_text("dont_know_as_missing", "en")
    assert "code 9" in text and "missing when dont_know_as_missing is true" in text


def test_every_label_and_question_exists_in_both_languages(cb):
    for name in cb.variables:
        for lang in ("pl", "en"):
            assert cb.question(name, lang).strip()
            assert cb.label(name, lang).strip()


def test_polish_labels_use_real_polish_letters(cb):
    used = set()
    for name in cb.variables:
        used |= set(cb.question(name, "pl")) | set(cb.label(name, "pl"))
        if cb.type(name) in ("nominal", "ordinal", "binary", "likert"):
            used |= set("".join(cb.labels(name, "pl").values()))
    assert used >= POLISH_LETTERS
    assert cb.labels("subregion", "pl")[2] == "poznański"
    assert cb.label("citizenship_belarus", "pl") == "Białoruś"


def test_ordinal_labels_come_in_scale_order_with_dont_know_last(cb):
    assert list(cb.labels("seniority", "en").values()) == [
        "less than 5 years", "5–10 years", "11–20 years", "more than 20 years"]
    assert cb.labels("ready_legal", "pl") == {
        1: "zdecydowanie nie", 2: "raczej nie", 3: "ani tak, ani nie", 4: "raczej tak",
        5: "zdecydowanie tak", 9: "nie wiem / trudno powiedzieć"}
    assert cb.ordered("contact_freq") and cb.ordered("difficulty_culture")
    assert not cb.ordered("position")


def test_missing_codes_are_declared_on_likert_items_only(cb):
    assert cb.missing_codes("difficulty_communication") == [9]
    assert cb.missing_codes("want_training") == []  # "nie wiem" is an answer there
    assert 9 in cb.codes("want_training")
    assert cb.missing_codes("position") == []


def test_items_finds_a_group_or_a_prefix_in_codebook_order(cb):
    problems = cb.items("problem")
    assert problems[0] == "problem_language" and problems[-1] == "problem_none"
    assert len(problems) == 9 and cb.items("problem_") == problems
    assert cb.items("citizenship") == [
        "citizenship_ukraine", "citizenship_belarus", "citizenship_russia",
        "citizenship_georgia", "citizenship_vietnam", "citizenship_other"]
    assert cb.likert_items("ready") == cb.items("ready")
    assert len(cb.likert_items()) == 11


def test_items_of_a_group_inherit_its_question_and_routing(cb):
    assert cb.question("problem_culture", "en").startswith("What problems do you encounter")
    assert cb.variable("problem_culture").asked_if == {"contact": 1}
    assert cb.variable("contact_freq").asked_if == {"contact": 1}
    assert cb.variable("ready_legal").asked_if is None


def test_raw_columns_map_limesurvey_codes_and_polish_papi_headers(cb):
    assert cb.column("problem_language", "cawi") == "Q11[SQ001]"
    assert cb.column("problem_language", "papi") == "P11_1"
    assert cb.column("respondent_id", "papi") == "Nr ankiety"
    assert cb.column("mode", "cawi") is None
    assert "P8_częstość" in cb.columns("papi").values()
    assert cb.variable("contact").raw_values == {"cawi": {"Y": 1, "N": 0}}
    fs = cb.variable("foreign_share")
    assert (fs.minimum, fs.maximum, fs.decimals) == (0, 100, 1)


@pytest.mark.parametrize("call", [
    lambda cb: cb.question("position", "de"),
    lambda cb: cb.labels("position", "PL"),
    lambda cb: cb.label("position", ""),
])
def test_unsupported_language_is_a_parameter_error(cb, call):
    with pytest.raises(ParameterError, match="lang.*allowed: \\('pl', 'en'\\)"):
        call(cb)


def test_unknown_variable_and_uncoded_variable_are_parameter_errors(cb):
    with pytest.raises(ParameterError, match="'age' is not a variable"):
        cb.question("age", "en")
    with pytest.raises(ParameterError, match="has no answer labels"):
        cb.labels("foreign_share", "en")
    with pytest.raises(ParameterError, match="no variable in group or with prefix"):
        cb.items("nothing")


def test_invalid_yaml_is_a_data_error_naming_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("study:\n  n: 217\nvariables: [\n  - name: x\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_codebook(path)
    assert "bad.yaml" in str(err.value) and "not valid YAML" in str(err.value)
    assert err.value.row is not None


def test_code_without_english_label_names_the_variable(tmp_path, doc):
    del _var(doc, "position")["codes"][3]["en"]
    with pytest.raises(DataError) as err:
        load_codebook(_write(tmp_path, doc))
    assert "variable 'position' code 3: needs non-empty text in both languages" in str(err.value)
    assert "codebook.yaml" in str(err.value)


def test_unknown_type_names_the_variable(tmp_path, doc):
    _var(doc, "seniority")["type"] = "scale"
    with pytest.raises(DataError, match="variable 'seniority': unknown type.*found 'scale'"):
        load_codebook(_write(tmp_path, doc))


def test_numeric_without_range_names_the_variable(tmp_path, doc):
    del _var(doc, "foreign_share")["max"]
    with pytest.raises(DataError, match="variable 'foreign_share': numeric needs min < max"):
        load_codebook(_write(tmp_path, doc))


def test_duplicate_variable_names_and_columns_are_refused(tmp_path, doc):
    _var(doc, "seniority")["name"] = "position"
    with pytest.raises(DataError, match=r"variable names declared twice: \['position'\]"):
        load_codebook(_write(tmp_path, doc))


def test_two_variables_on_one_raw_column_are_refused(tmp_path, doc):
    _var(doc, "seniority")["papi"] = "P1_stanowisko"
    with pytest.raises(DataError, match=r"papi columns used by two variables: \['P1_stanowisko'\]"):
        load_codebook(_write(tmp_path, doc))


def test_duplicate_labels_within_a_variable_are_refused(tmp_path, doc):
    _var(doc, "gmina_type")["codes"][2]["pl"] = "miejska"
    with pytest.raises(DataError, match="variable 'gmina_type': duplicate pl labels"):
        load_codebook(_write(tmp_path, doc))


def test_routing_on_an_unknown_variable_is_refused(tmp_path, doc):
    _var(doc, "contact_freq")["asked_if"] = {"contakt": 1}
    with pytest.raises(DataError, match="variable 'contact_freq': asked_if refers to an unknown"):
        load_codebook(_write(tmp_path, doc))


def test_missing_codebook_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="codebook file not found"):
        load_codebook(tmp_path / "none.yaml")


@pytest.mark.parametrize(("where", "value", "message"), [
    (("rules", "dont_know_as_missing", "applies_to"), None, "applies_to lists unknown types"),
    (("rules", "dont_know_as_missing", "applies_to"), [["likert"]], "lists unknown types"),
    (("sources", "cawi"), None, "sources.cawi must be a mapping"),
    (("sources", "papi", "encoding"), "x", "sources.papi.encoding is not a text encoding"),
    (("sources", "papi", "encoding"), "base64", "is not a text encoding"),
    (("sources", "cawi", "sep"), 0, "sources.cawi.sep must be one character"),
    (("sources", "cawi", "decimal"), 0, "sources.cawi.decimal must be '.' or ','"),
    (("sources", "papi", "multi_ticked"), -1, "multi_ticked must be a list of texts"),
    (("sources", "cawi", "multi_unticked"), {}, "multi_unticked must be a list of texts"),
    (("scales", "difficulty"), None, "scale 'difficulty' must be a mapping"),
    (("scales", "difficulty", "missing"), -1, "'missing' must map codes to labels"),
    (("groups", "difficulty", "scale"), [], "group 'difficulty': unknown scale"),
    (("variables", "difficulty_culture", "group"), ["x"], "'difficulty_culture': unknown group"),
    (("variables", "contact", "cawi_values"), {"Y": [], "N": 0}, "maps to undeclared codes"),
])
def test_a_wrongly_typed_entry_is_a_data_error_not_a_type_error(tmp_path, doc, where, value,
                                                                message):
    # each of these raised TypeError, AttributeError, KeyError or LookupError (the last five
    # only when the survey readers used the codebook) before the loader checked the types
    *parents, last = where
    node = doc
    for key in parents:
        node = _var(doc, key) if node is doc["variables"] else node[key]
    node[last] = value
    with pytest.raises(DataError, match=re.escape(message)):
        load_codebook(_write(tmp_path, doc))
