"""Provenance: what made an output (parameters, data identity, code version, packages).

No wall-clock time is recorded, so the same inputs give byte-identical pages.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

KEY_PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbconvert", "pandera", "krippendorff", "scikit-learn",
)


def dataset_info(data_dir: str | Path) -> dict[str, Any]:
    """Kind of data set (``synthetic`` or ``real``) from ``raw/dataset.yaml``, and a checksum.

    The checksum is SHA-256 over every file under ``raw/`` (relative path and bytes, in
    sorted order), so any change to any raw file changes it.
    """
    raw = Path(data_dir) / "raw"
    marker = raw / "dataset.yaml"
    info: dict[str, Any] = {"kind": "real"}
    if marker.exists():
        info.update(yaml.safe_load(marker.read_text(encoding="utf-8")) or {})
    digest = hashlib.sha256()
    files = sorted(p for p in raw.rglob("*") if p.is_file()) if raw.exists() else []
    for path in files:
        digest.update(path.relative_to(raw).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    info["files"] = len(files)
    info["sha256"] = digest.hexdigest()
    return info


def is_synthetic(data_dir: str | Path) -> bool:
    """True when the data folder says it holds the synthetic data set."""
    return dataset_info(data_dir).get("kind") == "synthetic"


def git_state(root: str | Path = ".") -> str:
    """Commit hash, with '+ uncommitted changes' when tracked files outside outputs/ differ."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!outputs"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{head} + uncommitted changes" if dirty else head


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of the key packages (``not installed`` when absent)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def colophon_markdown(
    notebook: str, params: Mapping[str, Any], data_dir: str | Path, root: str | Path = "."
) -> str:
    """The colophon closing every notebook, as Markdown."""
    from compendium.publish.render import md_code, md_escape

    data = dataset_info(data_dir)
    lines = [
        "## Colophon",
        "",
        f"This page was produced by `make` from {md_code(f'notebooks/{notebook}.ipynb')}.",
        "",
        "| | |",
        "|---|---|",
        f"| data set | **{md_escape(data.get('kind'))}**, {data['files']} raw files, "
        f"SHA-256 `{data['sha256'][:16]}…` |",
    ]
    if data.get("kind") == "synthetic":
        gen, seeds = data.get("generator", "?"), data.get("seeds", "?")
        lines.append(f"| generator | {md_escape(gen)}, seeds {md_escape(seeds)} |")
    lines.append(f"| code version | git {md_code(git_state(root))} |")
    versions = package_versions()
    lines.append(
        "| software | " + md_escape(", ".join(f"{k} {v}" for k, v in versions.items())) + " |"
    )
    lines += ["", "**Parameters of this run**", "", "| parameter | value |", "|---|---|"]
    for key in sorted(params):
        lines.append(f"| {md_code(key)} | {md_code(repr(params[key]))} |")
    return "\n".join(lines)
