"""compendium.analysis.disclosure: the published-CSV scanner, on hand-written files.

(The per-table suppression rules that lived here were replaced by the notebooks' ledger,
tested in ``test_disclosure_audit.py`` and by the attacker test.)"""

from __future__ import annotations

import pytest

from compendium.analysis.disclosure import small_counts_in_csv
from compendium.errors import DataError, ParameterError


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


@pytest.mark.parametrize("bad", [True, 0, 2.0, "5"])
def test_scanner_refuses_a_min_cell_that_is_not_a_positive_integer(tmp_path, bad):
    path = tmp_path / "t.csv"
    path.write_text("n\n1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="min_cell"):
        small_counts_in_csv(path, min_cell=bad)


def test_the_ledger_marker_is_not_read_as_a_count(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("option,n,n_base\nVietnam,x,123\nUkraine,116,123\n", encoding="utf-8")
    assert small_counts_in_csv(path, min_cell=5) == []
