"""The runner: parameters, metadata cleaning, contents, and the kernel it starts and stops."""

from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell, new_notebook

from compendium.errors import CompendiumError, ParameterError
from compendium.publish import preflight, runner

ROOT = Path(__file__).resolve().parents[2]


def test_overrides_are_parsed_as_yaml_and_win_over_the_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("alpha: 0.05\ncities: [Berlin, London]\n")
    values = runner.load_parameters(f, [("alpha", "0.01"), ("cities", "[Berlin]")])
    assert values == {"alpha": 0.01, "cities": ["Berlin"]}


def test_params_file_that_is_not_a_mapping_is_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="mapping"):
        runner.load_parameters(f, [])


def test_clean_metadata_drops_times_and_paths_keeps_parameters():
    nb = new_notebook(cells=[new_code_cell("1")])
    nb.metadata["papermill"] = {"start_time": "2026", "duration": 1.0, "input_path": "/abs/x",
                                "output_path": "/abs/y", "parameters": {"a": 1}}
    nb.cells[0].metadata["papermill"] = {"start_time": "t", "end_time": "t", "status": "completed"}
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "t"}
    text = nbformat.writes(runner.clean_metadata(nb))
    assert "2026" not in text and "/abs/" not in text and "iopub" not in text
    assert nb.metadata["papermill"]["parameters"] == {"a": 1}


def test_clean_metadata_gives_the_injected_cell_a_fixed_id():
    cell = new_code_cell("a = 1")
    cell.metadata["tags"] = ["injected-parameters"]
    nb = new_notebook(cells=[cell])
    assert runner.clean_metadata(nb).cells[0]["id"] == "injected-parameters"


def test_toc_links_every_section_heading_but_not_the_colophon():
    body = ('<!--COMPENDIUM-TOC--><h2 id="Sample">Sample<a href="#Sample">¶</a></h2>'
            '<h3 id="Modes">Modes</h3><h2 id="Colophon">Colophon</h2>')
    out = runner.add_toc(body)
    assert '<a href="#Sample">Sample</a>' in out
    assert '<li class="sub"><a href="#Modes">Modes</a></li>' in out
    assert '#Colophon"' not in out.split("</nav>")[0]


def test_list_pages_reads_title_and_summary(project_root):
    pages = runner.list_pages(project_root / "notebooks")
    assert [p.stem for p in pages][:1] == ["01_ops_survey"]
    assert all(p.title and p.summary for p in pages)


def test_kernel_talks_over_private_sockets_and_is_gone_after_stop(project_root):
    km = runner.start_kernel(project_root)
    sockets = Path(km.connection_file).parent
    try:
        assert km.transport == "ipc"
        assert sockets.is_dir() and sockets.name.startswith("compendium-kernel-")
        assert not any(project_root.glob("kernel-ipc*"))
        client = km.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        client.stop_channels()
        assert run_sync(km.is_alive)()
    finally:
        runner.stop_kernel(km)
    assert not km.has_kernel
    assert not sockets.exists()


