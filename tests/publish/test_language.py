"""compendium.publish.language: one notebook, a page per language.

Oracle: hand-built notebooks whose expected cells are listed by hand, and the project's own
notebooks as data (every prose cell must have its twin).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from compendium.publish.language import cell_language, keep_language, untranslated

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9]*.ipynb"))


def md(text: str, *tags: str):
    cell = new_markdown_cell(text)
    cell.metadata["tags"] = list(tags)
    return cell


def bilingual():
    return new_notebook(cells=[
        md("# Title", "lang-en"), md("# Tytuł", "lang-pl"),
        new_code_cell("x = 1"),
        md("Prose.", "lang-en", "other-tag"), md("Proza.", "lang-pl"),
        md("$n = 5$"),  # no words: shown in both languages
    ])


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["# Title", "x = 1", "Prose.", "$n = 5$"]),
    ("pl", ["# Tytuł", "x = 1", "Proza.", "$n = 5$"]),
])
def test_keep_language_keeps_the_page_language_and_untagged_cells(lang, expected):
    nb = bilingual()
    page = keep_language(nb, lang)
    assert [c.source for c in page.cells] == expected
    assert len(nb.cells) == 6  # the executed notebook itself is unchanged


def test_unknown_language_and_double_tags_are_refused():
    with pytest.raises(ValueError, match="unknown page language 'de'"):
        keep_language(bilingual(), "de")
    with pytest.raises(ValueError, match="more than one language tag"):
        cell_language(md("x", "lang-en", "lang-pl"))


def test_untranslated_finds_untagged_prose_and_missing_twins():
    nb = bilingual()
    assert untranslated(nb) == []
    nb.cells.insert(3, md("Only English.", "lang-en"))  # its twin is missing
    nb.cells.append(md("Untagged prose"))
    assert untranslated(nb) == [3, 7]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_prose_cell_of_the_notebooks_has_both_languages(path):
    nb = nbformat.read(path, as_version=4)
    missing = untranslated(nb)
    assert missing == [], f"{path.name}: markdown cells {missing} need a lang-en/lang-pl twin"
