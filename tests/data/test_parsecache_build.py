"""Under make, the pages load what the data check parsed (compendium.data.parsecache).

Uses the session's built copy; re-runs one notebook (both of its pages) by touching its
parameter file, with ``COMPENDIUM_PARSE_CACHE_LOG`` naming a file to which every cached read
appends ``hit`` or ``miss``. Oracles: the runner's own ``running`` lines (which pages ran),
and the published files, unchanged byte for byte.
"""

from __future__ import annotations

import os

import pytest
from conftest import make, ran
from sandbox import snapshot

from compendium.data import parsecache

pytestmark = pytest.mark.slow


def test_the_pages_of_a_build_load_the_data_checks_parse(built, tmp_path, monkeypatch):
    entries = sorted((built / "outputs" / ".cache" / "parse").glob("*.pickle"))
    assert len(entries) == 4  # survey, two Dedoose exports, the REFI-QDA project
    assert all(parsecache.load(e)[0] for e in entries)
    before = {k: v for k, v in snapshot(built / "outputs").items()
              if k.startswith(("tables/", "figures/", "results/"))}
    log = tmp_path / "reads.log"
    monkeypatch.setenv(parsecache.LOG_ENV, str(log))
    params = built / "params" / "02_idi_wielkopolska.yaml"
    os.utime(params)
    res = make(built, "all")
    assert ran(res).count("02_idi_wielkopolska") == 2  # its English and its Polish page
    assert log.read_text().splitlines() == ["hit compendium.data.dedoose.read_dedoose_report"] * 2
    after = {k: v for k, v in snapshot(built / "outputs").items() if k in before}
    assert after == before
