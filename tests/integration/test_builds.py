"""Safe builds (issue 16): one build at a time per folder, parameters checked before any work,
PARAMS never evaluated by a shell. Each test builds in its own copy of the built project."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sandbox
from conftest import VENV, make, ran, restored

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(built, tmp_path_factory) -> Path:
    """A copy of the built project (mtimes kept, so it starts up to date)."""
    copy = tmp_path_factory.mktemp("builds") / "project"
    shutil.copytree(built, copy, copy_function=shutil.copy2, symlinks=True)
    return copy


def everything(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, stamps included (the lock file's pid excluded)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".build.lock"}


@pytest.mark.parametrize(
    "params",
    [
        "-p min_cell true",  # 01, 02, 03 refuse it: a bool is not a count
        "-p min_cell 1",  # below the floor without not_for_publication
        "-p alpha 2",  # only 01 has alpha, and refuses 2
        "-p cities '[Paris]'",  # only 03 has cities
        "-p lang pl -p seed -1",  # valid for every notebook, then refused by 02
        "-p citys '[Berlin]'",  # no notebook has it
    ],
)
def test_an_override_any_notebook_rejects_changes_nothing(project, params):
    before = everything(project / "outputs")
    res = make(project, "-j2", "all", f"PARAMS={params}", check=False)
    assert res.returncode != 0
    assert ran(res) == []
    assert "PARAMS refused, nothing was run or changed" in res.stderr
    message = next(ln for ln in res.stderr.splitlines() if "PARAMS refused" in ln)
    name = re.search(r"-p (\w+) \S+$", params).group(1)
    assert f"parameter '{name}" in message  # the real problem, not another notebook's
    assert everything(project / "outputs") == before


@pytest.mark.parametrize("payload", ["-p lang en; touch x", "-p lang en $(touch x)",
                                     "-p lang `touch x`", "$(shell touch x)"])
def test_params_with_a_shell_payload_runs_nothing(project, payload):
    before = everything(project / "outputs")
    res = make(project, "all", f"PARAMS={payload}", check=False)
    assert not (project / "x").exists() and not Path("x").exists()
    if res.returncode == 0:  # `$(touch x)` as one word is a harmless (unused) value
        assert ran(res) == []
    else:
        assert "PARAMS refused" in res.stderr
    assert everything(project / "outputs") == before


def test_an_override_goes_only_to_the_notebooks_that_have_it(project):
    # each notebook runs twice: its English page, then its Polish twin. The synthesis has no
    # `quotes_per_cell` and reads only the others' results, which the quotes do not change:
    # it does not run (checked: the results' bytes are the same)
    twice = sorted(2 * ["02_idi_wielkopolska", "03_four_cities"])
    results = sorted((project / "outputs").glob("**/results/0[23]_*.json"))
    before = [p.read_bytes() for p in results]
    res = make(project, "all", "PARAMS=-p quotes_per_cell 2")
    assert sorted(ran(res)) == twice
    assert [p.read_bytes() for p in results] == before and len(results) == 4
    res = make(project, "all")  # back to the defaults: the same two, not 01
    assert sorted(ran(res)) == twice


def test_two_builds_at_once_both_end_well_and_the_site_is_complete(project):
    # the synthesis is stale (its English and Polish pages and both site steps: ~10 s of
    # work), so the first build holds the lock while the second starts
    os.utime(project / "params" / "04_synthesis.yaml")
    def build(_: int) -> subprocess.CompletedProcess:
        return subprocess.run(sandbox.make_command(project, VENV, "all"), capture_output=True,
                              text=True, env=sandbox.sandbox_env(project), timeout=900)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(build, range(2)))
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    waited = [r for r in results if "another build is running in this folder" in r.stderr]
    assert len(waited) == 1  # the second waited for the first, with one line
    assert ran(waited[0]) == []  # and then found everything up to date
    index = (project / "outputs" / "html" / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#:]+)"', index))
    assert links and all((project / "outputs" / "html" / link).resolve().is_file()
                         for link in links), links
    assert not [p for p in (project / "outputs" / ".staging").iterdir() if p.is_dir()]


def test_below_the_floor_only_with_the_switch_and_then_every_page_says_so(project):
    res = make(project, "idi", "PARAMS=-p not_for_publication true -p min_cell 2")
    assert ran(res) == ["02_idi_wielkopolska"]
    page = (project / "outputs" / "html" / "02_idi_wielkopolska.html").read_text("utf-8")
    assert "NOT FOR PUBLICATION" in page
    make(project, "all")  # the switch is gone: publishable pages again
    for page in (project / "outputs" / "html").glob("0*.html"):
        assert "NOT FOR PUBLICATION" not in page.read_text("utf-8"), page.name


def test_a_bad_value_in_one_params_file_stops_the_build_before_any_notebook(project):
    params_file = project / "params" / "03_four_cities.yaml"
    with restored(*sorted((project / "params").glob("0[123]*.yaml"))):
        for other in (project / "params").glob("0[12]*.yaml"):
            os.utime(other)  # 01 and 02 are stale too: without the check they would run first
        before = everything(project / "outputs")
        params_file.write_bytes(params_file.read_bytes() + b"min_cell: true\n")
        res = make(project, "-j2", "all", check=False)
        assert res.returncode != 0 and ran(res) == []
        assert "03_four_cities: parameter 'min_cell'" in res.stderr
        assert everything(project / "outputs") == before
    assert ran(make(project, "all")) == []  # the files as they were: nothing out of date
