"""The site step: sidebar, search index, bibliography, cross-references and the index page.

Oracles: hand-written pages and BibTeX entries with the links, anchors and texts expected
written out by hand; BibTeX entries counted by a regular expression on the file; JSON
decoded by the standard library; a second pass must give the same bytes (idempotence).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_markdown_cell, new_notebook

from compendium.publish import bibliography, sitepages
from compendium.publish.render import CSP

ROOT = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script>"
BIB = r"""
@article{smith2000,
  author  = {Smith, Jane and Doe, John},
  title   = {Counting <b>bold</b> things},
  journal = {Journal of Tests},
  year    = {2000},
  volume  = {3},
  pages   = {1--9}
}
@book{vries2008,
  author    = {de Vries, Han},
  title     = {Agreement},
  publisher = {Pub},
  year      = {2008}
}
@book{unused1999,
  author    = {Nobody, Ann},
  title     = {Never cited},
  publisher = {Pub},
  year      = {1999}
}
"""


def page(title: str, body: str, lang: str = "en") -> str:
    """A page shaped like the runner's: CSP meta, navigation header, <main>."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{title}</title></head><body class=\"compendium-page\">"
            f'<header class="compendium-nav"><a href="index.html">index</a></header>'
            f"<main>{body}</main></body></html>\n")


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    html = tmp_path / "html"
    html.mkdir()
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    (html / "index.html").write_text(page("Index", "<h1>Index</h1><h2 id=\"a\">About</h2>"),
                                     encoding="utf-8")
    (html / "01_one.html").write_text(page("One", (
        "<h1>Page one</h1><h2 id=\"method\">Method</h2>"
        "<p>As Smith &amp; Doe (2000) showed, and [vries2008; smith2000] agree; "
        "see Figure 1 and Table 2, not Figure 9.</p>"
        "<h3 id=\"detail\">Detail &lt;script&gt;alert(1)&lt;/script&gt;</h3>"
        "<figure class=\"compendium-figure\"><img alt=\"c\" src=\"data:image/png;base64,AA==\">"
        "<figcaption><b>Figure 1.</b> A caption citing Figure 1.</figcaption></figure>"
        "<p><strong>Table 2.</strong> Counts</p><table><tr><td>1</td></tr></table>"
        "<pre>Figure 1 in code [smith2000]</pre>"
        "<h2 id=\"results\">Results</h2><p>zebra findings</p>")), encoding="utf-8")
    (html / "02_two.html").write_text(page("Two", (
        "<h1>Page two</h1><p>No citation here, smith2000 bare.</p>"
        "<h2 id=\"only\">Only section</h2><p>quokka</p>")), encoding="utf-8")
    sitepages.decorate_dir(html, tmp_path / "refs.bib")
    return html


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_sidebar_lists_every_page_and_its_sections_escaped(site):
    for name in ("index.html", "01_one.html", "02_two.html"):
        tree = soup(site / name)
        links = [a["href"] for a in tree.select("nav.compendium-sidebar .compendium-pages a")]
        assert links == ["index.html", "index.html#a",
                         "01_one.html", "01_one.html#method", "01_one.html#detail",
                         "01_one.html#results", "02_two.html", "02_two.html#only"]
        current = tree.select('nav.compendium-sidebar a[aria-current="page"]')
        assert [a["href"] for a in current] == [name]
    tree = soup(site / "02_two.html")
    texts = [a.get_text() for a in tree.select("nav.compendium-sidebar .compendium-pages a")]
    assert texts[:3] == ["Start here", "About", "Page one"]
    assert f"Detail {EVIL}" in texts


def test_pages_carry_only_the_site_scripts_and_the_site_csp(site):
    for name in ("index.html", "01_one.html", "02_two.html"):
        tree = soup(site / name)
        assert [s.get("src") for s in tree.find_all("script")] == [
            "static/minisearch.js", "search-index.js", "static/search.js"]
        assert all(not s.string for s in tree.find_all("script"))
        meta = tree.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert meta["content"] == (
            "default-src 'none'; script-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:")
        assert not [el for el in tree.find_all(True)
                    if any(a.lower().startswith("on") for a in el.attrs)]
    for name in ("minisearch.js", "minisearch.LICENSE.txt", "search.js"):
        assert (site / "static" / name).read_bytes() == (
            ROOT / "src" / "compendium" / "publish" / "static" / name).read_bytes()


