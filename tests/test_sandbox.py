"""The shared sandbox (tests/sandbox.py): what a copy holds and the environment it builds in."""

from __future__ import annotations

import os
import subprocess

import sandbox


def _tree(root):
    (root / "src" / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "src" / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    (root / "src" / "pkg" / "m.py").write_text("X = 1\n")
    (root / "src" / "pkg.egg-info").mkdir()
    (root / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git is a file
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / "outputs" / "html").mkdir(parents=True)
    (root / "outputs" / "html" / "index.html").write_text("old")
    (root / "outputs" / "MANIFEST.sha256").write_text("abc  tables/x.csv\n")
    (root / "notebooks" / "outputs").mkdir(parents=True)  # not the top-level outputs
    (root / "notebooks" / "outputs" / "keep.txt").write_text("kept")
    os.utime(root / "src" / "pkg" / "m.py", (1_000_000_000, 1_000_000_000))


def test_copy_leaves_out_venv_git_outputs_and_caches_and_keeps_mtimes(tmp_path):
    root = tmp_path / "project"
    _tree(root)
    copy = sandbox.copy_project(tmp_path / "copy", root=root, venv=root / ".venv")
    files = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert files == ["notebooks/outputs/keep.txt", "outputs/MANIFEST.sha256", "src/pkg/m.py"]
    assert (copy / "src" / "pkg" / "m.py").stat().st_mtime == 1_000_000_000


def test_environment_drops_leaked_make_variables_and_imports_the_copys_package(tmp_path):
    base = {"PATH": "/usr/bin", "PARAMS": "-p alpha 2", "MAKEFLAGS": "-j8", "HIDE_CODE": "1",
            "PYTHONPATH": "/elsewhere", "VIRTUAL_ENV": "/v", "LANG": "C.UTF-8"}
    env = sandbox.sandbox_env(tmp_path, base)
    assert env == {"PATH": "/usr/bin", "LANG": "C.UTF-8", "PYTHONPATH": str(tmp_path / "src")}
    assert "PYTHONPATH" not in sandbox.sandbox_env(None, base)


def _echoed(stdout: str) -> list[str]:
    """The recipes' output, without make's own "Entering directory" lines."""
    return [ln for ln in stdout.splitlines() if not ln.startswith("make")]


def test_make_command_holds_the_venv_stamp_so_make_never_reinstalls_it(tmp_path):
    # GNU make itself is the oracle: with the stamp held (-o), a stamp rule that would
    # "reinstall" does not run; without it, it does.
    venv = tmp_path / "venv"
    (tmp_path / "Makefile").write_text(
        f"all: {venv}/.compendium-installed\n\t@echo built\n"
        f"{venv}/.compendium-installed:\n\t@echo REINSTALL\n")
    held = subprocess.run(sandbox.make_command(tmp_path, venv, "all"), capture_output=True,
                          text=True, env=sandbox.sandbox_env(tmp_path))
    assert _echoed(held.stdout) == ["built"]
    free = subprocess.run(sandbox.make_command(tmp_path, venv, "all", hold_env=False),
                          capture_output=True, text=True, env=sandbox.sandbox_env(tmp_path))
    assert _echoed(free.stdout) == ["REINSTALL", "built"]


def test_notebooks_run_reads_the_runners_lines_in_order():
    stderr = ("[compendium] running 02_idi_wielkopolska\nnoise\n"
              "[compendium] published outputs/html/02_idi_wielkopolska.html\n"
              "[compendium] running 04_synthesis\n")
    assert sandbox.notebooks_run(stderr) == ["02_idi_wielkopolska", "04_synthesis"]
    assert sandbox.notebooks_run("") == []


def test_snapshot_hashes_files_and_skips_stamps(tmp_path):
    import hashlib

    (tmp_path / ".stamps").mkdir()
    (tmp_path / ".stamps" / "x").write_text("t")
    (tmp_path / "a.csv").write_bytes(b"1,2\n")
    assert sandbox.snapshot(tmp_path) == {"a.csv": hashlib.sha256(b"1,2\n").hexdigest()}
