"""Mutation tests: the readers refuse broken copies of the real raw files with their own error.

Longer than 600 lines because the mutation kinds, their tally and the per-reader tests
share one Hypothesis strategy; splitting it would scatter the tally the test summary prints.

Hypothesis draws a mutation (a kind from a list, then its parameters), applies it to a copy of
a real raw file in a fresh temporary folder and calls the reader. Whatever the mutation, the
reader either reads the file (some mutations are harmless; the result must then still pass the
data contract) or raises :class:`~compendium.errors.CompendiumError` whose message names the
mutated file. Any other exception (a bare pandas, openpyxl, zipfile, XML or Unicode error)
fails the test with the mutation in the message, and so does a reader that writes or changes
anything in the folder. :data:`MUTATION_TALLY` counts the inputs tried; ``conftest.py`` prints
it at the end of the run.
"""

from __future__ import annotations

import atexit
import codecs
import csv
import functools
import hashlib
import io
import re
import shutil
import tempfile
import traceback
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compendium.data.codebook import Codebook, load_codebook
from compendium.data.corpus import CodedCorpus, validate_corpus
from compendium.data.datacheck import check, sources
from compendium.data.dedoose import read_dedoose
from compendium.data.qdpx import deterministic_zip, read_qdpx
from compendium.data.survey import read_cawi, read_papi, survey_schema
from compendium.errors import CompendiumError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
RAW = DATA / "raw"
CODEBOOK = DATA / "codebooks" / "ops_survey.yaml"
IDI = RAW / "idi_wielkopolska"
CITIES = RAW / "four_cities"
QDPX = CITIES / "project.qdpx"

#: Inputs tried, refused with the package's error, and read fine (printed by conftest.py).
MUTATION_TALLY: Counter[str] = Counter()
#: A clear message fits on a screen: a 100 000-character cell must not be echoed whole.
MAX_MESSAGE = 2000


