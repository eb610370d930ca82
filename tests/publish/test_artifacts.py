"""Atomic, deterministic output writing."""

import json

import pandas as pd
import pytest

from compendium import artifacts


def test_write_table_is_deterministic_and_leaves_no_temp_files(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.1234567, 2.0]})
    p = artifacts.write_table(df, tmp_path / "t" / "x.csv")
    first = p.read_bytes()
    artifacts.write_table(df, p)
    assert p.read_bytes() == first == b"a,b\n1,0.123457\n2,2\n"
    assert [q.name for q in p.parent.iterdir()] == ["x.csv"]


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    p = artifacts.atomic_write_text(tmp_path / "x.txt", "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.os, "replace", boom)
    with pytest.raises(OSError):
        artifacts.atomic_write_text(p, "new")
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["x.txt"]


def test_update_results_merges_sections_with_sorted_keys(tmp_path):
    import numpy as np

    p = tmp_path / "r.json"
    artifacts.update_results(p, "results", {"b": np.int64(2), "a": 1 / 3})
    artifacts.update_results(p, "findings", ["x"])
    data = json.loads(p.read_text())
    assert data == {"findings": ["x"], "results": {"a": 0.333333, "b": 2}}
    assert p.read_text().index('"findings"') < p.read_text().index('"results"')
