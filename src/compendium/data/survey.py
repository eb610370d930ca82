"""Readers of the OPS survey exports, harmonised into one tidy "code frame".

Sources (FORMATS.md; ``data/codebooks/ops_survey.yaml`` says where each variable sits):

* CAWI, LimeSurvey ``CsvWriter`` export: UTF-8 with BOM, ``;``, every value quoted, answer
  codes, multiple response ticked = ``Y`` / unticked = empty (:func:`read_cawi`);
* PAPI, paper questionnaires keyed in Excel and saved as "CSV (separated by semicolons)" on
  Polish Windows: cp1250, ``;``, decimal comma, multiple response 1/0 (:func:`read_papi`);
* optionally a harmonised SPSS ``.sav`` with the tidy variable names (:func:`read_spss`).

The tidy table has one row per respondent, the codebook's variables as columns in codebook
order, a RangeIndex, rows sorted by ``respondent_id``, and these dtypes: ``respondent_id``
and ``mode`` ``str``; single-choice and Likert answers as nullable ``Int64`` *codes* (the
"don't know" code 9 is kept; :func:`apply_missing` turns it into NA); multiple-response
options as nullable ``boolean``; numbers as ``Float64``. Questions a respondent was not
asked (routing) are NA. :func:`labelled` turns codes into ordered categoricals of labels.

Every problem in a raw file raises one :class:`~compendium.errors.DataError` naming the file,
the row as a spreadsheet shows it (header = row 1), the column and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from compendium.data import parsecache, textio
from compendium.data.codebook import CODED_TYPES, ORDERED_TYPES, Codebook, _check_lang
from compendium.errors import DataError, ParameterError

if TYPE_CHECKING:  # pandera is imported when a table is validated, not with this module
    import pandera.pandas as pa

# ASCII digits only: "\d" would also take Arabic-Indic or full-width digits, which
# pd.to_numeric turns into NA without a word
_INT = r"[+-]?[0-9]+"
_NUMBER = {".": r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)",
           ",": r"[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)"}
_IN_MEMORY = "<survey table>"
_SUBMITDATE = "submitdate"  # LimeSurvey: empty for a response that was never submitted
_SPSS_SETTINGS = {"decimal": ".", "id_format": None, "multi_ticked": ["1"],
                  "multi_unticked": ["0"], "known_columns": []}


# --- public readers ---------------------------------------------------------------------
def read_cawi(path: str | Path, codebook: Codebook, *,
              include_incomplete: bool = False) -> pd.DataFrame:
    """Read a LimeSurvey CSV export (UTF-8 with BOM, ``;``, quoted) into the tidy table.

    LimeSurvey's "all responses" export holds incomplete responses too (no ``submitdate``):
    they are left out unless ``include_incomplete=True``; their number is in
    ``attrs["incomplete_excluded"]`` of the table.
    """
    tidy, _, excluded = _read_csv_source(Path(path), codebook, "cawi", include_incomplete)
    tidy.attrs["incomplete_excluded"] = excluded
    return tidy


def read_papi(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read the Excel "CSV (separated by semicolons)" of the paper questionnaires (cp1250,
    decimal comma) into the tidy table."""
    return _read_csv_source(Path(path), codebook, "papi", True)[0]


def read_survey(cawi_path: str | Path, papi_path: str | Path, codebook: Codebook, *,
                include_incomplete: bool = False) -> pd.DataFrame:
    """Read both exports and stack them: one table, ``mode`` column, sorted by respondent_id.

    Incomplete CAWI responses are left out unless ``include_incomplete=True`` (see
    :func:`read_cawi`); ``attrs["incomplete_excluded"]`` of the table counts them. Under a
    build, the table parsed by the data check is loaded instead (``parsecache``).
    """
    return parsecache.cached(
        "compendium.data.survey.read_survey", [cawi_path, papi_path],
        (codebook, include_incomplete),
        lambda: _read_survey(cawi_path, papi_path, codebook, include_incomplete))


