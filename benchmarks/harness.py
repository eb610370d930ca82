"""The benchmark's harness: settings, fresh copies, timed commands and the machine's facts.

Copies and ``make`` calls go through ``tests/sandbox.py``, the one sandbox the tests use too
(same copy policy, same environment policy: ``PYTHONPATH=<copy>/src``, leaked make variables
dropped, the venv's stamp held so a run never reinstalls it). This module adds what only the
benchmark needs: wall-clock timing with each stderr line's time, a timeout that kills the whole
process group, and peak memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:  # the shared sandbox lives with the tests
    sys.path.insert(0, str(ROOT / "tests"))
import sandbox  # noqa: E402

TIME_BIN = Path("/usr/bin/time")
# What the Makefile exports to every recipe; the floor runs get the same.
MAKE_EXPORTS = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "SOURCE_DATE_EPOCH": "0",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
RUNNING = re.compile(r"^\[compendium\] running (\S+)")
PUBLISHED = re.compile(r"^\[compendium\] published \S*?([^/\s]+)\.html(?: in \S+ s)?\s*$")


class BenchError(Exception):
    """A measurement could not be taken (a build failed, timed out, or checked wrong)."""


# ----------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """What the command line chose and where things are."""

    root: Path
    venv: Path
    work: Path
    repeats: int
    timeout: float
    scales: tuple[int, ...]
    skip_env: bool
    skip_scale: bool
    bytecode_cache: Path | None = None
    #: how the builds run their pages (the Makefile's ENGINE): the first is the default one,
    #: measured in every build; the others in the cold builds beside it
    engines: tuple[str, ...] = ("server", "kernel")

    def env_for(self, copy: Path | None) -> dict[str, str]:
        """Environment for commands in ``copy`` (the sandbox's), with the bytecode cache."""
        env = sandbox.sandbox_env(copy)
        if self.bytecode_cache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.bytecode_cache)
        return env

    @property
    def env_stamp(self) -> str:
        """The Makefile's environment stamp for ``venv``, spelled as make sees it."""
        return sandbox.env_stamp(self.venv)


# ------------------------------------------------------------------------------------ machine


def command_output(cmd: Sequence[str], cwd: Path | None = None) -> str | None:
    """Stripped stdout of a short command, or None when it fails."""
    try:
        res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def memory_total_bytes() -> int | None:
    """Physical memory from ``/proc/meminfo``."""
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    m = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, flags=re.M)
    return int(m.group(1)) * 1024 if m else None


def git_commit(root: Path) -> str:
    """Commit of the checkout, with ``+dirty`` when tracked files have uncommitted changes."""
    commit = command_output(["git", "rev-parse", "--short=12", "HEAD"], cwd=root)
    if commit is None:
        return "unknown (not a git checkout)"
    status = command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root)
    return commit + ("+dirty" if status else "")


def precompiled_share(venv: Path) -> dict[str, int]:
    """How many of the venv's ``.py`` files have a compiled ``.pyc`` next to them.

    Without one, every new Python process compiles what it imports again when
    ``PYTHONDONTWRITEBYTECODE`` is set (and the first one does when it is not).
    """
    sources = compiled = 0
    for site in venv.glob("lib/python*/site-packages"):
        cached = {(p.parent.parent, p.name.split(".")[0])
                  for p in site.rglob("__pycache__/*.pyc")}
        for py in site.rglob("*.py"):
            sources += 1
            compiled += (py.parent, py.stem) in cached
    return {"py_files": sources, "with_pyc": compiled}


def machine_info(root: Path, venv: Path) -> dict[str, Any]:
    """Cores, memory, Python, make, git commit and the load when the benchmark started."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    make_version = command_output(["make", "--version"])
    return {
        "cores": os.cpu_count(),
        "memory_bytes": memory_total_bytes(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "make": make_version.splitlines()[0] if make_version else None,
        "git_commit": git_commit(root),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "started_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "venv_bytecode": precompiled_share(venv),
    }


# ------------------------------------------------------------------------ copies and commands


class Workspace:
    """Numbered fresh copies of the project under one temporary folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.count = 0

    def fresh(self, label: str, source: Path | None = None) -> Path:
        """A new copy of the project (or of ``source``, e.g. a copy with scaled data)."""
        self.count += 1
        dest = self.settings.work / f"{self.count:02d}-{label}"
        return sandbox.copy_project(dest, root=source or self.settings.root,
                                    venv=self.settings.venv)

    def discard(self, copy: Path) -> None:
        """Delete a copy that is no longer needed."""
        shutil.rmtree(copy, ignore_errors=True)


@dataclass
class Run:
    """One timed command: wall time, exit status, the notebooks the runner reported."""

    wall: float
    returncode: int
    stderr: list[tuple[float, str]] = field(default_factory=list)
    max_rss_bytes: int | None = None
    stdout: str = ""
    #: CPU seconds (user + system) of the command and every process it started and waited for,
    #: with the build servers it started (detached, so no one's child: they report it)
    cpu: float | None = None
    #: of ``cpu``, the build servers' share (their imports and the children they forked)
    server_cpu: float = 0.0

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.stderr]

    @property
    def notebooks_run(self) -> list[str]:
        """Notebooks the runner started, in order (from ``[compendium] running <stem>``)."""
        return [m.group(1) for line in self.lines if (m := RUNNING.match(line))]

    def tail(self, n: int = 15) -> str:
        return "\n".join(self.lines[-n:])


