"""compendium.publish.plots: exact diverging geometry, figure contents, byte-stable saving."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from compendium.errors import ParameterError  # noqa: E402
from compendium.publish import plots as P  # noqa: E402

SCALE5 = ["zdecydowanie nie", "raczej nie", "ani tak, ani nie", "raczej tak", "zdecydowanie tak"]


# --------------------------------------------------------------------------- layout
def test_diverging_layout_splits_the_neutral_category_across_zero():
    pct = pd.DataFrame([[10, 20, 30, 25, 15]], index=["item"], columns=SCALE5)
    lay = P.diverging_layout(pct, neutral="ani tak, ani nie")
    # negatives 10 + 20 and half the neutral (15) lie left of zero: start at -45
    assert lay["category"].tolist() == SCALE5
    assert lay["left"].tolist() == pytest.approx([-45, -35, -15, 15, 40])
    assert lay["width"].tolist() == pytest.approx([10, 20, 30, 25, 15])
    neutral = lay[lay["category"] == "ani tak, ani nie"].iloc[0]
    assert neutral["left"] + neutral["width"] / 2 == pytest.approx(0)


def test_diverging_layout_without_neutral_splits_between_the_middle_two():
    pct = pd.DataFrame(
        [[10, 30, 40, 20], [0, 0, 50, 50]], index=["a", "b"], columns=["--", "-", "+", "++"]
    )
    lay = P.diverging_layout(pct, neutral=None)
    assert lay["item"].tolist() == ["a"] * 4 + ["b"] * 4
    assert lay["left"].tolist() == pytest.approx([-40, -30, 0, 40, 0, 0, 0, 50])
    assert lay["width"].tolist() == pytest.approx([10, 30, 40, 20, 0, 0, 50, 50])


def test_diverging_layout_rejects_bad_scales_and_rows():
    pct = pd.DataFrame([[20, 30, 50]], index=["x"], columns=["no", "meh", "yes"])
    with pytest.raises(ParameterError, match="odd number of categories"):
        P.diverging_layout(pct)
    with pytest.raises(ParameterError, match="'maybe' is not a column"):
        P.diverging_layout(pct, neutral="maybe")
    with pytest.raises(ParameterError, match="item 'x' sums to 90"):
        P.diverging_layout(pct.assign(yes=40), neutral="meh")


# --------------------------------------------------------------------------- likert
def _bars(fig: Figure) -> list[Rectangle]:
    ax = fig.axes[0]
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 1]


def test_diverging_likert_draws_the_layout_sorted_by_agreement_with_n():
    counts = pd.DataFrame(
        [[1, 1, 2, 4, 2], [6, 2, 0, 1, 1]],
        index=["Pomoc sąsiedzka", "Urząd ma zasoby"],
        columns=SCALE5,
    )
    fig = P.diverging_likert(counts, neutral="ani tak, ani nie", title="Opinie")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    positions = [t.get_position()[1] for t in ax.get_yticklabels()]
    top_first = [lab for _, lab in sorted(zip(positions, labels, strict=True), reverse=True)]
    # 60 % agree vs 20 % agree: "Pomoc sąsiedzka" on top; base shown per item
    assert top_first == ["Pomoc sąsiedzka (n = 10)", "Urząd ma zasoby (n = 10)"]
    bars = _bars(fig)
    assert len(bars) == 10
    # first item (top row): lefts -30, -20, -10, 10, 50 (neutral 20 % split across zero)
    top_y = max(positions)
    top = sorted((b.get_x(), b.get_width()) for b in bars if b.get_y() + 0.35 == top_y)
    assert [x for x, _ in top] == pytest.approx([-30, -20, -10, 10, 50])
    # The legend reads row by row, left to right, in the order of the bars' segments
    # (matplotlib fills legend columns first: check the drawn positions, not the list).
    fig.draw_without_rendering()
    legend = fig.legends[0]
    placed = [(-round(t.get_window_extent().y0), t.get_window_extent().x0, t.get_text())
              for t in legend.get_texts()]
    assert [text for *_, text in sorted(placed)] == SCALE5
    assert ax.get_title(loc="left") == "Opinie"


def test_diverging_likert_rejects_an_item_without_answers():
    counts = pd.DataFrame([[0, 0], [1, 2]], index=["a", "b"], columns=["no", "yes"])
    with pytest.raises(ParameterError, match="item 'a' has no answers"):
        P.diverging_likert(counts)


# --------------------------------------------------------------------------- ranked bars
def test_ranked_bars_orders_values_and_keeps_zero_and_missing_rows():
    table = pd.DataFrame(
        {
            "option": ["Szkoła", "Praca", "Język", "Mieszkanie"],
            "pct": [0.0, 62.0, np.nan, 40.0],
            "lo": [0.0, 55.0, np.nan, 33.0],
            "hi": [3.5, 68.0, np.nan, 48.0],
        }
    )
    fig = P.ranked_bars(table, "option", "pct", "lo", "hi", title="Potrzeby")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ys = [t.get_position()[1] for t in ax.get_yticklabels()]
    top_first = [lab for _, lab in sorted(zip(ys, labels, strict=True), reverse=True)]
    assert top_first == ["Praca", "Mieszkanie", "Szkoła", "Język"]
    widths = sorted(b.get_width() for b in _bars(fig))
    assert widths == pytest.approx([0.0, 0.0, 40.0, 62.0])
    texts = {t.get_text() for t in ax.texts}
    assert {"62", "40", "0", "n/a"} <= texts
    # one whisker set, for the three rows with an interval
    assert len(ax.containers[-1].lines[2][0].get_segments()) == 3


# --------------------------------------------------------------------------- heatmap
def test_heatmap_shows_annotations_including_markers_on_missing_cells():
    matrix = pd.DataFrame(
        [[0.5, 0.2, np.nan], [0.1, 0.9, 0.3]], index=["Kalisz", "Konin"], columns=list("ABC")
    )
    annot = pd.DataFrame(
        [["n=5", "n=2", "<5"], ["n=1", "n=9", "n=3"]],
        index=["Kalisz", "Konin"],
        columns=list("ABC"),
    )
    mask = np.zeros((2, 3), dtype=bool)
    mask[1, 0] = True
    fig = P.heatmap(matrix, annot=annot, mask=mask, cbar_label="udział")
    ax = fig.axes[0]
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert ((2.5, 0.5), "<5") in texts  # suppressed cell still labelled
    assert ((1.5, 1.5), "n=9") in texts
    assert not any(pos == (0.5, 1.5) for pos, _ in texts)  # masked cell left blank
    assert fig.axes[1].get_ylabel() == "udział"


def test_heatmap_rejects_annotations_with_other_labels():
    matrix = pd.DataFrame([[1.0]], index=["a"], columns=["x"])
    with pytest.raises(ParameterError, match="same row and column labels"):
        P.heatmap(matrix, annot=pd.DataFrame([["1"]], index=["b"], columns=["x"]))


# --------------------------------------------------------------------------- theme and saving
def test_set_theme_fixes_font_palette_and_svg_determinism():
    with mpl.rc_context():
        P.set_theme()
        assert mpl.rcParams["svg.hashsalt"] == P.SVG_HASHSALT
        assert mpl.rcParams["svg.fonttype"] == "path"
        assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"
        colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        assert colours[:2] == ["#0173b2", "#de8f05"]  # seaborn "colorblind"


def test_polish_letters_render_without_missing_glyphs(tmp_path):
    counts = pd.DataFrame([[1, 2, 3, 4]], index=["Zażółć gęślą jaźń"], columns=list("ąćęł"))
    fig = P.diverging_likert(counts, title="Źródła: ŁÓDŹ, Śrem")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would be a warning
        P.save_figure(fig, tmp_path / "pl", formats=("png",))


def _figure() -> Figure:
    table = pd.DataFrame({"label": ["a", "b"], "value": [3.0, 1.0]})
    return P.ranked_bars(table, "label", "value", title="Wynik")


def test_save_figure_is_byte_identical_and_free_of_dates_and_paths(tmp_path):
    fig = _figure()
    first = P.save_figure(fig, tmp_path / "one" / "fig_2.1")
    second = P.save_figure(fig, tmp_path / "two" / "fig_2.1")
    third = P.save_figure(_figure(), tmp_path / "three" / "fig_2.1")
    assert [p.name for p in first] == ["fig_2.1.png", "fig_2.1.svg"]
    for a, b, c in zip(first, second, third, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    svg = first[1].read_text(encoding="utf-8")
    assert not re.search(r"\d{4}-\d{2}-\d{2}", svg)
    assert "<dc:date>" not in svg
    assert str(tmp_path) not in svg and "fig_2.1" not in svg
    png = first[0].read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    assert not list(tmp_path.rglob("*.tmp"))  # atomic write left no temp files


def _heatmap() -> Figure:
    matrix = pd.DataFrame([[0.5, np.nan], [0.1, 0.9]], index=["a", "b"], columns=["x", "y"])
    annot = pd.DataFrame([["n=5", "<5"], ["n=1", "n=9"]], index=["a", "b"], columns=["x", "y"])
    return P.heatmap(matrix, annot=annot, cbar_label="udział")


def _likert() -> Figure:
    counts = pd.DataFrame([[1, 2, 3, 4], [4, 3, 2, 1]], index=["p", "q"], columns=list("ABCD"))
    return P.diverging_likert(counts, legend_title="Odpowiedź")


@pytest.mark.parametrize("build", [_heatmap, _likert])
def test_every_figure_type_saves_identically_twice(tmp_path, build):
    fig = build()
    first = P.save_figure(fig, tmp_path / "a")
    second = P.save_figure(fig, tmp_path / "b")
    fresh = P.save_figure(build(), tmp_path / "c")
    for a, b, c in zip(first, second, fresh, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes()


def test_figures_stay_out_of_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    _heatmap(), _likert(), _figure()
    assert plt.get_fignums() == before


def test_save_figure_rejects_unknown_formats(tmp_path):
    with pytest.raises(ParameterError, match="unsupported \\['jpg'\\]"):
        P.save_figure(_figure(), tmp_path / "x", formats=("jpg",))


def test_heatmap_of_thousands_of_rows_drops_cell_texts_and_caps_height():
    big = pd.DataFrame(np.arange(3000).reshape(1000, 3) % 7, columns=["a", "b", "c"])
    fig = P.heatmap(big, annot=big.astype(str))
    ax = fig.axes[0]
    assert len(ax.texts) == 0
    assert fig.get_size_inches()[1] <= 12.0


# --------------------------------------------------------------------------- for reading
def test_wrap_label_breaks_long_labels_at_spaces_only():
    text = "training on procedures for foreign clients in social assistance (n = 210)"
    assert P.wrap_label(text, 30) == ("training on procedures for\nforeign clients in social\n"
                                      "assistance (n = 210)")
    assert P.wrap_label("short", 30) == "short"
    assert P.wrap_label("Integration-area-without-spaces", 10) == "Integration-area-without-spaces"


def test_row_major_makes_a_column_filled_legend_read_by_rows():
    # 5 entries in 3 columns: matplotlib fills columns of 2, 2, 1
    assert P.row_major(list("abcde"), 3) == list("adbec")
    assert P.row_major(list("abcd"), 4) == list("abcd")
    assert P.row_major(list("abcd"), 1) == list("abcd")


def _drawn_text(fig) -> str:
    fig.draw_without_rendering()
    return " ".join(t.get_text() for ax in fig.axes
                    for t in [*ax.get_yticklabels(), *ax.texts, *ax.get_xticklabels()])


def test_dollar_signs_in_labels_are_text_not_mathtext(tmp_path):
    # each of these labels makes matplotlib's mathtext parser raise ValueError
    table = pd.DataFrame({"option": ["costs $5 {$ a day", "a $\\nocmd$ b", "rent $_^$"],
                          "pct": [40.0, 20.0, 10.0]})
    fig = P.ranked_bars(table, "option", "pct")
    paths = P.save_figure(fig, tmp_path / "dollars")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert "$5 {$" in _drawn_text(P.ranked_bars(table, "option", "pct"))
    with mpl.rc_context(P.theme_rc()):
        assert mpl.rcParams["text.parse_math"] is False


def test_long_labels_are_wrapped_and_stay_inside_the_figure():
    long = "exchange of experience with centres that serve foreigners (mentoring)"
    counts = pd.DataFrame([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], index=[long, "short"],
                          columns=SCALE5)
    fig = P.diverging_likert(counts, neutral="ani tak, ani nie")
    fig.draw_without_rendering()
    for lab in fig.axes[0].get_yticklabels():
        box = lab.get_window_extent()
        assert box.x0 >= 0, f"label clipped on the left: {lab.get_text()!r}"
        assert max(len(line) for line in lab.get_text().split("\n")) <= P.LABEL_WIDTH


def test_saturation_axes_count_in_whole_numbers():
    sat = pd.DataFrame({"group": ["A"] * 3 + ["B"] * 2, "order": [1, 2, 3, 1, 2],
                        "cumulative_codes": [2, 3, 3, 1, 2]})
    fig = P.saturation_curves(sat)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    for ticks in (ax.get_xticks(), ax.get_yticks()):
        inside = [t for t in ticks if t >= 0]
        assert inside and all(float(t).is_integer() for t in inside)


SIDE = pd.DataFrame({
    "study": ["S1"] * 3 + ["S2"] * 4,
    "theme": ["Area"] * 3 + ["Qualities", "Qualities", "Risks", "Risks"],
    "label": ["Culture", "Housing", "Education", "Speed", "Flexibility",
              "Underfunding", "Coordination"],
    "pct": [86.0, 0.0, 59.0, 90.0, 72.0, 82.0, 80.0],
})


@pytest.mark.parametrize("stacked", [False, True])
def test_side_by_side_legend_lists_groups_in_the_order_of_the_bars(stacked):
    fig = P.side_by_side(SIDE, stacked=stacked)
    ax = fig.axes[1]
    fig.draw_without_rendering()
    bars = sorted((b for b in ax.patches if isinstance(b, Rectangle)),
                  key=lambda b: -b.get_y())  # second panel, top first
    colour_of = {tuple(h.get_facecolor()): h.get_label() for h in ax.get_legend().legend_handles}
    groups_top_down = list(dict.fromkeys(colour_of[tuple(b.get_facecolor())] for b in bars))
    assert groups_top_down == ["Qualities", "Risks"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == groups_top_down


def test_side_by_side_stacked_is_narrow_with_panels_one_under_the_other():
    fig = P.side_by_side(SIDE, stacked=True)
    width, height = fig.get_size_inches()
    assert width < 5 and height > width
    top, bottom = fig.axes[0].get_position(), fig.axes[1].get_position()
    assert top.y0 > bottom.y1 and abs(top.x0 - bottom.x0) < 0.2


def test_the_base_of_a_likert_item_is_never_broken_across_lines():
    counts = pd.DataFrame([[1, 2, 3, 4, 5]], columns=SCALE5,
                          index=["foreign-language course abcdefg"])  # 31 characters
    fig = P.diverging_likert(counts, neutral="ani tak, ani nie")
    label = fig.axes[0].get_yticklabels()[0].get_text()
    assert label == "foreign-language course\nabcdefg (n = 15)"
    counts.index = ["a label of exactly thirty chars"[:30]]
    label = P.diverging_likert(counts, neutral="ani tak, ani nie").axes[0].get_yticklabels()
    assert label[0].get_text() == "a label of exactly thirty char\n(n = 15)"


def test_a_heatmap_of_counts_has_whole_number_colour_ticks():
    matrix = pd.DataFrame([[0, 1], [2, 3]], index=["a", "b"], columns=["x", "y"])
    fig = P.heatmap(matrix, annot=matrix.astype(str))
    fig.draw_without_rendering()
    cbar = fig.axes[0].collections[0].colorbar
    ticks = [t for t in cbar.get_ticks() if 0 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)
