"""Atomic, deterministic output writing."""

import json

import pandas as pd
import pytest

from compendium import artifacts


def test_write_table_is_deterministic_and_leaves_no_temp_files(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.1234567, 2.0]})
    p = artifacts.write_table(df, tmp_path / "t" / "x.csv")
    first = p.read_bytes()
    artifacts.write_table(df, p)
    assert p.read_bytes() == first == b"a,b\n1,0.123457\n2,2\n"
    assert [q.name for q in p.parent.iterdir()] == ["x.csv"]


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    p = artifacts.atomic_write_text(tmp_path / "x.txt", "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.os, "replace", boom)
    with pytest.raises(OSError):
        artifacts.atomic_write_text(p, "new")
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["x.txt"]


def test_update_results_merges_sections_with_sorted_keys(tmp_path):
    import numpy as np

    p = tmp_path / "r.json"
    artifacts.update_results(p, "results", {"b": np.int64(2), "a": 1 / 3})
    artifacts.update_results(p, "findings", ["x"])
    data = json.loads(p.read_text())
    assert data == {"findings": ["x"], "results": {"a": 0.333333, "b": 2}}
    assert p.read_text().index('"findings"') < p.read_text().index('"results"')


# Formula injection (OWASP "CSV Injection"): hand-written expectations, read back with the
# standard library's csv reader, as a spreadsheet would see the cells.
FORMULA_PAYLOADS = {
    "=1+1": "'=1+1",
    '=HYPERLINK("http://evil.example","click")': '\'=HYPERLINK("http://evil.example","click")',
    "+41 22 123": "'+41 22 123",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\n=1+1",  # a lone CR would split the row: written as LF, quoted
    "-": "'-",
    "--1": "'--1",
    "-inf": "'-inf",
    "- item": "'- item",
    "two\r\nlines\rhere": "two\nlines\nhere",
}
NUMBERS_AS_TEXT = ["-1", "-1.5", "+2", "-3e-4", "+.5", "-0.25E+2", "12", "a=1", "n < 3", "<5"]


def _read_back(path):
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_text_cells_that_start_a_formula_are_written_as_text(tmp_path):
    df = pd.DataFrame({"text": list(FORMULA_PAYLOADS)})
    rows = _read_back(artifacts.write_table(df, tmp_path / "x.csv"))
    assert rows == [["text"], *[[v] for v in FORMULA_PAYLOADS.values()]]


def test_numbers_and_harmless_text_are_left_alone(tmp_path):
    df = pd.DataFrame({"as_text": NUMBERS_AS_TEXT, "num": [-1.5, -2, 0, 3, -0.001, 1e-9,
                                                           -7, 8, -9, 10]})
    path = artifacts.write_table(df, tmp_path / "x.csv")
    rows = _read_back(path)
    assert [r[0] for r in rows[1:]] == NUMBERS_AS_TEXT
    assert [r[1] for r in rows[1:]] == ["-1.5", "-2", "0", "3", "-0.001", "1e-09", "-7", "8",
                                        "-9", "10"]
    back = pd.read_csv(path)
    assert back["num"].tolist() == df["num"].tolist()


def test_column_names_index_labels_and_axis_names_are_neutralised(tmp_path):
    df = pd.DataFrame({"=cmd": [1, -2]}, index=pd.Index(["@me", "-x"], name="+n"))
    rows = _read_back(artifacts.write_table(df, tmp_path / "x.csv", index=True))
    assert rows == [["'+n", "'=cmd"], ["'@me", "1"], ["'-x", "-2"]]
    assert df.columns.tolist() == ["=cmd"] and df.index.name == "+n"  # input not modified


def test_published_tables_start_no_cell_with_a_formula_character(project_root):
    """Invariant of the published CSVs: every cell starting with = + - @ tab CR is a number."""
    import re

    number = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
    tables = sorted((project_root / "outputs" / "tables").rglob("*.csv"))
    if not tables:
        pytest.skip("no published tables (run `make all` first)")
    bad = [(t.name, cell) for t in tables for row in _read_back(t) for cell in row
           if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.fullmatch(cell)]
    assert bad == []
