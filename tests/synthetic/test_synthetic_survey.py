"""The synthetic OPS survey generator: formats, determinism and the built-in structure."""

from __future__ import annotations

import copy
import csv
import io
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compendium.data import survey
from compendium.data.sources import files_of
from compendium.errors import ParameterError
from compendium.synthetic import survey as synthetic

ROOT = Path(__file__).resolve().parents[2]
SOURCES = files_of("ops_survey", ROOT / "data")  # the declared map: {role: path}
CODEBOOK = SOURCES["codebook"]
CALIBRATION = ROOT / "data" / "calibration" / "survey.yaml"
COMMITTED = SOURCES["cawi"].parent


@pytest.fixture(scope="module")
def files(tmp_path_factory, cal):
    cawi, papi = synthetic.write(tmp_path_factory.mktemp("raw"), CODEBOOK, cal, cal["seed"])
    return cawi.read_bytes(), papi.read_bytes()


@pytest.fixture(scope="module")
def tidy(cb, cal):
    return synthetic.simulate(cb, cal, cal["seed"])


def _records(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=";") if r]


def _alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha on complete cases, from its definition."""
    x = items.dropna().astype(float)
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1))


# --- determinism --------------------------------------------------------------------------------
def test_same_seed_and_scale_give_byte_identical_files(tmp_path, cal):
    a = synthetic.write(tmp_path / "a", CODEBOOK, cal, seed=7, scale=2)
    b = synthetic.write(tmp_path / "b", CODEBOOK, cal, seed=7, scale=2)
    c = synthetic.write(tmp_path / "c", CODEBOOK, cal, seed=8, scale=2)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[0].read_bytes() != c[0].read_bytes()
    assert [p.name for p in a] == [SOURCES["cawi"].name, SOURCES["papi"].name]
    assert a[0].parent.name == COMMITTED.name


def test_committed_raw_files_are_the_generators_output(files):
    assert SOURCES["cawi"].read_bytes() == files[0]
    assert SOURCES["papi"].read_bytes() == files[1]


def test_scale_multiplies_both_modes(tmp_path, cal, cb):
    cawi, papi = synthetic.write(tmp_path, CODEBOOK, cal, seed=3, scale=3)
    df = survey.read_survey(cawi, papi, cb)
    assert df["mode"].value_counts().to_dict() == {"CAWI": 3 * 168, "PAPI": 3 * 49}


def test_scale_100_is_fast(tmp_path, cal):
    start = time.perf_counter()
    cawi, papi = synthetic.write(tmp_path, CODEBOOK, cal, seed=1, scale=100)
    assert time.perf_counter() - start < 20
    assert cawi.read_bytes().count(b"\r\n") == 168 * 100 + 2  # header, rows, blank line


def test_bad_scale_and_incomplete_calibration_are_parameter_errors(tmp_path, cal):
    with pytest.raises(ParameterError, match="scale"):
        synthetic.write(tmp_path, CODEBOOK, cal, seed=1, scale=0)
    broken = copy.deepcopy(cal)
    del broken["likert"]["distributions"]["ready_legal"]
    with pytest.raises(ParameterError, match="likert.distributions.ready_legal"):
        synthetic.write(tmp_path, CODEBOOK, broken, seed=1)
    assert not (tmp_path / "ops_survey").exists()  # nothing written


# --- the CAWI file looks like LimeSurvey's CsvWriter output ------------------------------------
def test_cawi_file_is_utf8_with_bom_fully_quoted_with_crlf(files):
    data = files[0]
    assert data.startswith(b"\xef\xbb\xbf\"id\";\"submitdate\";\"lastpage\";\"startlanguage\"")
    assert data.count(b"\n") == data.count(b"\r\n")  # no bare LF
    assert data.endswith(b"\r\n\r\n")  # CsvWriter::close() adds a blank line
    text = data.decode("utf-8-sig")
    field = r'"(?:[^"]|"")*"'
    line = re.compile(rf"{field}(?:;{field})*")
    lines = text.split("\r\n")[:-2]
    assert len(lines) == 169
    assert all(line.fullmatch(x) for x in lines)
    assert "Mołdawia" in text or "Łotwa" in text or "Azerbejdżan" in text


def test_cawi_file_holds_codes_y_marks_and_2020_dates(files):
    rows = _records(files[0].decode("utf-8-sig"))
    head, body = rows[0], rows[1:]
    col = {name: [r[head.index(name)] for r in body] for name in head}
    assert set(col["Q7"]) == {"Y", "N"}
    assert set(col["Q11[SQ001]"]) == {"Y", ""}
    assert set(col["startlanguage"]) == {"pl"}
    assert min(col["submitdate"]) >= "2020-09-01" and max(col["submitdate"]) <= "2020-12-31"
    assert all(re.fullmatch(r"\d+(\.\d)?", v) for v in col["Q10"] if v)
    ids = [int(v) for v in col["id"]]
    assert ids == sorted(ids) and max(ids) > len(ids)  # unfinished responses left gaps


def test_respondents_without_contact_skip_the_routed_questions_in_the_raw_files(files, cb):
    rows = _records(files[0].decode("utf-8-sig"))
    head = rows[0]
    routed = [cb.column(n, "cawi") for n in ("contact_freq", "foreign_share",
                                             *cb.items("citizenship"), *cb.items("problem"))]
    skipped = [r for r in rows[1:] if r[head.index("Q7")] == "N"]
    assert skipped and all(r[head.index(c)] == "" for r in skipped for c in routed)


# --- the PAPI file looks like Polish Excel's "CSV (separated by semicolons)" --------------------
def test_papi_file_is_cp1250_with_decimal_commas_and_crlf(files):
    data = files[1]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "P8_częstość".encode("cp1250") in data  # ę = 0xEA, ś = 0x9C, ć = 0xE6
    assert b"\x9c" in data and not data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\n") == data.count(b"\r\n") and data.endswith(b"\r\n")
    rows = _records(data.decode("cp1250"))
    head = rows[0]
    assert head[0] == "Nr ankiety" and head[-1] == "Uwagi"
    shares = [r[head.index("P10_odsetek")] for r in rows[1:]]
    assert any("," in s for s in shares) and not any("." in s for s in shares)
    assert all(re.fullmatch(r"\d+(,\d)?", s) for s in shares if s)


def test_papi_file_quotes_only_values_that_need_it(files):
    text = files[1].decode("cp1250")
    assert not text.startswith('"')
    quoted = re.findall(r'"[^"]*"', text)
    assert quoted and all(";" in q for q in quoted)  # only remarks with a semicolon
    assert set(_records(text)[1][9:15]) <= {"0", "1", ""}  # multiple response as 1/0


def test_no_personal_data_in_either_file(files):
    for data, enc in ((files[0], "utf-8-sig"), (files[1], "cp1250")):
        text = data.decode(enc)
        assert "@" not in text
        assert not re.search(r"\+48|\b\d{3}[- ]\d{3}[- ]\d{3}\b", text)  # phone numbers
        header = _records(text)[0]
        banned = ("email", "imie", "imię", "nazwisko", "telefon", "adres", "ipaddr", "token")
        assert not [h for h in header if any(b in h.lower() for b in banned)]


# --- the data carry the intended facts and structure ----------------------------------------------
def test_sample_has_217_respondents_and_valid_codes(tidy, cb):
    assert len(tidy) == 217 == cb.study["n"]
    survey.survey_schema(cb).validate(tidy)  # every value a codebook category


def test_characteristics_follow_the_calibration(tidy, cal):
    share_poznan = (tidy["subregion"] == 6).mean()
    assert abs(share_poznan - cal["characteristics"]["subregion"][6]) < 0.07
    assert (tidy.loc[tidy["subregion"] == 6, "gmina_type"] == 1).all()
    assert 0.45 < tidy["contact"].mean() < 0.70
    urban = tidy["gmina_type"] == 1
    assert tidy.loc[urban, "contact"].mean() > tidy.loc[~urban, "contact"].mean()


def test_language_barrier_is_the_most_common_problem(tidy, cb):
    share = tidy[cb.items("problem")].mean().sort_values(ascending=False)
    assert share.index[0] == "problem_language"
    assert set(share.index[1:3]) <= {"problem_legal_status", "problem_interpreters"}
    both = tidy["problem_none"] & tidy[cb.items("problem")[:-1]].any(axis=1)
    assert not both.fillna(False).any()  # "none" is exclusive


def test_frequent_contact_goes_with_more_problems_and_more_readiness(tidy, cb):
    d = survey.apply_missing(tidy, cb)
    n_problems = d[cb.items("problem")[:-1]].sum(axis=1)
    weekly, yearly = d["contact_freq"] == 4, d["contact_freq"] == 2
    assert n_problems[weekly].mean() > n_problems[yearly].mean() + 0.5
    ready = d[cb.likert_items("ready")].mean(axis=1)
    assert ready[weekly].mean() > ready[d["contact"] == 0].mean() + 0.3


def test_readiness_items_are_reliable_and_dont_know_is_rare(tidy, cb):
    d = survey.apply_missing(tidy, cb)
    assert 0.75 < _alpha(d[cb.likert_items("ready")]) < 0.9
    dk = (tidy[cb.likert_items()] == 9).fillna(False).to_numpy(dtype=bool).mean()
    assert 0.01 < dk < 0.10
    no_contact = tidy["contact"] == 0
    dk_diff = (tidy[cb.likert_items("difficulty")] == 9).fillna(False).mean(axis=1)
    assert dk_diff[no_contact].mean() > dk_diff[~no_contact].mean()


def test_want_training_follows_the_target_split(tidy, cal):
    counts = tidy["want_training"].value_counts(normalize=True)
    for code, p in cal["want_training"].items():
        assert abs(counts[code] - p) < 0.02
    ready = tidy.filter(like="ready_").where(lambda x: x != 9).mean(axis=1)
    assert ready[tidy["want_training"] == 1].mean() > ready[tidy["want_training"] == 2].mean()


def test_simulate_is_sorted_and_matches_the_schema_dtypes(tidy, cb):
    assert tidy["respondent_id"].is_monotonic_increasing
    assert {c: str(t) for c, t in tidy.dtypes.items()} == survey.tidy_dtypes(cb)
    assert np.isclose(tidy["foreign_share"].dropna() * 10,
                      (tidy["foreign_share"].dropna() * 10).round()).all()


# --- centres (clustered sample) and don't-know by mode -------------------------------------------
def test_centres_nest_in_their_cell_and_share_readiness(tidy, cb):
    centre = tidy["centre_id"]
    assert centre.notna().all() and (centre == centre.round()).all()
    # a centre lies in one subregion, gmina type and institution
    cells = tidy.groupby("centre_id")[["subregion", "gmina_type", "institution"]].nunique()
    assert (cells == 1).all().all()
    size = centre.value_counts()
    assert 2 < size.mean() < 8
    # one-way ANOVA intraclass correlation of the readiness mean, from its definition
    score = survey.apply_missing(tidy, cb)[cb.likert_items("ready")].mean(axis=1)
    frame = pd.DataFrame({"y": score, "g": centre}).dropna()
    groups = frame.groupby("g")["y"]
    k, n = groups.ngroups, len(frame)
    n0 = (n - (groups.size() ** 2).sum() / n) / (k - 1)
    msb = (groups.size() * (groups.mean() - frame["y"].mean()) ** 2).sum() / (k - 1)
    msw = ((frame["y"] - groups.transform("mean")) ** 2).sum() / (n - k)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    assert icc > 0.02


def test_dont_know_on_readiness_is_more_common_online(tidy, cb):
    dk = (tidy[cb.likert_items("ready")] == 9).any(axis=1)
    share = dk.groupby(tidy["mode"]).mean()
    assert share["CAWI"] > share["PAPI"]


def test_exports_without_the_optional_centre_column_read_as_na(tmp_path, files, cb):
    cawi_rows = _records(files[0].decode("utf-8-sig"))
    papi_rows = _records(files[1].decode("cp1250"))

    def drop(rows, name):
        j = rows[0].index(name)
        return [r[:j] + r[j + 1:] for r in rows]

    def write(rows, path, encoding, quoting):
        buf = io.StringIO(newline="")
        csv.writer(buf, delimiter=";", quoting=quoting, lineterminator="\r\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding=encoding, newline="")
        return path

    cawi = write(drop(cawi_rows, cb.column("centre_id", "cawi")), tmp_path / "cawi.csv",
                 "utf-8-sig", csv.QUOTE_ALL)
    papi = write(drop(papi_rows, cb.column("centre_id", "papi")), tmp_path / "papi.csv",
                 "cp1250", csv.QUOTE_MINIMAL)
    full = survey.read_survey(COMMITTED / "cawi_limesurvey.csv", COMMITTED / "papi_excel.csv", cb)
    without = survey.read_survey(cawi, papi, cb)
    assert without["centre_id"].isna().all()
    pd.testing.assert_frame_equal(without.drop(columns="centre_id"),
                                  full.drop(columns="centre_id"))
