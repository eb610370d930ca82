"""The runner: parameters, metadata cleaning, contents, and the kernel it starts and stops."""

from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell, new_notebook

from compendium.errors import CompendiumError, ParameterError
from compendium.publish import runner


def test_overrides_are_parsed_as_yaml_and_win_over_the_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("alpha: 0.05\ncities: [Berlin, London]\n")
    values = runner.load_parameters(f, [("alpha", "0.01"), ("cities", "[Berlin]")])
    assert values == {"alpha": 0.01, "cities": ["Berlin"]}


def test_params_file_that_is_not_a_mapping_is_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="mapping"):
        runner.load_parameters(f, [])


def test_clean_metadata_drops_times_and_paths_keeps_parameters():
    nb = new_notebook(cells=[new_code_cell("1")])
    nb.metadata["papermill"] = {"start_time": "2026", "duration": 1.0, "input_path": "/abs/x",
                                "output_path": "/abs/y", "parameters": {"a": 1}}
    nb.cells[0].metadata["papermill"] = {"start_time": "t", "end_time": "t", "status": "completed"}
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "t"}
    text = nbformat.writes(runner.clean_metadata(nb))
    assert "2026" not in text and "/abs/" not in text and "iopub" not in text
    assert nb.metadata["papermill"]["parameters"] == {"a": 1}


def test_clean_metadata_gives_the_injected_cell_a_fixed_id():
    cell = new_code_cell("a = 1")
    cell.metadata["tags"] = ["injected-parameters"]
    nb = new_notebook(cells=[cell])
    assert runner.clean_metadata(nb).cells[0]["id"] == "injected-parameters"


def test_toc_links_every_section_heading_but_not_the_colophon():
    body = ('<!--COMPENDIUM-TOC--><h2 id="Sample">Sample<a href="#Sample">¶</a></h2>'
            '<h3 id="Modes">Modes</h3><h2 id="Colophon">Colophon</h2>')
    out = runner.add_toc(body)
    assert '<a href="#Sample">Sample</a>' in out
    assert '<li class="sub"><a href="#Modes">Modes</a></li>' in out
    assert '#Colophon"' not in out.split("</nav>")[0]


def test_list_pages_reads_title_and_summary(project_root):
    pages = runner.list_pages(project_root / "notebooks")
    assert [p.stem for p in pages][:1] == ["01_ops_survey"]
    assert all(p.title and p.summary for p in pages)


def test_kernel_talks_over_private_sockets_and_is_gone_after_stop(project_root):
    km = runner.start_kernel(project_root)
    sockets = Path(km.connection_file).parent
    try:
        assert km.transport == "ipc"
        assert sockets.is_dir() and sockets.name.startswith("compendium-kernel-")
        assert not any(project_root.glob("kernel-ipc*"))
        client = km.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        client.stop_channels()
        assert run_sync(km.is_alive)()
    finally:
        runner.stop_kernel(km)
    assert not km.has_kernel
    assert not sockets.exists()


def test_missing_kernel_is_named_with_the_command_that_registers_it(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "KERNEL", "no-such-kernel-here")
    monkeypatch.setattr(runner.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(CompendiumError, match="'no-such-kernel-here' is not registered.*make env"):
        runner.start_kernel(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no sockets folder left behind


def test_a_kernel_that_dies_is_reported_with_its_cell(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import os\nos._exit(1)")])
    source = tmp_path / "dies.ipynb"
    nbformat.write(nb, source)
    km = runner.start_kernel(tmp_path)
    try:
        with pytest.raises(CompendiumError, match="dies stopped: its kernel died in cell 1"):
            runner.execute(source, tmp_path / "out.ipynb", {}, km=km, root=tmp_path,
                           failed=tmp_path / "failed.ipynb")
    finally:
        runner.stop_kernel(km)