def test_citations_link_to_the_page_bibliography(site):
    tree = soup(site / "01_one.html")
    cites = [(a.get_text(), a["href"]) for a in tree.select('main a[href^="#ref-"]')]
    assert cites == [("Smith & Doe (2000)", "#ref-smith2000"), ("vries2008", "#ref-vries2008"),
                     ("smith2000", "#ref-smith2000")]
    items = tree.select("section.compendium-bibliography li")
    assert [li["id"] for li in items] == ["ref-smith2000", "ref-vries2008"]  # Smith < (de) Vries
    smith = items[0]
    assert smith.find("b") is None and "Counting <b>bold</b> things" in smith.get_text()
    assert "Jane Smith and John Doe" in smith.get_text()
    assert tree.find("pre").get_text() == "Figure 1 in code [smith2000]"  # code untouched
    assert soup(site / "02_two.html").select("section.compendium-bibliography") == []


def test_figure_and_table_references_link_to_their_anchors(site):
    tree = soup(site / "01_one.html")
    assert tree.find("figure")["id"] == "figure-1"
    assert tree.find("strong", string="Table 2.").parent["id"] == "table-2"
    xrefs = [(a.get_text(), a["href"]) for a in tree.select('main a[href^="#figure-"], '
                                                            'main a[href^="#table-"]')]
    assert xrefs == [("Figure 1", "#figure-1"), ("Table 2", "#table-2"),
                     ("Figure 1", "#figure-1")]  # the caption's label itself stays text
    assert "not Figure 9." in tree.get_text()


def test_search_index_holds_each_section_as_inert_ascii(site):
    raw = (site / "search-index.js").read_text(encoding="utf-8")
    prefix = "window.compendiumSearchDocs = "
    assert raw.startswith(prefix) and raw.endswith(";\n")
    assert not re.search(r"[<>&]|[^\x00-\x7f]", raw)
    docs = json.loads(raw[len(prefix):-2])
    by_href = {d["href"]: d for d in docs}
    assert by_href["01_one.html#results"]["text"] == "zebra findings"
    assert by_href["01_one.html#results"]["page"] == "Page one"
    assert by_href["02_two.html#only"]["section"] == "Only section"
    assert EVIL in by_href["01_one.html#method"]["text"]
    assert "Figure 1 in code" in by_href["01_one.html#method"]["text"]
    assert "index" not in " ".join(d["text"] for d in docs if d["href"].startswith("02"))


