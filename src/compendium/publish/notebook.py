"""What a notebook calls to stay thin: set-up, numbered tables and figures, results, colophon.

A :class:`Report` is created once per notebook by :func:`start` and carries the validated
parameters and the caption counters explicitly (no module-level state).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Markdown, display

from compendium.analysis.disclosure_audit import DisclosureError, Ledger
from compendium.artifacts import atomic_write_text, update_results, write_table
from compendium.errors import CompendiumError
from compendium.publish import params as param_schemas
from compendium.publish import render
from compendium.publish.provenance import colophon_html

#: Where the figures are, seen from a page in ``outputs/html/``.
FIGURES_HREF = "../figures"
#: Parameters not shown in the box: where files are read and written (paths of this machine,
#: or the runner's staging folder), not choices of the analysis.
HIDDEN_PARAMETERS = ("data_dir", "output_dir")
#: The reasons a published table may give for holding no count the ledger must see.
DECLARED_KINDS = ("exempt", "model", "gated upstream")

NOT_FOR_PUBLICATION = {
    "en": "NOT FOR PUBLICATION — built with not_for_publication: true; min_cell may be "
          f"below the floor of {param_schemas.MIN_CELL_FLOOR} that published outputs keep.",
    "pl": "NIE DO PUBLIKACJI — zbudowano z not_for_publication: true; min_cell może być "
          f"mniejsze niż próg {param_schemas.MIN_CELL_FLOOR} obowiązujący publikacje.",
}


def _short_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """Warnings without the file path (paths would differ between machines)."""
    return f"{category.__name__}: {message}\n"


@dataclass
class Report:
    """The running notebook: its parameters, output folders and caption counters."""

    notebook: str
    params: Any
    tables: int = 0
    figures: int = 0
    results: dict[str, Any] = field(default_factory=dict)
    ledger: Ledger | None = None

    def __post_init__(self) -> None:
        if self.ledger is None:
            self.ledger = Ledger(int(getattr(self.params, "min_cell", 3)))

    @property
    def out(self) -> Path:
        return Path(self.params.output_dir)

    @property
    def data(self) -> Path:
        return Path(self.params.data_dir)

    def text(self, en: str, pl: str | None = None) -> str:
        """Pick the text of the run's language."""
        return pl if (self.params.lang == "pl" and pl is not None) else en

    def table(
        self, df: pd.DataFrame, name: str, caption: str | Mapping[str, str], *,
        min_cell: int | None = None, index: bool = False, show: bool = True,
        collapsed: bool = False,
    ) -> None:
        """Publish ``df`` as ``tables/<notebook>/<name>.csv`` and show it with a numbered caption.

        Refuses (raises) a table that did not pass the disclosure gate (``attrs["sdc"]``
        unset) or whose count column shows a value in 1..min_cell-1.
        The page shows the table for reading (formatted numbers, no id columns, headers in
        the page's language); ``collapsed`` puts it behind a disclosure (long tables whose
        content a figure already shows). The CSV keeps every column unformatted.
        """
        from compendium.analysis.disclosure import small_counts_in_csv

        self._gate(df, f"table {name!r}")
        self.tables += 1
        path = write_table(df, self.out / "tables" / self.notebook / f"{name}.csv", index=index)
        limit = min_cell if min_cell is not None else getattr(self.params, "min_cell", None)
        if limit:
            hits = small_counts_in_csv(path, limit)
            if hits:
                path.unlink()
                raise CompendiumError(
                    f"table {name!r} would publish counts below min_cell={limit}: {hits[:3]}"
                )
        if show:
            cap = self._caption(caption)
            display(Markdown(render.caption_markdown(self.text("Table", "Tabela"),
                                                     self.tables, cap)))
            display(HTML(render.table_html(
                df, index=index, uuid=f"table-{self.tables}", lang=self.params.lang,
                ci_level=getattr(self.params, "ci_level", 0.95), collapsed=collapsed)))

    def figure(
        self, fig: Any, name: str, caption: str | Mapping[str, str], *, narrow: Any = None,
    ) -> None:
        """Save ``fig`` as PNG and SVG under ``figures/<notebook>/`` and show it with a caption;
        the image links to the SVG (relative to the page in ``html/``). ``narrow``, a second
        figure laid out for phone screens, is saved as ``<name>.narrow.png`` and shown there."""
        from compendium.publish.plots import save_figure

        if not getattr(fig, "_sdc_protected", False):
            raise DisclosureError(f"figure {name!r} was not drawn by a gated plotting function")
        self.figures += 1
        folder = self.out / "figures" / self.notebook
        paths = save_figure(fig, folder / name)
        png = next(p for p in paths if p.suffix == ".png")
        narrow_png = None
        if narrow is not None:
            narrow_png = save_figure(narrow, folder / f"{name}.narrow", ("png",))[0].read_bytes()
        href = f"{FIGURES_HREF}/{self.notebook}/{name}.svg"
        display(HTML(render.figure_html(
            png.read_bytes(), self.figures, self._caption(caption), href=href,
            lang=self.params.lang, anchor=f"figure-{self.figures}", narrow_png=narrow_png)))

    def facts(self, values: Mapping[str, Any]) -> None:
        """Show a few named values as a small table (rather than printing a dict)."""
        display(HTML(render.facts_html(values, self.params.lang)))

    def prose(self, en: str, pl: str | None = None, **values: Any) -> None:
        """Show a paragraph (markdown) whose numbers are computed in this run, never typed.

        Put data-derived values in ``{name}`` fields and pass them as ``values``: they are
        escaped (shown literally), the template's own Markdown is kept.
        """
        display(Markdown(render.markdown_text(self.text(en, pl), values)))

    def result(self, not_counts: Mapping[str, str] | None = None, **values: Any) -> None:
        """Record key numbers in ``results/<notebook>.json`` (what a manuscript would cite).

        Every integer 1..min_cell-1 is refused (counts must come through the ledger, which
        gives ``None`` for a suppressed one) except under the keys of ``not_counts``, which
        maps each to the reason its numbers are not counts of people (recorded in the audit).
        """
        for name, why in (not_counts or {}).items():
            self.ledger.note(f"results/{name}", "declared not a count of people", why)
        checked = {k: v for k, v in values.items() if k not in (not_counts or {})}
        small = _small_numbers(checked, self.ledger.min_cell)
        if small:
            raise DisclosureError(
                f"results of {self.notebook} would publish counts below min_cell="
                f"{self.ledger.min_cell}: {small[:3]} (pass counts through the ledger)")
        self.results.update(values)
        update_results(self.out / "results" / f"{self.notebook}.json", "results", self.results)
        self.write_audit()

    def findings(self, sentences: list[str]) -> None:
        """Show generated key-finding sentences as a list and store them with the results."""
        display(HTML(render.list_html(sentences)))
        update_results(self.out / "results" / f"{self.notebook}.json", "findings", sentences)

    def colophon(self) -> None:
        """Show the provenance colophon (data identity, code and package versions) as a table;
        the parameters are in the box at the top of the page."""
        display(Markdown(self.text("## Colophon", "## Kolofon")))
        display(HTML(colophon_html(self.notebook, self.data, lang=self.params.lang)))

    def _gate(self, df: pd.DataFrame, what: str) -> None:
        """A table is published only if the ledger produced it (``attrs["sdc"] == "ledger"``)
        or it declares, with a reason, why it holds no count the ledger must see
        (``"exempt: …"``, ``"model: …"``, ``"gated upstream: …"``; recorded in the audit).
        Anything else (no tag, an unknown tag) is refused."""
        tag = df.attrs.get("sdc")
        if not tag:
            raise DisclosureError(f"{what} did not pass the disclosure gate")
        if tag != "ledger":
            kind, _, reason = str(tag).partition(":")
            if kind not in DECLARED_KINDS or not reason.strip():
                raise DisclosureError(
                    f"{what} carries the disclosure tag {tag!r}: expected 'ledger' or one of "
                    f"{', '.join(repr(k + ': <reason>') for k in DECLARED_KINDS)}")
            self.ledger.note(what, "declared", str(tag))
        self.write_audit()

    def write_audit(self) -> None:
        """Write ``disclosure/<notebook>.json``: every suppressed count and its feasible range."""
        import json

        text = json.dumps({"notebook": self.notebook, **self.ledger.audit()}, indent=1,
                          sort_keys=True, ensure_ascii=False) + "\n"
        atomic_write_text(self.out / "disclosure" / f"{self.notebook}.json", text)

    def _caption(self, caption: str | Mapping[str, str]) -> str:
        if isinstance(caption, Mapping):
            return caption.get(self.params.lang) or caption["en"]
        return caption


