"""Measure what the compendium's pipeline costs: ``make bench`` (or run this file with the venv).

Every measurement runs ``make`` in a fresh temporary copy of the project (mtimes preserved;
``.venv``, ``.git``, ``outputs`` and caches left out) with the existing environment
(``make -C <copy> VENV=<venv>``), so the project's own outputs are never touched. Each figure is
the median of ``--repeats`` runs with min and max. The report goes to ``outputs/bench/report.md``
and ``outputs/bench/report.json`` and is printed. Targets are shown next to the figures for
information; nothing is asserted.

Measurements: cold build (serial and ``-j2``), no-op build, incremental build after touching one
parameter file, the floor (each notebook's code as a plain Python script), the overhead ratios,
the cold build on synthetic data at 1x/10x/100x with peak memory, and the environment set-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import yaml

from compendium.artifacts import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
TOUCHED = "params/01_ops_survey.yaml"
TOUCHED_NOTEBOOK = "01_ops_survey"
SCALES = (1, 10, 100)
GIB = 1024**3
TIME_BIN = Path("/usr/bin/time")
COPY_IGNORE = {".venv", ".git", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache",
               ".hypothesis", ".ipynb_checkpoints", ".mypy_cache"}
# Variables a calling make (``make bench PARAMS=...``) would otherwise leak into the runs.
ENV_DROP = ("PARAMS", "HIDE_CODE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
            "MAKE_TERMOUT", "MAKE_TERMERR", "PYTHONPATH", "VIRTUAL_ENV")
# What the Makefile exports to every recipe; the floor runs get the same.
MAKE_EXPORTS = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "SOURCE_DATE_EPOCH": "0",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
# What the notebooks import, timed alone: the fixed cost of every notebook process.
IMPORTS = ("import IPython.display, compendium.publish.notebook, compendium.publish.plots, "
           "compendium.analysis.qual, compendium.analysis.survey_analysis, "
           "compendium.analysis.interview_analysis")
RUNNING = re.compile(r"^\[compendium\] running (\S+)")
PUBLISHED = re.compile(r"^\[compendium\] published \S*?([^/\s]+)\.html(?: in [\d.]+ s)?\s*$")


class BenchError(Exception):
    """A measurement could not be taken (a build failed, timed out, or checked wrong)."""


# ------------------------------------------------------------------------------------ settings


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

    def env_for(self, copy: Path | None) -> dict[str, str]:
        """Environment for commands in ``copy`` (see :func:`run_env`), with the bytecode cache."""
        env = run_env(copy)
        if self.bytecode_cache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.bytecode_cache)
        return env

    @property
    def env_stamp(self) -> str:
        """The Makefile's environment stamp for ``venv``, spelled as make sees it."""
        return f"{self.venv}/.compendium-installed"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: one repeat of everything")
    ap.add_argument("--skip-env", action="store_true", help="leave out the environment set-up")
    ap.add_argument("--skip-scale", action="store_true", help="leave out the 1x/10x/100x runs")
    ap.add_argument("--scales", default=",".join(map(str, SCALES)),
                    help="data sizes for the scale runs (default 1,10,100)")
    ap.add_argument("--venv", default=None,
                    help="environment to build with (default: the one running this script)")
    ap.add_argument("--out", default=None, help="report folder (default outputs/bench)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per command")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    ap.add_argument("--bytecode-cache", action="store_true",
                    help="what-if: let Python cache bytecode (PYTHONPYCACHEPREFIX in the temporary "
                         "folder, PYTHONDONTWRITEBYTECODE unset), warmed by one untimed build")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    try:
        args.scales = tuple(int(s) for s in args.scales.split(",") if s.strip())
    except ValueError:
        ap.error("--scales takes whole numbers separated by commas, e.g. 1,10,100")
    if not args.scales or min(args.scales) < 1:
        ap.error("--scales needs at least one size >= 1")
    return args


def default_venv() -> Path:
    """The virtualenv running this script (``make bench`` runs it with ``$(VENV)/bin/python``)."""
    prefix = Path(sys.prefix)
    return prefix if (prefix / "bin" / "python").exists() else ROOT / ".venv"


# --------------------------------------------------------------------------------- statistics


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of the runs, with the runs themselves."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values], "n": len(values)}


