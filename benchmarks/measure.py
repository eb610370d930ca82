"""The measurements: cold, no-op and incremental builds, the floor, data size, set-up.

Each function takes the settings and a workspace of fresh copies (``harness``) and returns
plain data (medians via :func:`summarize`) that ``report`` formats; a failed command raises
``BenchError``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml
from harness import (
    MAKE_EXPORTS,
    TIME_BIN,
    BenchError,
    Settings,
    Workspace,
    make,
    progress,
    runner_times,
    sandbox,
    timed,
)

TOUCHED = "params/01_ops_survey.yaml"
TOUCHED_NOTEBOOK = "01_ops_survey"
# What the notebooks import, timed alone: the fixed cost of every notebook process.
IMPORTS = ("import IPython.display, compendium.publish.notebook, compendium.publish.plots, "
           "compendium.analysis.qual, compendium.analysis.survey_analysis, "
           "compendium.analysis.interview_analysis")


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of the runs, with the runs themselves."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values], "n": len(values)}


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
    """Cold (serial and -j2), no-op and incremental builds, each repeat in fresh copies.

    The default engine (``settings.engines[0]``) is measured in all four; every other engine
    in the cold builds beside it, in alternating order, so the engines share the machine's
    moods.
    """
    default = settings.engines[0]
    cold, cold_j2, noop, incr = [], [], [], []
    cpu: dict[str, list[float]] = {"cold_serial": [], "cold_j2": [], "noop": [],
                                   "incremental": []}
    by_engine: dict[str, dict[str, list[float]]] = {
        e: {k: [] for k in ("cold_serial", "cold_j2", "cpu_cold_serial", "cpu_cold_j2",
                            "server_cpu_cold_serial")} for e in settings.engines}
    noop_ran: list[list[str]] = []
    incr_ran: list[list[str]] = []
    per_notebook: dict[str, list[float]] = {}
    timeline: list[tuple[float, str]] = []
    for i in range(1, settings.repeats + 1):
        order = settings.engines if i % 2 else settings.engines[::-1]
        for engine in order:
            copy = ws.fresh(f"serial-{engine}-{i}")
            res = make(settings, copy, "all", engine=engine)
            row = by_engine[engine]
            row["cold_serial"].append(res.wall)
            row["cpu_cold_serial"].append(res.cpu)
            row["server_cpu_cold_serial"].append(res.server_cpu)
            progress(f"cold build, serial, ENGINE={engine} {i}/{settings.repeats}: "
                     f"{res.wall:.1f} s, {res.cpu:.1f} s CPU "
                     f"({len(res.notebooks_run)} notebooks)")
            if engine != default:
                ws.discard(copy)
                continue
            cold.append(res.wall)
            cpu["cold_serial"].append(res.cpu)
            timeline = timeline or [(round(t, 2), line) for t, line in res.stderr]
            for stem, secs in runner_times(res).items():
                per_notebook.setdefault(stem, []).append(secs)
            res = make(settings, copy, "all", engine=engine)
            noop.append(res.wall)
            cpu["noop"].append(res.cpu)
            noop_ran.append(res.notebooks_run)
            progress(f"no-op build {i}/{settings.repeats}: {res.wall:.2f} s")
            os.utime(copy / TOUCHED)
            res = make(settings, copy, "all", engine=engine)
            incr.append(res.wall)
            cpu["incremental"].append(res.cpu)
            incr_ran.append(res.notebooks_run)
            progress(f"incremental build {i}/{settings.repeats}: {res.wall:.1f} s "
                     f"(ran {', '.join(res.notebooks_run) or 'nothing'})")
            ws.discard(copy)

        for engine in order:
            copy = ws.fresh(f"j2-{engine}-{i}")
            res = make(settings, copy, "all", jobs=2, engine=engine)
            by_engine[engine]["cold_j2"].append(res.wall)
            by_engine[engine]["cpu_cold_j2"].append(res.cpu)
            if engine == default:
                cold_j2.append(res.wall)
                cpu["cold_j2"].append(res.cpu)
            progress(f"cold build, -j2, ENGINE={engine} {i}/{settings.repeats}: "
                     f"{res.wall:.1f} s, {res.cpu:.1f} s CPU")
            ws.discard(copy)
    return {
        "engine": default,
        "cold_serial": summarize(cold),
        "cold_j2": summarize(cold_j2),
        "noop": {**summarize(noop), "notebooks_run": noop_ran,
                 "check_ok": all(r == [] for r in noop_ran)},
        "incremental": {**summarize(incr), "touched": TOUCHED, "notebooks_run": incr_ran,
                        "check_ok": all(r == [TOUCHED_NOTEBOOK] * 2 for r in incr_ran)},
        "runner_per_notebook_serial": {k: summarize(v) for k, v in sorted(per_notebook.items())},
        "cpu": {k: summarize(v) for k, v in cpu.items()},
        "engines": {e: {k: summarize(v) for k, v in rows.items()}
                    for e, rows in by_engine.items()},
        "serial_timeline_first_run": timeline,
    }


# -------------------------------------------------------------------------------------- floor


#: The languages a build publishes, each with its output tree (the Makefile's OUT and PL_OUT).
LANGUAGES = {"en": "outputs", "pl": "outputs/pl"}


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


def language_params(stem: str, params: dict[str, Any], lang: str) -> dict[str, Any]:
    """``params`` as the build runs ``stem`` in ``lang``: for another language, ``lang`` set
    and the earlier results read from that language's tree (as the runner sets them)."""
    if lang == "en":
        return dict(params)
    from compendium.publish import params as schemas

    out = {**params, "lang": lang}
    schema = schemas.SCHEMAS.get(stem)
    if schema is not None and "results_dir" in schema.model_fields:
        out["results_dir"] = f"{LANGUAGES[lang]}/results"
    return out


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


