"""The parse cache (compendium.data.parsecache): a cached read is the reader's own result.

Oracles: a fresh read of the same files with no cache (pandas' ``assert_frame_equal`` with
dtypes checked and exact values, ``attrs`` compared), the text written into a hand-made
workbook (``NA``, ``null``, ``None`` stay text), a one-byte edit whose effect on the table is
known by hand, and sha256 of the files (an entry's name changes when a byte changes).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from pandas.testing import assert_frame_equal

from compendium.data import dedoose, parsecache, qdpx, survey
from compendium.data.codebook import load_codebook
from compendium.data.datacheck import main as datacheck
from compendium.data.sources import files_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(parsecache.ENV, str(folder))
    monkeypatch.delenv(parsecache.LOG_ENV, raising=False)
    return folder


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """How often each reader really parsed (its private parse function was called)."""
    counts: dict[str, int] = {}
    for module, name in ((dedoose, "_read_dedoose_report"), (qdpx, "_read_qdpx_report"),
                         (survey, "_read_survey")):
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kw):
            counts[_name] = counts.get(_name, 0) + 1
            return _real(*args, **kw)

        monkeypatch.setattr(module, name, counted)
    return counts


def assert_same(a, b) -> None:
    """Equal results: frames with their dtypes, index, exact values and attrs; corpora and
    reports field by field; anything else by ==."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame)
        assert_frame_equal(a, b, check_dtype=True, check_exact=True, check_index_type=True,
                           check_column_type=True, check_categorical=True)
        assert a.attrs == b.attrs
        assert list(a.dtypes) == list(b.dtypes)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b)
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name))
    else:
        assert a == b


def fresh(read, monkeypatch):
    """``read()`` with no cache in the environment."""
    with monkeypatch.context() as m:
        m.delenv(parsecache.ENV, raising=False)
        return read()


def shipped_reads() -> dict[str, object]:
    four, idi, ops = files_of("four_cities", DATA), files_of("idi_wielkopolska", DATA), \
        files_of("ops_survey", DATA)
    codebook = load_codebook(ops["codebook"])
    return {
        "four cities, Dedoose": lambda: dedoose.read_dedoose_report(four["excerpts"],
                                                                    four["codes"]),
        "four cities, REFI-QDA": lambda: qdpx.read_qdpx_report(four["qdpx"]),
        "Wielkopolska, Dedoose": lambda: dedoose.read_dedoose_report(idi["excerpts"],
                                                                     idi["codes"]),
        "survey": lambda: survey.read_survey(ops["cawi"], ops["papi"], codebook),
        "survey with incomplete": lambda: survey.read_survey(ops["cawi"], ops["papi"], codebook,
                                                             include_incomplete=True),
    }


@pytest.mark.parametrize("which", list(shipped_reads()))
def test_a_cached_read_equals_a_fresh_read_of_the_shipped_data(which, cache, calls,
                                                               monkeypatch):
    read = shipped_reads()[which]
    with parsecache.writing():
        first = read()  # a miss: parsed and stored
    assert len(list(cache.glob("*.pickle"))) == 1
    parsed = sum(calls.values())
    second = read()  # a hit: loaded
    assert sum(calls.values()) == parsed  # not parsed again
    expected = fresh(read, monkeypatch)
    assert_same(second, expected)
    assert_same(first, expected)


def test_the_public_readers_on_top_read_through_the_cache(cache, calls, monkeypatch):
    four = files_of("four_cities", DATA)
    with parsecache.writing():
        dedoose.read_dedoose_report(four["excerpts"], four["codes"])
        qdpx.read_qdpx_report(four["qdpx"])
    from compendium.analysis.interview_analysis import read_four_cities

    for source in ("dedoose", "qdpx"):  # what notebook 03 calls
        expected = fresh(lambda s=source: read_four_cities(DATA, s), monkeypatch)
        n = dict(calls)
        got = read_four_cities(DATA, source)
        assert dict(calls) == n  # loaded, not parsed
        assert_same(got, expected)


