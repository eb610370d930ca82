"""The published-CSV scanner: every count below ``min_cell`` in a table file.

Disclosure control itself is the notebook's ledger (:mod:`compendium.analysis.disclosure_audit`,
published through :mod:`compendium.analysis.protect`; ``docs/methods.md`` section 4): every
count table of every notebook goes through it. This module keeps the last line of defence
that the gate (``compendium.publish.notebook.Report.table``) runs on each written file.

Scanner convention (:func:`small_counts_in_csv`, also used by the privacy test on the
published CSVs): the *count columns* of a CSV are those named ``n`` or starting with ``n_``;
in a file whose name ends with ``_counts.csv`` **every** numeric cell is a count (so such
files must keep labels non-numeric). Any integral count ``1 .. min_cell - 1`` in a count
column is reported; markers (``x``), blanks and non-integral numbers are not counts.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from compendium.analysis.disclosure_audit import DisclosureError
from compendium.errors import DataError, ParameterError

__all__ = ["DisclosureError", "small_counts_in_csv"]


# --------------------------------------------------------------------------- validation
def _check_min_cell(min_cell: int) -> int:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ParameterError("min_cell", f"must be a positive integer, got {min_cell!r}")
    return int(min_cell)


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
