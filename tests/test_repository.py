"""Rules about the repository itself: the generated Make fragment matches the declared map of
raw sources, every declared file exists, no Python file is long without a stated reason, and
nothing points outside the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox import ROOT

from compendium.data import sources

MAX_LINES = 600
#: How far down a long file's reason may sit (its module docstring or top comment).
REASON_WITHIN = 15
REASON = re.compile(r"\b(?:longer than|more than|over)\s+(?:~\s*|about\s+)?600\s+lines\b",
                    re.IGNORECASE)
#: Long files that other work in progress is changing, each with why it may still be long.
#: An entry must go once its file is split or states its reason at its top (a test checks).
LONG_FILES_ALLOWED: dict[str, str] = {}


def repository_files(root: Path | None = None) -> list[str]:
    """Tracked and new (not ignored) files of the checkout, as relative POSIX paths."""
    root = root or ROOT
    res = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, text=True)
    if res.returncode == 0:
        names = res.stdout.splitlines()
    else:  # not a git checkout (e.g. an unpacked archive): walk it, skipping what is built
        skip = {".venv", ".git", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache"}
        names = [p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(root).parts)]
    return sorted(n for n in names if (root / n).is_file())


def python_files() -> list[str]:
    """Python files under src, tests and benchmarks."""
    return [n for n in repository_files()
            if n.endswith(".py") and n.split("/")[0] in {"src", "tests", "benchmarks"}]


def line_count(rel: str) -> int:
    return len((ROOT / rel).read_text(encoding="utf-8").splitlines())


def states_reason(rel: str) -> bool:
    """True when the file's first lines say why it is over 600 lines."""
    head = (ROOT / rel).read_text(encoding="utf-8").splitlines()[:REASON_WITHIN]
    return REASON.search("\n".join(head)) is not None


# --------------------------------------------------------------------- the map of raw sources


def test_make_fragment_is_the_generated_one():
    committed = (ROOT / "mk" / "sources.mk").read_text(encoding="utf-8")
    assert committed == sources.make_fragment(), (
        "mk/sources.mk is stale: run `python -m compendium.data.sources > mk/sources.mk`")


def test_make_fragment_module_entry_point_prints_the_committed_file():
    res = subprocess.run([sys.executable, "-m", "compendium.data.sources"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert res.stdout == (ROOT / "mk" / "sources.mk").read_text(encoding="utf-8")


def test_make_sees_every_declared_file_as_a_prerequisite():
    # Make itself expands the fragment: its RAW_DATA is the declared files plus the marker.
    res = subprocess.run(["make", "-s", "--no-print-directory", "-f", "-", "show"],
                         input="DATA_DIR := data\ninclude mk/sources.mk\n"
                               "show:\n\t@printf '%s\\n' $(RAW_DATA)\n",
                         cwd=ROOT, capture_output=True, text=True, check=True)
    declared = [f"data/{f.path}" for f in sources.RAW_FILES] + [f"data/{sources.MARKER}"]
    assert res.stdout.split() == declared


@pytest.mark.parametrize("raw", sources.RAW_FILES, ids=lambda f: f"{f.source}:{f.role}")
def test_every_declared_file_exists_and_names_a_reader_that_exists(raw):
    import importlib

    assert (ROOT / "data" / raw.path).is_file(), f"data/{raw.path} is declared but missing"
    module, _, name = raw.reader.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name)), raw.reader


def test_the_marker_and_every_notebook_source_are_declared():
    assert (ROOT / "data" / sources.MARKER).is_file()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert sorted(sources.NOTEBOOK_SOURCES) == notebooks
    used = {s for srcs in sources.NOTEBOOK_SOURCES.values() for s in srcs}
    assert used == set(sources.study_names())


# ------------------------------------------------------------------------------ long files


def test_no_python_file_over_600_lines_without_a_reason_at_its_top():
    long = {rel: n for rel in python_files() if (n := line_count(rel)) > MAX_LINES}
    unexplained = sorted(f"{rel} ({n} lines)" for rel, n in long.items()
                         if not states_reason(rel) and rel not in LONG_FILES_ALLOWED)
    assert unexplained == [], (
        f"over {MAX_LINES} lines with no reason in the first {REASON_WITHIN} lines "
        f"(split the file, or say e.g. 'longer than 600 lines because ...'): {unexplained}")


def test_allowed_long_files_are_still_long_and_unexplained():
    # An allow-list entry whose file was split, removed or given a reason at its top is stale.
    files = set(python_files())
    stale = sorted(rel for rel in LONG_FILES_ALLOWED
                   if rel not in files or line_count(rel) <= MAX_LINES or states_reason(rel))
    assert stale == [], f"remove from LONG_FILES_ALLOWED: {stale}"


