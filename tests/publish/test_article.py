"""The article page: generated from the results, every finding and figure linked to a cell.

Oracles: results files written here by hand (their sentences must appear, escaped, and
nothing typed may take their place); on the built site, the results JSON files, the
``id="cell-id=..."`` anchors nbconvert wrote into the notebook pages and the files on disk
(every link of the article must resolve); the standard library's HTML parser.
"""

from __future__ import annotations

import base64
import html
import json
import re
from html.parser import HTMLParser

import pytest
from conftest import ROOT

from compendium.publish.article import bibliography, render_article


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.findings: list[str] = []
        self._in_findings = 0
        self._li: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("a", "img"):
            self.links.append((tag, a.get("href") or a.get("src") or ""))
        if tag == "ul" and "findings" in (a.get("class") or ""):
            self._in_findings += 1
        if tag == "li" and self._in_findings:
            self._li = []

    def handle_endtag(self, tag):
        if tag == "ul" and self._in_findings:
            self._in_findings -= 1
        if tag == "li" and self._li is not None:
            self.findings.append("".join(self._li).strip())
            self._li = None

    def handle_data(self, data):
        if self._li is not None:
            self._li.append(data)


def _parse(page: str) -> _Links:
    p = _Links()
    p.feed(page)
    return p


def test_findings_come_from_the_results_files(tmp_path):
    outputs = tmp_path / "outputs"
    (outputs / "results").mkdir(parents=True)
    sentence = "Exactly 4321 of 9876 <respondents> & more said so."
    (outputs / "results" / "01_ops_survey.json").write_text(
        json.dumps({"findings": [sentence]}), "utf-8")
    page = render_article(ROOT, outputs)
    parsed = _parse(page)
    assert parsed.findings == [sentence]
    assert html.escape(sentence, quote=False) in page
    # no other notebook has results here: no other finding is typed in
    assert "4321" in page and len(parsed.findings) == 1
    assert "<respondents>" not in page


def test_bibliography_lists_every_entry():
    bib = (ROOT / "docs" / "references.bib").read_text("utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    lines = bibliography(ROOT / "docs" / "references.bib")
    assert len(lines) == len(keys) > 0
    assert any("Cohen, Jacob (1960). A Coefficient of Agreement for Nominal Scales." in x
               for x in lines)


@pytest.mark.slow
def test_built_article_links_every_finding_and_figure_to_a_cell(built):
    out = built / "outputs"
    page_path = out / "html" / "article.html"
    page = page_path.read_text("utf-8")
    parsed = _parse(page)
    expected = [f for res in sorted((out / "results").glob("*.json"))
                for f in json.loads(res.read_text("utf-8")).get("findings", [])]
    assert parsed.findings == expected
    figures = [src for tag, src in parsed.links if tag == "img"]
    assert 3 <= len(figures) <= 5
    pngs = {p.read_bytes() for p in (out / "figures").rglob("*.png")}
    for src in figures:  # embedded (the pages allow data: images only): a published PNG
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) in pngs
    cell_links = [h for tag, h in parsed.links if tag == "a" and "#cell-id=" in h]
    assert len(cell_links) >= len(expected) + len(figures)
    local = [h for tag, h in parsed.links if tag == "a" and not h.startswith(("https:", "http:"))]
    for href in local:  # the references the site step adds may link a DOI outside
        target, _, anchor = href.partition("#")
        target_path = page_path.parent / target if target else page_path
        assert target_path.exists(), href
        if anchor:
            assert f'id="{anchor}"' in target_path.read_text("utf-8"), href
    assert 'href="../../docs/methods.md"' in page
    assert "Synthetic data." in page


def test_article_uses_no_typed_numbers_in_its_template():
    template = (ROOT / "src/compendium/publish/templates/site/article.html.j2").read_text()
    text = re.sub(r"\{[{%].*?[%}]\}", "", template)  # drop Jinja expressions
    text = re.sub(r"<[^>]+>", " ", text)  # and tags
    assert not re.findall(r"\d", text.replace("docs/methods.md", ""))
