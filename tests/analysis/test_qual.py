"""Coded-interview analyses (compendium.analysis.qual) on a hand-built corpus.

Longer than 600 lines because every test reads one hand-built corpus drawn below; split
by measure, each module would have to repeat the picture its expected counts come from.

The corpus (every count below is worked out from this picture):

    documents  D1 (Berlin, NGO)  D2 (London, official)  D3 (Berlin, NGO)  D4 (London, migrant)
    codebook   R = Risks            U = Risks\\Underfunding   C = Risks\\Coordination
               P = Response         S = Response\\Speed       H = Housing (never applied)

    segment  doc  range    text (chars)                                   ana      ben
    s01      D1   0-40     "We never know if the grant comes next year." (43)  U        U
    s02      D1   50-90    "The city and the NGOs met every week."       (37)  C, S     C
    s03      D1   85-120   "Money ran out in March."                     (23)  U        U
    s04      D2   0-30     "Risks everywhere, sigh."                     (23)  R
    s05      D2   40-80    "We opened a shelter within two days."        (36)  S
    s06      D3   0-50     "Funding is short and nobody coordinates."    (40)  U, C
    s07      D3   60-70    "Fast."                                       (5)   S
    D4 has no segments at all.

ana has 9 codings, ben 3 (all in D1): ana is every document's primary coder, so the
default counts use ana's 9 codings. s02 and s03 overlap in range (85-90) but are different
segments. ben disagrees once: he did not apply S to s02.
"""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest

from compendium.analysis.qual import (
    KAPPA_BANDS,
    agreement,
    agreement_summary,
    by_descriptor,
    code_frequency,
    cooccurrence,
    count_matrix,
    doc_summary,
    exemplar_quotes,
    framework_long,
    framework_matrix,
    kappa_band,
    pooled_kappa,
    presence_matrix,
    saturation,
)
from compendium.data.corpus import CodedCorpus, validate_corpus
from compendium.errors import ParameterError

R, U, C = "Risks", "Risks\\Underfunding", "Risks\\Coordination"
P, S, H = "Response", "Response\\Speed", "Housing"
CODEBOOK = [R, U, C, P, S, H]
TEXT = {
    "s01": "We never know if the grant comes next year.",
    "s02": "The city and the NGOs met every week.",
    "s03": "Money ran out in March.",
    "s04": "Risks everywhere, sigh.",
    "s05": "We opened a shelter within two days.",
    "s06": "Funding is short and nobody coordinates.",
    "s07": "Fast.",
}


def make_corpus() -> CodedCorpus:
    documents = pd.DataFrame(
        {
            "doc_id": ["D1", "D2", "D3", "D4"],
            "title": ["i1", "i2", "i3", "i4"],
            "position": [0, 1, 2, 3],
        }
    )
    doc_attributes = pd.DataFrame(
        [
            ("D1", "city", "Berlin"),
            ("D1", "role", "NGO"),
            ("D2", "city", "London"),
            ("D2", "role", "official"),
            ("D3", "city", "Berlin"),
            ("D3", "role", "NGO"),
            ("D4", "city", "London"),
            ("D4", "role", "migrant"),
        ],
        columns=["doc_id", "attribute", "value"],
    )
    codes = pd.DataFrame(
        {
            "code_id": CODEBOOK,
            "parent_id": [None, R, R, None, P, None],
            "title": ["Risks", "Underfunding", "Coordination", "Response", "Speed", "Housing"],
            "description": [""] * 6,
            "level": [1, 2, 2, 1, 2, 1],
            "position": [0, 1, 2, 3, 4, 5],
        }
    )
    seg_rows = [
        ("s01", "D1", 0, 40),
        ("s02", "D1", 50, 90),
        ("s03", "D1", 85, 120),
        ("s04", "D2", 0, 30),
        ("s05", "D2", 40, 80),
        ("s06", "D3", 0, 50),
        ("s07", "D3", 60, 70),
    ]
    segments = pd.DataFrame(seg_rows, columns=["segment_id", "doc_id", "start", "end"])
    segments["text"] = segments["segment_id"].map(TEXT)
    codings = pd.DataFrame(
        [
            ("s01", U, "ana"),
            ("s02", C, "ana"),
            ("s02", S, "ana"),
            ("s03", U, "ana"),
            ("s04", R, "ana"),
            ("s05", S, "ana"),
            ("s06", U, "ana"),
            ("s06", C, "ana"),
            ("s07", S, "ana"),
            ("s01", U, "ben"),
            ("s02", C, "ben"),
            ("s03", U, "ben"),
        ],
        columns=["segment_id", "code_id", "coder"],
    )
    return validate_corpus(CodedCorpus(documents, doc_attributes, codes, segments, codings), "hand")


