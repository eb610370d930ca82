"""Where the project is: its root, and relative paths read from the root whatever the cwd.

The project root is the folder holding ``data/raw/dataset.yaml``. It is taken from the
environment variable ``COMPENDIUM_ROOT`` when set, else found by walking up from the
current working directory. A notebook opened in JupyterLab runs with its cwd in
``notebooks/``; :func:`from_root` lets its ``data_dir = "data"`` still mean the project's
``data/``. The result is written relative to the cwd, never absolute, so no machine's path
enters a published page (run by ``make`` from the root, ``"data"`` stays ``"data"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from compendium.errors import CompendiumError

MARKER = Path("data") / "raw" / "dataset.yaml"
ENV_VAR = "COMPENDIUM_ROOT"


def is_root(folder: Path) -> bool:
    """True when ``folder`` holds ``data/raw/dataset.yaml``."""
    return (folder / MARKER).is_file()


def find_root(start: str | Path | None = None,
              environ: Mapping[str, str] | None = None) -> Path | None:
    """The project root: ``$COMPENDIUM_ROOT``, else the nearest folder upwards from ``start``
    (default: the cwd) holding ``data/raw/dataset.yaml``; ``None`` when there is none.

    A ``COMPENDIUM_ROOT`` that does not hold the marker file is an error, not ignored.
    """
    environ = os.environ if environ is None else environ
    given = environ.get(ENV_VAR)
    if given:
        root = Path(given).expanduser().resolve()
        if not is_root(root):
            raise CompendiumError(
                f"{ENV_VAR}={given!r} is not a compendium: expected the file {root / MARKER}"
            )
        return root
    here = Path(start if start is not None else os.getcwd()).resolve()
    return next((folder for folder in (here, *here.parents) if is_root(folder)), None)


def project_root(start: str | Path | None = None) -> Path:
    """Like :func:`find_root`, but a missing root is an error saying how to point at one."""
    root = find_root(start)
    if root is None:
        where = Path(start if start is not None else os.getcwd()).resolve()
        raise CompendiumError(
            f"no compendium found in {where} or above it (looked for {MARKER}); "
            f"run from inside the project or set {ENV_VAR}"
        )
    return root


def from_root(path: str, start: str | Path | None = None) -> str:
    """``path`` read relative to the project root, written relative to ``start`` (the cwd).

    Absolute paths, and any path when no project root is found, are returned unchanged.
    """
    if Path(path).is_absolute():
        return path
    root = find_root(start)
    if root is None:
        return path
    here = Path(start if start is not None else os.getcwd()).resolve()
    return Path(os.path.relpath(root / path, here)).as_posix()
