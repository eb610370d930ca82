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
from dataclasses import dataclass
from pathlib import Path

import jinja2

from compendium.publish.provenance import dataset_info, git_state
from compendium.publish.render import CSP
from compendium.publish.runner import TEMPLATES, list_pages
from compendium.publish.sitepages import GalleryItem, decorate_dir, gallery

#: The two studies and the analyses (notebook-name prefixes) that belong to each; an
#: analysis matching none is listed under "Other analyses".
STUDIES = (
    ("wielkopolska", "Wielkopolska, 2020: survey of social-assistance workers and interviews",
     ("01_", "02_")),
    ("four-cities", "Four cities, 2022: local welfare responses to migrants", ("03_",)),
    ("both", "Both studies side by side", ("04_",)),
)


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


def by_study(items: list[Entry]) -> list[Study]:
    """The analyses grouped by :data:`STUDIES` (in that order), the rest under "Other"."""
    out, left = [], list(items)
    for slug, title, prefixes in STUDIES:
        mine = [e for e in left if e.stem.startswith(prefixes)]
        left = [e for e in left if e not in mine]
        if mine:
            out.append(Study(slug, title, mine))
    if left:
        out.append(Study("other", "Other analyses", left))
    return out


def entries(root: Path, outputs: Path) -> list[Entry]:
    """Every analysis with what it published."""
    out = []
    for page in list_pages(root / "notebooks"):
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
                 html_dir: Path | None = None) -> str:
    """The index page's HTML (``figures``: the gallery; links are relative to ``html_dir``)."""
    # autoescape: titles, summaries, findings and data-set fields come from files and data
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "site"),
                             autoescape=True, keep_trailing_newline=True)
    data = dataset_info(root / "data")
    html_dir = html_dir or outputs / "html"
    pages = entries(root, outputs)
    return env.get_template("index.html.j2").render(
        pages=pages,
        studies=by_study(pages),
        gallery=figures or [],
        out=_rel(outputs, html_dir),
        src=_rel(root / "notebooks", html_dir),
        synthetic=data.get("kind") == "synthetic",
        data=data,
        git=git_state(root),
        css=(TEMPLATES / "compendium" / "compendium.css").read_text(encoding="utf-8"),
        csp=CSP,
    )


def _rel(target: Path, start: Path) -> str:
    """``target`` relative to ``start`` as a URL prefix ending in ``/``."""
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix() + "/"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.site", description=__doc__)
    ap.add_argument("--root", default=".")
    ap.add_argument("--outputs", default=None)
    args = ap.parse_args(argv)
    root = Path(args.root)
    outputs = Path(args.outputs) if args.outputs else root / "outputs"
    html_dir = outputs / "html"
    index = render_index(root, outputs, gallery(html_dir), html_dir)
    bib = root / "docs" / "references.bib"
    for sub in sorted(d for d in html_dir.iterdir() if d.is_dir() and any(d.glob("*.html"))):
        decorate_dir(sub, bib)  # a site per language folder, if the pages are published so
    decorate_dir(html_dir, bib, index)
    print(f"[compendium] published {html_dir / 'index.html'} and the site around it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
