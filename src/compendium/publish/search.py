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
    page's introduction), with the text a reader sees, code inputs left out."""
    main = tree.find("main") or tree.body
    if main is None:
        return []
    from bs4 import NavigableString

    main = _copy_without(main)
    docs: list[Doc] = []
    anchor, section, parts = "", title, []

    def flush() -> None:
        text = _words(" ".join(parts))
        if text:
            docs.append(Doc(f"{href}#{anchor}" if anchor else href,
                            f"{href}#{anchor}" if anchor else href, title, section, text))

    for node in main.descendants:
        name = getattr(node, "name", None)
        if name == "h2":
            flush()
            anchor, section, parts = node.get("id", ""), _words(node.get_text(" ")), []
        elif type(node) is NavigableString and not _inside(node, ("h2",)):
            parts.append(str(node))
    flush()
    return docs


def _inside(node: object, names: tuple[str, ...]) -> bool:
    parent = getattr(node, "parent", None)
    while parent is not None:
        if parent.name in names:
            return True
        parent = parent.parent
    return False


def _copy_without(main: Tag) -> Tag:
    from bs4 import BeautifulSoup

    copy = BeautifulSoup(str(main), "html.parser")
    for sel in SKIP:
        for el in copy.select(sel):
            el.decompose()
    return copy


def index_js(docs: list[Doc]) -> str:
    """``search-index.js``: the documents as a JSON array assigned to a global, ASCII only."""
    text = json.dumps([asdict(d) for d in docs], ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.compendiumSearchDocs = {text};\n"
