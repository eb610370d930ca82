"""The committed synthetic data set is exactly what the generator writes, file for file the
raw exports declared in ``compendium.data.sources`` (plus the data-set marker)."""

import filecmp

from compendium.data.sources import MARKER, RAW_FILES
from compendium.synthetic import generate

# The declared exports under raw/ (codebooks and label files are written by people).
DECLARED = sorted({f.path.removeprefix("raw/") for f in RAW_FILES if f.path.startswith("raw/")}
                  | {MARKER.removeprefix("raw/")})


def test_generator_writes_exactly_the_declared_raw_files(project_root, tmp_path):
    written = generate(tmp_path, project_root / "data" / "calibration",
                       project_root / "data" / "codebooks")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == DECLARED
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = project_root / "data" / "raw" / rel
        assert filecmp.cmp(path, committed, shallow=False), rel


def test_committed_raw_folder_holds_the_declared_files_and_nothing_else(project_root):
    raw = project_root / "data" / "raw"
    on_disk = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
    assert on_disk == DECLARED


def test_marker_says_synthetic(project_root):
    from compendium.publish.provenance import dataset_info, is_synthetic

    assert is_synthetic(project_root / "data")
    assert dataset_info(project_root / "data")["files"] == len(DECLARED)
