"""REFI-QDA .qdpx: reading real-world variants, refusing broken projects, writing round trips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from compendium.data.qdpx import read_qdpx, write_qdpx
from compendium.errors import DataError, ParameterError

TEXT_ONE = "Line one.\r\nWe relied on local NGOs.\r\nEnd."  # CRLF, as ATLAS.ti keeps it
TEXT_TWO = "Ünïcödé 😀 here."  # the emoji is one code point
# offsets count code points of the text with "\n" line endings:
# "Line one.\n" is 10 characters, so the NGO sentence is [10, 34); "here" is [10, 14) in TEXT_TWO


def _qde(selections_one: str = "", extra_code: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="t">
  <Users>
    <User guid="u1" name="anna"/>
    <User guid="u2" name="ben"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="c1" name="Actors" isCodable="true">
      <Description>Who acted.</Description>
      <Code guid="c2" name="NGOs" isCodable="true"/>
    </Code>
    <Code guid="c3" name="COVID-19" isCodable="true"/>{extra_code}
  </Codes></CodeBook>
  <Variables>
    <Variable guid="v1" name="city" typeOfVariable="Text"/>
    <Variable guid="v2" name="respondent_type" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="k1">
      <VariableValue><VariableRef targetGUID="v1"/><TextValue>Berlin</TextValue></VariableValue>
      <SourceRef targetGUID="s1"/>
    </Case>
    <Case guid="k2" name="migrants">
      <VariableValue><VariableRef targetGUID="v2"/><TextValue>migrant</TextValue></VariableValue>
      <SourceRef targetGUID="s1"/>
      <SourceRef targetGUID="s2"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="s1" name="Doc one" plainTextPath="internal://s1.txt">
      <PlainTextSelection guid="p0" startPosition="0" endPosition="4" creatingUser="u1"/>
      <PlainTextSelection guid="p1" startPosition="10" endPosition="34" creatingUser="u2">
        <Coding guid="x1" creatingUser="u2"><CodeRef targetGUID="c3"/></Coding>
        <Coding guid="x2" creatingUser="u2"><CodeRef targetGUID="c2"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="p2" startPosition="10" endPosition="34" creatingUser="u1">
        <Coding guid="x3"><CodeRef targetGUID="c2"/></Coding>
      </PlainTextSelection>{selections_one}
    </TextSource>
    <TextSource guid="s2" name="Doc two">
      <PlainTextContent>{TEXT_TWO}</PlainTextContent>
      <PlainTextSelection guid="p3" startPosition="10" endPosition="14" creatingUser="u1">
        <Coding guid="x4" creatingUser="u1"><CodeRef targetGUID="c3"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>
"""


def _qdpx(path: Path, qde: str | None = None, folder: str = "Sources") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        if qde is not None:
            zf.writestr("project.qde", qde.encode("utf-8"))
        zf.writestr(f"{folder}/s1.txt", TEXT_ONE.encode("utf-8"))
    return path


def _message(call) -> str:
    with pytest.raises(DataError) as info:
        call()
    return str(info.value)


def test_read_qdpx_builds_the_tidy_tables_from_a_real_world_project(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde()))
    assert corpus.documents["doc_id"].tolist() == ["Doc one", "Doc two"]
    # variables from a nameless MAXQDA-style case and from a case shared by two sources
    assert list(corpus.doc_attributes.itertuples(index=False, name=None)) == [
        ("Doc one", "city", "Berlin"),
        ("Doc one", "respondent_type", "migrant"),
        ("Doc two", "respondent_type", "migrant"),
    ]
    assert corpus.codes[["code_id", "description", "level"]].to_dict("list") == {
        "code_id": ["Actors", "Actors\\NGOs", "COVID-19"],
        "description": ["Who acted.", "", ""],
        "level": [1, 2, 1],
    }
    assert corpus.codes["parent_id"].fillna("<top>").tolist() == ["<top>", "Actors", "<top>"]
    # the uncoded selection p0 is an annotation; two users on one range make one segment
    pd.testing.assert_frame_equal(
        corpus.segments,
        pd.DataFrame(
            {
                "segment_id": ["Doc one#10-34", "Doc two#10-14"],
                "doc_id": ["Doc one", "Doc two"],
                "start": [10, 10],
                "end": [34, 14],
                "text": ["We relied on local NGOs.", "here"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        corpus.codings,
        pd.DataFrame(
            {
                "segment_id": ["Doc one#10-34"] * 3 + ["Doc two#10-14"],
                "code_id": ["Actors\\NGOs", "Actors\\NGOs", "COVID-19", "COVID-19"],
                "coder": ["anna", "ben", "ben", "anna"],  # x3 has no creatingUser: selection's
            }
        ),
    )


def test_read_qdpx_finds_sources_in_a_lower_case_folder(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde(), folder="sources"))
    assert corpus.segments["text"].iloc[0] == "We relied on local NGOs."


def test_read_qdpx_refuses_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "p.qdpx"
    path.write_text("<Project/>", encoding="utf-8")
    msg = _message(lambda: read_qdpx(path))
    assert msg.endswith(
        "p.qdpx): not a zip archive; expected a REFI-QDA .qdpx project (a zip holding project.qde)"
    )


def test_read_qdpx_refuses_a_zip_without_project_qde(tmp_path):
    path = _qdpx(tmp_path / "p.qdpx", None)
    msg = _message(lambda: read_qdpx(path))
    assert "the zip holds no project.qde" in msg
    assert msg.endswith("found ['Sources/s1.txt']")


def test_read_qdpx_refuses_a_coding_of_an_unknown_code(tmp_path):
    bad = """
      <PlainTextSelection guid="p9" startPosition="0" endPosition="4" creatingUser="u1">
        <Coding guid="x9" creatingUser="u1"><CodeRef targetGUID="c404"/></Coding>
      </PlainTextSelection>"""
    path = _qdpx(tmp_path / "p.qdpx", _qde(selections_one=bad))
    msg = _message(lambda: read_qdpx(path))
    assert (
        "column 'CodeRef/@targetGUID': a coding in source 'Doc one' refers to an unknown code; "
        "expected the guid of a Code in the CodeBook; found 'c404'" in msg
    )


def test_read_qdpx_refuses_a_selection_beyond_the_text(tmp_path):
    # 41 characters with CRLF, 39 once normalised: an end of 41 is out of range
    bad = """
      <PlainTextSelection guid="p9" startPosition="30" endPosition="41" creatingUser="u1">
        <Coding guid="x9" creatingUser="u1"><CodeRef targetGUID="c3"/></Coding>
      </PlainTextSelection>"""
    path = _qdpx(tmp_path / "p.qdpx", _qde(selections_one=bad))
    msg = _message(lambda: read_qdpx(path))
    assert (
        "a selection in source 'Doc one' lies outside its text; expected 0 <= startPosition "
        "<= endPosition <= 39 (the text's length in code points, CRLF as one); "
        "found (30, 41)" in msg
    )


def test_write_qdpx_round_trips_through_read_qdpx_with_windows_line_endings(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde()))
    texts = {"Doc one": TEXT_ONE.replace("\r\n", "\n"), "Doc two": TEXT_TWO}
    out = write_qdpx(corpus, texts, tmp_path / "out.qdpx", users=["anna", "ben", "carl"],
                     line_ending="\r\n", date_time=(2022, 12, 31, 0, 0, 0))  # fmt: skip
    again = read_qdpx(out)
    for name, table in corpus.tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], table, obj=name)
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "project.qde"
        assert all(i.filename.startswith("sources/") for i in infos[1:])
        assert {i.date_time for i in infos} == {(2022, 12, 31, 0, 0, 0)}
        assert b"\r\n" in zf.read(infos[1].filename)
        assert b'name="carl"' in zf.read("project.qde")


