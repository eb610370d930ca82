"""Working in JupyterLab: `make lab` serves on loopback, and notebooks run from `notebooks/`.

JupyterLab starts a notebook's kernel with its cwd in the notebook's folder. The notebooks'
relative `data_dir`/`output_dir` defaults must still mean the project's `data/` and
`outputs/` there (`compendium.paths`). Marker `slow`: both tests start real processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import IGNORE, ROOT, VENV

from compendium.publish import params
from compendium.publish.manifest import read as read_manifest

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))


# session scope: made once per test process, whatever order the process runs its tests in
@pytest.fixture(scope="session")
def run_in_notebooks_folder(tmp_path_factory):
    """A copy of the project whose notebooks were each run by papermill top to bottom with
    the defaults of their parameters cell, the kernel's cwd being ``notebooks/``."""
    import papermill

    project = tmp_path_factory.mktemp("lab") / "project"
    shutil.copytree(ROOT, project, ignore=IGNORE)
    env_before = os.environ.get("COMPENDIUM_ROOT")
    os.environ.pop("COMPENDIUM_ROOT", None)  # found from the kernel's cwd alone
    try:
        for stem in NOTEBOOKS:  # 04 reads the results of 02 and 03: sorted order suffices
            papermill.execute_notebook(
                str(project / "notebooks" / f"{stem}.ipynb"),
                str(project / f"{stem}.executed.ipynb"),
                kernel_name="compendium", cwd=str(project / "notebooks"), progress_bar=False,
            )
    finally:
        if env_before is not None:
            os.environ["COMPENDIUM_ROOT"] = env_before
    return project


def test_each_notebook_runs_top_to_bottom_from_the_notebooks_folder(run_in_notebooks_folder):
    project = run_in_notebooks_folder
    for stem in NOTEBOOKS:
        book = nbformat.read(project / f"{stem}.executed.ipynb", as_version=4)
        errors = [o for c in book.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == []
        assert (project / "outputs" / "results" / f"{stem}.json").is_file()
    # Nothing was written beside the notebooks (the relative defaults did not mean notebooks/).
    assert not (project / "notebooks" / "outputs").exists()
    assert not (project / "notebooks" / "data").exists()


def test_tables_from_the_notebooks_folder_match_the_published_checksums(run_in_notebooks_folder):
    """Oracle: outputs/MANIFEST.sha256, written by `make` running from the project root.
    Compared for the notebooks whose params/*.yaml holds exactly the notebook's defaults."""
    project = run_in_notebooks_folder
    manifest = read_manifest(ROOT / "outputs" / "MANIFEST.sha256")
    compared = 0
    for stem in NOTEBOOKS:
        given = yaml.safe_load((ROOT / "params" / f"{stem}.yaml").read_text("utf-8")) or {}
        if params.validate(stem, given) != params.validate(stem, {}):
            continue
        for rel, digest in manifest.items():
            if rel.startswith(f"tables/{stem}/"):
                got = hashlib.sha256((project / "outputs" / rel).read_bytes()).hexdigest()
                assert got == digest, rel
                compared += 1
    assert compared > 0


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses listening on ``port``, from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A = LISTEN
                found.add(addr)
    return found


def test_make_lab_serves_jupyterlab_on_loopback_only():
    port, token = _free_loopback_port(), "compendium-test-token"
    proc = subprocess.Popen(
        ["make", "-C", str(ROOT), "lab", f"VENV={VENV}", f"LAB_PORT={port}",
         f"LAB_ARGS=--no-browser --IdentityProvider.token={token}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5
                ) as resp:
                    status = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(1)
        assert status is not None, f"JupyterLab did not answer on 127.0.0.1:{port}"
        assert "started" in status
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/lab/tree/notebooks?token={token}", timeout=10
        ) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents/notebooks?token={token}", timeout=10
        ) as resp:
            names = {item["name"] for item in json.loads(resp.read())["content"]}
        assert {f"{stem}.ipynb" for stem in NOTEBOOKS} <= names
        kernels = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=10)
        assert "compendium" in json.loads(kernels.read())["kernelspecs"]
        # IPv4 loopback 127.0.0.1 is 0100007F in /proc's little-endian hex; nothing else.
        assert _listening_addresses(port) == {"0100007F"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # make and jupyter: the group of make's pid
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