def budget(examples: int) -> settings:
    """Reproducible (CI) settings with a number of examples that keeps the file fast.

    The loaded Hypothesis profile caps it: ``make test-fast`` loads the ``fast`` profile
    (a few examples per property, registered in tests/conftest.py), ``make test`` the
    default one (100, above every budget here, so the full count runs).
    """
    examples = min(examples, settings.default.max_examples)
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass(frozen=True)
class Mutation:
    """One drawn mutation: its kind and parameters (shown when the property fails)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


# --------------------------------------------------------------------------- the property


def _listing(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "<dir>" for p in sorted(folder.rglob("*"))}


@contextmanager
def _sandbox() -> Iterator[Path]:
    """A fresh empty folder per example (function-scoped tmp_path is shared by examples)."""
    with tempfile.TemporaryDirectory(prefix="mutation-") as folder:
        yield Path(folder)


def _attempt(mutation: Mutation, target: Path, call: Callable[[], Any],
             validate: Callable[[Any], None], folder: Path, *, names: str | None = None,
             must_read: bool = False) -> Any:
    """Run ``call``; it must succeed (then ``validate``) or raise CompendiumError naming
    ``names`` (default: the mutated file's name). Fail on anything else, or on files written."""
    names = names or target.name
    before = _listing(folder)
    MUTATION_TALLY["tried"] += 1
    MUTATION_TALLY[f"kind:{mutation.kind}"] += 1
    where = f"mutation {mutation!r} of {target.name}"
    result = None
    try:
        result = call()
    except CompendiumError as exc:
        msg = str(exc)
        if must_read:
            pytest.fail(f"{where}: must read fine but was refused: {msg[:600]}")
        if names not in msg:
            pytest.fail(f"{where}: the error does not name the file {names}: {msg[:600]}")
        if len(msg) > MAX_MESSAGE:
            pytest.fail(f"{where}: the error message is {len(msg)} characters long: "
                        f"{msg[:300]}...")
        MUTATION_TALLY["refused"] += 1
    except Exception as exc:  # the property: nothing but the package's own errors
        tb = "".join(traceback.format_exception(exc, limit=-6))
        pytest.fail(f"{where}: the reader raised {type(exc).__name__}, not a DataError: "
                    f"{str(exc)[:600]}\n{tb}", pytrace=False)
    else:
        try:
            validate(result)
        except Exception as exc:
            tb = "".join(traceback.format_exception(exc, limit=-6))
            pytest.fail(f"{where}: read, but the result is wrong: {type(exc).__name__}: "
                        f"{str(exc)[:600]}\n{tb}", pytrace=False)
        MUTATION_TALLY["read"] += 1
    after = _listing(folder)
    assert after == before, f"{where}: the reader wrote or changed files: " \
        f"{sorted(set(after.items()) ^ set(before.items()))}"
    return result


# --------------------------------------------------------------------------- byte mutations

BYTE_KINDS = ("insert_bytes", "overwrite_bytes", "truncate", "empty")


def _byte_mutation(draw: st.DrawFn, kind: str, size: int) -> Mutation:
    if kind == "empty":
        return Mutation(kind)
    offset = draw(st.integers(0, max(0, size - 1)))
    if kind == "truncate":
        return Mutation(kind, {"at": offset})
    return Mutation(kind, {"at": offset, "data": draw(st.binary(min_size=1, max_size=16))})


def _apply_bytes(data: bytes, m: Mutation) -> bytes:
    p = m.params
    if m.kind == "empty":
        return b""
    if m.kind == "truncate":
        return data[: p["at"]]
    if m.kind == "insert_bytes":
        return data[: p["at"]] + p["data"] + data[p["at"] :]
    if m.kind == "overwrite_bytes":
        return data[: p["at"]] + p["data"] + data[p["at"] + len(p["data"]) :]
    raise AssertionError(m.kind)


# --------------------------------------------------------------------------- survey CSVs


@dataclass(frozen=True)
class CsvSource:
    """A raw survey CSV, how it is written, and its reader."""

    path: Path
    encoding: str  # Python codec of the file (BOM included for CAWI)
    quoting: int
    read: Callable[[Path, Codebook], pd.DataFrame]

    @functools.cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @functools.cached_property
    def records(self) -> list[list[str]]:
        text = self.data.decode(self.encoding)
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

    @property
    def data_rows(self) -> list[int]:
        """Indices into :attr:`records` of the non-empty data records."""
        return [i for i, r in enumerate(self.records) if i > 0 and r]

    def write(self, records: list[list[str]], sep: str = ";") -> bytes:
        out = io.StringIO()
        csv.writer(out, delimiter=sep, quoting=self.quoting,
                   lineterminator="\r\n").writerows(records)
        return out.getvalue().encode(self.encoding, errors="replace")


CAWI = CsvSource(RAW / "ops_survey" / "cawi_limesurvey.csv", "utf-8-sig", csv.QUOTE_ALL,
                 read_cawi)
PAPI = CsvSource(RAW / "ops_survey" / "papi_excel.csv", "cp1250", csv.QUOTE_MINIMAL, read_papi)

CSV_KINDS = (
    *BYTE_KINDS, "drop_column", "rename_header", "shuffle_headers", "swap_headers",
    "reencode", "header_only", "cell_out_of_range", "cell_not_numeric", "cell_long_string",
    "duplicate_row", "toggle_bom", "comma_separator",
)
ENCODINGS = ("utf-8", "utf-8-sig", "cp1250", "latin-1", "utf-16")
# cell text both encodings can hold, without control characters
_CELL_CHARS = st.characters(codec="cp1250", exclude_categories=("Cc", "Cs"))
_NOT_NUMBERS = ("tak", "nie", "n/a", "brak", "1.5", "1,5", "2 ", " ", "٣", "１２", "½", "-", "+",
                "1e3", "0x1", "NaN", "inf", "None", "TRUE", "Y", "N", '"', ";")


@st.composite
def csv_mutations(draw: st.DrawFn, src: CsvSource) -> Mutation:
    kind = draw(st.sampled_from(CSV_KINDS))
    header = src.records[0]
    col = st.integers(0, len(header) - 1)
    row = st.sampled_from(src.data_rows)
    if kind in BYTE_KINDS:
        return _byte_mutation(draw, kind, len(src.data))
    if kind == "drop_column":
        return Mutation(kind, {"column": draw(col)})
    if kind == "rename_header":
        near = [h.lower() for h in header] + [h + " " for h in header]
        new = draw(st.one_of(st.text(_CELL_CHARS, max_size=12), st.sampled_from(header),
                             st.sampled_from(near)))
        return Mutation(kind, {"column": draw(col), "name": new})
    if kind == "shuffle_headers":
        return Mutation(kind, {"order": draw(st.permutations(range(len(header))))})
    if kind == "swap_headers":
        return Mutation(kind, {"columns": (draw(col), draw(col))})
    if kind == "reencode":
        return Mutation(kind, {"encoding": draw(st.sampled_from(ENCODINGS))})
    if kind == "cell_out_of_range":
        value = draw(st.one_of(st.integers(-10, 10**6).map(str),
                               st.sampled_from(["0", "6", "7", "8", "10", "99", "-1", "100,5",
                                                "150.0", "-0,1"])))
        return Mutation(kind, {"row": draw(row), "column": draw(col), "value": value})
    if kind == "cell_not_numeric":
        value = draw(st.one_of(st.sampled_from(_NOT_NUMBERS),
                               st.text(_CELL_CHARS, min_size=1, max_size=8)))
        return Mutation(kind, {"row": draw(row), "column": draw(col), "value": value})
    if kind == "cell_long_string":
        return Mutation(kind, {"row": draw(row), "column": draw(col),
                               "text": draw(st.sampled_from(["x", "9", "ą", "1;"])),
                               "times": draw(st.sampled_from([300, 5_000, 100_000]))})
    if kind == "duplicate_row":
        return Mutation(kind, {"row": draw(row)})
    return Mutation(kind)  # header_only, toggle_bom, comma_separator


def apply_csv(src: CsvSource, m: Mutation) -> bytes:
    """The raw file's bytes with mutation ``m`` applied."""
    if m.kind in BYTE_KINDS:
        return _apply_bytes(src.data, m)
    p = m.params
    recs = [list(r) for r in src.records]
    header = recs[0]
    if m.kind == "drop_column":
        recs = [[v for i, v in enumerate(r) if i != p["column"]] for r in recs]
    elif m.kind == "rename_header":
        header[p["column"]] = p["name"]
    elif m.kind == "shuffle_headers":
        recs[0] = [header[i] for i in p["order"]]
    elif m.kind == "swap_headers":
        i, j = p["columns"]
        header[i], header[j] = header[j], header[i]
    elif m.kind == "reencode":
        text = src.data.decode(src.encoding)
        return text.encode(p["encoding"], errors="replace")
    elif m.kind == "header_only":
        recs = recs[:1]
    elif m.kind == "cell_long_string":
        recs[p["row"]][p["column"]] = p["text"] * p["times"]
    elif m.kind.startswith("cell_"):
        recs[p["row"]][p["column"]] = p["value"]
    elif m.kind == "duplicate_row":
        recs.append(list(recs[p["row"]]))
    elif m.kind == "toggle_bom":
        bom = codecs.BOM_UTF8
        return src.data[3:] if src.data.startswith(bom) else bom + src.data
    elif m.kind == "comma_separator":
        return src.write(recs, sep=",")
    return src.write(recs)


@functools.cache
def _codebook() -> Codebook:
    return load_codebook(CODEBOOK)


def _check_survey(df: pd.DataFrame) -> None:
    cb = _codebook()
    assert list(df.columns) == cb.variables
    assert len(df) >= 1
    survey_schema(cb).validate(df)


@functools.cache
def _survey_original(src: CsvSource) -> pd.DataFrame:
    return src.read(src.path, _codebook())


def _survey_property(src: CsvSource, m: Mutation) -> None:
    source = "cawi" if src is CAWI else "papi"
    by_column = {col: name for name, col in _codebook().columns(source).items()}
    filled = m.kind == "cell_long_string" or str(m.params.get("value", "")).strip() != ""
    variable = by_column.get(src.records[0][m.params["column"]]) \
        if m.kind.startswith("cell_") and filled else None

    def validate(df: pd.DataFrame) -> None:
        _check_survey(df)
        if variable is not None:  # a filled cell read "fine" must not become NA silently
            before = _survey_original(src)[variable].notna().sum()
            assert df[variable].notna().sum() >= before, f"{m!r}: {variable} lost a value"

    with _sandbox() as folder:
        path = folder / src.path.name
        path.write_bytes(apply_csv(src, m))
        _attempt(m, path, lambda: src.read(path, _codebook()), validate, folder)


def test_csv_mutation_without_change_gives_back_the_raw_bytes():
    for src in (CAWI, PAPI):
        assert src.write(src.records) == src.data
        assert apply_csv(src, Mutation("duplicate_row", {"row": 1})).startswith(src.data)


@budget(70)
@given(m=csv_mutations(CAWI))
def test_cawi_reader_refuses_a_mutated_limesurvey_export_with_a_clear_error(m):
    _survey_property(CAWI, m)


@budget(70)
@given(m=csv_mutations(PAPI))
def test_papi_reader_refuses_a_mutated_excel_csv_with_a_clear_error(m):
    _survey_property(PAPI, m)


# --------------------------------------------------------------------------- codebook YAML

CODEBOOK_KINDS = (*BYTE_KINDS, "reencode", "delete_key", "wrong_type")
_WRONG_VALUES = (None, 0, -1, 1.5, True, "x", "", [], [1, "a"], {}, {"a": 1}, {1: 2})


def _yaml_nodes(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths (key/index tuples) of every node below the root."""
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        yield (*path, key)
        yield from _yaml_nodes(value, (*path, key))


@functools.cache
def _codebook_doc_paths() -> tuple[tuple, ...]:
    return tuple(_yaml_nodes(yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))))


@st.composite
def codebook_mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(CODEBOOK_KINDS))
    if kind in BYTE_KINDS:
        return _byte_mutation(draw, kind, CODEBOOK.stat().st_size)
    if kind == "reencode":
        return Mutation(kind, {"encoding": draw(st.sampled_from(ENCODINGS[2:]))})
    node = draw(st.sampled_from(_codebook_doc_paths()))
    if kind == "delete_key":
        return Mutation(kind, {"node": node})
    return Mutation(kind, {"node": node, "value": draw(st.sampled_from(_WRONG_VALUES))})


def apply_codebook(m: Mutation) -> bytes:
    data = CODEBOOK.read_bytes()
    if m.kind in BYTE_KINDS:
        return _apply_bytes(data, m)
    if m.kind == "reencode":
        return data.decode("utf-8").encode(m.params["encoding"], errors="replace")
    doc = yaml.safe_load(data.decode("utf-8"))
    *parents, last = m.params["node"]
    target = functools.reduce(lambda node, key: node[key], parents, doc)
    if m.kind == "delete_key":
        del target[last]
    else:
        target[last] = m.params["value"]
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")


def _check_codebook(cb: Codebook) -> None:
    """A codebook that loads is usable: the survey readers then read or refuse the raw files
    with the package's error (a codebook with ``sep: 0`` must not get that far)."""
    assert isinstance(cb, Codebook)
    assert "respondent_id" in cb.variables
    for src in (CAWI, PAPI):
        with suppress(CompendiumError):
            src.read(src.path, cb)


@budget(60)
@given(m=codebook_mutations())
def test_codebook_loader_refuses_a_mutated_codebook_with_a_clear_error(m):
    with _sandbox() as folder:
        path = folder / CODEBOOK.name
        path.write_bytes(apply_codebook(m))
        _attempt(m, path, lambda: load_codebook(path), _check_codebook, folder)


# --------------------------------------------------------------------------- Dedoose xlsx


@dataclass(frozen=True)
class Sheet:
    """Shape of a real Dedoose export's first sheet (1-based rows and columns as openpyxl)."""

    header: list[str]
    rows: list[list[Any]]

    def columns(self, pred: Callable[[str], bool]) -> list[int]:
        return [i for i, h in enumerate(self.header, 1) if pred(str(h))]


@functools.cache
def _sheet(path: Path) -> Sheet:
    wb = openpyxl.load_workbook(path, read_only=True)
    values = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return Sheet([str(h) for h in values[0]], values[1:])


EXCERPT_KINDS = (
    "delete_column", "unknown_code_header", "maybe_applied", "break_range",
    "two_descriptor_values", "empty_sheet", "header_only", "random_cell", "duplicate_row",
    "zip_overwrite", "zip_insert", "zip_truncate",
)
CODES_KINDS = (
    "delete_column", "delete_row", "unknown_parent", "parent_cycle", "duplicate_id",
    "empty_title", "rename_title", "random_cell", "empty_sheet", "zip_overwrite", "zip_truncate",
)
_SAFE_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
_CELL_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32), _SAFE_TEXT,
    st.datetimes(min_value=pd.Timestamp("1900-03-01").to_pydatetime(),
                 max_value=pd.Timestamp("2100-01-01").to_pydatetime()),
)
_BAD_RANGES = ("12-", "abc", "Page 3: 1-5", "50-10", "", None, "1-2-3", 12, "-5-3", "5 - 7",
               "0-0", "10–20", 3.5)


