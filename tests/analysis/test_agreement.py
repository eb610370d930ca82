"""Intercoder agreement (compendium.analysis.agreement) against published and hand-worked values.

Oracles: the Cohen's κ worked example in the Wikipedia article "Cohen's kappa" (a 2 x 2 table
of 50 items, κ = 0.4), the binary two-observer example A of Krippendorff (2011) "Computing
Krippendorff's Alpha-Reliability" (α = 0.095), the `krippendorff` package, the asymptotic
standard error of κ from statsmodels (Fleiss, Cohen & Everitt 1969) for the bootstrap
interval's width, and hand-counted character ranges for segmentation agreement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from compendium.analysis.agreement import (
    agreement,
    agreement_summary,
    binary_kappa_alpha,
    cohen_kappa,
    segmentation_agreement,
    segmentation_summary,
)
from compendium.analysis.coding import code_frequency, declared_codings
from compendium.analysis.cooccurrence import near_universal
from compendium.data.corpus import CodedCorpus, validate_corpus
from compendium.errors import ParameterError

X, Y = "X", "Y"

# Krippendorff (2011), section A: two observers, ten units, binary values
KRIPP_A_OBS1 = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
KRIPP_A_OBS2 = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def corpus_from(
    decisions: dict[str, tuple[list[int], list[int]]],
    ranges_b: list[tuple[int, int]] | None = None,
) -> CodedCorpus:
    """One document; unit i is segment [10i, 10i+5); code Y is applied by both to every
    unit so that every unit is a unit of agreement. ``decisions[code] = (coder a, coder b)``.
    """
    n = len(next(iter(decisions.values()))[0])
    seg_rows = [(f"D#{10 * i}-{10 * i + 5}", "D", 10 * i, 10 * i + 5, "t") for i in range(n)]
    codings = []
    for i, (sid, *_rest) in enumerate(seg_rows):
        for coder in ("a", "b"):
            codings.append((sid, Y, coder))
        for code, (va, vb) in decisions.items():
            if va[i]:
                codings.append((sid, code, "a"))
            if vb[i]:
                codings.append((sid, code, "b"))
    codes = pd.DataFrame(
        {
            "code_id": [X, Y],
            "parent_id": [None, None],
            "title": [X, Y],
            "description": ["", ""],
            "level": [1, 1],
            "position": [0, 1],
        }
    )
    return validate_corpus(
        CodedCorpus(
            documents=pd.DataFrame({"doc_id": ["D"], "title": ["D"], "position": [0]}),
            doc_attributes=pd.DataFrame(columns=["doc_id", "attribute", "value"], dtype=str),
            codes=codes,
            segments=pd.DataFrame(
                seg_rows, columns=["segment_id", "doc_id", "start", "end", "text"]
            ),
            codings=pd.DataFrame(codings, columns=["segment_id", "code_id", "coder"]),
        ),
        "hand",
    )


def test_cohen_kappa_reproduces_the_textbook_two_by_two_example():
    # 50 items: both yes 20, a yes / b no 5, a no / b yes 10, both no 15
    # p_o = 35/50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert np.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))


def test_binary_kappa_alpha_reproduces_krippendorff_example_a():
    a, b = np.array(KRIPP_A_OBS1), np.array(KRIPP_A_OBS2)
    cells = [((a == i) & (b == j)).sum() for i, j in ((1, 1), (1, 0), (0, 1), (0, 0))]
    kappa, alpha = binary_kappa_alpha(*cells)
    # Krippendorff's printed value 0.095 = 1 - (20 - 1) * 4 / (14 * 6)
    assert float(alpha) == pytest.approx(1 - 19 * 4 / 84) and round(float(alpha), 3) == 0.095
    # kappa by hand: p_o = 6/10, p_e = 0.2 * 0.4 + 0.8 * 0.6 = 0.56 -> 0.04 / 0.44
    assert float(kappa) == pytest.approx(0.04 / 0.44)


def test_agreement_on_krippendorff_example_a_gives_the_published_alpha():
    table = agreement(corpus_from({X: (KRIPP_A_OBS1, KRIPP_A_OBS2)}), coders=("a", "b"))
    row = table.set_index("code_id").loc[X]
    assert row["n_units"] == 10 and row["pct_agreement"] == pytest.approx(60.0)
    assert round(row["alpha"], 3) == 0.095
    assert row["kappa"] == pytest.approx(0.04 / 0.44)
    assert row["flag"] == "below 0.6"


def test_vectorised_kappa_alpha_equal_statsmodels_and_krippendorff_on_random_tables():
    import krippendorff

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.random(30) < rng.uniform(0.1, 0.6)
        b = np.where(rng.random(30) < 0.7, a, rng.random(30) < 0.4)
        if len({*a, *b}) < 2:
            continue
        cells = [(a & b).sum(), (a & ~b).sum(), (~a & b).sum(), (~a & ~b).sum()]
        kappa, alpha = binary_kappa_alpha(*cells)
        table = np.array([[cells[3], cells[2]], [cells[1], cells[0]]], dtype=float)
        assert float(kappa) == pytest.approx(cohens_kappa(table, return_results=False))
        ref = krippendorff.alpha(
            reliability_data=np.vstack([a, b]).astype(float), level_of_measurement="nominal"
        )
        assert float(alpha) == pytest.approx(ref)


def test_bootstrap_interval_is_seeded_and_matches_the_asymptotic_width():
    rng = np.random.default_rng(11)
    n = 1500
    a = (rng.random(n) < 0.3).astype(int)
    b = np.where(rng.random(n) < 0.8, a, (rng.random(n) < 0.3).astype(int))
    corpus = corpus_from({X: (a.tolist(), b.tolist())})
    one = agreement(corpus, coders=("a", "b"), n_boot=400, seed=5).set_index("code_id")
    two = agreement(corpus, coders=("a", "b"), n_boot=400, seed=5).set_index("code_id")
    pd.testing.assert_frame_equal(one, two)
    row = one.loc[X]
    assert row["kappa_lo"] < row["kappa"] < row["kappa_hi"]
    # independent: Fleiss-Cohen-Everitt asymptotic SE of kappa, as computed by statsmodels
    table = np.zeros((2, 2))
    np.add.at(table, (a, b), 1)
    se = cohens_kappa(table).std_kappa
    assert row["kappa_hi"] - row["kappa_lo"] == pytest.approx(2 * 1.96 * se, rel=0.15)
    # a code with perfect agreement has a degenerate interval; Y (every unit) has none
    perfect = agreement(corpus_from({X: (a.tolist(), a.tolist())}), ("a", "b"), n_boot=50)
    p = perfect.set_index("code_id")
    assert p.loc[X, ["kappa_lo", "kappa_hi", "alpha_lo", "alpha_hi"]].tolist() == [1, 1, 1, 1]
    assert np.isnan(p.loc[Y, "kappa_lo"]) and p.loc[Y, "flag"] == "applied to every unit"


def test_summary_counts_the_codes_left_out_of_the_pooled_kappa():
    s = agreement_summary(corpus_from({X: (KRIPP_A_OBS1, KRIPP_A_OBS2)}), coders=("a", "b"))
    # Y is applied to every unit by both (p_e = 1): excluded; the pooled kappa is X's kappa
    assert s["n_codes"] == 2 and s["n_codes_pooled"] == 1 and s["n_codes_excluded"] == 1
    assert s["pooled_kappa"] == pytest.approx(0.04 / 0.44)
    assert s["pct_agreement"] == pytest.approx(60.0)
    assert s["pct_agreement_all_codes"] == pytest.approx(80.0)  # (6 + 10) / 20 decisions


def segmentation_corpus() -> CodedCorpus:
    """D1: a excerpts [0,10) and [20,30); b excerpts [5,15) and [20,30).
    D2: only coder a (not double coded)."""
    segs = [
        ("D1#0-10", "D1", 0, 10),
        ("D1#5-15", "D1", 5, 15),
        ("D1#20-30", "D1", 20, 30),
        ("D2#0-10", "D2", 0, 10),
    ]
    cod = [
        ("D1#0-10", X, "a"),
        ("D1#20-30", X, "a"),
        ("D1#20-30", Y, "a"),
        ("D1#5-15", X, "b"),
        ("D1#20-30", X, "b"),
        ("D2#0-10", X, "a"),
    ]
    codes = pd.DataFrame(
        {
            "code_id": [X, Y],
            "parent_id": [None, None],
            "title": [X, Y],
            "description": ["", ""],
            "level": [1, 1],
            "position": [0, 1],
        }
    )
    return CodedCorpus(
        documents=pd.DataFrame({"doc_id": ["D1", "D2"], "title": ["1", "2"], "position": [0, 1]}),
        doc_attributes=pd.DataFrame(columns=["doc_id", "attribute", "value"], dtype=str),
        codes=codes,
        segments=pd.DataFrame(
            [(*s, "some text") for s in segs],
            columns=["segment_id", "doc_id", "start", "end", "text"],
        ),
        codings=pd.DataFrame(cod, columns=["segment_id", "code_id", "coder"]),
    )


def test_segmentation_agreement_counts_characters_and_identical_ranges_by_hand():
    seg = segmentation_agreement(segmentation_corpus(), coders=("a", "b"))
    assert seg["doc_id"].tolist() == ["D1"]  # D2 is not double coded
    row = seg.iloc[0]
    # a covers 0-10, 20-30 (20 chars); b 5-15, 20-30 (20); both 5-10, 20-30 (15); union 25
    assert row[["chars_a", "chars_b", "chars_both"]].tolist() == [20, 20, 15]
    assert row["jaccard"] == pytest.approx(15 / 25)
    # identical ranges: only 20-30 -> 2 * 1 / (2 + 2)
    assert row["n_same_range"] == 1 and row["boundary_match"] == pytest.approx(0.5)
    s = segmentation_summary(seg)
    assert s == {"n_documents": 1, "jaccard": 0.6, "boundary_match": 0.5, "min_jaccard": 0.6}


def test_declared_codings_named_primary_and_consensus():
    corpus = segmentation_corpus()
    # a coded D1 and D2: a's codings everywhere
    a = declared_codings(corpus, "a")
    assert set(a["coder"]) == {"a"} and len(a) == 4
    # b did not code D2: D2 falls back to its own coder a
    b = declared_codings(corpus, "b")
    assert sorted(map(tuple, b.to_numpy())) == [
        ("D1#20-30", X, "b"),
        ("D1#5-15", X, "b"),
        ("D2#0-10", X, "a"),
    ]
    # consensus in D1: only (20-30, X) was applied by both; D2 keeps a
    c = declared_codings(corpus, "consensus")
    assert sorted(map(tuple, c.to_numpy())) == [
        ("D1#20-30", X, "consensus"),
        ("D2#0-10", X, "a"),
    ]
    # counts follow the declared choice: X on 3 segments under a (0-10, 20-30, D2), 2 by consensus
    assert code_frequency(corpus, codings=a).set_index("code_id").loc[X, "n_segments"] == 3
    assert code_frequency(corpus, codings=c).set_index("code_id").loc[X, "n_segments"] == 2
    with pytest.raises(ParameterError, match="primary_coder.*'zed'"):
        declared_codings(corpus, "zed")


def test_near_universal_flags_codes_in_nearly_every_document():
    corpus = segmentation_corpus()
    # X is in both documents (2/2), Y in D1 only (1/2), under each document's primary coder
    flagged = near_universal(corpus, threshold=0.9)
    assert flagged["code_id"].tolist() == [X]
    assert flagged["share_documents"].tolist() == [1.0]
    assert near_universal(corpus, threshold=0.5)["code_id"].tolist() == [X, Y]


def test_overlapping_excerpts_are_matched_before_codes_are_compared():
    corpus = segmentation_corpus()
    # b's 5-15 overlaps a's 0-10 by 5 characters: one unit, both applied X there
    over = agreement(corpus, coders=("a", "b")).set_index("code_id")
    assert over.loc[X, "n_units"] == 2
    assert over.loc[X, "pct_agreement"] == 100.0 and over.loc[X, "flag"] == "applied to every unit"
    # Y: a on 20-30 only, b nowhere -> (0, 1) vs (0, 0): kappa 0 by hand
    assert over.loc[Y, "kappa"] == pytest.approx(0.0)
    # exact ranges: units 0-10, 5-15, 20-30; X a = (1, 0, 1), b = (0, 1, 1)
    exact = agreement(corpus, coders=("a", "b"), match="exact").set_index("code_id")
    assert exact.loc[X, "n_units"] == 3
    assert exact.loc[X, "pct_agreement"] == pytest.approx(100 / 3)
    # kappa by hand: p_o = 1/3, p_a = p_b = 2/3, p_e = 4/9 + 1/9 = 5/9 -> (1/3 - 5/9) / (4/9)
    assert exact.loc[X, "kappa"] == pytest.approx(-0.5)
    with pytest.raises(ParameterError, match="match"):
        agreement(corpus, coders=("a", "b"), match="fuzzy")
