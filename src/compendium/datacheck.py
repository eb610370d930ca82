"""Validate every raw file against the data contract before any notebook runs.

``python -m compendium.datacheck data`` reads the survey (CAWI + PAPI), the Wielkopolska
IDIs and the four-city interviews (Dedoose export and REFI-QDA project), prints one line
per source, and exits 2 with the reader's message on the first broken file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compendium.errors import CompendiumError, ParameterError


def sources(data_dir: Path) -> dict[str, dict[str, Path]]:
    """The raw files of each source, by role."""
    raw = data_dir / "raw"
    return {
        "ops_survey": {
            "cawi": raw / "ops_survey" / "cawi_limesurvey.csv",
            "papi": raw / "ops_survey" / "papi_excel.csv",
            "codebook": data_dir / "codebooks" / "ops_survey.yaml",
        },
        "idi_wielkopolska": {
            "excerpts": raw / "idi_wielkopolska" / "dedoose_excerpts.xlsx",
            "codes": raw / "idi_wielkopolska" / "dedoose_codes.xlsx",
        },
        "four_cities": {
            "excerpts": raw / "four_cities" / "dedoose_excerpts.xlsx",
            "codes": raw / "four_cities" / "dedoose_codes.xlsx",
            "qdpx": raw / "four_cities" / "project.qdpx",
        },
    }


def check_source(data_dir: Path, source: str) -> list[str]:
    """Read one source; return summary lines (raises the readers' DataError)."""
    src = sources(data_dir)
    if source not in src:
        raise ParameterError("source", f"unknown source {source!r}", allowed=sorted(src))
    files = src[source]
    if source == "ops_survey":
        from compendium.codebook import load_codebook
        from compendium.survey import read_survey

        survey = read_survey(files["cawi"], files["papi"], load_codebook(files["codebook"]))
        modes = survey["mode"].value_counts().sort_index().to_dict()
        return [f"ops_survey: {len(survey)} respondents {modes}"]
    from compendium.dedoose import read_dedoose

    corpus = read_dedoose(files["excerpts"], files["codes"])
    lines = [f"{source} (Dedoose): {len(corpus.documents)} interviews, "
             f"{len(corpus.segments)} segments, {len(corpus.codes)} codes"]
    if "qdpx" in files and files["qdpx"].exists():
        from compendium.qdpx import read_qdpx

        q = read_qdpx(files["qdpx"])
        lines.append(f"{source} (REFI-QDA): {len(q.documents)} interviews, "
                     f"{len(q.segments)} segments")
    return lines


def check(data_dir: Path) -> list[str]:
    """Read every source; return the summary lines (raises the readers' DataError)."""
    return [line for source in sources(data_dir) for line in check_source(data_dir, source)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.datacheck", description=__doc__)
    ap.add_argument("data_dir", nargs="?", default="data")
    ap.add_argument("--source", default=None, help="check one source only")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    try:
        lines = check_source(data_dir, args.source) if args.source else check(data_dir)
        for line in lines:
            print(f"[data] {line}")
    except (CompendiumError, FileNotFoundError) as exc:
        print(f"\n*** data check failed: {exc}\n", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
