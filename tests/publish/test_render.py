"""Rendering with hostile text: nothing from the data becomes markup on a page.

Oracle: the HTML is parsed by an independent parser (BeautifulSoup over ``html.parser``);
Markdown is first rendered by the renderer the pages use (nbconvert's mistune). The parsed
tree must hold only the elements and attributes the compendium writes, and the payload must
come back as the text (or attribute value) exactly as typed.
"""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from compendium.publish import render

PAYLOADS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<https://evil.example/>",
    "https://evil.example/ www.evil.example",
    "**bold** _em_ `code` ~~del~~ $x^2$",
    "a | b | c",
    "<!-- hidden -->",
    "&lt;script&gt; &amp; &#60;",
    "\\<b>backslash</b>",
    "# heading",
    "1. item",
    "- item",
    "=HYPERLINK(\"http://x\")",
    "<style>body{display:none}</style>",
    "<iframe src=javascript:alert(1)></iframe>",
]
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def tags(tree: BeautifulSoup) -> set[str]:
    return {el.name for el in tree.find_all(True)}


def handlers(tree: BeautifulSoup) -> list[str]:
    """Every event-handler attribute and script URL in the tree."""
    found = []
    for el in tree.find_all(True):
        for name, value in el.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on"):
                found.append(f"{el.name}[{name}]")
            if name.lower() in URL_ATTRS and re.match(
                    r"\s*(javascript|vbscript|data):", value or "", re.I) and not (
                    el.name == "img" and value.startswith("data:image/png;base64,")):
                found.append(f"{el.name}[{name}={value[:30]}]")
    return found


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_and_list_show_the_payload_literally(payload):
    tree = soup(render.text_html(payload) + render.list_html([payload, "plain"]))
    assert tags(tree) == {"p", "ul", "li"}
    assert handlers(tree) == []
    assert tree.p.get_text() == payload
    assert [li.get_text() for li in tree.find_all("li")] == [payload, "plain"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_table_cells_labels_and_index_are_escaped(payload):
    df = pd.DataFrame({payload: [payload, 1.25], "n": [3, 4]},
                      index=pd.Index([payload, "b"], name=payload))
    for index in (True, False):
        for collapsed in (False, True):
            tree = soup(render.table_html(df, index=index, uuid="t1", collapsed=collapsed))
            assert tags(tree) <= {"div", "details", "summary", "table", "thead", "tbody", "tr",
                                  "th", "td"}
            assert handlers(tree) == []
            cells = [c.get_text() for c in tree.find_all(["td", "th"])]
            # cell + column (+ row + index name)
            assert cells.count(payload) == (4 if index else 2)
            assert "1.25" in cells  # numbers formatted for reading (two decimals)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_figure_caption_and_alt_text_are_escaped(payload):
    tree = soup(render.figure_html(b"\x89PNG", 3, payload))
    assert tags(tree) == {"figure", "img", "figcaption", "b"}
    assert handlers(tree) == []
    assert tree.img["alt"] == payload
    assert tree.figcaption.get_text() == f"Figure 3. {payload}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_figure_link_and_narrow_variant_stay_inert(payload):
    tree = soup(render.figure_html(b"\x89PNG", 2, payload, href=f"../figures/{payload}.svg",
                                   narrow_png=b"\x89PNG-narrow", anchor=payload))
    assert tags(tree) == {"figure", "a", "picture", "source", "img", "figcaption", "b"}
    assert handlers(tree) == []
    assert tree.a["href"] == f"../figures/{payload}.svg" and tree.figure["id"] == payload
    assert tree.source["media"] == render.NARROW_MEDIA
    assert tree.source["srcset"].startswith("data:image/png;base64,")
    assert tree.img["alt"] == payload


def test_figure_in_polish_is_a_rycina():
    tree = soup(render.figure_html(b"\x89PNG", 4, "Podpis", lang="pl"))
    assert tree.figcaption.get_text() == "Rycina 4. Podpis"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_parameters_box_highlights_changed_values_and_escapes_them(payload):
    values = {"alpha": 0.01, "lang": "en", "cities": ["Berlin", payload], "seed": 1}
    defaults = {"alpha": 0.05, "lang": "en", "cities": ["Berlin"], "seed": 1}
    tree = soup(render.parameters_html(values, defaults))
    assert tags(tree) <= {"details", "summary", "div", "table", "thead", "tbody", "tr", "th",
                          "td", "code", "span", "p"}
    assert handlers(tree) == []
    assert tree.summary.get_text() == "Parameters of this run"
    rows = {tr.th.get_text(): tr for tr in tree.tbody.find_all("tr")}
    assert [k for k, tr in rows.items() if "changed" in (tr.get("class") or [])] == [
        "alpha", "cities"]
    assert rows["alpha"].td.get_text() == "0.01 (differs from the default: 0.05)"
    assert rows["lang"].td.get_text() == "en"
    # shown as YAML, as an author writes it in params/*.yaml: it reads back as the value
    assert yaml.safe_load(rows["cities"].td.code.get_text()) == ["Berlin", payload]


def test_facts_table_formats_numbers_and_labels_keys():
    tree = soup(render.facts_html({"n_interviews": 50, "n_segments": 827, "share": 0.5}, "en"))
    assert [(tr.th.get_text(), tr.td.get_text()) for tr in tree.find_all("tr")] == [
        ("interviews", "50"), ("segments", "827"), ("share", "0.50")]


def test_banner_escapes_the_generator_named_by_the_data():
    payload = PAYLOADS[1]
    tree = soup(render.banner_html("SYNTHETIC DATA.", payload))
    assert tags(tree) == {"div", "strong"} and handlers(tree) == []
    assert tree.div.get_text() == f"SYNTHETIC DATA. Data set: {payload}."


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_values_render_as_literal_text(payload):
    md = render.markdown_text("The **value** is {v}, n = {n}.", {"v": payload, "n": 7})
    tree = soup(markdown2html_mistune(md))
    assert tags(tree) == {"p", "strong"}  # the template's own emphasis survives
    assert handlers(tree) == []
    assert tree.p.get_text() == f"The value is {payload}, n = 7."


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "<" in p or "](" in p])
def test_markdown_built_by_an_f_string_cannot_carry_html(payload):
    # Notebooks often interpolate data into the template itself (an f-string): its markup
    # must still not become elements, and the text must read back as typed.
    md = render.markdown_text(f"Code **{payload}** is rare & p < 0.05.")
    tree = soup(markdown2html_mistune(md))
    assert tags(tree) <= {"p", "strong", "a"} and handlers(tree) == []
    # no link the template did not mean: at most a bare web address the renderer auto-links
    assert all(a["href"].startswith("https://") for a in tree.find_all("a"))
    assert "script" not in tags(tree) and "img" not in tags(tree)
    assert "rare & p < 0.05." in tree.get_text()
    if "\\" not in payload:  # a backslash is Markdown's own escape character
        assert payload in tree.get_text()


