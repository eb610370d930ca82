"""Segmentation agreement grouped by document once (linear in the data) against two oracles.

``segmentation_agreement`` used to filter each coder's ranges with ``doc_id == doc`` for every
document: documents x segments string comparisons, 65 s of CPU a page at 100x data. It now
groups the ranges by document once. Oracles: (1) the previous implementation, kept here as a
reference (labelled as such), on the shipped four-city corpus and on random corpora; (2) a
brute force written for this test: the covered characters as Python sets, the identical
ranges as a set intersection, document by document. The hand-worked case is in
``test_agreement.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from compendium.analysis.agreement import (
    _covered,
    _intersection,
    _length,
    _pick_coders,
    _ratio,
    segmentation_agreement,
)
from compendium.data.corpus import CodedCorpus


def reference_segmentation_agreement(corpus: CodedCorpus, coders=None) -> pd.DataFrame:
    """REFERENCE: the implementation before this change (commit 5980d11), verbatim."""
    cod = corpus.codings
    pair = _pick_coders(cod, coders)
    seg = corpus.segments.set_index("segment_id")
    docs = corpus.documents.sort_values("position", kind="stable")["doc_id"]
    per = {}
    for coder in pair:
        ids = cod.loc[cod["coder"] == coder, "segment_id"].unique()
        per[coder] = seg.loc[ids, ["doc_id", "start", "end"]]
    rows = []
    for doc in docs:
        ra = per[pair[0]][per[pair[0]]["doc_id"] == doc]
        rb = per[pair[1]][per[pair[1]]["doc_id"] == doc]
        if len(ra) == 0 or len(rb) == 0:
            continue
        ca, cb = _covered(ra), _covered(rb)
        both = _intersection(ca, cb)
        la, lb = _length(ca), _length(cb)
        same = len(
            set(zip(ra["start"], ra["end"], strict=True))
            & set(zip(rb["start"], rb["end"], strict=True))
        )
        rows.append((doc, len(ra), len(rb), same, la, lb, both))
    out = pd.DataFrame(rows, columns=["doc_id", "n_excerpts_a", "n_excerpts_b", "n_same_range",
                                      "chars_a", "chars_b", "chars_both"])
    out = out.astype({c: np.int64 for c in out.columns if c != "doc_id"})
    out["jaccard"] = _ratio(out["chars_both"], out["chars_a"] + out["chars_b"] - out["chars_both"])
    out["boundary_match"] = _ratio(
        2 * out["n_same_range"], out["n_excerpts_a"] + out["n_excerpts_b"]
    )
    return out


def brute_force(corpus: CodedCorpus, pair: tuple[str, str]) -> list[tuple]:
    """Per double-coded document, in position order: excerpt counts, identical ranges and
    covered characters as sets of character positions."""
    seg = corpus.segments.set_index("segment_id")
    out = []
    for doc in corpus.documents.sort_values("position")["doc_id"]:
        ranges = []
        for coder in pair:
            ids = set(corpus.codings.loc[corpus.codings["coder"] == coder, "segment_id"])
            mine = seg[(seg["doc_id"] == doc) & seg.index.isin(ids)]
            pairs = zip(mine["start"], mine["end"], strict=True)
            ranges.append({(int(s), int(e)) for s, e in pairs})
        a, b = ranges
        if not a or not b:
            continue
        ca = {c for s, e in a for c in range(s, e)}
        cb = {c for s, e in b for c in range(s, e)}
        out.append((doc, len(a), len(b), len(a & b), len(ca), len(cb), len(ca & cb)))
    return out


def random_corpus(seed: int, n_docs: int = 40) -> CodedCorpus:
    """Documents with random ranges (some shared, some nested, some empty) by two or three
    coders; documents listed in a shuffled position order."""
    rng = np.random.default_rng(seed)
    segs, cods = [], []
    for d in range(n_docs):
        doc = f"doc {d}"
        for _ in range(int(rng.integers(0, 7))):
            s = int(rng.integers(0, 60))
            e = s + int(rng.integers(0, 25))
            sid = f"{doc}#{s}-{e}"
            if sid not in {x[0] for x in segs}:
                segs.append((sid, doc, s, e, "text"))
            for coder in ("ann", "bob", "cy"):
                if rng.random() < 0.55:
                    cods.append((sid, "X", coder))
    order = rng.permutation(n_docs)
    return CodedCorpus(
        documents=pd.DataFrame({"doc_id": [f"doc {d}" for d in range(n_docs)],
                                "title": [str(d) for d in range(n_docs)],
                                "position": order.astype("int64")}),
        doc_attributes=pd.DataFrame(columns=["doc_id", "attribute", "value"], dtype=str),
        codes=pd.DataFrame({"code_id": ["X"], "parent_id": [None], "title": ["X"],
                            "description": [""], "level": [1], "position": [0]}),
        segments=pd.DataFrame(segs, columns=["segment_id", "doc_id", "start", "end", "text"]),
        codings=pd.DataFrame(cods, columns=["segment_id", "code_id", "coder"]).drop_duplicates(),
    )


def test_segmentation_equals_the_reference_and_the_brute_force_on_random_corpora():
    for seed in range(4):
        corpus = random_corpus(seed)
        for coders in (None, ("bob", "ann"), ("cy", "ann")):
            new = segmentation_agreement(corpus, coders)
            assert len(new) > 10
            assert_frame_equal(new, reference_segmentation_agreement(corpus, coders),
                               check_dtype=True, check_exact=True)
            pair = _pick_coders(corpus.codings, coders)
            cols = ["doc_id", "n_excerpts_a", "n_excerpts_b", "n_same_range", "chars_a",
                    "chars_b", "chars_both"]
            assert [tuple(r) for r in new[cols].itertuples(index=False)] == brute_force(
                corpus, pair)


def test_segmentation_equals_the_reference_on_the_shipped_four_city_interviews(project_root):
    from compendium.data.dedoose import read_dedoose

    raw = project_root / "data" / "raw" / "four_cities"
    corpus = read_dedoose(raw / "dedoose_excerpts.xlsx", raw / "dedoose_codes.xlsx")
    new = segmentation_agreement(corpus)
    assert len(new) > 0
    assert_frame_equal(new, reference_segmentation_agreement(corpus), check_dtype=True,
                       check_exact=True)