@pytest.fixture(scope="module")
def corpus() -> CodedCorpus:
    return make_corpus()


# --------------------------------------------------------------------------- frequencies


def test_code_frequency_without_rollup_counts_direct_codings_over_full_codebook(corpus):
    f = code_frequency(corpus, rollup=False)
    assert list(f.columns) == [
        "code_id",
        "parent_id",
        "title",
        "level",
        "n_segments",
        "n_documents",
        "share_documents",
    ]
    assert f["code_id"].tolist() == CODEBOOK
    # R: s04 | U: s01 s03 s06 | C: s02 s06 | P: - | S: s02 s05 s07 | H: never applied
    assert f["n_segments"].tolist() == [1, 3, 2, 0, 3, 0]
    # R: D2 | U: D1 D3 | C: D1 D3 | P: - | S: D1 D2 D3 | H: -
    assert f["n_documents"].tolist() == [1, 2, 2, 0, 3, 0]
    # share over all 4 documents, the uncoded D4 included
    assert f["share_documents"].tolist() == [0.25, 0.5, 0.5, 0.0, 0.75, 0.0]
    assert f["level"].tolist() == [1, 2, 2, 1, 2, 1]
    assert f["parent_id"].isna().tolist() == [True, False, False, True, False, True]


def test_code_frequency_rollup_counts_each_segment_once_for_the_parent(corpus):
    f = code_frequency(corpus).set_index("code_id")
    # R rolled up: s01 s02 s03 s04 s06 = 5 distinct segments. Parent + children would give
    # 1 + 3 + 2 = 6, because s06 carries both U and C: we count s06 once.
    assert f.loc[R, "n_segments"] == 5
    assert f.loc[R, "n_documents"] == 3  # D1 D2 D3
    # P rolled up: S's segments s02 s05 s07, documents D1 D2 D3
    assert f.loc[P, ["n_segments", "n_documents"]].tolist() == [3, 3]
    # leaves unchanged
    assert f.loc[U, "n_segments"] == 3 and f.loc[H, "n_segments"] == 0


def test_code_frequency_default_ignores_the_second_coder_but_explicit_codings_are_used(corpus):
    # all coders' codings: ben's 3 codings repeat segment x code pairs ana already has, and
    # counts are over distinct pairs, so nothing is double-counted
    f_all = code_frequency(corpus, codings=corpus.codings, rollup=False)
    assert f_all["n_segments"].tolist() == [1, 3, 2, 0, 3, 0]
    # ben alone: U on s01 s03, C on s02, all in D1
    ben = corpus.codings[corpus.codings["coder"] == "ben"]
    f_ben = code_frequency(corpus, codings=ben, rollup=False)
    assert f_ben["n_segments"].tolist() == [0, 2, 1, 0, 0, 0]
    assert f_ben["n_documents"].tolist() == [0, 1, 1, 0, 0, 0]


def test_presence_and_count_matrices_include_uncoded_documents_in_order(corpus):
    pres = presence_matrix(corpus)
    cnt = count_matrix(corpus)
    assert pres.index.tolist() == ["D1", "D2", "D3", "D4"]
    assert pres.columns.tolist() == CODEBOOK
    assert pres.dtypes.eq(np.int64).all() and cnt.dtypes.eq(np.int64).all()
    #                           R  U  C  P  S  H
    assert pres.loc["D1"].tolist() == [1, 1, 1, 1, 1, 0]
    assert pres.loc["D2"].tolist() == [1, 0, 0, 1, 1, 0]
    assert pres.loc["D3"].tolist() == [1, 1, 1, 1, 1, 0]
    assert pres.loc["D4"].tolist() == [0, 0, 0, 0, 0, 0]
    # D1: R = s01 s02 s03, U = s01 s03, C = s02, P = S = s02
    assert cnt.loc["D1"].tolist() == [3, 2, 1, 1, 1, 0]
    # D3: R = s06 (once, though it carries U and C), P = S = s07
    assert cnt.loc["D3"].tolist() == [1, 1, 1, 1, 1, 0]
    assert count_matrix(corpus, rollup=False).loc["D2"].tolist() == [1, 0, 0, 0, 1, 0]
    # rows follow `position`, not the row order of the documents table
    shuffled = CodedCorpus(corpus.documents.iloc[[3, 1, 0, 2]], *list(corpus.tables().values())[1:])
    assert presence_matrix(shuffled).index.tolist() == ["D1", "D2", "D3", "D4"]