def _read_survey(cawi_path: str | Path, papi_path: str | Path, codebook: Codebook,
                 include_incomplete: bool) -> pd.DataFrame:
    cawi_path, papi_path = Path(cawi_path), Path(papi_path)
    cawi, _, excluded = _read_csv_source(cawi_path, codebook, "cawi", include_incomplete)
    papi, papi_rows, _ = _read_csv_source(papi_path, codebook, "papi", True)
    shared = papi["respondent_id"].isin(set(cawi["respondent_id"]))
    if shared.any():
        pos = int(np.flatnonzero(shared.to_numpy())[0])
        rid = papi["respondent_id"].iloc[pos]
        raise DataError(
            papi_path,
            f"respondent id {rid!r} appears in both the PAPI file and the CAWI file "
            f"{cawi_path}",
            row=int(papi_rows[pos]),
            column=codebook.column("respondent_id", "papi"),
            expected="each respondent in one file only",
            found=rid,
        )
    both = pd.concat([cawi, papi], ignore_index=True)
    both = both.sort_values("respondent_id", kind="stable").reset_index(drop=True)
    out = _validate(both, codebook, f"{cawi_path} + {papi_path}")
    out.attrs["incomplete_excluded"] = excluded
    return out


def read_spss(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read a harmonised SPSS ``.sav`` whose variables carry the tidy names and numeric codes.

    ``respondent_id`` and ``mode`` are string variables ("CAWI-0001", "CAWI"); multiple
    response options are 0/1; every other coded variable holds the codebook's codes.

    Read with ``user_missing=True`` so that declared missing codes (9) stay codes, exactly as
    in the CSV sources; value labels in the file are not used (labels come from the codebook
    via :func:`labelled`, which builds the ordered categories SPSS files cannot hold).
    A row in an error message is the SPSS case number.
    """
    import pyreadstat

    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    try:
        raw, _meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own untyped errors
        raise DataError(path, f"not a readable SPSS .sav file ({exc})",
                        expected="an SPSS system file") from None
    if raw.empty:
        raise DataError(path, "file has no cases", expected="at least one case")
    strings = pd.DataFrame(
        {col: [_spss_value_to_str(x) for x in raw[col].tolist()] for col in raw.columns},
        dtype=str,
    )
    strings.index = pd.Index(np.arange(1, len(raw) + 1), name="row")
    columns = {name: name for name in codebook.variables}
    required = [n for n in columns if not codebook.variable(n).optional]
    _check_columns(strings, path, required, [], "SPSS", header_row=None)
    tidy, _ = _type_frame(strings, codebook, path, columns, _SPSS_SETTINGS, mode=None)
    return tidy


# --- public helpers on the tidy table ------------------------------------------------------
def tidy_dtypes(codebook: Codebook) -> dict[str, str]:
    """Column -> pandas dtype of the tidy table, in codebook order."""
    kinds = {"id": "str", "mode": "str", "multi": "boolean", "numeric": "Float64"}
    return {n: kinds.get(codebook.type(n), "Int64") for n in codebook.variables}


def survey_schema(codebook: Codebook) -> pa.DataFrameSchema:
    """The pandera schema of the tidy table, built from the codebook."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    checks: list[pa.Check] = []
    for name in codebook.variables:
        var = codebook.variable(name)
        if var.type == "id":
            columns[name] = pa.Column(str, pa.Check.str_length(min_value=1), unique=True)
        elif var.type == "mode":
            columns[name] = pa.Column(str, pa.Check.isin(list(var.codes)))
        elif var.type in CODED_TYPES:
            columns[name] = pa.Column("Int64", pa.Check.isin(var.all_codes), nullable=True)
        elif var.type == "multi":
            columns[name] = pa.Column("boolean", nullable=True)
        else:
            columns[name] = pa.Column(
                "Float64", pa.Check.in_range(var.minimum, var.maximum), nullable=True
            )
        if var.asked_if:
            (ctl, code), = var.asked_if.items()
            checks.append(
                pa.Check(
                    lambda df, n=name, c=ctl, k=code: df[n].isna() | (df[c] == k).fillna(False),
                    name=f"routing:{name}",
                    error=f"{name} must be NA unless {ctl} == {code}",
                )
            )
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True,
                              name=str(codebook.study.get("id", "survey")))


