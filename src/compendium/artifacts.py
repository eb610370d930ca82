"""Writing outputs so that a failed run never leaves a file that looks complete.

Every file goes to a temporary name in the same folder and is moved into place
with :func:`os.replace` only once it is fully written. Tables and figures are
written deterministically (no timestamps, fixed float format, LF line endings).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically, with LF line endings."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_table(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a published table as UTF-8 CSV, deterministically and atomically.

    Text cells, column names and index labels that a spreadsheet would read as a formula
    are written as text (see :func:`neutralise_cell`).
    """
    text = neutralise_formulas(df).to_csv(index=index, lineterminator="\n", float_format="%.6g")
    return atomic_write_text(path, text)


#: What a spreadsheet takes as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet: a string starting with ``= + - @``, tab or
    carriage return that is not a plain number gets a leading single quote (OWASP), so the
    spreadsheet shows it as text; numbers and every other value are returned unchanged.

    Carriage returns inside a string become line feeds: the CSV writer (lines end in LF)
    would not quote a cell holding a lone CR, and a reader would split the row there.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with :func:`neutralise_cell` applied to its text cells, column names
    and index labels (numeric columns are left as they are)."""
    out = df.copy()
    for pos in range(out.shape[1]):
        col = out.iloc[:, pos]
        if col.dtype == object or str(col.dtype) in ("string", "str", "category"):
            out.isetitem(pos, col.astype(object).map(neutralise_cell))
    out.columns = _neutralise_labels(out.columns)
    out.index = _neutralise_labels(out.index)
    return out


def _neutralise_labels(labels: pd.Index) -> pd.Index:
    names = [neutralise_cell(n) for n in labels.names]
    if labels.nlevels > 1:
        labels = labels.map(lambda t: tuple(neutralise_cell(v) for v in t))
    elif labels.dtype == object or str(labels.dtype) in ("string", "str", "category"):
        labels = labels.map(neutralise_cell)
    return labels.set_names(names)


def update_results(path: str | Path, section: str, values: dict[str, Any]) -> Path:
    """Merge ``values`` under ``section`` into the JSON results file (sorted keys, atomic).

    Each notebook owns one section, so notebooks run in parallel never share a file:
    ``path`` is normally ``outputs/results/<notebook>.json``.
    """
    path = Path(path)
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    data[section] = _jsonable(values)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return atomic_write_text(path, text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    if isinstance(value, float):
        return round(value, 6)
    return value
