"""Statistical disclosure control for published tables of counts.

Rules (``docs/methods.md`` section 4): counts ``1 .. min_cell - 1`` are never
published (``min_cell`` defaults to 5); a suppressed cell must not be
recoverable from row or column totals (secondary suppression); a percentage is
shown only when its base is at least ``min_base`` (10), and never for a count
that is itself suppressed.

Two-way tables (:func:`suppress`, :func:`suppression_mask`)
    *Primary*: cells with ``0 < n < min_cell``. Zeros stay published (a
    structural or sampling zero identifies nobody). *Secondary*, repeated until
    nothing changes:

    1. every row and column that contains a suppressed cell gets at least two.
       Lines are visited top to bottom, then left to right; the first with a
       single suppression gets the smallest remaining non-zero cell, preferring
       a cell whose crossing line also holds a single suppression (one cell then
       completes two lines, which avoids long chains of suppressions); remaining
       ties go to the top-most, left-most cell. A zero is taken only when the
       line has no non-zero cell left;
    2. an audit solves the table's linear equations: a suppressed cell whose
       value follows exactly from the row and column totals (it is a "bridge"
       between two otherwise separate groups of suppressions, which rule 1 alone
       does not catch) gets a partner: the smallest cell that puts it on a cycle
       of suppressions.

    Row and column totals are assumed known to the reader even when the table
    does not show them. A line with a single cell (e.g. every row of a one-column
    table) is not an equation: its total *is* the cell. A total of
    1..min_cell-1 is itself a small count that no interior suppression can
    protect: publish such a table with its margins (below), so that the total is
    suppressed too, or merge categories.

    *Margins*: a row and/or column labelled ``total_label`` (default ``"Total"``)
    is treated as part of the table, consistently: totals are counts like any
    other (a total of 1..min_cell-1 is suppressed), and each line including its
    total cell is one equation, so the same two rules protect interior cells and
    totals alike. Margins must add up; a table whose totals do not is rejected.
    A final audit (:func:`_bounded_audit`) solves the table as an integer program with
    non-negative cells: a suppressed cell that bounds and integrality still pin gets more
    cells suppressed (``Ledger(interval="open")``: a cell must not be determined). The
    notebooks' interview tables use the stricter linked ledger instead.

    Suppressed cells are shown as one marker (default ``f"<{min_cell}"``) whether
    primary or secondary, so the marker does not reveal which cells were small;
    read it as "suppressed", since a secondary cell may hold min_cell or more.

Long tables (:func:`suppress_counts_column`): counts below ``min_cell`` become
the marker; percentage columns are blanked (NaN) where the base is below
``min_base`` or a count in the same row was suppressed.

Scanner convention (:func:`small_counts_in_csv`, used by the privacy test on the
published CSVs): the *count columns* of a CSV are those named ``n`` or starting
with ``n_``; in a file whose name ends with ``_counts.csv`` **every** numeric
cell is a count (so such files must keep labels non-numeric). Any integral
count ``1 .. min_cell - 1`` in a count column is reported; markers like ``<5``,
blanks and non-integral numbers are not counts.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from compendium.analysis.disclosure_audit import DisclosureError
from compendium.errors import DataError, ParameterError

__all__ = [
    "DisclosureError",
    "small_counts_in_csv",
    "suppress",
    "suppress_counts_column",
    "suppress_one_way",
    "suppression_mask",
]

_NULL_TOL = 1e-9


# --------------------------------------------------------------------------- validation
def _check_min_cell(min_cell: int) -> int:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ParameterError("min_cell", f"must be a positive integer, got {min_cell!r}")
    return int(min_cell)


def _count_matrix(table: pd.DataFrame) -> np.ndarray:
    if not isinstance(table, pd.DataFrame):
        raise ParameterError("table", f"must be a DataFrame, got {type(table).__name__}")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ParameterError("table", "is empty")
    for col in table.columns:
        s = table[col]
        num = pd.to_numeric(s, errors="coerce")
        bad = s.isna() | num.isna() | (num < 0) | (num % 1 != 0)
        if bad.any():
            row = bad[bad].index[0]
            value = s.loc[row]
            value = value.item() if hasattr(value, "item") else value
            raise ParameterError(
                "table",
                f"cell (row {row!r}, column {col!r}) is {value!r}",
                allowed="non-negative integer counts, no missing values",
            )
    return table.apply(pd.to_numeric).to_numpy(dtype=np.int64)


def _check_margins(table: pd.DataFrame, values: np.ndarray, total_label: object) -> None:
    if total_label is None:
        return
    rows = [i for i, lab in enumerate(table.index) if lab == total_label]
    cols = [j for j, lab in enumerate(table.columns) if lab == total_label]
    if len(rows) > 1 or len(cols) > 1:
        raise ParameterError("table", f"has more than one {total_label!r} row or column")
    for i in rows:
        others = np.delete(values, i, axis=0).sum(axis=0)
        if not np.array_equal(values[i], others):
            j = int(np.flatnonzero(values[i] != others)[0])
            raise ParameterError(
                "table",
                f"{total_label!r} row does not add up in column {table.columns[j]!r}: "
                f"shows {values[i, j]}, rows sum to {others[j]}",
            )
    for j in cols:
        others = np.delete(values, j, axis=1).sum(axis=1)
        if not np.array_equal(values[:, j], others):
            i = int(np.flatnonzero(values[:, j] != others)[0])
            raise ParameterError(
                "table",
                f"{total_label!r} column does not add up in row {table.index[i]!r}: "
                f"shows {values[i, j]}, columns sum to {others[i]}",
            )


# --------------------------------------------------------------------------- algorithm
def _lines(shape: tuple[int, int]) -> list[tuple[str, int]]:
    """The lines that are equations: rows if they hold >= 2 cells, columns likewise."""
    n_rows, n_cols = shape
    lines: list[tuple[str, int]] = []
    if n_cols >= 2:
        lines += [("row", i) for i in range(n_rows)]
    if n_rows >= 2:
        lines += [("col", j) for j in range(n_cols)]
    return lines


def _line_cells(line: tuple[str, int], shape: tuple[int, int]) -> list[tuple[int, int]]:
    kind, k = line
    if kind == "row":
        return [(k, j) for j in range(shape[1])]
    return [(i, k) for i in range(shape[0])]


def _crossing_count(cell: tuple[int, int], line_kind: str, mask: np.ndarray) -> int:
    i, j = cell
    return int(mask[:, j].sum()) if line_kind == "row" else int(mask[i, :].sum())


def _fix_line_rule(values: np.ndarray, mask: np.ndarray) -> bool:
    """Add one cell to the first line holding exactly one suppression. True if changed."""
    shape = values.shape
    lines = _lines(shape)
    for line in lines:
        cells = _line_cells(line, shape)
        if sum(mask[c] for c in cells) != 1:
            continue
        candidates = [c for c in cells if not mask[c]]
        crossing_is_line = (line[0] == "row" and shape[0] >= 2) or (
            line[0] == "col" and shape[1] >= 2
        )

        def key(c: tuple[int, int], kind: str = line[0], cross: bool = crossing_is_line):
            closes = cross and _crossing_count(c, kind, mask) == 1
            return (values[c] == 0, not closes, values[c], c)

        best = min(candidates, key=key)
        mask[best] = True
        return True
    return False


def _equations(mask: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    shape = mask.shape
    cells = [tuple(int(v) for v in c) for c in np.argwhere(mask)]
    index = {c: k for k, c in enumerate(cells)}
    rows = []
    for line in _lines(shape):
        row = np.zeros(len(cells))
        for c in _line_cells(line, shape):
            if c in index:
                row[index[c]] = 1.0
        if row.any():
            rows.append(row)
    a = np.array(rows) if rows else np.zeros((0, len(cells)))
    return a, cells


def _determined(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells whose value follows exactly from the (known) line totals."""
    a, cells = _equations(mask)
    if not cells:
        return []
    if a.shape[0] == 0:
        return []
    ns = null_space(a)
    if ns.size == 0:
        return cells
    free = np.abs(ns).max(axis=1) > _NULL_TOL
    return [c for c, f in zip(cells, free, strict=True) if not f]


