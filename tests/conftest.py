"""Shared fixtures: the project root, the codebook and calibration, and one built copy of the
compendium per session. Copying the project and running `make` in it goes through
`tests/sandbox.py` (one copy and environment policy, shared with `benchmarks/`)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hypothesis
import pytest
import sandbox
from sandbox import ROOT, snapshot

from compendium.data.sources import files_of

# `make test-fast` loads this profile (`--hypothesis-profile=fast`): a few examples per
# property instead of the full budgets `make test` runs (tests/data/test_mutations.py).
hypothesis.settings.register_profile("fast", max_examples=3)

VENV = Path(sys.prefix)
#: The sandbox's copy policy for direct ``shutil.copytree(ROOT, ..., ignore=IGNORE)`` callers;
#: prefer ``sandbox.copy_project`` (it also keeps mtimes and the committed manifest).
IGNORE = sandbox.copy_ignore(ROOT, VENV)
__all__ = ["IGNORE", "ROOT", "VENV", "make", "ran", "restored", "snapshot"]


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The checkout under test."""
    return ROOT


@pytest.fixture(scope="session")
def cb():
    """The survey codebook."""
    from compendium.data.codebook import load_codebook

    return load_codebook(files_of("ops_survey", ROOT / "data")["codebook"])


@pytest.fixture(scope="session")
def cal() -> dict:
    """The survey generator's calibration targets."""
    import yaml

    return yaml.safe_load((ROOT / "data" / "calibration" / "survey.yaml").read_text("utf-8"))


#: Optional stacks the package must import only when a function needs them, and the modules
#: the notebooks import (tests/analysis/test_lean_imports.py).
HEAVY_MODULES = ["matplotlib.pyplot", "seaborn", "pingouin", "pandera", "hypothesis", "sklearn",
                 "xarray", "scipy.stats", "statsmodels.api", "patsy"]
NOTEBOOK_IMPORTS = [
    "compendium.analysis.survey_analysis", "compendium.analysis.survey_models",
    "compendium.analysis.interview_analysis", "compendium.analysis.interview_findings",
    "compendium.analysis.qual", "compendium.data.codebook", "compendium.data.dedoose",
    "compendium.data.labels", "compendium.data.survey", "compendium.publish.notebook",
    "compendium.publish.plots",
]
_IMPORT_STEPS = {
    "plots": "import compendium.publish.plots",
    "notebooks": f"for m in {NOTEBOOK_IMPORTS!r}: __import__(m)",
    "mwu": "from compendium.analysis import stats\nstats.mwu_test([1, 2, 3], [4, 5, 6])",
}


@pytest.fixture(scope="session")
def fresh_imports() -> dict[str, list[str]]:
    """Which :data:`HEAVY_MODULES` one fresh interpreter holds after each step, in order:
    importing ``compendium.publish.plots`` alone, then what the notebooks import, then
    calling a Mann-Whitney test (oracle: its ``sys.modules``). One subprocess serves the
    import checks of several test files."""
    import json
    import subprocess

    code = "".join(f"{body}\nout[{name!r}] = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
                   for name, body in _IMPORT_STEPS.items())
    res = subprocess.run([sys.executable, "-c", f"import sys, json\nout = {{}}\n{code}"
                          "print(json.dumps(out))"], capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def make(project: Path, *args: str, check: bool = True, timeout: int = 900):
    """Run make in ``project`` with this session's venv (see ``sandbox``); return the result."""
    return sandbox.run_make(project, *args, venv=VENV, check=check, timeout=timeout)


def ran(result) -> list[str]:
    """Notebooks the runner executed in a make call."""
    return sandbox.notebooks_run(result.stderr)


@contextmanager
def restored(*paths: Path) -> Iterator[None]:
    """Give ``paths`` back their bytes and modification times when the block ends: a test's
    edit undone without leaving what depends on them stale (so no rebuild is needed after)."""
    saved = [(p, p.read_bytes(), p.stat()) for p in paths]
    try:
        yield
    finally:
        for path, data, st in saved:
            path.write_bytes(data)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A copy of the project (mtimes preserved) built once with `make -j2 all`."""
    project = sandbox.copy_project(tmp_path_factory.mktemp("compendium") / "project",
                                   venv=VENV)
    make(project, "-j2", "all")
    return project


def pytest_terminal_summary(terminalreporter) -> None:
    """Report how many mutated raw files tests/data/test_mutations.py fed to the readers."""
    for name, module in list(sys.modules.items()):
        tally = getattr(module, "MUTATION_TALLY", None) if name.endswith("test_mutations") else None
        if tally and tally["tried"]:
            kinds = sum(1 for key in tally if key.startswith("kind:"))
            terminalreporter.write_line(
                f"mutation tests: {tally['tried']} mutated inputs tried ({kinds} kinds), "
                f"{tally['refused']} refused with a clear error, {tally['read']} read fine"
            )


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (skipped, with the reason, where it is missing)."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed and could not be installed here "
                    "(`make test` runs `apt-get install chromium` where it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