def test_write_qdpx_writes_identical_bytes_twice(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde()))
    texts = {"Doc one": TEXT_ONE.replace("\r\n", "\n"), "Doc two": TEXT_TWO}
    a = write_qdpx(corpus, texts, tmp_path / "a.qdpx").read_bytes()
    b = write_qdpx(corpus, texts, tmp_path / "b.qdpx").read_bytes()
    assert a == b


def test_write_qdpx_refuses_a_transcript_that_does_not_match_a_segment(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde()))
    texts = {"Doc one": "Something else entirely, 40 chars long..", "Doc two": TEXT_TWO}
    with pytest.raises(ParameterError, match="segment 'Doc one#10-34': its text differs"):
        write_qdpx(corpus, texts, tmp_path / "out.qdpx")


def test_write_qdpx_refuses_users_that_leave_out_a_coder(tmp_path):
    corpus = read_qdpx(_qdpx(tmp_path / "p.qdpx", _qde()))
    texts = {"Doc one": TEXT_ONE.replace("\r\n", "\n"), "Doc two": TEXT_TWO}
    with pytest.raises(ParameterError, match=r"coders missing from users: \['ben'\]"):
        write_qdpx(corpus, texts, tmp_path / "out.qdpx", users=["anna"])


def _damage(path: Path, entry: str, at: int, data: bytes) -> Path:
    """Overwrite bytes of one zip entry, ``at`` counted from its local header (0 = signature)
    or, when negative, back from the end of its stored data."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(entry)
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    pos = info.header_offset + at if at >= 0 else start + info.compress_size + at
    raw[pos : pos + len(data)] = data
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(("entry", "at", "compression", "problem"), [
    ("project.qde", -5, zipfile.ZIP_STORED, "Bad CRC-32"),
    ("project.qde", 0, zipfile.ZIP_STORED, "Bad magic number"),
    ("project.qde", 30 + 11, zipfile.ZIP_DEFLATED, "invalid block type"),  # 1st data byte
    ("Sources/s1.txt", -3, zipfile.ZIP_STORED, "Bad CRC-32"),
])
def test_read_qdpx_refuses_a_damaged_zip_entry(tmp_path, entry, at, compression, problem):
    # zipfile's BadZipFile and zlib.error used to escape the reader
    path = tmp_path / "p.qdpx"
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr("project.qde", _qde().encode("utf-8"))
        zf.writestr("Sources/s1.txt", TEXT_ONE.encode("utf-8"))
    msg = _message(lambda: read_qdpx(_damage(path, entry, at, b"\xff\x00\xff")))
    assert f"file p.qdpx ({path}): the zip entry {entry} is damaged (" in msg
    assert problem in msg
    assert msg.endswith("expected an intact REFI-QDA .qdpx project")


def test_read_qdpx_refuses_a_zip_whose_central_directory_is_damaged(tmp_path):
    path = _qdpx(tmp_path / "p.qdpx", _qde())
    raw = path.read_bytes()
    cd = raw.rfind(b"PK\x01\x02")  # the last central directory record
    path.write_bytes(raw[:cd] + b"XX" + raw[cd + 2 :])
    assert "the zip archive is damaged" in _message(lambda: read_qdpx(path))
