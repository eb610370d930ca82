"""The site step: the index page, then the site's pass over every page.

``python -m compendium.publish.site --root .`` writes ``outputs/html/index.html`` (a reading
order for students, the key findings of each study from ``outputs/results/<notebook>.json``,
a gallery of every figure, a download list) and then adds the sidebar, the search and the
bibliography to every page (:mod:`compendium.publish.sitepages`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from compendium.errors import CompendiumError
from compendium.publish.confidential import mark_confidential
from compendium.publish.language import messages
from compendium.publish.provenance import dataset_info, git_state
from compendium.publish.render import CSP
from compendium.publish.runner import TEMPLATES, Page, list_pages
from compendium.publish.sitepages import GalleryItem, decorate_dir, gallery

#: The two studies and the analyses (notebook-name prefixes) that belong to each; an
#: analysis matching none is listed under "Other analyses".
STUDIES = (
    ("wielkopolska", {"en": "Wielkopolska, 2020: survey of social-assistance workers and "
                            "interviews",
                      "pl": "Wielkopolska, 2020: badanie pracowników pomocy społecznej i "
                            "wywiady"}, ("01_", "02_")),
    ("four-cities", {"en": "Four cities, 2022: local welfare responses to migrants",
                     "pl": "Cztery miasta, 2022: lokalne odpowiedzi na sytuację migrantów"},
     ("03_",)),
    ("both", {"en": "Both studies side by side", "pl": "Oba badania obok siebie"}, ("04_",)),
    ("other", {"en": "Other analyses", "pl": "Inne analizy"}, ()),
)
LANGS = ("en", "pl")


def texts(lang: str) -> dict[str, Markup]:
    """The index page's fixed texts in ``lang`` (the ``index`` section of the message
    catalogue, :func:`compendium.publish.language.messages`; trusted HTML, so marked safe;
    everything else on the page is escaped), with the names of the data-set kinds."""
    table = messages(lang)
    out = {k: Markup(v) for k, v in table["index"].items()}
    out.update({f"kind_{k}": Markup(v) for k, v in table["kinds"].items()})
    return out


@dataclass(frozen=True)
class Entry:
    """One analysis as the index shows it."""

    stem: str
    title: str
    summary: str
    href: str
    findings: list[str]
    results: bool
    figures: list[str]
    tables: list[str]
    vectors: tuple[str, ...] = ()  # the figures' SVG files


@dataclass(frozen=True)
class Study:
    """A study and its analyses, as the index groups its key findings."""

    slug: str
    title: str
    entries: list[Entry]


def by_study(items: list[Entry], lang: str = "en") -> list[Study]:
    """The analyses grouped by :data:`STUDIES` (in that order), the rest under "Other"."""
    out, left = [], list(items)
    for slug, title, prefixes in STUDIES:
        mine = [e for e in left if e.stem.startswith(prefixes) or not prefixes]
        left = [e for e in left if e not in mine]
        if mine:
            out.append(Study(slug, title[lang], mine))
    return out


def _summary(root: Path, stem: str, lang: str, fallback: str) -> str:
    """The notebook's summary in ``lang`` (metadata ``compendium.summary`` as a string, or a
    mapping by language, or ``summary_<lang>``); empty if it has none in that language."""
    import nbformat

    meta = nbformat.read(root / "notebooks" / f"{stem}.ipynb", as_version=4).metadata
    meta = meta.get("compendium", {})
    value = meta.get("summary", fallback)
    if isinstance(value, dict):
        return str(value.get(lang, ""))
    if f"summary_{lang}" in meta:
        return str(meta[f"summary_{lang}"])
    return str(value) if lang == "en" else ""


def _page_title(html_dir: Path, href: str, fallback: str) -> str:
    """The published page's ``h1`` (in the run's language), else ``fallback``."""
    path = html_dir / href
    if not path.exists():
        return fallback
    from compendium.publish.sitepages import parse, title_of

    return title_of(parse(path.read_text(encoding="utf-8")), fallback)


def entries(root: Path, outputs: Path, lang: str = "en",
            html_dir: Path | None = None) -> list[Entry]:
    """Every analysis with what it published (titles from the published pages when they
    exist in ``html_dir``, so in the pages' language)."""
    out = []
    for listed in list_pages(root / "notebooks"):
        page = listed
        if html_dir is not None:
            page = Page(listed.stem, _page_title(html_dir, listed.href, listed.title),
                        _summary(root, listed.stem, lang, listed.summary))
        res_path = outputs / "results" / f"{page.stem}.json"
        res = json.loads(res_path.read_text(encoding="utf-8")) if res_path.exists() else {}
        figures = sorted(p.relative_to(outputs).as_posix()
                         for p in (outputs / "figures" / page.stem).glob("*.png"))
        tables = sorted(p.relative_to(outputs).as_posix()
                        for p in (outputs / "tables" / page.stem).glob("*.csv"))
        vectors = tuple(sorted(p.relative_to(outputs).as_posix()
                               for p in (outputs / "figures" / page.stem).glob("*.svg")))
        out.append(Entry(page.stem, page.title, page.summary, page.href,
                         res.get("findings", []), res_path.exists(), figures, tables, vectors))
    return out


def render_index(root: Path, outputs: Path, figures: list[GalleryItem] | None = None,
                 html_dir: Path | None = None, lang: str = "en", data_dir: Path | None = None,
                 confidential: bool = False) -> str:
    """The index page's HTML in ``lang`` (``figures``: the gallery; links are relative to
    ``html_dir``, whose pages give the analyses' titles; ``confidential``: built from real
    data, marked as such)."""
    # autoescape: titles, summaries, findings and data-set fields come from files and data
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "site"),
                             autoescape=True, keep_trailing_newline=True)
    data = dataset_info(data_dir or root / "data")
    pages = entries(root, outputs, lang, html_dir)
    html_dir = html_dir or outputs / "html"
    html = env.get_template("index.html.j2").render(
        lang=lang,
        t=texts(lang),
        pages=pages,
        studies=by_study(pages, lang),
        gallery=figures or [],
        out=_rel(outputs, html_dir),
        src=_rel(root / "notebooks", html_dir),
        synthetic=data.get("kind") == "synthetic" and not confidential,
        data=data,
        git=git_state(root),
        css=(TEMPLATES / "compendium" / "compendium.css").read_text(encoding="utf-8"),
        csp=CSP,
    )
    return mark_confidential(html, lang) if confidential else html