# --------------------------------------------------------------------------- descriptors


def test_by_descriptor_interview_unit_counts_documents_per_group(corpus):
    t = by_descriptor(corpus, "city")
    assert list(t.columns) == [
        "code_id",
        "title",
        "level",
        "parent_id",
        "group",
        "n",
        "group_size",
        "pct",
    ]
    assert t["group"].tolist()[:2] == ["Berlin", "London"]  # first appearance: D1 Berlin
    t = t.set_index(["code_id", "group"])
    # Berlin = D1 D3, London = D2 D4 (D4 uncoded still counts in group_size)
    assert t.loc[(R, "Berlin"), ["n", "group_size", "pct"]].tolist() == [2, 2, 100.0]
    assert t.loc[(R, "London"), ["n", "group_size", "pct"]].tolist() == [1, 2, 50.0]
    assert t.loc[(U, "London"), "n"] == 0
    assert t.loc[(H, "Berlin"), ["n", "pct"]].tolist() == [0, 0.0]
    assert len(t) == 6 * 2


def test_by_descriptor_segment_unit_uses_coded_segments_of_the_group(corpus):
    t = by_descriptor(corpus, "city", unit="segment").set_index(["code_id", "group"])
    # coded segments: Berlin s01 s02 s03 s06 s07 = 5; London s04 s05 = 2
    assert t.loc[(R, "Berlin"), ["n", "group_size", "pct"]].tolist() == [4, 5, 80.0]
    assert t.loc[(R, "London"), ["n", "group_size", "pct"]].tolist() == [1, 2, 50.0]
    assert t.loc[(S, "Berlin"), ["n", "pct"]].tolist() == [2, 40.0]  # s02 s07
    assert t.loc[(S, "London"), ["n", "pct"]].tolist() == [1, 50.0]  # s05


def test_by_descriptor_keeps_zero_groups_and_order(corpus):
    # role: migrant = D4 only, who has no codings -> n 0 of 1
    t = by_descriptor(corpus, "role", codes=[S, R]).set_index(["code_id", "group"])
    assert t.index.get_level_values(0).unique().tolist() == [R, S]  # codebook order
    assert t.loc[(S, "migrant"), ["n", "group_size", "pct"]].tolist() == [0, 1, 0.0]
    assert t.loc[(S, "official"), ["n", "group_size"]].tolist() == [1, 1]
    o = by_descriptor(corpus, "city", order=["London", "Paris"], codes=[R])
    # listed groups first (Paris absent from the data: zeros, pct 0/0 = NaN), then the rest
    assert o["group"].tolist() == ["London", "Paris", "Berlin"]
    assert o["n"].tolist() == [1, 0, 2]
    assert o["group_size"].tolist() == [2, 0, 2]
    assert math.isnan(o["pct"].iloc[1])


def test_by_descriptor_rejects_unknown_attribute_and_unit(corpus):
    with pytest.raises(ParameterError, match=r"'attribute'.*'gender'.*allowed: \['city', 'role'\]"):
        by_descriptor(corpus, "gender")
    with pytest.raises(ParameterError, match=r"'unit'.*allowed: \['interview', 'segment'\]"):
        by_descriptor(corpus, "city", unit="document")
    with pytest.raises(ParameterError, match=r"'codes'.*'Nope'"):
        by_descriptor(corpus, "city", codes=["Nope"])


# --------------------------------------------------------------------------- co-occurrence


