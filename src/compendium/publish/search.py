"""The site's full-text search: one document per page section, written as a script.

The browser side is MiniSearch (``static/minisearch.js``, vendored from npm with its licence)
driven by ``static/search.js``. The documents are written as ``search-index.js``, a script
that assigns a JSON array to ``window.compendiumSearchDocs``: a ``<script src>`` loads from
disk (``file://``) where ``fetch`` of a JSON file is refused, and served alike. The JSON is
written with every non-ASCII character and ``<``, ``>``, ``&`` escaped, so no text from the
data can end the script or be read as markup; the results are shown with ``textContent``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

#: Elements whose text is not searched: code input, the site's own additions, styles.
SKIP = ("style", "script", "noscript", ".jp-CodeCell .jp-InputArea", ".jp-InputPrompt",
        ".jp-OutputPrompt", ".compendium-site", ".compendium-nav",
        ".compendium-toc", ".compendium-banner", "input", "label")
STATIC = ("minisearch.js", "minisearch.LICENSE.txt", "search.js")


@dataclass(frozen=True)
class Doc:
    """One searchable section: the page, the section's anchor and title, and its text."""

    id: str
    href: str
    page: str
    section: str
    text: str


def _words(text: str) -> str:
    return " ".join(text.replace("¶", " ").split())


def page_docs(tree: BeautifulSoup, href: str, title: str) -> list[Doc]:
    """The sections of one page (split at ``h2``; the text before the first ``h2`` is the
    page's introduction), with the text a reader sees, code inputs left out (:data:`SKIP`)."""
    main = tree.find("main") or tree.body
    if main is None:
        return []
    docs: list[Doc] = []
    anchor, section, parts = "", title, []

    def flush() -> None:
        text = _words(" ".join(parts))
        if text:
            docs.append(Doc(f"{href}#{anchor}" if anchor else href,
                            f"{href}#{anchor}" if anchor else href, title, section, text))

    for node in _visible(main):
        if isinstance(node, str):
            parts.append(node)
        else:  # an h2: a new section, titled by its own visible text
            flush()
            title_text = " ".join(s for s in _visible(node, heading=True) if isinstance(s, str))
            anchor, section, parts = node.get("id", ""), _words(title_text), []
    flush()
    return docs


# SKIP, matched while walking the tree (no copy of it, no CSS engine): element names, classes,
# and ``.jp-CodeCell .jp-InputArea`` (an input area inside a code cell).
_SKIP_NAMES = frozenset({"style", "script", "noscript", "input", "label"})
_SKIP_CLASSES = frozenset({"jp-InputPrompt", "jp-OutputPrompt", "compendium-site",
                           "compendium-nav", "compendium-toc", "compendium-banner"})


def _skipped(el: Tag, in_code_cell: bool) -> bool:
    classes = el.get("class") or ()
    return (el.name in _SKIP_NAMES or not _SKIP_CLASSES.isdisjoint(classes)
            or (in_code_cell and "jp-InputArea" in classes))


def _visible(top: Tag, *, heading: bool = False) -> Iterator[str | Tag]:
    """In document order, the text a reader sees under ``top`` (plain text nodes outside
    :data:`SKIP`) and, unless ``heading``, each ``h2`` (not its text, which titles the
    section). With ``heading``, the strings ``get_text`` would join (text and CDATA)."""
    from bs4 import CData, NavigableString, Tag

    kinds = (NavigableString, CData) if heading else (NavigableString,)
    in_cell = any("jp-CodeCell" in (p.get("class") or ()) for p in top.parents
                  if isinstance(p, Tag))
    if _skipped(top, in_cell):
        return
    stack: list[tuple[Iterator, bool]] = [(iter(top.contents), in_cell or "jp-CodeCell" in
                                           (top.get("class") or ()))]
    while stack:
        children, in_cell = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
        elif isinstance(node, Tag):
            if _skipped(node, in_cell):
                continue
            if node.name == "h2" and not heading:
                yield node
                continue
            stack.append((iter(node.contents),
                          in_cell or "jp-CodeCell" in (node.get("class") or ())))
        elif type(node) in kinds:
            yield str(node)


def index_js(docs: list[Doc]) -> str:
    """``search-index.js``: the documents as a JSON array assigned to a global, ASCII only."""
    text = json.dumps([asdict(d) for d in docs], ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.compendiumSearchDocs = {text};\n"