def test_missing_kernel_is_named_with_the_command_that_registers_it(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "KERNEL", "no-such-kernel-here")
    monkeypatch.setattr(runner.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(CompendiumError, match="'no-such-kernel-here' is not registered.*make env"):
        runner.start_kernel(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no sockets folder left behind


def test_a_kernel_that_dies_is_reported_with_its_cell(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import os\nos._exit(1)")])
    source = tmp_path / "dies.ipynb"
    nbformat.write(nb, source)
    km = runner.start_kernel(tmp_path)
    try:
        with pytest.raises(CompendiumError, match="dies stopped: its kernel died in cell 1"):
            runner.execute(source, tmp_path / "out.ipynb", {}, km=km, root=tmp_path,
                           failed=tmp_path / "failed.ipynb")
    finally:
        runner.stop_kernel(km)


# ---------------------------------------------------------------- parameters of a run
def _project(tmp_path, **yaml_files):
    (tmp_path / "params").mkdir()
    for stem, text in yaml_files.items():
        (tmp_path / "params" / f"{stem}.yaml").write_text(text)
    return tmp_path


ALL = ["01_ops_survey", "02_idi_wielkopolska", "03_four_cities", "04_synthesis"]


def test_preflight_names_the_notebook_that_refuses_and_writes_no_stamp(tmp_path):
    root = _project(tmp_path)
    stamps = tmp_path / "outputs" / ".stamps"
    with pytest.raises(ParameterError) as err:
        preflight.preflight(root, ALL, "-p lang pl -p cities '[Paris]'", stamps=stamps)
    assert str(err.value).startswith("03_four_cities: parameter 'cities.0'")
    assert "Paris" in str(err.value)
    assert not stamps.exists()


def test_preflight_refuses_min_cell_true_even_from_the_params_file(tmp_path):
    root = _project(tmp_path, **{"02_idi_wielkopolska": "min_cell: true\n"})
    with pytest.raises(ParameterError, match="02_idi_wielkopolska: parameter 'min_cell'"):
        preflight.preflight(root, ALL, "")


def test_preflight_stamps_record_only_each_notebooks_own_overrides(tmp_path):
    root = _project(tmp_path)
    stamps = tmp_path / ".stamps"
    preflight.preflight(root, ALL, "-p unit segment -p cities '[Berlin, New York]'",
                     stamps=stamps, hide_code=True)
    text = {p.stem: p.read_text() for p in stamps.iterdir()}
    assert text == {
        "01_ops_survey": "|1\n",
        "02_idi_wielkopolska": "-p unit segment|1\n",
        "03_four_cities": "-p unit segment -p cities '[Berlin, New York]'|1\n",
        "04_synthesis": "|1\n",
    }
    before = {p.name: p.stat().st_mtime_ns for p in stamps.iterdir()}
    import time

    time.sleep(0.02)
    preflight.preflight(root, ALL, "-p unit segment -p cities '[Berlin, New York]'",
                     stamps=stamps, hide_code=True)
    assert {p.name: p.stat().st_mtime_ns for p in stamps.iterdir()} == before  # unchanged


def test_runner_takes_from_params_only_the_overrides_its_notebook_has(monkeypatch):
    monkeypatch.setenv("PARAMS", "-p alpha 0.01 -p unit segment -p lang 'pl'")
    assert runner.env_overrides("01_ops_survey") == [("alpha", "0.01"), ("lang", "pl")]
    assert runner.env_overrides("03_four_cities") == [("unit", "segment"), ("lang", "pl")]


def test_runner_main_refuses_a_shell_payload_in_params_before_any_kernel(monkeypatch, tmp_path):
    monkeypatch.setenv("PARAMS", "-p lang en; touch x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "start_kernel", lambda root: pytest.fail("kernel started"))
    assert runner.main(["01_ops_survey", "--params-from-env", "--root", str(ROOT)]) == 2
    assert preflight.main([*ALL, "--root", str(tmp_path)]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "outputs").exists()


def test_publish_paths_names_the_final_folder_everywhere():
    cell = new_code_cell('output_dir = "outputs/.staging/01_x-k2j3"')
    cell.outputs = [nbformat.v4.new_output("stream", text="wrote outputs/.staging/01_x-k2j3/t.csv")]
    nb = new_notebook(cells=[cell], metadata={"papermill": {"parameters": {
        "output_dir": "outputs/.staging/01_x-k2j3"}}})
    out = runner.publish_paths(nb, "outputs/.staging/01_x-k2j3", "outputs/.staging/01_x")
    assert "k2j3" not in nbformat.writes(out)
    assert out.metadata.papermill.parameters.output_dir == "outputs/.staging/01_x"
    assert out.cells[0].outputs[0].text == "wrote outputs/.staging/01_x/t.csv"


# ---------------------------------------------------------------- the build lock
def test_unwritable_or_misplaced_outputs_is_named_in_one_sentence(tmp_path, monkeypatch):
    from compendium.publish import buildlock

    (tmp_path / "outputs").write_text("not a folder")
    assert "is not a folder" in buildlock.check_writable(tmp_path / "outputs")
    (tmp_path / "outputs").unlink()
    (tmp_path / "outputs" / "html").mkdir(parents=True)
    assert buildlock.check_writable(tmp_path / "outputs") is None
    real_access = buildlock.os.access  # root may write anywhere: simulate a read-only folder
    monkeypatch.setattr(buildlock.os, "access",
                        lambda p, mode: Path(p).name != "html" and real_access(p, mode))
    msg = buildlock.check_writable(tmp_path / "outputs")
    assert "cannot write to" in msg and "html/" in msg and "chmod" in msg


def test_build_lock_is_held_until_the_make_process_ends_then_passed_on(tmp_path):
    import shutil
    import subprocess
    import sys
    import time

    script = Path(runner.__file__).with_name("buildlock.py")
    first = subprocess.Popen(["sleep", "3"])  # stands for the first make process
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, str(script), str(tmp_path / "outputs"),
                          str(first.pid)], capture_output=True, text=True, timeout=20)
    assert res.returncode == 0 and res.stdout == "" and time.monotonic() - t0 < 2
    lock = tmp_path / "outputs" / ".build.lock"
    assert lock.read_bytes() == b""  # no pid or time: outputs stay byte-identical
    if shutil.which("flock"):  # util-linux's flock(1) sees the lock as taken
        assert subprocess.run(["flock", "-n", str(lock), "true"]).returncode != 0
    second = subprocess.Popen(["sleep", "1"])
    res = subprocess.run([sys.executable, str(script), str(tmp_path / "outputs"),
                          str(second.pid)], capture_output=True, text=True, timeout=20)
    waited = time.monotonic() - t0
    assert res.returncode == 0
    assert "another build is running in this folder" in res.stderr
    assert res.stderr.count("\n") == 1  # one line
    assert waited >= 2.5  # it waited for the first "make" to end
    first.wait()
    second.wait()


def test_sweep_removes_only_staging_folders_of_dead_runs(tmp_path):
    import fcntl
    import os

    dead, live, young, other = (tmp_path / n for n in ("01_x-dead", "01_x-live", "01_x-young",
                                                       "02_y-dead"))
    for folder in (dead, live, young, other):
        folder.mkdir()
    for folder in (dead, live, other):
        (folder / runner.RUN_LOCK).touch()
    fd = os.open(live / runner.RUN_LOCK, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a run still working (another open file: like a process)
    try:
        assert runner.sweep_staging(tmp_path, "01_x") == [dead]
    finally:
        os.close(fd)
    assert live.exists() and young.exists() and other.exists() and not dead.exists()


def test_the_results_stamp_changes_only_with_the_results_bytes(tmp_path):
    import hashlib
    import os

    results = tmp_path / "results" / "02_idi.json"
    results.parent.mkdir()
    results.write_text('{"n": 5}\n')
    stamp = tmp_path / ".stamps" / "02_idi.results"
    assert runner.note_results(tmp_path, "02_idi") is True  # no stamp yet
    assert stamp.read_text().strip() == hashlib.sha256(b'{"n": 5}\n').hexdigest()
    os.utime(stamp, ns=(0, 10**9))  # an old stamp: any rewrite would show in its time
    results.write_text('{"n": 5}\n')  # re-run, same bytes
    assert runner.note_results(tmp_path, "02_idi") is False
    assert stamp.stat().st_mtime_ns == 10**9
    results.write_text('{"n": 6}\n')  # re-run, other results
    assert runner.note_results(tmp_path, "02_idi") is True
    assert stamp.stat().st_mtime_ns > 10**9
    assert stamp.read_text().strip() == hashlib.sha256(b'{"n": 6}\n').hexdigest()
    results.unlink()  # a notebook that writes no results
    assert runner.note_results(tmp_path, "02_idi") is True and stamp.read_text() == "none\n"