def timed(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float,
          memory: bool = False) -> Run:
    """Run ``cmd``, timing it and recording each stderr line with its time since the start.

    With ``memory``, the peak resident set size of the largest single process of the tree is
    taken from ``/usr/bin/time -v`` (or from ``getrusage`` in a wrapper process without it).
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        rss_file = Path(tmp) / "rss.txt"
        full = list(cmd)
        if memory:
            full = memory_wrapper(full, rss_file)
        with open(Path(tmp) / "stdout.txt", "wb") as out:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE,
                                    text=True, errors="replace", start_new_session=True)
            timer = threading.Timer(timeout, kill_group, args=(proc,))
            timer.start()
            lines = []
            try:
                assert proc.stderr is not None
                for line in proc.stderr:
                    lines.append((time.perf_counter() - start, line.rstrip("\n")))
                returncode = proc.wait()
            finally:
                timer.cancel()
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if returncode < 0 and wall >= timeout:
            lines.append((wall, f"[bench] killed after the {timeout:.0f} s timeout"))
        rss = read_max_rss(rss_file) if memory else None
        stdout = (Path(tmp) / "stdout.txt").read_text(errors="replace")
    return Run(wall=wall, returncode=returncode, stderr=lines, max_rss_bytes=rss, stdout=stdout,
               cpu=cpu)


def kill_group(proc: subprocess.Popen) -> None:
    """Stop a command that ran past its timeout, with everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 9)


def memory_wrapper(cmd: list[str], rss_file: Path) -> list[str]:
    """``cmd`` wrapped so that the peak RSS of its largest process lands in ``rss_file``."""
    if TIME_BIN.exists():
        return [str(TIME_BIN), "-v", "-o", str(rss_file), *cmd]
    script = ("import resource, subprocess, sys\n"
              "rc = subprocess.call(sys.argv[2:])\n"
              "kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
              "open(sys.argv[1], 'w').write(f'Maximum resident set size (kbytes): {kib}\\n')\n"
              "sys.exit(rc)\n")
    return [sys.executable, "-c", script, str(rss_file), *cmd]


def read_max_rss(path: Path) -> int | None:
    """Peak RSS in bytes from a ``time -v`` style report."""
    if not path.exists():
        return None
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", path.read_text())
    return int(m.group(1)) * 1024 if m else None


def server_usage(usage: Path, timeout: float = 30.0) -> tuple[float, int | None]:
    """CPU seconds and peak RSS (bytes, of one process) of the build servers that logged to
    ``usage`` (``COMPENDIUM_SERVER_USAGE``): each logs its start, and its own and its children's
    CPU time when it exits (the site step stops it at the end of a build; an idle one stops by
    itself within seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [json.loads(line) for line in usage.read_text().splitlines()] \
            if usage.exists() else []
        started = {r["pid"] for r in rows if r.get("started")}
        done = {r["pid"]: r for r in rows if "user" in r}
        if started <= set(done) or time.monotonic() > deadline:
            if not started <= set(done):
                raise BenchError(f"build server(s) {sorted(started - set(done))} did not stop")
            rss = [r["maxrss_kib"] * 1024 for r in done.values()]
            return sum(r["user"] + r["sys"] for r in done.values()), max(rss, default=None)
        time.sleep(0.05)


def make(settings: Settings, copy: Path, *targets: str, jobs: int = 1,
         memory: bool = False, engine: str | None = None) -> Run:
    """``make -C copy VENV=<venv> [-jN] [ENGINE=engine] targets`` with the environment stamp
    held as is; CPU time includes the build servers the build started.

    ``-o <stamp>`` keeps make from reinstalling the shared venv should its stamp look older
    than the copy's lock; the environment set-up is measured separately.
    """
    cmd = sandbox.make_command(copy, settings.venv, *([f"-j{jobs}"] if jobs > 1 else []),
                               *([f"ENGINE={engine}"] if engine else []), *targets)
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        usage = Path(tmp) / "usage.jsonl"
        env = {**settings.env_for(copy), "COMPENDIUM_SERVER_USAGE": str(usage)}
        res = timed(cmd, cwd=copy, env=env, timeout=settings.timeout, memory=memory)
        if res.returncode != 0:
            raise BenchError(f"make {' '.join(targets)} (-j{jobs}) failed with exit status "
                             f"{res.returncode}:\n{res.tail()}")
        res.server_cpu, rss = server_usage(usage)
    res.cpu = (res.cpu or 0.0) + res.server_cpu
    if memory and rss is not None:  # a notebook forked by a server is no child of make's
        res.max_rss_bytes = max(res.max_rss_bytes or 0, rss)
    return res


def runner_times(res: Run) -> dict[str, float]:
    """Seconds between each notebook's ``running`` and ``published`` lines in one (serial)
    build; a page published under ``pl/`` is the Polish twin, ``<stem> (pl)``."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for t, line in res.stderr:
        if m := RUNNING.match(line):
            started[m.group(1)] = t
        elif (m := PUBLISHED.match(line)) and m.group(1) in started:
            name = f"{m.group(1)} (pl)" if "/pl/html/" in line else m.group(1)
            took[name] = t - started[m.group(1)]
    return took


def progress(message: str) -> None:
    """One line of progress on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
