"""The declared dependencies, the three locks, environment.yml and the citation files agree.

Oracles: the lock files are written by uv and read here with ``packaging`` (not our regex);
pyproject.toml is read with ``tomllib``; the installed package's metadata is written by
setuptools; codemeta.json is compared with what cffconvert itself produces.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from compendium.envfile import CONDA_FORGE, conda_and_pip, environment_yaml, pins_from_environment

LOCKS = ("requirements.txt", "requirements-lab.txt", "requirements-dev.txt")
NOT_RUNTIME = {"jupyterlab", "pytest", "hypothesis", "playwright", "ruff", "pre-commit",
               "nbstripout", "scikit-learn", "firthmodels"}  # the last two: test oracles


def read_lock(path: Path) -> dict[str, str]:
    """name -> exact version, every requirement line parsed by ``packaging``."""
    out = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier  # exactly one specifier ...
        assert spec.operator == "==", line  # ... and it is an exact pin
        out[canonicalize_name(req.name)] = spec.version
    return out


@pytest.fixture(scope="module")
def pyproject(project_root) -> dict:
    return tomllib.loads((project_root / "pyproject.toml").read_text("utf-8"))


@pytest.fixture(scope="module")
def locks(project_root) -> dict[str, dict[str, str]]:
    return {name: read_lock(project_root / name) for name in LOCKS}


def group_names(pyproject: dict, group: str) -> set[str]:
    """Direct requirement names of a PEP 735 group, includes followed."""
    names = set()
    for item in pyproject["dependency-groups"][group]:
        if isinstance(item, dict):
            names |= group_names(pyproject, item["include-group"])
        else:
            names.add(canonicalize_name(Requirement(item).name))
    return names


def test_runtime_lock_is_inside_the_lab_and_dev_locks_at_the_same_versions(locks):
    runtime, lab, dev = (locks[n] for n in LOCKS)
    assert len(runtime) > 50  # transitive dependencies included
    assert runtime.items() <= lab.items() <= dev.items()


def test_runtime_declares_what_a_rebuild_needs_and_no_tool(pyproject, locks):
    direct = {canonicalize_name(Requirement(r).name) for r in pyproject["project"]["dependencies"]}
    assert direct <= locks["requirements.txt"].keys()
    assert "scikit-learn" not in direct
    assert NOT_RUNTIME.isdisjoint(locks["requirements.txt"])


#: Runtime dependencies that no module imports by name, each with the text in src/ that uses
#: it (pandas loads the engine by a string).
USED_BY_NAME = {"python-calamine": 'engine="calamine"'}


def imported_top_level_modules(sources: list[str]) -> set[str]:
    """Top-level names of every absolute import in the given Python sources (parsed by ast)."""
    names = set()
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_runtime_dependency_is_used_by_the_package_or_a_notebook(project_root, pyproject):
    """A declared runtime dependency that nothing imports (pyarrow was one: 170 MB) fails.
    Oracle: the installers' record of which distribution provides which top-level module
    (``packages_distributions``), and the sources parsed by ``ast``."""
    src = [p.read_text("utf-8") for p in (project_root / "src").rglob("*.py")]
    cells = [
        "".join(line for line in cell["source"] if not line.lstrip().startswith(("%", "!")))
        for nb in sorted((project_root / "notebooks").glob("*.ipynb"))
        for cell in json.loads(nb.read_text("utf-8"))["cells"] if cell["cell_type"] == "code"
    ]
    provides = metadata.packages_distributions()
    used = {canonicalize_name(dist) for module in imported_top_level_modules(src + cells)
            for dist in provides.get(module, [])}
    declared = {canonicalize_name(Requirement(r).name)
                for r in pyproject["project"]["dependencies"]}
    for name, text in USED_BY_NAME.items():
        assert any(text in s for s in src), f"{name}: {text!r} no longer in src/"
    assert declared - used - USED_BY_NAME.keys() == set()
    assert "pyarrow" not in used | declared


def test_imported_top_level_modules_reads_only_absolute_imports():
    text = "import a.b, c\nfrom d.e import f\nfrom . import g\nfrom .h import i\nx = 'import j'\n"
    assert imported_top_level_modules([text]) == {"a", "c", "d"}


def test_each_group_is_locked(pyproject, locks):
    assert group_names(pyproject, "dev") >= {"pytest", "ruff", "playwright", "jupyterlab"}
    assert group_names(pyproject, "dev") <= locks["requirements-dev.txt"].keys()
    assert group_names(pyproject, "lab") <= locks["requirements-lab.txt"].keys()


def test_installed_package_metadata_lists_the_runtime_dependencies(pyproject):
    """setuptools wrote Requires-Dist from pyproject.toml (the wheel would carry the same)."""
    requires = metadata.requires("compendium") or []
    declared = pyproject["project"]["dependencies"]
    names = {canonicalize_name(Requirement(r).name) for r in declared}
    assert {canonicalize_name(Requirement(r).name) for r in requires} == names


def test_environment_yml_has_exactly_the_lab_lock_pins(project_root, locks):
    text = (project_root / "environment.yml").read_text("utf-8")
    env = yaml.safe_load(text)
    conda = [d for d in env["dependencies"] if isinstance(d, str) and "==" in d]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    by_conda_name = {pypi: conda_name for pypi, conda_name in CONDA_FORGE.items()}
    expected_conda = sorted(f"{by_conda_name[n]}=={v}" for n, v in
                            locks["requirements-lab.txt"].items() if n in CONDA_FORGE)
    assert sorted(conda) == expected_conda
    assert {"numpy", "scipy", "pandas", "matplotlib-base"} <= {c.split("==")[0] for c in conda}
    expected_pip = {n: v for n, v in locks["requirements-lab.txt"].items() if n not in CONDA_FORGE}
    assert read_lock_lines(pip) == expected_pip
    assert "python=3.11" in env["dependencies"] and env["channels"] == ["conda-forge"]


def read_lock_lines(lines: list[str]) -> dict[str, str]:
    reqs = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): next(iter(r.specifier)).version for r in reqs}


def test_environment_yaml_splits_conda_forge_and_pip_and_reads_back():
    text = environment_yaml("pandas==3.1.1\n    # via x\nmatplotlib==3.11.2\nkrippendorff==0.9.0\n")
    conda, pip = conda_and_pip(text)
    assert conda == {"pandas": "3.1.1", "matplotlib-base": "3.11.2"}
    assert pip == {"krippendorff": "0.9.0"}
    assert pins_from_environment(text) == {"pandas": "3.1.1", "matplotlib": "3.11.2",
                                           "krippendorff": "0.9.0"}


def test_binder_postbuild_installs_the_package_with_make(project_root):
    assert "make env" in (project_root / "postBuild").read_text("utf-8")


def test_pre_commit_hooks_install_from_pypi_only_at_the_locked_versions(project_root, locks):
    config = yaml.safe_load((project_root / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert all(repo["repo"] == "local" for repo in config["repos"])  # no git download
    assert {"nbstripout", "ruff"} <= {h["id"] for h in hooks}
    for hook in hooks:
        for dep in hook.get("additional_dependencies", []):
            req = Requirement(dep)
            name = canonicalize_name(req.name)
            if name in locks["requirements-dev.txt"]:
                assert str(req.specifier) == f"=={locks['requirements-dev.txt'][name]}", dep


@pytest.mark.slow
def test_citation_validates_and_codemeta_is_cffconverts_output(project_root, tmp_path):
    """cffconvert (run by uv in its own environment) validates CITATION.cff and produces
    exactly the committed codemeta.json."""
    uv = Path(sys.prefix) / "bin" / "uv"
    uv = str(uv) if uv.exists() else shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not installed: run `make env`")
    cff = [uv, "tool", "run", "--from", "cffconvert==2.0.0", "cffconvert"]
    cit = str(project_root / "CITATION.cff")
    res = subprocess.run([*cff, "--validate", "-i", cit], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    out = tmp_path / "codemeta.json"
    subprocess.run([*cff, "-i", cit, "-f", "codemeta", "-o", str(out)], check=True,
                   capture_output=True)
    committed = (project_root / "codemeta.json").read_text("utf-8")
    assert json.loads(committed) == json.loads(out.read_text("utf-8"))
    assert "codeRepository" in json.loads(committed)


@pytest.mark.parametrize(
    ("target", "installed", "not_installed"),
    [
        ("all", {"requirements.txt"}, {"requirements-dev.txt", "requirements-lab.txt"}),
        ("lab", {"requirements.txt", "requirements-lab.txt"}, {"requirements-dev.txt"}),
        ("test-fast", {"requirements.txt", "requirements-dev.txt"}, set()),
    ],
)
def test_each_target_installs_only_its_locks_into_a_fresh_venv(project_root, tmp_path, target,
                                                               installed, not_installed):
    """Oracle: make's own dry run (-n) for a venv that does not exist yet."""
    res = subprocess.run(["make", "-n", "-C", str(project_root), target,
                          f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    locks = {lock for lock in LOCKS if f"-r {lock}" in res.stdout}
    assert locks >= installed and locks.isdisjoint(not_installed)
