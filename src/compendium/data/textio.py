"""Text encodings and CSV parsing for the raw exports, with errors that say where and why.

The raw survey files come in two encodings (FORMATS.md): LimeSurvey writes UTF-8 with a
byte-order mark, Excel on Polish Windows writes Windows-1250 (cp1250). Reading one as the
other either fails on the first Polish letter (cp1250 read as UTF-8) or silently garbles
every Polish letter into a two-character "mojibake" pair (UTF-8 read as cp1250: "ś" becomes
"Ĺ›"). :func:`read_table` refuses both with a :class:`~compendium.errors.DataError` naming
the row and column, and parses the CSV strictly: every record must have as many fields as
the header, header names must be unique. Values stay strings (the equivalent of pandas'
``dtype=str, keep_default_na=False``: an empty field is ``""``); the readers type them.

Two habits of real exports are handled: a UTF-16 file (Excel's "Unicode text", some
LimeSurvey installations) is recognised by its byte-order mark whatever encoding was
expected, and the separator a user chose at export time (``;``, ``,`` or a tab) is detected
from the header row when the expected one does not split it. A NUL character in a field
is refused with its row and column.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from compendium.errors import DataError

BOM = "\ufeff"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SEPARATORS = (";", ",", "\t")
_SEP_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1250": "Windows-1250 (cp1250)",
}
# A UTF-8 lead byte 0xC2-0xC5 (Latin-1 Supplement and Latin Extended-A, which hold every
# Polish letter) decoded as cp1250 or cp1252, followed by a continuation byte 0x80-0xBF
# decoded the same way. Polish text never has these pairs ("Ă", "Ĺ", "Ä", "Ã", "Å" are not
# Polish letters), so one pair is enough to refuse the file.
_CONTINUATION = "".join(
    sorted(
        set(bytes(range(0x80, 0xC0)).decode("cp1250", errors="ignore"))
        | set(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore"))
    )
)
_MOJIBAKE = re.compile(
    "(?:ď»ż|ï»¿|[ÂĂÄĹÃÅ][" + re.escape(_CONTINUATION) + "])"
)


def encoding_name(encoding: str) -> str:
    """Human name of an encoding for messages ("UTF-8", "Windows-1250 (cp1250)")."""
    return _ENCODING_NAMES.get(encoding.lower(), encoding)


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes; DataError if it is missing or empty (no bytes, or only a BOM/space)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a folder, not a file") from None
    body = data.removeprefix(BOM.encode("utf-8"))
    if data[:2] in UTF16_BOMS:
        body = data[2:].replace(b"\x00", b"")
    if not body.strip():
        raise DataError(path, "file is empty", expected="a header row and at least one data row")
    return data


def sniff_encoding(data: bytes) -> str:
    """Best guess of the encoding of ``data``: "utf-8-sig", "utf-16", "utf-8", "ascii" or
    "cp1250".

    UTF-16 is recognised by its byte-order mark; UTF-8 by its byte-order mark or by
    decoding cleanly with non-ASCII bytes (a cp1250 text with Polish letters practically
    never does); "cp1250" is returned for anything else that cp1250 can decode, "unknown"
    otherwise.
    """
    if data.startswith(BOM.encode("utf-8")):
        return "utf-8-sig"
    if data[:2] in UTF16_BOMS:
        return "utf-16"
    if data.isascii():
        return "ascii"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("cp1250")
    except UnicodeDecodeError:
        return "unknown"
    return "cp1250"


def decode(data: bytes, path: str | Path, encoding: str, *, sep: str = ";") -> str:
    """Decode strictly; a byte the encoding cannot read becomes a DataError with row/column."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        row, column = _locate_bytes(data, exc.start, sep)
        guess = sniff_encoding(data)
        hint = ""
        if guess not in ("unknown", "ascii") and encoding_name(guess) != encoding_name(encoding):
            hint = f"; the file looks like {encoding_name(guess)}"
        raise DataError(
            path,
            f"cannot decode byte 0x{data[exc.start]:02X} as {encoding_name(encoding)}{hint}",
            row=row,
            column=column,
            expected=f"a file saved as {encoding_name(encoding)}",
            found=data[max(0, exc.start - 8) : exc.end + 8].decode("cp1250", errors="replace"),
        ) from None


def find_mojibake(text: str) -> re.Match[str] | None:
    """The first UTF-8-read-as-cp1250 (or cp1252) pair in ``text``, or None."""
    return _MOJIBAKE.search(text)


def check_mojibake(
    text: str,
    path: str | Path,
    *,
    encoding: str | None = None,
    data: bytes | None = None,
    sep: str = ";",
) -> None:
    """Refuse text garbled by a wrong decoding ("Ĺ›" for "ś"); DataError with row/column.

    ``encoding`` (what the text was decoded with) and ``data`` (the raw bytes) let the
    message say whether the file is UTF-8 read with the wrong encoding, or was already
    garbled when it was saved.
    """
    match = find_mojibake(text)
    if match is None:
        return
    row, column = _locate_text(text, match.start(), sep)
    utf8_file = data is not None and sniff_encoding(data) in ("utf-8", "utf-8-sig")
    if encoding is not None and encoding_name(encoding) == "UTF-8":
        cause = ("the text was already garbled when the file was saved "
                 "(UTF-8 text opened as Windows-1250 and saved again)")
    elif utf8_file:
        cause = "the file is UTF-8 but was read as Windows-1250"
    else:
        cause = "text garbled by a wrong encoding (UTF-8 read as Windows-1250)"
    line = text.splitlines()[row - 1] if row else ""
    raise DataError(
        path,
        f"mojibake {match.group()!r}: {cause}",
        row=row,
        column=column,
        expected="Polish letters (ą ć ę ł ń ó ś ź ż), not two-character pairs such as 'Ĺ›'",
        found=_snippet(line, match.start() - _line_start(text, match.start())),
    )