def ratio(numerator: dict[str, Any] | None, denominator: dict[str, Any] | None) -> float | None:
    """Ratio of two medians (None when either is missing)."""
    if not numerator or not denominator or "median" not in numerator \
            or "median" not in denominator or not denominator["median"]:
        return None
    return numerator["median"] / denominator["median"]


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


# -------------------------------------------------------------------------------- the copies


def copy_project(root: Path, dest: Path, venv: Path) -> Path:
    """A copy of the project at ``dest`` (mtimes kept), without venv, git, outputs, caches."""
    skip_top = set(COPY_IGNORE)
    if venv.parent == root:
        skip_top.add(venv.name)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in {"__pycache__", ".ipynb_checkpoints"}
                   or n.endswith(".egg-info")}
        if Path(folder) == root:
            skipped |= skip_top & set(names)
        return skipped

    shutil.copytree(root, dest, ignore=ignore, copy_function=shutil.copy2)
    (dest / "outputs").mkdir(exist_ok=True)
    for name in ("README.md", "MANIFEST.sha256"):
        if (root / "outputs" / name).exists():
            shutil.copy2(root / "outputs" / name, dest / "outputs" / name)
    return dest


class Workspace:
    """Numbered fresh copies of the project under one temporary folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.count = 0

    def fresh(self, label: str, source: Path | None = None) -> Path:
        """A new copy of the project (or of ``source``, e.g. a copy with scaled data)."""
        self.count += 1
        dest = self.settings.work / f"{self.count:02d}-{label}"
        return copy_project(source or self.settings.root, dest, self.settings.venv)

    def discard(self, copy: Path) -> None:
        """Delete a copy that is no longer needed."""
        shutil.rmtree(copy, ignore_errors=True)


def run_env(copy: Path | None) -> dict[str, str]:
    """Environment for commands run in ``copy``: its own ``src`` first on the import path.

    The venv's editable install points at the original checkout; ``PYTHONPATH`` makes the
    runner, the kernel and the floor scripts import the copy's snapshot of the package instead.
    """
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    if copy is not None:
        env["PYTHONPATH"] = str(copy / "src")
    return env


# ---------------------------------------------------------------------------- running commands


@dataclass
class Run:
    """One timed command: wall time, exit status, the notebooks the runner reported."""

    wall: float
    returncode: int
    stderr: list[tuple[float, str]] = field(default_factory=list)
    max_rss_bytes: int | None = None
    stdout: str = ""

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
        if returncode < 0 and wall >= timeout:
            lines.append((wall, f"[bench] killed after the {timeout:.0f} s timeout"))
        rss = read_max_rss(rss_file) if memory else None
        stdout = (Path(tmp) / "stdout.txt").read_text(errors="replace")
    return Run(wall=wall, returncode=returncode, stderr=lines, max_rss_bytes=rss, stdout=stdout)


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


def make(settings: Settings, copy: Path, *targets: str, jobs: int = 1,
         memory: bool = False) -> Run:
    """``make -C copy VENV=<venv> [-jN] targets`` with the environment stamp held as is.

    ``-o <stamp>`` keeps make from reinstalling the shared venv should its stamp look older
    than the copy's lock; the environment set-up is measured separately.
    """
    cmd = ["make", "-C", str(copy), f"VENV={settings.venv}", "-o", settings.env_stamp]
    if jobs > 1:
        cmd.append(f"-j{jobs}")
    res = timed([*cmd, *targets], cwd=copy, env=settings.env_for(copy), timeout=settings.timeout,
                memory=memory)
    if res.returncode != 0:
        raise BenchError(f"make {' '.join(targets)} (-j{jobs}) failed with exit status "
                         f"{res.returncode}:\n{res.tail()}")
    return res


def runner_times(res: Run) -> dict[str, float]:
    """Seconds between each notebook's ``running`` and ``published`` lines in one build."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for t, line in res.stderr:
        if m := RUNNING.match(line):
            started[m.group(1)] = t
        elif (m := PUBLISHED.match(line)) and m.group(1) in started:
            took[m.group(1)] = t - started[m.group(1)]
    return took


