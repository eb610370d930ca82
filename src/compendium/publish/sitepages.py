"""The site step's pass over every published page: sidebar, search, bibliography, links.

Runs after every page exists (``python -m compendium.publish.site``). For each HTML page of
a site folder it removes what an earlier pass added (everything it inserts carries the class
``compendium-site``; the links it makes are unwrapped), then inserts

- a sidebar listing every page of the folder and its ``h2``/``h3`` sections;
- the search box, its results panel and the three search scripts (:mod:`.search`);
- a References section with the entries of ``docs/references.bib`` cited in the page, each
  citation linked to its entry (:mod:`.bibliography`);
- links from "Figure n" / "Table n" in the text to the numbered figure or table, which get
  the anchors ``figure-n`` / ``table-n`` if they have none;

sets the ``lang`` of the page's ``html`` element to its body's, and replaces the page's
Content-Security-Policy by :data:`SITE_CSP` (scripts from the site's
own folder only, still no inline script or handler). A second pass gives the same bytes.
Text taken from pages is escaped again wherever it is written (sidebar, index, search).
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from compendium.artifacts import atomic_write_text
from compendium.publish import bibliography, search
from compendium.publish.language import LANGUAGES, messages
from compendium.publish.render import CSP, escape

#: The pages' policy once the site's search scripts are in: ``script-src 'self'`` admits the
#: scripts in the site's folder, from disk (``file://``, checked in Chromium) and served; no
#: inline script and no inline handler runs (neither is listed).
SITE_CSP = CSP.replace("script-src 'none'", "script-src 'self'")
MARK = "compendium-site"
STATIC_DIR = Path(__file__).parent / "static"
#: The sidebar's, search box's and language switch's words per language (the ``site`` section
#: of the message catalogues, :func:`compendium.publish.language.messages`).
LABELS = {lang: {k: str(v) for k, v in messages(lang)["site"].items()} for lang in LANGUAGES}
#: "Figure 2", "Table 3" and their Polish forms (Rycina/Rys./Wykres, Tabela/Tabeli…).
XREF_RE = re.compile(r"\b(Figures?|Fig\.|Rycin\w*|Rys\.|Wykres\w*|Tables?|Tabel\w*)\s+(\d+)\b")
LABEL_RE = re.compile(r"^\s*(Figure|Rycina|Rys\.|Wykres|Table|Tabela)\s+(\d+)\.?\s*$")
#: Text in these elements is never turned into a link.
NO_LINK = {"a", "code", "pre", "script", "style", "title", "textarea", "label", "button",
           "summary", "h1", "h2", "h3", "h4", "h5", "h6"}
NO_LINK_CLASSES = {"jp-InputArea-editor", "jp-InputPrompt", MARK, "compendium-nav",
                   "compendium-toc"}
THUMB_PX = 360


@dataclass(frozen=True)
class Heading:
    """An ``h2``/``h3`` of a page: level, anchor and text."""

    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class SitePage:
    """A page of the site as the sidebar shows it."""

    href: str
    title: str
    headings: tuple[Heading, ...]


def kind(name: str) -> str:
    """``figure`` or ``table`` for a cross-reference word (English or Polish)."""
    return "figure" if name[:3].lower() in ("fig", "ryc", "rys", "wyk") else "table"


def text_of(tag: Tag) -> str:
    """A heading's text without nbconvert's ``¶`` anchor link."""
    return " ".join(tag.get_text(" ").replace("¶", " ").split())


def parse(html: str) -> BeautifulSoup:
    """A page as a tree (Python's own HTML parser: no extra dependency, stable output)."""
    return BeautifulSoup(html, "html.parser")


def strip(tree: BeautifulSoup) -> BeautifulSoup:
    """Remove what an earlier pass of the site step added."""
    for el in tree.select(f".{MARK}"):
        if el.name == "a":
            el.unwrap()
        else:
            el.decompose()
    tree.smooth()
    return tree


def lang_of(tree: BeautifulSoup) -> str:
    """``pl`` or ``en``: the ``lang`` of the page's body, else of its ``html`` element."""
    lang = next((el.get("lang") for el in (tree.body, tree.find("html"))
                 if el is not None and el.get("lang")), "en")
    return "pl" if str(lang).lower().startswith("pl") else "en"


class _LangTags(HTMLParser):
    """Reads the ``lang`` of the first ``html`` and ``body`` start tags, then stops."""

    class Done(Exception):
        pass

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.langs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("html", "body"):
            self.langs.setdefault(tag, dict(attrs).get("lang"))
        if tag == "body":
            raise self.Done


def lang_of_html(html: str) -> str:
    """:func:`lang_of` of a page's text without building its tree (only its head is read)."""
    reader = _LangTags()
    try:
        reader.feed(html)
        reader.close()
    except _LangTags.Done:
        pass
    lang = next((v for v in (reader.langs.get("body"), reader.langs.get("html")) if v), "en")
    return "pl" if str(lang).lower().startswith("pl") else "en"


def title_of(tree: BeautifulSoup, fallback: str) -> str:
    """The page's title: its first ``h1``, else its ``<title>``, else ``fallback``."""
    h1 = tree.find("h1")
    if h1 is not None and text_of(h1):
        return text_of(h1)
    return tree.title.get_text(strip=True) if tree.title and tree.title.string else fallback


def outline(tree: BeautifulSoup) -> tuple[Heading, ...]:
    """The page's ``h2``/``h3`` headings that have an anchor (the site's own left out)."""
    root = tree.find("main") or tree.body or tree
    out = []
    for h in root.find_all(["h2", "h3"]):
        if h.get("id") and not _in_class(h, {MARK}):
            out.append(Heading(int(h.name[1]), str(h["id"]), text_of(h)))
    return tuple(out)


def _in_class(node: object, classes: set[str]) -> bool:
    el = node if isinstance(node, Tag) else getattr(node, "parent", None)
    while el is not None and isinstance(el, Tag):
        if classes.intersection(el.get("class") or []):
            return True
        el = el.parent
    return False


def _linkable(node: NavigableString) -> bool:
    """Whether a text node is prose in ``<main>`` (not code, a link, a heading or our own)."""
    if type(node) is not NavigableString:  # comments, CDATA, doctype
        return False
    el = node.parent
    while el is not None and isinstance(el, Tag):
        if el.name in NO_LINK or NO_LINK_CLASSES.intersection(el.get("class") or []):
            return False
        if el.name == "main":
            return True
        el = el.parent
    return False


def anchor_captions(tree: BeautifulSoup) -> dict[str, str]:
    """Give each numbered figure and table caption an anchor (``figure-n``/``table-n``) if
    it has none; return ``{"figure-1": anchor, ...}``."""
    found: dict[str, str] = {}
    ids = {str(el["id"]) for el in tree.find_all(id=True)}
    for label in tree.find_all(["b", "strong"]):
        m = LABEL_RE.match(label.get_text())
        if not m:
            continue
        key = f"{kind(m.group(1))}-{m.group(2)}"
        target = label.find_parent("figure") if key.startswith("figure") else None
        target = target or label.parent
        if key in found or target is None:
            continue
        if target.get("id"):
            found[key] = str(target["id"])
        elif key in ids:  # the page already has this anchor (e.g. on the table itself)
            found[key] = key
        else:
            target["id"] = key
            ids.add(key)
            found[key] = key
    return found


Spans = dict[NavigableString, list[tuple[int, int, str, str]]]


def _replace_matches(tree: BeautifulSoup, spans: Spans) -> None:
    for node, matches in spans.items():
        text, pieces, at = str(node), [], 0
        for start, end, href, title in matches:
            if start > at:
                pieces.append(NavigableString(text[at:start]))
            a = tree.new_tag("a", href=href, attrs={"class": MARK})
            if title:
                a["title"] = title
            a.string = text[start:end]
            pieces.append(a)
            at = end
        if at < len(text):
            pieces.append(NavigableString(text[at:]))
        node.replace_with(*pieces)


def link_xrefs(tree: BeautifulSoup, anchors: dict[str, str]) -> int:
    """Link "Figure n" / "Table n" in the page's text to the anchors; return how many."""
    spans: Spans = {}
    for node in list(tree.find_all(string=XREF_RE)):
        if not _linkable(node) or LABEL_RE.match(str(node)):
            continue
        for m in XREF_RE.finditer(str(node)):
            target = anchors.get(f"{kind(m.group(1))}-{m.group(2)}")
            if target:
                spans.setdefault(node, []).append((m.start(), m.end(), f"#{target}", ""))
    _replace_matches(tree, spans)
    return sum(len(v) for v in spans.values())


def link_citations(tree: BeautifulSoup, refs: dict[str, bibliography.Reference]) -> list[str]:
    """Link every citation in the page's text to its entry; return the keys cited."""
    cited: list[str] = []
    spans: Spans = {}
    for node in list(tree.find_all(string=True)):
        if not _linkable(node):
            continue
        for c in bibliography.find_citations(str(node), refs):
            spans.setdefault(node, []).append((c.start, c.end, f"#ref-{c.keys[0]}",
                                               "; ".join(c.keys)))
            cited += [k for k in c.keys if k not in cited]
    _replace_matches(tree, spans)
    return cited


def sidebar_html(pages: list[SitePage], current: str, labels: dict[str, str]) -> str:
    """The sidebar: search box, results panel, and every page with its sections."""
    items = []
    for p in pages:
        here = p.href == current
        aria = ' aria-current="page"' if here else ""
        subs = "".join(
            f'<li class="level{h.level}"><a href="{escape(p.href)}#{escape(h.anchor)}">'
            f"{escape(h.text)}</a></li>" for h in p.headings)
        link = f'<a href="{escape(p.href)}"{aria}>{escape(p.title)}</a>'
        if subs:
            opened = " open" if here else ""
            items.append(f'<li class="page{" current" if here else ""}"><details{opened}>'
                         f"<summary>{link}</summary><ul>{subs}</ul></details></li>")
        else:
            items.append(f'<li class="page{" current" if here else ""}">{link}</li>')
    return (
        f'<nav class="{MARK} compendium-sidebar" aria-label="{escape(labels["site"])}">'
        f'<form id="compendium-search" class="compendium-search" role="search">'
        f'<label for="compendium-q">{escape(labels["search"])}</label>'
        f'<input id="compendium-q" type="search" name="q" autocomplete="off" '
        f'placeholder="{escape(labels["placeholder"])}"></form>'
        f'<div id="compendium-search-results" class="compendium-search-results" '
        f'data-none="{escape(labels["results_none"])}" data-one="{escape(labels["results_one"])}" '
        f'data-few="{escape(labels["results_few"])}" '
        f'data-many="{escape(labels["results_many"])}" aria-live="polite" hidden></div>'
        f'<input type="checkbox" id="compendium-menu" class="compendium-menu">'
        f'<label for="compendium-menu" class="compendium-menu-label">&#9776; '
        f'{escape(labels["pages"])}</label>'
        f'<ul class="compendium-pages">{"".join(items)}</ul></nav>')


SCRIPTS = ("static/minisearch.js", "search-index.js", "static/search.js")


def twin_html(href: str, labels: Mapping[str, str]) -> str:
    """The language switch: a link to the same page in the other language."""
    return (f'<p class="{MARK} compendium-lang-switch"><a href="{escape(href)}" '
            f'hreflang="{labels["twin_lang"]}" lang="{labels["twin_lang"]}" '
            f'title="{escape(labels["twin_title"])}">{escape(labels["twin"])}</a></p>')


def decorate(tree: BeautifulSoup, pages: list[SitePage], current: str,
             refs: dict[str, bibliography.Reference], twin: str | None = None) -> str:
    """One page with the site's additions (``tree`` already stripped), as HTML text;
    ``twin``: the href of the same page in the other language (a switch at the top)."""
    lang = lang_of(tree)
    labels = LABELS[lang]
    root = tree.find("html")
    if root is not None:  # nbconvert writes <html lang="en"> whatever the page's language
        root["lang"] = lang
    meta = tree.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    if meta is None and tree.head is not None:
        meta = tree.new_tag("meta", attrs={"http-equiv": "Content-Security-Policy"})
        tree.head.insert(0, meta)
    if meta is not None:
        meta["content"] = SITE_CSP
    link_xrefs(tree, anchor_captions(tree))
    cited = link_citations(tree, refs)
    main = tree.find("main") or tree.body
    if cited and main is not None:
        main.append(parse(bibliography.bibliography_html(cited, refs, labels["references"])))
    if tree.head is not None:
        style = tree.new_tag("style", attrs={"class": MARK})
        style.string = (STATIC_DIR / "site.css").read_text(encoding="utf-8")
        tree.head.append(style)
    body = tree.body or tree
    nav = body.find("header", class_="compendium-nav")
    side = parse(sidebar_html(pages, current, labels))
    switch = parse(twin_html(twin, labels)) if twin is not None else None
    if nav is not None:
        nav.insert_after(side)
        if switch is not None:
            nav.insert_after(switch)
    else:
        body.insert(0, side)
        if switch is not None:
            body.insert(0, switch)
    body_class = body.get("class") or []
    if body.name == "body" and "compendium-with-sidebar" not in body_class:
        body["class"] = [*body_class, "compendium-with-sidebar"]
    for src in SCRIPTS:
        body.append(tree.new_tag("script", src=src, attrs={"class": MARK}))
    return str(tree)


def page_order(paths: list[Path]) -> list[Path]:
    """The index first, then the numbered analyses, then any other page, by name."""
    def rank(p: Path) -> tuple[int, str]:
        return (0 if p.name == "index.html" else 1 if p.name[:1].isdigit() else 2, p.name)
    return sorted(paths, key=rank)


def site_pages(html_dir: Path) -> list[Path]:
    """The HTML pages of one site folder, in :func:`page_order`."""
    return page_order([p for p in html_dir.glob("*.html") if p.is_file()])


def thumbnail(src: str, folder: Path) -> str | None:
    """A ``data:`` PNG at most :data:`THUMB_PX` wide of a page's image (a ``data:`` PNG, or a
    PNG file the page links relative to ``folder``); None for anything else."""
    from PIL import Image

    m = re.match(r"data:image/png;base64,(.*)$", src, flags=re.S)
    if m:
        raw = base64.b64decode(m.group(1))
    elif src.lower().endswith(".png") and ":" not in src and (folder / src).is_file():
        raw = (folder / src).read_bytes()
    else:
        return None
    img = Image.open(io.BytesIO(raw))
    img.thumbnail((THUMB_PX, THUMB_PX * 2))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass(frozen=True)
class GalleryItem:
    """A figure as the index's gallery shows it: page, anchor, caption and thumbnail."""

    href: str
    page: str
    caption: str
    thumb: str


def gallery(html_dir: Path) -> list[GalleryItem]:
    """Every numbered figure of the analysis pages, in page order."""
    items = []
    for path in site_pages(html_dir):
        if not path.name[:1].isdigit():
            continue
        tree = parse(path.read_text(encoding="utf-8"))
        anchors = anchor_captions(tree)
        title = title_of(tree, path.stem)
        for fig in tree.find_all("figure"):
            img, cap = fig.find("img"), fig.find("figcaption")
            if img is None or not fig.get("id") or fig["id"] not in anchors.values():
                continue
            thumb = thumbnail(str(img.get("src", "")), html_dir)
            if thumb:
                items.append(GalleryItem(f"{path.name}#{fig['id']}", title,
                                         text_of(cap) if cap else "", thumb))
    return items


def decorate_dir(html_dir: Path, bib_path: Path | None, index_html: str | None = None,
                 twin_dir: Path | None = None) -> list[Path]:
    """Decorate every page of ``html_dir`` and write the search index and the static files;
    return the files written. ``index_html``, if given, is the new index page (else the one
    on disk); the index is written last and always (it is the target Make compares), other
    files only when their bytes change."""
    refs = bibliography.load(bib_path) if bib_path and bib_path.exists() else {}
    index = html_dir / "index.html"
    paths = site_pages(html_dir)
    if index_html is not None and index not in paths:
        paths = page_order([*paths, index])
    trees = {p.name: strip(parse(index_html if p == index and index_html is not None
                                 else p.read_text(encoding="utf-8"))) for p in paths}
    pages, docs = [], []
    for p in paths:
        tree = trees[p.name]
        title = LABELS[lang_of(tree)]["start"] if p == index else title_of(tree, p.stem)
        pages.append(SitePage(p.name, title, outline(tree)))
        docs += search.page_docs(tree, p.name, title_of(tree, p.stem))
    written = []
    for name in search.STATIC:
        written += _write(html_dir / "static" / name,
                          (STATIC_DIR / name).read_text(encoding="utf-8"))
    written += _write(html_dir / "search-index.js", search.index_js(docs))
    def twin(name: str) -> str | None:
        """The twin page's href. Both languages' sites are built from the same notebooks and
        pages, so every page has its twin; the link does not depend on which site step ran
        first (a page's bytes must not depend on the order of the build)."""
        if twin_dir is None:
            return None
        return Path(os.path.relpath(twin_dir.resolve(), html_dir.resolve())).as_posix() + \
            "/" + name

    for p in paths:
        if p != index:
            written += _write(p, decorate(trees[p.name], pages, p.name, refs, twin(p.name)))
    if index in paths:
        written.append(atomic_write_text(index, decorate(trees["index.html"], pages,
                                                         "index.html", refs,
                                                         twin("index.html"))))
    return written


def _write(path: Path, text: str) -> list[Path]:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    return [atomic_write_text(path, text)]
