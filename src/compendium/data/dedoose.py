"""Read a Dedoose project (excerpt export + codes export, both ``.xlsx``) into a CodedCorpus.

The excerpt export has one row per excerpt and coder: the fixed columns
(:data:`FIXED_COLUMNS`), then ``Code: <path> Applied|Range|Weight`` for every code,
then the descriptor fields (whatever is neither fixed nor ``Code: ``). The codes
export lists the whole codebook (``Id``, ``Parent Id``, ``Title``, ``Description``, ...).

Conventions of this reader (see :mod:`compendium.data.corpus` for the tables):

* ``doc_id`` and ``title`` are the ``Media Title``; document order is the order of
  first appearance in the export.
* ``Excerpt Range`` is ``start-end``, character offsets with the end exclusive. An
  empty range is accepted only with an empty ``Excerpt Copy`` (a document-level
  coding, stored as ``0-0``). PDF page ranges (``Page N: ...``) are refused.
* Codings come from the ``Applied`` columns only (``Codes Applied Combined`` is
  ignored: titles may hold commas and leaf titles repeat across branches). An
  excerpt row with no code applied yields no coding; a segment exists only when
  some coder applied a code to that range (as a REFI-QDA selection without a
  coding is an annotation).
* Two coders excerpting the same range give one segment with both coders' codings.
  Its ``text`` is the ``Excerpt Copy`` of the first such row.
* Descriptor values are text; a field imported twice (``city`` and ``city.1``) is
  merged when the copies agree. No cell text counts as missing (``NA``, ``NaN``, ``null``,
  ``None`` are text); only an empty cell is. A NUL character in a cell is refused, and so
  is a formula (a Dedoose export stores values; a formula's value may not be stored at all).
* ``Excerpt Range`` is not compared with the length of ``Excerpt Copy``: Dedoose counts
  line breaks and paragraphs its own way, so the two differ in real exports.
* Excerpt memos: Dedoose writes them in trailing columns without a header, each cell
  beginning ``Memo:``; a workbook saved through R (readxl, writexl) names such columns
  ``...274``. They are recognised by either name and returned by :func:`read_dedoose_report`
  (not part of the five tables); a headerless column holding anything else is refused.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from compendium.data import parsecache
from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus
from compendium.data.xlsx_sheet import first_formula, get_column_letter, read_first_sheet
from compendium.errors import DataError

FIXED_COLUMNS = (
    "Media Title",
    "Excerpt Range",
    "Excerpt Creator",
    "Excerpt Date",
    "Excerpt Copy",
    "Resource Creator",
    "Resource Date",
    "Codes Applied Combined",
)
CODES_COLUMNS = ("Id", "Parent Id", "Title", "Description")
CODES_ALL_COLUMNS = CODES_COLUMNS + (
    "Weighted",
    "Weight Minimum",
    "Weight Maximum",
    "Weight Default",
)
_CODE_COLUMN = re.compile(r"^Code: (?P<path>.+) (?P<kind>Applied|Range|Weight)$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_DUPLICATE = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)$")
_TRUE = {"true": True, "false": False}
_HEADERLESS = re.compile(r"^(?:Unnamed: \d+|\.\.\.\d+)$")  # pandas / readxl names
_MEMO = "Memo:"


@dataclass(frozen=True)
class DedooseReport:
    """What reading an excerpt export left outside the five tables."""

    memos: pd.DataFrame  # doc_id, start, end, coder, memo (text after "Memo:")
    memo_columns: tuple[str, ...]

    def line(self) -> str:
        """One line for the data check."""
        return (f"{len(self.memos)} excerpt memos in {len(self.memo_columns)} headerless "
                "columns (kept aside, not used by the analysis)" if len(self.memos)
                else "no excerpt memos")


def read_dedoose(excerpts_path: str | Path, codes_path: str | Path) -> CodedCorpus:
    """Read a Dedoose excerpt export and its codes export into a validated CodedCorpus."""
    return read_dedoose_report(excerpts_path, codes_path)[0]


def read_dedoose_report(
    excerpts_path: str | Path, codes_path: str | Path
) -> tuple[CodedCorpus, DedooseReport]:
    """Read a Dedoose project; return the corpus and the excerpt memos kept aside.

    Under a build, the result parsed by the data check is loaded instead (``parsecache``)."""
    return parsecache.cached("compendium.data.dedoose.read_dedoose_report",
                             [excerpts_path, codes_path], (),
                             lambda: _read_dedoose_report(excerpts_path, codes_path))


def _read_dedoose_report(
    excerpts_path: str | Path, codes_path: str | Path
) -> tuple[CodedCorpus, DedooseReport]:
    excerpts_path = Path(excerpts_path)
    codes = read_dedoose_codes(codes_path)
    raw = _read_sheet(excerpts_path, "excerpt rows")
    _require_columns(raw, FIXED_COLUMNS, excerpts_path,
                     "the excerpt export lacks a fixed Dedoose column",
                     f"the fixed columns {list(FIXED_COLUMNS)}", list(raw.columns[:10]))
    applied = _applied_columns(raw, codes, excerpts_path, Path(codes_path))
    memo_cols = _memo_columns(raw, excerpts_path)
    descriptors = _descriptor_columns(raw, excerpts_path)

    media = _text_column(raw["Media Title"])
    _require_filled(media, excerpts_path, "Media Title", "the interview's title")
    coder = _text_column(raw["Excerpt Creator"])
    _require_filled(coder, excerpts_path, "Excerpt Creator", "the coder's name")
    copy = pd.Series(
        [v if isinstance(v, str) else (_cell_text(v) or "")
         for v in raw["Excerpt Copy"].to_numpy(dtype=object)],
        dtype=object,
    )  # the excerpt's text exactly as exported (not stripped)
    start, end = _parse_ranges(raw["Excerpt Range"], copy, excerpts_path)

    doc_ids = list(pd.unique(media))
    attributes = _attributes(media, descriptors, excerpts_path)

    code_ids = list(applied)
    matrix = np.column_stack([applied[c] for c in code_ids]) if code_ids else None
    if matrix is None or not matrix.any():
        rows_idx = np.array([], dtype=int)
        code_idx = np.array([], dtype=int)
    else:
        rows_idx, code_idx = np.nonzero(matrix)
    codings = pd.DataFrame(
        {
            "doc_id": media.to_numpy()[rows_idx],
            "start": start[rows_idx],
            "end": end[rows_idx],
            "text": copy.to_numpy()[rows_idx],
            "code_id": np.asarray(code_ids, dtype=object)[code_idx],
            "coder": coder.to_numpy()[rows_idx],
        }
    )
    corpus = tidy_corpus(doc_ids, attributes, codes, codings, excerpts_path)
    memos = [
        (media.iloc[i], int(start[i]), int(end[i]), coder.iloc[i],
         cell.strip()[len(_MEMO):].strip())
        for col in memo_cols for i, cell in enumerate(raw[col].tolist())
        if isinstance(cell, str) and cell.strip()
    ]
    memo_table = pd.DataFrame(memos, columns=["doc_id", "start", "end", "coder", "memo"])
    return corpus, DedooseReport(memo_table, tuple(memo_cols))


def read_dedoose_codes(path: str | Path) -> pd.DataFrame:
    """Read a Dedoose codes export into the tidy ``codes`` table (depth-first order)."""
    path = Path(path)
    raw = _read_sheet(path, "codes")
    _require_columns(raw, CODES_COLUMNS, path, "the codes export lacks a column",
                     f"the columns {list(CODES_ALL_COLUMNS)}", list(raw.columns))
    ids = _text_column(raw["Id"])
    parents = _text_column(raw["Parent Id"])
    titles = _text_column(raw["Title"])
    descriptions = _text_column(raw["Description"]).fillna("")
    _require_filled(ids, path, "Id", "a code id")
    _require_filled(titles, path, "Title", "the code's title")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise DataError(
            path,
            "two codes share one Id",
            row=int(dup.index[0]) + 2,
            column="Id",
            expected="unique ids",
            found=dup.iloc[0],
        )
    known = set(ids)
    orphan = parents.notna() & ~parents.isin(known)
    if orphan.any():
        i = int(np.flatnonzero(orphan.to_numpy())[0])
        raise DataError(
            path,
            "Parent Id points to no code",
            row=i + 2,
            column="Parent Id",
            expected="empty (a top-level code) or an Id listed in column 'Id'",
            found=parents.iloc[i],
        )
    children: dict[str | None, list[int]] = {}
    for i, parent in enumerate(parents):
        children.setdefault(None if pd.isna(parent) else parent, []).append(i)
    rows: list[tuple[str, str | None, str, str, int]] = []
    seen: set[int] = set()
    stack: list[tuple[int, str | None, int]] = [
        (i, None, 1) for i in reversed(children.get(None, []))
    ]
    while stack:
        i, parent_path, level = stack.pop()
        seen.add(i)
        title = titles.iloc[i]
        code_path = title if parent_path is None else f"{parent_path}\\{title}"
        rows.append((code_path, parent_path, title, descriptions.iloc[i], level))
        stack.extend((k, code_path, level + 1) for k in reversed(children.get(ids.iloc[i], [])))
    if len(seen) < len(ids):
        i = min(set(range(len(ids))) - seen)
        raise DataError(
            path,
            "the codes' Parent Ids form a cycle",
            row=i + 2,
            column="Parent Id",
            expected="a tree of codes under top-level codes",
            found=parents.iloc[i],
        )
    return codes_frame(rows, path, "Title")


# --------------------------------------------------------------------------- helpers


def _read_sheet(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(path, "file not found", expected=f"a Dedoose {what} export (.xlsx)")
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty", expected=f"a Dedoose {what} export (.xlsx)")
    try:
        # no cell text is missing: "NA", "null", "None" are text; an empty cell is ""
        df = read_first_sheet(path)  # = pd.read_excel(path, **READ_EXCEL), column-wise
    except Exception as exc:  # calamine raises its own types for broken workbooks
        raise DataError(
            path,
            f"cannot read the file as an Excel workbook ({type(exc).__name__}: {exc})",
            expected=f"a Dedoose {what} export (.xlsx)",
        ) from None
    if len(df.columns) == 0 or len(df) == 0:
        raise DataError(
            path,
            "the first sheet has no data rows",
            row=2,
            expected=f"a header row and at least one row of {what}",
        )
    df.columns = [str(c) for c in df.columns]
    for column in df.columns:
        col = df[column]
        if col.dtype == object:
            nul = any(isinstance(c, str) and "\x00" in c for c in col.tolist())
        else:  # text columns searched at once; no text in bool, number or date columns
            nul = pd.api.types.is_string_dtype(col.dtype) and bool(
                col.str.contains("\x00", regex=False, na=False).any())
        if not nul:
            continue
        for i, cell in enumerate(col.tolist()):
            if isinstance(cell, str) and "\x00" in cell:
                raise DataError(path, "a cell holds a NUL character", row=i + 2,
                                column=column, expected="text without NUL characters",
                                found=cell.replace("\x00", "\\x00")[:60])
    formula = first_formula(path)
    if formula is not None:
        sheet, row, col, text = formula
        raise DataError(
            path,
            f"a cell of sheet {sheet!r} holds a formula ({get_column_letter(col)}{row}: "
            "a formula's value is not stored by every program that writes workbooks)",
            row=row,
            column=df.columns[col - 1] if col <= len(df.columns) else get_column_letter(col),
            expected=f"the value itself, as a Dedoose {what} export stores it (text, "
            "True/False)",
            found=text[:60],
        )
    return df.reset_index(drop=True)


def _cell_text(value: object) -> str | None:
    """One spreadsheet cell as text (None when empty); 12.0 -> '12', dates -> ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp | _dt.datetime):
        if pd.isna(value):
            return None
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if pd.isna(value):
        return None
    return str(value)