def test_cooccurrence_segment_counts_only_the_same_segment(corpus):
    m = cooccurrence(corpus)
    assert m.index.tolist() == CODEBOOK and m.columns.tolist() == CODEBOOK
    # diagonal n_i; U-C on s06, C-S on s02. U (s03) and S (s02) overlap in range but are
    # different segments: not counted.
    assert np.diag(m).tolist() == [1, 3, 2, 0, 3, 0]
    assert m.loc[U, C] == 1 and m.loc[C, U] == 1
    assert m.loc[C, S] == 1
    assert m.loc[U, S] == 0
    assert int(m.to_numpy().sum()) == 9 + 2 * 2
    # with roll-up: R x P on s02 (C and S)
    assert cooccurrence(corpus, rollup=True).loc[R, P] == 1


def test_cooccurrence_measures_match_hand_computation(corpus):
    # U-C: n_ij 1, n_U 3, n_C 2; M = 7 coded segments
    j = cooccurrence(corpus, measure="jaccard")
    assert j.loc[U, C] == pytest.approx(1 / (3 + 2 - 1))
    assert j.loc[R, S] == 0.0  # 0 / (1 + 3 - 0)
    cond = cooccurrence(corpus, measure="conditional")
    assert cond.loc[U, C] == pytest.approx(1 / 3)  # P(C | U)
    assert cond.loc[C, U] == pytest.approx(1 / 2)  # P(U | C)
    assert cooccurrence(corpus, measure="dice").loc[U, C] == pytest.approx(2 / 5)
    assert cooccurrence(corpus, measure="ochiai").loc[U, C] == pytest.approx(1 / math.sqrt(6))
    assert cooccurrence(corpus, measure="lift").loc[U, C] == pytest.approx(7 / 6)
    for measure in ("jaccard", "conditional", "dice", "ochiai", "lift"):
        m = cooccurrence(corpus, measure=measure)
        assert np.isnan(np.diag(m)).all()  # diagonal NaN by choice
        assert np.isnan(m.loc[P, H])  # 0/0: neither code applied
    # conditional row of a never-applied code is 0/0 = NaN; its column is 0 / n_i = 0
    assert np.isnan(cond.loc[H, U]) and cond.loc[U, H] == 0.0
    assert j.loc[H, U] == 0.0  # 0 / (0 + 3 - 0)


def test_cooccurrence_document_level_is_xtx_of_presence(corpus):
    m = cooccurrence(corpus, level="document")
    x = presence_matrix(corpus, rollup=False).to_numpy()
    assert (m.to_numpy() == x.T @ x).all()
    # U and S are together in D1 and D3 (never in one segment)
    assert m.loc[U, S] == 2
    # lift U-S: 2 * 4 documents / (2 * 3)
    assert cooccurrence(corpus, level="document", measure="lift").loc[U, S] == pytest.approx(4 / 3)
    sub = cooccurrence(corpus, codes=[S, U], level="document")
    assert sub.index.tolist() == [U, S] and sub.to_numpy().tolist() == [[2, 2], [2, 3]]


def test_cooccurrence_rejects_unknown_level_and_measure(corpus):
    with pytest.raises(ParameterError, match=r"'level'.*allowed: \['segment', 'document'\]"):
        cooccurrence(corpus, level="overlap")
    with pytest.raises(ParameterError, match=r"'measure'.*'cosine'.*'jaccard'.*'lift'"):
        cooccurrence(corpus, measure="cosine")


# --------------------------------------------------------------------------- saturation


def test_saturation_counts_new_leaf_codes_in_interview_order(corpus):
    s = saturation(corpus)
    assert list(s.columns) == ["doc_id", "order", "new_codes", "cumulative_codes"]
    # leaves U C S H. D1 brings U C S; D2 only S (R is a parent, ignored); D3 nothing new
    assert s["doc_id"].tolist() == ["D1", "D2", "D3", "D4"]
    assert s["order"].tolist() == [1, 2, 3, 4]
    assert s["new_codes"].tolist() == [3, 0, 0, 0]
    assert s["cumulative_codes"].tolist() == [3, 3, 3, 3]
    s2 = saturation(corpus, order=["D2", "D3", "D1"])
    # D2 brings S, D3 brings U C, D1 nothing; D4 not listed -> left out
    assert s2["new_codes"].tolist() == [1, 2, 0]
    assert s2["cumulative_codes"].tolist() == [1, 3, 3]


