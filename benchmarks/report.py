"""The benchmark's report: targets from the issue, ratios, and the Markdown/JSON files.

Pure functions of the results ``measure`` returns (a dict of plain data), so the report can be
re-rendered from ``report.json`` and tested without running a build.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import TOUCHED, TOUCHED_NOTEBOOK

from compendium.artifacts import atomic_write_text

GIB = 1024**3


# ------------------------------------------------------------------------------------ targets


def ratio(numerator: dict[str, Any] | None, denominator: dict[str, Any] | None) -> float | None:
    """Ratio of two medians (None when either is missing)."""
    if not numerator or not denominator or "median" not in numerator \
            or "median" not in denominator or not denominator["median"]:
        return None
    return numerator["median"] / denominator["median"]


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
    floor_all = results.get("floor") or {}
    floor = floor_all.get("total")
    cpu = builds.get("cpu") or {}
    one = floor_all.get("one_process") or {}
    return {
        "overhead_serial": ratio(builds.get("cold_serial"), floor),
        "overhead_j2": ratio(builds.get("cold_j2"), floor),
        "j2_over_serial": ratio(builds.get("cold_j2"), builds.get("cold_serial")),
        # issue 21: CPU of a cold serial build over the CPU of every notebook in one process
        "cpu_over_one_process_floor": ratio(cpu.get("cold_serial"), one.get("cpu")),
        "old_floor_cpu_over_one_process": ratio(floor_all.get("total_cpu"), one.get("cpu")),
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
        # issue 21's tighter targets, beside the earlier ones
        Target("cold build CPU / one-process floor CPU", ratios["cpu_over_one_process_floor"],
               1.5, "x"),
        Target("issue 21: -j2 wall / serial wall", ratios["j2_over_serial"], 0.6, "x"),
        Target("issue 21: no-op build", (builds.get("noop") or {}).get("median"), 0.1, "s"),
        Target("issue 21: 100x data time / 1x time", growth, 3.0, "x"),
        Target("issue 21: 100x peak memory of one process", big["max_rss_bytes"] / GIB
               if big and big.get("max_rss_bytes") else None, 1.0, "GiB"),
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
    incr_note = (f"ran only {TOUCHED_NOTEBOOK} (English and Polish)" if incr.get("check_ok") else
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
    cpu = builds.get("cpu") or {}
    one = floor.get("one_process") or {}
    rows += [
        ["cold build, serial: CPU", *stat_cells(cpu.get("cold_serial")), "—", ""],
        ["cold build, -j2: CPU", *stat_cells(cpu.get("cold_j2")), "—", ""],
        ["no-op build: CPU", *stat_cells(cpu.get("noop")), "—", ""],
        ["incremental: CPU", *stat_cells(cpu.get("incremental")), "—", ""],
        ["old floor (one process per notebook): CPU", *stat_cells(floor.get("total_cpu")),
         "—", ""],
        ["new floor (every notebook in one process): wall", *stat_cells(one.get("wall")),
         "—", ""],
        ["new floor (every notebook in one process): CPU", *stat_cells(one.get("cpu")),
         "—", ""],
        ["cold serial CPU / new floor CPU", fmt_ratio(ratios["cpu_over_one_process_floor"]),
         "", "", "", *target_cells("cold build CPU / one-process floor CPU")],
        ["old floor CPU / new floor CPU", fmt_ratio(ratios["old_floor_cpu_over_one_process"]),
         "", "", "", "—", ""],
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


def engine_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per engine: cold serial and -j2 wall and CPU, and their ratios (CPU over the
    one-process floor's CPU, -j2 wall over serial wall)."""
    builds = results.get("builds") or {}
    one_cpu = ((results.get("floor") or {}).get("one_process") or {}).get("cpu")
    rows = []
    for engine, m in (builds.get("engines") or {}).items():
        rows.append({
            "engine": engine, "default": engine == builds.get("engine"),
            "serial": m.get("cold_serial"), "serial_cpu": m.get("cpu_cold_serial"),
            "j2": m.get("cold_j2"), "j2_cpu": m.get("cpu_cold_j2"),
            "server_cpu": m.get("server_cpu_cold_serial"),
            "serial_cpu_over_floor": ratio(m.get("cpu_cold_serial"), one_cpu),
            "j2_cpu_over_floor": ratio(m.get("cpu_cold_j2"), one_cpu),
            "j2_over_serial": ratio(m.get("cold_j2"), m.get("cold_serial")),
        })
    return rows


def engine_lines(results: dict[str, Any]) -> list[str]:
    """The engines side by side: how each runs the stale pages, against the one-process floor."""
    rows = engine_rows(results)
    if not rows:
        return []

    def cell(s: dict[str, Any] | None) -> str:
        return fmt_seconds(s.get("median")) if s and "median" in s else "—"

    table = [[f"`{r['engine']}`" + (" (default)" if r["default"] else ""), cell(r["serial"]),
              cell(r["serial_cpu"]), fmt_ratio(r["serial_cpu_over_floor"]), cell(r["j2"]),
              cell(r["j2_cpu"]), fmt_ratio(r["j2_cpu_over_floor"]),
              fmt_ratio(r["j2_over_serial"])] for r in rows]
    one = ((results.get("floor") or {}).get("one_process") or {}).get("cpu") or {}
    lines = ["## Engines (the Makefile's ENGINE), cold builds side by side", "",
             "`server`: one build server imports the stack once and forks a child per page, "
             "which runs the notebook in an in-process IPython kernel; `inprocess`: one runner "
             "process per page, in-process kernel; `kernel`: one runner process per page with "
             "its own Jupyter kernel. CPU includes the build server's (it reports its own and "
             f"its children's). One-process floor CPU: {cell(one)}.", ""]
    lines += md_table(["engine", "serial wall", "serial CPU", "CPU / floor", "-j2 wall",
                       "-j2 CPU", "-j2 CPU / floor", "-j2 / serial wall"], table)
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
    lines += engine_lines(results)
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