def _text_column(col: pd.Series) -> pd.Series:
    values = col.to_numpy(dtype=object)
    if col.dtype != object and pd.api.types.is_string_dtype(col.dtype) and not col.hasnans:
        return pd.Series([v.strip() or None for v in values], index=col.index, dtype=object)
    return pd.Series([_cell_text(v) for v in values], index=col.index, dtype=object)


def _require_columns(
    raw: pd.DataFrame, required: Sequence[str], path: Path, problem: str, expected: str,
    found: list[str],
) -> None:
    """Refuse a header row (row 1) that lacks one of the ``required`` columns."""
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataError(path, problem, row=1, column=missing[0], expected=expected, found=found)


def _require_filled(col: pd.Series, path: Path, column: str, expected: str) -> None:
    empty = col.isna().to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(path, "empty cell", row=i + 2, column=column, expected=expected)


def _parse_ranges(col: pd.Series, copy: pd.Series, path: Path) -> tuple[np.ndarray, np.ndarray]:
    text = _text_column(col)
    parts = text.fillna("").str.extract(_RANGE)
    ok = parts[0].notna().to_numpy()
    doc_level = (text.isna() & (copy == "")).to_numpy()
    start = np.zeros(len(col), dtype=np.int64)
    end = np.zeros(len(col), dtype=np.int64)
    start[ok] = parts.loc[ok, 0].astype("int64").to_numpy()
    end[ok] = parts.loc[ok, 1].astype("int64").to_numpy()
    bad = (~ok & ~doc_level) | (ok & (end < start))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            path,
            "malformed Excerpt Range",
            row=i + 2,
            column="Excerpt Range",
            expected="'start-end' character offsets with start <= end (PDF page ranges "
            "are not supported; empty only for a document-level excerpt without text)",
            found=col.iloc[i],
        )
    return start, end


