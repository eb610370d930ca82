"""The search index's documents: the text a reader sees, section by section."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString

from compendium.publish import search
from compendium.publish.sitepages import parse, site_pages, strip, title_of

ROOT = Path(__file__).resolve().parents[2]

PAGE = """<html><body><nav class="compendium-nav">Menu <a>Home</a></nav>
<main><div class="compendium-banner">SYNTHETIC DATA</div>
<p>Intro &amp; <b>bold</b> text.</p><script>var x = 1;</script><style>p {}</style>
<div class="jp-Cell jp-CodeCell"><div class="jp-InputPrompt">In [1]:</div>
  <div class="jp-InputArea"><pre>print('code')</pre></div>
  <div class="jp-OutputArea"><div class="jp-OutputPrompt">Out[1]:</div><pre>result 42</pre></div>
</div>
<div class="jp-InputArea">not in a code cell: shown</div>
<h2 id="first">First <label>hidden</label>section<a class="anchor-link">¶</a></h2>
<p>Body one<!-- a comment --> <input value="x">and <noscript>no</noscript>more.</p>
<aside class="compendium-toc"><h2 id="toc">Contents</h2></aside>
<h2 id="second">Second</h2><p>Body two</p></main></body></html>"""


def test_a_page_is_split_at_its_headings_into_the_text_a_reader_sees():
    # hand-worked: everything SKIP names (nav, banner, scripts, styles, prompts, the code
    # cell's input, labels, inputs, noscript, the table of contents) is left out, comments too
    docs = search.page_docs(BeautifulSoup(PAGE, "html.parser"), "p.html", "Page")
    assert [(d.id, d.section, d.text) for d in docs] == [
        ("p.html", "Page", "Intro & bold text. result 42 not in a code cell: shown"),
        ("p.html#first", "First section", "Body one and more."),
        ("p.html#second", "Second", "Body two"),
    ]


def soupsieve_docs(tree: BeautifulSoup, href: str, title: str) -> list[tuple[str, ...]]:
    """Reference (the previous implementation, kept here as the oracle): the page copied,
    :data:`search.SKIP` removed with soupsieve's CSS selectors, the copy's strings split at
    ``h2``."""
    main = tree.find("main") or tree.body
    copy = BeautifulSoup(str(main), "html.parser")
    for sel in search.SKIP:
        for el in copy.select(sel):
            el.decompose()
    out, anchor, section, parts = [], "", title, []

    def flush() -> None:
        text = " ".join(" ".join(parts).replace("¶", " ").split())
        if text:
            out.append((f"{href}#{anchor}" if anchor else href, section, text))

    for node in copy.descendants:
        if getattr(node, "name", None) == "h2":
            flush()
            words = node.get_text(" ").replace("¶", " ").split()
            anchor, section, parts = node.get("id", ""), " ".join(words), []
        elif type(node) is NavigableString and node.find_parent("h2") is None:
            parts.append(str(node))
    flush()
    return out


def built_pages() -> list[Path]:
    return [p for d in (ROOT / "outputs" / "html", ROOT / "outputs" / "pl" / "html")
            if d.is_dir() for p in site_pages(d)]


def test_the_hand_made_page_matches_the_css_selector_reference():
    tree = BeautifulSoup(PAGE, "html.parser")
    assert [(d.id, d.section, d.text) for d in search.page_docs(tree, "p.html", "Page")] == \
        soupsieve_docs(tree, "p.html", "Page")


@pytest.mark.skipif(not built_pages(), reason="no built site here (make all)")
@pytest.mark.parametrize("page", built_pages(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_published_page_gives_the_css_selector_references_documents(page):
    tree = strip(parse(page.read_text(encoding="utf-8")))
    title = title_of(tree, page.stem)
    docs = search.page_docs(tree, page.name, title)
    assert docs, page.name
    assert [(d.id, d.section, d.text) for d in docs] == soupsieve_docs(tree, page.name, title)
