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
import sandbox
from conftest import make, ran, snapshot
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
    # SIGINT acting as a terminal's Ctrl-C does, even when this suite runs in a background job
    # (which starts with SIGINT ignored, inherited by every process it starts)
    proc = subprocess.Popen(project.command(B), cwd=project.root, env=project.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
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


@pytest.mark.parametrize("junk", [b"", b"\x00\x00\x00\x05hello", b"\x00\x00\x00\x03{}{"])
def test_a_connection_that_is_not_a_client_leaves_the_server_serving(project, junk):
    # silent then gone, a length-prefixed word that is not JSON, a truncated object: the
    # server drops the connection and the next page runs in the same server
    import socket

    from compendium.publish.client import server_folder

    write_notebook(project.root, B, "print('ok')")
    assert project.run(B).returncode == 0
    servers = starts(project.usage)  # the servers started so far (the last one is serving)
    folder = server_folder(project.root, project.env)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(folder / "sock"))
        sock.sendall(junk)
    res = project.run(B)
    assert res.returncode == 0, res.stderr[-2000:]
    assert starts(project.usage) == servers  # the same server: it did not die and restart
    assert outputs_of(project.root, B) == ["ok\n"]


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


# ---------------------------------------------------------------- modules through the server
# `client --module MODULE -- ARGS` (the data check and the site steps under ENGINE=server)
# must be `python -m MODULE ARGS`: the oracle of each test below is that direct command.

PROBE = """import os, sys
open(os.environ["PROBE_PPID"], "w").write(str(os.getppid()))
print(sys.argv[1:], sys.path[0] == os.getcwd(), __name__,
      sorted(k for k in globals() if not k.startswith("__")))
if sys.argv[1] == "raise":
    raise ValueError("bad value")
if sys.argv[1] == "exit":
    sys.exit(sys.argv[2])
if sys.argv[1] == "code":
    sys.exit(int(sys.argv[2]))
"""


def module_command(module: str, *args: str, server: bool) -> list[str]:
    """``python -m MODULE ARGS``, directly or through the client."""
    if server:
        return [sys.executable, "-m", "compendium.publish.client", "--module", module, "--", *args]
    return [sys.executable, "-m", module, *args]


def run_module(cwd: Path, env: dict[str, str], module: str, *args: str,
               server: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(module_command(module, *args, server=server), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args", [["ok", "a b", "--x"], ["raise"], ["exit", "no such table"],
                                  ["code", "3"]])
def test_a_module_through_the_server_is_python_m(project, args):
    probe = project.root / "src" / "compendium" / "probe_main.py"
    if not probe.exists():
        probe.write_text(PROBE)
    seen = {}
    for server in (False, True):
        ppid = project.root / f"ppid-{server}"
        env = {**project.env, "PROBE_PPID": str(ppid)}
        res = run_module(project.root, env, "compendium.probe_main", *args, server=server)
        seen[server] = (res.returncode, res.stdout, res.stderr)
        # the run through the client in a child of a server, the direct one in this test's
        assert (int(ppid.read_text()) in starts(project.usage)) is server
    assert seen[True] == seen[False]  # same output, messages (traceback too) and exit code
    assert seen[False][0] == {"ok": 0, "raise": 1, "exit": 1, "code": 3}[args[0]]


def bad_papi(data: Path) -> tuple[int, str]:
    """Write a word into a yes/no answer of the PAPI file's third respondent; the file's line
    number and the column's name."""
    papi = data / "raw" / "ops_survey" / "papi_excel.csv"
    lines = papi.read_bytes().split(b"\n")
    header, fields = lines[0].split(b";"), lines[3].split(b";")
    column = next(i for i, name in enumerate(header) if name == b"P7_kontakt")
    fields[column] = b"sometimes maybe"
    lines[3] = b";".join(fields)
    papi.write_bytes(b"\n".join(lines))
    return 4, "P7_kontakt"


