"""The project root is found from any folder inside it, and relative paths are read from it.

Oracle: project trees made here in a temporary folder, with the expected answers worked by
hand from their layout (e.g. ``data`` seen from ``notebooks/`` is ``../data``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compendium import paths
from compendium.errors import CompendiumError
from compendium.publish import params


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A minimal compendium: data/raw/dataset.yaml, notebooks/, and a deeper folder."""
    root = tmp_path / "proj"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "dataset.yaml").write_text("kind: synthetic\n", "utf-8")
    (root / "notebooks" / "drafts").mkdir(parents=True)
    return root


@pytest.fixture
def no_env_root(monkeypatch):
    monkeypatch.delenv(paths.ENV_VAR, raising=False)


def test_root_is_found_from_the_root_and_from_folders_below_it(project, no_env_root):
    assert paths.find_root(project) == project.resolve()
    assert paths.find_root(project / "notebooks") == project.resolve()
    assert paths.find_root(project / "notebooks" / "drafts") == project.resolve()


def test_no_root_outside_a_project(tmp_path, no_env_root):
    assert paths.find_root(tmp_path) is None
    with pytest.raises(CompendiumError, match="dataset.yaml"):
        paths.project_root(tmp_path)


def test_a_folder_named_data_without_the_marker_is_not_a_root(project, no_env_root):
    (project / "notebooks" / "data" / "raw").mkdir(parents=True)  # no dataset.yaml in it
    assert paths.find_root(project / "notebooks") == project.resolve()


def test_environment_variable_wins_and_is_checked(project, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert paths.find_root(other, environ={paths.ENV_VAR: str(project)}) == project.resolve()
    with pytest.raises(CompendiumError, match=paths.ENV_VAR):
        paths.find_root(project, environ={paths.ENV_VAR: str(other)})


def test_relative_paths_are_read_from_the_root_and_written_from_the_cwd(project, no_env_root):
    assert paths.from_root("data", start=project) == "data"
    assert paths.from_root("data", start=project / "notebooks") == "../data"
    assert paths.from_root("outputs/results", start=project / "notebooks" / "drafts") == (
        "../../outputs/results"
    )
    assert paths.from_root("/srv/real-exports", start=project / "notebooks") == (
        "/srv/real-exports"
    )


def test_outside_a_project_relative_paths_are_left_as_given(tmp_path, no_env_root):
    assert paths.from_root("data", start=tmp_path) == "data"


def test_notebook_parameters_resolve_from_notebooks_folder(project, no_env_root, monkeypatch):
    """The schema's defaults and given values alike, as a kernel in notebooks/ sees them."""
    monkeypatch.chdir(project / "notebooks")
    p = params.validate("04_synthesis", {"output_dir": "outputs"})
    assert (p.data_dir, p.output_dir, p.results_dir) == ("../data", "../outputs",
                                                          "../outputs/results")
    assert (Path(p.data_dir) / "raw" / "dataset.yaml").is_file()  # the real file, from here
    monkeypatch.chdir(project)
    p = params.validate("04_synthesis", {})
    assert (p.data_dir, p.output_dir) == ("data", "outputs")  # make runs here: unchanged
    assert os.path.isabs(params.validate("01_ops_survey", {"data_dir": str(project / "data")})
                         .data_dir)
