"""The data check Make runs before the notebooks."""

import shutil
import zipfile

import pytest
from openpyxl import load_workbook

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


def test_shipped_four_city_copies_agree_and_reports_are_printed(project_root):
    lines = datacheck.check_source(project_root / "data", "four_cities")
    assert "four_cities: the Dedoose export and the REFI-QDA project agree" in lines
    assert "four_cities (Dedoose): no excerpt memos" in lines
    assert not [line for line in lines if line.startswith("warning:")]


def _rewrite_qde(path, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as zf:
        entries = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if name == "project.qde":
                assert old in data
                data = data.replace(old, new, 1)
            zf.writestr(name, data)


def test_two_disagreeing_copies_of_one_study_stop_the_run_naming_the_difference(
        project_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(project_root / "data", data)
    # coder_B renamed in the REFI-QDA copy only: its codings no longer match Dedoose's
    _rewrite_qde(data / "raw" / "four_cities" / "project.qdpx", b'name="coder_B"',
                 b'name="coder_X"')
    with pytest.raises(DataError, match=r"project.qdpx.*the two copies of four_cities "
                       r"disagree: coding \(.*'coder_B'\) is in the Dedoose export "
                       r"dedoose_excerpts.xlsx but not in the REFI-QDA project"):
        datacheck.check_source(data, "four_cities")


def test_a_source_without_codings_gets_a_warning_line(project_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(project_root / "data", data)
    path = data / "raw" / "idi_wielkopolska" / "dedoose_excerpts.xlsx"
    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for col, name in enumerate(header, 1):
        if str(name).endswith(" Applied"):
            for row in range(2, ws.max_row + 1):
                ws.cell(row, col).value = False
    wb.save(path)
    lines = datacheck.check_source(data, "idi_wielkopolska")
    assert "warning: idi_wielkopolska (Dedoose): 0 codings" in lines
    assert "idi_wielkopolska (Dedoose): 22 interviews, 0 segments, 20 codes" in lines