def test_a_second_pass_changes_no_byte(site, tmp_path):
    before = {p.name: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    written = sitepages.decorate_dir(site, tmp_path / "refs.bib")
    after = {p.name: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert written == [site / "index.html"]  # only the index, which Make compares


def test_polish_pages_get_polish_labels(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    (html / "01_x.html").write_text(page("X", "<h1>Strona</h1><h2 id=\"s\">S</h2>", "pl"),
                                    encoding="utf-8")
    sitepages.decorate_dir(html, None)
    tree = soup(html / "01_x.html")
    assert tree.select_one(".compendium-search label").get_text() == "Szukaj w serwisie"


def test_the_project_bibliography_parses_whole():
    text = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", text, flags=re.M)
    refs = bibliography.load(ROOT / "docs" / "references.bib")
    assert sorted(refs) == sorted(keys)
    assert refs["landis1977"].surname == "Landis" and refs["landis1977"].year == "1977"


@pytest.mark.parametrize(("text", "expected"), [
    ("agreement (Landis & Koch (1977)) is", ["Landis & Koch (1977)"]),
    ("pooled κ (De Vries et al. 2008), which", ["De Vries et al. 2008"]),
    ("κ łączna (De Vries i in. 2008) pomija", ["De Vries i in. 2008"]),
    ("[holm1979; cohen1960] and [nokey2000]", ["holm1979", "cohen1960"]),
    ("Landis said in 1999. In 1977 nothing", []),
])
def test_citations_found_in_prose(text, expected):
    refs = bibliography.load(ROOT / "docs" / "references.bib")
    assert [text[c.start:c.end] for c in bibliography.find_citations(text, refs)] == expected


def test_index_page_links_gallery_findings_and_downloads(tmp_path):
    from compendium.publish.site import render_index

    (tmp_path / "notebooks").mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# Survey " + EVIL)],
                      metadata={"compendium": {"summary": "sum"}})
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Cities")]),
                   tmp_path / "notebooks" / "03_y.ipynb")
    out = tmp_path / "outputs"
    for sub in ("results", "notebooks", "tables/01_x", "figures/01_x", "html"):
        (out / sub).mkdir(parents=True)
    (out / "results" / "01_x.json").write_text(json.dumps({"findings": ["f1", EVIL]}), "utf-8")
    (out / "tables" / "01_x" / "t.csv").write_text("a\n1\n", encoding="utf-8")
    (out / "figures" / "01_x" / "f.png").write_bytes(b"png")
    (out / "figures" / "01_x" / "f.svg").write_text("<svg/>", encoding="utf-8")
    (out / "notebooks" / "01_x.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "dataset.yaml").write_text("kind: synthetic\n", "utf-8")
    items = [sitepages.GalleryItem("01_x.html#figure-1", "Survey", "Cap " + EVIL,
                                   "data:image/png;base64,AA==")]
    tree = BeautifulSoup(render_index(tmp_path, out, items, out / "html"), "html.parser")
    assert tree.find("script") is None
    studies = [h.get_text() for h in tree.select("h3.study")]
    assert studies[0].startswith("Wielkopolska") and studies[1].startswith("Four cities")
    found = tree.select("#study-wielkopolska ~ section[id='01_x'] li")
    assert [li.get_text() for li in found] == [
        "f1", EVIL]
    fig = tree.select_one(".compendium-gallery a")
    assert fig["href"] == "01_x.html#figure-1" and fig.img["alt"] == "Cap " + EVIL
    order = [a["href"] for a in tree.select("#start-here ol a")]
    assert order[:3] == ["#studies", "01_x.html", "03_y.html"]
    hrefs = [a["href"] for a in tree.select(".compendium-downloads a")]
    assert "../../notebooks/01_x.ipynb" in hrefs and "../tables/01_x/t.csv" in hrefs
    assert "../figures/01_x/f.png" in hrefs and "../figures/01_x/f.svg" in hrefs
    for href in hrefs:
        if not href.endswith(".html") and "03_y" not in href:
            assert (out / "html" / href).resolve().exists(), href


def test_gallery_thumbnails_every_numbered_figure_at_360_px(tmp_path):
    import base64
    import io

    from PIL import Image

    def png(width: int, height: int) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(buf, format="PNG")
        return buf.getvalue()

    (tmp_path / "f.png").write_bytes(png(720, 480))
    inline = "data:image/png;base64," + base64.b64encode(png(200, 100)).decode()
    (tmp_path / "01_a.html").write_text(page("A", (
        f'<h1>A</h1><figure><img src="{inline}"><figcaption><b>Figure 1.</b> Small'
        '</figcaption></figure><figure><img src="f.png"><figcaption><b>Figure 2.</b> '
        f'Big {html.escape(EVIL)}</figcaption></figure><figure><img src="{inline}"></figure>')),
        "utf-8")
    items = sitepages.gallery(tmp_path)
    assert [(i.href, i.caption) for i in items] == [
        ("01_a.html#figure-1", "Figure 1. Small"), ("01_a.html#figure-2", f"Figure 2. Big {EVIL}")]
    sizes = [Image.open(io.BytesIO(base64.b64decode(i.thumb.split(",", 1)[1]))).size
             for i in items]
    assert sizes == [(200, 100), (360, 240)]  # small kept, 720 × 480 halved


def test_an_existing_anchor_is_reused_and_body_lang_counts(tmp_path):
    body = ('<h1>T</h1><p>Zob. Tabela 1.</p><p><strong>Tabela 1.</strong> Liczby</p>'
            '<table id="table-1"><tr><td>1</td></tr></table>')
    text = page("T", body).replace("<body ", '<body lang="pl" ')
    (tmp_path / "01_t.html").write_text(text, encoding="utf-8")
    sitepages.decorate_dir(tmp_path, None)
    tree = soup(tmp_path / "01_t.html")
    assert [el.name for el in tree.find_all(id="table-1")] == ["table"]  # no duplicate id
    assert [a["href"] for a in tree.select('main a[href^="#table-"]')] == ["#table-1"]
    assert tree.select_one(".compendium-menu-label").get_text() == "☰ Strony i rozdziały"


def test_index_texts_exist_in_every_language():
    import yaml

    folder = ROOT / "src" / "compendium" / "publish" / "templates" / "messages"
    tables = {lang: yaml.safe_load((folder / f"{lang}.yaml").read_text(encoding="utf-8"))
              for lang in ("en", "pl")}
    assert set(tables["en"]["index"]) == set(tables["pl"]["index"])


ENGLISH = ("Start here", "reading order", "The two studies", "Key findings", "Key numbers",
           "read the page", "executed notebook", "Figure gallery", "Downloads", "Analysis",
           "Source notebook", "Reproduce", "Data set", "SYNTHETIC DATA", "Compendium index",
           "Both studies", "Other analyses", "survey of social-assistance")


def test_polish_index_has_no_english_and_takes_titles_from_the_polish_pages(tmp_path):
    from compendium.publish.site import render_index, site_language

    (tmp_path / "notebooks").mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# English title")],
                      metadata={"compendium": {"summary": {"en": "An English summary.",
                                                           "pl": "Polskie streszczenie."}}})
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Other")],
                                metadata={"compendium": {"summary": "English only."}}),
                   tmp_path / "notebooks" / "05_z.ipynb")
    out = tmp_path / "outputs"
    (out / "html" / "pl").mkdir(parents=True)
    (out / "html" / "pl" / "01_x.html").write_text(
        page("x", "<h1>Polski tytuł</h1>").replace("<body ", '<body lang="pl" '), "utf-8")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "dataset.yaml").write_text("kind: synthetic\n", "utf-8")
    folder = out / "html" / "pl"
    assert site_language(folder) == "pl"
    text = BeautifulSoup(render_index(tmp_path, out, [], folder, "pl"), "html.parser")
    words = text.get_text(" ")
    assert [w for w in ENGLISH if w in words] == []
    assert "English only." not in words and "An English summary." not in words
    assert "Polskie streszczenie." in words
    assert text.select_one("section.analysis h3").get_text() == "Polski tytuł"
    assert text.html["lang"] == "pl"
    assert text.select_one("#study-other").get_text() == "Inne analizy"
    assert text.select_one('.compendium-downloads a[href$="01_x.ipynb"]')["href"] == (
        "../../notebooks/01_x.ipynb")