def _zip_mutation(draw: st.DrawFn, kind: str, size: int) -> Mutation:
    byte_kind = {"zip_overwrite": "overwrite_bytes", "zip_insert": "insert_bytes",
                 "zip_truncate": "truncate"}[kind]
    inner = _byte_mutation(draw, byte_kind, size)
    return Mutation(kind, inner.params)


def _apply_zip(data: bytes, m: Mutation) -> bytes:
    byte_kind = {"zip_overwrite": "overwrite_bytes", "zip_insert": "insert_bytes",
                 "zip_truncate": "truncate"}[m.kind]
    return _apply_bytes(data, Mutation(byte_kind, m.params))


@st.composite
def excerpt_mutations(draw: st.DrawFn, path: Path, descriptor: str) -> Mutation:
    kind = draw(st.sampled_from(EXCERPT_KINDS))
    sh = _sheet(path)
    row = st.integers(2, len(sh.rows) + 1)
    if kind.startswith("zip_"):
        return _zip_mutation(draw, kind, path.stat().st_size)
    if kind == "delete_column":
        return Mutation(kind, {"column": draw(st.integers(1, len(sh.header)))})
    if kind == "unknown_code_header":
        col = draw(st.sampled_from(sh.columns(lambda h: h.startswith("Code: "))))
        new = draw(st.one_of(
            st.just("Code: No such code Applied"),
            _SAFE_TEXT.map(lambda t: f"Code: {t}\\{uuid.UUID(int=len(t))} Applied"),
            st.sampled_from(["Code: Applied", "Code: X Flag", "Code:", "Code: Policy"])))
        return Mutation(kind, {"column": col, "name": new})
    if kind == "maybe_applied":
        col = draw(st.sampled_from(sh.columns(lambda h: h.endswith(" Applied"))))
        value = draw(st.sampled_from(["maybe", "yes", "1", 1, 0, None, "TRUE", " false "]))
        return Mutation(kind, {"row": draw(row), "column": col, "value": value})
    if kind == "break_range":
        value = draw(st.one_of(st.sampled_from(_BAD_RANGES), _SAFE_TEXT))
        return Mutation(kind, {"row": draw(row), "value": value})
    if kind == "two_descriptor_values":
        col = sh.header.index(descriptor)
        media = [r[0] for r in sh.rows]
        repeated = [i for i, d in enumerate(media) if d in media[:i]]
        i = draw(st.sampled_from(repeated))
        values = sorted({str(r[col]) for r in sh.rows if r[col] is not None} - {sh.rows[i][col]})
        value = draw(st.sampled_from(values))
        return Mutation(kind, {"row": i + 2, "column": col + 1, "value": value})
    if kind == "random_cell":
        return Mutation(kind, {"row": draw(row), "column": draw(st.integers(1, len(sh.header))),
                               "value": draw(_CELL_VALUES)})
    if kind == "duplicate_row":
        return Mutation(kind, {"row": draw(row)})
    return Mutation(kind)  # empty_sheet, header_only