def _rel(target: Path, start: Path) -> str:
    """``target`` relative to ``start`` as a URL prefix ending in ``/``."""
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix() + "/"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.site", description=__doc__)
    ap.add_argument("--root", default=".")
    ap.add_argument("--outputs", default=None)
    ap.add_argument("--data", default=None, help="data folder (default ROOT/data)")
    ap.add_argument("--confidential", action="store_true", help="mark pages as real data")
    ap.add_argument("--twin", default=None,
                    help="the output folder of the same site in the other language (its "
                         "html/ pages get a language switch to and from these)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    outputs = Path(args.outputs) if args.outputs else root / "outputs"
    data_dir = Path(args.data) if args.data else None
    # The replication package first (list of tables and programs, instruments, article page),
    # so that the pass over every page below gives them the sidebar and search too.
    from compendium.publish.article import write_article
    from compendium.publish.catalogue import write_catalogue
    from compendium.publish.instruments import write_instruments

    html = outputs / "html"
    lang = site_language(html)  # the analysis pages' language: the whole site's
    extra = [write_catalogue(outputs),
             *write_instruments(root, outputs, data_dir, args.confidential, lang),
             write_article(root, outputs, data_dir, args.confidential, lang)]
    for p in extra:
        print(f"[compendium] published {p}")
    bib = root / "docs" / "references.bib"
    # a site per folder of pages: outputs/html and any language folder under it
    folders = [d for d in sorted(html.iterdir()) if d.is_dir() and any(d.glob("[0-9]*.html"))]
    try:
        for folder in [*folders, html]:
            index = render_index(root, outputs, gallery(folder), folder, site_language(folder),
                                 data_dir, args.confidential)
            twin = Path(args.twin) / "html" / folder.relative_to(html) if args.twin else None
            decorate_dir(folder, bib, index, twin if twin is not None and twin.is_dir()
                         else None)
            print(f"[compendium] published {folder / 'index.html'} and the site around it")
    except CompendiumError as exc:
        print(f"\n*** site step failed: {exc}\n", file=sys.stderr)
        return 1
    return 0


def site_language(folder: Path) -> str:
    """The language of a folder's analysis pages (``<body lang>``), English if none says."""
    from compendium.publish.sitepages import lang_of_html

    langs = sorted(lang_of_html(p.read_text(encoding="utf-8"))
                   for p in sorted(folder.glob("[0-9]*.html")))
    return max(LANGS, key=langs.count) if langs else "en"


if __name__ == "__main__":
    raise SystemExit(main())
