"""The theme constants in ``compendium.publish.plots`` are seaborn's own values (the oracle:
seaborn itself), written out so that a plot does not import seaborn and pyplot; and a dense
heat map is one raster image in its SVG, not one path per cell."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import seaborn as sns

from compendium.publish import plots


def test_theme_constants_are_seaborns_whitegrid_notebook_and_colorblind():
    assert dict(sns.axes_style("whitegrid")) == plots._WHITEGRID_RC
    assert dict(sns.plotting_context("notebook")) == plots._NOTEBOOK_RC
    assert plots._palette() == sns.color_palette("colorblind").as_hex()


@pytest.mark.parametrize("k", [2, 3, 4, 5, 7, 11])
def test_likert_colours_are_seaborns_rdbu_palette(k):
    assert plots._cmap_colours("RdBu", k) == sns.color_palette("RdBu", k).as_hex()


def test_plots_module_imports_neither_pyplot_nor_seaborn(fresh_imports):
    # a fresh interpreter's sys.modules after `import compendium.publish.plots` (conftest.py)
    assert not {"matplotlib.pyplot", "seaborn"} & set(fresh_imports["plots"])


def test_a_dense_heatmap_is_rasterised_in_svg(tmp_path):
    rng = np.random.default_rng(0)
    n_rows = 400  # above max_annotated_rows: the scaled-up case
    matrix = pd.DataFrame(rng.integers(0, 5, size=(n_rows, 12)),
                          columns=[f"c{j}" for j in range(12)])
    fig = plots.heatmap(matrix, max_annotated_rows=60)
    (svg,) = plots.save_figure(fig, tmp_path / "dense", formats=("svg",))
    text = svg.read_text("utf-8")
    assert "<image" in text
    # far fewer paths than the 4 800 cells (axes, ticks, colour bar and glyphs remain)
    assert len(re.findall(r"<path", text)) < n_rows * 12 / 4
