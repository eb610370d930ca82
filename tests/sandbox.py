"""One sandbox for running ``make`` on a copy of the project, shared by tests and benchmark.

``tests/conftest.py`` (the ``built`` copy and the ``make`` helper), the pipeline tests and
``benchmarks/`` (which puts this folder on ``sys.path``) all copy the project and call ``make``
through these functions, so there is one copy policy and one environment policy. It lives
with the tests, not in ``src/compendium/``: it is development tooling that the notebooks and
the pipeline never import, and it must not ship in the runtime package.

Copy policy: ``shutil.copytree`` with ``copy2`` (mtimes kept, so Make sees the same ages);
left out at the top are the venv, ``.git``, ``outputs`` and tool caches; left out at any depth
are ``__pycache__``, ``.ipynb_checkpoints`` and ``*.egg-info``. ``outputs/README.md`` and
``outputs/MANIFEST.sha256`` are copied (``make verify`` needs the manifest).

Environment policy (:func:`sandbox_env`, :func:`make_command`):

- variables a calling ``make`` or shell would leak into the copy's build are dropped
  (:data:`ENV_DROP`: notebook overrides ``PARAMS``/``HIDE_CODE``, the parent make's
  ``MAKEFLAGS`` and friends, ``PYTHONPATH``, ``VIRTUAL_ENV``);
- ``PYTHONPATH=<copy>/src``: the runner, the kernel and any script import the copy's
  snapshot of the package, not the checkout the venv's editable install points at;
- ``make -C <copy> VENV=<venv> -o <venv>/.compendium-installed``: the build uses the existing
  venv and holds its stamp as it is, so a sandbox can never reinstall the shared venv.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: The checkout under test.
ROOT = Path(__file__).resolve().parents[1]
#: Left out of a copy at the project's top level.
SKIP_TOP = frozenset({".venv", ".git", "outputs", "outputs-real", ".pytest_cache",
                      ".ruff_cache", ".hypothesis", ".mypy_cache"})
#: Left out of a copy at any depth (besides ``*.egg-info``).
SKIP_ANY = frozenset({"__pycache__", ".ipynb_checkpoints"})
#: Committed files under ``outputs/`` that a copy keeps.
KEPT_OUTPUTS = ("README.md", "MANIFEST.sha256")
#: Variables a calling make or shell would otherwise leak into the copy's build.
ENV_DROP = ("PARAMS", "HIDE_CODE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
            "MAKE_TERMOUT", "MAKE_TERMERR", "PYTHONPATH", "VIRTUAL_ENV", "ENGINE")
#: The runner's line announcing a notebook run (``[compendium] running <stem>``).
RUNNING_PREFIX = "[compendium] running"


def current_venv(root: Path = ROOT) -> Path:
    """The virtualenv running this interpreter, else ``<root>/.venv``."""
    prefix = Path(sys.prefix)
    return prefix if (prefix / "bin" / "python").exists() else root / ".venv"


def env_stamp(venv: Path) -> str:
    """The Makefile's environment stamp for ``venv``, spelled as make sees it."""
    return f"{venv}/.compendium-installed"


def copy_ignore(root: Path = ROOT,
                venv: Path | None = None) -> Callable[[str, list[str]], set[str]]:
    """The copy policy as an ``ignore`` callable for :func:`shutil.copytree` of ``root``."""
    skip_top = set(SKIP_TOP)
    if venv is not None and venv.parent == root:
        skip_top.add(venv.name)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIP_ANY or n.endswith(".egg-info")}
        if Path(folder) == root:
            skipped |= skip_top & set(names)
        return skipped

    return ignore


def copy_project(dest: Path, root: Path = ROOT, venv: Path | None = None) -> Path:
    """A copy of ``root`` at ``dest`` (mtimes kept), without venv, git, outputs and caches."""
    shutil.copytree(root, dest, ignore=copy_ignore(root, venv), copy_function=shutil.copy2)
    (dest / "outputs").mkdir(exist_ok=True)
    for name in KEPT_OUTPUTS:
        if (root / "outputs" / name).exists():
            shutil.copy2(root / "outputs" / name, dest / "outputs" / name)
    return dest


def sandbox_env(copy: Path | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for commands in ``copy``: ``base`` (default ``os.environ``) without
    :data:`ENV_DROP`, with ``PYTHONPATH=<copy>/src`` (none when ``copy`` is None)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in ENV_DROP}
    if copy is not None:
        env["PYTHONPATH"] = str(copy / "src")
    return env


def make_command(copy: Path, venv: Path, *args: str, hold_env: bool = True) -> list[str]:
    """``make -C <copy> VENV=<venv> [-o <stamp>] args`` (``hold_env``: never reinstall)."""
    cmd = ["make", "-C", str(copy), f"VENV={venv}"]
    if hold_env:
        cmd += ["-o", env_stamp(venv)]
    return [*cmd, *args]


def run_make(copy: Path, *args: str, venv: Path, check: bool = True, timeout: float = 900,
             hold_env: bool = True) -> subprocess.CompletedProcess[str]:
    """Run make in ``copy`` under the sandbox policy; with ``check``, fail with its output."""
    res = subprocess.run(make_command(copy, venv, *args, hold_env=hold_env),
                         capture_output=True, text=True, env=sandbox_env(copy), timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} failed in {copy}:\n{res.stdout[-3000:]}\n"
                             f"{res.stderr[-3000:]}")
    return res


def notebooks_run(stderr: str | Sequence[str]) -> list[str]:
    """Notebooks the runner started, in order, from its ``[compendium] running`` lines."""
    lines = stderr.splitlines() if isinstance(stderr, str) else stderr
    return [ln.split()[2] for ln in lines if ln.startswith(RUNNING_PREFIX) and len(ln.split()) > 2]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative POSIX paths), Make's stamps excluded."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".stamps" not in p.parts}
