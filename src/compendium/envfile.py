"""Keep ``environment.yml`` (conda, Binder) in step with the pip lock ``requirements-lab.txt``.

``python -m compendium.envfile requirements-lab.txt environment.yml`` rewrites the YAML
(``make lock`` does). The compiled scientific stack comes from conda-forge at exactly the
lock's versions (conda-forge binaries instead of wheels); everything else stays under
``pip:``, pinned the same. :func:`pins_from_environment` reads both sections back, in PyPI
names, so a test can compare the file with the lock.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

PIN = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)==([^\s;#]+)")

#: PyPI names installed from conda-forge, mapped to their conda-forge names where these
#: differ (matplotlib-base is matplotlib without a GUI toolkit).
CONDA_FORGE: dict[str, str] = {
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "matplotlib": "matplotlib-base",
    "contourpy": "contourpy",
    "kiwisolver": "kiwisolver",
    "pillow": "pillow",
    "statsmodels": "statsmodels",
    "patsy": "patsy",
    "pyreadstat": "pyreadstat",
    "pyyaml": "pyyaml",
    "pydantic-core": "pydantic-core",
    "pyzmq": "pyzmq",
    "tornado": "tornado",
    "psutil": "psutil",
    "markupsafe": "markupsafe",
    "rpds-py": "rpds-py",
    "cffi": "cffi",
    "debugpy": "debugpy",
}
CONDA_TO_PYPI = {conda: pypi for pypi, conda in CONDA_FORGE.items()}


def _norm(name: str) -> str:
    """PEP 503 normalised name (``Foo_bar`` → ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_from_lock(text: str) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a pip lock."""
    out = {}
    for line in text.splitlines():
        m = PIN.match(line.strip())
        if m:
            out[_norm(m.group(1))] = m.group(2)
    return out


def conda_and_pip(env_text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The exact pins of an ``environment.yml``: (conda section, pip section), as written."""
    env = yaml.safe_load(env_text)
    conda: dict[str, str] = {}
    pip: dict[str, str] = {}
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip = pins_from_lock("\n".join(dep["pip"]))
        elif isinstance(dep, str) and "==" in dep:
            name, version = dep.split("==", 1)
            conda[name.strip()] = version.strip()
    return conda, pip


def pins_from_environment(text: str) -> dict[str, str]:
    """``PyPI name -> version`` for every exact pin of an ``environment.yml``, both sections."""
    conda, pip = conda_and_pip(text)
    return {**{CONDA_TO_PYPI.get(n, n): v for n, v in conda.items()}, **pip}


def environment_yaml(lock_text: str) -> str:
    """The ``environment.yml`` text: python 3.11, the conda-forge stack, the rest via pip."""
    pins = pins_from_lock(lock_text)
    lines = [
        "# Generated from requirements-lab.txt by `make lock`; do not edit by hand.",
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
    ]
    lines += [f"  - {CONDA_FORGE[n]}=={v}" for n, v in sorted(pins.items()) if n in CONDA_FORGE]
    lines.append("  - pip:")
    lines += [f"      - {n}=={v}" for n, v in sorted(pins.items()) if n not in CONDA_FORGE]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    lock, env = (argv or sys.argv[1:])[:2]
    Path(env).write_text(environment_yaml(Path(lock).read_text(encoding="utf-8")),
                         encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
