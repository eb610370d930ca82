"""Comparing two copies of one study: the first difference is named in words."""

import pandas as pd

from compendium.data.compare import first_difference
from compendium.data.corpus import codes_frame, tidy_corpus

TEXT = "We trust NGOs and the city."  # "NGOs" is [9, 13), "city" is [22, 26)


def _corpus(docs=("A", "B"), codings=None, code_titles=("Actors",)):
    codes = codes_frame([(t, None, t, "", 1) for t in code_titles])
    rows = codings if codings is not None else [("A", 9, 13, "NGOs", "Actors", "anna")]
    frame = pd.DataFrame(rows, columns=["doc_id", "start", "end", "text", "code_id",
                                        "coder"], dtype=object)
    attrs = pd.DataFrame({"doc_id": [], "attribute": [], "value": []}, dtype=object)
    return tidy_corpus(list(docs), attrs, codes, frame, "<test>")


def test_identical_copies_agree_whatever_the_document_order():
    assert first_difference(_corpus(), _corpus(docs=("B", "A"))) is None


def test_a_missing_document_is_named_first():
    msg = first_difference(_corpus(), _corpus(docs=("A",)), "Dedoose", "REFI")
    assert msg == "document 'B' is in the Dedoose but not in the REFI"


def test_a_segment_with_other_text_is_named_with_both_texts():
    other = _corpus(codings=[("A", 9, 13, "NGOS", "Actors", "anna")])
    msg = first_difference(_corpus(), other, "x", "y")
    assert msg == "segment ('A', 9, 13) has the text 'NGOs' in the x but 'NGOS' in the y"


def test_a_coding_by_another_coder_is_named():
    other = _corpus(codings=[("A", 9, 13, "NGOs", "Actors", "ben")])
    msg = first_difference(_corpus(), other, "x", "y")
    assert msg == "coding ('A', 9, 13, 'Actors', 'anna') is in the x but not in the y"