def parse_csv(text: str, path: str | Path, *, sep: str = ";") -> pd.DataFrame:
    """Parse CSV text into a DataFrame of strings indexed by spreadsheet row (header = 1).

    Blank lines and records whose fields are all empty are skipped (their rows still count),
    a leading BOM is dropped. DataError for no header, duplicate or empty header names, a
    record with a different number of fields than the header, and a file with no data rows.
    """
    text = text.removeprefix(BOM)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                        doublequote=True, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise DataError(path, f"malformed CSV ({exc})", row=reader.line_num,
                        expected=f"fields separated by {sep!r}, quoted with '\"'") from None
    rows = [i for i, rec in enumerate(records, 1) if rec and any(f != "" for f in rec)]
    if not rows:
        raise DataError(path, "file is empty", expected="a header row and at least one data row")
    header_row = rows[0]
    header = records[header_row - 1]
    if len(header) < 2:
        raise DataError(path, "header has a single column", row=header_row,
                        expected=f"columns separated by {sep!r}", found=header[0][:60])
    seen: dict[str, int] = {}
    for pos, name in enumerate(header, 1):
        if name.strip() == "":
            raise DataError(path, f"header column number {pos} has no name", row=header_row,
                            expected="a name for every column")
        if name in seen:
            raise DataError(path, "column name appears twice in the header", row=header_row,
                            column=name, expected="unique column names",
                            found=f"columns {seen[name]} and {pos}")
        seen[name] = pos
    data_rows = rows[1:]
    if not data_rows:
        raise DataError(path, "file has a header but no data rows", row=header_row,
                        expected="at least one data row")
    for r in data_rows:
        if len(records[r - 1]) != len(header):
            raise DataError(path, "wrong number of fields in the row", row=r,
                            expected=f"{len(header)} fields as in the header",
                            found=f"{len(records[r - 1])} fields")
    frame = pd.DataFrame([records[r - 1] for r in data_rows], columns=header, dtype=str)
    frame.index = pd.Index(data_rows, name="row")
    return frame


def detect_separator(text: str, expected: str) -> str:
    """The separator of the header row: ``expected`` when it splits the row, else the one of
    :data:`SEPARATORS` that splits it into the most fields (``expected`` if none does)."""
    first = next((line for line in text.removeprefix(BOM).splitlines() if line.strip()), "")
    counts = {sep: len(_header_names(first, sep)) for sep in SEPARATORS}
    if counts.get(expected, len(_header_names(first, expected))) >= 2:
        return expected
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] >= 2 else expected


def separator_name(sep: str) -> str:
    """"semicolon", "comma" or "tab" (else the character itself) for messages."""
    return _SEP_NAMES.get(sep, repr(sep))


def check_nul(text: str, path: str | Path, *, sep: str = ";") -> None:
    """Refuse a NUL character (a damaged or binary file) naming its row and column."""
    at = text.find("\x00")
    if at < 0:
        return
    row, column = _locate_text(text, at, sep)
    line = text.splitlines()[row - 1] if row else ""
    raise DataError(path, "a field holds a NUL character (a damaged or binary file)",
                    row=row, column=column, expected="text without NUL characters",
                    found=_snippet(line, at - _line_start(text, at)).replace("\x00", "\\x00"))


def read_table(path: str | Path, *, encoding: str, sep: str = ";",
               detect_sep: bool = True) -> pd.DataFrame:
    """Read a raw CSV export: bytes -> strict decode (UTF-16 by its BOM) -> NUL and mojibake
    checks -> separator (detected from the header unless ``detect_sep=False``) -> strict
    parse. The separator used is in the frame's ``attrs["sep"]``."""
    data = read_bytes(path)
    if data[:2] in UTF16_BOMS:
        encoding = "utf-16"
    text = decode(data, path, encoding, sep=sep)
    if detect_sep:
        sep = detect_separator(text, sep)
    check_nul(text, path, sep=sep)
    check_mojibake(text, path, encoding=encoding, data=data, sep=sep)
    frame = parse_csv(text, path, sep=sep)
    frame.attrs["sep"] = sep
    return frame


# --- locating a position in a file ------------------------------------------------------
def _header_names(first_line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([first_line.removeprefix(BOM)], delimiter=sep))
    except (csv.Error, StopIteration):
        return []


def _field_index(line_prefix: str, sep: str) -> int:
    try:
        return len(next(csv.reader([line_prefix], delimiter=sep))) - 1
    except (csv.Error, StopIteration):
        return line_prefix.count(sep)


def _column_name(first_line: str, prefix: str, sep: str) -> str | None:
    names = _header_names(first_line, sep)
    idx = _field_index(prefix, sep) if prefix else 0
    return names[idx] if 0 <= idx < len(names) else None


def _locate_bytes(data: bytes, offset: int, sep: str) -> tuple[int, str | None]:
    row = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[start:offset].decode("utf-8", errors="replace")
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if row == 1:  # the bad byte is in the header itself: name what precedes it
        return row, None
    return row, _column_name(first, prefix, sep)


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _locate_text(text: str, offset: int, sep: str) -> tuple[int, str | None]:
    row = text.count("\n", 0, offset) + 1
    start = _line_start(text, offset)
    if row == 1:
        names = _header_names(text.split("\n", 1)[0].rstrip("\r"), sep)
        idx = _field_index(text[:offset], sep)
        return row, names[idx] if 0 <= idx < len(names) else None
    return row, _column_name(text.split("\n", 1)[0].rstrip("\r"), text[start:offset], sep)


def _snippet(line: str, pos: int, width: int = 20) -> str:
    return line[max(0, pos - width) : pos + width].strip("\r")
