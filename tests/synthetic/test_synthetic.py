"""The committed synthetic data set is exactly what the generator writes."""

import filecmp

from compendium.synthetic import generate


def test_committed_raw_files_equal_a_fresh_generation(project_root, tmp_path):
    written = generate(tmp_path, project_root / "data" / "calibration",
                       project_root / "data" / "codebooks")
    assert len(written) == 8
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = project_root / "data" / "raw" / rel
        assert filecmp.cmp(path, committed, shallow=False), rel


def test_marker_says_synthetic(project_root):
    from compendium.publish.provenance import dataset_info, is_synthetic

    assert is_synthetic(project_root / "data")
    assert dataset_info(project_root / "data")["files"] == 8
