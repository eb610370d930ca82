"""Keep ``environment.yml`` (conda, Binder) in step with the pip lock ``requirements.txt``.

``python -m compendium.envfile requirements.txt environment.yml`` rewrites the YAML;
:func:`pins` reads either file so a test can compare them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

PIN = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)==([^\s;#]+)")


def pins_from_lock(text: str) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a pip lock."""
    out = {}
    for line in text.splitlines():
        m = PIN.match(line.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def pins_from_environment(text: str) -> dict[str, str]:
    """``name -> version`` for the pip section of a conda ``environment.yml``."""
    env = yaml.safe_load(text)
    pip_deps: list[str] = []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip_deps = dep["pip"]
    return pins_from_lock("\n".join(pip_deps))


def environment_yaml(lock_text: str) -> str:
    """The ``environment.yml`` text: python 3.11, pip, and the lock's exact pins."""
    lines = [
        "# Generated from requirements.txt by `make lock`; do not edit by hand.",
        "# conda env create -f environment.yml && conda activate compendium",
        "# then: make all VENV=$CONDA_PREFIX   (installs the package, registers the kernel)",
        "# Binder/repo2docker use this file as it is, then run postBuild.",
        "name: compendium",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - make",
        "  - pip:",
    ]
    lines += [f"      - {n}=={v}" for n, v in sorted(pins_from_lock(lock_text).items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    lock, env = (argv or sys.argv[1:])[:2]
    Path(env).write_text(environment_yaml(Path(lock).read_text(encoding="utf-8")),
                         encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