def test_saturation_by_group_restarts_each_curve(corpus):
    s = saturation(corpus, by="city")
    assert list(s.columns) == ["group", "doc_id", "order", "new_codes", "cumulative_codes"]
    # Berlin: D1 (U C S), D3 (nothing new). London: D2 (S), D4 (uncoded)
    assert s["group"].tolist() == ["Berlin", "Berlin", "London", "London"]
    assert s["doc_id"].tolist() == ["D1", "D3", "D2", "D4"]
    assert s["order"].tolist() == [1, 2, 1, 2]
    assert s["new_codes"].tolist() == [3, 0, 1, 0]
    assert s["cumulative_codes"].tolist() == [3, 3, 1, 1]
    with pytest.raises(ParameterError, match=r"'order'.*'D9'"):
        saturation(corpus, order=["D1", "D9"])


# --------------------------------------------------------------------------- agreement

# Units: the 3 segments of D1 (the only document both coded). Decisions per code:
#   U: ana 1 0 1, ben 1 0 1 -> p_o 1, p_e (2/3)^2 + (1/3)^2 = 5/9, kappa 1
#   C: ana 0 1 0, ben 0 1 0 -> p_o 1, p_e 5/9, kappa 1
#   S: ana 0 1 0, ben 0 0 0 -> p_o 2/3, p_e (1/3)(0) + (2/3)(1) = 2/3, kappa 0
#   R, P, H: nobody -> p_o = p_e = 1, kappa undefined
ANA_S, BEN_S = [0, 1, 0], [0, 0, 0]


def kappa_by_formula(a: list[int], b: list[int]) -> float:
    """Cohen (1960): (p_o - p_e) / (1 - p_e), p_e from each rater's margins (written here)."""
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe)


def test_agreement_per_code_matches_hand_and_krippendorff(corpus):
    a = agreement(corpus).set_index("code_id")
    assert a.index.tolist() == CODEBOOK
    assert (a["n_units"] == 3).all()
    assert a.loc[S, ["n_a", "n_b", "n_both"]].tolist() == [1, 0, 0]
    assert a.loc[U, ["n_a", "n_b", "n_both"]].tolist() == [2, 2, 2]
    assert a.loc[S, "pct_agreement"] == pytest.approx(200 / 3)
    # hand: (2/3 - 2/3) / (1 - 2/3) = 0
    assert a.loc[S, "kappa"] == pytest.approx(0.0)
    # alpha by hand: pairs (0,0) (1,0) (0,0): D_o = 2/6, D_e = 2*5*1/(6*5) = 1/3 -> alpha 0
    expected_alpha = krippendorff.alpha(
        reliability_data=np.array([ANA_S, BEN_S], float), level_of_measurement="nominal"
    )
    assert a.loc[S, "alpha"] == pytest.approx(expected_alpha) == pytest.approx(0.0, abs=1e-12)
    assert a.loc[U, "kappa"] == pytest.approx(1.0) and a.loc[U, "alpha"] == pytest.approx(1.0)
    assert a.loc[S, "flag"] == "below 0.6"
    assert a.loc[U, "flag"] == ""
    for code in (R, P, H):
        assert np.isnan(a.loc[code, "kappa"]) and np.isnan(a.loc[code, "alpha"])
        assert a.loc[code, "pct_agreement"] == 100.0
        assert a.loc[code, "flag"] == "not applied in subset"
    assert agreement(corpus, threshold=0.0).set_index("code_id").loc[S, "flag"] == ""


