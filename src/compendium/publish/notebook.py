"""What a notebook calls to stay thin: set-up, numbered tables and figures, results, colophon.

A :class:`Report` is created once per notebook by :func:`start` and carries the validated
parameters and the caption counters explicitly (no module-level state).
"""

from __future__ import annotations

import base64
import html
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
from compendium.publish.provenance import colophon_markdown, dataset_info

BANNER = {
    "en": "SYNTHETIC DATA — illustrative, not the study's results.",
    "pl": "DANE SYNTETYCZNE — ilustracja metody, nie wyniki badania.",
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
    ) -> None:
        """Publish ``df`` as ``tables/<notebook>/<name>.csv`` and show it with a numbered caption.

        Refuses (raises) a table that did not pass the disclosure gate (``attrs["sdc"]``
        unset) or whose count column shows a value in 1..min_cell-1.
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
            display(Markdown(f"**Table {self.tables}.** {cap}"))
            styled = df.style.format(precision=1, na_rep="").set_uuid(f"t{self.tables}")
            display(HTML((styled if index else styled.hide(axis="index")).to_html()))

    def figure(self, fig: Any, name: str, caption: str | Mapping[str, str]) -> None:
        """Save ``fig`` as PNG and SVG under ``figures/<notebook>/`` and show it with a caption."""
        from compendium.publish.plots import save_figure

        if not getattr(fig, "_sdc_protected", False):
            raise DisclosureError(f"figure {name!r} was not drawn by a gated plotting function")
        self.figures += 1
        paths = save_figure(fig, self.out / "figures" / self.notebook / name)
        png = next(p for p in paths if p.suffix == ".png")
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        cap = html.escape(self._caption(caption))
        display(HTML(
            f'<figure class="compendium-figure"><img alt="{cap}" '
            f'src="data:image/png;base64,{data}"/><figcaption><b>Figure {self.figures}.</b> '
            f"{cap}</figcaption></figure>"
        ))

    def prose(self, en: str, pl: str | None = None) -> None:
        """Show a paragraph (markdown) whose numbers are computed in this run, never typed."""
        display(Markdown(self.text(en, pl)))

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
        display(Markdown("\n".join(f"- {s}" for s in sentences)))
        update_results(self.out / "results" / f"{self.notebook}.json", "findings", sentences)

    def colophon(self) -> None:
        """Show the provenance colophon (parameters, data identity, code and package versions)."""
        display(Markdown(colophon_markdown(self.notebook, self.params.model_dump(), self.data)))

    def _gate(self, df: pd.DataFrame, what: str) -> None:
        """A table is published only if a disclosure function produced it (``attrs["sdc"]``);
        a declared exemption is recorded in the audit with its reason."""
        tag = df.attrs.get("sdc")
        if not tag:
            raise DisclosureError(f"{what} did not pass the disclosure gate")
        if tag not in ("ledger", "rules"):
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
    """Validate the notebook's parameters, set the figure theme, and show the data banner."""
    warnings.formatwarning = _short_warning
    p = param_schemas.from_namespace(notebook, namespace)
    from compendium.publish.plots import set_theme

    set_theme()
    info = dataset_info(p.data_dir)
    if info.get("kind") == "synthetic":
        display(HTML(
            f'<div class="compendium-banner" role="note"><strong>{BANNER[p.lang]}</strong> '
            f"Data set: {info.get('generator', 'synthetic')}.</div>"
        ))
    return Report(notebook=notebook, params=p)


__all__ = ["Report", "start", "CompendiumError"]
