"""The reviewers' reproduction check."""

from compendium.publish import manifest


def _outputs(tmp_path):
    (tmp_path / "tables" / "nb").mkdir(parents=True)
    (tmp_path / "figures" / "nb").mkdir(parents=True)
    (tmp_path / "html").mkdir()
    (tmp_path / "tables" / "nb" / "a.csv").write_text("x\n1\n")
    (tmp_path / "figures" / "nb" / "f.png").write_bytes(b"\x89PNG")
    (tmp_path / "html" / "nb.html").write_text("<html>")
    return tmp_path


def test_manifest_lists_tables_and_figures_but_not_pages(tmp_path):
    out = _outputs(tmp_path)
    manifest.write(out)
    assert set(manifest.read(out / "MANIFEST.sha256")) == {"tables/nb/a.csv", "figures/nb/f.png"}


def test_check_passes_on_unchanged_outputs(tmp_path, capsys):
    out = _outputs(tmp_path)
    manifest.write(out)
    assert manifest.main(["check", str(out)]) == 0
    assert "OK       tables/nb/a.csv" in capsys.readouterr().out


def test_check_fails_naming_a_changed_figure(tmp_path, capsys):
    out = _outputs(tmp_path)
    manifest.write(out)
    (out / "figures" / "nb" / "f.png").write_bytes(b"\x89PNG changed")
    assert manifest.main(["check", str(out)]) == 1
    text = capsys.readouterr().out
    assert "DIFFERS  figures/nb/f.png" in text
    assert "OK       tables/nb/a.csv" in text


def test_check_reports_missing_and_new_files(tmp_path):
    out = _outputs(tmp_path)
    manifest.write(out)
    (out / "tables" / "nb" / "a.csv").unlink()
    (out / "tables" / "nb" / "b.csv").write_text("y\n")
    assert dict((p, s) for s, p in manifest.compare(out)) == {
        "tables/nb/a.csv": "MISSING", "tables/nb/b.csv": "NEW", "figures/nb/f.png": "OK"}
