"""The message catalogues (``templates/messages/<lang>.yaml``) and the Polish replication pages.

Oracles: the catalogue files read with PyYAML directly; a hand-written list of English words
that no Polish text may contain and of Polish letters a Polish catalogue must use; the
English real-data banner as it was written before the catalogue existed (a literal here);
the codebook YAML and labels read with PyYAML; pages parsed with BeautifulSoup.
"""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT

from compendium.publish.language import CATALOGUES, LANGUAGES, message, messages

#: English words that no Polish fixed text may contain (whole words, any case).
ENGLISH = ("the", "and", "of", "with", "from", "for", "this", "page", "table", "figure",
           "figures", "contents", "references", "download", "downloads", "search",
           "synthetic", "question", "questions", "findings", "methods", "answer", "item",
           "column", "type", "range", "asked", "only", "missing", "rules", "article",
           "codebook", "questionnaire", "interviews", "passages", "description", "flag",
           "warning", "converge", "real", "study", "code", "below")
ENGLISH_RE = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b", re.I)
#: Keys whose Polish value is English on purpose (the switch to the English twin).
ENGLISH_ON_PURPOSE = {("site", "twin"), ("site", "twin_title"), ("site", "twin_lang")}


def _raw(lang: str) -> dict:
    return yaml.safe_load((CATALOGUES / f"{lang}.yaml").read_text(encoding="utf-8"))


def _leaves(table: dict, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_leaves(value, (*path, key)))
        else:
            out[(*path, key)] = str(value)
    return out


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_with_the_same_placeholders():
    leaves = {lang: _leaves(_raw(lang)) for lang in LANGUAGES}
    assert set(leaves["pl"]) == set(leaves["en"])
    for key, text in leaves["en"].items():
        assert _fields(leaves["pl"][key]) == _fields(text), key


def test_polish_texts_are_polish():
    leaves = _leaves(_raw("pl"))
    english = {k: ENGLISH_RE.findall(re.sub(r"<code>.*?</code>", "", v))
               for k, v in leaves.items() if k[:2] not in ENGLISH_ON_PURPOSE}
    assert {k: v for k, v in english.items() if v} == {}
    # correct Polish uses its letters: most longer texts carry at least one of them
    long = [v for v in leaves.values() if len(v) > 60]
    assert sum(bool(re.search("[ąćęłńóśźż]", v, re.I)) for v in long) >= 0.9 * len(long)


def test_message_fills_placeholders_and_messages_is_a_copy():
    assert message("pl", "article", "figure", n=3) == "Rycina 3."
    assert message("en", "codebook", "page_title", title="X") == "Codebook: X"
    copy = messages("en")
    copy["site"]["search"] = "changed"
    assert messages("en")["site"]["search"] == "Search the site"
    with pytest.raises(ValueError, match="unknown page language"):
        messages("de")


def test_english_real_data_banner_is_unchanged_and_polish_one_is_polish():
    from compendium.publish.confidential import BANNER, MARK, banner, mark_confidential

    assert BANNER == (
        '<div class="compendium-banner compendium-banner-top compendium-banner-real" '
        'role="alert" style="background:#7a0010;color:#fff"><strong>REAL DATA — confidential '
        "until the disclosure audit is checked.</strong> Nothing on this page may leave the "
        'secure environment before the <a style="color:#fff" href="../disclosure/">disclosure '
        "audit</a> has been checked and signed off.</div>")
    assert MARK == "REAL DATA — confidential until the disclosure audit is checked"
    pl = BeautifulSoup(banner("pl"), "html.parser")
    assert ENGLISH_RE.findall(pl.get_text(" ")) == []
    assert pl.a["href"] == "../disclosure/"
    page = mark_confidential('<html><body lang="pl"><p>x</p></body></html>', "pl")
    assert page == mark_confidential(page, "pl") and page.count("PRAWDZIWE DANE") == 1


def visible(html: str) -> str:
    """A page's words a reader sees as prose: without code, data cells, bibliographic entries
    (works cited, in their own language) and the passages marked as another language
    (``lang="en"``: the instruments' English twin texts)."""
    tree = BeautifulSoup(html, "html.parser")
    for el in tree(["script", "style", "code", "td"]):
        el.decompose()
    for el in tree.select('[lang="en"], .references li'):
        el.decompose()
    return tree.get_text(" ")


def _hand_tables(outputs: Path) -> None:
    tables = outputs / "tables" / "03_four_cities"
    tables.mkdir(parents=True)
    (tables / "intercoder_agreement.csv").write_text(
        "code_id,label,n_units,pct_agreement,kappa,alpha,kappa_lo,kappa_hi,alpha_lo,alpha_hi,"
        "flag\nActors\\NGOs,NGOs,18,90,0.41,0.4,0,0.9,0,0.9,below 0.6\n", "utf-8")


