"""The data check Make runs before the notebooks."""

import shutil

import pytest

from compendium.data import datacheck
from compendium.errors import DataError


def test_shipped_data_pass_with_the_study_sizes(project_root):
    lines = datacheck.check(project_root / "data")
    text = "\n".join(lines)
    assert "ops_survey: 217 respondents {'CAWI': 168, 'PAPI': 49}" in text
    assert "idi_wielkopolska (Dedoose): 22 interviews" in text
    assert "four_cities (REFI-QDA): 50 interviews" in text


def test_broken_source_fails_naming_the_file(project_root, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(project_root / "data", data)
    (data / "raw" / "ops_survey" / "papi_excel.csv").write_bytes(b"")
    with pytest.raises(DataError, match="papi_excel.csv"):
        datacheck.check_source(data, "ops_survey")
    assert datacheck.main([str(data), "--source", "ops_survey"]) == 2
    assert "papi_excel.csv" in capsys.readouterr().err
    # the other sources are still fine on their own
    assert datacheck.main([str(data), "--source", "idi_wielkopolska"]) == 0


def test_only_the_sources_owning_changed_files_are_checked(project_root):
    data = project_root / "data"
    papi = str(data / "raw" / "ops_survey" / "papi_excel.csv")
    qdpx = str(data / "raw" / "four_cities" / "project.qdpx")
    assert datacheck.sources_to_check(data, [papi]) == ["ops_survey"]
    assert datacheck.sources_to_check(data, [qdpx, papi]) == ["ops_survey", "four_cities"]
    everything = ["ops_survey", "idi_wielkopolska", "four_cities"]
    assert datacheck.sources_to_check(data, [str(data / "raw" / "dataset.yaml")]) == everything
    assert datacheck.sources_to_check(data, None) == everything
