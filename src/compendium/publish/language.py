"""One notebook, two languages: markdown cells tagged ``lang-en`` / ``lang-pl``.

An author keeps each prose cell in both languages as two adjacent markdown cells, the English
one tagged ``lang-en`` and its Polish twin ``lang-pl`` (JupyterLab shows both, one under the
other, and the tags in the property inspector). Cells without a language tag (code, and
markdown that needs no translation) belong to every page. :func:`keep_language` gives the
notebook of one page's language; :func:`untranslated` lists what an author still has to
translate. Text computed in the run (tables, captions, prose) is already in the run's
language (parameter ``lang``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

LANGUAGES = ("en", "pl")
_TAG = re.compile(r"^lang-([a-z]{2})$")


def cell_language(cell: Any) -> str | None:
    """The language a cell is tagged with (``lang-xx``), or None for every language."""
    langs = [m.group(1) for t in cell.get("metadata", {}).get("tags", []) if (m := _TAG.match(t))]
    if len(langs) > 1:
        raise ValueError(f"cell {cell.get('id', '?')} has more than one language tag: {langs}")
    return langs[0] if langs else None


def keep_language(nb: Any, lang: str) -> Any:
    """A copy of ``nb`` without the cells tagged with a language other than ``lang``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown page language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if cell_language(c) in (None, lang)]
    return out


def untranslated(nb: Any, languages: tuple[str, ...] = LANGUAGES) -> list[int]:
    """Indices of markdown cells with words but no language tag, and of tagged cells whose
    run of adjacent language cells lacks one of ``languages`` (a missing twin)."""
    missing: list[int] = []
    run: list[tuple[int, str]] = []

    def close() -> None:
        if run and {lang for _, lang in run} != set(languages):
            missing.extend(i for i, _ in run)
        run.clear()

    for i, cell in enumerate(nb.cells):
        lang = cell_language(cell)
        if lang is not None and cell.get("cell_type") == "markdown":
            if any(lang == seen for _, seen in run):
                close()  # a second cell of the same language starts a new pair
            run.append((i, lang))
            continue
        close()
        if cell.get("cell_type") == "markdown" and re.search(r"[A-Za-z]{2}", cell.source):
            missing.append(i)
    close()
    return missing
