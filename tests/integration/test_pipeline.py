"""End to end: the whole compendium built by `make` in a temporary copy of the project.

One copy is built once per test session (`built`); the tests then exercise incremental
builds, determinism, failure safety and the published outputs on it. They run in
`make test` (marker `slow`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import sandbox
import yaml
from conftest import ROOT, VENV, make, ran, restored, snapshot

from compendium.analysis.disclosure import small_counts_in_csv
from compendium.data.sources import files_of
from compendium.publish import params as param_schemas

OUTS = ("outputs", "outputs/pl")  # the English site and its Polish twin

pytestmark = pytest.mark.slow


def notebooks() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_make_all_builds_every_notebook_page_and_the_index(built):
    for stem in notebooks():
        assert (built / "outputs" / "notebooks" / f"{stem}.ipynb").stat().st_size > 0
        html = (built / "outputs" / "html" / f"{stem}.html").read_text(encoding="utf-8")
        assert "SYNTHETIC DATA" in html and "Colophon" in html
        assert (built / "outputs" / "results" / f"{stem}.json").exists()
    index = (built / "outputs" / "html" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{stem}.html"' in index for stem in notebooks())
    assert not list((built / "outputs").glob(".staging/*"))


def _numbers(value, path=""):
    """The numeric leaves of a results JSON document as {path: number}; keys are kept (they
    must not be labels of the page's language), strings (findings, labels) are left out."""
    if isinstance(value, dict):
        parts = [_numbers(item, f"{path}/{key}") for key, item in value.items()]
    elif isinstance(value, list):
        parts = [_numbers(item, f"{path}[{i}]") for i, item in enumerate(value)]
    else:
        return {} if isinstance(value, str) else {path: value}
    return {k: v for part in parts for k, v in part.items()}


def _cell_number(text: str):
    """A CSV cell as a number (True/False as themselves), or None for a label or marker."""
    if text in ("True", "False", ""):
        return text
    try:
        return float(text)
    except ValueError:
        return None


def test_numbers_do_not_depend_on_the_page_language(built):
    """Invariant of the method: the Polish site (outputs/pl/) publishes the English site's
    numbers. Every number of results/*.json is there under the same key, and every cell of every
    table that is a number in one language is the same number in the other (labels differ)."""
    import csv
    import json

    out = built / "outputs"
    compared = 0
    for en in sorted((out / "results").glob("*.json")):
        pl = out / "pl" / "results" / en.name
        a, b = (_numbers(json.loads(f.read_text("utf-8"))) for f in (en, pl))
        assert a == b, f"{en.name}: {sorted(set(a.items()) ^ set(b.items()))[:4]}"
        compared += len(a)
    assert compared > 50  # the studies' results, not empty files
    csvs = sorted((out / "tables").rglob("*.csv"))
    assert csvs
    for en in csvs:
        pl = out / "pl" / "tables" / en.relative_to(out / "tables")
        rows_en, rows_pl = (list(csv.reader(f.open(encoding="utf-8"))) for f in (en, pl))
        assert len(rows_en) == len(rows_pl), en.name
        labels_differ = False
        for r, (x, y) in enumerate(zip(rows_en[1:], rows_pl[1:], strict=True), start=2):
            assert len(x) == len(y), f"{en.name} row {r}"
            for c, (u, v) in enumerate(zip(x, y, strict=True)):
                assert _cell_number(u) == _cell_number(v), f"{en.name} {r}:{c}: {u} / {v}"
                labels_differ |= u != v
        if en.stem in ("mode_power", "training_primary", "group_tests"):
            assert labels_differ, en.name  # two languages were compared, not one file twice


def test_verify_reproduces_the_committed_manifest_and_names_a_changed_figure(built):
    assert (built / "outputs" / "MANIFEST.sha256").exists(), "run `make manifest` and commit it"
    res = make(built, "verify", check=False)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "DIFFERS" not in res.stdout and "OK       figures/" in res.stdout
    fig = next((built / "outputs" / "figures").rglob("*.png"))
    original = fig.read_bytes()
    fig.write_bytes(original + b"\0")
    try:
        res = make(built, "verify", check=False)
        assert res.returncode != 0
        assert f"DIFFERS  {fig.relative_to(built / 'outputs').as_posix()}" in res.stdout
    finally:
        fig.write_bytes(original)


def test_second_make_all_executes_nothing(built):
    res = make(built, "all")
    assert ran(res) == []


def test_make_starts_the_synthesis_chain_before_the_independent_notebook():
    # A dry run of everything (-n -B; the sandbox holds the environment stamp as it is):
    # under `make -j2` the first two notebooks started are the two the synthesis waits for.
    res = make(ROOT, "-n", "-B", "all")
    commands = res.stdout.replace("\\\n", " ").splitlines()  # recipes continued with \\
    page = "compendium.publish.client "  # the page recipe (ENGINE=server, the default)
    runs = [ln for ln in commands if page in ln and "--stop" not in ln
            and "--module" not in ln]  # the data check and site steps go through it too
    order = [ln.split(page)[1].split()[0] for ln in runs if "outputs/pl" not in ln]
    twins = [ln.split(page)[1].split()[0] for ln in runs if "outputs/pl" in ln]
    assert sorted(order) == sorted(twins) == ["01_ops_survey", "02_idi_wielkopolska",
                                              "03_four_cities", "04_synthesis"]
    assert order[:2] == ["02_idi_wielkopolska", "03_four_cities"]
    assert order.index("04_synthesis") < order.index("01_ops_survey")


def test_touching_one_params_file_reruns_exactly_that_notebook(built):
    # 02's results come out the same bytes, so the synthesis, which reads them, does not run
    # again (it depends on their content, not on the page's time)
    results = [built / out / "results" / "02_idi_wielkopolska.json" for out in OUTS]
    before = [p.read_bytes() for p in results]
    os.utime(built / "params" / "02_idi_wielkopolska.yaml")
    res = make(built, "all")
    assert ran(res) == ["02_idi_wielkopolska", "02_idi_wielkopolska"]  # English, then Polish
    assert [p.read_bytes() for p in results] == before


def test_outputs_contain_no_absolute_paths_times_or_hosts(built):
    import re
    import socket

    needles = [str(built), str(ROOT), "/tmp/", "/root/", "/home/", "start_time", "end_time",
               "\"duration\"", "iopub."]
    host = re.compile(rf"(?<![\w.-]){re.escape(socket.gethostname())}(?![\w.-])")
    for path in (built / "outputs").rglob("*"):
        if path.suffix in {".html", ".ipynb", ".csv", ".json", ".svg"}:
            text = re.sub(r"base64,[A-Za-z0-9+/=\\n]+", "", path.read_text(encoding="utf-8"))
            hits = [n for n in needles if n in text] + host.findall(text)
            assert hits == [], f"{path.relative_to(built)} contains {hits}"


def test_clean_rebuild_is_byte_identical(built):
    before = snapshot(built / "outputs")
    make(built, "clean")
    make(built, "all")
    after = snapshot(built / "outputs")
    assert sorted(after) == sorted(before)
    differ = [p for p in before if before[p] != after[p]]
    assert differ == []


def test_bad_parameter_stops_with_one_screen_and_keeps_outputs(built):
    before = snapshot(built / "outputs")
    res = make(built, "ops-survey", "PARAMS=-p alpha 2", check=False)
    assert res.returncode != 0
    assert "parameter 'alpha'" in res.stderr and "less than 1" in res.stderr
    assert len(res.stderr.splitlines()) < 25
    assert snapshot(built / "outputs") == before
    make(built, "all")  # back to the defaults


def test_failing_notebook_keeps_previous_html_and_tables(built):
    import nbformat

    nb_path = built / "notebooks" / "02_idi_wielkopolska.ipynb"
    before = snapshot(built / "outputs")
    with restored(nb_path):
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells.insert(len(nb.cells) - 3,
                        nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
        nbformat.write(nb, nb_path)
        res = make(built, "all", check=False)
        assert res.returncode != 0
        assert "02_idi_wielkopolska failed in cell" in res.stderr
        assert "RuntimeError: boom" in res.stderr
        assert (built / "outputs" / "logs" / "02_idi_wielkopolska.failed.ipynb").exists()
        after = snapshot(built / "outputs")
        changed = [p for p in before if before[p] != after.get(p)]
        assert changed == []
    # the failed run changed nothing: with the notebook as it was, nothing is out of date
    assert ran(make(built, "all")) == []


def test_corrupted_raw_file_is_refused_and_changes_no_output(built):
    raw = files_of("ops_survey", built / "data")["papi"]
    before = snapshot(built / "outputs")
    with restored(raw):
        raw.write_bytes(raw.read_bytes().decode("cp1250").encode("utf-8"))  # re-saved as UTF-8
        res = make(built, "all", check=False)
        assert res.returncode != 0
        assert raw.name in res.stderr
        assert snapshot(built / "outputs") == before
    assert ran(make(built, "all")) == []  # the refused run left nothing half done


def test_killed_build_recovers_and_verifies(built):
    make(built, "manifest")
    os.utime(built / "params" / "03_four_cities.yaml")
    proc = subprocess.Popen(sandbox.make_command(built, VENV, "all"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=sandbox.sandbox_env(built), start_new_session=True)
    staging = built / "outputs" / ".staging"  # each run stages in 03_four_cities-<unique>
    deadline = time.time() + 120
    while (not any(staging.glob("03_four_cities-*")) and time.time() < deadline
           and proc.poll() is None):
        time.sleep(0.1)
    time.sleep(1.0)  # mid-notebook
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    res = make(built, "verify")
    assert "03_four_cities" in ran(res)
    assert "DIFFERS" not in res.stdout and "MISSING" not in res.stdout
    assert not [p for p in staging.iterdir() if p.is_dir()]  # the killed run's folder is swept


def test_no_published_table_shows_a_count_below_min_cell(built):
    checked = 0
    for table_dir in (built / "outputs" / "tables").iterdir():
        values = yaml.safe_load((built / "params" / f"{table_dir.name}.yaml").read_text()) or {}
        chosen = param_schemas.validate(table_dir.name, values)  # the file, else the schema
        min_cell = getattr(chosen, "min_cell", param_schemas.MIN_CELL_FLOOR)
        for csv in table_dir.glob("*.csv"):
            assert small_counts_in_csv(csv, min_cell) == [], csv.name
            checked += 1
    assert checked >= 10


def test_outputs_hold_no_personal_data(built):
    from compendium.publish.privacy import scan_tree

    assert scan_tree(built / "outputs") == []


def test_four_cities_runs_on_one_city_in_polish(built):
    res = make(built, "four-cities", "PARAMS=-p cities [Berlin] -p lang pl")
    assert ran(res) == ["03_four_cities"]
    html = (built / "outputs" / "html" / "03_four_cities.html").read_text(encoding="utf-8")
    assert "Only one city selected" in html
    assert "Aktorzy" in html  # a Polish label from the code labels
    tables = built / "outputs" / "tables" / "03_four_cities"
    assert not (tables / "city_tests.csv").exists()
    res = make(built, "all")  # the override is gone: back to the defaults
    # 03 again in both languages (its override changed); the English 03's results changed
    # (one city, then four again), so the English synthesis, which reads them, runs again; the
    # Polish 03's results came out as before, so the Polish synthesis does not
    assert sorted(ran(res)) == ["03_four_cities", "03_four_cities", "04_synthesis"]


def test_survey_runs_in_polish_with_labels_from_the_codebook(built):
    # the build's Polish twin is the notebook run with `-p lang pl`; the labels are the
    # codebook's own (data/codebooks/ops_survey.yaml: "miejsko-wiejska" / "urban-rural")
    def sample(out: str) -> str:
        return (built / out / "tables" / "01_ops_survey" / "sample.csv").read_text("utf-8")

    assert "miejsko-wiejska" in sample("outputs/pl") and "urban-rural" not in sample("outputs/pl")
    assert "urban-rural" in sample("outputs") and "miejsko-wiejska" not in sample("outputs")


def test_dedoose_and_refi_qda_sources_give_identical_tables(built):
    tables = built / "outputs" / "tables" / "03_four_cities"
    results = built / "outputs" / "results" / "03_four_cities.json"
    dedoose, dedoose_results = snapshot(tables), results.read_bytes()
    make(built, "four-cities", "PARAMS=-p source qdpx")
    assert snapshot(tables) == dedoose
    assert results.read_bytes() == dedoose_results
    res = make(built, "all")  # back to Dedoose: 03 again, and not the synthesis (same results)
    assert ran(res) == ["03_four_cities", "03_four_cities"]
