"""Publishing through the ledger: frames, matrices and single counts, protected and marked.

Generic wrappers around :class:`compendium.analysis.disclosure_audit.Ledger` used by every
notebook's compositions (``survey_analysis``, ``interview_analysis``): each takes counts and
their ledger keys, lets the ledger decide what is suppressed, and returns a copy marked as
having passed the gate (``attrs["sdc"] = "ledger"``). Methods: ``docs/methods.md`` section 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from compendium.analysis.disclosure_audit import MARKER, DisclosureError, Key, Ledger, key

__all__ = [
    "as_text", "check_total", "gated_count", "is_protected", "numeric", "protect_frame",
    "protect_matrix", "published_counts", "require_protected", "rounded_text",
]


def protect_frame(
    ledger: Ledger, df: pd.DataFrame, keys: Mapping[str, Iterable[Key | None]], artefact: str, *,
    derived: Mapping[str, Iterable[str]] | None = None, marker: str | None = None,
    preset: Iterable[Key] = (),
) -> pd.DataFrame:
    """Publishable copy of ``df``: each count column's cells go through ``ledger``.

    ``keys`` maps a count column to one key per row (``None``: not a count). A suppressed
    count becomes ``marker`` (default :data:`MARKER`); each ``derived`` column (e.g. a
    percentage) is blanked where any of the count columns it is computed from was suppressed.
    ``preset``: keys another rule suppresses (class disclosure), passed to
    :meth:`Ledger.publish`. The copy is marked as having passed the gate (``attrs["sdc"]``).
    """
    marker = MARKER if marker is None else marker
    preset = list(preset)
    out = df.copy()
    keys = {col: list(ks) for col, ks in keys.items()}
    counts: dict[Key, int] = {}
    for col, ks in keys.items():
        for k, v in zip(ks, df[col], strict=True):
            if k is None:
                continue
            if k in counts and counts[k] != int(v):
                raise DisclosureError(f"{artefact}: {k} is both {counts[k]} and {int(v)}")
            counts[k] = int(v)
    # one decision for the whole artefact: a margin and its cells are protected together
    sup = ledger.publish(counts, artefact, preset=[k for k in preset if k in counts])
    hidden: dict[str, pd.Series] = {}
    for col, ks in keys.items():
        hide = pd.Series([k is not None and sup[k] for k in ks], index=df.index)
        hidden[col] = hide
        out[col] = df[col].astype(object).where(~hide, marker)
    for col, sources in (derived or {}).items():
        blank = pd.Series(False, index=df.index)
        for s in sources:
            blank |= hidden[s]
        out[col] = pd.to_numeric(df[col], errors="coerce").astype(float).where(~blank)
    out.attrs = {**df.attrs, "sdc": "ledger"}
    return out


def protect_matrix(ledger: Ledger, values: pd.DataFrame, keys: pd.DataFrame, artefact: str,
                   marker: str | None = None, preset: Iterable[Key] = ()) -> pd.DataFrame:
    """A matrix of counts with a same-shaped frame of keys: suppressed cells become ``marker``
    (object dtype); ``preset`` as in :func:`protect_frame`. The copy is marked as having
    passed the gate."""
    marker = MARKER if marker is None else marker
    counts = {keys.iat[i, j]: int(values.iat[i, j])
              for i in range(values.shape[0]) for j in range(values.shape[1])}
    sup = ledger.publish(counts, artefact, preset=[k for k in preset if k in counts])
    out = pd.DataFrame(
        [[marker if sup[keys.iat[i, j]] else int(values.iat[i, j])
          for j in range(values.shape[1])] for i in range(values.shape[0])],
        index=values.index, columns=values.columns, dtype=object)
    out.attrs = {"sdc": "ledger"}
    return out


def gated_count(
    ledger: Ledger, unit: str, conditions: Mapping[str, Any], value: int, artefact: str
) -> int | None:
    """One count through ``ledger``: the value, or ``None`` where it is suppressed."""
    k = key(unit, dict(conditions))
    return None if ledger.publish({k: int(value)}, artefact)[k] else int(value)


def numeric(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric copy of a protected frame (suppressed cells NaN), still marked as protected."""
    out = df.apply(lambda s: pd.to_numeric(s, errors="coerce") if s.dtype == object else s)
    out.attrs = dict(df.attrs)
    return out


def as_text(protected: pd.DataFrame) -> pd.DataFrame:
    """Cell texts of a protected matrix (numbers as integers, the marker as is), still marked."""
    out = protected.map(lambda v: v if isinstance(v, str) else str(int(v)))
    out.attrs = dict(protected.attrs)
    return out


def rounded_text(protected: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Annotations of a protected numeric matrix: rounded values, blank where suppressed."""
    out = protected.map(lambda v: "" if pd.isna(v) else str(round(float(v), digits)))
    out.attrs = dict(protected.attrs)
    return out


def published_counts(table: pd.DataFrame, id_col: str, count_col: str) -> dict[str, int | None]:
    """``id -> count`` from a protected table, ``None`` where the count is suppressed."""
    return {str(i): (int(v) if not isinstance(v, str) else None)
            for i, v in zip(table[id_col], table[count_col], strict=True)}


def is_protected(obj: Any) -> bool:
    """True if ``obj`` (a frame) came out of a disclosure-control function."""
    return bool(getattr(obj, "attrs", {}).get("sdc"))


def require_protected(obj: Any, what: str) -> None:
    """Raise :class:`DisclosureError` unless ``obj`` passed the gate."""
    if not is_protected(obj):
        raise DisclosureError(f"{what} did not pass the disclosure gate (attrs['sdc'] unset)")


def check_total(total: int, population: int, what: str) -> None:
    """A published count table's total must equal the size of the population it describes."""
    if int(total) != int(population):
        raise DisclosureError(
            f"{what}: total {int(total)} differs from the population it describes "
            f"({int(population)}); the table is wrong")