def progress(message: str) -> None:
    """One line of progress on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- builds


def warm_up(settings: Settings, ws: Workspace) -> dict[str, Any]:
    """One untimed cold build that fills the bytecode cache (``--bytecode-cache`` only)."""
    copy = ws.fresh("warm-up")
    try:
        res = make(settings, copy, "all")
    finally:
        ws.discard(copy)
    progress(f"bytecode cache warmed by one cold build ({res.wall:.1f} s)")
    return {"seconds": round(res.wall, 2)}


def measure_builds(settings: Settings, ws: Workspace) -> dict[str, Any]:
    """Cold (serial and -j2), no-op and incremental builds, each repeat in fresh copies."""
    cold, cold_j2, noop, incr = [], [], [], []
    noop_ran: list[list[str]] = []
    incr_ran: list[list[str]] = []
    per_notebook: dict[str, list[float]] = {}
    timeline: list[tuple[float, str]] = []
    for i in range(1, settings.repeats + 1):
        copy = ws.fresh(f"serial-{i}")
        res = make(settings, copy, "all")
        cold.append(res.wall)
        timeline = timeline or [(round(t, 2), line) for t, line in res.stderr]
        for stem, secs in runner_times(res).items():
            per_notebook.setdefault(stem, []).append(secs)
        progress(f"cold build, serial {i}/{settings.repeats}: {res.wall:.1f} s "
                 f"({len(res.notebooks_run)} notebooks)")
        res = make(settings, copy, "all")
        noop.append(res.wall)
        noop_ran.append(res.notebooks_run)
        progress(f"no-op build {i}/{settings.repeats}: {res.wall:.2f} s")
        os.utime(copy / TOUCHED)
        res = make(settings, copy, "all")
        incr.append(res.wall)
        incr_ran.append(res.notebooks_run)
        progress(f"incremental build {i}/{settings.repeats}: {res.wall:.1f} s "
                 f"(ran {', '.join(res.notebooks_run) or 'nothing'})")
        ws.discard(copy)

        copy = ws.fresh(f"j2-{i}")
        res = make(settings, copy, "all", jobs=2)
        cold_j2.append(res.wall)
        progress(f"cold build, -j2 {i}/{settings.repeats}: {res.wall:.1f} s")
        ws.discard(copy)
    return {
        "cold_serial": summarize(cold),
        "cold_j2": summarize(cold_j2),
        "noop": {**summarize(noop), "notebooks_run": noop_ran,
                 "check_ok": all(r == [] for r in noop_ran)},
        "incremental": {**summarize(incr), "touched": TOUCHED, "notebooks_run": incr_ran,
                        "check_ok": all(r == [TOUCHED_NOTEBOOK] for r in incr_ran)},
        "runner_per_notebook_serial": {k: summarize(v) for k, v in sorted(per_notebook.items())},
        "serial_timeline_first_run": timeline,
    }


# -------------------------------------------------------------------------------------- floor


def notebook_stems(root: Path) -> list[str]:
    """The notebooks in the order the site lists them (the synthesis, 04, last)."""
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9]*.ipynb"))


def load_params(path: Path) -> dict[str, Any]:
    """The notebook's parameters from ``params/<stem>.yaml`` (empty when there is none)."""
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def strip_magics(source: str) -> str | None:
    """A code cell without IPython magics and shell escapes (None for a cell magic)."""
    if source.lstrip().startswith("%%"):
        return None
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            line = f"{indent}pass  # magic removed: {stripped}"
        lines.append(line)
    return "\n".join(lines)


def notebook_script(notebook: Path, params: dict[str, Any], output_dir: str = "outputs") -> str:
    """The notebook's code cells as one plain Python script.

    The parameters from the YAML file are injected after the ``parameters`` cell, as papermill
    does; ``output_dir`` points at the copy's ``outputs`` (the runner uses a staging folder).
    """
    nb = nbformat.read(notebook, as_version=4)
    injected = {**params, "output_dir": output_dir}
    parts = ["from IPython.display import display  # noqa: F401"]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = strip_magics(cell.source)
        if code is not None:
            parts.append(code)
        if "parameters" in cell.metadata.get("tags", []):
            parts.append("\n".join(f"{name} = {value!r}" for name, value in injected.items()))
    return "\n\n".join(parts) + "\n"


def run_floor_once(settings: Settings, copy: Path, scripts: dict[str, Path]) -> dict[str, float]:
    """Run every notebook script in order in ``copy``; seconds per notebook."""
    env = {**settings.env_for(copy), **MAKE_EXPORTS}
    python = str(settings.venv / "bin" / "python")
    times = {}
    for stem, script in scripts.items():
        res = timed([python, str(script)], cwd=copy, env=env, timeout=settings.timeout)
        if res.returncode != 0:
            raise BenchError(f"floor: {stem} as a plain script failed:\n{res.tail()}")
        times[stem] = res.wall
    return times


