"""The synthetic interview corpora: calibration facts, reader agreement, byte determinism."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import binom
from statsmodels.stats.inter_rater import cohens_kappa

from compendium.data.corpus import attributes_wide, primary_codings
from compendium.data.dedoose import read_dedoose
from compendium.data.qdpx import read_qdpx
from compendium.data.sources import RAW_FILES, files_of
from compendium.errors import ParameterError
from compendium.synthetic import interviews

STUDIES = ("idi_wielkopolska", "four_cities")


def exported(source: str, role: str) -> str:
    """A raw export's path under the raw folder, from the declared map of sources."""
    return files_of(source, "")[role].as_posix().removeprefix("raw/")


# The interview exports in the order the generator writes them (the declared map's order).
FILES = [f.path.removeprefix("raw/") for f in RAW_FILES
         if f.source in STUDIES and f.path.startswith("raw/")]


@pytest.fixture(scope="module")
def calibration(project_root) -> dict:
    text = (project_root / "data/calibration/interviews.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def raw(tmp_path_factory, calibration) -> Path:
    out = tmp_path_factory.mktemp("raw")
    written = interviews.write(out, calibration, seed=calibration["seed"])
    assert [p.relative_to(out).as_posix() for p in written] == FILES
    return out


@pytest.fixture(scope="module")
def idi(raw):
    s = "idi_wielkopolska"
    return read_dedoose(raw / exported(s, "excerpts"), raw / exported(s, "codes"))


@pytest.fixture(scope="module")
def four(raw):
    s = "four_cities"
    return read_dedoose(raw / exported(s, "excerpts"), raw / exported(s, "codes"))


def _doc_codes(corpus) -> pd.DataFrame:
    return primary_codings(corpus).merge(corpus.segments[["segment_id", "doc_id"]])


def _double_coded(corpus) -> list[str]:
    cod = corpus.codings.merge(corpus.segments[["segment_id", "doc_id"]])
    per_doc = cod.groupby("doc_id")["coder"].nunique()
    return sorted(per_doc[per_doc > 1].index)


def test_four_cities_dedoose_and_qdpx_exports_read_as_identical_tables(raw, four):
    from_qdpx = read_qdpx(raw / exported("four_cities", "qdpx"))
    for name, table in four.tables().items():
        pd.testing.assert_frame_equal(from_qdpx.tables()[name], table, obj=name)


def test_generation_is_byte_identical_when_repeated(tmp_path, raw, calibration):
    interviews.write(tmp_path, calibration, seed=calibration["seed"])
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (raw / name).read_bytes(), name


def test_committed_raw_interview_files_equal_a_fresh_generation(project_root, raw):
    for name in FILES:
        committed = project_root / "data/raw" / name
        assert committed.read_bytes() == (raw / name).read_bytes(), name


def test_zip_entries_carry_the_study_year_end_as_their_time(raw):
    with zipfile.ZipFile(raw / exported("idi_wielkopolska", "excerpts")) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2020, 12, 31, 0, 0, 0)}
        assert b"2020-12-31T00:00:00Z</dcterms:modified>" in zf.read("docProps/core.xml")
    with zipfile.ZipFile(raw / exported("four_cities", "qdpx")) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2022, 12, 31, 0, 0, 0)}


def test_idi_corpus_has_22_interviews_with_both_descriptors(idi):
    assert idi.documents["doc_id"].tolist() == [f"IDI_{i:02d}" for i in range(1, 23)]
    wide = attributes_wide(idi)
    assert set(wide["municipality_type"]) == {"urban", "rural", "urban-rural"}
    assert set(wide["institution_type"]) == {
        "municipal office", "library", "culture centre", "school", "other municipal institution",
    }  # fmt: skip
    assert wide.notna().all().all()


def test_idi_strategy_asked_descriptor_follows_the_calibrated_share(idi, calibration):
    # "asked, none" must be distinguishable from "not asked": a per-interview descriptor
    wide = attributes_wide(idi)
    share = calibration["idi_wielkopolska"]["topics_asked"]["strategy_asked"]
    counts = wide["strategy_asked"].value_counts()
    assert set(counts.index) == {"asked", "not asked"}
    assert counts["asked"] == round(share * len(wide))  # largest remainder on 22: 16.94 -> 17


def test_idi_culture_has_clearly_the_most_actions(idi):
    areas = _doc_codes(idi)
    areas = areas.loc[areas["code_id"].str.startswith("Integration area\\"), "code_id"]
    counts = areas.value_counts()
    assert counts.index[0] == "Integration area\\Culture"
    assert counts.iloc[0] >= 1.5 * counts.iloc[1]


def test_idi_housing_healthcare_and_strategy_are_in_the_codebook_but_never_applied(idi):
    never = {
        "Integration area\\Housing",
        "Integration area\\Healthcare",
        "Policy\\Integration strategy",
    }
    assert never <= set(idi.codes["code_id"])
    assert not set(idi.codings["code_id"]) & never


def test_idi_each_action_has_one_area_and_mostly_is_one_off(idi):
    cod = _doc_codes(idi)
    parent = cod["code_id"].str.split("\\").str[0]
    per_seg = (
        cod.assign(parent=parent).groupby(["segment_id", "parent"]).size().unstack(fill_value=0)
    )
    assert (per_seg["Integration area"] == 1).all()
    assert (per_seg["Policy"] == 1).all()
    policy = cod.loc[parent == "Policy", "code_id"].value_counts(normalize=True)
    assert policy["Policy\\One-off action"] > 0.6


def test_idi_three_to_five_interviews_are_double_coded(idi):
    assert 3 <= len(_double_coded(idi)) <= 5


