"""The deterministic generator of the synthetic data set.

``python -m compendium.synthetic --out data/raw`` writes every raw file from the
calibration targets in ``data/calibration/*.yaml`` (each holds its own seed).
Same seed and scale give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from compendium.artifacts import atomic_write_text

GENERATOR_VERSION = "1"


def generate(
    raw_dir: str | Path,
    calibration_dir: str | Path,
    codebook_dir: str | Path,
    *,
    scale: int = 1,
) -> list[Path]:
    """Write the whole synthetic data set into ``raw_dir`` and return the files written."""
    from compendium.synthetic import interviews, survey

    raw_dir, calibration_dir, codebook_dir = map(Path, (raw_dir, calibration_dir, codebook_dir))
    survey_cal = yaml.safe_load((calibration_dir / "survey.yaml").read_text(encoding="utf-8"))
    interview_cal = yaml.safe_load(
        (calibration_dir / "interviews.yaml").read_text(encoding="utf-8")
    )
    written = survey.write(
        raw_dir, codebook_dir / "ops_survey.yaml", survey_cal, seed=survey_cal["seed"], scale=scale
    )
    written += interviews.write(raw_dir, interview_cal, seed=interview_cal["seed"], scale=scale)
    marker = {
        "kind": "synthetic",
        "generator": f"compendium.synthetic v{GENERATOR_VERSION}",
        "scale": scale,
        "seeds": {"survey": survey_cal["seed"], "interviews": interview_cal["seed"]},
        "note": "Invented data with the structure of the real exports; not the study's results.",
    }
    written.append(
        atomic_write_text(raw_dir / "dataset.yaml", yaml.safe_dump(marker, sort_keys=True))
    )
    return written