def run_floor_once(settings: Settings, copy: Path, scripts: dict[str, Path]
                   ) -> tuple[dict[str, float], dict[str, float]]:
    """Run every notebook script in order in ``copy``, one process each; wall and CPU seconds
    per notebook."""
    env = {**settings.env_for(copy), **MAKE_EXPORTS}
    python = str(settings.venv / "bin" / "python")
    times, cpu = {}, {}
    for stem, script in scripts.items():
        res = timed([python, str(script)], cwd=copy, env=env, timeout=settings.timeout)
        if res.returncode != 0:
            raise BenchError(f"floor: {stem} as a plain script failed:\n{res.tail()}")
        times[stem] = res.wall
        cpu[stem] = res.cpu or 0.0
    return times, cpu


#: Runs each script given on the command line in this one process, each in a fresh namespace
#: (``runpy.run_path``), and prints a JSON line per script: the one-process floor.
ONE_PROCESS = """import json, runpy, sys, time
for path in sys.argv[1:]:
    wall, cpu = time.perf_counter(), time.process_time()
    runpy.run_path(path, run_name="__main__")
    print("[floor] " + json.dumps({"script": path, "wall": time.perf_counter() - wall,
                                   "cpu": time.process_time() - cpu}), file=sys.stderr)
"""


def run_one_process_once(settings: Settings, copy: Path, scripts: dict[str, Path]
                         ) -> dict[str, Any]:
    """Every notebook script in one Python process (imports paid once): wall and CPU in all,
    and each script's share as the process saw it."""
    env = {**settings.env_for(copy), **MAKE_EXPORTS}
    python = str(settings.venv / "bin" / "python")
    res = timed([python, "-c", ONE_PROCESS, *map(str, scripts.values())], cwd=copy, env=env,
                timeout=settings.timeout)
    if res.returncode != 0:
        raise BenchError(f"floor: the notebooks in one process failed:\n{res.tail()}")
    names = {str(path): name for name, path in scripts.items()}
    per = {}
    for line in res.lines:
        if line.startswith("[floor] "):
            row = json.loads(line[len("[floor] "):])
            per[names.get(row["script"], Path(row["script"]).stem)] = row
    return {"wall": res.wall, "cpu": res.cpu, "per_notebook": per}


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
    scripts_dir = settings.work / "floor-scripts"
    scripts_dir.mkdir(exist_ok=True)
    scripts = {}
    for lang, out in LANGUAGES.items():  # every language the build publishes, in build order
        for stem in notebook_stems(settings.root):
            params = language_params(
                stem, load_params(settings.root / "params" / f"{stem}.yaml"), lang)
            text = notebook_script(settings.root / "notebooks" / f"{stem}.ipynb", params, out)
            name = stem if lang == "en" else f"{stem} ({lang})"
            scripts[name] = scripts_dir / f"{stem}.{lang}.py"
            scripts[name].write_text(text, encoding="utf-8")
    stems = list(scripts)
    totals: list[float] = []
    totals_cpu: list[float] = []
    per: dict[str, list[float]] = {s: [] for s in stems}
    per_cpu: dict[str, list[float]] = {s: [] for s in stems}
    one: dict[str, list[float]] = {"wall": [], "cpu": []}
    one_per: dict[str, list[float]] = {}
    steps: dict[str, list[float]] = {}
    for i in range(1, settings.repeats + 1):
        copy = ws.fresh(f"floor-{i}")
        times, cpu = run_floor_once(settings, copy, scripts)
        for stem, secs in times.items():
            per[stem].append(secs)
            per_cpu[stem].append(cpu[stem])
        totals.append(sum(times.values()))
        totals_cpu.append(sum(cpu.values()))
        ws.discard(copy)
        copy = ws.fresh(f"floor-one-{i}")
        res = run_one_process_once(settings, copy, scripts)
        one["wall"].append(res["wall"])
        one["cpu"].append(res["cpu"])
        for stem, row in res["per_notebook"].items():
            one_per.setdefault(f"{stem} wall", []).append(row["wall"])
            one_per.setdefault(f"{stem} cpu", []).append(row["cpu"])
        progress(f"floor in one process {i}/{settings.repeats}: {res['wall']:.1f} s wall, "
                 f"{res['cpu']:.1f} s CPU")
        for name, secs in run_steps_once(settings, copy).items():
            steps.setdefault(name, []).append(secs)
        progress(f"floor {i}/{settings.repeats}: {totals[-1]:.1f} s "
                 f"({', '.join(f'{s} {t:.1f}' for s, t in times.items())})")
        ws.discard(copy)
    return {"total": summarize(totals),
            "total_cpu": summarize(totals_cpu),
            "per_notebook": {s: summarize(v) for s, v in per.items()},
            "per_notebook_cpu": {s: summarize(v) for s, v in per_cpu.items()},
            "one_process": {k: summarize(v) for k, v in one.items()},
            "one_process_per_notebook": {k: summarize(v) for k, v in sorted(one_per.items())},
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
    cmd = sandbox.make_command(copy, venv, "env", hold_env=False)
    res = timed(cmd, cwd=copy, env=sandbox.sandbox_env(None), timeout=settings.timeout)
    if res.returncode != 0:
        ws.discard(copy)
        raise BenchError(f"make env failed with exit status {res.returncode}:\n{res.tail()}")
    check = timed([str(venv / "bin" / "python"), "-c",
                   "import compendium.publish.runner, papermill, pandas, statsmodels, matplotlib"],
                  cwd=copy, env=sandbox.sandbox_env(None), timeout=settings.timeout)
    verdict = "ok" if check.returncode == 0 else "FAIL"
    progress(f"environment set-up: {res.wall:.1f} s (imports {verdict})")
    uv_cache = Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))
    shutil.rmtree(venv, ignore_errors=True)
    ws.discard(copy)
    installer = "pip (uv unavailable)" if "uv unavailable" in res.stdout else "uv"
    return {**summarize([res.wall]), "imports_ok": check.returncode == 0,
            "installer": installer, "uv_cache_present": uv_cache.exists()}
