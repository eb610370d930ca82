"""The article page (``html/article.html``): the manuscript view of one build.

Everything on it is read from the build, never typed: the title from ``CITATION.cff``; each
study's question from the first markdown cell of its notebook; every finding sentence from
``results/<notebook>.json`` (written by ``nb.findings`` in that run), linked to the cell that
computed it; the key figures (the first figure of each notebook, at most five) with the
caption the notebook printed, each linked to its cell (anchors ``#cell-id=<id>`` written by
nbconvert); a methods summary from the headings of ``docs/methods.md`` with a link to it;
the bibliography from ``docs/references.bib``; the data-set statement from
``raw/dataset.yaml``. A real-data build marks it like every other page.

The page is written in the language of its site folder (``lang``): its fixed words from the
``article`` section of the message catalogue (:mod:`compendium.publish.language`), the
titles and questions from the notebooks' cells tagged for that language, the findings and
captions from that language's run.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compendium.publish.catalogue import catalogue

MAX_FIGURES = 5
_TAG = re.compile(r"<[^>]+>")
_BIB_ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", re.S)
_BIB_FIELD = re.compile(r"(\w+)\s*=\s*\{((?:[^{}]|\{[^{}]*\})*)\}", re.S)


@dataclass
class Study:
    """One notebook as the article shows it."""

    stem: str
    title: str
    question: str
    findings: list[str] = field(default_factory=list)
    findings_anchor: str = ""


@dataclass(frozen=True)
class KeyFigure:
    """A figure of the article: image, caption and the cell that drew it."""

    src: str  # the PNG as a data: URI (the pages' Content-Security-Policy allows no other)
    file: str  # the published PNG, relative to the page
    caption: str
    href: str


def _cells(nb_path: Path) -> list[dict[str, Any]]:
    return json.loads(nb_path.read_text(encoding="utf-8")).get("cells", [])


def _plain(markdown: str) -> str:
    """Markdown emphasis and line breaks removed (the text is escaped when rendered)."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", markdown)).strip()


def question_of(nb_path: Path, lang: str = "en") -> str:
    """The question paragraph (``**Question.**``, or the catalogue's marker of ``lang``) of a
    notebook's first markdown cells in ``lang`` ("" if none)."""
    from compendium.publish.language import cell_language, message

    marker = re.escape(message(lang, "article", "question_marker"))
    pattern = re.compile(rf"\*\*{marker}\*\*\s*(.+?)(?:\n\s*\n|\Z)", re.S)
    cells = [c for c in _cells(nb_path) if cell_language(c) in (None, lang)]
    for cell in cells[:3]:
        if cell.get("cell_type") == "markdown":
            m = pattern.search("".join(cell.get("source", "")))
            if m:
                return _plain(m.group(1))
    return ""


def findings_anchor(executed: Path, stem: str) -> str:
    """Link to the executed cell that called ``nb.findings`` ("" if none)."""
    if not executed.is_file():
        return ""
    for cell in _cells(executed):
        if cell.get("cell_type") == "code" and ".findings(" in "".join(cell.get("source", "")):
            return f"{stem}.html#cell-id={cell.get('id', '')}"
    return ""


def figure_caption(executed: Path, cell_index: int) -> str:
    """The caption the notebook printed under the figure (text of ``<figcaption>``)."""
    cell = _cells(executed)[cell_index]
    for out in cell.get("outputs", []):
        text = "".join(out.get("data", {}).get("text/html", ""))
        m = re.search(r"<figcaption>(.*?)</figcaption>", text, re.S)
        if m:
            return html.unescape(_TAG.sub("", m.group(1))).strip()
    return ""


def key_figures(outputs: Path, limit: int = MAX_FIGURES, lang: str = "en") -> list[KeyFigure]:
    """The first PNG figure of each notebook (catalogue order), at most ``limit``; captions
    without their "Figure n." (in ``lang``)."""
    from compendium.publish.language import message

    prefix = re.escape(message(lang, "article", "caption_prefix"))
    first: dict[str, Any] = {}
    for row in catalogue(outputs):
        if not (row.output_file.startswith("figures/") and row.output_file.endswith(".png")
                and row.anchor and isinstance(row.cell, int)):
            continue
        stem = row.output_file.split("/")[1]
        if stem not in first or row.cell < first[stem].cell:
            first[stem] = row
    out: list[KeyFigure] = []
    for stem, row in sorted(first.items()):
        caption = figure_caption(outputs / "notebooks" / f"{stem}.ipynb", row.cell)
        caption = re.sub(rf"^{prefix} \d+\.\s*", "", caption)
        png = base64.b64encode((outputs / row.output_file).read_bytes()).decode("ascii")
        out.append(KeyFigure(f"data:image/png;base64,{png}", f"../{row.output_file}", caption,
                             row.anchor.removeprefix("html/")))
    return out[:limit]


