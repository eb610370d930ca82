"""Importing what the notebooks import pulls in none of the heavy optional stacks: each is
imported by the function that uses it, when it is called (the oracle: ``sys.modules`` of a
fresh interpreter, run once for these checks by the ``fresh_imports`` fixture, conftest.py)."""

from __future__ import annotations


def test_notebook_imports_load_no_heavy_stack(fresh_imports):
    assert fresh_imports["notebooks"] == []


def test_the_heavy_stack_arrives_when_a_test_runs(fresh_imports):
    assert "scipy.stats" not in fresh_imports["notebooks"]  # the step before
    assert "scipy.stats" in fresh_imports["mwu"]