def apply_missing(
    df: pd.DataFrame, codebook: Codebook, dont_know_as_missing: bool = True
) -> pd.DataFrame:
    """Return a copy with declared missing codes set to NA on the items the rule covers.

    The codebook's rule ``dont_know_as_missing`` names the covered types (Likert items);
    with ``dont_know_as_missing=False`` the table is returned unchanged (a copy).
    """
    if not isinstance(dont_know_as_missing, bool):
        raise ParameterError("dont_know_as_missing", "must be True or False",
                             allowed=[True, False])
    out = df.copy()
    if not dont_know_as_missing:
        return out
    covered = set(codebook.of_type(*codebook.dont_know_types))
    for col in out.columns:
        if col in covered and codebook.missing_codes(col):
            out[col] = out[col].mask(out[col].isin(codebook.missing_codes(col)))
    return out


def labelled(df: pd.DataFrame, codebook: Codebook, lang: str) -> pd.DataFrame:
    """Return a copy with every coded column as a Categorical of its labels in ``lang``.

    Categories follow the codebook (scale codes in order, then missing codes such as
    "don't know"), so never-chosen answers still appear; ordinal and Likert columns are
    ordered. Multiple-response (bool), numeric, id and mode columns are left as they are;
    columns the codebook does not know are kept unchanged.
    """
    lang = _check_lang(lang)
    known = set(codebook.variables)
    out = df.copy()
    for col in df.columns:
        if col not in known or codebook.type(col) not in CODED_TYPES:
            continue
        labels = codebook.labels(col, lang)
        values = df[col]
        bad = values.notna() & ~values.isin(list(labels))
        if bad.any():
            raise DataError(_IN_MEMORY, "value is not a code of the codebook", column=col,
                            expected=f"one of {list(labels)}",
                            found=_plain(values[bad].iloc[0]))
        mapped = values.astype(object).map(lambda x, m=labels: m.get(x) if pd.notna(x) else None)
        out[col] = pd.Categorical(mapped, categories=list(labels.values()),
                                  ordered=codebook.type(col) in ORDERED_TYPES)
    return out


# --- reading one CSV source -------------------------------------------------------------
def _read_csv_source(
    path: Path, codebook: Codebook, source: str, include_incomplete: bool
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The tidy table of one CSV source, its rows in the file, and how many incomplete
    responses (empty ``submitdate``) were left out."""
    if not isinstance(include_incomplete, bool):
        raise ParameterError("include_incomplete", "must be True or False",
                             allowed=[True, False])
    settings = codebook.sources[source]
    raw = textio.read_table(path, encoding=settings["encoding"], sep=settings["sep"])
    columns = codebook.columns(source)
    optional = [c for n, c in columns.items() if codebook.variable(n).optional]
    required = [c for c in columns.values() if c not in optional]
    _check_columns(raw, path, required, [*settings.get("known_columns", []), *optional],
                   source.upper())
    excluded = 0
    if not include_incomplete and _SUBMITDATE in raw.columns:
        incomplete = (raw[_SUBMITDATE].str.strip() == "").to_numpy()
        excluded = int(incomplete.sum())
        raw = raw.loc[~incomplete]  # may leave none: the data check warns of 0 respondents
    tidy, rows = _type_frame(raw, codebook, path, columns, settings, mode=source.upper())
    return tidy, rows, excluded


def _check_columns(raw: pd.DataFrame, path: Path, required: list[str], known: list[str],
                   what: str, header_row: int | None = 1) -> None:
    missing = [c for c in required if c not in raw.columns]
    if not missing:
        return
    texts = [c for c in raw.columns if len(c.split()) >= 3]
    if what == "CAWI" and len(texts) * 2 >= len(raw.columns):
        raise DataError(path, "the header row holds question texts, not question codes",
                        row=header_row, column=texts[0][:60],
                        expected="LimeSurvey question codes (Q1, Q9[SQ001], ...): export the "
                        "responses again choosing Headings: 'Question code' (Export results "
                        "-> Headings)")
    unexpected = [c for c in raw.columns if c not in required and c not in known]
    found = f"unexpected column(s) {unexpected}" if unexpected else None
    names = ", ".join(repr(c) for c in missing)
    raise DataError(path, f"required column(s) missing: {names}", row=header_row,
                    column=missing[0],
                    expected=f"the {what} columns of the codebook", found=found)


def _type_frame(
    raw: pd.DataFrame,
    codebook: Codebook,
    path: Path,
    columns: dict[str, str],
    settings: dict[str, Any],
    mode: str | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Type every column through the codebook; return the sorted table and source rows."""
    rows = raw.index.to_numpy()
    source = (mode or "spss").lower()
    cols: dict[str, Any] = {}
    for name in codebook.variables:
        var = codebook.variable(name)
        if var.type == "mode" and mode is not None:
            cols[name] = pd.Series([mode] * len(raw), dtype="str")
            continue
        col = columns[name]
        if var.optional and col not in raw.columns:  # e.g. no centre identifier exported
            dtype = tidy_dtypes(codebook)[name]
            cols[name] = pd.Series(pd.array([pd.NA] * len(raw), dtype=dtype))
            continue
        values = raw[col].astype(str).str.strip()
        fail = _Failer(path, rows, col, values)
        if var.type == "id":
            cols[name] = _type_id(values, settings["id_format"], fail)
        elif var.type == "mode":
            fail.where(~values.isin(list(var.codes)), "unknown survey mode",
                       f"one of {list(var.codes)}")
            cols[name] = pd.Series(values.to_numpy(), dtype="str")
        elif var.type in CODED_TYPES:
            cols[name] = _type_coded(values, var.all_codes, var.codes, var.missing,
                                     var.raw_values.get(source), fail)
        elif var.type == "multi":
            other = var.other_text and source == "cawi"
            cols[name] = _type_multi(values, settings, other, fail)
        else:
            cols[name] = _type_numeric(values, settings["decimal"], var.minimum, var.maximum,
                                       fail)
    tidy = pd.DataFrame({n: pd.Series(c).reset_index(drop=True) for n, c in cols.items()})
    _apply_routing(tidy, raw, codebook, columns, rows, path)
    if source == "cawi":
        _cawi_multi_nonresponse(tidy, codebook)
    ids = tidy["respondent_id"]
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((ids == ids.iloc[pos]).to_numpy())[0])
        raise DataError(path, "respondent id appears twice", row=int(rows[pos]),
                        column=columns["respondent_id"], expected="each response once",
                        found=f"{raw[columns['respondent_id']].iloc[pos]} (also in row "
                              f"{int(rows[first])})")
    order = np.argsort(ids.to_numpy(dtype=object), kind="stable")
    tidy = tidy.iloc[order].reset_index(drop=True)
    return _validate(tidy, codebook, path), rows[order]