def test_a_data_check_through_the_server_says_and_exits_what_the_command_does(project):
    data = project.root / "data"
    if not data.exists():
        shutil.copytree(SRC.parent / "data", data)
    good = [run_module(project.root, project.env, "compendium.data.datacheck", "data",
                       server=server) for server in (False, True)]
    assert good[0].returncode == 0 and "[data] ops_survey: " in good[0].stdout
    assert [(r.returncode, r.stdout, r.stderr) for r in good[1:]] == \
        [(good[0].returncode, good[0].stdout, good[0].stderr)]
    row, column = bad_papi(data)
    try:
        direct, served = (run_module(project.root, project.env, "compendium.data.datacheck",
                                     "data", server=server) for server in (False, True))
    finally:
        shutil.copy2(SRC.parent / "data" / "raw" / "ops_survey" / "papi_excel.csv",
                     data / "raw" / "ops_survey" / "papi_excel.csv")
    assert direct.returncode == 2
    assert f"row {row}, column '{column}'" in direct.stderr and "papi_excel.csv" in direct.stderr
    assert (served.returncode, served.stdout, served.stderr) == \
        (direct.returncode, direct.stdout, direct.stderr)


def test_the_site_steps_through_the_server_write_the_bytes_the_commands_write(built, tmp_path):
    # Both site steps, as the Makefile runs them (the Polish site, then the English one that
    # links to it), on two copies of a built outputs folder: one directly, one through the
    # server. Oracle: the direct commands' files, byte for byte, and their messages.
    usage = tmp_path / "usage.jsonl"
    env = {**sandbox.sandbox_env(built), "COMPENDIUM_SERVER_USAGE": str(usage),
           "COMPENDIUM_SERVER_IDLE": "60", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
           "SOURCE_DATE_EPOCH": "0"}
    trees, said = {}, {}
    try:
        for server in (False, True):
            out = tmp_path / ("server" if server else "direct") / "outputs"
            shutil.copytree(built / "outputs", out, copy_function=shutil.copy2)
            said[server] = []
            for site, twin in ((out / "pl", out), (out, out / "pl")):
                res = run_module(built, env, "compendium.publish.site", "--root", ".",
                                 "--outputs", str(site), "--twin", str(twin), server=server)
                assert res.returncode == 0, res.stderr
                said[server].append((res.stdout.replace(str(out), "OUT"), res.stderr))
            trees[server] = snapshot(out)
    finally:
        subprocess.run([sys.executable, "-m", "compendium.publish.client", "--stop"],
                       cwd=built, env=env, timeout=60)
    assert len(starts(usage)) == 1  # the server ran both steps
    assert said[True] == said[False]
    assert any(path.endswith("html/index.html") for path in trees[False])
    assert trees[True] == trees[False]


def test_a_failing_data_check_under_make_leaves_every_output_as_it_was(built, tmp_path,
                                                                       monkeypatch):
    # make all (ENGINE=server, the default) in a built copy with a broken raw file: the data
    # check, run by the server, stops the build with the direct command's message; no page
    # runs and no output changes.
    copy = tmp_path / "project"
    shutil.copytree(built, copy, copy_function=shutil.copy2, symlinks=True)
    bad_papi(copy / "data")
    env = sandbox.sandbox_env(copy)
    direct = subprocess.run([sys.executable, "-m", "compendium.data.datacheck", "data"],
                            cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    assert direct.returncode == 2 and "papi_excel.csv" in direct.stderr
    stamp = copy / "outputs" / ".stamps" / "data-check"
    before, stamp_time = snapshot(copy / "outputs"), stamp.stat().st_mtime_ns
    usage = tmp_path / "usage.jsonl"
    monkeypatch.setenv("COMPENDIUM_SERVER_USAGE", str(usage))
    res = make(copy, "all", check=False)
    assert res.returncode != 0
    assert direct.stderr in res.stderr
    assert ran(res) == []
    assert len(starts(usage)) == 1  # the check ran in the build's server
    assert snapshot(copy / "outputs") == before
    assert stamp.stat().st_mtime_ns == stamp_time