def test_a_broken_bibliography_is_named_with_its_line(tmp_path):
    from compendium.errors import DataError

    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a2000,\n  title = {T},\n  year = {2000}\n\n@book{b2001,\n"
                   "  title = {U}, year = {2001}}\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        bibliography.load(bib)
    assert str(err.value).startswith(f"file refs.bib ({bib}), row ")
    assert "not valid BibTeX" in str(err.value)


def test_each_page_links_to_its_twin_in_the_other_language(tmp_path):
    en, pl = tmp_path / "outputs" / "html", tmp_path / "outputs" / "pl" / "html"
    for folder, lang in ((en, "en"), (pl, "pl")):
        folder.mkdir(parents=True)
        (folder / "01_x.html").write_text(page("X", "<h1>X</h1>", lang), encoding="utf-8")
    sitepages.decorate_dir(pl, None, twin_dir=en)
    sitepages.decorate_dir(en, None, twin_dir=pl)
    for here, there, word in ((en, pl, "Polski"), (pl, en, "English")):
        link = soup(here / "01_x.html").select_one(".compendium-lang-switch a")
        assert link.get_text() == word
        assert (here / link["href"]).resolve() == (there / "01_x.html").resolve()
    # without a twin folder there is no switch
    sitepages.decorate_dir(en, None)
    assert soup(en / "01_x.html").select_one(".compendium-lang-switch") is None
    # a pass replaces the switch rather than adding another
    sitepages.decorate_dir(en, None, twin_dir=pl)
    sitepages.decorate_dir(en, None, twin_dir=pl)
    assert len(soup(en / "01_x.html").select(".compendium-lang-switch")) == 1


@pytest.mark.parametrize("page", [
    '<!DOCTYPE html><html lang="pl"><head><title>t</title></head><body><p>x</p></body></html>',
    '<html lang="en"><head><style>body { lang: "pl" }</style></head><body lang="pl-PL">',
    '<html><head><script>var s = "<body lang=en>";</script></head><body>',
    '<html lang="PL"><head></head><body lang="">',
    "<p>no html or body tag at all</p>",
    '<html lang=""><body><div lang="pl">a Polish passage, not the page</div></body></html>',
])
def test_a_pages_language_read_from_its_head_equals_the_parsed_trees(page: str) -> None:
    # oracle: BeautifulSoup's tree of the same text (the site step used to parse every page)
    assert sitepages.lang_of_html(page) == sitepages.lang_of(BeautifulSoup(page, "html.parser"))


def test_every_published_pages_language_read_from_its_head_equals_the_parsed_trees() -> None:
    pages = sorted((Path(__file__).resolve().parents[2] / "outputs").glob("**/html/*.html"))
    if not pages:
        pytest.skip("no built site here (make all)")
    for p in pages:
        text = p.read_text(encoding="utf-8")
        tree = BeautifulSoup(text, "html.parser")
        assert sitepages.lang_of_html(text) == sitepages.lang_of(tree), p


def test_citations_found_with_and_without_the_year_shortcut_agree() -> None:
    # oracle: each entry's author-year pattern run over the text without the year pre-check
    refs = {"a": bibliography.Reference("a", "Glaser", "1967", ""),
            "b": bibliography.Reference("b", "Łuczyńska", "2020", ""),
            "c": bibliography.Reference("c", "Nobody", "", "")}
    for text in ("as Glaser and Strauss (1967) wrote", "Luczynska 2020 and Glaser 1968",
                 "no year here, Glaser", "(Łuczyńska et al., 2020)"):
        expected = sorted((m.start(), m.end(), k) for k, r in refs.items()
                          if (pat := bibliography._author_year_re(r)) is not None
                          for m in pat.finditer(bibliography._fold(text)))
        got = [(c.start, c.end, c.keys[0]) for c in bibliography.find_citations(text, refs)]
        assert got == expected, text
