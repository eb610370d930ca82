"""`make all DATA=<folder outside the repository>`: built into outputs-real/, marked, nothing
of it inside the repository's tracked tree.

Oracles: git itself (``git status --porcelain`` of a fresh repository holding a copy of the
project must stay empty: outputs-real/ is ignored, nothing else is written), the bytes of
the raw exports (none may appear under the project), and the fixed marking text.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import IGNORE, ROOT, make

from compendium.publish.confidential import AUDIT_HREF, MARK

pytestmark = pytest.mark.slow

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


def _git(project: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(project), *args], check=True, env=env,
                          capture_output=True, text=True).stdout


def _digests(folder: Path) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def test_real_data_build_stays_outside_the_repository(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, copy_function=shutil.copy2,
                    ignore=lambda d, names: IGNORE(d, names) | {"outputs-real"})
    exports = tmp_path / "secure" / "exports"
    shutil.copytree(ROOT / "data", exports, ignore=shutil.ignore_patterns("calibration"))
    # the exports say they are real (as the authors' marker would)
    marker = exports / "raw" / "dataset.yaml"
    marker.write_text("kind: real\nnote: confidential exports\n", "utf-8")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "snapshot")

    make(project, "all", f"DATA={exports}")

    assert _git(project, "status", "--porcelain", "--untracked-files=all") == ""
    real = project / "outputs-real"
    pages = sorted((real / "html").glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "01_ops_survey.html",
                                       "02_idi_wielkopolska.html", "03_four_cities.html",
                                       "04_synthesis.html"}
    for page in pages:
        text = page.read_text("utf-8")
        assert MARK in text, page.name
        assert f'href="{AUDIT_HREF}"' in text, page.name
        assert "SYNTHETIC DATA" not in text, page.name
    # nothing went to the shipped-data output folder, and no raw export was copied anywhere
    assert not (project / "outputs" / "html").exists()
    raw = {hashlib.sha256(p.read_bytes()).hexdigest()
           for p in (exports / "raw").rglob("*") if p.is_file() and p != marker}
    assert not raw & _digests(real)
