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
import re
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

    The template's emphasis and code spans are kept, but never raw HTML, links or images:
    notebooks often build the template with an f-string from data (code titles), so ``&``,
    ``<``, ``>``, ``[`` and ``]`` in it are written as entities whatever it holds.
    """
    safe = (template.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("[", "&#91;").replace("]", "&#93;"))  # no link or image syntax either
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


_NUMERIC = re.compile(r"^(< )?[−-]?(\d+(\.\d+)?|∞)$")


def table_html(
    df: pd.DataFrame, *, index: bool, uuid: str, lang: str = "en", ci_level: float = 0.95,
    collapsed: bool = False,
) -> str:
    """``df`` as an HTML table for reading (see :func:`compendium.publish.display.display_frame`:
    numbers formatted by column, id columns left out, headers in ``lang``), every cell, label
    and axis name escaped, inside a wrapper that scrolls sideways on a narrow screen.

    ``collapsed`` puts the table behind a ``<details>`` disclosure (for long tables whose
    content a figure beside them already shows).
    """
    from compendium.publish.display import display_frame

    shown = display_frame(df, lang, ci_level=ci_level, index=index)
    names = list(shown.index.names) if index else []
    head = "".join(f'<th scope="col">{escape("" if n is None else n)}</th>' for n in names)
    head += "".join(f'<th scope="col">{escape(c)}</th>' for c in shown.columns)
    rows = []
    for label, values in zip(shown.index, shown.itertuples(index=False, name=None), strict=True):
        labels = (label if isinstance(label, tuple) else (label,)) if index else ()
        cells = "".join(f'<th scope="row">{escape(v)}</th>' for v in labels)
        cells += "".join(
            f'<td class="num">{escape(v)}</td>' if _NUMERIC.match(v) else f"<td>{escape(v)}</td>"
            for v in values)
        rows.append(f"<tr>{cells}</tr>")
    table = (f'<div class="compendium-table-wrap" tabindex="0" role="region" '
             f'aria-label="{escape(_t(lang, "table"))}"><table class="compendium-table" '
             f'id="{escape(uuid)}"><thead><tr>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>')
    if not collapsed:
        return table
    summary = _t(lang, "show_rows").format(n=len(shown))
    return (f'<details class="compendium-details"><summary>{escape(summary)}</summary>'
            f"{table}</details>")


_WORDS = {
    "en": {"table": "table (scrolls sideways)", "show_rows": "Show the table ({n} rows)",
           "figure": "Figure", "open_svg": "open the figure as SVG (zoomable)",
           "parameters": "Parameters of this run", "parameter": "parameter", "value": "value",
           "default": "default", "changed": "differs from the default",
           "defaults_note": "Highlighted: values that differ from the defaults."},
    "pl": {"table": "tabela (przewijana w bok)", "show_rows": "Pokaż tabelę (wiersze: {n})",
           "figure": "Rycina", "open_svg": "otwórz rycinę jako SVG (z powiększeniem)",
           "parameters": "Parametry tego uruchomienia", "parameter": "parametr",
           "value": "wartość", "default": "domyślnie", "changed": "inna niż domyślna",
           "defaults_note": "Wyróżnione: wartości inne niż domyślne."},
}


def _t(lang: str, key: str) -> str:
    return _WORDS.get(lang, _WORDS["en"])[key]


#: Screens at most this wide get a figure's narrow variant, where it has one.
NARROW_MEDIA = "(max-width: 700px)"


def figure_html(
    png: bytes, number: int, caption: Any, *, href: str | None = None, lang: str = "en",
    anchor: str | None = None, narrow_png: bytes | None = None,
) -> str:
    """A numbered figure: the PNG inlined as a ``data:`` URI, alt text from the caption, and,
    with ``href``, the image a link to the full-size SVG (a phone reader can zoom it).
    ``narrow_png``, a variant laid out for phones, is chosen by the browser on narrow
    screens (``<picture>``, no script)."""
    data = base64.b64encode(png).decode("ascii")
    cap = escape(caption)
    img = f'<img alt="{cap}" src="data:image/png;base64,{data}"/>'
    if narrow_png is not None:
        narrow = base64.b64encode(narrow_png).decode("ascii")
        img = (f'<picture><source media="{NARROW_MEDIA}" '
               f'srcset="data:image/png;base64,{narrow}"/>{img}</picture>')
    if href:
        img = (f'<a class="compendium-figure-link" href="{escape(href)}" '
               f'title="{escape(_t(lang, "open_svg"))}">{img}</a>')
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return (f'<figure class="compendium-figure"{ident}>{img}<figcaption><b>'
            f"{escape(_t(lang, 'figure'))} {number}.</b> {cap}</figcaption></figure>")


def parameters_html(
    values: Mapping[str, Any], defaults: Mapping[str, Any], lang: str = "en",
) -> str:
    """The "Parameters of this run" box: one row per parameter, values that differ from the
    schema's ``defaults`` highlighted (class ``changed`` and a word for screen readers)."""
    rows = []
    for key in values:
        value, changed = values[key], key in defaults and values[key] != defaults[key]
        mark = (f' <span class="compendium-changed-word">({escape(_t(lang, "changed"))}: '
                f"{escape(_param_text(defaults[key]))})</span>") if changed else ""
        cls = ' class="changed"' if changed else ""
        rows.append(f"<tr{cls}><th scope=\"row\"><code>{escape(key)}</code></th>"
                    f"<td><code>{escape(_param_text(value))}</code>{mark}</td></tr>")
    return (f'<details class="compendium-params" open><summary>{escape(_t(lang, "parameters"))}'
            f'</summary><div class="compendium-table-wrap"><table class="compendium-table">'
            f'<thead><tr><th scope="col">{escape(_t(lang, "parameter"))}</th>'
            f'<th scope="col">{escape(_t(lang, "value"))}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>'
            f'<p class="compendium-note">{escape(_t(lang, "defaults_note"))}</p></details>')


def _param_text(value: Any) -> str:
    """A parameter value as its YAML spelling (what an author writes in ``params/*.yaml``)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=10_000)
    return text.removesuffix("\n...\n").strip()


def facts_html(values: Mapping[str, Any], lang: str = "en") -> str:
    """A small two-column table of named values (instead of a printed dict)."""
    from compendium.publish.display import format_value, header

    rows = "".join(
        f'<tr><th scope="row">{escape(header(k, lang))}</th>'
        f'<td class="num">{escape(format_value(v, "number", lang))}</td></tr>'
        for k, v in values.items())
    return (f'<div class="compendium-table-wrap"><table class="compendium-table compendium-facts">'
            f"<tbody>{rows}</tbody></table></div>")


def key_value_html(rows: Iterable[tuple[str, str]], cls: str = "compendium-colophon") -> str:
    """A two-column table of (label, text) pairs, both escaped."""
    body = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>'
                   for k, v in rows)
    return (f'<div class="compendium-table-wrap"><table class="compendium-table {escape(cls)}">'
            f"<tbody>{body}</tbody></table></div>")


def banner_html(message: str, generator: Any) -> str:
    """The synthetic-data banner of a notebook (the generator's name comes from the data)."""
    return (f'<div class="compendium-banner" role="note"><strong>{escape(message)}</strong> '
            f"Data set: {escape(generator)}.</div>")