def test_agreement_matches_formula_and_krippendorff_on_random_double_coding():
    rng = np.random.default_rng(7)
    base = make_corpus()
    segs = pd.DataFrame(
        {
            "segment_id": [f"x{i:03d}" for i in range(40)],
            "doc_id": rng.choice(["D1", "D2", "D3"], 40),
            "start": np.arange(40) * 10,
            "end": np.arange(40) * 10 + 5,
            "text": ["some text long enough to quote"] * 40,
        }
    )
    rows = []
    for coder, p in (("ann", 0.35), ("bob", 0.45)):
        for sid in segs["segment_id"]:
            for code in (U, C, S):
                if rng.random() < p:
                    rows.append((sid, code, coder))
    cod = pd.DataFrame(rows, columns=["segment_id", "code_id", "coder"])
    corpus = CodedCorpus(base.documents, base.doc_attributes, base.codes, segs, cod)
    got = agreement(corpus, coders=("ann", "bob")).set_index("code_id")
    # slow reference: units = segments either coder touched, all in D1-D3 (all double coded)
    touched = sorted(set(cod["segment_id"]))
    have = set(map(tuple, cod.to_numpy()))
    for code in (U, C, S):
        va = [int((s, code, "ann") in have) for s in touched]
        vb = [int((s, code, "bob") in have) for s in touched]
        assert got.loc[code, "n_units"] == len(touched)
        assert got.loc[code, "kappa"] == pytest.approx(kappa_by_formula(va, vb))
        assert got.loc[code, "alpha"] == pytest.approx(
            krippendorff.alpha(
                reliability_data=np.array([va, vb], float), level_of_measurement="nominal"
            )
        )


def test_pooled_kappa_sums_observed_and_expected_agreement(corpus):
    # sum p_o = 1+1+1+1+2/3+1 = 17/3; sum p_e = 1+5/9+5/9+1+2/3+1 = 43/9; K = 6
    # (17/3 - 43/9) / (6 - 43/9) = (8/9) / (11/9) = 8/11
    assert pooled_kappa(corpus) == pytest.approx(8 / 11)
    # codes nobody applied (p_o = p_e = 1) are excluded; by the formula they cannot move it
    assert pooled_kappa(corpus, codes=[U, C, S]) == pytest.approx(8 / 11)
    assert pooled_kappa(corpus, exclude_unused=False) == pytest.approx(8 / 11)
    # only S: (2/3 - 2/3) / (1 - 2/3) = 0
    assert pooled_kappa(corpus, codes=[S]) == pytest.approx(0.0)


def test_agreement_summary_reports_headline_figures(corpus):
    s = agreement_summary(corpus)
    assert s["coders"] == ("ana", "ben")
    assert s["n_documents"] == 1 and s["n_segments"] == 3 and s["n_codes"] == 6
    assert s["share_double_coded"] == 0.25
    # U, C, S vary; R, P, H were applied by nobody in D1 and are left out of the pooled set
    assert s["n_codes_pooled"] == 3 and s["n_codes_excluded"] == 3
    assert s["pct_agreement"] == pytest.approx(100 * 8 / 9)  # 8 of the 9 decisions on U, C, S
    assert s["pct_agreement_all_codes"] == pytest.approx(100 * 17 / 18)  # 17 of 18 decisions
    assert s["pooled_kappa"] == pytest.approx(8 / 11)
    assert s["pooled_kappa_band"] == "substantial"
    assert s["mean_alpha"] == pytest.approx((1 + 1 + 0) / 3)
    assert s["n_codes_below"] == 1


def test_agreement_rejects_bad_coders(corpus):
    with pytest.raises(ParameterError, match=r"'coders'.*'zoe'.*allowed: \['ana', 'ben'\]"):
        agreement(corpus, coders=("ana", "zoe"))
    with pytest.raises(ParameterError, match=r"'coders'.*two different coders"):
        pooled_kappa(corpus, coders=("ana", "ana"))


def test_kappa_band_follows_landis_and_koch():
    assert [b[2] for b in KAPPA_BANDS] == [
        "poor",
        "slight",
        "fair",
        "moderate",
        "substantial",
        "almost perfect",
    ]
    assert kappa_band(-0.1) == "poor"
    assert kappa_band(0.0) == "slight"
    assert kappa_band(0.2) == "slight"
    assert kappa_band(0.205) == "fair"
    assert kappa_band(0.6) == "moderate"
    assert kappa_band(0.61) == "substantial"
    assert kappa_band(0.81) == "almost perfect"
    assert kappa_band(1.0) == "almost perfect"
    assert kappa_band(float("nan")) == "undefined"
    assert kappa_band(np.float32("nan")) == "undefined"
    with pytest.raises(ParameterError, match="outside"):
        kappa_band(1.5)


# --------------------------------------------------------------------------- quotes