def na_export(folder: Path) -> tuple[Path, Path]:
    """A two-row Dedoose export whose excerpt and descriptor cells hold NA-like text."""
    folder.mkdir(parents=True, exist_ok=True)
    header = [*dedoose.FIXED_COLUMNS, "Code: Risks Applied", "Code: Risks Range",
              "Code: Risks Weight", "city", "note"]
    rows = [["INT-1", "0-2", "coder_A", "3/1/2022", "NA", "lead", "2/1/2022", "Risks",
             True, "0-2", None, "NA", "null"],
            ["INT-2", "3-7", "coder_A", "3/1/2022", "None", "lead", "2/1/2022", "Risks",
             True, "3-7", None, "NaN", "N/A"]]
    wb = Workbook()
    ws = wb.active
    for row in [header, *rows]:
        ws.append(row)
    wb.save(folder / "excerpts.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.append(list(dedoose.CODES_ALL_COLUMNS))
    ws.append(["g1", None, "Risks", "Risks of devolution", False, 0, 10, 0])
    wb.save(folder / "codes.xlsx")
    return folder / "excerpts.xlsx", folder / "codes.xlsx"


def test_text_that_looks_missing_stays_text_through_the_cache(tmp_path, cache, calls,
                                                              monkeypatch):
    ex, co = na_export(tmp_path / "export")
    with parsecache.writing():
        dedoose.read_dedoose_report(ex, co)
    corpus, report = dedoose.read_dedoose_report(ex, co)
    assert calls["_read_dedoose_report"] == 1  # the second read was loaded
    assert corpus.segments["text"].tolist() == ["NA", "None"]  # as written above
    values = corpus.doc_attributes.set_index(["doc_id", "attribute"])["value"]
    assert values.to_dict() == {("INT-1", "city"): "NA", ("INT-1", "note"): "null",
                                ("INT-2", "city"): "NaN", ("INT-2", "note"): "N/A"}
    assert not corpus.doc_attributes["value"].isna().any()
    assert_same((corpus, report), fresh(lambda: dedoose.read_dedoose_report(ex, co),
                                        monkeypatch))


def papi_copy(tmp_path: Path) -> dict[str, Path]:
    """The survey's raw files copied, so that one can be edited."""
    ops = files_of("ops_survey", DATA)
    out = {}
    for role, path in ops.items():
        out[role] = tmp_path / "ops" / path.name
        out[role].parent.mkdir(exist_ok=True)
        shutil.copy2(path, out[role])
    return out


def test_a_raw_file_edited_by_one_byte_is_parsed_again(tmp_path, cache, calls, monkeypatch):
    files = papi_copy(tmp_path)
    codebook = load_codebook(files["codebook"])

    def read():
        return survey.read_survey(files["cawi"], files["papi"], codebook)

    with parsecache.writing():
        before = read()
    raw = files["papi"].read_bytes()
    # respondent 1's row: "...;1;4;4;4;3;2;..." -> its first P12 answer 4 becomes 3 (one byte)
    line = raw.split(b"\r\n" if b"\r\n" in raw else b"\n")[1]
    assert line.startswith(b"1;") and b";4;4;4;3;2;" in line
    edited = line.replace(b";4;4;4;3;2;", b";3;4;4;3;2;", 1)
    files["papi"].write_bytes(raw.replace(line, edited, 1))
    assert sum(a != b for a, b in zip(raw, files["papi"].read_bytes(), strict=True)) == 1
    (old,) = cache.glob("*.pickle")
    with parsecache.writing():
        after = read()
    assert calls["_read_survey"] == 2  # parsed again
    (new,) = cache.glob("*.pickle")  # stored under another name, the older entry removed
    assert new.name != old.name and new.name.split("-")[0] == old.name.split("-")[0]
    assert_same(after, fresh(read, monkeypatch))
    changed = before.compare(after)
    assert len(changed) == 1  # one respondent, one answer, as edited by hand
    cols = changed.columns.get_level_values(0).unique().tolist()
    assert len(cols) == 1
    row = after.index[after["respondent_id"] == before.loc[changed.index[0], "respondent_id"]]
    assert before.loc[row[0], cols[0]] == 4 and after.loc[row[0], cols[0]] == 3


def test_an_edited_reader_gives_another_key(tmp_path, cache, calls, monkeypatch):
    package = tmp_path / "compendium" / "data"
    shutil.copytree(ROOT / "src" / "compendium" / "data", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "src" / "compendium" / "errors.py", package.parent / "errors.py")
    assert parsecache.source_digest(package) == parsecache.code_digest()  # same source
    reader = package / "dedoose.py"
    reader.write_bytes(reader.read_bytes() + b"\n")  # one byte more
    edited = parsecache.source_digest(package)
    assert edited != parsecache.code_digest()
    (package.parent / "errors.py").write_text("# edited\n")
    assert parsecache.source_digest(package) not in {edited, parsecache.code_digest()}
    # a read under the edited source misses the entry stored under the original one
    four = files_of("four_cities", DATA)
    with parsecache.writing():
        qdpx.read_qdpx_report(four["qdpx"])
    monkeypatch.setattr(parsecache, "code_digest", lambda: edited)
    got = qdpx.read_qdpx_report(four["qdpx"])
    assert calls["_read_qdpx_report"] == 2
    assert_same(got, fresh(lambda: qdpx.read_qdpx_report(four["qdpx"]), monkeypatch))


@pytest.mark.parametrize("damage", ["truncated", "one byte flipped", "garbage", "empty",
                                    "valid digest, bad pickle"])
def test_a_damaged_entry_is_parsed_again_without_error(damage, cache, calls, monkeypatch):
    four = files_of("four_cities", DATA)

    def read():
        return qdpx.read_qdpx_report(four["qdpx"])

    with parsecache.writing():
        read()
    (entry,) = cache.glob("*.pickle")
    data = entry.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "one byte flipped":
        i = len(data) // 2
        data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
    elif damage == "garbage":
        data = b"not a cache entry at all"
    elif damage == "empty":
        data = b""
    else:
        import hashlib

        body = b"\x80\x05not a pickle."
        data = parsecache.MAGIC + body + hashlib.sha256(body).digest()
    entry.write_bytes(data)
    got = read()
    assert calls["_read_qdpx_report"] == 2
    assert_same(got, fresh(read, monkeypatch))
    with parsecache.writing():  # the data check would put a good entry back
        read()
    assert parsecache.load(entry)[0]


def test_without_the_variable_nothing_is_read_or_written(tmp_path, monkeypatch, calls):
    monkeypatch.delenv(parsecache.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    four = files_of("four_cities", DATA)
    with parsecache.writing():
        qdpx.read_qdpx_report(four["qdpx"])
        qdpx.read_qdpx_report(four["qdpx"])
    assert calls["_read_qdpx_report"] == 2
    assert list(tmp_path.rglob("*")) == []


def test_the_result_does_not_depend_on_the_path_it_was_read_from(tmp_path, cache, calls,
                                                                  monkeypatch):
    # why the key holds the files' contents and not their paths: the same bytes under another
    # name read the same (checked on fresh reads). Entries are filed by reader and path too
    # (so that a newer entry replaces an older one), so another path parses again.
    four = files_of("four_cities", DATA)
    other = tmp_path / "elsewhere" / "renamed.qdpx"
    other.parent.mkdir()
    shutil.copy2(four["qdpx"], other)
    a = fresh(lambda: qdpx.read_qdpx_report(four["qdpx"]), monkeypatch)
    b = fresh(lambda: qdpx.read_qdpx_report(other), monkeypatch)
    assert_same(a, b)
    with parsecache.writing():
        qdpx.read_qdpx_report(four["qdpx"])
    assert_same(qdpx.read_qdpx_report(other), b)
    assert calls["_read_qdpx_report"] == 4  # two fresh reads, the stored one, the other path


def test_a_failing_data_check_writes_nothing_and_says_the_same(tmp_path, cache, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    qdpx_file = files_of("four_cities", data)["qdpx"]
    qdpx_file.write_bytes(b"PK\x03\x04 not really a zip")  # the last source checked breaks
    assert datacheck([str(data)]) == 2
    with_cache = capsys.readouterr()
    assert not cache.exists() or list(cache.iterdir()) == []  # the sources before it passed
    env = {k: v for k, v in os.environ.items() if k != parsecache.ENV}
    direct = subprocess.run([sys.executable, "-m", "compendium.data.datacheck", str(data)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert direct.returncode == 2
    assert with_cache.err == direct.stderr and "project.qdpx" in direct.stderr
    assert with_cache.out == direct.stdout


def test_the_data_check_stores_every_source_it_read_for_the_pages(tmp_path, cache, calls,
                                                                  monkeypatch):
    assert datacheck([str(DATA)]) == 0
    assert len(list(cache.glob("*.pickle"))) == 4  # survey, two Dedoose exports, REFI-QDA
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        p.name for p in cache.glob("*.pickle"))  # no temporary file left
    parsed = dict(calls)  # in this process (the REFI-QDA project is read by a helper)
    assert datacheck([str(DATA)]) == 0  # a second check loads them
    assert dict(calls) == parsed
    log = tmp_path / "log"
    monkeypatch.setenv(parsecache.LOG_ENV, str(log))
    assert datacheck([str(DATA), "--source", "four_cities"]) == 0
    assert sorted(log.read_text().splitlines()) == [  # the REFI-QDA one by the check's helper
        "hit compendium.data.dedoose.read_dedoose_report",
        "hit compendium.data.qdpx.read_qdpx_report"]


def test_a_read_that_warns_is_passed_on_and_not_stored(cache, monkeypatch):
    ops = files_of("ops_survey", DATA)
    codebook = load_codebook(ops["codebook"])
    real = survey._read_survey

    def warns(*args):
        import warnings

        warnings.warn("a reader's warning", UserWarning, stacklevel=1)
        return real(*args)

    monkeypatch.setattr(survey, "_read_survey", warns)
    with parsecache.writing(), pytest.warns(UserWarning, match="a reader's warning"):
        got = survey.read_survey(ops["cawi"], ops["papi"], codebook)
    assert not cache.exists() or list(cache.iterdir()) == []
    assert_same(got, fresh(lambda: real(ops["cawi"], ops["papi"], codebook, False),
                           monkeypatch))


def test_two_broken_sources_stop_the_check_at_the_first_in_order(tmp_path, cache, capsys):
    # the REFI-QDA project is read by a helper process while the survey is checked: the
    # survey's error still comes first, as in a serial check, and nothing is left behind
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    files_of("four_cities", data)["qdpx"].write_bytes(b"PK\x03\x04 not really a zip")
    papi = files_of("ops_survey", data)["papi"]
    papi.write_bytes(papi.read_bytes().decode("cp1250").encode("utf-8"))  # saved as UTF-8
    assert datacheck([str(data)]) == 2
    err = capsys.readouterr().err
    assert "papi_excel.csv" in err and "project.qdpx" not in err
    assert not cache.exists() or list(cache.iterdir()) == []
    assert datacheck([str(data), "--source", "four_cities"]) == 2
    assert "project.qdpx" in capsys.readouterr().err
