"""Validate every raw file against the data contract before any notebook runs.

``python -m compendium.data.datacheck data`` reads the survey (CAWI + PAPI), the Wielkopolska
IDIs and the four-city interviews (Dedoose export and REFI-QDA project), prints one line
per source, and exits 2 with the reader's message on the first broken file.

Make runs it in one process for all sources with ``--changed $?``: only the sources whose
files changed are read again (one set of imports, no repeated work).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compendium.data.sources import source_map
from compendium.errors import CompendiumError, ParameterError


def sources(data_dir: Path) -> dict[str, dict[str, Path]]:
    """The raw files of each source, by role (from the declared map in ``sources``)."""
    return source_map(data_dir)


def check_source(data_dir: Path, source: str) -> list[str]:
    """Read one source; return summary lines (raises the readers' DataError)."""
    src = sources(data_dir)
    if source not in src:
        raise ParameterError("source", f"unknown source {source!r}", allowed=sorted(src))
    files = src[source]
    if source == "ops_survey":
        from compendium.data.codebook import load_codebook
        from compendium.data.survey import read_survey

        survey = read_survey(files["cawi"], files["papi"], load_codebook(files["codebook"]))
        modes = survey["mode"].value_counts().sort_index().to_dict()
        return [f"ops_survey: {len(survey)} respondents {modes}"]
    from compendium.data.dedoose import read_dedoose

    corpus = read_dedoose(files["excerpts"], files["codes"])
    lines = [f"{source} (Dedoose): {len(corpus.documents)} interviews, "
             f"{len(corpus.segments)} segments, {len(corpus.codes)} codes"]
    if "qdpx" in files and files["qdpx"].exists():
        from compendium.data.qdpx import read_qdpx

        q = read_qdpx(files["qdpx"])
        lines.append(f"{source} (REFI-QDA): {len(q.documents)} interviews, "
                     f"{len(q.segments)} segments")
    return lines


def check(data_dir: Path) -> list[str]:
    """Read every source; return the summary lines (raises the readers' DataError)."""
    return [line for source in sources(data_dir) for line in check_source(data_dir, source)]


def sources_to_check(data_dir: Path, changed: list[str] | None) -> list[str]:
    """The sources owning the ``changed`` files; every source when ``changed`` is None or
    names a file that belongs to no single source (e.g. the data-set marker)."""
    src = sources(data_dir)
    if changed is None:
        return list(src)
    owner = {Path(f).resolve(): name for name, files in src.items() for f in files.values()}
    picked = {owner.get(Path(path).resolve()) for path in changed}
    if None in picked:
        return list(src)
    return [name for name in src if name in picked]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.data.datacheck", description=__doc__)
    ap.add_argument("data_dir", nargs="?", default="data")
    ap.add_argument("--source", default=None, help="check one source only")
    ap.add_argument("--changed", nargs="+", default=None,
                    help="check only the sources these files belong to (Make passes $?)")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    names = [args.source] if args.source else sources_to_check(data_dir, args.changed)
    try:
        lines = [line for name in names for line in check_source(data_dir, name)]
        for line in lines:
            print(f"[data] {line}")
    except (CompendiumError, FileNotFoundError) as exc:
        print(f"\n*** data check failed: {exc}\n", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
