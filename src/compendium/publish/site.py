"""The site index: ``outputs/html/index.html`` listing every analysis with its key numbers.

``python -m compendium.publish.site --root .`` reads the notebooks' titles and summaries, their
``outputs/results/<notebook>.json`` and the published figures and tables.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import jinja2

from compendium.artifacts import atomic_write_text
from compendium.publish.confidential import mark_confidential
from compendium.publish.provenance import dataset_info, git_state
from compendium.publish.render import CSP
from compendium.publish.runner import TEMPLATES, list_pages


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
        out.append(Entry(page.stem, page.title, page.summary, page.href,
                         res.get("findings", []), res_path.exists(), figures, tables))
    return out


def render_index(root: Path, outputs: Path, data_dir: Path | None = None,
                 confidential: bool = False) -> str:
    """The index page's HTML (``confidential``: built from real data, marked as such)."""
    # autoescape: titles, summaries, findings and data-set fields come from files and data
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "site"),
                             autoescape=True, keep_trailing_newline=True)
    data = dataset_info(data_dir or root / "data")
    html = env.get_template("index.html.j2").render(
        pages=entries(root, outputs),
        synthetic=data.get("kind") == "synthetic" and not confidential,
        data=data,
        git=git_state(root),
        css=(TEMPLATES / "compendium" / "compendium.css").read_text(encoding="utf-8"),
        csp=CSP,
    )
    return mark_confidential(html) if confidential else html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.site", description=__doc__)
    ap.add_argument("--root", default=".")
    ap.add_argument("--outputs", default=None)
    ap.add_argument("--data", default=None, help="data folder (default ROOT/data)")
    ap.add_argument("--confidential", action="store_true", help="mark pages as real data")
    args = ap.parse_args(argv)
    root = Path(args.root)
    outputs = Path(args.outputs) if args.outputs else root / "outputs"
    data_dir = Path(args.data) if args.data else None
    path = atomic_write_text(outputs / "html" / "index.html",
                             render_index(root, outputs, data_dir, args.confidential))
    print(f"[compendium] published {path}")
    # The replication package: list of tables and programs, instruments, article page.
    from compendium.publish.article import write_article
    from compendium.publish.catalogue import write_catalogue
    from compendium.publish.instruments import write_instruments

    extra = [write_catalogue(outputs),
             *write_instruments(root, outputs, data_dir, args.confidential),
             write_article(root, outputs, data_dir, args.confidential)]
    for p in extra:
        print(f"[compendium] published {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
