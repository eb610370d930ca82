"""The source notebooks keep the shape every analysis shares (STYLE: a notebook's anatomy)."""

import ast

import nbformat
import pytest
from conftest import ROOT

from compendium.publish import params

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb(request):
    return request.param.stem, nbformat.read(request.param, as_version=4)


def test_there_is_a_notebook_per_parameter_schema():
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(params.SCHEMAS)


def test_committed_without_outputs(nb):
    _, book = nb
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_parameters_cell_holds_literal_assignments_only(nb):
    stem, book = nb
    tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0].source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)  # nothing computed in the parameters cell
        names |= {t.id for t in node.targets}
    assert names == set(params.cell_defaults(stem))  # run switches are set per run only


def test_parameters_are_validated_right_after_the_parameters_cell(nb):
    stem, book = nb
    code = [c for c in book.cells if c.cell_type == "code"]
    idx = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    assert f'notebook.start("{stem}", globals())' in code[idx + 1].source


def test_story_ends_with_findings_limits_and_colophon(nb):
    _, book = nb
    md = "\n".join(c.source for c in book.cells if c.cell_type == "markdown")
    assert "## Key findings" in md and "## Limits" in md
    assert book.cells[-1].source.strip() == "nb.colophon()"
    assert "Synthetic data" in md
