"""Validate every raw file against the data contract before any notebook runs.

``python -m compendium.datacheck data`` reads the survey (CAWI + PAPI), the Wielkopolska
IDIs and the four-city interviews (Dedoose export and REFI-QDA project), prints one line
per source, and exits 2 with the reader's message on the first broken file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from compendium.errors import CompendiumError


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


def check(data_dir: Path) -> list[str]:
    """Read every source; return one summary line each (raises the readers' DataError)."""
    from compendium.codebook import load_codebook
    from compendium.dedoose import read_dedoose
    from compendium.qdpx import read_qdpx
    from compendium.survey import read_survey

    src = sources(data_dir)
    s = src["ops_survey"]
    survey = read_survey(s["cawi"], s["papi"], load_codebook(s["codebook"]))
    modes = survey["mode"].value_counts().sort_index().to_dict()
    lines = [f"ops_survey: {len(survey)} respondents {modes}"]
    idi = read_dedoose(src["idi_wielkopolska"]["excerpts"], src["idi_wielkopolska"]["codes"])
    lines.append(f"idi_wielkopolska: {len(idi.documents)} interviews, "
                 f"{len(idi.segments)} segments, {len(idi.codes)} codes")
    fc = src["four_cities"]
    cities = read_dedoose(fc["excerpts"], fc["codes"])
    lines.append(f"four_cities (Dedoose): {len(cities.documents)} interviews, "
                 f"{len(cities.segments)} segments, {len(cities.codes)} codes")
    if fc["qdpx"].exists():
        q = read_qdpx(fc["qdpx"])
        lines.append(f"four_cities (REFI-QDA): {len(q.documents)} interviews, "
                     f"{len(q.segments)} segments")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    data_dir = Path(args[0] if args else "data")
    try:
        for line in check(data_dir):
            print(f"[data] {line}")
    except (CompendiumError, FileNotFoundError) as exc:
        print(f"\n*** data check failed: {exc}\n", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
