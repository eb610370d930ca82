"""The interview notebooks' compositions (interview_analysis, interview_findings) on a hand corpus.

    documents  D1 (asked, library)  D2 (asked, school)  D3 (not asked, library)  D4 (asked,
               school; no segments)
    codebook   A = Integration area, AC = A\\Culture, AH = A\\Housing (never applied),
               P = Policy, PS = P\\Integration strategy, PO = P\\One-off action,
               PC = P\\Continuous action

    segment  doc  range   ana        ben
    s1       D1   0-30    AC, PO     AC, PO
    s2       D1   40-70   AC, PC     AC          (ben misses PC)
    s3       D2   0-30    AC, PS
    s4       D3   0-30    PO

Every expected value below is counted by hand from this picture.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from compendium.analysis import interview_analysis as ia
from compendium.analysis import interview_findings as fnd
from compendium.data.corpus import CodedCorpus, validate_corpus
from compendium.data.labels import Labels
from compendium.errors import DataError, ParameterError

A, AC, AH = "Integration area", "Integration area\\Culture", "Integration area\\Housing"
P, PS = "Policy", "Policy\\Integration strategy"
PO, PC = "Policy\\One-off action", "Policy\\Continuous action"
CODES = [A, AC, AH, P, PS, PO, PC]
LABELS = Labels(codes={AC: {"en": "Culture", "pl": "Kultura"}})


def make_corpus() -> CodedCorpus:
    docs = pd.DataFrame(
        {
            "doc_id": ["D1", "D2", "D3", "D4"],
            "title": ["1", "2", "3", "4"],
            "position": [0, 1, 2, 3],
        }
    )
    asked = {"D1": "asked", "D2": "asked", "D3": "not asked", "D4": "asked"}
    inst = {"D1": "library", "D2": "school", "D3": "library", "D4": "school"}
    attrs = pd.DataFrame(
        [(d, "institution_type", inst[d]) for d in inst]
        + [(d, "strategy_asked", asked[d]) for d in asked],
        columns=["doc_id", "attribute", "value"],
    )
    codes = pd.DataFrame(
        {
            "code_id": CODES,
            "parent_id": [None, A, A, None, P, P, P],
            "title": [c.rsplit("\\", 1)[-1] for c in CODES],
            "description": [""] * 7,
            "level": [1, 2, 2, 1, 2, 2, 2],
            "position": list(range(7)),
        }
    )
    segs = pd.DataFrame(
        [("s1", "D1", 0, 30), ("s2", "D1", 40, 70), ("s3", "D2", 0, 30), ("s4", "D3", 0, 30)],
        columns=["segment_id", "doc_id", "start", "end"],
    ).assign(text="[synthetic] a passage long enough to quote")
    cod = pd.DataFrame(
        [
            ("s1", AC, "ana"),
            ("s1", PO, "ana"),
            ("s2", AC, "ana"),
            ("s2", PC, "ana"),
            ("s3", AC, "ana"),
            ("s3", PS, "ana"),
            ("s4", PO, "ana"),
            ("s1", AC, "ben"),
            ("s1", PO, "ben"),
            ("s2", AC, "ben"),
        ],
        columns=["segment_id", "code_id", "coder"],
    )
    return validate_corpus(CodedCorpus(docs, attrs, codes, segs, cod), "hand")


@pytest.fixture(scope="module")
def corpus() -> CodedCorpus:
    return make_corpus()


def test_subset_keeps_only_matching_documents_and_their_codings(corpus):
    sub = ia.subset(corpus, {"institution_type": ["library"]})
    assert sub.documents["doc_id"].tolist() == ["D1", "D3"]
    assert set(sub.segments["segment_id"]) == {"s1", "s2", "s4"}
    assert len(sub.codings) == 8  # ana: s1 (2), s2 (2), s4 (1); ben: s1 (2), s2 (1)
    with pytest.raises(ParameterError, match="no such descriptor"):
        ia.subset(corpus, {"city": ["Berlin"]})


def test_top_level_and_at_level_move_codings_to_their_parent(corpus):
    assert ia.top_level(corpus.codes)[PC] == P
    top = ia.at_level(corpus, "top")
    assert top.codes["code_id"].tolist() == [A, P]
    # ana on s1: AC -> A, PO -> P; the codings stay distinct per segment x code x coder
    assert sorted(top.codings.loc[top.codings["coder"] == "ana", "segment_id"]) == [
        "s1",
        "s1",
        "s2",
        "s2",
        "s3",
        "s3",
        "s4",
    ]
    with pytest.raises(ParameterError, match="code_level"):
        ia.at_level(corpus, "middle")


def test_with_primary_declared_coder_changes_counts_as_worked_by_hand(corpus):
    ana = ia.with_primary(corpus, "ana")
    ben = ia.with_primary(corpus, "ben")
    cons = ia.with_primary(corpus, "consensus")
    # PC: ana applied it on s2 (D1); ben did not; consensus keeps only shared codings
    f = {
        name: ia.qual.code_frequency(c).set_index("code_id")
        for name, c in (("ana", ana), ("ben", ben), ("cons", cons))
    }
    assert f["ana"].loc[PC, "n_segments"] == 1
    assert f["ben"].loc[PC, "n_segments"] == 0
    assert f["cons"].loc[PC, "n_segments"] == 0
    # D2 and D3 were coded by ana only, so every rule keeps them
    assert f["ben"].loc[PS, "n_documents"] == 1 and f["ben"].loc[PO, "n_documents"] == 2


def test_primary_coder_sensitivity_lists_every_rule_declared_first(corpus):
    assert ia.coding_rules(corpus) == ["ana", "ben", "consensus"]
    sens = ia.primary_coder_sensitivity(corpus, [AC, PC, PO], "ben", LABELS, "en")
    assert sens.columns.tolist() == [
        "code_id",
        "label",
        "n_ben",
        "n_ana",
        "n_consensus",
        "max_change",
    ]
    assert sens["label"].tolist() == ["Culture", "Continuous action", "One-off action"]
    assert sens["n_ben"].tolist() == [2, 0, 2]
    assert sens["n_ana"].tolist() == [2, 1, 2]
    assert sens["max_change"].tolist() == [0, 1, 0]
    assert ia.sensitivity_sentence(sens, "ben", "en") == (
        "Under another rule (ana, consensus) instead of `ben`, the number of interviews "
        "changes for 1 of 3 codes, by at most 1."
    )
    # a published table with a hidden count: that code is left out of the comparison (its
    # change, 1, would put the hidden count within 1 of the shown 0)
    shown = sens.drop(columns="max_change").astype(object)
    shown.loc[1, "n_ana"] = "x"
    assert ia.sensitivity_sentence(shown, "ben", "en") == (
        "Under another rule (ana, consensus) instead of `ben`, the number of interviews "
        "changes for 0 of 2 codes, by at most 0. Codes with a hidden count (x) are not "
        "compared: 1."
    )
    assert ia.sensitivity_sentence(shown, "ben", "pl").endswith(
        "dla 0 z 2 kodów, najwyżej o 0. Kodów z ukrytą liczbą (x) nie porównujemy: 1.")


def test_topic_asked_separates_asked_none_from_not_asked(corpus):
    got = ia.topic_asked(ia.with_primary(corpus, "ana"), PS, "strategy_asked")
    # asked in D1, D2, D4; PS coded in D2 only; not asked in D3
    assert got == {
        "asked": 3,
        "not_asked": 1,
        "unknown": 0,
        "with_code_asked": 1,
        "with_code_not_asked": 0,
    }
    with pytest.raises(ParameterError, match="no such descriptor"):
        ia.topic_asked(corpus, PS, "housing_asked")


def test_topic_asked_through_the_ledger_hides_small_groups_and_what_gives_them_back(corpus):
    from compendium.analysis.disclosure_audit import Ledger

    c = ia.with_primary(corpus, "ana")
    shown = {}
    for m in (1, 2):
        ledger = Ledger(m)
        ia.declare(ledger, c)  # publishes the number of interviews: 4
        shown[m] = ia.publish_topic_asked(ledger, c, PS, "strategy_asked", "asked")
    # min_cell 1: nothing is small, every count as counted by hand (see the test above)
    assert shown[1] == {"asked": 3, "not_asked": 1, "unknown": 0, "with_code_asked": 1,
                        "with_code_not_asked": 0}
    got = shown[2]
    # the single not-asked interview (D3) and the single asked one with the code (D2) are
    # hidden; 4 - asked would give D3's group back, so "asked" is hidden too; zeros stay
    assert got["not_asked"] is None and got["with_code_asked"] is None
    assert got["asked"] is None
    assert got["with_code_not_asked"] == 0 and got["unknown"] == 0


def test_group_size_range_shows_the_marker_for_a_hidden_group(corpus):
    from compendium.analysis.disclosure_audit import Ledger

    got = {}
    for m in (1, 2):
        ledger = Ledger(m)
        ia.declare(ledger, corpus)  # 4 interviews
        got[m] = ia.group_size_range(ledger, corpus, "strategy_asked")
    # hand-counted: 1 not asked (D3), 3 asked; at min_cell 2 the 1 is hidden and 4 - 3 would
    # give it back, so both are the marker
    assert got == {1: ("1", "3"), 2: ("x", "x")}


def test_agreement_table_and_below_threshold(corpus):
    agree = ia.agreement_table(corpus, LABELS, "en", threshold=0.6, n_boot=20, seed=1)
    row = agree.set_index("code_id")
    # units: s1, s2 (D1 only is double coded). PC: ana (0, 1), ben (0, 0): kappa 0
    assert row.loc[PC, "n_units"] == 2 and row.loc[PC, "kappa"] == pytest.approx(0.0)
    assert row.loc[PC, "flag"] == "below 0.6"
    assert {"kappa_lo", "kappa_hi", "alpha_lo", "alpha_hi"} <= set(agree.columns)
    assert A not in set(agree["code_id"]) and P not in set(agree["code_id"])  # leaves only
    assert ia.below_threshold(agree) == {PC: pytest.approx(0.0)}


def test_segmentation_table_reports_ratios_only(corpus):
    table, summary = ia.segmentation_table(corpus)
    assert table.columns.tolist() == ["doc_id", "jaccard", "boundary_match"]
    assert table["doc_id"].tolist() == ["D1"]  # ben excerpted s1 and s2: the same ranges
    assert summary["jaccard"] == 1.0 and summary["boundary_match"] == 1.0


def test_near_universal_codes_and_the_cooccurrence_mark(corpus):
    c = ia.with_primary(corpus, "ana")
    # AC in D1, D2 (2 of 4 documents); PO in D1, D3 (2 of 4); nothing reaches 3/4
    assert ia.near_universal_codes(c, [AC, PO, PC], 0.75) == []
    assert ia.near_universal_codes(c, [AC, PO, PC], 0.5) == [AC, PO]


def test_kappa_caveat_and_shown():
    low = {"Risks\\Uneven quality": 0.443182}
    assert fnd.kappa_caveat("Risks\\Uneven quality", low, 0.6, "en") == (
        " (intercoder κ = 0.44, below 0.6: read with caution)"
    )
    assert "κ = 0,44, poniżej 0,6" in fnd.kappa_caveat("Risks\\Uneven quality", low, 0.6, "pl")
    assert fnd.kappa_caveat("Risks\\Underfunding", low, 0.6, "en") == ""
    # a suppressed count reads as the neutral marker, never as a bound ("fewer than 3")
    assert ia.shown(None) == "x" and ia.shown(0) == "0" and ia.shown(17) == "17"


def test_idi_findings_count_strategy_against_interviews_asked(corpus):
    c = ia.with_primary(corpus, "ana")
    freq = ia.area_table(c, A, None, LABELS, "en", "segment")
    policy = ia.area_table(c, P, None, LABELS, "en", "segment")
    asked = ia.topic_asked(c, PS, "strategy_asked")
    out = fnd.idi_findings(
        freq, policy, 4, "en", asked=asked, low_kappa={AC: 0.5}, threshold=0.6
    )
    assert out[0] == (
        "Culture carries the most coded actions (3 actions in 2 of 4 interviews)"
        " (intercoder κ = 0.50, below 0.6: read with caution)."
    )
    assert out[1].startswith(
        "A municipal integration strategy is reported in 1 of the 3 "
        "interviews in which it was asked about; it was not asked in 1,"
    )
    assert out[2] == "2 coded actions are one-off and 1 continuous."
    assert out[3] == "No action is coded in: Housing."
    # a suppressed count (None, as the ledger gives it) is the marker, in both languages
    hidden = {**asked, "with_code_asked": None, "asked": None}
    assert "reported in x of the x interviews" in fnd.idi_findings(
        freq, policy, 4, "en", asked=hidden)[1]
    assert "wskazano w x z x wywiadów" in fnd.idi_findings(freq, policy, 4, "pl", asked=hidden)[1]


def test_city_findings_caveat_a_flagged_top_code(corpus):
    c = ia.with_primary(corpus, "ana")
    agree = pd.DataFrame(
        {
            "code_id": [AC, PO],
            "label": ["Culture", "One-off action"],
            "kappa": [0.44, 0.9],
            "flag": ["below 0.6", ""],
        }
    )
    by_city = pd.DataFrame({"code_id": [AC], "label": ["Culture"]})
    summary = {"pooled_kappa": 0.8123, "n_codes_pooled": 5, "n_codes_excluded": 2}
    out = fnd.city_findings(c, [A], by_city, None, agree, summary, "en", 0.6)
    assert out[0] == (
        "Integration area: the most widespread code is Culture, in 2 of 4 "
        "interviews (intercoder κ = 0.44, below 0.6: read with caution)."
    )
    assert out[1] == (
        "Pooled Cohen's kappa on the double-coded interviews is 0.81 (5 codes; "
        "2 not used in that subset are left out); codes below 0.6: Culture."
    )


def test_synthesis_reads_earlier_results_and_caveats_flagged_codes(tmp_path):
    (tmp_path / "02_idi_wielkopolska.json").write_text(
        json.dumps(
            {"results": {"n_interviews": 4, "area_interviews": {AC: 2, AH: 0}, "low_kappa": {}}}
        )
    )
    (tmp_path / "03_four_cities.json").write_text(
        json.dumps(
            {
                "results": {
                    "n_interviews": 10,
                    "cities": ["Berlin", "London"],
                    "kappa_threshold": 0.6,
                    "low_kappa": {"Risks\\Uneven quality": 0.44},
                    "theme_prevalence": {
                        "Risks\\Uneven quality": {"n": 6, "pct": 60.0},
                        "Risks\\Underfunding": {"n": 5, "pct": 50.0},
                        "Actors\\NGOs": {"n": 9, "pct": 90.0},
                    },
                }
            }
        )
    )
    counts = fnd.synthesis_counts(tmp_path)
    assert counts["n_idi"] == 4 and counts["n_four_cities"] == 10
    assert counts["cities"] == ["Berlin", "London"]
    side = fnd.synthesis_table(tmp_path, LABELS, Labels(), "en")
    assert side["pct"].tolist() == [50.0, 0.0, 60.0, 50.0]  # 2 of 4; actors left out
    out = fnd.synthesis_findings(side, "en", counts["low_kappa"], counts["kappa_threshold"])
    assert out[0] == (
        "Wielkopolska 2020, Integration area: Culture is the most widespread "
        "(50 % of interviews); not coded in any interview: Housing."
    )
    assert out[1] == (
        "Four cities 2022, Risks: Uneven quality is the most widespread (60 % of "
        "interviews) (intercoder κ = 0.44, below 0.6: read with caution)."
    )
    with pytest.raises(DataError, match="results of an earlier notebook are missing"):
        fnd.synthesis_counts(tmp_path / "nowhere")


def test_area_table_ranks_by_unit_and_keeps_zeros(corpus):
    c = ia.with_primary(corpus, "ana")
    t = ia.area_table(c, A, None, LABELS, "en", "interview")
    assert t["code_id"].tolist() == [AC, AH]
    assert t["n_documents"].tolist() == [2, 0] and t["n_segments"].tolist() == [3, 0]
    assert t["pct_documents"].tolist() == [50.0, 0.0]
    assert np.isfinite(t["pct_documents"]).all()
    with pytest.raises(ParameterError, match="areas"):
        ia.area_table(c, A, ["Sport"], LABELS, "en", "interview")


def test_city_findings_caveat_a_flagged_significant_theme(corpus):
    c = ia.with_primary(corpus, "ana")
    agree = pd.DataFrame(
        {"code_id": [AC], "label": ["Culture"], "kappa": [0.3], "flag": ["below 0.6"]}
    )
    tests = pd.DataFrame(
        {
            "code_id": [AC, PO],
            "label": ["Culture", "One-off action"],
            "p": [0.01, 0.5],
            "significant": [True, False],
        }
    )
    out = fnd.city_findings(
        c,
        [P],
        pd.DataFrame({"code_id": [], "label": []}),
        tests,
        agree,
        {"pooled_kappa": 0.5},
        "en",
        0.6,
    )
    assert out[1] == (
        "After Holm correction 1 of 2 tested themes differ between cities "
        "(Culture (intercoder κ = 0.30, below 0.6: read with caution))."
    )