def _applied_columns(
    raw: pd.DataFrame, codes: pd.DataFrame, path: Path, codes_path: Path
) -> dict[str, np.ndarray]:
    """``Applied`` columns as boolean arrays keyed by code path, in codebook order."""
    known = set(codes["code_id"])
    found: dict[str, np.ndarray] = {}
    for column in raw.columns:
        if not column.startswith("Code:"):
            continue
        m = _CODE_COLUMN.match(column)
        if m is None:
            raise DataError(
                path,
                "a 'Code:' column has an unexpected name",
                row=1,
                column=column,
                expected="'Code: <path> Applied', 'Code: <path> Range' or 'Code: <path> Weight'",
            )
        if m["path"] not in known:
            raise DataError(
                path,
                f"code path {m['path']!r} is not in the codes export {codes_path.name}",
                row=1,
                column=column,
                expected=f"one of the {len(known)} code paths of {codes_path}",
            )
        if m["kind"] == "Applied":
            found[m["path"]] = _booleans(raw[column], path, column)
    return {c: found[c] for c in codes["code_id"] if c in found}


def _booleans(col: pd.Series, path: Path, column: str) -> np.ndarray:
    if col.dtype == bool:
        return col.to_numpy()
    out = np.zeros(len(col), dtype=bool)
    for i, v in enumerate(col.tolist()):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in _TRUE:
            out[i] = _TRUE[v.strip().lower()]
        else:
            raise DataError(
                path,
                "an Applied cell is not a boolean",
                row=i + 2,
                column=column,
                expected="True or False",
                found="(empty)" if _cell_text(v) is None else v,
            )
    return out


