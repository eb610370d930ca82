"""Provenance: what made an output (parameters, data identity, code version, packages).

No wall-clock time is recorded, so the same inputs give byte-identical pages.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

KEY_PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbconvert", "pandera", "krippendorff",
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


COLOPHON_LABELS = {
    "en": ("notebook", "data set", "raw files", "SHA-256 of the raw files", "generator",
           "generator seeds", "code version", "software"),
    "pl": ("notatnik", "zbiór danych", "pliki surowe", "SHA-256 plików surowych", "generator",
           "ziarna generatora", "wersja kodu", "oprogramowanie"),
}


def colophon_rows(
    notebook: str, data_dir: str | Path, root: str | Path = ".", lang: str = "en",
) -> list[tuple[str, str]]:
    """The colophon as (label, text) rows: what made the page, without the parameters
    (the page shows them once, at its top) and without any absolute path."""
    from compendium.publish.language import messages

    labels = COLOPHON_LABELS.get(lang, COLOPHON_LABELS["en"])
    data = dataset_info(data_dir)
    kind = str(data.get("kind"))
    kinds = messages(lang if lang in COLOPHON_LABELS else "en")["kinds"]
    rows = [(labels[0], f"notebooks/{notebook}.ipynb"), (labels[1], str(kinds.get(kind, kind))),
            (labels[2], str(data["files"])), (labels[3], data["sha256"])]
    if data.get("kind") == "synthetic":
        seeds = data.get("seeds", "?")
        if isinstance(seeds, dict):
            seeds = ", ".join(f"{k} {v}" for k, v in seeds.items())
        rows += [(labels[4], str(data.get("generator", "?"))), (labels[5], str(seeds))]
    rows.append((labels[6], f"git {git_state(root)}"))
    rows.append((labels[7], ", ".join(f"{k} {v}" for k, v in package_versions().items())))
    return rows


def colophon_html(
    notebook: str, data_dir: str | Path, root: str | Path = ".", lang: str = "en",
) -> str:
    """The colophon closing every notebook, as an HTML table (every value escaped)."""
    from compendium.publish.render import key_value_html

    return key_value_html(colophon_rows(notebook, data_dir, root, lang))