def studies(root: Path, outputs: Path, lang: str = "en") -> list[Study]:
    """Every notebook with its title and question in ``lang`` and its findings from this
    build's results."""
    from compendium.publish.runner import list_pages

    out = []
    for page in list_pages(root / "notebooks", lang):
        res = outputs / "results" / f"{page.stem}.json"
        findings = json.loads(res.read_text(encoding="utf-8")).get("findings", []) \
            if res.is_file() else []
        question = question_of(root / "notebooks" / f"{page.stem}.ipynb", lang)
        out.append(Study(page.stem, page.title, question, [str(f) for f in findings],
                         findings_anchor(outputs / "notebooks" / f"{page.stem}.ipynb", page.stem)))
    return out


def methods_sections(methods: Path) -> list[str]:
    """The ``##`` headings of docs/methods.md."""
    if not methods.is_file():
        return []
    return re.findall(r"^##\s+(.+?)\s*$", methods.read_text(encoding="utf-8"), re.M)


def bibliography(bib: Path) -> list[str]:
    """One line per BibTeX entry: authors (year). Title. Venue. (sorted by key)."""
    if not bib.is_file():
        return []
    out = []
    for _kind, key, body in _BIB_ENTRY.findall(bib.read_text(encoding="utf-8")):
        f = {k.lower(): re.sub(r"[{}]", "", v).strip() for k, v in _BIB_FIELD.findall(body)}
        venue = f.get("journal") or f.get("booktitle") or f.get("publisher") \
            or f.get("institution") or ""
        line = f"{f.get('author', key)} ({f.get('year', 'n.d.')}). {f.get('title', '')}."
        if venue:
            line += f" {venue}."
        if f.get("doi"):
            line += f" doi:{f['doi']}"
        out.append((key, line))
    return [line for _key, line in sorted(out)]


def render_article(root: Path, outputs: Path, data_dir: Path | None = None,
                   confidential: bool = False, lang: str = "en") -> str:
    """The article page's HTML in ``lang`` (the title from ``CITATION.cff`` in English, from
    the message catalogue in another language: the file has one title)."""
    from compendium.publish.confidential import mark_confidential
    from compendium.publish.instruments import environment
    from compendium.publish.language import messages

    data_dir = data_dir or root / "data"
    cff = root / "CITATION.cff"
    title = (yaml.safe_load(cff.read_text(encoding="utf-8")) or {}).get("title", "") \
        if cff.is_file() else ""
    marker = data_dir / "raw" / "dataset.yaml"
    data = (yaml.safe_load(marker.read_text(encoding="utf-8")) or {}) if marker.is_file() else {}
    env = environment(data_dir, confidential, lang)
    t = messages(lang)["article"]
    if lang != "en" or not title:
        title = t["title"]
    page = env.get_template("article.html.j2").render(
        title=title,
        studies=studies(root, outputs, lang),
        figures=key_figures(outputs, lang=lang),
        methods=methods_sections(root / "docs" / "methods.md"),
        methods_href="../../docs/methods.md",
        references=bibliography(root / "docs" / "references.bib"),
        data_kind="real" if confidential else str(data.get("kind", "real")),
        # the data set's note is written in English; the catalogue's text says it otherwise
        data_note=str(data.get("note", "")) if lang == "en" else "",
    )
    from compendium.publish.runner import add_toc

    page = add_toc(page, lang)
    return mark_confidential(page, lang) if confidential else page


def write_article(root: Path, outputs: Path, data_dir: Path | None = None,
                  confidential: bool = False, lang: str = "en") -> Path:
    """Write ``outputs/html/article.html`` in ``lang``; return its path."""
    from compendium.artifacts import atomic_write_text

    return atomic_write_text(outputs / "html" / "article.html",
                             render_article(root, outputs, data_dir, confidential, lang))
