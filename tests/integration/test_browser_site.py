"""The site around the pages in a real browser (Debian's Chromium driven by Playwright).

At a desktop (1366 px) and a phone (390 px) width, every page of every site folder: nothing
overflows sideways except inside a scrollable wrapper, every figure link (figures in the
pages, the index's gallery) lands on an existing file and anchor, the sidebar lists every
page of the folder; and the search box finds a word taken from a page's text (read
independently, with BeautifulSoup, from the HTML file) and links to that page — opened from
disk (``file://``) and served by Python's ``http.server`` on 127.0.0.1, with no Content
Security Policy violation or script error either way. The Polish site (``outputs/pl/html``)
is checked like the English one.

Both languages, whole pages: on every page of the Polish site no common English word or
heading is left in the text, the page's title, and its alt, title, aria-label and
placeholder attributes; on every English page no common Polish word; and every page's
language switch lands on the same page of the other site (its twin, in the other
language). Left out of the check, as data rather than the page's words: table data cells
(``td``: values from the data, e.g. the English code descriptions of the four-city Dedoose
export, or the colophon's data-set fields), quotations (``blockquote``, ``q``), code
(``code``, ``pre`` in code inputs), works cited (bibliography entries, in the language they
were written in), and passages marked as the other language with a ``lang`` attribute (the
questionnaire's and codebooks' twin texts, a library's verbatim warning message, the
language switch itself).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1366, 390)

#: Elements wider than the window that are not inside a sideways-scrollable ancestor.
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth, bad = [];
  const scrollable = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && p.clientWidth <= w) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).position === 'fixed') continue;
    if ((r.right > w + 1 || r.left < -1) && !scrollable(el))
      bad.push(el.tagName + '.' + (el.className || '').toString().slice(0, 40));
  }
  return {page: document.documentElement.scrollWidth - w, bad: bad.slice(0, 5)};
}"""




def site_dirs(built: Path) -> list[Path]:
    """``outputs/html``, any language folder under it that holds pages, and the Polish site
    ``outputs/pl/html``."""
    html = built / "outputs" / "html"
    return [html] + sorted(d for d in html.iterdir() if d.is_dir() and any(d.glob("*.html"))) \
        + [built / "outputs" / "pl" / "html"]


def ids_of(path: Path) -> set[str]:
    tree = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return {str(el["id"]) for el in tree.find_all(id=True)}


def unresolved(page: Path, hrefs: list[str]) -> list[str]:
    """The links among ``hrefs`` whose file or anchor does not exist."""
    bad = []
    for href in hrefs:
        url = urlparse(href)
        if url.scheme:
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page
        missing = not target.exists() or (
            url.fragment and target.suffix == ".html" and url.fragment not in ids_of(target))
        if missing:
            bad.append(href)
    return bad


def watch(page) -> list[str]:  # noqa: ANN001
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text[:160])
            if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)[:160]))
    return errors


def test_every_page_fits_links_its_figures_and_lists_every_page(built, browser):
    problems: dict[str, list[str]] = {}
    for folder in site_dirs(built):
        pages = sorted(folder.glob("*.html"))
        assert (folder / "index.html") in pages and len(pages) >= 5
        names = {p.name for p in pages}
        for path in pages:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                found = watch(page)
                page.goto(path.as_uri(), wait_until="load")
                got = page.evaluate(OVERFLOW)
                if got["page"] > 1 or got["bad"]:
                    found.append(f"overflow by {got['page']}px: {got['bad']}")
                hrefs = page.eval_on_selector_all(
                    "figure a[href], a[href] > img, .compendium-gallery a[href], "
                    "a[href^='#figure-'], a[href^='#table-']",
                    "els => els.map(e => (e.closest('a') || e).getAttribute('href'))")
                found += [f"figure link broken: {h}" for h in unresolved(path, hrefs)]
                if path.name == "index.html" and not page.locator(".compendium-gallery a").count():
                    found.append("index without a figure gallery")
                if width < 1000:  # the phone's menu opens the list of pages
                    page.locator(".compendium-menu-label").click()
                listed = page.eval_on_selector_all(
                    ".compendium-sidebar .compendium-pages li.page > a, "
                    ".compendium-sidebar .compendium-pages li.page > details > summary > a",
                    "els => els.filter(e => e.offsetParent !== null)"
                    ".map(e => e.getAttribute('href'))")
                if set(listed) != names:
                    found.append(f"sidebar lists {sorted(listed)}, not {sorted(names)}")
                page.close()
                if found:
                    problems[f"{path.relative_to(built)} @{width}"] = found
    assert problems == {}


