"""The tidy coded-interview contract: codebook construction and cross-table checks."""

import pandas as pd
import pytest

from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus, validate_corpus
from compendium.errors import DataError

ROWS = [("Risks", None, "Risks", "", 1), ("Risks\\Underfunding", "Risks", "Underfunding", "d", 2)]


def test_codes_frame_keeps_codebook_order_as_position():
    codes = codes_frame(ROWS)
    assert codes["code_id"].tolist() == ["Risks", "Risks\\Underfunding"]
    assert codes["position"].tolist() == [0, 1]
    assert codes["parent_id"].isna().tolist() == [True, False]


def test_sibling_codes_with_one_title_are_refused_naming_file_and_column():
    rows = [*ROWS, ("Risks\\Underfunding", "Risks", "Underfunding", "", 2)]
    with pytest.raises(DataError) as err:
        codes_frame(rows, "codes.xlsx", "Title")
    msg = str(err.value)
    assert "codes.xlsx" in msg and "'Title'" in msg and "Risks\\\\Underfunding" in msg


def test_coding_with_a_code_missing_from_the_codebook_is_refused():
    docs = pd.DataFrame({"doc_id": ["a"], "title": ["A"], "position": [0]})
    attrs = pd.DataFrame({"doc_id": ["a"], "attribute": ["city"], "value": ["Berlin"]})
    segs = pd.DataFrame({"segment_id": ["a#0-5"], "doc_id": ["a"], "start": [0], "end": [5],
                         "text": ["hello"]})
    cods = pd.DataFrame({"segment_id": ["a#0-5"], "code_id": ["Nope"], "coder": ["x"]})
    corpus = CodedCorpus(docs, attrs, codes_frame(ROWS), segs, cods)
    with pytest.raises(DataError, match="refers to code_id values missing from 'codes'"):
        validate_corpus(corpus, "excerpts.xlsx")


def test_tidy_corpus_orders_by_document_and_merges_two_coders_of_one_range():
    attrs = pd.DataFrame({"doc_id": ["b", "a"], "attribute": ["city", "city"],
                          "value": ["Oslo", "Berlin"]})
    codings = pd.DataFrame(
        [("b", 0, 4, "late", "Risks", "y"),
         ("a", 6, 9, "two", "Risks\\Underfunding", "x"),
         ("a", 0, 5, "first", "Risks\\Underfunding", "y"),
         ("a", 0, 5, "first copy", "Risks", "x"),
         ("a", 0, 5, "first", "Risks", "x")],
        columns=["doc_id", "start", "end", "text", "code_id", "coder"],
    )
    corpus = tidy_corpus(["a", "b"], attrs, codes_frame(ROWS), codings, "export.xlsx")
    assert corpus.documents["doc_id"].tolist() == ["a", "b"]
    assert corpus.doc_attributes["value"].tolist() == ["Berlin", "Oslo"]
    assert corpus.segments["segment_id"].tolist() == ["a#0-5", "a#6-9", "b#0-4"]
    assert corpus.segments["text"].tolist() == ["first", "two", "late"]
    # one segment, both coders; the repeated (segment, code, coder) row counts once;
    # within a segment codes follow codebook order
    assert corpus.codings.values.tolist() == [
        ["a#0-5", "Risks", "x"],
        ["a#0-5", "Risks\\Underfunding", "y"],
        ["a#6-9", "Risks\\Underfunding", "x"],
        ["b#0-4", "Risks", "y"],
    ]