def run_steps_once(settings: Settings, copy: Path) -> dict[str, float]:
    """Other steps as plain commands: the notebooks' imports alone, data check, site index."""
    env = {**settings.env_for(copy), **MAKE_EXPORTS}
    python = str(settings.venv / "bin" / "python")
    steps = {"imports only": [python, "-c", IMPORTS],
             "data check": [python, "-m", "compendium.data.datacheck", "data"],
             "site index": [python, "-m", "compendium.publish.site", "--root", "."]}
    times = {}
    for name, cmd in steps.items():
        res = timed(cmd, cwd=copy, env=env, timeout=settings.timeout)
        if res.returncode != 0:
            raise BenchError(f"{name} failed:\n{res.tail()}")
        times[name] = res.wall
    return times


def measure_floor(settings: Settings, ws: Workspace) -> dict[str, Any]:
    """Each notebook's code as a plain script (one process per notebook), in notebook order."""
    stems = notebook_stems(settings.root)
    scripts_dir = settings.work / "floor-scripts"
    scripts_dir.mkdir(exist_ok=True)
    scripts = {}
    for stem in stems:
        text = notebook_script(settings.root / "notebooks" / f"{stem}.ipynb",
                               load_params(settings.root / "params" / f"{stem}.yaml"))
        scripts[stem] = scripts_dir / f"{stem}.py"
        scripts[stem].write_text(text, encoding="utf-8")
    totals: list[float] = []
    per: dict[str, list[float]] = {s: [] for s in stems}
    steps: dict[str, list[float]] = {}
    for i in range(1, settings.repeats + 1):
        copy = ws.fresh(f"floor-{i}")
        times = run_floor_once(settings, copy, scripts)
        for stem, secs in times.items():
            per[stem].append(secs)
        totals.append(sum(times.values()))
        for name, secs in run_steps_once(settings, copy).items():
            steps.setdefault(name, []).append(secs)
        progress(f"floor {i}/{settings.repeats}: {totals[-1]:.1f} s "
                 f"({', '.join(f'{s} {t:.1f}' for s, t in times.items())})")
        ws.discard(copy)
    return {"total": summarize(totals),
            "per_notebook": {s: summarize(v) for s, v in per.items()},
            "other_steps": {k: summarize(v) for k, v in steps.items()}}


# -------------------------------------------------------------------------------------- scale


def generate_data(settings: Settings, copy: Path, scale: int) -> float:
    """Regenerate the copy's synthetic raw data at ``scale``; seconds taken (not counted)."""
    env = settings.env_for(copy)
    cmd = [str(settings.venv / "bin" / "python"), "-m", "compendium.synthetic",
           "--out", str(copy / "data" / "raw"), "--scale", str(scale)]
    res = timed(cmd, cwd=copy, env=env, timeout=settings.timeout)
    if res.returncode != 0:
        raise BenchError(f"generating the data at {scale}x failed:\n{res.tail()}")
    return res.wall


def data_size(copy: Path) -> int:
    """Bytes of raw data in a copy."""
    return sum(p.stat().st_size for p in (copy / "data" / "raw").rglob("*") if p.is_file())


def measure_one_scale(settings: Settings, ws: Workspace, scale: int) -> dict[str, Any]:
    """Cold ``make -j2 all`` on data generated at ``scale``: wall time and peak memory."""
    template = ws.fresh(f"scale{scale}-data")
    gen = generate_data(settings, template, scale)
    size = data_size(template)
    progress(f"scale {scale}x: data generated in {gen:.1f} s ({size / 1e6:.1f} MB)")
    walls: list[float] = []
    rss: list[int] = []
    try:
        for i in range(1, settings.repeats + 1):
            copy = ws.fresh(f"scale{scale}-{i}", source=template)
            try:
                res = make(settings, copy, "all", jobs=2, memory=True)
            finally:
                ws.discard(copy)
            walls.append(res.wall)
            if res.max_rss_bytes is not None:
                rss.append(res.max_rss_bytes)
            peak = f"{res.max_rss_bytes / 2**20:.0f} MiB" if res.max_rss_bytes else "unknown"
            progress(f"scale {scale}x, cold -j2 {i}/{settings.repeats}: {res.wall:.1f} s, "
                     f"peak RSS {peak}")
    finally:
        ws.discard(template)
    return {"scale": scale, "ok": True, "generate_seconds": round(gen, 2), "raw_bytes": size,
            "wall": summarize(walls), "max_rss_bytes": max(rss) if rss else None,
            "memory_tool": str(TIME_BIN) if TIME_BIN.exists() else "getrusage wrapper"}


