"""The build's fork server and in-process engine (issue 21): one import of the stack per
build, a fresh namespace per notebook, and the runner's promises kept.

Each test runs small notebooks of its own through ``python -m compendium.publish.client`` in
a folder of its own with a copy of the package on ``PYTHONPATH`` (so a test can edit the
package without touching the checkout). The notebooks carry the stems of the project's
notebooks (the runner validates parameters against their schemas) but hold test code only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import make, ran
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from compendium.publish import client

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
A, B = "02_idi_wielkopolska", "03_four_cities"  # stems with schemas; the code is the test's


def write_notebook(root: Path, stem: str, *cells: str) -> None:
    """``notebooks/<stem>.ipynb`` with a title and one code cell per source."""
    nb = new_notebook(cells=[new_markdown_cell(f"# Test {stem}"),
                             *(new_code_cell(src) for src in cells)],
                      metadata={"kernelspec": {"name": "compendium", "language": "python",
                                               "display_name": "Python (compendium)"}})
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "notebooks" / f"{stem}.ipynb")


def outputs_of(root: Path, stem: str) -> list[str]:
    """The text of every stream output of the executed notebook, cell by cell (the cell
    papermill injects with the parameters left out)."""
    nb = nbformat.read(root / "outputs" / "notebooks" / f"{stem}.ipynb", as_version=4)
    return ["".join(o.get("text", "") for o in c.get("outputs", []) if o.output_type == "stream")
            for c in nb.cells if c.cell_type == "code"
            and "injected-parameters" not in c.metadata.get("tags", [])]


def starts(usage: Path) -> list[int]:
    """Pids of the servers that logged their start to ``usage``."""
    if not usage.exists():
        return []
    return [r["pid"] for r in map(json.loads, usage.read_text().splitlines()) if r.get("started")]


class Project:
    """A folder with notebooks, a copy of the package, and the environment a build gives."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(SRC / "compendium", root / "src" / "compendium",
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.usage = root / "usage.jsonl"
        self.env = {**{k: v for k, v in os.environ.items() if k not in ("PARAMS", "HIDE_CODE")},
                    "PYTHONPATH": str(root / "src"), "MPLBACKEND": "Agg",
                    "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                    "COMPENDIUM_SERVER_IDLE": "60", "COMPENDIUM_SERVER_USAGE": str(self.usage)}

    def command(self, stem: str) -> list[str]:
        return [sys.executable, "-m", "compendium.publish.client", stem]

    def run(self, stem: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(stem), cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=600)

    def stop(self) -> None:
        subprocess.run([sys.executable, "-m", "compendium.publish.client", "--stop"],
                       cwd=self.root, env=self.env, timeout=60, check=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("engine"))
    yield p
    p.stop()


def test_a_notebook_sees_neither_another_notebooks_variables_nor_its_module_changes(project):
    # Oracle: what a fresh Python process would print (no such variable, attribute or
    # variable in the environment), against a first notebook that set all three.
    probe = ("import os, compendium.publish.plots as p\n"
             "print('leaked' in globals(), hasattr(p, 'LEAK'), os.environ.get('ENGINE_LEAK'), "
             "os.getpid())")
    write_notebook(project.root, A, "leaked = 42\nimport compendium.publish.plots as p\n"
                   "p.LEAK = 1\nimport os\nos.environ['ENGINE_LEAK'] = '1'", probe)
    write_notebook(project.root, B, probe)
    first, second = project.run(A), project.run(B)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    seen_a = outputs_of(project.root, A)[1].split()
    seen_b = outputs_of(project.root, B)[0].split()
    assert seen_a[:3] == ["True", "True", "1"]  # the first notebook did change all three
    assert seen_b[:3] == ["False", "False", "None"]
    servers = starts(project.usage)
    assert len(servers) == 1  # one server ran both: the imports were paid once
    assert len({seen_a[3], seen_b[3], str(servers[0])}) == 3  # two children, not the server


def test_a_failing_cell_names_notebook_and_cell_and_keeps_previous_outputs(project):
    write_notebook(project.root, A, "print('good')")
    assert project.run(A).returncode == 0
    page = project.root / "outputs" / "html" / f"{A}.html"
    before = page.read_bytes()
    write_notebook(project.root, A, "print('first cell ran')",
                   "raise ValueError('no such municipality: Xyz')")
    res = project.run(A)
    assert res.returncode == 2
    # the runner's one screen, as with a Jupyter kernel: notebook, cell, error. Cell 3 with
    # execution count 3: the title is cell 0, papermill's injected parameters cell 1 (count 1),
    # the print cell 2 (count 2).
    assert f"notebook {A} failed in cell 3 (execution count 3)" in res.stderr
    assert "ValueError: no such municipality: Xyz" in res.stderr
    assert f"Previous outputs of {A} are unchanged." in res.stderr
    assert page.read_bytes() == before
    failed = nbformat.read(project.root / "outputs" / "logs" / f"{A}.failed.ipynb", as_version=4)
    code = [c for c in failed.cells if c.cell_type == "code"
            and "injected-parameters" not in c.metadata.get("tags", [])]
    assert code[0].outputs[0]["text"] == "first cell ran\n"
    assert code[1].outputs[0]["ename"] == "ValueError"


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_client_that_goes_away_takes_its_notebook_with_it(project, sig):
    pid_file = project.root / f"child-{sig}.pid"
    write_notebook(project.root, B, f"import os, time\nopen({str(pid_file)!r}, 'w')"
                   ".write(str(os.getpid()))\ntime.sleep(120)")
    proc = subprocess.Popen(project.command(B), cwd=project.root, env=project.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not pid_file.exists() or not pid_file.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, "the notebook never started"
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert alive(child) and child != proc.pid
    proc.send_signal(sig)  # Ctrl-C of make reaches the client; or the client is killed
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_notebook_killed_mid_cell_is_reported_in_one_message(project):
    # As with a Jupyter kernel that dies (out of memory): one message naming the notebook,
    # a non-zero exit, and the page of the last good run left as it was.
    write_notebook(project.root, B, "print('good')")
    assert project.run(B).returncode == 0
    page = project.root / "outputs" / "html" / f"{B}.html"
    before = page.read_bytes()
    write_notebook(project.root, B, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    res = project.run(B)
    assert res.returncode == 128 + signal.SIGKILL
    assert f"notebook {B} stopped: its process was killed (signal 9" in res.stderr
    assert f"Previous outputs of {B} are unchanged." in res.stderr
    assert page.read_bytes() == before


def test_two_pages_at_once_run_in_two_children_side_by_side(project):
    # What make -j2 does: two clients at once. Each notebook notes when it started and ended;
    # two children running side by side overlap in time (one after the other would not).
    for stem in (A, B):
        times = project.root / f"{stem}.times"
        write_notebook(project.root, stem, f"import os, time\nstart = time.time()\n"
                       f"time.sleep(4)\nopen({str(times)!r}, 'w').write("
                       f"f'{{start}} {{time.time()}} {{os.getpid()}}')")
    procs = [subprocess.Popen(project.command(stem), cwd=project.root, env=project.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for stem in (A, B)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    (a0, a1, pa), (b0, b1, pb) = (
        (project.root / f"{stem}.times").read_text().split() for stem in (A, B))
    assert pa != pb
    assert float(a0) < float(b1) and float(b0) < float(a1)  # the two intervals overlap


def test_the_server_restarts_when_a_package_source_changes(tmp_path):
    p = Project(tmp_path)
    try:
        probe = "import compendium.errors as e\nprint(getattr(e, 'ENGINE_MARK', None))"
        write_notebook(p.root, A, probe)
        assert p.run(A).returncode == 0
        assert outputs_of(p.root, A)[0] == "None\n"
        errors = p.root / "src" / "compendium" / "errors.py"
        errors.write_text(errors.read_text() + "\nENGINE_MARK = 'edited'\n")
        res = p.run(A)
        assert res.returncode == 0, res.stderr
        # the author's edit ran (a server that kept the old import would print None) ...
        assert outputs_of(p.root, A)[0] == "edited\n"
        # ... in a second server: the first saw the change and stepped aside
        assert len(set(starts(p.usage))) == 2
    finally:
        p.stop()


def test_the_no_op_build_starts_no_server(built, tmp_path, monkeypatch):
    usage = tmp_path / "usage.jsonl"
    monkeypatch.setenv("COMPENDIUM_SERVER_USAGE", str(usage))  # a server started logs here
    res = make(built, "all")
    assert ran(res) == []
    assert not usage.exists()  # no page ran, so no server was started


def test_a_server_folder_is_private_and_named_by_project_python_and_imports(tmp_path):
    env = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "PARAMS": "-p alpha 0.01"}
    folder = client.server_folder(tmp_path, env)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert folder.parent.stat().st_mode & 0o777 == 0o700
    assert len(str(folder / "sock")) < 108  # a Unix socket's path limit, whatever the project
    # what a request carries (PARAMS) does not choose the server; what its imports read does
    assert client.server_folder(tmp_path, {**env, "PARAMS": ""}) == folder
    assert client.server_folder(tmp_path, {**env, "PYTHONHASHSEED": "1"}) != folder
    assert client.server_folder(tmp_path / "other", env) != folder


@pytest.mark.parametrize("engine", ["", "fork", "Server"])
def test_an_unknown_engine_is_refused_before_any_work(engine: str) -> None:
    """``ENGINE`` is a plain word a shell may export for other reasons: a value the Makefile
    does not know stops make at once with the three it does, instead of quietly running the
    per-page Jupyter kernels."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    proc = subprocess.run(["make", "-n", "-C", str(root), "all", f"ENGINE={engine}"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode != 0
    assert f"ENGINE={engine} is not a build engine" in proc.stderr
    assert "server (default), inprocess or kernel" in proc.stderr
    assert "[compendium]" not in proc.stdout
