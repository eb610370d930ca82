"""The benchmark's pure parts (benchmarks/): summaries, targets, the report's shape, the floor
script and the runner timings, on hand-worked inputs; no build is run."""

from __future__ import annotations

import sys

import nbformat
import pytest
from sandbox import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import harness  # noqa: E402
import measure  # noqa: E402
import pipeline  # noqa: E402
import report  # noqa: E402


def test_summary_is_median_min_max_of_the_runs():
    assert measure.summarize([3.0, 1.0, 2.0, 10.0]) == {
        "median": 2.5, "min": 1.0, "max": 10.0, "runs": [3.0, 1.0, 2.0, 10.0], "n": 4}


def _results(cold=30.0, j2=19.0, floor=20.0, rss_gib=None):
    s = measure.summarize
    scale = None
    if rss_gib is not None:
        scale = [{"scale": 1, "ok": True, "wall": s([10.0]), "raw_bytes": 1e6},
                 {"scale": 100, "ok": True, "wall": s([50.0]), "raw_bytes": 1e8,
                  "max_rss_bytes": int(rss_gib * 2**30)}]
    return {"builds": {"cold_serial": s([cold]), "cold_j2": s([j2]),
                       "noop": {**s([0.5]), "notebooks_run": [[]], "check_ok": True},
                       "incremental": {**s([9.0]), "notebooks_run": [["01_ops_survey"]],
                                       "check_ok": True}},
            "floor": {"total": s([floor])}, "scale": scale}


def test_targets_on_hand_worked_values_including_the_limits():
    met = {t.name: (t.value, t.met) for t in report.targets(_results(rss_gib=2.0))}
    # 30 / 20 = 1.5 (limit <= 1.5: met); 19 / 30 = 0.633 (<= 0.65: met); 0.5 s (<= 0.5: met)
    assert met["overhead ratio, serial (cold build / floor)"] == (1.5, True)
    assert met["-j2 cold build / serial cold build"][0] == pytest.approx(19 / 30)
    assert met["no-op build"] == (0.5, True)
    # 50 / 10 = 5 (<= 5: met); 2 GiB against a strict < 2 GiB: not met
    assert met["100x data: cold -j2 time / 1x time"] == (5.0, True)
    assert met["100x data: peak memory of one process"] == (2.0, False)
    assert met["environment set-up"] == (None, None)
    assert report.targets(_results(cold=31.0))[0].met is False  # 31 / 20 = 1.55


def test_report_has_the_sections_in_order_and_json_beside_it(tmp_path):
    import json

    machine = {"cores": 2, "memory_bytes": 2**33, "python": "3.11", "platform": "Linux",
               "make": "GNU Make 4.3", "git_commit": "abc", "started_utc": "t",
               "load_average_at_start": [1.0, 1.0, 1.0], "venv_bytecode": {}}
    rep = {"machine": machine, "results": _results(rss_gib=1.0),
           "settings": {"repeats": 1, "venv": "/v"}}
    md, js, text = report.write_report(rep, tmp_path)
    heads = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert heads == ["# Pipeline benchmark", "## Builds", "## Data size (cold build, -j2)",
                     "## Targets (from the issue; informative)"]
    assert "| overhead ratio, serial (cold / floor) | 1.50× |" in text
    assert md.read_text(encoding="utf-8") == text
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["ratios"]["overhead_serial"] == 1.5 and len(data["targets"]) == 11


def test_floor_script_injects_parameters_after_the_parameters_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("a = 1\noutput_dir = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("%matplotlib inline\nb = a + 1"),
                nbformat.v4.new_code_cell("%%time\nb = 0")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    scope: dict = {}
    exec(measure.notebook_script(path, {"a": 5}, output_dir="out"), scope)  # noqa: S102
    assert (scope["a"], scope["b"], scope["output_dir"]) == (5, 6, "out")


def test_runner_times_pair_each_running_line_with_its_published_line():
    run = harness.Run(wall=9.0, returncode=0, stderr=[
        (1.0, "[compendium] running 02_idi_wielkopolska"),
        (1.5, "[compendium] running 03_four_cities"),
        (4.0, "[compendium] published outputs/html/02_idi_wielkopolska.html"),
        (7.25, "[compendium] published outputs/.staging/03_four_cities/03_four_cities.html")])
    assert harness.runner_times(run) == {"02_idi_wielkopolska": 3.0, "03_four_cities": 5.75}
    assert run.notebooks_run == ["02_idi_wielkopolska", "03_four_cities"]


def test_command_line_rejects_bad_values():
    assert pipeline.parse_args(["--scales", "1,10"]).scales == (1, 10)
    for bad in (["--repeats", "0"], ["--scales", "0"], ["--scales", "x"]):
        with pytest.raises(SystemExit):
            pipeline.parse_args(bad)


def test_one_process_floor_runs_each_script_in_a_fresh_namespace(tmp_path):
    import json
    import subprocess

    first = tmp_path / "a.py"
    first.write_text("secret = 42\n", encoding="utf-8")
    second = tmp_path / "b.py"
    second.write_text("assert 'secret' not in globals(), 'leaked'\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", measure.ONE_PROCESS, str(first), str(second)],
                         capture_output=True, text=True, check=True)
    rows = [json.loads(line[len("[floor] "):]) for line in res.stderr.splitlines()
            if line.startswith("[floor] ")]
    assert [r["script"] for r in rows] == [str(first), str(second)]
    assert all(r["wall"] >= 0 and r["cpu"] >= 0 for r in rows)


