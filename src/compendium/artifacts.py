"""Writing outputs so that a failed run never leaves a file that looks complete.

Every file goes to a temporary name in the same folder and is moved into place
with :func:`os.replace` only once it is fully written. Tables and figures are
written deterministically (no timestamps, fixed float format, LF line endings).
"""

from __future__ import annotations

import json
import os
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
    """Write a published table as UTF-8 CSV, deterministically and atomically."""
    text = df.to_csv(index=index, lineterminator="\n", float_format="%.6g")
    return atomic_write_text(path, text)


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