@st.composite
def codes_mutations(draw: st.DrawFn, path: Path) -> Mutation:
    kind = draw(st.sampled_from(CODES_KINDS))
    sh = _sheet(path)
    n = len(sh.rows)
    row = st.integers(2, n + 1)
    if kind.startswith("zip_"):
        return _zip_mutation(draw, kind, path.stat().st_size)
    if kind == "delete_column":
        return Mutation(kind, {"column": draw(st.integers(1, len(sh.header)))})
    if kind == "delete_row":
        return Mutation(kind, {"row": draw(row)})
    if kind == "unknown_parent":
        return Mutation(kind, {"row": draw(row), "value": draw(st.one_of(
            st.just("no-such-id"), _SAFE_TEXT.filter(lambda t: t.strip() != ""),
            st.integers(0, 99)))})
    if kind == "parent_cycle":
        # make a code its own parent, or the parent of its own parent
        i = draw(st.integers(0, n - 1))
        parent = sh.rows[i][1]
        own = draw(st.booleans()) or parent is None
        if own:
            return Mutation(kind, {"row": i + 2, "value": sh.rows[i][0]})
        j = [r[0] for r in sh.rows].index(parent)
        return Mutation(kind, {"row": j + 2, "value": sh.rows[i][0]})
    if kind == "duplicate_id":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        return Mutation(kind, {"row": i + 2, "value": sh.rows[j][0]})
    if kind == "empty_title":
        return Mutation(kind, {"row": draw(row), "value": draw(st.sampled_from([None, "", " "]))})
    if kind == "rename_title":
        return Mutation(kind, {"row": draw(row), "value": draw(_SAFE_TEXT)})
    if kind == "random_cell":
        return Mutation(kind, {"row": draw(row), "column": draw(st.integers(1, len(sh.header))),
                               "value": draw(_CELL_VALUES)})
    return Mutation(kind)  # empty_sheet