def measure_scale(settings: Settings, ws: Workspace) -> list[dict[str, Any]]:
    """Every size in turn; a size that fails is recorded with its message and the rest go on."""
    rows = []
    for scale in settings.scales:
        try:
            rows.append(measure_one_scale(settings, ws, scale))
        except BenchError as exc:
            progress(f"scale {scale}x failed: {str(exc).splitlines()[0]}")
            rows.append({"scale": scale, "ok": False, "error": str(exc)})
    base = next((r for r in rows if r["scale"] == min(settings.scales) and r["ok"]), None)
    for row in rows:
        if base and row["ok"]:
            row["growth_vs_smallest"] = round(row["wall"]["median"] / base["wall"]["median"], 3)
    return rows


# -------------------------------------------------------------------------------- environment


def measure_env(settings: Settings, ws: Workspace) -> dict[str, Any]:
    """Time ``make env`` into a new venv in a copy (one run), then check the venv works."""
    copy = ws.fresh("env")
    venv = settings.work / "env-venv"
    shutil.rmtree(venv, ignore_errors=True)
    cmd = ["make", "-C", str(copy), f"VENV={venv}", "env"]
    res = timed(cmd, cwd=copy, env=run_env(None), timeout=settings.timeout)
    if res.returncode != 0:
        ws.discard(copy)
        raise BenchError(f"make env failed with exit status {res.returncode}:\n{res.tail()}")
    check = timed([str(venv / "bin" / "python"), "-c",
                   "import compendium.publish.runner, papermill, pandas, pingouin, matplotlib"],
                  cwd=copy, env=run_env(None), timeout=settings.timeout)
    verdict = "ok" if check.returncode == 0 else "FAIL"
    progress(f"environment set-up: {res.wall:.1f} s (imports {verdict})")
    uv_cache = Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))
    shutil.rmtree(venv, ignore_errors=True)
    ws.discard(copy)
    installer = "pip (uv unavailable)" if "uv unavailable" in res.stdout else "uv"
    return {**summarize([res.wall]), "imports_ok": check.returncode == 0,
            "installer": installer, "uv_cache_present": uv_cache.exists()}


# ------------------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class Target:
    """One goal from the issue: a measured value against a limit (informative)."""

    name: str
    value: float | None
    limit: float
    unit: str
    strict: bool = False

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value < self.limit if self.strict else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "limit": self.limit, "unit": self.unit,
                "comparison": "<" if self.strict else "<=", "met": self.met}


def scale_row(rows: list[dict[str, Any]] | None, scale: int) -> dict[str, Any] | None:
    """The successful scale row for ``scale``, if any."""
    return next((r for r in rows or [] if r["scale"] == scale and r.get("ok")), None)


def derived(results: dict[str, Any]) -> dict[str, float | None]:
    """The overhead ratios from the measured medians."""
    builds = results.get("builds") or {}
    floor = (results.get("floor") or {}).get("total")
    return {
        "overhead_serial": ratio(builds.get("cold_serial"), floor),
        "overhead_j2": ratio(builds.get("cold_j2"), floor),
        "j2_over_serial": ratio(builds.get("cold_j2"), builds.get("cold_serial")),
    }


def targets(results: dict[str, Any]) -> list[Target]:
    """The issue's targets, each with the value measured (None when not measured)."""
    ratios = derived(results)
    builds = results.get("builds") or {}
    small, big = scale_row(results.get("scale"), 1), scale_row(results.get("scale"), 100)
    growth = (big["wall"]["median"] / small["wall"]["median"]) if small and big else None
    env = results.get("environment") or {}
    return [
        Target("overhead ratio, serial (cold build / floor)", ratios["overhead_serial"], 1.5, "x"),
        Target("-j2 cold build / serial cold build", ratios["j2_over_serial"], 0.65, "x"),
        Target("no-op build", (builds.get("noop") or {}).get("median"), 0.5, "s"),
        Target("100x data: cold -j2 time / 1x time", growth, 5.0, "x"),
        Target("100x data: peak memory of one process", big["max_rss_bytes"] / GIB
               if big and big.get("max_rss_bytes") else None, 2.0, "GiB", strict=True),
        Target("environment set-up", env.get("median"), 60.0, "s"),
    ]