def test_the_reason_pattern_accepts_a_stated_reason_and_nothing_else():
    assert REASON.search("# Longer than 600 lines because the catalogue reads as one table.")
    assert REASON.search('"""... kept over ~600 lines: one parser per format."""')
    assert not REASON.search('"""The synthetic survey generator."""')
    assert not REASON.search("# 6000 lines")


# --------------------------------------------------------------- nothing points outside


OUTSIDE = re.compile(r"METHODS\.md|shared/")
TEXT = {".py", ".ipynb", ".md", ".yaml", ".yml", ".html", ".j2", ".txt", ".toml", ".cfg", ".css",
        ".js", ".bib", ".cff", ".in", ".mk", ".json", ".sha256", ""}
#: The one allowed reference: the REFI-QDA schema test reads the official XSD when the
#: workplace provides it (it is not redistributable), and skips otherwise.
OUTSIDE_ALLOWED = {("tests/data/", "shared/refi-qda/")}


def outside_references(root: Path | None = None) -> list[str]:
    """``path:line: text`` of every line in the repository naming a file outside it."""
    hits = []
    for rel in repository_files(root):
        if Path(rel).suffix not in TEXT or rel == "tests/test_repository.py":
            continue  # binary, or this file (it spells the pattern it looks for)
        try:
            text = ((root or ROOT) / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for no, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line) and not any(rel.startswith(prefix) and allowed in line
                                                for prefix, allowed in OUTSIDE_ALLOWED):
                hits.append(f"{rel}:{no}: {line.strip()}")
    return hits


def test_nothing_in_the_repository_refers_outside_it():
    # src, tests and notebooks (the check) and everything else tracked: data, docs,
    # params, the Makefile.
    hits = outside_references()
    assert hits == [], "references outside the repository (use docs/methods.md):\n" + \
        "\n".join(hits)


def test_the_outside_reference_scan_finds_a_planted_reference(tmp_path):
    # The scan must see what it looks for, and let the schema lookup in tests/data/ pass.
    for folder in ("src", "tests/data", "notebooks"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "src" / "planted.py").write_text('"""See /work/shared/METHODS.md."""\n',
                                                 encoding="utf-8")
    (tmp_path / "src" / "fine.py").write_text('"""See docs/methods.md#wilson."""\n',
                                              encoding="utf-8")
    (tmp_path / "tests" / "data" / "test_x.py").write_text(
        'XSD = "../shared/refi-qda/Project-mrt2019.xsd"\n', encoding="utf-8")
    (tmp_path / "notebooks" / "n.ipynb").write_text('{"source": "METHODS.md"}\n',
                                                    encoding="utf-8")
    assert outside_references(tmp_path) == [
        'notebooks/n.ipynb:1: {"source": "METHODS.md"}',
        'src/planted.py:1: """See /work/shared/METHODS.md."""']


# ------------------------------------------------------------------ the package's stages


STAGES = ("data", "analysis", "publish")
#: What each part of the package may import (besides itself and the shared base modules).
MAY_IMPORT = {"data": set(), "analysis": {"data"}, "publish": {"data", "analysis"},
              "synthetic": {"data"}, "base": set()}


def package_modules() -> dict[str, str]:
    """``{dotted name: part}`` of every module; part is a subpackage or ``base``."""
    pkg = ROOT / "src" / "compendium"
    found = {}
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg).with_suffix("")
        part = rel.parts[0] if len(rel.parts) > 1 else "base"
        found[".".join(("compendium", *rel.parts))] = part
    return found


def imported_parts(module: str) -> set[str]:
    """The parts of the package a module imports (from its syntax tree)."""
    import ast

    path = ROOT / "src" / (module.replace(".", "/") + ".py")
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    parts = set()
    for name in names:
        bits = name.split(".")
        if bits[0] == "compendium" and len(bits) > 1 and (ROOT / "src" / "compendium"
                                                          / bits[1]).is_dir():
            parts.add(bits[1])
    return parts


def test_stages_import_only_earlier_stages_and_the_base_modules():
    wrong = []
    for module, part in package_modules().items():
        extra = imported_parts(module) - MAY_IMPORT[part] - {part}
        if extra:
            wrong.append(f"{module} ({part}) imports {sorted(extra)}")
    assert wrong == []


def test_every_stage_states_its_contract():
    import ast

    for stage in STAGES:
        doc = ast.get_docstring(ast.parse(
            (ROOT / "src" / "compendium" / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "In:" in doc and "Out:" in doc and "Contract:" in doc, stage


def test_readme_module_map_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The package, by stage", 1)[-1].split("### Tests", 1)[0]
    names = {m: m.rsplit(".", 1)[1] for m in package_modules()}
    public = {m: n for m, n in names.items() if n != "__init__" and not
              (n.startswith("_") and not n.startswith("__"))}  # _private helpers excepted
    missing = sorted(m for m, n in public.items() if f"`{n}`" not in section)
    assert missing == [], f"add to the README's module map: {missing}"