def _fix_bridge(values: np.ndarray, mask: np.ndarray, cell: tuple[int, int]) -> None:
    """Suppress the smallest cell that makes ``cell`` no longer determined."""
    order = sorted(
        (tuple(int(v) for v in c) for c in np.argwhere(~mask)),
        key=lambda c: (values[c] == 0, values[c], c),
    )
    for cand in order:
        trial = mask.copy()
        trial[cand] = True
        if cell not in _determined(trial):
            mask[cand] = True
            return
    # Not reachable for a table with >= 2 rows or columns; keep the loop moving regardless.
    mask[order[0]] = True


def _secondary(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask.copy()
    while True:
        if _fix_line_rule(values, mask):
            continue
        if mask.all():
            break
        determined = _determined(mask)
        if not determined:
            break
        _fix_bridge(values, mask, determined[0])
    return mask


# --------------------------------------------------------------------------- public API
def suppression_mask(
    table: pd.DataFrame,
    min_cell: int = 5,
    secondary: bool = True,
    total_label: object = "Total",
) -> pd.DataFrame:
    """Boolean frame, True where :func:`suppress` hides the cell (see the module docstring)."""
    min_cell = _check_min_cell(min_cell)
    values = _count_matrix(table)
    _check_margins(table, values, total_label)
    mask = (values > 0) & (values < min_cell)
    if secondary and mask.any():
        mask = _secondary(values, mask)
        mask = _bounded_audit(table, values, mask, min_cell, total_label)
    return pd.DataFrame(mask, index=table.index, columns=table.columns)


def _bounded_audit(
    table: pd.DataFrame, values: np.ndarray, mask: np.ndarray, min_cell: int,
    total_label: object,
) -> np.ndarray:
    """The line rules' pattern checked with bounds and integers
    (:mod:`compendium.analysis.disclosure_audit`): margins not shown are taken as known; any
    suppressed cell still pinned by the published numbers gets more cells suppressed."""
    from compendium.analysis.disclosure_audit import DisclosureError, Ledger, key

    trow = [i for i, lab in enumerate(table.index) if lab == total_label]
    tcol = [j for j, lab in enumerate(table.columns) if lab == total_label]
    rows = [i for i in range(values.shape[0]) if i not in trow]
    cols = [j for j in range(values.shape[1]) if j not in tcol]
    led = Ledger(min_cell, interval="open", show_determined=False)
    led.domain("cell", "r", rows)
    led.domain("cell", "c", cols)

    def k(i: int, j: int):
        dims = {}
        if i not in trow:
            dims["r"] = i
        if j not in tcol:
            dims["c"] = j
        return key("cell", dims)

    assumed = {}  # a line of a single cell is not an equation (its total is the cell)
    if not trow and len(rows) >= 2:
        assumed |= {key("cell", c=j): int(values[rows, j].sum()) for j in cols}
    if not tcol and len(cols) >= 2:
        assumed |= {key("cell", r=i): int(values[i, cols].sum()) for i in rows}
    if assumed:
        assumed[key("cell")] = int(values[np.ix_(rows, cols)].sum())
    if assumed:
        led.publish(assumed, "margins (assumed known)")
    shape = values.shape
    counts = {k(i, j): int(values[i, j]) for i in range(shape[0]) for j in range(shape[1])}
    preset = [k(i, j) for i in range(shape[0]) for j in range(shape[1]) if mask[i, j]]
    try:
        hidden = led.publish(counts, "table", preset=preset)
    except DisclosureError:
        # a small total that no interior suppression protects (see the module docstring:
        # publish such a table with its margins, or merge categories)
        return mask
    return np.array([[hidden[k(i, j)] for j in range(shape[1])] for i in range(shape[0])])


def suppress(
    table: pd.DataFrame,
    min_cell: int = 5,
    secondary: bool = True,
    marker: str | None = None,
    total_label: object = "Total",
) -> pd.DataFrame:
    """Publishable copy of a two-way table of counts with small cells suppressed.

    Returns an object-dtype frame: published cells as ``int``, suppressed cells
    as ``marker`` (default ``f"<{min_cell}"``), never a number. Primary and
    secondary suppression and the treatment of a ``total_label`` margin are
    described in the module docstring.
    """
    min_cell = _check_min_cell(min_cell)
    marker = f"<{min_cell}" if marker is None else str(marker)
    mask = suppression_mask(table, min_cell, secondary=secondary, total_label=total_label)
    values = _count_matrix(table)
    out = pd.DataFrame(
        [
            [marker if m else int(v) for v, m in zip(vrow, mrow, strict=True)]
            for vrow, mrow in zip(values, mask.to_numpy(), strict=True)
        ],
        index=table.index,
        columns=table.columns,
        dtype=object,
    )
    out.attrs["sdc"] = "rules"
    return out


def suppress_counts_column(
    df: pd.DataFrame,
    count_cols: Sequence[str],
    min_cell: int = 5,
    pct_cols: Sequence[str] = (),
    min_base: int = 10,
    base_col: str | None = None,
    marker: str | None = None,
) -> pd.DataFrame:
    """Suppress small counts and unsafe percentages in a long (tidy) table.

    * each ``count_cols`` value in ``1 .. min_cell - 1`` becomes ``marker``
      (default ``f"<{min_cell}"``; the columns become object dtype);
    * each ``pct_cols`` value (percentages and their interval bounds) becomes NaN
      where the row's base is below ``min_base``, or where a count in the same row
      was suppressed (a percentage of a known base would give the count back).

    The base is ``df[base_col]`` per row if given, else ``df.attrs["base"]`` (set
    by :func:`compendium.analysis.stats.proportion_table` and ``multi_response_table``),
    else the sum of the first count column (right for a one-way frequency table).

    No secondary suppression is applied across rows: when the base is published,
    a single suppressed category of a one-way table can be recovered by
    subtraction, so either hide the base or suppress a second category.
    """
    min_cell = _check_min_cell(min_cell)
    marker = f"<{min_cell}" if marker is None else str(marker)
    count_cols, pct_cols = list(count_cols), list(pct_cols)
    if not count_cols:
        raise ParameterError("count_cols", "name at least one count column")
    needed = count_cols + pct_cols + ([base_col] if base_col is not None else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ParameterError(
            "count_cols/pct_cols/base_col",
            f"columns {missing} not in the table",
            allowed=list(df.columns),
        )
    small = {col: _small_counts(df[col], min_cell) for col in count_cols}
    hidden = pd.concat(small.values(), axis=1).any(axis=1)
    if base_col is not None:
        base = pd.to_numeric(df[base_col], errors="coerce")
    elif "base" in df.attrs:
        base = pd.Series(float(df.attrs["base"]), index=df.index)
    else:
        base = pd.Series(float(pd.to_numeric(df[count_cols[0]]).sum()), index=df.index)
    return _hide(df, small, hidden, pct_cols, hidden | ~(base >= min_base), marker)


def _small_counts(values: pd.Series, min_cell: int) -> pd.Series:
    """True where a value is a count in ``1 .. min_cell - 1`` (text and gaps are not)."""
    num = pd.to_numeric(values, errors="coerce")
    return ((num >= 1) & (num < min_cell)).fillna(False).astype(bool)


def _hide(
    df: pd.DataFrame, hidden: dict[str, pd.Series], rows: pd.Series, pct_cols: Sequence[str],
    blank: pd.Series, marker: str,
) -> pd.DataFrame:
    """``df`` with the ``hidden`` cells of each count column replaced by ``marker`` and the
    percentage columns blanked (NaN) on the ``blank`` rows; ``attrs["n_suppressed"]`` counts
    the ``rows`` that hold a hidden count."""
    out = df.copy()
    for col, mask in hidden.items():
        out[col] = df[col].astype(object).where(~mask, marker)
    for col in pct_cols:
        out[col] = pd.to_numeric(df[col], errors="coerce").astype(float).where(~blank)
    out.attrs = dict(df.attrs)
    out.attrs["n_suppressed"] = int(rows.sum())
    out.attrs["sdc"] = "rules"
    return out


def _as_count(text: str) -> int | None:
    s = text.strip()
    if not s:
        return None
    try:
        value = float(s)
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def small_counts_in_csv(path: str | Path, min_cell: int = 5) -> list[tuple[int, str, int]]:
    """Every published count in ``1 .. min_cell - 1`` in a CSV file.

    Returns ``(row, column, value)`` with ``row`` as a spreadsheet shows it
    (header = row 1, first data row = 2). Which cells are counts is the module's
    scanner convention: columns named ``n`` or starting with ``n_``, or every
    cell of a ``*_counts.csv`` file.
    """
    min_cell = _check_min_cell(min_cell)
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    all_cells = path.name.endswith("_counts.csv")
    found: list[tuple[int, str, int]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return found
        count_idx = [
            k for k, name in enumerate(header) if all_cells or name == "n" or name.startswith("n_")
        ]
        for row_no, row in enumerate(reader, start=2):
            for k in count_idx:
                if k >= len(row):
                    continue
                value = _as_count(row[k])
                if value is not None and 1 <= value < min_cell:
                    found.append((row_no, header[k], value))
    return found


def suppress_one_way(
    df: pd.DataFrame,
    count_col: str,
    group_col: str,
    min_cell: int = 5,
    pct_cols: Sequence[str] = (),
    min_base: int = 10,
    base_col: str | None = None,
    marker: str | None = None,
) -> pd.DataFrame:
    """Stacked one-way frequency tables (one per ``group_col`` value, categories exhaustive).

    Primary suppression as :func:`suppress_counts_column`; secondary within each group:
    when a group's base is published and exactly one of its counts is hidden, the smallest
    other non-zero count of the group is hidden too, so the hidden one cannot be recovered
    by subtraction. Percentages of hidden rows (and of small bases) are blanked.
    """
    min_cell = _check_min_cell(min_cell)
    marker = f"<{min_cell}" if marker is None else str(marker)
    num = pd.to_numeric(df[count_col], errors="coerce")
    hide = _small_counts(df[count_col], min_cell)
    for _, idx in df.groupby(group_col, sort=False).groups.items():
        part = num.loc[idx]
        if int(hide.loc[idx].sum()) == 1:
            rest = part[(~hide.loc[idx]) & (part > 0)]
            if len(rest):
                hide.loc[rest.sort_values(kind="mergesort").index[0]] = True
    base = pd.to_numeric(df[base_col], errors="coerce") if base_col else None
    blank = hide if base is None else hide | ~(base >= min_base)
    return _hide(df, {count_col: hide}, hide, pct_cols, blank, marker)
