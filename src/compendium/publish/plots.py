"""Figures in one visual theme, saved byte-for-byte reproducibly.

Longer than 600 lines because the figure types share one theme and private layout helpers
(wrapping, legends, the disclosure mark); split by figure type they would import each other.

Every plotting function builds a :class:`matplotlib.figure.Figure` directly (no
pyplot state, never ``plt.show``) inside the compendium theme, so a figure looks
the same whether or not :func:`set_theme` was called, and returns it. The theme:
seaborn ``whitegrid``, the colour-blind-safe seaborn ``colorblind`` palette for
categories and ColorBrewer ``RdBu`` (also colour-blind safe) for Likert scales,
DejaVu Sans (ships with matplotlib and has the Polish letters ą ć ę ł ń ó ś ź ż).

:func:`save_figure` writes PNG and SVG deterministically: no timestamps or
software strings in the metadata, a fixed ``svg.hashsalt`` for SVG element ids,
and text converted to paths (``svg.fonttype="path"``) so the SVG neither depends
on the viewer's fonts nor embeds a font name lookup.

:func:`diverging_layout` is the pure geometry behind :func:`diverging_likert`
(Heiberger & Robbins 2014, J. Stat. Softw. 57(5)): negative answers left of
zero, the neutral category split half and half across zero, positives right.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.patches as mpatches
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from compendium.artifacts import atomic_write_bytes
from compendium.errors import ParameterError

__all__ = [
    "FONT",
    "SVG_HASHSALT",
    "diverging_layout",
    "diverging_likert",
    "heatmap",
    "ranked_bars",
    "save_figure",
    "set_theme",
    "theme_rc",
    "wrap_label",
]

FONT = "DejaVu Sans"
SVG_HASHSALT = "compendium"
NEUTRAL_COLOUR = "#bdbdbd"
#: Characters per line of an axis label before it wraps.
LABEL_WIDTH = 30
BAR_COLOUR_INDEX = 0
_SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None}}
_SAVE_RC = {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}
# seaborn 0.13's ``axes_style("whitegrid")`` and ``plotting_context("notebook")`` and its
# ``colorblind`` palette, as constants: importing seaborn (and pyplot with it) costs ~0.5 s
# per process, and only :func:`heatmap` needs seaborn itself. tests/publish/test_plots_theme.py
# compares these with seaborn's own values.
_WHITEGRID_RC: dict[str, Any] = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out",
    "ytick.direction": "out", "xtick.color": ".15", "ytick.color": ".15",
    "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans",
                        "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "image.cmap": "rocket", "xtick.top": False, "ytick.right": False, "axes.grid": True,
    "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
    "axes.spines.top": True, "xtick.bottom": False, "ytick.left": False,
}
_NOTEBOOK_RC: dict[str, Any] = {
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5,
    "lines.markersize": 6, "patch.linewidth": 1, "xtick.major.width": 1.25,
    "ytick.major.width": 1.25, "xtick.minor.width": 1, "ytick.minor.width": 1,
    "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4,
    "ytick.minor.size": 4, "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12,
    "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11,
    "legend.title_fontsize": 12,
}
_COLORBLIND = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4",
               "#949494", "#ece133", "#56b4e9"]


# --------------------------------------------------------------------------- theme
def theme_rc() -> dict[str, Any]:
    """The rcParams of the compendium theme (seaborn whitegrid + notebook context)."""
    rc: dict[str, Any] = {}
    rc.update(_WHITEGRID_RC)
    rc.update(_NOTEBOOK_RC)
    rc.update(
        {
            "axes.prop_cycle": cycler(color=_COLORBLIND),
            "font.family": ["sans-serif"],
            "font.sans-serif": [FONT],
            "axes.titlesize": 13,
            "axes.titlelocation": "left",
            "legend.frameon": False,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            # Labels come from the data: a "$" is a dollar sign, never mathtext.
            "text.parse_math": False,
            **_SAVE_RC,
        }
    )
    return rc


def _gated(frame: Any) -> bool:
    """True if ``frame`` (or ``None``) passed the disclosure gate (``attrs["sdc"]``).

    A figure remembers whether every frame it was drawn from was protected; the notebook's
    ``Report.figure`` refuses to publish one that was not.
    """
    return frame is None or bool(getattr(frame, "attrs", {}).get("sdc"))


def set_theme() -> None:
    """Apply the compendium theme globally (for ad hoc plots in notebooks)."""
    import seaborn as sns  # only here and in heatmap: seaborn imports pyplot

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font=FONT)
    mpl.rcParams.update(theme_rc())


def wrap_label(text: Any, width: int = LABEL_WIDTH) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces (a word longer
    than ``width`` stays whole), so long labels neither clip nor squeeze the plot."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False,
                                    break_on_hyphens=False)) or str(text)


def _with_suffix(label: str, suffix: str, width: int = LABEL_WIDTH) -> str:
    """``suffix`` (e.g. ``(n = 210)``, never broken) after a wrapped ``label``: on its last
    line when it fits, else on a line of its own."""
    last = label.rsplit("\n", 1)[-1]
    return f"{label} {suffix}" if len(last) + 1 + len(suffix) <= width else f"{label}\n{suffix}"


def row_major(items: Sequence[Any], ncols: int) -> list[Any]:
    """``items`` reordered so that matplotlib's column-by-column legend reads row by row in
    the original order (left to right, as the bars' segments)."""
    nrows = -(-len(items) // ncols)
    return [items[r * ncols + c] for c in range(ncols) for r in range(nrows)
            if r * ncols + c < len(items)]


@contextlib.contextmanager
def _themed() -> Iterator[None]:
    with mpl.rc_context(theme_rc()):
        yield


def _palette() -> list[str]:
    return list(_COLORBLIND)


def _cmap_colours(name: str, k: int) -> list[str]:
    """``k`` colours of a matplotlib colormap, as ``seaborn.color_palette(name, k)`` picks
    them: evenly spaced, both ends left out."""
    cmap = mpl.colormaps[name]
    return [mcolors.to_hex(c) for c in cmap(np.linspace(0, 1, k + 2)[1:-1])]


# --------------------------------------------------------------------------- layout
def _split(categories: list, neutral: object | None) -> tuple[list, object | None, list]:
    """(negatives, neutral, positives) in scale order."""
    if neutral is not None:
        if neutral not in categories:
            raise ParameterError("neutral", f"{neutral!r} is not a column", allowed=categories)
        m = categories.index(neutral)
        return categories[:m], neutral, categories[m + 1 :]
    if len(categories) % 2:
        raise ParameterError(
            "neutral",
            f"the scale has an odd number of categories ({len(categories)}); name the middle "
            "(neutral) one, or drop it",
            allowed=categories,
        )
    half = len(categories) // 2
    return categories[:half], None, categories[half:]


def diverging_layout(pct: pd.DataFrame, neutral: object | None = None) -> pd.DataFrame:
    """Segment positions of a diverging stacked bar chart (pure function).

    ``pct``: rows = items, columns = answer categories ordered negative …
    neutral … positive, values = percentages summing to 100 per row (±0.5 for
    rounding; not rescaled). Returns tidy ``item, category, left, width`` (items
    in row order, categories in column order): the negative categories end at
    zero, ``neutral`` (if given) is centred on zero (half each side), the
    positives start at zero. Without a neutral the split is between the middle
    two categories.
    """
    if pct.shape[1] < 2:
        raise ParameterError("pct", "needs at least two answer categories (columns)")
    categories = list(pct.columns)
    negatives, mid, _ = _split(categories, neutral)
    values = pct.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    for i, item in enumerate(pct.index):
        row = values[i]
        if np.isnan(row).any() or (row < 0).any():
            raise ParameterError("pct", f"item {item!r} has missing or negative percentages")
        if abs(row.sum() - 100) > 0.5:
            raise ParameterError("pct", f"item {item!r} sums to {row.sum():.6g}, not 100")
    neg_total = values[:, : len(negatives)].sum(axis=1)
    if mid is not None:
        neg_total = neg_total + values[:, len(negatives)] / 2
    starts = -neg_total[:, None] + np.hstack(
        [np.zeros((len(values), 1)), np.cumsum(values, axis=1)[:, :-1]]
    )
    return pd.DataFrame(
        {
            "item": np.repeat(np.asarray(pct.index, dtype=object), len(categories)),
            "category": np.tile(np.asarray(categories, dtype=object), len(pct)),
            "left": starts.ravel(),
            "width": values.ravel(),
        }
    )


def _likert_colours(categories: list, neutral: object | None, palette: Any) -> list:
    k = len(categories)
    if palette is None:
        colours = _cmap_colours("RdBu", k)
        if neutral is not None:
            colours[categories.index(neutral)] = NEUTRAL_COLOUR
        return colours
    if isinstance(palette, str):
        import seaborn as sns  # any seaborn palette name

        colours = sns.color_palette(palette, k).as_hex()
    else:
        colours = list(palette)
    if len(colours) != k:
        raise ParameterError("palette", f"has {len(colours)} colours for {k} categories")
    return colours


def _text_colour(colour: str) -> str:
    r, g, b = mcolors.to_rgb(colour)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "0.15"


def _legend_columns(labels: list[str], width: float) -> int:
    """Most legend columns (of equal width) that fit ``width`` inches at the theme's font."""
    per_entry = 0.75 + 0.095 * max(len(lab) for lab in labels)
    return int(max(1, min(len(labels), width // per_entry)))


def diverging_likert(
    counts: pd.DataFrame,
    neutral: object | None = None,
    title: str | None = None,
    xlabel: str = "%",
    legend_title: str | None = None,
    palette: Any = None,
    sort_by: str | None = "agree",
    label_min: float = 5.0,
) -> Figure:
    """Diverging stacked bars of Likert items, drawn with matplotlib ``barh``.

    ``counts``: rows = items (the index gives the labels), columns = answer
    categories ordered negative … positive (exclude "don't know" first).
    Each bar shows the item's percentages placed by :func:`diverging_layout`;
    the item label carries its base ``(n = …)``. ``sort_by``: ``"agree"`` (share
    of the positive categories, largest on top), ``"disagree"`` or ``None`` (row
    order). Segments of at least ``label_min`` % are labelled with their rounded
    percentage.
    """
    if sort_by not in ("agree", "disagree", None):
        raise ParameterError(
            "sort_by", f"unknown order {sort_by!r}", allowed=["agree", "disagree", None]
        )
    data = counts.apply(pd.to_numeric, errors="coerce")
    if data.isna().any().any() or (data < 0).any().any():
        raise ParameterError("counts", "must hold non-negative counts without missing values")
    n = data.sum(axis=1)
    if (n == 0).any():
        raise ParameterError("counts", f"item {n[n == 0].index[0]!r} has no answers")
    categories = list(data.columns)
    negatives, mid, positives = _split(categories, neutral)
    pct = data.div(n, axis=0) * 100
    if sort_by is not None:
        share = pct[positives if sort_by == "agree" else negatives].sum(axis=1)
        order = share.sort_values(ascending=False, kind="stable").index
        pct, n = pct.loc[order], n.loc[order]
    layout = diverging_layout(pct, mid)
    colours = _likert_colours(categories, mid, palette)

    with _themed():
        labels = [_with_suffix(wrap_label(item), f"(n = {int(v)})") for item, v in n.items()]
        lines = max(lab.count("\n") + 1 for lab in labels)
        fig = Figure(figsize=(8, 1.9 + (0.32 + 0.2 * lines) * len(pct)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(pct))[::-1]  # first item on top
        y_of = dict(zip(range(len(pct)), y, strict=True))
        item_pos = {item: k for k, item in enumerate(pct.index)}
        for cat, colour in zip(categories, colours, strict=True):
            seg = layout[layout["category"] == cat]
            ys = [y_of[item_pos[item]] for item in seg["item"]]
            ax.barh(
                ys,
                seg["width"],
                left=seg["left"],
                color=colour,
                height=0.7,
                edgecolor="white",
                linewidth=0.6,
                label=str(cat),
            )
            for yy, left, width in zip(ys, seg["left"], seg["width"], strict=True):
                if width >= label_min:
                    ax.text(
                        left + width / 2,
                        yy,
                        f"{width:.0f}",
                        ha="center",
                        va="center",
                        fontsize=9,
                        color=_text_colour(colour),
                    )
        ax.axvline(0, color="0.25", linewidth=1)
        ax.set_yticks(y, labels)
        ends = layout["left"] + layout["width"]
        extent = max(float(-layout["left"].min()), float(ends.max()), 1.0) + 2.0
        limit = min(100.0, np.ceil(extent / 10) * 10)
        step = 10 if limit <= 40 else 20 if limit <= 80 else 25
        limit = float(np.ceil(limit / step) * step)
        right = np.arange(0, limit + 1e-9, step)
        ticks = np.concatenate([-right[:0:-1], right])
        ax.set_xlim(-limit, limit)
        ax.set_xticks(ticks, [f"{abs(t):.0f}" for t in ticks])
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        if title:
            ax.set_title(title)
        ncols = _legend_columns([str(c) for c in categories], width=8.0)
        handles, names = ax.get_legend_handles_labels()
        fig.legend(
            row_major(handles, ncols),
            row_major(names, ncols),
            loc="outside lower center",
            ncols=ncols,
            title=legend_title,
        )
    fig._sdc_protected = _gated(counts)  # see Report.figure
    return fig


# --------------------------------------------------------------------------- bars
def ranked_bars(
    table: pd.DataFrame,
    label_col: str,
    value_col: str,
    ci_low_col: str | None = None,
    ci_high_col: str | None = None,
    xlabel: str = "% of respondents",
    title: str | None = None,
    value_fmt: str = "{:.0f}",
) -> Figure:
    """Horizontal bars ranked by ``value_col`` (largest on top) with optional CI whiskers.

    Every row is drawn: a zero value keeps its label and shows ``0``; a missing
    value (e.g. a suppressed percentage) is listed last and marked ``n/a``.
    """
    cols = [label_col, value_col, *(c for c in (ci_low_col, ci_high_col) if c is not None)]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ParameterError("table", f"columns {missing} not found", allowed=list(table.columns))
    if (ci_low_col is None) != (ci_high_col is None):
        raise ParameterError("ci_low_col/ci_high_col", "give both CI columns or neither")
    data = table[cols].copy()
    for c in cols[1:]:
        data[c] = pd.to_numeric(data[c], errors="coerce").astype(float)
    data = data.sort_values(value_col, ascending=False, na_position="last", kind="stable")
    values = data[value_col].to_numpy()
    high = data[ci_high_col].to_numpy() if ci_high_col else values
    top = np.nanmax(np.concatenate([values, high])) if np.isfinite(values).any() else 0.0
    top = top if np.isfinite(top) and top > 0 else 1.0

    with _themed():
        labels = [wrap_label(v, 36) for v in data[label_col]]
        lines = max((lab.count("\n") + 1 for lab in labels), default=1)
        fig = Figure(figsize=(7, 1.2 + (0.27 + 0.13 * lines) * len(data)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(data))[::-1]
        ax.barh(y, np.nan_to_num(values), color=_palette()[BAR_COLOUR_INDEX], height=0.65)
        if ci_low_col:
            lo = data[ci_low_col].to_numpy()
            ok = np.isfinite(values) & np.isfinite(lo) & np.isfinite(high)
            err = np.vstack([values[ok] - lo[ok], high[ok] - values[ok]]).clip(min=0)
            ax.errorbar(
                values[ok], y[ok], xerr=err, fmt="none", ecolor="0.2", elinewidth=1, capsize=3
            )
        for yy, v, h in zip(y, values, high, strict=True):
            if np.isfinite(v):
                x = (h if np.isfinite(h) else v) + top * 0.015
                ax.text(x, yy, value_fmt.format(v), va="center", fontsize=10)
            else:
                ax.text(top * 0.015, yy, "n/a", va="center", fontsize=10, color="0.4")
        ax.set_yticks(y, labels)
        ax.set_xlim(0, top * 1.12)
        ax.set_ylim(-0.6, len(data) - 0.4)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        if title:
            ax.set_title(title)
    fig._sdc_protected = _gated(table)  # see Report.figure
    return fig


# --------------------------------------------------------------------------- heatmap
def _aligned(frame: Any, matrix: pd.DataFrame, name: str) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        if set(frame.index) != set(matrix.index) or set(frame.columns) != set(matrix.columns):
            raise ParameterError(name, "must have the same row and column labels as matrix")
        return frame.loc[matrix.index, matrix.columns]
    arr = np.asarray(frame)
    if arr.shape != matrix.shape:
        raise ParameterError(name, f"has shape {arr.shape}, matrix has {matrix.shape}")
    return pd.DataFrame(arr, index=matrix.index, columns=matrix.columns)


def _cell_text(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return format(value, fmt)
    return str(value)


def heatmap(
    matrix: pd.DataFrame,
    annot: pd.DataFrame | None = None,
    fmt: str = "",
    title: str | None = None,
    cmap: str = "Blues",
    cbar_label: str | None = None,
    mask: pd.DataFrame | np.ndarray | None = None,
    max_annotated_rows: int = 60,
) -> Figure:
    """Heat map of a numeric matrix (``seaborn.heatmap``) with per-cell annotations.

    A matrix with more than ``max_annotated_rows`` rows (e.g. thousands of interviews in a
    scaled-up data set) is drawn without cell texts or row labels, at a capped height.

    ``annot`` (same labels as ``matrix``) holds the text of each cell, e.g.
    ``"n=3"`` or a suppression marker; numbers in ``annot`` are formatted with
    ``fmt``. Missing cells of ``matrix`` (e.g. suppressed) are drawn light grey and
    still show their annotation; cells where ``mask`` is True are left blank.
    """
    values = matrix.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = values.isna() & matrix.notna()
    if bad.any().any():
        r, c = next((r, c) for r in matrix.index for c in matrix.columns if bad.loc[r, c])
        raise ParameterError("matrix", f"cell ({r!r}, {c!r}) is not numeric: {matrix.loc[r, c]!r}")
    hide = (
        _aligned(mask, matrix, "mask").astype(bool).to_numpy()
        if mask is not None
        else np.zeros(matrix.shape, dtype=bool)
    )
    text = None
    big = matrix.shape[0] > max_annotated_rows
    if annot is not None and not big:
        a = _aligned(annot, matrix, "annot")
        text = np.array(
            [[_cell_text(v, fmt) for v in row] for row in a.to_numpy(dtype=object)], dtype=object
        )
    n_rows, n_cols = matrix.shape
    with _themed():
        height = min(1.5 + 0.45 * n_rows, 12.0)
        fig = Figure(figsize=(3 + 1.25 * n_cols, height), layout="constrained")
        ax = fig.add_subplot()
        ax.set_facecolor("0.93")
        import seaborn as sns  # imported here only: it pulls in pyplot

        shown_values = values.set_axis([wrap_label(r) for r in values.index], axis=0)
        shown_values = shown_values.set_axis([wrap_label(c, 18) for c in values.columns], axis=1)
        sns.heatmap(
            shown_values,
            ax=ax,
            cmap=cmap,
            mask=hide | values.isna().to_numpy(),
            annot=False,
            yticklabels=not big,
            linewidths=0 if big else 0.5,
            linecolor="white",
            cbar_kws={"label": cbar_label} if cbar_label else None,
            # thousands of cells: one image instead of one SVG path per cell
            rasterized=big,
        )
        if text is not None:
            finite = values.to_numpy()
            shown = finite[np.isfinite(finite) & ~hide]
            lo, hi = (shown.min(), shown.max()) if shown.size else (0.0, 1.0)
            cm = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
            for i in range(n_rows):
                for j in range(n_cols):
                    if hide[i, j] or not text[i, j]:
                        continue
                    v = finite[i, j]
                    if np.isfinite(v):
                        frac = 0.5 if hi == lo else (v - lo) / (hi - lo)
                        colour = _text_colour(mcolors.to_hex(cm(frac)))
                    else:
                        colour = "0.35"
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        text[i, j],
                        ha="center",
                        va="center",
                        fontsize=10,
                        color=colour,
                    )
        finite_all = values.to_numpy()[np.isfinite(values.to_numpy())]
        if finite_all.size and np.all(finite_all == np.round(finite_all)) and ax.collections:
            cbar = ax.collections[0].colorbar
            if cbar is not None:  # counts: whole-number ticks
                cbar.locator = mpl.ticker.MaxNLocator(integer=True)
                cbar.update_ticks()
        ax.grid(False)
        ax.set_xlabel(matrix.columns.name or "")
        ax.set_ylabel(matrix.index.name or "")
        ax.tick_params(axis="x", rotation=30)
        ax.tick_params(axis="y", rotation=0)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")
        if title:
            ax.set_title(title)
    fig._sdc_protected = _gated(matrix) and _gated(annot)  # see Report.figure
    return fig


# --------------------------------------------------------------------------- saving
def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 150
) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format, deterministically; close it.

    Rendered to memory first (PNG without the ``Software`` entry, SVG without
    ``Date``, fixed ``svg.hashsalt``, text as paths), then written atomically with
    :func:`compendium.artifacts.atomic_write_bytes`. The figure's layout is solved
    once and frozen first, so saving the same figure again gives the same bytes.
    ``stem`` gets ``.png``/``.svg`` appended (dots in the stem are kept). Returns
    the written paths.
    """
    unknown = [f for f in formats if f not in _SAVE_METADATA]
    if unknown or not formats:
        raise ParameterError("formats", f"unsupported {unknown}", allowed=sorted(_SAVE_METADATA))
    stem = Path(stem)
    paths: list[Path] = []
    try:
        if fig.get_layout_engine() is not None and not isinstance(
            fig.get_layout_engine(), PlaceHolderLayoutEngine
        ):
            # Constrained layout re-solves on every draw and drifts in the last float
            # digits (which SVG clip-path ids hash): solve once, then freeze it.
            fig.draw_without_rendering()
            fig.set_layout_engine("none")
        for fmt in formats:
            buf = io.BytesIO()
            with mpl.rc_context(_SAVE_RC):
                fig.savefig(buf, format=fmt, dpi=dpi, metadata=_SAVE_METADATA[fmt])
            paths.append(atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", buf.getvalue()))
    finally:
        if fig.canvas.manager is not None:  # made by pyplot: let pyplot forget it
            import matplotlib.pyplot as plt

            plt.close(fig)
    return paths


# --------------------------------------------------------------------------- curves, panels
def saturation_curves(
    sat: pd.DataFrame, xlabel: str = "interviews", ylabel: str = "distinct codes",
    title: str | None = None,
) -> Figure:
    """Cumulative distinct codes by interview order, one step line per group.

    ``sat`` is :func:`compendium.analysis.qual.saturation` output (with or without ``group``).
    """
    needed = ["order", "cumulative_codes"]
    missing = [c for c in needed if c not in sat.columns]
    if missing:
        raise ParameterError("sat", f"columns {missing} not found", allowed=list(sat.columns))
    groups = sat.groupby("group", sort=False) if "group" in sat.columns else [("all", sat)]
    with _themed():
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        for name, part in groups:
            ax.step(part["order"], part["cumulative_codes"], where="post", label=str(name),
                    linewidth=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        if "group" in sat.columns:
            ax.legend(loc="lower right")
        if title:
            ax.set_title(title)
    fig._sdc_protected = _gated(sat)  # see Report.figure
    return fig


def side_by_side(
    table: pd.DataFrame, panel_col: str = "study", label_col: str = "label",
    value_col: str = "pct", group_col: str = "theme", xlabel: str = "% of interviews",
    stacked: bool = False,
) -> Figure:
    """One horizontal bar panel per value of ``panel_col`` (e.g. per study), bars coloured by
    ``group_col``, zeros drawn and labelled, each panel ranked within its groups; the legend
    lists the groups in the order of the bars, top to bottom.

    ``stacked`` puts the panels one under the other in a narrow figure (for phone screens).
    """
    panels = list(dict.fromkeys(table[panel_col]))
    sizes = [int((table[panel_col] == p).sum()) for p in panels]
    colours = dict(zip(dict.fromkeys(table[group_col]), _palette(), strict=False))
    width = LABEL_WIDTH if not stacked else 22
    with _themed():
        if stacked:
            size = (4.6, sum(1.3 + 0.36 * k for k in sizes))
            axes = Figure(figsize=size, layout="constrained").subplots(
                len(panels), 1, squeeze=False, height_ratios=[1.3 + 0.36 * k for k in sizes])[:, 0]
        else:
            size = (7 * len(panels), 1.2 + 0.38 * max(sizes))
            axes = Figure(figsize=size, layout="constrained").subplots(
                1, len(panels), squeeze=False)[0]
        fig = axes[0].figure
        for ax, panel in zip(axes, panels, strict=True):
            part = table[table[panel_col] == panel].copy()
            part["__g"] = pd.Categorical(part[group_col], categories=list(colours))
            part = part.sort_values(["__g", value_col], ascending=[False, True], kind="stable")
            y = np.arange(len(part))
            vals = part[value_col].to_numpy(float)
            ax.barh(y, vals, color=[colours[g] for g in part[group_col]], height=0.65)
            for yy, v in zip(y, vals, strict=True):
                ax.text(v + 1, yy, f"{v:.0f}", va="center", fontsize=9)
            ax.set_yticks(y, [wrap_label(v, width) for v in part[label_col]])
            ax.set_xlim(0, 112)
            ax.set_xlabel(xlabel)
            ax.set_title(str(panel), pad=24)
            ax.grid(axis="y", visible=False)
            top_down = list(dict.fromkeys(part[group_col].iloc[::-1]))  # y grows upwards
            handles = [mpatches.Patch(color=colours[g], label=str(g)) for g in top_down]
            # between the title and the bars: never over a bar or its value
            ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=9,
                      ncols=len(handles), borderaxespad=0.2, handlelength=1.2,
                      columnspacing=0.8)
    fig._sdc_protected = _gated(table)  # see Report.figure
    return fig
