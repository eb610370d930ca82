"""LimeSurvey's SPSS .sav export gives the same tidy table as its CSV export.

The .sav files are written by ReadStat (pyreadstat.write_sav), not by our code, from the
CSV's rows the way LimeSurvey exports them: question codes as names with '[..]' as '_..',
numbers with value labels, Y/N as 1/2 labelled Yes/No, ticked options as 1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from compendium.data import survey
from compendium.data.limesurvey_sav import read_cawi_sav, spss_name
from compendium.errors import DataError
from compendium.synthetic import survey as synthetic

ROOT = Path(__file__).resolve().parents[2]
CODEBOOK = ROOT / "data" / "codebooks" / "ops_survey.yaml"


@pytest.fixture(scope="module")
def cawi_csv(tmp_path_factory, cal):
    out = tmp_path_factory.mktemp("raw")
    return synthetic.write(out, CODEBOOK, cal, seed=cal["seed"])[0]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [r for r in csv.reader(fh, delimiter=";") if r]


def _write_sav(rows: list[list[str]], cb, path: Path, label_lang: str = "en",
               relabel: dict | None = None) -> Path:
    header, body = rows[0], rows[1:]
    by_col = {col: name for name, col in cb.columns("cawi").items()}
    data, labels = {}, {}
    for j, col in enumerate(header):
        values = [r[j] for r in body]
        var = cb.variable(by_col[col]) if col in by_col else None
        name = spss_name(col)
        if var is not None and var.type == "binary" and var.raw_values.get("cawi"):
            data[name] = [{"Y": 1.0, "N": 2.0}.get(v) for v in values]
            labels[name] = {1.0: "Yes", 2.0: "No"}
        elif var is not None and var.type == "multi" and not var.other_text:
            data[name] = [1.0 if v == "Y" else 0.0 for v in values]
            labels[name] = {1.0: "Yes", 0.0: "Not selected"}
        elif var is not None and var.type in ("nominal", "ordinal", "likert"):
            data[name] = [float(v) if v else None for v in values]
            labels[name] = {float(c): lab for c, lab in cb.labels(var.name, label_lang).items()}
        elif col in ("id", "lastpage", "seed") or (var is not None and var.type == "numeric"):
            data[name] = [float(v) if v else None for v in values]
        else:
            data[name] = values
    for name, change in (relabel or {}).items():
        labels[name].update(change)
    pyreadstat.write_sav(pd.DataFrame(data), str(path), variable_value_labels=labels)
    return path


def test_spss_names_follow_limesurvey():
    assert spss_name("Q9[SQ001]") == "Q9_SQ001"
    assert spss_name("Q9[other]") == "Q9_other"


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_sav_export_reads_to_the_same_table_as_the_csv(tmp_path, cawi_csv, cb, lang):
    sav = _write_sav(_rows(cawi_csv), cb, tmp_path / "cawi.sav", label_lang=lang)
    pd.testing.assert_frame_equal(read_cawi_sav(sav, cb), survey.read_cawi(cawi_csv, cb))


def test_sav_export_leaves_out_incomplete_responses_like_the_csv(tmp_path, cawi_csv, cb):
    rows = _rows(cawi_csv)
    col = rows[0].index("submitdate")
    rows[5][col] = rows[9][col] = ""
    sav = _write_sav(rows, cb, tmp_path / "cawi.sav")
    csv_path = tmp_path / "cawi.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL).writerows(rows)
    from_sav = read_cawi_sav(sav, cb)
    assert from_sav.attrs["incomplete_excluded"] == 2
    pd.testing.assert_frame_equal(from_sav, survey.read_cawi(csv_path, cb))
    assert len(read_cawi_sav(sav, cb, include_incomplete=True)) == len(rows) - 1


def test_a_value_label_that_contradicts_the_codebook_is_refused(tmp_path, cawi_csv, cb):
    sav = _write_sav(_rows(cawi_csv), cb, tmp_path / "cawi.sav",
                     relabel={"Q2": {1.0: "something else"}})
    rows = _rows(cawi_csv)
    if "1" not in [r[rows[0].index("Q2")] for r in rows[1:]]:
        pytest.skip("no respondent answered Q2 = 1 in this sample")
    with pytest.raises(DataError, match="column 'Q2': value label of code 1 differs"):
        read_cawi_sav(sav, cb)
