"""REFI-QDA projects as each producer writes them: offsets, empty parts, users, limits.

The fixtures are written here by hand to reproduce one property of each tool's real exports
(never copied from a real export). Expected offsets are worked by hand and recomputed with
Python's own UTF-16 encoder as an independent count.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus
from compendium.data.qdpx import read_qdc, read_qdpx, read_qdpx_report, write_qdpx
from compendium.data.qdpx_offsets import chance_edge_rate
from compendium.errors import DataError

USERS = '<Users><User guid="{u1}" name="anna"/><User guid="{u2}" name="ben"/></Users>'
U1, U2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
C1, C2, C3 = ("c0000000-0000-0000-0000-00000000000" + str(i) for i in (1, 2, 3))
S1 = "50000000-0000-0000-0000-000000000001"
CODEBOOK = f"""<CodeBook><Codes>
  <Code guid="{C1}" name="Actors" isCodable="true"><Description>Who acted.</Description>
    <Code guid="{C2}" name="NGOs" isCodable="true">
      <Code guid="{C3}" name="Faith-based" isCodable="true"><Description>Churches</Description>
      </Code>
    </Code>
  </Code>
</Codes></CodeBook>"""

# NVivo 12 on Windows: CRLF line ends and emoji; positions count UTF-16 code units on the
# stored text, CRLF as two. "Hi " (3) + emoji (2) + " there." (7) + CRLF (2) = 14, then
# "We trust " (9): "NGOs" is [23, 27). In code points with "\n" it would be [21, 25).
NVIVO_TEXT = "Hi 😀 there.\r\nWe trust NGOs 👍 a lot.\r\nEnd."
NVIVO_PASSAGES = ["NGOs", "a lot", "End"]


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_span(raw: str, passage: str) -> tuple[int, int]:
    i = raw.index(passage)
    return _utf16_units(raw[:i]), _utf16_units(raw[:i]) + _utf16_units(passage)


def _selection(guid: int, start: int, end: int, user: str = U1, code: str = C2,
               name: str | None = None) -> str:
    attr = f' name="{name}"' if name is not None else ""
    return (f'<PlainTextSelection guid="a0000000-0000-0000-0000-{guid:012d}" '
            f'startPosition="{start}" endPosition="{end}" creatingUser="{user}"{attr}>'
            f'<Coding guid="b0000000-0000-0000-0000-{guid:012d}" creatingUser="{user}">'
            f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def _project(origin: str, sources: str = "", extra: str = "", users: bool = True) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}">'
            f'{USERS.format(u1=U1, u2=U2) if users else ""}{CODEBOOK}'
            f'{f"<Sources>{sources}</Sources>" if sources else ""}{extra}</Project>')


def _source(selections: str, file: str = "s1.txt") -> str:
    return (f'<TextSource guid="{S1}" name="Interview 1" plainTextPath="internal://{file}">'
            f"{selections}</TextSource>")


def _zip(path: Path, qde: str, files: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return path


def _nvivo(path: Path, origin: str = "NVivo 12 (Windows)") -> Path:
    sels = "".join(_selection(i, *_utf16_span(NVIVO_TEXT, p)) for i, p in
                   enumerate(NVIVO_PASSAGES, 1))
    return _zip(path, _project(origin, _source(sels)),
                {"sources/s1.txt": NVIVO_TEXT.encode("utf-8")})


def test_hand_worked_nvivo_offsets_agree_with_utf16_encoder():
    assert _utf16_span(NVIVO_TEXT, "NGOs") == (23, 27)


def test_nvivo_project_reads_utf16_offsets_with_crlf_as_two(tmp_path):
    corpus, report = read_qdpx_report(_nvivo(tmp_path / "nvivo.qdpx"))
    assert corpus.segments["text"].tolist() == NVIVO_PASSAGES
    assert report.producer == "NVivo"
    assert report.convention == "UTF-16 code units, CRLF as two"
    assert report.warning is None


def test_a_project_whose_producer_convention_does_not_fit_is_read_with_a_warning(tmp_path):
    path = _nvivo(tmp_path / "renamed.qdpx", origin="ATLAS.ti 9")
    with pytest.warns(UserWarning, match="not the usual 'code points, CRLF as one'"):
        corpus = read_qdpx(path)
    assert corpus.segments["text"].tolist() == NVIVO_PASSAGES


def test_positions_that_fit_no_convention_are_refused(tmp_path):
    text = "Alpha beta gamma delta.\r\nEpsilon 😀 zeta eta theta.\r\nIota kappa lambda."
    # every end cuts a word under every convention: 2 = "Al|pha", 8 = "be|ta", ...
    sels = "".join(_selection(i, s, e) for i, (s, e) in
                   enumerate([(2, 8), (13, 19), (28, 33), (40, 47)], 1))
    path = _zip(tmp_path / "bad.qdpx", _project("NVivo 12", _source(sels)),
                {"sources/s1.txt": text.encode("utf-8")})
    with pytest.raises(DataError, match="fit no known offset convention"):
        read_qdpx(path)


def test_qualcoder_project_with_bom_and_stored_passage_texts(tmp_path):
    # QualCoder writes UTF-8 with a BOM, LF line ends, positions as Python string indices,
    # and the selected text in @name. The emoji makes UTF-16 and code points disagree.
    text = "Pani 🙂 mówi:\nWspółpraca z NGO jest dobra.\n"
    start = text.index("Współpraca")  # 13 code points (14 UTF-16 units)
    assert (start, _utf16_units(text[:start])) == (13, 14)
    end = start + len("Współpraca z NGO")
    sels = _selection(1, start, end, name="Współpraca z NGO")
    path = _zip(tmp_path / "qc.qdpx", _project("QualCoder 3.5", _source(sels)),
                {"sources/s1.txt": "\ufeff".encode() + text.encode("utf-8")})
    corpus, report = read_qdpx_report(path)
    assert corpus.segments["text"].tolist() == ["Współpraca z NGO"]
    assert report.producer == "QualCoder" and report.checked


def test_maxqda_project_without_codings_keeps_documents_and_nested_codes(tmp_path):
    sets = (f'<Sets><Set guid="e0000000-0000-0000-0000-000000000001" name="Berlin">'
            f'<MemberSource targetGUID="{S1}"/></Set></Sets>')
    path = _zip(tmp_path / "mx.qdpx", _project("MAXQDA 2022", _source(""), sets),
                {"sources/s1.txt": b"Some text.\r\n"})
    corpus, report = read_qdpx_report(path)
    assert corpus.documents["doc_id"].tolist() == ["Interview 1"]
    assert corpus.codings.empty and corpus.segments.empty
    assert corpus.codes["code_id"].tolist() == ["Actors", "Actors\\NGOs",
                                                "Actors\\NGOs\\Faith-based"]
    assert corpus.codes["level"].tolist() == [1, 2, 3]
    assert corpus.codes["description"].tolist() == ["Who acted.", "", "Churches"]
    assert report.ignored["sets"] == 1
    assert "1 sets" in report.line()


def test_atlas_codebook_only_project_has_codes_and_no_documents(tmp_path):
    corpus = read_qdpx(_zip(tmp_path / "cb.qdpx", _project("ATLAS.ti 23", users=False)))
    assert corpus.documents.empty and corpus.segments.empty
    assert len(corpus.codes) == 3


def test_several_users_on_one_range_give_one_segment_and_annotations_are_counted(tmp_path):
    text = "We trust NGOs here."
    s, e = text.index("NGOs"), text.index("NGOs") + 4
    annotation = ('<PlainTextSelection guid="a0000000-0000-0000-0000-000000000009" '
                  'startPosition="0" endPosition="2"/>')
    sels = _selection(1, s, e, U1) + _selection(2, s, e, U2, code=C3) + annotation
    corpus, report = read_qdpx_report(
        _zip(tmp_path / "u.qdpx", _project("MAXQDA 2020", _source(sels)),
             {"sources/s1.txt": text.encode()}))
    assert len(corpus.segments) == 1
    assert sorted(zip(corpus.codings["code_id"], corpus.codings["coder"], strict=True)) == [
        ("Actors\\NGOs", "anna"), ("Actors\\NGOs\\Faith-based", "ben")]
    assert report.users == ("anna", "ben") and report.annotations == 1


def test_a_member_larger_than_the_limit_is_refused_before_reading(tmp_path):
    path = _zip(tmp_path / "bomb.qdpx", _project("x"), {"sources/big.txt": b"0" * 50_000})
    assert path.stat().st_size < 2_000  # 50 kB of zeros compress to almost nothing
    with pytest.raises(DataError, match="sources/big.txt would unpack to 50000 bytes"):
        read_qdpx(path, max_member_bytes=10_000)
    with pytest.raises(DataError, match="unpack to .* bytes in all"):
        read_qdpx(path, max_total_bytes=10_000)


def test_a_project_in_a_foreign_namespace_is_refused_by_name(tmp_path):
    qde = _project("x").replace("urn:QDA-XML:project:1.0", "urn:example:other")
    with pytest.raises(DataError, match="not in the REFI-QDA project namespace.*urn:example"):
        read_qdpx(_zip(tmp_path / "ns.qdpx", qde))


def test_a_codebook_in_place_of_a_project_is_refused_by_name(tmp_path):
    qde = ('<?xml version="1.0" encoding="utf-8"?>'
           '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    with pytest.raises(DataError, match=r"codebook \(.qdc\)"):
        read_qdpx(_zip(tmp_path / "qdc.qdpx", qde))


def test_nul_characters_are_refused_with_where_they_are(tmp_path):
    path = _zip(tmp_path / "nul.qdpx", _project("x", _source("")),
                {"sources/s1.txt": b"line one\nli\x00ne two"})
    with pytest.raises(DataError, match="holds a NUL character \\(line 2"):
        read_qdpx(path)
    qde = _project("x").replace('name="p"', 'name="p\x00"')
    with pytest.raises(DataError, match="project.qde holds a NUL byte"):
        read_qdpx(_zip(tmp_path / "nul2.qdpx", qde))


def test_chance_edge_rate_of_prose_is_far_below_the_threshold():
    # "ab cd": positions 0..5; edges at 0, 2, 3, 5 (inside words: 1, 4) -> 4/6
    assert chance_edge_rate(["ab cd"]) == pytest.approx(4 / 6)


# --------------------------------------------------------------------------- schema


def _schema() -> Path:
    """The REFI-QDA schema next to the repository (never shipped in it)."""
    override = os.environ.get("REFI_QDA_SCHEMA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared/refi-qda/Project-mrt2019.xsd"


def _corpus(n_docs: int, with_codes: bool, with_codings: bool) -> tuple[CodedCorpus, dict]:
    docs = [f"doc{i}" for i in range(n_docs)]
    texts = {d: "We trust NGOs." for d in docs}
    rows = [("Actors", None, "Actors", "Who", 1), ("Actors\\NGOs", "Actors", "NGOs", "", 2)]
    codes = codes_frame(rows if with_codes else [])
    attrs = pd.DataFrame({"doc_id": docs, "attribute": ["city"] * n_docs,
                          "value": ["Berlin"] * n_docs}, dtype=object)
    cod = [(d, 9, 13, "NGOs", "Actors\\NGOs", "anna") for d in docs] if with_codings else []
    codings = pd.DataFrame(cod, columns=["doc_id", "start", "end", "text", "code_id",
                                         "coder"], dtype=object)
    return tidy_corpus(docs, attrs, codes, codings, "<test>"), texts


@pytest.mark.parametrize("n_docs, with_codes, with_codings", [
    (0, False, False), (2, False, False), (0, True, False), (2, True, False), (2, True, True)])
def test_written_projects_are_valid_against_the_refi_qda_schema(
        tmp_path, n_docs, with_codes, with_codings):
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (test dependency) missing")
    xsd = _schema()
    if not xsd.is_file():
        pytest.skip(f"REFI-QDA schema not found at {xsd} (it is not shipped with the project; "
                    "set REFI_QDA_SCHEMA to its path)")
    corpus, texts = _corpus(n_docs, with_codes, with_codings)
    out = write_qdpx(corpus, texts, tmp_path / "w.qdpx")
    with zipfile.ZipFile(out) as zf:
        qde = zf.read("project.qde")
    schema = xmlschema.XMLSchema(str(xsd))
    errors = list(schema.iter_errors(qde.decode("utf-8")))
    assert errors == [], errors[0].reason if errors else None
    back = read_qdpx(out)
    assert len(back.documents) == n_docs and len(back.codings) == len(corpus.codings)


# --------------------------------------------------------------------------- Taguette

FIXTURES = Path(__file__).parent / "fixtures"


def test_taguette_codebook_written_by_taguette_reads_to_flat_codes():
    codes = read_qdc(FIXTURES / "taguette_1.5.2_codebook.qdc")
    assert codes["code_id"].tolist() == ["actors", "actors.ngo", "covid-19",
                                         "risks & funding <local>", "zażółć"]
    assert codes["level"].tolist() == [1] * 5
    assert codes["parent_id"].isna().all() and (codes["description"] == "").all()


def test_a_taguette_codebook_zipped_as_a_project_is_refused_by_name(tmp_path):
    qdc = (FIXTURES / "taguette_1.5.2_codebook.qdc").read_text(encoding="utf-8")
    with pytest.raises(DataError, match=r"codebook \(.qdc\)"):
        read_qdpx(_zip(tmp_path / "t.qdpx", qdc))


def test_a_project_without_origin_counting_crlf_as_two_is_read_with_a_warning(tmp_path):
    # no origin: the standard's reading (code points, CRLF as one) is tried first and fails
    text = "First line here.\r\nSecond line with NGOs.\r\nThird line."
    raw_start = text.index("NGOs")  # 35 with CRLF as two; 34 with CRLF as one
    sels = (_selection(1, raw_start, raw_start + 4)
            + _selection(2, text.index("Third"), text.index("Third") + 5))
    path = _zip(tmp_path / "none.qdpx", _project("", _source(sels)),
                {"sources/s1.txt": text.encode()})
    with pytest.warns(UserWarning, match="'code points, CRLF as two'"):
        corpus = read_qdpx(path)
    assert corpus.segments["text"].tolist() == ["NGOs", "Third"]