def parameters_box(p: Any) -> str:
    """The "Parameters of this run" box of validated parameters ``p`` (schema defaults from
    :mod:`compendium.publish.params`; paths left out)."""
    values = {k: v for k, v in p.model_dump().items() if k not in HIDDEN_PARAMETERS}
    defaults = type(p)().model_dump()
    return render.parameters_html(values, defaults, p.lang)


def _small_numbers(value: Any, min_cell: int, path: str = "") -> list[tuple[str, int]]:
    """Every integer 1..min_cell-1 in a results value (booleans are not counts)."""
    if isinstance(value, Mapping):
        return [h for k, v in value.items() for h in _small_numbers(v, min_cell, f"{path}/{k}")]
    if isinstance(value, (list, tuple)):
        return [h for i, v in enumerate(value) for h in _small_numbers(v, min_cell, f"{path}[{i}]")]
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        return []
    return [(path, int(value))] if 1 <= int(value) < min_cell else []


def start(notebook: str, namespace: Mapping[str, Any]) -> Report:
    """Validate the notebook's parameters, set the figure theme, and show the parameters box
    (the synthetic-data banner is the page template's)."""
    warnings.formatwarning = _short_warning
    p = param_schemas.from_namespace(notebook, namespace)
    from compendium.publish import warningnotes
    from compendium.publish.plots import set_theme

    warningnotes.install(p.lang)  # warnings as notes in the page's language

    set_theme()
    if getattr(p, "not_for_publication", False):
        display(HTML(
            '<div class="compendium-banner compendium-not-for-publication" role="alert" '
            'style="background:#b00020;color:#fff;border:3px solid #6d0014;font-size:1.15em">'
            f"<strong>{NOT_FOR_PUBLICATION[p.lang]}</strong></div>"
        ))
    display(HTML(parameters_box(p)))
    return Report(notebook=notebook, params=p)


__all__ = ["Report", "start", "CompendiumError"]
