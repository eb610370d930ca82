"""`make doctor`: one line per declared source, every problem at once, nothing written.

Oracles: the folders are built by hand here (a file deleted, a file overwritten with bytes
that are no workbook, the Excel PAPI file put where LimeSurvey's export belongs, REFI-QDA
sources removed with ElementTree), so the expected status of each line is known from how
the folder was made; the shipped data are read by the data check, which must agree.

Every test diagnoses a whole copy of the shipped data in which at most one or two files
differ; a file's reading (and its workbook header) is memoised by the bytes of the files it
is read from (:func:`_memo_by_bytes`), so an unchanged file is read once per session and a
changed one is always read afresh.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from compendium.data import doctor
from compendium.data.doctor import (
    FOREIGN,
    FOUND,
    MALFORMED,
    MISSING,
    diagnose,
    main,
    producer_aware_qdpx,
)
from compendium.data.sources import RAW_FILES

NS = "urn:QDA-XML:project:1.0"
_MEMO: dict[tuple, object] = {}


def _memo_by_bytes(func, name: str, files):
    """``func`` memoised by the contents of ``files(*args)`` (deterministic readers only)."""
    @functools.wraps(func)
    def wrapper(*args):
        key = (name, args[0] if isinstance(args[0], str) else "",
               tuple((p.name, p.read_bytes() if p.is_file() else None) for p in files(*args)))
        if key not in _MEMO:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _MEMO[key] = func(*args), caught
        result, caught = _MEMO[key]
        for w in caught:  # the doctor shows a reader's warnings on its line
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return result

    return wrapper


@pytest.fixture(autouse=True)
def _read_each_file_once(monkeypatch):
    """Reuse what an identical file gave (the readers are pure functions of the bytes)."""
    monkeypatch.setattr(doctor, "read_role", _memo_by_bytes(
        doctor.read_role, "read_role", lambda role, files: [files[r] for r in sorted(files)]))
    monkeypatch.setattr(doctor, "xlsx_producer", _memo_by_bytes(
        doctor.xlsx_producer, "xlsx_producer", lambda path: [path]))


def _copy_data(project_root: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "exports"
    shutil.copytree(project_root / "data", dst,
                    ignore=shutil.ignore_patterns("calibration", "*.md"))
    return dst


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _status(findings) -> dict[str, str]:
    return {f.name: f.status for f in findings}


def _rewrite_qde(path: Path, edit) -> None:
    """Rewrite project.qde inside a .qdpx with ``edit(root)``, other members unchanged."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    ET.register_namespace("", NS)
    root = ET.fromstring(members["project.qde"])
    edit(root)
    members["project.qde"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_shipped_data_all_found(project_root, capsys):
    findings = diagnose(project_root / "data")
    declared = {f"{f.source}/{f.role}" for f in RAW_FILES}
    assert declared <= {f.name for f in findings}
    assert all(f.status == FOUND for f in findings), [f.line() for f in findings]
    assert main([str(project_root / "data")]) == 0
    out = capsys.readouterr().out
    # one line per declared file, the marker and the two cross-file checks, plus header/footer
    assert len(out.strip().splitlines()) == len(RAW_FILES) + 1 + 2 + 2
    assert "LimeSurvey" in out and "Dedoose excerpt export" in out


def test_missing_malformed_foreign_each_reported_at_once(project_root, tmp_path, capsys):
    data = _copy_data(project_root, tmp_path)
    (data / "raw/idi_wielkopolska/dedoose_codes.xlsx").unlink()  # missing
    (data / "raw/four_cities/dedoose_excerpts.xlsx").write_bytes(b"not a workbook")  # malformed
    # foreign producer: the Excel (cp1250) questionnaire file where LimeSurvey's export belongs
    shutil.copy(data / "raw/ops_survey/papi_excel.csv", data / "raw/ops_survey/cawi_limesurvey.csv")
    before = _hashes(data)

    findings = diagnose(data)
    st = _status(findings)
    assert st["idi_wielkopolska/codes"] == MISSING
    assert st["four_cities/excerpts"] == MALFORMED
    assert st["ops_survey/cawi"] == FOREIGN
    by = {f.name: f for f in findings}
    assert "Excel" in by["ops_survey/cawi"].producer
    assert "LimeSurvey" in by["ops_survey/cawi"].advice
    # the excerpts cannot be read without the codes export: reported, not blamed
    assert st["idi_wielkopolska/excerpts"] == MALFORMED
    assert "not checked" in by["idi_wielkopolska/excerpts"].detail
    # everything else is still checked and found
    for name in ("ops_survey/papi", "four_cities/codes", "four_cities/qdpx",
                 "idi_wielkopolska/labels", "dataset/marker"):
        assert st[name] == FOUND, by[name].line()

    assert main([str(data)]) == 1
    out = capsys.readouterr().out
    for name in ("idi_wielkopolska/codes", "four_cities/excerpts", "ops_survey/cawi"):
        assert [line.split()[1] for line in out.splitlines()].count(name) == 1
    assert _hashes(data) == before  # nothing written


def test_copies_disagree_on_document_count(project_root, tmp_path):
    data = _copy_data(project_root, tmp_path)

    def drop_two(root: ET.Element) -> None:
        sources = root.find(f"{{{NS}}}Sources")
        for src in list(sources)[:2]:
            sources.remove(src)

    _rewrite_qde(data / "raw/four_cities/project.qdpx", drop_two)
    findings = {f.name: f for f in diagnose(data)}
    cross = findings["four_cities/dedoose=qdpx"]
    assert cross.status == MALFORMED and cross.fails
    assert "50 vs 48 documents" in cross.detail


def test_nvivo_project_foreign_unless_the_reader_knows_its_offsets(project_root, tmp_path):
    data = _copy_data(project_root, tmp_path)
    _rewrite_qde(data / "raw/four_cities/project.qdpx",
                 lambda root: root.set("origin", "NVivo 12 (Windows)"))
    f = {f.name: f for f in diagnose(data)}["four_cities/qdpx"]
    assert "NVivo 12" in f.producer
    if producer_aware_qdpx():  # the reader picks NVivo's UTF-16 convention itself
        assert f.status != FOREIGN
    else:
        assert f.status == FOREIGN and "UTF-16" in f.detail


def test_optional_file_missing_does_not_fail(project_root, tmp_path):
    data = _copy_data(project_root, tmp_path)
    (data / "raw/four_cities/project.qdpx").unlink()
    f = {f.name: f for f in diagnose(data)}["four_cities/qdpx"]
    assert f.status == MISSING and not f.fails
    assert main([str(data)]) == 0


@pytest.mark.parametrize("text, problem", [("kind: [", "malformed"), ("kind: other\n", "kind")])
def test_bad_marker(project_root, tmp_path, text, problem):
    data = _copy_data(project_root, tmp_path)
    (data / "raw/dataset.yaml").write_text(text, "utf-8")
    f = {f.name: f for f in diagnose(data)}["dataset/marker"]
    assert f.status == MALFORMED and f.fails
    assert problem in f.line()


def _rewrite_cawi_header(data: Path, edit) -> None:
    path = data / "raw/ops_survey/cawi_limesurvey.csv"
    raw = path.read_bytes().decode("utf-8-sig")
    head, _, rest = raw.partition("\r\n")
    path.write_bytes(("\ufeff" + edit(head) + "\r\n" + rest).encode("utf-8"))


def test_limesurvey_with_question_texts_as_headers(project_root, tmp_path):
    data = _copy_data(project_root, tmp_path)
    _rewrite_cawi_header(data, lambda h: h.replace(
        '"Q1"', '"What is your position in the social assistance centre?"'))
    f = {f.name: f for f in diagnose(data)}["ops_survey/cawi"]
    assert f.status == FOREIGN and f.fails
    assert "question texts" in f.producer and "question codes as headers" in f.advice


def test_limesurvey_with_comma_separator(project_root, tmp_path):
    data = _copy_data(project_root, tmp_path)
    _rewrite_cawi_header(data, lambda h: h.replace(";", ","))
    f = {f.name: f for f in diagnose(data)}["ops_survey/cawi"]
    assert f.status == FOREIGN and "separator ','" in f.detail
