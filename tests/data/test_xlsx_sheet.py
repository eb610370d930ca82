"""compendium.data.xlsx_sheet: the oracle is ``pd.read_excel`` (calamine engine, no text
counted as missing) on the same workbook, written by openpyxl: the shipped Dedoose exports,
10x synthetic exports, and generated workbooks with empty and repeated headers, blank rows,
numbers, dates, booleans and text that looks like numbers, booleans or NA."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compendium.data import xlsx_sheet
from compendium.data.xlsx_sheet import READ_EXCEL, first_formula, read_first_sheet

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "data" / "raw").rglob("dedoose_*.xlsx"))


def _same_as_read_excel(path: Path) -> pd.DataFrame:
    ours = read_first_sheet(path)
    pd.testing.assert_frame_equal(ours, pd.read_excel(path, **READ_EXCEL))
    return ours


def _write(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_exports_read_as_read_excel_reads_them(path, monkeypatch):
    if path.name == "dedoose_excerpts.xlsx":  # the large ones: text and booleans only
        def no_fallback(cells):
            raise AssertionError("an excerpt column went through pandas' parser")

        monkeypatch.setattr(xlsx_sheet, "_pandas_column", no_fallback)
    ours = read_first_sheet(path)
    pd.testing.assert_frame_equal(ours, pd.read_excel(path, **READ_EXCEL))


@pytest.mark.slow  # generating the 10x interviews takes ~30 s
def test_ten_times_synthetic_exports_read_as_read_excel_reads_them(tmp_path):
    import yaml

    from compendium.synthetic import interviews

    cal = yaml.safe_load((ROOT / "data" / "calibration" / "interviews.yaml").read_text("utf-8"))
    interviews.write(tmp_path, cal, seed=cal["seed"], scale=10)
    for path in sorted(tmp_path.rglob("dedoose_*.xlsx")):
        _same_as_read_excel(path)


def test_hand_made_edge_cases(tmp_path):
    rows = [
        ["a", "b", "b", "", "c", "d", "e", "f", "g", "Unnamed: 3", "b.1", "h", "i"],
        [1, "1e3", "x", None, True, "TRUE", 1.5, dt.datetime(2020, 1, 2), "NA", None, "q",
         "nan", "x_x0000_y"],
        [None] * 13,
        [2.0, " 7 ", "", "m", False, "false", None, dt.date(2020, 1, 3), "", 3, "", "null", ""],
        [3, "12", "z", "n", True, "true", 2, dt.datetime(2021, 5, 6, 7, 8), "None", 4, "r",
         "inf", "k"],
    ]
    df = _same_as_read_excel(_write(tmp_path / "edge.xlsx", rows))
    assert list(df.columns) == ["a", "b", "b.2", "Unnamed: 3.1", "c", "d", "e", "f", "g",
                                "Unnamed: 3", "b.1", "h", "i"]
    assert df["g"].tolist() == ["NA", "", "", "None"]  # NA is text
    assert df["i"].iloc[0] == "x\x00y"  # Excel's escape, decoded; the NUL check is the caller's


_TEXT = st.one_of(
    st.sampled_from(["", " ", "NA", "N/A", "null", "None", "nan", "NaN", "inf", "-inf",
                     "1e3", " 7 ", "12", "0x1", "1,5", "1.5", "True", "false", "TRUE",
                     "yes", "141-191", "3/2/2022", "Memo: x", "ą", "2020-01-02"]),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),
)
_CELL = {
    "text": _TEXT,
    "numeric_text": st.sampled_from(["1", "2.5", "1e3", " 7 ", "-3", "inf", "0"]),
    "bool_text": st.sampled_from(["True", "False", "TRUE", "false", "true"]),
    "bool": st.booleans(),
    "int": st.integers(-10**6, 10**6),
    "float": st.floats(allow_nan=False, allow_infinity=False, width=32),
    "date": st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
}
_HEADERS = st.sampled_from(["a", "b", "a.1", "", "Unnamed: 0", "Unnamed: 2", "c.1", "c",
                            " c", "Media Title", "x.2"])


@st.composite
def workbooks(draw: st.DrawFn) -> list[list[object]]:
    width = draw(st.integers(1, 6))
    height = draw(st.integers(1, 8))
    header = [draw(_HEADERS) for _ in range(width)]
    columns = []
    for _ in range(width):
        kinds = draw(st.lists(st.sampled_from(sorted(_CELL)), min_size=1, max_size=2,
                              unique=True))
        cell = st.one_of(*(_CELL[k] for k in kinds))
        empty = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0]))
        columns.append([None if draw(st.floats(0, 1)) < empty else draw(cell)
                        for _ in range(height)])
    rows = [list(r) for r in zip(*columns, strict=True)]
    if draw(st.booleans()):  # a blank row somewhere
        rows.insert(draw(st.integers(0, len(rows))), [None] * width)
    return [header, *rows]


@settings(max_examples=min(60, settings.default.max_examples), deadline=None,
          derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=workbooks())
def test_generated_workbooks_read_as_read_excel_reads_them(rows):
    with tempfile.TemporaryDirectory() as folder:
        _same_as_read_excel(_write(Path(folder) / "w.xlsx", rows))


def test_first_formula_finds_the_first_sheets_formula_only(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Excerpts"
    wb.active.append(["a", "b", "c"])
    wb.active["C5"] = "=A1+1"
    wb.create_sheet("Other")["A1"] = "=1+1"
    wb.save(tmp_path / "f.xlsx")
    assert first_formula(tmp_path / "f.xlsx") == ("Excerpts", 5, 3, "=A1+1")
    del wb.active["C5"]  # openpyxl: the cell goes; the other sheet keeps its formula
    wb.save(tmp_path / "g.xlsx")
    assert first_formula(tmp_path / "g.xlsx") is None
    assert first_formula(_write(tmp_path / "h.xlsx", [["x"], ["<f>:f"]])) is None
    letters = openpyxl.utils.get_column_letter  # up to ZZZ (18 278)
    assert all(xlsx_sheet.get_column_letter(n) == letters(n) for n in range(1, 18_279, 7))