def _memo_columns(raw: pd.DataFrame, path: Path) -> list[str]:
    """Headerless columns (pandas ``Unnamed: N``, readxl ``...N``) holding excerpt memos;
    empty ones are ignored, any other content is refused."""
    memo_cols = []
    for name in [c for c in raw.columns if _HEADERLESS.match(c)]:
        cells = _text_column(raw[name])
        filled = cells.dropna()
        if filled.empty:
            continue
        not_memo = ~filled.str.startswith(_MEMO)
        if not_memo.any():
            raise DataError(
                path,
                "a column holding values has no header",
                row=int(not_memo.index[not_memo.to_numpy()][0]) + 2,
                column=name,
                expected="a descriptor name in the header row, or excerpt memos "
                f"(cells beginning {_MEMO!r})",
                found=filled[not_memo].iloc[0][:60],
            )
        memo_cols.append(name)
    return memo_cols


def _descriptor_columns(raw: pd.DataFrame, path: Path) -> dict[str, pd.Series]:
    """Descriptor fields as text columns; ``x.1`` copies merged into ``x``. Headerless
    columns are memos or empty (checked by :func:`_memo_columns`)."""
    names = [c for c in raw.columns if c not in FIXED_COLUMNS and not c.startswith("Code:")
             and not _HEADERLESS.match(c)]
    out: dict[str, pd.Series] = {}
    for name in names:
        m = _DUPLICATE.match(name)
        if m and m["base"] in names:
            continue
        out[name] = _text_column(raw[name])
    for name in names:
        m = _DUPLICATE.match(name)
        if not (m and m["base"] in names):
            continue
        base = m["base"]
        other = _text_column(raw[name])
        clash = (out[base].notna() & other.notna() & (out[base] != other)).to_numpy()
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise DataError(
                path,
                f"descriptor {base!r} was exported twice with different values",
                row=i + 2,
                column=name,
                expected=f"the same value as column {base!r} ({out[base].iloc[i]!r})",
                found=other.iloc[i],
            )
        out[base] = out[base].where(out[base].notna(), other)
    return out


def _attributes(media: pd.Series, descriptors: dict[str, pd.Series], path: Path) -> pd.DataFrame:
    frames = []
    for name, values in descriptors.items():
        df = pd.DataFrame({"doc_id": media, "value": values}).dropna()
        first = df.drop_duplicates("doc_id")
        merged = df.merge(first, on="doc_id", suffixes=("", "_first"), how="left")
        clash = (merged["value"] != merged["value_first"]).to_numpy()
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            row = int(df.index[i]) + 2
            doc = merged["doc_id"].iloc[i]
            first_row = int(first.index[first["doc_id"] == doc][0]) + 2
            raise DataError(
                path,
                f"interview {doc!r} has two values of descriptor {name!r}",
                row=row,
                column=name,
                expected=f"one value per interview ({merged['value_first'].iloc[i]!r} "
                f"as in row {first_row})",
                found=merged["value"].iloc[i],
            )
        frames.append(first.assign(attribute=name)[["doc_id", "attribute", "value"]])
    if not frames:
        return pd.DataFrame({"doc_id": [], "attribute": [], "value": []}, dtype=object)
    return pd.concat(frames, ignore_index=True)
