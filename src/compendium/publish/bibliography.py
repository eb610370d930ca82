"""References cited in a page, found in its text and formatted from ``docs/references.bib``.

Two ways of citing are recognised in prose: the BibTeX key in brackets, as
``docs/methods.md`` does (``[holm1979]``, ``[freeman1951; agresti2013categorical]``), and
author–year as the notebooks write it (``Landis & Koch (1977)``, ``de Vries et al. 2008``):
the first author's surname followed, within a few words, by the year of a bibliography entry.
Entries are formatted by pybtex's ``plain`` style with its HTML backend, which escapes the
fields' text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pybtex.database import parse_file
from pybtex.exceptions import PybtexError
from pybtex.plugin import find_plugin

from compendium.errors import DataError
from compendium.publish.render import escape

KEY_RE = re.compile(r"[A-Za-z][\w:-]*\d{4}[\w:-]*")
#: ``[key]`` or ``[key1; key2]`` with BibTeX-like keys.
KEYS_RE = re.compile(r"\[([A-Za-z][\w:-]*\d{4}[\w:-]*(?:\s*[;,]\s*[A-Za-z][\w:-]*\d{4}[\w:-]*)*)\]")


@dataclass(frozen=True)
class Reference:
    """One bibliography entry: its key, the surname and year an author–year citation uses,
    and the entry formatted as (escaped) HTML."""

    key: str
    surname: str
    year: str
    html: str


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


def load(path: Path) -> dict[str, Reference]:
    """Every entry of the BibTeX file ``path`` by key (a parse error names the file and line)."""
    try:
        bib = parse_file(str(path), bib_format="bibtex")
    except PybtexError as exc:
        raise DataError(path, f"not valid BibTeX: {exc}", row=getattr(exc, "lineno", None),
                        expected="entries like @article{key, author = {...}, ...}") from None
    style = find_plugin("pybtex.style.formatting", "plain")()
    backend = find_plugin("pybtex.backends", "html")()
    formatted = {e.key: e.text.render(backend).replace("\n", " ")
                 for e in style.format_entries(bib.entries.values())}
    out = {}
    for key, entry in bib.entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        surname = " ".join(people[0].last_names) if people else ""
        surname = re.sub(r"[{}]", "", surname)
        out[key] = Reference(key, surname, entry.fields.get("year", ""), formatted[key])
    return out


@functools.cache  # one pattern per entry and build (a site pass asks for it per text node)
def _author_year_re(ref: Reference) -> re.Pattern[str] | None:
    if not ref.surname or not ref.year:
        return None
    # surname, up to 60 characters without digits or sentence ends, then the year
    name = re.escape(_fold(ref.surname)).replace(r"\ ", r"\s+")
    between = r"(?:[^\d.;:!?\[\]]|al\.|in\.){0,60}?"  # "et al.", Polish "i in."
    year = rf"(\()?{re.escape(ref.year)}(?!\d)(?(1)\))"  # "(1977)" whole, or "1977"
    return re.compile(rf"(?<!\w){name}(?!\w){between}{year}", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Citation:
    """A citation found in a text: where it starts and ends, and the keys it cites."""

    start: int
    end: int
    keys: tuple[str, ...]


def find_citations(text: str, refs: dict[str, Reference]) -> list[Citation]:
    """The citations in ``text`` of entries in ``refs``, in order, not overlapping."""
    found: list[Citation] = []
    for m in KEYS_RE.finditer(text):  # each key of "[a; b]" its own link
        for k in KEY_RE.finditer(m.group(0)):
            if k.group(0) in refs:
                found.append(Citation(m.start() + k.start(), m.start() + k.end(), (k.group(0),)))
    folded = _fold(text)
    if len(folded) == len(text):  # positions in the folded text are positions in ``text``
        for ref in refs.values():
            if ref.year and ref.year not in folded:  # the pattern needs the year verbatim
                continue
            pattern = _author_year_re(ref)
            if pattern is None:
                continue
            for m in pattern.finditer(folded):
                found.append(Citation(m.start(), m.end(), (ref.key,)))
    found.sort(key=lambda c: (c.start, -c.end))
    out: list[Citation] = []
    for c in found:
        if not out or c.start >= out[-1].end:
            out.append(c)
    return out


def bibliography_html(keys: list[str], refs: dict[str, Reference], heading: str) -> str:
    """A ``References`` section listing ``keys`` (in ``refs``' order), each with an anchor
    ``ref-<key>`` that the citations link to."""
    order = sorted((k for k in set(keys) if k in refs),
                   key=lambda k: (_fold(refs[k].surname).lower(), refs[k].year, k))
    items = "".join(f'<li id="ref-{escape(k)}">{refs[k].html}</li>' for k in order)
    return (f'<section class="compendium-site compendium-bibliography" id="references" '
            f'aria-labelledby="references-heading">'
            f'<h2 id="references-heading">{escape(heading)}</h2>'
            f"<ol>{items}</ol></section>")