# ------------------------------------------------------------------------------------- report


def fmt_seconds(value: float | None) -> str:
    """Seconds with precision fitting the size."""
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def fmt_met(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def stat_cells(s: dict[str, Any] | None) -> list[str]:
    """Median, min, max and n of a summary as table cells."""
    if not s or "median" not in s:
        return ["—", "—", "—", "0"]
    return [fmt_seconds(s["median"]), fmt_seconds(s["min"]), fmt_seconds(s["max"]), str(s["n"])]


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def machine_lines(machine: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """The header: which machine, which code, how many runs."""
    mem = machine.get("memory_bytes")
    load = machine.get("load_average_at_start")
    return [
        "# Pipeline benchmark", "",
        f"- Machine: {machine['cores']} cores, "
        f"{f'{mem / GIB:.1f} GiB' if mem else 'unknown'} memory, Python {machine['python']}, "
        f"{machine.get('make') or 'make ?'}, {machine['platform']}",
        f"- Code: git commit {machine['git_commit']}; started {machine['started_utc']} UTC; "
        f"load average at start {', '.join(map(str, load)) if load else 'unknown'}",
        f"- Runs: median of {settings['repeats']} (min–max) per figure; each in a fresh copy of "
        f"the project built with `VENV={settings['venv']}`. Targets are informative.",
        f"- Bytecode: {bytecode_note(machine, settings)}",
        "",
    ]


def bytecode_note(machine: dict[str, Any], settings: dict[str, Any]) -> str:
    """Whether Python processes could reuse compiled bytecode (it decides import times)."""
    share = machine.get("venv_bytecode") or {}
    flag = machine.get("PYTHONDONTWRITEBYTECODE")
    text = (f"{share.get('with_pyc', 0)} of {share.get('py_files', 0)} `.py` files in the venv "
            f"have a `.pyc`; PYTHONDONTWRITEBYTECODE={flag or 'unset'}")
    if settings.get("bytecode_cache"):
        text += ("; **what-if run**: bytecode cached in a temporary PYTHONPYCACHEPREFIX, warmed "
                 "by one untimed build")
    elif flag:
        text += " (every process compiles what it imports again)"
    return text


def summary_lines(results: dict[str, Any], tgts: list[Target]) -> list[str]:
    """The main table: the builds, the floor and the ratios, each with its target."""
    by_name = {t.name: t for t in tgts}
    builds = results.get("builds") or {}
    floor = results.get("floor") or {}
    ratios = derived(results)

    def target_cells(name: str | None) -> list[str]:
        if name is None:
            return ["—", ""]
        t = by_name[name]
        sign = "<" if t.strict else "≤"
        return [f"{sign} {t.limit:g} {t.unit}", fmt_met(t.met)]

    noop = builds.get("noop") or {}
    incr = builds.get("incremental") or {}
    noop_note = ("ran nothing" if noop.get("check_ok") else
                 f"**ran {noop.get('notebooks_run')}**") if noop else ""
    incr_note = (f"ran only {TOUCHED_NOTEBOOK}" if incr.get("check_ok") else
                 f"**expected only {TOUCHED_NOTEBOOK}, ran {incr.get('notebooks_run')}**") \
        if incr else ""
    rows = [
        ["cold build, serial", *stat_cells(builds.get("cold_serial")), "—", ""],
        ["cold build, -j2", *stat_cells(builds.get("cold_j2")), "—", ""],
        ["no-op build", *stat_cells(noop), *target_cells("no-op build")],
        [f"incremental (touch {TOUCHED})", *stat_cells(incr), "—", incr_note],
        ["floor: the notebooks as plain scripts (sum)", *stat_cells(floor.get("total")), "—", ""],
        ["overhead ratio, serial (cold / floor)", fmt_ratio(ratios["overhead_serial"]),
         "", "", "", *target_cells("overhead ratio, serial (cold build / floor)")],
        ["overhead ratio, -j2 (cold -j2 / floor)", fmt_ratio(ratios["overhead_j2"]),
         "", "", "", "—", ""],
        ["cold -j2 / cold serial", fmt_ratio(ratios["j2_over_serial"]), "", "", "",
         *target_cells("-j2 cold build / serial cold build")],
    ]
    if noop_note and not noop.get("check_ok"):
        rows[2][-1] += f" ({noop_note})"
    lines = ["## Builds", ""]
    lines += md_table(["measurement", "median", "min", "max", "runs", "target", "status"], rows)
    for key in ("builds", "floor"):
        if isinstance(results.get(key), dict) and "error" in results[key]:
            lines += ["", f"**{key} failed:**", "", "```", results[key]["error"], "```"]
    return lines + [""]


def floor_lines(results: dict[str, Any]) -> list[str]:
    """Per notebook: the plain-script floor next to the runner's time in the serial build."""
    floor = results.get("floor") or {}
    per = floor.get("per_notebook") or {}
    runner = (results.get("builds") or {}).get("runner_per_notebook_serial") or {}
    if not per and not runner:
        return []
    rows = []
    for stem in sorted(set(per) | set(runner)):
        f, r = per.get(stem), runner.get(stem)
        rows.append([stem, *stat_cells(f)[:3], fmt_seconds(r["median"]) if r else "—",
                     fmt_ratio(ratio(r, f))])
    for name, s in (floor.get("other_steps") or {}).items():
        rows.append([f"({name}, plain command)", *stat_cells(s)[:3], "—", ""])
    lines = ["## Where the time goes", "",
             "Floor = the notebook's code cells as one plain `python` script (its own process, "
             "so interpreter start and imports included); in build = from the runner's "
             "`running` to its `published` line in the serial cold build (papermill, kernel "
             "start, HTML export).", ""]
    lines += md_table(["notebook", "floor median", "min", "max", "in build (median)",
                       "build / floor"], rows)
    cold = ((results.get("builds") or {}).get("cold_serial") or {}).get("median")
    if cold and runner:
        inside = sum(r["median"] for r in runner.values())
        lines += ["", f"Serial cold build {fmt_seconds(cold)}: {fmt_seconds(inside)} between the "
                  f"runners' `running` and `published` lines, {fmt_seconds(cold - inside)} "
                  "elsewhere (make, each runner's start-up and imports before `running`, the "
                  "data check, the site index)."]
    return lines + [""]


def scale_lines(results: dict[str, Any], tgts: list[Target]) -> list[str]:
    """The scale runs: time, growth and peak memory per data size."""
    rows_in = results.get("scale")
    if rows_in is None:
        return []
    if isinstance(rows_in, dict):
        return ["## Data size", "", f"**failed:** {rows_in.get('error')}", ""]
    rows, errors = [], []
    for r in rows_in:
        if not r.get("ok"):
            rows.append([f"{r['scale']}×", "failed", "—", "—", "—", "—", "—"])
            errors.append(f"- {r['scale']}×: " + r["error"].replace("\n", "\n  "))
            continue
        rss = r.get("max_rss_bytes")
        rows.append([f"{r['scale']}×", f"{r['raw_bytes'] / 1e6:.1f} MB",
                     *stat_cells(r["wall"])[:3],
                     fmt_ratio(r.get("growth_vs_smallest")),
                     f"{rss / 2**20:.0f} MiB" if rss else "unknown"])
    lines = ["## Data size (cold build, -j2)", ""]
    lines += md_table(["data", "raw size", "median", "min", "max", "growth vs smallest",
                       "peak RSS (one process)"], rows)
    lines.append("")
    for t in tgts:
        if t.name.startswith("100x"):
            value = "—" if t.value is None else f"{t.value:.2f} {t.unit}"
            sign = "<" if t.strict else "≤"
            lines.append(f"- {t.name}: {value} (target {sign} {t.limit:g} {t.unit}): "
                         f"{fmt_met(t.met)}")
    if errors:
        lines += ["", "Failures:", "", *errors]
    return lines + [""]


def env_lines(results: dict[str, Any], tgts: list[Target]) -> list[str]:
    """The environment set-up."""
    env = results.get("environment")
    if env is None:
        return []
    if "error" in env:
        return ["## Environment set-up", "", "**failed:**", "", "```", env["error"], "```", ""]
    t = next(t for t in tgts if t.name == "environment set-up")
    cache = "uv cache present" if env.get("uv_cache_present") else "no uv cache"
    return ["## Environment set-up", "",
            f"`make env` into a new venv: {fmt_seconds(env['median'])} (one run, installed "
            f"with {env.get('installer', '?')}, {cache}; "
            f"imports {'ok' if env.get('imports_ok') else '**failed**'}); target ≤ 60 s: "
            f"{fmt_met(t.met)}", ""]


def target_lines(tgts: list[Target]) -> list[str]:
    """All targets at a glance."""
    rows = []
    for t in tgts:
        value = "—" if t.value is None else f"{t.value:.2f} {t.unit}"
        rows.append([t.name, value, f"{'<' if t.strict else '≤'} {t.limit:g} {t.unit}",
                     fmt_met(t.met)])
    return ["## Targets (from the issue; informative)", "",
            *md_table(["target", "measured", "goal", "status"], rows), ""]


def render_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    results = report["results"]
    tgts = targets(results)
    lines = machine_lines(report["machine"], report["settings"])
    if "builds" in results or "floor" in results:
        lines += summary_lines(results, tgts)
    lines += floor_lines(results)
    lines += scale_lines(results, tgts)
    lines += env_lines(results, tgts)
    lines += target_lines(tgts)
    return "\n".join(lines).rstrip() + "\n"


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path, str]:
    """Write ``report.md`` and ``report.json`` atomically; return their paths and the text."""
    report = {**report, "targets": [t.as_dict() for t in targets(report["results"])],
              "ratios": derived(report["results"])}
    text = render_markdown(report)
    md = atomic_write_text(out_dir / "report.md", text)
    js = atomic_write_text(out_dir / "report.json",
                           json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    return md, js, text


# --------------------------------------------------------------------------------------- main


def guarded(name: str, fn: Callable[[], Any]) -> Any:
    """Run one measurement; a failure becomes ``{"error": message}`` instead of a crash."""
    try:
        return fn()
    except BenchError as exc:
        progress(f"{name} failed: {str(exc).splitlines()[0]}")
        return {"error": str(exc)}


def check_env_stamp(settings: Settings) -> str | None:
    """A warning when the venv's stamp is missing or older than the lock it was built from."""
    stamp = Path(settings.env_stamp)
    if not stamp.exists():
        return f"{stamp} is missing: run `make env` first"
    newer = [n for n in ("requirements.txt", "pyproject.toml")
             if (settings.root / n).stat().st_mtime > stamp.stat().st_mtime]
    if newer:
        return (f"{', '.join(newer)} newer than {stamp}: the venv may be stale "
                "(the benchmark uses it as is)")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen measurements and write the report."""
    args = parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    work = Path(tempfile.mkdtemp(prefix="compendium-bench-"))
    settings = Settings(root=ROOT, venv=Path(args.venv).absolute() if args.venv else default_venv(),
                        work=work, repeats=repeats, timeout=args.timeout, scales=args.scales,
                        skip_env=args.skip_env, skip_scale=args.skip_scale,
                        bytecode_cache=work / "pycache" if args.bytecode_cache else None)
    warning = check_env_stamp(settings)
    if warning and not Path(settings.env_stamp).exists():
        print(f"[bench] {warning}", file=sys.stderr)
        return 2
    if warning:
        progress(warning)
    ws = Workspace(settings)
    machine = machine_info(ROOT, settings.venv)
    progress(f"working in {work}; {repeats} repeat(s); venv {settings.venv}")
    results: dict[str, Any] = {}
    try:
        if settings.bytecode_cache is not None:
            results["bytecode_warm_up"] = guarded("warm-up", lambda: warm_up(settings, ws))
        results["builds"] = guarded("builds", lambda: measure_builds(settings, ws))
        results["floor"] = guarded("floor", lambda: measure_floor(settings, ws))
        if not settings.skip_scale:
            results["scale"] = guarded("scale", lambda: measure_scale(settings, ws))
        if not settings.skip_env:
            results["environment"] = guarded("environment", lambda: measure_env(settings, ws))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {"machine": machine, "results": results, "warnings": [warning] if warning else [],
              "settings": {"repeats": repeats, "venv": str(settings.venv),
                           "scales": list(settings.scales), "skip_env": settings.skip_env,
                           "skip_scale": settings.skip_scale, "quick": args.quick,
                           "bytecode_cache": settings.bytecode_cache is not None,
                           "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}}
    out_dir = Path(args.out) if args.out else ROOT / "outputs" / "bench"
    md, js, text = write_report(report, out_dir)
    print(text)
    progress(f"wrote {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