def test_exemplar_quotes_shortest_with_ties_by_segment_id(corpus):
    q = exemplar_quotes(corpus, R, k=3)
    assert list(q.columns) == ["doc_id", "segment_id", "text"]
    # R includes U and C: s01 (43) s02 (37) s03 (23) s04 (23) s06 (40); s03/s04 tie -> by id
    assert q["segment_id"].tolist() == ["s03", "s04", "s02"]
    assert q["doc_id"].tolist() == ["D1", "D2", "D1"]
    assert q["text"].iloc[0] == TEXT["s03"]
    # S: s07 "Fast." is under 20 characters unless min_chars allows it
    assert exemplar_quotes(corpus, S)["segment_id"].tolist() == ["s05"]
    assert exemplar_quotes(corpus, S, min_chars=1)["segment_id"].tolist() == ["s07"]
    assert exemplar_quotes(corpus, H).empty
    with pytest.raises(
        ParameterError, match=r"'code_id'.*unknown code_id.*'Nope'.*allowed: 'Risks'"
    ):
        exemplar_quotes(corpus, "Nope")


def test_exemplar_quotes_random_is_seeded_and_restricted_by_attribute(corpus):
    a = exemplar_quotes(corpus, R, k=2, how="random", seed=3)
    b = exemplar_quotes(corpus, R, k=2, how="random", seed=3)
    pd.testing.assert_frame_equal(a, b)
    # independent draw: candidates sorted by id, default_rng(seed).choice without replacement
    cand = ["s01", "s02", "s03", "s04", "s06"]
    idx = np.random.default_rng(3).choice(5, size=2, replace=False)
    assert a["segment_id"].tolist() == [cand[i] for i in idx]
    draws = {
        tuple(exemplar_quotes(corpus, R, k=2, how="random", seed=s)["segment_id"])
        for s in range(10)
    }
    assert len(draws) > 1
    lon = exemplar_quotes(corpus, R, k=5, attribute="city", value="London")
    assert lon["segment_id"].tolist() == ["s04"] and lon["city"].tolist() == ["London"]
    with pytest.raises(ParameterError, match=r"'how'.*allowed: \['shortest', 'random'\]"):
        exemplar_quotes(corpus, R, how="longest")
    with pytest.raises(ParameterError, match=r"'attribute'.*both"):
        exemplar_quotes(corpus, R, attribute="city")


def test_framework_matrix_cells_hold_counts_and_quotes(corpus):
    fm = framework_matrix(corpus, [S, R], "city")
    assert fm.index.tolist() == [R, S] and fm.columns.tolist() == ["Berlin", "London"]
    # R Berlin: D1 D3, shortest quote s03; R London: D2, quote s04
    assert fm.loc[R, "Berlin"] == "n = 2 | Money ran out in March."
    assert fm.loc[R, "London"] == "n = 1 | Risks everywhere, sigh."
    # S Berlin: D1 D3, s07 too short -> s02
    assert fm.loc[S, "Berlin"] == "n = 2 | The city and the NGOs met every week."
    fm2 = framework_matrix(corpus, [H], "role", quotes_per_cell=2, order=["migrant"])
    assert fm2.loc[H].tolist() == ["n = 0", "n = 0", "n = 0"]
    assert fm2.columns.tolist() == ["migrant", "NGO", "official"]
    long = framework_long(corpus, [R], "city", quotes_per_cell=2)
    assert list(long.columns) == [
        "code_id",
        "title",
        "level",
        "parent_id",
        "group",
        "n_documents",
        "quotes",
    ]
    assert long["quotes"].iloc[0] == [TEXT["s03"], TEXT["s02"]]
    assert long["n_documents"].tolist() == [2, 1]


def test_doc_summary_lists_segments_codings_coders_and_attributes(corpus):
    d = doc_summary(corpus)
    assert list(d.columns) == ["doc_id", "n_segments", "n_codings", "coders", "city", "role"]
    assert d["n_segments"].tolist() == [3, 2, 2, 0]
    assert d["n_codings"].tolist() == [7, 2, 3, 0]  # D1: ana 4 + ben 3
    assert d["coders"].tolist() == ["ana, ben", "ana", "ana", ""]
    assert d["role"].tolist() == ["NGO", "official", "NGO", "migrant"]


# --------------------------------------------------------------------------- scale