class _Failer:
    """Raise a DataError at the first flagged cell of one column."""

    def __init__(self, path: Path, rows: np.ndarray, column: str, values: pd.Series) -> None:
        self.path, self.rows, self.column, self.values = path, rows, column, values

    def where(self, mask: pd.Series | np.ndarray, problem: str, expected: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            pos = int(np.flatnonzero(mask)[0])
            raise DataError(self.path, problem, row=int(self.rows[pos]), column=self.column,
                            expected=expected, found=_shorten(self.values.iloc[pos]))


def _type_id(values: pd.Series, id_format: str | None, fail: _Failer) -> pd.Series:
    fail.where(values == "", "respondent id is empty", "a questionnaire number")
    if id_format is None:
        return pd.Series(values.to_numpy(), dtype="str")
    fail.where(~values.str.fullmatch(r"[0-9]{1,18}"), "respondent id is not a whole number",
               "a positive whole number (at most 18 digits)")
    return pd.Series([id_format.format(int(v)) for v in values], dtype="str")


def _type_coded(values: pd.Series, valid: list[int], codes: dict, missing: dict,
                mapping: dict[str, int] | None, fail: _Failer) -> pd.Series:
    empty = (values == "").to_numpy()
    labels = {**codes, **missing}
    listing = ", ".join(f"{c} ({labels[c]['pl']})" for c in valid)
    if mapping is not None:
        fail.where(~empty & ~values.isin(list(mapping)), "answer not in the codebook",
                   f"one of {', '.join(repr(k) for k in mapping)} or empty")
        parsed = values.map(mapping)
    else:
        fail.where(~empty & ~values.str.fullmatch(_INT), "answer is not a code",
                   f"one of {listing} or empty")
        # Python ints: a 300-digit "code" must be refused, not overflow Int64 (and int()
        # refuses more than 4300 digits): anything longer than 18 characters is no code
        parsed = pd.Series([int(v) if v != "" and len(v) <= 18 else None for v in values],
                           dtype=object)
    bad = ~empty & ~parsed.isin(valid).to_numpy(dtype=bool)
    fail.where(bad, "answer code not in the codebook", f"one of {listing} or empty")
    return pd.Series(pd.array(parsed.to_numpy(dtype=object), dtype="Int64"))


def _type_multi(values: pd.Series, settings: dict[str, Any], other_text: bool,
                fail: _Failer) -> pd.Series:
    if other_text:  # LimeSurvey "other" box: any text = ticked, empty = not ticked
        return pd.Series(pd.array((values != "").to_numpy(), dtype="boolean"))
    ticked, unticked = list(settings["multi_ticked"]), list(settings["multi_unticked"])
    allowed = ticked + unticked + ([""] if "" not in unticked else [])
    fail.where(~values.isin(allowed), "not a multiple-response mark",
               f"ticked {ticked[0]!r}, unticked {unticked[0]!r}"
               + (" or empty" if "" not in unticked else ""))
    out = pd.array([True if v in ticked else (False if v in unticked else None)
                    for v in values], dtype="boolean")
    return pd.Series(out)


def _type_numeric(values: pd.Series, decimal: str, lo: float, hi: float,
                  fail: _Failer) -> pd.Series:
    empty = (values == "").to_numpy()
    example = "12,5" if decimal == "," else "12.5"
    fail.where(~empty & ~values.str.fullmatch(_NUMBER[decimal]), "not a number",
               f"a number with decimal {'comma' if decimal == ',' else 'point'} "
               f"(e.g. {example}) or empty")
    nums = pd.to_numeric(values.str.replace(decimal, ".", regex=False).where(~empty, None),
                         errors="coerce")
    # NaN (a digit string too long for a float) fails the range test too, never NA silently
    fail.where(~empty & ~((nums >= lo) & (nums <= hi)).to_numpy(dtype=bool),
               "number out of range", f"a value from {lo:g} to {hi:g}")
    return pd.Series(pd.array(nums.to_numpy(dtype=float), dtype="Float64"))


def _apply_routing(tidy: pd.DataFrame, raw: pd.DataFrame, codebook: Codebook,
                   columns: dict[str, str], rows: np.ndarray, path: Path) -> None:
    for name in codebook.variables:
        var = codebook.variable(name)
        if not var.asked_if:
            continue
        (ctl, code), = var.asked_if.items()
        asked = (tidy[ctl] == code).fillna(False).to_numpy(dtype=bool)
        values = raw[columns[name]].astype(str).str.strip()
        answered = (values != "").to_numpy()
        ctl_label = codebook.labels(ctl, "pl").get(code, code)
        _Failer(path, rows, columns[name], values).where(
            answered & ~asked,
            f"answered although the question is asked only when {columns[ctl]} = {code} "
            f"({ctl_label})",
            "an empty field (routing)",
        )
        tidy.loc[~asked, name] = pd.NA


def _cawi_multi_nonresponse(tidy: pd.DataFrame, codebook: Codebook) -> None:
    """In CAWI an unticked option is empty: a question with no option ticked is missing."""
    for group, spec in codebook.groups.items():
        if spec.get("type") != "multi":
            continue
        items = codebook.items(group)
        none_ticked = ~tidy[items].fillna(False).any(axis=1).to_numpy(dtype=bool)
        tidy.loc[none_ticked, items] = pd.NA


def _validate(df: pd.DataFrame, codebook: Codebook, where: str | Path) -> pd.DataFrame:
    import pandera.errors

    try:
        return survey_schema(codebook).validate(df)
    except pandera.errors.SchemaError as exc:
        column = getattr(exc, "column_name", None)
        raise DataError(where, f"tidy table breaks the survey schema: {str(exc)[:300]}",
                        column=column if isinstance(column, str) else None) from None


def _shorten(text: str, width: int = 80) -> str:
    """A raw cell for a message: text longer than ``width`` is cut, its length noted."""
    return text if len(text) <= width else f"{text[:width]}... ({len(text)} characters)"


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python value (for readable messages)."""
    return x.item() if hasattr(x, "item") else x


def _spss_value_to_str(x: Any) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else repr(x)
    return str(x)
