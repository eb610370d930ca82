"""Warnings as notes in the page's language, not as English text on stderr.

:func:`install` (called by :func:`compendium.publish.notebook.start`) replaces
``warnings.showwarning`` in the notebook's kernel: a warning raised while a cell runs is
shown in that cell's output as a note (:func:`note_html`) whose words come from the ``fit``
section of the message catalogue of the run's language. A model fit's warning
(:class:`compendium.analysis.fitwarnings.ModelFitWarning`) names the model and outcome; any
other warning is classified the same way. The library's own message is kept, verbatim and
marked as English (``lang="en"``), below the note. Every value from a warning is escaped.
"""

from __future__ import annotations

import warnings
from typing import Any

from compendium.analysis.fitwarnings import ModelFitWarning, classify
from compendium.publish.language import messages
from compendium.publish.render import escape

#: Kinds that say something about a model (a note "on the model fit"); others are the
#: library's warning.
MODEL_KINDS = ("convergence", "separation", "singular")


def note_html(message: Warning | str, category: type[Warning], lang: str) -> str:
    """The note for one warning in ``lang`` (HTML, every value from the warning escaped)."""
    t = messages(lang)["fit"]
    if isinstance(message, ModelFitWarning):
        issues = [(i.model, i.outcome, i.kind, f"{i.category}: {i.message}")
                  for i in message.issues]
    else:
        text = str(message)
        issues = [("", "", classify(category, text), f"{category.__name__}: {text}")]
    model, outcome = issues[0][0], issues[0][1]
    kinds = list(dict.fromkeys(kind for _, _, kind, _ in issues))
    lines = []
    if model:
        name = t["models"].get(model, t["models"]["other"])
        what = escape(name) + (", " + t["outcome"].format(
            outcome=f"<code>{escape(outcome)}</code>") if outcome else "")
        lines.append(f"<p>{t['model'].format(model=what)}</p>")
    about_model = bool(model) or any(kind in MODEL_KINDS for kind in kinds)
    if not about_model:  # a library's warning, e.g. a numeric one outside a fit
        kinds = [kind if kind != "other" else "library" for kind in kinds]
    lines += [f"<p>{t[kind]}</p>" for kind in kinds]
    original = "<br>".join(f'<code lang="en">{escape(text)}</code>' for *_, text in issues)
    lines.append(f"<p class=\"compendium-fit-original\">{t['original'].format(message=original)}"
                 "</p>")
    heading = t["heading"] if about_model else t["library_heading"]
    return (f'<div class="compendium-note compendium-fit-note" role="note" lang="{lang}">'
            f"<strong>{heading}</strong>{''.join(lines)}</div>")


def install(lang: str) -> None:
    """Show every warning raised from now on in this process as a note in ``lang`` in the
    running cell's output (IPython's display); outside IPython, warnings stay as they are."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython is a dependency of the runtime
        return
    if get_ipython() is None:
        return
    messages(lang)  # an unknown language fails here, not at the first warning

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        display(HTML(note_html(message, category, lang)))

    warnings.showwarning = show
