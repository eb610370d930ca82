"""Encoding detection and strict CSV parsing of the raw exports (compendium.data.textio)."""

from __future__ import annotations

import pytest

from compendium.data import textio
from compendium.errors import DataError

POLISH = "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"


def test_cp1250_writes_polish_letters_as_windows_bytes_not_iso_8859_2():
    # FORMATS.md: "ś" is 0x9C in cp1250 but 0xB6 in ISO-8859-2 (latin2)
    assert "ś".encode("cp1250") == b"\x9c"
    assert "ś".encode("iso-8859-2") == b"\xb6"
    assert POLISH.encode("cp1250").decode("cp1250") == POLISH


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfa;b", "utf-8-sig"),
        ("Łódź;Poznań".encode(), "utf-8"),
        ("Łódź;Poznań".encode("cp1250"), "cp1250"),
        (b"id;Q1", "ascii"),
    ],
)
def test_sniff_encoding_tells_bom_utf8_cp1250_and_ascii_apart(data, expected):
    assert textio.sniff_encoding(data) == expected


def test_find_mojibake_flags_utf8_read_as_cp1250_but_not_real_polish():
    garbled = "Poznań, ścieżka, żółć".encode().decode("cp1250")
    assert garbled.startswith("PoznaĹ„")
    match = textio.find_mojibake(garbled)
    assert match is not None and match.group() == "Ĺ„"
    assert textio.find_mojibake(POLISH + " Wielkopolska, miejsko-wiejska") is None


def test_find_mojibake_flags_latin1_style_pairs_and_a_garbled_bom():
    assert textio.find_mojibake("Å‚Ã³dka") is not None  # "łódka" read as cp1252
    assert textio.find_mojibake("ď»żid;Q1") is not None  # UTF-8 BOM read as cp1250


def test_decode_turns_unicode_error_into_data_error_with_row_and_column(tmp_path):
    data = "id;miasto\r\n1;Poznań\r\n2;Łódź\r\n".encode("cp1250")
    with pytest.raises(DataError) as err:
        textio.decode(data, tmp_path / "x.csv", "utf-8-sig")
    msg = str(err.value)
    assert err.value.row == 2 and err.value.column == "miasto"
    assert "cannot decode byte 0xF1 as UTF-8" in msg  # "ń" in cp1250
    assert "looks like Windows-1250 (cp1250)" in msg
    assert "x.csv" in msg


def test_check_mojibake_names_row_column_and_says_the_file_is_utf8(tmp_path):
    data = "id;miasto\r\n1;Poznań\r\n".encode()
    text = data.decode("cp1250")
    with pytest.raises(DataError) as err:
        textio.check_mojibake(text, tmp_path / "p.csv", data=data)
    assert err.value.row == 2 and err.value.column == "miasto"
    assert "the file is UTF-8 but was read as Windows-1250" in str(err.value)


def test_check_mojibake_in_a_utf8_file_says_it_was_garbled_before_saving(tmp_path):
    text = "id;P2_staĹź\r\n1;2\r\n"  # "staż" once read as cp1250, then saved as UTF-8
    with pytest.raises(DataError) as err:
        textio.check_mojibake(text, tmp_path / "p.csv", encoding="utf-8-sig",
                              data=text.encode())
    assert err.value.row == 1 and err.value.column == "P2_staĹź"
    assert "already garbled when the file was saved" in str(err.value)


def test_parse_csv_indexes_rows_as_a_spreadsheet_shows_them_and_skips_blank_lines(tmp_path):
    text = '\ufeff"a";"b"\r\n"1";""\r\n\r\n"2";"x;y"\r\n\r\n'
    df = textio.parse_csv(text, tmp_path / "t.csv")
    assert list(df.columns) == ["a", "b"]
    assert list(df.index) == [2, 4]  # header = row 1, blank row 3 still counts
    assert df.loc[2, "b"] == "" and df.loc[4, "b"] == "x;y"
    assert str(df["a"].dtype) == "str"


def test_parse_csv_refuses_a_row_with_a_different_number_of_fields(tmp_path):
    with pytest.raises(DataError) as err:
        textio.parse_csv("a;b\r\n1;2\r\n3;4;5\r\n", tmp_path / "t.csv")
    assert err.value.row == 3
    assert "expected 2 fields as in the header; found '3 fields'" in str(err.value)


def test_parse_csv_refuses_duplicate_header_names(tmp_path):
    with pytest.raises(DataError) as err:
        textio.parse_csv("a;b;a\r\n1;2;3\r\n", tmp_path / "t.csv")
    assert err.value.column == "a" and "columns 1 and 3" in str(err.value)


def test_parse_csv_refuses_header_only_and_whitespace_only_text(tmp_path):
    with pytest.raises(DataError, match="header but no data rows"):
        textio.parse_csv('"a";"b"\r\n\r\n', tmp_path / "t.csv")
    with pytest.raises(DataError, match="file is empty"):
        textio.parse_csv("\r\n\r\n", tmp_path / "t.csv")


def test_read_bytes_refuses_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        textio.read_bytes(tmp_path / "nope.csv")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(DataError, match="file is empty"):
        textio.read_bytes(tmp_path / "bom.csv")


def test_read_table_reads_cp1250_with_polish_headers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("Nr ankiety;P8_częstość\r\n1;2\r\n".encode("cp1250"))
    df = textio.read_table(path, encoding="cp1250")
    assert list(df.columns) == ["Nr ankiety", "P8_częstość"]
    assert df.loc[2, "P8_częstość"] == "2"