def test_polish_questionnaire_and_codebook_are_polish_with_the_english_marked(tmp_path):
    from compendium.publish.instruments import environment, render_codebook, render_questionnaire

    codebook = ROOT / "data" / "codebooks" / "ops_survey.yaml"
    doc = yaml.safe_load(codebook.read_text("utf-8"))
    env = environment(ROOT / "data", lang="pl")
    page = render_questionnaire(codebook, env)
    tree = BeautifulSoup(page, "html.parser")
    assert tree.body["lang"] == "pl"
    assert tree.h1.get_text() == f"Kwestionariusz: {doc['study']['title']['pl']}"
    assert ENGLISH_RE.findall(visible(page)) == []
    # every question in Polish as the heading, its English twin beside it, marked
    first = next(v for v in doc["variables"] if "question" in v)
    section = tree.select_one(f"#q-{first['name']}")
    assert first["question"]["pl"] in section.h3.get_text()
    assert section.select_one('[lang="en"]').get_text() == first["question"]["en"]
    headers = {tuple(th.get_text() for th in table.select("th"))
               for table in tree.select("table.instrument")}
    assert headers == {("kod", "odpowiedź (pl)", "odpowiedź (en)"),
                       ("kolumna (CAWI / PAPI)", "pozycja (pl)", "pozycja (en)")}

    outputs = tmp_path / "outputs"
    _hand_tables(outputs)
    page = render_codebook("four_cities", ROOT / "data", outputs, env)
    tree = BeautifulSoup(page, "html.parser")
    assert ENGLISH_RE.findall(visible(page)) == []
    labels = yaml.safe_load((ROOT / "data/codebooks/four_cities_labels.yaml")
                            .read_text("utf-8"))["codes"]
    row = next(r for r in tree.select("tr[id^=code-]") if labels["Actors\\NGOs"]["pl"] in r.text)
    cells = row.find_all("td")
    assert cells[0].get_text() == labels["Actors\\NGOs"]["pl"]
    assert cells[1]["lang"] == "en" and cells[1].get_text() == labels["Actors\\NGOs"]["en"]
    assert cells[-1].get_text() == "poniżej 0.6"  # the published flag in Polish


def test_polish_article_is_polish(tmp_path):
    from compendium.publish.article import render_article

    outputs = tmp_path / "outputs"
    (outputs / "results").mkdir(parents=True)
    (outputs / "results" / "01_ops_survey.json").write_text(
        '{"findings": ["Zdanie wniosku z wyników."]}', "utf-8")
    page = render_article(ROOT, outputs, ROOT / "data", lang="pl")
    tree = BeautifulSoup(page, "html.parser")
    assert ENGLISH_RE.findall(visible(page)) == []
    assert [h.get_text() for h in tree.select("h2")][:2] == ["Pytania badawcze", "Główne ryciny"]
    # the question is the notebook's Polish one (read here from the lang-pl cell)
    nb = yaml.safe_load((ROOT / "notebooks" / "01_ops_survey.ipynb").read_text("utf-8"))
    pl_cell = next(c for c in nb["cells"] if "lang-pl" in c["metadata"].get("tags", []))
    start = "".join(pl_cell["source"]).split("**Pytanie.**")[1].split()[:4]
    assert " ".join(start) in tree.select_one("#questions + ul li").get_text()
    assert "Zdanie wniosku z wyników." in tree.get_text()
    assert tree.select_one('ol[lang="en"]') is not None  # methods.md's English headings
    # and English stays English
    en = BeautifulSoup(render_article(ROOT, outputs, ROOT / "data"), "html.parser")
    assert [h.get_text() for h in en.select("h2")][:2] == ["Questions", "Key figures"]


def test_confidential_polish_pages_carry_the_polish_banner(tmp_path):
    from compendium.publish.instruments import write_instruments

    outputs = tmp_path / "outputs"
    _hand_tables(outputs)
    data = tmp_path / "exports"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("calibration"))
    for p in write_instruments(ROOT, outputs, data, confidential=True, lang="pl"):
        text = p.read_text("utf-8")
        assert "PRAWDZIWE DANE" in text and "REAL DATA" not in text, p.name
        assert "DANE SYNTETYCZNE" not in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_analysis_page_frame_takes_its_words_from_the_catalogue(lang):
    from nbformat.v4 import new_markdown_cell, new_notebook

    from compendium.publish.runner import Page, render_html

    nb = new_notebook(cells=[new_markdown_cell("# T\n\n## Part")],
                      metadata={"papermill": {"parameters": {"lang": lang}},
                                "language_info": {"name": "python"}})
    page = render_html(nb, Page("01_x", "T", ""), [Page("01_x", "T", "")], synthetic=True,
                       lang=lang)
    tree = BeautifulSoup(page, "html.parser")
    words = _raw(lang)["notebook"]
    nav = tree.select_one("header.compendium-nav")
    assert nav.a.get_text() == "⌂ " + words["nav_index"]
    assert nav.select_one("label").get_text() == words["toggle"]
    assert tree.select_one("#compendium-hide-code")["aria-label"] == words["hide_code"]
    banner = BeautifulSoup(words["banner"], "html.parser").get_text()
    assert tree.select_one(".compendium-banner-top").get_text() == banner
    assert tree.select_one(".compendium-toc strong").get_text() == _raw(lang)["page"]["contents"]
    if lang == "pl":
        assert ENGLISH_RE.findall(visible(str(nav)) + banner) == []
