"""The first sheet of an ``.xlsx`` workbook as a DataFrame, column by column.

:func:`read_first_sheet` gives the frame that
``pd.read_excel(path, engine="calamine", keep_default_na=False, na_values=[])`` gives (equal
values, dtypes, column names), without pandas' per-cell conversion and row-by-row parser:
python-calamine's rows are turned into columns once, and a column is typed by these rules,
each what pandas' Python parser does with such a column (``tests/data/test_xlsx_sheet.py``
compares the two on the shipped exports, 10x synthetic data and generated workbooks):

* only booleans: a boolean column;
* only text, where some non-empty text is not a number and not all of it reads as a boolean
  (``True``/``FALSE``...), or only empty cells: text as stored, an empty cell as ``""``
  (no text counts as missing: ``NA`` is text);
* any other column (numbers, dates, mixed cells, text that pandas would read as numbers or
  booleans): pandas' own parser, on that column alone.

Header names as ``read_excel`` gives them: an empty header cell is ``Unnamed: <i>``
(0-based), a repeated name gets ``.1``, ``.2``... (named columns keep their names before
unnamed ones are numbered). A header that holds anything but text, a workbook calamine cannot
open, or a header starting with a byte-order mark are read by ``pd.read_excel`` itself, so
such files give exactly its frame or its error.

:func:`first_formula` finds a formula cell of the first sheet (a workbook written by a
spreadsheet or openpyxl, not a Dedoose export) by scanning the sheet's XML for ``<f>``
elements; openpyxl (read-only) locates the cell only when there is one.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

READ_EXCEL = {"engine": "calamine", "keep_default_na": False, "na_values": []}
_BOOLISH = {"true", "false"}
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def read_first_sheet(path: Path) -> pd.DataFrame:
    """The first sheet as ``pd.read_excel(path, **READ_EXCEL)`` reads it (see module doc)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
        finally:
            workbook.close()
    except Exception:  # pandas' own error (or frame) for a workbook calamine refuses
        return pd.read_excel(path, **READ_EXCEL)
    if not rows:
        return pd.DataFrame()
    header = rows[0]
    if not all(isinstance(h, str) for h in header) or (header and header[0][:1] == "\ufeff"):
        return pd.read_excel(path, **READ_EXCEL)
    body = rows[1:]
    if not body or any(len(row) != len(header) for row in body):
        return pd.read_excel(path, **READ_EXCEL)  # nothing to gain; calamine pads rows
    names = header_names(header)
    columns = list(zip(*body, strict=True))
    data = {i: _column(col) for i, col in enumerate(columns)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(body)))
    frame.columns = pd.Index(names)
    return frame


def header_names(header: list[str]) -> list[str]:
    """Column names from a header row of text, as pandas' parsers name them."""
    unnamed = [i for i, h in enumerate(header) if h == ""]
    names = [f"Unnamed: {i}" if h == "" else h for i, h in enumerate(header)]
    counts: dict[str, int] = {}
    for i in [i for i in range(len(names)) if i not in set(unnamed)] + unnamed:
        col = old = names[i]
        count = counts.get(col, 0)
        if count > 0:
            while count > 0:
                counts[old] = count + 1
                col = f"{old}.{count}"
                count = count + 1 if col in names else counts.get(col, 0)
            names[i] = col
        counts[col] = count + 1
    return names


def _column(cells: tuple) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One column's cells (calamine's values) as pandas' Python parser types them."""
    kinds = set(map(type, cells))
    if kinds == {bool}:
        return np.array(cells, dtype=bool)
    if kinds == {str}:
        filled = set(cells) - {""}
        if not filled or (not {v.strip().lower() for v in filled} <= _BOOLISH
                          and not _numeric(filled)):
            return np.array(cells, dtype=object)
    return _pandas_column(cells)


def _numeric(values: set[str]) -> bool:
    """Might pandas read these texts as numbers? (False only when one is not a number.)"""
    try:
        pd.to_numeric(np.array(list(values), dtype=object))
    except (ValueError, TypeError):
        return False
    return True


def _pandas_column(cells: tuple) -> pd.api.extensions.ExtensionArray:
    """The column through pandas' own parser, after read_excel's cell conversion."""
    from pandas.io.parsers import TextParser

    rows = [["x"]] + [[_convert_cell(v)] for v in cells]
    frame = TextParser(rows, header=0, skip_blank_lines=False, keep_default_na=False,
                       na_values=[]).read()
    return frame["x"].array


def _convert_cell(value: object) -> object:
    """pandas' ``CalamineReader`` conversion of one cell (whole floats to int, dates to
    midnight datetimes)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, (_dt.datetime, _dt.timedelta, _dt.time)):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    return value


# --------------------------------------------------------------------------- formulas


def get_column_letter(col: int) -> str:
    """A 1-based column number as the spreadsheet's letters (1 -> A, 28 -> AB)."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def first_formula(path: Path) -> tuple[str, int, int, str] | None:
    """(sheet name, row, column, formula) of the first formula cell of the first sheet,
    1-based; None when it has none (or the workbook is not one openpyxl can read)."""
    try:
        with zipfile.ZipFile(path) as zf:
            member = _first_sheet_member(zf)
            if member is None or not _has_formula(zf, member):
                return None
    except (zipfile.BadZipFile, OSError, KeyError, ET.ParseError):
        return None
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = wb.worksheets[0]
        for row in ws.iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    return ws.title, cell.row, cell.column, str(cell.value)
    finally:
        wb.close()
    return None


def _first_sheet_member(zf: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's first sheet (workbook order, as read_excel)."""
    root = ET.fromstring(zf.read("xl/workbook.xml"))
    sheet = root.find(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet")
    if sheet is None:
        return None
    rid = sheet.get(f"{_NS_REL}id")
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
    return None


def _has_formula(zf: zipfile.ZipFile, member: str, chunk: int = 1 << 22) -> bool:
    """Does the sheet's XML hold an ``<f>`` element? (streamed, a few MB at a time)"""
    tail = b""
    with zf.open(member) as fh:
        while block := fh.read(chunk):
            text = tail + block
            if (b"<f" in text or b":f" in text) and _FORMULA.search(text):
                return True
            tail = block[-64:]
    return False
