"""Read LimeSurvey's SPSS ``.sav`` response export into the same tidy table as its CSV.

LimeSurvey names SPSS variables by question code, with the brackets of subquestions
turned into underscores (``Q9[SQ001]`` becomes ``Q9_SQ001``); it stores answers as
numbers with value labels. This reader finds each CSV column of the codebook under its
SPSS name (case-insensitively), turns every value back into the CSV's raw form and types
the table exactly as :func:`compendium.data.survey.read_cawi` does, so that the two exports
give the same tidy table. Value labels are used, not trusted blindly:

* a yes/no question with a raw-value map in the codebook (``cawi_values: {Y: 1, N: 0}``)
  is read through its label: the label must be one of the codebook's labels (Polish or
  English) of some code;
* a coded answer keeps its number; where the file labels it, the label must equal the
  codebook's label of that code (in either language), else the file is refused;
* a multiple-response option is ticked when its value is 1 (or labelled yes/tak);
* an empty ``submitdate`` marks an incomplete response, left out unless asked for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compendium.data.codebook import CODED_TYPES, Codebook
from compendium.errors import DataError, ParameterError

_YES = {"yes", "tak", "y", "1"}


def spss_name(column: str) -> str:
    """The SPSS variable name LimeSurvey gives a CSV column (``Q9[SQ001]`` -> ``Q9_SQ001``)."""
    return re.sub(r"_+$", "", re.sub(r"[^0-9A-Za-z_]", "_", column))


def read_cawi_sav(path: str | Path, codebook: Codebook, *,
                  include_incomplete: bool = False) -> pd.DataFrame:
    """Read a LimeSurvey ``.sav`` export into the tidy table (as :func:`read_cawi` would).

    ``attrs["incomplete_excluded"]`` counts the incomplete responses left out. A row in an
    error message is the SPSS case number.
    """
    import pyreadstat

    from compendium.data.survey import _SUBMITDATE, _type_frame

    if not isinstance(include_incomplete, bool):
        raise ParameterError("include_incomplete", "must be True or False",
                             allowed=[True, False])
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found", expected="a LimeSurvey SPSS export (.sav)")
    try:
        data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own untyped errors
        raise DataError(path, f"not a readable SPSS .sav file ({exc})",
                        expected="a LimeSurvey SPSS export (.sav)") from None
    by_name = {c.lower(): c for c in data.columns}
    columns = codebook.columns("cawi")
    wanted = {col: spss_name(col) for col in [*columns.values(), _SUBMITDATE]}
    missing = [s for c, s in wanted.items() if s.lower() not in by_name and c != _SUBMITDATE]
    if missing:
        raise DataError(path, f"SPSS variable(s) missing: {', '.join(missing)}",
                        column=missing[0], expected="LimeSurvey's SPSS names of the "
                        "codebook's CAWI columns (question codes, '[...]' as '_...')")
    labels = meta.variable_value_labels
    raw: dict[str, list[str]] = {}
    for name, col in columns.items():
        spss = by_name[wanted[col].lower()]
        raw[col] = _raw_values(codebook, name, spss, data[spss].tolist(),
                               labels.get(spss, {}), path)
    frame = pd.DataFrame(raw, dtype=str)
    frame.index = pd.Index(np.arange(1, len(data) + 1), name="row")
    excluded = 0
    if not include_incomplete and _SUBMITDATE.lower() in by_name:
        submitted = [_text(v) for v in data[by_name[_SUBMITDATE.lower()]].tolist()]
        incomplete = np.array([v == "" for v in submitted])
        excluded = int(incomplete.sum())
        frame = frame.loc[~incomplete]
    tidy, _ = _type_frame(frame, codebook, path, columns, codebook.sources["cawi"],
                          mode="CAWI")
    tidy.attrs["incomplete_excluded"] = excluded
    return tidy


def _text(value: Any) -> str:
    """An SPSS value as the CSV would hold it: '' for missing, 3.0 -> '3'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _raw_values(codebook: Codebook, name: str, spss: str, values: list[Any],
                value_labels: dict[Any, str], path: Path) -> list[str]:
    """One variable's values in the CSV's raw form, checked against its value labels."""
    var = codebook.variable(name)
    texts = [_text(v) for v in values]
    if var.type == "multi" and var.other_text:
        return texts
    if var.type == "multi":
        out = []
        for v, t in zip(values, texts, strict=True):
            label = value_labels.get(v, "")
            out.append("Y" if t in ("1", "Y") or label.strip().casefold() in _YES else "")
        return out
    if var.type not in CODED_TYPES:
        return texts
    known = {code: [lab["pl"], lab["en"]] for code, lab in {**var.codes, **var.missing}.items()}
    to_raw = {code: raw for raw, code in var.raw_values.get("cawi", {}).items()}
    out = []
    for case, (v, t) in enumerate(zip(values, texts, strict=True), 1):
        label = value_labels.get(v)
        if t == "":
            out.append("")
            continue
        if to_raw:  # e.g. Y/N: the SPSS number is LimeSurvey's, the label says which answer
            code = next((c for c, labs in known.items()
                         if label is not None and any(_same(label, x) for x in labs)), None)
            if code is None or code not in to_raw:
                raise DataError(path, "value label matches no answer of the codebook",
                                row=case, column=spss,
                                expected=f"one of {sorted({x for v in known.values() for x in v})}",
                                found=f"{t} = {label!r}")
            out.append(to_raw[code])
            continue
        code = int(t) if re.fullmatch(r"[+-]?[0-9]{1,18}", t) else None
        if label is not None and code in known and not any(_same(label, x)
                                                           for x in known[code]):
            raise DataError(path, f"value label of code {code} differs from the codebook",
                            row=case, column=spss,
                            expected=" or ".join(repr(x) for x in known[code]),
                            found=label)
        out.append(t)
    return out
