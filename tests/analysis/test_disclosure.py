"""compendium.analysis.disclosure: hand-worked suppression patterns, invariants on random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from compendium.analysis.disclosure import (
    small_counts_in_csv,
    suppress,
    suppress_counts_column,
    suppress_one_way,
    suppression_mask,
)
from compendium.errors import DataError, ParameterError


def cells(mask: pd.DataFrame) -> set[tuple[object, object]]:
    return {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}


def with_margins(values: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(values)
    df.columns = [f"c{j}" for j in range(df.shape[1])]
    df.index = [f"r{i}" for i in range(df.shape[0])]
    df["Total"] = df.sum(axis=1)
    df.loc["Total"] = df.sum(axis=0)
    return df


# --------------------------------------------------------------------------- hand-worked
TABLE_3X3 = pd.DataFrame(
    [[2, 10, 20], [8, 15, 9], [12, 7, 30]], index=list("ABC"), columns=list("xyz")
)


def test_primary_suppression_hides_only_small_nonzero_cells():
    mask = suppression_mask(TABLE_3X3, min_cell=5, secondary=False)
    assert cells(mask) == {("A", "x")}


def test_secondary_suppression_hides_a_second_cell_in_row_and_column_then_closes():
    # (A,x)=2 is small. Row A: the smallest other cell is (A,y)=10. Column x: the
    # smallest other cell is (B,x)=8. Now row B and column y each hold one
    # suppression; (B,y)=15 completes both at once (preferred over (B,z)=9, which
    # would leave column y and then column z needing more).
    out = suppress(TABLE_3X3, min_cell=5)
    assert cells(suppression_mask(TABLE_3X3)) == {("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")}
    assert out.loc["A"].tolist() == ["<5", "<5", 20]
    assert out.loc["B"].tolist() == ["<5", "<5", 9]
    assert out.loc["C"].tolist() == [12, 7, 30]
    assert out.dtypes.eq(object).all()
    assert type(out.loc["C", "z"]) is int


def test_suppress_uses_a_custom_marker_for_every_hidden_cell():
    out = suppress(TABLE_3X3, min_cell=5, marker="c")
    assert (out == "c").sum().sum() == 4


def test_structural_zero_stays_published_and_nonzero_partner_is_preferred():
    # (B,x)=3 is small. Row B: (B,z)=9 (smallest). Column x: 6 is taken, not the
    # zero. Row C then holds one suppression: (C,z)=11 completes column z too.
    table = pd.DataFrame(
        [[0, 12, 7], [3, 20, 9], [6, 8, 11]], index=list("ABC"), columns=list("xyz")
    )
    mask = suppression_mask(table)
    assert cells(mask) == {("B", "x"), ("B", "z"), ("C", "x"), ("C", "z")}
    assert suppress(table).loc["A", "x"] == 0


def test_one_column_table_hides_a_second_count_so_the_total_does_not_reveal_it():
    out = suppress(pd.DataFrame({"n": [3, 10, 12]}))
    assert out["n"].tolist() == ["<5", "<5", 12]


def test_audit_breaks_a_bridge_between_two_blocks_of_suppressions():
    # Nine primary cells already give every row and column two suppressions, but
    # the block rows 0-1 x cols 0-1 and the block rows 2-3 x cols 2-3 are joined
    # only by (0,2): x02 = row0 - (col0 + col1 - row1) from published totals.
    v = np.full((5, 5), 5)
    primary = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)]
    for c in primary:
        v[c] = 2
    partners = {(0, 3): 9, (1, 2): 8, (1, 3): 9, (2, 0): 7, (2, 1): 9, (3, 0): 9, (3, 1): 9}
    for c, x in partners.items():
        v[c] = x
    table = pd.DataFrame(v)
    known = ~suppression_mask(table, secondary=False).to_numpy()
    row0, row1 = v[0].sum(), v[1].sum()
    col0, col1 = v[:, 0].sum(), v[:, 1].sum()
    pub = np.where(known, v, 0)
    x00_plus_x10 = col0 - pub[:, 0].sum()
    x01_plus_x11 = col1 - pub[:, 1].sum()
    x10_plus_x11 = row1 - pub[1].sum()
    recovered = row0 - pub[0].sum() - (x00_plus_x10 + x01_plus_x11 - x10_plus_x11)
    assert recovered == v[0, 2]  # primary pattern alone leaks (0,2)
    # Cells that put (0,2) on a cycle join {r0,r1,c0,c1} with {r2,r3,c2,c3}; of those
    # `partners` the smallest is (2,0)=7. Row 4 / column 4 (value 5) would not help.
    assert cells(suppression_mask(table)) == set(primary) | {(2, 0)}


def test_margins_are_suppressed_consistently_with_the_body():
    # Row r0 = 1, 2 with total 3: all three are primary. Column c0 takes (r1,c0)=10,
    # column c1 takes (r1,c1)=20 (completes row r1), the Total column takes
    # (r1,Total)=30. Only the column totals stay published.
    table = with_margins(np.array([[1, 2], [10, 20]]))
    out = suppress(table)
    assert out.loc["r0"].tolist() == ["<5", "<5", "<5"]
    assert out.loc["r1"].tolist() == ["<5", "<5", "<5"]
    assert out.loc["Total"].tolist() == [11, 22, 33]


def test_margins_leave_large_totals_published():
    table = with_margins(np.array([[2, 10, 20], [8, 15, 9], [1, 7, 30]]))
    mask = suppression_mask(table)
    assert cells(mask) == {("r0", "c0"), ("r0", "c1"), ("r2", "c0"), ("r2", "c1")}


def test_margins_that_do_not_add_up_are_rejected():
    table = with_margins(np.array([[2, 10], [8, 15]]))
    table.loc["Total", "c1"] = 26
    with pytest.raises(ParameterError, match="'Total' row does not add up in column 'c1'"):
        suppress(table)


def test_suppress_rejects_negative_or_missing_counts():
    with pytest.raises(ParameterError, match=r"row 1, column 'b'\) is -1"):
        suppress(pd.DataFrame({"a": [1, 2], "b": [3, -1]}))
    with pytest.raises(ParameterError, match="non-negative integer counts"):
        suppress(pd.DataFrame({"a": [1.5, 2.0]}))


# --------------------------------------------------------------------------- invariants
def _determined_cells(values: np.ndarray, mask: np.ndarray, lower: float | None) -> list:
    """Suppressed cells whose min == max given the line totals (LP, independent of sdc)."""
    n_rows, n_cols = values.shape
    hidden = [tuple(c) for c in np.argwhere(mask)]
    index = {c: k for k, c in enumerate(hidden)}
    lines = []
    if n_cols >= 2:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    if n_rows >= 2:
        lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    a_eq, b_eq = [], []
    for line in lines:
        row = np.zeros(len(hidden))
        for c in line:
            if c in index:
                row[index[c]] = 1
        if row.any():
            a_eq.append(row)
            b_eq.append(sum(values[c] for c in line if c in index))
    if not a_eq:
        return []
    out = []
    for k, c in enumerate(hidden):
        obj = np.zeros(len(hidden))
        obj[k] = 1
        lo = linprog(obj, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(lower, None))
        hi = linprog(-obj, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(lower, None))
        if lo.status == 0 and hi.status == 0 and abs(lo.fun + hi.fun) < 1e-7:
            out.append(c)
    return out


tables = st.integers(1, 4).flatmap(
    lambda r: st.integers(1, 4).flatmap(
        lambda c: st.lists(
            st.lists(st.integers(0, 14), min_size=c, max_size=c), min_size=r, max_size=r
        )
    )
)
SETTINGS = settings(  # the loaded profile caps the budget (`make test-fast`: a few examples)
    max_examples=min(80, settings.default.max_examples),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check_lines(values: np.ndarray, mask: np.ndarray, min_cell: int) -> None:
    published = values[~mask]
    assert not ((published >= 1) & (published < min_cell)).any()
    n_rows, n_cols = mask.shape
    if n_cols >= 2:
        assert all(mask[i].sum() == 0 or mask[i].sum() >= 2 for i in range(n_rows))
    if n_rows >= 2:
        assert all(mask[:, j].sum() == 0 or mask[:, j].sum() >= 2 for j in range(n_cols))


@SETTINGS
@given(tables, st.integers(2, 6))
def test_no_small_count_is_published_and_no_line_has_a_lone_suppression(rows, min_cell):
    values = np.array(rows)
    mask = suppression_mask(pd.DataFrame(values), min_cell=min_cell).to_numpy()
    _check_lines(values, mask, min_cell)
    primary = (values >= 1) & (values < min_cell)
    assert (mask >= primary).all()
    out = suppress(pd.DataFrame(values), min_cell=min_cell)
    assert ((out == f"<{min_cell}").to_numpy() == mask).all()


@SETTINGS
@given(tables)
def test_no_suppressed_cell_follows_from_row_and_column_totals(rows):
    values = np.array(rows)
    mask = suppression_mask(pd.DataFrame(values)).to_numpy()
    assert _determined_cells(values, mask, lower=None) == []


@SETTINGS
@given(tables)
def test_with_margins_no_cell_is_pinned_even_using_non_negativity(rows):
    table = with_margins(np.array(rows))
    values = table.to_numpy()
    mask = suppression_mask(table).to_numpy()
    _check_lines(values, mask, 5)
    assert _determined_cells(values, mask, lower=0) == []


@SETTINGS
@given(tables)
def test_primary_only_mask_is_exactly_the_small_nonzero_cells(rows):
    values = np.array(rows)
    mask = suppression_mask(pd.DataFrame(values), secondary=False).to_numpy()
    assert (mask == ((values > 0) & (values < 5))).all()


# --------------------------------------------------------------------------- long tables
def test_suppress_counts_column_hides_small_counts_and_their_percentages():
    df = pd.DataFrame(
        {
            "category": ["a", "b", "c"],
            "n": [3, 12, 20],
            "pct": [3 / 35 * 100, 12 / 35 * 100, 20 / 35 * 100],
            "ci_low": [2.0, 20.0, 40.0],
        }
    )
    out = suppress_counts_column(df, ["n"], min_cell=5, pct_cols=["pct", "ci_low"])
    assert out["n"].tolist() == ["<5", 12, 20]
    assert np.isnan(out.loc[0, "pct"]) and np.isnan(out.loc[0, "ci_low"])
    assert out.loc[1, "pct"] == pytest.approx(12 / 35 * 100)
    assert out.attrs["n_suppressed"] == 1
    assert df["n"].tolist() == [3, 12, 20]  # input untouched


def test_suppress_counts_column_hides_percentages_on_a_base_below_ten():
    df = pd.DataFrame({"category": ["a", "b"], "n": [5, 4], "pct": [5 / 9 * 100, 4 / 9 * 100]})
    out = suppress_counts_column(df, ["n"], min_cell=3, pct_cols=["pct"], min_base=10)
    assert out["n"].tolist() == [5, 4]
    assert out["pct"].isna().all()
    df.attrs["base"] = 12  # e.g. from proportion_table: the base wins over the sum
    assert suppress_counts_column(df, ["n"], min_cell=3, pct_cols=["pct"])["pct"].notna().all()


def test_suppress_counts_column_uses_a_per_row_base_column():
    df = pd.DataFrame(
        {"city": ["Kalisz", "Konin"], "n_yes": [6, 7], "n_answered": [8, 30], "pct": [75.0, 23.3]}
    )
    out = suppress_counts_column(
        df, ["n_yes", "n_answered"], pct_cols=["pct"], base_col="n_answered"
    )
    assert np.isnan(out.loc[0, "pct"]) and out.loc[1, "pct"] == pytest.approx(23.3)


# --------------------------------------------------------------------------- scanner
def test_scanner_reports_small_counts_in_n_columns_with_spreadsheet_rows(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text(
        "group,n,pct,n_total,year\na,3,2.5,40,2020\nb,<5,,12,2\nc,12,4,1.0,3\n",
        encoding="utf-8",
    )
    assert small_counts_in_csv(path, min_cell=5) == [(2, "n", 3), (4, "n_total", 1)]


def test_scanner_treats_every_numeric_cell_of_a_counts_file_as_a_count(tmp_path):
    path = tmp_path / "city_by_role_counts.csv"
    path.write_text("role,Kalisz,Konin\nmayor,0,4\nclerk,12,<5\n", encoding="utf-8")
    assert small_counts_in_csv(path, min_cell=5) == [(2, "Konin", 4)]
    assert small_counts_in_csv(path, min_cell=3) == []


def test_scanner_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="nothing.csv.*file not found"):
        small_counts_in_csv(tmp_path / "nothing.csv")


def test_one_way_secondary_hides_a_second_category_of_the_same_variable():
    df = pd.DataFrame({
        "variable": ["a", "a", "a", "b", "b"],
        "n": [2, 7, 30, 6, 9],
        "pct": [5.1, 17.9, 76.9, 40.0, 60.0],
        "n_base": [39, 39, 39, 15, 15],
    })
    out = suppress_one_way(df, "n", "variable", min_cell=5, pct_cols=["pct"],
                               base_col="n_base")
    # 2 is primary; 7 is the smallest other non-zero count of "a", so 2 = 39 - 7 - 30
    # cannot be worked out; variable "b" has nothing small and stays as it is.
    assert out["n"].tolist() == ["<5", "<5", 30, 6, 9]
    assert out["pct"].isna().tolist() == [True, True, False, False, False]
    assert out.attrs["n_suppressed"] == 2


def test_one_way_secondary_not_needed_when_two_categories_are_small():
    df = pd.DataFrame({"variable": ["a"] * 3, "n": [2, 3, 30], "n_base": [35] * 3})
    out = suppress_one_way(df, "n", "variable", min_cell=5, base_col="n_base")
    assert out["n"].tolist() == ["<5", "<5", 30]