@pytest.mark.parametrize("payload", [*PAYLOADS, "two\nlines\n\n# and a heading", "tab\there"])
def test_markdown_values_stay_in_their_table_cell(payload):
    md = "| a | b |\n|---|---|\n" + f"| {render.md_code(payload)} | {render.md_escape(payload)} |"
    tree = soup(markdown2html_mistune(md))
    assert tags(tree) <= {"table", "thead", "tbody", "tr", "th", "td", "code"}
    assert handlers(tree) == []
    cells = [td.get_text() for td in tree.find_all("td")]
    assert len(cells) == 2 and all(flat(c) == flat(payload) for c in cells)
    assert all(c == payload for c in cells) or any(ch in payload for ch in "\n\t")


def test_markdown_caption_keeps_its_number_and_escapes_the_text():
    tree = soup(markdown2html_mistune(render.caption_markdown("Table", 2, PAYLOADS[2])))
    assert tags(tree) == {"p", "strong"}
    assert tree.p.get_text() == f"Table 2. {PAYLOADS[2]}"


def test_colophon_is_a_table_escaping_data_set_fields(tmp_path):
    from compendium.publish.provenance import colophon_html

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "dataset.yaml").write_text(json.dumps(
        {"kind": "synthetic", "generator": PAYLOADS[1], "seeds": PAYLOADS[6]}))
    tree = soup(colophon_html("03_four_cities", tmp_path, lang="en"))
    assert tags(tree) <= {"div", "table", "tbody", "tr", "th", "td"}
    assert handlers(tree) == []
    rows = {tr.th.get_text(): tr.td.get_text() for tr in tree.find_all("tr")}
    assert rows["generator"] == PAYLOADS[1] and rows["generator seeds"] == PAYLOADS[6]
    assert rows["notebook"] == "notebooks/03_four_cities.ipynb"
    assert rows["raw files"] == "1" and len(rows["SHA-256 of the raw files"]) == 64
    assert str(tmp_path) not in tree.get_text()  # no absolute path
    assert "parameter" not in " ".join(rows)  # the parameters are in the box at the top


def csp_directives(content: str) -> dict[str, list[str]]:
    out = {}
    for part in content.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_csp_forbids_every_script_and_inline_handler():
    d = csp_directives(render.CSP)
    assert d["script-src"] == ["'none'"] and d["default-src"] == ["'none'"]
    assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in d.get("script-src-attr", []) + d["script-src"]
    assert soup(render.csp_meta()).meta["content"] == render.CSP