def a_word_on(path: Path) -> str:
    """A long word of the page's prose (its first markdown paragraph after the title)."""
    tree = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for p in tree.select("main .jp-RenderedMarkdown p"):
        words = re.findall(r"[^\W\d_]{9,}", p.get_text())
        if words:
            return words[-1]
    raise AssertionError(f"no prose in {path}")


@pytest.fixture(scope="module")
def served(built) -> Iterator[str]:
    """The built site served by Python's http.server on 127.0.0.1 (a free port)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built / "outputs" / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("how", ["disk", "served"])
@pytest.mark.parametrize("width", WIDTHS)
def test_search_finds_a_word_of_a_page_and_links_to_it(built, browser, served, how, width):
    html = built / "outputs" / "html"
    target = sorted(html.glob("0*.html"))[-2]  # an analysis page other than the index
    word = a_word_on(target)
    base = html.as_uri() + "/" if how == "disk" else served
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = watch(page)
    page.goto(base + "index.html", wait_until="load")
    page.locator("#compendium-q").fill(word.lower())
    results = page.locator("#compendium-search-results li a")
    results.first.wait_for(timeout=5000)
    hrefs = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(h.split("#")[0] == target.name for h in hrefs), (word, hrefs)
    link = results.nth([h.split("#")[0] for h in hrefs].index(target.name))
    link.click()
    page.wait_for_load_state("load")
    assert page.url.split("#")[0].endswith("/" + target.name)
    assert word in page.locator("main").inner_text()
    # a word on no page finds nothing, and says so
    page.locator("#compendium-q").fill("qqxqzzv")
    assert page.locator("#compendium-search-results li").count() == 0
    assert page.locator(".compendium-search-count").is_visible()
    assert errors == []
    page.close()


def test_search_folds_polish_diacritics_and_shows_text_literally(tmp_path, browser):
    """On a two-page site made from hand-written pages: ``wspolpraca`` finds ``współpraca``
    (diacritics folded, ``ł`` as ``l``), and a result's text with markup in it is shown as
    text, not run."""
    from compendium.publish.render import CSP
    from compendium.publish.sitepages import decorate_dir

    def page(title: str, body: str) -> str:
        return (f'<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
                f"<title>{title}</title></head><body><main>{body}</main></body></html>")

    (tmp_path / "index.html").write_text(page("Start", "<h1>Start</h1>"), encoding="utf-8")
    (tmp_path / "01_a.html").write_text(page("A", (
        "<h1>Strona A</h1><h2 id=\"s\">Sekcja</h2><p>Współpraca gmin &lt;img src=x "
        "onerror=alert(1)&gt; z organizacjami.</p>"
        + "".join(f'<h2 id="s{i}">Część {i}</h2><p>Samorząd{" i powiat" if i < 2 else ""}.</p>'
                  for i in range(5)))), encoding="utf-8")
    decorate_dir(tmp_path, None)
    page_ = browser.new_page(viewport={"width": 390, "height": 800})
    errors = watch(page_)
    dialogs: list[str] = []
    page_.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page_.goto((tmp_path / "index.html").as_uri() + "?q=wspolpraca", wait_until="load")
    hit = page_.locator("#compendium-search-results li")
    hit.first.wait_for(timeout=5000)
    assert hit.locator("a").first.get_attribute("href") == "01_a.html#s"
    assert "<img src=x onerror=alert(1)>" in hit.first.inner_text()
    assert page_.locator("#compendium-search-results img").count() == 0
    assert page_.locator(".compendium-search label").inner_text() == "Szukaj w serwisie"
    # the count in Polish, with Polish plurals (1 wynik, 2–4 wyniki, 5+ wyników)
    assert page_.locator(".compendium-search-count").inner_text() == "1 wynik dla “wspolpraca”"
    for query, count in (("powiat", "2 wyniki"), ("samorzad", "5 wyników"),
                         ("qqxqzzv", "Brak wyników")):
        page_.locator("#compendium-q").fill(query)
        assert page_.locator(".compendium-search-count").inner_text() == \
            f"{count} dla “{query}”"
    assert errors == [] and dialogs == []
    page_.close()


#: Words and headings no Polish page may show (whole words, any case): the site's and the
#: notebooks' fixed words and the commonest English function words, which no Polish prose
#: carries.
ENGLISH = ("Table", "Figure", "Parameters", "Contents", "References", "Download", "Downloads",
           "Search", "synthetic", "Questions", "Findings", "Methods", "Questionnaire",
           "Codebook", "Article", "interviews", "answer", "Warning", "converge", "executed",
           "show", "hide", "the", "and", "of", "with", "from", "this", "is", "are", "for")
#: Polish words no English page may show.
POLISH = ("Tabela", "Rycina", "Spis", "treści", "Bibliografia", "Szukaj", "syntetyczne",
          "oraz", "się", "jest", "które", "wyniki", "badania", "notatnik", "Kwestionariusz")

#: The page's own words in its language: its text and the attributes a reader meets, with
#: what the module's doc lists as data left out.
PAGE_WORDS = """lang => {
  const body = document.body.cloneNode(true);
  const drop = 'script, style, td, blockquote, q, code, .jp-InputArea, '
    + '.compendium-bibliography li, ul.references li, [lang]:not([lang="' + lang + '"])';
  body.querySelectorAll(drop).forEach(e => e.remove());
  const attrs = [];
  body.querySelectorAll('[alt], [title], [aria-label], [placeholder]').forEach(e => {
    for (const a of ['alt', 'title', 'aria-label', 'placeholder'])
      if (e.hasAttribute(a)) attrs.push(e.getAttribute(a));
  });
  return [document.title, body.textContent, ...attrs].join(' \\n ');
}"""


def foreign_words(text: str, words: tuple[str, ...]) -> list[str]:
    """The words of ``words`` found in ``text`` as whole words (Unicode-aware), any case."""
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?!\w)",
                         re.IGNORECASE)
    return sorted({m.group(1) for m in pattern.finditer(text)})


def context(text: str, word: str) -> str:
    m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    return " ".join(text[max(0, m.start() - 60):m.end() + 60].split()) if m else ""


@pytest.mark.parametrize(("lang", "other", "words"), [("pl", "en", ENGLISH),
                                                       ("en", "pl", POLISH)])
def test_every_page_is_in_its_language_and_switches_to_its_twin(built, browser, lang, other,
                                                                 words):
    sites = {"en": built / "outputs" / "html", "pl": built / "outputs" / "pl" / "html"}
    pages = sorted(sites[lang].glob("*.html"))
    twins = {p.name for p in sites[other].glob("*.html")}
    assert len(pages) >= 9 and {p.name for p in pages} == twins
    problems: dict[str, list[str]] = {}
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = watch(page)
    for path in pages:
        found = []
        page.goto(path.as_uri(), wait_until="load")
        if page.evaluate("document.documentElement.lang") != lang:
            found.append(f"html lang is {page.evaluate('document.documentElement.lang')!r}")
        text = page.evaluate(PAGE_WORDS, lang)
        found += [f"{w!r} in “{context(text, w)}”" for w in foreign_words(text, words)]
        switch = page.locator(".compendium-lang-switch a")
        if switch.count() != 1:
            found.append(f"{switch.count()} language switches")
        else:
            switch.click()
            page.wait_for_load_state("load")
            landed = Path(unquote(urlparse(page.url).path))
            if landed != (sites[other] / path.name).resolve():
                found.append(f"switch lands on {landed}")
            elif page.evaluate("document.documentElement.lang") != other:
                found.append("the twin is not in the other language")
        if found:
            problems[path.name] = found
    page.close()
    assert problems == {}, problems
    assert errors == []
