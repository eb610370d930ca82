"""Check a run's ``PARAMS`` against every notebook it will run, before any of them runs.

``PARAMS="-p name value ..." python -m compendium.publish.preflight NOTEBOOK ... [--hide-code]``

Make calls this first (its ``preflight`` step, an order-only prerequisite of the data check
and of every notebook rule). ``PARAMS`` comes from the environment and is split with
:mod:`shlex`, never evaluated. Each override goes to the notebooks that have the parameter;
if any notebook rejects its values, the whole run is refused, naming that notebook, and
nothing under ``outputs/`` changes. Otherwise each notebook's override stamp
(``outputs/.stamps/<notebook>.override``) records the overrides it receives, so Make reruns
exactly the notebooks an override reaches.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from compendium.artifacts import atomic_write_text
from compendium.errors import CompendiumError, ParameterError
from compendium.publish import params as param_schemas
from compendium.publish.runner import load_parameters


def preflight(
    root: Path, notebooks: list[str], params_text: str, *, hide_code: bool = False,
    stamps: Path | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """Validate a run's ``PARAMS`` against every notebook it runs, before any of them runs.

    Each override goes to the notebooks that have the parameter (refused if none has it);
    each notebook's file values plus its overrides must pass its schema. On success, and if
    ``stamps`` is given, ``stamps/<notebook>.override`` records the overrides that notebook
    receives (rewritten only when they change, so Make reruns exactly the notebooks they
    change). Raises :class:`ParameterError` naming the notebook that refuses.
    """
    routed = param_schemas.route_overrides(notebooks, param_schemas.split_overrides(params_text))
    for nb in notebooks:
        values = load_parameters(root / "params" / f"{nb}.yaml", routed[nb])
        try:
            param_schemas.validate(nb, values)
        except ParameterError as exc:
            exc.args = (f"{nb}: {exc.args[0]}",)  # the notebook that refuses, then why
            raise
    if stamps is not None:
        stamps.mkdir(parents=True, exist_ok=True)
        for nb, pairs in routed.items():
            words = [w for name, raw in pairs for w in ("-p", name, raw)]
            text = f"{shlex.join(words)}|{'1' if hide_code else ''}\n"
            stamp = stamps / f"{nb}.override"
            if not stamp.exists() or stamp.read_text(encoding="utf-8") != text:
                atomic_write_text(stamp, text)
    return routed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.preflight",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebook", nargs="+", help="the notebooks this run executes")
    ap.add_argument("--root", default=".", help="project folder")
    ap.add_argument("--outputs", default="outputs", help="output folder (its .stamps/)")
    ap.add_argument("--hide-code", action="store_true", help="pages without code cells")
    ap.add_argument("--no-stamps", action="store_true", help="check only, write nothing")
    args = ap.parse_args(argv)
    root = Path(args.root)
    try:
        preflight(root, args.notebook, os.environ.get("PARAMS", ""), hide_code=args.hide_code,
                  stamps=None if args.no_stamps else root / args.outputs / ".stamps")
    except CompendiumError as exc:
        what = "PARAMS" if os.environ.get("PARAMS") else "a params/*.yaml file"
        print(f"\n*** {what} refused, nothing was run or changed: {exc}\n", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