@pytest.fixture(scope="module")
def notebook_page() -> BeautifulSoup:
    """A notebook page rendered by the runner's template, its outputs full of payloads."""
    from compendium.publish.runner import Page, render_html

    df = pd.DataFrame({"quote": PAYLOADS})
    outs = [new_output("display_data", {"text/html": render.table_html(df, index=False,
                                                                       uuid="t1")}),
            new_output("display_data", {"text/html": render.list_html(PAYLOADS)}),
            new_output("display_data", {"text/markdown": render.markdown_text(
                "Values: {v}", {"v": " ".join(PAYLOADS)})}),
            new_output("stream", name="stdout", text="\n".join(PAYLOADS))]
    nb = new_notebook(cells=[new_markdown_cell("# Payloads\n\n## Part"),
                             new_code_cell("show()", execution_count=1, outputs=outs)],
                      metadata={"language_info": {"name": "python",
                                                  "pygments_lexer": "ipython3"}})
    nbformat.validate(nb)
    page = Page("01_payloads", "Payloads", "")
    return soup(render_html(nb, page, [page], synthetic=True, hide_code=True))


def test_notebook_page_carries_the_csp_before_any_style(notebook_page):
    head = notebook_page.head
    meta = head.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None and meta["content"] == render.CSP
    first_style = head.find("style")
    assert first_style is None or meta.sourceline < first_style.sourceline


def test_notebook_page_has_no_script_and_no_handler(notebook_page):
    assert notebook_page.find_all("script") == []
    assert notebook_page.find_all(["svg", "iframe", "object", "embed"]) == []
    assert [h for h in handlers(notebook_page) if not h.startswith("img[src=data:image")] == []
    text = flat(notebook_page.get_text(" "))
    assert all(flat(p) in text for p in PAYLOADS)


def test_code_toggle_is_a_checkbox_checked_when_code_is_hidden(notebook_page):
    box = notebook_page.find("input", id="compendium-hide-code")
    assert box is not None and box.get("type") == "checkbox" and box.has_attr("checked")
    assert notebook_page.find("label", attrs={"for": "compendium-hide-code"}) is not None


def test_site_index_escapes_titles_summaries_findings_and_data_set_fields(tmp_path):
    from compendium.publish.site import render_index

    (tmp_path / "notebooks").mkdir()
    nb = new_notebook(cells=[new_markdown_cell(f"# {PAYLOADS[0]}")],
                      metadata={"compendium": {"summary": PAYLOADS[2]}})
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    (tmp_path / "outputs" / "results").mkdir(parents=True)
    (tmp_path / "outputs" / "results" / "01_x.json").write_text(
        json.dumps({"findings": PAYLOADS}), encoding="utf-8")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "dataset.yaml").write_text(
        json.dumps({"kind": PAYLOADS[1]}), encoding="utf-8")
    tree = soup(render_index(tmp_path, tmp_path / "outputs"))
    meta = tree.head.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None and meta["content"] == render.CSP
    assert tree.find_all(["script", "svg", "iframe", "img"]) == []
    assert handlers(tree) == []
    assert [li.get_text() for li in tree.select("ul.findings li")] == PAYLOADS
    assert tree.select_one("section.analysis h3").get_text() == PAYLOADS[0]
    assert tree.select_one("section.analysis p").get_text() == PAYLOADS[2]
    assert tree.footer.get_text().startswith(f"Data set: {PAYLOADS[1]} (")


@pytest.mark.parametrize(("lang", "banner"), [
    ("en", "SYNTHETIC DATA — illustrative, not the study's results."),
    ("pl", "DANE SYNTETYCZNE — ilustracja metody, nie wyniki badania."),
])
def test_page_hides_parameter_cells_and_shows_one_banner_in_its_language(lang, banner):
    from compendium.publish.runner import Page, render_html

    params = new_code_cell('lang = "en"', execution_count=1)
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell(f'lang = "{lang}"\noutput_dir = "outputs/.staging/01_x"',
                             execution_count=2)
    injected.metadata["tags"] = ["injected-parameters"]
    shown = new_code_cell("analysis()", execution_count=3)
    english, polish = new_markdown_cell("## Results"), new_markdown_cell("## Wyniki")
    english.metadata["tags"], polish.metadata["tags"] = ["lang-en"], ["lang-pl"]
    nb = new_notebook(cells=[new_markdown_cell("# Title"), params, injected, shown,
                             english, polish],
                      metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"},
                                "papermill": {"parameters": {"lang": lang}}})
    page = Page("01_x", "Title", "")
    tree = soup(render_html(nb, page, [page], synthetic=True))
    text = tree.get_text(" ")
    assert ".staging" not in text and 'lang = "' not in text
    assert "analysis" in text  # the other code cell is shown
    banners = tree.select(".compendium-banner")
    assert len(banners) == 1 and banners[0].strong.get_text() == banner
    headings = [h.get_text().rstrip("¶") for h in tree.find_all("h2")]
    assert headings == (["Results"] if lang == "en" else ["Wyniki"])
    assert tree.body["lang"] == lang
