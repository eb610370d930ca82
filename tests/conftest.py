"""Shared fixtures: the project root, and one built copy of the compendium per session."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
IGNORE = shutil.ignore_patterns(".venv", ".git", "outputs", "outputs-real", "__pycache__",
                                "*.egg-info", ".pytest_cache", ".ruff_cache", ".hypothesis")


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The checkout under test."""
    return ROOT


@pytest.fixture(scope="session")
def cb():
    """The survey codebook."""
    from compendium.data.codebook import load_codebook

    return load_codebook(ROOT / "data" / "codebooks" / "ops_survey.yaml")


@pytest.fixture(scope="session")
def cal() -> dict:
    """The survey generator's calibration targets."""
    import yaml

    return yaml.safe_load((ROOT / "data" / "calibration" / "survey.yaml").read_text("utf-8"))


def make(project: Path, *args: str, check: bool = True, timeout: int = 900):
    """Run make in ``project`` with the current environment's venv; return the result."""
    env = {k: v for k, v in os.environ.items() if k not in ("PARAMS", "HIDE_CODE", "MAKEFLAGS")}
    res = subprocess.run(["make", "-C", str(project), f"VENV={VENV}", *args],
                         capture_output=True, text=True, env=env, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} failed:\n{res.stdout[-3000:]}\n"
                             f"{res.stderr[-3000:]}")
    return res


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative paths), stamps excluded."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".stamps" not in p.parts}


def ran(result) -> list[str]:
    """Notebooks the runner executed in a make call."""
    return [ln.split()[-1] for ln in result.stderr.splitlines()
            if ln.startswith("[compendium] running")]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A copy of the project (mtimes preserved) built once with `make -j2 all`."""
    project = tmp_path_factory.mktemp("compendium") / "project"
    shutil.copytree(ROOT, project, ignore=IGNORE, copy_function=shutil.copy2)
    (project / "outputs").mkdir(exist_ok=True)
    for name in ("MANIFEST.sha256", "README.md"):
        if (ROOT / "outputs" / name).exists():
            shutil.copy2(ROOT / "outputs" / name, project / "outputs" / name)
    make(project, "-j2", "all")
    return project


def pytest_terminal_summary(terminalreporter) -> None:
    """Report how many mutated raw files tests/test_mutations.py fed to the readers."""
    for name, module in list(sys.modules.items()):
        tally = getattr(module, "MUTATION_TALLY", None) if name.endswith("test_mutations") else None
        if tally and tally["tried"]:
            kinds = sum(1 for key in tally if key.startswith("kind:"))
            terminalreporter.write_line(
                f"mutation tests: {tally['tried']} mutated inputs tried ({kinds} kinds), "
                f"{tally['refused']} refused with a clear error, {tally['read']} read fine"
            )
