"""The list of tables and programs, and codecheck.yml.

Oracles: a notebook written here by hand (which cell writes which file is known by
construction); the file system (every file under tables/ and figures/); hashlib over the
files' bytes; the ``id="cell-id=..."`` anchors nbconvert wrote into the pages; the csv and
YAML parsers of the standard library and PyYAML.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT

from compendium.publish.catalogue import catalogue, codecheck_manifest, to_csv, write_catalogue


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n## 1. First section"),  # cell 0
        nbformat.v4.new_code_cell('nb.table(df, "alpha", "Caption")'),  # cell 1
        nbformat.v4.new_markdown_cell("Prose, no heading"),  # cell 2
        nbformat.v4.new_code_cell('# nb.table(df, "ghost", "in a comment")\n'
                                  'x = "nb.figure(f, \'ghost2\')"'),  # cell 3
        nbformat.v4.new_markdown_cell("### 2. Second section"),  # cell 4
        nbformat.v4.new_code_cell('%matplotlib inline\nnb.figure(fig, name="beta", caption="c")'),
    ]
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    _notebook(out / "notebooks" / "01_ops_survey.ipynb")
    files = {
        "tables/01_ops_survey/alpha.csv": b"a,b\n1,2\n",
        "tables/01_ops_survey/ghost.csv": b"x\n",
        "figures/01_ops_survey/beta.png": b"\x89PNG fake",
        "figures/01_ops_survey/beta.svg": b"<svg/>",
    }
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return out


def test_traced_by_hand(outputs):
    rows = {r.output_file: r for r in catalogue(outputs)}
    assert set(rows) == {"tables/01_ops_survey/alpha.csv", "tables/01_ops_survey/ghost.csv",
                         "figures/01_ops_survey/beta.png", "figures/01_ops_survey/beta.svg"}
    alpha = rows["tables/01_ops_survey/alpha.csv"]
    assert (alpha.section, alpha.cell, alpha.anchor) == (
        "1. First section", 1, "html/01_ops_survey.html#cell-id=c1")
    for ext in ("png", "svg"):
        beta = rows[f"figures/01_ops_survey/beta.{ext}"]
        assert (beta.section, beta.cell) == ("2. Second section", 5)
    # a name in a comment or a string is not a call: the file stays untraced
    ghost = rows["tables/01_ops_survey/ghost.csv"]
    assert (ghost.cell, ghost.anchor) == ("", "")
    assert alpha.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert alpha.needs_confidential_data == "yes"


def test_csv_parses_and_is_written(outputs):
    path = write_catalogue(outputs)
    assert path == outputs / "manifest" / "tables_and_programs.csv"
    parsed = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert [r["output_file"] for r in parsed] == sorted(r["output_file"] for r in parsed)
    assert len(parsed) == 4
    assert set(parsed[0]) == {"output_file", "notebook", "section", "cell", "anchor",
                              "needs_confidential_data", "sha256"}
    assert to_csv(catalogue(outputs)) == path.read_text("utf-8")  # deterministic


def test_codecheck_yaml(outputs):
    doc = yaml.safe_load(codecheck_manifest(catalogue(outputs), citation=ROOT / "CITATION.cff"))
    files = [m["file"] for m in doc["manifest"]]
    assert "outputs/tables/01_ops_survey/alpha.csv" in files
    assert "outputs/figures/01_ops_survey/beta.png" in files
    assert not any(f.endswith(".svg") for f in files)
    assert all(m["comment"] for m in doc["manifest"])
    assert doc["paper"]["title"] == yaml.safe_load((ROOT / "CITATION.cff").read_text())["title"]


@pytest.mark.slow
def test_built_catalogue_lists_every_table_and_figure(built):
    out = built / "outputs"
    rows = list(csv.DictReader(io.StringIO(
        (out / "manifest" / "tables_and_programs.csv").read_text("utf-8"))))
    on_disk = sorted(p.relative_to(out).as_posix() for kind in ("tables", "figures")
                     for p in (out / kind).rglob("*") if p.is_file())
    assert [r["output_file"] for r in rows] == on_disk
    for r in rows:
        assert r["sha256"] == hashlib.sha256((out / r["output_file"]).read_bytes()).hexdigest()
        assert r["needs_confidential_data"].startswith("yes")
        assert r["cell"] != "", f"{r['output_file']} not traced to a cell"
        page, anchor = r["anchor"].split("#")
        assert f'id="{anchor}"' in (out / page).read_text("utf-8"), r["anchor"]


@pytest.mark.slow
def test_committed_codecheck_names_only_existing_outputs(built):
    doc = yaml.safe_load((ROOT / "codecheck.yml").read_text("utf-8"))
    assert doc["version"].startswith("https://codecheck.org.uk/spec/config/")
    files = [m["file"] for m in doc["manifest"]]
    assert len(files) == len(set(files))
    missing = [f for f in files if not (built / f).is_file()]
    assert not missing, f"codecheck.yml names outputs the build does not make: {missing}"
    out = built / "outputs"
    expected = {f"outputs/{p.relative_to(out).as_posix()}" for p in out.rglob("*")
                if p.is_file() and p.parts[len(out.parts)] in ("tables", "figures")
                and p.suffix != ".svg"}
    assert expected <= set(files), "run `make codecheck`: codecheck.yml is stale"


def test_readme_names_the_locked_versions():
    import re

    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("<!-- requirements:start -->")[1].split("<!-- requirements:end -->")[0]
    lock = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt")
                           .read_text("utf-8"), re.M))
    named = re.findall(r"([a-z][a-z0-9-]+) (\d[\w.]*)", block)
    assert len(named) >= 5
    for name, version in named:
        assert lock.get(name) == version.rstrip("."), f"README says {name} {version}"


def test_replace_block_needs_markers():
    from compendium.publish.catalogue import replace_block

    text = "a\n<!-- x:start -->\nold\n<!-- x:end -->\nb\n"
    assert replace_block(text, "x", "new") == "a\n<!-- x:start -->\nnew\n<!-- x:end -->\nb\n"
    with pytest.raises(ValueError, match="no <!-- y:start -->"):
        replace_block(text, "y", "new")


@pytest.mark.slow
def test_readme_lists_every_table_and_figure(built):
    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("<!-- tables-and-programs:start -->")[1].split(
        "<!-- tables-and-programs:end -->")[0]
    listed = set(re_find(r"`(outputs/[^`]+)`", block))
    out = built / "outputs"
    on_disk = {f"outputs/{p.relative_to(out).as_posix()}" for kind in ("tables", "figures")
               for p in (out / kind).rglob("*") if p.is_file() and p.suffix != ".svg"}
    assert listed == on_disk, "run `make codecheck` to refresh the README's list"


def re_find(pattern: str, text: str) -> list[str]:
    import re

    return re.findall(pattern, text)