def random_corpus(n_docs: int, n_segments: int, seed: int) -> CodedCorpus:
    rng = np.random.default_rng(seed)
    parents = [f"P{i}" for i in range(8)]
    children = [f"P{i}\\c{j}" for i in range(8) for j in range(4)]
    code_ids = parents + children
    codes = pd.DataFrame(
        {
            "code_id": code_ids,
            "parent_id": [None] * 8 + [c.split("\\")[0] for c in children],
            "title": code_ids,
            "description": [""] * len(code_ids),
            "level": [1] * 8 + [2] * len(children),
            "position": np.arange(len(code_ids)),
        }
    )
    docs = pd.DataFrame(
        {
            "doc_id": [f"d{i:05d}" for i in range(n_docs)],
            "title": [f"d{i}" for i in range(n_docs)],
            "position": np.arange(n_docs),
        }
    )
    seg_doc = np.sort(rng.integers(0, n_docs, n_segments))
    segs = pd.DataFrame(
        {
            "segment_id": [f"s{i:06d}" for i in range(n_segments)],
            "doc_id": docs["doc_id"].to_numpy()[seg_doc],
            "start": np.zeros(n_segments, dtype=np.int64),
            "end": np.ones(n_segments, dtype=np.int64),
            "text": [""] * n_segments,
        }
    )
    n_cod = int(n_segments * 1.8)
    cod = pd.DataFrame(
        {
            "segment_id": segs["segment_id"].to_numpy()[rng.integers(0, n_segments, n_cod)],
            "code_id": np.asarray(code_ids)[rng.integers(0, len(code_ids), n_cod)],
            "coder": "c1",
        }
    ).drop_duplicates()
    attrs = pd.DataFrame(columns=["doc_id", "attribute", "value"], dtype=str)
    return CodedCorpus(docs, attrs, codes, segs, cod)


def slow_reference(corpus: CodedCorpus, rollup: bool):
    """Loops over codings: per-code segment sets and document sets."""
    parent = dict(zip(corpus.codes["code_id"], corpus.codes["parent_id"], strict=True))
    doc_of = dict(zip(corpus.segments["segment_id"], corpus.segments["doc_id"], strict=True))
    seg_codes: dict[str, set] = {}
    for sid, code in zip(corpus.codings["segment_id"], corpus.codings["code_id"], strict=True):
        while code is not None and not (isinstance(code, float) and math.isnan(code)):
            seg_codes.setdefault(sid, set()).add(code)
            code = parent[code] if rollup else None
    codes = corpus.codes.sort_values("position")["code_id"].tolist()
    n_seg = {c: sum(c in cs for cs in seg_codes.values()) for c in codes}
    n_doc = {c: len({doc_of[s] for s, cs in seg_codes.items() if c in cs}) for c in codes}
    co = np.zeros((len(codes), len(codes)), dtype=np.int64)
    for cs in seg_codes.values():
        for i, a in enumerate(codes):
            for j, b in enumerate(codes):
                co[i, j] += a in cs and b in cs
    return codes, n_seg, n_doc, co


def test_vectorised_results_equal_slow_reference_and_scale_to_50k_segments():
    big = random_corpus(n_docs=3000, n_segments=50_000, seed=1)
    freq = code_frequency(big, codings=big.codings)
    co = cooccurrence(big, codings=big.codings, rollup=True)
    co_doc = cooccurrence(big, codings=big.codings, level="document", measure="jaccard")
    # internal consistency on the big corpus: diagonal of co-occurrence = frequency
    assert (np.diag(co) == freq["n_segments"].to_numpy()).all()
    assert co_doc.shape == (40, 40)
    # a tiny slice (first 40 documents) against loops over codings
    keep_docs = big.documents["doc_id"].iloc[:40]
    segs = big.segments[big.segments["doc_id"].isin(keep_docs)]
    cods = big.codings[big.codings["segment_id"].isin(segs["segment_id"])]
    small = CodedCorpus(big.documents.iloc[:40], big.doc_attributes, big.codes, segs, cods)
    for rollup in (False, True):
        codes, n_seg, n_doc, ref_co = slow_reference(small, rollup)
        f = code_frequency(small, codings=small.codings, rollup=rollup)
        assert f["n_segments"].tolist() == [n_seg[c] for c in codes]
        assert f["n_documents"].tolist() == [n_doc[c] for c in codes]
        got = cooccurrence(small, codings=small.codings, rollup=rollup).to_numpy()
        assert (got == ref_co).all()