def test_timed_reports_the_cpu_of_the_command_and_its_children(tmp_path):
    # a child process that spins for 0.3 s of its own CPU time (time.process_time)
    spin = ("import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass\n")
    cmd = [sys.executable, "-c",
           f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"]
    run = harness.timed(cmd, cwd=tmp_path, env=dict(__import__("os").environ), timeout=60)
    assert run.returncode == 0
    assert 0.3 <= run.cpu < 0.3 + 5.0  # the spin, plus two interpreters' start-up


def test_runner_times_tell_a_polish_twin_by_its_output_tree():
    run = harness.Run(wall=9.0, returncode=0, stderr=[
        (1.0, "[compendium] running 04_synthesis"),
        (3.5, "[compendium] published outputs/html/04_synthesis.html in 2.5 s"),
        (4.0, "[compendium] running 04_synthesis"),
        (6.0, "[compendium] published outputs/pl/html/04_synthesis.html in 2.0 s")])
    assert harness.runner_times(run) == {"04_synthesis": 2.5, "04_synthesis (pl)": 2.0}


def test_server_usage_adds_every_server_that_started_and_waits_for_none_that_ended(tmp_path):
    usage = tmp_path / "usage.jsonl"
    usage.write_text('{"pid": 7, "started": true}\n{"pid": 9, "started": true}\n'
                     '{"pid": 7, "user": 1.5, "sys": 0.5, "maxrss_kib": 1000}\n'
                     '{"pid": 9, "user": 2.0, "sys": 1.0, "maxrss_kib": 3000}\n')
    # 1.5 + 0.5 + 2.0 + 1.0 = 5.0 s; the larger peak, 3000 KiB = 3 072 000 bytes
    assert harness.server_usage(usage) == (5.0, 3_072_000)
    assert harness.server_usage(tmp_path / "none.jsonl") == (0, None)  # no server started
    usage.write_text('{"pid": 7, "started": true}\n')
    with pytest.raises(harness.BenchError, match=r"\[7\] did not stop"):
        harness.server_usage(usage, timeout=0.1)


def test_engine_rows_divide_by_the_one_process_floor():
    s = measure.summarize
    results = {"builds": {"engine": "server", "engines": {
        "server": {"cold_serial": s([20.0]), "cpu_cold_serial": s([60.0]),
                   "cold_j2": s([12.0]), "cpu_cold_j2": s([62.0])},
        "kernel": {"cold_serial": s([25.0]), "cpu_cold_serial": s([84.0]),
                   "cold_j2": s([15.0]), "cpu_cold_j2": s([86.0])}}},
        "floor": {"one_process": {"cpu": s([40.0])}}}
    rows = {r["engine"]: r for r in report.engine_rows(results)}
    # 60 / 40 = 1.5, 84 / 40 = 2.1, 12 / 20 = 0.6
    assert rows["server"]["serial_cpu_over_floor"] == pytest.approx(1.5)
    assert rows["kernel"]["serial_cpu_over_floor"] == pytest.approx(2.1)
    assert rows["server"]["j2_over_serial"] == pytest.approx(0.6)
    assert rows["server"]["default"] and not rows["kernel"]["default"]
    assert "| `server` (default) | 20.0 s | 60.0 s | 1.50× |" in "\n".join(
        report.engine_lines(results))


def test_the_polish_floor_reads_the_polish_results():
    # the runner gives another output tree its own results folder: only 04 has the parameter
    assert measure.language_params("04_synthesis", {"seed": 1}, "pl") == {
        "seed": 1, "lang": "pl", "results_dir": "outputs/pl/results"}
    assert measure.language_params("01_ops_survey", {"seed": 1}, "pl") == {"seed": 1,
                                                                          "lang": "pl"}
    assert measure.language_params("01_ops_survey", {"seed": 1}, "en") == {"seed": 1}