def apply_xlsx(path: Path, m: Mutation) -> bytes:
    """The workbook's bytes with mutation ``m`` applied (openpyxl, or bytes for zip_*)."""
    data = path.read_bytes()
    if m.kind.startswith("zip_"):
        return _apply_zip(data, m)
    p = m.params
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    if m.kind == "delete_column":
        ws.delete_cols(p["column"])
    elif m.kind == "delete_row":
        ws.delete_rows(p["row"])
    elif m.kind == "unknown_code_header":
        ws.cell(1, p["column"], p["name"])
    elif m.kind in ("maybe_applied", "two_descriptor_values", "random_cell"):
        ws.cell(p["row"], p["column"], p["value"])
    elif m.kind in ("break_range", "unknown_parent", "parent_cycle"):  # column B
        ws.cell(p["row"], 2, p["value"])
    elif m.kind == "duplicate_id":
        ws.cell(p["row"], 1, p["value"])
    elif m.kind in ("empty_title", "rename_title"):
        ws.cell(p["row"], 3, p["value"])
    elif m.kind == "duplicate_row":
        ws.append([c.value for c in ws[p["row"]]])
    elif m.kind == "empty_sheet":
        ws.delete_rows(1, ws.max_row)
    elif m.kind == "header_only":
        ws.delete_rows(2, ws.max_row)
    else:
        raise AssertionError(m.kind)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _check_corpus(path: Path) -> Callable[[CodedCorpus], None]:
    def validate(corpus: CodedCorpus) -> None:
        assert isinstance(corpus, CodedCorpus)
        validate_corpus(corpus, path)
        assert len(corpus.documents) >= 1

    return validate


