"""Reading the OPS survey exports into the tidy table (compendium.data.survey)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from compendium.data import survey
from compendium.data.codebook import load_codebook
from compendium.errors import DataError, ParameterError
from compendium.synthetic import survey as synthetic

ROOT = Path(__file__).resolve().parents[2]
CODEBOOK = ROOT / "data" / "codebooks" / "ops_survey.yaml"
CALIBRATION = ROOT / "data" / "calibration" / "survey.yaml"
CAWI_ADMIN = ["id", "submitdate", "lastpage", "startlanguage", "seed"]


@pytest.fixture(scope="module")
def raw(tmp_path_factory, cal):
    out = tmp_path_factory.mktemp("raw")
    cawi, papi = synthetic.write(out, CODEBOOK, cal, seed=cal["seed"])
    return cawi, papi


@pytest.fixture(scope="module")
def tidy(raw, cb):
    return survey.read_survey(*raw, cb)


# --- helpers that write small files in the exact export formats -----------------------------
def _cawi_bytes(rows: list[list[str]]) -> bytes:
    quote = lambda v: '"' + v.replace('"', '""') + '"'  # noqa: E731
    return ("\ufeff" + "".join(";".join(map(quote, r)) + "\r\n" for r in rows)).encode()


def _papi_bytes(rows: list[list[str]], encoding: str = "cp1250") -> bytes:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ';"') else v
    return "".join(";".join(map(cell, r)) + "\r\n" for r in rows).encode(encoding)


def _parse(path: Path, encoding: str) -> list[list[str]]:
    text = path.read_bytes().decode(encoding)
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=";") if r]


def _set(rows: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    """Set a cell by spreadsheet row (header = 1) and column name."""
    rows = [list(r) for r in rows]
    rows[row - 1][rows[0].index(column)] = value
    return rows


def _cawi_row(cb, rid: str, answers: dict[str, str]) -> list[str]:
    """One LimeSurvey record: a respondent without contact unless answers say otherwise."""
    base = {"id": rid, "submitdate": "2020-10-01 10:00:00", "lastpage": "4",
            "startlanguage": "pl", "seed": "123"}
    for name, col in cb.columns("cawi").items():
        kind = cb.type(name)
        if kind in ("nominal", "ordinal", "likert") and not cb.variable(name).asked_if:
            base[col] = "1"
    base["Q7"] = "N"
    base.update(answers)
    return [base.get(col, "") for col in _cawi_header(cb)]


def _cawi_header(cb) -> list[str]:
    return CAWI_ADMIN + [c for n, c in cb.columns("cawi").items() if n != "respondent_id"]


def _papi_header(cb) -> list[str]:
    return [*cb.columns("papi").values(), "Uwagi"]


def _papi_row(cb, number: str, answers: dict[str, str]) -> list[str]:
    base = {}
    for name, col in cb.columns("papi").items():
        kind = cb.type(name)
        if kind in ("nominal", "ordinal", "likert") and not cb.variable(name).asked_if:
            base[col] = "1"
    base["Nr ankiety"] = number
    base["P7_kontakt"] = "0"
    base.update(answers)
    return [base.get(col, "") for col in _papi_header(cb)]


def _contact_answers_cawi() -> dict[str, str]:
    return {"Q7": "Y", "Q8": "4", "Q9[SQ001]": "Y", "Q9[other]": "Mołdawia", "Q10": "2.5",
            "Q11[SQ001]": "Y", "Q11[SQ003]": "Y", "Q12[SQ001]": "9", "Q13[SQ006]": "5"}


# --- the generated data carry the facts --------------------------------------------------------
def test_read_survey_gives_217_respondents_from_both_modes_sorted_by_id(tidy, cb):
    assert len(tidy) == 217
    assert tidy["mode"].value_counts().to_dict() == {"CAWI": 168, "PAPI": 49}
    assert isinstance(tidy.index, pd.RangeIndex)
    assert tidy["respondent_id"].is_monotonic_increasing
    assert tidy["respondent_id"].is_unique
    assert list(tidy.columns) == cb.variables
    assert tidy["respondent_id"].str.fullmatch(r"CAWI-\d{4}|PAPI-\d{3}").all()


def test_tidy_dtypes_are_codes_bools_floats_and_strings(tidy, cb):
    assert {c: str(t) for c, t in tidy.dtypes.items()} == survey.tidy_dtypes(cb)
    assert str(tidy["position"].dtype) == "Int64"
    assert str(tidy["problem_language"].dtype) == "boolean"
    assert str(tidy["foreign_share"].dtype) == "Float64"
    assert str(tidy["respondent_id"].dtype) == "str"


def test_every_coded_value_is_a_codebook_category(tidy, cb):
    for name in cb.of_type("nominal", "ordinal", "binary", "likert"):
        values = tidy[name].dropna()
        assert values.isin(cb.codes(name)).all(), name
    assert tidy["mode"].isin(["CAWI", "PAPI"]).all()
    fs = tidy["foreign_share"].dropna()
    assert fs.between(0, 100).all() and (fs != fs.round()).any()  # some decimals survive


def test_cawi_and_papi_readers_give_the_same_columns_and_dtypes(raw, cb):
    cawi, papi = survey.read_cawi(raw[0], cb), survey.read_papi(raw[1], cb)
    assert list(cawi.columns) == list(papi.columns) == cb.variables
    assert (cawi.dtypes == papi.dtypes).all()
    assert (cawi["mode"] == "CAWI").all() and (papi["mode"] == "PAPI").all()


def test_reading_the_files_gives_back_the_generators_table(tidy, cb, cal):
    expected = synthetic.simulate(cb, cal, seed=cal["seed"])
    pd.testing.assert_frame_equal(tidy, expected)


def test_routing_leaves_skipped_questions_missing(tidy, cb):
    routed = ["contact_freq", "foreign_share", *cb.items("citizenship"), *cb.items("problem")]
    no_contact = tidy["contact"] == 0
    assert no_contact.sum() > 0
    assert tidy.loc[no_contact, routed].isna().all().all()
    assert tidy.loc[~no_contact, "problem_language"].notna().all()


# --- hand-built files: exact values ------------------------------------------------------------
def test_read_cawi_types_a_hand_built_limesurvey_export(tmp_path, cb):
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes([
        _cawi_header(cb),
        _cawi_row(cb, "7", _contact_answers_cawi()),
        _cawi_row(cb, "12", {"Q14": "9"}),
    ]))
    df = survey.read_cawi(path, cb)
    a, b = df.iloc[0], df.iloc[1]
    assert list(df["respondent_id"]) == ["CAWI-0007", "CAWI-0012"]
    assert (a["contact"], b["contact"]) == (1, 0)  # LimeSurvey yes/no: Y / N
    assert a["contact_freq"] == 4 and pd.isna(b["contact_freq"])
    assert [a["citizenship_ukraine"], a["citizenship_belarus"]] == [True, False]
    assert [a["citizenship_other"]] == [True]  # any text in the "other" box
    assert pd.isna(b["citizenship_ukraine"])  # not asked
    assert a["foreign_share"] == 2.5
    assert [a["problem_legal_status"], a["problem_none"]] == [True, False]
    assert a["difficulty_communication"] == 9  # don't know kept as a code
    assert a["ready_mentoring"] == 5 and b["want_training"] == 9


def test_read_papi_types_a_hand_built_excel_export(tmp_path, cb):
    path = tmp_path / "papi.csv"
    row = _papi_row(cb, "3", {"P7_kontakt": "1", "P8_częstość": "2", "P9_1": "1", "P9_2": "0",
                              "P10_odsetek": "2,5", "P11_1": "1", "Uwagi": "uwaga; ślad"})
    for col in ("P9_3", "P9_4", "P9_5", "P9_6", *[f"P11_{i}" for i in range(2, 10)]):
        row[_papi_header(cb).index(col)] = "0"
    row[_papi_header(cb).index("P13_2")] = ""  # item left empty on paper
    path.write_bytes(_papi_bytes([_papi_header(cb), row]))
    df = survey.read_papi(path, cb)
    r = df.iloc[0]
    assert r["respondent_id"] == "PAPI-003" and r["mode"] == "PAPI"
    assert r["foreign_share"] == 2.5
    assert [r["citizenship_ukraine"], r["citizenship_belarus"]] == [True, False]
    assert r["contact_freq"] == 2
    assert pd.isna(r["ready_intercultural"])


def test_cawi_question_with_nothing_ticked_is_missing_not_all_false(tmp_path, cb):
    answers = _contact_answers_cawi()
    for key in ("Q11[SQ001]", "Q11[SQ003]"):
        answers[key] = ""
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes([_cawi_header(cb), _cawi_row(cb, "1", answers)]))
    df = survey.read_cawi(path, cb)
    assert df[cb.items("problem")].isna().all(axis=None)
    assert df.loc[0, "citizenship_ukraine"]


# --- bad input: one clear DataError ------------------------------------------------------------
def test_cp1250_file_where_utf8_was_expected_is_refused(tmp_path, raw, cb):
    text = raw[0].read_bytes().decode("utf-8-sig")
    path = tmp_path / "cawi.csv"
    path.write_bytes(text.encode("cp1250"))  # saved by Excel on Polish Windows
    with pytest.raises(DataError) as err:
        survey.read_cawi(path, cb)
    msg = str(err.value)
    assert "cannot decode byte" in msg and "as UTF-8" in msg
    assert "looks like Windows-1250 (cp1250)" in msg
    assert err.value.column == "Q9[other]" and err.value.row > 1


def test_utf8_file_read_as_cp1250_is_refused_as_mojibake(tmp_path, raw, cb):
    text = raw[1].read_bytes().decode("cp1250")
    path = tmp_path / "papi.csv"
    path.write_bytes(text.encode("utf-8"))  # re-saved as UTF-8
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    msg = str(err.value)
    assert "mojibake 'ĹĽ'" in msg and "the file is UTF-8 but was read as Windows-1250" in msg
    assert err.value.row == 1 and err.value.column == "P2_staĹĽ"  # "ż" = C5 BC


def test_missing_column_is_refused(tmp_path, raw, cb):
    rows = [r[:-1] for r in _parse(raw[0], "utf-8-sig")]  # drop Q14
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes(rows))
    with pytest.raises(DataError) as err:
        survey.read_cawi(path, cb)
    assert err.value.column == "Q14" and err.value.row == 1
    assert "required column(s) missing: 'Q14'" in str(err.value)
    assert "expected the CAWI columns of the codebook" in str(err.value)


def test_renamed_column_is_refused_and_the_new_name_shown(tmp_path, raw, cb):
    rows = _parse(raw[1], "cp1250")
    rows[0][rows[0].index("P2_staż")] = "P2_staz"
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(rows))
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    assert err.value.column == "P2_staż"
    assert "unexpected column(s) ['P2_staz']" in str(err.value)


def test_answer_code_outside_the_codebook_is_refused(tmp_path, raw, cb):
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes(_set(_parse(raw[0], "utf-8-sig"), 5, "Q1", "7")))
    with pytest.raises(DataError) as err:
        survey.read_cawi(path, cb)
    assert (err.value.row, err.value.column, err.value.found) == (5, "Q1", "7")
    assert "answer code not in the codebook" in str(err.value)
    assert "1 (kierownik), 2 (pracownik socjalny)" in str(err.value)


def test_yes_no_value_other_than_y_or_n_is_refused(tmp_path, raw, cb):
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes(_set(_parse(raw[0], "utf-8-sig"), 3, "Q7", "1")))
    with pytest.raises(DataError, match="row 3, column 'Q7'.*expected one of 'Y', 'N'"):
        survey.read_cawi(path, cb)


def test_out_of_range_number_is_refused(tmp_path, raw, cb):
    rows = _parse(raw[1], "cp1250")
    row = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("P10_odsetek")])
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(rows, row, "P10_odsetek", "150,5")))
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    assert (err.value.row, err.value.column) == (row, "P10_odsetek")
    assert "number out of range; expected a value from 0 to 100; found '150,5'" in str(err.value)


def test_decimal_point_in_the_papi_file_is_refused(tmp_path, raw, cb):
    rows = _parse(raw[1], "cp1250")
    row = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("P10_odsetek")])
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(rows, row, "P10_odsetek", "2.5")))
    with pytest.raises(DataError, match=r"a number with decimal comma \(e.g. 12,5\)"):
        survey.read_papi(path, cb)


@pytest.mark.parametrize("digits", [300, 5000])
def test_answer_code_of_hundreds_of_digits_is_refused_and_cut_short_in_the_message(
        tmp_path, raw, cb, digits):
    # 300 digits overflowed Int64, 5000 digits hit int()'s 4300-digit limit
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(_parse(raw[1], "cp1250"), 4, "P12_1", "9" * digits)))
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    assert (err.value.row, err.value.column) == (4, "P12_1")
    assert "answer code not in the codebook" in str(err.value)
    assert err.value.found == "9" * 80 + f"... ({digits} characters)"
    assert len(str(err.value)) < 1000


def test_respondent_id_of_5000_digits_is_refused(tmp_path, raw, cb):
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(_parse(raw[1], "cp1250"), 2, "Nr ankiety", "9" * 5000)))
    with pytest.raises(DataError, match="row 2, column 'Nr ankiety': respondent id is not a "
                                        r"whole number; expected .*at most 18 digits"):
        survey.read_papi(path, cb)


@pytest.mark.parametrize("value", ["\u0663", "\uff11\uff12"])  # Arabic-Indic 3, full-width 12
def test_digits_other_than_0_to_9_are_refused_not_read_as_missing(tmp_path, raw, cb, value):
    rows = _parse(raw[1], "cp1250")
    row = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("P10_odsetek")])
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(rows, row, "P10_odsetek", value), encoding="utf-8"))
    codebook = load_codebook(CODEBOOK)
    codebook.sources["papi"] = {**codebook.sources["papi"], "encoding": "utf-8"}
    with pytest.raises(DataError, match=f"row {row}, column 'P10_odsetek': not a number"):
        survey.read_papi(path, codebook)
    path.write_bytes(_papi_bytes(_set(rows, 3, "P12_1", value), encoding="utf-8"))
    with pytest.raises(DataError, match="row 3, column 'P12_1': answer is not a code"):
        survey.read_papi(path, codebook)


def test_number_too_long_for_a_float_is_refused_not_read_as_missing(tmp_path, raw, cb):
    # pd.to_numeric turns 5000 digits into NaN, which passed the range check as NA
    rows = _parse(raw[1], "cp1250")
    row = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("P10_odsetek")])
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(rows, row, "P10_odsetek", "1" * 5000)))
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    assert (err.value.row, err.value.column) == (row, "P10_odsetek")
    assert "number out of range; expected a value from 0 to 100" in str(err.value)
    assert len(str(err.value)) < 1000


def test_answer_to_a_question_that_was_not_asked_is_refused(tmp_path, raw, cb):
    rows = _parse(raw[0], "utf-8-sig")
    row = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("Q7")] == "N")
    path = tmp_path / "cawi.csv"
    path.write_bytes(_cawi_bytes(_set(rows, row, "Q11[SQ001]", "Y")))
    with pytest.raises(DataError) as err:
        survey.read_cawi(path, cb)
    assert (err.value.row, err.value.column) == (row, "Q11[SQ001]")
    assert "asked only when Q7 = 1 (tak)" in str(err.value)


def test_duplicate_respondent_id_within_a_file_is_refused(tmp_path, raw, cb):
    rows = _parse(raw[1], "cp1250")
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes(_set(rows, 10, "Nr ankiety", rows[3][0])))
    with pytest.raises(DataError) as err:
        survey.read_papi(path, cb)
    assert (err.value.row, err.value.column) == (10, "Nr ankiety")
    assert f"respondent id appears twice; expected each response once; found '{rows[3][0]} " \
           "(also in row 4)'" in str(err.value)


def test_duplicate_respondent_id_across_cawi_and_papi_is_refused(tmp_path, raw, cb):
    doc = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    doc["sources"]["papi"]["id_format"] = "CAWI-{:04d}"  # both modes numbered alike
    bad = tmp_path / "codebook.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(DataError) as err:
        survey.read_survey(*raw, load_codebook(bad))
    msg = str(err.value)
    assert "papi_excel.csv" in msg and "cawi_limesurvey.csv" in msg
    assert "appears in both the PAPI file and the CAWI file" in msg
    assert err.value.column == "Nr ankiety" and err.value.row >= 2


def test_empty_file_is_refused(tmp_path, cb):
    path = tmp_path / "cawi.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="cawi.csv.*file is empty"):
        survey.read_cawi(path, cb)


def test_header_only_file_is_refused(tmp_path, cb):
    path = tmp_path / "papi.csv"
    path.write_bytes(_papi_bytes([_papi_header(cb)]))
    with pytest.raises(DataError, match="row 1: file has a header but no data rows"):
        survey.read_papi(path, cb)


def test_missing_file_is_refused(tmp_path, cb):
    with pytest.raises(DataError, match="file not found"):
        survey.read_survey(tmp_path / "a.csv", tmp_path / "b.csv", cb)


# --- missing values and labels ------------------------------------------------------------------
def test_apply_missing_turns_dont_know_into_na_on_likert_items_only(tidy, cb):
    likert = cb.likert_items()
    before = int((tidy[likert] == 9).sum().sum())
    assert before > 0
    out = survey.apply_missing(tidy, cb)
    assert int((out[likert] == 9).sum().sum()) == 0
    assert int(out[likert].isna().sum().sum()) == int(tidy[likert].isna().sum().sum()) + before
    assert (out["want_training"] == 9).sum() == (tidy["want_training"] == 9).sum()
    pd.testing.assert_frame_equal(survey.apply_missing(tidy, cb, False), tidy)
    with pytest.raises(ParameterError, match="dont_know_as_missing"):
        survey.apply_missing(tidy, cb, dont_know_as_missing="yes")


def test_labelled_gives_ordered_categories_in_codebook_order(tidy, cb):
    small = tidy.head(3)
    out = survey.labelled(small, cb, "pl")
    cat = out["seniority"].dtype
    assert cat.ordered and list(cat.categories) == [
        "poniżej 5 lat", "5–10 lat", "11–20 lat", "powyżej 20 lat"]
    assert list(out["ready_legal"].cat.categories)[-1] == "nie wiem / trudno powiedzieć"
    assert not out["position"].dtype.ordered
    assert len(out["subregion"].cat.categories) == 6  # never-chosen categories still there
    assert str(out["problem_language"].dtype) == "boolean"  # multi options stay bool
    en = survey.labelled(small, cb, "en")
    assert list(en["contact"].cat.categories) == ["yes", "no"]
    code = small.loc[0, "gmina_type"]
    assert en.loc[0, "gmina_type"] == cb.labels("gmina_type", "en")[code]


def test_labelled_refuses_bad_language_and_unknown_codes(tidy, cb):
    with pytest.raises(ParameterError, match="lang"):
        survey.labelled(tidy, cb, "de")
    bad = tidy.head(2).copy()
    bad.loc[0, "position"] = 8
    with pytest.raises(DataError, match="column 'position'.*found 8"):
        survey.labelled(bad, cb, "en")


def test_schema_refuses_an_answer_to_a_skipped_question(tidy, cb):
    bad = tidy.copy()
    row = bad.index[bad["contact"] == 0][0]
    bad.loc[row, "contact_freq"] = 2
    with pytest.raises(Exception, match="contact_freq must be NA unless contact == 1"):
        survey.survey_schema(cb).validate(bad)


# --- SPSS ----------------------------------------------------------------------------------------
def test_read_spss_reads_a_harmonised_sav_back_to_the_same_table(tmp_path, tidy, cb):
    pyreadstat = pytest.importorskip("pyreadstat")
    small = tidy.iloc[[0, 1, 2, 200, 216]].reset_index(drop=True)
    sav = small.copy()
    for col in sav.columns:
        if col not in ("respondent_id", "mode"):
            sav[col] = sav[col].astype("Float64").astype(float)
    path = tmp_path / "ops.sav"
    pyreadstat.write_sav(
        sav, str(path),
        variable_value_labels={"ready_legal": cb.labels("ready_legal", "pl")},
        missing_ranges={"ready_legal": [9]},
    )
    back = survey.read_spss(path, cb)
    pd.testing.assert_frame_equal(back, small)


def test_read_spss_refuses_a_file_that_is_not_sav(tmp_path, cb):
    path = tmp_path / "x.sav"
    path.write_bytes(b"not spss")
    with pytest.raises(DataError, match="not a readable SPSS .sav file"):
        survey.read_spss(path, cb)


# --- real LimeSurvey habits: incomplete responses, separators, encodings, headings ----------
def _cawi_with(tmp_path: Path, raw, rows: list[list[str]], name: str = "cawi.csv",
               encoding: str = "utf-8-sig", sep: str = ";") -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=sep, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def test_incomplete_responses_are_left_out_and_counted(tmp_path, raw, cb):
    rows = _parse(raw[0], "utf-8-sig")
    rows = _set(_set(rows, 3, "submitdate", ""), 3, "lastpage", "1")
    rows = _set(_set(rows, 7, "submitdate", ""), 7, "lastpage", "2")
    path = _cawi_with(tmp_path, raw, rows)
    full = survey.read_cawi(raw[0], cb)
    default = survey.read_cawi(path, cb)
    assert len(default) == len(full) - 2
    assert default.attrs["incomplete_excluded"] == 2
    left_out = {f"CAWI-{int(rows[2][0]):04d}", f"CAWI-{int(rows[6][0]):04d}"}
    assert left_out.isdisjoint(default["respondent_id"])
    everything = survey.read_cawi(path, cb, include_incomplete=True)
    assert len(everything) == len(full) and everything.attrs["incomplete_excluded"] == 0
    both = survey.read_survey(path, raw[1], cb)
    assert both.attrs["incomplete_excluded"] == 2
    with pytest.raises(ParameterError, match="include_incomplete"):
        survey.read_cawi(path, cb, include_incomplete="yes")


def test_a_comma_separated_or_utf16_export_reads_to_the_same_table(tmp_path, raw, cb):
    rows = _parse(raw[0], "utf-8-sig")
    expected = survey.read_cawi(raw[0], cb)
    comma = _cawi_with(tmp_path, raw, rows, "comma.csv", sep=",")
    assert comma.read_bytes().count(b'","') > len(rows)  # really comma-separated
    pd.testing.assert_frame_equal(survey.read_cawi(comma, cb), expected)
    utf16 = _cawi_with(tmp_path, raw, rows, "utf16.csv", encoding="utf-16")
    assert utf16.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    pd.testing.assert_frame_equal(survey.read_cawi(utf16, cb), expected)


def test_full_question_text_headings_are_refused_naming_the_export_option(tmp_path, raw, cb):
    rows = _parse(raw[0], "utf-8-sig")
    rows[0] = [f"Question text number {i} for column {c}?" for i, c in enumerate(rows[0])]
    path = _cawi_with(tmp_path, raw, rows)
    with pytest.raises(DataError, match="question texts, not question codes.*'Question code'"):
        survey.read_cawi(path, cb)


def test_a_nul_character_in_a_field_is_refused_with_row_and_column(tmp_path, raw, cb):
    rows = _set(_parse(raw[0], "utf-8-sig"), 4, "Q9[other]", "pomoc\x00prawna")
    path = _cawi_with(tmp_path, raw, rows)
    with pytest.raises(DataError, match=r"row 4, column 'Q9\[other\]': a field holds a NUL"):
        survey.read_cawi(path, cb)


def test_a_comma_separated_all_responses_export_with_incomplete_rows(tmp_path, raw, cb):
    # LimeSurvey "All responses", separator ',' chosen at export: one unsubmitted response
    rows = _parse(raw[0], "utf-8-sig")
    rows = _set(_set(rows, 2, "submitdate", ""), 2, "lastpage", "1")
    path = _cawi_with(tmp_path, raw, rows, "all.csv", sep=",")
    out = survey.read_cawi(path, cb)
    assert out.attrs["incomplete_excluded"] == 1
    assert len(out) == len(rows) - 2  # header and the incomplete response
    assert f"CAWI-{int(rows[1][0]):04d}" not in set(out["respondent_id"])
