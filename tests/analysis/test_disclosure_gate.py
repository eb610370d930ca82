"""The gate in the notebook's Report and the quote screen in the build: an artefact that did
not pass disclosure control is refused; a transcript with personal data is published redacted.

Oracles: hand-made frames and figures, and a hand-written excerpt with a name, an e-mail and a
phone number planted in the shipped IDI corpus."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from compendium.analysis import interview_analysis as ia
from compendium.analysis.disclosure_audit import DisclosureError, Ledger
from compendium.publish import plots
from compendium.publish.notebook import Report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def report(tmp_path) -> Report:
    return Report(notebook="99_test", params=SimpleNamespace(output_dir=str(tmp_path),
                                                             min_cell=3, lang="en"))


def test_a_table_that_skipped_the_gate_is_refused(report, tmp_path):
    raw = pd.DataFrame({"label": ["a", "b"], "n": [10, 12]})
    with pytest.raises(DisclosureError, match="did not pass the disclosure gate"):
        report.table(raw, "raw", "Raw")
    assert not (tmp_path / "tables" / "99_test" / "raw.csv").exists()


@pytest.mark.parametrize("tag", ["rules", "exempt:", "suppressed somehow"])
def test_a_table_with_a_tag_other_than_the_ledger_or_a_reason_is_refused(report, tmp_path, tag):
    # one gate: the old per-table rules ("rules") no longer pass, nor a reason left empty
    table = pd.DataFrame({"label": ["a", "b"], "n": [10, 12]})
    table.attrs["sdc"] = tag
    with pytest.raises(DisclosureError, match="expected 'ledger'"):
        report.table(table, "tagged", "Tagged")
    assert not (tmp_path / "tables" / "99_test" / "tagged.csv").exists()


def test_a_declared_exemption_is_published_and_recorded_with_its_reason(report, tmp_path):
    table = pd.DataFrame({"term": ["a"], "estimate": [0.4]})
    table.attrs["sdc"] = "model: 40 residual degrees of freedom (>= 10)"
    report.table(table, "model", "Model", show=False)
    audit = json.loads((tmp_path / "disclosure" / "99_test.json").read_text("utf-8"))
    assert audit["checks"] == [{"artefact": "table 'model'", "rule": "declared",
                                "detail": "model: 40 residual degrees of freedom (>= 10)"}]


def test_a_figure_drawn_from_unprotected_data_is_refused(report):
    raw = pd.DataFrame({"label": ["a", "b"], "pct": [10.0, 12.0]})
    with pytest.raises(DisclosureError, match="not drawn by a gated"):
        report.figure(plots.ranked_bars(raw, "label", "pct"), "bars", "Bars")


def test_results_refuse_small_counts_unless_declared_not_counts(report, tmp_path):
    with pytest.raises(DisclosureError, match="below min_cell=3"):
        report.result(per_city={"Berlin": 2, "London": 12})
    report.result(per_city={"Berlin": None, "London": 12},
                  agreement={"n_codes_below": 2}, not_counts={"agreement": "codes, not people"})
    saved = json.loads((tmp_path / "results" / "99_test.json").read_text("utf-8"))
    assert saved["results"]["per_city"] == {"Berlin": None, "London": 12}
    audit = json.loads((tmp_path / "disclosure" / "99_test.json").read_text("utf-8"))
    assert audit["checks"][0]["artefact"] == "results/agreement"


def test_a_planted_name_email_and_phone_are_redacted_in_the_framework_and_counted(tmp_path):
    from compendium.data.dedoose import read_dedoose
    from compendium.data.labels import load_labels

    raw = ROOT / "data" / "raw" / "idi_wielkopolska"
    corpus = read_dedoose(raw / "dedoose_excerpts.xlsx", raw / "dedoose_codes.xlsx")
    planted = ("Rozmawiałam z Janem Nowakiem, jan.nowak@gmina.pl, tel. 601 234 567, "
               "o kursie języka.")
    corpus = replace(corpus, segments=corpus.segments.assign(text=planted))
    labels = load_labels(ROOT / "data" / "codebooks" / "idi_wielkopolska_labels.yaml")
    ledger = Ledger(3)
    ia.declare(ledger, corpus)
    fw = ia.framework(corpus, "Integration area", ["Culture", "Education"], "institution_type",
                      labels, "en", 1, 2020, ledger, "framework_matrix", names=["Nowak", "Jan"])
    text = " ".join(fw.to_numpy().ravel().astype(str))
    assert "Nowak" not in text and "@" not in text and "601 234 567" not in text
    assert "Rozmawiałam z [name] [name], [e-mail], tel. [phone], o kursie języka." in text
    n_quotes = text.count("Rozmawiałam")
    assert fw.attrs["redactions"] == {"name": 2 * n_quotes, "e-mail": n_quotes,
                                      "phone": n_quotes}
    note = ledger.audit()["checks"][0]
    assert note["rule"] == "quote screen" and "'e-mail': " in note["detail"]
    strict = Ledger(3)
    ia.declare(strict, corpus)
    with pytest.raises(DisclosureError, match="personal data"):
        ia.framework(corpus, "Integration area", ["Culture"], "institution_type", labels, "en",
                     1, 2020, strict, "fw", names=["Nowak"], on_hit="stop")
