"""One notebook, two languages: markdown cells tagged ``lang-en`` / ``lang-pl``.

An author keeps each prose cell in both languages as two adjacent markdown cells, the English
one tagged ``lang-en`` and its Polish twin ``lang-pl`` (JupyterLab shows both, one under the
other, and the tags in the property inspector). Cells without a language tag (code, and
markdown that needs no translation) belong to every page. :func:`keep_language` gives the
notebook of one page's language; :func:`untranslated` lists what an author still has to
translate. Text computed in the run (tables, captions, prose) is already in the run's
language (parameter ``lang``).

The fixed words of the generated pages (index, article, questionnaire, codebooks, sidebar,
banners, notes on model fits) are in one message catalogue per language,
``templates/messages/<lang>.yaml``, read by :func:`messages`.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "pl")
_TAG = re.compile(r"^lang-([a-z]{2})$")
#: The message catalogues: ``<lang>.yaml``, one per language of :data:`LANGUAGES`.
CATALOGUES = Path(__file__).parent / "templates" / "messages"


@functools.cache
def _catalogue(lang: str) -> dict[str, Any]:
    import yaml

    if lang not in LANGUAGES:
        raise ValueError(f"unknown page language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    path = CATALOGUES / f"{lang}.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict):
        raise ValueError(f"{path}: expected a mapping of sections to texts")
    return table


def messages(lang: str) -> dict[str, Any]:
    """The fixed texts of the site's pages in ``lang``: ``{section: {key: text or mapping}}``
    from ``templates/messages/<lang>.yaml`` (a copy: callers may not change the catalogue).
    Texts are the authors' trusted HTML; ``{name}`` marks a value filled in when shown."""
    return copy.deepcopy(_catalogue(lang))


def message(lang: str, section: str, key: str, **values: Any) -> str:
    """One text of the catalogue, its ``{placeholders}`` filled with ``values``."""
    text = _catalogue(lang)[section][key]
    return str(text).format(**values) if values else str(text)


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
