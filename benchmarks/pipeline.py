"""Measure what the compendium's pipeline costs: ``make bench`` (or run this file with the venv).

Every measurement runs ``make`` in a fresh temporary copy of the project (mtimes preserved;
``.venv``, ``.git``, ``outputs`` and caches left out) with the existing environment
(``make -C <copy> VENV=<venv>``), so the project's own outputs are never touched. Each figure is
the median of ``--repeats`` runs with min and max. The report goes to ``outputs/bench/report.md``
and ``outputs/bench/report.json`` and is printed. Targets are shown next to the figures for
information; nothing is asserted.

The code: ``harness.py`` (settings, fresh copies through the shared ``tests/sandbox.py``, timed
commands, machine facts), ``measure.py`` (the measurements), ``report.py`` (targets and the
Markdown/JSON report); this file reads the command line and runs them in order.

Measurements: cold build (serial and ``-j2``, once per ``--engines`` value of the Makefile's
``ENGINE``), no-op build, incremental build after touching one parameter file, the floors (each
notebook's code as a plain Python script, one process each and all in one process, for both
published languages), the overhead ratios,
the cold build on synthetic data at 1x/10x/100x with peak memory, and the environment set-up.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import ROOT, BenchError, Settings, Workspace, machine_info, progress, sandbox
from measure import measure_builds, measure_env, measure_floor, measure_scale, warm_up
from report import write_report

SCALES = (1, 10, 100)
ENGINES = ("server", "inprocess", "kernel")


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
    ap.add_argument("--engines", default="server,kernel",
                    help="the Makefile's ENGINE values to build with, the default one first "
                         "(measured in every build; the others in the cold builds beside it); "
                         "default server,kernel (also: inprocess)")
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
    args.engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    if not args.engines or set(args.engines) - set(ENGINES):
        ap.error(f"--engines takes some of {', '.join(ENGINES)}, separated by commas")
    return args


def default_venv() -> Path:
    """The virtualenv running this script (``make bench`` runs it with ``$(VENV)/bin/python``)."""
    return sandbox.current_venv(ROOT)


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
                        bytecode_cache=work / "pycache" if args.bytecode_cache else None,
                        engines=args.engines)
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
                           "engines": list(settings.engines),
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
