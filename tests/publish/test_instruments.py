"""The questionnaire page and the interview codebook pages.

Oracles: the codebook YAML read with PyYAML directly (not through our Codebook class); the
Dedoose codes export read with openpyxl directly; frequency and agreement tables written
here by hand; html.escape for every data-derived string; the index's links checked against
the files on disk.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import ROOT

from compendium.publish.instruments import (
    render_codebook,
    render_questionnaire,
    write_instruments,
)

CODEBOOK = ROOT / "data" / "codebooks" / "ops_survey.yaml"


def _norm(page: str) -> str:
    """Jinja escapes ' and " as &#39; and &#34;, html.escape as &#x27; and &quot;."""
    return page.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")


def _texts(doc: dict) -> list[dict]:
    return [*(v for v in doc["variables"] if "question" in v), *doc["groups"].values()]


def test_questionnaire_has_every_question_answer_and_route():
    doc = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    page = _norm(render_questionnaire(CODEBOOK))
    for entry in _texts(doc):
        for lang in ("pl", "en"):
            assert html.escape(entry["question"][lang]) in page, entry["question"][lang]
    for scale in doc["scales"].values():
        for lab in [*scale["codes"].values(), *scale.get("missing", {}).values()]:
            assert html.escape(lab["en"]) in page and html.escape(lab["pl"]) in page
    for var in doc["variables"]:
        if var.get("cawi"):
            assert f"<code>{html.escape(var['cawi'])}" in page, var["name"]
    # routing: one condition per routed question (a group counts once)
    routed = {v.get("group") or v["name"] for v in doc["variables"] if v.get("asked_if")}
    routed |= {g for g, spec in doc["groups"].items() if spec.get("asked_if")}
    assert page.count('class="routing"') == len(routed)


def test_questionnaire_escapes_codebook_text(tmp_path):
    doc = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    first = next(v for v in doc["variables"] if "question" in v)
    first["question"]["en"] = "Is <b>this</b> & that escaped?"
    path = tmp_path / "ops_survey.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    page = render_questionnaire(path)
    assert "Is &lt;b&gt;this&lt;/b&gt; &amp; that escaped?" in page
    assert "<b>this</b>" not in page


def _hand_tables(outputs: Path) -> None:
    tables = outputs / "tables" / "02_idi_wielkopolska"
    tables.mkdir(parents=True)
    (tables / "areas.csv").write_text(
        "code_id,label,n_documents,pct_documents,n_segments\n"
        "Integration area\\Culture,Culture,17,77.2727,41\n", "utf-8")
    (tables / "intercoder_agreement.csv").write_text(
        "code_id,label,n_units,pct_agreement,kappa,alpha,kappa_lo,kappa_hi,alpha_lo,alpha_hi,flag\n"
        "Integration area\\Culture,Culture,18,94.4,0.812,0.8,0.5,1,0.5,1,\n"
        "Integration area\\Education,Education,18,90,0.41,0.4,0,0.9,0,0.9,below 0.6\n", "utf-8")


def test_codebook_page_tree_descriptions_and_published_numbers(tmp_path):
    outputs = tmp_path / "outputs"
    _hand_tables(outputs)
    page = _norm(render_codebook("idi_wielkopolska", ROOT / "data", outputs))
    ws = openpyxl.load_workbook(ROOT / "data/raw/idi_wielkopolska/dedoose_codes.xlsx",
                                read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    titles = [r[header.index("Title")] for r in rows[1:]]
    descriptions = [r[header.index("Description")] for r in rows[1:]]
    body = re.findall(r"<tr class=\"level-\d\".*?</tr>", page, re.S)
    assert len(body) == len(titles)
    for title, desc in zip(titles, descriptions, strict=True):
        assert html.escape(title) in page and html.escape(desc) in page
    culture = next(r for r in body if ">Culture<" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", culture, re.S)
    # interviews, %, passages, kappa, alpha, flag: as written above (rounded to 2 places)
    assert cells[3:9] == ["17", "77.27", "41", "0.81", "0.80", ""]
    education = next(r for r in body if ">Education<" in r)
    assert "below 0.6" in education
    labels = yaml.safe_load((ROOT / "data/codebooks/idi_wielkopolska_labels.yaml")
                            .read_text("utf-8"))["codes"]
    assert html.escape(labels["Integration area\\Culture"]["pl"]) in culture


def test_pages_written_and_marked_when_confidential(tmp_path):
    outputs = tmp_path / "outputs"
    _hand_tables(outputs)
    data = tmp_path / "exports"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("calibration"))
    paths = write_instruments(ROOT, outputs, data, confidential=True)
    assert sorted(p.name for p in paths) == ["codebook_four_cities.html",
                                            "codebook_idi_wielkopolska.html",
                                            "questionnaire.html"]
    for p in paths:
        text = p.read_text("utf-8")
        assert "REAL DATA — confidential until the disclosure audit is checked" in text
        assert "SYNTHETIC DATA" not in text


@pytest.mark.slow
def test_index_links_the_instruments(built):
    html_dir = built / "outputs" / "html"
    index = (html_dir / "index.html").read_text("utf-8")
    for name in ("questionnaire.html", "codebook_idi_wielkopolska.html",
                 "codebook_four_cities.html", "article.html"):
        assert f'href="{name}"' in index
        assert (html_dir / name).is_file()
    assert 'href="../manifest/tables_and_programs.csv"' in index
