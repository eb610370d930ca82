"""Polish/English labels: look-ups, fall-backs, bad files, and coverage of both codebooks."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from compendium.data.labels import load_labels
from compendium.errors import DataError, ParameterError

SMALL = """
codes:
  'Risks': {pl: Ryzyka, en: Risks}
  'Risks\\Underfunding': {pl: Niedofinansowanie, en: Underfunding}
attributes:
  city:
    label: {pl: Miasto, en: City}
    values:
      New York: {pl: Nowy Jork, en: New York}
"""


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_labels(path)


def test_labels_give_polish_and_english_texts(labels):
    assert labels.code("Risks\\Underfunding", "pl") == "Niedofinansowanie"
    assert labels.code("Risks", "en") == "Risks"
    assert labels.attribute("city", "pl") == "Miasto"
    assert labels.value("city", "New York", "pl") == "Nowy Jork"


def test_labels_fall_back_to_the_code_title_attribute_name_and_value(labels):
    assert labels.code("Risks\\Coordination", "pl") == "Coordination"
    assert labels.code("COVID-19", "en") == "COVID-19"
    assert labels.attribute("respondent_type", "en") == "respondent_type"
    assert labels.value("city", "Berlin", "pl") == "Berlin"


def test_labels_refuse_an_unknown_language(labels):
    with pytest.raises(ParameterError, match=r"parameter 'lang': unknown language 'de'; allowed"):
        labels.code("Risks", "de")


def test_labels_list_what_has_no_label(labels):
    attrs = pd.DataFrame({"doc_id": ["a", "a"], "attribute": ["city", "kind"], "value": ["X", "y"]})
    assert labels.missing(["Risks", "Risks\\Coordination"], attrs) == [
        "attribute kind",
        "code Risks\\Coordination",
        "value city=X",
        "value kind=y",
    ]


def test_load_labels_refuses_an_entry_without_english(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("codes:\n  'Risks': {pl: Ryzyka}\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_labels(path)
    assert "column 'codes/Risks': a label entry lacks a Polish or English text" in str(info.value)


def test_load_labels_refuses_an_unknown_top_level_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("codez: {}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unexpected top-level layout; expected a mapping"):
        load_labels(path)


@pytest.mark.parametrize("study", ["idi_wielkopolska", "four_cities"])
def test_project_label_files_cover_every_code_and_descriptor_value(project_root, study):
    cal = yaml.safe_load(
        (project_root / "data/calibration/interviews.yaml").read_text(encoding="utf-8")
    )[study]
    labels = load_labels(project_root / f"data/codebooks/{study}_labels.yaml")
    codes = [c["path"] for c in cal["codebook"]]
    if study == "four_cities":
        values = {"city": list(cal["cities"]), "respondent_type": list(cal["respondent_types"])}
    else:
        values = {name: list(shares) for name, shares in cal["descriptors"].items()}
    attrs = pd.DataFrame(
        [("d", name, v) for name, vs in values.items() for v in vs],
        columns=["doc_id", "attribute", "value"],
    )
    assert labels.missing(codes, attrs) == []
    assert set(labels.codes) == set(codes)