def _dedoose_property(project: Path, target: str, m: Mutation) -> None:
    with _sandbox() as folder:
        paths = {name: folder / f"dedoose_{name}.xlsx" for name in ("excerpts", "codes")}
        for name, path in paths.items():
            src = project / path.name
            path.write_bytes(apply_xlsx(src, m) if name == target else src.read_bytes())
        _attempt(m, paths[target], lambda: read_dedoose(paths["excerpts"], paths["codes"]),
                 _check_corpus(paths["excerpts"]), folder)


def _dedoose_mutations(project: Path, descriptor: str) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("excerpts"),
                  excerpt_mutations(project / "dedoose_excerpts.xlsx", descriptor)),
        st.tuples(st.just("codes"), codes_mutations(project / "dedoose_codes.xlsx")),
    )


@budget(40)
@given(case=_dedoose_mutations(IDI, "municipality_type"))
@example(case=("excerpts", Mutation("maybe_applied", {"row": 2, "column": 9, "value": "maybe"})))
@example(case=("codes", Mutation("rename_title", {"row": 3, "value": "Renamed"})))
def test_dedoose_reader_refuses_a_mutated_wielkopolska_export_with_a_clear_error(case):
    _dedoose_property(IDI, *case)


@functools.cache
def _four_cities_sample() -> Path:
    """The four-city project cut to the rows of each city's first interview (both coders):
    the real export's 67 columns, descriptors and codes export, in a workbook a tenth of
    its size that openpyxl loads and saves per example in a tenth of the time."""
    folder = Path(tempfile.mkdtemp(prefix="mutation-four-cities-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copy(CITIES / "dedoose_codes.xlsx", folder)
    sh = _sheet(CITIES / "dedoose_excerpts.xlsx")
    city = sh.header.index("city")
    first = {}  # city -> its first interview
    for r in sh.rows:
        first.setdefault(r[city], r[0])
    wb = openpyxl.Workbook()
    wb.active.append(sh.header)
    for r in sh.rows:
        if r[0] in first.values():
            wb.active.append(r)
    wb.save(folder / "dedoose_excerpts.xlsx")
    return folder


@budget(10)
@given(case=st.deferred(lambda: _dedoose_mutations(_four_cities_sample(), "city")))
@example(case=("excerpts", Mutation("two_descriptor_values",
                                    {"row": 3, "column": 66, "value": "Lisbon"})))
def test_dedoose_reader_refuses_a_mutated_four_cities_export_with_a_clear_error(case):
    _dedoose_property(_four_cities_sample(), *case)


def test_four_cities_sample_holds_each_city_and_reads_like_the_full_export():
    full = _sheet(CITIES / "dedoose_excerpts.xlsx")
    sample = _sheet(_four_cities_sample() / "dedoose_excerpts.xlsx")
    assert sample.header == full.header
    assert all(r in full.rows for r in sample.rows)
    city = full.header.index("city")
    assert {r[city] for r in sample.rows} == {r[city] for r in full.rows}
    docs = {r[0] for r in sample.rows}
    assert sample.rows == [r for r in full.rows if r[0] in docs]  # whole interviews, in order
    corpus = read_dedoose(_four_cities_sample() / "dedoose_excerpts.xlsx",
                          CITIES / "dedoose_codes.xlsx")
    assert sorted(corpus.documents["doc_id"]) == sorted(docs)


# --------------------------------------------------------------------------- REFI-QDA qdpx

QDPX_KINDS = (
    "remove_qde", "xml_overwrite", "xml_insert", "xml_truncate", "unknown_coderef",
    "selection_out_of_range", "sources_capital_s", "line_endings", "remove_source_text",
    "reencode_source_text", "zip_overwrite", "zip_insert", "zip_truncate",
)
MUST_READ = ("sources_capital_s", "line_endings")
_CODEREF = re.compile(rb'(<CodeRef targetGUID=")([^"]*)(")')
_SELECTION = re.compile(rb'startPosition="([^"]*)" endPosition="([^"]*)"')


@functools.cache
def _qdpx_entries() -> tuple[tuple[str, bytes], ...]:
    with zipfile.ZipFile(QDPX) as zf:
        return tuple((n, zf.read(n)) for n in zf.namelist())


@functools.cache
def _qdpx_original() -> CodedCorpus:
    return read_qdpx(QDPX)


@st.composite
def qdpx_mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(QDPX_KINDS))
    entries = _qdpx_entries()
    qde = entries[0][1]
    if kind.startswith("zip_"):
        return _zip_mutation(draw, kind, QDPX.stat().st_size)
    if kind.startswith("xml_"):
        inner = _byte_mutation(draw, {"xml_overwrite": "overwrite_bytes",
                                      "xml_insert": "insert_bytes",
                                      "xml_truncate": "truncate"}[kind], len(qde))
        return Mutation(kind, inner.params)
    if kind == "unknown_coderef":
        index = draw(st.integers(0, len(_CODEREF.findall(qde)) - 1))
        guid = draw(st.one_of(st.uuids().map(str), st.sampled_from(["", "c1", "none"])))
        return Mutation(kind, {"index": index, "guid": guid})
    if kind == "selection_out_of_range":
        index = draw(st.integers(0, len(_SELECTION.findall(qde)) - 1))
        how = draw(st.sampled_from(["past_end", "negative_start", "start_after_end",
                                    "not_a_number"]))
        return Mutation(kind, {"index": index, "how": how, "k": draw(st.integers(1, 10**6))})
    if kind == "line_endings":
        return Mutation(kind, {"newline": draw(st.sampled_from(["\n", "\r\n", "\r"]))})
    if kind in ("remove_source_text", "reencode_source_text"):
        index = draw(st.integers(1, len(entries) - 1))
        if kind == "remove_source_text":
            return Mutation(kind, {"index": index})
        return Mutation(kind, {"index": index,
                               "encoding": draw(st.sampled_from(["cp1250", "utf-16",
                                                                 "utf-32", "latin-1"]))})
    return Mutation(kind)  # remove_qde, sources_capital_s


def _nth_sub(pattern: re.Pattern, data: bytes, index: int,
             repl: Callable[[re.Match], bytes]) -> bytes:
    match = list(pattern.finditer(data))[index]
    return data[: match.start()] + repl(match) + data[match.end() :]


def apply_qdpx(m: Mutation) -> bytes:
    """The project's bytes with mutation ``m`` applied."""
    if m.kind.startswith("zip_"):
        return _apply_zip(QDPX.read_bytes(), m)
    p = m.params
    entries = [list(e) for e in _qdpx_entries()]
    qde = entries[0][1]
    if m.kind == "remove_qde":
        entries = entries[1:]
    elif m.kind.startswith("xml_"):
        kind = {"xml_overwrite": "overwrite_bytes", "xml_insert": "insert_bytes",
                "xml_truncate": "truncate"}[m.kind]
        entries[0][1] = _apply_bytes(qde, Mutation(kind, p))
    elif m.kind == "unknown_coderef":
        entries[0][1] = _nth_sub(_CODEREF, qde, p["index"],
                                 lambda mt: mt[1] + p["guid"].encode() + mt[3])
    elif m.kind == "selection_out_of_range":
        def repl(mt: re.Match) -> bytes:
            start, end = int(mt[1]), int(mt[2])
            start, end = {"past_end": (start, end + p["k"]),
                          "negative_start": (-p["k"], end),
                          "start_after_end": (end + p["k"], end),
                          "not_a_number": (f"{start}.5", f"x{end}")}[p["how"]]
            return f'startPosition="{start}" endPosition="{end}"'.encode()

        entries[0][1] = _nth_sub(_SELECTION, qde, p["index"], repl)
    elif m.kind == "sources_capital_s":
        entries = [[("Sources/" + n[len("sources/"):]) if n.startswith("sources/") else n, d]
                   for n, d in entries]
    elif m.kind == "line_endings":
        entries = [e if i == 0 else [e[0], e[1].decode("utf-8").replace("\r\n", "\n")
                                     .replace("\n", p["newline"]).encode("utf-8")]
                   for i, e in enumerate(entries)]
    elif m.kind == "remove_source_text":
        del entries[p["index"]]
    elif m.kind == "reencode_source_text":
        name, data = entries[p["index"]]
        entries[p["index"]][1] = data.decode("utf-8").encode(p["encoding"], errors="replace")
    else:
        raise AssertionError(m.kind)
    return deterministic_zip([tuple(e) for e in entries], (2022, 12, 31, 0, 0, 0))


def _check_qdpx(path: Path, must_read: bool) -> Callable[[CodedCorpus], None]:
    def validate(corpus: CodedCorpus) -> None:
        _check_corpus(path)(corpus)
        if must_read:  # a harmless variant reads to the very same tables
            for name, table in _qdpx_original().tables().items():
                pd.testing.assert_frame_equal(getattr(corpus, name), table, obj=name)

    return validate


@budget(60)
@given(m=qdpx_mutations())
@example(m=Mutation("sources_capital_s"))
@example(m=Mutation("line_endings", {"newline": "\n"}))
@example(m=Mutation("line_endings", {"newline": "\r"}))
@example(m=Mutation("remove_qde"))
def test_qdpx_reader_refuses_a_mutated_project_with_a_clear_error(m):
    must_read = m.kind in MUST_READ
    with _sandbox() as folder:
        path = folder / QDPX.name
        path.write_bytes(apply_qdpx(m))
        _attempt(m, path, lambda: read_qdpx(path), _check_qdpx(path, must_read), folder,
                 must_read=must_read)


# --------------------------------------------------------------------------- whole folder

_FILES = tuple(sorted(p.relative_to(DATA).as_posix()
                      for files in sources(DATA).values() for p in files.values()))


@st.composite
def folder_mutations(draw: st.DrawFn) -> tuple[str, Mutation]:
    rel = draw(st.sampled_from(_FILES))
    kind = draw(st.sampled_from((*BYTE_KINDS, "delete_file")))
    if kind == "delete_file":
        return rel, Mutation(kind)
    return rel, _byte_mutation(draw, kind, (DATA / rel).stat().st_size)


@budget(14)
@given(case=folder_mutations())
def test_datacheck_refuses_a_folder_with_one_mutated_file_naming_that_file(case):
    rel, m = case
    with _sandbox() as folder:
        data = folder / "data"
        for sub in ("raw", "codebooks"):
            shutil.copytree(DATA / sub, data / sub)
        path = data / rel
        if m.kind == "delete_file":
            path.unlink()
        else:
            path.write_bytes(_apply_bytes(path.read_bytes(), m))

        def validate(lines: list[str]) -> None:
            assert len(lines) >= 3 and lines[0].startswith("ops_survey: ")

        _attempt(m, path, lambda: check(data), validate, folder, names=str(path))
