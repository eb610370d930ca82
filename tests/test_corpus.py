"""The tidy coded-interview contract: codebook construction and cross-table checks."""

import pandas as pd
import pytest

from compendium.corpus import CodedCorpus, codes_frame, validate_corpus
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
