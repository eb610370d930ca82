"""HTML and Markdown that the compendium writes, built from escaped parts.

Every string that can come from the data (labels, quotes, captions, findings, descriptor
values, parameter values) is escaped here before it reaches a page: HTML text with
:func:`escape`, values placed into Markdown with :func:`md_escape` (every ASCII punctuation
character becomes a numeric character reference, which CommonMark and mistune show
literally, so a value can open no tag, link, emphasis, table cell or math span).

Each page also carries :data:`CSP`, a Content-Security-Policy that allows no script at all
(the pages need none: the code toggle is a CSS checkbox), so a missed escape still cannot
run anything.
"""

from __future__ import annotations

import base64
import html
import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: The pages' Content-Security-Policy: no script, no plug-in, no external resource; inline
#: styles (the templates' and pandas' ``<style>`` blocks) and ``data:`` images (figures,
#: the notebook theme's icons) only.
CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "form-action 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:")

_MD_SPECIAL = frozenset(string.punctuation)
_MD_SPACE = str.maketrans({"\r": " ", "\n": " ", "\t": " ", "\f": " ", "\v": " "})


def csp_meta() -> str:
    """The ``<meta http-equiv>`` element carrying :data:`CSP`."""
    content = CSP.replace('"', "&quot;")
    return f'<meta http-equiv="Content-Security-Policy" content="{content}">'


def escape(value: Any) -> str:
    """``value`` as HTML text or attribute value (``& < > " '`` escaped)."""
    return html.escape(str(value), quote=True)


def md_escape(value: Any) -> str:
    """``value`` as literal Markdown inline text: punctuation as ``&#NN;``, line breaks as
    spaces (so a value can neither start a block nor break a table row)."""
    text = str(value).translate(_MD_SPACE)
    return "".join(f"&#{ord(c)};" if c in _MD_SPECIAL else c for c in text)


def md_code(value: Any) -> str:
    """``value`` as inline code in Markdown (``<code>`` with escaped content; a code span
    would show character references verbatim and a backtick in ``value`` would end it)."""
    return f"<code>{md_escape(value)}</code>"


def markdown_text(template: str, values: Mapping[str, Any] | None = None) -> str:
    """Fill ``{name}`` fields of a Markdown ``template`` with escaped ``values``.

    The template's Markdown is kept, but never raw HTML: notebooks often build the template
    with an f-string, so ``&``, ``<`` and ``>`` in it are written as entities whatever it holds.
    """
    safe = template.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not values:
        return safe
    return safe.format(**{k: md_escape(v) for k, v in values.items()})


def text_html(text: Any, tag: str = "p", cls: str | None = None) -> str:
    """One element holding ``text`` escaped."""
    attr = f' class="{escape(cls)}"' if cls else ""
    return f"<{tag}{attr}>{escape(text)}</{tag}>"


def list_html(items: Iterable[Any], cls: str = "compendium-findings") -> str:
    """A bulleted list of escaped sentences (the notebooks' key findings)."""
    lis = "".join(f"<li>{escape(s)}</li>" for s in items)
    return f'<ul class="{escape(cls)}">{lis}</ul>'


def caption_markdown(label: str, number: int, caption: Any) -> str:
    """A numbered caption in Markdown, e.g. ``**Table 2.** caption`` (caption escaped)."""
    return f"**{label} {number}.** {md_escape(caption)}"


def table_html(df: pd.DataFrame, *, index: bool, uuid: str, precision: int = 1) -> str:
    """``df`` as an HTML table: cells, labels and axis names escaped, floats rounded.

    pandas' Styler escapes cells and labels only when asked (``escape="html"``) and never
    escapes the axis names, so those are escaped here on a shallow copy.
    """
    def names(labels: pd.Index) -> pd.Index:
        return labels.set_names([None if n is None else escape(n) for n in labels.names])

    df = df.set_axis(names(df.index), axis=0).set_axis(names(df.columns), axis=1)
    styled = (df.style.format(precision=precision, na_rep="", escape="html")
              .format_index(escape="html", axis=0)
              .format_index(escape="html", axis=1)
              .set_uuid(uuid))
    return (styled if index else styled.hide(axis="index")).to_html()


def figure_html(png: bytes, number: int, caption: Any) -> str:
    """A numbered figure with the PNG inlined as a ``data:`` URI and an escaped caption."""
    data = base64.b64encode(png).decode("ascii")
    cap = escape(caption)
    return (f'<figure class="compendium-figure"><img alt="{cap}" '
            f'src="data:image/png;base64,{data}"/><figcaption><b>Figure {number}.</b> '
            f"{cap}</figcaption></figure>")


def banner_html(message: str, generator: Any) -> str:
    """The synthetic-data banner of a notebook (the generator's name comes from the data)."""
    return (f'<div class="compendium-banner" role="note"><strong>{escape(message)}</strong> '
            f"Data set: {escape(generator)}.</div>")
