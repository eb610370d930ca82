"""The Dedoose reader: tidy tables from hand-built excerpt and codes exports, and its errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from compendium.data.dedoose import (
    FIXED_COLUMNS,
    read_dedoose,
    read_dedoose_codes,
    read_dedoose_report,
)
from compendium.errors import DataError

CODES_HEADER = [
    "Id", "Parent Id", "Title", "Description",
    "Weighted", "Weight Minimum", "Weight Maximum", "Weight Default",
]  # fmt: skip
CODES_ROWS = [
    ["g1", None, "Risks", "Risks of devolution", False, 0, 10, 0],
    ["g2", "g1", "Underfunding", "Too little money", False, 0, 10, 0],
    ["g3", "g1", "Coordination", None, False, 0, 10, 0],
    ["g4", None, "COVID-19", "The pandemic", False, 0, 10, 0],
]
PATHS = ["Risks", "Risks\\Underfunding", "Risks\\Coordination", "COVID-19"]
U, C = PATHS[1], PATHS[2]


def _xlsx(path: Path, header: list, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _header(descriptors=("city", "respondent_type")) -> list[str]:
    out = list(FIXED_COLUMNS)
    for p in PATHS:
        out += [f"Code: {p} Applied", f"Code: {p} Range", f"Code: {p} Weight"]
    return out + list(descriptors)


def _row(media, rng, coder, copy, applied, descriptors) -> list:
    """One excerpt row; ``applied`` is the set of code paths applied."""
    leaves = ", ".join(p.rpartition("\\")[2] for p in PATHS if p in applied)
    row = [media, rng, coder, "3/1/2022", copy, "lead", "2/1/2022", leaves]
    for p in PATHS:
        row += [p in applied, rng if p in applied else None, None]
    return row + list(descriptors)


def _rows() -> list[list]:
    u, c, v = U, C, "COVID-19"
    return [
        _row("INT-2", "10-20", "coder_B", "abcdefghij", {u, v}, ["Berlin", "migrant"]),
        _row("INT-1", "5-9", "coder_A", "wxyz", {c}, ["London", "other stakeholder"]),
        _row("INT-2", "10-20", "coder_A", "abcdefghij", {u}, ["Berlin", "migrant"]),
        _row("INT-2", "0-4", "coder_A", "pqrs", set(), ["Berlin", "migrant"]),
        _row("INT-1", "0-3", "coder_A", "abc", {u, c}, ["London", None]),
    ]


def _export(tmp_path: Path, header=None, rows=None, codes=None) -> tuple[Path, Path]:
    ex = _xlsx(
        tmp_path / "excerpts.xlsx", header or _header(), rows if rows is not None else _rows()
    )
    co = _xlsx(tmp_path / "codes.xlsx", CODES_HEADER, codes or CODES_ROWS)
    return ex, co


def test_read_dedoose_builds_the_five_tidy_tables(tmp_path):
    corpus = read_dedoose(*_export(tmp_path))
    pd.testing.assert_frame_equal(
        corpus.documents,
        pd.DataFrame(
            {"doc_id": ["INT-2", "INT-1"], "title": ["INT-2", "INT-1"], "position": [0, 1]}
        ),
    )
    pd.testing.assert_frame_equal(
        corpus.doc_attributes,
        pd.DataFrame(
            {
                "doc_id": ["INT-2", "INT-2", "INT-1", "INT-1"],
                "attribute": ["city", "respondent_type", "city", "respondent_type"],
                "value": ["Berlin", "migrant", "London", "other stakeholder"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        corpus.codes,
        pd.DataFrame(
            {
                "code_id": PATHS,
                "parent_id": [None, "Risks", "Risks", None],
                "title": ["Risks", "Underfunding", "Coordination", "COVID-19"],
                "description": ["Risks of devolution", "Too little money", "", "The pandemic"],
                "level": [1, 2, 2, 1],
                "position": [0, 1, 2, 3],
            }
        ),
    )
    # INT-2#0-4 has no code applied: an excerpt without codings is not a segment
    pd.testing.assert_frame_equal(
        corpus.segments,
        pd.DataFrame(
            {
                "segment_id": ["INT-2#10-20", "INT-1#0-3", "INT-1#5-9"],
                "doc_id": ["INT-2", "INT-1", "INT-1"],
                "start": [10, 0, 5],
                "end": [20, 3, 9],
                "text": ["abcdefghij", "abc", "wxyz"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        corpus.codings,
        pd.DataFrame(
            {
                "segment_id": ["INT-2#10-20"] * 3 + ["INT-1#0-3"] * 2 + ["INT-1#5-9"],
                "code_id": [U, U, "COVID-19", U, C, C],
                "coder": ["coder_A", "coder_B", "coder_B", "coder_A", "coder_A", "coder_A"],
            }
        ),
    )


def test_read_dedoose_accepts_applied_as_true_false_strings(tmp_path):
    rows = _rows()
    as_text = [[str(v) if isinstance(v, bool) else v for v in row] for row in rows]
    a = read_dedoose(*_export(tmp_path, rows=rows))
    b = read_dedoose(*_export(tmp_path, rows=as_text))
    pd.testing.assert_frame_equal(a.codings, b.codings)
    assert len(b.codings) == 6


def test_read_dedoose_ignores_codes_applied_combined(tmp_path):
    rows = _rows()
    for row in rows:
        row[7] = "Nonsense, with, commas"  # Codes Applied Combined
    assert len(read_dedoose(*_export(tmp_path, rows=rows)).codings) == 6


def test_read_dedoose_merges_a_descriptor_imported_twice(tmp_path):
    header = _header(("city", "respondent_type", "city"))  # pandas reads the copy as city.1
    rows = [row + [row[-2]] for row in _rows()]
    corpus = read_dedoose(*_export(tmp_path, header=header, rows=rows))
    assert sorted(set(corpus.doc_attributes["attribute"])) == ["city", "respondent_type"]
    assert corpus.doc_attributes["value"].tolist()[0] == "Berlin"


def test_read_dedoose_refuses_a_descriptor_copy_that_disagrees(tmp_path):
    header = _header(("city", "respondent_type", "city"))
    rows = [row + [row[-2]] for row in _rows()]
    rows[2][-1] = "Paris"
    paths = _export(tmp_path, header=header, rows=rows)
    with pytest.raises(DataError) as info:
        read_dedoose(*paths)
    assert (
        "row 4, column 'city.1': descriptor 'city' was exported twice with different values; "
        "expected the same value as column 'city' ('Berlin'); found 'Paris'" in str(info.value)
    )


def test_read_dedoose_orders_codes_depth_first_from_any_codes_order(tmp_path):
    shuffled = [CODES_ROWS[3], CODES_ROWS[2], CODES_ROWS[0], CODES_ROWS[1]]
    codes = read_dedoose_codes(_xlsx(tmp_path / "c.xlsx", CODES_HEADER, shuffled))
    # roots in file order (COVID-19, Risks), children under their parent in file order
    assert codes["code_id"].tolist() == [
        "COVID-19", "Risks", "Risks\\Coordination", "Risks\\Underfunding",
    ]  # fmt: skip
    assert codes["level"].tolist() == [1, 1, 2, 2]


def test_read_dedoose_keeps_a_document_level_excerpt_as_range_0_0(tmp_path):
    rows = _rows()
    rows[3][1] = None  # no range ...
    rows[3][4] = None  # ... and no text: a document-level excerpt
    rows[3][17] = True  # column 18 = Code: COVID-19 Applied
    corpus = read_dedoose(*_export(tmp_path, rows=rows))
    seg = corpus.segments.set_index("segment_id")
    assert seg.loc["INT-2#0-0", "text"] == ""
    assert seg.loc["INT-2#0-0", ["start", "end"]].tolist() == [0, 0]


def _message(call) -> str:
    with pytest.raises(DataError) as info:
        call()
    return str(info.value)


def test_read_dedoose_refuses_a_missing_fixed_column(tmp_path):
    header = _header()
    i = header.index("Excerpt Range")
    rows = [r[:i] + r[i + 1 :] for r in _rows()]
    paths = _export(tmp_path, header=header[:i] + header[i + 1 :], rows=rows)
    msg = _message(lambda: read_dedoose(*paths))
    assert msg.startswith("file excerpts.xlsx (")
    assert "row 1, column 'Excerpt Range': the excerpt export lacks a fixed Dedoose column" in msg


def test_read_dedoose_refuses_a_code_column_the_codes_export_does_not_know(tmp_path):
    header = _header()
    header[header.index("Code: COVID-19 Applied")] = "Code: Pandemic Applied"
    paths = _export(tmp_path, header=header)
    msg = _message(lambda: read_dedoose(*paths))
    assert (
        "row 1, column 'Code: Pandemic Applied': code path 'Pandemic' is not in the codes "
        "export codes.xlsx; expected one of the 4 code paths of" in msg
    )


def test_read_dedoose_refuses_a_non_boolean_applied_value(tmp_path):
    rows = _rows()
    rows[1][11] = "yes"  # column 12 = Code: Risks\Underfunding Applied, spreadsheet row 3
    paths = _export(tmp_path, rows=rows)
    msg = _message(lambda: read_dedoose(*paths))
    assert (
        "row 3, column 'Code: Risks\\\\Underfunding Applied': an Applied cell is not a "
        "boolean; expected True or False; found 'yes'" in msg
    )


@pytest.mark.parametrize("bad", ["10 to 20", "Page 2: 10-20", "20-10"])
def test_read_dedoose_refuses_a_malformed_excerpt_range(tmp_path, bad):
    rows = _rows()
    rows[4][1] = bad
    paths = _export(tmp_path, rows=rows)
    msg = _message(lambda: read_dedoose(*paths))
    assert "row 6, column 'Excerpt Range': malformed Excerpt Range; expected 'start-end'" in msg
    assert msg.endswith(f"found {bad!r}")


def test_read_dedoose_refuses_two_values_of_one_descriptor_for_one_interview(tmp_path):
    rows = _rows()
    rows[2][-2] = "Hamburg"  # INT-2 is Berlin in spreadsheet row 2
    paths = _export(tmp_path, rows=rows)
    msg = _message(lambda: read_dedoose(*paths))
    assert (
        "row 4, column 'city': interview 'INT-2' has two values of descriptor 'city'; "
        "expected one value per interview ('Berlin' as in row 2); found 'Hamburg'" in msg
    )


def test_read_dedoose_refuses_an_export_without_rows(tmp_path):
    paths = _export(tmp_path, rows=[])
    msg = _message(lambda: read_dedoose(*paths))
    assert "excerpts.xlsx), row 2: the first sheet has no data rows" in msg


def test_read_dedoose_refuses_an_empty_file(tmp_path):
    ex, co = _export(tmp_path)
    ex.write_bytes(b"")
    assert "excerpts.xlsx): the file is empty" in _message(lambda: read_dedoose(ex, co))


def test_read_dedoose_refuses_a_file_that_is_not_a_workbook(tmp_path):
    ex, co = _export(tmp_path)
    ex.write_text("Media Title;Excerpt Range\n", encoding="utf-8")
    msg = _message(lambda: read_dedoose(ex, co))
    assert "cannot read the file as an Excel workbook" in msg
    assert msg.endswith("expected a Dedoose excerpt rows export (.xlsx)")


def test_read_dedoose_refuses_a_parent_id_that_points_nowhere(tmp_path):
    codes = [list(r) for r in CODES_ROWS]
    codes[2][1] = "g9"
    paths = _export(tmp_path, codes=codes)
    msg = _message(lambda: read_dedoose(*paths))
    assert (
        "codes.xlsx), row 4, column 'Parent Id': Parent Id points to no code; expected empty "
        "(a top-level code) or an Id listed in column 'Id'; found 'g9'" in msg
    )


def test_read_dedoose_refuses_a_cycle_of_parent_ids(tmp_path):
    codes = [list(r) for r in CODES_ROWS]
    codes[0][1] = "g2"  # Risks under Underfunding, itself under Risks
    path = _xlsx(tmp_path / "c.xlsx", CODES_HEADER, codes)
    msg = _message(lambda: read_dedoose_codes(path))
    assert "row 2, column 'Parent Id': the codes' Parent Ids form a cycle" in msg


# --------------------------------------------------------------------------- real exports


def test_read_dedoose_keeps_excerpt_memos_from_headerless_trailing_columns(tmp_path):
    # Dedoose writes memos in trailing columns with no header; cells begin "Memo:"
    rows = _rows()
    rows[0] = rows[0] + ["Memo: ask about funding", None]
    rows[4] = rows[4] + [None, "Memo: second thought"]
    ex, co = _export(tmp_path, header=_header() + [None, None], rows=[
        r + [None, None] if len(r) == len(_header()) else r for r in rows])
    corpus, report = read_dedoose_report(ex, co)
    (tmp_path / "plain").mkdir()
    plain = read_dedoose(*_export(tmp_path / "plain"))
    pd.testing.assert_frame_equal(corpus.codings, plain.codings)
    pd.testing.assert_frame_equal(corpus.doc_attributes, plain.doc_attributes)
    assert report.memos.to_dict("records") == [
        {"doc_id": "INT-2", "start": 10, "end": 20, "coder": "coder_B",
         "memo": "ask about funding"},
        {"doc_id": "INT-1", "start": 0, "end": 3, "coder": "coder_A",
         "memo": "second thought"},
    ]
    assert report.line().startswith("2 excerpt memos in 2 headerless columns")


def test_read_dedoose_recognises_readxl_names_of_memo_columns(tmp_path):
    # a workbook that went through R (readxl -> writexl) names headerless columns "...N"
    n = len(_header())
    rows = [r + (["Memo: from R"] if i == 1 else [None]) for i, r in enumerate(_rows())]
    ex, co = _export(tmp_path, header=_header() + [f"...{n + 1}"], rows=rows)
    corpus, report = read_dedoose_report(ex, co)
    assert report.memo_columns == (f"...{n + 1}",)
    assert report.memos["memo"].tolist() == ["from R"]
    assert f"...{n + 1}" not in set(corpus.doc_attributes["attribute"])


def test_read_dedoose_refuses_a_headerless_column_that_holds_no_memo(tmp_path):
    rows = [r + (["Berlin"] if i == 2 else [None]) for i, r in enumerate(_rows())]
    ex, co = _export(tmp_path, header=_header() + [None], rows=rows)
    with pytest.raises(DataError, match=r"row 4, column 'Unnamed: \d+': a column holding "
                       r"values has no header; expected .*excerpt memos"):
        read_dedoose(ex, co)


def test_read_dedoose_keeps_na_null_none_as_text(tmp_path):
    rows = _rows()
    rows[1][4] = "NA"  # the quote itself reads "NA"
    rows[1][-2:] = ["null", "None"]
    rows[4][-2:] = ["null", "None"]
    rows[4][4] = "NaN"
    corpus = read_dedoose(*_export(tmp_path, rows=rows))
    values = dict(zip(zip(corpus.doc_attributes["doc_id"], corpus.doc_attributes["attribute"],
                          strict=True), corpus.doc_attributes["value"], strict=True))
    assert values[("INT-1", "city")] == "null"
    assert values[("INT-1", "respondent_type")] == "None"
    assert sorted(corpus.segments["text"]) == ["NA", "NaN", "abcdefghij"]


def test_read_dedoose_does_not_require_range_length_to_equal_copy_length(tmp_path):
    # a real export's range counts paragraphs and line breaks differently from the copy
    rows = _rows()
    rows[1][1] = "5-19"  # 14 characters of range for the 4-character copy "wxyz"
    rows[1][8 + 3 * PATHS.index(C) + 1] = "5-19"
    corpus = read_dedoose(*_export(tmp_path, rows=rows))
    seg = corpus.segments.set_index("segment_id")
    assert seg.loc["INT-1#5-19", "text"] == "wxyz"


def test_read_dedoose_refuses_a_nul_character_naming_row_and_column(tmp_path):
    # Excel's escape _x0000_ is how a NUL reaches a cell; calamine decodes it to "\x00"
    ex, co = _export(tmp_path)
    with zipfile.ZipFile(ex) as zf:
        entries = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(ex, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data.replace(b">wxyz<", b">wx_x0000_yz<"))
    with pytest.raises(DataError, match="row 3, column 'Excerpt Copy': a cell holds a NUL"):
        read_dedoose(ex, co)


def test_read_dedoose_refuses_a_formula_cell_naming_sheet_row_and_column(tmp_path):
    # openpyxl writes "=..." as a formula without a cached value: calamine reads it as an
    # empty cell, so the reader must see the formula in the sheet itself
    rows = _rows()
    rows[2][0] = '=CONCATENATE("INT-", 2)'
    ex, co = _export(tmp_path, rows=rows)
    with zipfile.ZipFile(ex) as zf:  # the oracle: openpyxl stored a formula element
        assert b"<f>CONCATENATE" in zf.read("xl/worksheets/sheet1.xml")
    msg = _message(lambda: read_dedoose(ex, co))
    assert "excerpts.xlsx" in msg
    assert "row 4, column 'Media Title': a cell of sheet 'Sheet' holds a formula (A4" in msg
    assert "expected the value itself" in msg and "CONCATENATE" in msg


def test_read_dedoose_refuses_a_formula_in_the_codes_export(tmp_path):
    codes = [list(r) for r in CODES_ROWS]
    codes[1][6] = "=5+5"  # Weight Maximum, column G, row 3
    ex, co = _export(tmp_path, codes=codes)
    msg = _message(lambda: read_dedoose_codes(co))
    assert "codes.xlsx" in msg and "row 3, column 'Weight Maximum'" in msg and "(G3" in msg


def test_read_dedoose_reads_text_that_only_starts_like_a_formula_element(tmp_path):
    # "<f>" typed in a cell is stored escaped ("&lt;f&gt;"): text, not a formula
    rows = _rows()
    rows[1][4] = "<f>wxyz:f "
    corpus = read_dedoose(*_export(tmp_path, rows=rows))
    assert "<f>wxyz:f " in set(corpus.segments["text"])
