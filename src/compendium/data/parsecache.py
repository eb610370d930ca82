"""Parse the raw data once per build: a reader's result kept by the content it was read from.

Each raw source used to be parsed three times per build: by the data check and by the
English and the Polish page of the notebook that reads it. Under ``make``, the data check
stores what the readers returned (pickle, protocol 5: the frames with their dtypes and
``attrs``, text such as ``NA`` as text) and the pages load it instead of parsing again.

- **Only when the build says so.** The folder is ``COMPENDIUM_PARSE_CACHE`` (the Makefile
  sets ``$(OUT)/.cache/parse`` for the data check and the pages; a hidden folder, so neither
  the manifest nor the site sees it). Without the variable (Jupyter Lab, the tests) nothing is
  read or written: every read parses, as before.
- **Keyed by content, never by time.** An entry's name is the sha256 of: this format's
  version; Python's, pandas' and numpy's versions; the source of every module of
  ``compendium.data`` and ``compendium.errors``; the reader's name and its other arguments
  (pickled); the sha256 of every file the reader reads. An edited reader or one changed byte
  of a raw file gives another name: a miss.
- **A bad entry is a miss.** The file holds a header, the pickle and the pickle's sha256; an
  entry that is cut short, altered or cannot be unpickled is parsed again, never an error.
- **Written by the data check only**, inside :func:`writing`, only for a read that gave no
  warning, and only when every source it checked passed (the entries wait as temporary files
  until then), each by a rename (two pages may read at once under ``make -j2``); older
  entries of the same reader and files are removed. A page that misses parses and writes
  nothing.

A reader opts in with :func:`cached` (``dedoose.read_dedoose_report``,
``qdpx.read_qdpx_report``, ``survey.read_survey``). Its result must depend only on the files'
bytes and the arguments in the key, not on the path it was given (a test checks that).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import platform
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

ENV = "COMPENDIUM_PARSE_CACHE"
#: A file to which each cached read appends ``hit <reader>`` or ``miss <reader>`` (tests).
LOG_ENV = "COMPENDIUM_PARSE_CACHE_LOG"
FORMAT = 1
MAGIC = b"compendium parse cache\n"
SUFFIX = ".pickle"
_DIGEST = 32  # bytes of a sha256

T = TypeVar("T")

#: Entries held back by :func:`writing` until the block ends: (temporary file, final name).
_pending: list[tuple[Path, Path]] | None = None


def cache_dir() -> Path | None:
    """The cache folder named by the environment, or None (no cache)."""
    folder = os.environ.get(ENV, "")
    return Path(folder) if folder else None


def source_digest(package: Path) -> str:
    """sha256 of the source of every module of a ``compendium/data`` folder and of
    ``errors.py`` beside it, with the versions of Python, pandas and numpy."""
    import numpy
    import pandas

    h = hashlib.sha256(f"{FORMAT}|{platform.python_version()}|{pandas.__version__}|"
                       f"{numpy.__version__}".encode())
    for path in sorted([*package.glob("*.py"), package.parent / "errors.py"]):
        h.update(f"\0{path.name}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """:func:`source_digest` of this package (so an edited reader misses), once a process."""
    return source_digest(Path(__file__).resolve().parent)


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def entry_name(reader: str, files: Sequence[str | Path], args: Any) -> tuple[str, str] | None:
    """``(slot, key)`` of a read: ``slot`` names the reader and the files (by resolved path:
    the older entries to replace), ``key`` everything the result depends on. None when a file
    cannot be read (the reader then raises its own error)."""
    try:
        digests = [file_digest(f) for f in files]
    except OSError:
        return None
    key = hashlib.sha256(code_digest().encode())
    key.update(reader.encode())
    key.update(pickle.dumps(args, protocol=5))
    for d in digests:
        key.update(d.encode())
    slot = hashlib.sha256("\0".join([reader, *(str(Path(f).resolve()) for f in files)])
                          .encode()).hexdigest()[:16]
    return slot, key.hexdigest()


def load(path: Path) -> tuple[bool, Any]:
    """``(True, object)`` from an intact entry; ``(False, None)`` for a missing, cut, altered
    or unreadable one."""
    try:
        data = path.read_bytes()
    except OSError:
        return False, None
    body = memoryview(data)[len(MAGIC):len(data) - _DIGEST]
    if (len(data) < len(MAGIC) + _DIGEST or not data.startswith(MAGIC)
            or hashlib.sha256(body).digest() != data[len(data) - _DIGEST:]):
        return False, None
    try:
        return True, pickle.loads(body)
    except Exception:  # any unpickling failure is a miss, never an error
        return False, None


class _HashingWriter:
    """A file that hashes what is written to it (the trailer is the payload's sha256)."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.h = fh, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.h.update(data)
        return self.fh.write(data)


def _write_temp(folder: Path, name: str, obj: Any) -> Path:
    """The entry written to a temporary file in ``folder`` (renamed into place later)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC)
            out = _HashingWriter(fh)
            pickle.dump(obj, out, protocol=5)
            fh.write(out.h.digest())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _commit(tmp: Path, final: Path) -> None:
    """Rename an entry into place; remove the older entries of its slot."""
    os.replace(tmp, final)
    slot = final.name.split("-", 1)[0]
    for old in final.parent.glob(f"{slot}-*{SUFFIX}"):
        if old != final:
            old.unlink(missing_ok=True)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Within this block, a miss is stored; the entries are put in place when the block ends
    without an error and dropped when it raises (the data check: only what passed)."""
    global _pending
    outer, _pending = _pending, []
    try:
        yield
    except BaseException:
        for tmp, _ in _pending:
            tmp.unlink(missing_ok=True)
        raise
    else:
        for tmp, final in _pending:
            _commit(tmp, final)
    finally:
        _pending = outer


def release() -> list[tuple[Path, Path]]:
    """The entries this process's :func:`writing` block holds back, handed over: the block
    no longer puts them in place (the data check's helper gives them to the data check)."""
    if _pending is None:
        return []
    out = list(_pending)
    _pending.clear()
    return out


def adopt(entries: list[tuple[Path, Path]]) -> None:
    """Hold back entries written by another process (a data check's helper) as this one's:
    put in place with them when the :func:`writing` block ends, dropped if it raises."""
    if _pending is None:
        for tmp, _ in entries:
            tmp.unlink(missing_ok=True)
        return
    _pending.extend(entries)


def cached(reader: str, files: Sequence[str | Path], args: Any, parse: Callable[[], T]) -> T:
    """``parse()``, or the result stored for the same reader, arguments and file contents.

    Without ``COMPENDIUM_PARSE_CACHE``: ``parse()``. A miss parses; inside :func:`writing`
    the result is stored when the files did not change while they were read and the read
    raised no warning.
    """
    folder = cache_dir()
    if folder is None:
        return parse()
    name = entry_name(reader, files, args)
    if name is None:
        return parse()
    slot, key = name
    final = folder / f"{slot}-{key}{SUFFIX}"
    hit, obj = load(final)
    _log("hit" if hit else "miss", reader)
    if hit:
        return obj
    if _pending is None:
        return parse()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        result = parse()
    for w in said:  # passed on as they came; a read that warns is not stored (a load would
        # not say it again)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if not said and entry_name(reader, files, args) == name:
        try:
            _pending.append((_write_temp(folder, f"{slot}-{key}", result), final))
        except (OSError, pickle.PicklingError) as exc:  # a cache that cannot be written
            print(f"[data] parse cache not written ({exc})", file=sys.stderr)
    return result


def _log(outcome: str, reader: str) -> None:
    """One line to the file named by ``COMPENDIUM_PARSE_CACHE_LOG``, if any."""
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{outcome} {reader}\n")