def test_four_cities_has_50_interviews_across_4_cities_and_3_respondent_types(four):
    wide = attributes_wide(four)
    assert len(wide) == 50
    per_city = wide["city"].value_counts()
    assert sorted(per_city.index) == ["Berlin", "London", "New York", "Stockholm"]
    assert per_city.between(12, 13).all()
    assert (pd.crosstab(wide["city"], wide["respondent_type"]) > 0).all().all()
    assert wide["respondent_type"].nunique() == 3


def test_four_cities_double_codes_16_percent_by_two_coders(four):
    share = len(_double_coded(four)) / len(four.documents)
    assert share == pytest.approx(0.16)
    assert 0.10 <= share <= 0.25
    assert sorted(set(four.codings["coder"])) == ["coder_A", "coder_B"]


def test_four_cities_local_actors_are_the_most_discussed(four):
    cod = _doc_codes(four)
    actors = cod.loc[cod["code_id"].str.startswith("Actors\\"), "code_id"].value_counts()
    assert set(actors.index[:3]) == {
        "Actors\\Local administration", "Actors\\NGOs", "Actors\\Local community",
    }  # fmt: skip


def test_four_cities_every_quality_and_risk_appears_in_most_interviews(four):
    cod = _doc_codes(four)
    share = cod.groupby("code_id")["doc_id"].nunique() / len(four.documents)
    for code in four.codes["code_id"]:
        if code.startswith(("Qualities\\", "Risks\\")):
            assert share[code] > 0.5, code


def test_four_cities_segments_often_pair_an_actor_with_a_quality_or_risk(four):
    cod = _doc_codes(four)
    groups = cod.assign(g=cod["code_id"].str.split("\\").str[0]).groupby("segment_id")["g"]
    both = groups.agg(lambda g: "Actors" in set(g) and bool({"Qualities", "Risks"} & set(g)))
    assert both.mean() > 0.4


def test_four_cities_codes_vary_between_cities(four):
    cod = _doc_codes(four).merge(attributes_wide(four).reset_index(), on="doc_id")
    share = pd.crosstab(cod["code_id"], cod["city"], normalize="columns")
    spread = share.max(axis=1) / share.min(axis=1)
    assert (spread > 1.5).sum() >= 3


def test_four_cities_agreement_is_high_except_for_the_deliberately_noisy_codes(four, calibration):
    noisy = {k for k in calibration["four_cities"]["second_coder"] if "\\" in k}
    # on the ranges both coders excerpted (boundary differences are tested apart)
    by_coder = four.codings.groupby("segment_id")["coder"].nunique()
    segs = pd.Series(sorted(by_coder[by_coder == 2].index))
    kappas = {}
    for code in four.codes["code_id"]:
        by = four.codings[four.codings["code_id"] == code]
        a = segs.isin(by.loc[by["coder"] == "coder_A", "segment_id"]).to_numpy()
        b = segs.isin(by.loc[by["coder"] == "coder_B", "segment_id"]).to_numpy()
        if a.any() or b.any():
            table = np.zeros((2, 2))
            np.add.at(table, (a.astype(int), b.astype(int)), 1)
            kappas[code] = cohens_kappa(table, return_results=False)
    assert all(0.3 <= kappas[c] <= 0.7 for c in noisy), kappas
    assert all(k > 0.8 for c, k in kappas.items() if c not in noisy), kappas


def test_second_coder_cuts_about_the_calibrated_share_of_excerpts_differently(
    idi, four, calibration
):
    for corpus, name in ((idi, "idi_wielkopolska"), (four, "four_cities")):
        share = calibration[name]["second_coder"]["boundary"]
        cod = corpus.codings.merge(corpus.segments[["segment_id", "doc_id", "start"]])
        cod = cod[cod["doc_id"].isin(_double_coded(corpus))]
        ranges = cod.groupby("coder")["segment_id"].agg(set)
        a, b = ranges["coder_A"], ranges["coder_B"]
        assert len(a) == len(b)  # both coders excerpt every answer once
        moved = len(a ^ b) / 2  # each differently cut excerpt gives one range per coder
        # within the central 99.9 % of Binomial(excerpts, share)
        lo, hi = binom.ppf([0.0005, 0.9995], len(a), share)
        assert lo <= moved <= hi and moved > 0, (name, moved, len(a))
        # a differently cut excerpt still starts where the other coder's does
        starts = cod.groupby("coder")["start"].agg(set)
        assert starts["coder_A"] == starts["coder_B"]


def test_texts_are_flagged_synthetic_and_hold_no_contact_details(raw, idi, four):
    for corpus in (idi, four):
        assert corpus.segments["text"].str.startswith("[synthetic] ").all()
    with zipfile.ZipFile(raw / exported("four_cities", "qdpx")) as zf:
        texts = [zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("sources/")]
    assert len(texts) == 50
    contact = re.compile(r"@|https?://|www\.|\+?\d[\d ()-]{6,}\d")
    assert not any(contact.search(t) for t in texts)
    assert not any(contact.search(t) for t in idi.segments["text"])


def test_scale_multiplies_the_number_of_interviews(calibration):
    seed = calibration["seed"]
    idi = interviews.build_idi(calibration["idi_wielkopolska"], seed, 3)
    four = interviews.build_four_cities(calibration["four_cities"], seed, 3)
    assert len(idi.titles) == 66
    assert len(four.titles) == 150
    assert np.bincount([d for d, *_ in four.rows]).size == 150


def test_write_refuses_a_scale_below_one(tmp_path, calibration):
    with pytest.raises(ParameterError, match=r"parameter 'scale': must be a whole number >= 1"):
        interviews.write(tmp_path, calibration, seed=1, scale=0)
